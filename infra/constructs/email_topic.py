"""An SNS topic whose messages people read by e-mail: encrypted with its own KMS key, publishable over TLS only."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class EmailTopic(Construct):
    """An SNS topic (operations' alerts, or reminders to a workflow's people) encrypted with a rotating
    customer-managed KMS key, with SSL enforced by its topic policy and an optional e-mail subscription."""

    def __init__(
        self, scope: Construct, construct_id: str, *, topic_name: str, display_name: str, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the {topic_name} SNS topic",
            enable_key_rotation=True,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=topic_name,
            display_name=display_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    @property
    def topic_arn(self) -> str:
        return self.topic.topic_arn

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on this topic, and the two KMS actions SNS needs to encrypt the message with its key."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn])
        )
