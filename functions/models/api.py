"""Request and response bodies of the REST API (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartWorkflowRequest(StrictBody):
    type: str = Field(description="the lifecycle, e.g. accu-application")
    workflowId: str | None = Field(
        default=None, pattern=WORKFLOW_ID_PATTERN, description="unique on the platform; generated when absent"
    )
    input: dict[str, Any] = Field(default_factory=dict, description="the lifecycle's start input")


class TerminateRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)
    awaiting: list[str] | None = None


class Page(BaseModel):
    items: list[dict[str, Any]]
    nextToken: str | None


class ListQuery(BaseModel):
    type: str | None = None
    status: str | None = None
    executionStatus: str | None = None
    startedAfter: datetime | None = None
    startedBefore: datetime | None = None
    limit: int = Field(default=50, ge=1, le=100)
    nextToken: str | None = None


class UploadRequest(StrictBody):
    fileName: str = Field(min_length=1, max_length=255)
    contentType: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=127)
    sizeBytes: int = Field(gt=0, le=100 * 1024 * 1024)


Reason = Field(min_length=1, max_length=2000, description="why: kept in the workflow's history")


class EscalateRequest(StrictBody):
    reason: str = Reason
    level: int | None = Field(default=None, ge=1, le=10, description="the level to set; default: one up")


class RetryRequest(StrictBody):
    reason: str | None = Field(default=None, min_length=1, max_length=2000)


class InterventionRequest(StrictBody):
    action: Literal["signal", "terminate", "retry", "escalate", "patchMetadata"]
    reason: str = Reason
    signal: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,64}$", description="action signal: which")
    payload: dict[str, Any] | None = Field(default=None, description="action signal: its payload")
    level: int | None = Field(default=None, ge=1, le=10, description="action escalate: the level")
    metadata: dict[str, Any] | None = Field(default=None, description="action patchMetadata: a JSON merge patch")

    @model_validator(mode="after")
    def _needs(self) -> InterventionRequest:
        if self.action == "signal" and not self.signal:
            raise ValueError("action signal needs the signal's name in 'signal'")
        if self.action == "patchMetadata" and self.metadata is None:
            raise ValueError("action patchMetadata needs the merge patch in 'metadata'")
        return self
