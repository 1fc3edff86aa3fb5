"""What every use case shares: its ports, reading a workflow, deciding, and committing a decision.

Each use case reads a workflow, lets the domain decide, and commits the decision in one conditional
transaction (``read_decide_commit``); when another writer got there first it reads again and decides
again. After a commit the engine moves the executions on (starts new ones, completes closed waits)
and tells people what they must hear of. AWS access comes in through the ports, so nothing here
imports an SDK.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from functions.domain import executions as lifetime
from functions.domain import workflow as rules
from functions.domain.errors import (
    ConcurrentModification,
    DomainError,
    ValidationFailed,
    WorkflowAlreadyStarted,
    WorkflowNotFound,
)
from functions.domain.identity import SYSTEM, Identity
from functions.domain.lifecycle import Lifecycle, SignalContext
from functions.domain.workflow import EventType, Transition, Workflow, public_view
from functions.service.ports import Executions, Files, KeptSignal, Notifier, StaleWrite, Store

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How often a use case reads again after losing a race before it gives up (each loss means another
# writer changed the workflow, so this bounds contention, not a retry of failures).
MAX_ATTEMPTS = 50


class ReadAgain(StaleWrite):
    """What was read is no longer the state to decide on (a kept signal was decided, a wait opened):
    read again and decide again, as after a lost race."""


class WorkflowEngine:
    def __init__(
        self,
        store: Store,
        executions: Executions,
        notifier: Notifier,
        lifecycles: Mapping[str, Lifecycle],
        *,
        now: Callable[[], datetime],
        timeouts: Mapping[str, Mapping[str, int]] | None = None,
        signal_apply_wait_seconds: float = 5.0,
        files: Files | None = None,
    ):
        self.store = store
        self.executions = executions
        self.notifier = notifier
        self.lifecycles = lifecycles
        self.now = now
        self.timeouts = {
            name: {**lifecycle.default_timeouts(), **dict((timeouts or {}).get(name, {}))}
            for name, lifecycle in lifecycles.items()
        }
        self.signal_apply_wait_seconds = signal_apply_wait_seconds
        self.files = files

    @staticmethod
    def read_decide_commit(attempt: Callable[[], T], gave_up: str) -> T:
        """Run ``attempt`` (read the workflow, let the domain decide, commit) until no other writer
        got there first: each StaleWrite it raises means the workflow changed since it was read, so
        it is run again, MAX_ATTEMPTS times at most."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except StaleWrite:
                continue
        raise ConcurrentModification(gave_up)

    def change(self, actor: Identity, workflow_id: str, decide: Callable[[Workflow], Transition]) -> Workflow:
        """Read, decide, commit; again if another writer got there first."""
        return self.read_decide_commit(
            lambda: self.commit([decide(self.read(actor, workflow_id))]),
            f"workflow {workflow_id!r} kept changing; try again",
        )

    # ----- reads -----------------------------------------------------------------------------

    def lifecycle(self, workflow_type: str) -> Lifecycle:
        lifecycle = self.lifecycles.get(workflow_type)
        if lifecycle is None:
            raise ValidationFailed(
                f"unknown workflow type {workflow_type!r}",
                [{"field": "type", "message": f"must be one of {sorted(self.lifecycles)}"}],
            )
        return lifecycle

    def read(self, actor: Identity, workflow_id: str) -> Workflow:
        return self.visible(actor, workflow_id, self.store.get(workflow_id))

    def stored(self, workflow_id: str) -> Workflow:
        """The workflow an activity of its execution acts on (it exists: its execution runs)."""
        workflow = self.store.get(workflow_id)
        if workflow is None:
            raise LookupError(f"workflow {workflow_id} does not exist")
        return workflow

    @staticmethod
    def visible(actor: Identity, workflow_id: str, workflow: Workflow | None) -> Workflow:
        # Applicants see only what they started; to them the others do not exist.
        if workflow is None or not actor.may_read(workflow.startedBy):
            raise WorkflowNotFound(workflow_id)
        return workflow

    def view(self, workflow: Workflow) -> dict[str, Any]:
        return public_view(workflow, self.lifecycles[workflow.type])

    @staticmethod
    def oldest_undecided(workflow: Workflow) -> int:
        # Kept signals are decided oldest first, so the undecided ones are always the newest
        # ``pendingSignals`` of them: the workflow's state names them, as of that read of it.
        return workflow.signalSeq - workflow.pendingSignals + 1

    def undecided_signals(self, workflow: Workflow) -> list[dict[str, Any]]:
        """The signals kept and not yet decided as of this read of the workflow (read by sequence, not
        by status: a record decided since the read is still one the read counts)."""
        return self.store.kept_signals(workflow.workflowId, self.oldest_undecided(workflow), workflow.signalSeq)

    # ----- deciding ----------------------------------------------------------------------------

    def context(self, actor: Identity, workflow: Workflow, facts: tuple[str, ...] = ()) -> SignalContext:
        return SignalContext(
            actor=actor,
            now=self.now(),
            timeouts=self.timeouts[workflow.type],
            facts={name: self._fact(name, workflow) for name in facts},
        )

    def _fact(self, name: str, workflow: Workflow) -> Any:
        """Facts about other workflows that rules read: found by key or index, never by scanning."""
        if name == "documents":
            return [
                item.model_dump(mode="json")
                for item in self.store.workflows_about(workflow.type, workflow.workflowId)
                if item.type == "document"
            ]
        if name == "project":
            project = self.store.get(str(workflow.input.get("projectId")))
            return project.model_dump(mode="json") if project and project.type == "project" else None
        raise KeyError(f"no source for the fact {name!r}")

    def decide(
        self,
        actor: Identity,
        workflow: Workflow,
        signal: str,
        payload: Any,
        event_type: EventType = EventType.SIGNAL_APPLIED,
        **details: Any,
    ) -> list[Transition]:
        """A signal's transition and those of the workflows it brings along, not yet committed."""
        lifecycle = self.lifecycles[workflow.type]
        spec = rules.signal_spec(lifecycle, signal)
        context = self.context(actor, workflow, spec.facts)
        transition = rules.apply_signal(lifecycle, workflow, signal, payload, context, event_type, **details)
        return [transition, *self.follow_ups(transition, context)]

    def follow_ups(self, transition: Transition, context: SignalContext) -> list[Transition]:
        signal = transition.event.signal
        spec = self.lifecycles[transition.after.type].signals.get(signal or "")
        if spec is None or spec.follow_ups is None:
            return []
        owner = Identity(transition.after.startedBy, frozenset())
        transitions: list[Transition] = []
        for follow_up in spec.follow_ups(transition.after.view(), transition.payload, context):
            target = self.store.get(follow_up.workflow_id)
            try:
                if follow_up.start_type:
                    if target is not None:
                        raise WorkflowAlreadyStarted(f"{follow_up.workflow_id} exists")
                    lifecycle = self.lifecycle(follow_up.start_type)
                    transitions.append(
                        rules.start(
                            lifecycle,
                            follow_up.workflow_id,
                            dict(follow_up.start_input or {}),
                            owner,
                            context.now,
                        )
                    )
                elif follow_up.signal:
                    if target is None:
                        raise WorkflowNotFound(follow_up.workflow_id)
                    lifecycle = self.lifecycles[target.type]
                    target_spec = rules.signal_spec(lifecycle, follow_up.signal)
                    transitions.append(
                        rules.apply_signal(
                            lifecycle,
                            target,
                            follow_up.signal,
                            dict(follow_up.payload),
                            self.context(SYSTEM, target, target_spec.facts),
                        )
                    )
            except DomainError:
                if not follow_up.optional:
                    raise
        return transitions

    # ----- committing ----------------------------------------------------------------------------

    def commit(
        self,
        transitions: list[Transition],
        signal: KeptSignal | None = None,
        token: str | None = None,
        release_main: bool = True,
    ) -> Workflow:
        """Commit transitions in one transaction; then start the new workflows' executions and move
        on those whose status changed. Answers the first (main) workflow's new state."""
        prepared: list[Transition] = []
        to_release: set[int] = set()
        for index, transition in enumerate(transitions):
            if index == 0 and not release_main:
                # Called by the execution itself, from an activity: it moves on with the answer, so
                # whatever wait came before is released.
                transition = with_changes(transition, unreleasedToken=None)
            if transition.before is not None and transition.moves_execution:
                releases = index > 0 or release_main
                wait_token = (token if index == 0 and token else transition.before.waitToken) if releases else None
                # The closed wait is committed with the transition; until its execution is known to
                # have moved on, the reconciliation completes it again if this process cannot.
                transition = with_changes(
                    transition,
                    waitToken=None,
                    waitStatus=None,
                    unreleasedToken=wait_token or transition.after.unreleasedToken,
                )
                if wait_token:
                    to_release.add(index)
            prepared.append(transition)
        committed = self.store.commit_many(prepared, signal)
        for index, (transition, after) in enumerate(zip(prepared, committed, strict=True)):
            if transition.before is None:
                self.start_execution(after)
            elif index in to_release:
                self._release(after)
            self._announce(transition)
        return committed[0]

    def _release(self, workflow: Workflow) -> None:
        """Complete the wait a committed transition closed, with the workflow's route. A failure is
        left to the reconciliation (the transition stands: the caller is answered as usual)."""
        token = workflow.unreleasedToken
        assert token is not None
        try:
            self.executions.release(token, self.route(workflow))
        except Exception:  # Step Functions could not take it now (throttled, unavailable)
            logger.warning("completing the wait of %s failed; the reconciliation completes it", workflow.workflowId)
            return
        if not workflow.is_running:
            # No next wait will say the execution moved on: forget the token now.
            self.store.released(workflow.workflowId, token, closed=True)

    def record_failure(
        self, workflow_id: str, error: str, cause: str | None, execution_name: str | None = None
    ) -> dict[str, Any]:
        """The execution failed (or could not start): say so on the workflow, unless another
        execution runs it now."""

        def attempt() -> dict[str, Any]:
            workflow = self.stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                return {"workflowId": workflow_id, "executionStatus": workflow.executionStatus}
            transition = rules.fail(workflow, self.now(), error, cause)
            if transition is None:
                return {"workflowId": workflow_id, "executionStatus": workflow.executionStatus}
            after = self.commit([transition])
            return {"workflowId": workflow_id, "executionStatus": after.executionStatus}

        return self.read_decide_commit(attempt, f"could not record the failure of {workflow_id}")

    # ----- executions ------------------------------------------------------------------------------

    def start_execution(self, workflow: Workflow) -> None:
        try:
            arn = self.executions.start(workflow.type, workflow.executionName, self.route(workflow))
        except Exception as error:
            self.record_failure(workflow.workflowId, "StartExecutionFailed", repr(error))
            raise
        # The execution's first wait stores its ARN ($$.Execution.Id). An ARN other than the one its name
        # gives (the documented form) is kept at once, so that a stop before that wait finds it too.
        if arn != self.executions.execution_arn(workflow.type, workflow.executionName):
            self.store.record_execution_arn(workflow.workflowId, workflow.executionName, arn)

    def route(self, workflow: Workflow, continued_as: str | None = None) -> dict[str, Any]:
        """What the state machine needs to go on: the status to route on, how long the status's wait
        lasts, and, when another execution has taken over, its name (this execution then ends)."""
        lifecycle = self.lifecycles[workflow.type]
        return {
            "workflowId": workflow.workflowId,
            "status": workflow.status,
            "waitSeconds": lifetime.wait_seconds(lifecycle, workflow, self.now(), self.timeouts[workflow.type]),
            "continuedAs": continued_as,
        }

    def continue_as_new(self, workflow: Workflow, reason: str) -> Workflow:
        """The workflow goes on in a new execution at the same wait; the caller ends the current one.
        Raises StaleWrite when another writer changed the workflow first."""
        after = self.commit([rules.continue_as_new(workflow, self.now(), reason)])
        self.start_execution(after)
        return after

    @staticmethod
    def continuation_reason(workflow: Workflow) -> str:
        if workflow.continueAtNextWait:
            return "the lifecycle reached a boundary it continues at"
        days = lifetime.CONTINUE_AFTER_SECONDS // lifetime.DAY
        return f"the execution ran {days} days (a Step Functions execution lasts at most a year)"

    def execution_arn(self, workflow: Workflow) -> str:
        """The current execution's ARN as Step Functions gave it; until its first wait opened, the
        ARN its name gives."""
        return workflow.executionArn or self.executions.execution_arn(workflow.type, workflow.executionName)

    # ----- after a transition ----------------------------------------------------------------

    def _announce(self, transition: Transition) -> None:
        """Operations hear of escalations, failures and what the system did for a user; a
        workflow's people hear of its reminders."""
        event = transition.event
        workflow = transition.after
        message = {
            "workflowId": workflow.workflowId,
            "type": workflow.type,
            "status": workflow.status,
            "executionStatus": workflow.executionStatus,
            "escalationLevel": workflow.escalationLevel,
            "event": event.model_dump(mode="json"),
        }
        timed_out = event.type == EventType.TIMEOUT
        subject = f"[{event.type}] {workflow.type} {workflow.workflowId} ({workflow.status})"
        escalated = (
            event.type == EventType.ESCALATED
            or (timed_out and event.details.get("escalated"))
            or event.details.get("action") == "escalate"
        )
        if escalated:
            subject = f"[ESCALATED level {workflow.escalationLevel}] {workflow.type} {workflow.workflowId}"
            self.notifier.alert(subject, message, kind="escalation", level=workflow.escalationLevel)
        elif event.type == EventType.FAILED:
            self.notifier.alert(subject, message, kind="failure")
        elif timed_out and event.signal:
            self.notifier.alert(subject, message)
        if timed_out and event.details.get("reminder"):
            title = workflow.input.get("title") or workflow.workflowId
            self.notifier.notify(f"Reminder: {title}", {**message, "fields": workflow.fields})


def with_changes(transition: Transition, **changes: Any) -> Transition:
    """The transition with its new state changed (wait bookkeeping the engine adds)."""
    return dataclasses.replace(transition, after=transition.after.model_copy(update=changes))


def identity_of(record: Mapping[str, Any]) -> Identity:
    """Who sent a kept signal, as its record says."""
    return Identity(user_id=record.get("actor", "unknown"), groups=frozenset(record.get("actorGroups", [])))
