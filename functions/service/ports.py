"""The ports the use cases need, implemented by the data-access modules (``functions/dal``):
the service layer names what it needs; the DAL depends on it, not the other way round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from functions.domain.workflow import Transition, Workflow


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


class Store(Protocol):
    def get(self, workflow_id: str) -> Workflow | None: ...
    def create(self, transition: Transition) -> None: ...
    def commit(self, transition: Transition, extra: list[dict[str, Any]] | None = None) -> Workflow: ...
    def commit_many(
        self, transitions: list[Transition], extra: list[dict[str, Any]] | None = None
    ) -> list[Workflow]: ...
    def workflows_about(self, subject_type: str, subject_id: str) -> list[Workflow]: ...
    def save_bookkeeping(
        self, before: Workflow, after: Workflow, extra: list[dict[str, Any]] | None = None
    ) -> Workflow: ...
    def put_signal_record(self, workflow_id: str, sequence: int, record: dict[str, Any]) -> dict[str, Any]: ...
    def queued_signals(self, workflow_id: str) -> list[dict[str, Any]]: ...
    def signal_record(self, workflow_id: str, sequence: int) -> dict[str, Any] | None: ...
    def history(self, workflow_id: str, limit: int, next_token: str | None) -> Any: ...
    def list_workflows(
        self,
        partitions: list[tuple[str, str]],
        *,
        limit: int,
        next_token: str | None,
        started_after: str | None,
        started_before: str | None,
        filters: dict[str, str],
    ) -> Any: ...
    def counters(self, workflow_types: list[str]) -> dict[str, dict[str, float]]: ...


class Executions(Protocol):
    def start(self, workflow_type: str, name: str, payload: dict[str, Any]) -> str: ...
    def execution_arn(self, workflow_type: str, name: str) -> str: ...
    def release(self, task_token: str, output: dict[str, Any]) -> bool: ...
    def stop(self, execution_arn: str, cause: str) -> None: ...


class Notifier(Protocol):
    def alert(self, subject: str, message: dict[str, Any]) -> None: ...
    def notify(self, subject: str, message: dict[str, Any]) -> None: ...


class Files(Protocol):
    def upload_url(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> str: ...
    def inspect(self, key: str) -> StoredObject: ...
