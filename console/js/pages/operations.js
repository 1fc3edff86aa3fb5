// Operations (operators): totals by type, status and execution status; the health checks against
// their thresholds; failed, timed-out and escalated workflows; the daily reports.

import { errorBox } from "../app.js";
import { badge, describeSeconds, facts, h, placeholder, replace, section, time } from "../dom.js";
import { EXECUTION_STATUSES, listLink, workflowLink } from "./workflows.js";


export async function render(app, params, query, token) {
  const metricsBox = h("div", {}, placeholder(5, "Loading metrics"));
  const healthBox = h("div", {}, placeholder(6, "Loading health"));
  const attentionBox = h("div", {}, placeholder(8, "Loading workflows that need attention"));
  const reportBox = h("div", {});
  replace(app.main, h("h1", {}, "Operations"),
    h("div", { class: "columns" }, section("Health", healthBox), section("Needs attention", attentionBox)),
    section("Workflows", metricsBox), section("Daily report", reportBox));
  const settled = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
  const [metrics, health, failed, timedOut, escalated] = await Promise.all([
    settled(app.api.get("/metrics")),
    settled(app.api.get("/operations/health")),
    settled(app.api.get("/workflows", { executionStatus: "FAILED", limit: 10 })),
    settled(app.api.get("/workflows", { executionStatus: "TIMED_OUT", limit: 10 })),
    settled(app.api.get("/workflows", { escalated: "true", executionStatus: "RUNNING", limit: 10 })),
  ]);
  if (!app.current(token)) return;
  replace(metricsBox, metrics.error ? errorBox(metrics.error) : metricsTable(metrics.value));
  replace(healthBox, health.error ? errorBox(health.error) : healthView(health.value));
  replace(attentionBox,
    attention("Failed", failed, { executionStatus: "FAILED" }),
    attention("Timed out", timedOut, { executionStatus: "TIMED_OUT" }),
    attention("Escalated, running", escalated, null));
  replace(reportBox, await reportPicker(app, query));
}

function metricsTable(metrics) {
  return h("div", {},
    h("p", {}, `${metrics.total} workflows; failure rate ${(metrics.failureRate * 100).toFixed(1)}%; `,
      `average execution ${metrics.averageExecutionSeconds === null ? "—" : describeSeconds(metrics.averageExecutionSeconds)}.`),
    h("div", { class: "table-wrap" }, h("table", { class: "metrics" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Total"),
        EXECUTION_STATUSES.map((status) => h("th", { scope: "col" }, status)), h("th", { scope: "col" }, "By status"))),
      h("tbody", {}, Object.entries(metrics.byType).map(([type, totals]) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: listLink({ type }) }, type)),
        h("td", { class: "number" }, totals.total),
        EXECUTION_STATUSES.map((status) => h("td", { class: "number" },
          totals.byExecutionStatus[status] ? h("a", { href: listLink({ type, executionStatus: status }) }, totals.byExecutionStatus[status]) : "0")),
        h("td", {}, h("div", { class: "chips" }, Object.entries(totals.byStatus).map(([status, count]) =>
          h("a", { class: "chip", href: listLink({ type, status }) }, `${status} ${count}`))))))))));
}

function healthView(health) {
  return h("div", {},
    h("p", { class: "status-line" }, badge(health.healthy ? "healthy" : "unhealthy", health.healthy ? "running" : "failed"),
      " checked ", time(health.checkedAt)),
    h("div", { class: "table-wrap" }, h("table", { class: "health" },
      h("thead", {}, h("tr", {}, ["Check", "Now", "Threshold", ""].map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, health.checks.map((check) => h("tr", { class: check.ok ? "" : "failing" },
        h("th", { scope: "row" }, h("span", { title: check.description || "" }, check.check),
          check.message ? h("span", { class: "help" }, check.message) : null),
        h("td", { class: "number" }, format(check.value, check.unit)),
        h("td", { class: "number" }, `${check.comparison || "≤"} ${format(check.threshold, check.unit)}`,
          check.stalledAfterHours ? h("span", { class: "help" }, `no progress for ${check.stalledAfterHours} h`) : null),
        h("td", {}, check.ok ? "ok" : h("strong", {}, "over"))))))),
    health.stalled?.length ? h("div", {}, h("h3", {}, "Stalled"), h("ul", {}, health.stalled.map((workflow) =>
      h("li", {}, h("a", { href: workflowLink(workflow.workflowId) }, workflow.workflowId), ` ${workflow.status}, last progress `,
        time(workflow.lastProgressAt))))) : null);
}

function format(value, unit) {
  if (unit === "ratio") return `${(value * 100).toFixed(1)}%`;
  if (unit === "hours") return `${value} h`;
  return String(value);
}

function attention(title, outcome, filters) {
  const body = outcome.error ? errorBox(outcome.error)
    : outcome.value.items.length === 0 ? h("p", { class: "muted" }, "None.")
      : h("ul", {}, outcome.value.items.map((workflow) => h("li", {},
        h("a", { href: workflowLink(workflow.workflowId) }, workflow.workflowId), " ", workflow.type, " ", badge(workflow.status, "plain"),
        workflow.escalationLevel ? [" ", badge(`level ${workflow.escalationLevel}`, "escalated")] : null)));
  return h("div", { class: "attention" }, h("h3", {}, title), body,
    filters && outcome.value?.nextToken ? h("a", { href: listLink(filters) }, "All of them") : null);
}

async function reportPicker(app, query) {
  let today = new Date();
  if (app.local) {
    try { today = new Date((await app.api.get("/local/clock")).now); } catch { /* the browser's day */ }
  }
  const yesterday = new Date(today.getTime() - 86_400_000).toISOString().slice(0, 10);
  const date = h("input", { type: "date", id: "report-date", name: "date", value: query.get("date") || yesterday, required: true });
  const result = h("div", { class: "report", "aria-live": "polite" });
  const show = async (event) => {
    event?.preventDefault();
    replace(result, placeholder(4, "Loading the report"));
    try {
      replace(result, reportView(await app.api.get(`/reports/daily/${date.value}`)));
    } catch (error) {
      replace(result, error.status === 404 ? h("p", { class: "muted" }, `No report for ${date.value} (the DailyReport schedule writes one a day).`) : errorBox(error));
    }
  };
  const form = h("form", { class: "inline", onsubmit: show, "aria-label": "Daily report" },
    h("label", { for: "report-date" }, "Day (UTC)"), date, h("button", { type: "submit" }, "Show"));
  show();
  return h("div", {}, form, result);
}

function reportView(report) {
  return h("div", {},
    h("p", {}, "Generated ", time(report.generatedAt), `; failure rate ${(report.failureRate * 100).toFixed(1)}%.`),
    facts(Object.entries(report.totals).map(([key, value]) => [key, String(value)])),
    report.recommendations.length ? h("div", {}, h("h3", {}, "Recommendations"),
      h("ul", {}, report.recommendations.map((text) => h("li", {}, text)))) : null);
}
