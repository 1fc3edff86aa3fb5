"""DESIGN issue 3's scenario over HTTP on the local platform: a project to ACTIVE with an accepted
report, two documents uploaded and APPROVED, an application to ISSUED; then the project's units and
the events emitted."""

from __future__ import annotations

from tests.support.http import upload_file, wait_for

APPLICANT = {"user": "alice", "groups": "applicants"}
REVIEWER = {"user": "rita", "groups": "reviewers"}
APPROVER = {"user": "paul", "groups": "approvers"}
OPERATOR = {"user": "olga", "groups": "operators"}


def until(local, workflow_id: str, status: str) -> dict:
    return wait_for(
        lambda: local("GET", f"/workflows/{workflow_id}", **OPERATOR)[1],
        lambda state: state.get("status") == status,
        15,
    )


def signal(local, actor: dict, workflow_id: str, name: str, payload: dict | None = None, expect: str | None = None):
    code, body = local("POST", f"/workflows/{workflow_id}/signals/{name}", payload or {}, **actor)
    assert code in (200, 202), body
    return until(local, workflow_id, expect) if expect else body


def upload(local, content: bytes, name: str) -> dict:
    return upload_file(lambda method, path, body: local(method, path, body, **APPLICANT), content, name)


def test_project_documents_and_application_to_issued_with_units_and_events(local):
    # A project registered, assessed, approved, with an accepted report of 1,000 units
    code, _ = local(
        "POST",
        "/workflows",
        {
            "type": "project",
            "workflowId": "e2e-proj",
            "input": {
                "name": "Mallee regeneration",
                "methodologyId": "ERF-human-induced-regeneration",
                "reportingPeriodMonths": 12,
            },
        },
        **APPLICANT,
    )
    assert code == 201
    until(local, "e2e-proj", "DRAFT")
    signal(local, APPLICANT, "e2e-proj", "submitRegistration", expect="REGISTRATION_SUBMITTED")
    signal(local, REVIEWER, "e2e-proj", "assignAssessor", expect="UNDER_ASSESSMENT")
    signal(local, APPROVER, "e2e-proj", "approveRegistration", expect="ACTIVE")
    signal(
        local,
        APPLICANT,
        "e2e-proj",
        "submitOffsetsReport",
        {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": 1000},
        expect="REPORT_UNDER_REVIEW",
    )
    project = signal(local, APPROVER, "e2e-proj", "acceptReport", expect="ACTIVE")
    assert project["availableUnits"] == 1000

    # An application for 400 units needing a land title and an audit report
    code, _ = local(
        "POST",
        "/workflows",
        {
            "type": "accu-application",
            "workflowId": "e2e-app",
            "input": {
                "projectId": "e2e-proj",
                "unitsRequested": 400,
                "methodologyId": "ERF-human-induced-regeneration",
                "requiredDocuments": ["land-title", "audit-report"],
            },
        },
        **APPLICANT,
    )
    assert code == 201

    # Two documents uploaded through presigned URLs, validated, reviewed and approved
    for workflow_id, kind in (("e2e-doc-title", "land-title"), ("e2e-doc-audit", "audit-report")):
        file = upload(local, f"%PDF {kind} for e2e-app".encode(), f"{kind}.pdf")
        code, body = local(
            "POST",
            "/workflows",
            {
                "type": "document",
                "workflowId": workflow_id,
                "input": {"subjectType": "accu-application", "subjectId": "e2e-app", "kind": kind, **file},
            },
            **APPLICANT,
        )
        assert code == 201, body
        until(local, workflow_id, "PENDING_REVIEW")
        signal(local, REVIEWER, workflow_id, "startReview", expect="UNDER_REVIEW")
        signal(local, APPROVER, workflow_id, "approveDocument", expect="APPROVED")

    # The application reviewed, approved and issued
    until(local, "e2e-app", "DRAFT")
    signal(local, APPLICANT, "e2e-app", "submitApplication", expect="SUBMITTED")
    signal(local, REVIEWER, "e2e-app", "assignReviewer", expect="UNDER_REVIEW")
    signal(local, REVIEWER, "e2e-app", "validateMethodology")
    signal(local, APPROVER, "e2e-app", "approveApplication", expect="APPROVED")
    application = signal(local, APPROVER, "e2e-app", "issueCertificate", expect="ISSUED")
    assert application["executionStatus"] == "COMPLETED"

    # The project's units were consumed
    project = local("GET", "/workflows/e2e-proj", **APPLICANT)[1]
    assert (project["availableUnits"], project["issuedUnits"]) == (600, 400)

    # And every transition was published, one event each, for every workflow involved
    for workflow_id in ("e2e-proj", "e2e-app", "e2e-doc-title", "e2e-doc-audit", "e2e-proj-report-1"):
        history = local("GET", f"/workflows/{workflow_id}/history?limit=100", **OPERATOR)[1]["items"]
        code, events = local("GET", "/local/events", query={"workflowId": workflow_id, "limit": "100"})
        assert code == 200
        assert [e["detail"]["version"] for e in events["items"]] == [h["sequence"] for h in history], workflow_id
    issued = local("GET", "/local/events", query={"workflowId": "e2e-app"})[1]["items"][-1]
    assert (issued["detail-type"], issued["detail"]["toStatus"], issued["source"]) == (
        "Workflow Signal Applied",
        "ISSUED",
        "accu.workflows",
    )
