"""The stateless stack: the functions, the lifecycles' state machines, the topics, the event bus and its rules, the
schedules, the API, and operations' alarms and dashboard."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.domain.identity import GROUPS
from infra.catalog import (
    ACTIVITY_FUNCTIONS,
    API,
    CATALOG,
    EVENT_RULES,
    FAILURE_RECOVERY,
    FUNCTIONS,
    ON_TIMEOUT,
    OPEN_WAIT,
    PUBLISH_EVENTS,
    ROOT,
    SCHEDULES,
    SIGNAL_INTAKE,
    STREAM_CONSUMER,
    STREAM_FILTER,
    VALIDATE_DOCUMENT,
)
from infra.constructs import (
    AlertRecipients,
    BucketRef,
    EmailTopic,
    LifecycleStateMachine,
    OperationsAlarms,
    OperationsDashboard,
    PlatformEvents,
    PlatformFunction,
    PlatformSchedules,
    PowertoolsLayer,
    StateMachineArns,
    StreamPublisher,
    TableRef,
    WorkflowApi,
    WorkflowUserPool,
)
from infra.constructs.acknowledgments import acknowledge, wildcard_resource_finding
from infra.constructs.platform_function import RUNTIME
from infra.stacks.config import DeploymentConfig

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
EVENT_ARCHIVE_RETENTION = Duration.days(30)
# A stream record is retried this many times (besides bisecting its batch) before it goes to the dead letters.
STREAM_RETRY_ATTEMPTS = 10
# The functions' package, and nothing else of the repository.
CODE_EXCLUDE = ["*", ".*", "!functions", "!functions/**", "**/__pycache__", "**/*.pyc"]

# Functions whose commits have effects on workflows' executions: a new workflow (of any lifecycle) starts its
# execution, a workflow that moved releases its open wait. A signal may start or move another lifecycle's workflow.
# Recovery retries a failed workflow from its last state with a new execution.
WORKFLOW_EFFECTS = (
    API.name,
    OPEN_WAIT.name,
    ON_TIMEOUT.name,
    SIGNAL_INTAKE.name,
    VALIDATE_DOCUMENT.name,
    FAILURE_RECOVERY.name,
)
# Functions that keep idempotency records (Powertools): the API's requests, the bus's SignalRequested events.
IDEMPOTENT = (API.name, SIGNAL_INTAKE.name)
# Functions that put events on the bus: domain events from the stream, the outcome of requested signals.
EVENT_PUBLISHERS = (PUBLISH_EVENTS.name, SIGNAL_INTAKE.name)


class PlatformStack(Stack):
    """Functions first, then the state machines that invoke them: the functions reach the state machines through
    ARNs built from their deterministic names, so there is no dependency cycle."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        workflows_table: TableRef,
        workflows_stream_arn: str,
        idempotency_table: TableRef,
        documents_bucket: BucketRef,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.name_prefix
        timeouts = config.timeouts()
        state_machine_names = {kind: f"{self.stack_name}-{entry.state_machine_name}" for kind, entry in CATALOG.items()}
        state_machines = {kind: StateMachineArns.of(self, name) for kind, name in state_machine_names.items()}

        # The alerts topic's recipients hear what their subscription's filter lets through (AlertRecipients).
        self.alerts = EmailTopic(
            self, "Alerts", topic_name=f"{prefix}-Alerts", display_name="ACCU workflow alerts", email=None
        )
        self.alert_recipients = AlertRecipients(
            self,
            "AlertRecipients",
            topic=self.alerts.topic,
            everything=config.alert_email,
            escalation_recipients=config.escalation_recipients,
            report_email=config.report_email,
        )
        self.notifications = EmailTopic(
            self,
            "Notifications",
            topic_name=f"{prefix}-Notifications",
            display_name="ACCU workflow reminders",
            email=config.notification_email,
        )
        powertools = PowertoolsLayer(
            self,
            "Powertools",
            version=config.powertools_version,
            runtime=RUNTIME,
            layer_arn=config.powertools_layer_arn,
        )

        # Every function gets the same settings (functions/models/settings.py), but the idempotency table.
        environment = {
            "WORKFLOWS_TABLE_NAME": workflows_table.name,
            "ALERTS_TOPIC_ARN": self.alerts.topic_arn,
            "NOTIFICATIONS_TOPIC_ARN": self.notifications.topic_arn,
            "DOCUMENTS_BUCKET_NAME": documents_bucket.name,
            "EVENT_BUS_NAME": config.event_bus_name,
            "STATE_MACHINE_ARNS": json.dumps({kind: arns.live_alias for kind, arns in state_machines.items()}),
            "LIFECYCLE_TIMEOUTS": json.dumps(timeouts, sort_keys=True),
            "SIGNAL_APPLY_WAIT_SECONDS": str(config.signal_apply_wait_seconds),
            "HEALTH_FAILURE_RATE_THRESHOLD": f"{config.health_failure_rate_threshold:g}",
            "HEALTH_RUNNING_THRESHOLD": str(config.health_running_threshold),
            "HEALTH_STALLED_HOURS": f"{config.health_stalled_hours:g}",
            "RECOVERY_MAX_RETRIES": str(config.recovery_max_retries),
        }
        code = lambda_.Code.from_asset(str(ROOT), exclude=CODE_EXCLUDE)
        self.functions: dict[str, PlatformFunction] = {}
        for name, spec in FUNCTIONS.items():
            function = PlatformFunction(
                self,
                f"{name}Function",
                spec=spec,
                function_name=f"{prefix}-{name}",
                code=code,
                layers=[powertools.layer],
                environment=(
                    {**environment, "IDEMPOTENCY_TABLE_NAME": idempotency_table.name}
                    if name in IDEMPOTENT
                    else environment
                ),
                log_retention=LOG_RETENTION,
            )
            function.allow_table_read_write(workflows_table.arns(self))
            self.alerts.grant_publish(function.role)
            self.notifications.grant_publish(function.role)
            self.functions[name] = function

        for name in IDEMPOTENT:
            self.functions[name].allow_table_read_write(idempotency_table.arns(self))
        for name in WORKFLOW_EFFECTS:
            self._grant_workflow_effects(self.functions[name], state_machines)
        self._grant_stop(self.functions[API.name], state_machines)
        # The API presigns upload URLs (the upload is made with its role's rights); ValidateDocument reads them.
        uploads = documents_bucket.uploads_arn(self)
        self.functions[API.name].allow(["s3:PutObject"], [uploads])
        self.functions[VALIDATE_DOCUMENT.name].allow(["s3:GetObject"], [uploads])
        for name, why in (
            (API.name, "presigns PUT URLs for new documents' files, each under a key generated per upload"),
            (VALIDATE_DOCUMENT.name, "reads a document's uploaded file, whose key is on the workflow"),
        ):
            acknowledge(
                self.functions[name],
                wildcard_resource_finding(self, uploads),
                f"The function {why} (uploads/<user>/<random>/<file name>, known only at run time): the "
                "wildcard is limited to the uploads/ prefix of the documents bucket.",
            )

        self.state_machines = {
            kind: LifecycleStateMachine(
                self,
                entry.state_machine_name,
                entry=entry,
                state_machine_name=state_machine_names[kind],
                function_arns={name: self.functions[name].function_arn for name in ACTIVITY_FUNCTIONS},
                timeouts=timeouts[kind],
                log_retention=LOG_RETENTION,
            )
            for kind, entry in CATALOG.items()
        }

        self.events = PlatformEvents(
            self,
            "Events",
            event_bus_name=config.event_bus_name,
            name_prefix=prefix,
            rules=EVENT_RULES,
            functions=self.functions,
            archive_retention=EVENT_ARCHIVE_RETENTION,
            state_machine_arns=[arns.state_machine for arns in state_machines.values()],
        )
        for name in EVENT_PUBLISHERS:
            self.events.grant_put_events(self.functions[name])
        self.stream_publisher = StreamPublisher(
            self,
            "WorkflowsStream",
            function=self.functions[STREAM_CONSUMER],
            stream_arn=workflows_stream_arn,
            filter_pattern=STREAM_FILTER,
            dead_letter_queue_name=f"{prefix}-{STREAM_CONSUMER}-DeadLetters",
            retry_attempts=STREAM_RETRY_ATTEMPTS,
        )

        # A function has one asynchronous-invocation configuration: the schedules' and the rules' targets differ.
        shared = {schedule.target for schedule in SCHEDULES} & {rule.target for rule in EVENT_RULES}
        if shared:
            raise ValueError(f"{sorted(shared)} are the target of both a schedule and an event rule")
        self.schedules = PlatformSchedules(
            self, "Schedules", name_prefix=prefix, schedules=SCHEDULES, functions=self.functions
        )

        self.user_pool = WorkflowUserPool(self, "Users", user_pool_name=f"{prefix}-Users", groups=GROUPS)
        self.api = WorkflowApi(
            self,
            "Api",
            api_name=f"{prefix}-Api",
            stage_name=config.stage,
            handler=self.functions[API.name].function,
            user_pool=self.user_pool.user_pool,
            throttle_rate_limit=config.api_throttle_rate_limit,
            throttle_burst_limit=config.api_throttle_burst_limit,
            log_retention=LOG_RETENTION,
        )

        self._operations(config)

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.user_pool.client.user_pool_client_id)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic_arn)
        CfnOutput(self, "NotificationsTopicArn", value=self.notifications.topic_arn)
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        for kind, arns in state_machines.items():
            CfnOutput(self, f"{CATALOG[kind].state_machine_name}LiveAlias", value=arns.live_alias)

    def _operations(self, config: DeploymentConfig) -> None:
        """Alarms on what can fail (to the alerts topic), and the dashboard that shows it all."""
        state_machines = {
            CATALOG[kind].state_machine_name: machine.state_machine for kind, machine in self.state_machines.items()
        }
        functions = {name: function.function for name, function in self.functions.items()}
        dead_letter_queues = {
            f"{STREAM_CONSUMER}Stream": self.stream_publisher.dead_letters.queue,
            **{f"{target}Events": queue.queue for target, queue in self.events.dead_letters.items()},
            **{f"{name}Schedule": queue.queue for name, queue in self.schedules.dead_letters.items()},
        }
        self.alerts.allow_cloudwatch_alarms()
        self.alarms = OperationsAlarms(
            self,
            "Alarms",
            name_prefix=config.name_prefix,
            topic=self.alerts.topic,
            failure_rate_threshold=config.health_failure_rate_threshold,
            running_threshold=config.health_running_threshold,
            state_machines=state_machines,
            functions=functions,
            api_stage=self.api.rest_api.deployment_stage,
            dead_letter_queues=dead_letter_queues,
        )
        self.dashboard = OperationsDashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.name_prefix}-Operations",
            failure_rate_threshold=config.health_failure_rate_threshold,
            running_threshold=config.health_running_threshold,
            state_machines=state_machines,
            functions=functions,
            api_stage=self.api.rest_api.deployment_stage,
            dead_letter_queues=dead_letter_queues,
            alarms=list(self.alarms.alarms.values()),
        )

    def _grant_workflow_effects(self, function: PlatformFunction, state_machines: dict[str, StateMachineArns]) -> None:
        """Starts a new workflow's execution (on its lifecycle's live alias) and releases a moved workflow's
        open wait by completing its task token."""
        machines = state_machines.values()
        function.allow(
            ["states:StartExecution"], [arn for arns in machines for arn in (arns.state_machine, arns.live_alias)]
        )
        # Step Functions authorises SendTaskSuccess on the state machine the task token belongs to; executions
        # started on the live alias run a published version, whose qualified ARN exists only after deployment.
        function.allow(
            ["states:SendTaskSuccess"], [arn for arns in machines for arn in (arns.state_machine, arns.qualified)]
        )
        for arns in machines:
            acknowledge(
                function,
                wildcard_resource_finding(self, arns.qualified),
                "SendTaskSuccess on task tokens of executions that run a published version of this state machine "
                "(through its live alias): versions are numbered at deployment, so the ARN qualifier is a "
                "wildcard limited to this one state machine.",
            )

    def _grant_stop(self, function: PlatformFunction, state_machines: dict[str, StateMachineArns]) -> None:
        """Stops a terminated workflow's execution."""
        machines = state_machines.values()
        function.allow(["states:StopExecution"], [arns.executions for arns in machines])
        for arns in machines:
            acknowledge(
                function,
                wildcard_resource_finding(self, arns.executions),
                "StopExecution acts on one execution, whose name is the workflow id, known only at run time; "
                "the wildcard is limited to executions of this one state machine.",
            )
