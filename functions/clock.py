"""The platform's clock. Handlers read time here, never from datetime directly, so the local
runtime and the tests can put every handler and the state machine engine on one virtual clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], float] = time.time


def now() -> datetime:
    return datetime.fromtimestamp(_source(), tz=UTC)


def use(source: Callable[[], float] | None) -> None:
    """Read time from ``source`` (seconds since the epoch); None goes back to the system clock."""
    global _source
    _source = source or time.time
