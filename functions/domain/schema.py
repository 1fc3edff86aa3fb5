"""Schema versions of the stored items, and the pure upgrades between them.

Versions are numbered for the whole platform (``CURRENT_VERSION``); each lifecycle registers a
``SchemaChange`` for the versions where its items changed, and an item of a lifecycle that did not
change at a version is only relabelled. Every read upgrades an item to the current version, so code
only ever sees the current shape; the next write of a state stores it at that version, and
``accu migrate`` writes them all on purpose (with a backup each). New state goes in optional fields
(a lifecycle's ``fields``, which older code carries over as they are), so that a reader of the
version before ignores them while a deployment is rolled out or back.

No AWS here: upgrades are functions of the stored attributes (keys left out).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from functions.domain.lifecycle import Lifecycle, SchemaChange, StoredItem

CURRENT_VERSION = 2
# Items stored before versions were written are version 1.
FIRST_VERSION = 1

ItemKind = Literal["state", "history_event", "kept_signal"]


@dataclass(frozen=True)
class SchemaRegistry:
    """Every lifecycle's schema changes, by workflow type and the version each makes."""

    changes: Mapping[str, Mapping[int, SchemaChange]]
    current: int = CURRENT_VERSION

    @classmethod
    def of(cls, lifecycles: Iterable[Lifecycle], current: int = CURRENT_VERSION) -> SchemaRegistry:
        changes: dict[str, dict[int, SchemaChange]] = {}
        for lifecycle in lifecycles:
            by_version: dict[int, SchemaChange] = {}
            for change in lifecycle.schema_changes:
                if not FIRST_VERSION < change.version <= current or change.version in by_version:
                    raise ValueError(
                        f"{lifecycle.type}: schema change {change.version} must be one of "
                        f"{FIRST_VERSION + 1}..{current}, once"
                    )
                by_version[change.version] = change
            changes[lifecycle.type] = by_version
        return cls(changes, current)

    def version_of(self, item: Mapping[str, Any]) -> int:
        try:
            return max(FIRST_VERSION, int(item.get("schemaVersion") or FIRST_VERSION))
        except (TypeError, ValueError):
            return FIRST_VERSION

    def steps(
        self, workflow_type: str | None, from_version: int, to_version: int
    ) -> list[tuple[int, SchemaChange | None]]:
        """The versions an item goes through, each with its lifecycle's change (None: relabelled)."""
        known = self.changes.get(workflow_type or "", {})
        return [(version, known.get(version)) for version in range(from_version + 1, to_version + 1)]

    def upgrade(
        self, kind: ItemKind, workflow_type: str | None, item: StoredItem, to_version: int | None = None
    ) -> StoredItem:
        """The item at ``to_version`` (the current one by default). An item of a later version than
        this code knows is answered as it is: its new fields are optional and ignored here."""
        target = self.current if to_version is None else to_version
        from_version = self.version_of(item)
        if from_version >= target:
            return item  # every read: mostly current already, answered as it is (no copy)
        upgraded = dict(item)
        for version, change in self.steps(workflow_type, from_version, target):
            if change is not None:
                upgraded = getattr(change, kind)(upgraded)
            upgraded["schemaVersion"] = version
        return upgraded


@functools.cache
def registry() -> SchemaRegistry:
    """The platform's registry, from its lifecycles (imported here, when first needed, since the
    lifecycles' modules build on the engine's)."""
    from functions.domain.lifecycles import LIFECYCLES

    return SchemaRegistry.of(LIFECYCLES.values())


def upgraded(kind: ItemKind, workflow_type: str | None, item: StoredItem) -> StoredItem:
    """A stored item as the current version (every read goes through here)."""
    return registry().upgrade(kind, workflow_type, item)
