"""Steps that bring workflows to a given status, through the API."""

from __future__ import annotations

from typing import Any

from tests.support.actors import PROJECT_INPUT, Client

__all__ = ["PROJECT_INPUT", "active_project", "application_in", "drive", "to_issuance"]


def to_issuance(applicant: Client, reviewer: Client, approver: Client) -> list[tuple[Client, str, dict]]:
    """The signals that take an application from DRAFT to ISSUED, each with its sender."""
    return [
        (applicant, "submitApplication", {}),
        (reviewer, "assignReviewer", {}),
        (reviewer, "validateMethodology", {}),
        (approver, "approveApplication", {}),
        (approver, "issueCertificate", {}),
    ]


def drive(platform: Any, workflow_id: str, steps: list[tuple[Client, str, dict]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for client, signal, payload in steps:
        platform.settle()
        code, state = client.signal(workflow_id, signal, payload)
        assert code == 200, (signal, state)
    platform.settle()
    return state


def active_project(
    platform: Any,
    applicant: Client,
    reviewer: Client,
    approver: Client,
    project_id: str = "project-1",
    units: int = 1000,
) -> dict[str, Any]:
    """A project that is ACTIVE with ``units`` available (one accepted offsets report); started now,
    or already started (DRAFT) by the applicant for an application of theirs."""
    code, state = applicant.start(project_id, "project", PROJECT_INPUT)
    assert code == 201 or (code == 409 and applicant.get(project_id)[1]["status"] == "DRAFT"), state
    return drive(
        platform,
        project_id,
        [
            (applicant, "submitRegistration", {}),
            (reviewer, "assignAssessor", {}),
            (approver, "approveRegistration", {}),
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": units},
            ),
            (approver, "acceptReport", {}),
        ],
    )


def application_in(
    status: str,
    workflow_id: str,
    applicant: Client,
    reviewer: Client,
    approver: Client,
    platform: Any,
    project_id: str = "project-1",
) -> dict[str, Any]:
    steps: list[tuple[Client, str, dict]] = {
        "DRAFT": [],
        "SUBMITTED": [(applicant, "submitApplication", {})],
        "UNDER_REVIEW": [(applicant, "submitApplication", {}), (reviewer, "assignReviewer", {})],
        "APPROVED": [
            (applicant, "submitApplication", {}),
            (reviewer, "assignReviewer", {}),
            (reviewer, "validateMethodology", {}),
            (approver, "approveApplication", {}),
        ],
    }[status]
    if status == "APPROVED" and applicant.get(project_id)[0] == 404:
        active_project(platform, applicant, reviewer, approver, project_id)
    code, state = applicant.start(
        workflow_id, input={"projectId": project_id, "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}
    )
    assert code == 201, state
    state = drive(platform, workflow_id, steps) or state
    assert state["status"] == status
    return state
