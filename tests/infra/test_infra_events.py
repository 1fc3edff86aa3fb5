"""Domain events: the workflows table's stream into PublishEvents, the custom bus with its archive, and one rule
per catalog entry into its target function; every asynchronous path retries, then keeps failures in a queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.catalog import CATALOG, EVENT_RULES, STREAM_CONSUMER, STREAM_FILTER, EventRule
from infra.constructs.platform_events import event_pattern, rule_pattern
from tests.infra.synthesis import (
    EVENT_BUS,
    NAME_PREFIX,
    PLATFORM_STACK,
    STORAGE_STACK,
    Synthesized,
    state_machine_arn,
)


def _queue_id(destination: Any) -> str:
    return str(destination["Fn::GetAtt"][0])


def _mapping(synthesized: Synthesized) -> dict[str, Any]:
    (mapping,) = synthesized.resources("AWS::Lambda::EventSourceMapping", PLATFORM_STACK).values()
    return dict(mapping["Properties"])


def test_given_the_stream_consumer_then_it_reads_the_workflows_stream_with_exactly_the_catalogs_filter(
    synthesized: Synthesized,
) -> None:
    properties = _mapping(synthesized)
    assert properties["FunctionName"] == {"Ref": synthesized.function_id(STREAM_CONSUMER)}
    assert properties["EventSourceArn"]["Fn::GetStackOutput"]["StackName"] == STORAGE_STACK
    output = synthesized.storage["Outputs"][properties["EventSourceArn"]["Fn::GetStackOutput"]["OutputName"]]
    assert output["Value"]["Fn::GetAtt"][1] == "StreamArn"
    (only_filter,) = properties["FilterCriteria"]["Filters"]
    assert only_filter == {"Pattern": json.dumps(STREAM_FILTER)}
    # Lambda filters DynamoDB stream records on their dynamodb key only
    assert set(json.loads(only_filter["Pattern"])) == {"dynamodb"}
    assert properties["StartingPosition"] == "TRIM_HORIZON"


def test_given_the_stream_consumer_then_failures_are_per_record_bisected_bounded_and_kept(
    synthesized: Synthesized,
) -> None:
    properties = _mapping(synthesized)
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 0 <= properties["MaximumRetryAttempts"] <= 100
    synthesized.assert_encrypted_ssl_only_queue(_queue_id(properties["DestinationConfig"]["OnFailure"]["Destination"]))


def test_given_the_event_bus_then_it_is_the_named_custom_bus_with_an_archive(synthesized: Synthesized) -> None:
    buses = synthesized.resources("AWS::Events::EventBus", PLATFORM_STACK)
    (bus_id,) = buses
    assert buses[bus_id]["Properties"]["Name"] == EVENT_BUS
    (archive,) = synthesized.resources("AWS::Events::Archive", PLATFORM_STACK).values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["RetentionDays"] == 30  # the README promises 30 days of replay
    # no empty key id (CDK writes KmsKeyIdentifier: "" otherwise, which some regions refuse)
    assert "KmsKeyIdentifier" not in archive["Properties"]


@pytest.mark.parametrize("rule", EVENT_RULES, ids=[rule.name for rule in EVENT_RULES])
def test_given_a_catalog_event_rule_then_its_bus_has_it_targeting_its_function_with_retries_and_a_dlq(
    synthesized: Synthesized, rule: Any
) -> None:
    (bus_id,) = synthesized.resources("AWS::Events::EventBus", PLATFORM_STACK)
    matching = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule", PLATFORM_STACK).values()
        if r["Properties"]["Name"] == f"{NAME_PREFIX}-{rule.name}"
    ]
    (properties,) = matching
    if rule.bus == "platform":
        assert properties["EventBusName"] == {"Ref": bus_id}
        assert properties["EventPattern"] == rule.pattern
    else:
        # The account's default bus (no EventBusName), where AWS services put their events.
        assert properties.get("EventBusName", "default") == "default"
        pattern = properties["EventPattern"]
        assert {key: value for key, value in pattern.items() if key != "detail"} == {
            key: value for key, value in rule.pattern.items() if key != "detail"
        }
        assert {key: value for key, value in pattern["detail"].items() if key != "stateMachineArn"} == rule.pattern.get(
            "detail", {}
        )
    assert properties["State"] == "ENABLED"
    (target,) = properties["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesized.function_id(rule.target), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    synthesized.assert_encrypted_ssl_only_queue(_queue_id(target["DeadLetterConfig"]["Arn"]))


@pytest.mark.parametrize(
    "rule", [rule for rule in EVENT_RULES if rule.bus == "default"], ids=lambda rule: str(rule.name)
)
def test_given_a_default_bus_rule_on_step_functions_events_then_it_hears_only_this_stacks_state_machines(
    synthesized: Synthesized, rule: Any
) -> None:
    assert "aws.states" in rule.pattern["source"]
    (properties,) = (
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule", PLATFORM_STACK).values()
        if r["Properties"]["Name"] == f"{NAME_PREFIX}-{rule.name}"
    )
    matches = properties["EventPattern"]["detail"]["stateMachineArn"]
    arns = sorted(state_machine_arn(entry.state_machine_name) for entry in CATALOG.values())
    # each state machine's ARN, plain or qualified by a version or an alias (executions started through one)
    assert sorted(match for match in matches if isinstance(match, str)) == arns
    assert sorted(match["prefix"] for match in matches if isinstance(match, dict)) == [f"{arn}:" for arn in arns]


def test_given_the_rules_then_there_is_one_per_catalog_entry_and_each_target_may_be_invoked_by_it(
    synthesized: Synthesized,
) -> None:
    rules = synthesized.resources("AWS::Events::Rule", PLATFORM_STACK)
    assert len(rules) == len(EVENT_RULES)
    permissions = synthesized.resources("AWS::Lambda::Permission", PLATFORM_STACK).values()
    for rule_id, rule in rules.items():
        (target,) = rule["Properties"]["Targets"]
        assert any(
            p["Properties"]["Principal"] == "events.amazonaws.com"
            and p["Properties"]["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
            and p["Properties"]["FunctionName"] == target["Arn"]
            for p in permissions
        ), rule_id


def test_given_a_rules_target_function_then_its_failed_invocations_go_to_its_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in synthesized.resources("AWS::Lambda::EventInvokeConfig", PLATFORM_STACK).values()
    }
    for rule in EVENT_RULES:
        config = configs[synthesized.function_id(rule.target)]
        assert 0 <= config["MaximumRetryAttempts"] <= 2
        synthesized.assert_encrypted_ssl_only_queue(_queue_id(config["DestinationConfig"]["OnFailure"]["Destination"]))


def test_given_a_pattern_with_a_field_eventbridge_does_not_match_on_then_the_synthesis_fails() -> None:
    assert event_pattern({"detail-type": ["X"], "source": ["y"]}).detail_type == ["X"]
    with pytest.raises(ValueError, match="detail_type"):
        event_pattern({"detail_type": ["X"]})


def test_given_rules_then_only_a_default_bus_rule_on_step_functions_events_is_limited_to_the_state_machines() -> None:
    pattern = {"source": ["aws.states"], "detail": {"status": ["FAILED"]}}
    arns = ["arn:b", "arn:a"]
    scoped = rule_pattern(EventRule("R", "r", pattern, "T", bus="default"), arns)
    assert scoped == {
        "source": ["aws.states"],
        "detail": {
            "status": ["FAILED"],
            "stateMachineArn": ["arn:a", "arn:b", {"prefix": "arn:a:"}, {"prefix": "arn:b:"}],
        },
    }
    assert rule_pattern(EventRule("R", "r", pattern, "T", bus="platform"), arns) == pattern
    other = {"source": ["aws.s3"]}
    assert rule_pattern(EventRule("R", "r", other, "T", bus="default"), arns) == other
