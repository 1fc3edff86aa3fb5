"""Operations rules (DESIGN §6, with the seed's numbers): health thresholds, the recovery decision
for a failed workflow, and the daily report with its recommendations. Pure functions of counters
and workflows; the service layer reads them and acts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from functions.domain.counters import CLOSED_STATUSES, DayCounters, TypeCounters
from functions.domain.workflow import Workflow

# Failures that may pass by themselves: an activity's transient error once its retries ran out,
# an execution that timed out, an execution that could not start.
TRANSIENT_ERRORS = frozenset(
    {
        "TransientActivityError",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
        "States.Timeout",
        "States.TaskFailed",
        "StartExecutionFailed",
        "ExecutionTimedOut",
    }
)
# Lifecycles whose transient failures are retried automatically (documents, and the notification-like
# calendar); the others (applications, projects) go to people at once.
AUTOMATICALLY_RETRIED = frozenset({"document", "calendar"})


@dataclass(frozen=True)
class Thresholds:
    failure_rate: float = 0.10
    running: int = 100
    stalled_hours: float = 24.0


@dataclass(frozen=True)
class HealthFinding:
    check: str
    message: str
    value: float
    threshold: float


HealthCheckName = Literal["failureRate", "runningWorkflows", "stalledWorkflows"]


@dataclass(frozen=True)
class HealthCheck:
    """One check against its threshold, passing or not: the value must stay at or under the threshold."""

    check: HealthCheckName
    description: str
    value: float
    threshold: float
    unit: Literal["ratio", "count"]
    ok: bool
    message: str
    # stalledWorkflows only: how long without progress (and with no open wait) makes a workflow stalled.
    stalled_after_hours: float | None = None

    def finding(self) -> HealthFinding:
        return HealthFinding(self.check, self.message, self.value, self.threshold)

    def view(self) -> dict[str, Any]:
        """As GET /operations/health answers it."""
        return {
            "check": self.check,
            "description": self.description,
            "value": self.value,
            "threshold": self.threshold,
            "comparison": "≤",
            "unit": self.unit,
            "ok": self.ok,
            "message": self.message,
            "stalledAfterHours": self.stalled_after_hours,
        }


def health_checks(
    total: int, failed: int, running: int, stalled: list[Workflow], thresholds: Thresholds
) -> list[HealthCheck]:
    """Every check, with its value, its threshold and whether it holds: the failure rate, the running
    workflows, the stalled ones (found up to the number the caller read)."""
    rate = failed / total if total else 0.0
    hours = thresholds.stalled_hours
    rate_over, running_over = rate > thresholds.failure_rate, running > thresholds.running
    names = ", ".join(workflow.workflowId for workflow in stalled[:10])
    return [
        HealthCheck(
            "failureRate",
            "FAILED and TIMED_OUT workflows over all workflows",
            round(rate, 4),
            thresholds.failure_rate,
            "ratio",
            ok=not rate_over,
            message=f"{rate:.1%} of workflows failed ({'over' if rate_over else 'at most'} "
            f"{thresholds.failure_rate:.0%})",
        ),
        HealthCheck(
            "runningWorkflows",
            "workflows whose execution is running",
            running,
            thresholds.running,
            "count",
            ok=not running_over,
            message=f"{running} workflows running ({'over' if running_over else 'at most'} {thresholds.running})",
        ),
        HealthCheck(
            "stalledWorkflows",
            f"running workflows with no open wait and no progress for over {hours:g} h, or closed ones whose "
            "last wait was never completed: their execution is lost",
            len(stalled),
            0,
            "count",
            ok=not stalled,
            message=f"{len(stalled)} running workflow(s) with no progress for over {hours:g} h and no open wait: "
            f"{names}"
            if stalled
            else f"no workflow without progress for over {hours:g} h and no open wait",
            stalled_after_hours=hours,
        ),
    ]


Decision = Literal["retry", "escalate"]


def recovery_decision(workflow: Workflow, max_retries: int) -> tuple[Decision, str]:
    """What to do with a failed workflow, and why (recorded in its history)."""
    error = str((workflow.failure or {}).get("error") or "")
    transient = error in TRANSIENT_ERRORS or workflow.executionStatus == "TIMED_OUT"
    if workflow.type not in AUTOMATICALLY_RETRIED:
        return "escalate", f"{workflow.type} failures go to manual handling at once ({error or 'unknown error'})"
    if not transient:
        return "escalate", f"{error or 'the failure'} is not transient: retrying cannot fix it"
    if workflow.retryCount >= max_retries:
        return "escalate", f"still failing after {workflow.retryCount} automatic retries (the maximum is {max_retries})"
    return "retry", f"{error} is transient: retry {workflow.retryCount + 1} of {max_retries}"


def daily_report(
    date: str,
    day: DayCounters,
    totals: Mapping[str, TypeCounters],
    thresholds: Thresholds,
    generated_at: str,
) -> dict[str, Any]:
    """The report of one day (UTC) from that day's counters and the running totals now."""
    types = sorted(totals)
    closed = {status: day.closed_of(status) for status in CLOSED_STATUSES}
    by_type = {
        name: {
            "started": day.started_by_type.get(name, 0),
            "completed": day.closed_of("COMPLETED", name),
            "failed": day.closed_of("FAILED", name) + day.closed_of("TIMED_OUT", name),
            "terminated": day.closed_of("TERMINATED", name),
            "running": totals[name].running,
            "byStatus": {status: count for status, count in sorted(totals[name].by_status.items()) if count},
        }
        for name in types
    }
    failed = closed["FAILED"] + closed["TIMED_OUT"]
    finished = sum(closed.values())
    average = round(day.closed_seconds / day.closed_count, 3) if day.closed_count else None
    report = {
        "date": date,
        "generatedAt": generated_at,
        "totals": {
            "started": day.started,
            "completed": closed["COMPLETED"],
            "failed": failed,
            "terminated": closed["TERMINATED"],
            "running": sum(totals[name].running for name in types),
            "escalations": day.escalations,
            "retries": day.retries,
        },
        "failureRate": round(failed / finished, 4) if finished else 0.0,
        "averageExecutionSeconds": average,
        "byType": by_type,
    }
    report["recommendations"] = recommendations(report, thresholds)
    return report


def recommendations(report: Mapping[str, Any], thresholds: Thresholds) -> list[str]:
    totals = report["totals"]
    advice = []
    if report["failureRate"] > thresholds.failure_rate:
        worst = max(report["byType"].items(), key=lambda item: item[1]["failed"], default=(None, {}))[0]
        advice.append(
            f"Failure rate {report['failureRate']:.1%} is over {thresholds.failure_rate:.0%}: "
            f"look at the failed {worst} workflows first (GET /workflows?executionStatus=FAILED)."
        )
    if totals["running"] > thresholds.running:
        advice.append(
            f"{totals['running']} workflows are running (over {thresholds.running}): check reviewer "
            "capacity and the oldest waiting workflows."
        )
    if totals["escalations"]:
        advice.append(f"{totals['escalations']} escalation(s) yesterday: assign owners to the escalated workflows.")
    if totals["retries"]:
        advice.append(
            f"{totals['retries']} automatic retr{'y' if totals['retries'] == 1 else 'ies'}: a dependency "
            "may be flaky; check the failed activities' errors."
        )
    for name, figures in report["byType"].items():
        if figures["started"] and not figures["completed"] and figures["running"] > 2 * figures["started"]:
            advice.append(f"{name}: more workflows are piling up than finishing; review the backlog.")
    if not totals["started"] and not any(figures["completed"] for figures in report["byType"].values()):
        advice.append("No workflow started or completed: check that clients can reach the API.")
    if not advice:
        advice.append("All figures are within their thresholds: no action needed.")
    return advice
