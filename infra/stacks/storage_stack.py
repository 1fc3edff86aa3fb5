"""The stateful stack: what must outlive any deployment of the platform's code."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs import DocumentsBucket, WorkflowTables
from infra.stacks.config import DeploymentConfig


class StorageStack(Stack):
    """The DynamoDB tables and the documents bucket. Named explicitly, so that the platform stack reaches them
    by name and the two stacks deploy (and roll back) independently, with no CloudFormation exports between
    them; only the workflows table's stream ARN, which has a label set at creation, is read by the platform
    stack from this stack's outputs (a weak reference, ``Fn::GetStackOutput``)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tables = WorkflowTables(self, "Tables", name_prefix=config.name_prefix)
        self.documents = DocumentsBucket(
            self,
            "Documents",
            bucket_name=config.documents_bucket_name,
            upload_allowed_origins=config.upload_allowed_origins,
        )
        CfnOutput(self, "DocumentsBucketName", value=self.documents.bucket.bucket_name)
        # What the operator CLI (accu migrate) reads to find the tables of a deployment.
        CfnOutput(self, "WorkflowsTableName", value=self.tables.workflows.name)
        CfnOutput(self, "MigrationsTableName", value=self.tables.migrations.name)
        CfnOutput(self, "BatchesTableName", value=self.tables.batches.name)
