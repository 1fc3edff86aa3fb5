"""One of the platform's Lambda functions, built from its catalog ``FunctionSpec``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.catalog import METRICS_NAMESPACE, METRICS_SERVICE, FunctionSpec
from infra.constructs.acknowledgments import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_14

# The service name is also Powertools Metrics' default ``service`` dimension, which the alarms select on.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": METRICS_SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# The DynamoDB actions the functions' data access and Powertools idempotency use: reads, conditional writes and
# transactions (TransactWriteItems is authorised per item as Put/Update/Delete/ConditionCheck). No Scan.
DYNAMODB_READ_WRITE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)


class PlatformFunction(Construct):
    """A Python Lambda function with its own role (no managed policies), its own log group with retention,
    active X-Ray tracing, the Powertools layer and environment. Permissions are added with ``allow``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        function_name: str,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {spec.name} function",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=spec.description,
            runtime=RUNTIME,
            handler=spec.handler,
            code=code,
            layers=list(layers),
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            role=self.role,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment={**POWERTOOLS_ENVIRONMENT, **environment},
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
            "resource-level permissions: IAM requires Resource '*' for them.",
        )

    @property
    def function_arn(self) -> str:
        return self.function.function_arn

    def allow(self, actions: Sequence[str], resources: Sequence[str]) -> None:
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))

    def allow_table_read_write(self, table_arns: Sequence[str]) -> None:
        self.allow(DYNAMODB_READ_WRITE_ACTIONS, table_arns)
