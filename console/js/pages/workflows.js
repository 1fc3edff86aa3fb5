// Workflows: filters (kept in the URL), newest first, a page at a time (nextToken), counts by status.

import { errorBox } from "../app.js";
import { badge, h, placeholder, replace, time } from "../dom.js";
import { FieldError, schemaFields } from "../forms.js";

export const PAGE_SIZE = 25;
export const EXECUTION_STATUSES = ["RUNNING", "COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"];
const FILTERS = ["type", "status", "executionStatus", "startedAfter", "startedBefore"];

/** The hash of the workflow list with these filters (empty ones left out). */
export function listLink(filters) {
  const query = new URLSearchParams();
  for (const key of [...FILTERS, "after"]) if (filters[key]) query.set(key, filters[key]);
  const text = query.toString();
  return `#/workflows${text ? `?${text}` : ""}`;
}

export function workflowLink(workflowId) {
  return `#/workflows/${encodeURIComponent(workflowId)}`;
}

function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : "";
}

export async function render(app, params, query, token) {
  const filters = Object.fromEntries([...FILTERS, "after"].map((key) => [key, query.get(key) || ""]));
  const countsBox = h("div", { class: "counts", "aria-live": "polite" }, placeholder(1, "Loading counts"));
  const results = h("div", { class: "results" }, placeholder(8, "Loading workflows"));
  const form = h("form", { class: "filters", "aria-label": "Filters" });
  replace(app.main, h("h1", {}, "Workflows"), form, countsBox, results);
  fillFilters(app, form, {}, filters); // the same controls at once, their choices once the catalog is read

  const catalog = await app.catalog();
  if (!app.current(token)) return;
  fillFilters(app, form, catalog, filters);
  const startable = Object.values(catalog).filter((lifecycle) => app.identity.may(lifecycle.starters));
  if (startable.length) app.main.insertBefore(startPanel(app, startable), form);

  const [page, metrics] = await Promise.allSettled([
    app.api.get("/workflows", {
      type: filters.type, status: filters.status, executionStatus: filters.executionStatus,
      startedAfter: filters.startedAfter, startedBefore: filters.startedBefore,
      limit: PAGE_SIZE, nextToken: filters.after,
    }),
    app.identity.isOperator ? app.api.get("/metrics", { type: filters.type }) : Promise.reject(new Error("not an operator")),
  ]);
  if (!app.current(token)) return;
  replace(countsBox, metrics.status === "fulfilled" ? counts(metrics.value, filters) : null);
  if (page.status === "rejected") return replace(results, errorBox(page.reason));
  replace(results, table(page.value.items, catalog), pager(page.value, filters));
}

function fillFilters(app, form, catalog, filters) {
  // Before the catalog is read (an empty one), the chosen values are the only choices.
  const types = [...new Set([...Object.keys(catalog), filters.type].filter(Boolean))].sort();
  const statusesOf = (type) => [...new Set([
    ...(type ? catalog[type]?.statuses || [] : types.flatMap((name) => catalog[name]?.statuses || []).sort()),
    ...(type === filters.type && filters.status ? [filters.status] : []),
  ])];
  const typeSelect = h("select", { name: "type", id: "filter-type" },
    h("option", { value: "" }, "any type"), types.map((type) => h("option", { value: type, selected: type === filters.type }, type)));
  const statusSelect = h("select", { name: "status", id: "filter-status" });
  const fillStatuses = (type, chosen) => replace(statusSelect, h("option", { value: "" }, "any status"),
    statusesOf(type).map((status) => h("option", { value: status, selected: status === chosen }, status)));
  fillStatuses(filters.type, filters.status);
  typeSelect.addEventListener("change", () => fillStatuses(typeSelect.value, ""));
  const submit = (event) => {
    event.preventDefault();
    const values = new FormData(form);
    location.hash = listLink({
      type: values.get("type"), status: values.get("status"), executionStatus: values.get("executionStatus"),
      startedAfter: fromLocalInput(values.get("startedAfter")), startedBefore: fromLocalInput(values.get("startedBefore")),
    });
  };
  form.addEventListener("submit", submit);
  const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);
  replace(form,
    field("filter-type", "Type", typeSelect),
    field("filter-status", "Status", statusSelect),
    field("filter-execution", "Execution", h("select", { name: "executionStatus", id: "filter-execution" }, h("option", { value: "" }, "any"),
      EXECUTION_STATUSES.map((status) => h("option", { value: status, selected: status === filters.executionStatus }, status)))),
    field("filter-after", "Started after", h("input", {
      type: "datetime-local", step: 1, name: "startedAfter", id: "filter-after", value: toLocalInput(filters.startedAfter),
    })),
    field("filter-before", "Started before", h("input", {
      type: "datetime-local", step: 1, name: "startedBefore", id: "filter-before", value: toLocalInput(filters.startedBefore),
    })),
    h("div", { class: "filter-buttons" },
      h("button", { type: "submit", class: "primary" }, "Filter"),
      h("a", { href: "#/workflows", class: "button" }, "Clear")));
}

function counts(metrics, filters) {
  if (filters.type) {
    const byStatus = metrics.byType?.[filters.type]?.byStatus || {};
    const entries = Object.entries(byStatus);
    return h("p", { class: "chips" }, h("span", { class: "muted" }, `All ${filters.type} workflows by status: `),
      entries.length === 0 ? "none" : entries.map(([status, count]) => h("a", {
        href: listLink({ ...filters, status, after: "" }), class: "chip", "aria-current": status === filters.status ? "true" : null,
      }, `${status} ${count}`)));
  }
  return h("p", { class: "chips" }, h("span", { class: "muted" }, `All workflows: ${metrics.total}. By execution: `),
    Object.entries(metrics.byExecutionStatus).map(([status, count]) => h("a", {
      href: listLink({ ...filters, executionStatus: status, after: "" }), class: "chip",
      "aria-current": status === filters.executionStatus ? "true" : null,
    }, `${status} ${count}`)));
}

function table(items, catalog) {
  if (items.length === 0) return h("p", { class: "empty" }, "No workflow matches these filters.");
  return h("div", { class: "table-wrap" }, h("table", { class: "workflows" },
    h("caption", { class: "visually-hidden" }, "Workflows, newest first"),
    h("thead", {}, h("tr", {}, ["Workflow", "Type", "Status", "Execution", "Awaiting", "Level", "Started by", "Started"]
      .map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, items.map((item) => h("tr", {},
      h("td", {}, h("a", { href: workflowLink(item.workflowId) }, item.workflowId)),
      h("td", {}, item.type),
      h("td", {}, badge(item.status, catalog[item.type]?.terminalStatuses?.includes(item.status) ? "closed" : "open")),
      h("td", {}, badge(item.executionStatus)),
      h("td", { class: "awaiting" }, (item.awaiting || []).join(", ") || h("span", { class: "muted" }, "—")),
      h("td", { class: "number" }, item.escalationLevel ? badge(String(item.escalationLevel), "escalated") : "0"),
      h("td", {}, item.startedBy || "—"),
      h("td", {}, time(item.startTime)))))));
}

function pager(page, filters) {
  return h("nav", { class: "pager", "aria-label": "Pages" },
    filters.after ? h("a", { href: listLink({ ...filters, after: "" }), class: "button" }, "First page") : null,
    page.nextToken ? h("a", { href: listLink({ ...filters, after: page.nextToken }), class: "button", rel: "next" }, "Next page")
      : h("span", { class: "muted" }, filters.after ? "Last page" : ""));
}

/** Start a workflow of a lifecycle the caller may start, its input from the lifecycle's input schema. */
function startPanel(app, lifecycles) {
  const type = h("select", { id: "start-type", name: "type" }, lifecycles.map((lifecycle) => h("option", { value: lifecycle.type }, lifecycle.type)));
  const workflowId = h("input", { id: "start-id", name: "workflowId", placeholder: "generated if empty", autocomplete: "off" });
  const inputArea = h("div", {});
  const errors = h("div", { class: "form-errors" });
  let fields = null;
  const fillInput = async () => {
    const lifecycle = lifecycles.find((candidate) => candidate.type === type.value);
    fields = schemaFields(await app.openapi(), lifecycle.inputSchema);
    replace(inputArea, h("fieldset", {}, h("legend", {}, "Input"), fields.element));
  };
  type.addEventListener("change", () => fillInput().catch((error) => replace(errors, errorBox(error))));
  const panel = h("details", { class: "card start-panel" }, h("summary", {}, "Start a workflow"));
  panel.addEventListener("toggle", () => { if (panel.open && !fields) fillInput().catch((error) => replace(errors, errorBox(error))); }, { once: false });
  const form = h("form", { "aria-label": "Start a workflow" },
    h("div", { class: "grid" },
      h("div", {}, h("label", { for: "start-type" }, "Type"), type),
      h("div", {}, h("label", { for: "start-id" }, "Workflow id"), workflowId)),
    inputArea, errors, h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Start")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(errors);
    let input;
    try { input = fields ? fields.read() : {}; } catch (error) {
      if (error instanceof FieldError) { fields.showErrors([error.detail]); return; }
      throw error;
    }
    try {
      const state = await app.api.post("/workflows", { type: type.value, workflowId: workflowId.value.trim() || undefined, input });
      app.pendingNotice = h("p", { class: "success", role: "status" }, `Started ${state.workflowId} in ${state.status}.`);
      location.hash = workflowLink(state.workflowId);
    } catch (error) {
      fields?.showErrors((error.body?.details || []).map((detail) => ({ ...detail, field: String(detail.field || "").replace(/^input\./, "") })));
      replace(errors, errorBox(error));
    }
  });
  panel.append(form);
  return panel;
}
