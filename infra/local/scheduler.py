"""The local scheduler: the catalog's schedules (EventBridge Scheduler in AWS) on the virtual clock.

One engine thread waits on the clock for the next due schedule and invokes its target handler
in-process, so skipping time fires every schedule due in the span, in order, and the clock waits
for each run to finish. ``run_now`` runs one at once (``make schedule NAME=...``).

A schedule that acts only on the workflows of one index (the recovery: failed workflows without a
decision) does nothing while that index is empty: such a run is not made, only counted, which
gives the same result and lets a year be skipped in seconds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.catalog import SCHEDULES, Schedule
from infra.local import clock as virtual

logger = logging.getLogger("accu.local.scheduler")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((\S+) (\S+) \* \* \? \*\)$")


def next_fire(expression: str, after: datetime, origin: datetime) -> datetime:
    """The first time strictly after ``after`` that ``expression`` fires (rates count from ``origin``)."""
    rate = _RATE.match(expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        period = timedelta(**{f"{unit}s": amount}).total_seconds()
        elapsed = (after - origin).total_seconds()
        return origin + timedelta(seconds=(int(elapsed // period) + 1) * period)
    cron = _CRON.match(expression)
    if cron:
        minute, hour = (int(part) for part in cron.groups())
        candidate = after.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return candidate if candidate > after else candidate + timedelta(days=1)
    raise ValueError(f"the local scheduler reads rate(N unit) and daily cron(M H * * ? *), not {expression!r}")


@dataclass
class ScheduleRun:
    schedule: str
    at: str
    result: Any


class LocalScheduler:
    def __init__(self, invoke: Callable[[str, Any], Any], index_is_empty: Callable[[str], bool] | None = None):
        self._invoke = invoke
        self._index_is_empty = index_is_empty
        # Runs not made because there was nothing for them to act on, by schedule.
        self.idle_runs: dict[str, int] = {schedule.name: 0 for schedule in SCHEDULES}
        # When the schedules started (rates count from it); set by the scheduler's thread.
        self._origin: datetime | None = None
        self.runs: list[ScheduleRun] = []
        self._stop = virtual.ClockEvent()
        self._thread: virtual.EngineThread | None = None
        self._lock = threading.Lock()
        for schedule in SCHEDULES:
            next_fire(schedule.expression, datetime.now(tz=UTC), datetime.now(tz=UTC))  # fail early if unreadable

    def start(self) -> None:
        self._thread = virtual.EngineThread(target=self._loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def upcoming(self) -> list[dict[str, Any]]:
        now = virtual.current().now()
        return [
            {
                "schedule": s.name,
                "expression": s.expression,
                "target": s.target,
                "next": next_fire(s.expression, now, self._origin or now).isoformat(),
                "runs": sum(1 for run in self.runs if run.schedule == s.name),
                "idleRuns": self.idle_runs[s.name],
            }
            for s in SCHEDULES
        ]

    def run_now(self, name: str) -> Any:
        schedule = next((s for s in SCHEDULES if s.name == name), None)
        if schedule is None:
            raise KeyError(name)
        return self._run(schedule)

    def _loop(self) -> None:
        clock = virtual.current()
        origin = self._origin = clock.now()
        due = {s.name: next_fire(s.expression, origin, origin) for s in SCHEDULES}
        while True:
            name = min(due, key=lambda key: due[key])
            wait = (due[name] - clock.now()).total_seconds()
            if wait > 0 and self._stop.wait(wait):
                return
            if self._stop.is_set():
                return
            schedule = next(s for s in SCHEDULES if s.name == name)
            try:
                if self._idle(schedule):
                    self.idle_runs[name] += 1
                else:
                    self._run(schedule)
            except Exception:  # Scheduler would retry, then dead-letter: say it loudly and go on
                logger.exception("schedule %s failed", name)
            due[name] = self._next(schedule, due[name], clock)

    def _idle(self, schedule: Schedule) -> bool:
        index = schedule.acts_on_index
        return index is not None and self._index_is_empty is not None and self._index_is_empty(index)

    def _next(self, schedule: Schedule, fired: datetime, clock: virtual.VirtualClock) -> datetime:
        origin = self._origin or fired
        following = next_fire(schedule.expression, fired, origin)
        target = clock.skipping_to
        if not schedule.snapshot or target is None:
            return following
        # Skipping over many runs of a snapshot: run it once more, at the last one in the span.
        last = following
        while (candidate := next_fire(schedule.expression, last, origin)).timestamp() <= target:
            last = candidate
        return last

    def _run(self, schedule: Schedule) -> Any:
        result = self._invoke(schedule.target, {"schedule": schedule.name})
        with self._lock:
            self.runs.append(ScheduleRun(schedule.name, virtual.current().now().isoformat(), result))
        return result
