"""One of the platform's Lambda functions, built from its catalog ``FunctionSpec``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.catalog import ANY_RESOURCE, METRICS_NAMESPACE, METRICS_SERVICE, FunctionSpec
from infra.constructs.acknowledgments import (
    LOG_GROUP_ENCRYPTION,
    acknowledge,
    acknowledge_checkov,
    wildcard_resource_finding,
)

RUNTIME = lambda_.Runtime.PYTHON_3_14

# The service name is also Powertools Metrics' default ``service`` dimension, which the alarms select on.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": METRICS_SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


class PlatformFunction(Construct):
    """A Python Lambda function with its own role (no managed policies), its own log group with retention,
    active X-Ray tracing, the Powertools layer and environment. Its role may do what its catalog declaration
    says (``allow_declared``), and nothing else."""

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
        reserve_concurrency: bool = True,
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
            reserved_concurrent_executions=spec.reserved_concurrency if reserve_concurrency else None,
        )
        acknowledge_checkov(self.log_group, "CKV_AWS_158", LOG_GROUP_ENCRYPTION)
        acknowledge_checkov(
            self.function,
            "CKV_AWS_117",
            "The function calls only AWS's public APIs (DynamoDB, Step Functions, SNS, EventBridge, S3), with IAM: "
            "a VPC would add NAT gateways or endpoints and cold-start time, and protect nothing more.",
        )
        acknowledge_checkov(
            self.function,
            "CKV_AWS_173",
            "The environment holds resource names, ARNs and thresholds (functions/models/settings.py), no secret; "
            "Lambda encrypts it at rest with its AWS managed key.",
        )
        if self.function.node.default_child.reserved_concurrent_executions is None:  # type: ignore[union-attr]
            reason = spec.concurrency_reason
            if spec.reserved_concurrency is not None:
                reason = f"Reservation turned off (reservedConcurrency=false) for this account. {reason}"
            acknowledge_checkov(self.function, "CKV_AWS_115", reason)

    @property
    def function_arn(self) -> str:
        return self.function.function_arn

    def allow(self, actions: Sequence[str], resources: Sequence[str]) -> None:
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=sorted(actions), resources=list(resources)))

    def allow_declared(self, resources: Mapping[str, Sequence[str]], wildcard_reasons: Mapping[str, str]) -> None:
        """One statement per resource the declaration acts on, with its actions; each wildcard acknowledged
        with its reason (``wildcard_reasons``: resource → why; ``*`` resources: ``ANY_RESOURCE``)."""
        any_resource = [
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
            "resource-level permissions: IAM requires Resource '*' for them."
        ]
        for resource, actions in sorted(self.spec.actions().items()):
            arns = list(resources[resource])
            self.allow(sorted(actions), arns)
            if resource in ANY_RESOURCE:
                any_resource.append(ANY_RESOURCE[resource])
            elif resource in wildcard_reasons:
                for arn in arns:
                    acknowledge(self, wildcard_resource_finding(self, arn), wildcard_reasons[resource])
        acknowledge(self, "AwsSolutions-IAM5[Resource::*]", " ".join(any_resource))
