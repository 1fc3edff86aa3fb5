"""The workflow engine's rules: start, apply a signal, time out, escalate, fail, terminate.

Pure functions from a workflow (and a request) to a ``Transition``: the new state plus the one
history event that records it. Nothing here does I/O; the service layer stores the result in one
transaction, conditional on the version it read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from functions.domain.common import METADATA_MAX_BYTES, merge_patch, refuse_protected_keys
from functions.domain.errors import (
    BusinessRuleViolation,
    Forbidden,
    NotRetryable,
    SignalNotAllowed,
    StatusNotInLifecycle,
    UnknownSignal,
    ValidationFailed,
    WorkflowClosed,
)
from functions.domain.executions import CONTINUATION, RETRY, execution_name
from functions.domain.identity import Identity
from functions.domain.lifecycle import SYSTEM_ACTOR, Lifecycle, SignalContext, SignalSpec, WorkflowView
from functions.domain.schema import CURRENT_VERSION, upgraded
from functions.domain.time import iso, parse_iso


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"
    TIMED_OUT = "TIMED_OUT"


class EventType(StrEnum):
    STARTED = "STARTED"
    SIGNAL_APPLIED = "SIGNAL_APPLIED"
    TIMEOUT = "TIMEOUT"
    ESCALATED = "ESCALATED"
    RETRIED = "RETRIED"
    INTERVENTION = "INTERVENTION"
    TERMINATED = "TERMINATED"
    FAILED = "FAILED"
    MIGRATED = "MIGRATED"
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW"


class Workflow(BaseModel):
    """A workflow's current state, as stored (one item) and, less the wait bookkeeping, as answered."""

    schemaVersion: int = CURRENT_VERSION
    workflowId: str
    type: str
    status: str
    executionStatus: ExecutionStatus = ExecutionStatus.RUNNING
    startTime: str
    closeTime: str | None = None
    lastProgressAt: str
    historyLength: int = 0
    version: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)
    retryCount: int = 0
    escalationLevel: int = 0
    input: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    startedBy: str
    failure: dict[str, Any] | None = None
    # The execution that runs the workflow now: its name, its ARN as Step Functions gave it (once its
    # first wait opened), when it started, and how many executions continued the first one.
    executionName: str
    executionArn: str | None = None
    executionStartedAt: str | None = None
    continuations: int = 0
    # The lifecycle reached a boundary it continues at (executions.py): the next wait hands over.
    continueAtNextWait: bool = False
    # When the current state's timers started (entering it, or its last timeout), so that a new
    # execution carries them over.
    timersSince: str | None = None
    # Wait bookkeeping: the task token of the open wait, and the signals kept while no wait is open.
    waitToken: str | None = None
    waitStatus: str | None = None
    # The token of a wait a committed transition closed, until its execution is known to have moved on
    # (its next activity ran, or the completion was answered): what the reconciliation completes again.
    unreleasedToken: str | None = None
    pendingSignals: int = 0
    signalSeq: int = 0
    # Bumped on every write of the item, wait bookkeeping included: the optimistic-concurrency check.
    revision: int = 0

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Every stored version reads as the current one (written back so on its next change)."""
        if isinstance(data, dict):
            data = upgraded("state", data.get("type"), data)
        if isinstance(data, dict) and not data.get("executionStartedAt") and data.get("startTime"):
            # Stored before executions were continued: the first execution started with the workflow.
            data = {**data, "executionStartedAt": data["startTime"]}
        return data

    @property
    def is_running(self) -> bool:
        return self.executionStatus == ExecutionStatus.RUNNING

    @property
    def wait_is_open(self) -> bool:
        return self.waitToken is not None

    def view(self) -> WorkflowView:
        return WorkflowView(self.workflowId, self.status, self.input, self.fields, self.metadata)


class HistoryEvent(BaseModel):
    sequence: int
    time: str
    type: EventType
    fromStatus: str | None = None
    toStatus: str | None = None
    actor: str
    signal: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    before: Workflow | None
    after: Workflow
    event: HistoryEvent
    # The validated payload of the signal that made it, for what follows from it.
    payload: Any = None
    # The open wait closes and opens anew although the status stays (new timers).
    restarts_wait: bool = False

    @property
    def status_changed(self) -> bool:
        return self.before is None or self.before.status != self.after.status

    @property
    def moves_execution(self) -> bool:
        """The execution leaves its current wait: the wait's task token is completed."""
        return self.status_changed or self.restarts_wait

    @property
    def closed(self) -> bool:
        return self.before is not None and self.before.is_running and not self.after.is_running


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "(body)", "message": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]


def parse_payload(model: type[BaseModel], raw: Any, what: str) -> BaseModel:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed(f"{what} must be a JSON object", [{"field": "(body)", "message": "not an object"}])
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        raise ValidationFailed(f"{what} is invalid", validation_details(error)) from error


INTERNAL_FIELDS = frozenset(
    {
        "waitToken",
        "waitStatus",
        "unreleasedToken",
        "pendingSignals",
        "signalSeq",
        "revision",
        "fields",
        "executionName",
        "executionArn",
        "executionStartedAt",
        "continuations",
        "continueAtNextWait",
        "timersSince",
    }
)


def public_view(workflow: Workflow, lifecycle: Lifecycle) -> dict[str, Any]:
    """The state as clients see it: common fields, the lifecycle's fields, and the signals awaited."""
    data = workflow.model_dump(mode="json", exclude=set(INTERNAL_FIELDS))
    data.update(workflow.fields)
    data["awaiting"] = lifecycle.awaiting(workflow.status) if workflow.is_running else []
    return data


def _new_execution(name: str, now: datetime) -> dict[str, Any]:
    """What a workflow handed to a new execution (a retry, a continuation, a move) starts with: the
    execution's name, no ARN until its first wait, no wait yet."""
    return {
        "executionName": name,
        "executionArn": None,
        "executionStartedAt": iso(now),
        "continueAtNextWait": False,
        "waitToken": None,
        "waitStatus": None,
        "unreleasedToken": None,
    }


def _next(workflow: Workflow, now: datetime, **changes: Any) -> Workflow:
    updated = workflow.model_copy(deep=True, update=changes)
    updated.version = workflow.version + 1
    updated.historyLength = workflow.historyLength + 1
    updated.lastProgressAt = iso(now)
    return updated


def _event(
    before: Workflow,
    after: Workflow,
    now: datetime,
    type_: EventType,
    actor: str,
    signal: str | None = None,
    **details: Any,
) -> HistoryEvent:
    return HistoryEvent(
        sequence=after.historyLength,
        time=iso(now),
        type=type_,
        fromStatus=before.status,
        toStatus=after.status,
        actor=actor,
        signal=signal,
        details={key: value for key, value in details.items() if value is not None},
    )


def start(lifecycle: Lifecycle, workflow_id: str, raw_input: Any, actor: Identity, now: datetime) -> Transition:
    data = parse_payload(lifecycle.input_model, raw_input, "input")
    for field_name in lifecycle.person_input_fields:
        if getattr(data, field_name, None) is None:
            setattr(data, field_name, actor.user_id)
    workflow = Workflow(
        workflowId=workflow_id,
        type=lifecycle.type,
        status=lifecycle.initial_status,
        startTime=iso(now),
        lastProgressAt=iso(now),
        historyLength=1,
        version=1,
        input=data.model_dump(mode="json"),
        fields=lifecycle.fields_model.model_validate(
            lifecycle.on_start(data, now) if lifecycle.on_start else {}
        ).model_dump(mode="json"),
        startedBy=actor.user_id,
        executionName=execution_name(workflow_id),
        executionStartedAt=iso(now),
        timersSince=iso(now),
    )
    event = HistoryEvent(
        sequence=1,
        time=iso(now),
        type=EventType.STARTED,
        fromStatus=None,
        toStatus=workflow.status,
        actor=actor.user_id,
        details={"input": workflow.input},
    )
    return Transition(before=None, after=workflow, event=event)


def signal_spec(lifecycle: Lifecycle, signal: str) -> SignalSpec:
    spec = lifecycle.signals.get(signal)
    if spec is None:
        raise UnknownSignal(signal, lifecycle.type, list(lifecycle.signals))
    return spec


def check_signal(lifecycle: Lifecycle, workflow: Workflow, signal: str, raw_payload: Any) -> BaseModel:
    """The checks that need no facts: the workflow is open, the state accepts the signal, the payload fits."""
    spec = signal_spec(lifecycle, signal)
    if not workflow.is_running:
        raise WorkflowClosed(workflow.workflowId, workflow.executionStatus)
    if workflow.status not in spec.sources:
        raise SignalNotAllowed(signal, workflow.status, lifecycle.awaiting(workflow.status))
    return parse_payload(spec.payload_model, raw_payload, f"payload of {signal}")


def apply_signal(
    lifecycle: Lifecycle,
    workflow: Workflow,
    signal: str,
    raw_payload: Any,
    context: SignalContext,
    event_type: EventType = EventType.SIGNAL_APPLIED,
    **details: Any,
) -> Transition:
    spec = signal_spec(lifecycle, signal)
    payload = check_signal(lifecycle, workflow, signal, raw_payload)
    view = workflow.view()
    unmet = [rule for rule in spec.rules if not rule.check(view, payload, context)]
    if unmet:
        raise BusinessRuleViolation(
            f"{signal} needs every rule met; unmet: {', '.join(rule.name for rule in unmet)}",
            [{"rule": rule.name, "message": rule.message(view, payload, context)} for rule in unmet],
        )
    try:
        changes = spec.effect(view, payload, context)
    except ValueError as error:
        raise ValidationFailed(str(error), [{"field": "(body)", "message": str(error)}]) from error
    metadata = changes.pop("metadata", workflow.metadata)
    status = spec.target or workflow.status
    after = _next(workflow, context.now, status=status, fields={**workflow.fields, **changes}, metadata=metadata)
    if spec.moves_execution:
        after.timersSince = iso(context.now)
    if spec.continues_execution:
        after.continueAtNextWait = True
    if status in lifecycle.terminal_statuses:
        after.executionStatus = ExecutionStatus.COMPLETED
        after.closeTime = iso(context.now)
    payload_dump = payload.model_dump(mode="json", exclude_none=True)
    event = _event(
        workflow, after, context.now, event_type, context.actor.user_id, signal, payload=payload_dump or None, **details
    )
    return Transition(workflow, after, event, payload, restarts_wait=spec.restarts_wait)


def escalate(
    workflow: Workflow,
    now: datetime,
    actor: str,
    reason: str,
    level: int | None = None,
    fields: Mapping[str, Any] | None = None,
    event_type: EventType = EventType.ESCALATED,
    failure: Mapping[str, Any] | None = None,
    **details: Any,
) -> Transition:
    """Hand the workflow to people: the level rises (or is set), operations are alerted."""
    new_level = level if level is not None else workflow.escalationLevel + 1
    changes: dict[str, Any] = {"escalationLevel": new_level, "fields": {**workflow.fields, **(fields or {})}}
    if failure is not None:
        changes["failure"] = dict(failure)
    after = _next(workflow, now, **changes)
    event = _event(
        workflow,
        after,
        now,
        event_type,
        actor,
        reason=reason,
        level=new_level,
        previousLevel=workflow.escalationLevel,
        **details,
    )
    return Transition(workflow, after, event)


RETRYABLE = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.TERMINATED)


def retry(
    workflow: Workflow,
    now: datetime,
    actor: str,
    event_type: EventType = EventType.RETRIED,
    **details: Any,
) -> Transition:
    """Run a closed (failed, timed-out, terminated) workflow again from its last persisted state."""
    if workflow.executionStatus not in RETRYABLE:
        raise NotRetryable(
            f"only FAILED, TIMED_OUT or TERMINATED workflows can be retried; {workflow.workflowId} is "
            f"{workflow.executionStatus}",
            [{"field": "executionStatus", "value": workflow.executionStatus}],
        )
    attempt = workflow.retryCount + 1
    after = _next(
        workflow,
        now,
        executionStatus=ExecutionStatus.RUNNING,
        closeTime=None,
        failure=None,
        retryCount=attempt,
        **_new_execution(execution_name(workflow.workflowId, RETRY, attempt), now),
    )
    event = _event(
        workflow,
        after,
        now,
        event_type,
        actor,
        attempt=attempt,
        previousExecutionStatus=workflow.executionStatus,
        previousFailure=workflow.failure,
        **details,
    )
    return Transition(workflow, after, event)


def check_references(
    lifecycle: Lifecycle, start_input: Mapping[str, Any], actor: Identity, find: Callable[[str], Workflow | None]
) -> None:
    """Refuses a start (403, naming the rule) whose input names a workflow the caller does not own;
    operators act for anyone."""
    if actor.is_operator:
        return
    for reference in lifecycle.references:
        referenced_id = str(start_input.get(reference.id_field) or "")
        expected_type = reference.workflow_type or start_input.get(reference.type_field or "")
        other = find(referenced_id) if referenced_id else None
        owned = (
            other is not None
            and other.type == expected_type
            and (
                other.startedBy == actor.user_id
                or any(other.input.get(field) == actor.user_id for field in reference.owner_fields)
            )
        )
        if not owned:
            raise Forbidden(
                f"{reference.description}: {referenced_id!r} is not one",
                [
                    {
                        "rule": reference.rule,
                        "field": f"input.{reference.id_field}",
                        "value": referenced_id,
                        "message": reference.description,
                    }
                ],
            )


def patch_metadata(workflow: Workflow, now: datetime, actor: str, patch: Mapping[str, Any], reason: str) -> Transition:
    """An operator's correction of the metadata, whatever the workflow's state."""
    refuse_protected_keys(patch)
    merged = merge_patch(dict(workflow.metadata), dict(patch))
    if len(json.dumps(merged)) > METADATA_MAX_BYTES:
        raise ValidationFailed(
            "metadata after the merge is too large",
            [{"field": "metadata", "message": f"at most {METADATA_MAX_BYTES} bytes"}],
        )
    after = _next(workflow, now, metadata=merged)
    event = _event(
        workflow, after, now, EventType.INTERVENTION, actor, action="patchMetadata", reason=reason, patch=dict(patch)
    )
    return Transition(workflow, after, event)


def time_out(
    lifecycle: Lifecycle, workflow: Workflow, expected_status: str, context: SignalContext
) -> Transition | None:
    """What a state's timeout does; None when the workflow has moved on since the wait opened. The
    state's timers start again (an escalation keeps waiting, for as long again)."""
    transition = _time_out(lifecycle, workflow, expected_status, context)
    if transition is not None:
        transition.after.timersSince = iso(context.now)
    return transition


def _time_out(
    lifecycle: Lifecycle, workflow: Workflow, expected_status: str, context: SignalContext
) -> Transition | None:
    spec = lifecycle.timeout_for(expected_status)
    if spec is None or not workflow.is_running or workflow.status != expected_status:
        return None
    seconds = context.timeouts.get(spec.name)
    if spec.action == "signal" and spec.signal:
        try:
            return apply_signal(
                lifecycle,
                workflow,
                spec.signal,
                {},
                context,
                EventType.TIMEOUT,
                timeout=spec.name,
                timeoutSeconds=seconds,
            )
        except BusinessRuleViolation as violation:
            # The system cannot act for the user: a person must look at it.
            return escalate(
                workflow,
                context.now,
                SYSTEM_ACTOR,
                f"timeout {spec.name}: {violation.message}",
                timeout=spec.name,
                unmetRules=violation.details,
            )
    if spec.action == "transition" and spec.target:
        level = workflow.escalationLevel + 1 if spec.escalates else workflow.escalationLevel
        after = _next(workflow, context.now, status=spec.target, escalationLevel=level)
        if spec.target in lifecycle.terminal_statuses:
            after.executionStatus = ExecutionStatus.COMPLETED
            after.closeTime = iso(context.now)
        event = _event(
            workflow,
            after,
            context.now,
            EventType.TIMEOUT,
            SYSTEM_ACTOR,
            timeout=spec.name,
            escalated=spec.escalates or None,
            level=level if spec.escalates else None,
            reminder=spec.notifies or None,
        )
        return Transition(workflow, after, event)
    changes = spec.effect(workflow.view(), context.now) if spec.effect else None
    return escalate(
        workflow,
        context.now,
        SYSTEM_ACTOR,
        f"timeout {spec.name}",
        fields=changes,
        timeout=spec.name,
        timeoutSeconds=seconds,
    )


def continue_as_new(workflow: Workflow, now: datetime, reason: str) -> Transition:
    """Hand the workflow over to a new execution (``<id>--cont-N``) at the same wait, with the same
    timers; the current execution ends. Recorded in the history, like any change."""
    number = workflow.continuations + 1
    after = _next(
        workflow,
        now,
        continuations=number,
        **_new_execution(execution_name(workflow.workflowId, CONTINUATION, number), now),
    )
    event = _event(
        workflow,
        after,
        now,
        EventType.CONTINUED_AS_NEW,
        SYSTEM_ACTOR,
        reason=reason,
        previousExecution=workflow.executionName,
        execution=after.executionName,
        continuation=number,
    )
    return Transition(workflow, after, event)


def move_execution(
    lifecycle: Lifecycle,
    workflow: Workflow,
    now: datetime,
    actor: str,
    reason: str,
    status: str | None = None,
    **details: Any,
) -> Transition:
    """Hand a running workflow over to a new execution started on the live definition, in its status or
    the one it is mapped to (a status the new definition renamed): its state and timers carry over,
    the current execution ends. Recorded as MIGRATED, with the definition versions the caller names."""
    if not workflow.is_running:
        raise WorkflowClosed(workflow.workflowId, workflow.executionStatus)
    target = status or workflow.status
    if target not in lifecycle.non_terminal_statuses():
        raise StatusNotInLifecycle(
            f"a moved workflow goes on in a running status of the {lifecycle.type} lifecycle, not {target!r}",
            [{"field": "status", "value": target, "message": f"one of {lifecycle.non_terminal_statuses()}"}],
        )
    number = workflow.continuations + 1
    after = _next(
        workflow,
        now,
        status=target,
        continuations=number,
        **_new_execution(execution_name(workflow.workflowId, CONTINUATION, number), now),
    )
    event = _event(
        workflow,
        after,
        now,
        EventType.MIGRATED,
        actor,
        action="moveExecution",
        reason=reason,
        previousExecution=workflow.executionName,
        execution=after.executionName,
        **details,
    )
    return Transition(workflow, after, event)


def fail(
    workflow: Workflow,
    now: datetime,
    error: str,
    cause: str | None,
    execution_status: ExecutionStatus = ExecutionStatus.FAILED,
) -> Transition | None:
    if not workflow.is_running:
        return None
    failure = {"error": error, "cause": (cause or "")[:4000], "status": workflow.status}
    after = _next(
        workflow,
        now,
        executionStatus=execution_status,
        closeTime=iso(now),
        failure=failure,
        waitToken=None,
        waitStatus=None,
        unreleasedToken=None,
    )
    return Transition(
        workflow,
        after,
        _event(
            workflow,
            after,
            now,
            EventType.FAILED,
            SYSTEM_ACTOR,
            error=error,
            cause=failure["cause"],
            executionStatus=execution_status,
        ),
    )


def terminate(
    workflow: Workflow,
    now: datetime,
    actor: str,
    reason: str,
    event_type: EventType = EventType.TERMINATED,
    **details: Any,
) -> Transition:
    if not workflow.is_running:
        raise WorkflowClosed(workflow.workflowId, workflow.executionStatus)
    after = _next(
        workflow,
        now,
        executionStatus=ExecutionStatus.TERMINATED,
        closeTime=iso(now),
        waitToken=None,
        waitStatus=None,
        unreleasedToken=None,
    )
    return Transition(workflow, after, _event(workflow, after, now, event_type, actor, reason=reason, **details))


def execution_seconds(workflow: Workflow) -> float | None:
    if workflow.closeTime is None:
        return None
    return (parse_iso(workflow.closeTime) - parse_iso(workflow.startTime)).total_seconds()
