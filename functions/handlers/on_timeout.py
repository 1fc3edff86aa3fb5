"""Activity: a wait timed out (its state's timer, or the execution's time to hand over). Event:
{"workflowId", "status", "execution"}; answers the route {"workflowId", "status", "waitSeconds", "continuedAs"}."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import StatusEvent


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = StatusEvent.model_validate(event)
    logger.append_keys(workflowId=request.workflowId, status=request.status)
    return dependencies.activities().on_timeout(request.workflowId, request.status, request.execution)
