"""The project lifecycle on its real state machine: registration, assessment, reports that earn
units, the report calendar, closure and revocation, and its timeouts."""

from __future__ import annotations

from tests.support.scenarios import PROJECT_INPUT, active_project, drive

DAY = 24 * 3600


def test_a_project_is_registered_assessed_and_earns_units_from_accepted_reports(
    platform, applicant, reviewer, approver, operator
):
    # Given a registered, assessed and approved project
    code, state = applicant.start("proj-1", "project", PROJECT_INPUT)
    assert (code, state["status"], state["input"]["ownerId"]) == (201, "DRAFT", "alice")
    state = drive(
        platform,
        "proj-1",
        [
            (applicant, "submitRegistration", {}),
            (reviewer, "assignAssessor", {}),
            (approver, "approveRegistration", {}),
        ],
    )
    assert (state["status"], state["assessorId"], state["reportCycle"]) == ("ACTIVE", "rita", 1)

    # Then entering ACTIVE started the calendar of the first report, due a reporting period on
    calendar = operator.get("proj-1-report-1")[1]
    assert (calendar["type"], calendar["status"], calendar["dueAt"]) == (
        "calendar",
        "SCHEDULED",
        state["nextReportDueAt"],
    )
    assert calendar["input"]["subjectId"] == "proj-1" and applicant.get("proj-1-report-1")[0] == 200

    # When a report is submitted, the calendar is completed; when it is accepted, its units are available
    state = drive(
        platform,
        "proj-1",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2025-01-01", "periodEnd": "2025-12-31", "unitsClaimed": 750},
            )
        ],
    )
    assert state["status"] == "REPORT_UNDER_REVIEW" and state["currentReport"]["unitsClaimed"] == 750
    assert operator.get("proj-1-report-1")[1]["status"] == "COMPLETED"
    state = drive(platform, "proj-1", [(approver, "acceptReport", {})])
    assert (state["status"], state["availableUnits"], state["reportsAccepted"]) == ("ACTIVE", 750, 1)
    assert operator.get("proj-1-report-2")[1]["status"] == "SCHEDULED"

    # And a rejected report earns nothing
    state = drive(
        platform,
        "proj-1",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2026-01-01", "periodEnd": "2026-12-31", "unitsClaimed": 9},
            ),
            (approver, "rejectReport", {"reason": "baseline not evidenced"}),
        ],
    )
    assert (state["status"], state["availableUnits"], state["reportsRejected"]) == ("ACTIVE", 750, 1)
    assert state["lastReportDecision"]["decision"] == "REJECTED"

    # Finally an operator closes it, and the open report calendar is cancelled with it
    assert approver.signal("proj-1", "closeProject")[0] == 403
    state = drive(platform, "proj-1", [(operator, "closeProject", {})])
    assert (state["status"], state["executionStatus"]) == ("CLOSED", "COMPLETED")
    assert operator.get("proj-1-report-3")[1]["status"] == "CANCELLED"


def test_registration_can_be_rejected(platform, applicant, reviewer, approver):
    applicant.start("proj-2", "project", PROJECT_INPUT)
    state = drive(
        platform,
        "proj-2",
        [
            (applicant, "submitRegistration", {}),
            (reviewer, "assignAssessor", {}),
            (approver, "rejectRegistration", {"reason": "ineligible land"}),
        ],
    )
    assert (state["status"], state["rejectionReason"], state["executionStatus"]) == (
        "REJECTED",
        "ineligible land",
        "COMPLETED",
    )


def test_an_operator_revokes_a_project_under_report_review(platform, applicant, reviewer, approver, operator):
    active_project(platform, applicant, reviewer, approver, "proj-3", units=10)
    drive(
        platform,
        "proj-3",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2026-01-01", "periodEnd": "2026-06-30", "unitsClaimed": 5},
            )
        ],
    )
    state = drive(platform, "proj-3", [(operator, "revokeProject", {"reason": "fraud"})])
    assert (state["status"], state["revocationReason"]) == ("REVOKED", "fraud")


def test_a_report_period_must_end_after_it_starts(platform, applicant, reviewer, approver):
    active_project(platform, applicant, reviewer, approver, "proj-4")
    code, error = applicant.signal(
        "proj-4", "submitOffsetsReport", {"periodStart": "2026-06-30", "periodEnd": "2026-01-01", "unitsClaimed": 5}
    )
    assert code == 422 and "periodEnd must be after periodStart" in error["details"][0]["message"]
    code, error = applicant.signal(
        "proj-4", "submitOffsetsReport", {"periodStart": "2026-01-01", "periodEnd": "2026-06-30", "unitsClaimed": -1}
    )
    assert code == 422 and error["details"][0]["field"] == "unitsClaimed"


def test_units_can_only_be_consumed_by_the_platform(platform, applicant, reviewer, approver, operator):
    active_project(platform, applicant, reviewer, approver, "proj-5")
    code, error = operator.signal("proj-5", "consumeUnits", {"units": 1, "applicationId": "x"})
    assert (code, error["error"]) == (403, "FORBIDDEN")
    assert "consumeUnits" not in operator.get("proj-5")[1]["awaiting"]


def test_thirty_days_under_assessment_escalate(platform, applicant, reviewer):
    applicant.start("proj-6", "project", PROJECT_INPUT)
    drive(platform, "proj-6", [(applicant, "submitRegistration", {}), (reviewer, "assignAssessor", {})])
    platform.advance(29 * DAY)
    assert applicant.get("proj-6")[1]["escalationLevel"] == 0
    platform.advance(DAY + 60)
    state = applicant.get("proj-6")[1]
    assert (state["status"], state["escalationLevel"]) == ("UNDER_ASSESSMENT", 1)


def test_an_active_project_without_a_report_for_its_period_escalates_then_again_a_period_on(
    platform, applicant, reviewer, approver
):
    # Given a project with a 3-month reporting period that just became active
    applicant.start("proj-7", "project", {**PROJECT_INPUT, "reportingPeriodMonths": 3})
    drive(
        platform,
        "proj-7",
        [
            (applicant, "submitRegistration", {}),
            (reviewer, "assignAssessor", {}),
            (approver, "approveRegistration", {}),
        ],
    )

    # When three months pass without a report it escalates, and again three months later
    platform.advance(80 * DAY)
    assert applicant.get("proj-7")[1]["escalationLevel"] == 0
    platform.advance(13 * DAY)
    state = applicant.get("proj-7")[1]
    assert (state["status"], state["escalationLevel"]) == ("ACTIVE", 1)
    platform.advance(95 * DAY)
    assert applicant.get("proj-7")[1]["escalationLevel"] == 2
    # (its report calendar went overdue meanwhile, escalating on its own)
    assert applicant.get("proj-7-report-1")[1]["status"] == "OVERDUE"


def test_an_operator_revokes_an_active_project_and_its_calendar_is_cancelled(
    platform, applicant, reviewer, approver, operator
):
    active_project(platform, applicant, reviewer, approver, "proj-8", units=10)
    state = drive(platform, "proj-8", [(operator, "revokeProject", {"reason": "non-compliance"})])
    assert (state["status"], state["executionStatus"]) == ("REVOKED", "COMPLETED")
    assert operator.get("proj-8-report-2")[1]["status"] == "CANCELLED"
