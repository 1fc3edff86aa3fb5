"""Batch operations (operators): one action on every workflow a filter matches, run by the platform's
batch state machine step by step (``step``), at the batch's rate, cancellable, resumable.

The rules (what a batch is, its outcomes, its pace) are ``functions/domain/batches.py``; each workflow is
changed through the same use case as a single request (signals, interventions), with the batch's id and
reason in its history event.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from functions import clock
from functions.domain import batches as rules
from functions.domain import workflow as workflow_rules
from functions.domain.batches import Batch, BatchAction, BatchFilter, BatchPhase, BatchState, Outcome
from functions.domain.errors import (
    BatchNotFound,
    BatchNotInState,
    DomainError,
    Forbidden,
    NotConfigured,
    ValidationFailed,
)
from functions.domain.identity import Identity
from functions.domain.time import iso
from functions.service.engine import WorkflowEngine
from functions.service.interventions import WorkflowInterventions
from functions.service.ports import BatchRecords, ListFilter, StaleWrite, StateMachine
from functions.service.queries import WorkflowQueries
from functions.service.signals import WorkflowSignals

logger = logging.getLogger(__name__)

# A step leaves this much of its function's time unused (the last workflow's change, the step's write).
STEP_RESERVE_SECONDS = 15.0
FAILURES_SHOWN = 20
CLAIMED = "CLAIMED"
# What acting on one workflow adds to its step's counts: its outcome, why, whether a signal was kept.
Contribution = tuple[Outcome, str | None, bool] | None


class BatchOperations:
    def __init__(
        self,
        engine: WorkflowEngine,
        queries: WorkflowQueries,
        signals: WorkflowSignals,
        interventions: WorkflowInterventions,
        records: BatchRecords,
        state_machine: StateMachine | None,
    ):
        self.engine = engine
        self.queries = queries
        self.signals = signals
        self.interventions = interventions
        self.records = records
        self.state_machine = state_machine

    # ----- what operators ask ----------------------------------------------------------------------

    def start(self, actor: Identity, request: Any) -> dict[str, Any]:
        """Record the batch and start its execution (a dry run too: it counts and samples)."""
        state_machine = self._state_machine()
        wanted = BatchFilter.model_validate(request.filter.model_dump())
        self._check(actor, request, wanted)
        now = self.engine.now()
        batch = Batch(
            batchId=rules.new_batch_id(now),
            action=BatchAction(request.action),
            filter=wanted,
            signal=getattr(request, "signal", None),
            payload=getattr(request, "payload", None),
            reason=request.reason,
            dryRun=request.dryRun,
            ratePerSecond=request.ratePerSecond,
            createdBy=actor.user_id,
            createdByGroups=sorted(actor.groups),
            createdAt=iso(now),
            updatedAt=iso(now),
        )
        self.records.create(batch)
        return self.view(self._run(batch, state_machine))

    def get(self, batch_id: str) -> dict[str, Any]:
        batch = self._batch(batch_id)
        return {**self.view(batch), "failures": self.records.failures(batch_id, FAILURES_SHOWN)}

    def list(self, limit: int, next_token: str | None) -> dict[str, Any]:
        batches, token = self.records.page(limit, next_token)
        return {"items": [self.view(batch) for batch in batches], "nextToken": token}

    def cancel(self, actor: Identity, batch_id: str) -> dict[str, Any]:
        """Ask the batch to stop: its next step (within seconds) ends it as CANCELLED; what it changed stays."""
        batch = self._batch(batch_id)
        if batch.finished:
            raise BatchNotInState(
                f"batch {batch_id} has ended ({batch.state}): there is nothing to cancel",
                [{"field": "state", "value": batch.state.value}],
            )
        try:
            self.records.update(
                batch_id,
                {"cancelRequested": True, "cancelledBy": actor.user_id, "updatedAt": iso(self.engine.now())},
                state=BatchState.RUNNING,
            )
        except StaleWrite:
            return self.cancel(actor, batch_id)  # it ended meanwhile: answered as such
        return self.view(self._batch(batch_id))

    def resume(self, actor: Identity, batch_id: str) -> dict[str, Any]:
        """Run a failed batch again from where it stopped: the workflows it already changed are not
        changed again, nor counted again."""
        state_machine = self._state_machine()
        batch = self._batch(batch_id)
        if batch.state is not BatchState.FAILED:
            raise BatchNotInState(
                f"only a FAILED batch can be resumed; {batch_id} is {batch.state}",
                [{"field": "state", "value": batch.state.value}],
            )
        changes = {"state": BatchState.RUNNING.value, "error": None, "finishedAt": None, "resumedBy": actor.user_id}
        self.records.update(batch_id, {**changes, "updatedAt": iso(self.engine.now())}, state=BatchState.FAILED)
        return self.view(self._run(self._batch(batch_id), state_machine))

    def resume_unfinished(self) -> int:
        """Start again the batches that were running when their executions were lost (the local
        platform restarted): each goes on from its last step."""
        state_machine = self._state_machine()
        resumed, token = 0, None
        while True:
            batches, token = self.records.page(100, token)
            for batch in batches:
                if batch.state is BatchState.RUNNING:
                    self._run(batch, state_machine)
                    resumed += 1
            if not token:
                return resumed

    @staticmethod
    def view(batch: Batch) -> dict[str, Any]:
        shown = batch.model_dump(
            mode="json", exclude={"cursor", "steps", "stepsInExecution", "createdByGroups"}, exclude_none=True
        )
        return {**shown, "processed": batch.processed}

    # ----- what the batch's state machine runs -----------------------------------------------------

    def step(self, batch_id: str, seconds_left: Callable[[], float]) -> dict[str, Any]:
        """One step: count a stretch of the matching workflows, or act on the next of them at the
        batch's rate. Answers whether the batch is done and how long to wait before the next step."""
        batch = self._batch(batch_id)
        if batch.finished:
            return {"batchId": batch_id, "done": True, "waitSeconds": 0}
        if batch.cancelRequested:
            self._finish(batch, BatchState.CANCELLED)
            return {"batchId": batch_id, "done": True, "waitSeconds": 0}
        if batch.stepsInExecution >= rules.STEPS_PER_EXECUTION:
            self._continue_as_new(batch)
            return {"batchId": batch_id, "done": True, "waitSeconds": 0}
        if batch.phase is BatchPhase.COUNTING:
            done = self._count(batch)
            return {"batchId": batch_id, "done": done, "waitSeconds": 0}
        done, wait = self._apply(batch, seconds_left)
        return {"batchId": batch_id, "done": done, "waitSeconds": wait}

    def fail(self, batch_id: str, error: dict[str, Any]) -> dict[str, Any]:
        """The state machine caught a failure its retries did not cure: the batch is FAILED (resumable)."""
        self._finish(self._batch(batch_id), BatchState.FAILED, error=error)
        return {"batchId": batch_id, "done": True, "waitSeconds": 0}

    def _count(self, batch: Batch) -> bool:
        wanted = self._listing(batch)
        cursor, counted, sample = batch.cursor, 0, list(batch.sample)
        for _ in range(rules.COUNT_PAGES_PER_STEP):
            page = self.engine.store.list_workflows(wanted, limit=rules.COUNT_PAGE_SIZE, next_token=cursor)
            counted += len(page.items)
            sample += [workflow.workflowId for workflow in page.items][: rules.SAMPLE_SIZE - len(sample)]
            cursor = page.next_token
            if not cursor:
                break
        now = iso(self.engine.now())
        changes: dict[str, Any] = {"cursor": cursor, "sample": sample, "updatedAt": now}
        done = False
        if not cursor:
            if batch.dryRun:
                changes |= {"state": BatchState.COMPLETED.value, "finishedAt": now}
                done = True
            else:
                changes["phase"] = BatchPhase.APPLYING.value
        self._advance(batch, changes, {"matched": counted})
        return done

    def _apply(self, batch: Batch, seconds_left: Callable[[], float]) -> tuple[bool, int]:
        started = time.monotonic()
        page = self.engine.store.list_workflows(
            self._listing(batch), limit=rules.per_step(batch.ratePerSecond), next_token=batch.cursor
        )
        tally, whole_page, acted = rules.StepTally(), True, 0
        for workflow in page.items:
            elapsed = time.monotonic() - started
            if elapsed > rules.STEP_BUDGET_SECONDS or seconds_left() < STEP_RESERVE_SECONDS:
                whole_page = False  # the rest of the page is the next step's (claims skip what is done)
                break
            # Evenly paced at the batch's rate; behind it, no pause.
            ahead = rules.due_after(acted, batch.ratePerSecond) - elapsed
            if ahead > 0:
                clock.sleep(ahead)
            contribution = self._act_once(batch, workflow.workflowId)
            acted += 1
            if contribution is not None:
                tally.add(*contribution)
        now = self.engine.now()
        changes: dict[str, Any] = {"updatedAt": iso(now)}
        done = whole_page and page.next_token is None
        if done:
            changes |= {"state": BatchState.COMPLETED.value, "finishedAt": iso(now), "cursor": None}
        elif whole_page:
            changes["cursor"] = page.next_token
        self._advance(batch, changes, tally.counts(), tally.skipped_reasons)
        return done, rules.wait_after(acted, batch.ratePerSecond, time.monotonic() - started)

    def _advance(
        self,
        batch: Batch,
        changes: dict[str, Any],
        add: dict[str, int] | None = None,
        skipped_reasons: dict[str, int] | None = None,
    ) -> None:
        """Write a step's progress and counts, once: conditional on the cursor and step number it started
        from (a step run again after its first run wrote finds them moved, and writes nothing)."""
        try:
            self.records.update(
                batch.batchId,
                changes,
                state=BatchState.RUNNING,
                cursor_is=batch.cursor,
                steps_is=batch.steps,
                add={**(add or {}), "steps": 1, "stepsInExecution": 1},
                skipped_reasons=skipped_reasons,
            )
        except StaleWrite:
            logger.info("batch %s: a step already wrote this progress, or the batch ended", batch.batchId)

    def _act_once(self, batch: Batch, workflow_id: str) -> Contribution:
        """Act on a workflow and record its outcome under this step's number, unless an earlier run of
        the batch did: what it adds to this step's counts (None: counted by an earlier step)."""
        earlier = self.records.claim(batch.batchId, workflow_id)
        now = iso(self.engine.now())
        if earlier is not None and earlier["outcome"] != CLAIMED:
            if int(earlier.get("step", -1)) != batch.steps:
                return None
            # Recorded by an earlier run of this very step, whose counts were never written.
            return Outcome(earlier["outcome"]), earlier.get("code"), bool(earlier.get("kept"))
        if earlier is not None and self._has_acted(batch, workflow_id):
            # The run before stopped between the change and its record: counted now, not changed again.
            return self._record(batch, workflow_id, Outcome.APPLIED, at=now)
        try:
            kept = self._act(batch, workflow_id)
        except DomainError as error:
            outcome = rules.outcome_of(error)
            return self._record(batch, workflow_id, outcome, code=error.code, message=error.message, at=now)
        except Exception as error:  # an AWS error that outlasted the SDK's retries: this workflow failed
            logger.exception("batch %s could not act on %s", batch.batchId, workflow_id)
            return self._record(
                batch, workflow_id, Outcome.FAILED, code=type(error).__name__, message=str(error), at=now
            )
        return self._record(batch, workflow_id, Outcome.APPLIED, kept=kept, at=now)

    def _record(
        self,
        batch: Batch,
        workflow_id: str,
        outcome: Outcome,
        *,
        code: str | None = None,
        kept: bool = False,
        **details: Any,
    ) -> Contribution:
        try:
            self.records.record(batch.batchId, workflow_id, outcome, step=batch.steps, code=code, kept=kept, **details)
        except StaleWrite:
            return None  # recorded already
        return outcome, code, kept

    def _act(self, batch: Batch, workflow_id: str) -> bool:
        """The batch's action on one workflow, as the operator who started it; True when a signal was
        kept for the workflow's next wait."""
        actor = Identity(user_id=batch.createdBy, groups=frozenset(batch.createdByGroups))
        batch_id = batch.batchId
        if batch.action is BatchAction.SIGNAL:
            assert batch.signal is not None
            outcome = self.signals.signal(
                actor, workflow_id, batch.signal, batch.payload or {}, reason=batch.reason, batchId=batch_id
            )
            return outcome.status_code == 202
        if batch.action is BatchAction.TERMINATE:
            self.interventions.terminate(actor, workflow_id, batch.reason, batchId=batch_id)
        elif batch.action is BatchAction.RETRY:
            self.interventions.retry(actor, workflow_id, batch.reason, batchId=batch_id)
        else:
            self.interventions.escalate(actor, workflow_id, batch.reason, batchId=batch_id)
        return False

    def _has_acted(self, batch: Batch, workflow_id: str) -> bool:
        """Whether the batch's change of the workflow is in its history (or kept for its next wait)."""
        store = self.engine.store
        workflow = store.get(workflow_id)
        if workflow is None:
            return False
        kept = self.engine.undecided_signals(workflow) if workflow.pendingSignals else []
        if any((record.get("details") or {}).get("batchId") == batch.batchId for record in kept):
            return True
        token = None
        while True:
            page = store.history(workflow_id, 100, token)
            if any((event.get("details") or {}).get("batchId") == batch.batchId for event in page.items):
                return True
            token = page.next_token
            if not token:
                return False

    # ----- shared --------------------------------------------------------------------------------

    def _run(self, batch: Batch, state_machine: StateMachine) -> Batch:
        """Start the batch's next execution; the batch FAILED (resumable) when it cannot start."""
        name = rules.execution_name(batch)
        try:
            arn = state_machine.start(name, {"batchId": batch.batchId})
        except Exception as error:
            self.fail(batch.batchId, {"error": type(error).__name__, "cause": str(error)})
            raise
        changes = {"executions": [*batch.executions, arn], "stepsInExecution": 0}
        self.records.update(batch.batchId, changes)
        # As it was when started (its execution may have moved it on already).
        return batch.model_copy(update=changes)

    def _continue_as_new(self, batch: Batch) -> None:
        """Go on in a new execution before this one's history grows too long (the steps counter is
        reset first, so the new execution's first step does not hand over again)."""
        assert self.state_machine is not None
        self.records.update(batch.batchId, {"stepsInExecution": 0}, state=BatchState.RUNNING)
        self._run(batch, self.state_machine)

    def _finish(self, batch: Batch, state: BatchState, **changes: Any) -> None:
        if batch.finished:
            return
        with contextlib.suppress(StaleWrite):  # it ended meanwhile
            self.records.update(
                batch.batchId,
                {"state": state.value, **rules.finished_at(self.engine.now()), **changes},
                state=BatchState.RUNNING,
            )

    def _listing(self, batch: Batch) -> ListFilter:
        operator = Identity(user_id=batch.createdBy, groups=frozenset(batch.createdByGroups))
        return self.queries.list_filter(
            operator,
            workflow_type=batch.filter.type,
            status=batch.filter.status,
            execution_status=batch.filter.executionStatus,
            started_after=batch.filter.startedAfter,
            started_before=batch.started_before(),
        )

    def _batch(self, batch_id: str) -> Batch:
        batch = self.records.get(batch_id)
        if batch is None:
            raise BatchNotFound(batch_id)
        return batch

    def _state_machine(self) -> StateMachine:
        if self.state_machine is None:
            raise NotConfigured("batch operations are not configured here (BATCH_STATE_MACHINE_ARN is not set)")
        return self.state_machine

    def _check(self, actor: Identity, request: Any, wanted: BatchFilter) -> None:
        """What the request model cannot say alone: a filter, a status of the type, dates in order, a signal
        of the type that the caller may send."""
        problems: list[dict[str, Any]] = []
        if wanted.is_empty():
            problems.append(
                {
                    "field": "filter",
                    "message": "name at least one of type, status, executionStatus, "
                    "startedAfter, startedBefore (a batch never acts on every workflow by default)",
                }
            )
        if wanted.type and wanted.status and wanted.status not in self.engine.lifecycle(wanted.type).statuses:
            problems.append({"field": "filter.status", "message": f"{wanted.type} has no status {wanted.status}"})
        if wanted.startedAfter and wanted.startedBefore and wanted.startedAfter >= wanted.startedBefore:
            problems.append({"field": "filter.startedAfter", "message": "must be before filter.startedBefore"})
        if problems:
            raise ValidationFailed("the batch request is invalid", problems)
        if request.action == BatchAction.SIGNAL:
            spec = workflow_rules.signal_spec(self.engine.lifecycle(str(wanted.type)), request.signal)
            if spec.internal or not actor.may(spec.senders):
                raise Forbidden(
                    f"{request.signal} may not be sent by the caller", [{"field": "signal", "value": request.signal}]
                )
