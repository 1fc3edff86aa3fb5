"""Schedule (daily, 00:05 UTC): the previous day's report, stored and e-mailed to the administrators.
Event: the schedule's input; ``{"date": "YYYY-MM-DD"}`` makes the report of that day instead."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer
from functions.models.activities import ReportRequest


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReportRequest.model_validate(event or {})
    return dependencies.operations().daily_report(request.date.isoformat() if request.date else None)
