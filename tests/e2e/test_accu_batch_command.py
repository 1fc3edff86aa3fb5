"""``accu batch`` as an operator runs it against the local platform's REST API: the drafts started before
a date terminated, first as a dry run (nothing changes), then for real (exact counts, each audited); the
JSON answers consumed as another program would; refusals with the API's code and exit status 1."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from tests.e2e.conftest import LocalHttp
from tests.e2e.test_accu_workflow_command import ALICE, accu

APPLICATION = '{"projectId": "batch-cli-project", "unitsRequested": 10, "methodologyId": "ERF-soil-carbon"}'
PROJECT = '{"name": "Batch soil", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}'


def start_drafts(local: LocalHttp, prefix: str, count: int) -> list[str]:
    """Drafts started over the API (starting with the command is accu workflow's test), for the applicant's
    project (started here by the first test on this platform)."""
    project = {"type": "project", "workflowId": "batch-cli-project", "input": json.loads(PROJECT)}
    assert local("POST", "/workflows", project, user="alice", groups="applicants")[0] in (201, 409)
    ids = [f"{prefix}-{index:03d}" for index in range(count)]
    for workflow_id in ids:
        body = {"type": "accu-application", "workflowId": workflow_id, "input": json.loads(APPLICATION)}
        code, answer = local("POST", "/workflows", body, user="alice", groups="applicants")
        assert code == 201, answer
    return ids


def test_an_operator_terminates_the_drafts_started_before_a_date_first_as_a_dry_run(local: LocalHttp):
    # Given 30 drafts started before a date and 5 after it (other tests' workflows on this platform are older)
    began = datetime.now(UTC).isoformat()
    old = start_drafts(local, "batch-old", 30)
    time.sleep(0.01)
    cut = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    new = start_drafts(local, "batch-new", 5)
    wanted = ("--type", "accu-application", "--status", "DRAFT", "--started-after", began)
    wanted += ("--started-before", cut, "--reason", "stale drafts")

    # When an operator asks for a dry run
    code, dry, _ = accu(local, "batch", "start", "terminate", *wanted, "--dry-run")

    # Then it counts them and changes nothing
    assert code == 0 and (dry["state"], dry["matched"], dry["processed"]) == ("COMPLETED", 30, 0), dry
    assert set(dry["sample"]) <= set(old)
    assert accu(local, "workflow", "show", old[0])[1]["executionStatus"] == "RUNNING"

    # When the operator runs it for real (--yes: no terminal to confirm on), followed to its end
    code, done, _ = accu(local, "batch", "start", "terminate", *wanted, "--yes", "--rate", "50")

    # Then exactly those 30 are terminated, counted, and each history names the batch and the reason
    assert code == 0 and (done["state"], done["applied"], done["skipped"], done["failed"]) == ("COMPLETED", 30, 0, 0)
    for workflow_id in old[::10]:
        history = accu(local, "workflow", "history", workflow_id)[1]["items"]
        assert [(event["type"], event["details"].get("batchId"), event["details"].get("reason")) for event in history][
            -1
        ] == ("TERMINATED", done["batchId"], "stale drafts")
    assert {accu(local, "workflow", "show", workflow_id)[1]["executionStatus"] for workflow_id in new} == {"RUNNING"}

    # And the batch is listed and shown, as JSON for programs and as a table for people
    code, listed, _ = accu(local, "batch", "list", "--all")
    assert code == 0 and done["batchId"] in [item["batchId"] for item in listed["items"]]
    code, text, _ = accu(local, "batch", "status", done["batchId"], output="table")
    assert code == 0 and "COMPLETED" in text and "stale drafts" in text


def test_a_batch_is_cancelled_and_refusals_exit_1_with_the_api_code(local: LocalHttp):
    # Given drafts and a slow batch escalating them, started without waiting
    began = datetime.now(UTC).isoformat()
    start_drafts(local, "batch-cancel", 20)
    code, started, _ = accu(
        local,
        "batch",
        "start",
        "escalate",
        "--type",
        "accu-application",
        "--status",
        "DRAFT",
        "--started-after",
        began,
        "--reason",
        "look",
        "--rate",
        "2",
        "--yes",
        "--no-wait",
    )
    assert code == 0 and started["state"] == "RUNNING"

    # When the operator cancels it
    code, cancelled, _ = accu(local, "batch", "cancel", started["batchId"])

    # Then it ends CANCELLED, having escalated fewer than it matched
    assert code == 0 and cancelled["state"] == "CANCELLED" and cancelled["processed"] < 20, cancelled

    # And what the API refuses exits 1 with its code: a cancelled batch resumed, an unknown one, a non-operator
    code, refused, error = accu(local, "batch", "resume", started["batchId"])
    assert (code, refused["status"], refused["error"]) == (1, 409, "BATCH_STATE") and "BATCH_STATE" in error
    code, refused, _ = accu(local, "batch", "status", "batch-20200101T000000-000000")
    assert (code, refused["error"]) == (1, "BATCH_NOT_FOUND")
    code, refused, _ = accu(local, "batch", "list", *ALICE)
    assert (code, refused["status"]) == (1, 403)
    # and a request the API finds invalid (a signal batch without the signal's name) exits 1 too
    code, refused, _ = accu(local, "batch", "start", "signal", "--type", "project", "--reason", "x", "--yes")
    assert (code, refused["error"], refused["details"][0]["field"]) == (1, "VALIDATION_ERROR", "signal")
