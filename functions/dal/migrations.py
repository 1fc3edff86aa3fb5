"""DynamoDB access for migrations: reading every stored state (the one Scan of the platform), writing
a migrated state with its history event, and the migrations table's runs and backups.

The migrations table, keyed by ``pk``/``sk``:

- ``RUN#<id>`` / ``RUN``                 the run: what it was asked, its progress, its report
- ``RUN#<id>`` / ``ITEM#<workflowId>``   a state as it was before the run wrote it (DynamoDB JSON, exactly),
                                         and what became of it (MIGRATED, ROLLED_BACK, CONFLICT)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from queue import Full, Queue
from typing import Any

from botocore.exceptions import ClientError

from functions.dal.dynamodb import (
    HISTORY_PREFIX,
    KEY_ATTRIBUTES,
    STATE_SK,
    STORAGE_ONLY,
    deserialize,
    every_item,
    history_item,
    serialize,
    state_item,
    workflow_pk,
)
from functions.domain.workflow import HistoryEvent, Workflow
from functions.service.ports import StaleWrite, StoredState

RUN_SK = "RUN"
ITEM_PREFIX = "ITEM#"
SCAN_PAGE_SIZE = 200


def run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _revision_is(revision: int) -> dict[str, Any]:
    """The condition that a state is still at ``revision`` (items of the first versions may have none)."""
    condition = "revision = :revision" + (" OR attribute_not_exists(revision)" if revision == 0 else "")
    return {"ConditionExpression": condition, "ExpressionAttributeValues": serialize({":revision": revision})}


def _state(item: dict[str, Any]) -> StoredState:
    values = deserialize(item)
    return StoredState({key: value for key, value in values.items() if key not in STORAGE_ONLY}, item)


class MigrationStore:
    def __init__(self, client: Any, workflows_table: str, migrations_table: str):
        self.client = client
        self.workflows_table = workflows_table
        self.migrations_table = migrations_table

    # ----- the workflows table ---------------------------------------------------------------

    def scan_states(
        self,
        segments: int,
        workflow_types: tuple[str, ...] = (),
        start_keys: Mapping[int, dict[str, Any]] | None = None,
        finished: frozenset[int] = frozenset(),
        on_page: Callable[[int, dict[str, Any] | None], None] | None = None,
    ) -> Iterator[StoredState]:
        """Every state item, read by ``segments`` parallel Scan segments, page by page. A resumed run
        skips the ``finished`` segments and starts each other one after its key in ``start_keys``;
        ``on_page(segment, next_key)`` is called once a page's states were all taken (next_key None:
        the segment is done)."""
        pages: Queue[tuple[int, list[StoredState], dict[str, Any] | None] | BaseException] = Queue(maxsize=2)
        stop = threading.Event()
        filters = ["sk = :state"]
        values: dict[str, Any] = {":state": STATE_SK}
        if workflow_types:
            names = [f":type{position}" for position in range(len(workflow_types))]
            filters.append(f"#type IN ({', '.join(names)})")
            values.update(zip(names, workflow_types, strict=True))

        def read(segment: int) -> None:
            request: dict[str, Any] = {
                "TableName": self.workflows_table,
                "Segment": segment,
                "TotalSegments": segments,
                "FilterExpression": " AND ".join(filters),
                "ExpressionAttributeValues": serialize(values),
                "Limit": SCAN_PAGE_SIZE,
                "ConsistentRead": True,
                **({"ExpressionAttributeNames": {"#type": "type"}} if workflow_types else {}),
            }
            start = (start_keys or {}).get(segment)
            if start:
                request["ExclusiveStartKey"] = start
            try:
                while not stop.is_set():
                    response = self.client.scan(**request)
                    next_key = response.get("LastEvaluatedKey")
                    hand_over((segment, [_state(item) for item in response.get("Items", [])], next_key))
                    if not next_key:
                        return
                    request["ExclusiveStartKey"] = next_key
            except BaseException as error:  # handed to the reader, which raises it
                hand_over(error)

        def hand_over(page: tuple[int, list[StoredState], dict[str, Any] | None] | BaseException) -> None:
            # A reader that stopped early takes nothing more: a segment gives up instead of waiting for ever.
            while not stop.is_set():
                try:
                    pages.put(page, timeout=0.1)
                    return
                except Full:
                    continue

        running = [segment for segment in range(segments) if segment not in finished]
        with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
            for segment in running:
                pool.submit(read, segment)
            segments_done = 0
            try:
                while segments_done < len(running):
                    page = pages.get()
                    if isinstance(page, BaseException):
                        raise page
                    segment, states, next_key = page
                    yield from states
                    if on_page is not None:
                        on_page(segment, next_key)
                    if not next_key:
                        segments_done += 1
            finally:
                stop.set()

    def state(self, workflow_id: str) -> StoredState | None:
        response = self.client.get_item(
            TableName=self.workflows_table,
            Key=serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _state(item) if item else None

    def history_event(self, workflow_id: str, sequence: int) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.workflows_table,
            Key=serialize({"pk": workflow_pk(workflow_id), "sk": f"{HISTORY_PREFIX}{sequence:010d}"}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return deserialize(item) if item else None

    def write_migrated(self, before: StoredState, attributes: dict[str, Any], event: HistoryEvent) -> int:
        """Write the migrated state and its history event in one transaction, if the state is still
        the one read (its revision): StaleWrite otherwise. Answers the revision written. Attributes
        this code does not model are kept; the key and index attributes are those of the new state."""
        revision = before.revision + 1
        attributes = {**attributes, "revision": revision}
        workflow = Workflow.model_validate(attributes)
        indexed = {key: value for key, value in state_item(workflow).items() if key in KEY_ATTRIBUTES}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.workflows_table,
                            "Item": serialize({**attributes, **indexed}),
                            **_revision_is(before.revision),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.workflows_table,
                            "Item": serialize(history_item(workflow, event)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise StaleWrite(workflow.workflowId) from error
            raise
        return revision

    def restore(
        self, workflow_id: str, backup_item: dict[str, Any], migrated_revision: int, event_sequence: int
    ) -> None:
        """Put the state back exactly as it was backed up and take the migration's history event
        away, if the state is still the one the migration wrote: StaleWrite otherwise (a change
        made since would be lost)."""
        event_key = serialize({"pk": workflow_pk(workflow_id), "sk": f"{HISTORY_PREFIX}{event_sequence:010d}"})
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.workflows_table,
                            "Item": backup_item,
                            "ConditionExpression": "revision = :revision",
                            "ExpressionAttributeValues": serialize({":revision": migrated_revision}),
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.workflows_table,
                            "Key": event_key,
                            "ConditionExpression": "#type = :migrated",
                            "ExpressionAttributeNames": {"#type": "type"},
                            "ExpressionAttributeValues": serialize({":migrated": "MIGRATED"}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise StaleWrite(workflow_id) from error
            raise

    # ----- the migrations table --------------------------------------------------------------

    def put_run(self, run: dict[str, Any]) -> None:
        item = {"pk": run_pk(run["runId"]), "sk": RUN_SK, "run": json.dumps(run, separators=(",", ":"))}
        self.client.put_item(TableName=self.migrations_table, Item=serialize(item))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.migrations_table, Key=serialize({"pk": run_pk(run_id), "sk": RUN_SK}), ConsistentRead=True
        )
        item = response.get("Item")
        return json.loads(deserialize(item)["run"]) if item else None

    def put_backup(self, run_id: str, workflow_id: str, item: dict[str, Any], record: dict[str, Any]) -> None:
        """Keep a state as it is before the run writes it (again, after a conflict: the newer read),
        unless the run has migrated it already."""
        try:
            self.client.put_item(
                TableName=self.migrations_table,
                Item=serialize(
                    {
                        "pk": run_pk(run_id),
                        "sk": f"{ITEM_PREFIX}{workflow_id}",
                        "item": json.dumps(item, sort_keys=True, separators=(",", ":")),
                        **record,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR outcome = :backed_up",
                ExpressionAttributeValues=serialize({":backed_up": "BACKED_UP"}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise StaleWrite(workflow_id) from error

    def update_backup(self, run_id: str, workflow_id: str, **changes: Any) -> None:
        names = {f"#a{position}": name for position, name in enumerate(changes)}
        values = {f":v{position}": value for position, value in enumerate(changes.values())}
        self.client.update_item(
            TableName=self.migrations_table,
            Key=serialize({"pk": run_pk(run_id), "sk": f"{ITEM_PREFIX}{workflow_id}"}),
            UpdateExpression="SET " + ", ".join(f"{name} = {value}" for name, value in zip(names, values, strict=True)),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )

    def backups(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's backups, each with its item (DynamoDB JSON) and what became of it."""
        request: dict[str, Any] = {
            "TableName": self.migrations_table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :item)",
            "ExpressionAttributeValues": serialize({":pk": run_pk(run_id), ":item": ITEM_PREFIX}),
            "ConsistentRead": True,
        }
        for raw in every_item(self.client.query, request):
            record = deserialize(raw)
            record["item"] = json.loads(record["item"])
            record["workflowId"] = record["sk"][len(ITEM_PREFIX) :]
            yield record

    def runs(self) -> list[dict[str, Any]]:
        """Every run (the migrations table holds runs and their backups only: a Scan is its listing)."""
        request = {
            "TableName": self.migrations_table,
            "FilterExpression": "sk = :run",
            "ExpressionAttributeValues": serialize({":run": RUN_SK}),
        }
        found = [json.loads(deserialize(item)["run"]) for item in every_item(self.client.scan, request)]
        return sorted(found, key=lambda run: run.get("startedAt", ""))
