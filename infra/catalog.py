"""The catalog: one declaration of every lifecycle and function, read by the CDK stacks and the
local runtime alike, so that what runs on a laptop is what deploys.

A lifecycle's states, signals and timeout rules live in its domain module
(``functions/domain/lifecycles``); the catalog adds how it runs: its ASL file, the functions its
state machine invokes, and the substitutions that fill the ASL's ``${...}`` placeholders.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from functions.dal.dynamodb import INDEX_NEEDS_RECOVERY, INDEX_STALLED
from functions.domain.events import SIGNAL_REQUESTED
from functions.domain.lifecycle import Lifecycle
from functions.domain.lifecycles import accu_application, calendar, document, project

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class Grant:
    """IAM actions on one of the platform's resources (named here, given ARNs by the stacks)."""

    actions: tuple[str, ...]
    resource: str


@dataclass(frozen=True)
class Capability:
    """Something a function does with AWS: the IAM actions it takes, on which of the platform's
    resources, and the settings (``functions/models/settings.py``) it needs for it. A function's
    role and environment are made from its capabilities and nothing else."""

    name: str
    grants: tuple[Grant, ...]
    settings: tuple[str, ...] = ()


# The platform's resources a capability acts on; the stacks give each its ARNs. Resources whose
# actions offer no resource type in the Service Authorization Reference are "*", with the reason.
WORKFLOWS_TABLE = "workflows table and its indexes"
WORKFLOWS_TABLE_ITEMS = "workflows table"
WORKFLOWS_STREAM = "workflows table's stream"
BATCHES_TABLE = "batches table"
BATCH_STATE_MACHINE = "batch operation state machine"
IDEMPOTENCY_TABLE = "idempotency table"
STATE_MACHINES = "lifecycle state machines"
EXECUTIONS = "lifecycle executions"
TASK_TOKENS = "task tokens"
ALERTS_TOPIC = "alerts topic"
NOTIFICATIONS_TOPIC = "notifications topic"
EVENT_BUS = "platform event bus"
ALERTS_KEY = "alerts topic's key"
NOTIFICATIONS_KEY = "notifications topic's key"
UPLOADS = "documents bucket's uploads/"
STREAM_LISTING = "stream listing"
ANY_RESOURCE = {
    STREAM_LISTING: "dynamodb:ListStreams, which Lambda's DynamoDB event source requires of the function's role, "
    "supports no resource-level permissions: Resource '*'. It lists stream ARNs only; reading records is granted "
    "on the one stream.",
    TASK_TOKENS: "states:SendTaskSuccess has no resource type in the Service Authorization Reference (a task "
    "token names its execution; Step Functions authorises the call on the token, not on an ARN): Resource '*'.",
}

READS_WORKFLOWS = Capability(
    "reads workflows",
    (Grant(("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"), WORKFLOWS_TABLE),),
    ("workflows_table_name", "lifecycle_timeouts"),
)
# Transactions (TransactWriteItems) are authorised item by item as Put, Update and ConditionCheck.
# Nothing in the platform deletes a workflow, an event or a kept signal: no DeleteItem.
WRITES_WORKFLOWS = Capability(
    "writes workflows",
    (Grant(("dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), WORKFLOWS_TABLE_ITEMS),),
    ("workflows_table_name", "lifecycle_timeouts", "signal_apply_wait_seconds"),
)
# Lambda's event source mapping reads the stream with the function's role; ListStreams has no resource type.
READS_WORKFLOWS_STREAM = Capability(
    "reads the workflows stream",
    (
        Grant(("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"), WORKFLOWS_STREAM),
        Grant(("dynamodb:ListStreams",), STREAM_LISTING),
    ),
)
# Powertools' idempotency: a record per request, deleted when the request failed (so a retry runs).
KEEPS_IDEMPOTENCY_RECORDS = Capability(
    "keeps idempotency records",
    (Grant(("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), IDEMPOTENCY_TABLE),),
    ("idempotency_table_name",),
)
# Step Functions authorises StartExecution through a version or alias on the state machine's own ARN.
STARTS_EXECUTIONS = Capability(
    "starts executions",
    (Grant(("states:StartExecution",), STATE_MACHINES),),
    ("state_machine_arns", "lifecycle_timeouts"),
)
COMPLETES_WAITS = Capability("completes waits", (Grant(("states:SendTaskSuccess",), TASK_TOKENS),))
STOPS_EXECUTIONS = Capability(
    "stops executions", (Grant(("states:StopExecution",), EXECUTIONS),), ("state_machine_arns",)
)
# The topics are encrypted with their own keys: publishing encrypts the message with the topic's key.
ENCRYPTS_WITH = ("kms:Decrypt", "kms:GenerateDataKey")
PUBLISHES_ALERTS = Capability(
    "publishes alerts",
    (Grant(("sns:Publish",), ALERTS_TOPIC), Grant(ENCRYPTS_WITH, ALERTS_KEY)),
    ("alerts_topic_arn",),
)
PUBLISHES_NOTIFICATIONS = Capability(
    "publishes notifications",
    (Grant(("sns:Publish",), NOTIFICATIONS_TOPIC), Grant(ENCRYPTS_WITH, NOTIFICATIONS_KEY)),
    ("notifications_topic_arn",),
)
PUTS_EVENTS = Capability("puts events", (Grant(("events:PutEvents",), EVENT_BUS),), ("event_bus_name",))
# A batch's record, its claims and outcomes (functions/dal/batches.py); nothing deletes them.
RUNS_BATCHES = Capability(
    "runs batches",
    (
        Grant(
            (
                "dynamodb:ConditionCheckItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ),
            BATCHES_TABLE,
        ),
    ),
    ("batches_table_name",),
)
STARTS_BATCHES = Capability(
    "starts batches", (Grant(("states:StartExecution",), BATCH_STATE_MACHINE),), ("batch_state_machine_arn",)
)
READS_DOCUMENTS = Capability("reads documents", (Grant(("s3:GetObject",), UPLOADS),), ("documents_bucket_name",))
# A presigned URL carries its signer's rights: the API's role must be allowed the upload itself.
PRESIGNS_UPLOADS = Capability(
    "presigns uploads", (Grant(("s3:PutObject",), UPLOADS),), ("documents_bucket_name", "s3_presign_endpoint")
)
CAPABILITIES: dict[str, Capability] = {
    capability.name: capability
    for capability in (
        READS_WORKFLOWS,
        WRITES_WORKFLOWS,
        READS_WORKFLOWS_STREAM,
        KEEPS_IDEMPOTENCY_RECORDS,
        STARTS_EXECUTIONS,
        COMPLETES_WAITS,
        STOPS_EXECUTIONS,
        PUBLISHES_ALERTS,
        PUBLISHES_NOTIFICATIONS,
        PUTS_EVENTS,
        READS_DOCUMENTS,
        PRESIGNS_UPLOADS,
        RUNS_BATCHES,
        STARTS_BATCHES,
    )
}
# What moving workflows takes: a change commits, a new workflow (a follow-up, a retry, a
# continuation) starts its execution, a moved workflow's open wait is completed, failures alert.
MOVES_WORKFLOWS = (READS_WORKFLOWS, WRITES_WORKFLOWS, STARTS_EXECUTIONS, COMPLETES_WAITS, PUBLISHES_ALERTS)


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: its logical name (used in ASL placeholders as ``"${<Name>FunctionArn}"``),
    what it may do (``may``), and the settings that tune it besides (``tuned_by``)."""

    name: str
    handler: str
    description: str
    may: tuple[Capability, ...]
    tuned_by: tuple[str, ...] = ()
    timeout_seconds: int = 30
    memory_mb: int = 512
    # Concurrent runs reserved (and so capped), where what it calls has a quota to respect: None, the
    # account's shared pool. ``reason`` says why, either way.
    reserved_concurrency: int | None = None
    concurrency_reason: str = (
        "Runs as often as its callers ask (API Gateway's stage throttle, Step Functions' own task rate): no "
        "downstream quota needs a cap, and a reservation would take concurrency from the account's shared pool."
    )

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings fields its environment carries: its capabilities' and its own."""
        fields = [name for capability in self.may for name in capability.settings]
        return tuple(dict.fromkeys([*fields, *self.tuned_by]))

    def actions(self) -> dict[str, set[str]]:
        """Resource → the IAM actions it may take on it."""
        granted: dict[str, set[str]] = {}
        for capability in self.may:
            for grant in capability.grants:
                granted.setdefault(grant.resource, set()).update(grant.actions)
        return granted


HEALTH_SETTINGS = ("health_failure_rate_threshold", "health_running_threshold", "health_stalled_hours")

# API Gateway ends an integration at 29 s: the function ends first, so its own error is what the client reads.
API = FunctionSpec(
    "Api",
    "functions.handlers.api.handler",
    "REST API of the workflow platform",
    may=(*MOVES_WORKFLOWS, STOPS_EXECUTIONS, KEEPS_IDEMPOTENCY_RECORDS, PRESIGNS_UPLOADS, RUNS_BATCHES, STARTS_BATCHES),
    tuned_by=HEALTH_SETTINGS,  # GET /operations/health: the checks against this deployment's thresholds
    timeout_seconds=25,
)
OPEN_WAIT = FunctionSpec(
    "OpenWait",
    "functions.handlers.open_wait.handler",
    "Opens a lifecycle state's wait: registers the task token, applies signals kept meanwhile, or continues the "
    "workflow in a new execution",
    may=MOVES_WORKFLOWS,
)
ON_TIMEOUT = FunctionSpec(
    "OnTimeout",
    "functions.handlers.on_timeout.handler",
    "Applies a lifecycle state's timeout (escalates or acts for the user), or continues the workflow in a new "
    "execution",
    may=(*MOVES_WORKFLOWS, PUBLISHES_NOTIFICATIONS),
)
RECORD_FAILURE = FunctionSpec(
    "RecordFailure",
    "functions.handlers.record_failure.handler",
    "Records a caught failure on the workflow before its execution fails",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, PUBLISHES_ALERTS),
)

VALIDATE_DOCUMENT = FunctionSpec(
    document.VALIDATE_DOCUMENT,
    "functions.handlers.validate_document.handler",
    "Checks a document's stored file against its declared size, SHA-256 and kind",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, READS_DOCUMENTS),
    timeout_seconds=120,
    memory_mb=1024,
)

PUBLISH_EVENTS = FunctionSpec(
    "PublishEvents",
    "functions.handlers.publish_events.handler",
    "Publishes one domain event per history event, from the workflows table's stream",
    may=(READS_WORKFLOWS_STREAM, PUTS_EVENTS),
)
SIGNAL_INTAKE = FunctionSpec(
    "SignalIntake",
    "functions.handlers.signal_intake.handler",
    "Applies SignalRequested events from the bus with the API's signal logic, and publishes the outcome",
    may=(*MOVES_WORKFLOWS, KEEPS_IDEMPOTENCY_RECORDS, PUTS_EVENTS),
    reserved_concurrency=10,
    concurrency_reason="A burst of automation's SignalRequested events would start and complete executions faster "
    "than Step Functions' StartExecution and SendTaskSuccess quotas refill; capped, Lambda keeps the events queued "
    "(asynchronous invocation) and applies them as capacity frees.",
)

HEALTH_CHECK = FunctionSpec(
    "HealthCheck",
    "functions.handlers.health_check.handler",
    "Every 5 minutes: failure rate, running count and stalled workflows against their thresholds; metrics, alerts",
    may=(READS_WORKFLOWS, PUBLISHES_ALERTS),
    tuned_by=HEALTH_SETTINGS,
    timeout_seconds=60,
)
FAILURE_RECOVERY = FunctionSpec(
    "FailureRecovery",
    "functions.handlers.failure_recovery.handler",
    "Every hour: a recovery decision for each failed workflow (retry from its last state, or escalate)",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, STARTS_EXECUTIONS, PUBLISHES_ALERTS),
    tuned_by=("recovery_max_retries",),
    timeout_seconds=300,
    reserved_concurrency=1,
    concurrency_reason="One recovery run at a time: a retried schedule delivery must not run beside the run it "
    "repeats, both starting executions for the same failed workflows against Step Functions' StartExecution quota.",
)
RELEASE_WAITS = FunctionSpec(
    "ReleaseWaits",
    "functions.handlers.release_waits.handler",
    "Every minute: completes again the waits whose transition was committed but whose completion failed",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, COMPLETES_WAITS),
    timeout_seconds=120,
    reserved_concurrency=1,
    concurrency_reason="One reconciliation at a time: two runs would send the same completions twice (Step "
    "Functions takes each once, so nothing moves twice, but the second is wasted against the SendTaskSuccess quota).",
)
DAILY_REPORT = FunctionSpec(
    "DailyReport",
    "functions.handlers.daily_report.handler",
    "Every day: the previous day's report, stored and e-mailed to the administrators",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, PUBLISHES_ALERTS),
    timeout_seconds=60,
    reserved_concurrency=1,
    concurrency_reason="One report run at a time: a repeated delivery of the schedule must not e-mail the same "
    "report twice at once (SNS publishes are not idempotent).",
)
# A step acts for a minute at most (functions/domain/batches.py); the rest is margin for its last workflow.
RUN_BATCH = FunctionSpec(
    "RunBatch",
    "functions.handlers.run_batch.handler",
    "A step of a batch operation: counts the workflows its filter matches, or acts on the next of them at its rate",
    may=(*MOVES_WORKFLOWS, STOPS_EXECUTIONS, RUNS_BATCHES, STARTS_BATCHES),
    timeout_seconds=120,
)
EXECUTION_STATUS = FunctionSpec(
    "ExecutionStatusChanged",
    "functions.handlers.execution_status.handler",
    "Step Functions executions that failed, timed out or were aborted: recorded on their workflow",
    may=(READS_WORKFLOWS, WRITES_WORKFLOWS, PUBLISHES_ALERTS),
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
        RELEASE_WAITS,
        DAILY_REPORT,
        EXECUTION_STATUS,
        RUN_BATCH,
    )
}
WAITS = (OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name)


def function_placeholder(function_name: str) -> str:
    return f"{function_name}FunctionArn"


@dataclass(frozen=True)
class StateMachineEntry:
    """A state machine of the catalog: its ASL file, the construct id and name stem of its state machine,
    the functions it invokes, and what it is (the state machine's comment)."""

    asl_file: Path
    state_machine_name: str
    functions: tuple[str, ...]
    description: str

    def definition_template(self) -> str:
        return self.asl_file.read_text()

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.definition_template()))

    def substitutions(self, function_arns: Mapping[str, str]) -> dict[str, str]:
        """Placeholder → value: the ARNs of the functions the state machine invokes."""
        return {function_placeholder(name): function_arns[name] for name in self.functions}

    def render(self, function_arns: Mapping[str, str], template: str | None = None) -> str:
        """The ASL (the catalog's file, or another template of this state machine) with its placeholders
        filled, as CloudFormation's DefinitionSubstitutions would."""
        template = self.definition_template() if template is None else template
        values = self.substitutions(function_arns)
        missing = set(PLACEHOLDER.findall(template)) - set(values)
        if missing:
            raise KeyError(f"{self.asl_file.name} has placeholders with no substitution: {sorted(missing)}")
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


@dataclass(frozen=True)
class LifecycleEntry(StateMachineEntry):
    """A lifecycle's state machine. Timeouts are not written into its definition: each wait's length
    travels with the execution (``waitSeconds``), so that a new execution continues a state's timers
    (``functions/domain/executions.py``)."""

    lifecycle: Lifecycle = dataclasses.field(kw_only=True)

    @property
    def type(self) -> str:
        return self.lifecycle.type

    def timeouts(self, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
        """Timeout name → seconds: the lifecycle's defaults, with a deployment's overrides."""
        unknown = set(overrides or {}) - set(self.lifecycle.default_timeouts())
        if unknown:
            raise ValueError(f"{self.type} has no timeouts named {sorted(unknown)}")
        return {**self.lifecycle.default_timeouts(), **(overrides or {})}


ROUTER_STATE = "Route"


def transitions_of(state: Mapping[str, Any]) -> set[str]:
    """The states a state may go to next (Next, Default, each choice's and each catcher's Next)."""
    names = {state.get("Next"), state.get("Default")}
    names |= {choice.get("Next") for choice in state.get("Choices", [])}
    names |= {catcher.get("Next") for catcher in state.get("Catch", [])}
    return {str(name) for name in names if name}


def definition_problems(definition: Mapping[str, Any]) -> list[str]:
    """What Step Functions would refuse in a definition's structure: a StartAt or a transition naming
    no state (checked before a local deploy, as CreateStateMachine checks it in AWS)."""
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        return ["States must name at least one state"]
    problems = [] if definition.get("StartAt") in states else [f"StartAt {definition.get('StartAt')!r} is no state"]
    for name, state in states.items():
        problems += [f"{name}: Next {target!r} is no state" for target in sorted(transitions_of(state) - set(states))]
    return problems


def routed_statuses(definition: Mapping[str, Any]) -> set[str]:
    """The workflow statuses a lifecycle's definition knows: those its router sends somewhere."""
    router = definition.get("States", {}).get(ROUTER_STATE, {})
    return {choice["StringEquals"] for choice in router.get("Choices", []) if "StringEquals" in choice}


CATALOG: dict[str, LifecycleEntry] = {
    entry.type: entry
    for entry in (
        LifecycleEntry(
            lifecycle=accu_application.LIFECYCLE,
            asl_file=STATEMACHINES / "accu_application.asl.json",
            state_machine_name="AccuApplicationLifecycle",
            description="The accu-application lifecycle",
            functions=(OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name),
        ),
        LifecycleEntry(
            lifecycle=project.LIFECYCLE,
            asl_file=STATEMACHINES / "project.asl.json",
            state_machine_name="ProjectLifecycle",
            description="The project lifecycle",
            functions=WAITS,
        ),
        LifecycleEntry(
            lifecycle=document.LIFECYCLE,
            asl_file=STATEMACHINES / "document.asl.json",
            state_machine_name="DocumentLifecycle",
            description="The document lifecycle",
            functions=(*WAITS, VALIDATE_DOCUMENT.name),
        ),
        LifecycleEntry(
            lifecycle=calendar.LIFECYCLE,
            asl_file=STATEMACHINES / "calendar.asl.json",
            state_machine_name="CalendarLifecycle",
            description="The calendar lifecycle",
            functions=(OPEN_WAIT.name, ON_TIMEOUT.name, RECORD_FAILURE.name),
        ),
    )
}


# The platform's own workflow: batch operations (functions/service/batches.py), deployed and run like a
# lifecycle's state machine (a version behind the live alias, logs, tracing, alarms).
BATCH_OPERATION = StateMachineEntry(
    asl_file=STATEMACHINES / "batch_operation.asl.json",
    state_machine_name="BatchOperation",
    functions=(RUN_BATCH.name,),
    description="Batch operations on workflows",
)
STATE_MACHINE_ENTRIES: tuple[StateMachineEntry, ...] = (*CATALOG.values(), BATCH_OPERATION)


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
    # A snapshot's run does what the runs before it would have (the health check reports the present;
    # the reconciliation completes every wait still left): when time is skipped over many of its runs
    # locally, the local scheduler runs it once, at the last of them.
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
    Schedule(
        "ReleaseWaits",
        "Completion of the waits a failed completion left open",
        "rate(1 minute)",
        RELEASE_WAITS.name,
        snapshot=True,
        acts_on_index=INDEX_STALLED,
    ),
    Schedule("DailyReport", "The previous day's report", "cron(5 0 * * ? *)", DAILY_REPORT.name),
)

# What the health check publishes (CloudWatch embedded metric format) and the alarms watch.
METRICS_NAMESPACE = "AccuWorkflows"
# The alias of each lifecycle's state machine that new executions start on (each deploy moves it to
# the version it publishes; running executions stay on the version they started on).
LIVE_ALIAS = "live"
METRICS_SERVICE = "accu-workflows"
METRIC_FAILURE_RATE = "FailureRate"
METRIC_RUNNING = "RunningWorkflows"
METRIC_STALLED = "StalledWorkflows"

# The workflows table's stream: only history events (new items) become domain events.
STREAM_CONSUMER = PUBLISH_EVENTS.name
# Lambda filters a DynamoDB stream on its records' ``dynamodb`` key only ("DynamoDB event source mappings only
# support filtering on the dynamodb key"): history items, which are only ever inserted.
STREAM_FILTER: dict[str, Any] = {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "HISTORY#"}]}}}}

# Functions invoked by a state machine (the API function is invoked by API Gateway).
ACTIVITY_FUNCTIONS = sorted({name for entry in STATE_MACHINE_ENTRIES for name in entry.functions})
