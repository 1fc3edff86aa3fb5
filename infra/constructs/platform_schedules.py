"""The platform's recurring jobs: one EventBridge Scheduler schedule per catalog ``Schedule``, invoking its function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from infra.catalog import Schedule
from infra.constructs.dead_letter_queue import DeadLetterQueue, acknowledge_sender
from infra.constructs.dead_letters_key import DeadLettersKey
from infra.constructs.platform_function import PlatformFunction

# The catalog's expressions are in UTC.
TIME_ZONE = TimeZone.ETC_UTC
# Scheduler's delivery to Lambda (throttling, Lambda unavailable), then Lambda's asynchronous invocation (the
# function failed): each retried, both bounded.
DELIVERY_RETRY_ATTEMPTS = 3
DELIVERY_MAX_EVENT_AGE = Duration.minutes(15)
INVOCATION_RETRY_ATTEMPTS = 2
INVOCATION_MAX_EVENT_AGE = Duration.hours(1)
# Every schedule is in the account's default schedule group.
SCHEDULE_GROUP = "default"


class PlatformSchedules(Construct):
    """For each catalog schedule: a schedule in the default group (the catalog's expression in UTC, no flexible
    time window) whose target invokes the function with ``{"schedule": "<name>"}``. Each schedule has a role of
    its own that Scheduler may assume for this account's default schedule group only, and that may invoke only
    the schedule's function (no qualifier) and write to its dead-letter queue. An invocation Scheduler could not
    deliver after its retries goes to that queue, and so does one the function failed on after Lambda's retries.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        schedules: Sequence[Schedule],
        functions: Mapping[str, PlatformFunction],
        dead_letters_key: DeadLettersKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        group_arn = stack.format_arn(service="scheduler", resource="schedule-group", resource_name=SCHEDULE_GROUP)
        targets = [schedule.target for schedule in schedules]
        repeated = sorted({target for target in targets if targets.count(target) > 1})
        if repeated:
            raise ValueError(f"one schedule per function: {repeated} are the target of several schedules")

        self.schedules: dict[str, scheduler.Schedule] = {}
        self.roles: dict[str, iam.Role] = {}
        self.dead_letters: dict[str, DeadLetterQueue] = {}
        for schedule in schedules:
            function = functions[schedule.target]
            queue = DeadLetterQueue(
                self,
                f"{schedule.name}DeadLetters",
                queue_name=f"{name_prefix}-{schedule.name}Schedule-DeadLetters",
                holds=f"invocations of {schedule.target} by the {schedule.name} schedule that Scheduler could not "
                f"deliver, and invocation records of runs {schedule.target} failed after Lambda's retries",
                key=dead_letters_key.key,
            )
            role = iam.Role(
                self,
                f"{schedule.name}Role",
                assumed_by=iam.ServicePrincipal(
                    "scheduler.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group_arn}},
                ),
                description=f"Lets the {name_prefix}-{schedule.name} schedule invoke {schedule.target}",
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn])
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue.queue_arn])
            )
            dead_letters_key.grant_send(role)
            # The target would also grant InvokeFunction on every version and alias (<arn>:*): the role's policy
            # is the one above, and the target's grants are dropped.
            target = scheduler_targets.LambdaInvoke(
                function.function,
                role=role.without_policy_updates(),
                input=scheduler.ScheduleTargetInput.from_object({"schedule": schedule.name}),
                dead_letter_queue=queue.queue,
                retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                max_event_age=DELIVERY_MAX_EVENT_AGE,
            )
            self.schedules[schedule.name] = scheduler.Schedule(
                self,
                f"{schedule.name}Schedule",
                schedule_name=f"{name_prefix}-{schedule.name}",
                description=schedule.description,
                schedule=scheduler.ScheduleExpression.expression(schedule.expression, TIME_ZONE),
                target=target,
                time_window=scheduler.TimeWindow.off(),
                enabled=True,
            )
            lambda_.EventInvokeConfig(
                self,
                f"{schedule.name}Invocations",
                function=function.function,
                retry_attempts=INVOCATION_RETRY_ATTEMPTS,
                max_event_age=INVOCATION_MAX_EVENT_AGE,
                on_failure=destinations.SqsDestination(queue.queue),
            )
            self.roles[schedule.name] = role
            self.dead_letters[schedule.name] = queue
            acknowledge_sender(function, queue.queue.queue_name)
