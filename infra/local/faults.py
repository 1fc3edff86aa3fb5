"""Faults injected into the local platform (``POST /local/faults``, DESIGN §8): chosen activity
invocations, or the completions of waits, fail or are held back, the way they can in AWS.

A fault matches an activity (a catalog function, or ``CompleteWait``: Step Functions'
SendTaskSuccess after a transition was committed) and a workflow type, each optional. It hits the
next ``count`` matching invocations, or each one with probability ``rate`` (from its own seeded
random generator, so a run can be repeated), for ``count`` hits at most when both are given.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from infra.catalog import FUNCTIONS

FaultKind = Literal["transient", "permanent", "delay"]
# Not a function: the completion of an open wait (SendTaskSuccess) once its transition is committed.
COMPLETE_WAIT = "CompleteWait"
ACTIVITIES = frozenset({*FUNCTIONS, COMPLETE_WAIT})


@dataclass
class Fault:
    kind: FaultKind
    # How many matching invocations it hits; None: every one it draws, until the faults are cleared.
    count: int | None = None
    # The probability that a matching invocation is hit.
    rate: float = 1.0
    workflow_type: str | None = None
    activity: str | None = None
    # How long a delay holds the invocation back (virtual seconds: real ones unless time is skipped).
    seconds: float = 0.0
    seed: int = 0
    hits: int = 0
    _draws: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.activity is not None and self.activity not in ACTIVITIES:
            raise ValueError(f"unknown activity {self.activity!r}; known: {sorted(ACTIVITIES)}")
        if self.count is None and self.rate >= 1.0 and self.kind != "delay":
            raise ValueError("a fault needs a count, a rate below 1, or both")
        if self.activity == COMPLETE_WAIT and self.kind == "permanent":
            raise ValueError(
                "a completion fails transiently or is delayed: one that can never succeed is a lost execution, "
                "which the execution status events and the health check report"
            )
        self._draws = random.Random(self.seed)

    def matches(self, activity: str, workflow_type: str | None) -> bool:
        return (self.activity in (None, activity)) and (self.workflow_type in (None, workflow_type))

    def draw(self) -> bool:
        """Whether this matching invocation is hit (and counted)."""
        if self.rate < 1.0 and self._draws.random() >= self.rate:
            return False
        self.hits += 1
        if self.count is not None:
            self.count -= 1
        return True

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0

    def describe(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "rate": self.rate,
            "kind": self.kind,
            "workflowType": self.workflow_type,
            "activity": self.activity,
            "seconds": self.seconds,
            "seed": self.seed,
            "hits": self.hits,
        }


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    # Which lifecycle a workflow id belongs to, and how a delay holds an invocation back.
    workflow_type_of: Callable[[str], str | None] = lambda workflow_id: None
    pause: Callable[[float], None] = lambda seconds: None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, activity: str, workflow_type: str | None) -> Fault | None:
        """The fault that hits this invocation, if one does."""
        if not self.faults:
            return None
        with self._lock:
            for fault in self.faults:
                if fault.matches(activity, workflow_type) and fault.draw():
                    if fault.spent:
                        self.faults.remove(fault)
                    return fault
        return None

    def failing(self, activity: str, workflow_id: Any) -> Fault | None:
        """The fault that makes this invocation fail, if one does; a delay holds it back here first
        and lets it go on."""
        if not self.faults:
            return None
        workflow_type = self.workflow_type_of(workflow_id) if isinstance(workflow_id, str) else None
        fault = self.take(activity, workflow_type)
        if fault is not None and fault.kind == "delay":
            self.pause(fault.seconds)
            return None
        return fault

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self.faults]


class FailingCompletions:
    """The ``before-parameter-build.states.SendTaskSuccess`` handler: a ``CompleteWait`` fault makes the
    completion fail as Step Functions does when it cannot take it (ServiceUnavailable), or holds it."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan

    def __call__(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if not self.plan.faults:
            return
        try:
            workflow_id = json.loads(params.get("output") or "{}").get("workflowId")  # the route it answers
        except (ValueError, AttributeError):
            workflow_id = None
        if self.plan.failing(COMPLETE_WAIT, workflow_id) is None:
            return
        message = f"injected fault in {COMPLETE_WAIT} for {workflow_id}"
        raise ClientError(
            {
                "Error": {"Code": "ServiceUnavailable", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
            "SendTaskSuccess",
        )
