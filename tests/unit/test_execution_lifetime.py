"""How long an execution lives and each wait lasts (functions/domain/executions.py), for any workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain import executions
from functions.domain import workflow as rules
from functions.domain.identity import Identity
from functions.domain.lifecycles import accu_application, calendar
from functions.domain.time import iso

OPERATOR = Identity("olga", frozenset({"operators"}))
NOW = datetime(2026, 11, 26, 0, 59, 28, 734567, tzinfo=UTC)
moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)
nows = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(due=moments, remind_days=st.integers(min_value=0, max_value=999_999), now=nows)
def test_a_wait_lasts_a_whole_positive_number_of_seconds_never_past_the_hand_over(due, remind_days, now):
    # Given a calendar event due any time from year 1 to 9999, reminded any number of days before
    start_input = {
        "title": "t",
        "subjectType": "project",
        "subjectId": "p",
        "dueAt": iso(due),
        "remindBefore": f"P{remind_days}D",
    }
    workflow = rules.start(calendar.LIFECYCLE, "c-1", start_input, OPERATOR, now).after
    # When its first wait's length is computed (dates near the bounds once overflowed here)
    seconds = executions.wait_seconds(calendar.LIFECYCLE, workflow, now, {})
    # Then it is at least a second and ends by the execution's hand-over
    assert 1 <= seconds <= executions.CONTINUE_AFTER_SECONDS


def test_a_fixed_timer_runs_from_when_the_state_s_timers_started_whichever_execution_waits():
    # Given an application submitted a day after it started (14 days to assign a reviewer)
    workflow = rules.start(accu_application.LIFECYCLE, "a-1", _application_input(), OPERATOR, NOW).after
    submitted = NOW + timedelta(days=1)
    workflow = workflow.model_copy(update={"status": "SUBMITTED", "timersSince": iso(submitted)})
    timeouts = {"reviewerAssignment": 14 * 86400}
    # Then ten days after it was submitted, the wait has four days left, and its timer is not due
    later = submitted + timedelta(days=10)
    assert executions.wait_seconds(accu_application.LIFECYCLE, workflow, later, timeouts) == 4 * 86400
    assert not executions.timer_is_due(accu_application.LIFECYCLE, workflow, later, timeouts)
    # and a continued execution (started later) waits for the same moment
    continued = rules.continue_as_new(workflow, later, "test").after
    assert continued.executionName == "a-1--cont-1" and continued.continuations == 1
    assert executions.wait_seconds(accu_application.LIFECYCLE, continued, later, timeouts) == 4 * 86400
    assert executions.timer_is_due(accu_application.LIFECYCLE, continued, later + timedelta(days=4), timeouts)


def test_an_execution_hands_over_350_days_after_it_started_or_at_a_boundary():
    workflow = rules.start(accu_application.LIFECYCLE, "a-1", _application_input(), OPERATOR, NOW).after
    assert not executions.must_continue(workflow, NOW + timedelta(days=349))
    assert executions.must_continue(workflow, NOW + timedelta(days=350))
    assert executions.must_continue(workflow.model_copy(update={"continueAtNextWait": True}), NOW)
    # a wait with no timer of its own (DRAFT) lasts until the hand-over
    assert executions.wait_seconds(accu_application.LIFECYCLE, workflow, NOW, {}) == executions.CONTINUE_AFTER_SECONDS


def test_execution_names_fit_step_functions_and_lead_back_to_their_workflow():
    assert executions.execution_name("app-1") == "app-1"
    assert executions.execution_name("app-1", executions.CONTINUATION, 3) == "app-1--cont-3"
    assert executions.workflow_id_of("app-1--cont-3") == "app-1"
    assert executions.workflow_id_of("my--app--retry-2") == "my--app"
    assert executions.workflow_id_of("app--cont-x") == "app--cont-x"
    long_id = "p" * 64 + "-report-12"
    name = executions.execution_name(long_id, executions.CONTINUATION, 12)
    assert len(name) <= executions.EXECUTION_NAME_MAX_LENGTH and name.endswith("--cont-12")


def _application_input() -> dict:
    return {"projectId": "p-1", "unitsRequested": 10, "methodologyId": "m"}
