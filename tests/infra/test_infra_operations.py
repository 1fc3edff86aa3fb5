"""Operations: the catalog's schedules, the alarms (to the alerts topic), the dashboard, and who hears which alert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.catalog import (
    FUNCTIONS,
    METRIC_FAILURE_RATE,
    METRIC_RUNNING,
    METRIC_STALLED,
    METRICS_NAMESPACE,
    METRICS_SERVICE,
    SCHEDULES,
    STATE_MACHINE_ENTRIES,
    Schedule,
)
from infra.constructs.alert_recipients import escalation_filter, filter_policies, report_filter
from tests.infra.synthesis import (
    ALERT_EMAIL,
    ESCALATION_RECIPIENTS,
    HEALTH_FAILURE_RATE_THRESHOLD,
    HEALTH_RUNNING_THRESHOLD,
    NAME_PREFIX,
    PLATFORM_STACK,
    REPORT_EMAIL,
    STAGE,
    Synthesized,
)

AT_LEAST_ONE = "GreaterThanOrEqualToThreshold"
ABOVE = "GreaterThanThreshold"


def _schedule(synthesized: Synthesized, schedule: Schedule) -> dict[str, Any]:
    (properties,) = (
        s["Properties"]
        for s in synthesized.resources("AWS::Scheduler::Schedule", PLATFORM_STACK).values()
        if s["Properties"]["Name"] == f"{NAME_PREFIX}-{schedule.name}"
    )
    return dict(properties)


def _alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Alarm name without the prefix → properties."""
    return {
        a["Properties"]["AlarmName"].removeprefix(f"{NAME_PREFIX}-"): a["Properties"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm", PLATFORM_STACK).values()
    }


def _dimensions(properties: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in properties["Dimensions"]}


def _assert_alarm(
    properties: dict[str, Any], synthesized: Synthesized, namespace: str, metric: str, comparison: str, threshold: float
) -> None:
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert properties["ComparisonOperator"] == comparison
    assert properties["Threshold"] == pytest.approx(threshold)
    assert properties["Period"] == 300
    assert properties["EvaluationPeriods"] == 1
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["AlarmActions"] == [{"Ref": synthesized.topic_id("Alerts")}]


def _state_machine_ids(synthesized: Synthesized) -> dict[str, str]:
    """Catalog state machine name → logical id."""
    return {
        m["Properties"]["StateMachineName"].removeprefix(f"{PLATFORM_STACK}-"): logical_id
        for logical_id, m in synthesized.resources("AWS::StepFunctions::StateMachine", PLATFORM_STACK).items()
    }


# Schedules


def test_given_the_catalog_then_there_is_one_schedule_per_entry(synthesized: Synthesized) -> None:
    names = {s["Properties"]["Name"] for s in synthesized.resources("AWS::Scheduler::Schedule").values()}
    assert names == {f"{NAME_PREFIX}-{schedule.name}" for schedule in SCHEDULES}


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[schedule.name for schedule in SCHEDULES])
def test_given_a_catalog_schedule_then_it_invokes_its_function_in_utc_with_retries_and_a_dlq(
    synthesized: Synthesized, schedule: Schedule
) -> None:
    properties = _schedule(synthesized, schedule)
    assert properties["ScheduleExpression"] == schedule.expression
    assert properties["ScheduleExpressionTimezone"] in ("UTC", "Etc/UTC")
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert properties.get("State", "ENABLED") == "ENABLED"
    assert "GroupName" not in properties  # the default schedule group, which the role's trust names
    target = properties["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesized.function_id(schedule.target), "Arn"]}
    assert json.loads(target["Input"]) == {"schedule": schedule.name}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    synthesized.assert_encrypted_ssl_only_queue(target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[schedule.name for schedule in SCHEDULES])
def test_given_a_scheduled_function_then_the_runs_it_failed_go_to_the_schedules_dead_letter_queue(
    synthesized: Synthesized, schedule: Schedule
) -> None:
    queue = _schedule(synthesized, schedule)["Target"]["DeadLetterConfig"]["Arn"]
    (config,) = (
        c["Properties"]
        for c in synthesized.resources("AWS::Lambda::EventInvokeConfig", PLATFORM_STACK).values()
        if c["Properties"]["FunctionName"] == {"Ref": synthesized.function_id(schedule.target)}
    )
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue


# Alarms


@pytest.mark.parametrize(
    ("metric", "comparison", "threshold"),
    [
        # Published in percent; the threshold is a fraction.
        (METRIC_FAILURE_RATE, ABOVE, HEALTH_FAILURE_RATE_THRESHOLD * 100),
        (METRIC_RUNNING, ABOVE, HEALTH_RUNNING_THRESHOLD),
        (METRIC_STALLED, AT_LEAST_ONE, 1),
    ],
)
def test_given_a_health_metric_then_an_alarm_on_the_services_metric_notifies_the_alerts_topic(
    synthesized: Synthesized, metric: str, comparison: str, threshold: float
) -> None:
    alarm = _alarms(synthesized)[metric]
    _assert_alarm(alarm, synthesized, METRICS_NAMESPACE, metric, comparison, threshold)
    assert _dimensions(alarm) == {"service": METRICS_SERVICE}


def test_given_each_state_machine_then_failed_and_timed_out_executions_raise_an_alarm(
    synthesized: Synthesized,
) -> None:
    alarms = _alarms(synthesized)
    machines = _state_machine_ids(synthesized)
    for entry in STATE_MACHINE_ENTRIES:
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
            alarm = alarms[f"{entry.state_machine_name}-{metric}"]
            _assert_alarm(alarm, synthesized, "AWS/States", metric, AT_LEAST_ONE, 1)
            assert _dimensions(alarm) == {"StateMachineArn": {"Ref": machines[entry.state_machine_name]}}


def test_given_each_function_then_errors_and_throttles_raise_an_alarm(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    for name in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"{name}-{metric}"]
            _assert_alarm(alarm, synthesized, "AWS/Lambda", metric, AT_LEAST_ONE, 1)
            assert _dimensions(alarm) == {"FunctionName": {"Ref": synthesized.function_id(name)}}


def test_given_the_api_then_server_errors_of_its_stage_raise_an_alarm(synthesized: Synthesized) -> None:
    alarm = _alarms(synthesized)["Api-5XXError"]
    _assert_alarm(alarm, synthesized, "AWS/ApiGateway", "5XXError", AT_LEAST_ONE, 1)
    (stage_id,) = synthesized.resources("AWS::ApiGateway::Stage", PLATFORM_STACK)
    assert _dimensions(alarm) == {"ApiName": f"{NAME_PREFIX}-Api", "Stage": {"Ref": stage_id}}
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage", PLATFORM_STACK).values()
    assert stage["Properties"]["StageName"] == STAGE


def test_given_each_dead_letter_queue_then_a_waiting_message_raises_an_alarm(synthesized: Synthesized) -> None:
    queues = set(synthesized.resources("AWS::SQS::Queue", PLATFORM_STACK))
    watched = set()
    for alarm in _alarms(synthesized).values():
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible":
            _assert_alarm(alarm, synthesized, "AWS/SQS", "ApproximateNumberOfMessagesVisible", AT_LEAST_ONE, 1)
            queue_name = _dimensions(alarm)["QueueName"]
            assert queue_name["Fn::GetAtt"][1] == "QueueName"
            watched.add(queue_name["Fn::GetAtt"][0])
    assert watched == queues


def test_given_the_alarms_then_there_are_exactly_those_and_all_notify_the_alerts_topic(
    synthesized: Synthesized,
) -> None:
    queues = synthesized.resources("AWS::SQS::Queue", PLATFORM_STACK)
    expected = 3 + 2 * len(STATE_MACHINE_ENTRIES) + 2 * len(FUNCTIONS) + 1 + len(queues)
    assert len(_alarms(synthesized)) == expected


def test_given_the_alerts_topic_then_cloudwatch_alarms_of_this_account_may_publish_with_its_key(
    synthesized: Synthesized,
) -> None:
    topic_id = synthesized.topic_id("Alerts")
    (policy,) = (
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::SNS::TopicPolicy", PLATFORM_STACK).values()
        if p["Properties"]["Topics"] == [{"Ref": topic_id}]
    )
    (allow,) = (s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert ":cloudwatch:" in allow["Condition"]["ArnLike"]["aws:SourceArn"]
    topic = synthesized.resources("AWS::SNS::Topic", PLATFORM_STACK)[topic_id]
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = synthesized.resources("AWS::KMS::Key", PLATFORM_STACK)[key_id]
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        for s in key["Properties"]["KeyPolicy"]["Statement"]
    )


# Dashboard


def test_given_the_platform_then_one_operations_dashboard_shows_the_metrics_and_the_alarms(
    synthesized: Synthesized,
) -> None:
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard", PLATFORM_STACK).values()
    assert dashboard["Properties"]["DashboardName"] == f"{NAME_PREFIX}-Operations"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for text in (
        METRICS_NAMESPACE,
        METRIC_FAILURE_RATE,
        METRIC_RUNNING,
        METRIC_STALLED,
        "ExecutionsStarted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "AWS/Lambda",
        "Errors",
        "Throttles",
        "Duration",
        "4XXError",
        "5XXError",
        "Latency",
        "ApproximateNumberOfMessagesVisible",
        '\\"type\\":\\"alarm\\"',
    ):
        assert text in body, text
    for alarm_id in synthesized.resources("AWS::CloudWatch::Alarm", PLATFORM_STACK):
        assert alarm_id in body, alarm_id


# Who hears which alert


def _alert_subscriptions(synthesized: Synthesized) -> dict[str, Any]:
    """Address → filter policy (None: every alert), of the alerts topic's e-mail subscriptions."""
    topic_id = synthesized.topic_id("Alerts")
    return {
        s["Properties"]["Endpoint"]: s["Properties"].get("FilterPolicy")
        for s in synthesized.resources("AWS::SNS::Subscription", PLATFORM_STACK).values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id} and s["Properties"]["Protocol"] == "email"
    }


def test_given_escalation_recipients_then_each_hears_escalations_at_its_level_and_above(
    synthesized: Synthesized,
) -> None:
    subscriptions = _alert_subscriptions(synthesized)
    for level, addresses in ESCALATION_RECIPIENTS.items():
        for address in addresses:
            assert subscriptions[address] == {
                "kind": ["escalation"],
                "escalationLevel": [{"numeric": [">=", int(level)]}],
            }, address


def test_given_the_alert_and_report_addresses_then_one_hears_everything_and_the_other_the_reports(
    synthesized: Synthesized,
) -> None:
    subscriptions = _alert_subscriptions(synthesized)
    assert subscriptions[ALERT_EMAIL] is None
    assert subscriptions[REPORT_EMAIL] == {"kind": ["report"]}
    escalations = {address for addresses in ESCALATION_RECIPIENTS.values() for address in addresses}
    assert set(subscriptions) == {ALERT_EMAIL, REPORT_EMAIL, *escalations}


def test_given_an_address_named_more_than_once_then_it_has_one_subscription_with_the_union_of_its_filters() -> None:
    policies = filter_policies(
        everything="ops@example.com",
        escalation_recipients={1: ["Ops@example.com", "lead@example.com"], 2: ["lead@example.com", "boss@x.org"]},
        report_email="boss@x.org",
    )
    assert policies == {
        "ops@example.com": None,
        "lead@example.com": escalation_filter(1),
        "boss@x.org": {"$or": [escalation_filter(2), report_filter()]},
    }
    assert filter_policies(everything=None, escalation_recipients={}, report_email=None) == {}
