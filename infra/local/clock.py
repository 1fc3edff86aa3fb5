"""A virtual clock for the local platform and the tests, and the engine that runs moto's Step
Functions threads on it.

The clock is wall-clock time plus an offset that only grows, and a way to jump it forward so that
every timer due in the jump fires, in order. The Step Functions engine (moto) waits on
``threading.Event`` objects and ``time.sleep`` and runs each execution on threads; the seams in
``moto_stepfunctions.py`` give it ``ClockEvent`` and ``EngineThread`` instead, so that

- a wait with a timeout ends when the *virtual* deadline passes;
- an engine thread is a greenlet on one OS thread (``GreenEngine``), not an OS thread: a waiting
  execution holds a few suspended greenlets (some kilobytes), never a thread, so ten thousand
  waiting executions cost what their data costs;
- the clock knows when the engine is quiet: every engine thread is suspended in a wait.
  ``advance`` waits for quiet before each jump, so a timer set by a step that has just run is not
  jumped over.

An engine thread is marked runnable again by whoever wakes it (``set``, or the jump that passes
its deadline), synchronously, so there is no gap in which the engine looks quiet but is about to
run. ``ClockEvent`` waits from ordinary threads (the API's, the tests') block as ``threading.Event``
waits do, on the virtual clock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import greenlet

QUIET_TIMEOUT_SECONDS = 30.0
_waiter_numbers = itertools.count(1)
logger = logging.getLogger("accu.local.engine")


@dataclass(eq=False)
class _Waiter:
    event: ClockEvent
    deadline: float | None
    # The engine thread waiting (None: an ordinary OS thread, blocked on the event's condition).
    engine_thread: EngineThread | None
    parked: bool = True
    # Its place in the clock's queue of deadlines (ties broken by arrival).
    number: int = field(default_factory=lambda: next(_waiter_numbers))

    def __lt__(self, other: _Waiter) -> bool:
        return self.number < other.number

    @property
    def owner(self) -> object | None:
        return self.engine_thread.owner if self.engine_thread is not None else None


@dataclass
class VirtualClock:
    offset: float = 0.0
    # A frozen clock moves only when advanced (deterministic tests); a running one also follows
    # the wall clock (the local platform, where retries and short waits should just happen).
    frozen: bool = False
    _frozen_at: float = field(default_factory=time.time)
    _lock: threading.Condition = field(default_factory=lambda: threading.Condition(threading.RLock()))
    # Parked waiters with a deadline, earliest first (a heap; woken ones are dropped when met).
    _deadlines: list[tuple[float, _Waiter]] = field(default_factory=list)
    # Parked waiters by the execution their thread works for (stopping one ends its waits).
    _by_owner: dict[int, set[_Waiter]] = field(default_factory=dict)
    # Parked ordinary threads with a deadline: told to look at the clock again when it jumps.
    _timed_threads: set[_Waiter] = field(default_factory=set)
    _parked: int = 0
    _timed: int = 0  # parked waiters with a deadline (the heap also holds stale entries)
    _runnable: int = 0
    # While ``advance`` runs: the time it moves to (a scheduler may coalesce snapshot runs up to it).
    skipping_to: float | None = None

    def __post_init__(self) -> None:
        self.engine = GreenEngine(self)

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

    @property
    def runnable(self) -> int:
        return self._runnable

    def _park(self, event: ClockEvent, timeout: float | None, engine_thread: EngineThread | None) -> _Waiter:
        waiter = _Waiter(event, None if timeout is None else self.time() + timeout, engine_thread)
        with self._lock:
            event._waiters.add(waiter)
            self._parked += 1
            if waiter.deadline is not None:
                self._timed += 1
                self._push_deadline(waiter)
                if engine_thread is None:
                    self._timed_threads.add(waiter)
            owner = waiter.owner
            if owner is not None:
                self._by_owner.setdefault(id(owner), set()).add(waiter)
            if engine_thread is not None:
                self._runnable -= 1
                self._lock.notify_all()
        return waiter

    def _unpark(self, waiter: _Waiter) -> None:
        with self._lock:
            if waiter in waiter.event._waiters:
                waiter.event._waiters.discard(waiter)
                self._parked -= 1
                if waiter.deadline is not None:
                    self._timed -= 1
            self._timed_threads.discard(waiter)
            owner = waiter.owner
            if owner is not None:
                waiters = self._by_owner.get(id(owner))
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._by_owner[id(owner)]
            if waiter.engine_thread is not None and waiter.parked:
                self._runnable += 1
            waiter.parked = False

    def _wake(self, waiters: list[_Waiter]) -> None:
        # Called with the lock held: the woken threads count as runnable from this moment.
        for waiter in waiters:
            if waiter.parked:
                waiter.parked = False
                if waiter.engine_thread is not None:
                    self._runnable += 1
                    self.engine.resume(waiter.engine_thread)

    def _event_set(self, event: ClockEvent) -> None:
        with self._lock:
            self._wake(list(event._waiters))

    def _push_deadline(self, waiter: _Waiter) -> None:
        assert waiter.deadline is not None
        heapq.heappush(self._deadlines, (waiter.deadline, waiter))
        if len(self._deadlines) > 2 * self._timed + 1024:
            # Most waits end by their event long before their deadline: drop what is stale.
            self._deadlines = [(d, w) for d, w in self._deadlines if w.parked and w.deadline == d]
            heapq.heapify(self._deadlines)

    def _earliest(self) -> _Waiter | None:
        """The parked waiter with the earliest deadline (called with the lock held)."""
        while self._deadlines:
            deadline, waiter = self._deadlines[0]
            if waiter.parked and waiter.deadline == deadline:
                return waiter
            heapq.heappop(self._deadlines)  # woken, or its deadline moved: not a timer any more
        return None

    def _due(self, now: float) -> list[_Waiter]:
        """Take the parked waiters whose deadline is ``now`` or before (called with the lock held)."""
        due = []
        while (waiter := self._earliest()) is not None and waiter.deadline is not None and waiter.deadline <= now:
            heapq.heappop(self._deadlines)
            due.append(waiter)
        return due

    # ----- skipping time ---------------------------------------------------------------------

    def wait_until_quiet(self, timeout: float = QUIET_TIMEOUT_SECONDS) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._runnable <= 0, timeout)

    def pending_deadlines(self, limit: int = 20) -> tuple[list[float], int]:
        """The earliest ``limit`` deadlines of the waits parked now, and how many have one."""
        with self._lock:
            waiting = [d for d, waiter in self._deadlines if waiter.parked and waiter.deadline == d]
        return heapq.nsmallest(limit, waiting), len(waiting)

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
                earliest = self._earliest()
                if earliest is None or earliest.deadline is None or earliest.deadline > target:
                    break
                self.offset = max(self.offset, earliest.deadline - self._base())
                fired = self._due(self.time())
                self._wake(fired)
            self._notify(fired)
        with self._lock:
            self.offset = max(self.offset, target - self._base())
        self._notify()
        settled()
        return self.now()

    def _notify(self, waiters: list[_Waiter] | None = None) -> None:
        """Wake waiters so they look at the clock again (the others sleep on by their new reckoning).
        Without a list: every ordinary thread waiting with a deadline, and the engine, which keeps
        its threads' deadlines itself."""
        if waiters is None:
            with self._lock:
                waiters = list(self._timed_threads)
            self.engine.poke()
        for waiter in waiters:
            if waiter.engine_thread is not None:
                self.engine.resume(waiter.engine_thread)
            else:
                with waiter.event._cond:
                    waiter.event._cond.notify_all()

    def expire_all(self, owner: object | None = None) -> None:
        """End every timed wait now, or every one of ``owner``'s threads (an execution being stopped)."""
        with self._lock:
            if owner is None:
                timed = [waiter for _, waiter in self._deadlines if waiter.parked and waiter.deadline is not None]
            else:
                timed = [waiter for waiter in self._by_owner.get(id(owner), ()) if waiter.deadline is not None]
            now = self.time()
            for waiter in timed:
                waiter.deadline = now
                self._push_deadline(waiter)
            self._wake(timed)
        self._notify(timed)

    def _expire_due(self) -> float | None:
        """Wake the engine threads whose deadline has passed; answers the seconds until the next one
        (None: no engine thread waits with a deadline, or the clock is frozen)."""
        with self._lock:
            now = self.time()
            self._wake(self._due(now))
            following = self._earliest()
        if following is None or following.deadline is None or self.frozen:
            return None
        return max(0.0, following.deadline - now)

    def sleep(self, seconds: float) -> None:
        ClockEvent().wait(seconds)

    def restart(self, frozen: bool) -> None:
        """Back to the wall clock (frozen at this moment, if ``frozen``), nothing waiting on it."""
        if not self.wait_until_quiet(5) or self._parked:
            raise RuntimeError("the clock can only restart once nothing waits on it")
        with self._lock:
            self.offset = 0.0
            self.frozen = frozen
            self._frozen_at = time.time()
            self._deadlines.clear()
            self.skipping_to = None

    def resume_offset(self, offset: float) -> None:
        """Take up the time skipped before a restart (the offset only grows); only while nothing
        waits on the clock, so no timer is jumped over."""
        with self._lock:
            if self._deadlines:
                raise RuntimeError("the clock's offset can only be restored before anything waits on it")
            self.offset = max(self.offset, offset)

    def close(self) -> None:
        self.engine.stop()


class ClockEvent(threading.Event):
    """A ``threading.Event`` whose timeouts run on the virtual clock, and whose waits suspend an
    engine thread (a greenlet) instead of blocking the engine's OS thread.

    Like ``threading.Event``, a ``set`` wakes the waiters even when a ``clear`` follows at once
    (moto pulses its program-state event that way)."""

    _cond: threading.Condition  # threading.Event's own condition and flag, which this class extends
    _flag: bool

    def __init__(self) -> None:
        super().__init__()
        self._pulses = 0
        # The waits parked on this event now.
        self._waiters: set[_Waiter] = set()

    def wait(self, timeout: float | None = None) -> bool:
        clock = current()
        engine_thread = clock.engine.current_thread()
        if engine_thread is not None:
            return self._wait_suspended(clock, engine_thread, timeout)
        with self._cond:
            if self._flag:
                return True
            pulses = self._pulses
            waiter = clock._park(self, timeout, None)
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

    def _wait_suspended(self, clock: VirtualClock, engine_thread: EngineThread, timeout: float | None) -> bool:
        if self._flag:
            return True
        clock.engine.check_may_suspend()
        pulses = self._pulses
        waiter = clock._park(self, timeout, engine_thread)
        try:
            while not self._flag and self._pulses == pulses:
                if waiter.deadline is not None and waiter.deadline <= clock.time():
                    break
                clock.engine.suspend()
            return self._flag or self._pulses != pulses
        finally:
            clock._unpark(waiter)

    def set(self) -> None:
        # The flag first, then the waiters are marked runnable (an engine thread resumed at once
        # must see it), both before anything waiting on the condition can run on.
        with self._cond:
            self._pulses += 1
            self._flag = True
            current()._event_set(self)
            self._cond.notify_all()


_thread_numbers = itertools.count(1)


class EngineThread:
    """What moto's engine gets for ``threading.Thread``: the same interface, run as a greenlet by
    the clock's ``GreenEngine``. The clock counts it as runnable from ``start`` until it ends,
    except while it is suspended in a ``ClockEvent`` wait (a ``join`` is such a wait)."""

    def __init__(
        self,
        group: None = None,
        target: Callable[..., Any] | None = None,
        name: str | None = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        daemon: bool | None = None,
    ):
        self._target = target
        self._args = args
        self._kwargs = kwargs or {}
        self.name = name or f"engine-{next(_thread_numbers)}"
        self.daemon = True
        self._alive = False
        self._finished_event = ClockEvent()
        self.greenlet: greenlet.greenlet | None = None
        # The execution a thread works for: inherited from the engine thread that made it; the
        # first thread of an execution is made with the execution worker's bound method as target.
        parent = current().engine.current_thread()
        self.owner: object | None = parent.owner if parent is not None else getattr(target, "__self__", None)

    def start(self) -> None:
        current().thread_started()
        self._alive = True
        current().engine.launch(self)

    def run(self) -> None:
        if self._target is not None:
            self._target(*self._args, **self._kwargs)

    def _bootstrap(self) -> None:
        try:
            self.run()
        except greenlet.GreenletExit:
            pass
        except BaseException:  # as threading does: report it, the thread ends
            logger.exception("engine thread %s failed", self.name)
        finally:
            self._alive = False
            # Wake the joiners before this thread stops counting, so the engine never looks quiet
            # between the end of a thread and its joiner moving on.
            self._finished_event.set()
            current().thread_finished()

    def join(self, timeout: float | None = None) -> None:
        self._finished_event.wait(timeout)

    def is_alive(self) -> bool:
        return self._alive


class GreenEngine:
    """One OS thread that runs every engine thread as a greenlet, one at a time (the GIL allows
    no more), switching when a thread waits. Greenlets belong to the OS thread that runs them, so
    threads are started and resumed through a queue this thread reads."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self._queue: deque[EngineThread] = deque()
        self._signal = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._loop: greenlet.greenlet | None = None
        self._live: set[EngineThread] = set()
        self._stopping = False
        # Conditions under which an engine thread must not be suspended (a lock it holds would be
        # re-entered by the next thread on the same OS thread): checks that raise.
        self.suspend_guards: list[Callable[[], None]] = []

    def os_thread_id(self) -> int | None:
        """The OS thread every engine thread runs on (None until the first one started)."""
        return self._thread_id

    def current_thread(self) -> EngineThread | None:
        if threading.get_ident() != self._thread_id:
            return None
        return getattr(greenlet.getcurrent(), "engine_thread", None)

    def launch(self, thread: EngineThread) -> None:
        self._enqueue(thread)

    def resume(self, thread: EngineThread) -> None:
        self._enqueue(thread)

    def poke(self) -> None:
        """Make the engine look at its threads' deadlines again (the clock jumped)."""
        with self._signal:
            self._signal.notify()

    def _enqueue(self, thread: EngineThread) -> None:
        with self._signal:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="local-engine", daemon=True)
                self._thread.start()
            self._queue.append(thread)
            self._signal.notify()

    def check_may_suspend(self) -> None:
        for guard in self.suspend_guards:
            guard()

    def suspend(self) -> None:
        """From an engine thread: give the OS thread back until this thread is resumed."""
        assert self._loop is not None
        self._loop.switch()

    @property
    def threads(self) -> int:
        """Engine threads started and not yet ended (running, runnable or suspended)."""
        return len(self._live)

    def stop(self) -> None:
        with self._signal:
            self._stopping = True
            self._signal.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        self._thread_id = threading.get_ident()
        self._loop = greenlet.getcurrent()
        while True:
            with self._signal:
                thread = self._queue.popleft() if self._queue else None
                stopping = self._stopping
            if stopping:
                break
            if thread is not None:
                self._step(thread)
                continue
            wait = self.clock._expire_due()
            with self._signal:
                if not self._queue and not self._stopping:
                    self._signal.wait(5.0 if wait is None else min(wait, 5.0))
        # Let what is still suspended end here, on its own OS thread.
        for thread in list(self._live):
            if thread.greenlet is not None and not thread.greenlet.dead:
                thread.greenlet.throw(greenlet.GreenletExit)
        self._live.clear()

    def _step(self, thread: EngineThread) -> None:
        if thread.greenlet is None:
            if not thread._alive:
                return
            thread.greenlet = greenlet.greenlet(run=thread._bootstrap, parent=self._loop)
            thread.greenlet.engine_thread = thread  # type: ignore[attr-defined]
            self._live.add(thread)
        elif thread.greenlet.dead:
            return
        thread.greenlet.switch()
        if thread.greenlet.dead:
            self._live.discard(thread)
            thread.greenlet = None


_current = VirtualClock()


def current() -> VirtualClock:
    return _current


def install(clock: VirtualClock) -> None:
    global _current
    _current = clock
