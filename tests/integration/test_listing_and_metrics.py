"""Listing and metrics read indexes and counters: filters, newest first, pages, totals."""

from __future__ import annotations

from tests.support.actors import OTHER_APPLICANT, PROJECT_INPUT, Client
from tests.support.scenarios import application_in

DAY = 24 * 3600


def start_several(platform, applicant, count: int, prefix: str = "app-list") -> list[str]:
    ids = []
    for index in range(count):
        workflow_id = f"{prefix}-{index}"
        assert applicant.start(workflow_id)[0] == 201
        ids.append(workflow_id)
        platform.advance(60)  # distinct start times
    return ids


def test_workflows_list_newest_first_in_pages(platform, applicant, operator):
    # Given five applications started a minute apart
    ids = start_several(platform, applicant, 5)

    # When an operator pages through them two at a time
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "2", "type": "accu-application", **({"nextToken": token} if token else {})}
        code, page = operator.call("GET", "/workflows", query=query)
        assert code == 200 and len(page["items"]) <= 2
        seen += [item["workflowId"] for item in page["items"]]
        pages += 1
        token = page["nextToken"]
        if not token:
            break

    # Then every workflow comes once, newest first
    assert seen == list(reversed(ids)) and pages == 3


def test_workflows_filter_by_status_execution_status_and_start_time(platform, applicant, reviewer, approver, operator):
    # Given applications in different states, started at different times
    application_in("SUBMITTED", "app-f1", applicant, reviewer, approver, platform)
    platform.advance(DAY)
    middle = platform.clock.now()
    application_in("UNDER_REVIEW", "app-f2", applicant, reviewer, approver, platform)
    applicant.start("app-f3")
    operator.call("POST", "/workflows/app-f3/terminate", {"reason": "test"})

    def ids(**query: str) -> list[str]:
        # (applications only: the applicant's project they are for is a workflow too)
        code, page = operator.call("GET", "/workflows", query={"type": "accu-application", **query})
        assert code == 200, page
        return [item["workflowId"] for item in page["items"]]

    # Then each filter selects what it names
    assert ids(status="SUBMITTED") == ["app-f1"]
    assert ids(type="accu-application", status="UNDER_REVIEW") == ["app-f2"]
    assert ids(executionStatus="TERMINATED") == ["app-f3"]
    assert ids(status="DRAFT", executionStatus="RUNNING") == []
    assert ids(executionStatus="RUNNING") == ["app-f2", "app-f1"]
    assert ids(startedAfter=middle.isoformat()) == ["app-f3", "app-f2"]
    assert ids(startedBefore=middle.isoformat()) == ["app-f1"]
    assert ids(type="accu-application") == ["app-f3", "app-f2", "app-f1"]
    # and an unknown type is a clear error
    assert operator.call("GET", "/workflows", query={"type": "rocket"})[0] == 422


def test_metrics_count_by_type_and_status_with_failure_rate_and_average_time(
    platform, applicant, reviewer, approver, operator
):
    # Given one issued application (3 days after its start), one rejected, one running, one terminated
    application_in("APPROVED", "app-m1", applicant, reviewer, approver, platform)
    platform.advance(3 * DAY + 60)  # issued by the system: closes after three days
    application_in("UNDER_REVIEW", "app-m2", applicant, reviewer, approver, platform)
    approver.signal("app-m2", "rejectApplication", {"reason": "no"})
    applicant.start("app-m3")
    applicant.start("app-m4")
    operator.call("POST", "/workflows/app-m4/terminate", {"reason": "test"})
    platform.settle()

    # When an operator reads the metrics
    code, metrics = operator.call("GET", "/metrics", query={"type": "accu-application"})

    # Then the counters add up
    assert code == 200
    assert metrics["total"] == 4
    assert metrics["byExecutionStatus"] == {"RUNNING": 1, "COMPLETED": 2, "FAILED": 0, "TERMINATED": 1, "TIMED_OUT": 0}
    assert metrics["byType"]["accu-application"]["byStatus"] == {"ISSUED": 1, "REJECTED": 1, "DRAFT": 2}
    assert metrics["failureRate"] == 0.0
    # app-m1 ran three days; the others closed at once
    assert 3 * DAY / 3 <= metrics["averageExecutionSeconds"] <= (3 * DAY + 120) / 3 + 1


def test_the_escalated_filter_lists_the_escalated_running_workflows_newest_first(
    platform, applicant, reviewer, approver, operator
):
    # Given three submitted applications and a draft, started a minute apart after the applicant's project
    assert applicant.start("project-1", "project", PROJECT_INPUT)[0] == 201
    platform.advance(60)
    for workflow_id, status in [("app-e1", "SUBMITTED"), ("app-e2", "DRAFT"), ("app-e3", "SUBMITTED")]:
        application_in(status, workflow_id, applicant, reviewer, approver, platform)
        platform.advance(60)
    application_in("SUBMITTED", "app-e4", applicant, reviewer, approver, platform)
    # and fourteen days without a reviewer (the submitted ones escalate; a draft has no timer), and the
    # project escalated by an operator
    platform.advance(14 * DAY + 3600)
    assert operator.call("POST", "/workflows/project-1/escalate", {"reason": "registration stuck"})[0] == 200
    platform.settle()
    assert [applicant.get(w)[1]["escalationLevel"] for w in ("app-e1", "app-e2", "app-e3", "app-e4")] == [1, 0, 1, 1]

    def escalated(client=operator, **query: str) -> list[str]:
        code, page = client.call("GET", "/workflows", query={"escalated": "true", **query})
        assert code == 200, page
        assert all(item["escalationLevel"] > 0 and item["executionStatus"] == "RUNNING" for item in page["items"])
        return [item["workflowId"] for item in page["items"]]

    # When an operator lists the escalated workflows
    # Then they are exactly the escalated running ones, newest first, of every type
    assert escalated() == ["app-e4", "app-e3", "app-e1", "project-1"]
    # and the type narrows them, as the other filters do
    assert escalated(type="accu-application") == ["app-e4", "app-e3", "app-e1"]
    assert escalated(type="project") == ["project-1"]
    assert escalated(type="document") == []
    assert escalated(status="SUBMITTED") == ["app-e4", "app-e3", "app-e1"]
    assert escalated(status="DRAFT") == ["project-1"]  # not app-e2, a draft never escalated
    assert escalated(type="project", status="DRAFT", executionStatus="RUNNING") == ["project-1"]
    first_start = applicant.get("app-e3")[1]["startTime"]
    assert escalated(startedBefore=first_start) == ["app-e1", "project-1"]
    assert escalated(startedAfter=first_start) == ["app-e4", "app-e3"]
    # and pages follow one another
    code, page = operator.call("GET", "/workflows", query={"escalated": "true", "limit": "3"})
    assert code == 200 and [item["workflowId"] for item in page["items"]] == ["app-e4", "app-e3", "app-e1"]
    assert page["nextToken"]
    assert escalated(limit="3", nextToken=page["nextToken"]) == ["project-1"]
    # and an applicant lists their own escalated workflows only
    assert escalated(applicant, type="accu-application") == ["app-e4", "app-e3", "app-e1"]
    assert escalated(Client(platform.api, OTHER_APPLICANT)) == []

    # When one of them is closed (terminated)
    assert operator.call("POST", "/workflows/app-e3/terminate", {"reason": "withdrawn"})[0] == 200
    platform.settle()

    # Then it leaves the list, and the others stay
    assert escalated() == ["app-e4", "app-e1", "project-1"]
    assert escalated(applicant) == ["app-e4", "app-e1", "project-1"]


def test_the_escalated_filter_refuses_what_it_cannot_serve_naming_the_field(platform, operator):
    # When a listing asks the escalated filter for what its index cannot answer
    # Then it is refused with 422, naming the field and why, as the other filters are
    for query, field in [
        ({"escalated": "false"}, "escalated"),
        ({"escalated": "maybe"}, "escalated"),
        ({"escalated": "true", "executionStatus": "FAILED"}, "executionStatus"),
        ({"escalated": "true", "executionStatus": "TERMINATED", "type": "project"}, "executionStatus"),
    ]:
        code, error = operator.call("GET", "/workflows", query=query)
        assert (code, error["error"]) == (422, "VALIDATION_ERROR"), query
        assert [(detail["field"], detail["in"]) for detail in error["details"]] == [(field, "query")], error
    code, error = operator.call("GET", "/workflows", query={"escalated": "true", "executionStatus": "FAILED"})
    assert "running workflows only" in error["details"][0]["message"]
