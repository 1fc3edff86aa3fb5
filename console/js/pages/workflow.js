// One workflow: its state and fields, what it awaits, its lifecycle's diagram with the path taken,
// its history as a timeline, related workflows; the signals the caller may send (forms from the
// payload schemas) and, for operators, terminate / retry / escalate / intervene with a reason.

import { errorBox } from "../app.js";
import { badge, describeSeconds, facts, h, json, placeholder, replace, section, time } from "../dom.js";
import { stateDiagram, transitions } from "../diagram.js";
import { FieldError, schemaFields } from "../forms.js";
import { workflowLink } from "./workflows.js";

const STATE_KEYS = new Set([
  "schemaVersion", "workflowId", "executionStatus", "startTime", "closeTime", "lastProgressAt", "historyLength",
  "version", "metadata", "retryCount", "escalationLevel", "startedBy", "failure", "awaiting", "type", "status", "input",
]);
const HISTORY_PAGE = 50;

export async function render(app, { workflowId }, query, token) {
  const path = `/workflows/${encodeURIComponent(workflowId)}`;
  // Placeholders of about the size of what replaces them (no layout shift while the data arrives).
  const summary = h("div", {}, section("State", placeholder(9, "Loading the workflow")));
  const actions = h("div", { class: "actions-area" }, section("Signals", placeholder(3, "Loading the signals")),
    app.identity.isOperator ? section("Operator actions", placeholder(4, "Loading the actions")) : null);
  const diagram = h("div", { class: "diagram-area" }, placeholder(4, "Loading the diagram"));
  const timeline = h("div", { class: "timeline-area" }, placeholder(6, "Loading the history"));
  const related = h("div", { class: "related-area" }, placeholder(2, "Loading related workflows"));
  const details = h("div", {}, section("Fields", placeholder(6, "Loading the fields")));
  const notice = h("div", { class: "notice-area", "aria-live": "polite" }, app.pendingNotice || null);
  app.pendingNotice = null;
  replace(app.main,
    h("p", { class: "breadcrumb" }, h("a", { href: "#/workflows" }, "Workflows"), " / "),
    h("h1", { class: "workflow-id" }, workflowId),
    notice,
    h("div", { class: "workflow-layout" },
      h("div", { class: "workflow-main" }, summary, section("Lifecycle", diagram), section("History", timeline)),
      h("aside", { class: "workflow-side", "aria-label": "Actions and details" }, actions, section("Related workflows", related), details)));

  let state;
  let catalog;
  try {
    [state, catalog] = await Promise.all([app.api.get(path), app.catalog()]);
  } catch (error) {
    if (app.current(token)) replace(summary, errorBox(error));
    replace(diagram); replace(timeline); replace(related);
    return;
  }
  if (!app.current(token)) return;
  const lifecycle = catalog[state.type];
  replace(summary, stateCard(state, lifecycle));
  replace(details, dataCards(state));
  renderActions(app, actions, state, lifecycle, path);
  loadRelated(app, related, path, token);
  const events = await loadHistory(app, timeline, path, token);
  if (!app.current(token)) return;
  if (lifecycle) {
    const taken = new Set(events.filter((event) => event.fromStatus && event.toStatus && event.fromStatus !== event.toStatus)
      .map((event) => `${event.fromStatus}>${event.toStatus}`));
    const visited = new Set(events.flatMap((event) => [event.fromStatus, event.toStatus]).filter(Boolean));
    replace(diagram,
      timeoutsNow(lifecycle, state),
      h("div", { class: "diagram-scroll" }, stateDiagram(lifecycle, { current: state.status, taken, visited })),
      h("p", { class: "legend" }, h("span", { class: "legend-current" }, "now"), h("span", { class: "legend-taken" }, "path taken"),
        h("span", { class: "legend-terminal" }, "terminal")),
      transitionTable(lifecycle, state, taken));
  } else {
    replace(diagram, h("p", { class: "muted" }, `No lifecycle ${state.type} in the catalog.`));
  }
}

function stateCard(state, lifecycle) {
  const terminal = lifecycle?.terminalStatuses?.includes(state.status);
  return section("State",
    h("p", { class: "status-line" }, badge(state.status, terminal ? "closed" : "open"), " ", badge(state.executionStatus),
      " ", h("span", { class: "muted" }, state.type)),
    facts([
      ["Awaiting", (state.awaiting || []).length ? state.awaiting.map((name) => h("code", { class: "awaited" }, name)) : h("span", { class: "muted" }, "nothing")],
      ["Escalation level", state.escalationLevel ? badge(String(state.escalationLevel), "escalated") : "0"],
      ["Retries", String(state.retryCount ?? 0)],
      ["Started by", state.startedBy],
      ["Started", time(state.startTime)],
      ["Last progress", time(state.lastProgressAt)],
      ["Closed", state.closeTime ? time(state.closeTime) : null],
      ["Failure", state.failure ? json(state.failure) : null],
      ["Version", `${state.version} (${state.historyLength} event${state.historyLength === 1 ? "" : "s"})`],
    ]));
}

function dataCards(state) {
  const fields = Object.entries(state).filter(([key]) => !STATE_KEYS.has(key));
  return [
    section("Fields", fields.length ? facts(fields.map(([key, value]) => [key, isTime(value) ? time(value) : value]))
      : h("p", { class: "muted" }, "No fields yet.")),
    section("Input", json(state.input)),
    Object.keys(state.metadata || {}).length ? section("Metadata", json(state.metadata)) : null,
  ];
}

function isTime(value) {
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value);
}

/** What happens if the workflow waits too long in its status now (the catalog's timeouts). */
function timeoutsNow(lifecycle, state) {
  if (state.executionStatus !== "RUNNING") return null;
  const timeouts = (lifecycle.timeouts || []).filter((timeout) => timeout.status === state.status);
  if (!timeouts.length) return null;
  return h("p", { class: "timeouts" }, timeouts.map((timeout) => h("span", {},
    h("strong", {}, "Timeout "), h("code", {}, timeout.name), ": ",
    timeout.computed ? "when the workflow's own deadline passes" : `after ${describeSeconds(timeout.seconds ?? timeout.defaultSeconds)}`,
    ` in ${timeout.status}, `, timeout.action === "transition" ? `moves to ${timeout.target}` : timeout.action === "signal" ? `sends ${timeout.signal}` : "escalates",
    timeout.description ? h("span", { class: "muted" }, ` (${timeout.description})`) : null)));
}

function transitionTable(lifecycle, state, taken) {
  const edges = transitions(lifecycle);
  return h("details", { class: "transitions" }, h("summary", {}, `Transitions (${edges.length})`),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["From", "By", "To"].map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, edges.map((edge) => h("tr", { class: taken.has(`${edge.from}>${edge.to}`) ? "taken" : "" },
        h("td", {}, edge.from === state.status ? h("strong", {}, edge.from) : edge.from),
        h("td", {}, h("code", {}, edge.via)), h("td", {}, edge.to)))))));
}

async function loadHistory(app, container, path, token) {
  const events = [];
  const list = h("ol", { class: "timeline" });
  const more = h("div", {});
  replace(container, list, more);
  let nextToken;
  const page = async () => {
    const answer = await app.api.get(`${path}/history`, { limit: HISTORY_PAGE, nextToken });
    if (!app.current(token)) return;
    events.push(...answer.items);
    list.append(...answer.items.map(historyEvent));
    nextToken = answer.nextToken;
    replace(more, nextToken ? h("button", { type: "button", onclick: () => page().catch((error) => replace(more, errorBox(error))) }, "Older events…") : null);
  };
  try {
    await page();
    // The diagram's path needs the whole history; long ones are read to their end.
    while (nextToken && events.length < 1000 && app.current(token)) await page();
  } catch (error) {
    replace(container, errorBox(error));
  }
  return events;
}

function historyEvent(event) {
  const moved = event.fromStatus && event.toStatus && event.fromStatus !== event.toStatus;
  const details = event.details && Object.keys(event.details).length ? event.details : null;
  return h("li", { class: `event event-${String(event.type).toLowerCase()}` },
    h("div", { class: "event-head" },
      h("span", { class: "event-sequence" }, `#${event.sequence}`), " ",
      h("strong", {}, event.type), event.signal ? [" ", h("code", {}, event.signal)] : null,
      moved ? h("span", { class: "event-move" }, ` ${event.fromStatus} → ${event.toStatus}`)
        : event.toStatus && !event.fromStatus ? h("span", { class: "event-move" }, ` → ${event.toStatus}`) : null),
    h("div", { class: "event-meta" }, time(event.time), " · ", h("span", { class: "actor" }, event.actor || "—")),
    details ? h("details", {}, h("summary", {}, "Details"), json(details)) : null);
}

async function loadRelated(app, container, path, token) {
  try {
    const answer = await app.api.get(`${path}/related`);
    if (!app.current(token)) return;
    const items = answer.related || answer.items || [];
    replace(container, items.length === 0 ? h("p", { class: "muted" }, "None.") : h("ul", { class: "related" }, items.map((item) =>
      h("li", {}, h("span", { class: "relation" }, item.relation), " ",
        item.status === null || item.status === undefined
          ? h("span", {}, item.workflowId, h("span", { class: "muted" }, " (not found)"))
          : [h("a", { href: workflowLink(item.workflowId) }, item.workflowId), " ", badge(item.status, "plain")]))));
  } catch (error) {
    if (app.current(token)) replace(container, errorBox(error));
  }
}

// ----- actions -----------------------------------------------------------------------------------

function renderActions(app, container, state, lifecycle, path) {
  const awaited = new Set(state.awaiting || []);
  const signals = (lifecycle?.signals || []).filter((signal) => awaited.has(signal.name) && app.identity.may(signal.senders));
  const operator = app.identity.isOperator;
  const open = state.executionStatus === "RUNNING" || !(lifecycle?.terminalStatuses || []).includes(state.status);
  replace(container,
    section("Signals",
      signals.length === 0
        ? h("p", { class: "muted" }, awaited.size ? "You may send none of the awaited signals." : "The workflow awaits no signal.")
        : signals.map((signal) => signalForm(app, state, signal, path))),
    operator ? section("Operator actions",
      reasonForm(app, "Terminate", "Ends the workflow's execution; the workflow is closed as TERMINATED.", `${path}/terminate`,
        { danger: true, disabled: !open }),
      reasonForm(app, "Retry", "Runs a failed or timed-out workflow again from its status.", `${path}/retry`,
        { disabled: !["FAILED", "TIMED_OUT"].includes(state.executionStatus) }),
      reasonForm(app, "Escalate", "Raises the escalation level (an alert is sent).", `${path}/escalate`, { level: true }),
      interventionForm(app, state, lifecycle, path)) : null);
}

function signalForm(app, state, signal, path) {
  const id = `signal-${signal.name}`;
  const container = h("div", { class: "signal", id });
  app.openapi().then((openapi) => {
    const fields = schemaFields(openapi, signal.payloadSchema);
    const errors = h("div", { class: "form-errors" });
    const button = h("button", { type: "submit", class: "primary" }, `Send ${signal.name}`);
    const form = h("form", { "aria-label": `Send ${signal.name}` },
      fields.empty ? null : h("details", { open: true }, h("summary", {}, "Payload"), fields.element), errors, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      replace(errors);
      let payload;
      try { payload = fields.read(); } catch (error) {
        if (error instanceof FieldError) { fields.showErrors([error.detail]); return; }
        throw error;
      }
      await send(app, button, errors, () => app.api.post(`${path}/signals/${encodeURIComponent(signal.name)}`, payload),
        (answer) => (answer && answer.status && answer.workflowId
          ? `${signal.name} applied: ${state.status} → ${answer.status}`
          : `${signal.name} kept: it applies, in order, when the next wait opens.`),
        (error) => fields.showErrors(error.body?.details || []));
    });
    replace(container, h("h3", {}, h("code", {}, signal.name), signal.target ? ` → ${signal.target}` : ""), form);
  }).catch((error) => replace(container, errorBox(error)));
  return container;
}

/**
 * Send what a form asks, its button off meanwhile: done, the page is read again and says `notice(answer)`;
 * refused, the API's error is shown in the form (and `onRefusal` marks its fields).
 */
async function send(app, button, errors, request, notice, onRefusal = () => {}) {
  button.disabled = true;
  try {
    const answer = await request();
    app.pendingNotice = h("p", { class: "success", role: "status" }, notice(answer));
    app.render();
  } catch (error) {
    onRefusal(error);
    replace(errors, errorBox(error));
    button.disabled = false;
  }
}

function reasonForm(app, title, description, url, { danger = false, disabled = false, level = false } = {}) {
  const slug = title.toLowerCase();
  const errors = h("div", { class: "form-errors" });
  const reason = h("textarea", { id: `${slug}-reason`, name: "reason", rows: 2, required: true, maxlength: 2000 });
  const levelInput = level ? h("input", { id: `${slug}-level`, name: "level", type: "number", min: 1, max: 10 }) : null;
  const button = h("button", { type: "submit", class: danger ? "danger" : "", disabled }, title);
  const form = h("form", { class: "reason-form", "aria-label": title },
    h("p", { class: "muted" }, description),
    h("label", { for: `${slug}-reason` }, "Reason", h("span", { class: "required", title: "required" }, " *")), reason,
    levelInput ? [h("label", { for: `${slug}-level` }, "Level (default: one up)"), levelInput] : null,
    errors, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    const body = { reason: reason.value.trim() };
    if (levelInput && levelInput.value) body.level = Number(levelInput.value);
    await send(app, button, errors, () => app.api.post(url, body), (answer) => `${title}: done (${answer?.status || "accepted"}).`);
  });
  return h("details", { class: "action" }, h("summary", {}, title), form);
}

function interventionForm(app, state, lifecycle, path) {
  const errors = h("div", { class: "form-errors" });
  const signals = (lifecycle?.signals || []).filter((signal) => (signal.sources || []).includes(state.status));
  const action = h("select", { id: "intervene-action", name: "action" },
    h("option", { value: "signal" }, "apply a signal as an operator"),
    h("option", { value: "patchMetadata" }, "patch the metadata"));
  const signal = h("select", { id: "intervene-signal", name: "signal" }, signals.map((spec) => h("option", { value: spec.name }, spec.name)));
  const document = h("textarea", { id: "intervene-json", name: "json", rows: 3, placeholder: "{}" });
  const reason = h("textarea", { id: "intervene-reason", name: "reason", rows: 2, required: true, maxlength: 2000 });
  const button = h("button", { type: "submit" }, "Intervene");
  const signalRow = h("div", {}, h("label", { for: "intervene-signal" }, "Signal"), signal);
  action.addEventListener("change", () => { signalRow.hidden = action.value !== "signal"; });
  const form = h("form", { class: "reason-form", "aria-label": "Intervene" },
    h("p", { class: "muted" }, "Applies a signal the workflow's rules would refuse its sender, or patches its metadata; audited as an INTERVENTION."),
    h("label", { for: "intervene-action" }, "Action"), action, signalRow,
    h("label", { for: "intervene-json" }, "Payload or metadata patch (JSON)"), document,
    h("label", { for: "intervene-reason" }, "Reason", h("span", { class: "required", title: "required" }, " *")), reason,
    errors, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    let parsed = {};
    try { parsed = document.value.trim() ? JSON.parse(document.value) : {}; } catch {
      replace(errors, h("div", { class: "error", role: "alert" }, "The payload is not JSON."));
      return;
    }
    const body = action.value === "signal"
      ? { action: "signal", signal: signal.value, payload: parsed, reason: reason.value.trim() }
      : { action: "patchMetadata", metadata: parsed, reason: reason.value.trim() };
    await send(app, button, errors, () => app.api.post(`${path}/interventions`, body), () => "Intervention recorded.");
  });
  return h("details", { class: "action" }, h("summary", {}, "Intervene"), form);
}
