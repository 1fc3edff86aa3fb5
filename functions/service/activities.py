"""What the state machines call: opening a wait, a wait's timeout, validating a document, recording a
failure; and what Step Functions says of an execution (failed, timed out, stopped, gone)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from functions.domain import executions as lifetime
from functions.domain import workflow as rules
from functions.domain.errors import (
    BusinessRuleViolation,
    DomainError,
    PermanentActivityError,
    TransientActivityError,
)
from functions.domain.identity import SYSTEM
from functions.domain.lifecycles import document
from functions.domain.time import iso
from functions.domain.workflow import EventType, ExecutionStatus, Transition, Workflow
from functions.service.engine import ReadAgain, WorkflowEngine, identity_of, with_changes
from functions.service.ports import KeptSignal, ObjectMissing, StaleWrite


class _AlreadyClosed(Exception):
    pass


class WorkflowActivities:
    def __init__(self, engine: WorkflowEngine):
        self.engine = engine

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
        engine = self.engine
        # Mostly the workflow is still in that status with nothing kept: one conditional write.
        handover_before = iso(engine.now() - timedelta(seconds=lifetime.CONTINUE_AFTER_SECONDS))
        if engine.store.open_wait(workflow_id, status, task_token, execution_name, execution_arn, handover_before):
            return {"released": False, "status": status}

        def attempt() -> dict[str, Any]:
            workflow = engine.stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                # Another execution runs the workflow now: this one ends.
                engine.executions.release(task_token, engine.route(workflow, continued_as=workflow.executionName))
                return {"released": True, "status": workflow.status, "continuedAs": workflow.executionName}
            if not workflow.is_running:
                # A closed workflow's execution ends here (its stop was lost, or raced its start): released
                # as handed over, which ends it, never back to a wait that would release it again.
                ending = engine.route(workflow, continued_as=workflow.executionName)
                engine.executions.release(task_token, ending)
                return {"released": True, "status": workflow.status, "continuedAs": workflow.executionName}
            if workflow.status != status:
                # It moved on (a timeout and a signal crossed): let the execution follow it.
                engine.executions.release(task_token, engine.route(workflow))
                return {"released": True, "status": workflow.status}
            if workflow.pendingSignals:
                released = self._apply_oldest_kept(workflow, task_token)
                if released is None:  # applied without moving, or decided meanwhile: the next one
                    raise ReadAgain
                return released
            if lifetime.must_continue(workflow, engine.now()):
                after = engine.continue_as_new(workflow, engine.continuation_reason(workflow))
                engine.executions.release(task_token, engine.route(after, continued_as=after.executionName))
                return {"released": True, "status": after.status, "continuedAs": after.executionName}
            # The execution reached this wait: the one before it was released.
            registered = {"waitToken": task_token, "waitStatus": status, "unreleasedToken": None}
            if execution_arn and not workflow.executionArn:
                registered["executionArn"] = execution_arn
            engine.store.save_bookkeeping(workflow, workflow.model_copy(update=registered))
            return {"released": False, "status": status}

        return engine.read_decide_commit(attempt, f"could not open the wait of {workflow_id}")

    def _apply_oldest_kept(self, workflow: Workflow, task_token: str) -> dict[str, Any] | None:
        engine = self.engine
        record = engine.store.signal_record(workflow.workflowId, engine.oldest_undecided(workflow))
        if record is None or record.get("queueStatus") != "QUEUED":
            # The count and the records disagree (or it was decided since this read): read again.
            if record is None:
                self._save_quietly(workflow, workflow.model_copy(update={"pendingSignals": 0}))
            return None
        key = (workflow.workflowId, int(record["sequence"]))
        try:
            transitions = engine.decide(
                identity_of(record),
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
                "decidedAt": iso(engine.now()),
                "error": {"status": error.status_code, **error.to_body()},
            }
            self._save_quietly(
                workflow,
                workflow.model_copy(update={"pendingSignals": workflow.pendingSignals - 1}),
                KeptSignal(*key, rejected),
            )
            return None
        # The execution is at this wait: the one before it was released.
        transition = with_changes(transitions[0], pendingSignals=workflow.pendingSignals - 1, unreleasedToken=None)
        applied = {
            **record,
            "queueStatus": "APPLIED",
            "decidedAt": iso(engine.now()),
            "historySequence": transition.event.sequence,
        }
        try:
            after = engine.commit([transition, *transitions[1:]], KeptSignal(*key, applied), token=task_token)
        except StaleWrite:
            return None
        if transition.moves_execution:
            return {"released": True, "status": after.status}
        return None

    def _save_quietly(self, before: Workflow, after: Workflow, signal: KeptSignal | None = None) -> None:
        with contextlib.suppress(StaleWrite):  # the caller reads again
            self.engine.store.save_bookkeeping(before, after, signal)

    def on_timeout(self, workflow_id: str, status: str, execution_name: str | None = None) -> dict[str, Any]:
        """A wait ended by its timeout: the state's own timer (escalate, or act for the user, as the
        lifecycle says), or the execution's time to hand over to a new one (continue-as-new)."""
        engine = self.engine

        def attempt() -> dict[str, Any]:
            workflow = engine.stored(workflow_id)
            if execution_name and workflow.executionName != execution_name:
                return engine.route(workflow, continued_as=workflow.executionName)
            lifecycle = engine.lifecycles[workflow.type]
            now = engine.now()
            in_wait = workflow.is_running and workflow.status == status
            if in_wait and not lifetime.timer_is_due(lifecycle, workflow, now, engine.timeouts[workflow.type]):
                if not lifetime.must_continue(workflow, now):
                    return engine.route(workflow)  # woken early: wait for the rest
                after = engine.continue_as_new(workflow, engine.continuation_reason(workflow))
                return engine.route(after, continued_as=after.executionName)
            timeout = lifecycle.timeout_for(status)
            acts_as = rules.signal_spec(lifecycle, timeout.signal) if timeout and timeout.signal else None
            # What the system does for the user is judged with the facts its rules read.
            context = engine.context(SYSTEM, workflow, acts_as.facts if acts_as else ())
            transition = rules.time_out(lifecycle, workflow, status, context)
            if transition is None:
                return engine.route(workflow)
            try:
                transitions = [transition, *engine.follow_ups(transition, context)]
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
            transitions[0] = with_changes(transitions[0], waitToken=None, waitStatus=None, timersSince=iso(context.now))
            return engine.route(engine.commit(transitions, release_main=False))

        return engine.read_decide_commit(attempt, f"could not apply the timeout of {workflow_id}")

    def validate_document(self, workflow_id: str, status: str) -> dict[str, Any]:
        """Activity: the stored file is what the document declares, or the workflow cannot go on."""
        engine = self.engine

        def attempt() -> dict[str, Any]:
            workflow = engine.stored(workflow_id)
            if not workflow.is_running:
                # A closed workflow's execution ends here (as in open_wait), not routed back to its status.
                return engine.route(workflow, continued_as=workflow.executionName)
            if workflow.status != status:
                return engine.route(workflow)
            if engine.files is None:
                raise PermanentActivityError("no documents bucket is configured")
            key = str(workflow.fields["objectKey"])
            try:
                stored = engine.files.inspect(key)
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
            transitions = engine.decide(
                SYSTEM, workflow, "documentValidated", {"sha256": stored.sha256, "sizeBytes": stored.size_bytes}
            )
            # The execution is in this activity, not in a wait: it routes on the answer.
            return engine.route(engine.commit(transitions, release_main=False))

        return engine.read_decide_commit(attempt, f"could not validate {workflow_id}")

    def record_failure(
        self, workflow_id: str, error: str, cause: str | None, execution_name: str | None = None
    ) -> dict[str, Any]:
        """The execution failed where the state machine could catch it."""
        return self.engine.record_failure(workflow_id, error, cause, execution_name)

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
        engine = self.engine
        workflow_id = workflow_id or lifetime.workflow_id_of(execution_name)
        workflow = engine.store.get(workflow_id)
        if workflow is None or workflow.executionName != execution_name:
            return "ignored: not the workflow's current execution"
        if not workflow.is_running:
            return f"ignored: already {workflow.executionStatus}"
        if status == "ABORTED":
            engine.change(
                SYSTEM,
                workflow_id,
                lambda current: rules.terminate(
                    current, engine.now(), SYSTEM.user_id, "the execution was stopped outside the platform"
                ),
            )
            return "terminated"
        execution_status = ExecutionStatus.TIMED_OUT if status == "TIMED_OUT" else ExecutionStatus.FAILED
        name = "ExecutionTimedOut" if status == "TIMED_OUT" else (error or "ExecutionFailed")

        def failed(current: Workflow) -> Transition:
            transition = rules.fail(current, engine.now(), name, cause, execution_status)
            if transition is None:
                raise _AlreadyClosed
            return transition

        try:
            engine.change(SYSTEM, workflow_id, failed)
        except _AlreadyClosed:
            return "ignored: closed meanwhile"
        return execution_status.value.lower()

    def resume_execution(self, workflow_id: str) -> None:
        """The running workflow's execution is gone with the engine that ran it (the local platform
        restarted): start it again, with the same name, from the stored state. Its wait opens anew
        and lasts until the workflow's timers are due; signals kept meanwhile are applied there."""
        engine = self.engine

        def attempt() -> None:
            workflow = engine.store.get(workflow_id)
            if workflow is None or not workflow.is_running:
                return
            after = engine.store.forget_wait(workflow)
            engine.executions.start(after.type, after.executionName, engine.route(after))

        engine.read_decide_commit(attempt, f"could not resume the execution of {workflow_id}")
