"""Locally as in AWS, a function may do only what its catalog declaration grants (infra/local/permissions.py):
the whole suite runs under that check; here it is shown to refuse, as IAM would."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.dal.dynamodb import workflow_pk
from infra.catalog import FUNCTIONS
from infra.local import permissions
from infra.local.platform import WORKFLOWS_TABLE

KEY = {"pk": {"S": workflow_pk("perm-1")}, "sk": {"S": "STATE"}}


def test_a_function_reads_what_it_may_and_is_refused_what_its_declaration_does_not_grant(platform):
    dynamodb = boto3.client("dynamodb")
    # Given the health check, which reads workflows and alerts, and nothing else
    with permissions.acting_as(FUNCTIONS["HealthCheck"]):
        # When it reads, it may
        dynamodb.get_item(TableName=WORKFLOWS_TABLE, Key=KEY)
        # When it writes a workflow or starts an execution, it is refused as IAM would refuse it
        with pytest.raises(ClientError) as refused:
            dynamodb.put_item(TableName=WORKFLOWS_TABLE, Item={**KEY, "status": {"S": "X"}})
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "HealthCheck is not authorized to perform dynamodb:PutItem" in str(refused.value)
        with pytest.raises(ClientError, match="states:StartExecution"):
            boto3.client("stepfunctions").start_execution(
                stateMachineArn=platform.state_machine_arns["project"], name="perm-1", input="{}"
            )
    # And nothing was written
    assert "Item" not in dynamodb.get_item(TableName=WORKFLOWS_TABLE, Key=KEY)


def test_an_action_granted_on_one_table_is_refused_on_another(platform):
    dynamodb = boto3.client("dynamodb")
    # The API deletes idempotency records (a failed request's), never a workflow
    with permissions.acting_as(FUNCTIONS["Api"]), pytest.raises(ClientError, match="dynamodb:DeleteItem"):
        dynamodb.delete_item(TableName=WORKFLOWS_TABLE, Key=KEY)
    # A transaction is checked item by item: the health check may not put even inside one
    with permissions.acting_as(FUNCTIONS["HealthCheck"]), pytest.raises(ClientError, match="dynamodb:PutItem"):
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": WORKFLOWS_TABLE, "Item": {**KEY, "status": {"S": "X"}}}}]
        )
    # The local runtime itself (no function running) is not checked
    dynamodb.put_item(TableName=WORKFLOWS_TABLE, Item={**KEY, "status": {"S": "X"}})
