"""What a new user does with ``make local``, over HTTP with the identity headers of DESIGN §5."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.http import wait_for

APPLICANT = {"user": "alice", "groups": "applicants"}
REVIEWER = {"user": "rita", "groups": "reviewers"}
APPROVER = {"user": "paul", "groups": "approvers"}
OPERATOR = {"user": "olga", "groups": "operators"}
INPUT = {"projectId": "project-1", "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}
DAY = 24 * 3600


def eventually_status(local, workflow_id: str, status: str) -> dict:
    return wait_for(
        lambda: local("GET", f"/workflows/{workflow_id}", **OPERATOR)[1], lambda state: state["status"] == status, 10
    )


@pytest.fixture(autouse=True)
def the_applicants_project(local):
    """The applicant's project-1, which the applications here are for (applicants apply only for a
    project of their own); the first test makes it ACTIVE."""
    input = {"name": "Riverina soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}
    code, _ = local("POST", "/workflows", {"type": "project", "workflowId": "project-1", "input": input}, **APPLICANT)
    assert code in (201, 409)


def active_project(local, project_id: str, units: int) -> None:
    """A project ACTIVE with ``units`` available: registered, assessed, approved, one accepted report."""
    input = {"name": "Riverina soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}
    code, _ = local("POST", "/workflows", {"type": "project", "workflowId": project_id, "input": input}, **APPLICANT)
    assert code == 201 or local("GET", f"/workflows/{project_id}", **APPLICANT)[1]["status"] == "DRAFT"
    report = {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": units}
    for actor, signal, payload, expected in [
        (APPLICANT, "submitRegistration", {}, "REGISTRATION_SUBMITTED"),
        (REVIEWER, "assignAssessor", {}, "UNDER_ASSESSMENT"),
        (APPROVER, "approveRegistration", {}, "ACTIVE"),
        (APPLICANT, "submitOffsetsReport", report, "REPORT_UNDER_REVIEW"),
        (APPROVER, "acceptReport", {}, "ACTIVE"),
    ]:
        code, state = local("POST", f"/workflows/{project_id}/signals/{signal}", payload, **actor)
        assert code in (200, 202), state
        assert eventually_status(local, project_id, expected)["status"] == expected


def test_an_application_is_driven_from_draft_to_issued_over_http(local):
    # Given an active project with units, and a new application on it
    active_project(local, "project-1", 500)
    code, state = local(
        "POST", "/workflows", {"type": "accu-application", "workflowId": "e2e-happy", "input": INPUT}, **APPLICANT
    )
    assert (code, state["status"]) == (201, "DRAFT")

    # When each party sends its signal
    steps = [
        (APPLICANT, "submitApplication", {}, "SUBMITTED"),
        (REVIEWER, "assignReviewer", {}, "UNDER_REVIEW"),
        (REVIEWER, "validateMethodology", {}, "UNDER_REVIEW"),
        (APPROVER, "approveApplication", {}, "APPROVED"),
        (APPROVER, "issueCertificate", {}, "ISSUED"),
    ]
    for actor, signal, payload, expected in steps:
        code, state = local("POST", f"/workflows/e2e-happy/signals/{signal}", payload, **actor)
        if code == 202:  # kept between two waits: applied when the next wait opens
            state = eventually_status(local, "e2e-happy", expected)
        else:
            assert code == 200, state
        assert state["status"] == expected

    # Then it is issued and its history has one event per transition
    assert state["executionStatus"] == "COMPLETED"
    code, page = local("GET", "/workflows/e2e-happy/history", **APPLICANT)
    assert [event["type"] for event in page["items"]] == ["STARTED"] + ["SIGNAL_APPLIED"] * 5
    assert [event["toStatus"] for event in page["items"]] == [
        "DRAFT",
        "SUBMITTED",
        "UNDER_REVIEW",
        "UNDER_REVIEW",
        "APPROVED",
        "ISSUED",
    ]


def test_errors_over_http(local):
    local("POST", "/workflows", {"type": "accu-application", "workflowId": "e2e-errors", "input": INPUT}, **APPLICANT)
    eventually_status(local, "e2e-errors", "DRAFT")
    code, body = local("POST", "/workflows/e2e-errors/signals/approveApplication", {}, **APPROVER)
    assert (code, body["error"], body["awaiting"]) == (
        409,
        "SIGNAL_NOT_ALLOWED",
        ["submitApplication", "updateMetadata"],
    )
    code, body = local("POST", "/workflows/e2e-errors/signals/updateMetadata", {"metadata": 3}, **APPLICANT)
    assert (code, body["details"][0]["field"]) == (422, "metadata")
    assert local("GET", "/workflows/nobody", **OPERATOR)[0] == 404
    assert local("GET", "/workflows/e2e-errors")[0] == 401
    assert local("POST", "/workflows/e2e-errors/signals/submitApplication", {}, **REVIEWER)[0] == 403
    assert local("GET", "/openapi.json")[0] == 200


def test_twenty_concurrent_identical_signals_over_http_make_one_transition(local):
    local("POST", "/workflows", {"type": "accu-application", "workflowId": "e2e-race", "input": INPUT}, **APPLICANT)
    local("POST", "/workflows/e2e-race/signals/submitApplication", {}, **APPLICANT)
    eventually_status(local, "e2e-race", "SUBMITTED")

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(
            pool.map(
                lambda _: local("POST", "/workflows/e2e-race/signals/assignReviewer", {}, **REVIEWER)[0], range(20)
            )
        )

    assert sorted(codes) == [200] + [409] * 19
    history = local("GET", "/workflows/e2e-race/history", **OPERATOR)[1]["items"]
    assert [event["signal"] for event in history].count("assignReviewer") == 1


def test_a_fourteen_day_time_skip_shows_the_escalation_and_its_email(local):
    local("POST", "/workflows", {"type": "accu-application", "workflowId": "e2e-late", "input": INPUT}, **APPLICANT)
    local("POST", "/workflows/e2e-late/signals/submitApplication", {}, **APPLICANT)
    eventually_status(local, "e2e-late", "SUBMITTED")
    # (no need to wait for the SUBMITTED wait and its timer: skipping time first lets the engine settle)
    before = local("GET", "/local/clock")[1]["now"]

    code, clock = local("POST", "/local/clock/advance", {"seconds": 14 * DAY + 60})

    assert code == 200 and clock["now"] > before
    state = local("GET", "/workflows/e2e-late", **APPLICANT)[1]
    assert (state["status"], state["escalationLevel"]) == ("SUBMITTED", 1)
    assert local("GET", "/workflows/e2e-late/history", **APPLICANT)[1]["items"][-1]["type"] == "ESCALATED"
    mails = [path.read_text() for path in local.outbox.glob("*.eml")]
    assert any("e2e-late" in mail and "ESCALATED" in mail for mail in mails)
    assert local("POST", "/local/clock/advance", {"seconds": -5})[0] == 422


def test_the_emulated_aws_endpoint_answers_like_aws(local):
    # A user inspects the tables with any AWS client pointed at the local endpoint.
    request = urllib.request.Request(
        local.aws_endpoint + "/",
        data=b"{}",
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/ap-southeast-2/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=local",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        tables = json.loads(response.read())["TableNames"]
    assert "accu-local-workflows" in tables


def test_a_signal_requested_through_the_emulated_aws_endpoint_is_applied(local):
    # Given a submitted application
    local("POST", "/workflows", {"type": "accu-application", "workflowId": "e2e-bus", "input": INPUT}, **APPLICANT)
    local("POST", "/workflows/e2e-bus/signals/submitApplication", {}, **APPLICANT)
    eventually_status(local, "e2e-bus", "SUBMITTED")

    # When automation puts a SignalRequested event with any AWS client (as `aws events put-events` would)
    entry = {
        "EventBusName": "accu-local-workflows",
        "Source": "acme.crm",
        "DetailType": "SignalRequested",
        "Detail": json.dumps({"workflowId": "e2e-bus", "signal": "assignReviewer", "actor": "crm-sync"}),
    }
    request = urllib.request.Request(
        local.aws_endpoint + "/",
        data=json.dumps({"Entries": [entry]}).encode(),
        method="POST",
        headers={
            "X-Amz-Target": "AWSEvents.PutEvents",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/ap-southeast-2/events/aws4_request, "
            "SignedHeaders=host, Signature=local",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["FailedEntryCount"] == 0

    # Then the local runtime routed it to the signal intake, which applied it
    state = eventually_status(local, "e2e-bus", "UNDER_REVIEW")
    assert state["reviewerId"] == "crm-sync"
    outcomes = local("GET", "/local/events", query={"detailType": "Signal Applied"})[1]["items"]
    assert any(o["detail"]["request"]["workflowId"] == "e2e-bus" for o in outcomes)
