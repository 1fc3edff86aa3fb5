"""Use cases of the platform: what the API and the state machine activities ask for.

Each use case reads a workflow, lets the domain decide, and commits the decision in one
conditional transaction; when another writer got there first it reads again and decides again.
AWS access comes in through the ports (store, executions, notifier), so this module imports no SDK.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from functions import clock
from functions.domain import executions as lifetime
from functions.domain import workflow as rules
from functions.domain.errors import (
    BusinessRuleViolation,
    ConcurrentModification,
    DomainError,
    Forbidden,
    NotConfigured,
    PermanentActivityError,
    TransientActivityError,
    ValidationFailed,
    WorkflowAlreadyStarted,
    WorkflowNotFound,
)
from functions.domain.identity import SYSTEM, Identity
from functions.domain.lifecycle import Lifecycle, SignalContext
from functions.domain.lifecycles import document
from functions.domain.time import iso
from functions.domain.workflow import EventType, ExecutionStatus, Transition, Workflow, public_view
from functions.service.ports import (
    AlreadyExists,
    Executions,
    Files,
    KeptSignal,
    ListFilter,
    Notifier,
    ObjectMissing,
    StaleWrite,
    Store,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How often a use case reads again after losing a race before it gives up (each loss means another
# writer changed the workflow, so this bounds contention, not a retry of failures).
MAX_ATTEMPTS = 50
UPLOAD_URL_SECONDS = 15 * 60
# Looking again for a change (a wait opening, a kept signal applied): after 50 ms, then twice as
# long each time, at most 200 ms apart (a wait opens some 50-150 ms after the one before closed).
FIRST_PAUSE_SECONDS = 0.05


class ReadAgain(StaleWrite):
    """What was read is no longer the state to decide on (a kept signal was decided, a wait opened):
    read again and decide again, as after a lost race."""


@dataclasses.dataclass(frozen=True)
class SignalOutcome:
    status_code: int
    body: dict[str, Any]


class WorkflowService:
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
    def _read_decide_commit(attempt: Callable[[], T], gave_up: str) -> T:
        """Run ``attempt`` (read the workflow, let the domain decide, commit) until no other writer
        got there first: each StaleWrite it raises means the workflow changed since it was read, so
        it is run again, MAX_ATTEMPTS times at most."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except StaleWrite:
                continue
        raise ConcurrentModification(gave_up)

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
        return self._visible(actor, workflow_id, self.store.get(workflow_id))

    def _stored(self, workflow_id: str) -> Workflow:
        """The workflow an activity of its execution acts on (it exists: its execution runs)."""
        workflow = self.store.get(workflow_id)
        if workflow is None:
            raise LookupError(f"workflow {workflow_id} does not exist")
        return workflow

    @staticmethod
    def _visible(actor: Identity, workflow_id: str, workflow: Workflow | None) -> Workflow:
        # Applicants see only what they started; to them the others do not exist.
        if workflow is None or not actor.may_read(workflow.startedBy):
            raise WorkflowNotFound(workflow_id)
        return workflow

    def view(self, workflow: Workflow) -> dict[str, Any]:
        return public_view(workflow, self.lifecycles[workflow.type])

    def get(self, actor: Identity, workflow_id: str) -> dict[str, Any]:
        return self.view(self.read(actor, workflow_id))

    def history(self, actor: Identity, workflow_id: str, limit: int, next_token: str | None) -> dict[str, Any]:
        self.read(actor, workflow_id)
        page = self.store.history(workflow_id, limit, next_token)
        return {"items": page.items, "nextToken": page.next_token}

    def list_workflows(
        self,
        actor: Identity,
        *,
        workflow_type: str | None,
        status: str | None,
        execution_status: str | None,
        started_after: datetime | None,
        started_before: datetime | None,
        limit: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        types = [self.lifecycle(workflow_type).type] if workflow_type else sorted(self.lifecycles)
        if status:
            # Only the lifecycles that have this status can hold workflows in it.
            types = [name for name in types if status in self.lifecycles[name].statuses]
        wanted = ListFilter(
            workflow_types=tuple(types),
            status=status,
            execution_status=execution_status,
            started_after=iso(started_after) if started_after else None,
            started_before=iso(started_before) if started_before else None,
            started_by=None if actor.reads_all() else actor.user_id,
        )
        page = self.store.list_workflows(wanted, limit=limit, next_token=next_token)
        return {"items": [self.view(item) for item in page.items], "nextToken": page.next_token}

    def metrics(self, workflow_type: str | None) -> dict[str, Any]:
        types = [self.lifecycle(workflow_type).type] if workflow_type else sorted(self.lifecycles)
        counters = self.store.counters(types)
        by_execution = {
            status.value: sum(counters[name].by_execution_status.get(status.value, 0) for name in types)
            for status in rules.ExecutionStatus
        }
        total = sum(counters[name].total for name in types)
        closed = sum(counters[name].closed_count for name in types)
        failed = sum(counters[name].failed for name in types)
        return {
            "total": total,
            "byExecutionStatus": by_execution,
            "byType": {
                name: {
                    "total": counters[name].total,
                    "byExecutionStatus": {
                        status.value: counters[name].by_execution_status.get(status.value, 0)
                        for status in rules.ExecutionStatus
                    },
                    "byStatus": {status: count for status, count in counters[name].by_status.items() if count},
                }
                for name in types
            },
            "failureRate": round(failed / total, 4) if total else 0.0,
            "averageExecutionSeconds": round(sum(counters[name].closed_seconds for name in types) / closed, 3)
            if closed
            else None,
        }

    # ----- start and terminate ---------------------------------------------------------------

    def start(self, actor: Identity, workflow_type: str, workflow_id: str | None, raw_input: Any) -> dict[str, Any]:
        lifecycle = self.lifecycle(workflow_type)
        if not actor.may(lifecycle.starters):
            raise Forbidden(f"the caller's groups may not start {workflow_type} workflows")
        workflow_id = workflow_id or f"{workflow_type}-{uuid.uuid4().hex[:16]}"
        transition = rules.start(lifecycle, workflow_id, raw_input, actor, self.now())
        rules.check_references(lifecycle, transition.after.input, actor, self.store.get)
        try:
            self.store.create(transition)
        except AlreadyExists as error:
            existing = self.store.get(workflow_id)
            state = "running" if existing and existing.is_running else "closed"
            raise WorkflowAlreadyStarted(
                f"a workflow with id {workflow_id!r} already exists ({state}); workflow ids are unique",
                [
                    {
                        "field": "workflowId",
                        "value": workflow_id,
                        "executionStatus": existing and existing.executionStatus,
                    }
                ],
            ) from error
        self._start_execution(transition.after)
        return self.view(transition.after)

    def _start_execution(self, workflow: Workflow) -> None:
        try:
            arn = self.executions.start(workflow.type, workflow.executionName, self.route(workflow))
        except Exception as error:
            self.record_failure(workflow.workflowId, "StartExecutionFailed", repr(error))
            raise
        # The execution's first wait stores its ARN ($$.Execution.Id). An ARN other than the one its name
        # gives (the documented form) is kept at once, so that a stop before that wait finds it too.
        if arn != self.executions.execution_arn(workflow.type, workflow.executionName):
            self.store.record_execution_arn(workflow.workflowId, workflow.executionName, arn)

    def resume_execution(self, workflow_id: str) -> None:
        """The running workflow's execution is gone with the engine that ran it (the local platform
        restarted): start it again, with the same name, from the stored state. Its wait opens anew
        and lasts until the workflow's timers are due; signals kept meanwhile are applied there."""

        def attempt() -> None:
            workflow = self.store.get(workflow_id)
            if workflow is None or not workflow.is_running:
                return
            gone = {"waitToken": None, "waitStatus": None, "unreleasedToken": None}
            after = self.store.save_bookkeeping(workflow, workflow.model_copy(update=gone))
            self.executions.start(after.type, after.executionName, self.route(after))

        self._read_decide_commit(attempt, f"could not resume the execution of {workflow_id}")

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

    def _continue_as_new(self, workflow: Workflow, reason: str) -> Workflow:
        """The workflow goes on in a new execution at the same wait; the caller ends the current one.
        Raises StaleWrite when another writer changed the workflow first."""
        after = self.commit([rules.continue_as_new(workflow, self.now(), reason)])
        self._start_execution(after)
        return after

    def _continuation_reason(self, workflow: Workflow) -> str:
        if workflow.continueAtNextWait:
            return "the lifecycle reached a boundary it continues at"
        days = lifetime.CONTINUE_AFTER_SECONDS // lifetime.DAY
        return f"the execution ran {days} days (a Step Functions execution lasts at most a year)"

    def _execution_arn(self, workflow: Workflow) -> str:
        """The current execution's ARN as Step Functions gave it; until its first wait opened, the
        ARN its name gives."""
        return workflow.executionArn or self.executions.execution_arn(workflow.type, workflow.executionName)

    def terminate(
        self,
        actor: Identity,
        workflow_id: str,
        reason: str,
        event_type: EventType = EventType.TERMINATED,
        **details: Any,
    ) -> dict[str, Any]:

        def attempt() -> dict[str, Any]:
            workflow = self.read(actor, workflow_id)
            after = self.commit([rules.terminate(workflow, self.now(), actor.user_id, reason, event_type, **details)])
            self.executions.stop(self._execution_arn(workflow), reason)
            return self.view(after)

        return self._read_decide_commit(attempt, f"workflow {workflow_id!r} kept changing; try again")

    # ----- operations on one workflow (operators) -----------------------------------------------

    def _change(self, actor: Identity, workflow_id: str, decide: Callable[[Workflow], Transition]) -> Workflow:
        """Read, decide, commit; again if another writer got there first."""
        return self._read_decide_commit(
            lambda: self.commit([decide(self.read(actor, workflow_id))]),
            f"workflow {workflow_id!r} kept changing; try again",
        )

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
        after = self._change(
            actor,
            workflow_id,
            lambda workflow: rules.escalate(
                workflow, self.now(), actor.user_id, reason, level, event_type=event_type, **details
            ),
        )
        return self.view(after)

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
        after = self._change(
            actor,
            workflow_id,
            lambda workflow: rules.retry(workflow, self.now(), actor.user_id, event_type, reason=reason, **details),
        )
        self._start_execution(after)
        return self.view(after)

    def intervene(self, actor: Identity, workflow_id: str, request: Any) -> tuple[int, dict[str, Any]]:
        """A manual intervention (operators): each audited in the history as an INTERVENTION with the
        operator's identity, the action and the reason."""
        action, reason = request.action, request.reason
        audit = {"action": action, "intervention": True}
        if action == "signal":
            outcome = self.signal(
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
        after = self._change(
            actor,
            workflow_id,
            lambda workflow: rules.patch_metadata(workflow, self.now(), actor.user_id, request.metadata or {}, reason),
        )
        return 200, self.view(after)

    def on_execution_status(
        self,
        execution_name: str,
        status: str,
        error: str | None,
        cause: str | None,
        workflow_id: str | None = None,
    ) -> str:
        """An execution failed, timed out or was aborted (Step Functions' status-change event): say so on
        its workflow if nothing did yet. The workflow is the one the execution's input names, else the
        one its name was made from. Answers what was done."""
        workflow_id = workflow_id or lifetime.workflow_id_of(execution_name)
        workflow = self.store.get(workflow_id)
        if workflow is None or workflow.executionName != execution_name:
            return "ignored: not the workflow's current execution"
        if not workflow.is_running:
            return f"ignored: already {workflow.executionStatus}"
        if status == "ABORTED":
            self._change(
                SYSTEM,
                workflow_id,
                lambda current: rules.terminate(
                    current, self.now(), SYSTEM.user_id, "the execution was stopped outside the platform"
                ),
            )
            return "terminated"
        execution_status = ExecutionStatus.TIMED_OUT if status == "TIMED_OUT" else ExecutionStatus.FAILED
        name = "ExecutionTimedOut" if status == "TIMED_OUT" else (error or "ExecutionFailed")

        def failed(current: Workflow) -> Transition:
            transition = rules.fail(current, self.now(), name, cause, execution_status)
            if transition is None:
                raise _AlreadyClosed
            return transition

        try:
            self._change(SYSTEM, workflow_id, failed)
        except _AlreadyClosed:
            return "ignored: closed meanwhile"
        return execution_status.value.lower()

    # ----- signals ---------------------------------------------------------------------------

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
        return [transition, *self._follow_ups(transition, context)]

    def _follow_ups(self, transition: Transition, context: SignalContext) -> list[Transition]:
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
                transition = _with(transition, unreleasedToken=None)
            if transition.before is not None and transition.moves_execution:
                releases = index > 0 or release_main
                wait_token = (token if index == 0 and token else transition.before.waitToken) if releases else None
                # The closed wait is committed with the transition; until its execution is known to
                # have moved on, the reconciliation completes it again if this process cannot.
                transition = _with(
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
                self._start_execution(after)
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

    def signal(
        self,
        actor: Identity,
        workflow_id: str,
        signal: str,
        payload: Any,
        event_type: EventType = EventType.SIGNAL_APPLIED,
        **details: Any,
    ) -> SignalOutcome:
        deadline = time.monotonic() + self.signal_apply_wait_seconds
        # The workflow as last seen changing (its wait opening), read again by nobody.
        seen: list[Workflow] = []

        def attempt() -> SignalOutcome:
            workflow = self._visible(actor, workflow_id, seen.pop()) if seen else self.read(actor, workflow_id)
            lifecycle = self.lifecycles[workflow.type]
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
                self.decide(actor, self._projected(lifecycle, workflow), signal, payload)
                sequence = self._enqueue(workflow, actor, signal, payload, event_type, details)
                return self._await_queued(workflow_id, sequence, deadline)
            after = self.commit(self.decide(actor, workflow, signal, payload, event_type, **details))
            return SignalOutcome(200, self.view(after))

        return self._read_decide_commit(attempt, f"workflow {workflow_id!r} kept changing; try again")

    def _projected(self, lifecycle: Lifecycle, workflow: Workflow) -> Workflow:
        """The workflow as it will be once the signals already kept are applied (rejected ones skipped)."""
        projected = workflow
        if workflow.pendingSignals:
            for record in self._pending(workflow):
                try:
                    # Judged as the wait will judge it: with the facts its rules read.
                    spec = rules.signal_spec(lifecycle, record["signal"])
                    projected = rules.apply_signal(
                        lifecycle,
                        projected,
                        record["signal"],
                        record.get("payload"),
                        self.context(_identity(record), projected, spec.facts),
                    ).after
                except DomainError:
                    continue
        return projected

    def _enqueue(
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
            "signal": signal,
            "payload": payload if payload is not None else {},
            "queueStatus": "QUEUED",
            "sequence": sequence,
            "receivedAt": iso(self.now()),
            "actor": actor.user_id,
            "actorGroups": sorted(actor.groups),
            # How the history records it when applied (an operator's intervention stays one).
            "eventType": event_type.value,
            "details": details or {},
        }
        after = workflow.model_copy(update={"pendingSignals": workflow.pendingSignals + 1, "signalSeq": sequence})
        self.store.save_bookkeeping(workflow, after, KeptSignal(workflow.workflowId, sequence, record))
        return sequence

    def _until_wait_opens(self, workflow_id: str, revision: int, deadline: float) -> Workflow | None:
        """Wait, until ``deadline`` at most, for the workflow to change (its next wait opening):
        the workflow as it is then, or None if it did not change in time."""
        pause = FIRST_PAUSE_SECONDS
        while time.monotonic() < deadline:
            clock.pause(min(pause, max(0.0, deadline - time.monotonic())), about=workflow_id)
            workflow = self.store.get(workflow_id)
            if workflow is None or workflow.revision != revision:
                return workflow
            pause = min(pause * 2, 0.2)
        return None

    def _await_queued(self, workflow_id: str, sequence: int, deadline: float) -> SignalOutcome:
        pause = FIRST_PAUSE_SECONDS
        while True:
            record = self.store.signal_record(workflow_id, sequence) or {}
            if record.get("queueStatus") == "APPLIED":
                return SignalOutcome(200, self.view(self.store.get(workflow_id)))  # type: ignore[arg-type]
            if record.get("queueStatus") == "REJECTED":
                raise _recorded_error(record["error"])
            if time.monotonic() >= deadline:
                workflow = self.store.get(workflow_id)
                assert workflow is not None
                return SignalOutcome(
                    202,
                    {
                        "queued": True,
                        "signalSequence": sequence,
                        "message": "the workflow is between two waits; the signal is kept and applied, in order, "
                        "when the next wait opens",
                        "workflow": self.view(workflow),
                    },
                )
            clock.pause(pause, about=workflow_id)
            pause = min(pause * 2, 0.2)

    # ----- activities the state machines call ------------------------------------------------

    def open_wait(
        self,
        workflow_id: str,
        status: str,
        task_token: str,
        execution_name: str | None = None,
        execution_arn: str | None = None,
    ) -> dict[str, Any]:
        """Open the wait for ``status``: apply the signals kept meanwhile, in order, hand over to a new
        execution when this one must continue, or register the token (and the execution's ARN)."""
        # Mostly the workflow is still in that status with nothing kept: one conditional write.
        handover_before = iso(self.now() - timedelta(seconds=lifetime.CONTINUE_AFTER_SECONDS))
        if self.store.open_wait(workflow_id, status, task_token, execution_name, execution_arn, handover_before):
            return {"released": False, "status": status}

        def attempt() -> dict[str, Any]:
            workflow = self._stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                # Another execution runs the workflow now: this one ends.
                self.executions.release(task_token, self.route(workflow, continued_as=workflow.executionName))
                return {"released": True, "status": workflow.status, "continuedAs": workflow.executionName}
            if not workflow.is_running or workflow.status != status:
                # It moved on (a timeout and a signal crossed): let the execution follow it.
                self.executions.release(task_token, self.route(workflow))
                return {"released": True, "status": workflow.status}
            if workflow.pendingSignals:
                released = self._apply_oldest_queued(workflow, task_token)
                if released is None:  # applied without moving, or decided meanwhile: the next one
                    raise ReadAgain
                return released
            if lifetime.must_continue(workflow, self.now()):
                after = self._continue_as_new(workflow, self._continuation_reason(workflow))
                self.executions.release(task_token, self.route(after, continued_as=after.executionName))
                return {"released": True, "status": after.status, "continuedAs": after.executionName}
            # The execution reached this wait: the one before it was released.
            registered = {"waitToken": task_token, "waitStatus": status, "unreleasedToken": None}
            if execution_arn and not workflow.executionArn:
                registered["executionArn"] = execution_arn
            self.store.save_bookkeeping(workflow, workflow.model_copy(update=registered))
            return {"released": False, "status": status}

        return self._read_decide_commit(attempt, f"could not open the wait of {workflow_id}")

    @staticmethod
    def _oldest_pending(workflow: Workflow) -> int:
        # Kept signals are decided oldest first, so the undecided ones are always the newest
        # ``pendingSignals`` of them: the workflow's state names them, as of that read of it.
        return workflow.signalSeq - workflow.pendingSignals + 1

    def _pending(self, workflow: Workflow) -> list[dict[str, Any]]:
        """The signals kept and not yet decided as of this read of the workflow (read by sequence, not
        by status: a record decided since the read is still one the read counts)."""
        return self.store.kept_signals(workflow.workflowId, self._oldest_pending(workflow), workflow.signalSeq)

    def _apply_oldest_queued(self, workflow: Workflow, task_token: str) -> dict[str, Any] | None:
        record = self.store.signal_record(workflow.workflowId, self._oldest_pending(workflow))
        if record is None or record.get("queueStatus") != "QUEUED":
            # The count and the records disagree (or it was decided since this read): read again.
            if record is None:
                self._save_quietly(workflow, workflow.model_copy(update={"pendingSignals": 0}))
            return None
        key = (workflow.workflowId, int(record["sequence"]))
        try:
            transitions = self.decide(
                _identity(record),
                workflow,
                record["signal"],
                record.get("payload"),
                EventType(record.get("eventType", EventType.SIGNAL_APPLIED)),
                **record.get("details", {}),
            )
        except DomainError as error:
            rejected = {
                **record,
                "queueStatus": "REJECTED",
                "decidedAt": iso(self.now()),
                "error": {"status": error.status_code, **error.to_body()},
            }
            self._save_quietly(
                workflow,
                workflow.model_copy(update={"pendingSignals": workflow.pendingSignals - 1}),
                KeptSignal(*key, rejected),
            )
            return None
        # The execution is at this wait: the one before it was released.
        transition = _with(transitions[0], pendingSignals=workflow.pendingSignals - 1, unreleasedToken=None)
        applied = {
            **record,
            "queueStatus": "APPLIED",
            "decidedAt": iso(self.now()),
            "historySequence": transition.event.sequence,
        }
        try:
            after = self.commit([transition, *transitions[1:]], KeptSignal(*key, applied), token=task_token)
        except StaleWrite:
            return None
        if transition.moves_execution:
            return {"released": True, "status": after.status}
        return None

    def _save_quietly(self, before: Workflow, after: Workflow, signal: KeptSignal | None = None) -> None:
        with contextlib.suppress(StaleWrite):  # the caller reads again
            self.store.save_bookkeeping(before, after, signal)

    def on_timeout(self, workflow_id: str, status: str, execution_name: str | None = None) -> dict[str, Any]:
        """A wait ended by its timeout: the state's own timer (escalate, or act for the user, as the
        lifecycle says), or the execution's time to hand over to a new one (continue-as-new)."""

        def attempt() -> dict[str, Any]:
            workflow = self._stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                return self.route(workflow, continued_as=workflow.executionName)
            lifecycle = self.lifecycles[workflow.type]
            now = self.now()
            in_wait = workflow.is_running and workflow.status == status
            if in_wait and not lifetime.timer_is_due(lifecycle, workflow, now, self.timeouts[workflow.type]):
                if not lifetime.must_continue(workflow, now):
                    return self.route(workflow)  # woken early: wait for the rest
                after = self._continue_as_new(workflow, self._continuation_reason(workflow))
                return self.route(after, continued_as=after.executionName)
            timeout = lifecycle.timeout_for(status)
            acts_as = rules.signal_spec(lifecycle, timeout.signal) if timeout and timeout.signal else None
            # What the system does for the user is judged with the facts its rules read.
            context = self.context(SYSTEM, workflow, acts_as.facts if acts_as else ())
            transition = rules.time_out(lifecycle, workflow, status, context)
            if transition is None:
                return self.route(workflow)
            try:
                transitions = [transition, *self._follow_ups(transition, context)]
            except BusinessRuleViolation as violation:
                # What the system would do for the user needs another workflow that cannot take it.
                transitions = [
                    rules.escalate(
                        workflow,
                        context.now,
                        SYSTEM.user_id,
                        f"timeout {status}: {violation.message}",
                        unmetRules=violation.details,
                    )
                ]
            # The wait that timed out is closed whatever the outcome, and its timers start again; the
            # execution routes on the answer.
            transitions[0] = _with(transitions[0], waitToken=None, waitStatus=None, timersSince=iso(context.now))
            return self.route(self.commit(transitions, release_main=False))

        return self._read_decide_commit(attempt, f"could not apply the timeout of {workflow_id}")

    def validate_document(self, workflow_id: str, status: str) -> dict[str, Any]:
        """Activity: the stored file is what the document declares, or the workflow cannot go on."""

        def attempt() -> dict[str, Any]:
            workflow = self._stored(workflow_id)
            if not workflow.is_running or workflow.status != status:
                return self.route(workflow)
            if self.files is None:
                raise PermanentActivityError("no documents bucket is configured")
            key = str(workflow.fields["objectKey"])
            try:
                stored = self.files.inspect(key)
            except ObjectMissing as error:
                # The upload may still be on its way: the state machine retries with back-off.
                raise TransientActivityError(f"no stored file at {key} yet") from error
            problems = document.validation_problems(
                workflow.fields, str(workflow.input.get("kind")), stored.size_bytes, stored.sha256
            )
            if problems:
                raise PermanentActivityError(
                    f"the stored file of {workflow_id} is not what was declared: " + "; ".join(problems)
                )
            transitions = self.decide(
                SYSTEM, workflow, "documentValidated", {"sha256": stored.sha256, "sizeBytes": stored.size_bytes}
            )
            # The execution is in this activity, not in a wait: it routes on the answer.
            return self.route(self.commit(transitions, release_main=False))

        return self._read_decide_commit(attempt, f"could not validate {workflow_id}")

    def request_upload(self, actor: Identity, file_name: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        """A presigned PUT URL and the object key where a document's file goes."""
        if not actor.may(self.lifecycle(document.TYPE).starters):
            raise Forbidden("the caller's groups may not upload documents")
        if self.files is None:
            raise NotConfigured("document uploads are not configured on this deployment (no documents bucket)")
        safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in file_name)[-120:] or "file"
        key = f"uploads/{actor.user_id}/{uuid.uuid4().hex}/{safe_name}"
        expires = UPLOAD_URL_SECONDS
        return {
            "uploadUrl": self.files.upload_url(key, content_type, size_bytes, expires),
            "objectKey": key,
            "method": "PUT",
            "headers": {"Content-Type": content_type},
            "expiresAt": iso(self.now() + timedelta(seconds=expires)),
        }

    def record_failure(
        self, workflow_id: str, error: str, cause: str | None, execution_name: str | None = None
    ) -> dict[str, Any]:
        """The execution failed where the state machine could catch it: say so on the workflow (unless
        another execution runs it now)."""

        def attempt() -> dict[str, Any]:
            workflow = self._stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                return {"workflowId": workflow_id, "executionStatus": workflow.executionStatus}
            transition = rules.fail(workflow, self.now(), error, cause)
            if transition is None:
                return {"workflowId": workflow_id, "executionStatus": workflow.executionStatus}
            after = self.commit([transition])
            return {"workflowId": workflow_id, "executionStatus": after.executionStatus}

        return self._read_decide_commit(attempt, f"could not record the failure of {workflow_id}")

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


class _AlreadyClosed(Exception):
    pass


def _with(transition: Transition, **changes: Any) -> Transition:
    return dataclasses.replace(transition, after=transition.after.model_copy(update=changes))


def _identity(record: Mapping[str, Any]) -> Identity:
    return Identity(user_id=record.get("actor", "unknown"), groups=frozenset(record.get("actorGroups", [])))


def _recorded_error(error: Mapping[str, Any]) -> DomainError:
    recorded = DomainError(
        error.get("message", "signal rejected"),
        error.get("details"),
        **{key: value for key, value in error.items() if key not in ("status", "error", "message", "details")},
    )
    recorded.status_code = int(error.get("status", 409))
    recorded.code = str(error.get("error", "SIGNAL_REJECTED"))
    return recorded
