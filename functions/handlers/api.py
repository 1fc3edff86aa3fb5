"""The REST API (DESIGN §5), one Lambda function behind API Gateway (and the local runtime).

Routes are thin: identity from the authorizer's claims, the request's models, then the service.
Domain errors become HTTP answers in one place (``_domain_error``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
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
from functions.domain.errors import (
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    RequestInProgress,
    Unauthenticated,
    ValidationFailed,
)
from functions.domain.identity import Identity, parse_groups
from functions.handlers.observability import logger, tracer
from functions.models.api import (
    WORKFLOW_ID_PATTERN,
    EscalateRequest,
    InterventionRequest,
    RetryRequest,
    StartWorkflowRequest,
    TerminateRequest,
    UploadRequest,
)

app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title="ACCU workflow platform", version="1.0.0")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

WorkflowIdPath = Annotated[str, Path(pattern=WORKFLOW_ID_PATTERN, description="the workflow's id")]
Limit = Annotated[int, Query(ge=1, le=100, description="page size")]


# ----- identity and errors ---------------------------------------------------------------------


def caller() -> Identity:
    """The authenticated caller: Cognito claims in AWS, the same claims built from headers locally."""
    claims = app.current_event.request_context.authorizer.claims
    user_id = claims.get("sub")
    if not user_id:
        raise Unauthenticated("this request needs an identity (a Cognito token; locally the X-User-Id header)")
    return Identity(user_id=str(user_id), groups=parse_groups(claims.get("cognito:groups")))


PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/swagger"})


def _json_response(status_code: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
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
        # Powertools names the location first ("body", "query", "path"), then the field.
        where, field = (location[0], ".".join(location[1:])) if len(location) > 1 else ("body", "".join(location))
        details.append({"field": field or "(body)", "in": where, "message": item.get("msg", "invalid")})
    return _json_response(422, ValidationFailed("the request is invalid", details).to_body())


# ----- idempotency -----------------------------------------------------------------------------


@functools.cache
def _idempotency_store() -> DynamoDBPersistenceLayer | None:
    table = dependencies.settings().idempotency_table_name
    return DynamoDBPersistenceLayer(table_name=table) if table else None


def once_per_key(operation: Callable[[], tuple[int, Any]], fingerprint: dict[str, Any]) -> Response[dict[str, Any]]:
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
    raw = app.current_event.body
    if raw is None or raw.strip() == "":
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValidationFailed("the body is not JSON", [{"field": "(body)", "message": str(error)}]) from error
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", [{"field": "(body)", "message": "not an object"}])
    return body


# ----- routes ----------------------------------------------------------------------------------


@app.get("/health", summary="Liveness (no authentication)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/openapi.json", summary="The OpenAPI document of this API", include_in_schema=False)
def openapi() -> Response[dict[str, Any]]:
    document = app.get_openapi_json_schema(title="ACCU workflow platform", version="1.0.0")
    return _json_response(200, json.loads(document))


@app.post("/workflows", summary="Start a workflow", responses={201: {"description": "started"}})
def start_workflow(request: Annotated[StartWorkflowRequest, Body()]) -> Response[dict[str, Any]]:
    identity = caller()
    return once_per_key(
        lambda: (201, dependencies.service().start(identity, request.type, request.workflowId, request.input)),
        {"route": "start", **request.model_dump()},
    )


@app.get("/workflows", summary="List and search workflows, newest first")
def list_workflows(
    type: Annotated[str | None, Query(description="workflow type")] = None,
    status: Annotated[str | None, Query(description="lifecycle status")] = None,
    executionStatus: Annotated[
        str | None, Query(description="RUNNING, COMPLETED, FAILED, TERMINATED, TIMED_OUT")
    ] = None,
    startedAfter: Annotated[datetime | None, Query(description="inclusive, ISO-8601")] = None,
    startedBefore: Annotated[datetime | None, Query(description="exclusive, ISO-8601")] = None,
    limit: Limit = 50,
    nextToken: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return dependencies.service().list_workflows(
        caller(),
        workflow_type=type,
        status=status,
        execution_status=executionStatus,
        started_after=startedAfter,
        started_before=startedBefore,
        limit=limit,
        next_token=nextToken,
    )


@app.get("/workflows/<workflowId>", summary="A workflow's current state")
def get_workflow(workflowId: WorkflowIdPath) -> dict[str, Any]:
    return dependencies.service().get(caller(), workflowId)


@app.get("/workflows/<workflowId>/history", summary="A workflow's history, oldest first")
def get_history(
    workflowId: WorkflowIdPath, limit: Limit = 50, nextToken: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    return dependencies.service().history(caller(), workflowId, limit, nextToken)


@app.post(
    "/workflows/<workflowId>/signals/<signalName>",
    summary="Send a signal",
    responses={200: {"description": "applied"}, 202: {"description": "kept; applied when the next wait opens"}},
)
def send_signal(
    workflowId: WorkflowIdPath, signalName: Annotated[str, Path(pattern=r"^[A-Za-z]{1,64}$")]
) -> Response[dict[str, Any]]:
    identity = caller()
    payload = _json_object_body()

    def deliver() -> tuple[int, Any]:
        outcome = dependencies.service().signal(identity, workflowId, signalName, payload)
        return outcome.status_code, outcome.body

    return once_per_key(
        deliver, {"route": "signal", "workflowId": workflowId, "signal": signalName, "payload": payload}
    )


@app.post("/workflows/<workflowId>/terminate", summary="Terminate a workflow (operators)")
def terminate_workflow(
    workflowId: WorkflowIdPath, request: Annotated[TerminateRequest, Body()]
) -> Response[dict[str, Any]]:
    identity = operator()
    return once_per_key(
        lambda: (200, dependencies.service().terminate(identity, workflowId, request.reason)),
        {"route": "terminate", "workflowId": workflowId, "reason": request.reason},
    )


def operator() -> Identity:
    identity = caller()
    if not identity.is_operator:
        raise Forbidden("only operators may do this")
    return identity


@app.post("/workflows/<workflowId>/retry", summary="Run a failed, timed-out or terminated workflow again (operators)")
def retry_workflow(
    workflowId: WorkflowIdPath, request: Annotated[RetryRequest | None, Body()] = None
) -> Response[dict[str, Any]]:
    identity = operator()
    reason = request.reason if request else None
    return once_per_key(
        lambda: (200, dependencies.service().retry(identity, workflowId, reason)),
        {"route": "retry", "workflowId": workflowId, "reason": reason},
    )


@app.post("/workflows/<workflowId>/escalate", summary="Escalate a workflow to manual handling (operators)")
def escalate_workflow(
    workflowId: WorkflowIdPath, request: Annotated[EscalateRequest, Body()]
) -> Response[dict[str, Any]]:
    identity = operator()
    return once_per_key(
        lambda: (200, dependencies.service().escalate(identity, workflowId, request.reason, request.level)),
        {"route": "escalate", "workflowId": workflowId, **request.model_dump()},
    )


@app.post("/workflows/<workflowId>/interventions", summary="A manual intervention, audited (operators)")
def intervene(workflowId: WorkflowIdPath, request: Annotated[InterventionRequest, Body()]) -> Response[dict[str, Any]]:
    identity = operator()
    return once_per_key(
        lambda: dependencies.service().intervene(identity, workflowId, request),
        {"route": "intervention", "workflowId": workflowId, **request.model_dump()},
    )


@app.get("/reports/daily/<date>", summary="A stored daily report (operators)")
def daily_report(date: Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$")]) -> dict[str, Any]:
    operator()
    return dependencies.operations().report(date)


@app.post("/documents/uploads", summary="A presigned URL to upload a document's file to", responses={201: {}})
def request_upload(request: Annotated[UploadRequest, Body()]) -> Response[dict[str, Any]]:
    answer = dependencies.service().request_upload(caller(), request.fileName, request.contentType, request.sizeBytes)
    return _json_response(201, answer)


@app.get("/metrics", summary="Totals by execution status and type (operators)")
def metrics(type: Annotated[str | None, Query(description="workflow type")] = None) -> dict[str, Any]:
    operator()
    return dependencies.service().metrics(type)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Authentication comes before anything else, request validation included.
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if event.get("path") not in PUBLIC_PATHS and not (authorizer.get("claims") or {}).get("sub"):
        error = Unauthenticated("this request needs an identity (a Cognito token; locally the X-User-Id header)")
        return {
            "statusCode": error.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(error.to_body()),
        }
    return app.resolve(event, context)
