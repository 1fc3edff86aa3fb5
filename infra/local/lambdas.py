"""Lambda invocations run the catalog's handlers in-process, unchanged (DESIGN §8).

The seam is a botocore ``before-call.lambda.Invoke`` handler on the boto3 session: the state
machine engine's Invoke never leaves the process; the handler's answer (or its error, in Lambda's
error shape) becomes the Invoke response. Faults injected through ``FaultPlan`` make chosen
invocations fail the way a real activity would, transiently or for good, or hold them back.
"""

from __future__ import annotations

import importlib
import io
import json
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from functions.domain.errors import PermanentActivityError, TransientActivityError
from infra.catalog import FUNCTIONS, FunctionSpec
from infra.local import permissions
from infra.local.faults import FaultPlan


class LocalLambdaContext:
    def __init__(self, spec: FunctionSpec, function_arn: str):
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    module_name, function_name = spec.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


def function_name_from_path(url_path: str) -> str:
    # /2015-03-31/functions/<name or ARN, url-encoded>/invocations
    target = unquote(url_path.split("/functions/", 1)[1].split("/invocations", 1)[0])
    if target.startswith("arn:"):
        target = target.split(":function:", 1)[1]
    return target.split(":", 1)[0]


class InProcessLambdas:
    """The ``before-call.lambda.Invoke`` handler."""

    def __init__(
        self,
        region: str,
        account: str,
        faults: FaultPlan,
    ):
        self.region = region
        self.account = account
        self.faults = faults
        # Invocations so far, by function, and the seconds they took (what Lambda would bill).
        self.invocations: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)

    def reset(self) -> None:
        """No fault planned, no invocation counted."""
        self.faults.clear()
        self.invocations.clear()
        self.seconds.clear()

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def invoke(self, name: str, event: Any) -> Any:
        """Run a catalog function's handler in-process, as Lambda would (its exceptions propagate)."""
        spec = FUNCTIONS[name]
        started = time.perf_counter()
        try:
            with permissions.acting_as(spec):
                return resolve_handler(spec)(event, LocalLambdaContext(spec, self.function_arn(name)))
        finally:
            self.invocations[name] += 1
            self.seconds[name] += time.perf_counter() - started

    def __call__(self, model: Any, params: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        name = function_name_from_path(params["url_path"])
        spec = FUNCTIONS.get(name)
        if spec is None:
            return None  # not ours: let moto answer
        body = params.get("body") or b"{}"
        event = json.loads(body.decode() if isinstance(body, bytes) else body)
        try:
            self._inject_fault(spec.name, event)
            result = self.invoke(spec.name, event)
            return _invoke_response(json.dumps(result).encode())
        except Exception as error:  # Lambda turns an unhandled exception into a function error
            failure = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return _invoke_response(json.dumps(failure).encode(), function_error="Unhandled")

    def _inject_fault(self, activity: str, event: dict[str, Any]) -> None:
        workflow_id = event.get("workflowId")
        fault = self.faults.failing(activity, workflow_id)
        if fault is None:
            return
        message = f"injected {fault.kind} fault in {activity} for {workflow_id}"
        raise TransientActivityError(message) if fault.kind == "transient" else PermanentActivityError(message)


def _invoke_response(payload: bytes, function_error: str | None = None) -> tuple[AWSResponse, dict[str, Any]]:
    parsed: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
        "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}},
    }
    if function_error:
        parsed["FunctionError"] = function_error
    return AWSResponse("http://lambda.local", 200, {}, None), parsed
