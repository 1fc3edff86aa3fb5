"""A catalog state machine (a lifecycle's, or the platform's own batch operation), from its ASL template, published
behind a ``live`` alias."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.catalog import LIVE_ALIAS, StateMachineEntry
from infra.constructs.acknowledgments import LOG_GROUP_ENCRYPTION, acknowledge, acknowledge_checkov
from infra.deployment import StateMachineDeployment


@dataclass(frozen=True)
class StateMachineArns:
    """The ARNs of a state machine known by name before it exists.

    Functions that the state machine invokes also act on it (start executions, complete task tokens): granting
    them access through the state machine's resource would make a dependency cycle, so their policies and
    environment use these ARNs, built from the state machine's deterministic name.
    """

    partition: str
    region: str
    account: str
    name: str

    @classmethod
    def of(cls, scope: Construct, name: str) -> StateMachineArns:
        stack = Stack.of(scope)
        return cls(partition=stack.partition, region=stack.region, account=stack.account, name=name)

    def _arn(self, resource: str, resource_name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:{resource}:{resource_name}"

    @property
    def state_machine(self) -> str:
        return self._arn("stateMachine", self.name)

    @property
    def live_alias(self) -> str:
        return f"{self.state_machine}:{LIVE_ALIAS}"

    @property
    def qualified(self) -> str:
        """Any version or alias of this state machine (and nothing of another)."""
        return f"{self.state_machine}:*"

    @property
    def executions(self) -> str:
        """Every execution of this state machine (their names are workflow ids, known only at run time)."""
        return self._arn("execution", f"{self.name}:*")


class LifecycleStateMachine(Construct):
    """A Standard state machine whose definition is its catalog entry's ASL template, filled by CloudFormation
    (DefinitionSubstitutions). It logs ALL events with execution data, traces with X-Ray, may invoke only its
    entry's functions, and each definition change publishes a version that the ``live`` alias moves to as the
    deployment preference says, rolled back by the alarms named (failed and timed-out executions)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: StateMachineEntry,
        state_machine_name: str,
        function_arns: Mapping[str, str],
        log_retention: logs.RetentionDays,
        deployment: StateMachineDeployment,
        rollback_alarm_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.entry = entry
        self.arns = StateMachineArns.of(self, state_machine_name)
        invoked = [function_arns[name] for name in entry.functions]

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Runs the {state_machine_name} state machine",
        )
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=invoked))

        # /aws/vendedlogs/ keeps the log group clear of CloudWatch Logs' resource policy size limit.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{state_machine_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge_checkov(self.log_group, "CKV_AWS_158", LOG_GROUP_ENCRYPTION)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            comment=entry.description,
            definition_body=sfn.DefinitionBody.from_string(entry.definition_template()),
            definition_substitutions=entry.substitutions(function_arns),
            role=self.role,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "Logging to CloudWatch Logs uses the vended-log delivery actions (logs:CreateLogDelivery, "
            "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
            "DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing uses xray:PutTraceSegments, "
            "PutTelemetryRecords, GetSamplingRules, GetSamplingTargets: none supports resource-level permissions.",
        )

        cfn_state_machine = self.state_machine.node.default_child
        assert isinstance(cfn_state_machine, sfn.CfnStateMachine)
        # A new revision id replaces the version resource, publishing the new definition as a new version.
        self.version = sfn.CfnStateMachineVersion(
            self,
            "Version",
            state_machine_arn=self.state_machine.state_machine_arn,
            state_machine_revision_id=cfn_state_machine.attr_state_machine_revision_id,
            description=entry.description,
        )
        # Keep superseded versions: executions wait for months on the version they started with.
        self.version.apply_removal_policy(RemovalPolicy.RETAIN, apply_to_update_replace_policy=True)
        # Each deploy moves the alias to the new version gradually (a canary by default); CloudFormation
        # rolls the alias back if an alarm of failed or timed-out executions goes off meanwhile.
        gradual = deployment.type != "ALL_AT_ONCE"
        self.alias = sfn.CfnStateMachineAlias(
            self,
            "LiveAlias",
            name=LIVE_ALIAS,
            description="The version new executions start on",
            deployment_preference=sfn.CfnStateMachineAlias.DeploymentPreferenceProperty(
                state_machine_version_arn=self.version.attr_arn,
                type=deployment.type,
                percentage=deployment.percentage if gradual else None,
                interval=deployment.interval_minutes,
                alarms=list(rollback_alarm_names),
            ),
        )
