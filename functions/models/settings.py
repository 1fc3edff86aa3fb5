"""The functions' configuration, read from environment variables once per cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator


class Settings(BaseModel):
    """Every setting a function reads: its name (the environment variable is the field's name in
    capitals), type and default. The stacks and the local platform write each function's
    environment with ``environment`` from this model; a function reads it with ``from_environment``."""

    workflows_table_name: str | None = Field(default=None, min_length=1)
    idempotency_table_name: str | None = None
    # Workflow type → the ARN executions start on (the live alias in AWS).
    state_machine_arns: dict[str, str] = Field(default_factory=dict)
    # Batch operations: their table, and the ARN their state machine's executions start on.
    batches_table_name: str | None = None
    batch_state_machine_arn: str | None = None
    alerts_topic_arn: str | None = None
    notifications_topic_arn: str | None = None
    documents_bucket_name: str | None = None
    event_bus_name: str | None = None
    # Locally, where upload URLs must point (the emulated AWS endpoint); unset in AWS.
    s3_presign_endpoint: str | None = None
    # Workflow type → timeout name → seconds; the same values the state machines were given.
    lifecycle_timeouts: dict[str, dict[str, int]] = Field(default_factory=dict)
    # How long a signal kept between two waits may hold the API's answer before it says 202.
    signal_apply_wait_seconds: float = Field(default=5.0, ge=0)
    # Operations (DESIGN §6, the seed's numbers): health thresholds and the retry cap of recovery.
    health_failure_rate_threshold: float = Field(default=0.10, ge=0, le=1)
    health_running_threshold: int = Field(default=100, ge=0)
    health_stalled_hours: float = Field(default=24, gt=0)
    recovery_max_retries: int = Field(default=3, ge=0)

    @field_validator("state_machine_arns", "lifecycle_timeouts", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @staticmethod
    def variable(field: str) -> str:
        """The environment variable of a setting."""
        if field not in Settings.model_fields:
            raise KeyError(f"no setting named {field!r}")
        return field.upper()

    @classmethod
    def environment(cls, values: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, str]:
        """The environment variables that carry ``values`` (setting → value, checked against this
        model), limited to ``fields`` when given; settings left unset are not written."""
        chosen = list(values) if fields is None else list(fields)
        checked = cls.model_validate(dict(values))
        written = checked.model_dump(include=set(chosen), exclude_unset=True, exclude_none=True)
        return {cls.variable(field): _as_text(value) for field, value in sorted(written.items())}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        return cls.model_validate(
            {field: environ[cls.variable(field)] for field in cls.model_fields if environ.get(cls.variable(field))}
        )


def _as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
