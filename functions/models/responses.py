"""What the REST API answers (DESIGN §5), one model per body: the OpenAPI document shows them, and
the API function validates every answer against its route's model before it leaves.

A workflow's state differs by lifecycle (its statuses, its input, its own fields): its model is
made from the lifecycle catalog, one per type, told apart by ``type``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from functions.domain.lifecycle import Lifecycle
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.workflow import EventType, ExecutionStatus


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Answer):
    """Every refusal: a code, a message, and the details that name what was wrong."""

    error: str = Field(description="a stable code, e.g. VALIDATION_ERROR, SIGNAL_NOT_ALLOWED")
    message: str
    details: list[dict[str, Any]] = Field(description="each bad field or unmet rule: field, value, message...")
    awaiting: list[str] | None = Field(default=None, description="on SIGNAL_NOT_ALLOWED: the signals awaited now")


class Health(Answer):
    status: Literal["ok"]


class WorkflowStateBase(Answer):
    schemaVersion: int
    workflowId: str
    executionStatus: ExecutionStatus
    startTime: str = Field(description="ISO-8601 UTC")
    closeTime: str | None
    lastProgressAt: str
    historyLength: int
    version: int = Field(description="the history sequence of the last change")
    metadata: dict[str, Any]
    retryCount: int
    escalationLevel: int
    startedBy: str
    failure: dict[str, Any] | None
    awaiting: list[str] = Field(description="the signals the workflow accepts now (none once closed)")


def _state_model(lifecycle: Lifecycle) -> type[BaseModel]:
    name = "".join(part.capitalize() for part in lifecycle.type.split("-"))
    own_fields: dict[str, Any] = {
        field: (info.annotation, info) for field, info in lifecycle.fields_model.model_fields.items()
    }
    own_fields["type"] = (Literal[lifecycle.type], ...)
    own_fields["status"] = (Literal[tuple(lifecycle.statuses)], ...)
    own_fields["input"] = (lifecycle.input_model, ...)
    return create_model(
        f"{name}State",
        __base__=WorkflowStateBase,
        __doc__=f"A {lifecycle.type} workflow: {lifecycle.description}.",
        **own_fields,
    )


if TYPE_CHECKING:  # one model per lifecycle of the catalog, made at run time
    _AnyState = dict[str, Any]
else:
    _AnyState = Annotated[
        Union[tuple(_state_model(lifecycle) for lifecycle in LIFECYCLES.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class WorkflowState(RootModel[_AnyState]):
    """A workflow's state: the fields every workflow has, and its lifecycle's own (by ``type``)."""


class WorkflowPage(Answer):
    items: list[WorkflowState]
    nextToken: str | None


class HistoryEventView(Answer):
    sequence: int
    time: str
    type: EventType
    fromStatus: str | None
    toStatus: str | None
    actor: str
    signal: str | None
    details: dict[str, Any]


class HistoryPage(Answer):
    items: list[HistoryEventView]
    nextToken: str | None


class SignalKept(Answer):
    """202: the workflow is between two waits; the signal is kept and applied, in order, when the next opens."""

    queued: Literal[True]
    signalSequence: int
    message: str
    workflow: WorkflowState


ByExecutionStatus = dict[ExecutionStatus, int]


class TypeMetrics(Answer):
    total: int
    byExecutionStatus: ByExecutionStatus
    byStatus: dict[str, int]


class Metrics(Answer):
    total: int
    byExecutionStatus: ByExecutionStatus
    byType: dict[str, TypeMetrics]
    failureRate: float
    averageExecutionSeconds: float | None


class HealthCheckView(Answer):
    """One health check against its threshold, passing or not."""

    check: Literal["failureRate", "runningWorkflows", "stalledWorkflows"]
    description: str = Field(description="what the value measures")
    value: int | float = Field(description="the value now, in ``unit``")
    threshold: int | float = Field(description="this deployment's threshold, in ``unit``")
    comparison: Literal["≤"] = Field(description="the value must stay at or under the threshold")
    unit: Literal["ratio", "count"] = Field(description="ratio: 0 to 1 (0.1 is 10 %); count: workflows")
    ok: bool = Field(description="the value is within the threshold")
    message: str = Field(description="the value against the threshold, in words (as the alert says it when not ok)")
    stalledAfterHours: float | None = Field(
        description="stalledWorkflows: how long without progress (and with no open wait) makes a workflow "
        "stalled, the healthStalledHours setting; null for the other checks"
    )


class StalledWorkflow(Answer):
    workflowId: str
    type: str
    status: str
    lastProgressAt: str = Field(description="ISO-8601 UTC")


class HealthReport(Answer):
    """The platform's health checks against their thresholds, as the scheduled HealthCheck computes them."""

    checkedAt: str = Field(description="ISO-8601 UTC, the platform's clock")
    healthy: bool = Field(description="every check is ok")
    checks: list[HealthCheckView] = Field(description="every check: failureRate, runningWorkflows, stalledWorkflows")
    stalled: list[StalledWorkflow] = Field(
        description="the stalled workflows, least recently progressed first (at most 25)"
    )
    total: int = Field(description="every workflow")
    running: int
    failed: int = Field(description="FAILED and TIMED_OUT")
    failureRate: float = Field(description="failed over total")


class ReportTotals(Answer):
    started: int
    completed: int
    failed: int
    terminated: int
    running: int
    escalations: int
    retries: int


class ReportTypeTotals(Answer):
    started: int
    completed: int
    failed: int
    terminated: int
    running: int
    byStatus: dict[str, int]


class DailyReport(Answer):
    date: str
    generatedAt: str
    totals: ReportTotals
    failureRate: float
    averageExecutionSeconds: float | None
    byType: dict[str, ReportTypeTotals]
    recommendations: list[str]


class Upload(Answer):
    uploadUrl: str = Field(description="a presigned S3 PUT URL")
    objectKey: str
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="headers the PUT must carry")
    expiresAt: str


class BatchFilterView(Answer):
    type: str | None = None
    status: str | None = None
    executionStatus: str | None = None
    startedAfter: str | None = None
    startedBefore: str | None = None


class BatchFailure(Answer):
    workflowId: str
    code: str | None = None
    message: str | None = None
    at: str | None = None


class BatchView(Answer):
    """A batch operation: what it was asked, where it is, and what became of the workflows it matched."""

    batchId: str
    action: Literal["signal", "terminate", "retry", "escalate"]
    filter: BatchFilterView
    signal: str | None = None
    payload: dict[str, Any] | None = None
    reason: str
    dryRun: bool
    ratePerSecond: int
    createdBy: str
    createdAt: str
    state: Literal["RUNNING", "COMPLETED", "CANCELLED", "FAILED"]
    phase: Literal["COUNTING", "APPLYING"] = Field(
        description="COUNTING: counting (and sampling) what the filter matches; APPLYING: acting on each"
    )
    cancelRequested: bool
    cancelledBy: str | None = None
    resumedBy: str | None = None
    matched: int = Field(description="the workflows the filter matched when counted")
    processed: int = Field(description="applied + skipped + failed so far")
    applied: int
    kept: int = Field(description="of the applied signals, those kept for the workflow's next wait (202)")
    skipped: int = Field(description="not changed: their state refused the action (skippedReasons says why)")
    failed: int
    skippedReasons: dict[str, int] = Field(description="error code → how many workflows it skipped")
    sample: list[str] = Field(description="the first matching workflows' ids (at most 20)")
    executions: list[str] = Field(description="the batch's Step Functions executions, the current one last")
    error: dict[str, Any] | None = Field(default=None, description="on FAILED: what the state machine caught")
    updatedAt: str | None = None
    finishedAt: str | None = None
    failures: list[BatchFailure] | None = Field(
        default=None, description="on GET /batches/{batchId}: the first workflows the batch failed on, and why"
    )


class BatchPage(Answer):
    items: list[BatchView]
    nextToken: str | None


SchemaReference = Annotated[
    dict[str, str],
    Field(
        description="a JSON reference into this API's OpenAPI document (GET /openapi.json): "
        '{"$ref": "#/components/schemas/<name>"}, the JSON schema of an object'
    ),
]


class SignalView(Answer):
    name: str
    sources: list[str] = Field(description="the statuses the signal is accepted in, in the lifecycle's order")
    target: str | None = Field(description="the status it leads to; null: the status stays")
    senders: list[str] = Field(description="the groups that may send it (none: the platform sends it itself)")
    internal: bool = Field(description="sent by the platform only (an activity's outcome, another workflow)")
    restartsWait: bool = Field(
        description="closes the open wait and opens it anew (new timers) though the status stays"
    )
    payloadSchema: SchemaReference


class TimeoutView(Answer):
    status: str = Field(description="the status whose wait the timeout ends")
    name: str = Field(description="its name, by which a deployment overrides a fixed one")
    action: Literal["escalate", "signal", "transition"] = Field(
        description="escalate and keep waiting; send `signal` on the workflow's behalf; or move to `target`"
    )
    target: str | None
    signal: str | None
    escalates: bool = Field(description="a transition that escalates besides")
    notifies: bool = Field(description="a transition that notifies the workflow's people (a reminder)")
    computed: bool = Field(description="computed from the workflow's own data (a due date, a reporting period)")
    defaultSeconds: int | None = Field(description="the lifecycle's fixed timeout; null when computed")
    seconds: int | None = Field(
        description="this deployment's fixed timeout (its default unless overridden); null when computed"
    )
    description: str


class RelationView(Answer):
    name: str = Field(description="what a workflow of this lifecycle calls the workflow it names")
    inverse: str = Field(description="what the named workflow calls a workflow of this lifecycle")
    field: str = Field(description="where the named workflow's id is: input.<field> or fields.<field>")
    workflowTypes: list[str] = Field(description="the types the named workflow may have")
    typeField: str | None = Field(description="where its type is, when several are possible")


class LifecycleView(Answer):
    type: str
    description: str
    initialStatus: str
    statuses: list[str] = Field(description="every status, in the lifecycle's order")
    terminalStatuses: list[str]
    activities: dict[str, str] = Field(description="status → the function that runs in it instead of a wait")
    starters: list[str] = Field(description="the groups that may start a workflow of this lifecycle")
    inputSchema: SchemaReference
    signals: list[SignalView]
    timeouts: list[TimeoutView]
    relations: list[RelationView] = Field(description="the workflows a workflow of this lifecycle names")


class LifecycleCatalog(Answer):
    """The lifecycle catalog: what a client needs to draw each lifecycle and build its forms."""

    lifecycles: list[LifecycleView]


class RelatedWorkflow(Answer):
    relation: str = Field(
        description="what the workflow asked about calls this one: the relation's name when it names this one, "
        "its inverse when this one names it (project, subject, reportCalendar; application, document, calendar)"
    )
    direction: Literal["names", "namedBy"] = Field(
        description="names: the workflow asked about names this one; namedBy: this one names it"
    )
    workflowId: str
    type: str
    status: str
    executionStatus: ExecutionStatus


class RelatedWorkflows(Answer):
    workflowId: str
    type: str
    related: list[RelatedWorkflow] = Field(
        description="the workflows it names, then those naming it (oldest first); only those the caller may read"
    )
