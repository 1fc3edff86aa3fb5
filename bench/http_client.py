"""A client of the local platform's REST API, as a program would be: one keep-alive connection,
JSON in and out, the identity headers, and the time each request took."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Identity:
    user: str
    groups: str


APPLICANT = Identity("alice", "applicants")
REVIEWER = Identity("rita", "reviewers")
APPROVER = Identity("paul", "approvers")
OPERATOR = Identity("olga", "operators")


@dataclass
class Answer:
    status: int
    body: Any
    seconds: float


@dataclass
class ApiClient:
    base_url: str
    timeout: float = 120.0
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None, identity: Identity | None = OPERATOR) -> Answer:
        headers = {"Content-Type": "application/json"}
        if identity is not None:
            headers.update({"X-User-Id": identity.user, "X-User-Groups": identity.groups})
        payload = None if body is None else json.dumps(body).encode()
        started = time.perf_counter()
        for attempt in range(2):
            connection = self._connection or http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._connection = connection
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._connection = None
                if attempt:
                    raise
        seconds = time.perf_counter() - started
        self.latencies.append(seconds)
        self.statuses.append(response.status)
        return Answer(response.status, json.loads(data) if data else None, seconds)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
