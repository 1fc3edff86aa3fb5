"""What IAM does in AWS, locally: a function may call only what its catalog declaration grants.

In AWS each function's role is made from its declaration (``FunctionSpec.may``); a call outside it
is denied. Locally every handler runs in one process with every setting, so without this a missing
capability would go unnoticed until a deployment. A botocore ``before-parameter-build`` handler on the boto3
session checks each AWS call a handler makes (the function being run is known per thread and
greenlet, through a context variable) against its grants, action by action and, for tables and
topics, resource by resource, and answers ``AccessDeniedException`` as IAM would. Calls made by no
function (the local runtime itself, moto's engine invoking Lambda) are not checked.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from functions import dependencies
from functions.models.settings import Settings
from infra.catalog import (
    ALERTS_TOPIC,
    BATCHES_TABLE,
    IDEMPOTENCY_TABLE,
    NOTIFICATIONS_TOPIC,
    WORKFLOWS_TABLE,
    WORKFLOWS_TABLE_ITEMS,
    FunctionSpec,
)

_acting: contextvars.ContextVar[FunctionSpec | None] = contextvars.ContextVar("accu_acting_function", default=None)

# A transaction is authorised item by item, each as the single-item action it stands for.
TRANSACTION_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
TRANSACTION_ITEM_ACTIONS["ConditionCheck"] = "ConditionCheckItem"
# Calls of these services are the runtime's or the engine's, not a function's IAM concern here.
UNCHECKED_SERVICES = frozenset({"lambda", "logs", "xray", "sts"})


@contextmanager
def acting_as(spec: FunctionSpec) -> Iterator[None]:
    """Around a handler's run: its AWS calls are checked against ``spec``'s grants."""
    token = _acting.set(spec)
    try:
        yield
    finally:
        _acting.reset(token)


@contextmanager
def as_runtime() -> Iterator[None]:
    """Around what the local runtime itself does inside a handler's call (the outbox reading a topic's
    subscriptions after a publish): not the function's doing, not checked."""
    token = _acting.set(None)
    try:
        yield
    finally:
        _acting.reset(token)


def _requested(model: Any, params: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The IAM actions a call needs, each with the table or topic it acts on (None: not checked)."""
    prefix = model.service_model.signing_name
    if model.name == "TransactWriteItems":
        return [
            (f"{prefix}:{TRANSACTION_ITEM_ACTIONS[kind]}", operation.get("TableName"))
            for item in params.get("TransactItems", [])
            for kind, operation in item.items()
        ]
    if model.name == "BatchGetItem":
        return [(f"{prefix}:BatchGetItem", table) for table in params.get("RequestItems", {})]
    return [(f"{prefix}:{model.name}", params.get("TableName") or params.get("TopicArn"))]


def _resources_of(named: str | None, settings: Settings) -> set[str] | None:
    """The catalog resources a table name or topic ARN is (None: a resource not told apart here)."""
    if named is None:
        return None
    known = {
        settings.workflows_table_name: {WORKFLOWS_TABLE, WORKFLOWS_TABLE_ITEMS},
        settings.idempotency_table_name: {IDEMPOTENCY_TABLE},
        settings.batches_table_name: {BATCHES_TABLE},
        settings.alerts_topic_arn: {ALERTS_TOPIC},
        settings.notifications_topic_arn: {NOTIFICATIONS_TOPIC},
    }
    return known.get(named, set())


@functools.cache
def _grants(spec: FunctionSpec) -> dict[str, set[str]]:
    return spec.actions()


def check(model: Any, params: Mapping[str, Any], **_: Any) -> None:
    """The ``before-parameter-build`` handler (it sees the call's own parameters): deny what the running
    function's declaration does not grant."""
    spec = _acting.get()
    if spec is None or model.service_model.service_name in UNCHECKED_SERVICES:
        return
    granted = _grants(spec)
    settings = dependencies.settings()  # as the handlers read it: once per cold start
    for action, named in _requested(model, params):
        places = {resource for resource, actions in granted.items() if action in actions}
        resources = _resources_of(named, settings)
        if places and (resources is None or places & resources):
            continue
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": f"{spec.name} is not authorized to perform {action}"
                    + (f" on {named}" if named else "")
                    + ": its catalog declaration (infra/catalog.py) does not grant it",
                }
            },
            model.name,
        )
