"""Migrating stored states to a schema version, on purpose and reversibly: plan, apply, verify, roll back.

Reads already serve every item at the current version; a migration writes them at it, so that the
upgrade code of old versions can be retired and what is stored is what is served. Each state is
backed up before it is written, and written with a ``MIGRATED`` history event in one conditional
write: a signal that arrives meanwhile wins, and the migration reads again and tries again. A run
keeps its progress (the Scan's position per segment), so an interrupted one resumes where it stopped,
and a state already at the version is never written again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from functions.domain.lifecycle import Lifecycle
from functions.domain.migration import migrated, new_run_id, upgrade_of
from functions.domain.schema import SchemaRegistry
from functions.domain.time import iso
from functions.domain.workflow import EventType, Workflow
from functions.service.ports import Executions, MigrationRecords, StaleWrite, StoredState

BACKED_UP = "BACKED_UP"
MIGRATED = "MIGRATED"
ROLLED_BACK = "ROLLED_BACK"
# A state changed by someone else between each read and write, this many times: left for a later run.
MAX_ATTEMPTS = 20
SAMPLE_SIZE = 3
# How long verify waits for a running workflow between two waits to reach its next one.
OPEN_WAIT_PATIENCE_SECONDS = 5.0
# The Scan's progress is kept at most this often (and when a segment ends).
PROGRESS_SAVE_SECONDS = 2.0

Progress = Callable[[dict[str, Any]], None]


class MigrationError(Exception):
    """A migration command cannot do what it was asked (an unknown run, a version out of range)."""


class RateLimit:
    """At most ``per_second`` writes a second (0: no limit), so a migration leaves capacity to the platform."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock = clock
        self.next_at = 0.0

    def wait(self) -> None:
        now = self.clock()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


class MigrationService:
    def __init__(
        self,
        records: MigrationRecords,
        executions: Executions,
        lifecycles: Mapping[str, Lifecycle],
        registry: SchemaRegistry,
        *,
        now: Callable[[], datetime],
        actor: str,
        progress: Progress | None = None,
    ):
        self.records = records
        self.executions = executions
        self.lifecycles = lifecycles
        self.registry = registry
        self.now = now
        self.actor = actor
        self.progress = progress or (lambda counts: None)

    # ----- plan ---------------------------------------------------------------------------------

    def plan(
        self, workflow_types: tuple[str, ...], to_version: int | None, segments: int, sample: int = SAMPLE_SIZE
    ) -> dict[str, Any]:
        """What ``apply`` would change, by type and from-version, with a few before/after diffs. Writes nothing."""
        target = self._target(to_version)
        types = self._types(workflow_types)
        to_migrate: dict[str, dict[str, int]] = {}
        samples: list[dict[str, Any]] = []
        scanned = 0
        for stored in self.records.scan_states(segments, types):
            scanned += 1
            self.progress({"scanned": scanned})
            upgrade = upgrade_of(self.registry, stored.attributes, target)
            if upgrade is None:
                continue
            by_version = to_migrate.setdefault(upgrade.workflow_type, {})
            by_version[str(upgrade.from_version)] = by_version.get(str(upgrade.from_version), 0) + 1
            if len(samples) < sample:
                samples.append(upgrade.summary())
        return {
            "command": "plan",
            "ok": True,
            "toVersion": target,
            "types": list(types),
            "scanned": scanned,
            "toMigrate": to_migrate,
            "total": sum(sum(counts.values()) for counts in to_migrate.values()),
            "samples": samples,
        }

    # ----- apply --------------------------------------------------------------------------------

    def apply(
        self,
        workflow_types: tuple[str, ...],
        to_version: int | None,
        segments: int,
        rate_per_second: float,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Migrate every state below the version (of these types), backing each up first. With a
        ``run_id`` of an unfinished run: resume it, with what it was asked."""
        if run_id:
            run = self._run(run_id)
            if run["command"] != "apply":
                raise MigrationError(f"run {run_id} is a {run['command']} run, not an apply")
            if run["status"] == "COMPLETED":
                return {**run["report"], "resumed": False, "message": "the run had completed: nothing to resume"}
        else:
            run = {
                "runId": new_run_id(self.now()),
                "command": "apply",
                "startedAt": iso(self.now()),
                "startedBy": self.actor,
                "toVersion": self._target(to_version),
                "types": list(self._types(workflow_types)),
                "segments": segments,
                "status": "RUNNING",
                "startKeys": {},
                "finishedSegments": [],
                "counts": {"scanned": 0, "current": 0, "migrated": 0, "conflicts": 0, "gone": 0, "leftOver": 0},
                "migratedByType": {},
            }
        self.records.put_run(run)
        counts, by_type = run["counts"], run["migratedByType"]
        limit = RateLimit(rate_per_second)
        saved_at = [time.monotonic()]

        def on_page(segment: int, next_key: dict[str, Any] | None) -> None:
            if next_key is None:
                run["finishedSegments"].append(segment)
                run["startKeys"].pop(str(segment), None)
            else:
                run["startKeys"][str(segment)] = next_key
            if next_key is None or time.monotonic() - saved_at[0] >= PROGRESS_SAVE_SECONDS:
                self.records.put_run(run)
                saved_at[0] = time.monotonic()

        states = self.records.scan_states(
            run["segments"],
            tuple(run["types"]),
            start_keys={int(segment): key for segment, key in run["startKeys"].items()},
            finished=frozenset(run["finishedSegments"]),
            on_page=on_page,
        )
        for stored in states:
            counts["scanned"] += 1
            outcome, upgrade_from, conflicts = self._migrate(run, stored, limit)
            counts[outcome] += 1
            counts["conflicts"] += conflicts
            if outcome == "migrated":
                versions = by_type.setdefault(str(stored.attributes.get("type")), {})
                versions[str(upgrade_from)] = versions.get(str(upgrade_from), 0) + 1
            self.progress(dict(counts))
        run["status"] = "COMPLETED" if not counts["leftOver"] else "COMPLETED_WITH_LEFTOVERS"
        run["finishedAt"] = iso(self.now())
        run["report"] = {
            "command": "apply",
            "ok": not counts["leftOver"],
            "runId": run["runId"],
            "toVersion": run["toVersion"],
            "types": run["types"],
            "counts": counts,
            "migratedByType": by_type,
            "status": run["status"],
        }
        self.records.put_run(run)
        return run["report"]  # type: ignore[no-any-return]

    def _migrate(self, run: dict[str, Any], stored: StoredState, limit: RateLimit) -> tuple[str, int | None, int]:
        """One state: back it up, write it migrated; read again after a conflict (another writer changed
        it: a signal applied meanwhile). Answers the outcome, the version it came from, the conflicts."""
        run_id, target = run["runId"], run["toVersion"]
        conflicts = 0
        for _ in range(MAX_ATTEMPTS):
            upgrade = upgrade_of(self.registry, stored.attributes, target)
            if upgrade is None:
                return "current", None, conflicts
            limit.wait()
            try:
                self.records.put_backup(
                    run_id,
                    upgrade.workflow_id,
                    stored.item,
                    {
                        "outcome": BACKED_UP,
                        "type": upgrade.workflow_type,
                        "fromVersion": upgrade.from_version,
                        "toVersion": target,
                        "revision": stored.revision,
                        "historyLength": int(stored.attributes.get("historyLength") or 0),
                        "backedUpAt": iso(self.now()),
                    },
                )
            except StaleWrite:
                return "current", None, conflicts  # this run migrated it already (a resumed run met it again)
            attributes, event = migrated(upgrade, self.now(), self.actor, run_id)
            try:
                revision = self.records.write_migrated(stored, attributes, event)
            except StaleWrite:
                conflicts += 1
                fresh = self.records.state(upgrade.workflow_id)
                if fresh is None:
                    return "gone", None, conflicts
                stored = fresh
                continue
            self.records.update_backup(
                run_id,
                upgrade.workflow_id,
                outcome=MIGRATED,
                migratedRevision=revision,
                eventSequence=event.sequence,
                migratedAt=event.time,
                conflicts=conflicts,
            )
            return "migrated", upgrade.from_version, conflicts
        return "leftOver", None, conflicts

    # ----- verify -------------------------------------------------------------------------------

    def verify(self, run_id: str) -> dict[str, Any]:
        """Each state the run migrated: still at (or beyond) its version, valid against the current
        model, its MIGRATED event in place; a running one has its execution and an open wait."""
        run = self._run(run_id)
        checked, problems, skipped = 0, [], 0
        for record in self.records.backups(run_id):
            if self._outcome(record) != MIGRATED:
                skipped += 1
                continue
            checked += 1
            found = self._problems(record, run["toVersion"])
            if found:
                problems.append({"workflowId": record["workflowId"], "problems": found})
        report = {
            "command": "verify",
            "ok": not problems,
            "runId": run_id,
            "checked": checked,
            "notMigrated": skipped,
            "failed": len(problems),
            "problems": problems,
            "checkedAt": iso(self.now()),
        }
        run["verification"] = report
        self.records.put_run(run)
        return report

    def _problems(self, record: dict[str, Any], to_version: int) -> list[str]:
        workflow_id = record["workflowId"]
        deadline = time.monotonic() + OPEN_WAIT_PATIENCE_SECONDS
        while True:
            stored = self.records.state(workflow_id)
            if stored is None:
                return ["the state is gone"]
            problems = self._state_problems(stored, to_version)
            event = self.records.history_event(workflow_id, int(record["eventSequence"]))
            if (
                not event
                or event.get("type") != EventType.MIGRATED
                or (event.get("details") or {}).get("run") != (record["pk"][len("RUN#") :])
            ):
                problems.append(f"no MIGRATED event of this run at history sequence {record['eventSequence']}")
            if problems:
                return problems
            execution = self._execution_problems(stored)
            if not execution or time.monotonic() >= deadline:
                return execution
            time.sleep(0.2)  # between two waits: its next wait opens within moments

    def _state_problems(self, stored: StoredState, to_version: int) -> list[str]:
        attributes = stored.attributes
        if self.registry.version_of(attributes) < to_version:
            return [f"stored at schema version {attributes.get('schemaVersion')}, not {to_version}"]
        try:
            workflow = Workflow.model_validate(attributes)
            lifecycle = self.lifecycles.get(workflow.type)
            if lifecycle is None:
                return [f"unknown workflow type {workflow.type!r}"]
            lifecycle.fields_model.model_validate(workflow.fields)
        except ValidationError as error:
            return [f"not valid against the current model: {error.errors()[0]['msg']} at {error.errors()[0]['loc']}"]
        if workflow.status not in lifecycle.statuses:
            return [f"status {workflow.status!r} is not one of the {workflow.type} lifecycle's"]
        return []

    def _execution_problems(self, stored: StoredState) -> list[str]:
        workflow = Workflow.model_validate(stored.attributes)
        if not workflow.is_running:
            return []
        if not workflow.executionArn:
            return [f"running, but its execution {workflow.executionName} never reached a wait"]
        status = self.executions.status(workflow.executionArn)
        if status != "RUNNING":
            return [f"running, but its execution {workflow.executionName} is {status or 'gone'}"]
        if not workflow.wait_is_open and workflow.status in self.lifecycles[workflow.type].wait_statuses():
            return [f"running in {workflow.status}, but no wait is open"]
        return []

    # ----- rollback -----------------------------------------------------------------------------

    def rollback(self, run_id: str) -> dict[str, Any]:
        """Put back every state the run migrated exactly as it was backed up, and take its MIGRATED
        event away; a state changed since the migration is left as it is (its change would be lost)
        and reported."""
        run = self._run(run_id)
        restored, already, conflicts = 0, 0, []
        for record in self.records.backups(run_id):
            outcome = self._outcome(record)
            if outcome == ROLLED_BACK:
                already += 1
                continue
            if outcome != MIGRATED:
                continue
            try:
                self.records.restore(
                    record["workflowId"], record["item"], int(record["migratedRevision"]), int(record["eventSequence"])
                )
            except StaleWrite:
                conflicts.append(
                    {
                        "workflowId": record["workflowId"],
                        "problem": "changed since the migration: left as it is (restoring it would lose the change)",
                    }
                )
                continue
            self.records.update_backup(run_id, record["workflowId"], outcome=ROLLED_BACK, rolledBackAt=iso(self.now()))
            restored += 1
            self.progress({"restored": restored})
        report = {
            "command": "rollback",
            "ok": not conflicts,
            "runId": run_id,
            "restored": restored,
            "alreadyRolledBack": already,
            "conflicts": conflicts,
            "rolledBackAt": iso(self.now()),
            "rolledBackBy": self.actor,
        }
        run["status"] = "ROLLED_BACK" if not conflicts else "PARTLY_ROLLED_BACK"
        run["rollback"] = report
        self.records.put_run(run)
        return report

    # ----- shared -------------------------------------------------------------------------------

    def _outcome(self, record: dict[str, Any]) -> str:
        """What became of a backed-up state. A run stopped between writing a state and noting it has
        its MIGRATED event in the history: then it was migrated (noted now)."""
        if record.get("outcome") != BACKED_UP:
            return str(record.get("outcome"))
        sequence = int(record["historyLength"]) + 1
        event = self.records.history_event(record["workflowId"], sequence)
        run_id = record["pk"][len("RUN#") :]
        if event and event.get("type") == EventType.MIGRATED and (event.get("details") or {}).get("run") == run_id:
            record.update(outcome=MIGRATED, migratedRevision=int(record["revision"]) + 1, eventSequence=sequence)
            self.records.update_backup(
                run_id,
                record["workflowId"],
                outcome=MIGRATED,
                migratedRevision=record["migratedRevision"],
                eventSequence=sequence,
            )
            return MIGRATED
        return BACKED_UP

    def _run(self, run_id: str) -> dict[str, Any]:
        run = self.records.get_run(run_id)
        if run is None:
            raise MigrationError(f"no migration run {run_id!r}")
        return run

    def _target(self, to_version: int | None) -> int:
        target = self.registry.current if to_version is None else to_version
        if not 1 <= target <= self.registry.current:
            raise MigrationError(
                f"--to-version must be 1..{self.registry.current} (this code's versions), not {target}"
            )
        return target

    def _types(self, workflow_types: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(workflow_types) - set(self.lifecycles))
        if unknown:
            raise MigrationError(f"unknown workflow type(s) {unknown}; known: {sorted(self.lifecycles)}")
        return tuple(sorted(workflow_types))
