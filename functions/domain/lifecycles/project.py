"""The project lifecycle (DESIGN §3.2): registration, assessment, crediting with offsets reports,
closure. A project holds the units its accepted reports earned; issued applications consume them.

Entering ACTIVE starts a ``calendar`` workflow for the next report's due date; submitting the
report completes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from functions.domain.common import Date, EmptyPayload, Payload, ReasonPayload, update_metadata_signal
from functions.domain.identity import APPLICANTS, APPROVERS, REVIEWERS
from functions.domain.lifecycle import (
    FollowUp,
    Lifecycle,
    Relation,
    Rule,
    SignalContext,
    SignalSpec,
    TimeoutSpec,
    WorkflowView,
)
from functions.domain.time import add_months, iso, parse_iso

TYPE = "project"

DRAFT = "DRAFT"
REGISTRATION_SUBMITTED = "REGISTRATION_SUBMITTED"
UNDER_ASSESSMENT = "UNDER_ASSESSMENT"
ACTIVE = "ACTIVE"
REPORT_UNDER_REVIEW = "REPORT_UNDER_REVIEW"
REJECTED = "REJECTED"
CLOSED = "CLOSED"
REVOKED = "REVOKED"
STATUSES = (DRAFT, REGISTRATION_SUBMITTED, UNDER_ASSESSMENT, ACTIVE, REPORT_UNDER_REVIEW, REJECTED, CLOSED, REVOKED)
TERMINAL = frozenset({REJECTED, CLOSED, REVOKED})
CREDITING = frozenset({ACTIVE, REPORT_UNDER_REVIEW})

DAY = 24 * 60 * 60
REPORT_REMINDER = "P14D"


class ProjectInput(Payload):
    name: str = Field(min_length=1, max_length=200)
    ownerId: str | None = Field(default=None, min_length=1, max_length=128)
    methodologyId: str = Field(min_length=1, max_length=128)
    reportingPeriodMonths: int = Field(ge=1, le=60)


class ProjectFields(BaseModel):
    registrationSubmittedAt: str | None = None
    assessorId: str | None = None
    assessmentStartDate: str | None = None
    approvedAt: str | None = None
    approverId: str | None = None
    rejectionReason: str | None = None
    availableUnits: int = 0
    issuedUnits: int = 0
    reportsAccepted: int = 0
    reportsRejected: int = 0
    currentReport: dict[str, Any] | None = None
    lastReportDecision: dict[str, Any] | None = None
    reportCycle: int = 0
    nextReportDueAt: str | None = None
    reportCalendarId: str | None = None
    closedAt: str | None = None
    revocationReason: str | None = None


class AssignAssessorPayload(Payload):
    assessorId: str | None = Field(default=None, min_length=1, max_length=128)


class ApproveRegistrationPayload(Payload):
    approverId: str | None = Field(default=None, min_length=1, max_length=128)


class OffsetsReportPayload(Payload):
    periodStart: Date
    periodEnd: Date
    unitsClaimed: int = Field(gt=0, le=100_000_000)

    @model_validator(mode="after")
    def _period(self) -> OffsetsReportPayload:
        if self.periodEnd <= self.periodStart:
            raise ValueError("periodEnd must be after periodStart")
        return self


class ConsumeUnitsPayload(Payload):
    units: int = Field(gt=0)
    applicationId: str = Field(min_length=1)
    certificateId: str | None = None


def _next_report(view: WorkflowView, context: SignalContext) -> dict[str, Any]:
    """Entering ACTIVE: the next report falls due one reporting period on, with its calendar."""
    cycle = int(view.fields.get("reportCycle") or 0) + 1
    due = add_months(context.now, int(view.input["reportingPeriodMonths"]))
    return {"reportCycle": cycle, "nextReportDueAt": iso(due), "reportCalendarId": f"{view.workflow_id}-report-{cycle}"}


def _report_calendar(view: WorkflowView, payload: Any, context: SignalContext) -> list[FollowUp]:
    return [
        FollowUp(
            workflow_id=str(view.fields["reportCalendarId"]),
            start_type="calendar",
            start_input={
                "title": f"Offsets report {view.fields['reportCycle']} due for {view.input['name']}",
                "subjectType": TYPE,
                "subjectId": view.workflow_id,
                "dueAt": view.fields["nextReportDueAt"],
                "remindBefore": REPORT_REMINDER,
            },
        )
    ]


def _close_calendar(signal: str, **payload: Any) -> Any:
    def follow_ups(view: WorkflowView, _: Any, context: SignalContext) -> list[FollowUp]:
        calendar_id = view.fields.get("reportCalendarId")
        return [FollowUp(str(calendar_id), signal=signal, payload=payload, optional=True)] if calendar_id else []

    return follow_ups


def _submit_registration(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    return {"registrationSubmittedAt": iso(context.now)}


def _assign_assessor(view: WorkflowView, payload: AssignAssessorPayload, context: SignalContext) -> dict[str, Any]:
    return {"assessorId": payload.assessorId or context.actor.user_id, "assessmentStartDate": iso(context.now)}


def _approve(view: WorkflowView, payload: ApproveRegistrationPayload, context: SignalContext) -> dict[str, Any]:
    return {
        "approvedAt": iso(context.now),
        "approverId": payload.approverId or context.actor.user_id,
        **_next_report(view, context),
    }


def _reject(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"rejectionReason": payload.reason}


def _submit_report(view: WorkflowView, payload: OffsetsReportPayload, context: SignalContext) -> dict[str, Any]:
    return {
        "currentReport": {
            **payload.model_dump(mode="json"),
            "submittedAt": iso(context.now),
            "submittedBy": context.actor.user_id,
        }
    }


def _accept_report(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    report = dict(view.fields["currentReport"] or {})
    return {
        "availableUnits": int(view.fields.get("availableUnits") or 0) + int(report["unitsClaimed"]),
        "reportsAccepted": int(view.fields.get("reportsAccepted") or 0) + 1,
        "currentReport": None,
        "lastReportDecision": {
            **report,
            "decision": "ACCEPTED",
            "decidedAt": iso(context.now),
            "decidedBy": context.actor.user_id,
        },
        **_next_report(view, context),
    }


def _reject_report(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    report = dict(view.fields["currentReport"] or {})
    return {
        "reportsRejected": int(view.fields.get("reportsRejected") or 0) + 1,
        "currentReport": None,
        "lastReportDecision": {
            **report,
            "decision": "REJECTED",
            "reason": payload.reason,
            "decidedAt": iso(context.now),
            "decidedBy": context.actor.user_id,
        },
        **_next_report(view, context),
    }


def _close(view: WorkflowView, payload: EmptyPayload, context: SignalContext) -> dict[str, Any]:
    return {"closedAt": iso(context.now)}


def _revoke(view: WorkflowView, payload: ReasonPayload, context: SignalContext) -> dict[str, Any]:
    return {"revocationReason": payload.reason, "closedAt": iso(context.now)}


def _consume(view: WorkflowView, payload: ConsumeUnitsPayload, context: SignalContext) -> dict[str, Any]:
    return {
        "availableUnits": int(view.fields.get("availableUnits") or 0) - payload.units,
        "issuedUnits": int(view.fields.get("issuedUnits") or 0) + payload.units,
    }


UNITS_AVAILABLE = Rule(
    name="projectUnitsAvailable",
    description="the project must have at least as many available units as are issued",
    check=lambda view, payload, context: int(view.fields.get("availableUnits") or 0) >= payload.units,
)


def _report_overdue(view: WorkflowView, now: datetime) -> dict[str, Any]:
    """No report for a whole period: remind again one period on."""
    return {"nextReportDueAt": iso(add_months(now, int(view.input["reportingPeriodMonths"])))}


def _seconds_to_next_report(view: WorkflowView, now: datetime) -> float:
    return (parse_iso(str(view.fields["nextReportDueAt"])) - now).total_seconds()


SIGNALS = {
    spec.name: spec
    for spec in (
        SignalSpec(
            "submitRegistration",
            frozenset({DRAFT}),
            REGISTRATION_SUBMITTED,
            EmptyPayload,
            frozenset({APPLICANTS}),
            _submit_registration,
        ),
        SignalSpec(
            "assignAssessor",
            frozenset({REGISTRATION_SUBMITTED}),
            UNDER_ASSESSMENT,
            AssignAssessorPayload,
            frozenset({REVIEWERS}),
            _assign_assessor,
        ),
        SignalSpec(
            "approveRegistration",
            frozenset({UNDER_ASSESSMENT}),
            ACTIVE,
            ApproveRegistrationPayload,
            frozenset({APPROVERS}),
            _approve,
            follow_ups=_report_calendar,
        ),
        SignalSpec(
            "rejectRegistration",
            frozenset({UNDER_ASSESSMENT}),
            REJECTED,
            ReasonPayload,
            frozenset({APPROVERS}),
            _reject,
        ),
        SignalSpec(
            "submitOffsetsReport",
            frozenset({ACTIVE}),
            REPORT_UNDER_REVIEW,
            OffsetsReportPayload,
            frozenset({APPLICANTS}),
            _submit_report,
            follow_ups=_close_calendar("completeEvent"),
        ),
        SignalSpec(
            "acceptReport",
            frozenset({REPORT_UNDER_REVIEW}),
            ACTIVE,
            EmptyPayload,
            frozenset({APPROVERS}),
            _accept_report,
            follow_ups=_report_calendar,
            continues_execution=True,
        ),
        SignalSpec(
            "rejectReport",
            frozenset({REPORT_UNDER_REVIEW}),
            ACTIVE,
            ReasonPayload,
            frozenset({APPROVERS}),
            _reject_report,
            follow_ups=_report_calendar,
            continues_execution=True,
        ),
        # Operators only (DESIGN §5).
        SignalSpec(
            "closeProject",
            frozenset({ACTIVE}),
            CLOSED,
            EmptyPayload,
            frozenset(),
            _close,
            follow_ups=_close_calendar("cancelEvent", reason="project closed"),
        ),
        SignalSpec(
            "revokeProject",
            CREDITING,
            REVOKED,
            ReasonPayload,
            frozenset(),
            _revoke,
            follow_ups=_close_calendar("cancelEvent", reason="project revoked"),
        ),
        # Sent by an application when its certificate is issued, in the same transaction.
        SignalSpec(
            "consumeUnits",
            CREDITING,
            None,
            ConsumeUnitsPayload,
            frozenset(),
            _consume,
            rules=(UNITS_AVAILABLE,),
            internal=True,
        ),
        update_metadata_signal([status for status in STATUSES if status not in TERMINAL]),
    )
}

TIMEOUTS = {
    spec.status: spec
    for spec in (
        TimeoutSpec(
            UNDER_ASSESSMENT,
            "assessmentDecision",
            "escalate",
            default_seconds=30 * DAY,
            description="no assessment decision: escalate and keep waiting",
        ),
        TimeoutSpec(
            ACTIVE,
            "reportDue",
            "escalate",
            seconds=_seconds_to_next_report,
            effect=_report_overdue,
            description="no offsets report for a reporting period: escalate, remind again a period on",
        ),
    )
}

LIFECYCLE = Lifecycle(
    type=TYPE,
    description="A carbon project: registration, assessment, crediting periods with offsets reports, closure",
    initial_status=DRAFT,
    statuses=STATUSES,
    terminal_statuses=TERMINAL,
    input_model=ProjectInput,
    fields_model=ProjectFields,
    signals=SIGNALS,
    timeouts=TIMEOUTS,
    starters=frozenset({APPLICANTS}),
    person_input_fields=("ownerId",),
    # Its current report's calendar (set on entering ACTIVE); every one of them names it as its subject.
    relations=(Relation("reportCalendar", "project", "fields.reportCalendarId", ("calendar",)),),
)
