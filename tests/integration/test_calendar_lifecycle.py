"""The calendar lifecycle on its real state machine: reminder, due date, overdue with escalation,
completion, reschedule with new timers, cancel; timeouts computed from the workflow's timestamps."""

from __future__ import annotations

from datetime import timedelta

from functions.domain.time import iso

DAY = 24 * 3600


def start_calendar(platform, operator, workflow_id: str, due_in_days: float, remind_before: str = "P7D") -> dict:
    due = platform.clock.now() + timedelta(days=due_in_days)
    code, state = operator.start(
        workflow_id,
        "calendar",
        {
            "title": "Offsets report due",
            "subjectType": "project",
            "subjectId": "project-1",
            "dueAt": iso(due),
            "remindBefore": remind_before,
        },
    )
    assert code == 201, state
    platform.settle()
    return state


def events(client, workflow_id: str) -> list[tuple]:
    return [(e["type"], e["fromStatus"], e["toStatus"]) for e in client.history(workflow_id)[1]["items"]]


def test_an_obligation_is_reminded_then_overdue_and_escalated_then_completed(platform, operator, applicant):
    # Given an obligation due in 30 days, reminded 7 days before
    state = start_calendar(platform, operator, "cal-1", 30)
    assert state["status"] == "SCHEDULED" and state["remindAt"] < state["dueAt"]

    # When 22 days pass nothing happens; at 23 the reminder goes out
    platform.advance(22 * DAY)
    assert operator.get("cal-1")[1]["status"] == "SCHEDULED"
    platform.advance(DAY + 60)
    state = operator.get("cal-1")[1]
    assert state["status"] == "REMINDED"
    reminders = [m.read_text() for m in platform.outbox.messages() if "Reminder: Offsets report due" in m.read_text()]
    assert len(reminders) == 1 and "people@accu.local" in reminders[0]

    # And when the due date passes it is overdue and escalated
    platform.advance(7 * DAY)
    state = operator.get("cal-1")[1]
    assert (state["status"], state["escalationLevel"]) == ("OVERDUE", 1)
    assert any(
        "operations@accu.local" in m.read_text() and "OVERDUE" in m.read_text() for m in platform.outbox.messages()
    )

    # Then it can still be completed
    code, state = operator.signal("cal-1", "completeEvent", {"note": "late but done"})
    platform.settle()
    assert (code, state["status"], state["executionStatus"]) == (200, "COMPLETED", "COMPLETED")
    assert events(operator, "cal-1") == [
        ("STARTED", None, "SCHEDULED"),
        ("TIMEOUT", "SCHEDULED", "REMINDED"),
        ("TIMEOUT", "REMINDED", "OVERDUE"),
        ("SIGNAL_APPLIED", "OVERDUE", "COMPLETED"),
    ]


def test_rescheduling_sets_new_timers_at_once(platform, operator):
    # Given an obligation due in 10 days, reminded 2 days before, already reminded
    start_calendar(platform, operator, "cal-2", 10, "P2D")
    platform.advance(8 * DAY + 60)
    assert operator.get("cal-2")[1]["status"] == "REMINDED"

    # When it is rescheduled to 20 days from now
    new_due = platform.clock.now() + timedelta(days=20)
    code, state = operator.signal("cal-2", "rescheduleEvent", {"dueAt": iso(new_due)})
    platform.settle()
    assert (code, state["status"], state["reschedules"]) == (200, "SCHEDULED", 1)

    # Then the old due date passes quietly and the new reminder comes 18 days on
    platform.advance(3 * DAY)
    assert operator.get("cal-2")[1]["status"] == "SCHEDULED"
    platform.advance(15 * DAY + 60)
    assert operator.get("cal-2")[1]["status"] == "REMINDED"


def test_rescheduling_while_scheduled_restarts_the_timer(platform, operator):
    start_calendar(platform, operator, "cal-3", 10, "P1D")
    new_due = platform.clock.now() + timedelta(days=40)
    code, state = operator.signal("cal-3", "rescheduleEvent", {"dueAt": iso(new_due), "remindBefore": "P5D"})
    platform.settle()
    assert (code, state["status"]) == (200, "SCHEDULED")
    platform.advance(20 * DAY)  # past the first reminder time (day 9)
    assert operator.get("cal-3")[1]["status"] == "SCHEDULED"
    platform.advance(15 * DAY + 60)  # day 35: the new reminder time
    assert operator.get("cal-3")[1]["status"] == "REMINDED"


def test_only_operators_cancel_and_a_cancelled_obligation_is_closed(platform, operator, applicant):
    start_calendar(platform, operator, "cal-4", 10)
    # the operator's calendar does not exist for an applicant (they see only what they started)
    assert applicant.signal("cal-4", "cancelEvent", {"reason": "x"})[0] == 404
    code, state = operator.signal("cal-4", "cancelEvent", {"reason": "project closed"})
    platform.settle()
    assert (code, state["status"], state["cancelReason"]) == (200, "CANCELLED", "project closed")
    platform.advance(30 * DAY)
    assert operator.get("cal-4")[1]["escalationLevel"] == 0


def test_calendar_input_is_validated(platform, operator, applicant):
    base = {"title": "t", "subjectType": "project", "subjectId": "p", "dueAt": "2030-01-01T00:00:00Z"}
    for bad, field in [
        ({"dueAt": "tomorrow"}, "dueAt"),
        ({"dueAt": "2030-01-01T00:00:00"}, "dueAt"),
        ({"remindBefore": "P1M"}, "remindBefore"),
        ({"subjectType": "cat"}, "subjectType"),
    ]:
        code, error = operator.start(None, "calendar", {**base, **bad})
        # (the start body's fields are named from its root: the input's under "input.")
        assert code == 422 and f"input.{field}" in {d["field"] for d in error["details"]}, (bad, error)
    assert applicant.start(None, "calendar", base)[0] == 403


def test_an_obligation_completed_early_never_reminds(platform, operator):
    start_calendar(platform, operator, "cal-5", 10)
    code, state = operator.signal("cal-5", "completeEvent")
    platform.settle()
    assert (code, state["status"], state["completedBy"]) == (200, "COMPLETED", "olga")
    platform.advance(20 * DAY)
    assert not [m for m in platform.outbox.messages() if "Reminder" in m.read_text()]
