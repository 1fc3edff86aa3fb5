"""Step Functions status-change events (FAILED, TIMED_OUT, ABORTED): a failure the state machine
could not catch still reaches its workflow's record."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import ExecutionStatusChange


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = ExecutionStatusChange.model_validate(event.get("detail") or {})
    outcome = dependencies.activities().on_execution_status(
        change.name, change.status, change.error, change.cause, change.workflow_id
    )
    logger.info(
        "execution status change", extra={"execution": change.name, "status": change.status, "outcome": outcome}
    )
    return {"execution": change.name, "status": change.status, "outcome": outcome}
