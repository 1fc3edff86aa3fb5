"""The stateful stack: what must outlive any deployment of the platform's code."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.constructs import WorkflowTables
from infra.stacks.config import DeploymentConfig


class StorageStack(Stack):
    """The DynamoDB tables. Named explicitly, so that the platform stack reaches them by name and the two stacks
    deploy (and roll back) independently, with no CloudFormation exports between them."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tables = WorkflowTables(self, "Tables", name_prefix=config.name_prefix)
