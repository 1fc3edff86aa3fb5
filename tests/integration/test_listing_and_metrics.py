"""Listing and metrics read indexes and counters: filters, newest first, pages, totals."""

from __future__ import annotations

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
