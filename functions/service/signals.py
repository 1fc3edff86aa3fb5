"""Signals from clients: applied at once when a wait is open, else kept, in order, for the next wait.

A signal that arrives between two waits is judged at once against the state the signals kept before
it will make, then kept; the sender hears its outcome if the next wait opens within
``signal_apply_wait_seconds`` (200, or its error), else 202 with its sequence.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from functions import clock
from functions.domain import workflow as rules
from functions.domain.errors import DomainError, Forbidden
from functions.domain.identity import Identity
from functions.domain.lifecycle import Lifecycle
from functions.domain.time import iso
from functions.domain.workflow import EventType, Workflow
from functions.service.engine import ReadAgain, WorkflowEngine, identity_of
from functions.service.ports import KeptSignal

# Looking again for a change (a wait opening, a kept signal applied): after 50 ms, then twice as
# long each time, at most 200 ms apart (a wait opens some 50-150 ms after the one before closed).
FIRST_PAUSE_SECONDS = 0.05
LONGEST_PAUSE_SECONDS = 0.2


@dataclasses.dataclass(frozen=True)
class SignalOutcome:
    status_code: int
    body: dict[str, Any]


class WorkflowSignals:
    def __init__(self, engine: WorkflowEngine):
        self.engine = engine

    def signal(
        self,
        actor: Identity,
        workflow_id: str,
        signal: str,
        payload: Any,
        event_type: EventType = EventType.SIGNAL_APPLIED,
        **details: Any,
    ) -> SignalOutcome:
        engine = self.engine
        deadline = time.monotonic() + engine.signal_apply_wait_seconds
        # The workflow as last seen changing (its wait opening), read again by nobody.
        seen: list[Workflow] = []

        def attempt() -> SignalOutcome:
            workflow = engine.visible(actor, workflow_id, seen.pop()) if seen else engine.read(actor, workflow_id)
            lifecycle = engine.lifecycles[workflow.type]
            spec = rules.signal_spec(lifecycle, signal)
            if spec.internal:
                raise Forbidden(
                    f"{signal} is sent by the platform itself, never from outside",
                    [{"field": "signalName", "value": signal}],
                )
            if not actor.may(spec.senders):
                raise Forbidden(
                    f"the caller's groups may not send {signal}", [{"field": "signalName", "value": signal}]
                )
            needs_open_wait = spec.moves_execution and not workflow.wait_is_open
            if needs_open_wait or workflow.pendingSignals:
                # Between two waits. When nothing is kept before it, the next wait is given the
                # time to open, and then the signal applies as usual (a write cheaper than keeping
                # it); whether it is awaited in this status and well formed is known at once, its
                # rules once it applies. Otherwise it is checked against the state the kept ones
                # will make, and kept, in order, for the next wait to apply.
                if not workflow.pendingSignals:
                    rules.check_signal(lifecycle, workflow, signal, payload)
                    fresh = self._until_wait_opens(workflow_id, workflow.revision, deadline)
                    if fresh is not None:
                        seen.append(fresh)
                        raise ReadAgain
                engine.decide(actor, self._projected(lifecycle, workflow), signal, payload)
                sequence = self._keep(workflow, actor, signal, payload, event_type, details)
                return self._await_kept(workflow_id, sequence, deadline)
            after = engine.commit(engine.decide(actor, workflow, signal, payload, event_type, **details))
            return SignalOutcome(200, engine.view(after))

        return engine.read_decide_commit(attempt, f"workflow {workflow_id!r} kept changing; try again")

    def _projected(self, lifecycle: Lifecycle, workflow: Workflow) -> Workflow:
        """The workflow as it will be once the signals already kept are applied (rejected ones skipped)."""
        projected = workflow
        if workflow.pendingSignals:
            for record in self.engine.undecided_signals(workflow):
                try:
                    # Judged as the wait will judge it: with the facts its rules read.
                    spec = rules.signal_spec(lifecycle, record["signal"])
                    projected = rules.apply_signal(
                        lifecycle,
                        projected,
                        record["signal"],
                        record.get("payload"),
                        self.engine.context(identity_of(record), projected, spec.facts),
                    ).after
                except DomainError:
                    continue
        return projected

    def _keep(
        self,
        workflow: Workflow,
        actor: Identity,
        signal: str,
        payload: Any,
        event_type: EventType = EventType.SIGNAL_APPLIED,
        details: dict[str, Any] | None = None,
    ) -> int:
        sequence = workflow.signalSeq + 1
        record = {
            "workflowType": workflow.type,
            "signal": signal,
            "payload": payload if payload is not None else {},
            "queueStatus": "QUEUED",
            "sequence": sequence,
            "receivedAt": iso(self.engine.now()),
            "actor": actor.user_id,
            "actorGroups": sorted(actor.groups),
            # How the history records it when applied (an operator's intervention stays one).
            "eventType": event_type.value,
            "details": details or {},
        }
        after = workflow.model_copy(update={"pendingSignals": workflow.pendingSignals + 1, "signalSeq": sequence})
        self.engine.store.save_bookkeeping(workflow, after, KeptSignal(workflow.workflowId, sequence, record))
        return sequence

    def _until_wait_opens(self, workflow_id: str, revision: int, deadline: float) -> Workflow | None:
        """Wait, until ``deadline`` at most, for the workflow to change (its next wait opening):
        the workflow as it is then, or None if it did not change in time."""
        pause = FIRST_PAUSE_SECONDS
        while time.monotonic() < deadline:
            clock.pause(min(pause, max(0.0, deadline - time.monotonic())), about=workflow_id)
            workflow = self.engine.store.get(workflow_id)
            if workflow is None or workflow.revision != revision:
                return workflow
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
        return None

    def _await_kept(self, workflow_id: str, sequence: int, deadline: float) -> SignalOutcome:
        store = self.engine.store
        pause = FIRST_PAUSE_SECONDS
        while True:
            record = store.signal_record(workflow_id, sequence) or {}
            if record.get("queueStatus") == "APPLIED":
                return SignalOutcome(200, self.engine.view(store.get(workflow_id)))  # type: ignore[arg-type]
            if record.get("queueStatus") == "REJECTED":
                raise _recorded_error(record["error"])
            if time.monotonic() >= deadline:
                workflow = store.get(workflow_id)
                assert workflow is not None
                return SignalOutcome(
                    202,
                    {
                        "queued": True,
                        "signalSequence": sequence,
                        "message": "the workflow is between two waits; the signal is kept and applied, in order, "
                        "when the next wait opens",
                        "workflow": self.engine.view(workflow),
                    },
                )
            clock.pause(pause, about=workflow_id)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def _recorded_error(error: Mapping[str, Any]) -> DomainError:
    recorded = DomainError(
        error.get("message", "signal rejected"),
        error.get("details"),
        **{key: value for key, value in error.items() if key not in ("status", "error", "message", "details")},
    )
    recorded.status_code = int(error.get("status", 409))
    recorded.code = str(error.get("error", "SIGNAL_REJECTED"))
    return recorded
