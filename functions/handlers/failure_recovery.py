"""Schedule (every hour): a recovery decision for each failed workflow: retry from its last state
(transient failures of documents and calendars, up to the maximum) or escalate."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    decisions = dependencies.operations().recover_failed()
    logger.info("recovery decisions", extra={"decisions": decisions})
    return {"decisions": decisions}
