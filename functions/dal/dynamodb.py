"""DynamoDB access: workflow state, history, the signal queue, and the metrics counters.

One table, keyed by ``pk``/``sk``:

- ``WF#<id>`` / ``STATE``            the workflow's current state (one item, never a growing list)
- ``WF#<id>`` / ``HISTORY#<seq>``    one item per history event, append-only
- ``WF#<id>`` / ``SIGNAL#<seq>``     a signal kept while no wait was open, and its outcome
- ``COUNTER#<type>`` / ``SHARD#<n>`` running totals by status, updated in each transition's transaction

Every change of a workflow is one transaction, conditional on the ``revision`` that was read.
Listing uses the sparse global secondary indexes the state items carry; nothing here scans.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.domain.counters import DayCounters, TypeCounters
from functions.domain.errors import ValidationFailed
from functions.domain.schema import CURRENT_VERSION, upgraded
from functions.domain.workflow import EventType, HistoryEvent, Transition, Workflow, execution_seconds
from functions.service.ports import AlreadyExists, KeptSignal, ListFilter, StaleWrite

STATE_SK = "STATE"
HISTORY_PREFIX = "HISTORY#"
SIGNAL_PREFIX = "SIGNAL#"
COUNTER_SHARDS = 4
TRANSACTION_CONFLICT_RETRIES = 8

INDEX_BY_TYPE = "byType"
INDEX_BY_STATUS = "byStatus"
INDEX_BY_EXECUTION_STATUS = "byExecutionStatus"
INDEX_BY_OWNER = "byOwner"
INDEX_BY_SUBJECT = "bySubject"
INDEX_ESCALATED = "escalated"
INDEX_STALLED = "stalled"
INDEX_NEEDS_RECOVERY = "needsRecovery"


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index: its partition and sort attributes (strings), all attributes projected.
    Every index is sparse: only the state items carrying its partition attribute are in it."""

    partition: str
    sort: str = "startKey"


INDEXES: dict[str, IndexSpec] = {
    INDEX_BY_TYPE: IndexSpec("gsiType"),
    INDEX_BY_STATUS: IndexSpec("gsiTypeStatus"),
    INDEX_BY_EXECUTION_STATUS: IndexSpec("gsiTypeExecutionStatus"),
    INDEX_BY_OWNER: IndexSpec("startedBy"),
    INDEX_BY_SUBJECT: IndexSpec("gsiSubject"),
    # Running workflows that were escalated (escalationLevel > 0), by type, newest first (?escalated=true).
    INDEX_ESCALATED: IndexSpec("gsiEscalated"),
    # Running workflows that are not waiting for a signal, oldest progress first (health check).
    INDEX_STALLED: IndexSpec("gsiStalled", "lastProgressAt"),
    # Failed or timed-out workflows without a recovery decision yet (hourly recovery).
    INDEX_NEEDS_RECOVERY: IndexSpec("gsiNeedsRecovery", "lastProgressAt"),
}
STALLED_PREFIX = "RUNNING#"
DAILY_PREFIX = "DAILY#"
REPORT_PREFIX = "REPORT#"
NEEDS_RECOVERY = ("FAILED", "TIMED_OUT")
KEY_ATTRIBUTES = sorted(
    {"pk", "sk", *(spec.partition for spec in INDEXES.values()), *(spec.sort for spec in INDEXES.values())}
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def every_item(read: Callable[..., dict[str, Any]], request: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a Query (or a Scan) answers, page after page, as stored."""
    request = dict(request)
    while True:
        response = read(**request)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def workflow_pk(workflow_id: str) -> str:
    return f"WF#{workflow_id}"


def _to_dynamo(value: Any) -> Any:
    # DynamoDB numbers are Decimals; JSON floats go through text to keep their value.
    return json.loads(json.dumps(value), parse_float=Decimal)


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    return value


# Attributes that hold JSON documents clients wrote (metadata, inputs, payloads, event details) are
# stored as JSON text: any JSON a client may send can be kept as it was, where a DynamoDB map cannot
# hold a number of more than 38 digits or outside 1E-130..1E+126, or nest deeper than 32 levels.
# Items written before as maps read the same.
DOCUMENT_ATTRIBUTES = frozenset({"metadata", "input", "fields", "details", "payload"})


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    documents = {
        key: json.dumps(value, separators=(",", ":"))
        for key, value in item.items()
        if key in DOCUMENT_ATTRIBUTES and isinstance(value, dict)
    }
    plain = {key: value for key, value in item.items() if key not in documents}
    try:
        values = _to_dynamo(plain) | documents
        return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}
    except DecimalException as error:
        # Outside documents every number is the platform's own; refused before anything is written.
        raise ValidationFailed(
            "a number cannot be stored: at most 38 significant digits, magnitude 1E-130 to 1E+126",
            [{"field": "(body)", "message": type(error).__name__}],
        ) from error


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    values = _from_dynamo({key: _deserializer.deserialize(value) for key, value in item.items()})
    for key in DOCUMENT_ATTRIBUTES.intersection(values):
        if isinstance(values[key], str):
            values[key] = json.loads(values[key])
    return values  # type: ignore[no-any-return]


def start_key(workflow: Workflow) -> str:
    return f"{workflow.startTime}#{workflow.workflowId}"


def state_item(workflow: Workflow) -> dict[str, Any]:
    item = workflow.model_dump(mode="json")
    item.update(
        pk=workflow_pk(workflow.workflowId),
        sk=STATE_SK,
        gsiType=workflow.type,
        gsiTypeStatus=f"{workflow.type}#{workflow.status}",
        gsiTypeExecutionStatus=f"{workflow.type}#{workflow.executionStatus}",
        startKey=start_key(workflow),
    )
    subject_type, subject_id = workflow.input.get("subjectType"), workflow.input.get("subjectId")
    if subject_type and subject_id:
        item["gsiSubject"] = f"{subject_type}#{subject_id}"
    if workflow.escalationLevel > 0 and workflow.is_running:
        item["gsiEscalated"] = workflow.type
    shard = counter_shard(workflow.workflowId)
    # Between two waits, or a closed wait whose execution may not have moved on: what the health check
    # and the reconciliation look at.
    if (workflow.is_running and workflow.waitToken is None) or workflow.unreleasedToken:
        item["gsiStalled"] = f"{STALLED_PREFIX}{shard}"
    if workflow.executionStatus in NEEDS_RECOVERY and not (workflow.failure or {}).get("recovery"):
        item["gsiNeedsRecovery"] = f"{workflow.type}#{shard}"
    return item


def history_item(workflow: Workflow, event: HistoryEvent) -> dict[str, Any]:
    """One history event; it names its workflow so the table's stream can publish it on its own."""
    item = event.model_dump(mode="json")
    item.update(
        pk=workflow_pk(workflow.workflowId),
        sk=f"{HISTORY_PREFIX}{event.sequence:010d}",
        workflowId=workflow.workflowId,
        workflowType=workflow.type,
        schemaVersion=CURRENT_VERSION,
    )
    return item


def stored_event(item: dict[str, Any]) -> HistoryEvent:
    """A history item as the current version's event (events are never rewritten: upgraded on read)."""
    values = _strip_keys(deserialize(item))
    return HistoryEvent.model_validate(upgraded("history_event", values.get("workflowType"), values))


def stored_kept_signal(item: dict[str, Any]) -> dict[str, Any]:
    """A kept signal's record as the current version (upgraded on read)."""
    values = deserialize(item)
    return upgraded("kept_signal", values.get("workflowType"), values)


def counter_shard(workflow_id: str) -> int:
    return zlib.crc32(workflow_id.encode()) % COUNTER_SHARDS


def counter_deltas(transition: Transition) -> dict[str, int | float]:
    """How a transition moves the running totals of its workflow type."""
    before, after = transition.before, transition.after
    deltas: dict[str, int | float] = {}

    def add(name: str, amount: int | float) -> None:
        deltas[name] = deltas.get(name, 0) + amount

    if before is None:
        add("total", 1)
    else:
        if before.status != after.status:
            add(f"status_{before.status}", -1)
        if before.executionStatus != after.executionStatus:
            add(f"exec_{before.executionStatus}", -1)
    if before is None or before.status != after.status:
        add(f"status_{after.status}", 1)
    if before is None or before.executionStatus != after.executionStatus:
        add(f"exec_{after.executionStatus}", 1)
    if transition.closed:
        add("closedCount", 1)
        add("closedSeconds", round(execution_seconds(after) or 0.0, 3))
    return {name: amount for name, amount in deltas.items() if amount}


def daily_deltas(transition: Transition) -> dict[str, int | float]:
    """How a transition moves the counters of its day (UTC): starts, closes by execution status and
    type, escalations and retries; what the daily report is made of."""
    after, event = transition.after, transition.event
    deltas: dict[str, int | float] = {}
    if transition.before is None:
        deltas.update({"started": 1, f"started#{after.type}": 1})
    if transition.closed:
        deltas.update(
            {
                f"closed#{after.executionStatus}": 1,
                f"closed#{after.executionStatus}#{after.type}": 1,
                "closedCount": 1,
                "closedSeconds": round(execution_seconds(after) or 0.0, 3),
            }
        )
    if event.type == EventType.ESCALATED or event.details.get("escalated") or event.details.get("action") == "escalate":
        deltas["escalations"] = 1
    if event.type == EventType.RETRIED or event.details.get("action") == "retry":
        deltas["retries"] = 1
    return deltas


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_token: str | None


def encode_token(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_token(token: str | None, position: str, kind: type) -> Any:
    """Where a page resumes, from a token this API issued for that kind of page (None: from the start)."""
    if not token:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get(position), kind) or isinstance(value[position], bool):
        raise ValidationFailed(
            "nextToken is not a token this API issued for this listing",
            [{"field": "nextToken", "message": "malformed"}],
        )
    return value[position]


class WorkflowStore:
    def __init__(self, table_name: str, client: Any):
        self.table_name = table_name
        self.client = client

    # ----- reads -----------------------------------------------------------------------------

    def get(self, workflow_id: str) -> Workflow | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return Workflow.model_validate(deserialize(item)) if item else None

    def history(self, workflow_id: str, limit: int, next_token: str | None) -> Page:
        after = decode_token(next_token, "after", int) or 0
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=serialize(
                {
                    ":pk": workflow_pk(workflow_id),
                    ":low": f"{HISTORY_PREFIX}{after + 1:010d}",
                    ":high": f"{HISTORY_PREFIX}9999999999",
                }
            ),
            Limit=limit,
            ConsistentRead=True,
        )
        events = [stored_event(item).model_dump(mode="json") for item in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and events
        return Page(events, encode_token({"after": events[-1]["sequence"]}) if more else None)

    def kept_signals(self, workflow_id: str, first: int, last: int) -> list[dict[str, Any]]:
        """The records of the signals kept with sequences ``first`` to ``last``, in order, whatever
        became of them since."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": serialize(
                {
                    ":pk": workflow_pk(workflow_id),
                    ":first": f"{SIGNAL_PREFIX}{first:010d}",
                    ":last": f"{SIGNAL_PREFIX}{last:010d}",
                }
            ),
            "ConsistentRead": True,
        }
        return [stored_kept_signal(item) for item in every_item(self.client.query, query)]

    def signal_record(self, workflow_id: str, sequence: int) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=serialize({"pk": workflow_pk(workflow_id), "sk": f"{SIGNAL_PREFIX}{sequence:010d}"}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return stored_kept_signal(item) if item else None

    def list_workflows(self, wanted: ListFilter, *, limit: int, next_token: str | None) -> Page:
        """Newest first, merged across index partitions (one per workflow type at most).

        The token is the sort key of the last item answered: every partition resumes below it,
        so a page costs the same however many workflows exist.
        """
        partitions, filters = self._listing_plan(wanted)
        upper = decode_token(next_token, "below", str)
        streams = [
            self._query_partition(index, value, upper, wanted.started_after, wanted.started_before, filters, limit)
            for index, value in partitions
        ]
        merged = heapq.merge(*streams, key=lambda item: item["startKey"], reverse=True)
        items: list[dict[str, Any]] = []
        for item in merged:
            items.append(item)
            if len(items) == limit + 1:
                break
        more = len(items) > limit
        items = items[:limit]
        page_token = encode_token({"below": items[-1]["startKey"]}) if more and items else None
        return Page([Workflow.model_validate(_strip_keys(item)) for item in items], page_token)

    @staticmethod
    def _listing_plan(wanted: ListFilter) -> tuple[list[tuple[str, str]], dict[str, str | None]]:
        """The index partitions a listing reads, and the attributes it filters on (None: the attribute
        must be there): an owner's workflows from the owner index; the escalated ones from the escalated
        index; otherwise the narrowest index by type, status or execution status."""
        by_state: dict[str, str | None] = {
            attribute: value
            for attribute, value in (("status", wanted.status), ("executionStatus", wanted.execution_status))
            if value
        }
        if wanted.started_by is not None:
            filters = dict(by_state)
            if len(wanted.workflow_types) == 1:
                filters["type"] = wanted.workflow_types[0]
            if wanted.escalated:
                filters[INDEXES[INDEX_ESCALATED].partition] = None
            return [(INDEX_BY_OWNER, wanted.started_by)], filters
        if wanted.escalated:
            # Running ones only (the index holds no other): a status or an execution status filters.
            return [(INDEX_ESCALATED, name) for name in wanted.workflow_types], by_state
        filters = {}
        if wanted.status:
            if wanted.execution_status:
                filters["executionStatus"] = wanted.execution_status
            return [(INDEX_BY_STATUS, f"{name}#{wanted.status}") for name in wanted.workflow_types], filters
        if wanted.execution_status:
            return [
                (INDEX_BY_EXECUTION_STATUS, f"{name}#{wanted.execution_status}") for name in wanted.workflow_types
            ], filters
        return [(INDEX_BY_TYPE, name) for name in wanted.workflow_types], filters

    def _query_partition(
        self,
        index: str,
        value: str,
        upper: str | None,
        started_after: str | None,
        started_before: str | None,
        filters: dict[str, str | None],
        limit: int,
    ) -> Iterator[dict[str, Any]]:
        # startKey is "<startTime>#<workflowId>": a bare time sorts before every key of that instant,
        # so startedAfter is inclusive and startedBefore exclusive; "~" sorts after every key.
        high = min(filter(None, [upper, started_before]), default="~")
        low = started_after or "0"
        names = {"#pk": INDEXES[index].partition, "#sk": INDEXES[index].sort}
        values: dict[str, Any] = {":pk": value, ":low": low, ":high": high}
        conditions = []
        for position, (attribute, expected) in enumerate(sorted(filters.items())):
            names[f"#f{position}"] = attribute
            if expected is None:
                conditions.append(f"attribute_exists(#f{position})")
            else:
                values[f":f{position}"] = expected
                conditions.append(f"#f{position} = :f{position}")
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
        for item in every_item(self.client.query, query):
            if item["startKey"]["S"] != upper:  # BETWEEN is inclusive; the token's item was answered
                yield deserialize(item)

    def counters(self, workflow_types: Iterable[str]) -> dict[str, TypeCounters]:
        """The running totals of each type, summed over its shards: a fixed number of reads."""
        types = list(workflow_types)
        sums = self._sum_shards([f"COUNTER#{workflow_type}" for workflow_type in types])
        return {workflow_type: as_type_counters(sums.get(f"COUNTER#{workflow_type}", {})) for workflow_type in types}

    def _sum_shards(self, partitions: list[str]) -> dict[str, dict[str, float]]:
        """Counter items (every shard of each partition), summed per partition."""
        keys = [serialize({"pk": pk, "sk": f"SHARD#{shard}"}) for pk in partitions for shard in range(COUNTER_SHARDS)]
        totals: dict[str, dict[str, float]] = {}
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}} if keys else {}
        while request:
            response = self.client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self.table_name, []):
                item = deserialize(raw)
                bucket = totals.setdefault(item["pk"], {})
                for name, value in item.items():
                    if name not in ("pk", "sk"):
                        bucket[name] = bucket.get(name, 0) + value
            request = response.get("UnprocessedKeys") or {}
        return totals

    # ----- writes ----------------------------------------------------------------------------

    def create(self, transition: Transition) -> None:
        try:
            self.commit_many([transition])
        except StaleWrite as error:
            raise AlreadyExists(transition.after.workflowId) from error

    def commit(self, transition: Transition) -> Workflow:
        return self.commit_many([transition])[0]

    def commit_many(self, transitions: list[Transition], signal: KeptSignal | None = None) -> list[Workflow]:
        """Write transitions of one or more workflows, all or nothing: each new state (if its
        revision is still the one read; a new workflow if its id is free), its history event and
        the counters; and what became of the kept signal they apply, if one."""
        operations: list[dict[str, Any]] = []
        written: list[Workflow] = []
        # One update per counter item: a transaction may not touch an item twice.
        additions: dict[tuple[str, str], dict[str, int | float]] = {}
        for transition in transitions:
            before = transition.before
            if before is None:
                after = transition.after
                operations.append(
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": serialize(state_item(after)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                )
            else:
                after = transition.after.model_copy(update={"revision": before.revision + 1})
                operations.append(self._put_state(after, expected_revision=before.revision))
            operations.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": serialize(history_item(after, transition.event)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            for key, deltas in self._counter_changes(transition):
                bucket = additions.setdefault(key, {})
                for name, amount in deltas.items():
                    bucket[name] = bucket.get(name, 0) + amount
            written.append(after)
        operations.extend(self._add({"pk": pk, "sk": sk}, deltas) for (pk, sk), deltas in additions.items() if deltas)
        if signal is not None:
            operations.append(self._put_signal(signal))
        self._transact(operations)
        return written

    def workflows_about(self, subject_type: str, subject_id: str) -> list[Workflow]:
        """The workflows whose input names this subject (documents of an application, calendars of a project)."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEX_BY_SUBJECT,
            "KeyConditionExpression": "gsiSubject = :subject",
            "ExpressionAttributeValues": serialize({":subject": f"{subject_type}#{subject_id}"}),
        }
        return [
            Workflow.model_validate(_strip_keys(deserialize(item))) for item in every_item(self.client.query, query)
        ]

    def save_bookkeeping(self, before: Workflow, after: Workflow, signal: KeptSignal | None = None) -> Workflow:
        """Write wait bookkeeping (no business change, no history event), if the revision still
        holds, and with it a kept signal's record, if one."""
        after = after.model_copy(update={"revision": before.revision + 1})
        operations = [self._put_state(after, expected_revision=before.revision)]
        if signal is not None:
            operations.append(self._put_signal(signal))
        self._transact(operations)
        return after

    def forget_wait(self, workflow: Workflow) -> Workflow:
        """The workflow has no open wait any more (its execution is gone, another starts): forget the
        wait's tokens, if the revision read still holds (StaleWrite otherwise). Only these attributes
        are written, so the item keeps the schema version it was stored at."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=serialize({"pk": workflow_pk(workflow.workflowId), "sk": STATE_SK}),
                UpdateExpression=(
                    "SET revision = :next, gsiStalled = :stalled REMOVE waitToken, waitStatus, unreleasedToken"
                ),
                ConditionExpression="revision = :revision",
                ExpressionAttributeValues=serialize(
                    {
                        ":next": workflow.revision + 1,
                        ":revision": workflow.revision,
                        ":stalled": f"{STALLED_PREFIX}{counter_shard(workflow.workflowId)}",
                    }
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleWrite(workflow.workflowId) from error
            raise
        gone = {"waitToken": None, "waitStatus": None, "unreleasedToken": None, "revision": workflow.revision + 1}
        return workflow.model_copy(update=gone)

    def open_wait(
        self,
        workflow_id: str,
        status: str,
        task_token: str,
        execution_name: str | None = None,
        execution_arn: str | None = None,
        handover_before: str | None = None,
    ) -> bool:
        """Register the wait's task token (and the execution's ARN) if the workflow is running in
        ``status`` with no signal kept, in the execution named, which needs no hand-over (started
        after ``handover_before``, no boundary reached); False (nothing written) otherwise. The
        bookkeeping ``save_bookkeeping`` would write, in one conditional update instead of a read and
        a transaction."""
        conditions = ["#status = :status", "executionStatus = :running", "pendingSignals = :none"]
        values: dict[str, Any] = {":token": task_token, ":status": status, ":one": 1, ":running": "RUNNING", ":none": 0}
        updates = ["waitToken = :token", "waitStatus = :status", "revision = revision + :one"]
        if execution_name is not None:
            conditions.append("executionName = :execution")
            values[":execution"] = execution_name
        if execution_arn is not None:
            updates.append("executionArn = if_not_exists(executionArn, :arn)")  # as first given
            values[":arn"] = execution_arn
        if handover_before is not None:
            conditions += ["executionStartedAt > :handover", "continueAtNextWait = :no"]
            values.update({":handover": handover_before, ":no": False})
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK}),
                # The execution reached this wait: the one before it was released.
                UpdateExpression=f"SET {', '.join(updates)} REMOVE gsiStalled, unreleasedToken",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize(values),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def released(self, workflow_id: str, token: str, closed: bool) -> None:
        """The wait ``token`` names is known released: forget it, unless another has taken its place. A
        closed workflow leaves the stalled index with it. Bookkeeping without a revision (no writer is
        made to retry): a write from an older read may bring the token back, and the next
        reconciliation finds that wait closed and forgets it again."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK}),
                UpdateExpression="REMOVE unreleasedToken" + (", gsiStalled" if closed else ""),
                ConditionExpression="unreleasedToken = :token" + (" AND executionStatus <> :running" if closed else ""),
                ExpressionAttributeValues=serialize({":token": token, **({":running": "RUNNING"} if closed else {})}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def unreleased(self, before: str, limit: int) -> list[Workflow]:
        """Workflows with a closed wait whose execution may not have moved on, last changed before
        ``before``: from the stalled index, which holds them and the workflows between two waits."""
        spec = INDEXES[INDEX_STALLED]
        found: list[Workflow] = []
        for shard in range(COUNTER_SHARDS):
            query: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": INDEX_STALLED,
                "KeyConditionExpression": "#pk = :pk AND #sk < :before",
                "FilterExpression": "attribute_exists(unreleasedToken)",
                "ExpressionAttributeNames": {"#pk": spec.partition, "#sk": spec.sort},
                "ExpressionAttributeValues": serialize({":pk": f"{STALLED_PREFIX}{shard}", ":before": before}),
            }
            wanted = limit - len(found)
            found.extend(
                Workflow.model_validate(_strip_keys(deserialize(item)))
                for item in itertools.islice(every_item(self.client.query, query), wanted)
            )
        return found[:limit]

    def record_execution_arn(self, workflow_id: str, execution_name: str, execution_arn: str) -> None:
        """Keep the ARN Step Functions gave the workflow's current execution (bookkeeping: no revision, so no
        writer is made to retry; a write from an older read may drop it, and the execution's first wait
        stores it again)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=serialize({"pk": workflow_pk(workflow_id), "sk": STATE_SK}),
                UpdateExpression="SET executionArn = :arn",
                ConditionExpression="executionName = :execution",
                ExpressionAttributeValues=serialize({":arn": execution_arn, ":execution": execution_name}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _put_signal(self, signal: KeptSignal) -> dict[str, Any]:
        item = {
            **signal.fields,
            "schemaVersion": CURRENT_VERSION,
            "pk": workflow_pk(signal.workflow_id),
            "sk": f"{SIGNAL_PREFIX}{signal.sequence:010d}",
        }
        return {"Put": {"TableName": self.table_name, "Item": serialize(item)}}

    def _put_state(self, workflow: Workflow, expected_revision: int) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": serialize(state_item(workflow)),
                "ConditionExpression": "revision = :revision",
                "ExpressionAttributeValues": serialize({":revision": expected_revision}),
            }
        }

    def _counter_changes(self, transition: Transition) -> list[tuple[tuple[str, str], dict[str, int | float]]]:
        """The running totals of the type and the counters of the day that a transition moves."""
        workflow = transition.after
        shard = f"SHARD#{counter_shard(workflow.workflowId)}"
        return [
            ((f"COUNTER#{workflow.type}", shard), counter_deltas(transition)),
            ((f"{DAILY_PREFIX}{transition.event.time[:10]}", shard), daily_deltas(transition)),
        ]

    def _add(self, key: dict[str, str], deltas: Mapping[str, int | float]) -> dict[str, Any]:
        names = {f"#c{position}": name for position, name in enumerate(deltas)}
        values = {f":c{position}": amount for position, amount in enumerate(deltas.values())}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": serialize(key),
                "UpdateExpression": "ADD "
                + ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True)),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": serialize(values),
            }
        }

    # ----- operations ------------------------------------------------------------------------

    def daily_counters(self, date: str) -> DayCounters:
        """One day's counters, summed over their shards: a fixed number of reads."""
        return as_day_counters(self._sum_shards([f"{DAILY_PREFIX}{date}"]).get(f"{DAILY_PREFIX}{date}", {}))

    def stalled(self, before: str, limit: int) -> list[Workflow]:
        """Running workflows with no open wait whose last progress is older than ``before``."""
        return self._oldest(INDEX_STALLED, STALLED_PREFIX, limit, before)

    def needing_recovery(self, workflow_type: str, limit: int) -> list[Workflow]:
        """Failed or timed-out workflows of a type without a recovery decision, oldest first."""
        return self._oldest(INDEX_NEEDS_RECOVERY, f"{workflow_type}#", limit)

    def _oldest(self, index: str, partition_prefix: str, limit: int, before: str | None = None) -> list[Workflow]:
        """The ``limit`` least recently progressed workflows of a sharded index (sorted on lastProgressAt)."""
        spec = INDEXES[index]
        condition = "#pk = :pk" + (" AND #sk < :before" if before else "")
        found: list[Workflow] = []
        for shard in range(COUNTER_SHARDS):
            values = {":pk": f"{partition_prefix}{shard}", **({":before": before} if before else {})}
            response = self.client.query(
                TableName=self.table_name,
                IndexName=index,
                KeyConditionExpression=condition,
                ExpressionAttributeNames={"#pk": spec.partition, **({"#sk": spec.sort} if before else {})},
                ExpressionAttributeValues=serialize(values),
                Limit=limit,
            )
            found.extend(Workflow.model_validate(_strip_keys(deserialize(item))) for item in response.get("Items", []))
        return sorted(found, key=lambda workflow: workflow.lastProgressAt)[:limit]

    def put_report(self, date: str, report: dict[str, Any]) -> None:
        item = {"pk": f"{REPORT_PREFIX}{date}", "sk": "REPORT", "report": report}
        self.client.put_item(TableName=self.table_name, Item=serialize(item))

    def get_report(self, date: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=serialize({"pk": f"{REPORT_PREFIX}{date}", "sk": "REPORT"}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return deserialize(item)["report"] if item else None

    def _transact(self, operations: list[dict[str, Any]]) -> None:
        transact(self.client, operations)


def transact(client: Any, operations: list[dict[str, Any]]) -> None:
    """One transaction: StaleWrite when a condition failed, retried (jittered) while another
    transaction holds one of the items."""
    for attempt in range(TRANSACTION_CONFLICT_RETRIES):
        try:
            client.transact_write_items(TransactItems=operations)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise StaleWrite(str(reasons)) from error
            if attempt == TRANSACTION_CONFLICT_RETRIES - 1:
                raise
            # Another transaction held one of the items (a shared counter shard): back off, jittered.
            time.sleep(random.uniform(0, 0.02 * 2**attempt))


# Key and index attributes of the stored item that are not fields of the workflow.
STORAGE_ONLY = frozenset(KEY_ATTRIBUTES) - {"startedBy", "lastProgressAt"}


def _strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in STORAGE_ONLY}


def as_type_counters(counts: Mapping[str, float]) -> TypeCounters:
    """Counter attributes (``total``, ``status_<status>``, ``exec_<status>``, ``closed…``) as totals."""
    return TypeCounters(
        total=int(counts.get("total", 0)),
        by_status={
            name.removeprefix("status_"): int(value) for name, value in counts.items() if name.startswith("status_")
        },
        by_execution_status={
            name.removeprefix("exec_"): int(value) for name, value in counts.items() if name.startswith("exec_")
        },
        closed_count=int(counts.get("closedCount", 0)),
        closed_seconds=float(counts.get("closedSeconds", 0.0)),
    )


def as_day_counters(counts: Mapping[str, float]) -> DayCounters:
    """A day's counter attributes (``started#<type>``, ``closed#<status>[#<type>]``, …) as totals."""
    closed: dict[str, int] = {}
    closed_by_type: dict[str, dict[str, int]] = {}
    started_by_type: dict[str, int] = {}
    for name, value in counts.items():
        parts = name.split("#")
        if parts[0] == "started" and len(parts) == 2:
            started_by_type[parts[1]] = int(value)
        elif parts[0] == "closed" and len(parts) == 2:
            closed[parts[1]] = int(value)
        elif parts[0] == "closed" and len(parts) == 3:
            closed_by_type.setdefault(parts[1], {})[parts[2]] = int(value)
    return DayCounters(
        started=int(counts.get("started", 0)),
        started_by_type=started_by_type,
        closed=closed,
        closed_by_type=closed_by_type,
        closed_count=int(counts.get("closedCount", 0)),
        closed_seconds=float(counts.get("closedSeconds", 0.0)),
        escalations=int(counts.get("escalations", 0)),
        retries=int(counts.get("retries", 0)),
    )
