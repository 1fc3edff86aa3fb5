"""The platform's DynamoDB tables: workflow state and history, the API's idempotency records, migration runs,
batch operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from functions.dal.dynamodb import INDEXES
from infra.constructs.acknowledgments import acknowledge_checkov

# Powertools' DynamoDBPersistenceLayer defaults.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"


@dataclass(frozen=True)
class TableRef:
    """A table known by its (explicit) name, so that another stack can reach it without a CloudFormation
    export: the platform stack builds the ARNs in its own account and region."""

    name: str
    index_names: tuple[str, ...] = ()

    def arn(self, scope: Construct) -> str:
        return Stack.of(scope).format_arn(service="dynamodb", resource="table", resource_name=self.name)

    def arns(self, scope: Construct) -> list[str]:
        """The table's ARN and its indexes' ARNs, each named (no wildcard)."""
        table = self.arn(scope)
        return [table, *(f"{table}/index/{index}" for index in self.index_names)]


class WorkflowTables(Construct):
    """The workflows table (pk/sk; the data access layer's sparse GSIs, ``INDEXES``, each with a string partition
    and sort key and all attributes projected; PITR, deletion protection, a NEW_IMAGE stream that domain events
    are published from), the idempotency table (``id`` key, TTL on ``expiration``), the migrations table
    (pk/sk: runs and their backups) and the batches table (pk/sk: batch operations, their claims and outcomes),
    both with PITR and deletion protection; all on-demand and KMS-encrypted.

    CloudFormation creates or deletes at most one GSI per update of a deployed table: adding several indexes to
    ``INDEXES`` at once fails the update, so add them over successive deployments."""

    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str) -> None:
        super().__init__(scope, construct_id)

        self.workflows_table = self._kept_table(
            "Workflows",
            f"{name_prefix}-Workflows",
            # New items only: history events become domain events (infra/catalog.STREAM_FILTER).
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        for index_name, index in INDEXES.items():
            self.workflows_table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=index.partition, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=index.sort, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        # Idempotency records live for an hour (TTL) and can be lost without harm: no deletion protection.
        self.idempotency_table = dynamodb.Table(
            self,
            "Idempotency",
            table_name=f"{name_prefix}-Idempotency",
            partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )

        # Migration runs and the states they backed up (functions/dal/migrations.py): written by operators'
        # ``accu migrate``, never by the functions; kept like the workflows, since a rollback needs them.
        self.migrations_table = self._kept_table("Migrations", f"{name_prefix}-Migrations")
        # Batch operations (functions/dal/batches.py): which workflows each acted on and how; an audit record.
        self.batches_table = self._kept_table("Batches", f"{name_prefix}-Batches")

        for table in (self.workflows_table, self.idempotency_table, self.migrations_table, self.batches_table):
            acknowledge_checkov(
                table,
                "CKV_AWS_119",
                "Encrypted at rest with DynamoDB's AWS managed key (aws/dynamodb), which CloudTrail logs and AWS "
                "rotates; a customer managed key would add a key policy to keep and a per-request KMS cost, and no "
                "principal here needs a key-level restriction beyond the functions' IAM grants.",
            )
        self.workflows = TableRef(name=f"{name_prefix}-Workflows", index_names=tuple(INDEXES))
        # The stream's ARN has a label set at creation: other stacks take it as a (weak) cross-stack reference.
        stream_arn = self.workflows_table.table_stream_arn
        assert stream_arn is not None
        self.workflows_stream_arn: str = stream_arn
        self.idempotency = TableRef(name=f"{name_prefix}-Idempotency")
        self.migrations = TableRef(name=f"{name_prefix}-Migrations")
        self.batches = TableRef(name=f"{name_prefix}-Batches")

    def _kept_table(self, construct_id: str, table_name: str, **options: Any) -> dynamodb.Table:
        """A pk/sk table whose items must outlive any mistake: on-demand, encrypted, point-in-time
        recovery, deletion protection, retained when its stack goes."""
        return dynamodb.Table(
            self,
            construct_id,
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            **options,
        )
