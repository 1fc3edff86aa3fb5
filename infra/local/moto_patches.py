"""Where the local runtime reaches into moto, and why (DESIGN §8): every seam, pinned to one moto
version. Each seam lives with the service it bridges and says why it is there:

- ``moto_stepfunctions.py``: time and threads (the virtual clock, executions as greenlets),
  stopping, one parse per definition, lookups by key;
- ``moto_dynamodb.py``: scoped transactions, the partition index;
- here, for every request: **atomic requests**. moto is not thread-safe; every emulated AWS
  request is handled under one lock, as each real request is atomic, so races in tests exercise
  our conditional writes, not moto's. An engine thread may never wait while it holds that lock
  (the next engine thread on the same OS thread would re-enter it): the engine refuses to suspend
  it. And **a response class's methods listed once**: moto lists them (``inspect.getmembers``)
  for every request; classes do not change while it runs.

``tests/integration/test_moto_seams.py`` proves each seam still works, so a moto upgrade that moves
one fails loudly.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import moto

from infra.local import clock as virtual
from infra.local import moto_dynamodb, moto_stepfunctions

PINNED_MOTO_VERSION = "5.2.5"


class RequestLock:
    """The lock around moto's request handling: re-entrant (a request may make another, a service
    integration calling a second service), and the engine's thread goes first when it waits. The
    engine opening a wait is what the API's clients wait for; with many clients, a lock handed
    out in any order keeps the engine queued behind their requests, so waits open late, signals
    arrive before them and cost more: serving the engine first keeps the whole platform faster."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._engine_waiting = 0
        self.engine_thread_id: Callable[[], int | None] = lambda: None

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            engine = me == self.engine_thread_id()
            if engine:
                self._engine_waiting += 1
            try:
                while self._owner is not None or (not engine and self._engine_waiting):
                    self._state.wait()
            finally:
                if engine:
                    self._engine_waiting -= 1
            self._owner = me
            self._depth = 1

    def release(self) -> None:
        with self._state:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()

    def _is_owned(self) -> bool:
        return self._owner == threading.get_ident()

    def __enter__(self) -> RequestLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


REQUEST_LOCK = RequestLock()

_installed = False


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def handle(*args: Any, **kwargs: Any) -> Any:
        with REQUEST_LOCK:
            return method(*args, **kwargs)

    handle.__wrapped_by_accu__ = True  # type: ignore[attr-defined]
    return handle


def refuse_to_suspend_inside_a_request() -> None:
    if REQUEST_LOCK._is_owned():
        raise RuntimeError("an engine thread would wait while it handles an emulated AWS request")


def install(clock: virtual.VirtualClock | None = None) -> None:
    """Apply the seams (once per process); ``clock`` is the clock whose engine gets the guard."""
    global _installed
    if clock is not None:
        if refuse_to_suspend_inside_a_request not in clock.engine.suspend_guards:
            clock.engine.suspend_guards.append(refuse_to_suspend_inside_a_request)
        REQUEST_LOCK.engine_thread_id = clock.engine.os_thread_id
    if _installed:
        return
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise RuntimeError(
            f"the local runtime's seams are written for moto {PINNED_MOTO_VERSION}, not {moto.__version__}: "
            "check infra/local/moto_*.py against the new version, then update the pin"
        )
    moto_stepfunctions.install()
    moto_dynamodb.install()

    from moto.core.models import BotocoreStubber
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    BotocoreStubber.__call__ = _locked(BotocoreStubber.__call__)  # type: ignore[method-assign]
    DomainDispatcherApplication.__call__ = _locked(DomainDispatcherApplication.__call__)  # type: ignore[method-assign]

    from moto.core import responses

    if not hasattr(responses, "method_names_from_class"):
        raise RuntimeError("moto.core.responses has no method_names_from_class: moto moved a seam")
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    _installed = True
