"""What the REST API takes (DESIGN §5): request bodies and the value types of its parameters. What it
answers is in ``responses.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from functions.domain.batches import DEFAULT_RATE_PER_SECOND, MAX_RATE_PER_SECOND
from functions.domain.common import DateTime
from functions.domain.lifecycle import Lifecycle
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.workflow import ExecutionStatus

WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Addressing a workflow: ids the platform derives from others (a project's report calendars,
# ``<project id>-report-<cycle>``) are longer than the 64 characters a client may choose.
WORKFLOW_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
SIGNAL_NAME_PATTERN = r"^[A-Za-z]{1,64}$"

# The catalog's lifecycles and every status one of them has (which statuses belong to which type
# is checked by the service: the document can only list them all).
if TYPE_CHECKING:  # made from the catalog at run time, which a type checker cannot follow
    WorkflowType = str
    LifecycleStatus = str
else:
    WorkflowType = Literal[tuple(LIFECYCLES)]
    LifecycleStatus = Literal[tuple(sorted({status for item in LIFECYCLES.values() for status in item.statuses}))]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartRequestBase(StrictBody):
    type: str
    workflowId: str | None = Field(
        default=None, pattern=WORKFLOW_ID_PATTERN, description="unique on the platform; generated when absent"
    )

    def input_fields(self) -> dict[str, Any]:
        """The start input as the client gave it (what it left out stays out: the service fills it)."""
        return self.input.model_dump(mode="json", exclude_unset=True)  # type: ignore[attr-defined,no-any-return]


def _start_model(lifecycle: Lifecycle) -> type[StartRequestBase]:
    name = "".join(part.capitalize() for part in lifecycle.type.split("-"))
    try:
        lifecycle.input_model.model_validate({})
        input_field: Any = (lifecycle.input_model, Field(default_factory=lifecycle.input_model))
    except ValidationError:
        input_field = (lifecycle.input_model, ...)
    fields: dict[str, Any] = {
        "type": (Literal[lifecycle.type], Field(description="the lifecycle")),
        "input": input_field,
    }
    return create_model(
        f"Start{name}Request", __base__=StartRequestBase, __doc__=f"Start a {lifecycle.type} workflow.", **fields
    )


if TYPE_CHECKING:
    StartWorkflowRequest = StartRequestBase
else:  # the start body of each lifecycle of the catalog, told apart by ``type``
    StartWorkflowRequest = Annotated[
        Union[tuple(_start_model(lifecycle) for lifecycle in LIFECYCLES.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class TerminateRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


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


InterventionAction = Literal["signal", "terminate", "retry", "escalate", "patchMetadata", "moveExecution"]


class _Intervention(StrictBody):
    reason: str = Reason


class SignalIntervention(_Intervention):
    """Send a signal as an operator (audited as an INTERVENTION)."""

    action: Literal["signal"]
    signal: str = Field(pattern=SIGNAL_NAME_PATTERN, description="the signal's name")
    payload: dict[str, Any] = Field(default_factory=dict, description="the signal's payload")


class TerminateIntervention(_Intervention):
    action: Literal["terminate"]


class RetryIntervention(_Intervention):
    action: Literal["retry"]


class EscalateIntervention(_Intervention):
    action: Literal["escalate"]
    level: int | None = Field(default=None, ge=1, le=10, description="the level to set; default: one up")


class PatchMetadataIntervention(_Intervention):
    action: Literal["patchMetadata"]
    metadata: dict[str, Any] = Field(description="a JSON merge patch of the workflow's metadata")


class MoveExecutionIntervention(_Intervention):
    """End the workflow's execution and start one on the live definition, at its status or the one given
    (what ``accu migrate move`` sends); recorded as MIGRATED with the definition versions named."""

    action: Literal["moveExecution"]
    status: str | None = Field(
        default=None, pattern=r"^[A-Z][A-Z0-9_]{0,63}$", description="the status to go on in; default: its own"
    )
    fromDefinitionVersion: int | None = Field(default=None, ge=1, description="the version its execution ran")
    toDefinitionVersion: int | None = Field(default=None, ge=1, description="the live version it moves to")


InterventionRequest = Annotated[
    Union[  # noqa: UP007
        SignalIntervention,
        TerminateIntervention,
        RetryIntervention,
        EscalateIntervention,
        PatchMetadataIntervention,
        MoveExecutionIntervention,
    ],
    Field(discriminator="action"),
]


class BatchFilterBody(StrictBody):
    """Which workflows: what ``GET /workflows`` filters on (at least one of them)."""

    type: WorkflowType | None = Field(default=None, description="the lifecycle")
    status: LifecycleStatus | None = Field(default=None, description="a status of that lifecycle")
    executionStatus: ExecutionStatus | None = Field(default=None, description="the execution's status")
    startedAfter: DateTime | None = Field(default=None, description="inclusive, RFC 3339 date-time")
    startedBefore: DateTime | None = Field(
        default=None, description="exclusive, RFC 3339 date-time; at most the batch's creation"
    )


class SignalBatchFilterBody(BatchFilterBody):
    type: WorkflowType = Field(description="the lifecycle whose signal is sent")


class _BatchRequest(StrictBody):
    filter: BatchFilterBody
    reason: str = Reason
    dryRun: bool = Field(default=False, description="count and sample the matching workflows, change nothing")
    ratePerSecond: int = Field(
        default=DEFAULT_RATE_PER_SECOND, ge=1, le=MAX_RATE_PER_SECOND, description="workflows acted on per second"
    )


class SignalBatchRequest(_BatchRequest):
    """Send a signal to every matching workflow of one lifecycle, as the operator."""

    action: Literal["signal"]
    filter: SignalBatchFilterBody
    signal: str = Field(pattern=SIGNAL_NAME_PATTERN, description="the signal's name")
    payload: dict[str, Any] = Field(default_factory=dict, description="the signal's payload")


class TerminateBatchRequest(_BatchRequest):
    action: Literal["terminate"]


class RetryBatchRequest(_BatchRequest):
    action: Literal["retry"]


class EscalateBatchRequest(_BatchRequest):
    action: Literal["escalate"]


# One action on every workflow the filter matches, run by the platform (operators); told apart by ``action``.
BatchRequest = Annotated[
    Union[SignalBatchRequest, TerminateBatchRequest, RetryBatchRequest, EscalateBatchRequest],  # noqa: UP007
    Field(discriminator="action"),
]
