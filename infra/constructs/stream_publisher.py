"""A function fed by a DynamoDB stream: filtered, partial batch responses, bounded retries, failures kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge
from infra.constructs.dead_letter_queue import DeadLetterQueue
from infra.constructs.platform_function import PlatformFunction

STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


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
        batch_size: int = 100,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = DeadLetterQueue(
            self,
            "DeadLetters",
            queue_name=dead_letter_queue_name,
            holds=f"descriptions (shard and sequence numbers) of stream records that {function.spec.name} "
            "failed to process after every retry",
        )
        # A policy of its own, that the mapping waits for: Lambda checks the role's stream access on creation.
        self.read_policy = iam.Policy(
            self,
            "StreamReadPolicy",
            roles=[function.role],
            statements=[
                iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream_arn]),
                iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]),
            ],
        )
        acknowledge(
            self.read_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams, which Lambda's DynamoDB event source requires of the function's role, supports "
            "no resource-level permissions: IAM requires Resource '*'. It lists stream ARNs only; reading records "
            "(GetRecords, GetShardIterator, DescribeStream) is granted on this one stream.",
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
        self.mapping.node.add_dependency(self.read_policy)
