"""The stateless stack: the functions, the lifecycles' state machines, the alerts topic and the API."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.domain.identity import GROUPS
from infra.catalog import ACTIVITY_FUNCTIONS, CATALOG, FUNCTIONS, ROOT
from infra.constructs import (
    AlertsTopic,
    LifecycleStateMachine,
    PlatformFunction,
    PowertoolsLayer,
    StateMachineArns,
    TableRef,
    WorkflowApi,
    WorkflowUserPool,
)
from infra.constructs.acknowledgments import acknowledge, wildcard_resource_finding
from infra.constructs.platform_function import RUNTIME
from infra.stacks.config import DeploymentConfig

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
# The functions' package, and nothing else of the repository.
CODE_EXCLUDE = ["*", ".*", "!functions", "!functions/**", "**/__pycache__", "**/*.pyc"]

# The functions that act on state machines (all functions read/write the workflows table and publish alerts).
API = "Api"
OPEN_WAIT = "OpenWait"


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
        idempotency_table: TableRef,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.name_prefix
        timeouts = config.timeouts()
        state_machine_names = {kind: f"{self.stack_name}-{entry.state_machine_name}" for kind, entry in CATALOG.items()}
        state_machines = {kind: StateMachineArns.of(self, name) for kind, name in state_machine_names.items()}

        self.alerts = AlertsTopic(self, "Alerts", topic_name=f"{prefix}-Alerts", alert_email=config.alert_email)
        powertools = PowertoolsLayer(
            self,
            "Powertools",
            version=config.powertools_version,
            runtime=RUNTIME,
            layer_arn=config.powertools_layer_arn,
        )

        environment = {
            "WORKFLOWS_TABLE_NAME": workflows_table.name,
            "ALERTS_TOPIC_ARN": self.alerts.topic_arn,
            "STATE_MACHINE_ARNS": json.dumps({kind: arns.live_alias for kind, arns in state_machines.items()}),
            "LIFECYCLE_TIMEOUTS": json.dumps(timeouts, sort_keys=True),
            "SIGNAL_APPLY_WAIT_SECONDS": str(config.signal_apply_wait_seconds),
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
                    {**environment, "IDEMPOTENCY_TABLE_NAME": idempotency_table.name} if name == API else environment
                ),
                log_retention=LOG_RETENTION,
            )
            function.allow_table_read_write(workflows_table.arns(self))
            self.alerts.grant_publish(function.role)
            self.functions[name] = function

        self._grant_api(self.functions[API], idempotency_table, state_machines)
        self._grant_open_wait(self.functions[OPEN_WAIT], state_machines)

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

        self.user_pool = WorkflowUserPool(self, "Users", user_pool_name=f"{prefix}-Users", groups=GROUPS)
        self.api = WorkflowApi(
            self,
            "Api",
            api_name=f"{prefix}-Api",
            stage_name=config.stage,
            handler=self.functions[API].function,
            user_pool=self.user_pool.user_pool,
            throttle_rate_limit=config.api_throttle_rate_limit,
            throttle_burst_limit=config.api_throttle_burst_limit,
            log_retention=LOG_RETENTION,
        )

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.user_pool.client.user_pool_client_id)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic_arn)
        for kind, arns in state_machines.items():
            CfnOutput(self, f"{CATALOG[kind].state_machine_name}LiveAlias", value=arns.live_alias)

    def _grant_api(
        self, function: PlatformFunction, idempotency_table: TableRef, state_machines: dict[str, StateMachineArns]
    ) -> None:
        """Starts, stops and releases workflows; keeps idempotency records."""
        function.allow_table_read_write(idempotency_table.arns(self))
        machines = state_machines.values()
        function.allow(
            ["states:StartExecution"], [arn for arns in machines for arn in (arns.state_machine, arns.live_alias)]
        )
        function.allow(["states:StopExecution"], [arns.executions for arns in machines])
        self._grant_task_response(function, state_machines)
        for arns in machines:
            acknowledge(
                function,
                wildcard_resource_finding(self, arns.executions),
                "StopExecution acts on one execution, whose name is the workflow id, known only at run time; "
                "the wildcard is limited to executions of this one state machine.",
            )

    def _grant_open_wait(self, function: PlatformFunction, state_machines: dict[str, StateMachineArns]) -> None:
        """Applies a signal kept while no wait was open by completing the new wait's task token."""
        self._grant_task_response(function, state_machines)

    def _grant_task_response(self, function: PlatformFunction, state_machines: dict[str, StateMachineArns]) -> None:
        # Step Functions authorises SendTaskSuccess on the state machine the task token belongs to; executions
        # started on the live alias run a published version, whose qualified ARN exists only after deployment.
        machines = state_machines.values()
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
