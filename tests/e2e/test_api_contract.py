"""The API contract (DESIGN §5) holds over HTTP: schemathesis, with all its checks, as each group and
without an identity, finds no server error, no status the OpenAPI document does not declare and no
answer off its schema; Swagger UI renders the document in a browser with no network.

The schemathesis runs are seeded (``SCHEMATHESIS_SEED`` picks another seed) and bounded, so the
suite stays fast; each group runs against a platform of its own, so what one run creates does not
meet the others or the other end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.launcher import ROOT, LocalProcess, start_local_platform

SEED = os.environ.get("SCHEMATHESIS_SEED", "20261125")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20")
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
IDENTITIES = {
    "operators": ("olga", "operators"),
    "applicants": ("alice", "applicants"),
    "reviewers": ("rita", "reviewers"),
    "approvers": ("adam", "approvers"),
    "no identity": None,
}


@pytest.fixture
def fresh_platform(tmp_path: Path) -> Iterator[LocalProcess]:
    platform = start_local_platform(tmp_path)
    try:
        yield platform
    finally:
        platform.stop()


@pytest.mark.parametrize("identity", list(IDENTITIES))
def test_schemathesis_with_all_its_checks_finds_nothing(fresh_platform, identity):
    # Given the local platform and a caller of one group (or none)
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{fresh_platform.api_url}/openapi.json",
        "--checks",
        "all",
        "--seed",
        SEED,
        "--max-examples",
        MAX_EXAMPLES,
    ]
    if IDENTITIES[identity]:
        user, groups = IDENTITIES[identity]
        command += ["-H", f"X-User-Id: {user}", "-H", f"X-User-Groups: {groups}"]

    # When schemathesis generates requests from the OpenAPI document (schemathesis.toml applies)
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)

    # Then every answer held to the document: no failure of any check
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in run.stdout


def test_swagger_ui_renders_every_operation_without_network(local, browser, tmp_path):
    # Given a browser that may reach nothing but the local platform
    outside: list[str] = []
    page = browser.new_page()

    def only_local(route):
        if route.request.url.startswith(local.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)

    # When it opens /swagger
    page.goto(f"{local.base}/swagger")
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    operations = [text.replace("\u200b", "") for text in page.locator(".opblock-summary-path").all_inner_texts()]
    title = page.locator(".title").first.inner_text()
    page.screenshot(path=str(tmp_path / "swagger.png"), full_page=True)
    page.close()

    # Then the page is Swagger UI with every documented operation, from the platform alone
    assert "ACCU workflow platform" in title
    assert {"/workflows", "/workflows/{workflowId}/signals/{signalName}", "/metrics"} <= set(operations)
    assert len(operations) >= 13
    assert outside == []
