"""The platform's lifecycle the benchmark drives: an ``accu-application`` from start to ISSUED over
HTTP (start and five signals, each sent once the previous one answered), on a project whose units
it consumes; and the workflows that make up a population."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from bench.http_client import APPLICANT, APPROVER, REVIEWER, Answer, ApiClient, Identity

PROJECT_ID = "bench-project"
PROJECT_UNITS = 10_000_000

# (who, signal, payload): the happy path from DRAFT to ISSUED, as the README walks it.
HAPPY_PATH: list[tuple[Identity, str, dict]] = [
    (APPLICANT, "submitApplication", {}),
    (REVIEWER, "assignReviewer", {}),
    (REVIEWER, "validateMethodology", {}),
    (APPROVER, "approveApplication", {}),
    (APPROVER, "issueCertificate", {"certificateId": "CERT"}),
]
FINAL_STATUS = "ISSUED"
HISTORY_LENGTH = 1 + len(HAPPY_PATH)


class BenchError(RuntimeError):
    pass


def expect(answer_status: int, wanted: tuple[int, ...], what: str, body: object) -> None:
    if answer_status not in wanted:
        raise BenchError(f"{what}: answered {answer_status}: {body}")


def application_input(units: int = 1, project_id: str = PROJECT_ID) -> dict:
    return {"projectId": project_id, "unitsRequested": units, "methodologyId": "ERF-soil-carbon"}


class Client(Protocol):
    def call(self, method: str, path: str, body: Any = None, identity: Identity | None = ...) -> Answer: ...


def active_project(client: Client, project_id: str = PROJECT_ID, units: int = PROJECT_UNITS) -> None:
    """A project that is ACTIVE with ``units`` available, made through the API."""
    answer = client.call(
        "POST",
        "/workflows",
        {
            "type": "project",
            "workflowId": project_id,
            "input": {"name": "Bench soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12},
        },
        APPLICANT,
    )
    expect(answer.status, (201,), "start the project", answer.body)
    steps: list[tuple[Identity, str, dict]] = [
        (APPLICANT, "submitRegistration", {}),
        (REVIEWER, "assignAssessor", {}),
        (APPROVER, "approveRegistration", {}),
        (
            APPLICANT,
            "submitOffsetsReport",
            {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": units},
        ),
        (APPROVER, "acceptReport", {}),
    ]
    for identity, signal, payload in steps:
        answer = client.call("POST", f"/workflows/{project_id}/signals/{signal}", payload, identity)
        expect(answer.status, (200,), signal, answer.body)
    wait_for_status(client, project_id, "ACTIVE")


def wait_for_status(client: Client, workflow_id: str, status: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        answer = client.call("GET", f"/workflows/{workflow_id}")
        if answer.status == 200 and answer.body["status"] == status:
            return answer.body  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise BenchError(f"{workflow_id} did not reach {status}: {answer.body}")
        time.sleep(0.01)


@dataclass
class LifecycleRun:
    workflow_id: str
    seconds: float
    request_seconds: list[float]
    statuses: list[int]
    # What each request that did not answer 2xx was, and what it answered.
    refusals: list[str]


def run_lifecycle(client: ApiClient, workflow_id: str, project_id: str = PROJECT_ID) -> LifecycleRun:
    """Start the application and send the five signals, each once the one before it answered."""
    started = time.perf_counter()
    start = {"type": "accu-application", "workflowId": workflow_id, "input": application_input(1, project_id)}
    requests = [("start", "/workflows", start, APPLICANT)]
    requests += [
        (signal, f"/workflows/{workflow_id}/signals/{signal}", payload, identity)
        for identity, signal, payload in HAPPY_PATH
    ]
    answers = []
    refusals = []
    for name, path, body, identity in requests:
        answer = client.call("POST", path, body, identity)
        answers.append(answer)
        if not 200 <= answer.status < 300:
            refusals.append(f"{workflow_id} {name}: {answer.status} {answer.body}")
    return LifecycleRun(
        workflow_id,
        time.perf_counter() - started,
        [answer.seconds for answer in answers],
        [answer.status for answer in answers],
        refusals,
    )
