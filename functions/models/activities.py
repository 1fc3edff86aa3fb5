"""The events the state machines send to the activity functions."""

import datetime

from pydantic import BaseModel, Field


class OpenWaitEvent(BaseModel):
    workflowId: str
    status: str
    taskToken: str = Field(min_length=1)


class StatusEvent(BaseModel):
    """A workflow and the status the state machine was in when it called."""

    workflowId: str
    status: str


class CaughtError(BaseModel):
    Error: str = "States.Runtime"
    Cause: str | None = None


class FailureEvent(BaseModel):
    workflowId: str
    error: CaughtError = Field(default_factory=CaughtError)


class ReportRequest(BaseModel):
    date: datetime.date | None = None
    schedule: str | None = None


class ExecutionStatusChange(BaseModel):
    """The detail of a "Step Functions Execution Status Change" event."""

    executionArn: str
    name: str
    status: str
    stateMachineArn: str | None = None
    error: str | None = None
    cause: str | None = None
