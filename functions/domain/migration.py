"""What a migration does to one stored state, decided without I/O: which schema changes it goes
through, what changes (a diff), and the state and ``MIGRATED`` history event it is written back as."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.domain.schema import SchemaRegistry
from functions.domain.time import iso
from functions.domain.workflow import EventType, HistoryEvent

# Attributes a migration writes itself, whatever the upgrades do.
BOOKKEEPING = ("schemaVersion", "historyLength", "version", "revision")
MAX_DIFF_ENTRIES = 50


@dataclass(frozen=True)
class StateUpgrade:
    """One stored state's way from its version to ``to_version``."""

    workflow_id: str
    workflow_type: str
    from_version: int
    to_version: int
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    changes: tuple[str, ...]

    def diff(self) -> list[dict[str, Any]]:
        """What the upgrade changes, attribute by attribute (dotted paths into documents)."""
        entries: list[dict[str, Any]] = []
        _diff(self.before, self.after, "", entries)
        return entries[:MAX_DIFF_ENTRIES]

    def summary(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "type": self.workflow_type,
            "fromVersion": self.from_version,
            "toVersion": self.to_version,
            "changes": list(self.changes),
            "diff": self.diff(),
        }


def upgrade_of(registry: SchemaRegistry, stored: Mapping[str, Any], to_version: int) -> StateUpgrade | None:
    """The upgrade a stored state (its attributes, keys left out) needs to reach ``to_version``;
    None when it is there already (or beyond)."""
    workflow_type = str(stored.get("type") or "")
    from_version = registry.version_of(stored)
    if from_version >= to_version:
        return None
    steps = registry.steps(workflow_type, from_version, to_version)
    after = registry.upgrade("state", workflow_type, dict(stored), to_version)
    changes = tuple(
        f"{version}: {change.description}" if change else f"{version}: no change for {workflow_type}"
        for version, change in steps
    )
    return StateUpgrade(
        workflow_id=str(stored.get("workflowId")),
        workflow_type=workflow_type,
        from_version=from_version,
        to_version=to_version,
        before=dict(stored),
        after=after,
        changes=changes,
    )


def migrated(upgrade: StateUpgrade, now: datetime, actor: str, run_id: str) -> tuple[dict[str, Any], HistoryEvent]:
    """The state as written back (one more history event, the same revision for the conditional
    write to check), and its ``MIGRATED`` event. Its progress time stays: a migration is no progress
    of the business, and the health check's stalled list sorts on it."""
    state = dict(upgrade.after)
    sequence = int(upgrade.before.get("historyLength") or 0) + 1
    state.update(historyLength=sequence, version=int(upgrade.before.get("version") or 0) + 1)
    status = state.get("status")
    event = HistoryEvent(
        sequence=sequence,
        time=iso(now),
        type=EventType.MIGRATED,
        fromStatus=status,
        toStatus=status,
        actor=actor,
        details={
            "run": run_id,
            "fromSchemaVersion": upgrade.from_version,
            "toSchemaVersion": upgrade.to_version,
            "changes": list(upgrade.changes),
        },
    )
    return state, event


def _diff(before: Any, after: Any, path: str, entries: list[dict[str, Any]]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            if key in BOOKKEEPING and not path:
                if key == "schemaVersion" and before.get(key) != after.get(key):
                    entries.append({"path": key, "before": before.get(key), "after": after.get(key)})
                continue
            _diff(before.get(key), after.get(key), f"{path}.{key}" if path else str(key), entries)
    elif before != after:
        entries.append({"path": path, "before": before, "after": after})


def new_run_id(now: datetime) -> str:
    """A migration run's id: when it started, and a random tail (two runs in a second differ)."""
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def version_number(version_arn: str) -> int:
    """A state machine version's number, from its ARN (``...:stateMachine:name:3``)."""
    return int(version_arn.rsplit(":", 1)[1])


@dataclass(frozen=True)
class MoveDecision:
    """What ``accu migrate move`` does with one running workflow: move it (to ``target_status``), leave
    it (already on the live version, nothing mapped), or refuse (the live definition does not know
    its status and no mapping says where it goes)."""

    workflow_id: str
    status: str
    outcome: str  # "move" | "current" | "refused"
    target_status: str | None
    from_version: int | None
    to_version: int
    reason: str

    def summary(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "status": self.status,
            "outcome": self.outcome,
            "toStatus": self.target_status,
            "fromDefinitionVersion": self.from_version,
            "toDefinitionVersion": self.to_version,
            "reason": self.reason,
        }


def decide_move(
    workflow_id: str,
    status: str,
    from_version: int | None,
    live_version: int,
    known_statuses: set[str],
    mapping: Mapping[str, str],
) -> MoveDecision:
    """Where a running workflow goes on the live definition: its status, or the one ``mapping`` names for
    it; refused when the definition does not route that status."""
    target = mapping.get(status, status)

    def decision(outcome: str, reason: str) -> MoveDecision:
        return MoveDecision(workflow_id, status, outcome, target, from_version, live_version, reason)

    if target not in known_statuses:
        if status == target:
            return decision("refused", f"version {live_version} does not know {status}: map it (--map {status}=NEW)")
        return decision("refused", f"{status} is mapped to {target}, which version {live_version} does not know")
    if from_version == live_version and target == status:
        return decision("current", f"already runs version {live_version}")
    where = f"version {from_version}" if from_version else "the unversioned state machine"
    mapped = f", {status} as {target}" if target != status else ""
    return decision("move", f"from {where} to version {live_version}{mapped}")
