"""The platform's REST API as an operator (or any caller) uses it: locally with the identity headers
the local platform takes for Cognito's, against AWS with a Cognito ID token."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from infra.local.names import DEFAULT_API_PORT

OPERATORS = "operators"


def default_api_url() -> str:
    return os.environ.get("ACCU_API_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or DEFAULT_API_PORT}"


class ApiUnreachable(Exception):
    """No answer from the API (not started, wrong URL)."""


@dataclass
class ApiError(Exception):
    """The API refused: its status, and its error body (``error``, ``message``, ``details``, ...)."""

    status: int
    body: Any

    def __str__(self) -> str:
        if isinstance(self.body, dict):
            code, message = self.body.get("error", "ERROR"), self.body.get("message", "")
            extra = {key: value for key, value in self.body.items() if key not in ("error", "message")}
            lines = [f"{self.status} {code}: {message}"]
            lines += [f"  {key}: {json.dumps(value, default=str)}" for key, value in extra.items() if value]
            return "\n".join(lines)
        return f"{self.status}: {self.body}"


class PlatformApi:
    def __init__(self, base_url: str, headers: dict[str, str], timeout_seconds: float = 60.0):
        self.base = base_url.rstrip("/")
        self.headers = headers
        self.timeout_seconds = timeout_seconds

    @classmethod
    def as_caller(cls, base_url: str, user: str, groups: str, token: str | None = None) -> PlatformApi:
        """Locally the identity headers; with a token (a deployment), the token alone."""
        headers = {"Authorization": token} if token else {"X-User-Id": user, "X-User-Groups": groups}
        return cls(base_url, headers)

    def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        """The answer's JSON body; ApiError for any status but 2xx."""
        status, answer = self.request(method, path, body, query)
        if not 200 <= status < 300:
            raise ApiError(status, answer)
        return answer

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> tuple[int, Any]:
        url = self.base + path
        wanted = {key: value for key, value in (query or {}).items() if value is not None}
        if wanted:
            url += "?" + urllib.parse.urlencode(wanted)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except OSError as error:
            raise ApiUnreachable(
                f"no answer from the API at {self.base} ({error}); is `make local` running?"
            ) from error


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError:
        return raw.decode(errors="replace")
