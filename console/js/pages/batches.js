// Batch operations (operators): one action on every workflow a filter matches, run by the platform.
// A dry run comes first (counts and a sample, nothing changed); then the batch, followed to its end.

import { errorBox } from "../app.js";
import { badge, facts, h, pause, placeholder, replace, section, time } from "../dom.js";
import { FieldError, schemaFields } from "../forms.js";
import { EXECUTION_STATUSES, listLink, workflowLink } from "./workflows.js";

const ACTIONS = ["terminate", "signal", "retry", "escalate"];
const POLL_MILLISECONDS = 1000;

export async function render(app, params, query, token) {
  if (params.batchId) return renderBatch(app, params.batchId, token);
  const list = h("div", {}, placeholder(5, "Loading batches"));
  const form = h("div", {}, placeholder(6, "Loading the catalog"));
  replace(app.main, h("h1", {}, "Batch operations"), section("New batch", form), section("Batches", list));
  const catalog = await app.catalog();
  if (!app.current(token)) return;
  replace(form, newBatchForm(app, catalog, query));
  try {
    const page = await app.api.get("/batches", { limit: 50 });
    if (app.current(token)) replace(list, batchTable(page.items));
  } catch (error) {
    if (app.current(token)) replace(list, errorBox(error));
  }
}

function batchTable(items) {
  if (!items.length) return h("p", { class: "empty" }, "No batch yet.");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Batch", "Action", "State", "Matched", "Applied", "Skipped", "Failed", "By", "Created"]
      .map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, items.map((batch) => h("tr", {},
      h("td", {}, h("a", { href: `#/batches/${encodeURIComponent(batch.batchId)}` }, batch.batchId)),
      h("td", {}, batch.action, batch.signal ? [" ", h("code", {}, batch.signal)] : null, batch.dryRun ? " (dry run)" : ""),
      h("td", {}, badge(batch.state)),
      h("td", { class: "number" }, batch.matched), h("td", { class: "number" }, batch.applied),
      h("td", { class: "number" }, batch.skipped), h("td", { class: "number" }, batch.failed),
      h("td", {}, batch.createdBy), h("td", {}, time(batch.createdAt)))))));
}

function newBatchForm(app, catalog, query) {
  const types = Object.keys(catalog).sort();
  const errors = h("div", { class: "form-errors" });
  const outcome = h("div", { class: "dry-run", "aria-live": "polite" });
  const action = h("select", { id: "batch-action", name: "action" }, ACTIONS.map((name) => h("option", { value: name, selected: name === query.get("action") }, name)));
  const type = h("select", { id: "batch-type", name: "type" }, h("option", { value: "" }, "any type"),
    types.map((name) => h("option", { value: name, selected: name === query.get("type") }, name)));
  const status = h("select", { id: "batch-status", name: "status" });
  const executionStatus = h("select", { id: "batch-execution", name: "executionStatus" }, h("option", { value: "" }, "any"),
    EXECUTION_STATUSES.map((name) => h("option", { value: name }, name)));
  const startedAfter = h("input", { id: "batch-after", type: "datetime-local", step: 1, name: "startedAfter" });
  const startedBefore = h("input", { id: "batch-before", type: "datetime-local", step: 1, name: "startedBefore" });
  const signal = h("select", { id: "batch-signal", name: "signal" });
  const payloadArea = h("div", {});
  const reason = h("textarea", { id: "batch-reason", name: "reason", rows: 2, required: true, maxlength: 2000 });
  const rate = h("input", { id: "batch-rate", name: "ratePerSecond", type: "number", min: 1, max: 100, value: 20 });
  const signalRow = h("div", { class: "signal-choice" }, h("label", { for: "batch-signal" }, "Signal"), signal, payloadArea);
  let payloadFields = null;

  const fillStatuses = () => replace(status, h("option", { value: "" }, "any status"),
    (type.value ? catalog[type.value].statuses : []).map((name) => h("option", { value: name }, name)));
  const fillSignals = async () => {
    const lifecycle = catalog[type.value];
    const signals = (lifecycle?.signals || []).filter((spec) => !spec.internal);
    replace(signal, signals.map((spec) => h("option", { value: spec.name }, spec.name)));
    await fillPayload();
  };
  const fillPayload = async () => {
    const spec = (catalog[type.value]?.signals || []).find((candidate) => candidate.name === signal.value);
    if (!spec) { payloadFields = null; replace(payloadArea, type.value ? null : h("p", { class: "muted" }, "A signal batch needs a type.")); return; }
    const openapi = await app.openapi();
    payloadFields = schemaFields(openapi, spec.payloadSchema);
    replace(payloadArea, payloadFields.empty ? null : h("fieldset", {}, h("legend", {}, "Payload"), payloadFields.element));
  };
  const showSignal = () => { signalRow.hidden = action.value !== "signal"; };
  fillStatuses(); fillSignals(); showSignal();
  type.addEventListener("change", () => { fillStatuses(); fillSignals(); invalidate(); });
  signal.addEventListener("change", () => { fillPayload(); invalidate(); });
  action.addEventListener("change", () => { showSignal(); invalidate(); });

  const dryRunButton = h("button", { type: "submit", name: "dry", class: "primary" }, "Dry run");
  const runButton = h("button", { type: "button", class: "danger", disabled: true }, "Run the batch");
  let dryRunOf = null; // the request a dry run counted; the batch may run only as it was counted
  function invalidate() {
    dryRunOf = null;
    runButton.disabled = true;
    runButton.textContent = "Run the batch";
    replace(outcome);
  }
  for (const control of [status, executionStatus, startedAfter, startedBefore, reason, rate]) control.addEventListener("input", invalidate);

  const request = (dryRun) => {
    const filter = {
      type: type.value || undefined, status: status.value || undefined, executionStatus: executionStatus.value || undefined,
      startedAfter: startedAfter.value ? new Date(startedAfter.value).toISOString() : undefined,
      startedBefore: startedBefore.value ? new Date(startedBefore.value).toISOString() : undefined,
    };
    const body = { action: action.value, filter, reason: reason.value.trim(), dryRun, ratePerSecond: Number(rate.value) || 20 };
    if (action.value === "signal") {
      body.signal = signal.value;
      body.payload = payloadFields ? payloadFields.read() : {};
    }
    return body;
  };

  const form = h("form", { class: "batch-form", "aria-label": "New batch" },
    h("div", { class: "grid" },
      h("div", {}, h("label", { for: "batch-action" }, "Action"), action),
      h("div", {}, h("label", { for: "batch-type" }, "Type"), type),
      h("div", {}, h("label", { for: "batch-status" }, "Status"), status),
      h("div", {}, h("label", { for: "batch-execution" }, "Execution"), executionStatus),
      h("div", {}, h("label", { for: "batch-after" }, "Started after"), startedAfter),
      h("div", {}, h("label", { for: "batch-before" }, "Started before"), startedBefore),
      h("div", {}, h("label", { for: "batch-rate" }, "Workflows a second"), rate)),
    signalRow,
    h("label", { for: "batch-reason" }, "Reason", h("span", { class: "required", title: "required" }, " *")), reason,
    errors, h("div", { class: "buttons" }, dryRunButton, runButton), outcome);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    let body;
    try { body = request(true); } catch (error) {
      if (error instanceof FieldError) { payloadFields?.showErrors([error.detail]); return; }
      throw error;
    }
    dryRunButton.disabled = true;
    replace(outcome, placeholder(2, "Counting"));
    try {
      const batch = await followToEnd(app, await app.api.post("/batches", body));
      dryRunOf = JSON.stringify({ ...body, dryRun: false });
      replace(outcome, h("div", { class: "dry-run-result" },
        h("p", {}, h("strong", {}, `${batch.matched} workflow${batch.matched === 1 ? "" : "s"}`), " match (dry run ",
          h("a", { href: `#/batches/${encodeURIComponent(batch.batchId)}` }, batch.batchId), "; nothing changed)."),
        batch.sample.length ? h("p", {}, "First: ", batch.sample.map((id, index) => [index ? ", " : "", h("a", { href: workflowLink(id) }, id)])) : null,
        h("p", {}, h("a", { href: listLink({ ...body.filter }) }, "See them in the list"))));
      runButton.disabled = batch.matched === 0;
      runButton.textContent = `Run the batch on ${batch.matched} workflow${batch.matched === 1 ? "" : "s"}`;
    } catch (error) {
      replace(outcome);
      replace(errors, errorBox(error));
    } finally {
      dryRunButton.disabled = false;
    }
  });

  runButton.addEventListener("click", async () => {
    replace(errors);
    const body = request(false);
    if (JSON.stringify(body) !== dryRunOf) { invalidate(); return; }
    runButton.disabled = true;
    try {
      const batch = await app.api.post("/batches", body);
      location.hash = `#/batches/${encodeURIComponent(batch.batchId)}`;
    } catch (error) {
      replace(errors, errorBox(error));
      runButton.disabled = false;
    }
  });
  return form;
}

async function followToEnd(app, batch) {
  let current = batch;
  while (current.state === "RUNNING") {
    await pause(300);
    current = await app.api.get(`/batches/${encodeURIComponent(current.batchId)}`);
  }
  return current;
}

async function renderBatch(app, batchId, token) {
  const path = `/batches/${encodeURIComponent(batchId)}`;
  const body = h("div", {}, placeholder(8, "Loading the batch"));
  replace(app.main, h("p", { class: "breadcrumb" }, h("a", { href: "#/batches" }, "Batches"), " / "), h("h1", {}, batchId), body);
  const errors = h("div", { class: "form-errors" });
  for (;;) {
    let batch;
    try {
      batch = await app.api.get(path);
    } catch (error) {
      if (app.current(token)) replace(body, errorBox(error));
      return;
    }
    if (!app.current(token)) return;
    replace(body, batchView(app, batch, path, errors));
    if (batch.state !== "RUNNING") return;
    await pause(POLL_MILLISECONDS);
    if (!app.current(token)) return;
  }
}

function batchView(app, batch, path, errors) {
  const done = batch.processed;
  const total = Math.max(batch.matched, done);
  const act = (what) => async () => {
    replace(errors);
    try { await app.api.post(`${path}/${what}`); app.render(); } catch (error) { replace(errors, errorBox(error)); }
  };
  return h("div", {},
    h("p", { class: "status-line" }, badge(batch.state), " ", batch.phase === "COUNTING" && batch.state === "RUNNING" ? "counting…" : "",
      batch.dryRun ? badge("dry run", "plain") : null),
    h("div", { class: "progress-line" },
      h("progress", { max: total || 1, value: batch.dryRun ? total : done, "aria-label": "Workflows processed" }),
      h("span", {}, batch.dryRun ? `${batch.matched} matched` : `${done} of ${total} processed`)),
    section("Counts", facts([
      ["Matched", String(batch.matched)], ["Applied", `${batch.applied}${batch.kept ? ` (${batch.kept} kept for the next wait)` : ""}`],
      ["Skipped", String(batch.skipped)], ["Failed", String(batch.failed)],
      ["Skipped because", Object.keys(batch.skippedReasons || {}).length
        ? h("ul", {}, Object.entries(batch.skippedReasons).map(([code, count]) => h("li", {}, h("code", {}, code), ` ${count}`)))
        : undefined],
    ])),
    section("Request", facts([
      ["Action", batch.signal ? `${batch.action} ${batch.signal}` : batch.action],
      ["Filter", h("a", { href: listLink(batch.filter || {}) }, Object.entries(batch.filter || {}).filter(([, value]) => value)
        .map(([key, value]) => `${key}=${value}`).join(", ") || "all")],
      ["Payload", batch.payload && Object.keys(batch.payload).length ? batch.payload : undefined],
      ["Reason", batch.reason], ["Rate", `${batch.ratePerSecond} a second`],
      ["Created", h("span", {}, time(batch.createdAt), ` by ${batch.createdBy}`)],
      ["Finished", batch.finishedAt ? time(batch.finishedAt) : undefined],
      ["Cancelled by", batch.cancelledBy || undefined], ["Resumed by", batch.resumedBy || undefined],
      ["Error", batch.error || undefined], ["Sample", batch.sample.length ? h("span", {}, batch.sample.map((id, index) => [index ? ", " : "", h("a", { href: workflowLink(id) }, id)])) : null],
    ])),
    batch.failures?.length ? section("Failures", h("ul", {}, batch.failures.map((failure) => h("li", {},
      h("a", { href: workflowLink(failure.workflowId) }, failure.workflowId), ` ${failure.error || ""} ${failure.message || ""}`)))) : null,
    errors,
    h("div", { class: "buttons" },
      batch.state === "RUNNING" && !batch.cancelRequested ? h("button", { type: "button", class: "danger", onclick: act("cancel") }, "Cancel the batch") : null,
      batch.state === "FAILED" ? h("button", { type: "button", onclick: act("resume") }, "Resume") : null));
}
