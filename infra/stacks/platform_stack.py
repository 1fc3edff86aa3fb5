"""The stateless stack: the functions, the lifecycles' state machines and the batch operation's, the topics, the
event bus and its rules, the schedules, the API, and operations' alarms and dashboard."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.domain.identity import GROUPS
from functions.models.settings import Settings
from infra.catalog import (
    ACTIVITY_FUNCTIONS,
    ALERTS_KEY,
    ALERTS_TOPIC,
    ANY_RESOURCE,
    API,
    BATCH_OPERATION,
    BATCH_STATE_MACHINE,
    BATCHES_TABLE,
    CATALOG,
    EVENT_BUS,
    EVENT_RULES,
    EXECUTIONS,
    FUNCTIONS,
    IDEMPOTENCY_TABLE,
    NOTIFICATIONS_KEY,
    NOTIFICATIONS_TOPIC,
    ROOT,
    SCHEDULES,
    STATE_MACHINES,
    STREAM_CONSUMER,
    STREAM_FILTER,
    UPLOADS,
    WORKFLOWS_STREAM,
    WORKFLOWS_TABLE,
    WORKFLOWS_TABLE_ITEMS,
)
from infra.constructs import (
    AlertRecipients,
    BucketRef,
    DeadLettersKey,
    EmailTopic,
    LifecycleStateMachine,
    OperationsAlarms,
    OperationsConsole,
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
from infra.constructs.acknowledgments import acknowledge_checkov
from infra.constructs.operations_alarms import execution_alarm_names, execution_alarms
from infra.constructs.platform_events import event_bus_arn
from infra.constructs.platform_function import RUNTIME
from infra.stacks.config import DeploymentConfig

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
EVENT_ARCHIVE_RETENTION = Duration.days(30)
# A stream record is retried this many times (besides bisecting its batch) before it goes to the dead letters.
STREAM_RETRY_ATTEMPTS = 10
# The functions' package, and nothing else of the repository.
CODE_EXCLUDE = ["*", ".*", "!functions", "!functions/**", "**/__pycache__", "**/*.pyc"]
# The operations console's static files (index.html, CSS, ES modules; no build step).
CONSOLE_SOURCE = ROOT / "console"
# The Api function's variable naming the console's origin, read by its resolver at import (CORS).
CONSOLE_ORIGIN_VARIABLE = "CONSOLE_ORIGIN"

# Why a declared resource's ARNs end in a wildcard (each acknowledged where it is granted).
WILDCARD_REASONS = {
    EXECUTIONS: "StopExecution acts on one execution, whose name (the workflow id) is known only at run time; the "
    "wildcard is limited to executions of the platform's own state machines.",
    UPLOADS: "Documents' files are stored under uploads/<user>/<random>/<file name>, known only at run time: the "
    "wildcard is limited to the uploads/ prefix of the documents bucket.",
}


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
        batches_table: TableRef,
        documents_bucket: BucketRef,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.name_prefix
        timeouts = config.timeouts()
        state_machine_names = {kind: f"{self.stack_name}-{entry.state_machine_name}" for kind, entry in CATALOG.items()}
        state_machines = {kind: StateMachineArns.of(self, name) for kind, name in state_machine_names.items()}
        batch_state_machine_name = f"{self.stack_name}-{BATCH_OPERATION.state_machine_name}"
        batch_state_machine = StateMachineArns.of(self, batch_state_machine_name)

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

        # Each function's environment carries the settings its catalog declaration needs, and no others.
        settings = {
            "workflows_table_name": workflows_table.name,
            "idempotency_table_name": idempotency_table.name,
            "batches_table_name": batches_table.name,
            "batch_state_machine_arn": batch_state_machine.live_alias,
            "alerts_topic_arn": self.alerts.topic_arn,
            "notifications_topic_arn": self.notifications.topic_arn,
            "documents_bucket_name": documents_bucket.name,
            "event_bus_name": config.event_bus_name,
            "state_machine_arns": {kind: arns.live_alias for kind, arns in state_machines.items()},
            "lifecycle_timeouts": timeouts,
            "signal_apply_wait_seconds": config.signal_apply_wait_seconds,
            "health_failure_rate_threshold": config.health_failure_rate_threshold,
            "health_running_threshold": config.health_running_threshold,
            "health_stalled_hours": config.health_stalled_hours,
            "recovery_max_retries": config.recovery_max_retries,
        }
        # ... and its role the actions its declaration names, on these resources.
        resources = {
            WORKFLOWS_TABLE: workflows_table.arns(self),
            WORKFLOWS_TABLE_ITEMS: [workflows_table.arn(self)],
            WORKFLOWS_STREAM: [workflows_stream_arn],
            IDEMPOTENCY_TABLE: [idempotency_table.arn(self)],
            BATCHES_TABLE: [batches_table.arn(self)],
            BATCH_STATE_MACHINE: [batch_state_machine.state_machine, batch_state_machine.live_alias],
            STATE_MACHINES: [arn for arns in state_machines.values() for arn in (arns.state_machine, arns.live_alias)],
            EXECUTIONS: [arns.executions for arns in state_machines.values()],
            ALERTS_TOPIC: [self.alerts.topic_arn],
            ALERTS_KEY: [self.alerts.key.key_arn],
            NOTIFICATIONS_TOPIC: [self.notifications.topic_arn],
            NOTIFICATIONS_KEY: [self.notifications.key.key_arn],
            EVENT_BUS: [event_bus_arn(self, config.event_bus_name)],
            UPLOADS: [documents_bucket.uploads_arn(self)],
            **{resource: ["*"] for resource in ANY_RESOURCE},
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
                environment=Settings.environment(settings, spec.settings),
                log_retention=LOG_RETENTION,
                reserve_concurrency=config.reserved_concurrency,
            )
            function.allow_declared(resources, WILDCARD_REASONS)
            self.functions[name] = function

        activity_arns = {name: self.functions[name].function_arn for name in ACTIVITY_FUNCTIONS}
        self.state_machines = {
            kind: LifecycleStateMachine(
                self,
                entry.state_machine_name,
                entry=entry,
                state_machine_name=state_machine_names[kind],
                function_arns=activity_arns,
                log_retention=LOG_RETENTION,
                deployment=config.state_machine_deployment,
                rollback_alarm_names=execution_alarm_names(config.name_prefix, entry.state_machine_name),
            )
            for kind, entry in CATALOG.items()
        }
        # The platform's own workflow, deployed as the lifecycles are.
        self.batch_state_machine = LifecycleStateMachine(
            self,
            BATCH_OPERATION.state_machine_name,
            entry=BATCH_OPERATION,
            state_machine_name=batch_state_machine_name,
            function_arns=activity_arns,
            log_retention=LOG_RETENTION,
            deployment=config.state_machine_deployment,
            rollback_alarm_names=execution_alarm_names(config.name_prefix, BATCH_OPERATION.state_machine_name),
        )

        self.dead_letters_key = DeadLettersKey(self, "DeadLettersKey")
        self.events = PlatformEvents(
            self,
            "Events",
            event_bus_name=config.event_bus_name,
            name_prefix=prefix,
            rules=EVENT_RULES,
            functions=self.functions,
            archive_retention=EVENT_ARCHIVE_RETENTION,
            state_machine_arns=[arns.state_machine for arns in state_machines.values()],
            dead_letters_key=self.dead_letters_key.key,
        )
        self.stream_publisher = StreamPublisher(
            self,
            "WorkflowsStream",
            function=self.functions[STREAM_CONSUMER],
            stream_arn=workflows_stream_arn,
            filter_pattern=STREAM_FILTER,
            dead_letter_queue_name=f"{prefix}-{STREAM_CONSUMER}-DeadLetters",
            retry_attempts=STREAM_RETRY_ATTEMPTS,
            dead_letters_key=self.dead_letters_key.key,
        )

        # A function has one asynchronous-invocation configuration: the schedules' and the rules' targets differ.
        shared = {schedule.target for schedule in SCHEDULES} & {rule.target for rule in EVENT_RULES}
        if shared:
            raise ValueError(f"{sorted(shared)} are the target of both a schedule and an event rule")
        self.schedules = PlatformSchedules(
            self,
            "Schedules",
            name_prefix=prefix,
            schedules=SCHEDULES,
            functions=self.functions,
            dead_letters_key=self.dead_letters_key,
        )

        self._acknowledge_dead_letters()

        self.user_pool = WorkflowUserPool(
            self,
            "Users",
            user_pool_name=f"{prefix}-Users",
            groups=GROUPS,
            domain_prefix=config.sign_in_domain_prefix,
        )
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
            cloud_watch_role=config.api_gateway_cloud_watch_role,
        )

        self._console()
        self._operations(config)

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.user_pool.client.user_pool_client_id)
        CfnOutput(self, "ConsoleUrl", value=self.console.url)
        CfnOutput(self, "ConsoleClientId", value=self.console_client.user_pool_client_id)
        CfnOutput(self, "SignInDomain", value=self.user_pool.sign_in_url)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic_arn)
        CfnOutput(self, "NotificationsTopicArn", value=self.notifications.topic_arn)
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        for kind, arns in state_machines.items():
            CfnOutput(self, f"{CATALOG[kind].state_machine_name}LiveAlias", value=arns.live_alias)
        CfnOutput(self, f"{BATCH_OPERATION.state_machine_name}LiveAlias", value=batch_state_machine.live_alias)

    def _console(self) -> None:
        """The operations console, and what it needs of the rest: its sign-in client (back to its URL), the API's
        CORS for its origin, and a config.json naming both. The distribution's domain and the API's and Cognito's
        origins refer to each other here, in one stack: CloudFront's security headers name the API (its id) and
        the sign-in domain; the API's preflights, gateway responses and function name the distribution."""
        self.console = OperationsConsole(
            self,
            "Console",
            source=CONSOLE_SOURCE,
            api_origin=api_origin(self, self.api.rest_api),
            sign_in_url=self.user_pool.sign_in_url,
            log_retention=LOG_RETENTION,
        )
        self.console_client = self.user_pool.add_console_client(self.console.url)
        self.console.publish(
            {
                "mode": "cognito",
                "apiUrl": self.api.url,
                "region": self.region,
                "userPoolId": self.user_pool.user_pool.user_pool_id,
                "clientId": self.console_client.user_pool_client_id,
                "signInDomain": self.user_pool.sign_in_url,
                "redirectUri": self.console.url,
            }
        )
        self.api.allow_origin(self.console.origin)
        self.functions[API.name].function.add_environment(CONSOLE_ORIGIN_VARIABLE, self.console.origin)

    def _acknowledge_dead_letters(self) -> None:
        """checkov asks each function for a dead-letter queue (CKV_AWS_116), which Lambda uses for asynchronous
        invocations only: each function says how its failures are kept instead."""
        asynchronous = {
            **{rule.target: f"the {rule.name} rule" for rule in EVENT_RULES},
            **{schedule.target: f"the {schedule.name} schedule" for schedule in SCHEDULES},
        }
        for name, function in self.functions.items():
            if name in asynchronous:
                reason = (
                    f"Invoked asynchronously by {asynchronous[name]}: an invocation that fails after Lambda's retries "
                    "goes to its on-failure destination (an encrypted SQS queue, EventInvokeConfig), which keeps the "
                    "error with the event, unlike a function DLQ; checkov reads DeadLetterConfig only."
                )
            elif name == STREAM_CONSUMER:
                reason = (
                    "Invoked synchronously by the workflows stream's event source mapping: records that still fail "
                    "after bisecting and retries go to the mapping's on-failure queue (an encrypted SQS queue)."
                )
            else:
                reason = (
                    "Invoked synchronously (by API Gateway, or by Step Functions tasks that retry and catch every "
                    "error into the workflow's failure record): a function DLQ applies to asynchronous invocations "
                    "only and would never receive anything."
                )
            acknowledge_checkov(function.function, "CKV_AWS_116", reason)

    def _operations(self, config: DeploymentConfig) -> None:
        """Alarms on what can fail (to the alerts topic), and the dashboard that shows it all."""
        machines = {CATALOG[kind].state_machine_name: machine for kind, machine in self.state_machines.items()}
        machines[BATCH_OPERATION.state_machine_name] = self.batch_state_machine
        state_machines = {name: machine.state_machine for name, machine in machines.items()}
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
        # A live alias's deployment watches its state machine's alarms: they exist before it moves.
        for name, machine in machines.items():
            for alarm in execution_alarms(name):
                machine.alias.add_dependency(self.alarms.alarms[alarm].node.default_child)  # type: ignore[arg-type]
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


def api_origin(scope: Construct, rest_api: apigw.RestApi) -> str:
    """``https://<api id>.execute-api.<region>.<suffix>``: the API's origin, without its stage (so that what names
    it does not wait for the stage, which waits for the methods)."""
    stack = Stack.of(scope)
    return f"https://{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
