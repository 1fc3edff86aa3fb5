"""End-to-end: the local platform as a user starts it (``python -m infra.local``, what ``make local``
runs), driven over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalHttp:
    base: str
    outbox: Path
    aws_endpoint: str
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = None,
        groups: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        url = self.base + path
        if query:
            url += ("&" if "?" in url else "?") + "&".join(
                f"{key}={urllib.request.quote(value)}" for key, value in query.items()
            )
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if user:
            all_headers["X-User-Id"] = user
        if groups:
            all_headers["X-User-Groups"] = groups
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    __call__ = request


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHttp]:
    port, aws_port = free_port(), free_port()
    outbox = tmp_path_factory.mktemp("outbox")
    environment = {
        **os.environ,
        "PORT": str(port),
        "AWS_PORT": str(aws_port),
        "OUTBOX_DIR": str(outbox),
        "PYTHONPATH": str(ROOT),
    }
    # The platform's output goes to a file beside the outbox: read it when a test fails.
    log_path = outbox.parent / "local-platform.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    http = LocalHttp(f"http://127.0.0.1:{port}", outbox, f"http://127.0.0.1:{aws_port}", log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            if http("GET", "/health")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = log_path.read_text()
            raise RuntimeError(f"the local platform did not start:\n{output}")
        time.sleep(0.2)
    try:
        yield http
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
