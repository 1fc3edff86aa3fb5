"""A failing activity: transient errors are retried with back-off; a permanent one fails the
workflow, recorded on it (history, executionStatus, e-mail) before the execution fails."""

from __future__ import annotations

import boto3

from infra.local.faults import Fault


def execution_of(platform, workflow_id: str) -> dict:
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + f":{workflow_id}"
    return boto3.client("stepfunctions").describe_execution(executionArn=arn)


def test_transient_activity_errors_are_retried_until_the_activity_succeeds(platform, applicant):
    # Given the wait-opening activity will fail transiently three times
    platform.faults.add(Fault(count=3, kind="transient", activity="OpenWait", workflow_type="accu-application"))

    # When an application starts and the back-off passes
    applicant.start("app-flaky")
    platform.advance(5 * 60)

    # Then the retries succeeded: the wait is open and the workflow healthy
    assert platform.faults.pending() == []
    code, state = applicant.signal("app-flaky", "submitApplication")
    assert (code, state["status"], state["executionStatus"]) == (200, "SUBMITTED", "RUNNING")
    assert execution_of(platform, "app-flaky")["status"] == "RUNNING"


def test_a_permanent_activity_error_fails_the_workflow_and_says_so(platform, applicant, operator):
    # Given the wait-opening activity fails for good
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))

    # When an application starts
    applicant.start("app-broken")
    platform.settle()

    # Then the workflow is FAILED with the error, in its history and in an e-mail to operations
    state = applicant.get("app-broken")[1]
    assert state["executionStatus"] == "FAILED" and state["closeTime"]
    assert state["failure"]["error"] == "PermanentActivityError" and state["failure"]["status"] == "DRAFT"
    last = applicant.history("app-broken")[1]["items"][-1]
    assert (last["type"], last["details"]["error"]) == ("FAILED", "PermanentActivityError")
    assert any("FAILED" in mail.read_text() for mail in platform.outbox.messages())
    execution = execution_of(platform, "app-broken")
    assert (execution["status"], execution["error"]) == ("FAILED", "WorkflowFailed")
    # And the metrics count it
    # (the applicant's project, which the application is for, runs on)
    metrics = operator.call("GET", "/metrics", query={"type": "accu-application"})[1]
    assert metrics["byExecutionStatus"]["FAILED"] == 1 and metrics["failureRate"] == 1.0


def test_transient_errors_that_never_stop_exhaust_the_retries_and_fail_the_workflow(platform, applicant):
    # Given the activity fails transiently more often than the Retry allows
    platform.faults.add(Fault(count=50, kind="transient", activity="OpenWait", workflow_type="accu-application"))

    # When an application starts and all the back-off passes
    applicant.start("app-exhausted")
    platform.advance(30 * 60)

    # Then it failed with the transient error after eleven attempts (one plus ten retries)
    state = applicant.get("app-exhausted")[1]
    assert (state["executionStatus"], state["failure"]["error"]) == ("FAILED", "TransientActivityError")
    assert platform.faults.pending()[0]["count"] == 50 - 11
