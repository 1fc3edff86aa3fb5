"""The document lifecycle on its real state machine: a file uploaded through a presigned URL to
the emulated S3, validated by the ValidateDocument activity, reviewed, revised, approved, archived;
its timeouts; and a file that is not what was declared."""

from __future__ import annotations

import pytest

from infra.local.faults import Fault
from tests.support.http import upload_file
from tests.support.scenarios import drive

DAY = 24 * 3600


# The emulated AWS endpoint on a port the system picks: uploads go there over HTTP.
pytestmark = pytest.mark.parametrize("platform", [{"aws_port": 0}], indirect=True)


def upload(client, content: bytes, file_name: str = "title.pdf") -> dict:
    return upload_file(client.call, content, file_name)


def start_document(
    platform, applicant, workflow_id: str, file: dict, kind: str = "land-title", subject: str = "app-1"
) -> dict:
    code, state = applicant.start(
        workflow_id, "document", {"subjectType": "accu-application", "subjectId": subject, "kind": kind, **file}
    )
    assert code == 201, state
    platform.settle()
    return applicant.get(workflow_id)[1]


def test_a_document_is_uploaded_validated_reviewed_revised_approved_and_archived(
    platform, applicant, reviewer, approver
):
    # Given a file uploaded through a presigned URL and a document workflow declaring it
    state = start_document(platform, applicant, "doc-1", upload(applicant, b"%PDF land title v1"))

    # Then the stored file was validated and the document waits for a reviewer
    assert (state["status"], state["revision"]) == ("PENDING_REVIEW", 1) and state["validatedAt"]

    # When a reviewer asks for a revision and the applicant uploads one
    state = drive(
        platform, "doc-1", [(reviewer, "startReview", {}), (reviewer, "requestRevision", {"reason": "page 2 missing"})]
    )
    assert (state["status"], state["revisionReason"]) == ("REVISION_REQUESTED", "page 2 missing")
    revision = upload(applicant, b"%PDF land title v2, both pages", "title-v2.pdf")
    drive(platform, "doc-1", [(applicant, "uploadRevision", revision)])
    state = applicant.get("doc-1")[1]

    # Then revision 2 is validated, and it goes on to approval and archive
    assert (state["status"], state["revision"], state["sha256"]) == ("PENDING_REVIEW", 2, revision["sha256"])
    state = drive(
        platform,
        "doc-1",
        [(reviewer, "startReview", {}), (approver, "approveDocument", {}), (approver, "archiveDocument", {})],
    )
    assert (state["status"], state["executionStatus"]) == ("ARCHIVED", "COMPLETED")
    validated = [e for e in applicant.history("doc-1")[1]["items"] if e["signal"] == "documentValidated"]
    assert [e["actor"] for e in validated] == ["system", "system"]


def test_a_file_that_is_not_what_was_declared_fails_the_document(platform, applicant):
    # Given a document whose declared digest does not match the stored file
    file = {**upload(applicant, b"the real bytes"), "sha256": "0" * 64}

    # When it starts
    state = start_document(platform, applicant, "doc-bad", file)

    # Then validation failed for good, saying why, and nothing was retried
    assert state["executionStatus"] == "FAILED" and state["failure"]["error"] == "PermanentActivityError"
    assert "sha256: declared 000" in state["failure"]["cause"]


def test_a_missing_file_is_retried_then_fails(platform, applicant):
    # Given a document declaring a file that was never uploaded
    file = {"fileName": "ghost.pdf", "objectKey": "uploads/alice/none/ghost.pdf", "sha256": "a" * 64, "sizeBytes": 3}
    start_document(platform, applicant, "doc-ghost", file)

    # When the retries' back-off passes
    platform.advance(10 * 60)

    # Then it failed with the transient error once the retries ran out
    state = applicant.get("doc-ghost")[1]
    assert (state["executionStatus"], state["failure"]["error"]) == ("FAILED", "TransientActivityError")


def test_a_transient_validation_error_is_retried_and_the_document_goes_on(platform, applicant):
    platform.faults.add(Fault(count=2, kind="transient", activity="ValidateDocument"))
    start_document(platform, applicant, "doc-flaky", upload(applicant, b"content"))
    platform.advance(60)
    assert applicant.get("doc-flaky")[1]["status"] == "PENDING_REVIEW"


def test_review_escalates_after_five_days_and_a_revision_expires_after_thirty(platform, applicant, reviewer):
    start_document(platform, applicant, "doc-slow", upload(applicant, b"slow"))
    drive(platform, "doc-slow", [(reviewer, "startReview", {})])
    platform.advance(5 * DAY + 60)
    assert applicant.get("doc-slow")[1]["escalationLevel"] == 1

    drive(platform, "doc-slow", [(reviewer, "requestRevision", {"reason": "blurry"})])
    platform.advance(30 * DAY + 60)
    state = applicant.get("doc-slow")[1]
    assert (state["status"], state["executionStatus"]) == ("EXPIRED", "COMPLETED")


def test_document_input_is_validated(platform, applicant, reviewer):
    base = {
        "subjectType": "accu-application",
        "subjectId": "app-1",
        "kind": "land-title",
        "fileName": "f.pdf",
        "objectKey": "k",
        "sha256": "a" * 64,
        "sizeBytes": 10,
    }
    for bad, field in [
        ({"kind": "selfie"}, "kind"),
        ({"sha256": "xyz"}, "sha256"),
        ({"sizeBytes": 0}, "sizeBytes"),
        ({"subjectType": "planet"}, "subjectType"),
    ]:
        code, error = applicant.start(None, "document", {**base, **bad})
        assert code == 422 and f"input.{field}" in {d["field"] for d in error["details"]}, (bad, error)
    code, error = applicant.call("POST", "/documents/uploads", {"fileName": "a", "contentType": "nope", "sizeBytes": 1})
    assert (code, error["details"][0]["field"]) == (422, "contentType")
    assert (
        reviewer.call(
            "POST", "/documents/uploads", {"fileName": "a.pdf", "contentType": "application/pdf", "sizeBytes": 1}
        )[0]
        == 403
    )


def test_a_document_can_be_rejected_for_good(platform, applicant, reviewer, approver):
    start_document(platform, applicant, "doc-no", upload(applicant, b"wrong document"))
    state = drive(
        platform,
        "doc-no",
        [
            (reviewer, "startReview", {"reviewerId": "rita"}),
            (approver, "rejectDocument", {"reason": "not a land title"}),
        ],
    )
    assert (state["status"], state["rejectionReason"], state["executionStatus"]) == (
        "REJECTED",
        "not a land title",
        "COMPLETED",
    )
    assert applicant.signal("doc-no", "uploadRevision", {})[1]["error"] == "WORKFLOW_CLOSED"
