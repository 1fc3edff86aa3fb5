"""JSON schemas the OpenAPI document holds besides its routes' models: the models a client builds
forms from (each signal's payload, each lifecycle's start input), which the lifecycle catalog
(``GET /lifecycles``) refers to by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

COMPONENTS = "#/components/schemas/"


def component_schemas(models: Mapping[str, type[BaseModel]]) -> dict[str, dict[str, Any]]:
    """Each model's JSON schema under its name, and the schemas it refers to (pydantic's ``$defs``)
    under ``<name>.<definition>``: one model's definitions never meet another's."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template=f"{COMPONENTS}{name}.{{model}}")
        for definition, part in schema.pop("$defs", {}).items():
            schemas[f"{name}.{definition}"] = part
        schemas[name] = schema
    return schemas


def with_components(document: dict[str, Any], schemas: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI document with ``schemas`` added to its components (none of its own replaced)."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    clashes = sorted(name for name, schema in schemas.items() if components.get(name, schema) != schema)
    if clashes:
        raise ValueError(f"the OpenAPI document already has other schemas named {clashes}")
    components.update(schemas)
    return document
