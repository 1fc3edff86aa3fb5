"""The functions' configuration, read from environment variables once per cold start."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel, Field, field_validator


class Settings(BaseModel):
    workflows_table_name: str = Field(min_length=1)
    idempotency_table_name: str | None = None
    # Workflow type → the ARN executions start on (the live alias in AWS).
    state_machine_arns: dict[str, str] = Field(default_factory=dict)
    alerts_topic_arn: str | None = None
    notifications_topic_arn: str | None = None
    documents_bucket_name: str | None = None
    event_bus_name: str | None = None
    # Locally, where upload URLs must point (the emulated AWS endpoint); unset in AWS.
    s3_presign_endpoint: str | None = None
    # Workflow type → timeout name → seconds; the same values the state machines were given.
    lifecycle_timeouts: dict[str, dict[str, int]] = Field(default_factory=dict)
    # How long a signal kept between two waits may hold the API's answer before it says 202.
    signal_apply_wait_seconds: float = 5.0
    # Operations (DESIGN §6, the seed's numbers): health thresholds and the retry cap of recovery.
    health_failure_rate_threshold: float = Field(default=0.10, ge=0, le=1)
    health_running_threshold: int = Field(default=100, ge=0)
    health_stalled_hours: float = Field(default=24, gt=0)
    recovery_max_retries: int = Field(default=3, ge=0)

    @field_validator("state_machine_arns", "lifecycle_timeouts", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        names = {
            "workflows_table_name": "WORKFLOWS_TABLE_NAME",
            "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
            "state_machine_arns": "STATE_MACHINE_ARNS",
            "alerts_topic_arn": "ALERTS_TOPIC_ARN",
            "notifications_topic_arn": "NOTIFICATIONS_TOPIC_ARN",
            "documents_bucket_name": "DOCUMENTS_BUCKET_NAME",
            "event_bus_name": "EVENT_BUS_NAME",
            "s3_presign_endpoint": "S3_PRESIGN_ENDPOINT",
            "lifecycle_timeouts": "LIFECYCLE_TIMEOUTS",
            "signal_apply_wait_seconds": "SIGNAL_APPLY_WAIT_SECONDS",
            "health_failure_rate_threshold": "HEALTH_FAILURE_RATE_THRESHOLD",
            "health_running_threshold": "HEALTH_RUNNING_THRESHOLD",
            "health_stalled_hours": "HEALTH_STALLED_HOURS",
            "recovery_max_retries": "RECOVERY_MAX_RETRIES",
        }
        return cls.model_validate({field: environ[name] for field, name in names.items() if environ.get(name)})
