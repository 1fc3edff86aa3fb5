"""The local REST API on http://127.0.0.1:8000: each HTTP request becomes the API Gateway event the
API function gets in AWS. ``X-User-Id`` and ``X-User-Groups`` stand in for the Cognito token: they
become the same ``claims`` the authorizer would pass.

Local-only routes (never deployed): ``GET /local/clock``, ``POST /local/clock/advance``
``{"seconds": N}``, ``GET|POST|DELETE /local/faults``, ``GET /local/events`` (what was published
on the event bus; ``?detailType=&workflowId=&limit=``), ``GET /local/schedules`` and
``POST /local/schedules/{name}`` (run a schedule now), ``GET /local/definitions`` and
``POST /local/definitions/{workflowType}`` (load a lifecycle's definition as a new version behind
its live alias, as a deploy does: the catalog's ASL file as it is now, or ``{"definition": ASL}``).
The operations console's files are served at ``/console/`` (``infra/local/console.py``).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from functions.domain.time import iso
from infra.catalog import CATALOG
from infra.local import console
from infra.local.faults import Fault
from infra.local.platform import LocalPlatform

logger = logging.getLogger("accu.local")
TEN_YEARS = 10 * 366 * 24 * 3600
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class AdvanceRequest(BaseModel):
    seconds: float = Field(gt=0, le=TEN_YEARS)


class DefinitionRequest(BaseModel):
    """A lifecycle's new definition: ASL with the catalog's placeholders (an object or its text);
    none: the catalog's ASL file as it is on disk now."""

    model_config = ConfigDict(extra="forbid")
    definition: dict[str, Any] | str | None = None
    description: str | None = Field(default=None, max_length=256)


class FaultRequest(BaseModel):
    kind: Literal["transient", "permanent", "delay"]
    count: int | None = Field(default=None, ge=1, le=100_000)
    rate: float = Field(default=1.0, gt=0, le=1)
    seed: int = 0
    seconds: float = Field(default=0.0, ge=0, le=900)
    workflowType: str | None = None
    activity: str | None = None

    @model_validator(mode="after")
    def _bounded(self) -> FaultRequest:
        if self.count is None and self.rate == 1.0 and self.kind != "delay":
            raise ValueError("give a count, a rate below 1, or both (a fault on every invocation forever stops all)")
        if self.kind == "delay" and self.seconds <= 0:
            raise ValueError("a delay needs seconds > 0")
        return self


def _validation_answer(error: ValidationError) -> tuple[int, dict[str, Any]]:
    return 422, {
        "error": "VALIDATION_ERROR",
        "message": "the request is invalid",
        "details": [
            {"field": ".".join(map(str, item["loc"])) or "(body)", "message": item["msg"]} for item in error.errors()
        ],
    }


class LocalApi:
    """Routes a request to the local-only endpoints or to the API function."""

    def __init__(self, platform: LocalPlatform):
        self.platform = platform

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any] | dict[str, Any]:
        """A local route's (status, JSON body), or the API function's whole answer."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/local/"):
            if (method, path) == ("GET", "/local/events"):
                return self._events(dict(parse_qsl(parts.query)))
            if path.startswith("/local/schedules"):
                return self._schedules(method, path)
            return self._local(method, path, body)
        lowered = {key.lower(): value for key, value in headers.items()}
        passed = {
            key: value
            for key, value in headers.items()
            if key.lower() not in ("x-user-id", "x-user-groups", "host", "content-length")
        }
        query = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
        return self.platform.api_response(
            method,
            path,
            body or None,
            user=lowered.get("x-user-id") or None,
            groups=lowered.get("x-user-groups"),
            headers=passed,
            query=query,
        )

    def _schedules(self, method: str, path: str) -> tuple[int, Any]:
        scheduler = self.platform.scheduler
        if (method, path) == ("GET", "/local/schedules"):
            return 200, {"items": scheduler.upcoming()}
        name = path.removeprefix("/local/schedules/")
        if method == "POST" and name and "/" not in name:
            try:
                result = scheduler.run_now(name)
            except KeyError:
                known = [item["schedule"] for item in scheduler.upcoming()]
                return 404, {"error": "NOT_FOUND", "message": f"no schedule {name!r}", "details": [{"known": known}]}
            self.platform.settle()
            return 200, {"schedule": name, "result": result}
        return 404, {"error": "NOT_FOUND", "message": f"no local route {method} {path}", "details": []}

    def _events(self, query: dict[str, str]) -> tuple[int, Any]:
        self.platform.settle()
        events = self.platform.router.events(query.get("detailType") or None)
        if query.get("workflowId"):
            events = [event for event in events if event["detail"].get("workflowId") == query["workflowId"]]
        limit = int(query["limit"]) if query.get("limit", "").isdigit() else 100
        return 200, {"items": events[-limit:], "total": len(events)}

    def _publish_definition(self, workflow_type: str, data: Any) -> tuple[int, Any]:
        if workflow_type not in CATALOG:
            return 404, {
                "error": "NOT_FOUND",
                "message": f"no lifecycle {workflow_type!r}; known: {sorted(CATALOG)}",
                "details": [{"field": "workflowType", "value": workflow_type}],
            }
        request = DefinitionRequest.model_validate(data)
        template = request.definition
        if isinstance(template, dict):
            template = json.dumps(template)
        try:
            return 201, self.platform.publish_definition(workflow_type, template, request.description)
        except (KeyError, ValueError) as error:  # a placeholder with no substitution, not JSON, refused
            return _definition_error("definition", str(error).strip("'\""))
        except ClientError as error:
            return _definition_error("definition", error.response["Error"].get("Message") or str(error))

    def _local(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        clock = self.platform.clock
        try:
            data = json.loads(body) if body else {}
        except json.JSONDecodeError as error:
            return 422, {"error": "VALIDATION_ERROR", "message": f"the body is not JSON: {error}", "details": []}
        try:
            if (method, path) == ("GET", "/local/clock"):
                earliest, count = clock.pending_deadlines()
                return 200, {
                    "now": iso(clock.now()),
                    "offsetSeconds": round(clock.offset, 3),
                    "pendingTimers": [iso(clock.now().fromtimestamp(t, clock.now().tzinfo)) for t in earliest],
                    "pendingTimerCount": count,
                    # Threads of the Step Functions engine (greenlets on one OS thread): about three
                    # per waiting execution.
                    "engineThreads": clock.engine.threads,
                }
            if (method, path) == ("POST", "/local/clock/advance"):
                request = AdvanceRequest.model_validate(data)
                return 200, {"now": self.platform.advance(request.seconds), "advancedSeconds": request.seconds}
            if (method, path) == ("GET", "/local/faults"):
                return 200, {"items": self.platform.faults.pending()}
            if (method, path) == ("POST", "/local/faults"):
                fault = FaultRequest.model_validate(data)
                try:
                    self.platform.faults.add(
                        Fault(
                            kind=fault.kind,
                            count=fault.count,
                            rate=fault.rate,
                            workflow_type=fault.workflowType,
                            activity=fault.activity,
                            seconds=fault.seconds,
                            seed=fault.seed,
                        )
                    )
                except ValueError as error:
                    return 422, {
                        "error": "VALIDATION_ERROR",
                        "message": str(error),
                        "details": [{"field": "activity", "message": str(error)}],
                    }
                return 201, {"items": self.platform.faults.pending()}
            if (method, path) == ("DELETE", "/local/faults"):
                self.platform.faults.clear()
                return 200, {"items": []}
            if (method, path) == ("GET", "/local/definitions"):
                return 200, self.platform.definitions()
            if method == "POST" and path.startswith("/local/definitions/"):
                return self._publish_definition(path.removeprefix("/local/definitions/"), data)
        except ValidationError as error:
            return _validation_answer(error)
        return 404, {"error": "NOT_FOUND", "message": f"no local route {method} {path}", "details": []}


def _definition_error(field: str, message: str) -> tuple[int, dict[str, Any]]:
    return 422, {"error": "VALIDATION_ERROR", "message": message, "details": [{"field": field, "message": message}]}


def _response_headers(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """A Lambda proxy answer's headers: ``headers`` and ``multiValueHeaders`` merged, as API Gateway does."""
    merged = [(name, str(value)) for name, value in (answer.get("headers") or {}).items()]
    single = {name.lower() for name, _ in merged}
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        if name.lower() not in single:
            merged += [(name, str(value)) for value in values]
    return merged


def make_server(platform: LocalPlatform, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    router = LocalApi(platform)

    class Handler(BaseHTTPRequestHandler):
        server_version = "accu-local"
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: without TCP_NODELAY the body waits for the
        # client's delayed ACK (40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            try:
                length = max(0, int(self.headers.get("Content-Length") or 0))
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:  # what API Gateway refuses before the function
                self.close_connection = True
                self._answer(
                    413 if length > 0 else 400,
                    [],
                    json.dumps(
                        {
                            "error": "PAYLOAD_TOO_LARGE" if length > 0 else "BAD_REQUEST",
                            "message": "the body is over 10 MB" if length > 0 else "Content-Length is not a number",
                            "details": [{"field": "Content-Length", "in": "header"}],
                        }
                    ).encode(),
                )
                return
            body = self.rfile.read(length) if length else b""
            if console.is_console(urlsplit(self.path).path):
                self._answer(*console.answer(self.command, self.path))
                return
            headers: list[tuple[str, str]] = []
            try:
                answer = router.handle(self.command, self.path, dict(self.headers.items()), body)
                if isinstance(answer, dict):  # the API function's answer, passed through as API Gateway does
                    status = int(answer["statusCode"])
                    headers = _response_headers(answer)
                    text = answer.get("body") or ""
                    payload = base64.b64decode(text) if answer.get("isBase64Encoded") else text.encode()
                else:
                    status, payload = answer[0], json.dumps(answer[1]).encode()
            except Exception:  # an unexpected error must still answer, as API Gateway would
                logger.exception("request failed")
                status = 500
                payload = json.dumps({"error": "INTERNAL_ERROR", "message": "internal error", "details": []}).encode()
            self._answer(status, headers, payload)

        def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("Content-Type", "application/json"))
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # Every method, known or not, reaches the API function, which answers the ones it has no
            # route for (405), where http.server alone would answer an HTML 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # bursts of concurrent clients (the default backlog is 5)

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_background(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="local-api", daemon=True)
    thread.start()
    return thread
