"""The platform's REST API, as an operator calls it (what ``accu migrate move`` moves workflows through)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from cli.target import Target, TargetUnreachable
from functions.service.moves import MoveRefused


class PlatformApi:
    def __init__(self, target: Target, timeout_seconds: float = 60.0):
        if not target.api_url:
            raise TargetUnreachable(f"the REST API of the {target.description} is not known")
        self.base = target.api_url
        self.headers = dict(target.api_headers)
        self.timeout_seconds = timeout_seconds

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except OSError as error:
            raise TargetUnreachable(f"cannot reach the REST API at {self.base} ({error})") from error

    def move(self, workflow_id: str, status: str, reason: str, from_version: int | None, to_version: int) -> None:
        """The operator intervention ``moveExecution``; MoveRefused with the platform's answer if refused."""
        body = {
            "action": "moveExecution",
            "reason": reason,
            "status": status,
            "fromDefinitionVersion": from_version,
            "toDefinitionVersion": to_version,
        }
        code, answer = self.request("POST", f"/workflows/{workflow_id}/interventions", body)
        if code != 200:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise MoveRefused(f"{code}: {message}")
