"""The running totals the platform keeps as transitions happen (so metrics, the health check and the
daily report read a handful of items, never the population): per workflow type, and per day."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.domain.workflow import ExecutionStatus

FAILED_STATUSES = (ExecutionStatus.FAILED.value, ExecutionStatus.TIMED_OUT.value)
CLOSED_STATUSES = ("COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT")


@dataclass(frozen=True)
class TypeCounters:
    """The workflows of one type, now: how many ever started, how many in each lifecycle status and
    each execution status, and how many closed and the seconds they ran."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_execution_status: dict[str, int] = field(default_factory=dict)
    closed_count: int = 0
    closed_seconds: float = 0.0

    @property
    def running(self) -> int:
        return self.by_execution_status.get(ExecutionStatus.RUNNING.value, 0)

    @property
    def failed(self) -> int:
        """Failed or timed out: the executions that ended without finishing their lifecycle."""
        return sum(self.by_execution_status.get(status, 0) for status in FAILED_STATUSES)


@dataclass(frozen=True)
class DayCounters:
    """What happened on one day (UTC): starts and closes (by execution status), by type, the
    escalations and retries, and the seconds the closed workflows ran."""

    started: int = 0
    started_by_type: dict[str, int] = field(default_factory=dict)
    closed: dict[str, int] = field(default_factory=dict)
    # execution status -> type -> count
    closed_by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    closed_count: int = 0
    closed_seconds: float = 0.0
    escalations: int = 0
    retries: int = 0

    def closed_of(self, execution_status: str, workflow_type: str | None = None) -> int:
        if workflow_type is None:
            return self.closed.get(execution_status, 0)
        return self.closed_by_type.get(execution_status, {}).get(workflow_type, 0)
