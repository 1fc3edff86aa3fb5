"""Activity: the state machine caught a failure; record it on the workflow before the execution fails.

Event: {"workflowId", "error": {"Error", "Cause"}}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import FailureEvent


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FailureEvent.model_validate(event)
    logger.append_keys(workflowId=request.workflowId)
    logger.warning("workflow failed", extra={"error": request.error.Error, "cause": request.error.Cause})
    return dependencies.activities().record_failure(
        request.workflowId, request.error.Error, request.error.Cause, request.execution
    )
