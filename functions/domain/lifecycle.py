"""The vocabulary lifecycles are declared in: signals, rules, timeouts.

A lifecycle is plain data plus pure functions. The engine in ``workflow.py`` applies it;
the catalog (``infra/catalog.py``) pairs it with its state machine and functions.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from functions.domain.identity import Identity

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class SignalContext:
    """What a signal's effect and rules may read besides the workflow itself."""

    actor: Identity
    now: datetime
    timeouts: Mapping[str, int]
    # Facts about other workflows (documents, project units), looked up by the service layer.
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowView:
    """The read-only view of a workflow that effects and rules see."""

    workflow_id: str
    status: str
    input: Mapping[str, Any]
    fields: Mapping[str, Any]
    metadata: Mapping[str, Any]


Effect = Callable[[WorkflowView, Any, SignalContext], dict[str, Any]]


@dataclass(frozen=True)
class FollowUp:
    """A change of another workflow that a transition brings with it, committed in the same
    transaction (Temporal would signal or start a child workflow): apply ``signal`` to the
    workflow ``workflow_id``, or start it as a ``start_type`` workflow with ``start_input``."""

    workflow_id: str
    signal: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    start_type: str | None = None
    start_input: Mapping[str, Any] | None = None
    # An optional follow-up is skipped when its workflow cannot take it (closed, elsewhere, absent).
    optional: bool = False


FollowUps = Callable[[WorkflowView, Any, SignalContext], list[FollowUp]]


@dataclass(frozen=True)
class Rule:
    """A business rule a signal must satisfy; ``check`` answers True when it is met."""

    name: str
    description: str
    check: Callable[[WorkflowView, Any, SignalContext], bool]
    # Says what exactly is unmet (which documents are missing); the description otherwise.
    explain: Callable[[WorkflowView, Any, SignalContext], str] | None = None

    def message(self, view: WorkflowView, payload: Any, context: SignalContext) -> str:
        return self.explain(view, payload, context) if self.explain else self.description


@dataclass(frozen=True)
class SignalSpec:
    name: str
    sources: frozenset[str]
    # The status the signal leads to; None keeps the status (the open wait stays open).
    target: str | None
    payload_model: type[BaseModel]
    senders: frozenset[str]
    effect: Effect = lambda view, payload, context: {}
    rules: tuple[Rule, ...] = ()
    # Facts the rules need, looked up before the rules run (e.g. "documents").
    facts: tuple[str, ...] = ()
    # Changes of other workflows that go with this one (see FollowUp); they see the state after.
    follow_ups: FollowUps | None = None
    # Sent by the platform itself (an activity's outcome, another workflow): never from outside.
    internal: bool = False
    # Closes the open wait and opens it anew even when the status stays (new timers: a reschedule).
    restarts_wait: bool = False
    # A natural boundary of the lifecycle (a reporting cycle's decision): the execution hands over to
    # a new one at the next wait (continue-as-new, ``executions.py``), keeping each one short.
    continues_execution: bool = False

    @property
    def changes_status(self) -> bool:
        return self.target is not None

    @property
    def moves_execution(self) -> bool:
        """Whether the execution must leave its current wait (and so needs one open)."""
        return self.target is not None or self.restarts_wait


@dataclass(frozen=True)
class TimeoutSpec:
    """What happens when a state waits longer than its timeout.

    A fixed timeout (``default_seconds``, overridable per deployment) is written into the state
    machine; a computed one (``seconds``, from the workflow's own data: a due date, a reporting
    period) travels with the execution as ``waitSeconds`` and the wait reads it
    (``TimeoutSecondsPath``)."""

    status: str
    name: str
    action: Literal["escalate", "signal", "transition"]
    default_seconds: int = 0
    seconds: Callable[[WorkflowView, datetime], float] | None = None
    # action == "signal": the signal applied on the workflow's behalf by the system.
    signal: str | None = None
    # action == "transition": the status the workflow moves to.
    target: str | None = None
    # The transition also escalates (level +1, alert).
    escalates: bool = False
    # The transition notifies the workflow's people (a reminder).
    notifies: bool = False
    # Fields the timeout sets besides (the next deadline of a recurring reminder).
    effect: Callable[[WorkflowView, datetime], dict[str, Any]] | None = None
    description: str = ""

    @property
    def computed(self) -> bool:
        return self.seconds is not None


@dataclass(frozen=True)
class OwnedReference:
    """A start input field naming another workflow, which a caller who is not an operator must own
    (DESIGN §5): they started it, or one of its ``owner_fields`` (input fields) names them."""

    rule: str
    description: str
    id_field: str
    workflow_type: str | None = None  # the referenced workflow's type, fixed ...
    type_field: str | None = None  # ... or named by this input field
    owner_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """Another workflow a workflow of this lifecycle names by its id: in its start input
    (``input.projectId``) or in its own fields, once set (``fields.reportCalendarId``). What a client
    follows from one workflow to the other (``GET /workflows/{id}/related``); ``inverse`` is what the
    named workflow calls this one."""

    name: str
    inverse: str
    id_field: str  # "input.<field>" or "fields.<field>"
    workflow_types: tuple[str, ...]  # the types the named workflow may have ...
    type_field: str | None = None  # ... and which one it has, when several: "input.<field>"

    def __post_init__(self) -> None:
        for path in filter(None, (self.id_field, self.type_field)):
            if path.partition(".")[0] not in ("input", "fields") or not path.partition(".")[2]:
                raise ValueError(f"relation {self.name}: {path!r} is not input.<field> or fields.<field>")

    def named(self, input: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[str, tuple[str, ...]] | None:
        """The id a workflow with this input and these fields names, and the types that workflow may
        have (one, when ``type_field`` says which); None when it names none."""
        named_id = _at(self.id_field, input, fields)
        if not isinstance(named_id, str) or not named_id:
            return None
        if self.type_field is None:
            return named_id, self.workflow_types
        named_type = _at(self.type_field, input, fields)
        return named_id, (named_type,) if named_type in self.workflow_types else ()


def _at(path: str, input: Mapping[str, Any], fields: Mapping[str, Any]) -> Any:
    where, _, name = path.partition(".")
    return (input if where == "input" else fields).get(name)


StoredItem = dict[str, Any]
Upgrade = Callable[[StoredItem], StoredItem]


def unchanged(item: StoredItem) -> StoredItem:
    return item


@dataclass(frozen=True)
class SchemaChange:
    """What schema version ``version`` changed in a lifecycle's stored items, as pure upgrades of an
    item at the version before (its attributes as stored, less keys) to this one. History events
    and kept signals are never rewritten (the history is an audit record): they upgrade on read."""

    version: int
    description: str
    state: Upgrade = unchanged
    history_event: Upgrade = unchanged
    kept_signal: Upgrade = unchanged


@dataclass(frozen=True)
class Lifecycle:
    type: str
    description: str
    initial_status: str
    statuses: tuple[str, ...]
    terminal_statuses: frozenset[str]
    input_model: builtins.type[BaseModel]
    fields_model: builtins.type[BaseModel]
    signals: Mapping[str, SignalSpec]
    timeouts: Mapping[str, TimeoutSpec]
    starters: frozenset[str]
    # Input fields naming a person that default to the identity of whoever starts the workflow.
    person_input_fields: tuple[str, ...] = ()
    # Statuses the state machine spends in an activity instead of a wait: status → function name.
    activities: Mapping[str, str] = field(default_factory=dict)
    # Sets the lifecycle's fields when the workflow starts (from the validated input).
    on_start: Callable[[Any, datetime], dict[str, Any]] | None = None
    # Other workflows the start input names, which the starter must own.
    references: tuple[OwnedReference, ...] = ()
    # Other workflows its workflows name (each reference above among them).
    relations: tuple[Relation, ...] = ()
    # How the stored items of earlier schema versions become current (functions/domain/schema.py).
    schema_changes: tuple[SchemaChange, ...] = ()

    def awaiting(self, status: str) -> list[str]:
        if status in self.terminal_statuses:
            return []
        return [name for name, spec in self.signals.items() if status in spec.sources and not spec.internal]

    def wait_statuses(self) -> list[str]:
        """The statuses the state machine waits in for a signal (a task-token wait each)."""
        return [status for status in self.non_terminal_statuses() if status not in self.activities]

    def non_terminal_statuses(self) -> list[str]:
        return [status for status in self.statuses if status not in self.terminal_statuses]

    def timeout_for(self, status: str) -> TimeoutSpec | None:
        return self.timeouts.get(status)

    def default_timeouts(self) -> dict[str, int]:
        """The fixed timeouts, by name (computed ones have no default to override)."""
        return {spec.name: spec.default_seconds for spec in self.timeouts.values() if not spec.computed}
