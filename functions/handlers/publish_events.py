"""Publishes one domain event per history event, from the workflows table's stream.

Only committed transitions reach the stream, so an event is published exactly when its transition
happened; a failed publish fails only its record, and the stream delivers it again.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import dependencies
from functions.dal.dynamodb import HISTORY_PREFIX, deserialize
from functions.domain.events import transition_event
from functions.handlers.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def publish(record: DynamoDBRecord) -> None:
    image = record.raw_event.get("dynamodb", {}).get("NewImage") or {}
    if record.raw_event.get("eventName") != "INSERT" or not image.get("sk", {}).get("S", "").startswith(HISTORY_PREFIX):
        return  # state items, counters, kept signals: not events
    item = deserialize(image)
    detail_type, detail = transition_event(item)
    dependencies.event_bus().publish(detail_type, detail)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=publish, processor=processor, context=context))
