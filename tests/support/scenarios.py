"""Steps that bring an application to a given status, through the API."""

from __future__ import annotations

from typing import Any

from tests.support.actors import Client


def application_in(
    status: str, workflow_id: str, applicant: Client, reviewer: Client, approver: Client, platform: Any
) -> dict[str, Any]:
    steps = {
        "DRAFT": [],
        "SUBMITTED": [(applicant, "submitApplication", {})],
        "UNDER_REVIEW": [(applicant, "submitApplication", {}), (reviewer, "assignReviewer", {})],
        "APPROVED": [
            (applicant, "submitApplication", {}),
            (reviewer, "assignReviewer", {}),
            (applicant, "updateMetadata", {"metadata": {"methodologyValidated": True}}),
            (approver, "approveApplication", {}),
        ],
    }[status]
    code, state = applicant.start(workflow_id)
    assert code == 201, state
    for client, signal, payload in steps:
        platform.settle()
        code, state = client.signal(workflow_id, signal, payload)
        assert code == 200, state
    platform.settle()
    assert state["status"] == status
    return state
