"""Skipping time (DESIGN §8): a long skip in one jump does what the same span lived hour by hour
does: every timer and schedule due in it takes effect, in order, at its own time, with the same
results (histories, reports, e-mails). The health check is a snapshot and is left out: skipped
over, it runs once at the last of its runs (README, "The local runtime")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.local.faults import Fault
from infra.local.platform import LocalPlatform
from tests.support.actors import APPLICANT, APPROVER, OPERATOR, REVIEWER, Client
from tests.support.scenarios import active_project

HOUR = 3600
DAY = 24 * HOUR
SPAN_DAYS = 32


def a_month_of_work(platform: LocalPlatform) -> None:
    """Workflows with timers: submitted applications (escalated every 14 days), one failing for good
    (the hourly recovery escalates it), and an active project with its report calendar."""
    applicant, reviewer, approver = (Client(platform.api, actor) for actor in (APPLICANT, REVIEWER, APPROVER))
    active_project(platform, applicant, reviewer, approver, "skip-project")
    for number in range(3):
        assert applicant.start(f"skip-app-{number}")[0] == 201
        platform.settle()
        assert applicant.signal(f"skip-app-{number}", "submitApplication")[0] == 200
        platform.advance(5 * HOUR)  # the applications' timers fall at different times
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    assert applicant.start("skip-failing")[0] == 201
    platform.settle()


def what_happened(platform: LocalPlatform, started: float) -> dict:
    """Every history event (its time from the start), the daily reports, the e-mails but health alerts."""
    operator = Client(platform.api, OPERATOR)
    workflows = operator.call("GET", "/workflows", query={"limit": "100"})[1]["items"]
    histories = {}
    for workflow in workflows:
        events = operator.history(workflow["workflowId"], limit="100")[1]["items"]
        histories[workflow["workflowId"]] = [
            (event["type"], event["fromStatus"], event["toStatus"], event["signal"], _offset(event["time"], started))
            for event in events
        ]
    first = datetime.fromtimestamp(started, tz=UTC).date()
    reports = {
        offset: operator.call("GET", f"/reports/daily/{(first + timedelta(days=offset)).isoformat()}")[0]
        for offset in range(SPAN_DAYS + 2)
    }
    mails = []
    for path in platform.outbox.messages():
        text = path.read_text()
        if "[HEALTH]" not in text:
            mails.append(tuple(line for line in text.splitlines() if line.startswith(("Subject:", "To:"))))
    return {"histories": histories, "reports": reports, "mails": sorted(mails)}


def _offset(time: str, started: float) -> int:
    return round(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp() - started)


@pytest.mark.parametrize("platform", [{"schedules": True}], indirect=True)
def test_a_month_skipped_at_once_does_what_the_month_lived_hour_by_hour_does(platform, tmp_path):
    # Given a month of work, skipped in one jump
    started = platform.clock.time()
    a_month_of_work(platform)
    platform.advance(SPAN_DAYS * DAY)
    at_once = what_happened(platform, started)

    # When the same work is lived again on a platform made anew, an hour at a time
    platform.reset(outbox_dir=tmp_path / "again", schedules=True, frozen_clock=True)
    started = platform.clock.time()
    a_month_of_work(platform)
    for _ in range(SPAN_DAYS * 24):
        platform.advance(HOUR)
    hour_by_hour = what_happened(platform, started)

    # Then the same things happened, at the same times
    escalations = [event for event in at_once["histories"]["skip-app-0"] if event[0] in ("TIMEOUT", "ESCALATED")]
    assert len(escalations) == 2  # at 14 and 28 days
    assert [event[0] for event in at_once["histories"]["skip-failing"]][-2:] == ["FAILED", "ESCALATED"]
    assert sum(1 for code in at_once["reports"].values() if code == 200) >= SPAN_DAYS
    assert at_once == hour_by_hour
