"""The local platform keeps its data: stopped in the middle of lifecycles (SIGTERM, as Ctrl-C) and
started again, it brings back every workflow, history, kept signal, counter, report, file, e-mail
and the virtual clock, resumes each running workflow at its current wait with its timers due at the
same virtual times, and the lifecycles go on to their end. ``FRESH=1`` starts empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.launcher import LocalProcess, start_local_platform
from tests.e2e.conftest import LocalHttp
from tests.support.aws import emulated_aws_client
from tests.support.http import upload_file, wait_for

APPLICANT = {"user": "alice", "groups": "applicants"}
REVIEWER = {"user": "rita", "groups": "reviewers"}
APPROVER = {"user": "paul", "groups": "approvers"}
OPERATOR = {"user": "olga", "groups": "operators"}
DAY = 24 * 3600
APPLICATION = {"projectId": "keep-project", "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}


def http(process: LocalProcess, work_dir: Path) -> LocalHttp:
    return LocalHttp(process.api_url, work_dir / "outbox", process.aws_url, process.log)


def signal(local: LocalHttp, workflow_id: str, name: str, who: dict, payload: dict | None = None) -> tuple[int, dict]:
    return local("POST", f"/workflows/{workflow_id}/signals/{name}", payload or {}, **who)  # type: ignore[no-any-return]


def state(local: LocalHttp, workflow_id: str) -> dict:
    return local("GET", f"/workflows/{workflow_id}", **OPERATOR)[1]  # type: ignore[no-any-return]


def history(local: LocalHttp, workflow_id: str) -> list[dict]:
    return local("GET", f"/workflows/{workflow_id}/history", query={"limit": "100"}, **OPERATOR)[1]["items"]  # type: ignore[no-any-return]


def test_a_restart_in_the_middle_of_lifecycles_loses_nothing_and_they_go_on(tmp_path: Path):
    first = start_local_platform(tmp_path)
    try:
        local = http(first, tmp_path)
        # Given an active project, an application under review, one submitted (its 14-day reviewer
        # timer running), and one whose wait opens late, with a signal kept for it
        project = {"name": "Kept soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}
        assert (
            local(
                "POST", "/workflows", {"type": "project", "workflowId": "keep-project", "input": project}, **APPLICANT
            )[0]
            == 201
        )
        for name, who, payload in [
            ("submitRegistration", APPLICANT, {}),
            ("assignAssessor", REVIEWER, {}),
            ("approveRegistration", APPROVER, {}),
            (
                "submitOffsetsReport",
                APPLICANT,
                {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": 1000},
            ),
            ("acceptReport", APPROVER, {}),
        ]:
            assert signal(local, "keep-project", name, who, payload)[0] == 200, name
        for workflow_id in ("keep-review", "keep-submitted"):
            assert (
                local(
                    "POST",
                    "/workflows",
                    {"type": "accu-application", "workflowId": workflow_id, "input": APPLICATION},
                    **APPLICANT,
                )[0]
                == 201
            )
            assert signal(local, workflow_id, "submitApplication", APPLICANT)[0] == 200
        assert signal(local, "keep-review", "assignReviewer", REVIEWER)[0] == 200
        assert signal(local, "keep-review", "validateMethodology", REVIEWER)[0] == 200
        late = {
            "activity": "OpenWait",
            "workflowType": "accu-application",
            "kind": "delay",
            "seconds": 900,
            "count": 1,
        }
        assert local("POST", "/local/faults", late)[0] == 201
        assert (
            local(
                "POST",
                "/workflows",
                {"type": "accu-application", "workflowId": "keep-kept", "input": APPLICATION},
                **APPLICANT,
            )[0]
            == 201
        )
        code, kept = signal(local, "keep-kept", "submitApplication", APPLICANT)
        assert code == 202 and kept["queued"] is True
        # and a document whose file was uploaded and validated
        content = b"%PDF land title"
        declared = upload_file(lambda method, path, body: local(method, path, body, **APPLICANT), content, "title.pdf")
        document = {"subjectType": "accu-application", "subjectId": "keep-review", "kind": "land-title", **declared}
        assert (
            local("POST", "/workflows", {"type": "document", "workflowId": "keep-doc", "input": document}, **APPLICANT)[
                0
            ]
            == 201
        )
        wait_for(lambda: state(local, "keep-doc"), lambda s: s["status"] == "PENDING_REVIEW", 15)
        # and a day skipped (the daily report made), a clock well past the wall clock
        assert local("POST", "/local/clock/advance", {"seconds": DAY})[0] == 200
        clock_before = local("GET", "/local/clock")[1]
        submitted_at = history(local, "keep-submitted")[-1]["time"]
        saved = {
            workflow_id: (state(local, workflow_id), history(local, workflow_id))
            for workflow_id in ("keep-project", "keep-review", "keep-submitted", "keep-doc")
        }
        metrics = local("GET", "/metrics", **OPERATOR)[1]
        report_date = clock_before["now"][:10]
        report = local("GET", f"/reports/daily/{_yesterday(report_date)}", **OPERATOR)
        assert report[0] == 200
        emails = sorted(path.name for path in (tmp_path / "outbox").glob("*.eml"))
    finally:
        # When the platform is stopped (SIGTERM, as Ctrl-C) and started again
        first.stop()
    assert first.process.returncode == 0
    second = start_local_platform(tmp_path)
    try:
        local = http(second, tmp_path)

        # Then every workflow, history, counter, report and e-mail is there, the clock where it was
        for workflow_id, (before, events) in saved.items():
            after = state(local, workflow_id)
            assert {key: after[key] for key in before if key != "revision"} == {
                key: value for key, value in before.items() if key != "revision"
            }, workflow_id
            assert history(local, workflow_id) == events, workflow_id
        assert local("GET", "/metrics", **OPERATOR)[1] == metrics
        assert local("GET", f"/reports/daily/{_yesterday(report_date)}", **OPERATOR) == report
        assert set(emails) <= {path.name for path in (tmp_path / "outbox").glob("*.eml")}
        assert local("GET", "/local/clock")[1]["now"] >= clock_before["now"]
        assert local("GET", "/local/clock")[1]["offsetSeconds"] >= clock_before["offsetSeconds"]
        # and the uploaded file
        s3 = emulated_aws_client("s3", second.aws_url)
        assert s3.get_object(Bucket="accu-local-documents", Key=declared["objectKey"])["Body"].read() == content
        # And the kept signal is applied by the wait the resumed execution opens
        kept_state = wait_for(lambda: state(local, "keep-kept"), lambda s: s["status"] == "SUBMITTED", 15)
        assert [event["signal"] for event in history(local, "keep-kept")] == [None, "submitApplication"]
        assert kept_state["executionStatus"] == "RUNNING"

        # And each lifecycle goes on to its end from its current wait
        assert signal(local, "keep-review", "approveApplication", APPROVER)[1]["status"] == "APPROVED"
        assert signal(local, "keep-review", "issueCertificate", APPROVER)[1]["status"] == "ISSUED"
        assert [event["signal"] for event in history(local, "keep-review")] == [
            None,
            "submitApplication",
            "assignReviewer",
            "validateMethodology",
            "approveApplication",
            "issueCertificate",
        ]
        assert signal(local, "keep-doc", "startReview", REVIEWER)[0] == 200
        assert signal(local, "keep-doc", "approveDocument", APPROVER)[1]["status"] == "APPROVED"
        assert state(local, "keep-project")["availableUnits"] == 900

        # And the submitted one's 14-day timer is due at the same virtual time as before the restart
        now = local("GET", "/local/clock")[1]["now"]
        due_in = _seconds_between(now, _plus_days(submitted_at, 14))
        local("POST", "/local/clock/advance", {"seconds": due_in - 60})
        assert state(local, "keep-submitted")["escalationLevel"] == 0
        local("POST", "/local/clock/advance", {"seconds": 120})
        escalated = wait_for(lambda: state(local, "keep-submitted"), lambda s: s["escalationLevel"] == 1, 15)
        assert escalated["status"] == "SUBMITTED"
    finally:
        second.stop()

    # And FRESH=1 starts empty
    fresh = start_local_platform(tmp_path, {"FRESH": "1"})
    try:
        local = http(fresh, tmp_path)
        assert local("GET", "/workflows", **OPERATOR)[1]["items"] == []
        assert list((tmp_path / "outbox").glob("*.eml")) == []
    finally:
        fresh.stop()


def _yesterday(date: str) -> str:
    from datetime import date as day
    from datetime import timedelta

    return (day.fromisoformat(date) - timedelta(days=1)).isoformat()


def _plus_days(moment: str, days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(moment.replace("Z", "+00:00")) + timedelta(days=days)).isoformat()


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (
        datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    ).total_seconds()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def read_batch(local: LocalHttp, batch_id: str) -> dict:
    return local("GET", f"/batches/{batch_id}", **OPERATOR)[1]  # type: ignore[no-any-return]


def test_a_batch_running_when_the_platform_stops_goes_on_after_the_restart_counting_each_workflow_once(
    tmp_path: Path,
):
    first = start_local_platform(tmp_path)
    try:
        local = http(first, tmp_path)
        # Given 40 drafts and a batch terminating them at 4 a second (20 a step), one step done
        project = {"name": "Batch soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}
        body = {"type": "project", "workflowId": "keep-project", "input": project}
        assert local("POST", "/workflows", body, **APPLICANT)[0] == 201
        ids = [f"batch-draft-{number:02d}" for number in range(40)]
        for workflow_id in ids:
            body = {"type": "accu-application", "workflowId": workflow_id, "input": APPLICATION}
            assert local("POST", "/workflows", body, **APPLICANT)[0] == 201
        request = {
            "action": "terminate",
            "filter": {"type": "accu-application", "status": "DRAFT"},
            "reason": "restart test",
            "ratePerSecond": 4,
        }
        code, batch = local("POST", "/batches", request, **OPERATOR)
        assert code == 202, batch
        wait_for(lambda: read_batch(local, batch["batchId"]), lambda answer: answer["processed"] >= 20, 30)
    finally:
        # When the platform stops in the middle of the batch's second step
        first.stop()

    second = start_local_platform(tmp_path)
    try:
        local = http(second, tmp_path)
        # Then the batch goes on in a new execution where it stopped, and ends with each draft counted once
        done = wait_for(lambda: read_batch(local, batch["batchId"]), lambda answer: answer["state"] != "RUNNING", 60)
        assert (done["state"], done["applied"], done["skipped"], done["failed"]) == ("COMPLETED", 40, 0, 0), done
        assert len(done["executions"]) == 2
        assert {state(local, workflow_id)["executionStatus"] for workflow_id in ids} == {"TERMINATED"}
        events = [
            [event for event in history(local, workflow_id) if event["details"].get("batchId") == batch["batchId"]]
            for workflow_id in ids
        ]
        assert [len(found) for found in events] == [1] * 40
    finally:
        second.stop()
