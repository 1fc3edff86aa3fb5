"""States as the version-1 platform stored them: what migrations start from."""

from __future__ import annotations

from typing import Any

from functions.dal.dynamodb import STATE_SK, deserialize, every_item, serialize, workflow_pk


def store_as_version_1(client: Any, table: str, workflow_id: str, *, flagged: bool, labelled: bool = True) -> dict:
    """Rewrite a stored state in the shape of version 1: no methodology validation in its fields, the
    metadata flag ``methodologyValidated`` when ``flagged``; ``schemaVersion`` 1, or none at all (the
    first items carried no version). Answers the item as now stored (DynamoDB JSON)."""
    key = serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK})
    values = deserialize(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
    values["fields"] = {name: value for name, value in values["fields"].items() if "methodologyValidated" not in name}
    values["metadata"] = {**values.get("metadata", {}), **({"methodologyValidated": True} if flagged else {})}
    values.pop("schemaVersion", None)
    if labelled:
        values["schemaVersion"] = 1
    item = serialize(values)
    client.put_item(TableName=table, Item=item)
    return dict(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])


def table_items(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, as stored, in key order (to compare a table before and after)."""
    items = every_item(client.scan, {"TableName": table})
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
