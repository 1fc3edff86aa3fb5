"""Activity of the batch operation's state machine: one step of a batch, or its failure.

Event: {"batchId", "operation": "step"} → {"batchId", "done", "waitSeconds"}: the state machine waits
``waitSeconds`` (the batch's rate) and steps again until done. {"batchId", "operation": "fail", "error"}:
the failure the state machine caught, recorded on the batch (which an operator may resume).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import BatchStepEvent


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = BatchStepEvent.model_validate(event)
    logger.append_keys(batchId=request.batchId, operation=request.operation)
    if request.operation == "fail":
        return dependencies.batches().fail(request.batchId, request.error or {})
    return dependencies.batches().step(request.batchId, lambda: context.get_remaining_time_in_millis() / 1000)
