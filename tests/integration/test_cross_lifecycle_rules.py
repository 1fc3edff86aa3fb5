"""Rules across lifecycles (DESIGN §3.1): approval needs the required documents APPROVED and the
project's units; issuing consumes the units in the same transaction, so concurrent issuances can
never take more than the project has."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import boto3

from tests.support.scenarios import active_project, drive

DAY = 24 * 3600


def approved_document(platform, applicant, reviewer, approver, workflow_id: str, subject: str, kind: str) -> None:
    # The file's bytes are not the point here: validation needs a stored object that matches
    content = f"{workflow_id} {kind}".encode()
    key = f"uploads/alice/{workflow_id}/file.pdf"
    boto3.client("s3").put_object(Bucket="accu-local-documents", Key=key, Body=content)
    code, state = applicant.start(
        workflow_id,
        "document",
        {
            "subjectType": "accu-application",
            "subjectId": subject,
            "kind": kind,
            "fileName": "file.pdf",
            "objectKey": key,
            "sha256": hashlib.sha256(content).hexdigest(),
            "sizeBytes": len(content),
        },
    )
    assert code == 201, state
    drive(platform, workflow_id, [(reviewer, "startReview", {}), (approver, "approveDocument", {})])


def application_under_review(
    platform, applicant, reviewer, workflow_id: str, project_id: str, units: int, documents: list[str]
) -> None:
    code, state = applicant.start(
        workflow_id,
        input={
            "projectId": project_id,
            "unitsRequested": units,
            "methodologyId": "ERF-soil-carbon",
            "requiredDocuments": documents,
        },
    )
    assert code == 201, state
    drive(
        platform,
        workflow_id,
        [
            (applicant, "submitApplication", {}),
            (reviewer, "assignReviewer", {}),
            (reviewer, "validateMethodology", {}),
        ],
    )


def test_approval_names_each_unmet_rule_until_documents_and_units_are_there(platform, applicant, reviewer, approver):
    # Given an application for 300 units needing a land title and an audit report, on a project with 200
    active_project(platform, applicant, reviewer, approver, "proj-a", units=200)
    application_under_review(platform, applicant, reviewer, "app-a", "proj-a", 300, ["land-title", "audit-report"])
    approved_document(platform, applicant, reviewer, approver, "doc-a1", "app-a", "land-title")

    # When it is approved
    code, error = approver.signal("app-a", "approveApplication")

    # Then both unmet rules are named, with what is missing, and nothing changed
    assert (code, error["error"]) == (409, "BUSINESS_RULE_VIOLATION")
    assert {d["rule"]: d["message"] for d in error["details"]} == {
        "requiredDocumentsApproved": "no APPROVED document of kind audit-report",
        "projectUnitsAvailable": "300 units requested, project proj-a has 200 available",
    }
    assert applicant.get("app-a")[1]["status"] == "UNDER_REVIEW"

    # And once the audit report is approved and the project earns more units, it is approved
    approved_document(platform, applicant, reviewer, approver, "doc-a2", "app-a", "audit-report")
    drive(
        platform,
        "proj-a",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2026-07-01", "periodEnd": "2026-12-31", "unitsClaimed": 150},
            ),
            (approver, "acceptReport", {}),
        ],
    )
    code, state = approver.signal("app-a", "approveApplication")
    assert (code, state["status"]) == (200, "APPROVED")

    # And issuing takes the units from the project, recorded in both histories
    platform.settle()
    code, state = approver.signal("app-a", "issueCertificate")
    project = applicant.get("proj-a")[1]
    assert (code, state["status"]) == (200, "ISSUED")
    assert (project["availableUnits"], project["issuedUnits"]) == (50, 300)
    consumed = applicant.history("proj-a")[1]["items"][-1]
    assert (consumed["signal"], consumed["details"]["payload"]["applicationId"]) == ("consumeUnits", "app-a")


def test_two_applications_issued_at_once_never_take_more_units_than_the_project_has(
    platform, applicant, reviewer, approver
):
    # Given two approved applications of 600 units each on a project with 1000
    active_project(platform, applicant, reviewer, approver, "proj-b", units=1000)
    for workflow_id in ("app-b1", "app-b2"):
        application_under_review(platform, applicant, reviewer, workflow_id, "proj-b", 600, [])
        drive(platform, workflow_id, [(approver, "approveApplication", {})])

    # When both are issued at the same moment, many times over
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda index: approver.signal(f"app-b{index % 2 + 1}", "issueCertificate"), range(10)))

    # Then exactly one is issued; the other is refused for the units, and the project never goes negative
    assert sorted(code for code, _ in answers).count(200) == 1
    refused = [body for code, body in answers if code == 409 and body["error"] == "BUSINESS_RULE_VIOLATION"]
    assert refused and all(body["details"][0]["rule"] == "projectUnitsAvailable" for body in refused)
    platform.settle()
    project = applicant.get("proj-b")[1]
    assert (project["availableUnits"], project["issuedUnits"]) == (400, 600)
    statuses = sorted(applicant.get(f"app-b{n}")[1]["status"] for n in (1, 2))
    assert statuses == ["APPROVED", "ISSUED"]


def test_an_automatic_issue_without_the_units_escalates_instead(platform, applicant, reviewer, approver, operator):
    # Given an approved application whose project's units were meanwhile issued to another application
    active_project(platform, applicant, reviewer, approver, "proj-c", units=100)
    for workflow_id in ("app-c1", "app-c2"):
        application_under_review(platform, applicant, reviewer, workflow_id, "proj-c", 100, [])
        drive(platform, workflow_id, [(approver, "approveApplication", {})])
    drive(platform, "app-c1", [(approver, "issueCertificate", {})])

    # When the three days pass for the other
    platform.advance(3 * DAY + 60)

    # Then it is not issued but escalated, naming the unmet rule
    state = applicant.get("app-c2")[1]
    assert (state["status"], state["escalationLevel"]) == ("APPROVED", 1)
    last = applicant.history("app-c2")[1]["items"][-1]
    assert last["type"] == "ESCALATED" and last["details"]["unmetRules"][0]["rule"] == "projectUnitsAvailable"
    assert applicant.get("proj-c")[1]["availableUnits"] == 0
