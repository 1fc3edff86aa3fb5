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
class Rule:
    """A business rule a signal must satisfy; ``check`` answers True when it is met."""

    name: str
    description: str
    check: Callable[[WorkflowView, Any, SignalContext], bool]


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

    @property
    def changes_status(self) -> bool:
        return self.target is not None


@dataclass(frozen=True)
class TimeoutSpec:
    """What happens when a state waits longer than its timeout."""

    status: str
    name: str
    default_seconds: int
    action: Literal["escalate", "signal"]
    # For action == "signal": the signal applied on the workflow's behalf by the system.
    signal: str | None = None
    description: str = ""


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

    def awaiting(self, status: str) -> list[str]:
        if status in self.terminal_statuses:
            return []
        return [name for name, spec in self.signals.items() if status in spec.sources]

    def non_terminal_statuses(self) -> list[str]:
        return [status for status in self.statuses if status not in self.terminal_statuses]

    def timeout_for(self, status: str) -> TimeoutSpec | None:
        return self.timeouts.get(status)

    def default_timeouts(self) -> dict[str, int]:
        return {spec.name: spec.default_seconds for spec in self.timeouts.values()}
