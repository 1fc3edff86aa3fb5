"""Request and response bodies of the REST API (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
