"""Events, locally: what Lambda's stream event source mapping and EventBridge's rules do in AWS,
done by the local runtime from the same definitions the stacks deploy (``infra/catalog.py``).

- ``StreamPump`` reads the workflows table's stream and hands each batch, filtered as the event
  source mapping's filter would, to the stream consumer's handler.
- ``EventRouter`` sees every event put on a bus, whoever puts it (the handlers in-process, or the
  AWS CLI through the emulated endpoint: it wraps moto's EventBridge backend), keeps what was
  published, and delivers the entries that match a rule (moto's own pattern matcher) to the
  rule's target handler, in an EventBridge envelope. moto itself would raise for such targets.

Both deliver only when drained, so tests decide when events flow; ``make local`` drains them in
the background.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.catalog import EVENT_RULES, EXECUTION_STATUS_CHANGE, STREAM_CONSUMER, STREAM_FILTER
from infra.local import clock as virtual
from infra.local import moto_dynamodb

logger = logging.getLogger("accu.local.events")
STREAM_BATCH_SIZE = 100


def _matches_filter(record: dict[str, Any]) -> bool:
    """The stream filter of ``infra/catalog.py``, as Lambda's event filtering applies it."""
    sort_key = record.get("dynamodb", {}).get("Keys", {}).get("sk", {}).get("S", "")
    prefixes = [rule["prefix"] for rule in STREAM_FILTER["dynamodb"]["Keys"]["sk"]["S"]]
    return any(sort_key.startswith(prefix) for prefix in prefixes)


Invoke = Callable[[str, Any], Any]


def _as_lambda_delivers(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it to a function: the stream's ARN beside it, the creation
    time in seconds since the epoch."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


class StreamPump:
    """Lambda's event source mapping for the workflows table's stream: reads the records written
    since it last read (in-process, from moto's stream, as Lambda's poller reads inside AWS; no
    AWS request, so reading a year of records costs no serialization), filters them as the
    mapping's filter would, and hands each batch to the consumer function."""

    def __init__(
        self, read: Callable[[int | None, int], list[dict[str, Any]]], stream_arn: Callable[[], str], invoke: Invoke
    ):
        self._read = read
        self._stream_arn = stream_arn
        self._invoke = invoke
        # The sequence number of the last record read (None: read from the oldest one kept).
        self._position: int | None = None
        self.delivered = 0
        # The count of table writes at the last drain: no write since, nothing to read.
        self._writes_seen = -1

    def reset(self) -> None:
        """The table was made anew: read its stream from the start."""
        self._position = None
        self._writes_seen = -1
        self.delivered = 0

    def drain(self) -> int:
        """Deliver every record written so far; answers how many were delivered."""
        writes = moto_dynamodb.writes()
        if writes == self._writes_seen:
            return 0
        self._writes_seen = writes
        delivered = 0
        arn = self._stream_arn()
        while True:
            records = self._read(self._position, STREAM_BATCH_SIZE)
            if records:
                self._position = int(records[-1]["dynamodb"]["SequenceNumber"])
                wanted = [_as_lambda_delivers(record, arn) for record in records if _matches_filter(record)]
                if wanted:
                    self._deliver(wanted)
                    delivered += len(wanted)
            if len(records) < STREAM_BATCH_SIZE:  # a batch not full: the stream is read to its end
                break
        self.delivered += delivered
        return delivered

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        answer = self._invoke(STREAM_CONSUMER, {"Records": records})
        failures = (answer or {}).get("batchItemFailures") or []
        if failures:
            # Lambda would retry from the first failure; locally, say so loudly and go on.
            logger.error("the stream consumer failed %d records: %s", len(failures), failures)


class EventRouter:
    """The ``after-call.events.PutEvents`` handler and the deliveries it queues."""

    def __init__(self, account: str, region: str, invoke: Invoke):
        self.account = account
        self.region = region
        self.published: list[dict[str, Any]] = []
        self._pending: deque[tuple[str, dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._invoke = invoke
        from moto.events.models import EventPattern

        self._rules = [(rule, EventPattern.load(json.dumps(rule.pattern))) for rule in EVENT_RULES]

    def reset(self) -> None:
        """Nothing published, nothing to deliver."""
        with self._lock:
            self.published.clear()
            self._pending.clear()

    def record(self, entries: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        """Keep what was put on a bus and queue what a rule takes."""
        for entry, result in zip(entries, results, strict=False):
            if result.get("ErrorCode"):
                continue
            event = self._envelope(entry, result.get("EventId"))
            bus = "default" if entry.get("EventBusName") in (None, "", "default") else "platform"
            with self._lock:
                self.published.append(event)
                for rule, pattern in self._rules:
                    if rule.bus == bus and pattern.matches_event(event):  # type: ignore[arg-type]
                        self._pending.append((rule.target, event))

    def execution_status_changed(self, execution: Any) -> None:
        """What Step Functions puts on the default bus when an execution ends (moto puts nothing)."""
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        detail = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "error": getattr(execution, "error", None),
            "cause": getattr(execution, "cause", None),
        }
        entry = {
            "Source": "aws.states",
            "DetailType": EXECUTION_STATUS_CHANGE,
            "Detail": json.dumps(detail),
            "Resources": [execution.exec_arn],
            "EventBusName": "default",
        }
        self.record([entry], [{"EventId": str(uuid.uuid4())}])

    def _envelope(self, entry: dict[str, Any], event_id: str | None) -> dict[str, Any]:
        return {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": entry.get("DetailType"),
            "source": entry.get("Source"),
            "account": self.account,
            "time": virtual.current().now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": entry.get("Resources") or [],
            "detail": json.loads(entry.get("Detail") or "{}"),
            "event-bus-name": entry.get("EventBusName"),
        }

    def drain(self) -> int:
        delivered = 0
        while True:
            with self._lock:
                if not self._pending:
                    return delivered
                target, event = self._pending.popleft()
            try:
                self._invoke(target, event)
            except Exception:  # EventBridge would retry, then dead-letter: say it loudly
                logger.exception("delivering %s to %s failed", event.get("detail-type"), target)
            delivered += 1

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [event for event in self.published if detail_type in (None, event["detail-type"])]


_active_router: EventRouter | None = None
_installed = False


def route_puts_to(router: EventRouter | None) -> None:
    """Send every event put on a bus in moto's EventBridge backend, and the status change of every
    execution that ends, to ``router`` (None: nowhere)."""
    global _active_router, _installed
    _active_router = router
    if _installed:
        return
    from moto.events.models import EventsBackend
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_and_announce(self: Any) -> None:
        reflect(self)
        if _active_router is not None:
            _active_router.execution_status_changed(self.execution)

    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_and_announce  # type: ignore[method-assign]

    original = EventsBackend.put_events

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = original(self, events)
        if _active_router is not None:
            _active_router.record(events, results)
        return results

    EventsBackend.put_events = put_events  # type: ignore[method-assign]
    _installed = True
