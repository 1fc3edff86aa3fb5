"""Batch operations (issue 12): one action on every workflow a filter matches, run by the platform's
BatchOperation state machine on moto's engine, with exact counts, an audit in each history, cancel and
resume. The clock runs (a batch keeps its rate in real seconds; its retries wait real seconds)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from functions import dependencies
from functions.domain.batches import Outcome
from functions.domain.identity import Identity
from infra.local.faults import Fault

pytestmark = pytest.mark.parametrize("platform", [{"frozen_clock": False}], indirect=True)

TERMINATE_DRAFTS = {"action": "terminate", "filter": {"type": "accu-application", "status": "DRAFT"}}


def start_applications(applicant, prefix: str, count: int) -> list[str]:
    ids = [f"{prefix}-{index:04d}" for index in range(count)]
    for workflow_id in ids:
        code, body = applicant.start(workflow_id)
        assert code == 201, body
    return ids


def start_batch(operator, **request: Any) -> dict[str, Any]:
    code, batch = operator.call("POST", "/batches", {"reason": "batch test", "ratePerSecond": 100, **request})
    assert code == 202, batch
    assert batch["state"] == "RUNNING"
    return batch


def batch_when(operator, batch_id: str, done=lambda batch: batch["state"] != "RUNNING", timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, batch = operator.call("GET", f"/batches/{batch_id}")
        assert code == 200, batch
        if done(batch):
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)


def statuses(operator, ids: list[str]) -> dict[str, tuple[str, str]]:
    answers = {workflow_id: operator.get(workflow_id)[1] for workflow_id in ids}
    return {workflow_id: (state["status"], state["executionStatus"]) for workflow_id, state in answers.items()}


def batch_events(operator, workflow_id: str, batch_id: str) -> list[dict]:
    events = operator.history(workflow_id, limit="100")[1]["items"]
    return [event for event in events if event["details"].get("batchId") == batch_id]


def test_a_dry_run_counts_and_samples_the_matching_workflows_and_changes_nothing(platform, applicant, operator):
    # Given 25 draft applications
    ids = start_applications(applicant, "dry", 25)
    before = statuses(operator, ids)

    # When an operator asks for a dry run of terminating the drafts
    batch = batch_when(operator, start_batch(operator, **TERMINATE_DRAFTS, dryRun=True)["batchId"])

    # Then it counts them all, samples the newest 20, and no workflow changed
    assert (batch["state"], batch["phase"], batch["matched"], batch["processed"]) == ("COMPLETED", "COUNTING", 25, 0)
    assert batch["sample"] == sorted(ids, reverse=True)[:20]
    assert statuses(operator, ids) == before
    assert all(batch_events(operator, workflow_id, batch["batchId"]) == [] for workflow_id in ids)


def test_a_batch_terminates_hundreds_of_drafts_started_before_a_date_each_audited_once(
    platform, applicant, reviewer, operator
):
    # Given 300 drafts started before a date, 20 drafts started after it, and 10 submitted applications
    old = start_applications(applicant, "old", 300)
    time.sleep(0.01)
    cut = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    new = start_applications(applicant, "new", 20)
    submitted = start_applications(applicant, "sub", 10)
    for workflow_id in submitted:
        assert applicant.signal(workflow_id, "submitApplication")[0] == 200
    platform.settle()

    # When an operator terminates the drafts started before the date
    request = {**TERMINATE_DRAFTS, "filter": {**TERMINATE_DRAFTS["filter"], "startedBefore": cut}}
    batch = batch_when(operator, start_batch(operator, **request, reason="stale drafts")["batchId"])

    # Then exactly those 300 are terminated, counted once each, and each history names the batch and why
    assert batch["state"] == "COMPLETED", batch
    counts = {key: batch[key] for key in ("matched", "processed", "applied", "skipped", "failed")}
    assert counts == {"matched": 300, "processed": 300, "applied": 300, "skipped": 0, "failed": 0}
    assert set(statuses(operator, old).values()) == {("DRAFT", "TERMINATED")}
    assert set(statuses(operator, new).values()) == {("DRAFT", "RUNNING")}
    assert set(statuses(operator, submitted).values()) == {("SUBMITTED", "RUNNING")}
    for workflow_id in old[::25]:
        (event,) = batch_events(operator, workflow_id, batch["batchId"])
        assert (event["type"], event["actor"], event["details"]["reason"]) == ("TERMINATED", "olga", "stale drafts")
    # and the listing of batches shows it
    assert operator.call("GET", "/batches")[1]["items"][0]["batchId"] == batch["batchId"]


def test_a_signal_batch_applies_where_the_signal_is_awaited_and_skips_the_rest_with_why(platform, applicant, operator):
    # Given 12 drafts and 8 submitted applications
    drafts = start_applications(applicant, "draft", 12)
    submitted = start_applications(applicant, "subm", 8)
    for workflow_id in submitted:
        assert applicant.signal(workflow_id, "submitApplication")[0] == 200
    platform.settle()

    # When an operator sends submitApplication to every running application
    batch = start_batch(
        operator,
        action="signal",
        signal="submitApplication",
        filter={"type": "accu-application", "executionStatus": "RUNNING"},
    )
    batch = batch_when(operator, batch["batchId"])

    # Then the drafts are submitted, the submitted ones skipped as not awaiting it, each counted
    assert (batch["state"], batch["matched"], batch["applied"], batch["skipped"], batch["failed"]) == (
        "COMPLETED",
        20,
        12,
        8,
        0,
    )
    assert batch["skippedReasons"] == {"SIGNAL_NOT_ALLOWED": 8}
    assert set(statuses(operator, drafts + submitted).values()) == {("SUBMITTED", "RUNNING")}
    (event,) = batch_events(operator, drafts[0], batch["batchId"])
    assert (event["type"], event["signal"], event["details"]["reason"]) == (
        "SIGNAL_APPLIED",
        "submitApplication",
        "batch test",
    )


def test_a_cancelled_batch_stops_within_seconds_and_what_it_changed_stays(platform, applicant, operator):
    # Given 60 drafts, and a batch terminating them at 5 a second
    ids = start_applications(applicant, "slow", 60)
    batch = start_batch(operator, **TERMINATE_DRAFTS, ratePerSecond=5)
    batch_when(operator, batch["batchId"], lambda batch: batch["applied"] >= 3)

    # When an operator cancels it
    code, cancelling = operator.call("POST", f"/batches/{batch['batchId']}/cancel")
    assert (code, cancelling["cancelRequested"]) == (200, True)
    cancelled = batch_when(operator, batch["batchId"], timeout=15)

    # Then it ends CANCELLED, and the workflows it terminated are exactly the ones it counted
    assert cancelled["state"] == "CANCELLED"
    terminated = [workflow_id for workflow_id, state in statuses(operator, ids).items() if state[1] == "TERMINATED"]
    assert len(terminated) == cancelled["applied"] == cancelled["processed"]
    assert 3 <= cancelled["applied"] < 60
    # and an ended batch cannot be cancelled again, nor resumed
    assert operator.call("POST", f"/batches/{batch['batchId']}/cancel")[1]["error"] == "BATCH_STATE"
    assert operator.call("POST", f"/batches/{batch['batchId']}/resume")[0] == 409


def test_a_batch_that_failed_resumes_where_it_stopped_and_counts_each_workflow_once(platform, applicant, operator):
    # Given a batch terminating 60 drafts at 10 a second (50 a step), whose second step fails for good
    ids = start_applications(applicant, "fail", 60)
    batch = start_batch(operator, **TERMINATE_DRAFTS, ratePerSecond=10)
    batch_when(operator, batch["batchId"], lambda batch: batch["phase"] == "APPLYING")  # its first 50 under way
    platform.faults.add(Fault(kind="permanent", count=1, activity="RunBatch"))
    failed = batch_when(operator, batch["batchId"])
    assert failed["state"] == "FAILED", failed
    assert failed["error"]["Error"] == "PermanentActivityError"
    # (the fault hits the step after the one running when it was added: the second or, under load, the first
    # applying step, whose invocation may not have begun yet)
    assert failed["applied"] in (0, 50), failed

    # When an operator resumes it
    code, resumed = operator.call("POST", f"/batches/{batch['batchId']}/resume")
    assert (code, resumed["state"], len(resumed["executions"])) == (202, "RUNNING", 2)
    done = batch_when(operator, batch["batchId"])

    # Then it completes: every draft terminated once, each counted once
    assert (done["state"], done["applied"], done["skipped"], done["failed"]) == ("COMPLETED", 60, 0, 0)
    assert set(statuses(operator, ids).values()) == {("DRAFT", "TERMINATED")}
    assert all(len(batch_events(operator, workflow_id, batch["batchId"])) == 1 for workflow_id in ids[::6])


def test_workflows_changed_by_a_step_that_stopped_before_its_records_are_counted_once_not_changed_again(
    platform, applicant, operator
):
    # Given 5 drafts, and a batch whose first step is held back for a second
    ids = start_applications(applicant, "crash", 5)
    platform.faults.add(Fault(kind="delay", count=1, activity="RunBatch", seconds=1.0))
    batch = start_batch(operator, **TERMINATE_DRAFTS)
    # ... meanwhile an earlier run of it (as if) claimed one and terminated it, then stopped before recording it
    batches = dependencies.batches()
    assert batches.records.claim(batch["batchId"], ids[2]) is None
    olga = Identity(user_id="olga", groups=frozenset({"operators"}))
    dependencies.interventions().terminate(olga, ids[2], "batch test", batchId=batch["batchId"])
    # ... and (as if) the first run of its applying step (its second step, number 1) acted on another and
    # recorded it, then stopped before writing the step's counts
    assert batches.records.claim(batch["batchId"], ids[3]) is None
    dependencies.interventions().terminate(olga, ids[3], "batch test", batchId=batch["batchId"])
    batches.records.record(batch["batchId"], ids[3], Outcome.APPLIED, step=1, at="2026-01-01T00:00:00Z")

    # When the batch runs
    done = batch_when(operator, batch["batchId"])

    # Then those workflows are counted as applied (not skipped as already closed), once, each with one batch event
    assert (done["state"], done["applied"], done["skipped"], done["failed"]) == ("COMPLETED", 5, 0, 0), done
    assert [len(batch_events(operator, workflow_id, batch["batchId"])) for workflow_id in ids] == [1] * 5


@pytest.mark.parametrize(
    ("request_body", "status", "field"),
    [
        ({"action": "terminate", "filter": {}, "reason": "x"}, 422, "filter"),
        (
            {"action": "signal", "filter": {"status": "DRAFT"}, "signal": "submitApplication", "reason": "x"},
            422,
            "filter.type",
        ),
        ({"action": "signal", "filter": {"type": "accu-application"}, "reason": "x"}, 422, "signal"),
        (
            {"action": "terminate", "filter": {"type": "project", "status": "ISSUED"}, "reason": "x"},
            422,
            "filter.status",
        ),
        ({"action": "terminate", "filter": {"type": "project"}, "signal": "x", "reason": "x"}, 422, "signal"),
        (
            {"action": "terminate", "filter": {"type": "project"}, "reason": "x", "ratePerSecond": 101},
            422,
            "ratePerSecond",
        ),
        ({"action": "reset", "filter": {"type": "project"}, "reason": "x"}, 422, "action"),
        ({"action": "terminate", "filter": {"type": "project"}}, 422, "reason"),
        (
            {"action": "signal", "filter": {"type": "accu-application"}, "signal": "nope", "reason": "x"},
            404,
            "signalName",
        ),
    ],
)
def test_a_bad_batch_request_is_refused_with_the_field_and_starts_nothing(
    platform, operator, request_body, status, field
):
    code, body = operator.call("POST", "/batches", request_body)
    assert code == status, body
    assert any(field in str(detail.get("field", "")) for detail in body["details"]), body
    assert operator.call("GET", "/batches")[1]["items"] == []


def test_only_operators_run_batches_and_an_unknown_batch_is_404(platform, reviewer, operator):
    assert reviewer.call("POST", "/batches", {**TERMINATE_DRAFTS, "reason": "x"})[0] == 403
    assert reviewer.call("GET", "/batches")[0] == 403
    code, body = operator.call("GET", "/batches/batch-20260101T000000-abcdef")
    assert (code, body["error"]) == (404, "BATCH_NOT_FOUND")
