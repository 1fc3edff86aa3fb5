"""A function fed by a DynamoDB stream: filtered, partial batch responses, bounded retries, failures kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.constructs.dead_letter_queue import DeadLetterQueue, acknowledge_sender
from infra.constructs.platform_function import PlatformFunction


class StreamPublisher(Construct):
    """Lambda's event source mapping from a DynamoDB stream to ``function``: from the oldest record
    (TRIM_HORIZON), only records matching ``filter_pattern`` (filtered by Lambda, not billed), partial batch
    responses (the function reports the failed records), a failing batch split in two until the bad record is
    alone, at most ``retry_attempts`` retries; then the record's description goes to a dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: PlatformFunction,
        stream_arn: str,
        filter_pattern: Mapping[str, Any],
        dead_letter_queue_name: str,
        retry_attempts: int,
        dead_letters_key: kms.IKey,
        batch_size: int = 100,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = DeadLetterQueue(
            self,
            "DeadLetters",
            queue_name=dead_letter_queue_name,
            holds=f"descriptions (shard and sequence numbers) of stream records that {function.spec.name} "
            "failed to process after every retry",
            key=dead_letters_key,
        )
        self.mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=function.function,
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=batch_size,
            filters=[{"pattern": json.dumps(dict(filter_pattern))}],
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=retry_attempts,
            on_failure=sources.SqsDlq(self.dead_letters.queue),
        )
        # Lambda checks the role's stream access (its catalog capability) when it creates the mapping.
        self.mapping.node.add_dependency(function.role)
        acknowledge_sender(function, dead_letter_queue_name)
