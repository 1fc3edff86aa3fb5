"""The whole platform on one machine: moto's embedded AWS, the catalog's state machines and
functions, the same handlers, one virtual clock. Used by ``make local`` and by the tests.
"""

from __future__ import annotations

import base64
import dataclasses
import gc
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from functions import clock as platform_clock
from functions import dependencies
from functions.dal.dynamodb import INDEXES, KEY_ATTRIBUTES, workflow_pk
from functions.domain.migration import version_number
from functions.models.settings import Settings
from functions.service.ports import ListFilter
from infra.catalog import (
    API,
    BATCH_OPERATION,
    CATALOG,
    EVENT_RULES,
    LIVE_ALIAS,
    METRICS_NAMESPACE,
    METRICS_SERVICE,
    definition_problems,
)
from infra.local import clock as virtual
from infra.local import moto_dynamodb, moto_patches, moto_stepfunctions, permissions, persistence
from infra.local.events import EventRouter, StreamPump, route_puts_to
from infra.local.faults import FailingCompletions, FaultPlan
from infra.local.lambda_environment import LambdaEnvironment
from infra.local.lambdas import InProcessLambdas
from infra.local.names import (
    ACCOUNT,
    BATCHES_TABLE,
    IDEMPOTENCY_TABLE,
    MIGRATIONS_TABLE,
    REGION,
    WORKFLOWS_TABLE,
    local_state_machine_name,
)
from infra.local.outbox import Outbox
from infra.local.scheduler import LocalScheduler

ALERTS_TOPIC = "accu-local-alerts"
NOTIFICATIONS_TOPIC = "accu-local-notifications"
DOCUMENTS_BUCKET = "accu-local-documents"
EVENT_BUS = "accu-local-workflows"
DEFAULT_ADMIN_EMAILS = ("operations@accu.local",)
DEFAULT_PEOPLE_EMAILS = ("people@accu.local",)
# Escalation recipients by level (each hears escalations at its level and above) and report readers.
DEFAULT_ESCALATION_RECIPIENTS = {1: ("duty-manager@accu.local",), 2: ("head-of-registry@accu.local",)}
DEFAULT_REPORT_EMAILS = ("administrators@accu.local",)
# A running platform writes a snapshot of what changed at most this often (and when it stops).
SAVE_EVERY_SECONDS = 5.0
RESUME_TIMEOUT_SECONDS = 30 * 60.0

# The process environment the handlers read; set before anything builds a client.
BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "TZ": "UTC",  # moto compares Wait timestamps with naive local time
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": METRICS_SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


class InvalidDefinition(ValueError):
    """A definition Step Functions would refuse (checked locally, as CreateStateMachine checks it)."""


@dataclass
class LocalPlatform:
    region: str = REGION
    outbox_dir: Path | None = None
    timeout_overrides: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    signal_apply_wait_seconds: float = 5.0
    admin_emails: tuple[str, ...] = DEFAULT_ADMIN_EMAILS
    people_emails: tuple[str, ...] = DEFAULT_PEOPLE_EMAILS
    escalation_recipients: Mapping[int, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_ESCALATION_RECIPIENTS)
    )
    report_emails: tuple[str, ...] = DEFAULT_REPORT_EMAILS
    # Run the catalog's schedules on the clock (``make local``); tests run them when they ask to.
    schedules: bool = False
    # Operations thresholds (environment of the functions), e.g. {"HEALTH_RUNNING_THRESHOLD": "5"}.
    operations_settings: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "WARNING"
    frozen_clock: bool = False
    # The emulated AWS endpoint's port (presigned uploads, the AWS CLI; 0: any free port); None: no endpoint.
    aws_port: int | None = None
    # Where the platform keeps its data across restarts (``make local``: .local/state); None: nothing kept.
    state_dir: Path | None = None

    def __post_init__(self) -> None:
        self.clock = virtual.VirtualClock(frozen=self.frozen_clock)
        self.faults = FaultPlan(workflow_type_of=self._workflow_type_of, pause=_pause)
        self.lambdas = InProcessLambdas(self.region, ACCOUNT, self.faults)
        # The API function's execution environment: its invocations take turns in it, as in Lambda.
        self.api_environment = LambdaEnvironment()
        self.outbox = Outbox(self.outbox_dir or Path(tempfile.mkdtemp(prefix="accu-outbox-")))
        # Each lifecycle's state machine, and the live alias its executions start on.
        self.state_machine_arns: dict[str, str] = {}
        self.live_alias_arns: dict[str, str] = {}
        # The batch operation's state machine (the platform's own workflow).
        self.batch_state_machine_arn: str = ""
        self._mock: Any = None
        self._aws_endpoint: Any = None
        self.stream = StreamPump(self._stream_records, self._stream_arn, self.lambdas.invoke)
        self.router = EventRouter(ACCOUNT, self.region, self.lambdas.invoke)
        self.scheduler = LocalScheduler(self.lambdas.invoke, self._workflows_index_is_empty)
        self._drain_lock = threading.RLock()
        self._event_loop_stop = threading.Event()
        self._event_loop: threading.Thread | None = None
        self._saved_environment: dict[str, str | None] = {}
        # What the last snapshot holds (table writes, clock offset), and when it was written.
        self._saved_changes: tuple[int, float] = (-1, 0.0)
        self._saved_at = 0.0
        self._save_seconds = 0.0
        self._file_cache = persistence.FileCache()
        # Set once every running workflow restored from the last snapshot has its execution again.
        self.resumed = threading.Event()
        self.resumed.set()
        self._operations_applied: set[str] = set()

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalPlatform:
        from moto import mock_aws

        environment = {
            **BASE_ENVIRONMENT,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
        }
        self._set_environment(environment)
        time.tzset()
        # moto logs every caught state error (a timeout is one) at ERROR: the workflow's history has them.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
        virtual.install(self.clock)
        platform_clock.use(self.clock.time)
        platform_clock.use_pause(self._pause_until_written)
        platform_clock.use_sleep(self.clock.sleep)
        moto_patches.install(self.clock)
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        route_puts_to(self.router)
        # moto resets the default session when it starts: register the seams after it.
        boto3.setup_default_session(region_name=self.region)
        # The emulated AWS reads no signature: clients need not sign (those that presign set their own).
        boto3.DEFAULT_SESSION._session.set_default_client_config(Config(signature_version=UNSIGNED))  # type: ignore[union-attr]
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call.lambda.Invoke", self.lambdas)
        events.register("before-parameter-build", permissions.check)
        events.register("before-parameter-build.states.SendTaskSuccess", FailingCompletions(self.faults))
        events.register("provide-client-params.sns.Publish", self.outbox.remember_params)
        events.register("after-call.sns.Publish", self.outbox)
        if self.aws_port is not None:
            self._start_aws_endpoint()
        self._create_resources()
        self._forget_handler_state()
        if self.state_dir is not None:
            self._restore()
        if self.schedules:
            self.scheduler.start()
        # What exists now lives as long as the platform: the collector need not look at it again
        # (a full collection over moto's and botocore's objects stalls every request for a while).
        gc.collect()
        gc.freeze()
        gc.callbacks.append(_freeze_survivors)
        return self

    def stop(self) -> None:
        if _freeze_survivors in gc.callbacks:
            gc.callbacks.remove(_freeze_survivors)
        self.scheduler.stop()
        self._event_loop_stop.set()
        if self._event_loop is not None:
            self._event_loop.join(timeout=5)
            self._event_loop = None
        if self._mock is not None and self.state_dir is not None:
            self.save_state()
        if self._aws_endpoint is not None:
            self._aws_endpoint.stop()
            self._aws_endpoint = None
        if self._mock is not None:
            self._wind_down_executions()
            self._mock.stop()
            self._mock = None
            route_puts_to(None)
        platform_clock.use(None)
        platform_clock.use_pause(None)
        platform_clock.use_sleep(None)
        self.clock.close()
        dependencies.reset()
        self._set_environment({key: value for key, value in self._saved_environment.items()}, remember=False)

    def reset(self, outbox_dir: Path | None = None, **settings: Any) -> LocalPlatform:
        """Back to a platform just started, with these settings (fields of this class): every
        workflow, execution, item, file, e-mail, event and fault gone, the clock back to the wall
        clock. Far cheaper than a new platform (moto, its seams and the handlers stay): the tests
        reset one platform between tests instead of starting one for each."""
        unknown = set(settings) - {item.name for item in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"LocalPlatform has no settings {sorted(unknown)}")
        self.scheduler.stop()
        self._wind_down_executions(every_state_machine=True)
        for name, value in settings.items():
            setattr(self, name, value)
        self._mock.reset()  # moto's backends, empty
        moto_stepfunctions.forget_executions()
        self.clock.restart(frozen=self.frozen_clock)
        self.outbox.reset(outbox_dir or Path(tempfile.mkdtemp(prefix="accu-outbox-")))
        self.router.reset()
        self.stream.reset()
        self.lambdas.reset()
        self.scheduler = LocalScheduler(self.lambdas.invoke, self._workflows_index_is_empty)
        self._set_environment({"POWERTOOLS_LOG_LEVEL": self.log_level})
        if self._aws_endpoint is not None:  # already serving (a reset does not stop it): on its port
            self.aws_port = self._aws_endpoint.get_host_and_port()[1]
        elif self.aws_port is not None:
            self._start_aws_endpoint()
        self._create_resources()
        self._forget_handler_state()
        if self.schedules:
            self.scheduler.start()
        return self

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_aws_endpoint(self) -> None:
        from moto.server import ThreadedMotoServer

        self._aws_endpoint = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port or 0, verbose=False)
        self._aws_endpoint.start()
        # Port 0 asks the system for a free one: from here on, the port it gave.
        self.aws_port = self._aws_endpoint.get_host_and_port()[1]

    def _forget_handler_state(self) -> None:
        """What the handlers built on first use (clients, settings, caches) is built anew."""
        dependencies.reset()
        from functions.handlers import api, signal_intake

        api._idempotency_store.cache_clear()
        signal_intake._once_per_event.cache_clear()

    def _wind_down_executions(self, every_state_machine: bool = False) -> None:
        """Stop every running execution and let its threads end, so none outlives the emulated AWS."""
        self.clock.wait_until_quiet(5)
        stepfunctions = boto3.client("stepfunctions")
        machines = (
            [machine["stateMachineArn"] for machine in stepfunctions.list_state_machines()["stateMachines"]]
            if every_state_machine
            else [*self.state_machine_arns.values(), self.batch_state_machine_arn]
        )
        for arn in machines:
            for page in stepfunctions.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="RUNNING"
            ):
                for execution in page["executions"]:
                    stepfunctions.stop_execution(executionArn=execution["executionArn"], cause="platform stopped")
        self.clock.expire_all()
        self.clock.wait_until_quiet(5)

    def _set_environment(self, values: Mapping[str, str | None], remember: bool = True) -> None:
        for key, value in values.items():
            if remember and key not in self._saved_environment:
                self._saved_environment[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # ----- resources, from the same definitions the stacks deploy --------------------------------

    def _create_resources(self) -> None:
        dynamodb = boto3.client("dynamodb")
        key_attributes = [{"AttributeName": name, "AttributeType": "S"} for name in KEY_ATTRIBUTES]
        dynamodb.create_table(
            TableName=WORKFLOWS_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=key_attributes,
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [
                        {"AttributeName": spec.partition, "KeyType": "HASH"},
                        {"AttributeName": spec.sort, "KeyType": "RANGE"},
                    ],
                }
                for index, spec in INDEXES.items()
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # Migration runs and their backups (functions/dal/migrations.py), only the accu CLI writes it; batch
        # operations (functions/dal/batches.py).
        for name in (MIGRATIONS_TABLE, BATCHES_TABLE):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        sns = boto3.client("sns")
        topic_arn = sns.create_topic(Name=ALERTS_TOPIC)["TopicArn"]
        for address in self.admin_emails:
            sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
        # The same filter policies the stacks give the subscriptions (infra/constructs).
        for level, addresses in self.escalation_recipients.items():
            policy = {"kind": ["escalation"], "escalationLevel": [{"numeric": [">=", level]}]}
            for address in addresses:
                sns.subscribe(
                    TopicArn=topic_arn,
                    Protocol="email",
                    Endpoint=address,
                    Attributes={"FilterPolicy": json.dumps(policy)},
                )
        for address in self.report_emails:
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="email",
                Endpoint=address,
                Attributes={"FilterPolicy": json.dumps({"kind": ["report"]})},
            )
        notifications_arn = sns.create_topic(Name=NOTIFICATIONS_TOPIC)["TopicArn"]
        for address in self.people_emails:
            sns.subscribe(TopicArn=notifications_arn, Protocol="email", Endpoint=address)
        events = boto3.client("events")
        events.create_event_bus(Name=EVENT_BUS)
        for rule in EVENT_RULES:
            # The rule is there to be seen (aws events list-rules); the runtime delivers to its target.
            events.put_rule(
                Name=rule.name,
                EventBusName=EVENT_BUS,
                EventPattern=json.dumps(rule.pattern),
                Description=rule.description,
            )
        boto3.client("s3").create_bucket(
            Bucket=DOCUMENTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        role_arn = boto3.client("iam").create_role(
            RoleName="accu-local-state-machines",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "states.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        stepfunctions = boto3.client("stepfunctions")
        timeouts: dict[str, dict[str, int]] = {}
        for workflow_type, entry in CATALOG.items():
            timeouts[workflow_type] = entry.timeouts(self.timeout_overrides.get(workflow_type))
            arns = {name: self.lambdas.function_arn(name) for name in entry.functions}
            definition = entry.render(arns)
            # Published as version 1 behind a live alias, as the stacks deploy it: executions start on the alias.
            created = stepfunctions.create_state_machine(
                name=local_state_machine_name(entry.state_machine_name),
                definition=definition,
                roleArn=role_arn,
                type="STANDARD",
                publish=True,
                versionDescription="the catalog's definition as the platform started",
            )
            self.state_machine_arns[workflow_type] = created["stateMachineArn"]
            self.live_alias_arns[workflow_type] = stepfunctions.create_state_machine_alias(
                name=LIVE_ALIAS,
                description="The version new executions start on",
                routingConfiguration=[{"stateMachineVersionArn": created["stateMachineVersionArn"], "weight": 100}],
            )["stateMachineAliasArn"]
        # The platform's own workflow: batch operations, published behind a live alias too.
        created = stepfunctions.create_state_machine(
            name=local_state_machine_name(BATCH_OPERATION.state_machine_name),
            definition=BATCH_OPERATION.render(
                {name: self.lambdas.function_arn(name) for name in BATCH_OPERATION.functions}
            ),
            roleArn=role_arn,
            type="STANDARD",
            publish=True,
            versionDescription="the catalog's definition as the platform started",
        )
        self.batch_state_machine_arn = created["stateMachineArn"]
        batch_alias_arn = stepfunctions.create_state_machine_alias(
            name=LIVE_ALIAS,
            description="The version new executions start on",
            routingConfiguration=[{"stateMachineVersionArn": created["stateMachineVersionArn"], "weight": 100}],
        )["stateMachineAliasArn"]
        # Every function runs in this one process: the environment carries every function's settings
        # (written as the stacks write them, from the settings model), plus the test's operations settings.
        environment = Settings.environment(
            {
                "workflows_table_name": WORKFLOWS_TABLE,
                "idempotency_table_name": IDEMPOTENCY_TABLE,
                "batches_table_name": BATCHES_TABLE,
                "batch_state_machine_arn": batch_alias_arn,
                "state_machine_arns": self.live_alias_arns,
                "alerts_topic_arn": topic_arn,
                "notifications_topic_arn": notifications_arn,
                "documents_bucket_name": DOCUMENTS_BUCKET,
                "event_bus_name": EVENT_BUS,
                "s3_presign_endpoint": self.aws_endpoint_url,
                "lifecycle_timeouts": timeouts,
                "signal_apply_wait_seconds": self.signal_apply_wait_seconds,
            }
        )
        self._set_environment(
            {
                **environment,
                # Presigned URLs point at the emulated endpoint only when there is one.
                Settings.variable("s3_presign_endpoint"): self.aws_endpoint_url or "",
                # A reset may drop settings a platform had before: they go from the environment too.
                **{name: None for name in self._operations_applied - set(self.operations_settings)},
                **self.operations_settings,
            }
        )
        self._operations_applied = set(self.operations_settings)

    def publish_definition(
        self, workflow_type: str, template: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """Load a lifecycle's definition as a new version of its state machine and move the live alias
        to it, as a deploy does: the catalog's ASL file as it is on disk now, or ``template`` (ASL with
        the catalog's placeholders). New executions start on it; running ones go on on theirs."""
        entry = CATALOG[workflow_type]
        definition = entry.render({name: self.lambdas.function_arn(name) for name in entry.functions}, template)
        problems = definition_problems(json.loads(definition))
        if problems:
            raise InvalidDefinition("; ".join(problems))
        stepfunctions = boto3.client("stepfunctions")
        published = stepfunctions.update_state_machine(
            stateMachineArn=self.state_machine_arns[workflow_type],
            definition=definition,
            publish=True,
            versionDescription=description or f"loaded at {platform_clock.now().isoformat()}",
        )
        version_arn = published["stateMachineVersionArn"]
        stepfunctions.update_state_machine_alias(
            stateMachineAliasArn=self.live_alias_arns[workflow_type],
            routingConfiguration=[{"stateMachineVersionArn": version_arn, "weight": 100}],
        )
        return self.definitions()[workflow_type]

    def definitions(self) -> dict[str, dict[str, Any]]:
        """Each lifecycle's live alias and the versions it routes to."""
        stepfunctions = boto3.client("stepfunctions")
        answer: dict[str, dict[str, Any]] = {}
        for workflow_type, alias_arn in self.live_alias_arns.items():
            routes = stepfunctions.describe_state_machine_alias(stateMachineAliasArn=alias_arn)["routingConfiguration"]
            answer[workflow_type] = {
                "stateMachineArn": self.state_machine_arns[workflow_type],
                "liveAliasArn": alias_arn,
                "live": [
                    {
                        "version": version_number(route["stateMachineVersionArn"]),
                        "stateMachineVersionArn": route["stateMachineVersionArn"],
                        "weight": route["weight"],
                    }
                    for route in routes
                ],
            }
        return answer

    @property
    def aws_endpoint_url(self) -> str | None:
        return f"http://127.0.0.1:{self.aws_port}" if self.aws_port is not None else None

    def _pause_until_written(self, seconds: float, workflow_id: str | None) -> None:
        """A handler's pause, ended as soon as the workflow it looks at is written (the runtime sees
        writes); an API invocation gives its turn in the environment up meanwhile. A handler the engine runs
        (a batch's step sending a signal) is suspended instead, so that the engine goes on and opens the wait."""
        if self.clock.engine.current_thread() is not None:
            self.clock.sleep(seconds)
            return
        with self.api_environment.paused():
            moto_dynamodb.wait_for_write(seconds, workflow_pk(workflow_id) if workflow_id else None)

    def _moto_table(self, name: str = WORKFLOWS_TABLE) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][self.region].get_table(name)

    def _workflows_index_is_empty(self, index_name: str) -> bool:
        return moto_dynamodb.index_is_empty(self._moto_table(), index_name)

    def _stream_records(self, after: int | None, limit: int) -> list[dict[str, Any]]:
        with moto_patches.REQUEST_LOCK:  # as a request would: not while another request writes
            return moto_dynamodb.stream_records(self._moto_table(), after, limit)

    def _stream_arn(self) -> str:
        table = self._moto_table()
        return f"{table.table_arn}/stream/{table.latest_stream_label}"

    def _workflow_type_of(self, workflow_id: str) -> str | None:
        workflow = dependencies.engine().store.get(workflow_id)
        return workflow.type if workflow else None

    # ----- using it ----------------------------------------------------------------------------

    def advance(self, seconds: float) -> str:
        """Skip time; answers once every timer due in that span has fired, and what followed."""
        self.clock.advance(seconds, settle=self.settle)
        from functions.domain.time import iso

        return iso(self.clock.now())

    def settle(self) -> None:
        """Wait until nothing is left to do but wait: the state machines are quiet and every
        event written so far was delivered (which may wake the state machines again), and every
        workflow restored at start has its execution again."""
        if not self.resumed.wait(RESUME_TIMEOUT_SECONDS):
            raise TimeoutError(f"the restored workflows were not resumed within {RESUME_TIMEOUT_SECONDS:g} s")
        with self._drain_lock:
            while True:
                if not self.clock.wait_until_quiet():
                    # Something still runs after the quiet timeout: a handler stuck or looping. Saying
                    # "settled" would let a caller (a test, a skip of time) read a half-done state.
                    raise TimeoutError(
                        f"the engine did not go quiet within {virtual.QUIET_TIMEOUT_SECONDS:g} s: "
                        f"{self.clock.runnable} engine threads still run"
                    )
                if not (self.stream.drain() + self.router.drain()):
                    return

    def deliver_events_in_background(self, interval_seconds: float = 0.2) -> None:
        """What Lambda's event source mapping and EventBridge do on their own: for ``make local``."""

        def loop() -> None:
            while not self._event_loop_stop.wait(interval_seconds):
                try:
                    with self._drain_lock:
                        self.stream.drain()
                        self.router.drain()
                    if self.state_dir is not None:
                        self._save_when_changed()
                except Exception:
                    logging.getLogger("accu.local.events").exception("event delivery failed")

        self._event_loop = threading.Thread(target=loop, name="local-events", daemon=True)
        self._event_loop.start()

    # ----- data across restarts ------------------------------------------------------------------

    def save_state(self) -> None:
        """Write a snapshot of every table, file and the clock to ``state_dir`` (persistence.py)."""
        assert self.state_dir is not None
        started = time.monotonic()
        with moto_patches.REQUEST_LOCK:
            changes = (moto_dynamodb.writes(), self.clock.offset)
            snapshot = persistence.capture(
                {
                    name: self._moto_table(name)
                    for name in (WORKFLOWS_TABLE, IDEMPOTENCY_TABLE, MIGRATIONS_TABLE, BATCHES_TABLE)
                },
                _signing_s3(),
                [DOCUMENTS_BUCKET],
                self.clock.offset,
                self._file_cache,
            )
        persistence.StateDirectory(self.state_dir).write(snapshot)
        self._saved_changes, self._saved_at = changes, time.monotonic()
        self._save_seconds = self._saved_at - started

    def _save_when_changed(self) -> None:
        """While running: a snapshot when something changed, at most every few seconds."""
        changes = (moto_dynamodb.writes(), self.clock.offset)
        # A large platform's snapshot takes a while (its file is written in full each time): never
        # more than a tenth of the time.
        interval = max(SAVE_EVERY_SECONDS, 10 * self._save_seconds)
        if changes != self._saved_changes and time.monotonic() - self._saved_at >= interval and self.resumed.is_set():
            self.save_state()

    def _restore(self) -> None:
        """Bring back the last snapshot (if one): items, files, the clock; then an execution for each
        running workflow, at its current wait."""
        assert self.state_dir is not None
        snapshot = persistence.StateDirectory(self.state_dir).read()
        if snapshot is None:
            return
        with moto_patches.REQUEST_LOCK:
            for name, items in snapshot.tables.items():
                moto_dynamodb.import_items(self._moto_table(name), items)
        files = persistence.restore_files(snapshot, _signing_s3())
        self.clock.resume_offset(snapshot.clock_offset)
        self._saved_changes = (moto_dynamodb.writes(), self.clock.offset)
        logger = logging.getLogger("accu.local")
        logger.warning(
            "restored %d items, %d files and the clock (+%.0f s) from %s; resuming the running workflows",
            snapshot.items,
            files,
            snapshot.clock_offset,
            self.state_dir,
        )
        # Each resumed execution costs what a start costs (tens of ms): the API serves meanwhile. A
        # signal for a workflow not resumed yet is applied to its stored state as usual; the execution
        # then starts at the status that signal made.
        self.resumed.clear()
        threading.Thread(target=self._resume_executions, name="local-resume", daemon=True).start()

    def _resume_executions(self) -> None:
        store, activities = dependencies.engine().store, dependencies.activities()
        resumed = 0
        try:
            for workflow_type in sorted(CATALOG):
                token = None
                while True:
                    page = store.list_workflows(
                        ListFilter(workflow_types=(workflow_type,), execution_status="RUNNING"),
                        limit=100,
                        next_token=token,
                    )
                    for workflow in page.items:
                        activities.resume_execution(workflow.workflowId)
                        resumed += 1
                    token = page.next_token
                    if not token:
                        break
            logging.getLogger("accu.local").warning("%d running workflows resumed at their waits", resumed)
            batches = dependencies.batches().resume_unfinished()
            if batches:
                logging.getLogger("accu.local").warning("%d running batches resumed where they stopped", batches)
        except Exception:
            logging.getLogger("accu.local").exception("resuming the running workflows failed")
        finally:
            self.resumed.set()

    def api(self, method: str, path: str, body: Any = None, **request: Any) -> tuple[int, Any]:
        """Call the API function as API Gateway would (``api_response``: identity, headers, query);
        answers the status and the JSON body."""
        response = self.api_response(method, path, body, **request)
        text = response.get("body") or "null"
        return int(response["statusCode"]), json.loads(text) if text else None

    def api_response(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = None,
        groups: str | list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The API function's whole answer (status, headers, body as it returned them), called as API
        Gateway would, with the identity a Cognito authorizer gives."""
        event = api_gateway_event(method, path, body, user=user, groups=groups, headers=headers, query=query)
        return self.api_environment.run(lambda: self.lambdas.invoke(API.name, event))  # type: ignore[no-any-return]


def _signing_s3() -> Any:
    # moto's S3 answers an unsigned read of an object 403 (an anonymous caller), as S3 would.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _pause(seconds: float) -> None:
    """Hold the caller back for ``seconds`` on the virtual clock (an engine thread is suspended, the
    engine goes on)."""
    virtual.ClockEvent().wait(seconds)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """After a full collection, what survived it is kept out of the next ones: the platform's data
    (items, executions, waiting greenlets) only grows, and a full collection over ten thousand
    workflows' objects would stall every request for seconds. Each full collection then looks only
    at what was made since the one before."""
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def api_gateway_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    user: str | None = None,
    groups: str | list[str] | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, the claims placed where the Cognito authorizer puts them."""
    claims: dict[str, str] | None = None
    if user:
        joined = ",".join(groups) if isinstance(groups, list) else (groups or "")
        claims = {"sub": user, "cognito:username": user, "cognito:groups": joined}
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    encoded = False
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:  # not text: API Gateway hands such a body over in base64
            body, encoded = base64.b64encode(body).decode(), True
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method.upper(),
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method.upper(),
            "path": path,  # served at the root, as behind a custom domain (no stage prefix)
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "local"},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }
