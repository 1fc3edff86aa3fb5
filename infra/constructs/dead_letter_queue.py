"""Where an asynchronous delivery goes when every retry failed: an encrypted, TLS-only SQS queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge

# SQS's longest retention: time to look at a failure and redrive it.
RETENTION = Duration.days(14)


class DeadLetterQueue(Construct):
    """An SQS queue that keeps what ``holds`` describes for 14 days, encrypted with SQS-managed keys (which
    EventBridge and Lambda can write to without a key policy) and refusing requests without TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, queue_name: str, holds: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            f"This queue is itself a dead-letter queue: it holds {holds}. Nothing consumes it automatically, so "
            "it needs no dead-letter queue of its own; operators inspect and redrive its messages.",
        )
