"""The platform's EventBridge bus (domain events out, SignalRequested in) and the catalog's rules, on that bus or on
the account's default bus (where AWS services put their events)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from infra.catalog import EventRule
from infra.constructs.dead_letter_queue import DeadLetterQueue, acknowledge_sender
from infra.constructs.platform_function import PlatformFunction

# An event pattern's top-level fields (a rule's pattern in the catalog), as EventPattern's arguments.
PATTERN_FIELDS = {
    "account": "account",
    "detail": "detail",
    "detail-type": "detail_type",
    "id": "id",
    "region": "region",
    "resources": "resources",
    "source": "source",
    "time": "time",
    "version": "version",
}
# EventBridge's delivery to a target, then Lambda's asynchronous invocation: each retried, both bounded.
DELIVERY_RETRY_ATTEMPTS = 8
DELIVERY_MAX_EVENT_AGE = Duration.hours(1)
INVOCATION_RETRY_ATTEMPTS = 2
INVOCATION_MAX_EVENT_AGE = Duration.hours(1)


STEP_FUNCTIONS_SOURCE = "aws.states"


def rule_pattern(rule: EventRule, state_machine_arns: Sequence[str]) -> dict[str, Any]:
    """The catalog rule's pattern; on the default bus, a rule on Step Functions events hears only the events of
    ``state_machine_arns`` (``detail.stateMachineArn``, unqualified or qualified by a version or alias), not those
    of the account's other state machines."""
    pattern = dict(rule.pattern)
    if rule.bus == "default" and STEP_FUNCTIONS_SOURCE in pattern.get("source", ()):
        detail = dict(pattern.get("detail", {}))
        if "stateMachineArn" in detail:
            raise ValueError(f"rule {rule.name}: the stack sets detail.stateMachineArn to its own state machines")
        # An execution started through a version or an alias may name its state machine by a qualified ARN
        # (<state machine ARN>:<version or alias>): both forms match, of these state machines only.
        matches: list[Any] = sorted(state_machine_arns)
        matches += [{"prefix": f"{arn}:"} for arn in sorted(state_machine_arns)]
        pattern["detail"] = {**detail, "stateMachineArn": matches}
    return pattern


def event_bus_arn(scope: Construct, event_bus_name: str) -> str:
    """A bus's ARN from its (explicit) name: functions made before the bus may be granted it."""
    return Stack.of(scope).format_arn(service="events", resource="event-bus", resource_name=event_bus_name)


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """A catalog rule's pattern (EventBridge's JSON form) as CDK's EventPattern, field by field."""
    unknown = set(pattern) - set(PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern has fields EventBridge does not match on: {sorted(unknown)}")
    return events.EventPattern(**{PATTERN_FIELDS[field]: value for field, value in pattern.items()})


class PlatformEvents(Construct):
    """A custom event bus with an archive (events can be replayed within ``archive_retention``) and, for each
    catalog rule, a rule on that bus or on the account's default bus that invokes its target function (a default
    bus rule on Step Functions events is limited to ``state_machine_arns``). Delivery is retried, then goes to
    the target's dead-letter queue; so does an event whose invocation failed after Lambda's own retries."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        event_bus_name: str,
        name_prefix: str,
        rules: Sequence[EventRule],
        functions: Mapping[str, PlatformFunction],
        archive_retention: Duration,
        state_machine_arns: Sequence[str],
        dead_letters_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=event_bus_name, description="ACCU workflow events")
        self.archive = self.bus.archive(
            "Archive",
            description=f"Every event on {event_bus_name}, for replay",
            event_pattern=events.EventPattern(account=[Stack.of(self).account]),
            retention=archive_retention,
        )
        # CDK writes KmsKeyIdentifier: "" when no key is given, which some regions refuse (aws/aws-cdk#37847);
        # without the property the archive is encrypted with an AWS owned key.
        cfn_archive = self.archive.node.default_child
        assert isinstance(cfn_archive, events.CfnArchive)
        cfn_archive.add_property_deletion_override("KmsKeyIdentifier")

        # One dead-letter queue per target function: what it was never given, and what it failed to apply.
        self.dead_letters: dict[str, DeadLetterQueue] = {}
        bus_names = {"platform": event_bus_name, "default": "the default event bus"}
        for target in dict.fromkeys(rule.target for rule in rules):
            function = functions[target]
            sources = " and ".join(dict.fromkeys(bus_names[rule.bus] for rule in rules if rule.target == target))
            queue = DeadLetterQueue(
                self,
                f"{target}DeadLetters",
                queue_name=f"{name_prefix}-{target}-DeadLetters",
                holds=f"events from {sources} that EventBridge could not deliver to {target}, and "
                f"invocation records of events {target} failed on after Lambda's retries",
                key=dead_letters_key,
            )
            lambda_.EventInvokeConfig(
                self,
                f"{target}Invocations",
                function=function.function,
                retry_attempts=INVOCATION_RETRY_ATTEMPTS,
                max_event_age=INVOCATION_MAX_EVENT_AGE,
                on_failure=destinations.SqsDestination(queue.queue),
            )
            self.dead_letters[target] = queue
            acknowledge_sender(function, queue.queue.queue_name)

        self.rules: dict[str, events.Rule] = {}
        for rule in rules:
            self.rules[rule.name] = events.Rule(
                self,
                f"{rule.name}Rule",
                rule_name=f"{name_prefix}-{rule.name}",
                description=rule.description,
                # No bus: the account's default event bus.
                event_bus=self.bus if rule.bus == "platform" else None,
                event_pattern=event_pattern(rule_pattern(rule, state_machine_arns)),
                targets=[
                    targets.LambdaFunction(
                        functions[rule.target].function,
                        dead_letter_queue=self.dead_letters[rule.target].queue,
                        retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                        max_event_age=DELIVERY_MAX_EVENT_AGE,
                    )
                ],
            )

    @property
    def event_bus_arn(self) -> str:
        return self.bus.event_bus_arn
