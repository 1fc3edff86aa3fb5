"""Deciding where a running workflow goes on a new definition, and the move's transition."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.domain import workflow as rules
from functions.domain.errors import StatusNotInLifecycle, WorkflowClosed
from functions.domain.identity import Identity
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.migration import decide_move, version_number

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
KNOWN = {"DRAFT", "SUBMITTED", "UNDER_REVIEW", "APPROVED", "REJECTED", "ISSUED"}


@pytest.mark.parametrize(
    ("status", "from_version", "known", "mapping", "outcome", "target"),
    [
        ("SUBMITTED", 1, KNOWN, {}, "move", "SUBMITTED"),
        ("SUBMITTED", None, KNOWN, {}, "move", "SUBMITTED"),  # started on the unversioned state machine
        ("SUBMITTED", 2, KNOWN, {}, "current", "SUBMITTED"),
        ("SUBMITTED", 2, KNOWN, {"SUBMITTED": "UNDER_REVIEW"}, "move", "UNDER_REVIEW"),  # mapped: moves anyway
        ("UNDER_REVIEW", 1, KNOWN - {"UNDER_REVIEW"}, {}, "refused", "UNDER_REVIEW"),
        ("UNDER_REVIEW", 1, KNOWN - {"UNDER_REVIEW"}, {"UNDER_REVIEW": "SUBMITTED"}, "move", "SUBMITTED"),
        (
            "UNDER_REVIEW",
            1,
            KNOWN - {"SUBMITTED", "UNDER_REVIEW"},
            {"UNDER_REVIEW": "SUBMITTED"},
            "refused",
            "SUBMITTED",
        ),
    ],
)
def test_a_workflow_moves_to_its_status_or_its_mapped_one_only_if_the_live_definition_routes_it(
    status, from_version, known, mapping, outcome, target
):
    decision = decide_move("wf-1", status, from_version, 2, known, mapping)
    assert (decision.outcome, decision.target_status, decision.to_version) == (outcome, target, 2)


def test_a_version_number_is_read_from_its_arn():
    assert version_number("arn:aws:states:ap-southeast-2:123456789012:stateMachine:accu-local-X:12") == 12


def test_a_move_hands_the_workflow_to_a_new_execution_with_its_state_and_timers():
    # Given a submitted application
    lifecycle = LIFECYCLES["accu-application"]
    operator = Identity("olga", frozenset({"operators"}))
    started = rules.start(
        lifecycle, "app-1", {"projectId": "p", "unitsRequested": 1, "methodologyId": "m"}, operator, NOW
    )
    workflow = started.after.model_copy(update={"status": "SUBMITTED", "waitToken": "token", "timersSince": "T0"})

    # When it is moved, mapped to UNDER_REVIEW
    transition = rules.move_execution(
        lifecycle, workflow, NOW, "olga", "new definition", "UNDER_REVIEW", toDefinitionVersion=2
    )

    # Then a new execution takes over in the mapped status; the timers, fields and wait bookkeeping carry as they should
    after = transition.after
    assert (after.status, after.executionName, after.continuations) == ("UNDER_REVIEW", "app-1--cont-1", 1)
    assert after.timersSince == "T0" and after.fields == workflow.fields and after.waitToken is None
    assert transition.event.type == "MIGRATED" and transition.event.details["toDefinitionVersion"] == 2
    assert transition.event.details["previousExecution"] == "app-1"


def test_a_move_refuses_a_closed_workflow_and_a_status_that_does_not_run():
    lifecycle = LIFECYCLES["accu-application"]
    operator = Identity("olga", frozenset({"operators"}))
    workflow = rules.start(
        lifecycle, "app-1", {"projectId": "p", "unitsRequested": 1, "methodologyId": "m"}, operator, NOW
    ).after
    with pytest.raises(StatusNotInLifecycle):
        rules.move_execution(lifecycle, workflow, NOW, "olga", "r", "ISSUED")
    closed = workflow.model_copy(update={"executionStatus": "TERMINATED"})
    with pytest.raises(WorkflowClosed):
        rules.move_execution(lifecycle, closed, NOW, "olga", "r")
