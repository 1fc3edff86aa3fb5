"""Where the local runtime reaches into moto, and why (DESIGN §8). Pinned to one moto version:
each seam names a module attribute of moto's Step Functions engine; ``tests/integration/
test_moto_seams.py`` proves each one still works, so a moto upgrade that moves them fails loudly.

1. Time. The engine waits in a handful of places; each is given the virtual clock:
   task and callback timeouts, heartbeats (``threading.Event`` waits), Wait states
   (an Event wait, ``time.time`` and, for timestamps, ``datetime.now``), retry back-off
   (``time.sleep``). Its threads become ``AccountedThread`` so the clock knows when it is quiet.
2. Stopping. moto's StopExecution fails for an execution started a moment before (AWS accepts it);
   it marks the execution stopped but leaves a waiting task waiting (until its timeout, days
   later), where AWS ends it at once. Stopping now waits for the start, ends the execution's waits,
   and the error those ended waits raise no longer turns the stopped (ABORTED) execution FAILED.
3. Atomic requests. moto is not thread-safe; every emulated AWS request is handled under one lock,
   as each real request is atomic, so races in tests exercise our conditional writes, not moto's.
"""

from __future__ import annotations

import datetime as _datetime
import functools
import importlib
import threading
import time as _time
import types
from typing import Any

import moto

from infra.local import clock as virtual

PINNED_MOTO_VERSION = "5.2.5"
ENGINE = "moto.stepfunctions.parser"

# One lock around moto's request handling, re-entrant because a request may make another
# (a service integration calling a second service).
REQUEST_LOCK = threading.RLock()

_installed = False


class _VirtualDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        current = virtual.current()
        return current.now().astimezone(tz) if tz else current.naive_local_now()


def _module_like(original: types.ModuleType, **overrides: Any) -> types.SimpleNamespace:
    """A stand-in for a module inside one moto module: the overrides, else the original's attributes."""

    class Namespace(types.SimpleNamespace):
        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

    return Namespace(**overrides)


TIME_SEAMS: dict[str, dict[str, Any]] = {
    # module → attribute → replacement
    f"{ENGINE}.asl.component.state.exec.execute_state": {
        "threading": _module_like(threading, Event=virtual.ClockEvent),
        "Thread": virtual.AccountedThread,
    },
    f"{ENGINE}.asl.eval.callback.callback": {"Event": virtual.ClockEvent},
    f"{ENGINE}.asl.eval.environment": {"threading": _module_like(threading, Event=virtual.ClockEvent)},
    f"{ENGINE}.asl.component.program.program": {"threading": _module_like(threading, Thread=virtual.AccountedThread)},
    f"{ENGINE}.backend.execution_worker": {"Thread": virtual.AccountedThread},
    f"{ENGINE}.asl.component.common.retry.retrier_decl": {
        "time": _module_like(_time, sleep=lambda seconds: virtual.current().sleep(seconds)),
    },
    f"{ENGINE}.asl.component.state.wait.wait_function.wait_function": {
        "time": _module_like(_time, time=lambda: virtual.current().time()),
    },
    f"{ENGINE}.asl.component.state.wait.wait_function.timestamp": {
        "datetime": _module_like(_datetime, datetime=_VirtualDatetime),
    },
}


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def handle(*args: Any, **kwargs: Any) -> Any:
        with REQUEST_LOCK:
            return method(*args, **kwargs)

    handle.__wrapped_by_accu__ = True  # type: ignore[attr-defined]
    return handle


def install() -> None:
    """Apply the seams (once per process)."""
    global _installed
    if _installed:
        return
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise RuntimeError(
            f"the local runtime's seams are written for moto {PINNED_MOTO_VERSION}, not {moto.__version__}: "
            "check infra/local/moto_patches.py against the new engine, then update the pin"
        )
    for module_name, replacements in TIME_SEAMS.items():
        module = importlib.import_module(module_name)
        for attribute, replacement in replacements.items():
            if not hasattr(module, attribute):
                raise RuntimeError(f"{module_name} has no {attribute}: moto moved a seam")
            setattr(module, attribute, replacement)

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_stop = ExecutionWorker.stop

    def stop_and_end_waits(self: Any, *args: Any, **kwargs: Any) -> Any:
        # An execution stopped right after it started may not have built its environment yet
        # (moto then fails the request); AWS accepts the stop: give the start a moment to finish.
        deadline = _time.monotonic() + 5
        while getattr(self, "env", None) is None and _time.monotonic() < deadline:
            _time.sleep(0.001)
        result = original_stop(self, *args, **kwargs)
        virtual.current().expire_all(owner=self)
        return result

    ExecutionWorker.stop = stop_and_end_waits  # type: ignore[method-assign]

    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    original_set_error = Environment.set_error

    def set_error_unless_stopped(self: Any, error: Any) -> None:
        if isinstance(self._program_state, ProgramStopped):
            return
        original_set_error(self, error)

    Environment.set_error = set_error_unless_stopped  # type: ignore[method-assign]

    from moto.core.models import BotocoreStubber
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    BotocoreStubber.__call__ = _locked(BotocoreStubber.__call__)  # type: ignore[method-assign]
    DomainDispatcherApplication.__call__ = _locked(DomainDispatcherApplication.__call__)  # type: ignore[method-assign]
    _installed = True
