"""How long an execution lives, how long each wait lasts, and what executions are named.

A Standard Step Functions execution lasts at most a year (a quota, not a setting), and a wait ends
with its execution; ACCU projects credit for years. So no execution is let near that limit: every
wait lasts until the state's own timer falls due or until the execution must continue, whichever
comes first; an execution that must continue ends and a new one (``<id>--cont-N``) takes over
from the stored state at the same wait, with the same timers (Temporal's continue-as-new). Timers
are kept on the workflow, not in the execution, so a new execution carries them over.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from functions.domain.time import parse_iso

if TYPE_CHECKING:
    from functions.domain.lifecycle import Lifecycle
    from functions.domain.workflow import Workflow

DAY = 24 * 60 * 60
# Step Functions' quota for a Standard execution; the local runtime enforces it as AWS does.
EXECUTION_LIFETIME_SECONDS = 365 * DAY
# An execution continues this long after it started: two weeks before the quota, so that an
# activity retrying for days or an outage still leaves it time to hand over.
CONTINUE_AFTER_SECONDS = 350 * DAY
# Timers fire on whole seconds; a timeout fired this early still counts as due.
TIMER_TOLERANCE_SECONDS = 1.0
# Step Functions' limit on an execution's name.
EXECUTION_NAME_MAX_LENGTH = 80
# Further than any execution lives: a timer due later is, for the current execution, never due.
FAR_FUTURE_SECONDS = 2 * EXECUTION_LIFETIME_SECONDS
RETRY = "retry"
CONTINUATION = "cont"


def execution_name(workflow_id: str, kind: str | None = None, number: int = 0) -> str:
    """The first execution is named after its workflow, later ones ``<id>--retry-N`` (a retry) or
    ``<id>--cont-N`` (a continuation); an id too long for the suffix is shortened with a digest."""
    if kind is None:
        return workflow_id
    suffix = f"--{kind}-{number}"
    if len(workflow_id) + len(suffix) <= EXECUTION_NAME_MAX_LENGTH:
        return workflow_id + suffix
    digest = hashlib.sha256(workflow_id.encode()).hexdigest()[:12]
    keep = EXECUTION_NAME_MAX_LENGTH - len(suffix) - len(digest) - 1
    return f"{workflow_id[:keep]}-{digest}{suffix}"


def workflow_id_of(name: str) -> str:
    """The workflow an execution name was made for (when it was not shortened)."""
    for kind in (RETRY, CONTINUATION):
        head, separator, number = name.rpartition(f"--{kind}-")
        if separator and number.isdigit():
            return head
    return name


def continue_by(workflow: Workflow) -> datetime:
    """When the workflow's current execution must hand over to a new one."""
    started = workflow.executionStartedAt or workflow.startTime
    return parse_iso(started) + timedelta(seconds=CONTINUE_AFTER_SECONDS)


def must_continue(workflow: Workflow, now: datetime) -> bool:
    """The execution is old enough to continue, or the lifecycle reached a boundary it continues at."""
    return workflow.continueAtNextWait or (continue_by(workflow) - now).total_seconds() <= TIMER_TOLERANCE_SECONDS


def timer_due(lifecycle: Lifecycle, workflow: Workflow, now: datetime, timeouts: Mapping[str, int]) -> datetime | None:
    """When the current state's own timeout falls due (None: the state has none). A fixed timeout
    runs from when the state's timers started (entering it, or its last timeout); a computed one
    from the workflow's own data (a due date)."""
    spec = lifecycle.timeout_for(workflow.status)
    if spec is None:
        return None
    if spec.seconds is not None:
        # Only "due already" and "due after the hand-over" matter beyond these bounds, and a due date near
        # year 1 or 9999 must not overflow.
        seconds = min(max(spec.seconds(workflow.view(), now), 0.0), float(FAR_FUTURE_SECONDS))
        return now + timedelta(seconds=seconds)
    since = parse_iso(workflow.timersSince or workflow.lastProgressAt)
    return since + timedelta(seconds=int(timeouts.get(spec.name, spec.default_seconds)))


def timer_is_due(lifecycle: Lifecycle, workflow: Workflow, now: datetime, timeouts: Mapping[str, int]) -> bool:
    due = timer_due(lifecycle, workflow, now, timeouts)
    return due is not None and (due - now).total_seconds() <= TIMER_TOLERANCE_SECONDS


def wait_seconds(lifecycle: Lifecycle, workflow: Workflow, now: datetime, timeouts: Mapping[str, int]) -> int:
    """How long the wait of the workflow's current status lasts: until its own timer or the
    execution's hand-over, whichever is first (at least 1 s: the state machine's
    ``TimeoutSecondsPath`` takes a positive whole number)."""
    until = continue_by(workflow)
    due = timer_due(lifecycle, workflow, now, timeouts)
    if due is not None:
        until = min(until, due)
    return max(1, math.ceil((until - now).total_seconds()))
