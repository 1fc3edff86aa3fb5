"""Integration tests run the platform on moto's embedded AWS: the real ASL on moto's Step Functions
engine, the real handlers, DynamoDB, SNS; time skipped on the virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.platform import LocalPlatform
from tests.support.actors import APPLICANT, APPROVER, OPERATOR, REVIEWER, Client


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalPlatform]:
    """A fresh platform per test, on a frozen clock: time moves only when the test skips it.
    Parametrize indirectly with a dict to change its settings."""
    settings = {"signal_apply_wait_seconds": 2.0, **getattr(request, "param", {})}
    local = LocalPlatform(outbox_dir=tmp_path / "outbox", frozen_clock=True, **settings).start()
    try:
        yield local
    finally:
        local.stop()


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
