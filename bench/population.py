"""Running workflows for the benchmark to live among: ``accu-application`` workflows started through
the API by several clients at once, each with its execution waiting for a signal; one in a hundred
submitted (its reviewer-assignment timer set: it escalates every 14 days). And what the platform's
process holds for them: resident memory, OS threads, engine threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bench.http_client import APPLICANT, ApiClient
from bench.lifecycle import application_input, expect

SUBMITTED_EVERY = 100
SEEDING_CLIENTS = 4


def seed(api_url: str, first: int, count: int, submitted_every: int | None = SUBMITTED_EVERY) -> None:
    """Start workflows ``seed-<first>`` .. ``seed-<first + count - 1>``, over several clients; every
    ``submitted_every``-th submitted (None: all left drafts)."""
    numbers = list(range(first, first + count))
    failures: list[BaseException] = []

    def client_work(share: list[int]) -> None:
        client = ApiClient(api_url)
        try:
            for number in share:
                workflow_id = f"seed-{number}"
                answer = client.call(
                    "POST",
                    "/workflows",
                    {"type": "accu-application", "workflowId": workflow_id, "input": application_input()},
                    APPLICANT,
                )
                expect(answer.status, (201,), f"start {workflow_id}", answer.body)
                if submitted_every and number % submitted_every == submitted_every - 1:
                    answer = client.call("POST", f"/workflows/{workflow_id}/signals/submitApplication", {}, APPLICANT)
                    expect(answer.status, (200, 202), f"submit {workflow_id}", answer.body)
        except BaseException as error:
            failures.append(error)
        finally:
            client.close()

    threads = [
        threading.Thread(target=client_work, args=(numbers[offset::SEEDING_CLIENTS],))
        for offset in range(SEEDING_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@dataclass
class ProcessFootprint:
    resident_mib: float
    os_threads: int

    @classmethod
    def of(cls, pid: int) -> ProcessFootprint:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        return cls(int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"]))
