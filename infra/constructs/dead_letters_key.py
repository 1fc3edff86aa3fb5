"""The KMS key the dead-letter queues are encrypted with, usable by the AWS services that write to them."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What writing to (and redriving from) a queue encrypted with a customer managed key takes.
SEND_WITH_KEY = ("kms:Decrypt", "kms:GenerateDataKey")


class DeadLettersKey(Construct):
    """A rotating customer managed key for the dead-letter queues. EventBridge delivers a rule's undeliverable
    events to its target's queue itself (as the service, not with a role), so the key policy lets
    ``events.amazonaws.com`` use the key for this account's rules; the functions, the event source mapping and
    the schedules write with their roles, which are granted the key where they are granted the queue."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the platform's dead-letter queues",
            enable_key_rotation=True,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=list(SEND_WITH_KEY),
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(SEND_WITH_KEY), resources=[self.key.key_arn])
        )
