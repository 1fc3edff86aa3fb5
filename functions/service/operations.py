"""The scheduled operations (DESIGN §6): health check, failed-workflow recovery, daily report, and
the reconciliation of waits whose completion failed after their transition was committed.

They read counters and sparse indexes only, so each costs the same however many workflows exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from functions.domain import operations as rules
from functions.domain import workflow as workflows
from functions.domain.errors import DomainError, ReportNotFound
from functions.domain.identity import SYSTEM
from functions.domain.time import iso
from functions.service.engine import WorkflowEngine
from functions.service.interventions import WorkflowInterventions
from functions.service.ports import StaleWrite

STALLED_REPORTED = 25
RECOVERED_PER_TYPE = 25
# Waits completed again per run (every minute), and how old a transition must be to be looked at.
RELEASED_PER_RUN = 500
RELEASE_AFTER_SECONDS = 5


@dataclass
class HealthReport:
    checkedAt: str
    total: int
    running: int
    failed: int
    failureRate: float
    stalled: list[dict[str, Any]]
    # Every check, passing or not, with its value and threshold; the findings are the failing ones.
    checks: list[rules.HealthCheck]

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [check.finding().__dict__ for check in self.checks if not check.ok]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    def figures(self) -> dict[str, Any]:
        return {
            "checkedAt": self.checkedAt,
            "total": self.total,
            "running": self.running,
            "failed": self.failed,
            "failureRate": self.failureRate,
            "stalled": self.stalled,
        }

    def summary(self) -> dict[str, Any]:
        """What the scheduled check alerts with and answers: the figures, the stalled workflows, the findings."""
        return {**self.figures(), "findings": self.findings}

    def view(self) -> dict[str, Any]:
        """What GET /operations/health answers: every check, the stalled workflows, the figures."""
        return {**self.figures(), "healthy": self.healthy, "checks": [check.view() for check in self.checks]}


class OperationsService:
    def __init__(
        self,
        engine: WorkflowEngine,
        interventions: WorkflowInterventions,
        thresholds: rules.Thresholds,
        max_retries: int,
    ):
        self.engine = engine
        self.interventions = interventions
        self.store = engine.store
        self.thresholds = thresholds
        self.max_retries = max_retries

    def health(self) -> HealthReport:
        """Failure rate, running count and stalled workflows against their thresholds: every check, read
        only (counters and the stalled index; nothing is written or sent)."""
        now = self.engine.now()
        counters = self.store.counters(sorted(self.engine.lifecycles)).values()
        total = sum(counts.total for counts in counters)
        running = sum(counts.running for counts in counters)
        failed = sum(counts.failed for counts in counters)
        cutoff = iso(now - timedelta(hours=self.thresholds.stalled_hours))
        stalled = self.store.stalled(cutoff, STALLED_REPORTED)
        return HealthReport(
            checkedAt=iso(now),
            total=total,
            running=running,
            failed=failed,
            failureRate=round(failed / total, 4) if total else 0.0,
            stalled=[
                {"workflowId": w.workflowId, "type": w.type, "status": w.status, "lastProgressAt": w.lastProgressAt}
                for w in stalled
            ],
            checks=rules.health_checks(total, failed, running, stalled, self.thresholds),
        )

    def health_check(self) -> HealthReport:
        """The scheduled check: ``health``, and an alert if any check fails."""
        report = self.health()
        if report.findings:
            self.engine.notifier.alert(
                "[HEALTH] " + "; ".join(finding["check"] for finding in report.findings),
                report.summary(),
                kind="health",
            )
        return report

    def release_waits(self) -> dict[str, Any]:
        """Complete again each wait whose transition was committed but whose completion failed (or was
        never sent): with the workflow's route as it is now, so the execution goes where the workflow
        is. Step Functions takes a token once: a wait completed meanwhile answers that it is closed,
        and nothing moves twice. Transitions younger than a few seconds are still being completed."""
        now = self.engine.now()
        before = iso(now - timedelta(seconds=RELEASE_AFTER_SECONDS))
        released: list[str] = []
        already_closed: list[str] = []
        failed: list[dict[str, str]] = []
        for workflow in self.store.unreleased(before, RELEASED_PER_RUN):
            token = workflow.unreleasedToken
            assert token is not None
            try:
                moved = self.engine.executions.release(token, self.engine.route(workflow))
            except Exception as error:  # still refused (throttled, unavailable): the next run tries again
                failed.append({"workflowId": workflow.workflowId, "error": str(error)[:500]})
                continue
            self.store.released(workflow.workflowId, token, closed=not workflow.is_running)
            (released if moved else already_closed).append(workflow.workflowId)
        return {"released": released, "alreadyClosed": already_closed, "failed": failed}

    def recover_failed(self) -> list[dict[str, Any]]:
        """For each failed workflow without a decision yet: retry it from its last state, or escalate it.
        Every decision is in the workflow's history."""
        decisions = []
        for workflow_type in sorted(self.engine.lifecycles):
            for workflow in self.store.needing_recovery(workflow_type, RECOVERED_PER_TYPE):
                decision, reason = rules.recovery_decision(workflow, self.max_retries)
                outcome: str = decision
                try:
                    if decision == "retry":
                        self.interventions.retry(SYSTEM, workflow.workflowId, reason, recovery="automatic")
                    else:
                        self._escalate_failed(workflow.workflowId, reason)
                except (StaleWrite, DomainError) as error:  # changed meanwhile: the next run decides
                    outcome, reason = "skipped", str(error)
                decisions.append(
                    {"workflowId": workflow.workflowId, "type": workflow.type, "decision": outcome, "reason": reason}
                )
        return decisions

    def _escalate_failed(self, workflow_id: str, reason: str) -> None:
        def escalation(workflow: workflows.Workflow) -> workflows.Transition:
            failure = {**(workflow.failure or {}), "recovery": "escalated"}
            return workflows.escalate(
                workflow, self.engine.now(), SYSTEM.user_id, reason, failure=failure, recovery="escalate"
            )

        self.engine.change(SYSTEM, workflow_id, escalation)

    def daily_report(self, date: str | None = None) -> dict[str, Any]:
        """The report of ``date`` (default: yesterday, UTC): stored, and e-mailed to the administrators."""
        now = self.engine.now()
        day = date or (now - timedelta(days=1)).date().isoformat()
        report = rules.daily_report(
            day,
            self.store.daily_counters(day),
            self.store.counters(sorted(self.engine.lifecycles)),
            self.thresholds,
            iso(now),
        )
        self.store.put_report(day, report)
        self.engine.notifier.alert(f"ACCU workflows daily report {day}", report, kind="report")
        return report

    def report(self, date: str) -> dict[str, Any]:
        report = self.store.get_report(date)
        if report is None:
            raise ReportNotFound(f"no daily report for {date}", [{"field": "date", "value": date}])
        return report
