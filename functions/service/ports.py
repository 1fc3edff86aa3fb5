"""The ports the use cases need, implemented by the data-access modules (``functions/dal``):
the service layer names what it needs; the DAL depends on it, not the other way round."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from functions.domain.batches import Batch, BatchState, Outcome
from functions.domain.counters import DayCounters, TypeCounters
from functions.domain.workflow import HistoryEvent, Transition, Workflow


class StaleWrite(Exception):
    """The item changed since it was read: read again and decide again."""


class AlreadyExists(Exception):
    """An item that must be new exists already."""


class ObjectMissing(Exception):
    """A stored file that should be there is not (yet)."""


@dataclass(frozen=True)
class StoredObject:
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ListFilter:
    """Which workflows a listing answers: of these types, in this status and execution status,
    started in [started_after, started_before) (ISO-8601), only those ``started_by`` started
    (an applicant's own), and, if ``escalated``, only the running ones that were escalated."""

    workflow_types: tuple[str, ...]
    status: str | None = None
    execution_status: str | None = None
    started_after: str | None = None
    started_before: str | None = None
    started_by: str | None = None
    escalated: bool = False


@dataclass(frozen=True)
class KeptSignal:
    """A signal kept while no wait was open, and what became of it (``fields``: its record)."""

    workflow_id: str
    sequence: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class StoredState:
    """A state as stored, for migrations: its attributes (keys left out, documents parsed) and the
    item exactly as DynamoDB answered it (what a backup keeps, byte for byte)."""

    attributes: dict[str, Any]
    item: dict[str, Any]

    @property
    def revision(self) -> int:
        return int(self.attributes.get("revision") or 0)


class Store(Protocol):
    def get(self, workflow_id: str) -> Workflow | None: ...
    def create(self, transition: Transition) -> None: ...
    def commit(self, transition: Transition) -> Workflow: ...
    def commit_many(self, transitions: list[Transition], signal: KeptSignal | None = None) -> list[Workflow]: ...
    def workflows_about(self, subject_type: str, subject_id: str) -> list[Workflow]: ...
    def daily_counters(self, date: str) -> DayCounters: ...
    def stalled(self, before: str, limit: int) -> list[Workflow]: ...
    def needing_recovery(self, workflow_type: str, limit: int) -> list[Workflow]: ...
    def put_report(self, date: str, report: dict[str, Any]) -> None: ...
    def get_report(self, date: str) -> dict[str, Any] | None: ...
    def save_bookkeeping(self, before: Workflow, after: Workflow, signal: KeptSignal | None = None) -> Workflow: ...
    def forget_wait(self, workflow: Workflow) -> Workflow: ...
    def open_wait(
        self,
        workflow_id: str,
        status: str,
        task_token: str,
        execution_name: str | None = None,
        execution_arn: str | None = None,
        handover_before: str | None = None,
    ) -> bool: ...
    def record_execution_arn(self, workflow_id: str, execution_name: str, execution_arn: str) -> None: ...
    def released(self, workflow_id: str, token: str, closed: bool) -> None: ...
    def unreleased(self, before: str, limit: int) -> list[Workflow]: ...
    def kept_signals(self, workflow_id: str, first: int, last: int) -> list[dict[str, Any]]: ...
    def signal_record(self, workflow_id: str, sequence: int) -> dict[str, Any] | None: ...
    def history(self, workflow_id: str, limit: int, next_token: str | None) -> Any: ...
    def list_workflows(self, wanted: ListFilter, *, limit: int, next_token: str | None) -> Any: ...
    def counters(self, workflow_types: list[str]) -> dict[str, TypeCounters]: ...


class MigrationRecords(Protocol):
    def scan_states(
        self,
        segments: int,
        workflow_types: tuple[str, ...] = (),
        start_keys: Mapping[int, dict[str, Any]] | None = None,
        finished: frozenset[int] = frozenset(),
        on_page: Callable[[int, dict[str, Any] | None], None] | None = None,
    ) -> Iterator[StoredState]: ...
    def state(self, workflow_id: str) -> StoredState | None: ...
    def history_event(self, workflow_id: str, sequence: int) -> dict[str, Any] | None: ...
    def write_migrated(self, before: StoredState, attributes: dict[str, Any], event: HistoryEvent) -> int: ...
    def restore(
        self, workflow_id: str, backup_item: dict[str, Any], migrated_revision: int, event_sequence: int
    ) -> None: ...
    def put_run(self, run: dict[str, Any]) -> None: ...
    def get_run(self, run_id: str) -> dict[str, Any] | None: ...
    def put_backup(self, run_id: str, workflow_id: str, item: dict[str, Any], record: dict[str, Any]) -> None: ...
    def update_backup(self, run_id: str, workflow_id: str, **changes: Any) -> None: ...
    def backups(self, run_id: str) -> Iterator[dict[str, Any]]: ...


class BatchRecords(Protocol):
    def create(self, batch: Batch) -> None: ...
    def get(self, batch_id: str) -> Batch | None: ...
    def page(self, limit: int, next_token: str | None) -> tuple[list[Batch], str | None]: ...
    def update(
        self,
        batch_id: str,
        changes: dict[str, Any],
        *,
        state: BatchState | None = None,
        cursor_is: str | bool | None = False,
        steps_is: int | None = None,
        add: dict[str, int] | None = None,
        skipped_reasons: dict[str, int] | None = None,
    ) -> None: ...
    def claim(self, batch_id: str, workflow_id: str) -> dict[str, Any] | None: ...
    def record(
        self,
        batch_id: str,
        workflow_id: str,
        outcome: Outcome,
        *,
        step: int,
        code: str | None = None,
        message: str | None = None,
        kept: bool = False,
        at: str,
    ) -> None: ...
    def failures(self, batch_id: str, limit: int) -> list[dict[str, Any]]: ...


class StateMachine(Protocol):
    """One state machine of the platform's own (a batch's): start an execution of it."""

    def start(self, name: str, payload: dict[str, Any]) -> str: ...


class Executions(Protocol):
    def start(self, workflow_type: str, name: str, payload: dict[str, Any]) -> str: ...
    def execution_arn(self, workflow_type: str, name: str) -> str: ...
    def release(self, task_token: str, output: dict[str, Any]) -> bool: ...
    def stop(self, execution_arn: str, cause: str) -> None: ...
    def status(self, execution_arn: str) -> str | None: ...


class Notifier(Protocol):
    def alert(self, subject: str, message: dict[str, Any], kind: str = "alert", level: int | None = None) -> None: ...
    def notify(self, subject: str, message: dict[str, Any]) -> None: ...


class Files(Protocol):
    def upload_url(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> str: ...
    def inspect(self, key: str) -> StoredObject: ...
