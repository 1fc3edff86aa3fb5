"""Domain events: what the platform tells the world on its event bus, and what it takes in.

Out: one event per history event (every transition), published from the table's stream, so an
event exists exactly when its transition was committed. In: ``SignalRequested`` events are signals
from automation, handled by the same signal logic as the API.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from functions.domain.workflow import EventType

SOURCE = "accu.workflows"
SIGNAL_REQUESTED = "SignalRequested"
SIGNAL_APPLIED = "Signal Applied"
SIGNAL_KEPT = "Signal Kept"
SIGNAL_REJECTED = "Signal Rejected"

# detail-type of the event published for each kind of history event
DETAIL_TYPES: dict[EventType, str] = {
    EventType.STARTED: "Workflow Started",
    EventType.SIGNAL_APPLIED: "Workflow Signal Applied",
    EventType.TIMEOUT: "Workflow Timed Out",
    EventType.ESCALATED: "Workflow Escalated",
    EventType.RETRIED: "Workflow Retried",
    EventType.INTERVENTION: "Workflow Intervention",
    EventType.TERMINATED: "Workflow Terminated",
    EventType.FAILED: "Workflow Failed",
    EventType.MIGRATED: "Workflow Migrated",
    EventType.CONTINUED_AS_NEW: "Workflow Continued As New",
}


class TransitionDetail(BaseModel):
    """The detail of every workflow event (the schema automation builds on)."""

    workflowId: str
    type: str = Field(description="the workflow's lifecycle")
    eventType: EventType
    fromStatus: str | None
    toStatus: str | None
    signal: str | None = None
    actor: str
    time: str
    version: int = Field(description="the workflow's version after this event (its history sequence)")
    details: dict[str, Any] = Field(default_factory=dict)


def transition_event(history_item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The detail-type and detail published for one stored history event."""
    event_type = EventType(history_item["type"])
    detail = TransitionDetail(
        workflowId=history_item["workflowId"],
        type=history_item["workflowType"],
        eventType=event_type,
        fromStatus=history_item.get("fromStatus"),
        toStatus=history_item.get("toStatus"),
        signal=history_item.get("signal"),
        actor=history_item["actor"],
        time=history_item["time"],
        version=int(history_item["sequence"]),
        details=history_item.get("details") or {},
    )
    return DETAIL_TYPES[event_type], detail.model_dump(mode="json")


class SignalRequest(BaseModel):
    """The detail of a ``SignalRequested`` event: a signal from automation."""

    workflowId: str = Field(min_length=1)
    signal: str = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)
    # Who asks, for the history; the bus's permissions say who may put such events at all.
    actor: str | None = Field(default=None, min_length=1, max_length=128)
