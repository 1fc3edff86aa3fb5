"""The stateful stack: the workflows table as the data access layer expects it (and its stream), the idempotency
table, and the documents bucket."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from functions.dal.dynamodb import INDEXES, KEY_ATTRIBUTES
from infra.constructs import DocumentsBucket
from infra.stacks import cdk_json_context
from tests.infra.synthesis import (
    DOCUMENTS_BUCKET,
    PLATFORM_STACK,
    STORAGE_STACK,
    UPLOAD_ALLOWED_ORIGINS,
    Synthesized,
)


def _table(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (table,) = (
        t
        for t in synthesized.resources("AWS::DynamoDB::Table", STORAGE_STACK).values()
        if t["Properties"]["TableName"] == f"{STORAGE_STACK.removesuffix('-Storage')}-{name}"
    )
    return table


def _key_schema(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def _buckets(synthesized: Synthesized) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """(documents bucket id, its resource, access logs bucket id, its resource)."""
    buckets = synthesized.resources("AWS::S3::Bucket", STORAGE_STACK)
    assert len(buckets) == 2
    (documents_id,) = (i for i, b in buckets.items() if b["Properties"].get("BucketName") == DOCUMENTS_BUCKET)
    (logs_id,) = set(buckets) - {documents_id}
    return documents_id, buckets[documents_id], logs_id, buckets[logs_id]


def _bucket_policy(synthesized: Synthesized, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = (
        p
        for p in synthesized.resources("AWS::S3::BucketPolicy", STORAGE_STACK).values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_given_the_workflows_table_then_it_is_protected_on_demand_and_encrypted(synthesized: Synthesized) -> None:
    table = _table(synthesized, "Workflows")
    properties = table["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_given_the_workflows_table_then_it_streams_new_images(synthesized: Synthesized) -> None:
    assert _table(synthesized, "Workflows")["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert "StreamSpecification" not in _table(synthesized, "Idempotency")["Properties"]


def test_given_the_workflows_table_then_its_keys_and_indexes_match_the_data_access_layer(
    synthesized: Synthesized,
) -> None:
    properties = _table(synthesized, "Workflows")["Properties"]
    assert _key_schema(properties["KeySchema"]) == {"HASH": "pk", "RANGE": "sk"}
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == set(INDEXES)
    for name, index in INDEXES.items():
        assert _key_schema(indexes[name]["KeySchema"]) == {"HASH": index.partition, "RANGE": index.sort}
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    assert types == dict.fromkeys(KEY_ATTRIBUTES, "S")


def test_given_the_idempotency_table_then_it_has_the_powertools_key_and_ttl(synthesized: Synthesized) -> None:
    properties = _table(synthesized, "Idempotency")["Properties"]
    assert _key_schema(properties["KeySchema"]) == {"HASH": "id"}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_given_the_documents_bucket_then_it_is_private_encrypted_versioned_logged_and_retained(
    synthesized: Synthesized,
) -> None:
    _, bucket, logs_id, _ = _buckets(synthesized)
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    rules = properties["LifecycleConfiguration"]["Rules"]
    assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}.items() <= next(
        rule for rule in rules if "AbortIncompleteMultipartUpload" in rule
    ).items()


def test_given_both_buckets_then_their_policies_deny_requests_without_tls(synthesized: Synthesized) -> None:
    documents_id, _, logs_id, logs = _buckets(synthesized)
    for bucket_id in (documents_id, logs_id):
        denials = [
            s
            for s in _bucket_policy(synthesized, bucket_id)
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denials, bucket_id
    assert logs["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert logs["DeletionPolicy"] == "Retain"


def test_given_upload_origins_in_context_then_browsers_may_put_from_those_origins_only(
    synthesized: Synthesized,
) -> None:
    _, bucket, _, _ = _buckets(synthesized)
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["AllowedOrigins"] == UPLOAD_ALLOWED_ORIGINS


def test_given_no_upload_origins_then_the_documents_bucket_has_no_cors_rule() -> None:
    stack = Stack(App(context=cdk_json_context()), "Bucket")
    DocumentsBucket(stack, "Documents", bucket_name="accuworkflows-unit-docs", upload_allowed_origins=())
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    assert not any("CorsConfiguration" in bucket["Properties"] for bucket in buckets.values())


def test_given_the_stacks_then_the_platform_reaches_storage_by_name_and_reads_only_the_stream_arn_output(
    synthesized: Synthesized,
) -> None:
    for template in synthesized.templates.values():
        assert "Fn::ImportValue" not in json.dumps(template)
        assert not any("Export" in output for output in template.get("Outputs", {}).values())
    platform = json.dumps(synthesized.platform)
    outputs_read = {
        json.dumps(reference)
        for reference in _stack_outputs_read(synthesized.platform)
        if reference["StackName"] == STORAGE_STACK
    }
    assert len(outputs_read) == 1, outputs_read
    (output_name,) = {json.loads(reference)["OutputName"] for reference in outputs_read}
    (stream_table,) = (
        logical_id
        for logical_id, table in synthesized.resources("AWS::DynamoDB::Table", STORAGE_STACK).items()
        if table["Properties"]["TableName"].endswith("-Workflows")
    )
    assert synthesized.storage["Outputs"][output_name]["Value"] == {"Fn::GetAtt": [stream_table, "StreamArn"]}
    assert STORAGE_STACK in platform and PLATFORM_STACK not in json.dumps(synthesized.storage)


def _stack_outputs_read(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["Fn::GetStackOutput"]] if "Fn::GetStackOutput" in node else []
        return found + [ref for value in node.values() for ref in _stack_outputs_read(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _stack_outputs_read(value)]
    return []


def test_given_the_storage_stack_then_it_is_protected_from_termination(synthesized: Synthesized) -> None:
    # The README promises that the stateful stack cannot be deleted by accident; the platform stack can
    assembly = synthesized.app.synth()
    protection = {stack.stack_name: stack.termination_protection for stack in assembly.stacks}
    assert protection == {STORAGE_STACK: True, PLATFORM_STACK: False}


def test_given_the_migrations_table_then_it_keeps_runs_and_backups_as_safely_as_the_workflows(
    synthesized: Synthesized,
) -> None:
    # Given the migrations table (runs and the states they backed up: what a rollback restores)
    table = _table(synthesized, "Migrations")
    properties = table["Properties"]

    # Then it is keyed as the data access layer writes it, kept like the workflows, and named in the outputs
    assert _key_schema(properties["KeySchema"]) == {"HASH": "pk", "RANGE": "sk"}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True and table["DeletionPolicy"] == "Retain"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    outputs = synthesized.storage["Outputs"]
    prefix = STORAGE_STACK.removesuffix("-Storage")
    assert outputs["MigrationsTableName"]["Value"] == f"{prefix}-Migrations"
    assert outputs["WorkflowsTableName"]["Value"] == f"{prefix}-Workflows"
