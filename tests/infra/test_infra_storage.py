"""The stateful stack: the workflows table as the data access layer expects it, and the idempotency table."""

from __future__ import annotations

from typing import Any

from functions.dal.dynamodb import INDEXES
from tests.infra.synthesis import STORAGE_STACK, Synthesized


def _table(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (table,) = (
        t
        for t in synthesized.resources("AWS::DynamoDB::Table", STORAGE_STACK).values()
        if t["Properties"]["TableName"] == f"{STORAGE_STACK.removesuffix('-Storage')}-{name}"
    )
    return table


def _key_schema(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def test_given_the_workflows_table_then_it_is_protected_on_demand_and_encrypted(synthesized: Synthesized) -> None:
    table = _table(synthesized, "Workflows")
    properties = table["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_given_the_workflows_table_then_its_keys_and_indexes_match_the_data_access_layer(
    synthesized: Synthesized,
) -> None:
    properties = _table(synthesized, "Workflows")["Properties"]
    assert _key_schema(properties["KeySchema"]) == {"HASH": "pk", "RANGE": "sk"}
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == set(INDEXES)
    for name, partition_attribute in INDEXES.items():
        assert _key_schema(indexes[name]["KeySchema"]) == {"HASH": partition_attribute, "RANGE": "startKey"}
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    types = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    assert types == dict.fromkeys(["pk", "sk", "startKey", *INDEXES.values()], "S")


def test_given_the_idempotency_table_then_it_has_the_powertools_key_and_ttl(synthesized: Synthesized) -> None:
    properties = _table(synthesized, "Idempotency")["Properties"]
    assert _key_schema(properties["KeySchema"]) == {"HASH": "id"}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_given_the_stacks_then_the_platform_reaches_the_tables_by_name_without_exports(
    synthesized: Synthesized,
) -> None:
    for template in synthesized.templates.values():
        assert "Fn::ImportValue" not in str(template)
        assert not any("Export" in output for output in template.get("Outputs", {}).values())
