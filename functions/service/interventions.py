"""What operators (and the recovery schedule) do to one workflow: terminate, escalate, retry, and
the audited manual interventions (a signal for someone, a metadata correction)."""

from __future__ import annotations

from typing import Any

from functions.domain import workflow as rules
from functions.domain.identity import Identity
from functions.domain.workflow import EventType
from functions.service.engine import WorkflowEngine
from functions.service.signals import WorkflowSignals


class WorkflowInterventions:
    def __init__(self, engine: WorkflowEngine, signals: WorkflowSignals):
        self.engine = engine
        self.signals = signals

    def terminate(
        self,
        actor: Identity,
        workflow_id: str,
        reason: str,
        event_type: EventType = EventType.TERMINATED,
        **details: Any,
    ) -> dict[str, Any]:
        engine = self.engine

        def attempt() -> dict[str, Any]:
            workflow = engine.read(actor, workflow_id)
            after = engine.commit(
                [rules.terminate(workflow, engine.now(), actor.user_id, reason, event_type, **details)]
            )
            engine.executions.stop(engine.execution_arn(workflow), reason)
            return engine.view(after)

        return engine.read_decide_commit(attempt, f"workflow {workflow_id!r} kept changing; try again")

    def escalate(
        self,
        actor: Identity,
        workflow_id: str,
        reason: str,
        level: int | None = None,
        event_type: EventType = EventType.ESCALATED,
        **details: Any,
    ) -> dict[str, Any]:
        """Hand a workflow to people: level +1 (or the level given), an e-mail, an event."""
        engine = self.engine
        after = engine.change(
            actor,
            workflow_id,
            lambda workflow: rules.escalate(
                workflow, engine.now(), actor.user_id, reason, level, event_type=event_type, **details
            ),
        )
        return engine.view(after)

    def retry(
        self,
        actor: Identity,
        workflow_id: str,
        reason: str | None = None,
        event_type: EventType = EventType.RETRIED,
        **details: Any,
    ) -> dict[str, Any]:
        """Run a failed, timed-out or terminated workflow again from its last persisted state (a new
        execution that routes to the status's wait), not from the start."""
        engine = self.engine
        after = engine.change(
            actor,
            workflow_id,
            lambda workflow: rules.retry(workflow, engine.now(), actor.user_id, event_type, reason=reason, **details),
        )
        engine.start_execution(after)
        return engine.view(after)

    def intervene(self, actor: Identity, workflow_id: str, request: Any) -> tuple[int, dict[str, Any]]:
        """A manual intervention (operators): each audited in the history as an INTERVENTION with the
        operator's identity, the action and the reason."""
        engine = self.engine
        action, reason = request.action, request.reason
        audit = {"action": action, "intervention": True}
        if action == "signal":
            outcome = self.signals.signal(
                actor,
                workflow_id,
                request.signal,
                request.payload or {},
                event_type=EventType.INTERVENTION,
                reason=reason,
                **audit,
            )
            return outcome.status_code, outcome.body
        if action == "terminate":
            return 200, self.terminate(actor, workflow_id, reason, event_type=EventType.INTERVENTION, **audit)
        if action == "retry":
            return 200, self.retry(actor, workflow_id, reason, event_type=EventType.INTERVENTION, **audit)
        if action == "escalate":
            return 200, self.escalate(
                actor, workflow_id, reason, request.level, event_type=EventType.INTERVENTION, **audit
            )
        if action == "moveExecution":
            versions = {
                "fromDefinitionVersion": request.fromDefinitionVersion,
                "toDefinitionVersion": request.toDefinitionVersion,
            }
            return 200, self.move_execution(actor, workflow_id, reason, request.status, **versions)
        after = engine.change(
            actor,
            workflow_id,
            lambda workflow: rules.patch_metadata(
                workflow, engine.now(), actor.user_id, request.metadata or {}, reason
            ),
        )
        return 200, engine.view(after)

    def move_execution(
        self, actor: Identity, workflow_id: str, reason: str, status: str | None = None, **versions: Any
    ) -> dict[str, Any]:
        """End the workflow's execution and start one on the live definition (the alias executions start
        on), routing to its status or ``status``; its state and timers carry over."""
        engine = self.engine

        def attempt() -> dict[str, Any]:
            workflow = engine.read(actor, workflow_id)
            lifecycle = engine.lifecycles[workflow.type]
            transition = rules.move_execution(
                lifecycle, workflow, engine.now(), actor.user_id, reason, status, **versions
            )
            after = engine.commit([transition], release_main=False)
            # The old execution ends (its wait, if one, with it); the workflow's is the new one from here.
            engine.executions.stop(engine.execution_arn(workflow), f"moved to a new definition: {reason}")
            engine.start_execution(after)
            return engine.view(after)

        return engine.read_decide_commit(attempt, f"workflow {workflow_id!r} kept changing; try again")
