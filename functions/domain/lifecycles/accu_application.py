"""The ACCU application lifecycle (DESIGN §3.1): from draft to certificate issuance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from functions.domain.common import EmptyPayload, Payload, ReasonPayload, update_metadata_signal
from functions.domain.identity import APPLICANTS, APPROVERS, REVIEWERS
from functions.domain.lifecycle import (
    FollowUp,
    Lifecycle,
    OwnedReference,
    Relation,
    Rule,
    SchemaChange,
    SignalContext,
    SignalSpec,
    StoredItem,
    TimeoutSpec,
    WorkflowView,
)
from functions.domain.lifecycles.document import ACCEPTED as DOCUMENT_ACCEPTED
from functions.domain.lifecycles.document import DocumentKind
from functions.domain.lifecycles.project import CREDITING
from functions.domain.time import iso

TYPE = "accu-application"

DRAFT = "DRAFT"
SUBMITTED = "SUBMITTED"
UNDER_REVIEW = "UNDER_REVIEW"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
ISSUED = "ISSUED"

DAY = 24 * 60 * 60
REVIEWER_ASSIGNMENT_TIMEOUT = "reviewerAssignment"


class ApplicationInput(Payload):
    projectId: str = Field(min_length=1, max_length=128)
    applicantId: str | None = Field(default=None, min_length=1, max_length=128)
    unitsRequested: int = Field(gt=0)
    methodologyId: str = Field(min_length=1, max_length=128)
    requiredDocuments: list[DocumentKind] = Field(default_factory=list, max_length=20)


class ApplicationFields(BaseModel):
    submissionDate: str | None = None
    reviewStartDate: str | None = None
    approvalDate: str | None = None
    issuedDate: str | None = None
    deadlineDate: str | None = None
    reviewerId: str | None = None
    approverId: str | None = None
    rejectionReason: str | None = None
    certificateId: str | None = None
    methodologyValidatedBy: str | None = None
    methodologyValidatedAt: str | None = None


class AssignReviewerPayload(Payload):
    reviewerId: str | None = Field(default=None, min_length=1, max_length=128)


class ApprovePayload(Payload):
    approverId: str | None = Field(default=None, min_length=1, max_length=128)


class IssueCertificatePayload(Payload):
    certificateId: str | None = Field(default=None, min_length=1, max_length=128)


def _submit(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    deadline = context.now + timedelta(seconds=context.timeouts[REVIEWER_ASSIGNMENT_TIMEOUT])
    return {"submissionDate": iso(context.now), "deadlineDate": iso(deadline)}


def _assign_reviewer(view: WorkflowView, payload: AssignReviewerPayload, context: SignalContext) -> dict[str, Any]:
    return {"reviewerId": payload.reviewerId or context.actor.user_id, "reviewStartDate": iso(context.now)}


def _approve(view: WorkflowView, payload: ApprovePayload, context: SignalContext) -> dict[str, Any]:
    return {"approverId": payload.approverId or context.actor.user_id, "approvalDate": iso(context.now)}


def _reject(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"rejectionReason": payload.reason}


def _issue(view: WorkflowView, payload: IssueCertificatePayload, context: SignalContext) -> dict[str, Any]:
    return {"issuedDate": iso(context.now), "certificateId": payload.certificateId or f"ACCU-{view.workflow_id}"}


def _validate_methodology(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    return {"methodologyValidatedBy": context.actor.user_id, "methodologyValidatedAt": iso(context.now)}


METHODOLOGY_VALIDATED = Rule(
    name="methodologyValidated",
    description="a reviewer must validate the methodology first (the validateMethodology signal)",
    check=lambda view, payload, context: bool(view.fields.get("methodologyValidatedAt")),
)


def _missing_documents(view: WorkflowView, context: SignalContext) -> list[str]:
    approved = {
        document["input"]["kind"]
        for document in context.facts.get("documents") or []
        if document["status"] in DOCUMENT_ACCEPTED
    }
    return [kind for kind in view.input.get("requiredDocuments") or [] if kind not in approved]


DOCUMENTS_APPROVED = Rule(
    name="requiredDocumentsApproved",
    description="every required document kind needs an APPROVED document workflow for this application",
    check=lambda view, payload, context: not _missing_documents(view, context),
    explain=lambda view, payload, context: (
        "no APPROVED document of kind " + ", ".join(_missing_documents(view, context))
    ),
)


def _project_units(context: SignalContext) -> int | None:
    project = context.facts.get("project")
    if not project or project["status"] not in CREDITING:
        return None
    return int(project["fields"].get("availableUnits") or 0)


UNITS_AVAILABLE = Rule(
    name="projectUnitsAvailable",
    description="unitsRequested must not exceed the project's available units",
    check=lambda view, payload, context: (_project_units(context) or 0) >= int(view.input["unitsRequested"]),
    explain=lambda view, payload, context: (
        f"project {view.input['projectId']} is not an active project"
        if _project_units(context) is None
        else f"{view.input['unitsRequested']} units requested, project {view.input['projectId']} has "
        f"{_project_units(context)} available"
    ),
)

APPROVAL_RULES: tuple[Rule, ...] = (METHODOLOGY_VALIDATED, DOCUMENTS_APPROVED, UNITS_AVAILABLE)


def _consume_project_units(view: WorkflowView, payload: Any, context: SignalContext) -> list[FollowUp]:
    """Issuing takes the units from the project, in the same transaction."""
    return [
        FollowUp(
            str(view.input["projectId"]),
            signal="consumeUnits",
            payload={
                "units": view.input["unitsRequested"],
                "applicationId": view.workflow_id,
                "certificateId": view.fields.get("certificateId"),
            },
        )
    ]


STATUSES = (DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, ISSUED)
TERMINAL = frozenset({REJECTED, ISSUED})

SIGNALS = {
    spec.name: spec
    for spec in (
        SignalSpec("submitApplication", frozenset({DRAFT}), SUBMITTED, EmptyPayload, frozenset({APPLICANTS}), _submit),
        SignalSpec(
            "assignReviewer",
            frozenset({SUBMITTED}),
            UNDER_REVIEW,
            AssignReviewerPayload,
            frozenset({REVIEWERS}),
            _assign_reviewer,
        ),
        # A reviewer's act, recorded in the state (who, when): the approval rule reads it there.
        SignalSpec(
            "validateMethodology",
            frozenset({SUBMITTED, UNDER_REVIEW}),
            None,
            EmptyPayload,
            frozenset({REVIEWERS}),
            _validate_methodology,
        ),
        SignalSpec(
            "approveApplication",
            frozenset({UNDER_REVIEW}),
            APPROVED,
            ApprovePayload,
            frozenset({APPROVERS}),
            _approve,
            rules=APPROVAL_RULES,
            facts=("documents", "project"),
        ),
        SignalSpec(
            "rejectApplication", frozenset({UNDER_REVIEW}), REJECTED, ReasonPayload, frozenset({APPROVERS}), _reject
        ),
        SignalSpec(
            "issueCertificate",
            frozenset({APPROVED}),
            ISSUED,
            IssueCertificatePayload,
            frozenset({APPROVERS}),
            _issue,
            follow_ups=_consume_project_units,
        ),
        update_metadata_signal([s for s in STATUSES if s not in TERMINAL]),
    )
}

TIMEOUTS = {
    spec.status: spec
    for spec in (
        TimeoutSpec(
            SUBMITTED,
            REVIEWER_ASSIGNMENT_TIMEOUT,
            "escalate",
            default_seconds=14 * DAY,
            description="no reviewer assigned: escalate and keep waiting",
        ),
        TimeoutSpec(
            UNDER_REVIEW,
            "reviewDecision",
            "escalate",
            default_seconds=30 * DAY,
            description="no decision: escalate and keep waiting",
        ),
        TimeoutSpec(
            APPROVED,
            "certificateIssuance",
            "signal",
            default_seconds=3 * DAY,
            signal="issueCertificate",
            description="not issued: the system issues the certificate",
        ),
    )
}


VALIDATED_BY_SCHEMA_1 = "metadata.methodologyValidated (schema version 1)"


def _methodology_validation_into_fields(state: StoredItem) -> StoredItem:
    """Version 1 said an application's methodology was validated with a metadata flag; version 2 in
    its fields (by whom, when: the validateMethodology signal). A flagged application keeps its
    validation: by whom unknown, when at the latest its last progress. The flag itself stays in
    the metadata, which is the client's."""
    fields = dict(state.get("fields") or {})
    metadata = state.get("metadata") or {}
    flagged = isinstance(metadata, dict) and metadata.get("methodologyValidated") is True
    if flagged and not fields.get("methodologyValidatedAt"):
        fields.update(methodologyValidatedBy=VALIDATED_BY_SCHEMA_1, methodologyValidatedAt=state.get("lastProgressAt"))
    return {**state, "fields": fields}


LIFECYCLE = Lifecycle(
    type=TYPE,
    description="An application for ACCUs, from draft to certificate issuance",
    initial_status=DRAFT,
    statuses=STATUSES,
    terminal_statuses=TERMINAL,
    input_model=ApplicationInput,
    fields_model=ApplicationFields,
    signals=SIGNALS,
    timeouts=TIMEOUTS,
    starters=frozenset({APPLICANTS}),
    person_input_fields=("applicantId",),
    references=(
        OwnedReference(
            rule="projectOwnedByApplicant",
            description="an application is for a project the applicant owns (started it, or is its ownerId)",
            id_field="projectId",
            workflow_type="project",
            owner_fields=("ownerId",),
        ),
    ),
    relations=(Relation("project", "application", "input.projectId", ("project",)),),
    schema_changes=(
        SchemaChange(
            version=2,
            description="methodology validation moved from metadata.methodologyValidated into the fields "
            "(methodologyValidatedBy, methodologyValidatedAt)",
            state=_methodology_validation_into_fields,
        ),
    ),
)
