"""Activity: check a document's stored file against its declared size, SHA-256 and kind.

Event: {"workflowId", "status"}; answers the route {"workflowId", "status", "waitSeconds"}.
Raises TransientActivityError (retried by the state machine) while the file is not there yet,
PermanentActivityError (the workflow fails) when it is not what was declared.
"""

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
    return dependencies.activities().validate_document(request.workflowId, request.status)
