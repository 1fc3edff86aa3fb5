"""(d) Several clients at once, each driving its own lifecycles (each request sent once the one
before it answered) on its own project, against one client alone: total requests per second, the
latency of each request, the answers that were not 2xx, and then, for every lifecycle driven,
whether its history holds each transition exactly once, in order (nothing lost, nothing applied
twice). Each client has its own project, as applicants do: issuing on one shared project makes
every issuance a conflict to retry, a contention the integration tests cover, not a speed."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

from bench.http_client import OPERATOR, ApiClient
from bench.lifecycle import FINAL_STATUS, HAPPY_PATH, HISTORY_LENGTH, active_project, run_lifecycle, wait_for_status


@dataclass
class ClientsRun:
    clients: int
    lifecycles: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    workflow_ids: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def not_2xx(self) -> int:
        return sum(1 for status in self.statuses if not 200 <= status < 300)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)


def projects_for(api_url: str, label: str, clients: int) -> list[str]:
    """One ACTIVE project for each client."""
    projects = [f"{label}-project-{number}" for number in range(clients)]
    setup = ApiClient(api_url)
    for project in projects:
        active_project(setup, project)
    setup.close()
    return projects


def drive(api_url: str, projects: list[str], lifecycles_each: int, label: str) -> ClientsRun:
    """Each client (one per project) drives ``lifecycles_each`` lifecycles, all clients at once."""
    clients = len(projects)
    run = ClientsRun(clients, clients * lifecycles_each, 0.0)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client_work(number: int) -> None:
        client = ApiClient(api_url)
        start.wait()
        for lifecycle in range(lifecycles_each):
            outcome = run_lifecycle(client, f"{label}-c{number}-{lifecycle}", projects[number])
            with lock:
                run.latencies.extend(outcome.request_seconds)
                run.statuses.extend(outcome.statuses)
                run.workflow_ids.append(outcome.workflow_id)
                run.refusals.extend(outcome.refusals)
        client.close()

    threads = [threading.Thread(target=client_work, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    return run


def lost_or_duplicated(api_url: str, workflow_ids: list[str]) -> int:
    """How many lifecycles did not end ISSUED with exactly one history event per request, in order."""
    client = ApiClient(api_url)
    expected = [None, *(signal for _, signal, _ in HAPPY_PATH)]
    wrong = 0
    for workflow_id in workflow_ids:
        try:
            wait_for_status(client, workflow_id, FINAL_STATUS, seconds=30)
        except RuntimeError:
            wrong += 1
            continue
        history = client.call("GET", f"/workflows/{workflow_id}/history?limit=100", identity=OPERATOR).body["items"]
        sequences = [event["sequence"] for event in history]
        signals = [event["signal"] for event in history]
        if len(history) != HISTORY_LENGTH or sequences != list(range(1, HISTORY_LENGTH + 1)) or signals != expected:
            wrong += 1
    client.close()
    return wrong
