"""The accu-application lifecycle on the real state machine (moto's engine): every transition,
rejection, and each timeout by skipping time."""

from __future__ import annotations

import boto3

from infra.local.platform import LocalPlatform
from tests.support.actors import APPROVER, Client
from tests.support.scenarios import active_project, application_in

DAY = 24 * 3600


def execution_status(platform: LocalPlatform, workflow_id: str) -> str:
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + f":{workflow_id}"
    return str(boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"])


def history_of(client: Client, workflow_id: str) -> list[dict]:
    code, page = client.history(workflow_id)
    assert code == 200
    return page["items"]


def test_an_application_goes_from_draft_to_issued_with_one_history_event_per_transition(
    platform, applicant, reviewer, approver
):
    # Given an active project with units, and a draft application on it
    active_project(platform, applicant, reviewer, approver, "project-1", units=500)
    code, state = applicant.start("app-happy")
    assert code == 201
    assert state["status"] == "DRAFT" and state["executionStatus"] == "RUNNING" and state["version"] == 1
    assert state["awaiting"] == ["submitApplication", "updateMetadata"]
    assert state["input"]["applicantId"] == "alice"

    # When it is submitted, reviewed, validated, approved and issued
    platform.settle()
    code, state = applicant.signal("app-happy", "submitApplication")
    assert (code, state["status"]) == (200, "SUBMITTED")
    assert state["submissionDate"] and state["deadlineDate"] > state["submissionDate"]
    platform.settle()
    code, state = reviewer.signal("app-happy", "assignReviewer")
    assert (code, state["status"], state["reviewerId"]) == (200, "UNDER_REVIEW", "rita")
    code, state = reviewer.signal("app-happy", "validateMethodology")
    assert (code, state["status"], state["methodologyValidatedBy"]) == (200, "UNDER_REVIEW", "rita")
    assert state["methodologyValidatedAt"] and state["schemaVersion"] == 2
    platform.settle()
    code, state = approver.signal("app-happy", "approveApplication", {"approverId": "chief-approver"})
    assert (code, state["status"], state["approverId"]) == (200, "APPROVED", "chief-approver")
    platform.settle()
    code, state = approver.signal("app-happy", "issueCertificate", {"certificateId": "CERT-77"})
    platform.settle()

    # Then it is issued and closed, and the execution succeeded
    assert (code, state["status"], state["certificateId"]) == (200, "ISSUED", "CERT-77")
    assert state["executionStatus"] == "COMPLETED" and state["closeTime"] and state["awaiting"] == []
    assert state["version"] == 6 and state["historyLength"] == 6
    events = history_of(applicant, "app-happy")
    assert [(e["type"], e["fromStatus"], e["toStatus"], e["signal"]) for e in events] == [
        ("STARTED", None, "DRAFT", None),
        ("SIGNAL_APPLIED", "DRAFT", "SUBMITTED", "submitApplication"),
        ("SIGNAL_APPLIED", "SUBMITTED", "UNDER_REVIEW", "assignReviewer"),
        ("SIGNAL_APPLIED", "UNDER_REVIEW", "UNDER_REVIEW", "validateMethodology"),
        ("SIGNAL_APPLIED", "UNDER_REVIEW", "APPROVED", "approveApplication"),
        ("SIGNAL_APPLIED", "APPROVED", "ISSUED", "issueCertificate"),
    ]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["actor"] for e in events] == ["alice", "alice", "rita", "rita", "paul", "paul"]
    assert execution_status(platform, "app-happy") == "SUCCEEDED"


def test_a_rejected_application_closes_with_its_reason(platform, applicant, reviewer, approver):
    # Given an application under review
    application_in("UNDER_REVIEW", "app-reject", applicant, reviewer, approver, platform)

    # When an approver rejects it without a reason, then with one
    code, error = approver.signal("app-reject", "rejectApplication", {"reason": "   "})
    assert code == 422 and error["details"][0]["field"] == "reason"
    code, state = approver.signal("app-reject", "rejectApplication", {"reason": "insufficient evidence"})
    platform.settle()

    # Then it is REJECTED for good
    assert (code, state["status"], state["rejectionReason"]) == (200, "REJECTED", "insufficient evidence")
    assert state["executionStatus"] == "COMPLETED"
    assert execution_status(platform, "app-reject") == "SUCCEEDED"
    code, error = approver.signal("app-reject", "approveApplication")
    assert code == 409 and error["error"] == "WORKFLOW_CLOSED" and error["awaiting"] == []


def test_approval_needs_a_validated_methodology(platform, applicant, reviewer, approver):
    # Given an application under review on an active project, whose methodology is not validated
    active_project(platform, applicant, reviewer, approver, "project-1")
    application_in("UNDER_REVIEW", "app-rules", applicant, reviewer, approver, platform)

    # When an approver approves it
    code, error = approver.signal("app-rules", "approveApplication")

    # Then the unmet rule is named and nothing changed
    assert code == 409 and error["error"] == "BUSINESS_RULE_VIOLATION"
    assert [detail["rule"] for detail in error["details"]] == ["methodologyValidated"]
    assert applicant.get("app-rules")[1]["status"] == "UNDER_REVIEW"
    assert len(history_of(applicant, "app-rules")) == 3


def test_fourteen_days_without_a_reviewer_escalate_and_the_application_keeps_waiting(
    platform, applicant, reviewer, approver
):
    # Given a submitted application
    application_in("SUBMITTED", "app-late", applicant, reviewer, approver, platform)

    # When 13 days pass, nothing happens; when the 14th passes, it escalates
    platform.advance(13 * DAY)
    assert applicant.get("app-late")[1]["escalationLevel"] == 0
    platform.advance(1 * DAY + 60)
    code, state = applicant.get("app-late")

    # Then it escalated once, alerted operations by e-mail, and still waits for a reviewer
    assert (state["status"], state["escalationLevel"], state["executionStatus"]) == ("SUBMITTED", 1, "RUNNING")
    escalation = history_of(applicant, "app-late")[-1]
    assert (escalation["type"], escalation["actor"], escalation["details"]["timeout"]) == (
        "ESCALATED",
        "system",
        "reviewerAssignment",
    )
    mails = platform.outbox.to("operations@accu.local")
    assert len(mails) == 1 and "ESCALATED" in mails[0] and "app-late" in mails[0]
    assert len(platform.outbox.to("duty-manager@accu.local")) == 1  # level-1 escalation recipients
    assert platform.outbox.to("head-of-registry@accu.local") == []  # level 2 and above only

    # And another 14 days escalate again; a reviewer can still take it
    platform.advance(14 * DAY)
    assert applicant.get("app-late")[1]["escalationLevel"] == 2
    code, state = reviewer.signal("app-late", "assignReviewer")
    assert (code, state["status"]) == (200, "UNDER_REVIEW")


def test_thirty_days_under_review_escalate(platform, applicant, reviewer, approver):
    # Given an application under review
    application_in("UNDER_REVIEW", "app-slow", applicant, reviewer, approver, platform)

    # When 29 days pass nothing happens; at 30 it escalates
    platform.advance(29 * DAY)
    assert applicant.get("app-slow")[1]["escalationLevel"] == 0
    platform.advance(DAY + 60)

    # Then it is escalated and still under review
    state = applicant.get("app-slow")[1]
    assert (state["status"], state["escalationLevel"]) == ("UNDER_REVIEW", 1)
    assert history_of(applicant, "app-slow")[-1]["details"]["timeout"] == "reviewDecision"


def test_an_approved_application_not_issued_in_three_days_is_issued_by_the_system(
    platform, applicant, reviewer, approver
):
    # Given an approved application
    application_in("APPROVED", "app-auto", applicant, reviewer, approver, platform)

    # When three days pass
    platform.advance(3 * DAY + 60)

    # Then the system issued it
    state = applicant.get("app-auto")[1]
    assert (state["status"], state["executionStatus"]) == ("ISSUED", "COMPLETED")
    assert state["certificateId"] == "ACCU-app-auto"
    last = history_of(applicant, "app-auto")[-1]
    assert (last["type"], last["actor"], last["signal"], last["toStatus"]) == (
        "TIMEOUT",
        "system",
        "issueCertificate",
        "ISSUED",
    )
    assert execution_status(platform, "app-auto") == "SUCCEEDED"


def test_a_signal_that_changes_no_status_leaves_the_timer_running(platform, applicant, reviewer, approver):
    # Given a submitted application, ten days in
    application_in("SUBMITTED", "app-meta", applicant, reviewer, approver, platform)
    platform.advance(10 * DAY)

    # When its metadata changes (keys merged, null removes)
    applicant.signal("app-meta", "updateMetadata", {"metadata": {"a": 1, "b": {"c": 2}}})
    code, state = applicant.signal("app-meta", "updateMetadata", {"metadata": {"a": None, "b": {"d": 3}}})
    assert (code, state["metadata"]) == (200, {"b": {"c": 2, "d": 3}})

    # Then the 14-day timer still fires on day 14, not day 24
    platform.advance(4 * DAY + 60)
    assert applicant.get("app-meta")[1]["escalationLevel"] == 1


def test_terminating_closes_the_workflow_and_aborts_its_execution(platform, applicant, operator, approver):
    # Given a draft application
    applicant.start("app-stop")
    platform.settle()

    # When an approver tries to terminate it, then an operator does
    assert Client(platform.api, APPROVER).call("POST", "/workflows/app-stop/terminate", {"reason": "x"})[0] == 403
    code, state = operator.call("POST", "/workflows/app-stop/terminate", {"reason": "duplicate application"})
    platform.settle()

    # Then it is TERMINATED, its execution aborted, and signals are refused
    assert (code, state["executionStatus"], state["status"]) == (200, "TERMINATED", "DRAFT")
    assert execution_status(platform, "app-stop") == "ABORTED"
    assert history_of(applicant, "app-stop")[-1]["type"] == "TERMINATED"
    code, error = applicant.signal("app-stop", "submitApplication")
    assert (code, error["error"]) == (409, "WORKFLOW_CLOSED")


def test_methodology_validation_is_a_reviewers_act_that_metadata_cannot_fake(
    platform, applicant, reviewer, approver, operator
):
    # Given an application under review on an active project
    active_project(platform, applicant, reviewer, approver, "project-1")
    application_in("UNDER_REVIEW", "app-method", applicant, reviewer, approver, platform)
    before = history_of(applicant, "app-method")

    # When the applicant, then an operator, try to set the flag through metadata, and the applicant
    # sends the reviewer's signal
    by_applicant = applicant.signal("app-method", "updateMetadata", {"metadata": {"methodologyValidated": True}})
    by_operator = operator.call(
        "POST",
        "/workflows/app-method/interventions",
        {"action": "patchMetadata", "reason": "r", "metadata": {"methodologyValidated": True}},
    )
    not_theirs = applicant.signal("app-method", "validateMethodology")

    # Then each is refused, naming the key or the right, and nothing changed
    for code, error in (by_applicant, by_operator):
        assert (code, error["details"][0]["field"]) == (422, "metadata.methodologyValidated")
    assert not_theirs[0] == 403
    assert history_of(applicant, "app-method") == before
    assert approver.signal("app-method", "approveApplication")[0] == 409

    # And when a reviewer validates it, who and when are in the state, and approval goes through
    code, state = reviewer.signal("app-method", "validateMethodology")
    assert (code, state["methodologyValidatedBy"], state["status"]) == (200, "rita", "UNDER_REVIEW")
    assert state["methodologyValidatedAt"] and state["schemaVersion"] == 2
    platform.settle()
    assert approver.signal("app-method", "approveApplication")[1]["status"] == "APPROVED"
