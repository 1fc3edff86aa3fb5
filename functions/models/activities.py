"""The events the state machines send to the activity functions."""

import datetime
import json
from typing import Any, Literal

from pydantic import BaseModel, Field


class ExecutionCall(BaseModel):
    """What every state machine call names: the workflow, and the execution calling (``$$.Execution``),
    so that an execution another one has taken over from learns it must end."""

    workflowId: str
    execution: str | None = Field(default=None, description="$$.Execution.Name")
    executionArn: str | None = Field(default=None, description="$$.Execution.Id")


class OpenWaitEvent(ExecutionCall):
    status: str
    taskToken: str = Field(min_length=1)


class StatusEvent(ExecutionCall):
    """A workflow and the status the state machine was in when it called."""

    status: str


class CaughtError(BaseModel):
    Error: str = "States.Runtime"
    Cause: str | None = None


class FailureEvent(ExecutionCall):
    error: CaughtError = Field(default_factory=CaughtError)


class BatchStepEvent(BaseModel):
    """The batch operation's state machine calling: a step of the batch, or the failure it caught."""

    batchId: str = Field(min_length=1)
    operation: Literal["step", "fail"] = "step"
    error: dict[str, Any] | None = None


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
    # The execution's input, as JSON text: it names the workflow (``workflowId``).
    input: str | None = None

    @property
    def workflow_id(self) -> str | None:
        try:
            named = json.loads(self.input or "{}").get("workflowId")
        except (ValueError, AttributeError):
            return None
        return named if isinstance(named, str) and named else None
