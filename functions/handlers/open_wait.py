"""Activity: open the wait for a workflow's current status (Lambda invoked with .waitForTaskToken).

Event: {"workflowId", "status", "taskToken", "execution", "executionArn"}. The execution waits until
the API (or this function, for a signal kept meanwhile) completes the task token with the route
{"workflowId", "status", "waitSeconds", "continuedAs"}; this function completes it at once when the
workflow moved on or its execution must hand over to a new one.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import OpenWaitEvent


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OpenWaitEvent.model_validate(event)
    logger.append_keys(workflowId=request.workflowId, status=request.status)
    return dependencies.activities().open_wait(
        request.workflowId, request.status, request.taskToken, request.execution, request.executionArn
    )
