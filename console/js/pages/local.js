// The local platform: its virtual clock (skip time: timers fire, timeouts escalate), faults
// injected into activities, the schedules (run one now), and the events published on the bus.

import { errorBox } from "../app.js";
import { describeSeconds, h, json, parseDuration, placeholder, replace, section, time } from "../dom.js";
import { workflowLink } from "./workflows.js";

export async function render(app, params, query, token) {
  const clockBox = h("div", {});
  const faultsBox = h("div", {});
  const schedulesBox = h("div", {}, placeholder(6, "Loading schedules"));
  const eventsBox = h("div", {}, placeholder(6, "Loading events"));
  replace(app.main, h("h1", {}, "Local platform"),
    h("div", { class: "columns" }, section("Clock", clockBox), section("Faults", faultsBox)),
    section("Schedules", schedulesBox), section("Published events", eventsBox));
  const refresh = () => app.render();
  await Promise.all([
    clock(app, clockBox, refresh), faults(app, faultsBox, refresh), schedules(app, schedulesBox, refresh),
    events(app, eventsBox, query),
  ].map((part) => part.catch(() => {})));
}

async function clock(app, box, refresh) {
  // The form is there at once; the clock's reading fills its own line (no layout shift).
  const reading = h("div", { class: "clock-reading" }, placeholder(2, "Reading the clock"));
  const errors = h("div", { class: "form-errors" });
  const duration = h("input", { id: "advance-by", name: "duration", required: true, placeholder: "14d, 3h, 1d12h", size: 10 });
  const form = h("form", { class: "inline", "aria-label": "Advance the clock" },
    h("label", { for: "advance-by" }, "Advance by"), duration, h("button", { type: "submit", class: "primary" }, "Advance"), errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    const seconds = parseDuration(duration.value);
    if (!seconds) {
      replace(errors, h("div", { class: "error", role: "alert" }, "A duration like 14d, 3h, 90m or 1d12h."));
      return;
    }
    try {
      const answer = await app.api.post("/local/clock/advance", { seconds });
      app.notify(`The clock moved ${describeSeconds(seconds)}: now ${new Date(answer.now).toLocaleString()}`);
      refresh();
    } catch (error) {
      replace(errors, errorBox(error));
    }
  });
  replace(box, reading, form);
  const now = await load(app, reading, "/local/clock");
  if (!now) return;
  replace(reading,
    h("p", {}, "Now ", h("strong", { class: "clock-now" }, time(now.now)), now.offsetSeconds ? ` (${describeSeconds(now.offsetSeconds)} ahead of this machine)` : " (this machine's time)"),
    h("p", {}, `${now.pendingTimerCount} timer${now.pendingTimerCount === 1 ? "" : "s"} pending`,
      now.pendingTimers.length ? [", next ", time(now.pendingTimers[0])] : null, "."));
}

async function faults(app, box, refresh) {
  const pending = h("div", { class: "faults-pending" }, placeholder(1, "Reading the faults"));
  const errors = h("div", { class: "form-errors" });
  const field = (id, label, control) => h("div", {}, h("label", { for: id }, label), control);
  const kind = h("select", { id: "fault-kind", name: "kind" }, ["transient", "permanent", "delay"].map((name) => h("option", { value: name }, name)));
  const count = h("input", { id: "fault-count", name: "count", type: "number", min: 1, value: 1 });
  const rate = h("input", { id: "fault-rate", name: "rate", type: "number", min: 0.01, max: 1, step: 0.01, value: 1 });
  const activity = h("input", { id: "fault-activity", name: "activity", placeholder: "any" });
  const workflowType = h("input", { id: "fault-type", name: "workflowType", placeholder: "any" });
  const seconds = h("input", { id: "fault-seconds", name: "seconds", type: "number", min: 0, value: 0 });
  const clear = h("button", { type: "button", hidden: true, onclick: async () => {
    try { await app.api.delete("/local/faults"); refresh(); } catch (error) { replace(errors, errorBox(error)); }
  } }, "Clear all");
  const form = h("form", { class: "fault-form", "aria-label": "Inject a fault" },
    h("div", { class: "grid" }, field("fault-kind", "Kind", kind), field("fault-count", "Count", count), field("fault-rate", "Rate", rate),
      field("fault-activity", "Activity", activity), field("fault-type", "Workflow type", workflowType), field("fault-seconds", "Delay (s)", seconds)),
    errors, h("div", { class: "buttons" }, h("button", { type: "submit" }, "Inject"), clear));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    const body = { kind: kind.value, rate: Number(rate.value), seconds: Number(seconds.value) };
    if (count.value) body.count = Number(count.value);
    if (activity.value.trim()) body.activity = activity.value.trim();
    if (workflowType.value.trim()) body.workflowType = workflowType.value.trim();
    try { await app.api.post("/local/faults", body); refresh(); } catch (error) { replace(errors, errorBox(error)); }
  });
  replace(box, pending, form);
  const answer = await load(app, pending, "/local/faults");
  if (!answer) return;
  clear.hidden = answer.items.length === 0;
  replace(pending, answer.items.length ? json(answer.items) : h("p", { class: "muted" }, "No fault pending."));
}

async function schedules(app, box, refresh) {
  const answer = await load(app, box, "/local/schedules");
  if (!answer) return;
  const errors = h("div", { class: "form-errors" });
  replace(box, errors, h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Schedule", "Expression", "Next", "Runs", ""].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, answer.items.map((schedule) => h("tr", {},
      h("th", { scope: "row" }, schedule.schedule), h("td", {}, h("code", {}, schedule.expression)), h("td", {}, time(schedule.next)),
      h("td", { class: "number" }, schedule.runs),
      h("td", {}, h("button", { type: "button", onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await app.api.post(`/local/schedules/${encodeURIComponent(schedule.schedule)}`);
          app.notify(`${schedule.schedule} ran.`);
          refresh();
        } catch (error) { replace(errors, errorBox(error)); }
      } }, `Run ${schedule.schedule} now`))))))));
}

async function events(app, box, query) {
  const answer = await load(app, box, "/local/events", { limit: 50, workflowId: query.get("workflowId") || undefined });
  if (!answer) return;
  replace(box,
    h("p", { class: "muted" }, `The last ${answer.items.length} of ${answer.total} events, newest first.`),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Time", "Event", "Workflow", "Move", "Actor", ""].map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, answer.items.slice().reverse().map((event) => h("tr", {},
        h("td", {}, time(event.detail?.time || event.time)), h("td", {}, event["detail-type"]),
        h("td", {}, event.detail?.workflowId ? h("a", { href: workflowLink(event.detail.workflowId) }, event.detail.workflowId) : "—"),
        h("td", {}, event.detail?.fromStatus && event.detail.fromStatus !== event.detail.toStatus
          ? `${event.detail.fromStatus} → ${event.detail.toStatus}` : event.detail?.toStatus || ""),
        h("td", {}, event.detail?.actor || ""),
        h("td", {}, h("details", {}, h("summary", {}, "Detail"), json(event.detail)))))))));
}

async function load(app, box, path, query) {
  try {
    return await app.api.get(path, query);
  } catch (error) {
    replace(box, errorBox(error));
    return null;
  }
}
