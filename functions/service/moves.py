"""Moving running workflows to the live definition of their lifecycle (``accu migrate move``).

Step Functions runs an execution on the version it started on until it ends, which for an ACCU
project is years. A change of the definition that running workflows must follow sooner is a move:
each selected workflow's execution ends and a new one starts on the live alias, routing to the
workflow's status (or the status a mapping names, where the new definition renamed one). The move
itself is the platform's own operator intervention (``moveExecution``), so that it is committed,
recorded (a MIGRATED event with the definition versions) and started exactly as the platform does
everything else; this module decides which workflows move where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from functions.domain.lifecycle import Lifecycle
from functions.domain.migration import MoveDecision, decide_move, new_run_id, version_number
from functions.domain.time import iso
from functions.service.migrations import MigrationError, Progress
from functions.service.ports import MigrationRecords


class Definitions(Protocol):
    def live(self, workflow_type: str) -> tuple[list[tuple[str, int]], dict[str, Any]]: ...
    def version_of_execution(self, execution_arn: str) -> int | None: ...


class MoveRefused(Exception):
    """The platform refused to move a workflow (it closed meanwhile, an unknown status)."""


class Mover(Protocol):
    def move(self, workflow_id: str, status: str, reason: str, from_version: int | None, to_version: int) -> None: ...


class ExecutionMoves:
    def __init__(
        self,
        records: MigrationRecords,
        definitions: Definitions,
        mover: Mover,
        lifecycles: Mapping[str, Lifecycle],
        routed_statuses: Callable[[Mapping[str, Any]], set[str]],
        *,
        now: Callable[[], datetime],
        actor: str,
        progress: Progress | None = None,
    ):
        self.records = records
        self.definitions = definitions
        self.mover = mover
        self.lifecycles = lifecycles
        self.routed_statuses = routed_statuses
        self.now = now
        self.actor = actor
        self.progress = progress or (lambda counts: None)

    def move(
        self, workflow_type: str, mapping: Mapping[str, str], dry_run: bool, segments: int, reason: str | None = None
    ) -> dict[str, Any]:
        lifecycle = self.lifecycles.get(workflow_type)
        if lifecycle is None:
            raise MigrationError(f"unknown workflow type {workflow_type!r}; known: {sorted(self.lifecycles)}")
        unknown = sorted(set(mapping.values()) - set(lifecycle.non_terminal_statuses()))
        if unknown:
            raise MigrationError(
                f"--map names {unknown}, not running statuses of {workflow_type}: {lifecycle.non_terminal_statuses()}"
            )
        routes, definition = self.definitions.live(workflow_type)
        if len(routes) != 1:
            shifting = ", ".join(f"version {version_number(arn)} ({weight} %)" for arn, weight in routes)
            raise MigrationError(
                f"the live alias of {workflow_type} is shifting between {shifting}: move once it is done"
            )
        live_version = version_number(routes[0][0])
        known = self.routed_statuses(definition)
        run_id = new_run_id(self.now())
        reason = reason or f"moved to version {live_version} of the {workflow_type} definition (run {run_id})"
        decisions: list[dict[str, Any]] = []
        counts = {"running": 0, "moved": 0, "wouldMove": 0, "current": 0, "refused": 0, "failed": 0}
        for stored in self.records.scan_states(segments, (workflow_type,)):
            attributes = stored.attributes
            if attributes.get("executionStatus") != "RUNNING":
                continue
            counts["running"] += 1
            execution_arn = attributes.get("executionArn")
            from_version = self.definitions.version_of_execution(execution_arn) if execution_arn else None
            decision = decide_move(
                str(attributes["workflowId"]), str(attributes["status"]), from_version, live_version, known, mapping
            )
            summary = decision.summary()
            if decision.outcome == "move":
                summary["outcome"] = "wouldMove" if dry_run else self._move(decision, reason, summary)
            counts[summary["outcome"]] += 1
            decisions.append(summary)
            self.progress(dict(counts))
        report = {
            "command": "move",
            "ok": not counts["refused"] and not counts["failed"],
            "runId": run_id,
            "dryRun": dry_run,
            "type": workflow_type,
            "toDefinitionVersion": live_version,
            "map": dict(mapping),
            "counts": counts,
            "workflows": sorted(decisions, key=lambda item: item["workflowId"]),
        }
        if not dry_run:
            self.records.put_run(
                {
                    "runId": run_id,
                    "command": "move",
                    "startedAt": iso(self.now()),
                    "startedBy": self.actor,
                    "status": "COMPLETED" if report["ok"] else "COMPLETED_WITH_REFUSALS",
                    "toVersion": live_version,
                    "counts": {"migrated": counts["moved"], **counts},
                    "report": report,
                }
            )
        return report

    def _move(self, decision: MoveDecision, reason: str, summary: dict[str, Any]) -> str:
        assert decision.target_status is not None
        try:
            self.mover.move(
                decision.workflow_id, decision.target_status, reason, decision.from_version, decision.to_version
            )
        except MoveRefused as refused:
            summary["reason"] = str(refused)
            return "failed"
        return "moved"
