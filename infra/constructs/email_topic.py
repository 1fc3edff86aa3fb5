"""An SNS topic whose messages people read by e-mail: encrypted with its own KMS key, publishable over TLS only."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
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

    def allow_cloudwatch_alarms(self) -> None:
        """Lets this account's CloudWatch alarms notify the topic: the topic policy allows CloudWatch to publish
        for this account's alarms only, and the key policy lets it use the key (SNS encrypts the message with
        the publisher's rights)."""
        stack = Stack.of(self)
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )

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
