"""Builds the CDK app: both stacks of a stage, with cdk-nag's AwsSolutions checks as a validation plugin."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.catalog import ROOT
from infra.stacks.config import DeploymentConfig
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.storage_stack import StorageStack

CDK_JSON = ROOT / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """cdk.json's context (defaults and feature flags). The CDK CLI passes it to the app itself; reading it here
    too makes ``python app.py`` and the tests synthesize exactly what ``cdk synth`` does."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app, not yet synthesized. ``context`` overrides cdk.json's (the CLI's ``-c`` overrides both)."""
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    config = DeploymentConfig.from_context({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    env = Environment(account=config.account, region=config.region)

    storage = StorageStack(
        app,
        f"{config.name_prefix}-Storage",
        config=config,
        env=env,
        description="ACCU workflow platform: workflow and idempotency tables, documents bucket (stateful)",
        termination_protection=True,
        tags=_tags(config),
    )
    platform = PlatformStack(
        app,
        f"{config.name_prefix}-Platform",
        config=config,
        workflows_table=storage.tables.workflows,
        workflows_stream_arn=storage.tables.workflows_stream_arn,
        idempotency_table=storage.tables.idempotency,
        batches_table=storage.tables.batches,
        documents_bucket=storage.documents.ref,
        env=env,
        description="ACCU workflow platform: functions, lifecycle state machines, topics, event bus and REST API",
        tags=_tags(config),
    )
    # The platform reaches the tables and the bucket by name, and reads the stream ARN: deploy them first.
    platform.add_stack_dependency(storage)

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


CONTEXT_KEYS = (
    "account",
    "region",
    "stage",
    "alertEmail",
    "notificationEmail",
    "uploadAllowedOrigins",
    "lifecycleTimeouts",
    "apiThrottleRateLimit",
    "apiThrottleBurstLimit",
    "powertoolsVersion",
    "powertoolsLayerArn",
    "signalApplyWaitSeconds",
    "healthFailureRateThreshold",
    "healthRunningThreshold",
    "healthStalledHours",
    "recoveryMaxRetries",
    "escalationRecipients",
    "reportEmail",
    "apiGatewayCloudWatchRole",
    "reservedConcurrency",
    "stateMachineDeployment",
    "stateMachineDeploymentPercentage",
    "stateMachineDeploymentIntervalMinutes",
)


def _tags(config: DeploymentConfig) -> dict[str, str]:
    return {"Application": "accu-workflows", "Stage": config.stage}
