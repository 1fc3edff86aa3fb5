"""Each error code of the API (DESIGN §4, §5): clear, naming the field, and changing nothing."""

from __future__ import annotations

import pytest

from tests.support.actors import OTHER_APPLICANT, Client
from tests.support.scenarios import application_in


def state_and_history(client: Client, workflow_id: str) -> tuple[dict, list]:
    return client.get(workflow_id)[1], client.history(workflow_id)[1]["items"]


def test_an_unknown_workflow_is_404(platform, operator):
    for method, path, body in [
        ("GET", "/workflows/nope", None),
        ("GET", "/workflows/nope/history", None),
        ("POST", "/workflows/nope/signals/submitApplication", {}),
        ("POST", "/workflows/nope/terminate", {"reason": "x"}),
    ]:
        code, error = operator.call(method, path, body)
        assert (code, error["error"]) == (404, "WORKFLOW_NOT_FOUND"), path
        assert error["details"][0] == {"field": "workflowId", "value": "nope"}


def test_an_unknown_signal_is_404_and_lists_the_known_ones(platform, applicant):
    applicant.start("app-e1")
    code, error = applicant.signal("app-e1", "launchRocket")
    assert (code, error["error"]) == (404, "UNKNOWN_SIGNAL")
    assert "submitApplication" in error["details"][0]["known"]


def test_a_signal_not_valid_in_the_state_is_409_with_what_is_awaited(platform, applicant, reviewer, approver):
    # Given a draft
    applicant.start("app-e2")
    before = state_and_history(applicant, "app-e2")
    # When a reviewer assigns themselves
    code, error = reviewer.signal("app-e2", "assignReviewer")
    # Then 409 names the state and what it awaits, and nothing changed
    assert (code, error["error"]) == (409, "SIGNAL_NOT_ALLOWED")
    assert error["awaiting"] == ["submitApplication", "updateMetadata"]
    assert error["details"][0]["status"] == "DRAFT"
    assert state_and_history(applicant, "app-e2") == before


def test_an_invalid_payload_is_422_naming_each_field(platform, applicant, reviewer, approver):
    application_in("SUBMITTED", "app-e3", applicant, reviewer, approver, platform)
    before = state_and_history(applicant, "app-e3")
    code, error = reviewer.signal("app-e3", "assignReviewer", {"reviewerId": 42, "colour": "blue"})
    assert (code, error["error"]) == (422, "VALIDATION_ERROR")
    assert {detail["field"] for detail in error["details"]} == {"reviewerId", "colour"}
    code, error = reviewer.call("POST", "/workflows/app-e3/signals/assignReviewer", "not json")
    assert (code, error["error"]) == (422, "VALIDATION_ERROR")
    code, error = reviewer.call("POST", "/workflows/app-e3/signals/assignReviewer", [1, 2])
    assert (code, error["details"][0]["field"]) == (422, "(body)")
    assert state_and_history(applicant, "app-e3") == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"type": "accu-application", "input": {"projectId": "p", "unitsRequested": 0, "methodologyId": "m"}},
            "input.unitsRequested",
        ),
        ({"type": "accu-application", "input": {"unitsRequested": 5, "methodologyId": "m"}}, "input.projectId"),
        ({"type": "spaceship", "input": {}}, "type"),
        ({"type": "accu-application", "workflowId": "has spaces", "input": {}}, "workflowId"),
        ({"input": {}}, "type"),
    ],
)
def test_an_invalid_start_is_422_naming_the_field(platform, applicant, operator, body, field):
    code, error = applicant.call("POST", "/workflows", body)
    assert (code, error["error"]) == (422, "VALIDATION_ERROR")
    assert field in {detail["field"] for detail in error["details"]}
    assert operator.call("GET", "/workflows")[1]["items"] == []


def test_a_second_start_with_the_same_id_is_409(platform, applicant):
    assert applicant.start("app-dup")[0] == 201
    code, error = applicant.start("app-dup")
    assert (code, error["error"]) == (409, "WORKFLOW_ALREADY_STARTED")
    assert applicant.history("app-dup")[1]["items"][-1]["type"] == "STARTED"


def test_no_identity_is_401_and_health_needs_none(platform):
    assert platform.api("GET", "/health") == (200, {"status": "ok"})
    for method, path in [
        ("GET", "/workflows"),
        ("POST", "/workflows"),
        ("GET", "/workflows/x"),
        ("GET", "/metrics"),
        ("POST", "/workflows/x/signals/submitApplication"),
    ]:
        code, error = platform.api(method, path, {})
        assert (code, error["error"]) == (401, "UNAUTHENTICATED"), path


def test_a_group_without_the_right_is_403(platform, applicant, reviewer, approver):
    application_in("SUBMITTED", "app-e4", applicant, reviewer, approver, platform)
    before = state_and_history(applicant, "app-e4")
    # an applicant may not assign a reviewer, a reviewer may not start, nobody but operators reads metrics
    assert applicant.signal("app-e4", "assignReviewer")[0] == 403
    code, error = reviewer.start("app-e5")
    assert (code, error["error"]) == (403, "FORBIDDEN")
    assert approver.call("GET", "/metrics")[0] == 403
    assert state_and_history(applicant, "app-e4") == before


def test_applicants_see_only_their_own_workflows(platform, applicant, reviewer):
    applicant.start("app-mine")
    stranger = Client(platform.api, OTHER_APPLICANT)
    assert stranger.get("app-mine")[0] == 404
    assert stranger.signal("app-mine", "submitApplication")[0] == 404
    assert stranger.call("GET", "/workflows")[1]["items"] == []
    assert reviewer.get("app-mine")[0] == 200


def test_a_malformed_page_token_is_422(platform, operator):
    code, error = operator.call("GET", "/workflows", query={"nextToken": "%%%"})
    assert (code, error["error"]) == (422, "VALIDATION_ERROR")
    code, error = operator.call("GET", "/workflows", query={"limit": "1000"})
    assert (code, error["details"][0]["field"]) == (422, "limit")


def test_the_openapi_document_describes_the_api(platform):
    code, document = platform.api("GET", "/openapi.json")
    assert code == 200 and document["openapi"].startswith("3.")
    assert {
        "/workflows",
        "/workflows/{workflowId}",
        "/workflows/{workflowId}/history",
        "/workflows/{workflowId}/signals/{signalName}",
        "/workflows/{workflowId}/terminate",
        "/metrics",
        "/health",
    } <= set(document["paths"])


def test_an_id_of_a_closed_workflow_is_not_reused(platform, applicant, operator):
    # Given a workflow that was terminated (closed)
    assert applicant.start("app-closed")[0] == 201
    platform.settle()
    assert operator.call("POST", "/workflows/app-closed/terminate", {"reason": "mistake"})[0] == 200
    # When its id is started again, then it is 409 naming the id and that it is closed, and nothing changes
    code, error = applicant.start("app-closed")
    assert (code, error["error"]) == (409, "WORKFLOW_ALREADY_STARTED")
    assert "closed" in error["message"]
    assert error["details"] == [{"field": "workflowId", "value": "app-closed", "executionStatus": "TERMINATED"}]
    history = applicant.history("app-closed")[1]["items"]
    assert [event["type"] for event in history] == ["STARTED", "TERMINATED"]
