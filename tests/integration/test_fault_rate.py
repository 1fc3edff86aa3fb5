"""Faults by rate: with 30 % of every activity's invocations failing transiently, wait completions
included, many lifecycles still reach their end: nothing is lost, nothing is applied twice."""

from __future__ import annotations

import pytest

from infra.local.faults import Fault
from tests.support.actors import APPLICATION_INPUT
from tests.support.scenarios import active_project, to_issuance

LIFECYCLES = 200
FAULTY = [{"schedules": True, "signal_apply_wait_seconds": 0.05}]


@pytest.mark.parametrize("platform", FAULTY, indirect=True)
def test_with_thirty_percent_transient_faults_every_lifecycle_ends_with_each_signal_applied_once(
    platform, applicant, reviewer, approver, operator
):
    # Given an active project, and from now on 30 % of all activity invocations and wait completions fail
    active_project(platform, applicant, reviewer, approver, units=LIFECYCLES * 10)
    platform.faults.add(Fault(kind="transient", rate=0.3, seed=2026))
    workflow_ids = [f"faulty-{number:03d}" for number in range(LIFECYCLES)]
    steps = to_issuance(applicant, reviewer, approver)

    # When 200 applications are started and driven to issuance, a step for all of them at a time,
    # with ten minutes for retries and reconciliation between steps
    answers = []
    for workflow_id in workflow_ids:
        answers.append(applicant.start(workflow_id, input={**APPLICATION_INPUT, "unitsRequested": 10})[0])
    for sender, signal, payload in steps:
        platform.advance(600)
        answers += [sender.signal(workflow_id, signal, payload)[0] for workflow_id in workflow_ids]
    # The reconciliation's own completions fail 30 % of the time too, and locally it runs a few times
    # per skip (not each minute of it): what it completes late may need its activity retried after.
    # More spans, as time would go on, until every lifecycle has ended (a few at most).
    for _ in range(8):
        platform.advance(600)
        if all(operator.get(workflow_id)[1]["status"] == "ISSUED" for workflow_id in workflow_ids):
            break

    # Then every request was accepted: applied (200, 201) or kept for a wait that was late (202)
    assert set(answers) <= {200, 201, 202} and 202 in answers
    # and the faults did hit, completions included, and the reconciliation completed waits
    assert platform.faults.pending()[0]["hits"] > LIFECYCLES
    released = [run.result["released"] for run in platform.scheduler.runs if run.schedule == "ReleaseWaits"]
    assert sum(len(ids) for ids in released) > 0
    # And every application is ISSUED, with each signal applied exactly once, in order
    expected = [None, *(signal for _, signal, _ in steps)]
    for workflow_id in workflow_ids:
        state = operator.get(workflow_id)[1]
        assert (state["status"], state["executionStatus"]) == ("ISSUED", "COMPLETED"), workflow_id
        events = operator.history(workflow_id)[1]["items"]
        assert [event["signal"] for event in events] == expected, workflow_id
        assert [event["sequence"] for event in events] == list(range(1, len(expected) + 1))
    # and the project gave exactly the units issued
    assert operator.get("project-1")[1]["availableUnits"] == 0
    metrics = operator.call("GET", "/metrics", query={"type": "accu-application"})[1]
    assert metrics["byExecutionStatus"]["FAILED"] == 0
