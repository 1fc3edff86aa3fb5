"""Schedule (every minute): complete again the waits whose transition was committed but whose
completion (SendTaskSuccess) failed, so that no execution is left behind its workflow."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = dependencies.operations().release_waits()
    if outcome["released"]:
        logger.warning("completed waits left behind by a failed completion", extra={"released": outcome["released"]})
    if outcome["failed"]:
        logger.error("waits still could not be completed", extra={"failed": outcome["failed"]})
    return outcome
