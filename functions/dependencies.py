"""The composition root: builds the service from settings and boto3 clients, once, on first use.

Nothing is built at import time (fast cold starts, free imports in tests); tests and the local
runtime call ``reset()`` after changing the environment or the clock.
"""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

from functions import clock
from functions.dal.batches import BatchStore
from functions.dal.dynamodb import WorkflowStore
from functions.dal.eventbridge import EventBus
from functions.dal.s3 import DocumentFiles
from functions.dal.sns import Notifier
from functions.dal.stepfunctions import Executions, StateMachine
from functions.domain.events import SOURCE
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.operations import Thresholds
from functions.models.settings import Settings
from functions.service.activities import WorkflowActivities
from functions.service.batches import BatchOperations
from functions.service.catalog import LifecycleCatalog
from functions.service.engine import WorkflowEngine
from functions.service.interventions import WorkflowInterventions
from functions.service.operations import OperationsService
from functions.service.queries import WorkflowQueries
from functions.service.signals import WorkflowSignals
from functions.service.starts import WorkflowStarts


@functools.cache
def settings() -> Settings:
    return Settings.from_environment()


@functools.cache
def engine() -> WorkflowEngine:
    """What every use case shares: the store, the executions, the notifier, the lifecycles."""
    config = settings()
    if not config.workflows_table_name:
        raise RuntimeError("WORKFLOWS_TABLE_NAME is not set: the function does not read workflows (infra/catalog.py)")
    return WorkflowEngine(
        store=WorkflowStore(config.workflows_table_name, boto3.client("dynamodb")),
        executions=Executions(boto3.client("stepfunctions"), config.state_machine_arns),
        notifier=Notifier(boto3.client("sns"), config.alerts_topic_arn, config.notifications_topic_arn),
        lifecycles=LIFECYCLES,
        now=clock.now,
        timeouts=config.lifecycle_timeouts,
        signal_apply_wait_seconds=config.signal_apply_wait_seconds,
        files=document_files(),
    )


@functools.cache
def queries() -> WorkflowQueries:
    return WorkflowQueries(engine())


@functools.cache
def catalog() -> LifecycleCatalog:
    """The lifecycles as clients read them (no AWS: only the catalog and the deployment's timeouts)."""
    return LifecycleCatalog(LIFECYCLES, settings().lifecycle_timeouts)


@functools.cache
def starts() -> WorkflowStarts:
    return WorkflowStarts(engine())


@functools.cache
def signals() -> WorkflowSignals:
    return WorkflowSignals(engine())


@functools.cache
def activities() -> WorkflowActivities:
    return WorkflowActivities(engine())


@functools.cache
def interventions() -> WorkflowInterventions:
    return WorkflowInterventions(engine(), signals())


@functools.cache
def batches() -> BatchOperations:
    config = settings()
    if not config.batches_table_name:
        raise RuntimeError("BATCHES_TABLE_NAME is not set: the function does not run batches (infra/catalog.py)")
    client = boto3.client("stepfunctions")
    state_machine = StateMachine(client, config.batch_state_machine_arn) if config.batch_state_machine_arn else None
    return BatchOperations(
        engine(),
        queries(),
        signals(),
        interventions(),
        BatchStore(boto3.client("dynamodb"), config.batches_table_name),
        state_machine,
    )


def document_files() -> DocumentFiles | None:
    config = settings()
    if not config.documents_bucket_name:
        return None
    client = boto3.client("s3", config=Config(signature_version="s3v4"))
    presigning = client
    if config.s3_presign_endpoint:
        presigning = boto3.client(
            "s3",
            endpoint_url=config.s3_presign_endpoint,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
    return DocumentFiles(client=client, bucket=config.documents_bucket_name, presigning_client=presigning)


@functools.cache
def operations() -> OperationsService:
    config = settings()
    thresholds = Thresholds(
        failure_rate=config.health_failure_rate_threshold,
        running=config.health_running_threshold,
        stalled_hours=config.health_stalled_hours,
    )
    return OperationsService(engine(), interventions(), thresholds, config.recovery_max_retries)


@functools.cache
def event_bus() -> EventBus:
    config = settings()
    if not config.event_bus_name:
        raise RuntimeError("EVENT_BUS_NAME is not set")
    return EventBus(boto3.client("events"), config.event_bus_name, SOURCE)


def reset() -> None:
    operations.cache_clear()
    event_bus.cache_clear()
    settings.cache_clear()
    for factory in (engine, queries, catalog, starts, signals, activities, interventions, batches):
        factory.cache_clear()
