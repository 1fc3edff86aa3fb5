"""Integration tests run the platform on moto's embedded AWS: the real ASL on moto's Step Functions
engine, the real handlers, DynamoDB, SNS; time skipped on the virtual clock.

One platform serves the whole session; before each test it is reset (``LocalPlatform.reset``):
every workflow, execution, item, e-mail and event gone, the clock frozen anew, the test's settings
applied. That costs a fraction of starting a platform, and each test still begins from nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.platform import LocalPlatform
from tests.support.actors import APPLICANT, APPROVER, OPERATOR, REVIEWER, Client

# What every test gets unless it asks for other settings (parametrize ``platform`` indirectly).
DEFAULT_SETTINGS = {
    "signal_apply_wait_seconds": 2.0,
    "frozen_clock": True,
    "schedules": False,
    "timeout_overrides": {},
    "operations_settings": {},
}


@pytest.fixture(scope="session")
def shared_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    local = LocalPlatform(outbox_dir=tmp_path_factory.mktemp("outbox"), frozen_clock=True).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path, shared_platform: LocalPlatform) -> LocalPlatform:
    """The session's platform, reset for this test, on a frozen clock: time moves only when the test
    skips it. Parametrize indirectly with a dict to change its settings."""
    return shared_platform.reset(
        outbox_dir=tmp_path / "outbox", **{**DEFAULT_SETTINGS, **getattr(request, "param", {})}
    )


@pytest.fixture
def applicant(platform: LocalPlatform) -> Client:
    return Client(platform.api, APPLICANT)


@pytest.fixture
def reviewer(platform: LocalPlatform) -> Client:
    return Client(platform.api, REVIEWER)


@pytest.fixture
def approver(platform: LocalPlatform) -> Client:
    return Client(platform.api, APPROVER)


@pytest.fixture
def operator(platform: LocalPlatform) -> Client:
    return Client(platform.api, OPERATOR)
