"""The catalog: one declaration of every lifecycle and function, read by the CDK stacks and the
local runtime alike, so that what runs on a laptop is what deploys.

A lifecycle's states, signals and timeout rules live in its domain module
(``functions/domain/lifecycles``); the catalog adds how it runs: its ASL file, the functions its
state machine invokes, and the substitutions that fill the ASL's ``${...}`` placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from functions.dal.dynamodb import INDEX_NEEDS_RECOVERY
from functions.domain.events import SIGNAL_REQUESTED
from functions.domain.lifecycle import Lifecycle
from functions.domain.lifecycles import accu_application, calendar, document, project

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: its logical name (used in ASL placeholders as ``${<Name>FunctionArn}``)."""

    name: str
    handler: str
    description: str
    timeout_seconds: int = 30
    memory_mb: int = 512


API = FunctionSpec("Api", "functions.handlers.api.handler", "REST API of the workflow platform", timeout_seconds=29)
OPEN_WAIT = FunctionSpec(
    "OpenWait",
    "functions.handlers.open_wait.handler",
    "Opens a lifecycle state's wait: registers the task token or applies signals kept meanwhile",
)
ON_TIMEOUT = FunctionSpec(
    "OnTimeout",
    "functions.handlers.on_timeout.handler",
    "Applies a lifecycle state's timeout: escalates or acts for the user",
)
RECORD_FAILURE = FunctionSpec(
    "RecordFailure",
    "functions.handlers.record_failure.handler",
    "Records a caught failure on the workflow before its execution fails",
)

VALIDATE_DOCUMENT = FunctionSpec(
    document.VALIDATE_DOCUMENT,
    "functions.handlers.validate_document.handler",
    "Checks a document's stored file against its declared size, SHA-256 and kind",
    timeout_seconds=120,
    memory_mb=1024,
)

PUBLISH_EVENTS = FunctionSpec(
    "PublishEvents",
    "functions.handlers.publish_events.handler",
    "Publishes one domain event per history event, from the workflows table's stream",
)
SIGNAL_INTAKE = FunctionSpec(
    "SignalIntake",
    "functions.handlers.signal_intake.handler",
    "Applies SignalRequested events from the bus with the API's signal logic, and publishes the outcome",
)

HEALTH_CHECK = FunctionSpec(
    "HealthCheck",
    "functions.handlers.health_check.handler",
    "Every 5 minutes: failure rate, running count and stalled workflows against their thresholds; metrics, alerts",
    timeout_seconds=60,
)
FAILURE_RECOVERY = FunctionSpec(
    "FailureRecovery",
    "functions.handlers.failure_recovery.handler",
    "Every hour: a recovery decision for each failed workflow (retry from its last state, or escalate)",
    timeout_seconds=300,
)
DAILY_REPORT = FunctionSpec(
    "DailyReport",
    "functions.handlers.daily_report.handler",
    "Every day: the previous day's report, stored and e-mailed to the administrators",
    timeout_seconds=60,
)
EXECUTION_STATUS = FunctionSpec(
    "ExecutionStatusChanged",
    "functions.handlers.execution_status.handler",
    "Step Functions executions that failed, timed out or were aborted: recorded on their workflow",
)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        API,
        OPEN_WAIT,
        ON_TIMEOUT,
        RECORD_FAILURE,
        VALIDATE_DOCUMENT,
        PUBLISH_EVENTS,
        SIGNAL_INTAKE,
        HEALTH_CHECK,
        FAILURE_RECOVERY,
        DAILY_REPORT,
        EXECUTION_STATUS,
    )
}
WAITS = (OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name)


def function_placeholder(function_name: str) -> str:
    return f"{function_name}FunctionArn"


def timeout_placeholder(timeout_name: str) -> str:
    return f"{timeout_name[0].upper()}{timeout_name[1:]}TimeoutSeconds"


@dataclass(frozen=True)
class LifecycleEntry:
    lifecycle: Lifecycle
    asl_file: Path
    # The construct id and name stem of the lifecycle's state machine.
    state_machine_name: str
    # The functions its state machine invokes.
    functions: tuple[str, ...]

    @property
    def type(self) -> str:
        return self.lifecycle.type

    def definition_template(self) -> str:
        return self.asl_file.read_text()

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.definition_template()))

    def timeouts(self, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
        """Timeout name → seconds: the lifecycle's defaults, with a deployment's overrides."""
        unknown = set(overrides or {}) - set(self.lifecycle.default_timeouts())
        if unknown:
            raise ValueError(f"{self.type} has no timeouts named {sorted(unknown)}")
        return {**self.lifecycle.default_timeouts(), **(overrides or {})}

    def substitutions(self, function_arns: Mapping[str, str], timeouts: Mapping[str, int]) -> dict[str, str]:
        values = {function_placeholder(name): function_arns[name] for name in self.functions}
        values.update({timeout_placeholder(name): str(int(seconds)) for name, seconds in timeouts.items()})
        return values

    def render(self, function_arns: Mapping[str, str], timeouts: Mapping[str, int]) -> str:
        """The ASL with its placeholders filled, as CloudFormation's DefinitionSubstitutions would."""
        values = self.substitutions(function_arns, timeouts)
        missing = self.placeholders() - set(values)
        if missing:
            raise KeyError(f"{self.asl_file.name} has placeholders with no substitution: {sorted(missing)}")
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], self.definition_template())


CATALOG: dict[str, LifecycleEntry] = {
    entry.type: entry
    for entry in (
        LifecycleEntry(
            lifecycle=accu_application.LIFECYCLE,
            asl_file=STATEMACHINES / "accu_application.asl.json",
            state_machine_name="AccuApplicationLifecycle",
            functions=(OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name),
        ),
        LifecycleEntry(
            lifecycle=project.LIFECYCLE,
            asl_file=STATEMACHINES / "project.asl.json",
            state_machine_name="ProjectLifecycle",
            functions=WAITS,
        ),
        LifecycleEntry(
            lifecycle=document.LIFECYCLE,
            asl_file=STATEMACHINES / "document.asl.json",
            state_machine_name="DocumentLifecycle",
            functions=(*WAITS, VALIDATE_DOCUMENT.name),
        ),
        LifecycleEntry(
            lifecycle=calendar.LIFECYCLE,
            asl_file=STATEMACHINES / "calendar.asl.json",
            state_machine_name="CalendarLifecycle",
            functions=(OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name),
        ),
    )
}


@dataclass(frozen=True)
class EventRule:
    """A rule: events matching ``pattern`` on ``bus`` (the platform's own bus, or the account's
    default bus where AWS services put theirs) go to the function ``target``."""

    name: str
    description: str
    pattern: dict[str, Any]
    target: str
    bus: Literal["platform", "default"] = "platform"


EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"

EVENT_RULES: tuple[EventRule, ...] = (
    EventRule(
        name="SignalRequested",
        description="Signals from automation, applied like the API's",
        pattern={"detail-type": [SIGNAL_REQUESTED]},
        target=SIGNAL_INTAKE.name,
    ),
    EventRule(
        name="ExecutionStatusChanged",
        description="Executions that failed, timed out or were aborted, whatever the state machine could catch",
        pattern={
            "source": ["aws.states"],
            "detail-type": [EXECUTION_STATUS_CHANGE],
            "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"]},
        },
        target=EXECUTION_STATUS.name,
        bus="default",
    ),
)


@dataclass(frozen=True)
class Schedule:
    """A schedule (EventBridge Scheduler in AWS, the local scheduler on the virtual clock)."""

    name: str
    description: str
    # rate(N minutes|hours|days) or cron(minutes hours * * ? *), in UTC
    expression: str
    target: str
    # A snapshot (the health check) says nothing a later run would not: when time is skipped over
    # many of its runs locally, the local scheduler runs it once, at the last of them.
    snapshot: bool = False
    # The index whose workflows a run acts on, and nothing else: while it is empty a run does
    # nothing, so the local scheduler need not make it (the recovery finds no failed workflow).
    acts_on_index: str | None = None


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("HealthCheck", "Health check of the platform", "rate(5 minutes)", HEALTH_CHECK.name, snapshot=True),
    Schedule(
        "FailureRecovery",
        "Recovery of failed workflows",
        "rate(1 hour)",
        FAILURE_RECOVERY.name,
        acts_on_index=INDEX_NEEDS_RECOVERY,
    ),
    Schedule("DailyReport", "The previous day's report", "cron(5 0 * * ? *)", DAILY_REPORT.name),
)

# What the health check publishes (CloudWatch embedded metric format) and the alarms watch.
METRICS_NAMESPACE = "AccuWorkflows"
METRICS_SERVICE = "accu-workflows"
METRIC_FAILURE_RATE = "FailureRate"
METRIC_RUNNING = "RunningWorkflows"
METRIC_STALLED = "StalledWorkflows"

# The workflows table's stream: only history events (new items) become domain events.
STREAM_CONSUMER = PUBLISH_EVENTS.name
STREAM_FILTER: dict[str, Any] = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "HISTORY#"}]}}}}

# Functions invoked by a state machine (the API function is invoked by API Gateway).
ACTIVITY_FUNCTIONS = sorted({name for entry in CATALOG.values() for name in entry.functions})
