"""The Lambda functions: one per catalog spec, configured as the functions' settings expect."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from functions.models.settings import Settings
from infra.catalog import CATALOG, FUNCTIONS, METRICS_NAMESPACE, METRICS_SERVICE
from tests.infra.synthesis import (
    ALERT_EMAIL,
    BATCHES_TABLE,
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
LOCAL_ONLY = {"s3_presign_endpoint"}
# Read outside the settings model, at import, by a handler's web layer: the Api's CORS origin (the console's).
HANDLER_VARIABLES = {"Api": {"CONSOLE_ORIGIN"}}


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
        # concurrency reserved where the catalog says a downstream quota needs a cap, and nowhere else
        assert properties.get("ReservedConcurrentExecutions") == spec.reserved_concurrency, name


def test_given_the_settings_model_then_every_setting_is_needed_by_some_function_and_named_by_one_rule() -> None:
    # Every setting the model owns is some function's (through a capability or as its tuning), none is orphaned
    used = {field for spec in FUNCTIONS.values() for field in spec.settings}
    assert used == set(Settings.model_fields)
    # and its variable is its name in capitals, read back by the functions as it was written
    values = {"workflows_table_name": "T", "state_machine_arns": {"project": "arn"}, "health_stalled_hours": 2.5}
    environment = Settings.environment(values)
    assert environment == {
        "WORKFLOWS_TABLE_NAME": "T",
        "STATE_MACHINE_ARNS": '{"project": "arn"}',
        "HEALTH_STALLED_HOURS": "2.5",
    }
    assert Settings.from_environment(environment).model_dump(include=set(values)) == values


def test_given_each_function_then_its_environment_is_exactly_the_settings_its_declaration_needs(
    synthesized: Synthesized,
) -> None:
    for name, function in _functions(synthesized).items():
        variables = function["Properties"]["Environment"]["Variables"]
        declared = {Settings.variable(field) for field in FUNCTIONS[name].settings if field not in LOCAL_ONLY}
        assert set(variables) == declared | POWERTOOLS | HANDLER_VARIABLES.get(name, set()), name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "accu-workflows"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AccuWorkflows"
        expected = {
            "WORKFLOWS_TABLE_NAME": WORKFLOWS_TABLE,
            "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
            "BATCHES_TABLE_NAME": BATCHES_TABLE,
            "DOCUMENTS_BUCKET_NAME": DOCUMENTS_BUCKET,
            "EVENT_BUS_NAME": EVENT_BUS,
        }
        for variable, value in expected.items():
            assert variables.get(variable, value) == value, (name, variable)
        for variable in ("STATE_MACHINE_ARNS", "LIFECYCLE_TIMEOUTS"):
            if variable in variables:
                assert set(json.loads(variables[variable])) == set(CATALOG), (name, variable)
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
        assert variables.get("ALERTS_TOPIC_ARN", {"Ref": topics["Alerts"]}) == {"Ref": topics["Alerts"]}
        notifications = {"Ref": topics["Notifications"]}
        assert variables.get("NOTIFICATIONS_TOPIC_ARN", notifications) == notifications
    # the functions that alert, and the one that reminds people, have their topic
    assert {
        name
        for name, f in _functions(synthesized).items()
        if "NOTIFICATIONS_TOPIC_ARN" in f["Properties"]["Environment"]["Variables"]
    } == {"OnTimeout"}


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


def test_given_the_operations_context_then_the_health_check_and_the_recovery_get_the_thresholds_and_the_cap(
    synthesized: Synthesized,
) -> None:
    functions = _functions(synthesized)

    def settings_of(name: str) -> Settings:
        variables = functions[name]["Properties"]["Environment"]["Variables"]
        return Settings.from_environment(
            {key: value if isinstance(value, str) else "arn:token" for key, value in variables.items()}
        )

    for checker in ("HealthCheck", "Api"):
        health = settings_of(checker)
        assert health.health_failure_rate_threshold == HEALTH_FAILURE_RATE_THRESHOLD, checker
        assert health.health_running_threshold == HEALTH_RUNNING_THRESHOLD, checker
        assert health.health_stalled_hours == 24, checker
    assert settings_of("FailureRecovery").recovery_max_retries == 3
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == METRICS_SERVICE, name
        # the thresholds are the health check's, and the API's (GET /operations/health answers them), alone
        assert ("HEALTH_RUNNING_THRESHOLD" in variables) == (name in ("HealthCheck", "Api")), name
