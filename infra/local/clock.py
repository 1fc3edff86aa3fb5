"""A virtual clock for the local platform and the tests: wall-clock time plus an offset that only
grows, and a way to jump it forward so that every timer due in the jump fires, in order.

The Step Functions engine (moto) waits on ``threading.Event`` objects and ``time.sleep``; the
patches in ``moto_time.py`` give it ``ClockEvent`` and ``AccountedThread`` instead, so that

- a wait with a timeout ends when the *virtual* deadline passes, and
- the clock knows when the engine is quiet: every engine thread is parked in a wait. ``advance``
  waits for quiet before each jump, so a timer set by a step that has just run is not jumped over.

A thread is marked runnable again by whoever wakes it (``set``, or the jump that passes its
deadline), synchronously, so there is no gap in which the engine looks quiet but is about to run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

QUIET_TIMEOUT_SECONDS = 30.0


@dataclass(eq=False)
class _Waiter:
    event: ClockEvent
    deadline: float | None
    accounted: bool
    owner: object | None = None
    parked: bool = True


@dataclass
class VirtualClock:
    offset: float = 0.0
    # A frozen clock moves only when advanced (deterministic tests); a running one also follows
    # the wall clock (the local platform, where retries and short waits should just happen).
    frozen: bool = False
    _frozen_at: float = field(default_factory=time.time)
    _lock: threading.Condition = field(default_factory=lambda: threading.Condition(threading.RLock()))
    _waiters: set[_Waiter] = field(default_factory=set)
    _runnable: int = 0
    # While ``advance`` runs: the time it moves to (a scheduler may coalesce snapshot runs up to it).
    skipping_to: float | None = None

    # ----- reading ---------------------------------------------------------------------------

    def _base(self) -> float:
        return self._frozen_at if self.frozen else time.time()

    def time(self) -> float:
        return self._base() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def naive_local_now(self) -> datetime:
        """What ``datetime.now()`` answers, on the virtual clock (local time, no zone)."""
        return datetime.fromtimestamp(self.time())

    # ----- engine threads --------------------------------------------------------------------

    def thread_started(self) -> None:
        with self._lock:
            self._runnable += 1

    def thread_finished(self) -> None:
        with self._lock:
            self._runnable -= 1
            self._lock.notify_all()

    def _park(self, event: ClockEvent, timeout: float | None) -> _Waiter:
        thread = threading.current_thread()
        accounted = isinstance(thread, AccountedThread)
        owner = thread.owner if isinstance(thread, AccountedThread) else None
        waiter = _Waiter(event, None if timeout is None else self.time() + timeout, accounted, owner)
        with self._lock:
            self._waiters.add(waiter)
            if accounted:
                self._runnable -= 1
                self._lock.notify_all()
        return waiter

    def _unpark(self, waiter: _Waiter) -> None:
        with self._lock:
            self._waiters.discard(waiter)
            if waiter.accounted and waiter.parked:
                self._runnable += 1
            waiter.parked = False

    def _wake(self, waiters: list[_Waiter]) -> None:
        # Called with the lock held: the woken threads count as runnable from this moment.
        for waiter in waiters:
            if waiter.parked:
                waiter.parked = False
                if waiter.accounted:
                    self._runnable += 1

    def _event_set(self, event: ClockEvent) -> None:
        with self._lock:
            self._wake([waiter for waiter in self._waiters if waiter.event is event])

    # ----- skipping time ---------------------------------------------------------------------

    def wait_until_quiet(self, timeout: float = QUIET_TIMEOUT_SECONDS) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._runnable <= 0, timeout)

    def pending_deadlines(self) -> list[float]:
        with self._lock:
            return sorted(w.deadline for w in self._waiters if w.parked and w.deadline is not None)

    def advance(self, seconds: float, settle: Callable[[], None] | None = None) -> datetime:
        """Move time forward by ``seconds``; every timer due by then fires, in deadline order,
        each one only once the engine is quiet again after the one before (``settle`` waits for
        what else the platform runs: event deliveries)."""
        if seconds < 0:
            raise ValueError("time only moves forward")

        def settled() -> None:
            if settle is None:
                self.wait_until_quiet()
            else:
                settle()

        target = self.time() + seconds
        self.skipping_to = target
        try:
            return self._advance_to(target, settled)
        finally:
            self.skipping_to = None

    def _advance_to(self, target: float, settled: Callable[[], None]) -> datetime:
        while True:
            settled()
            with self._lock:
                due = [w for w in self._waiters if w.parked and w.deadline is not None and w.deadline <= target]
                if not due:
                    break
                earliest = min(w.deadline for w in due if w.deadline is not None)
                self.offset = max(self.offset, earliest - self._base())
                fired = [w for w in due if w.deadline is not None and w.deadline <= self.time()]
                self._wake(fired)
            self._notify(fired)
        with self._lock:
            self.offset = max(self.offset, target - self._base())
        self._notify()
        settled()
        return self.now()

    def _notify(self, waiters: list[_Waiter] | None = None) -> None:
        """Wake waiters so they look at the clock again (the others sleep on by their new reckoning)."""
        if waiters is None:
            with self._lock:
                waiters = [w for w in self._waiters if w.parked and w.deadline is not None]
        for waiter in waiters:
            with waiter.event._cond:  # type: ignore[attr-defined]
                waiter.event._cond.notify_all()  # type: ignore[attr-defined]

    def expire_all(self, owner: object | None = None) -> None:
        """End every timed wait now, or every one of ``owner``'s threads (an execution being stopped)."""
        with self._lock:
            timed = [
                waiter
                for waiter in self._waiters
                if waiter.parked and waiter.deadline is not None and (owner is None or waiter.owner is owner)
            ]
            for waiter in timed:
                waiter.deadline = self.time()
            self._wake(timed)
        self._notify(timed)

    def sleep(self, seconds: float) -> None:
        ClockEvent().wait(seconds)


class ClockEvent(threading.Event):
    """A ``threading.Event`` whose timeouts run on the virtual clock.

    Like ``threading.Event``, a ``set`` wakes the waiters even when a ``clear`` follows at once
    (moto pulses its program-state event that way)."""

    _cond: threading.Condition  # threading.Event's own condition and flag, which this class extends
    _flag: bool

    def __init__(self) -> None:
        super().__init__()
        self._pulses = 0

    def wait(self, timeout: float | None = None) -> bool:
        clock = current()
        with self._cond:
            if self._flag:
                return True
            pulses = self._pulses
            waiter = clock._park(self, timeout)
            try:
                while not self._flag and self._pulses == pulses:
                    if waiter.deadline is None:
                        self._cond.wait()
                        continue
                    remaining = waiter.deadline - clock.time()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                return self._flag or self._pulses != pulses
            finally:
                clock._unpark(waiter)

    def set(self) -> None:
        current()._event_set(self)
        with self._cond:
            self._pulses += 1
            self._flag = True
            self._cond.notify_all()


class AccountedThread(threading.Thread):
    """An engine thread: the clock counts it as runnable from ``start`` until it ends, except
    while it is parked in a ``ClockEvent`` wait (a ``join`` is such a wait)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._finished_event = ClockEvent()
        # The execution a thread works for: inherited from the engine thread that made it; the
        # first thread of an execution is made with the execution worker's bound method as target.
        parent = threading.current_thread()
        target = kwargs.get("target")
        self.owner: object | None = (
            parent.owner if isinstance(parent, AccountedThread) else getattr(target, "__self__", None)
        )

    def start(self) -> None:
        current().thread_started()
        try:
            super().start()
        except BaseException:
            current().thread_finished()
            raise

    def run(self) -> None:
        try:
            super().run()
        finally:
            # Wake the joiners before this thread stops counting, so the engine never looks quiet
            # between the end of a thread and its joiner moving on.
            self._finished_event.set()
            current().thread_finished()

    def join(self, timeout: float | None = None) -> None:
        self._finished_event.wait(timeout)


_current = VirtualClock()


def current() -> VirtualClock:
    return _current


def install(clock: VirtualClock) -> None:
    global _current
    _current = clock
