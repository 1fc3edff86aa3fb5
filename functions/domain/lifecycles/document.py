"""The document lifecycle (DESIGN §3.3): a supporting document's validation, review, revision,
approval and archive. The file lives in the documents bucket; the workflow holds what was declared
about it, and the ``ValidateDocument`` activity checks the stored object against that.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from functions.domain.common import EmptyPayload, Payload, ReasonPayload, update_metadata_signal
from functions.domain.identity import APPLICANTS, APPROVERS, REVIEWERS
from functions.domain.lifecycle import (
    Lifecycle,
    OwnedReference,
    Relation,
    SignalContext,
    SignalSpec,
    TimeoutSpec,
    WorkflowView,
)
from functions.domain.time import iso

TYPE = "document"

UPLOADED = "UPLOADED"
PENDING_REVIEW = "PENDING_REVIEW"
UNDER_REVIEW = "UNDER_REVIEW"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
REVISION_REQUESTED = "REVISION_REQUESTED"
ARCHIVED = "ARCHIVED"
EXPIRED = "EXPIRED"
STATUSES = (UPLOADED, PENDING_REVIEW, UNDER_REVIEW, APPROVED, REVISION_REQUESTED, REJECTED, ARCHIVED, EXPIRED)
TERMINAL = frozenset({REJECTED, ARCHIVED, EXPIRED})
# A document counts for an application's rules once approved (and still, once archived).
ACCEPTED = frozenset({APPROVED, ARCHIVED})

DAY = 24 * 60 * 60
MAX_SIZE_BYTES = 100 * 1024 * 1024
VALIDATE_DOCUMENT = "ValidateDocument"

# The kinds of supporting document the platform takes (an application's requiredDocuments name them).
DocumentKind = Literal[
    "methodology-report",
    "monitoring-report",
    "audit-report",
    "land-title",
    "eligibility-declaration",
    "offsets-report",
    "supporting-evidence",
]
SHA256 = r"^[0-9a-f]{64}$"
# The workflows a document may be about.
SubjectType = Literal["accu-application", "project"]


class FileFacts(Payload):
    fileName: str = Field(min_length=1, max_length=255)
    objectKey: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=SHA256, description="hex SHA-256 of the file, lower case")
    sizeBytes: int = Field(gt=0, le=MAX_SIZE_BYTES)


class DocumentInput(FileFacts):
    subjectType: SubjectType
    subjectId: str = Field(min_length=1, max_length=128)
    kind: DocumentKind


class DocumentFields(BaseModel):
    revision: int = 1
    fileName: str | None = None
    objectKey: str | None = None
    sha256: str | None = None
    sizeBytes: int | None = None
    validatedAt: str | None = None
    reviewerId: str | None = None
    reviewStartDate: str | None = None
    approvedAt: str | None = None
    approverId: str | None = None
    rejectionReason: str | None = None
    revisionReason: str | None = None
    archivedAt: str | None = None


class ValidatedPayload(Payload):
    sha256: str = Field(pattern=SHA256)
    sizeBytes: int = Field(gt=0)


class StartReviewPayload(Payload):
    reviewerId: str | None = Field(default=None, min_length=1, max_length=128)


class ApproveDocumentPayload(Payload):
    approverId: str | None = Field(default=None, min_length=1, max_length=128)


def validation_problems(fields: dict[str, Any], kind: str, stored_size: int, stored_sha256: str) -> list[str]:
    """What is wrong with a stored file against what was declared about it (empty: nothing)."""
    problems = []
    if stored_size != fields.get("sizeBytes"):
        problems.append(f"size: declared {fields.get('sizeBytes')} bytes, stored {stored_size}")
    if stored_sha256 != fields.get("sha256"):
        problems.append(f"sha256: declared {fields.get('sha256')}, stored {stored_sha256}")
    if kind not in DocumentKind.__args__:  # type: ignore[attr-defined]
        problems.append(f"kind: {kind!r} is not an allowed kind")
    return problems


def _on_start(data: Any, now: Any) -> dict[str, Any]:
    return {
        "revision": 1,
        **FileFacts.model_validate(data.model_dump(include=set(FileFacts.model_fields))).model_dump(),
    }


def _validated(view: WorkflowView, payload: ValidatedPayload, context: SignalContext) -> dict[str, Any]:
    return {"validatedAt": iso(context.now)}


def _start_review(view: WorkflowView, payload: StartReviewPayload, context: SignalContext) -> dict[str, Any]:
    return {"reviewerId": payload.reviewerId or context.actor.user_id, "reviewStartDate": iso(context.now)}


def _approve(view: WorkflowView, payload: ApproveDocumentPayload, context: SignalContext) -> dict[str, Any]:
    return {"approverId": payload.approverId or context.actor.user_id, "approvedAt": iso(context.now)}


def _reject(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"rejectionReason": payload.reason}


def _request_revision(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"revisionReason": payload.reason}


def _upload_revision(view: WorkflowView, payload: FileFacts, context: SignalContext) -> dict[str, Any]:
    return {
        **payload.model_dump(),
        "revision": int(view.fields.get("revision") or 1) + 1,
        "validatedAt": None,
        "reviewerId": None,
        "reviewStartDate": None,
    }


def _archive(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    return {"archivedAt": iso(context.now)}


SIGNALS = {
    spec.name: spec
    for spec in (
        # The ValidateDocument activity's outcome: the stored file is what was declared.
        SignalSpec(
            "documentValidated",
            frozenset({UPLOADED}),
            PENDING_REVIEW,
            ValidatedPayload,
            frozenset(),
            _validated,
            internal=True,
        ),
        SignalSpec(
            "startReview",
            frozenset({PENDING_REVIEW}),
            UNDER_REVIEW,
            StartReviewPayload,
            frozenset({REVIEWERS}),
            _start_review,
        ),
        SignalSpec(
            "approveDocument",
            frozenset({UNDER_REVIEW}),
            APPROVED,
            ApproveDocumentPayload,
            frozenset({APPROVERS}),
            _approve,
        ),
        SignalSpec(
            "rejectDocument", frozenset({UNDER_REVIEW}), REJECTED, ReasonPayload, frozenset({APPROVERS}), _reject
        ),
        SignalSpec(
            "requestRevision",
            frozenset({UNDER_REVIEW}),
            REVISION_REQUESTED,
            ReasonPayload,
            frozenset({REVIEWERS}),
            _request_revision,
        ),
        SignalSpec(
            "uploadRevision",
            frozenset({REVISION_REQUESTED}),
            UPLOADED,
            FileFacts,
            frozenset({APPLICANTS}),
            _upload_revision,
        ),
        SignalSpec("archiveDocument", frozenset({APPROVED}), ARCHIVED, EmptyPayload, frozenset({APPROVERS}), _archive),
        update_metadata_signal([status for status in STATUSES if status not in TERMINAL]),
    )
}

TIMEOUTS = {
    spec.status: spec
    for spec in (
        TimeoutSpec(
            UNDER_REVIEW,
            "reviewDecision",
            "escalate",
            default_seconds=5 * DAY,
            description="no review decision: escalate and keep waiting",
        ),
        TimeoutSpec(
            REVISION_REQUESTED,
            "revisionUpload",
            "transition",
            default_seconds=30 * DAY,
            target=EXPIRED,
            description="no revision uploaded: the document expires",
        ),
    )
}

LIFECYCLE = Lifecycle(
    type=TYPE,
    description="A supporting document: validation, review, revision, approval, archive",
    initial_status=UPLOADED,
    statuses=STATUSES,
    terminal_statuses=TERMINAL,
    input_model=DocumentInput,
    fields_model=DocumentFields,
    signals=SIGNALS,
    timeouts=TIMEOUTS,
    starters=frozenset({APPLICANTS}),
    activities={UPLOADED: VALIDATE_DOCUMENT},
    on_start=_on_start,
    references=(
        OwnedReference(
            rule="subjectStartedByApplicant",
            description="a document is for a workflow the applicant started",
            id_field="subjectId",
            type_field="subjectType",
        ),
    ),
    relations=(Relation("subject", "document", "input.subjectId", get_args(SubjectType), "input.subjectType"),),
)
