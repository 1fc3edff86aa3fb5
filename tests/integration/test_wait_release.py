"""No lost execution: a transition and the wait it closes are committed together, and a wait whose
completion (SendTaskSuccess) failed after the commit is completed again by the reconciliation that
runs every minute, exactly once in effect, with one history event for the transition."""

from __future__ import annotations

import boto3
import pytest

from functions.dal.dynamodb import STALLED_PREFIX, STATE_SK, WorkflowStore, counter_shard, workflow_pk
from infra.local.faults import Fault
from infra.local.platform import WORKFLOWS_TABLE
from tests.support.scenarios import application_in

SCHEDULED = [{"schedules": True}]


def stored(workflow_id: str):
    return WorkflowStore(WORKFLOWS_TABLE, boto3.client("dynamodb")).get(workflow_id)


def execution_status(platform, workflow_id: str) -> str:
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + f":{workflow_id}"
    return str(boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"])


def signals_in_history(client, workflow_id: str) -> list[str | None]:
    return [event["signal"] for event in client.history(workflow_id)[1]["items"]]


def release_runs(platform) -> list[dict]:
    return [run.result for run in platform.scheduler.runs if run.schedule == "ReleaseWaits"]


@pytest.mark.parametrize("platform", SCHEDULED, indirect=True)
def test_a_completion_that_fails_after_its_commit_is_completed_again_within_a_minute(
    platform, applicant, reviewer, approver
):
    # Given a submitted application, and the next completion of a wait fails after its commit
    application_in("SUBMITTED", "app-unreleased", applicant, reviewer, approver, platform)
    platform.faults.add(Fault(kind="transient", count=1, activity="CompleteWait"))

    # When the reviewer is assigned
    code, state = reviewer.signal("app-unreleased", "assignReviewer", {})

    # Then the transition stands and is answered as usual, while its execution is still at the old wait
    assert (code, state["status"]) == (200, "UNDER_REVIEW")
    platform.settle()
    item = stored("app-unreleased")
    assert item.unreleasedToken is not None and item.waitToken is None
    assert platform.faults.pending() == []

    # And within a minute the reconciliation completes it: the execution opens the UNDER_REVIEW wait
    platform.advance(60)
    assert release_runs(platform)[-1]["released"] == ["app-unreleased"]
    item = stored("app-unreleased")
    assert (item.waitStatus, item.unreleasedToken) == ("UNDER_REVIEW", None)
    # with one history event for the transition, and the lifecycle goes on
    assert signals_in_history(applicant, "app-unreleased") == [None, "submitApplication", "assignReviewer"]
    assert reviewer.signal("app-unreleased", "validateMethodology")[0] == 200
    assert approver.signal("app-unreleased", "rejectApplication", {"reason": "no baseline"})[1]["status"] == "REJECTED"


@pytest.mark.parametrize("platform", SCHEDULED, indirect=True)
def test_a_completion_refused_again_is_retried_at_each_run_until_it_is_taken(platform, applicant, reviewer, approver):
    # Given the original completion and the next two reconciliations' are refused
    application_in("SUBMITTED", "app-refused", applicant, reviewer, approver, platform)
    platform.faults.add(Fault(kind="transient", count=3, activity="CompleteWait"))
    assert reviewer.signal("app-refused", "assignReviewer")[0] == 200

    # When two minutes pass, then a third
    platform.advance(120)
    failures = [run["failed"] for run in release_runs(platform)]
    still_open = stored("app-refused").unreleasedToken
    platform.advance(60)

    # Then each run tried, the first two were refused, and the third completed the wait
    assert [len(failed) for failed in failures[-2:]] == [1, 1] and still_open is not None
    assert release_runs(platform)[-1]["released"] == ["app-refused"]
    assert stored("app-refused").waitStatus == "UNDER_REVIEW"
    assert signals_in_history(applicant, "app-refused") == [None, "submitApplication", "assignReviewer"]


@pytest.mark.parametrize("platform", SCHEDULED, indirect=True)
def test_a_closing_transition_whose_completion_failed_ends_its_execution_on_reconciliation(
    platform, applicant, reviewer, approver
):
    # Given an approved application, and the completion of its last wait fails
    application_in("APPROVED", "app-last", applicant, reviewer, approver, platform)
    platform.faults.add(Fault(kind="transient", count=1, activity="CompleteWait", workflow_type="accu-application"))

    # When the certificate is issued
    code, state = approver.signal("app-last", "issueCertificate", {})
    platform.settle()

    # Then the workflow is complete while its execution still waits
    assert (code, state["status"], state["executionStatus"]) == (200, "ISSUED", "COMPLETED")
    assert execution_status(platform, "app-last") == "RUNNING"

    # And the reconciliation ends the execution, and forgets the wait
    platform.advance(60)
    assert execution_status(platform, "app-last") == "SUCCEEDED"
    assert stored("app-last").unreleasedToken is None
    assert WorkflowStore(WORKFLOWS_TABLE, boto3.client("dynamodb")).unreleased("9999", 10) == []


@pytest.mark.parametrize("platform", SCHEDULED, indirect=True)
def test_a_wait_completed_meanwhile_is_not_completed_twice(platform, applicant, reviewer, approver):
    # Given an application whose SUBMITTED wait was completed (the execution waits in UNDER_REVIEW),
    # but whose record still names that wait (the process died before it could tell)
    application_in("SUBMITTED", "app-twice", applicant, reviewer, approver, platform)
    old_token = stored("app-twice").waitToken
    assert reviewer.signal("app-twice", "assignReviewer")[0] == 200
    platform.settle()
    boto3.client("dynamodb").update_item(
        TableName=WORKFLOWS_TABLE,
        Key={"pk": {"S": workflow_pk("app-twice")}, "sk": {"S": STATE_SK}},
        UpdateExpression="SET unreleasedToken = :token, gsiStalled = :shard",
        ExpressionAttributeValues={
            ":token": {"S": old_token},
            ":shard": {"S": f"{STALLED_PREFIX}{counter_shard('app-twice')}"},
        },
    )

    # When the reconciliation runs
    platform.advance(60)

    # Then Step Functions answered that the wait is closed: nothing moved, the record forgot it
    assert release_runs(platform)[-1]["alreadyClosed"] == ["app-twice"], release_runs(platform)
    item = stored("app-twice")
    assert (item.status, item.waitStatus, item.unreleasedToken) == ("UNDER_REVIEW", "UNDER_REVIEW", None)
    assert signals_in_history(applicant, "app-twice") == [None, "submitApplication", "assignReviewer"]
    assert execution_status(platform, "app-twice") == "RUNNING"
