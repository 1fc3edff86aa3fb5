"""Schedule (every 5 minutes): the platform's health against its thresholds; metrics (EMF) always,
an alert when a threshold is crossed."""

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.handlers.observability import logger, tracer

# Namespace and service from POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME (set by the stacks
# from infra/catalog.py, where the alarms read them too).
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = dependencies.operations().health_check()
    metrics.add_metric(name="FailureRate", unit=MetricUnit.Percent, value=report.failureRate * 100)
    metrics.add_metric(name="RunningWorkflows", unit=MetricUnit.Count, value=report.running)
    metrics.add_metric(name="StalledWorkflows", unit=MetricUnit.Count, value=len(report.stalled))
    if not report.healthy:
        logger.warning("health check found problems", extra={"findings": report.findings})
    return {**report.summary(), "healthy": report.healthy}
