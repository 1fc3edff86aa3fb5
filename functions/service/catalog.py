"""The lifecycle catalog as clients read it (``GET /lifecycles``): each lifecycle's statuses, what
runs in them, its signals (where each is accepted, where it leads, who may send it), its timeouts and
the workflows its workflows name; a signal's payload and a start's input as references to JSON
schemas of the OpenAPI document, which holds them under the names given here (``payload_models``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from functions.domain.identity import OPERATORS
from functions.domain.lifecycle import Lifecycle

SCHEMA_REF_PREFIX = "#/components/schemas/"


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))


def input_schema_name(workflow_type: str) -> str:
    """The OpenAPI component holding a lifecycle's start input, e.g. ``AccuApplicationStartInput``."""
    return f"{_pascal(workflow_type)}StartInput"


def payload_schema_name(workflow_type: str, signal: str) -> str:
    """The OpenAPI component holding a signal's payload, one per lifecycle and signal (lifecycles share
    payload classes, and two of them may name theirs alike), e.g. ``ProjectSubmitOffsetsReportPayload``."""
    return f"{_pascal(workflow_type)}{_pascal(signal)}Payload"


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"{SCHEMA_REF_PREFIX}{name}"}


def payload_models(lifecycles: Mapping[str, Lifecycle]) -> dict[str, type[BaseModel]]:
    """What the OpenAPI document must hold besides its routes' models, by component name: every
    lifecycle's start input and every signal's payload."""
    models: dict[str, type[BaseModel]] = {}
    for lifecycle in lifecycles.values():
        named = {input_schema_name(lifecycle.type): lifecycle.input_model}
        for signal, spec in lifecycle.signals.items():
            named[payload_schema_name(lifecycle.type, signal)] = spec.payload_model
        for name, model in named.items():
            if name in models:
                raise ValueError(f"two schemas would be named {name!r}")
            models[name] = model
    return models


class LifecycleCatalog:
    def __init__(self, lifecycles: Mapping[str, Lifecycle], timeouts: Mapping[str, Mapping[str, int]] | None = None):
        self.lifecycles = lifecycles
        # A deployment's fixed timeouts, over the lifecycles' defaults (as the engine applies them).
        self.timeouts = {
            name: {**lifecycle.default_timeouts(), **dict((timeouts or {}).get(name, {}))}
            for name, lifecycle in lifecycles.items()
        }

    def payload_models(self) -> dict[str, type[BaseModel]]:
        return payload_models(self.lifecycles)

    def describe(self) -> dict[str, Any]:
        return {"lifecycles": [self._lifecycle(lifecycle) for lifecycle in self.lifecycles.values()]}

    def _lifecycle(self, lifecycle: Lifecycle) -> dict[str, Any]:
        in_order = {status: position for position, status in enumerate(lifecycle.statuses)}

        def ordered(statuses: frozenset[str]) -> list[str]:
            return sorted(statuses, key=lambda status: in_order.get(status, len(in_order)))

        return {
            "type": lifecycle.type,
            "description": lifecycle.description,
            "initialStatus": lifecycle.initial_status,
            "statuses": list(lifecycle.statuses),
            "terminalStatuses": ordered(lifecycle.terminal_statuses),
            "activities": dict(lifecycle.activities),
            # Operators may start every lifecycle and send every signal the platform does not keep to itself.
            "starters": sorted(lifecycle.starters | {OPERATORS}),
            "inputSchema": schema_ref(input_schema_name(lifecycle.type)),
            "signals": [
                {
                    "name": name,
                    "sources": ordered(spec.sources),
                    "target": spec.target,
                    "senders": [] if spec.internal else sorted(spec.senders | {OPERATORS}),
                    "internal": spec.internal,
                    "restartsWait": spec.restarts_wait,
                    "payloadSchema": schema_ref(payload_schema_name(lifecycle.type, name)),
                }
                for name, spec in lifecycle.signals.items()
            ],
            "timeouts": [
                {
                    "status": spec.status,
                    "name": spec.name,
                    "action": spec.action,
                    "target": spec.target,
                    "signal": spec.signal,
                    "escalates": spec.escalates,
                    "notifies": spec.notifies,
                    "computed": spec.computed,
                    "defaultSeconds": None if spec.computed else spec.default_seconds,
                    "seconds": None if spec.computed else self.timeouts[lifecycle.type].get(spec.name),
                    "description": spec.description,
                }
                for spec in sorted(lifecycle.timeouts.values(), key=lambda spec: in_order.get(spec.status, 0))
            ],
            "relations": [
                {
                    "name": relation.name,
                    "inverse": relation.inverse,
                    "field": relation.id_field,
                    "workflowTypes": list(relation.workflow_types),
                    "typeField": relation.type_field,
                }
                for relation in lifecycle.relations
            ],
        }
