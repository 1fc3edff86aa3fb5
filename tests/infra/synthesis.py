"""What the infra tests share: the context the app is synthesized with, and the synthesized templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
STAGE = "test"
ALERT_EMAIL = "alerts@example.com"
NOTIFICATION_EMAIL = "people@example.com"
# Escalation level → recipients (each hears escalations at that level and above), and the daily report's.
ESCALATION_RECIPIENTS = {"1": ["ops@example.com"], "2": ["lead@example.com"], "3": ["director@example.com"]}
REPORT_EMAIL = "admins@example.com"
# Health thresholds other than the defaults, to see them reach both the alarms and the functions.
HEALTH_FAILURE_RATE_THRESHOLD = 0.2
HEALTH_RUNNING_THRESHOLD = 250
UPLOAD_ALLOWED_ORIGINS = ["https://workflows.example.com", "http://localhost:5173"]
# A deployment's override of one catalog timeout, to see it reach both the ASL and the functions.
REVIEWER_ASSIGNMENT_SECONDS = 3600
CONTEXT: dict[str, Any] = {
    "account": ACCOUNT,
    "region": REGION,
    "stage": STAGE,
    "alertEmail": ALERT_EMAIL,
    "notificationEmail": NOTIFICATION_EMAIL,
    "uploadAllowedOrigins": UPLOAD_ALLOWED_ORIGINS,
    "lifecycleTimeouts": {"accu-application": {"reviewerAssignment": REVIEWER_ASSIGNMENT_SECONDS}},
    "apiThrottleRateLimit": 25,
    "apiThrottleBurstLimit": 40,
    "escalationRecipients": ESCALATION_RECIPIENTS,
    "reportEmail": REPORT_EMAIL,
    "healthFailureRateThreshold": HEALTH_FAILURE_RATE_THRESHOLD,
    "healthRunningThreshold": HEALTH_RUNNING_THRESHOLD,
}
STORAGE_STACK = f"AccuWorkflows-{STAGE}-Storage"
PLATFORM_STACK = f"AccuWorkflows-{STAGE}-Platform"
WORKFLOWS_TABLE = f"AccuWorkflows-{STAGE}-Workflows"
IDEMPOTENCY_TABLE = f"AccuWorkflows-{STAGE}-Idempotency"
BATCHES_TABLE = f"AccuWorkflows-{STAGE}-Batches"
EVENT_BUS = f"AccuWorkflows-{STAGE}-Events"
DOCUMENTS_BUCKET = f"accuworkflows-{STAGE}-docs-{ACCOUNT}-{REGION}"
NAME_PREFIX = f"AccuWorkflows-{STAGE}"


def template_text(node: Any) -> str:
    """A template value as text: intrinsics written <LogicalId>, <LogicalId.Attribute>, <AWS::Pseudo>,
    <output of Stack>; anything else refused."""
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return f"<{node['Ref']}>"
    if "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    if "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(template_text(item) for item in items)
    if "Fn::GetStackOutput" in node:
        return f"<output of {node['Fn::GetStackOutput']['StackName']}>"
    raise ValueError(f"cannot read {node!r}")


def state_machine_arn(state_machine_name: str) -> str:
    """The ARN of a lifecycle's state machine (its catalog ``state_machine_name``), as deployed by the test app."""
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{PLATFORM_STACK}-{state_machine_name}"


@dataclass(frozen=True)
class Synthesized:
    app: Any  # aws_cdk.App, synthesized
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name → CloudFormation template
    template_files: dict[str, Path]

    @property
    def storage(self) -> dict[str, Any]:
        return self.templates[STORAGE_STACK]

    @property
    def platform(self) -> dict[str, Any]:
        return self.templates[PLATFORM_STACK]

    def resources(self, resource_type: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        """Logical id → resource, of one type, in one stack or all of them."""
        found: dict[str, dict[str, Any]] = {}
        for name, template in self.templates.items():
            if stack is None or name == stack:
                found.update(
                    {
                        logical_id: resource
                        for logical_id, resource in template["Resources"].items()
                        if resource["Type"] == resource_type
                    }
                )
        return found

    def functions(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Catalog function name → (logical id, resource), of the platform's Lambda functions (named
        ``<prefix>-<name>``; not CDK's own, such as the console's BucketDeployment handler)."""
        return {
            f["Properties"]["FunctionName"].rsplit("-", 1)[1]: (logical_id, f)
            for logical_id, f in self.resources("AWS::Lambda::Function", PLATFORM_STACK).items()
            if str(f["Properties"].get("FunctionName", "")).startswith(f"{NAME_PREFIX}-")
        }

    def function_id(self, name: str) -> str:
        return self.functions()[name][0]

    def topic_id(self, name: str) -> str:
        """The logical id of the platform's ``<prefix>-<name>`` SNS topic (Alerts, Notifications)."""
        (logical_id,) = (
            logical_id
            for logical_id, topic in self.resources("AWS::SNS::Topic", PLATFORM_STACK).items()
            if topic["Properties"]["TopicName"] == f"{NAME_PREFIX}-{name}"
        )
        return logical_id

    def assert_encrypted_ssl_only_queue(self, queue_id: str) -> None:
        """The queue keeps messages 14 days, is encrypted and refuses requests without TLS (a DeadLetterQueue)."""
        queues = self.resources("AWS::SQS::Queue", PLATFORM_STACK)
        properties = queues[queue_id]["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, queue_id
        assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
        denials = [
            statement
            for policy in self.resources("AWS::SQS::QueuePolicy", PLATFORM_STACK).values()
            if {"Ref": queue_id} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denials, queue_id
