"""Operations (DESIGN §6, issue 4): escalation, retry and interventions by operators; the hourly
recovery of failed workflows; Step Functions status-change events; the health check; the daily
report."""

from __future__ import annotations

import boto3
import pytest

from infra.local.events import route_puts_to
from infra.local.faults import Fault
from tests.support.scenarios import PROJECT_INPUT, application_in, drive

HOUR = 3600
DAY = 24 * HOUR


def history(client, workflow_id: str) -> list[dict]:
    return client.history(workflow_id, limit="100")[1]["items"]


def execution_status(platform, workflow_type: str, name: str) -> str:
    arn = platform.state_machine_arns[workflow_type].replace(":stateMachine:", ":execution:") + f":{name}"
    return str(boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"])


# ----- escalation, retry, interventions ---------------------------------------------------------------


def test_an_operator_escalates_and_each_level_reaches_its_recipients(platform, applicant, operator, reviewer):
    applicant.start("app-esc")
    platform.settle()
    assert reviewer.call("POST", "/workflows/app-esc/escalate", {"reason": "x"})[0] == 403
    assert operator.call("POST", "/workflows/app-esc/escalate", {})[1]["details"][0]["field"] == "reason"

    code, state = operator.call("POST", "/workflows/app-esc/escalate", {"reason": "applicant unreachable"})
    assert (code, state["escalationLevel"], state["status"]) == (200, 1, "DRAFT")
    platform.settle()
    assert len(platform.outbox.to("duty-manager@accu.local")) == 1
    assert platform.outbox.to("head-of-registry@accu.local") == []

    code, state = operator.call("POST", "/workflows/app-esc/escalate", {"reason": "still nothing", "level": 2})
    assert (code, state["escalationLevel"]) == (200, 2)
    platform.settle()
    assert len(platform.outbox.to("duty-manager@accu.local")) == 2
    assert len(platform.outbox.to("head-of-registry@accu.local")) == 1
    last = history(operator, "app-esc")[-1]
    assert (last["type"], last["actor"], last["details"]["reason"], last["details"]["level"]) == (
        "ESCALATED",
        "olga",
        "still nothing",
        2,
    )
    escalated = [e for e in platform.router.events("Workflow Escalated") if e["detail"]["workflowId"] == "app-esc"]
    assert len(escalated) == 2


def test_a_failed_workflow_is_retried_from_its_last_state_not_from_the_start(
    platform, applicant, reviewer, approver, operator
):
    # Given an application that failed while SUBMITTED (its wait could not open)
    application_in("SUBMITTED", "app-retry", applicant, reviewer, approver, platform)
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    operator.call("POST", "/workflows/app-retry/signals/updateMetadata", {"metadata": {"note": "x"}})
    operator.call("POST", "/workflows/app-retry/terminate", {"reason": "stuck"})
    assert operator.call("POST", "/workflows/app-retry/retry", {})[0] == 200
    platform.settle()
    state = applicant.get("app-retry")[1]
    assert (state["executionStatus"], state["status"], state["retryCount"]) == ("FAILED", "SUBMITTED", 1)

    # When an operator retries it
    code, state = operator.call("POST", "/workflows/app-retry/retry", {"reason": "fault fixed"})
    platform.settle()

    # Then it runs again in SUBMITTED, on a new execution, and goes on from there
    assert (code, state["executionStatus"], state["status"], state["retryCount"]) == (200, "RUNNING", "SUBMITTED", 2)
    assert execution_status(platform, "accu-application", "app-retry--retry-2") == "RUNNING"
    retried = history(operator, "app-retry")[-1]
    assert (retried["type"], retried["actor"], retried["details"]["previousExecutionStatus"]) == (
        "RETRIED",
        "olga",
        "FAILED",
    )
    code, state = reviewer.signal("app-retry", "assignReviewer")
    assert (code, state["status"]) == (200, "UNDER_REVIEW")
    # and a running workflow cannot be retried
    code, error = operator.call("POST", "/workflows/app-retry/retry", {})
    assert (code, error["error"]) == (409, "NOT_RETRYABLE")


def test_interventions_are_audited_with_the_operator_and_the_reason(platform, applicant, reviewer, operator):
    applicant.start("app-int")
    platform.settle()
    assert reviewer.call("POST", "/workflows/app-int/interventions", {"action": "escalate", "reason": "r"})[0] == 403
    code, error = operator.call("POST", "/workflows/app-int/interventions", {"action": "signal", "reason": "r"})
    assert (code, error["details"][0]["field"]) == (422, "signal")

    steps = [
        ({"action": "signal", "signal": "submitApplication", "reason": "submitted on paper"}, "SUBMITTED"),
        ({"action": "escalate", "reason": "VIP", "level": 3}, "SUBMITTED"),
        ({"action": "patchMetadata", "reason": "fix typo", "metadata": {"region": "NSW"}}, "SUBMITTED"),
        ({"action": "terminate", "reason": "withdrawn"}, "SUBMITTED"),
        ({"action": "retry", "reason": "withdrawal reversed"}, "SUBMITTED"),
    ]
    for body, status in steps:
        code, state = operator.call("POST", "/workflows/app-int/interventions", body)
        assert code == 200, (body, state)
        assert state.get("status", state.get("workflow", {}).get("status")) == status
        platform.settle()

    events = [e for e in history(operator, "app-int") if e["type"] == "INTERVENTION"]
    assert [(e["details"]["action"], e["details"]["reason"], e["actor"]) for e in events] == [
        (body["action"], body["reason"], "olga") for body, _ in steps
    ]
    state = applicant.get("app-int")[1]
    assert (state["metadata"], state["escalationLevel"], state["executionStatus"]) == ({"region": "NSW"}, 3, "RUNNING")
    assert reviewer.signal("app-int", "assignReviewer")[0] == 200


# ----- recovery ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", [{"schedules": True}], indirect=True)
def test_the_hourly_recovery_retries_transient_document_failures_and_escalates_applications(
    platform, applicant, reviewer, approver, operator
):
    # Given a document whose validation failed transiently (retries exhausted) and an application that
    # failed for good
    import hashlib

    application_in("SUBMITTED", "app-rec", applicant, reviewer, approver, platform)
    key = "uploads/alice/x/title.pdf"
    boto3.client("s3").put_object(Bucket="accu-local-documents", Key=key, Body=b"title")
    platform.faults.add(Fault(count=11, kind="transient", activity="ValidateDocument"))
    applicant.start(
        "doc-rec",
        "document",
        {
            "subjectType": "accu-application",
            "subjectId": "app-rec",
            "kind": "land-title",
            "fileName": "title.pdf",
            "objectKey": key,
            "sha256": hashlib.sha256(b"title").hexdigest(),
            "sizeBytes": 5,
        },
    )
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    operator.call("POST", "/workflows/app-rec/terminate", {"reason": "to fail it"})
    operator.call("POST", "/workflows/app-rec/retry", {})
    platform.advance(10 * 60)
    assert applicant.get("doc-rec")[1]["executionStatus"] == "FAILED"
    assert applicant.get("app-rec")[1]["executionStatus"] == "FAILED"

    # When the hour passes
    platform.advance(HOUR)

    # Then the document was retried from its last state and validated; the application escalated
    document = applicant.get("doc-rec")[1]
    assert (document["executionStatus"], document["status"], document["retryCount"]) == ("RUNNING", "PENDING_REVIEW", 1)
    assert [e["type"] for e in history(applicant, "doc-rec")][-3:] == ["FAILED", "RETRIED", "SIGNAL_APPLIED"]
    application = applicant.get("app-rec")[1]
    assert (application["executionStatus"], application["escalationLevel"]) == ("FAILED", 1)
    escalation = history(applicant, "app-rec")[-1]
    assert escalation["type"] == "ESCALATED" and escalation["details"]["recovery"] == "escalate"
    assert any("app-rec" in mail for mail in platform.outbox.to("duty-manager@accu.local"))

    # And the next hours decide nothing more about them
    decided = len(history(applicant, "app-rec"))
    platform.advance(2 * HOUR)
    assert len(history(applicant, "app-rec")) == decided
    assert applicant.get("app-rec")[1]["escalationLevel"] == 1


@pytest.mark.parametrize("platform", [{"schedules": True}], indirect=True)
def test_the_hourly_recovery_retries_transient_calendar_failures_and_escalates_projects(platform, applicant, operator):
    from datetime import timedelta

    from functions.domain.time import iso

    # Given a calendar whose wait failed transiently (every retry of its activity) and a project that
    # failed for good
    platform.faults.add(Fault(count=11, kind="transient", activity="OpenWait", workflow_type="calendar"))
    due = iso(platform.clock.now() + timedelta(days=30))
    calendar = {"title": "Audit", "subjectType": "project", "subjectId": "proj-rec", "dueAt": due}
    assert operator.start("cal-rec", "calendar", calendar)[0] == 201
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="project"))
    applicant.start("proj-rec", "project", PROJECT_INPUT)
    platform.advance(10 * 60)
    assert operator.get("cal-rec")[1]["executionStatus"] == "FAILED"
    assert operator.get("proj-rec")[1]["executionStatus"] == "FAILED"

    # When the hour passes
    platform.advance(HOUR)

    # Then the calendar was retried from its last state and waits again; the project was escalated
    calendar_state = operator.get("cal-rec")[1]
    assert (calendar_state["executionStatus"], calendar_state["status"], calendar_state["retryCount"]) == (
        "RUNNING",
        "SCHEDULED",
        1,
    )
    assert history(operator, "cal-rec")[-1]["type"] == "RETRIED"
    project = operator.get("proj-rec")[1]
    assert (project["executionStatus"], project["escalationLevel"]) == ("FAILED", 1)
    escalation = history(operator, "proj-rec")[-1]
    assert escalation["type"] == "ESCALATED" and escalation["details"]["recovery"] == "escalate"


@pytest.mark.parametrize(
    "platform", [{"schedules": True, "operations_settings": {"RECOVERY_MAX_RETRIES": "2"}}], indirect=True
)
def test_retries_stop_at_the_maximum_and_then_escalate(platform, applicant):
    # Given a document whose stored file never appears (a transient error every time)
    applicant.start(
        "doc-cap",
        "document",
        {
            "subjectType": "project",
            "subjectId": "p",
            "kind": "land-title",
            "fileName": "f.pdf",
            "objectKey": "uploads/none",
            "sha256": "a" * 64,
            "sizeBytes": 1,
        },
    )

    # When hours pass
    platform.advance(4 * HOUR)

    # Then it was retried twice, then escalated
    events = history(applicant, "doc-cap")
    assert [e["type"] for e in events].count("RETRIED") == 2
    assert events[-1]["type"] == "ESCALATED" and "after 2 automatic retries" in events[-1]["details"]["reason"]
    assert applicant.get("doc-cap")[1]["retryCount"] == 2


# ----- status-change events ---------------------------------------------------------------------------


def test_an_execution_stopped_outside_the_platform_terminates_its_workflow(platform, applicant):
    applicant.start("app-aborted")
    platform.settle()
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + ":app-aborted"
    boto3.client("stepfunctions").stop_execution(executionArn=arn, cause="console")
    platform.settle()
    state = applicant.get("app-aborted")[1]
    assert state["executionStatus"] == "TERMINATED"
    assert (
        history(applicant, "app-aborted")[-1]["details"]["reason"] == "the execution was stopped outside the platform"
    )


def test_a_failure_the_state_machine_could_not_record_reaches_the_workflow(platform, applicant):
    # Given an activity failing for good and the failure recorder failing too
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    platform.faults.add(Fault(count=6, kind="permanent", activity="RecordFailure"))

    # When an application starts
    applicant.start("app-uncaught")
    platform.advance(10 * 60)

    # Then the execution's status-change event recorded the failure
    state = applicant.get("app-uncaught")[1]
    assert (state["executionStatus"], state["failure"]["error"]) == ("FAILED", "WorkflowFailed")
    assert execution_status(platform, "accu-application", "app-uncaught") == "FAILED"


# ----- health check -----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", [{"operations_settings": {"HEALTH_RUNNING_THRESHOLD": "3"}}], indirect=True)
def test_the_health_check_alerts_when_a_threshold_is_crossed_and_not_before(platform, applicant, operator):
    applicant.start("app-h1")  # (for the applicant's project-1, which runs too)
    applicant.start("app-h2")
    platform.settle()
    healthy = platform.scheduler.run_now("HealthCheck")
    assert healthy["healthy"] and healthy["running"] == 3 and not platform.outbox.to("operations@accu.local")

    applicant.start("app-h3")
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    applicant.start("app-h4")
    platform.settle()
    report = platform.scheduler.run_now("HealthCheck")
    assert not report["healthy"]
    assert {finding["check"] for finding in report["findings"]} == {"runningWorkflows", "failureRate"}
    assert report["failureRate"] == 0.2  # one failed of five
    mails = [m for m in platform.outbox.to("operations@accu.local") if "[HEALTH]" in m]
    assert len(mails) == 1 and "runningWorkflows" in mails[0]


def test_the_health_check_finds_workflows_stalled_for_a_day(platform, applicant, reviewer, approver):
    # Given an application whose execution was lost silently (its status-change event never came)
    application_in("SUBMITTED", "app-lost", applicant, reviewer, approver, platform)
    route_puts_to(None)
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + ":app-lost"
    boto3.client("stepfunctions").stop_execution(executionArn=arn)
    platform.settle()
    route_puts_to(platform.router)
    # and a signal applied since, which could not move the lost execution on
    assert reviewer.signal("app-lost", "assignReviewer")[0] == 200

    # When a day passes, the health check reports it
    platform.advance(23 * HOUR)
    assert platform.scheduler.run_now("HealthCheck")["stalled"] == []
    platform.advance(2 * HOUR)
    report = platform.scheduler.run_now("HealthCheck")
    assert [w["workflowId"] for w in report["stalled"]] == ["app-lost"]
    assert "stalledWorkflows" in {finding["check"] for finding in report["findings"]}


@pytest.mark.parametrize("platform", [{"operations_settings": {"HEALTH_RUNNING_THRESHOLD": "3"}}], indirect=True)
def test_the_health_view_answers_every_check_against_its_threshold_and_sends_no_alert(platform, applicant, operator):
    def checks() -> dict[str, dict]:
        code, report = operator.call("GET", "/operations/health")
        assert code == 200, report
        assert [check["check"] for check in report["checks"]] == ["failureRate", "runningWorkflows", "stalledWorkflows"]
        assert report["healthy"] == all(check["ok"] for check in report["checks"])
        return {check["check"]: check for check in report["checks"]} | {"report": report}

    # Given three running workflows (two applications and the applicant's project), the running threshold
    applicant.start("app-v1")
    applicant.start("app-v2")
    platform.settle()

    # When an operator reads the health view
    healthy = checks()

    # Then every check is there with its value, its threshold and how they compare, all passing
    assert healthy["report"]["healthy"] and (healthy["report"]["total"], healthy["report"]["running"]) == (3, 3)
    assert {
        name: (c["value"], c["threshold"], c["unit"], c["ok"]) for name, c in healthy.items() if name != "report"
    } == {
        "failureRate": (0.0, 0.1, "ratio", True),
        "runningWorkflows": (3, 3, "count", True),
        "stalledWorkflows": (0, 0, "count", True),
    }
    assert {c["comparison"] for name, c in healthy.items() if name != "report"} == {"≤"}
    assert (
        healthy["stalledWorkflows"]["stalledAfterHours"] == 24 and healthy["failureRate"]["stalledAfterHours"] is None
    )
    assert healthy["runningWorkflows"]["message"] == "3 workflows running (at most 3)"

    # Given one more running and one failed (its first wait could not open)
    applicant.start("app-v3")
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    applicant.start("app-v4")
    platform.settle()

    # When the operator reads it again
    failing = checks()

    # Then the two crossed thresholds are flagged with what the alert would say, the other still passes
    assert not failing["report"]["healthy"]
    assert (failing["failureRate"]["value"], failing["failureRate"]["ok"]) == (0.2, False)
    assert failing["failureRate"]["message"] == "20.0% of workflows failed (over 10%)"
    assert (failing["runningWorkflows"]["value"], failing["runningWorkflows"]["ok"]) == (4, False)
    assert failing["stalledWorkflows"]["ok"] and failing["report"]["stalled"] == []
    assert (failing["report"]["failed"], failing["report"]["failureRate"]) == (1, 0.2)
    # and no health alert was sent: reading is not checking
    platform.settle()
    assert [m for m in platform.outbox.to("operations@accu.local") if "[HEALTH]" in m] == []

    # and the scheduled check, the same computation, finds the same and alerts
    scheduled = platform.scheduler.run_now("HealthCheck")
    assert {finding["check"] for finding in scheduled["findings"]} == {"failureRate", "runningWorkflows"}
    assert scheduled["findings"] == [
        {key: failing[name][key] for key in ("check", "message", "value", "threshold")}
        for name in ("failureRate", "runningWorkflows")
    ]
    assert len([m for m in platform.outbox.to("operations@accu.local") if "[HEALTH]" in m]) == 1


def test_the_health_view_lists_stalled_workflows_and_is_for_operators_only(
    platform, applicant, reviewer, approver, operator
):
    # Given an application whose execution was lost silently a day ago
    application_in("SUBMITTED", "app-lost-v", applicant, reviewer, approver, platform)
    route_puts_to(None)
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + ":app-lost-v"
    boto3.client("stepfunctions").stop_execution(executionArn=arn)
    platform.settle()
    route_puts_to(platform.router)
    assert reviewer.signal("app-lost-v", "assignReviewer")[0] == 200
    platform.advance(25 * HOUR)

    # When an operator reads the health view
    code, report = operator.call("GET", "/operations/health")

    # Then the stalled check fails and names it, with where it stopped
    assert code == 200 and not report["healthy"]
    stalled = next(check for check in report["checks"] if check["check"] == "stalledWorkflows")
    assert (stalled["value"], stalled["threshold"], stalled["ok"]) == (1, 0, False)
    assert "app-lost-v" in stalled["message"]
    assert [(w["workflowId"], w["type"], w["status"]) for w in report["stalled"]] == [
        ("app-lost-v", "accu-application", "UNDER_REVIEW")
    ]
    platform.settle()
    assert [m for m in platform.outbox.to("operations@accu.local") if "[HEALTH]" in m] == []

    # and the other groups may not read it, nor anyone without an identity
    for client in (applicant, reviewer, approver):
        code, error = client.call("GET", "/operations/health")
        assert (code, error["error"]) == (403, "FORBIDDEN"), client.actor
    code, error = platform.api("GET", "/operations/health")
    assert (code, error["error"]) == (401, "UNAUTHENTICATED")

    # and the OpenAPI document declares every status the route answers
    document = platform.api("GET", "/openapi.json")[1]
    assert set(document["paths"]["/operations/health"]["get"]["responses"]) == {"200", "401", "403", "422"}


# ----- daily report -----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", [{"schedules": True}], indirect=True)
def test_the_daily_report_is_stored_readable_and_emailed_to_administrators(
    platform, applicant, reviewer, approver, operator
):
    # Given a day with applications started, one rejected, one terminated, one failed
    today = platform.clock.now().date().isoformat()
    application_in("UNDER_REVIEW", "app-d1", applicant, reviewer, approver, platform)
    drive(platform, "app-d1", [(approver, "rejectApplication", {"reason": "no"})])
    applicant.start("app-d2")
    platform.settle()
    operator.call("POST", "/workflows/app-d2/terminate", {"reason": "dup"})
    platform.settle()  # so that the fault below meets app-d3's activity, not app-d2's
    platform.faults.add(Fault(count=1, kind="permanent", activity="OpenWait", workflow_type="accu-application"))
    applicant.start("app-d3")
    applicant.start("app-d4")
    platform.settle()

    # When the next day starts
    seconds_to_tomorrow = (24 - platform.clock.now().hour) * HOUR + 10 * 60
    platform.advance(seconds_to_tomorrow)

    # Then the report of the day was made, stored and e-mailed
    code, report = operator.call("GET", f"/reports/daily/{today}")
    assert code == 200
    assert report["date"] == today
    assert report["totals"]["started"] == 5  # the four applications and the project they are for
    assert (report["totals"]["completed"], report["totals"]["terminated"], report["totals"]["failed"]) == (1, 1, 1)
    assert report["failureRate"] == round(1 / 3, 4)
    assert report["byType"]["accu-application"]["started"] == 4
    assert report["byType"]["accu-application"]["running"] == 1
    assert any("Failure rate" in advice for advice in report["recommendations"])
    mails = platform.outbox.to("administrators@accu.local")
    assert len(mails) == 1 and today in mails[0]
    assert applicant.call("GET", f"/reports/daily/{today}")[0] == 403
    code, error = operator.call("GET", "/reports/daily/1999-01-01")
    assert (code, error["error"]) == (404, "REPORT_NOT_FOUND")
