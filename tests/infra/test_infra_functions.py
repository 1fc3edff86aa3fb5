"""The Lambda functions: one per catalog spec, configured as the functions' settings expect."""

from __future__ import annotations

import json

from infra.catalog import CATALOG, FUNCTIONS
from tests.infra.synthesis import ALERT_EMAIL, PLATFORM_STACK, Synthesized

SETTINGS = {
    "WORKFLOWS_TABLE_NAME",
    "ALERTS_TOPIC_ARN",
    "STATE_MACHINE_ARNS",
    "LIFECYCLE_TIMEOUTS",
    "SIGNAL_APPLY_WAIT_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}


def _functions(synthesized: Synthesized) -> dict[str, dict]:
    return {
        f["Properties"]["FunctionName"].rsplit("-", 1)[1]: f
        for f in synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK).values()
    }


def test_given_the_catalog_then_each_function_spec_becomes_one_traced_python_function(
    synthesized: Synthesized,
) -> None:
    functions = _functions(synthesized)
    assert set(functions) == set(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        properties = functions[name]["Properties"]
        assert properties["Handler"] == spec.handler
        assert properties["Runtime"] == "python3.14"
        assert properties["Timeout"] == spec.timeout_seconds
        assert properties["MemorySize"] == spec.memory_mb
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert "LogGroup" in properties["LoggingConfig"]


def test_given_each_function_then_its_environment_holds_the_settings_it_reads(synthesized: Synthesized) -> None:
    for name, function in _functions(synthesized).items():
        variables = function["Properties"]["Environment"]["Variables"]
        expected = SETTINGS | ({"IDEMPOTENCY_TABLE_NAME"} if name == "Api" else set())
        assert set(variables) == expected, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "accu-workflows"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AccuWorkflows"
        assert set(json.loads(variables["STATE_MACHINE_ARNS"])) == set(CATALOG)
        assert set(json.loads(variables["LIFECYCLE_TIMEOUTS"])) == set(CATALOG)


def test_given_the_powertools_layer_then_its_arn_is_resolved_at_deploy_time_from_the_public_ssm_parameter(
    synthesized: Synthesized,
) -> None:
    parameters = synthesized.platform["Parameters"]
    (layer_parameter,) = [
        name for name, p in parameters.items() if str(p.get("Default", "")).startswith("/aws/service/powertools/")
    ]
    assert parameters[layer_parameter]["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameters[layer_parameter]["Default"] == "/aws/service/powertools/python/x86_64/python3.14/3.37.0"
    for function in _functions(synthesized).values():
        assert function["Properties"]["Layers"] == [{"Ref": layer_parameter}]


def test_given_an_alert_email_in_context_then_the_encrypted_topic_has_that_subscription(
    synthesized: Synthesized,
) -> None:
    (topic,) = synthesized.resources("AWS::SNS::Topic", PLATFORM_STACK).values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = synthesized.resources("AWS::SNS::Subscription", PLATFORM_STACK).values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == ALERT_EMAIL
