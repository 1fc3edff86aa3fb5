"""Batch operations: one operator action (a signal, terminate, retry, escalate) applied by the platform
to every workflow a filter matches, at a rate, with exact counts.

A batch first counts what its filter matches (a dry run stops there, with a sample), then applies its
action workflow by workflow. Each workflow is claimed before it is acted on and its outcome recorded
once, so a step that fails and runs again, or a batch resumed after a failure, acts on no workflow
twice and counts each once. Pure: no AWS here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from functions.domain.errors import ConcurrentModification, DomainError
from functions.domain.time import iso


class BatchAction(StrEnum):
    SIGNAL = "signal"
    TERMINATE = "terminate"
    RETRY = "retry"
    ESCALATE = "escalate"


class BatchState(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class BatchPhase(StrEnum):
    # Paging through the filter's workflows to count them (and sample them): all a dry run does.
    COUNTING = "COUNTING"
    # Paging through them again, acting on each.
    APPLYING = "APPLYING"


class Outcome(StrEnum):
    APPLIED = "APPLIED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


FINISHED = frozenset({BatchState.COMPLETED, BatchState.CANCELLED, BatchState.FAILED})

# Each step of a batch's state machine acts for this long at most, paced at the batch's rate, so a cancel
# takes effect within seconds and a step stays far inside the function's timeout.
STEP_SECONDS = 5
# A step stops taking new workflows after this long whatever the rate (a signal may wait seconds for
# its workflow's next wait to open); the rest of its page is the next step's.
STEP_BUDGET_SECONDS = 60.0
# Counting reads pages of this size, this many per step.
COUNT_PAGE_SIZE = 100
COUNT_PAGES_PER_STEP = 20
SAMPLE_SIZE = 20
DEFAULT_RATE_PER_SECOND = 20
# Each workflow changed costs a few writes on the batch's record (one partition) and a Step Functions
# call (StopExecution, SendTaskSuccess, StartExecution), whose quotas refill at a few hundred a second
# per account: a batch takes at most a third of that.
MAX_RATE_PER_SECOND = 100
# Step Functions keeps 25,000 events of an execution's history; a step loop costs about ten. After this
# many steps the batch goes on in a new execution (as a lifecycle continues as new).
STEPS_PER_EXECUTION = 1000


class BatchFilter(BaseModel):
    """Which workflows a batch acts on: what ``GET /workflows`` filters on."""

    type: str | None = None
    status: str | None = None
    executionStatus: str | None = None
    startedAfter: datetime | None = None
    startedBefore: datetime | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class Batch(BaseModel):
    """A batch as stored: what it was asked, where it is, and its counts."""

    batchId: str
    action: BatchAction
    filter: BatchFilter
    signal: str | None = None
    payload: dict[str, Any] | None = None
    reason: str
    dryRun: bool = False
    ratePerSecond: int = DEFAULT_RATE_PER_SECOND
    createdBy: str
    createdByGroups: list[str] = Field(default_factory=list)
    createdAt: str
    state: BatchState = BatchState.RUNNING
    phase: BatchPhase = BatchPhase.COUNTING
    cancelRequested: bool = False
    cancelledBy: str | None = None
    resumedBy: str | None = None
    # How many workflows the filter matched when counted (the progress bar's total), and what became of them.
    matched: int = 0
    applied: int = 0
    # Of the applied signals: kept for the workflow's next wait (202) rather than applied at once.
    kept: int = 0
    skipped: int = 0
    failed: int = 0
    skippedReasons: dict[str, int] = Field(default_factory=dict)
    sample: list[str] = Field(default_factory=list)
    # The listing's token where the current phase goes on (None: at the start of the phase).
    cursor: str | None = None
    executions: list[str] = Field(default_factory=list)
    # Steps written so far (each step's counts are written with its number), and in the current execution.
    steps: int = 0
    stepsInExecution: int = 0
    error: dict[str, Any] | None = None
    updatedAt: str | None = None
    finishedAt: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def processed(self) -> int:
        return self.applied + self.skipped + self.failed

    def started_before(self) -> datetime:
        """The latest start a workflow may have to be acted on: the filter's, at most the batch's
        creation (workflows started since are not the batch's)."""
        created = datetime.fromisoformat(self.createdAt)
        wanted = self.filter.startedBefore
        return min(wanted, created) if wanted is not None else created


def new_batch_id(now: datetime) -> str:
    """Sorts by creation: a listing newest first is a key order."""
    return f"batch-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def execution_name(batch: Batch) -> str:
    """The name of the batch's next execution (its first is named as the batch)."""
    runs = len(batch.executions)
    return batch.batchId if runs == 0 else f"{batch.batchId}-{runs + 1}"


def per_step(rate_per_second: int) -> int:
    """How many workflows one step acts on at most."""
    return max(1, rate_per_second * STEP_SECONDS)


def due_after(acted: int, rate_per_second: int) -> float:
    """Seconds into a step at which the next workflow may be acted on, ``acted`` having been already."""
    return acted / rate_per_second


def wait_after(acted: int, rate_per_second: int, elapsed_seconds: float) -> int:
    """Whole seconds to wait after a step so that the ``acted`` workflows took their share of time (the
    state machine's Wait counts whole seconds: less than one is not waited)."""
    return max(0, int(acted / rate_per_second - elapsed_seconds))


@dataclass
class StepTally:
    """What one step's workflows came to, written with the step's progress."""

    applied: int = 0
    skipped: int = 0
    failed: int = 0
    kept: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome, code: str | None = None, kept: bool = False) -> None:
        if outcome is Outcome.APPLIED:
            self.applied += 1
            self.kept += int(kept)
        elif outcome is Outcome.SKIPPED:
            self.skipped += 1
            reason = code or outcome.value
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + 1
        else:
            self.failed += 1

    def counts(self) -> dict[str, int]:
        return {"applied": self.applied, "skipped": self.skipped, "failed": self.failed, "kept": self.kept}


def outcome_of(error: DomainError) -> Outcome:
    """A refusal that is the workflow's state (no such workflow, closed, not awaiting the signal, not
    retryable, a business rule) skips it; anything else (a write that kept losing races, a refused
    payload, rights) is a failure to look at."""
    if isinstance(error, ConcurrentModification):
        return Outcome.FAILED
    return Outcome.SKIPPED if error.status_code in (404, 409) else Outcome.FAILED


def finished_at(now: datetime) -> dict[str, str]:
    return {"finishedAt": iso(now), "updatedAt": iso(now)}
