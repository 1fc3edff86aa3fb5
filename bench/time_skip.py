"""(g) Skipping a year (``POST /local/clock/advance``) on a platform holding running workflows,
and then checking that what was due in that year took effect: a daily report for every day of
it, every submitted application escalated once per 14 days, the recovery schedule's runs made or
(with nothing to recover) counted idle, one for each hour."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from bench.http_client import OPERATOR, ApiClient
from bench.population import SUBMITTED_EVERY

DAY = 86_400
ESCALATION_DAYS = 14


@dataclass
class YearSkipped:
    workflows: int
    days: int
    seconds: float
    reports_missing: int
    escalations_expected: int
    escalations_found: int
    recovery_runs: int
    hours: int

    @property
    def complete(self) -> bool:
        return (
            self.reports_missing == 0
            and self.escalations_found == self.escalations_expected
            and self.recovery_runs >= self.hours
        )


def skip(api_url: str, workflows: int, days: int = 365) -> YearSkipped:
    client = ApiClient(api_url, timeout=3600)
    before = client.call("GET", "/local/clock", identity=None).body
    schedules_before = {
        item["schedule"]: item for item in client.call("GET", "/local/schedules", identity=None).body["items"]
    }
    started = time.perf_counter()
    answer = client.call("POST", "/local/clock/advance", {"seconds": days * DAY}, identity=None)
    seconds = time.perf_counter() - started
    if answer.status != 200:
        raise RuntimeError(f"the clock did not advance: {answer.status} {answer.body}")
    first_day = date.fromisoformat(before["now"][:10])
    missing = 0
    for offset in range(days):
        day = (first_day + timedelta(days=offset)).isoformat()
        if client.call("GET", f"/reports/daily/{day}", identity=OPERATOR).status != 200:
            missing += 1
    submitted = [f"seed-{number}" for number in range(workflows) if number % SUBMITTED_EVERY == SUBMITTED_EVERY - 1]
    found = 0
    for workflow_id in submitted:
        history = client.call("GET", f"/workflows/{workflow_id}/history?limit=100", identity=OPERATOR).body["items"]
        found += sum(1 for event in history if event["type"] in ("ESCALATED", "TIMEOUT"))
    schedules = {item["schedule"]: item for item in client.call("GET", "/local/schedules", identity=None).body["items"]}
    recovery = schedules["FailureRecovery"]
    runs = (recovery["runs"] - schedules_before["FailureRecovery"]["runs"]) + (
        recovery["idleRuns"] - schedules_before["FailureRecovery"]["idleRuns"]
    )
    client.close()
    return YearSkipped(
        workflows=workflows,
        days=days,
        seconds=seconds,
        reports_missing=missing,
        escalations_expected=len(submitted) * (days // ESCALATION_DAYS),
        escalations_found=found,
        recovery_runs=runs,
        hours=days * 24,
    )
