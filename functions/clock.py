"""The platform's clock. Handlers read time here, never from datetime directly, so the local
runtime and the tests can put every handler and the state machine engine on one virtual clock.

It also says how a handler pauses before it looks at the store again (a signal kept between two
waits, polled until it is applied): ``time.sleep`` in AWS; the local runtime, which sees every
write, ends the pause as soon as something is written."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], float] = time.time


def _sleep(seconds: float, about: str | None) -> None:
    time.sleep(seconds)


_pause: Callable[[float, str | None], None] = _sleep
_hold: Callable[[float], None] = time.sleep


def now() -> datetime:
    return datetime.fromtimestamp(_source(), tz=UTC)


def use(source: Callable[[], float] | None) -> None:
    """Read time from ``source`` (seconds since the epoch); None goes back to the system clock."""
    global _source
    _source = source or time.time


def pause(seconds: float, about: str | None = None) -> None:
    """Wait up to ``seconds`` (wall-clock time: nobody skips it) before looking again at ``about``
    (a workflow id), or at anything."""
    _pause(seconds, about)


def sleep(seconds: float) -> None:
    """Hold back for ``seconds`` whatever happens meanwhile (a batch keeping its rate): ``time.sleep`` in
    AWS; locally on the virtual clock, where a handler the engine runs is suspended, not its thread."""
    _hold(seconds)


def use_sleep(hold: Callable[[float], None] | None) -> None:
    global _hold
    _hold = hold or time.sleep


def use_pause(wait: Callable[[float, str | None], None] | None) -> None:
    """Pause with ``wait(seconds, about)``, which may end early when ``about`` changed; None: sleep."""
    global _pause
    _pause = wait or _sleep
