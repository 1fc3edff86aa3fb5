"""DynamoDB access for batch operations: the batches table.

Keyed by ``pk``/``sk``:

- ``BATCH`` / ``<batchId>``                  a batch: what it was asked, its state, its counts (ids sort by
                                             creation, so a listing newest first is one Query)
- ``BATCH#<batchId>`` / ``WORKFLOW#<id>``    a workflow the batch claimed, and its outcome once recorded (with
                                             the number of the step that recorded it)
- ``BATCH#<batchId>`` / ``FAILED#<id>``      a workflow the batch failed on, and why

A step's counts and its progress (the listing's cursor, the step number) are written together, once,
conditional on the cursor and step number it started from: a step run again after its first run wrote
writes nothing, and one run again before finds the outcomes its first run recorded under its number, not
yet counted.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.dal.dynamodb import decode_token, deserialize, encode_token, serialize
from functions.domain.batches import Batch, BatchState, Outcome
from functions.service.ports import AlreadyExists, StaleWrite

BATCH_PK = "BATCH"
CLAIMED = "CLAIMED"
WORKFLOW_PREFIX = "WORKFLOW#"
FAILED_PREFIX = "FAILED#"


def _batch_pk(batch_id: str) -> str:
    return f"BATCH#{batch_id}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return serialize({"pk": pk, "sk": sk})


def _batch(item: dict[str, Any]) -> Batch:
    values = deserialize(item)
    return Batch.model_validate({key: value for key, value in values.items() if key not in ("pk", "sk")})


class BatchStore:
    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    # ----- the batch ---------------------------------------------------------------------------

    def create(self, batch: Batch) -> None:
        item = {"pk": BATCH_PK, "sk": batch.batchId, **batch.model_dump(mode="json")}
        try:
            self.client.put_item(
                TableName=self.table_name, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise AlreadyExists(batch.batchId) from error
            raise

    def get(self, batch_id: str) -> Batch | None:
        response = self.client.get_item(TableName=self.table_name, Key=_key(BATCH_PK, batch_id), ConsistentRead=True)
        item = response.get("Item")
        return _batch(item) if item else None

    def page(self, limit: int, next_token: str | None) -> tuple[list[Batch], str | None]:
        """Batches newest first."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": serialize({":pk": BATCH_PK}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        after = decode_token(next_token, "after", str)
        if after:
            query["ExclusiveStartKey"] = _key(BATCH_PK, after)
        response = self.client.query(**query)
        batches = [_batch(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        token = encode_token({"after": deserialize(last)["sk"]}) if last and batches else None
        return batches, token

    def update(
        self,
        batch_id: str,
        changes: dict[str, Any],
        *,
        state: BatchState | None = None,
        cursor_is: str | bool | None = False,
        steps_is: int | None = None,
        add: dict[str, int] | None = None,
        skipped_reasons: dict[str, int] | None = None,
    ) -> None:
        """Set ``changes`` (and add ``add`` to counts, ``skipped_reasons`` to those by reason) on the batch;
        only while it is in ``state``, its cursor is ``cursor_is`` (None: no cursor; False: any) and it has
        made ``steps_is`` steps. StaleWrite when not."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, removes, adds = [], [], []
        for position, (field, value) in enumerate(sorted(changes.items())):
            names[f"#c{position}"] = field
            if value is None:
                removes.append(f"#c{position}")
            else:
                values[f":c{position}"] = value
                sets.append(f"#c{position} = :c{position}")
        for position, (field, amount) in enumerate(sorted((add or {}).items())):
            names[f"#a{position}"] = field
            values[f":a{position}"] = amount
            adds.append(f"#a{position} :a{position}")
        if skipped_reasons:
            # A map of counts by reason (created with the batch): these many more of each.
            names["#reasons"] = "skippedReasons"
            values[":zero"] = 0
            for position, (reason, count) in enumerate(sorted(skipped_reasons.items())):
                names[f"#r{position}"] = reason
                values[f":r{position}"] = count
                sets.append(f"#reasons.#r{position} = if_not_exists(#reasons.#r{position}, :zero) + :r{position}")
        expression = " ".join(
            part
            for part in (
                f"SET {', '.join(sets)}" if sets else "",
                f"REMOVE {', '.join(removes)}" if removes else "",
                f"ADD {', '.join(adds)}" if adds else "",
            )
            if part
        )
        conditions = ["attribute_exists(pk)"]
        if state is not None:
            names["#state"] = "state"
            values[":state"] = state.value
            conditions.append("#state = :state")
        if cursor_is is not False:
            names["#cursor"] = "cursor"
            if cursor_is is None:
                conditions.append("attribute_not_exists(#cursor)")
            else:
                values[":cursor"] = cursor_is
                conditions.append("#cursor = :cursor")
        if steps_is is not None:
            names["#steps"] = "steps"
            values[":steps"] = steps_is
            conditions.append("#steps = :steps")
        operation: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _key(BATCH_PK, batch_id),
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
        }
        if values:
            operation["ExpressionAttributeValues"] = serialize(values)
        try:
            self.client.update_item(**operation)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleWrite(batch_id) from error
            raise

    # ----- its workflows -----------------------------------------------------------------------

    def claim(self, batch_id: str, workflow_id: str) -> dict[str, Any] | None:
        """Claim a workflow for the batch: None when claimed now; else what an earlier attempt left: its
        ``outcome`` (``CLAIMED``: it stopped between the claim and the outcome), ``step``, ``code``, ``kept``."""
        key = {"pk": _batch_pk(batch_id), "sk": f"{WORKFLOW_PREFIX}{workflow_id}"}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=serialize({**key, "workflowId": workflow_id, "outcome": CLAIMED}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        response = self.client.get_item(TableName=self.table_name, Key=serialize(key), ConsistentRead=True)
        return {key: value for key, value in deserialize(response["Item"]).items() if key not in ("pk", "sk")}

    def record(
        self,
        batch_id: str,
        workflow_id: str,
        outcome: Outcome,
        *,
        step: int,
        code: str | None = None,
        message: str | None = None,
        kept: bool = False,
        at: str,
    ) -> None:
        """The workflow's outcome, recorded by step number ``step`` (StaleWrite when already recorded);
        the step counts it when it writes its progress."""
        if outcome is Outcome.FAILED:
            failure = {
                "pk": _batch_pk(batch_id),
                "sk": f"{FAILED_PREFIX}{workflow_id}",
                "workflowId": workflow_id,
                "code": code,
                "message": (message or "")[:1000],
                "at": at,
            }
            self.client.put_item(TableName=self.table_name, Item=serialize(failure))
        recorded = {
            "pk": _batch_pk(batch_id),
            "sk": f"{WORKFLOW_PREFIX}{workflow_id}",
            "workflowId": workflow_id,
            "outcome": outcome.value,
            "code": code or outcome.value,
            "step": step,
            "kept": kept,
            "recordedAt": at,
        }
        try:
            # The whole item put again (cheaper than an update expression), only over an open claim.
            self.client.put_item(
                TableName=self.table_name,
                Item=serialize(recorded),
                ConditionExpression="outcome = :claimed",
                ExpressionAttributeValues=serialize({":claimed": CLAIMED}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleWrite(workflow_id) from error
            raise

    def failures(self, batch_id: str, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` workflows the batch failed on (by id), and why."""
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize({":pk": _batch_pk(batch_id), ":prefix": FAILED_PREFIX}),
            Limit=limit,
        )
        return [
            {key: value for key, value in deserialize(item).items() if key not in ("pk", "sk")}
            for item in response.get("Items", [])
        ]
