"""The composition root: builds the service from settings and boto3 clients, once, on first use.

Nothing is built at import time (fast cold starts, free imports in tests); tests and the local
runtime call ``reset()`` after changing the environment or the clock.
"""

from __future__ import annotations

import functools

import boto3

from functions import clock
from functions.dal.dynamodb import WorkflowStore
from functions.dal.sns import Notifier
from functions.dal.stepfunctions import Executions
from functions.domain.lifecycles import LIFECYCLES
from functions.models.settings import Settings
from functions.service.workflows import WorkflowService


@functools.cache
def settings() -> Settings:
    return Settings.from_environment()


@functools.cache
def service() -> WorkflowService:
    config = settings()
    return WorkflowService(
        store=WorkflowStore(config.workflows_table_name, boto3.client("dynamodb")),
        executions=Executions(boto3.client("stepfunctions"), config.state_machine_arns),
        notifier=Notifier(boto3.client("sns"), config.alerts_topic_arn, config.notifications_topic_arn),
        lifecycles=LIFECYCLES,
        now=clock.now,
        timeouts=config.lifecycle_timeouts,
        signal_apply_wait_seconds=config.signal_apply_wait_seconds,
    )


def reset() -> None:
    settings.cache_clear()
    service.cache_clear()
