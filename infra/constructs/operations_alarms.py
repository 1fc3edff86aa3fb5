"""Operations' alarms: the health check's metrics, and the AWS metrics of everything that can fail quietly."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.catalog import (
    METRIC_FAILURE_RATE,
    METRIC_RUNNING,
    METRIC_STALLED,
    METRICS_NAMESPACE,
    METRICS_SERVICE,
)

# The health check runs every 5 minutes; the AWS metrics are looked at over the same period.
PERIOD = Duration.minutes(5)
# Powertools Metrics' default dimension (POWERTOOLS_SERVICE_NAME).
SERVICE_DIMENSION = "service"
# The health check publishes FailureRate in percent (unit Percent, functions/handlers/health_check.py), while
# its threshold (context healthFailureRateThreshold, the functions' HEALTH_FAILURE_RATE_THRESHOLD) is a fraction.
FAILURE_RATE_SCALE = 100


def failure_rate_alarm_threshold(threshold: float) -> float:
    """The FailureRate metric's value at a failure-rate threshold given as a fraction."""
    return round(threshold * FAILURE_RATE_SCALE, 6)


def platform_metric(metric_name: str, statistic: str = cloudwatch.Stats.MAXIMUM) -> cloudwatch.Metric:
    """A metric the health check publishes (embedded metric format) under the platform's namespace."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={SERVICE_DIMENSION: METRICS_SERVICE},
        statistic=statistic,
        period=PERIOD,
    )


def execution_alarms(state_machine: str) -> tuple[str, str]:
    """The names (less the deployment's prefix) of a state machine's failed and timed-out execution alarms."""
    return f"{state_machine}-ExecutionsFailed", f"{state_machine}-ExecutionsTimedOut"


def execution_alarm_names(name_prefix: str, state_machine: str) -> list[str]:
    """Their CloudWatch names, known before the alarms exist (what a live alias's deployment watches)."""
    return [f"{name_prefix}-{name}" for name in execution_alarms(state_machine)]


class OperationsAlarms(Construct):
    """Alarms that notify ``topic`` (the alerts topic) when they go off; missing data is not a breach.

    - the health check's ``FailureRate`` (percent) above ``failure_rate_threshold`` (a fraction),
      ``RunningWorkflows`` above ``running_threshold``, any ``StalledWorkflows``;
    - per state machine, any execution failed or timed out;
    - per function, any error or throttle;
    - any 5XX answer of the API's stage;
    - per dead-letter queue, any message waiting.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topic: sns.ITopic,
        failure_rate_threshold: float,
        running_threshold: int,
        state_machines: Mapping[str, sfn.StateMachine],
        functions: Mapping[str, lambda_.IFunction],
        api_stage: apigw.Stage,
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = name_prefix
        self._action = actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        at_least_one = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD

        self._alarm(
            METRIC_FAILURE_RATE,
            platform_metric(METRIC_FAILURE_RATE),
            above,
            failure_rate_alarm_threshold(failure_rate_threshold),
            "The share of finished workflows that failed or timed out is above "
            f"{failure_rate_alarm_threshold(failure_rate_threshold):g} %",
        )
        self._alarm(
            METRIC_RUNNING,
            platform_metric(METRIC_RUNNING),
            above,
            running_threshold,
            f"More than {running_threshold} workflows are running",
        )
        self._alarm(
            METRIC_STALLED,
            platform_metric(METRIC_STALLED),
            at_least_one,
            1,
            "Running workflows have made no progress for too long while not waiting for a signal",
        )
        # On the StateMachineArn dimension alone: Step Functions publishes each execution metric with it whatever
        # the execution was started through ("If you started the execution with an alias ARN ... Two metrics for
        # the unqualified ARN and version. A metric with the StateMachineArn and Alias dimensions."), so these
        # alarms count the executions started on the live alias, on any version, and on the bare state machine.
        for name, machine in state_machines.items():
            failed_alarm, timed_out_alarm = execution_alarms(name)
            self._alarm(
                failed_alarm,
                machine.metric_failed(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                at_least_one,
                1,
                f"Executions of the {name} state machine failed",
            )
            self._alarm(
                timed_out_alarm,
                machine.metric_timed_out(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                at_least_one,
                1,
                f"Executions of the {name} state machine timed out",
            )
        for name, function in functions.items():
            self._alarm(
                f"{name}-Errors",
                function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                at_least_one,
                1,
                f"The {name} function failed",
            )
            self._alarm(
                f"{name}-Throttles",
                function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                at_least_one,
                1,
                f"Invocations of the {name} function were throttled",
            )
        self._alarm(
            "Api-5XXError",
            api_stage.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            at_least_one,
            1,
            "The REST API answered with server errors (5XX)",
        )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}-DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM),
                at_least_one,
                1,
                f"Messages are waiting in the {name} dead-letter queue: look at them, fix the cause and redrive",
            )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        comparison: cloudwatch.ComparisonOperator,
        threshold: float,
        description: str,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name.replace("-", ""),
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            metric=metric,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[name] = alarm
