"""Signals in from automation: a ``SignalRequested`` event on the bus goes to the same signal logic
as the API (same validation, same exactly-once application), and its outcome goes back on the bus
(``Signal Applied``, ``Signal Kept`` or ``Signal Rejected``), so a refusal is never silent.

The bus's permissions say who may put such events; the signal is sent with the operators' rights,
as the event's ``actor`` (or ``events:<source>``). A redelivered event (same id) is applied once.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions import dependencies
from functions.domain.errors import DomainError, ValidationFailed
from functions.domain.events import SIGNAL_APPLIED, SIGNAL_KEPT, SIGNAL_REJECTED, SignalRequest
from functions.domain.identity import OPERATORS, Identity
from functions.domain.workflow import validation_details
from functions.handlers.observability import logger, tracer


def deliver(event: dict[str, Any]) -> dict[str, Any]:
    """Apply the requested signal; answer the outcome event that was published."""
    try:
        request = SignalRequest.model_validate(event.get("detail") or {})
    except ValidationError as error:
        failure = ValidationFailed("the SignalRequested detail is invalid", validation_details(error))
        return _publish(SIGNAL_REJECTED, event, {"status": failure.status_code, **failure.to_body()})
    actor = Identity(request.actor or f"events:{event.get('source', 'unknown')}", frozenset({OPERATORS}))
    try:
        outcome = dependencies.signals().signal(actor, request.workflowId, request.signal, request.payload)
    except DomainError as error:
        logger.info("signal refused", extra={"error": error.code, "workflowId": request.workflowId})
        return _publish(SIGNAL_REJECTED, event, {"status": error.status_code, **error.to_body()})
    state = outcome.body if outcome.status_code == 200 else outcome.body.get("workflow", {})
    summary = {key: state.get(key) for key in ("workflowId", "type", "status", "executionStatus", "version")}
    return _publish(SIGNAL_APPLIED if outcome.status_code == 200 else SIGNAL_KEPT, event, {"workflow": summary})


def _publish(detail_type: str, event: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    detail = {"requestId": event.get("id"), "request": event.get("detail"), **outcome}
    dependencies.event_bus().publish(detail_type, detail)
    return {"detailType": detail_type, **detail}


@functools.cache
def _once_per_event() -> tuple[IdempotencyConfig | None, Any]:
    table = dependencies.settings().idempotency_table_name
    if not table:
        return None, deliver
    config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 60 * 60)

    @idempotent_function(
        data_keyword_argument="event", persistence_store=DynamoDBPersistenceLayer(table), config=config
    )
    def deliver_once(event: dict[str, Any]) -> dict[str, Any]:
        return deliver(event)

    return config, deliver_once


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config, deliver_once = _once_per_event()
    if config is not None:
        config.register_lambda_context(context)
    return deliver_once(event=event)  # type: ignore[no-any-return]
