"""Pieces every lifecycle shares: payload base model, updateMetadata, JSON merge patch."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from functions.domain.errors import ValidationFailed
from functions.domain.identity import APPLICANTS
from functions.domain.lifecycle import SignalContext, SignalSpec, WorkflowView

METADATA_MAX_BYTES = 16 * 1024
# Metadata keys that business rules once read or that would pass for a reviewer's act: never
# written through metadata (updateMetadata, patchMetadata), whoever asks.
PROTECTED_METADATA_KEYS = {
    "methodologyValidated": "the methodology is validated by a reviewer's validateMethodology signal",
}
UPDATE_METADATA = "updateMetadata"


# RFC 3339, as OpenAPI's date-time and date formats: nothing looser (pydantic alone would also take
# a number of seconds since 1970, or a date-time without its offset).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rfc3339_date_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("expected a date-time with its offset, e.g. 2026-01-31T00:00:00Z")
    return value.upper()


def _rfc3339_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("expected a date, e.g. 2026-01-31")
    return value


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_date_time)]
Date = Annotated[date, BeforeValidator(_rfc3339_date)]


class Payload(BaseModel):
    """Base of signal payloads and start inputs: unknown fields are errors, not silently dropped.
    Strings are kept as sent (no stripping): the OpenAPI document's minLength then means what it says."""

    model_config = ConfigDict(extra="forbid")


class EmptyPayload(Payload):
    pass


class ReasonPayload(Payload):
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is needed, not only blanks")
        return value


class UpdateMetadataPayload(Payload):
    metadata: dict[str, Any]

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > METADATA_MAX_BYTES:
            raise ValueError(f"metadata must serialize to at most {METADATA_MAX_BYTES} bytes")
        return value


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null removes a key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def refuse_protected_keys(patch: Mapping[str, Any]) -> None:
    protected = [key for key in patch if key in PROTECTED_METADATA_KEYS]
    if protected:
        raise ValidationFailed(
            "these metadata keys cannot be written: " + ", ".join(protected),
            [{"field": f"metadata.{key}", "message": PROTECTED_METADATA_KEYS[key]} for key in protected],
        )


def update_metadata_signal(non_terminal_statuses: list[str]) -> SignalSpec:
    def effect(view: WorkflowView, payload: UpdateMetadataPayload, context: SignalContext) -> dict[str, Any]:
        refuse_protected_keys(payload.metadata)
        merged = merge_patch(dict(view.metadata), payload.metadata)
        if len(json.dumps(merged)) > METADATA_MAX_BYTES:
            raise ValueError(f"metadata after the merge exceeds {METADATA_MAX_BYTES} bytes")
        return {"metadata": merged}

    return SignalSpec(
        name=UPDATE_METADATA,
        sources=frozenset(non_terminal_statuses),
        target=None,
        payload_model=UpdateMetadataPayload,
        senders=frozenset({APPLICANTS}),
        effect=effect,
    )
