"""A deployment's settings, read from CDK context (see ``app.py`` for the list)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.catalog import CATALOG
from infra.deployment import (
    DEFAULT_DEPLOYMENT_INTERVAL_MINUTES,
    DEFAULT_DEPLOYMENT_PERCENTAGE,
    DEFAULT_DEPLOYMENT_TYPE,
    StateMachineDeployment,
)

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "ap-southeast-2"
DEFAULT_STAGE = "dev"
DEFAULT_POWERTOOLS_VERSION = "3.37.0"
DEFAULT_THROTTLE_RATE_LIMIT = 50.0
DEFAULT_THROTTLE_BURST_LIMIT = 100
DEFAULT_SIGNAL_APPLY_WAIT_SECONDS = 5.0
# Operations: the health check's thresholds (and the alarms on its metrics), recovery's retry cap.
DEFAULT_HEALTH_FAILURE_RATE_THRESHOLD = 0.1
DEFAULT_HEALTH_RUNNING_THRESHOLD = 100
DEFAULT_HEALTH_STALLED_HOURS = 24.0
DEFAULT_RECOVERY_MAX_RETRIES = 3
# S3 bucket names: 3 to 63 lowercase letters, digits and hyphens (no dots: TLS to virtual-hosted URLs).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ORIGIN = re.compile(r"^(\*|https?://[^/\s]+)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A Cognito prefix domain: lowercase letters, digits and hyphens, at most 63 characters, none of the reserved words.
DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DOMAIN_PREFIX_RESERVED = ("aws", "amazon", "cognito")


def _json_or_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class DeploymentConfig:
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    stage: str = DEFAULT_STAGE
    alert_email: str | None = None
    notification_email: str | None = None
    # Browser origins that may PUT files to the documents bucket with a presigned URL (CORS); none by default.
    upload_allowed_origins: tuple[str, ...] = ()
    # Workflow type → timeout name → seconds, overriding the lifecycle's defaults.
    lifecycle_timeouts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    api_throttle_rate_limit: float = DEFAULT_THROTTLE_RATE_LIMIT
    api_throttle_burst_limit: int = DEFAULT_THROTTLE_BURST_LIMIT
    powertools_version: str = DEFAULT_POWERTOOLS_VERSION
    powertools_layer_arn: str | None = None
    signal_apply_wait_seconds: float = DEFAULT_SIGNAL_APPLY_WAIT_SECONDS
    health_failure_rate_threshold: float = DEFAULT_HEALTH_FAILURE_RATE_THRESHOLD
    health_running_threshold: int = DEFAULT_HEALTH_RUNNING_THRESHOLD
    health_stalled_hours: float = DEFAULT_HEALTH_STALLED_HOURS
    recovery_max_retries: int = DEFAULT_RECOVERY_MAX_RETRIES
    # Escalation level → e-mail addresses that hear escalations at that level and above.
    escalation_recipients: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # An e-mail address that receives the daily report.
    report_email: str | None = None
    # Whether the stack sets the account's API Gateway CloudWatch role (AWS::ApiGateway::Account), which stage
    # logging needs: on by default, so a fresh account deploys; off where the account already has one.
    api_gateway_cloud_watch_role: bool = True
    # Whether functions get the concurrency their catalog entry reserves; an account whose Lambda concurrency
    # quota is still 10 (some new accounts) cannot reserve any until the quota is raised.
    reserved_concurrency: bool = True
    state_machine_deployment: StateMachineDeployment = field(default_factory=StateMachineDeployment)

    @property
    def name_prefix(self) -> str:
        return f"AccuWorkflows-{self.stage}"

    @property
    def documents_bucket_name(self) -> str:
        """S3 bucket names are global: the account and region make this one unique, and known to both stacks."""
        return f"accuworkflows-{self.stage}-docs-{self.account}-{self.region}".lower()

    @property
    def sign_in_domain_prefix(self) -> str:
        """The user pool's Cognito domain (``<prefix>.auth.<region>.amazoncognito.com``): prefixes are unique per
        region across all accounts, so the account's id is part of it."""
        return f"accu-{self.stage}-{self.account}".lower()

    @property
    def event_bus_name(self) -> str:
        return f"{self.name_prefix}-Events"

    def timeouts(self) -> dict[str, dict[str, int]]:
        """Workflow type → timeout name → seconds: every lifecycle's defaults with this deployment's overrides."""
        return {
            workflow_type: entry.timeouts(self.lifecycle_timeouts.get(workflow_type))
            for workflow_type, entry in CATALOG.items()
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> DeploymentConfig:
        """Context values may come from cdk.json, ``-c key=value`` (always strings) or ``App(context=...)``."""
        environ = os.environ if environ is None else environ

        def get(key: str) -> Any:
            value = context.get(key)
            return None if value in (None, "") else value

        timeouts = _json_or_value(get("lifecycleTimeouts")) or {}
        if not isinstance(timeouts, dict) or not all(isinstance(value, dict) for value in timeouts.values()):
            raise ValueError("lifecycleTimeouts must map a workflow type to {timeout name: seconds}")
        unknown = set(timeouts) - set(CATALOG)
        if unknown:
            raise ValueError(f"lifecycleTimeouts names unknown workflow types: {sorted(unknown)}")
        timeouts = {kind: {name: int(seconds) for name, seconds in values.items()} for kind, values in timeouts.items()}

        config = cls(
            account=str(get("account") or environ.get("CDK_DEFAULT_ACCOUNT") or DEFAULT_ACCOUNT),
            region=str(get("region") or environ.get("CDK_DEFAULT_REGION") or DEFAULT_REGION),
            stage=str(get("stage") or DEFAULT_STAGE),
            alert_email=get("alertEmail"),
            notification_email=get("notificationEmail"),
            upload_allowed_origins=_origins(get("uploadAllowedOrigins")),
            lifecycle_timeouts=timeouts,
            api_throttle_rate_limit=float(get("apiThrottleRateLimit") or DEFAULT_THROTTLE_RATE_LIMIT),
            api_throttle_burst_limit=int(get("apiThrottleBurstLimit") or DEFAULT_THROTTLE_BURST_LIMIT),
            powertools_version=str(get("powertoolsVersion") or DEFAULT_POWERTOOLS_VERSION),
            powertools_layer_arn=get("powertoolsLayerArn"),
            signal_apply_wait_seconds=float(get("signalApplyWaitSeconds") or DEFAULT_SIGNAL_APPLY_WAIT_SECONDS),
            health_failure_rate_threshold=_float(
                get("healthFailureRateThreshold"), DEFAULT_HEALTH_FAILURE_RATE_THRESHOLD
            ),
            health_running_threshold=_int(get("healthRunningThreshold"), DEFAULT_HEALTH_RUNNING_THRESHOLD),
            health_stalled_hours=_float(get("healthStalledHours"), DEFAULT_HEALTH_STALLED_HOURS),
            recovery_max_retries=_int(get("recoveryMaxRetries"), DEFAULT_RECOVERY_MAX_RETRIES),
            escalation_recipients=_escalation_recipients(get("escalationRecipients")),
            report_email=_email("reportEmail", get("reportEmail")),
            api_gateway_cloud_watch_role=_bool("apiGatewayCloudWatchRole", get("apiGatewayCloudWatchRole"), True),
            reserved_concurrency=_bool("reservedConcurrency", get("reservedConcurrency"), True),
            state_machine_deployment=StateMachineDeployment(
                type=str(get("stateMachineDeployment") or DEFAULT_DEPLOYMENT_TYPE).upper(),
                percentage=_int(get("stateMachineDeploymentPercentage"), DEFAULT_DEPLOYMENT_PERCENTAGE),
                interval_minutes=_int(
                    get("stateMachineDeploymentIntervalMinutes"), DEFAULT_DEPLOYMENT_INTERVAL_MINUTES
                ),
            ),
        )
        config.timeouts()  # fail at synth on a timeout name the lifecycle does not have
        if not BUCKET_NAME.match(config.documents_bucket_name) or "--" in config.documents_bucket_name:
            raise ValueError(
                f"stage {config.stage!r} makes an invalid documents bucket name {config.documents_bucket_name!r}: "
                "use letters, digits and single hyphens, and keep it short (the name has at most 63 characters)"
            )
        prefix = config.sign_in_domain_prefix
        if not DOMAIN_PREFIX.match(prefix) or any(word in prefix for word in DOMAIN_PREFIX_RESERVED):
            raise ValueError(
                f"stage {config.stage!r} makes an invalid Cognito domain prefix {prefix!r}: use letters, digits and "
                f"single hyphens, keep it short (at most 63 characters) and avoid {', '.join(DOMAIN_PREFIX_RESERVED)}"
            )
        if not 0 <= config.health_failure_rate_threshold <= 1:
            raise ValueError("healthFailureRateThreshold is a share of finished workflows: between 0 and 1")
        if config.health_running_threshold < 0 or config.recovery_max_retries < 0:
            raise ValueError("healthRunningThreshold and recoveryMaxRetries cannot be negative")
        if config.health_stalled_hours <= 0:
            raise ValueError("healthStalledHours must be positive")
        return config


def _bool(key: str, value: Any, default: bool) -> bool:
    """true/false from cdk.json or ``App(context=...)`` (a boolean) or ``-c`` (a string)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "false"):
        return str(value).strip().lower() == "true"
    raise ValueError(f"{key} must be true or false, got {value!r}")


def _float(value: Any, default: float) -> float:
    """A number from cdk.json or ``App(context=...)`` (a number) or ``-c`` (a string)."""
    return default if value is None else float(value)


def _int(value: Any, default: int) -> int:
    number = float(_float(value, default))
    if not number.is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _email(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise ValueError(f"{key} must be an e-mail address, got {value!r}")
    return value.strip()


def _escalation_recipients(value: Any) -> dict[int, tuple[str, ...]]:
    """``{"<level>": ["<address>", ...]}``, a dict (cdk.json) or JSON (``-c``); a level's single address may be a
    string. Levels are whole numbers from 1 (the workflows' ``escalationLevel`` after their first escalation)."""
    value = _json_or_value(value) or {}
    if not isinstance(value, dict):
        raise ValueError('escalationRecipients must map a level to addresses, e.g. {"1": ["ops@example.com"]}')
    recipients: dict[int, tuple[str, ...]] = {}
    for level, addresses in value.items():
        if not str(level).strip().isdigit() or int(level) < 1:
            raise ValueError(f"escalationRecipients levels are whole numbers from 1, got {level!r}")
        listed = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(listed, list | tuple):
            raise ValueError(f"escalationRecipients[{level!r}] must be a list of e-mail addresses")
        emails = [_email(f"escalationRecipients[{level!r}]", address or "") for address in listed]
        recipients[int(level)] = tuple(dict.fromkeys(email for email in emails if email))
    return dict(sorted(recipients.items()))


def _origins(value: Any) -> tuple[str, ...]:
    """A list (cdk.json, ``App(context=...)``), a JSON list or comma-separated origins (``-c``)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(origin, str) for origin in value):
        raise ValueError('uploadAllowedOrigins must be a list of origins, e.g. ["https://app.example.com"]')
    origins = tuple(origin.strip().rstrip("/") for origin in value if origin.strip())
    invalid = [origin for origin in origins if not ORIGIN.match(origin)]
    if invalid:
        raise ValueError(f"uploadAllowedOrigins has invalid origins (scheme://host[:port] or *): {invalid}")
    return origins
