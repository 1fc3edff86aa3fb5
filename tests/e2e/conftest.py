"""End-to-end: the local platform as a user starts it (``python -m infra.local``, what ``make local``
runs), driven over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.launcher import start_local_platform

# Debian's Chromium (`make browser` installs it); Playwright's own browser download does not work offline.
CHROMIUM = Path("/usr/bin/chromium")


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


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHttp]:
    """One local platform for every end-to-end test, started as a user starts it, on ports the
    system picks (the tests use their own workflow ids, so they do not meet)."""
    work_dir = tmp_path_factory.mktemp("local-platform")
    platform = start_local_platform(work_dir)
    try:
        yield LocalHttp(platform.api_url, work_dir / "outbox", platform.aws_url, platform.log)
    finally:
        platform.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the worker's browser tests (each test opens its own context)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()
