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
}
STORAGE_STACK = f"AccuWorkflows-{STAGE}-Storage"
PLATFORM_STACK = f"AccuWorkflows-{STAGE}-Platform"
WORKFLOWS_TABLE = f"AccuWorkflows-{STAGE}-Workflows"
IDEMPOTENCY_TABLE = f"AccuWorkflows-{STAGE}-Idempotency"
EVENT_BUS = f"AccuWorkflows-{STAGE}-Events"
DOCUMENTS_BUCKET = f"accuworkflows-{STAGE}-docs-{ACCOUNT}-{REGION}"


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
        """Catalog function name → (logical id, resource), of the platform's Lambda functions."""
        return {
            f["Properties"]["FunctionName"].rsplit("-", 1)[1]: (logical_id, f)
            for logical_id, f in self.resources("AWS::Lambda::Function", PLATFORM_STACK).items()
        }

    def function_id(self, name: str) -> str:
        return self.functions()[name][0]
