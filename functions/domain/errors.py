"""Domain exceptions. Each carries the HTTP status and error code it maps to;
the mapping to a response happens in one place (handlers/api.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra = extra

    def to_body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details, **self.extra}


class Unauthenticated(DomainError):
    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    status_code = 403
    code = "FORBIDDEN"


class WorkflowNotFound(DomainError):
    status_code = 404
    code = "WORKFLOW_NOT_FOUND"

    def __init__(self, workflow_id: str):
        super().__init__(f"no workflow with id {workflow_id!r}", [{"field": "workflowId", "value": workflow_id}])


class UnknownSignal(DomainError):
    status_code = 404
    code = "UNKNOWN_SIGNAL"

    def __init__(self, signal: str, workflow_type: str, known: list[str]):
        super().__init__(
            f"{workflow_type} workflows have no signal {signal!r}",
            [{"field": "signalName", "value": signal, "known": known}],
        )


class ValidationFailed(DomainError):
    """A request or payload that does not fit its model; details name each bad field."""

    status_code = 422
    code = "VALIDATION_ERROR"


class WorkflowAlreadyStarted(DomainError):
    status_code = 409
    code = "WORKFLOW_ALREADY_STARTED"


class SignalNotAllowed(DomainError):
    status_code = 409
    code = "SIGNAL_NOT_ALLOWED"

    def __init__(self, signal: str, status: str, awaiting: list[str]):
        super().__init__(
            f"signal {signal!r} is not accepted in status {status}",
            [{"field": "signalName", "value": signal, "status": status}],
            awaiting=awaiting,
        )


class StatusNotInLifecycle(DomainError):
    """A status the workflow's lifecycle cannot go on in (a move's target): the request is well formed,
    but not for this workflow."""

    status_code = 409
    code = "STATUS_NOT_IN_LIFECYCLE"


class WorkflowClosed(DomainError):
    status_code = 409
    code = "WORKFLOW_CLOSED"

    def __init__(self, workflow_id: str, execution_status: str):
        super().__init__(
            f"workflow {workflow_id!r} is closed ({execution_status})",
            [{"field": "executionStatus", "value": execution_status}],
            awaiting=[],
        )


class NotRetryable(DomainError):
    status_code = 409
    code = "NOT_RETRYABLE"


class ReportNotFound(DomainError):
    status_code = 404
    code = "REPORT_NOT_FOUND"


class BusinessRuleViolation(DomainError):
    """Business rules that are not met; details list every unmet rule."""

    status_code = 409
    code = "BUSINESS_RULE_VIOLATION"


class NotConfigured(DomainError):
    status_code = 503
    code = "NOT_CONFIGURED"


class RouteNotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"

    def __init__(self, path: str) -> None:
        super().__init__(f"no route {path}", [{"field": "path"}])


class MethodNotAllowed(DomainError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(f"{method} is not a method of {path}", [{"field": "method", "allowed": allowed}])


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"

    def __init__(self) -> None:
        super().__init__(
            "the body must be JSON", [{"field": "Content-Type", "in": "header", "message": "expected application/json"}]
        )


class ConcurrentModification(DomainError):
    status_code = 409
    code = "CONCURRENT_MODIFICATION"


class RequestInProgress(DomainError):
    status_code = 409
    code = "REQUEST_IN_PROGRESS"


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class TransientActivityError(Exception):
    """An activity failed for a reason that may pass (throttling, a dependency down): the state
    machine retries it with back-off."""


class PermanentActivityError(Exception):
    """An activity failed for a reason retrying cannot fix: the workflow fails."""


class BatchNotFound(DomainError):
    status_code = 404
    code = "BATCH_NOT_FOUND"

    def __init__(self, batch_id: str):
        super().__init__(f"no batch with id {batch_id!r}", [{"field": "batchId", "value": batch_id}])


class BatchNotInState(DomainError):
    """A cancel of a batch that has ended, a resume of one that has not failed."""

    status_code = 409
    code = "BATCH_STATE"
