"""The calendar lifecycle (DESIGN §3.4): a dated obligation (a report's due date, a review
meeting) with a reminder before it and an escalation when it passes.

Every timed status is a wait that still listens for signals; its timeout is computed from the
timestamps, so a cancel or a reschedule applies at once and the timer fires when due.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from functions.domain.common import DateTime, Payload, ReasonPayload, update_metadata_signal
from functions.domain.durations import DURATION_PATTERN, parse_duration
from functions.domain.identity import APPLICANTS
from functions.domain.lifecycle import Lifecycle, Relation, SignalContext, SignalSpec, TimeoutSpec, WorkflowView
from functions.domain.time import iso, parse_iso

TYPE = "calendar"

SCHEDULED = "SCHEDULED"
REMINDED = "REMINDED"
OVERDUE = "OVERDUE"
COMPLETED = "COMPLETED"
CANCELLED = "CANCELLED"
STATUSES = (SCHEDULED, REMINDED, OVERDUE, COMPLETED, CANCELLED)
TERMINAL = frozenset({COMPLETED, CANCELLED})
# The workflows a calendar may be about.
SubjectType = Literal["accu-application", "project"]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class CalendarInput(Payload):
    title: str = Field(min_length=1, max_length=200)
    subjectType: SubjectType
    subjectId: str = Field(min_length=1, max_length=128)
    dueAt: DateTime
    remindBefore: str = Field(default="P7D", pattern=DURATION_PATTERN, description="ISO-8601 duration, e.g. P14D")

    @field_validator("remindBefore")
    @classmethod
    def _remind_before(cls, value: str) -> str:
        return _duration(value)


class CalendarFields(BaseModel):
    dueAt: str | None = None
    remindBefore: str | None = None
    remindAt: str | None = None
    remindedAt: str | None = None
    overdueAt: str | None = None
    completedAt: str | None = None
    completedBy: str | None = None
    cancelReason: str | None = None
    reschedules: int = 0


class ReschedulePayload(Payload):
    dueAt: DateTime
    remindBefore: str | None = Field(default=None, pattern=DURATION_PATTERN, description="ISO-8601 duration")

    @field_validator("remindBefore")
    @classmethod
    def _remind_before(cls, value: str | None) -> str | None:
        return value if value is None else _duration(value)


class CompletePayload(Payload):
    note: str | None = Field(default=None, max_length=2000)


def _times(due_at: datetime, remind_before: str) -> dict[str, Any]:
    try:
        remind_at = due_at - parse_duration(remind_before)
    except OverflowError:  # before the year 1: long past, so the reminder is due at once
        remind_at = datetime.min.replace(tzinfo=UTC)
    return {"dueAt": iso(due_at), "remindBefore": remind_before, "remindAt": iso(remind_at)}


def _on_start(data: Any, now: datetime) -> dict[str, Any]:
    return _times(data.dueAt, data.remindBefore)


def _complete(view: WorkflowView, payload: CompletePayload, context: SignalContext) -> dict[str, Any]:
    return {"completedAt": iso(context.now), "completedBy": context.actor.user_id}


def _reschedule(view: WorkflowView, payload: ReschedulePayload, context: SignalContext) -> dict[str, Any]:
    remind_before = payload.remindBefore or view.fields.get("remindBefore") or "P7D"
    return {
        **_times(payload.dueAt, remind_before),
        "remindedAt": None,
        "overdueAt": None,
        "reschedules": int(view.fields.get("reschedules") or 0) + 1,
    }


def _cancel(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"cancelReason": payload.reason}


def _seconds_until(field: str) -> Any:
    def seconds(view: WorkflowView, now: datetime) -> float:
        return (parse_iso(str(view.fields[field])) - now).total_seconds()

    return seconds


OPEN = frozenset({SCHEDULED, REMINDED, OVERDUE})

SIGNALS = {
    spec.name: spec
    for spec in (
        SignalSpec("completeEvent", OPEN, COMPLETED, CompletePayload, frozenset({APPLICANTS}), _complete),
        SignalSpec(
            "rescheduleEvent",
            OPEN,
            SCHEDULED,
            ReschedulePayload,
            frozenset({APPLICANTS}),
            _reschedule,
            restarts_wait=True,
        ),
        # Operators only (DESIGN §5): no other group may cancel.
        SignalSpec("cancelEvent", OPEN, CANCELLED, ReasonPayload, frozenset(), _cancel),
        update_metadata_signal(sorted(OPEN)),
    )
}

TIMEOUTS = {
    spec.status: spec
    for spec in (
        TimeoutSpec(
            SCHEDULED,
            "reminder",
            "transition",
            seconds=_seconds_until("remindAt"),
            target=REMINDED,
            notifies=True,
            description="the reminder time came: remind, then wait for the due date",
        ),
        TimeoutSpec(
            REMINDED,
            "dueDate",
            "transition",
            seconds=_seconds_until("dueAt"),
            target=OVERDUE,
            escalates=True,
            description="the due date passed: overdue, escalate, still accept completion",
        ),
    )
}

LIFECYCLE = Lifecycle(
    type=TYPE,
    description="A dated obligation: reminder, due date, completion or overdue",
    initial_status=SCHEDULED,
    statuses=STATUSES,
    terminal_statuses=TERMINAL,
    input_model=CalendarInput,
    fields_model=CalendarFields,
    signals=SIGNALS,
    timeouts=TIMEOUTS,
    starters=frozenset(),  # operators, and the platform (a project entering ACTIVE)
    on_start=_on_start,
    relations=(Relation("subject", "calendar", "input.subjectId", get_args(SubjectType), "input.subjectType"),),
)
