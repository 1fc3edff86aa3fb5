"""Metrics, the health check and the escalated listing cost the same with 100 or 10,000 workflows
(DESIGN §6): they read counters and index queries, never the population. Measured as the items
DynamoDB reads for them (a Scan fails the test)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import boto3
import pytest

from functions import dependencies
from functions.dal.dynamodb import serialize, state_item
from functions.domain import workflow as rules
from functions.domain.identity import Identity
from functions.domain.lifecycles import LIFECYCLES
from infra.local.platform import WORKFLOWS_TABLE

ALICE = Identity("alice", frozenset({"applicants"}))
OLGA = Identity("olga", frozenset({"operators"}))
INPUT = {"projectId": "p1", "unitsRequested": 10, "methodologyId": "m1"}


def seed(count: int, now) -> None:
    """``count`` running drafts, written as the platform writes them (state items and counters), in bulk."""
    lifecycle = LIFECYCLES["accu-application"]
    dynamodb = boto3.client("dynamodb")
    store = dependencies.engine().store
    items = []
    for index in range(count):
        transition = rules.start(lifecycle, f"bulk-{index:05d}", INPUT, ALICE, now - timedelta(minutes=index))
        # a registered wait: these workflows wait for a signal, as running ones do
        items.append(state_item(transition.after.model_copy(update={"waitToken": "token", "waitStatus": "DRAFT"})))
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(
            RequestItems={
                WORKFLOWS_TABLE: [{"PutRequest": {"Item": serialize(item)}} for item in items[start : start + 25]]
            }
        )
    for shard in range(4):
        share = count // 4 + (1 if shard < count % 4 else 0)
        dynamodb.put_item(
            TableName=WORKFLOWS_TABLE,
            Item=serialize(
                {
                    "pk": "COUNTER#accu-application",
                    "sk": f"SHARD#{shard}",
                    "total": share,
                    "exec_RUNNING": share,
                    "status_DRAFT": share,
                }
            ),
        )
    assert store.counters(["accu-application"])["accu-application"].total == count


def items_read(action: Callable[[], object]) -> int:
    """How many items DynamoDB reads while ``action`` runs (every read path of the store): what a query
    evaluated (``ScannedCount``, filtered-out items included), each item got; a Scan fails the test, as
    the platform never scans."""
    client = dependencies.engine().store.client
    counted = {"items": 0}
    scans: list[object] = []

    def count(parsed, **kwargs):
        counted["items"] += int(parsed.get("ScannedCount", len(parsed.get("Items", [])))) + int("Item" in parsed)
        counted["items"] += sum(len(items) for items in parsed.get("Responses", {}).values())

    def refuse_scan(params, **kwargs):
        scans.append(params)

    client.meta.events.register("after-call.dynamodb", count)
    client.meta.events.register("before-call.dynamodb.Scan", refuse_scan)
    try:
        action()
    finally:
        client.meta.events.unregister("after-call.dynamodb", count)
        client.meta.events.unregister("before-call.dynamodb.Scan", refuse_scan)
    assert scans == [], "the platform scanned the table"
    return counted["items"]


def escalated_page(queries) -> object:
    """A page of the escalated running workflows, of every type (GET /workflows?escalated=true)."""
    return queries.list_workflows(
        OLGA,
        workflow_type=None,
        status=None,
        execution_status=None,
        started_after=None,
        started_before=None,
        limit=50,
        next_token=None,
        escalated=True,
    )


@pytest.fixture
def measure(platform):
    def run() -> dict[str, int]:
        operations = dependencies.operations()
        queries = dependencies.queries()
        return {
            "healthCheck": items_read(operations.health_check),
            "healthView": items_read(operations.health),
            "metrics": items_read(lambda: queries.metrics(None)),
            "escalated": items_read(lambda: escalated_page(queries)),
        }

    return run


def test_metrics_and_the_health_check_read_as_much_with_10000_workflows_as_with_100(platform, measure):
    now = platform.clock.now()
    seed(100, now)
    with_100 = measure()
    seed(10_000, now)
    with_10000 = measure()
    assert with_10000 == with_100
    assert with_100["healthCheck"] <= 4 * len(LIFECYCLES) + 25  # counters, and at most a page of stalled ones
    assert with_100["healthView"] == with_100["healthCheck"]
