"""Reading a deployment's context (no synthesis)."""

from __future__ import annotations

import pytest

from infra.stacks.config import DeploymentConfig


def test_given_no_context_and_no_environment_then_the_defaults_apply() -> None:
    config = DeploymentConfig.from_context({}, environ={})
    assert (config.account, config.region, config.stage) == ("123456789012", "ap-southeast-2", "dev")
    assert config.alert_email is None
    assert config.powertools_version == "3.37.0"
    assert config.name_prefix == "AccuWorkflows-dev"


def test_given_cdk_default_environment_variables_then_they_name_the_account_and_region() -> None:
    config = DeploymentConfig.from_context(
        {}, environ={"CDK_DEFAULT_ACCOUNT": "111122223333", "CDK_DEFAULT_REGION": "us-east-1"}
    )
    assert (config.account, config.region) == ("111122223333", "us-east-1")


def test_given_cli_strings_then_numbers_and_json_are_parsed() -> None:
    config = DeploymentConfig.from_context(
        {
            "apiThrottleRateLimit": "10",
            "apiThrottleBurstLimit": "20",
            "lifecycleTimeouts": '{"accu-application": {"reviewDecision": "60"}}',
        },
        environ={},
    )
    assert (config.api_throttle_rate_limit, config.api_throttle_burst_limit) == (10.0, 20)
    assert config.timeouts()["accu-application"]["reviewDecision"] == 60


@pytest.mark.parametrize(
    "timeouts",
    [{"no-such-lifecycle": {"reviewDecision": 60}}, {"accu-application": {"noSuchTimeout": 60}}, '["not a map"]'],
)
def test_given_unknown_lifecycle_timeouts_then_reading_the_context_fails(timeouts: object) -> None:
    with pytest.raises(ValueError):
        DeploymentConfig.from_context({"lifecycleTimeouts": timeouts}, environ={})


def test_given_no_context_then_there_is_no_notification_subscription_and_no_upload_origin() -> None:
    config = DeploymentConfig.from_context({}, environ={})
    assert config.notification_email is None
    assert config.upload_allowed_origins == ()
    assert config.documents_bucket_name == "accuworkflows-dev-docs-123456789012-ap-southeast-2"
    assert config.event_bus_name == "AccuWorkflows-dev-Events"


@pytest.mark.parametrize(
    "origins",
    [
        ["https://app.example.com", "http://localhost:5173"],
        '["https://app.example.com", "http://localhost:5173"]',
        "https://app.example.com, http://localhost:5173/",
    ],
)
def test_given_upload_origins_as_a_list_json_or_cli_string_then_they_are_read(origins: object) -> None:
    config = DeploymentConfig.from_context({"uploadAllowedOrigins": origins, "notificationEmail": "a@b.c"}, environ={})
    assert config.upload_allowed_origins == ("https://app.example.com", "http://localhost:5173")
    assert config.notification_email == "a@b.c"


@pytest.mark.parametrize("origins", [["app.example.com"], ["https://app.example.com/path"], '{"a": 1}', [1]])
def test_given_invalid_upload_origins_then_reading_the_context_fails(origins: object) -> None:
    with pytest.raises(ValueError):
        DeploymentConfig.from_context({"uploadAllowedOrigins": origins}, environ={})


@pytest.mark.parametrize("stage", ["a-very-long-stage-name-indeed", "dev_1", "-dev"])
def test_given_a_stage_that_cannot_name_the_documents_bucket_then_reading_the_context_fails(stage: str) -> None:
    with pytest.raises(ValueError, match="documents bucket"):
        DeploymentConfig.from_context({"stage": stage}, environ={})


def test_given_no_operations_context_then_the_thresholds_are_the_settings_defaults() -> None:
    from functions.models.settings import Settings

    config = DeploymentConfig.from_context({}, environ={})
    defaults = Settings(workflows_table_name="t")
    assert config.health_failure_rate_threshold == defaults.health_failure_rate_threshold
    assert config.health_running_threshold == defaults.health_running_threshold
    assert config.health_stalled_hours == defaults.health_stalled_hours
    assert config.recovery_max_retries == defaults.recovery_max_retries
    assert config.escalation_recipients == {}
    assert config.report_email is None


def test_given_operations_context_as_cli_strings_then_numbers_and_recipients_are_parsed() -> None:
    config = DeploymentConfig.from_context(
        {
            "healthFailureRateThreshold": "0.25",
            "healthRunningThreshold": "40",
            "healthStalledHours": "12",
            "recoveryMaxRetries": "0",
            "escalationRecipients": '{"2": ["lead@example.com"], "1": "ops@example.com"}',
            "reportEmail": "admins@example.com",
        },
        environ={},
    )
    assert config.health_failure_rate_threshold == 0.25
    assert config.health_running_threshold == 40
    assert config.health_stalled_hours == 12
    assert config.recovery_max_retries == 0
    assert config.escalation_recipients == {1: ("ops@example.com",), 2: ("lead@example.com",)}
    assert config.report_email == "admins@example.com"


@pytest.mark.parametrize(
    "context",
    [
        {"healthFailureRateThreshold": 1.5},
        {"healthRunningThreshold": -1},
        {"healthRunningThreshold": 2.5},
        {"healthStalledHours": 0},
        {"recoveryMaxRetries": -1},
        {"escalationRecipients": {"0": ["ops@example.com"]}},
        {"escalationRecipients": {"first": ["ops@example.com"]}},
        {"escalationRecipients": {"1": ["not an address"]}},
        {"escalationRecipients": {"1": [None]}},
        {"escalationRecipients": '["ops@example.com"]'},
        {"reportEmail": "nobody"},
    ],
)
def test_given_invalid_operations_context_then_reading_the_context_fails(context: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DeploymentConfig.from_context(context, environ={})


@pytest.mark.parametrize(("given", "expected"), [(None, True), ("false", False), ("true", True), (False, False)])
def test_given_the_account_options_as_context_then_they_are_read(given: object, expected: bool) -> None:
    config = DeploymentConfig.from_context(
        {"apiGatewayCloudWatchRole": given, "reservedConcurrency": given}, environ={}
    )
    assert config.api_gateway_cloud_watch_role is expected
    assert config.reserved_concurrency is expected
    with pytest.raises(ValueError, match="apiGatewayCloudWatchRole must be true or false"):
        DeploymentConfig.from_context({"apiGatewayCloudWatchRole": "maybe"}, environ={})


def test_given_a_linear_deployment_in_context_then_each_alias_moves_by_its_steps() -> None:
    config = DeploymentConfig.from_context(
        {
            "stateMachineDeployment": "linear",
            "stateMachineDeploymentPercentage": "25",
            "stateMachineDeploymentIntervalMinutes": "30",
        },
        environ={},
    )
    deployment = config.state_machine_deployment
    assert (deployment.type, deployment.percentage, deployment.interval_minutes) == ("LINEAR", 25, 30)
    assert DeploymentConfig.from_context({}, environ={}).state_machine_deployment.type == "CANARY"


@pytest.mark.parametrize(
    ("context", "says"),
    [
        ({"stateMachineDeployment": "blue-green"}, "CANARY, LINEAR, ALL_AT_ONCE"),
        ({"stateMachineDeploymentPercentage": "100"}, "1 to 99"),
        ({"stateMachineDeploymentIntervalMinutes": "0"}, "1 to 2100"),
    ],
)
def test_given_a_deployment_preference_cloudformation_would_refuse_then_synthesis_fails(context, says) -> None:
    with pytest.raises(ValueError, match=says):
        DeploymentConfig.from_context(context, environ={})
