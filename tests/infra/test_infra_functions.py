"""The Lambda functions: one per catalog spec, configured as the functions' settings expect."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import textwrap
from typing import Any

from functions.models.settings import Settings
from infra.catalog import CATALOG, FUNCTIONS, METRICS_NAMESPACE, METRICS_SERVICE, SIGNAL_INTAKE
from tests.infra.synthesis import (
    ALERT_EMAIL,
    DOCUMENTS_BUCKET,
    ESCALATION_RECIPIENTS,
    EVENT_BUS,
    HEALTH_FAILURE_RATE_THRESHOLD,
    HEALTH_RUNNING_THRESHOLD,
    IDEMPOTENCY_TABLE,
    NOTIFICATION_EMAIL,
    PLATFORM_STACK,
    REPORT_EMAIL,
    WORKFLOWS_TABLE,
    Synthesized,
)

POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
# Read by the functions, set only by the local runtime (presigned URLs that name the emulated endpoint).
LOCAL_ONLY = {"S3_PRESIGN_ENDPOINT"}
# Functions that keep idempotency records: the API's requests and the bus's SignalRequested events.
IDEMPOTENT = {"Api", SIGNAL_INTAKE.name}


def _settings_read() -> set[str]:
    """The environment variables Settings.from_environment reads: the values of its ``names`` mapping."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(Settings.from_environment)))
    (mapping,) = (
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "names" for target in node.targets)
        and isinstance(node.value, ast.Dict)
    )
    assert isinstance(mapping, ast.Dict)
    return {value.value for value in mapping.values if isinstance(value, ast.Constant) and isinstance(value.value, str)}


def _functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {name: resource for name, (_, resource) in synthesized.functions().items()}


def test_given_the_catalog_then_each_function_spec_becomes_one_traced_python_function(
    synthesized: Synthesized,
) -> None:
    functions = _functions(synthesized)
    assert set(functions) == set(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        properties = functions[name]["Properties"]
        assert properties["Handler"] == spec.handler
        module, _, attribute = spec.handler.rpartition(".")
        assert attribute == "handler" and importlib.util.find_spec(module) is not None, spec.handler
        assert properties["Runtime"] == "python3.14"
        assert properties["Timeout"] == spec.timeout_seconds
        assert properties["MemorySize"] == spec.memory_mb
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert "LogGroup" in properties["LoggingConfig"]


def test_given_the_settings_module_then_the_infra_knows_every_variable_it_reads() -> None:
    read = _settings_read()
    assert "WORKFLOWS_TABLE_NAME" in read and "EVENT_BUS_NAME" in read
    assert read >= LOCAL_ONLY


def test_given_each_function_then_its_environment_holds_every_setting_the_functions_read(
    synthesized: Synthesized,
) -> None:
    read = _settings_read()
    for name, function in _functions(synthesized).items():
        variables = function["Properties"]["Environment"]["Variables"]
        expected = (read - LOCAL_ONLY - {"IDEMPOTENCY_TABLE_NAME"}) | POWERTOOLS
        if name in IDEMPOTENT:
            expected |= {"IDEMPOTENCY_TABLE_NAME"}
        assert set(variables) == expected, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "accu-workflows"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AccuWorkflows"
        assert variables["WORKFLOWS_TABLE_NAME"] == WORKFLOWS_TABLE
        assert variables.get("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE) == IDEMPOTENCY_TABLE
        assert variables["DOCUMENTS_BUCKET_NAME"] == DOCUMENTS_BUCKET
        assert variables["EVENT_BUS_NAME"] == EVENT_BUS
        assert set(json.loads(variables["STATE_MACHINE_ARNS"])) == set(CATALOG)
        assert set(json.loads(variables["LIFECYCLE_TIMEOUTS"])) == set(CATALOG)
        # The settings model accepts what the stack sets (tokens stand in for deploy-time ARNs).
        resolved = {key: value if isinstance(value, str) else "arn:token" for key, value in variables.items()}
        Settings.from_environment(resolved)


def test_given_the_topic_variables_then_they_name_the_alerts_and_the_notifications_topic(
    synthesized: Synthesized,
) -> None:
    topics = {
        topic["Properties"]["TopicName"].rsplit("-", 1)[1]: logical_id
        for logical_id, topic in synthesized.resources("AWS::SNS::Topic", PLATFORM_STACK).items()
    }
    assert set(topics) == {"Alerts", "Notifications"}
    for function in _functions(synthesized).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["ALERTS_TOPIC_ARN"] == {"Ref": topics["Alerts"]}
        assert variables["NOTIFICATIONS_TOPIC_ARN"] == {"Ref": topics["Notifications"]}


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


def test_given_e_mail_addresses_in_context_then_each_encrypted_ssl_only_topic_has_its_subscriptions(
    synthesized: Synthesized,
) -> None:
    topics = synthesized.resources("AWS::SNS::Topic", PLATFORM_STACK)
    assert len(topics) == 2
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    subscribed: dict[str, set[tuple[str, str]]] = {}
    for s in synthesized.resources("AWS::SNS::Subscription", PLATFORM_STACK).values():
        name = topics[s["Properties"]["TopicArn"]["Ref"]]["Properties"]["TopicName"].rsplit("-", 1)[1]
        subscribed.setdefault(name, set()).add((s["Properties"]["Protocol"], s["Properties"]["Endpoint"]))
    escalations = {address for addresses in ESCALATION_RECIPIENTS.values() for address in addresses}
    assert subscribed == {
        "Alerts": {("email", address) for address in {ALERT_EMAIL, REPORT_EMAIL, *escalations}},
        "Notifications": {("email", NOTIFICATION_EMAIL)},
    }
    ssl_only = {
        topic_ref["Ref"]
        for policy in synthesized.resources("AWS::SNS::TopicPolicy", PLATFORM_STACK).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for topic_ref in policy["Properties"]["Topics"]
    }
    assert ssl_only == set(topics)


def test_given_the_operations_context_then_every_function_gets_the_thresholds_and_the_retry_cap(
    synthesized: Synthesized,
) -> None:
    for name, function in _functions(synthesized).items():
        variables = function["Properties"]["Environment"]["Variables"]
        settings = Settings.from_environment(
            {key: value if isinstance(value, str) else "arn:token" for key, value in variables.items()}
        )
        assert settings.health_failure_rate_threshold == HEALTH_FAILURE_RATE_THRESHOLD, name
        assert settings.health_running_threshold == HEALTH_RUNNING_THRESHOLD, name
        assert settings.health_stalled_hours == 24, name
        assert settings.recovery_max_retries == 3, name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == METRICS_SERVICE, name
