"""Domain events out (one per transition, from the table's stream) and signals in
(``SignalRequested`` events through the same signal logic as the API)."""

from __future__ import annotations

import json

import boto3
import pytest

from infra.local.platform import EVENT_BUS
from tests.support.scenarios import application_in


def request_signal(workflow_id: str, signal: str, payload: dict | None = None, actor: str | None = "crm-sync") -> str:
    detail = {"workflowId": workflow_id, "signal": signal, "payload": payload or {}}
    if actor:
        detail["actor"] = actor
    response = boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS,
                "Source": "acme.crm",
                "DetailType": "SignalRequested",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    return str(response["Entries"][0]["EventId"])


def test_every_transition_publishes_one_event_with_its_details(platform, applicant, reviewer, approver):
    # Given an application driven to UNDER_REVIEW
    application_in("UNDER_REVIEW", "app-ev", applicant, reviewer, approver, platform)

    # Then one event per history event was published, in order, with the transition's facts
    published = [e for e in platform.router.events() if e["detail"].get("workflowId") == "app-ev"]
    history = applicant.history("app-ev")[1]["items"]
    assert [e["detail-type"] for e in published] == [
        "Workflow Started",
        "Workflow Signal Applied",
        "Workflow Signal Applied",
    ]
    assert len(published) == len(history)
    for event, entry in zip(published, history, strict=True):
        assert event["source"] == "accu.workflows" and event["event-bus-name"] == EVENT_BUS
        detail = event["detail"]
        assert (detail["type"], detail["fromStatus"], detail["toStatus"], detail["actor"], detail["version"]) == (
            "accu-application",
            entry["fromStatus"],
            entry["toStatus"],
            entry["actor"],
            entry["sequence"],
        )
        assert detail["time"] == entry["time"] and detail["eventType"] == entry["type"]


def test_a_refused_signal_publishes_nothing_of_the_workflow(platform, applicant):
    applicant.start("app-quiet")
    platform.settle()
    before = len(platform.router.events())
    # an applicant may not issue a certificate (approvers do): refused for the sender, before the status
    assert applicant.signal("app-quiet", "issueCertificate")[0] == 403
    platform.settle()
    assert len(platform.router.events()) == before


def test_a_signal_requested_on_the_bus_is_applied_like_the_api_and_says_so(platform, applicant, reviewer, approver):
    # Given a submitted application
    application_in("SUBMITTED", "app-bus", applicant, reviewer, approver, platform)

    # When automation asks for a reviewer assignment on the bus
    request_signal("app-bus", "assignReviewer", {"reviewerId": "rita"})
    platform.settle()

    # Then it was applied, recorded with the automation's identity, and the outcome was published
    state = applicant.get("app-bus")[1]
    assert (state["status"], state["reviewerId"]) == ("UNDER_REVIEW", "rita")
    assert applicant.history("app-bus")[1]["items"][-1]["actor"] == "crm-sync"
    (outcome,) = platform.router.events("Signal Applied")
    assert outcome["detail"]["workflow"]["status"] == "UNDER_REVIEW"


def test_a_signal_requested_that_cannot_apply_is_rejected_visibly(platform, applicant, reviewer, approver):
    application_in("SUBMITTED", "app-bus2", applicant, reviewer, approver, platform)

    request_signal("app-bus2", "approveApplication")
    request_signal("app-bus2", "assignReviewer", {"reviewerId": 42})
    request_signal("nobody", "assignReviewer")
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS,
                "Source": "acme.crm",
                "DetailType": "SignalRequested",
                "Detail": json.dumps({"x": 1}),
            }
        ]
    )
    platform.settle()

    rejected = [e["detail"] for e in platform.router.events("Signal Rejected")]
    assert [(r["error"], r["status"]) for r in rejected] == [
        ("SIGNAL_NOT_ALLOWED", 409),
        ("VALIDATION_ERROR", 422),
        ("WORKFLOW_NOT_FOUND", 404),
        ("VALIDATION_ERROR", 422),
    ]
    assert rejected[0]["awaiting"] == ["assignReviewer", "validateMethodology", "updateMetadata"]
    assert applicant.get("app-bus2")[1]["status"] == "SUBMITTED"


def test_a_redelivered_signal_event_is_applied_once(platform, applicant, reviewer, approver):
    # Given a SignalRequested event delivered, then delivered again (EventBridge delivers at least once)
    application_in("SUBMITTED", "app-twice", applicant, reviewer, approver, platform)
    request_signal("app-twice", "assignReviewer")
    platform.settle()
    (delivered,) = [e for e in platform.router.events() if e["detail-type"] == "SignalRequested"]
    again = platform.lambdas.invoke("SignalIntake", delivered)

    # Then the second delivery answers the first outcome and nothing is applied twice
    assert again["detailType"] == "Signal Applied"
    history = applicant.history("app-twice")[1]["items"]
    assert [e["signal"] for e in history].count("assignReviewer") == 1


def test_every_kind_of_history_event_is_published_with_its_detail_type(
    platform, applicant, reviewer, approver, operator
):
    from functions.domain.events import DETAIL_TYPES
    from functions.domain.executions import CONTINUE_AFTER_SECONDS
    from functions.domain.workflow import EventType
    from infra.local.faults import Fault

    # Given workflows that go through every kind of history event the platform writes today
    application_in("APPROVED", "app-kinds", applicant, reviewer, approver, platform)  # started, signals
    platform.advance(3 * 86400 + 60)  # the certificate issued by the system: a timeout
    assert operator.call("POST", "/workflows/app-kinds/escalate", {"reason": "look"})[0] == 200
    applicant.start("app-fails")
    platform.settle()
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    applicant.signal("app-fails", "submitApplication")
    platform.settle()  # the next wait fails for good: FAILED
    assert operator.call("POST", "/workflows/app-fails/retry", {"reason": "fixed"})[0] == 200
    platform.settle()
    patch = {"action": "patchMetadata", "reason": "typo", "metadata": {"note": "x"}}
    assert operator.call("POST", "/workflows/app-fails/interventions", patch)[0] == 200
    applicant.start("app-stops")
    platform.settle()
    assert operator.call("POST", "/workflows/app-stops/terminate", {"reason": "duplicate"})[0] == 200
    platform.advance(CONTINUE_AFTER_SECONDS + 86400)  # the running ones hand over to new executions
    platform.settle()

    # Then each kind was published once at least, with its own detail-type and eventType
    published = {(event["detail-type"], event["detail"].get("eventType")) for event in platform.router.events()}
    produced_today = [kind for kind in EventType if kind != EventType.MIGRATED]  # migrations: the migration tool
    for kind in produced_today:
        assert (DETAIL_TYPES[kind], kind.value) in published, kind


@pytest.mark.parametrize("platform", [{"signal_apply_wait_seconds": 0.2}], indirect=True)
def test_a_signal_requested_while_no_wait_is_open_is_kept_says_so_and_applies_when_the_wait_opens(platform, applicant):
    from infra.local.faults import Fault

    # Given a draft whose wait cannot open yet (its activity fails transiently; the retry backs off)
    platform.faults.add(Fault(count=1, kind="transient", activity="OpenWait", workflow_type="accu-application"))
    applicant.start("app-bus-kept")
    platform.settle()

    # When automation asks for the submission on the bus
    request_signal("app-bus-kept", "submitApplication", actor="portal")
    platform.settle()

    # Then the outcome published is "kept", naming the request and the workflow as it is, nothing applied yet
    (kept,) = platform.router.events("Signal Kept")
    assert kept["detail"]["request"]["workflowId"] == "app-bus-kept"
    assert kept["detail"]["request"]["signal"] == "submitApplication"
    assert kept["detail"]["workflow"]["status"] == "DRAFT"
    assert not platform.router.events("Signal Applied")
    assert applicant.get("app-bus-kept")[1]["status"] == "DRAFT"
    # and once the wait opens, the kept signal applies, recorded with the automation's identity
    platform.advance(120)
    assert applicant.get("app-bus-kept")[1]["status"] == "SUBMITTED"
    assert applicant.history("app-bus-kept")[1]["items"][-1]["actor"] == "portal"
