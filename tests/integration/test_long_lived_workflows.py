"""Workflows that outlive a Step Functions execution (at most a year, enforced locally as in AWS):
the platform continues each one in a new execution at the same wait, with its timers, before its
execution nears the limit or at a lifecycle boundary (an offsets report's decision)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import boto3

from functions.domain.executions import CONTINUE_AFTER_SECONDS
from infra.local.platform import WORKFLOWS_TABLE
from tests.support.scenarios import active_project, drive

DAY = 24 * 3600


def executions(platform, workflow_type: str, workflow_id: str) -> dict[str, str]:
    """Execution name → status, for the executions of one workflow."""
    client = boto3.client("stepfunctions")
    pages = client.get_paginator("list_executions").paginate(stateMachineArn=platform.state_machine_arns[workflow_type])
    return {
        item["name"]: item["status"]
        for page in pages
        for item in page["executions"]
        if item["name"] == workflow_id or item["name"].startswith(f"{workflow_id}--")
    }


def history(client, workflow_id: str) -> list[dict]:
    return client.history(workflow_id, limit="100")[1]["items"]


def continuations(client, workflow_id: str) -> list[dict]:
    return [event for event in history(client, workflow_id) if event["type"] == "CONTINUED_AS_NEW"]


def test_a_project_active_for_800_days_still_runs_in_a_continued_execution_and_takes_the_next_signal(
    platform, applicant, reviewer, approver, operator
):
    # Given an active project (its accepted report is a boundary: its execution continued at once)
    active_project(platform, applicant, reviewer, approver, "long-project")
    handed_over = continuations(operator, "long-project")
    assert [event["details"]["execution"] for event in handed_over] == ["long-project--cont-1"]
    assert "boundary" in handed_over[0]["details"]["reason"]

    # When 800 days pass with no report (the calendar reminds and the project escalates meanwhile)
    platform.advance(800 * DAY)

    # Then the project is still running, in the execution that continued the last one
    code, state = operator.get("long-project")
    assert (code, state["status"], state["executionStatus"]) == (200, "ACTIVE", "RUNNING")
    handed_over = continuations(operator, "long-project")
    names = [event["details"]["execution"] for event in handed_over]
    assert names == ["long-project--cont-1", "long-project--cont-2", "long-project--cont-3"]
    # each time-based hand-over came as its execution reached its limit, not a day later
    for before, after in itertools.pairwise(handed_over):
        ran = datetime.fromisoformat(after["time"]) - datetime.fromisoformat(before["time"])
        assert abs(ran.total_seconds() - CONTINUE_AFTER_SECONDS) < 60
        assert after["details"]["previousExecution"] == before["details"]["execution"]
    # only the last execution runs; each earlier one ended as it handed over, none timed out
    assert executions(platform, "project", "long-project") == {
        "long-project": "SUCCEEDED",
        **{name: "SUCCEEDED" for name in names[:-1]},
        names[-1]: "RUNNING",
    }
    # and nothing of the project's lifecycle (its calendars included) failed or timed out in 800 days
    by_status = operator.call("GET", "/metrics")[1]["byExecutionStatus"]
    assert by_status["FAILED"] == by_status["TIMED_OUT"] == 0

    # When the next report comes and is accepted, the project moves as it always did
    state = drive(
        platform,
        "long-project",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2026-07-01", "periodEnd": "2027-06-30", "unitsClaimed": 40},
            ),
            (approver, "acceptReport", {}),
        ],
    )
    assert (state["status"], state["availableUnits"], state["reportsAccepted"]) == ("ACTIVE", 1040, 2)
    # and the accepted report, a boundary, handed the project over once more
    assert continuations(operator, "long-project")[-1]["details"]["execution"] == "long-project--cont-4"
    assert executions(platform, "project", "long-project")["long-project--cont-4"] == "RUNNING"


def test_a_continued_execution_keeps_the_timers_of_the_state_it_waits_in(platform, applicant, operator):
    # Given an application submitted 3 days after it started (its execution's year runs from the start)
    applicant.start("long-app")
    platform.advance(3 * DAY)
    submitted = datetime.fromisoformat(platform.advance(0))
    assert applicant.signal("long-app", "submitApplication")[0] == 200
    platform.settle()

    # When it waits for a reviewer for 400 days (escalated every 14 days, continued once meanwhile)
    platform.advance(400 * DAY)

    # Then the execution continued once, and the escalations kept their 14-day rhythm through it
    assert [event["details"]["execution"] for event in continuations(operator, "long-app")] == ["long-app--cont-1"]
    escalations = [
        datetime.fromisoformat(event["time"]) for event in history(operator, "long-app") if event["type"] == "ESCALATED"
    ]
    assert len(escalations) == 400 // 14
    for number, moment in enumerate(escalations, start=1):
        assert abs((moment - submitted).total_seconds() - number * 14 * DAY) < 5, number
    state = operator.get("long-app")[1]
    assert (state["status"], state["executionStatus"], state["escalationLevel"]) == ("SUBMITTED", "RUNNING", 28)


def test_an_execution_whose_name_was_shortened_is_still_found_by_its_status_change(
    platform, applicant, reviewer, approver, operator
):
    # Given a project with the longest id, whose report calendar (a longer, derived id) ran for 350 days
    project_id = "p" * 64
    active_project(platform, applicant, reviewer, approver, project_id)
    calendar_id = f"{project_id}-report-2"
    platform.advance(CONTINUE_AFTER_SECONDS + DAY)
    (handed_over,) = continuations(operator, calendar_id)
    name = handed_over["details"]["execution"]
    # its continued execution's name was shortened to Step Functions' 80 characters: it names no workflow
    assert len(name) <= 80 and not name.startswith(calendar_id)
    assert executions(platform, "calendar", calendar_id) == {calendar_id: "SUCCEEDED"}  # the first one, ended
    assert executions(platform, "calendar", name)[name] == "RUNNING"

    # When Step Functions says that execution failed (through the live alias: a qualified state machine ARN)
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": f"arn:aws:states:ap-southeast-2:123456789012:execution:accu-local-CalendarLifecycle:{name}",
            "stateMachineArn": f"{platform.state_machine_arns['calendar']}:live",
            "name": name,
            "status": "FAILED",
            "error": "States.Runtime",
            "cause": "lost",
            "input": json.dumps({"workflowId": calendar_id, "status": "REMINDED", "continuedAs": None}),
        },
    }
    outcome = platform.lambdas.invoke("ExecutionStatusChanged", event)

    # Then the workflow its input names records the failure
    assert outcome["outcome"] == "failed"
    state = operator.get(calendar_id)[1]
    assert (state["executionStatus"], state["failure"]["error"]) == ("FAILED", "States.Runtime")


def test_an_execution_is_stopped_by_the_arn_step_functions_gave_it(platform, applicant, operator, monkeypatch):
    # Given Step Functions answering StartExecution with an ARN other than the one the name gives
    from functions.dal.stepfunctions import Executions

    start, stop = Executions.start, Executions.stop
    stopped: list[str] = []

    def start_elsewhere(self, workflow_type, name, payload):
        return start(self, workflow_type, name, payload) + ":as-given"

    def stop_and_tell(self, execution_arn, cause):
        stopped.append(execution_arn)
        return stop(self, execution_arn, cause)

    monkeypatch.setattr(Executions, "start", start_elsewhere)
    monkeypatch.setattr(Executions, "stop", stop_and_tell)
    # When a workflow starts, its state keeps that ARN (not one built from the name)
    applicant.start("arn-app")
    item = boto3.client("dynamodb").get_item(
        TableName=WORKFLOWS_TABLE, Key={"pk": {"S": "WF#arn-app"}, "sk": {"S": "STATE"}}
    )["Item"]
    assert item["executionArn"]["S"].endswith(":arn-app:as-given")
    # and terminating it stops that one (here, before its first wait stored the execution's own ARN)
    monkeypatch.setattr(Executions, "start", start)
    assert operator.call("POST", "/workflows/arn-app/terminate", {"reason": "duplicate"})[0] == 200
    assert stopped and stopped[0].endswith(":arn-app:as-given")
