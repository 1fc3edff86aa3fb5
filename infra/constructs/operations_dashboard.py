"""Operations' CloudWatch dashboard: the platform's health, its executions, functions, API, dead letters and alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.catalog import METRIC_FAILURE_RATE, METRIC_RUNNING, METRIC_STALLED
from infra.constructs.operations_alarms import PERIOD, failure_rate_alarm_threshold, platform_metric

# A dashboard is 24 units wide.
FULL_WIDTH = 24
HEIGHT = 6


def _threshold(value: float, label: str) -> cloudwatch.HorizontalAnnotation:
    return cloudwatch.HorizontalAnnotation(value=value, label=label, color=cloudwatch.Color.RED)


class OperationsDashboard(Construct):
    """One dashboard, ``dashboard_name``, in rows: the health check's metrics (with their thresholds), each
    state machine's executions, the functions' errors, throttles and duration, the API's requests, errors and
    latency, the dead-letter queues' waiting messages, and the status of every alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        failure_rate_threshold: float,
        running_threshold: int,
        state_machines: Mapping[str, sfn.StateMachine],
        functions: Mapping[str, lambda_.IFunction],
        api_stage: apigw.Stage,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, construct_id)
        third = FULL_WIDTH // 3
        sum_ = cloudwatch.Stats.SUM

        health = [
            cloudwatch.GraphWidget(
                title="Failure rate, % (failed or timed out / finished)",
                left=[platform_metric(METRIC_FAILURE_RATE)],
                left_annotations=[_threshold(failure_rate_alarm_threshold(failure_rate_threshold), "threshold")],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Running workflows",
                left=[platform_metric(METRIC_RUNNING)],
                left_annotations=[_threshold(running_threshold, "threshold")],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Stalled workflows",
                left=[platform_metric(METRIC_STALLED)],
                left_annotations=[_threshold(1, "any")],
                width=third,
                height=HEIGHT,
            ),
        ]
        machine_width = max(FULL_WIDTH // max(len(state_machines), 1), 6)
        executions = [
            cloudwatch.GraphWidget(
                title=f"Executions: {name}",
                left=[
                    machine.metric_started(period=PERIOD, statistic=sum_, label="started"),
                    machine.metric_succeeded(period=PERIOD, statistic=sum_, label="succeeded"),
                    machine.metric_failed(period=PERIOD, statistic=sum_, label="failed"),
                    machine.metric_timed_out(period=PERIOD, statistic=sum_, label="timed out"),
                    machine.metric_aborted(period=PERIOD, statistic=sum_, label="aborted"),
                ],
                width=machine_width,
                height=HEIGHT,
            )
            for name, machine in state_machines.items()
        ]
        lambdas = [
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(period=PERIOD, statistic=sum_, label=name) for name, f in functions.items()],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[f.metric_throttles(period=PERIOD, statistic=sum_, label=name) for name, f in functions.items()],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Function duration (p99)",
                left=[
                    f.metric_duration(period=PERIOD, statistic=cloudwatch.Stats.p(99), label=name)
                    for name, f in functions.items()
                ],
                width=third,
                height=HEIGHT,
            ),
        ]
        api = [
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    api_stage.metric_count(period=PERIOD, statistic=sum_, label="requests"),
                ],
                right=[
                    api_stage.metric_client_error(period=PERIOD, statistic=sum_, label="4XX"),
                    api_stage.metric_server_error(period=PERIOD, statistic=sum_, label="5XX"),
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[
                    api_stage.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.p(50), label="p50"),
                    api_stage.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.p(99), label="p99"),
                    api_stage.metric_integration_latency(
                        period=PERIOD, statistic=cloudwatch.Stats.p(99), label="integration p99"
                    ),
                ],
                width=third,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Dead letters waiting",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=name
                    )
                    for name, queue in dead_letter_queues.items()
                ],
                width=third,
                height=HEIGHT,
            ),
        ]
        status = cloudwatch.AlarmStatusWidget(
            title="Alarms",
            alarms=list(alarms),
            sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            width=FULL_WIDTH,
            height=HEIGHT,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            widgets=[health, executions, lambdas, api, [status]],
        )
