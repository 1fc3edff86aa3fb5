"""The REST API (DESIGN §5), one Lambda function behind API Gateway (and the local runtime).

Routes are thin: identity from the authorizer's claims, the request's models, then the service.
Domain errors become HTTP answers in one place (``_domain_error``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.domain.common import DateTime
from functions.domain.errors import (
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    MethodNotAllowed,
    RequestInProgress,
    RouteNotFound,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.domain.identity import Identity, parse_groups
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.workflow import ExecutionStatus
from functions.handlers.observability import logger, tracer
from functions.models.api import (
    SIGNAL_NAME_PATTERN,
    WORKFLOW_REFERENCE_PATTERN,
    BatchRequest,
    EscalateRequest,
    InterventionAction,
    InterventionRequest,
    LifecycleStatus,
    RetryRequest,
    StartWorkflowRequest,
    TerminateRequest,
    UploadRequest,
    WorkflowType,
)
from functions.models.openapi import component_schemas, with_components
from functions.models.responses import (
    BatchPage,
    BatchView,
    DailyReport,
    ErrorBody,
    Health,
    HealthReport,
    HistoryPage,
    LifecycleCatalog,
    Metrics,
    RelatedWorkflows,
    SignalKept,
    Upload,
    WorkflowPage,
    WorkflowState,
)

# In AWS the operations console calls from its own origin (CONSOLE_ORIGIN; API Gateway answers the preflights);
# locally it is served by the API's origin, and there is no CORS.
app = APIGatewayRestResolver(
    enable_validation=True,
    cors=CORSConfig(allow_origin=os.environ["CONSOLE_ORIGIN"], allow_headers=["Idempotency-Key"])
    if os.environ.get("CONSOLE_ORIGIN")
    else None,
)
app.enable_swagger(path="/swagger", title="ACCU workflow platform", version="1.0.0")

# The kinds of the bodies that are one of several models: lifecycle types, intervention actions.
UNION_TAGS = frozenset(LIFECYCLES) | frozenset(get_args(InterventionAction))

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

WorkflowIdPath = Annotated[str, Path(pattern=WORKFLOW_REFERENCE_PATTERN, description="the workflow's id")]
Limit = Annotated[int, Query(ge=1, le=100, description="page size")]

# What each refusal means; every route declares the ones it can answer, each with the error body.
REFUSALS = {
    401: "no identity: a Cognito token (locally the X-User-Id header) is needed",
    403: "the caller's groups may not do this, or a rule on whose workflow it is forbids it (details name it)",
    404: "no such workflow (or batch), or one the caller may not see; or no such signal in the lifecycle",
    409: "refused in the workflow's current state: a signal not awaited now, a closed workflow, an unmet "
    "business rule, an id in use, or a request with the same Idempotency-Key still running; a batch that "
    "has ended (cancel) or has not failed (resume)",
    413: "the body is over 10 MB (API Gateway's limit)",
    415: "the body is not JSON (Content-Type must be application/json)",
    422: "the request is invalid: details name each field and why",
    503: "not configured on this deployment",
}


BODY_REFUSALS = (413, 415)  # what a route that takes a body can also answer


def answers(successes: dict[int, tuple[str, Any]], *refusals: int) -> dict[int, Any]:
    """The OpenAPI responses of a route: its successes with their models, then 401 and 422 (every
    route but the public ones can answer them) and the route's own refusals, with the error body."""
    declared: dict[int, Any] = {
        code: {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}
        for code, (description, model) in successes.items()
    }
    for code in sorted({401, 422, *refusals}):
        declared[code] = {
            "description": REFUSALS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return declared


# ----- identity and errors ---------------------------------------------------------------------


def caller() -> Identity:
    """The authenticated caller: Cognito claims in AWS, the same claims built from headers locally."""
    claims = app.current_event.request_context.authorizer.claims
    user_id = claims.get("sub")
    if not user_id:
        raise Unauthenticated("this request needs an identity (a Cognito token; locally the X-User-Id header)")
    return Identity(user_id=str(user_id), groups=parse_groups(claims.get("cognito:groups")))


PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/swagger"})


def _json_response(status_code: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response:
    if error.status_code >= 500:
        logger.exception("request failed")
    return _json_response(error.status_code, error.to_body())


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    details = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        # Powertools names the location first ("body", "query", "path"), then the field; a body that
        # is one of several kinds (by ``type``, by ``action``) has its kind next, which is no field.
        if len(location) > 2 and location[0] == "body" and location[1] in UNION_TAGS:
            del location[1]
        where, field = (location[0], ".".join(location[1:])) if len(location) > 1 else ("body", "".join(location))
        if item.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            field = str((item.get("ctx") or {}).get("discriminator", field)).strip("'")
        details.append({"field": field or "(body)", "in": where, "message": item.get("msg", "invalid")})
    return _json_response(422, ValidationFailed("the request is invalid", details).to_body())


@app.not_found
def _no_route(error: NotFoundError) -> Response:
    """No route for this method and path: 405 naming the methods the path has, else 404; both with
    the error body (API Gateway, in front of this function in AWS, refuses most of these itself)."""
    event = app.current_event
    allowed = sorted({route.method for route in _routes() if route.rule.match(event.path)})
    if not allowed:
        return _domain_error(RouteNotFound(event.path))
    answer = _domain_error(MethodNotAllowed(event.http_method, event.path, allowed))
    answer.headers["Allow"] = ", ".join(allowed)
    return answer


# ----- idempotency -----------------------------------------------------------------------------


@functools.cache
def _idempotency_store() -> DynamoDBPersistenceLayer | None:
    table = dependencies.settings().idempotency_table_name
    return DynamoDBPersistenceLayer(table_name=table) if table else None


def once_per_key(operation: Callable[[], tuple[int, Any]], fingerprint: dict[str, Any]) -> Response[Any]:
    """Run a state-changing request once per Idempotency-Key: a retry with the same key answers
    the first answer; the same key with another request is refused."""
    key = app.current_event.headers.get(IDEMPOTENCY_HEADER)
    store = _idempotency_store()
    if not key or store is None:
        return _json_response(*operation())
    if len(key) > 128:
        raise ValidationFailed(
            "Idempotency-Key is too long", [{"field": IDEMPOTENCY_HEADER, "message": "at most 128 characters"}]
        )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )
    if app.lambda_context is not None:
        config.register_lambda_context(app.lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=config)
    def run(request: dict[str, Any]) -> dict[str, Any]:
        status_code, body = operation()
        return {"statusCode": status_code, "body": body}

    try:
        answer = run(request={"key": f"{caller().user_id}:{key}", "fingerprint": fingerprint})
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgress(
            "a request with this Idempotency-Key is still being processed",
            [{"field": IDEMPOTENCY_HEADER, "value": key}],
        ) from error
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for another request", [{"field": IDEMPOTENCY_HEADER, "value": key}]
        ) from error
    return _json_response(answer["statusCode"], answer["body"])


def _json_object_body() -> dict[str, Any]:
    """The body of a route without a body model (a signal's payload): a JSON object (``_admitted``
    refused anything else), or nothing."""
    raw = app.current_event.body
    return json.loads(raw) if raw and raw.strip() else {}  # type: ignore[no-any-return]


# ----- routes ----------------------------------------------------------------------------------


@app.get("/health", summary="Liveness (no authentication)", responses={200: {"description": "alive"}})
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json", summary="The OpenAPI document of this API", include_in_schema=False)
def openapi() -> Response[dict[str, Any]]:
    document = app.get_openapi_json_schema(title="ACCU workflow platform", version="1.0.0")
    return _json_response(200, with_components(json.loads(document), _catalog_schemas()))


@functools.cache
def _catalog_schemas() -> dict[str, dict[str, Any]]:
    """The payload and input schemas the lifecycle catalog refers to, for the document's components."""
    return component_schemas(dependencies.catalog().payload_models())


@app.get(
    "/lifecycles",
    summary="The lifecycle catalog: statuses, signals (who sends them, their payloads), timeouts, relations",
    responses=answers({200: ("every lifecycle", LifecycleCatalog)}),
)
def lifecycles() -> LifecycleCatalog:
    caller()
    return LifecycleCatalog.model_validate(dependencies.catalog().describe())


@app.post(
    "/workflows",
    summary="Start a workflow",
    responses=answers({201: ("started: the workflow's state", WorkflowState)}, 403, 409, *BODY_REFUSALS),
)
def start_workflow(request: Annotated[StartWorkflowRequest, Body()]) -> Response[WorkflowState]:
    identity = caller()
    return once_per_key(
        lambda: (201, dependencies.starts().start(identity, request.type, request.workflowId, request.input_fields())),
        {"route": "start", **request.model_dump(mode="json", exclude_unset=True)},
    )


@app.get(
    "/workflows",
    summary="List and search workflows, newest first",
    responses=answers({200: ("a page of workflows", WorkflowPage)}),
)
def list_workflows(
    type: Annotated[WorkflowType | None, Query(description="the lifecycle")] = None,
    status: Annotated[LifecycleStatus | None, Query(description="a status of that lifecycle")] = None,
    executionStatus: Annotated[ExecutionStatus | None, Query(description="the execution's status")] = None,
    startedAfter: Annotated[DateTime | None, Query(description="inclusive, RFC 3339 date-time")] = None,
    startedBefore: Annotated[DateTime | None, Query(description="exclusive, RFC 3339 date-time")] = None,
    escalated: Annotated[
        bool | None,
        Query(
            description="true: only the running workflows that were escalated (escalationLevel above 0); with type, "
            "status, startedAfter, startedBefore; executionStatus other than RUNNING, or false, is refused (422)"
        ),
    ] = None,
    limit: Limit = 50,
    nextToken: Annotated[str | None, Query(max_length=4096)] = None,
) -> WorkflowPage:
    return WorkflowPage.model_validate(
        dependencies.queries().list_workflows(
            caller(),
            workflow_type=type,
            status=status,
            execution_status=executionStatus.value if executionStatus else None,
            started_after=startedAfter,
            started_before=startedBefore,
            limit=limit,
            next_token=nextToken,
            escalated=escalated,
        )
    )


@app.get(
    "/workflows/<workflowId>",
    summary="A workflow's current state",
    responses=answers({200: ("the workflow's state", WorkflowState)}, 404),
)
def get_workflow(workflowId: WorkflowIdPath) -> WorkflowState:
    return WorkflowState.model_validate(dependencies.queries().get(caller(), workflowId))


@app.get(
    "/workflows/<workflowId>/history",
    summary="A workflow's history, oldest first",
    responses=answers({200: ("a page of history events", HistoryPage)}, 404),
)
def get_history(
    workflowId: WorkflowIdPath, limit: Limit = 50, nextToken: Annotated[str | None, Query(max_length=4096)] = None
) -> HistoryPage:
    return HistoryPage.model_validate(dependencies.queries().history(caller(), workflowId, limit, nextToken))


@app.get(
    "/workflows/<workflowId>/related",
    summary="The workflows this one names and those that name it",
    responses=answers({200: ("the related workflows the caller may read", RelatedWorkflows)}, 404),
)
def related_workflows(workflowId: WorkflowIdPath) -> RelatedWorkflows:
    return RelatedWorkflows.model_validate(dependencies.queries().related(caller(), workflowId))


SignalAnswer = Union[WorkflowState, SignalKept]  # noqa: UP007
SIGNAL_OUTCOMES = {  # what sending a signal answers, through its route or an intervention
    200: ("applied: the workflow's state", WorkflowState),
    202: ("kept: applied, in order, when the next wait opens", SignalKept),
}


@app.post(
    "/workflows/<workflowId>/signals/<signalName>",
    summary="Send a signal",
    responses=answers(
        SIGNAL_OUTCOMES,
        403,
        404,
        409,
        *BODY_REFUSALS,
    ),
)
def send_signal(
    workflowId: WorkflowIdPath, signalName: Annotated[str, Path(pattern=SIGNAL_NAME_PATTERN)]
) -> Response[SignalAnswer]:
    identity = caller()
    payload = _json_object_body()

    def deliver() -> tuple[int, Any]:
        outcome = dependencies.signals().signal(identity, workflowId, signalName, payload)
        return outcome.status_code, outcome.body

    return once_per_key(
        deliver, {"route": "signal", "workflowId": workflowId, "signal": signalName, "payload": payload}
    )


def operator() -> Identity:
    identity = caller()
    if not identity.is_operator:
        raise Forbidden("only operators may do this")
    return identity


OPERATOR_REFUSALS = (403, 404, 409, *BODY_REFUSALS)


@app.post(
    "/workflows/<workflowId>/terminate",
    summary="Terminate a workflow (operators)",
    responses=answers({200: ("terminated: the workflow's state", WorkflowState)}, *OPERATOR_REFUSALS),
)
def terminate_workflow(
    workflowId: WorkflowIdPath, request: Annotated[TerminateRequest, Body()]
) -> Response[WorkflowState]:
    identity = operator()
    return once_per_key(
        lambda: (200, dependencies.interventions().terminate(identity, workflowId, request.reason)),
        {"route": "terminate", "workflowId": workflowId, "reason": request.reason},
    )


@app.post(
    "/workflows/<workflowId>/retry",
    summary="Run a failed, timed-out or terminated workflow again (operators)",
    responses=answers({200: ("running again: the workflow's state", WorkflowState)}, *OPERATOR_REFUSALS),
)
def retry_workflow(
    workflowId: WorkflowIdPath, request: Annotated[RetryRequest, Body()] = RetryRequest()
) -> Response[WorkflowState]:
    identity = operator()
    reason = request.reason
    return once_per_key(
        lambda: (200, dependencies.interventions().retry(identity, workflowId, reason)),
        {"route": "retry", "workflowId": workflowId, "reason": reason},
    )


@app.post(
    "/workflows/<workflowId>/escalate",
    summary="Escalate a workflow to manual handling (operators)",
    responses=answers({200: ("escalated: the workflow's state", WorkflowState)}, *OPERATOR_REFUSALS),
)
def escalate_workflow(
    workflowId: WorkflowIdPath, request: Annotated[EscalateRequest, Body()]
) -> Response[WorkflowState]:
    identity = operator()
    return once_per_key(
        lambda: (200, dependencies.interventions().escalate(identity, workflowId, request.reason, request.level)),
        {"route": "escalate", "workflowId": workflowId, **request.model_dump()},
    )


@app.post(
    "/workflows/<workflowId>/interventions",
    summary="A manual intervention, audited (operators)",
    responses=answers(SIGNAL_OUTCOMES, *OPERATOR_REFUSALS),
)
def intervene(workflowId: WorkflowIdPath, request: Annotated[InterventionRequest, Body()]) -> Response[SignalAnswer]:
    identity = operator()
    return once_per_key(
        lambda: dependencies.interventions().intervene(identity, workflowId, request),
        {"route": "intervention", "workflowId": workflowId, **request.model_dump()},
    )


BatchIdPath = Annotated[str, Path(pattern=r"^batch-[0-9T]{15}-[0-9a-f]{6}$", description="the batch's id")]


@app.post(
    "/batches",
    summary="Start a batch operation: one action on every workflow a filter matches (operators)",
    responses=answers({202: ("accepted: the batch, running", BatchView)}, 403, 404, *BODY_REFUSALS, 503),
)
def start_batch(request: Annotated[BatchRequest, Body()]) -> Response[BatchView]:
    identity = operator()
    return once_per_key(
        lambda: (202, dependencies.batches().start(identity, request)),
        {"route": "batch", **request.model_dump(mode="json")},
    )


@app.get(
    "/batches",
    summary="Batch operations, newest first (operators)",
    responses=answers({200: ("a page of batches", BatchPage)}, 403),
)
def list_batches(
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    nextToken: Annotated[str | None, Query(max_length=4096)] = None,
) -> BatchPage:
    operator()
    return BatchPage.model_validate(dependencies.batches().list(limit, nextToken))


@app.get(
    "/batches/<batchId>",
    summary="A batch operation: its state, counts and failures (operators)",
    responses=answers({200: ("the batch", BatchView)}, 403, 404),
)
def get_batch(batchId: BatchIdPath) -> BatchView:
    operator()
    return BatchView.model_validate(dependencies.batches().get(batchId))


@app.post(
    "/batches/<batchId>/cancel",
    summary="Cancel a running batch: it stops within seconds; what it changed stays (operators)",
    responses=answers({200: ("cancel requested: the batch", BatchView)}, 403, 404, 409),
)
def cancel_batch(batchId: BatchIdPath) -> BatchView:
    identity = operator()
    return BatchView.model_validate(dependencies.batches().cancel(identity, batchId))


@app.post(
    "/batches/<batchId>/resume",
    summary="Resume a failed batch where it stopped (operators)",
    responses=answers({202: ("resumed: the batch, running", BatchView)}, 403, 404, 409, 503),
)
def resume_batch(batchId: BatchIdPath) -> Response[BatchView]:
    identity = operator()
    return _json_response(202, dependencies.batches().resume(identity, batchId))


@app.get(
    "/reports/daily/<date>",
    summary="A stored daily report (operators)",
    responses=answers({200: ("the report", DailyReport)}, 403, 404),
)
def daily_report(date: Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$")]) -> DailyReport:
    operator()
    return DailyReport.model_validate(dependencies.operations().report(date))


@app.post(
    "/documents/uploads",
    summary="A presigned URL to upload a document's file to",
    responses=answers({201: ("where and how to PUT the file", Upload)}, 403, *BODY_REFUSALS, 503),
)
def request_upload(request: Annotated[UploadRequest, Body()]) -> Response[Upload]:
    answer = dependencies.starts().request_upload(caller(), request.fileName, request.contentType, request.sizeBytes)
    return _json_response(201, answer)


@app.get(
    "/metrics",
    summary="Totals by execution status and type (operators)",
    responses=answers({200: ("the totals", Metrics)}, 403),
)
def metrics(type: Annotated[WorkflowType | None, Query(description="the lifecycle")] = None) -> Metrics:
    operator()
    return Metrics.model_validate(dependencies.queries().metrics(type))


@app.get(
    "/operations/health",
    summary="The health checks against their thresholds, read-only: no alert is sent (operators)",
    responses=answers({200: ("every check, passing or not, and the stalled workflows", HealthReport)}, 403),
)
def operations_health() -> HealthReport:
    operator()
    return HealthReport.model_validate(dependencies.operations().health().view())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event, refusal = _admitted(event)
    return refusal if refusal is not None else app.resolve(event, context)


def _admitted(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What is refused before a route runs, in API Gateway's order: a method or path the API does
    not have (405 / 404, by the route table), then a missing identity (401, before any validation),
    then a body that is not JSON (415 for another content type, 422 for bytes that are not UTF-8
    text). Answers the event to route (a base64 body
    decoded) and the refusal, if any."""
    method, path = str(event.get("httpMethod") or "").upper(), str(event.get("path") or "")
    if not _has_route(method, path):
        return event, None  # the resolver answers it (``_no_route``)
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if path not in PUBLIC_PATHS and not (authorizer.get("claims") or {}).get("sub"):
        return event, _error_answer(
            Unauthenticated("this request needs an identity (a Cognito token; locally the X-User-Id header)")
        )
    if method == "POST" and event.get("body") and not _is_json(event.get("headers") or {}):
        return event, _error_answer(UnsupportedMediaType())
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            text = base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return event, _error_answer(_body_error("the body is not UTF-8 text", "JSON is UTF-8 text"))
        event = event | {"body": text, "isBase64Encoded": False}
    if method == "POST" and (event.get("body") or "").strip():
        try:
            body = json.loads(event["body"])
        except ValueError as error:
            return event, _error_answer(_body_error("the body is not JSON", str(error)))
        if not isinstance(body, dict):  # every body of this API is an object: not null, a list or a number
            return event, _error_answer(_body_error("the body must be a JSON object", f"got {type(body).__name__}"))
    return event, None


def _body_error(message: str, why: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": "(body)", "in": "body", "message": why}])


def _is_json(headers: dict[str, Any]) -> bool:
    """A body without a content type is taken for JSON, as the API documents no other."""
    content_type = next((str(value) for name, value in headers.items() if name.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _routes() -> list[Any]:
    # Powertools 3.37 keeps its routes here; there is no public way to ask which methods a path has.
    return app._static_routes + app._dynamic_routes


def _has_route(method: str, path: str) -> bool:
    return any(route.method == method and route.rule.match(path) for route in _routes())


def _error_answer(error: DomainError) -> dict[str, Any]:
    return {
        "statusCode": error.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error.to_body()),
    }
