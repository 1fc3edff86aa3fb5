"""(h) A batch over a thousand workflows on the local platform, as an operator runs one: the running drafts
started before a date, a dry run (nothing changes), then the batch terminating them at the highest rate a
batch may ask; against the baseline of the same run, what a batch replaces: a client's loop terminating
drafts one request after the other. How long each took, and whether every workflow was counted once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.http_client import OPERATOR, ApiClient
from bench.lifecycle import expect

POLL_SECONDS = 0.25


@dataclass
class BatchRun:
    workflows: int
    rate_per_second: int
    loop_workflows: int
    loop_seconds: float
    dry_run_seconds: float
    dry_run_matched: int
    seconds: float
    matched: int
    applied: int
    skipped: int
    failed: int

    @property
    def achieved_per_second(self) -> float:
        return self.applied / self.seconds

    @property
    def loop_per_second(self) -> float:
        return self.loop_workflows / self.loop_seconds

    @property
    def ratio_to_loop(self) -> float:
        return self.achieved_per_second / self.loop_per_second

    @property
    def exact(self) -> bool:
        return self.dry_run_matched == self.matched == self.applied == self.workflows and not self.failed


def _run(client: ApiClient, request: dict[str, Any]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    answer = client.call("POST", "/batches", request, OPERATOR)
    expect(answer.status, (202,), "start a batch", answer.body)
    while True:
        batch = client.call("GET", f"/batches/{answer.body['batchId']}", identity=OPERATOR).body
        if batch["state"] != "RUNNING":
            return batch, time.perf_counter() - started
        time.sleep(POLL_SECONDS)


def terminate_one_by_one(api_url: str, workflow_ids: list[str]) -> float:
    """The baseline: a client's loop, one terminate request after the other; the seconds it took."""
    client = ApiClient(api_url)
    try:
        started = time.perf_counter()
        for workflow_id in workflow_ids:
            answer = client.call("POST", f"/workflows/{workflow_id}/terminate", {"reason": "bench: loop"}, OPERATOR)
            expect(answer.status, (200,), f"terminate {workflow_id}", answer.body)
        return time.perf_counter() - started
    finally:
        client.close()


def terminate_in_a_batch(api_url: str, rate_per_second: int) -> tuple[dict[str, Any], float, dict[str, Any], float]:
    """The running drafts started before now, terminated in one batch after its dry run: both batches as they
    ended, and the seconds each took."""
    client = ApiClient(api_url)
    try:
        request = {
            "action": "terminate",
            "filter": {
                "type": "accu-application",
                "status": "DRAFT",
                "executionStatus": "RUNNING",
                "startedBefore": datetime.now(tz=UTC).isoformat(),
            },
            "reason": "bench: stale drafts",
            "ratePerSecond": rate_per_second,
        }
        counted, dry_seconds = _run(client, {**request, "dryRun": True})
        done, seconds = _run(client, request)
        return counted, dry_seconds, done, seconds
    finally:
        client.close()
