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
