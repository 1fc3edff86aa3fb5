"""Where an asynchronous delivery goes when every retry failed: an encrypted, TLS-only SQS queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge

# SQS's longest retention: time to look at a failure and redrive it.
RETENTION = Duration.days(14)


class DeadLetterQueue(Construct):
    """An SQS queue that keeps what ``holds`` describes for 14 days, encrypted with the platform's dead-letters
    key (a customer managed key: EventBridge cannot write to a queue encrypted with the AWS managed one) and
    refusing requests without TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, queue_name: str, holds: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            f"This queue is itself a dead-letter queue: it holds {holds}. Nothing consumes it automatically, so "
            "it needs no dead-letter queue of its own; operators inspect and redrive its messages.",
        )


# What CDK grants a writer of a queue encrypted with a customer managed key (``Queue.grant_send_messages``).
KEY_WILDCARD_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def acknowledge_sender(scope: Construct, queue_name: str) -> None:
    """The findings on the wildcard KMS actions CDK grants a role that writes to a dead-letter queue."""
    for action in KEY_WILDCARD_ACTIONS:
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Action::{action}]",
            f"CDK grants a writer of an encrypted queue ({queue_name}) the KMS data-key actions as {action}: "
            "limited to the one dead-letters key, which encrypts nothing but the platform's dead-letter queues.",
        )
