"""The accu-application rules as pure functions: transitions, validation, rules, timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain import workflow as rules
from functions.domain.errors import (
    BusinessRuleViolation,
    DomainError,
    SignalNotAllowed,
    UnknownSignal,
    ValidationFailed,
    WorkflowClosed,
)
from functions.domain.identity import SYSTEM, Identity
from functions.domain.lifecycle import SignalContext
from functions.domain.lifecycles.accu_application import LIFECYCLE, VALIDATED_BY_SCHEMA_1

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALICE = Identity("alice", frozenset({"applicants"}))
RITA = Identity("rita", frozenset({"reviewers"}))
INPUT = {"projectId": "p1", "unitsRequested": 10, "methodologyId": "m1"}


ACTIVE_PROJECT = {"status": "ACTIVE", "fields": {"availableUnits": 1000}}


def context(
    actor: Identity = ALICE, now: datetime = NOW, project: dict | None = ACTIVE_PROJECT, documents: list | None = None
) -> SignalContext:
    return SignalContext(
        actor=actor,
        now=now,
        timeouts=LIFECYCLE.default_timeouts(),
        facts={"project": project, "documents": documents or []},
    )


def draft() -> rules.Workflow:
    return rules.start(LIFECYCLE, "app-1", INPUT, ALICE, NOW).after


def test_a_started_application_is_a_running_draft_owned_by_its_starter():
    transition = rules.start(LIFECYCLE, "app-1", INPUT, ALICE, NOW)
    workflow = transition.after
    assert (workflow.status, workflow.executionStatus, workflow.version, workflow.historyLength) == (
        "DRAFT",
        "RUNNING",
        1,
        1,
    )
    assert workflow.input["applicantId"] == "alice" and workflow.startedBy == "alice"
    assert transition.event.type == "STARTED" and transition.event.sequence == 1


def test_submission_sets_the_deadline_from_the_reviewer_assignment_timeout():
    after = rules.apply_signal(LIFECYCLE, draft(), "submitApplication", {}, context()).after
    assert after.status == "SUBMITTED"
    assert after.fields["deadlineDate"] == "2026-12-09T09:00:00.000Z"


def test_a_person_field_defaults_to_the_caller():
    submitted = rules.apply_signal(LIFECYCLE, draft(), "submitApplication", {}, context()).after
    assert (
        rules.apply_signal(LIFECYCLE, submitted, "assignReviewer", {}, context(RITA)).after.fields["reviewerId"]
        == "rita"
    )
    assert (
        rules.apply_signal(LIFECYCLE, submitted, "assignReviewer", {"reviewerId": "ray"}, context(RITA)).after.fields[
            "reviewerId"
        ]
        == "ray"
    )


@pytest.mark.parametrize(
    ("signal", "payload", "error"),
    [
        ("assignReviewer", {}, SignalNotAllowed),
        ("teleport", {}, UnknownSignal),
        ("submitApplication", {"unexpected": True}, ValidationFailed),
        ("updateMetadata", {"metadata": "not an object"}, ValidationFailed),
        ("updateMetadata", {"metadata": {"blob": "x" * 20000}}, ValidationFailed),
    ],
)
def test_wrong_signals_are_refused_with_the_right_error(signal, payload, error):
    with pytest.raises(error):
        rules.apply_signal(LIFECYCLE, draft(), signal, payload, context())


def test_approval_lists_every_unmet_rule():
    # Given an application under review that needs a land title, on a project with 5 units
    workflow = rules.start(
        LIFECYCLE, "app-1", {**INPUT, "requiredDocuments": ["land-title", "audit-report"]}, ALICE, NOW
    ).after
    for signal in ("submitApplication", "assignReviewer"):
        workflow = rules.apply_signal(LIFECYCLE, workflow, signal, {}, context()).after
    poor = {"status": "ACTIVE", "fields": {"availableUnits": 5}}
    documents = [
        {"status": "APPROVED", "input": {"kind": "audit-report"}},
        {"status": "UNDER_REVIEW", "input": {"kind": "land-title"}},
    ]

    # When it is approved, every unmet rule is named with what is missing
    with pytest.raises(BusinessRuleViolation) as refused:
        rules.apply_signal(LIFECYCLE, workflow, "approveApplication", {}, context(project=poor, documents=documents))
    messages = {detail["rule"]: detail["message"] for detail in refused.value.details}
    assert list(messages) == ["methodologyValidated", "requiredDocumentsApproved", "projectUnitsAvailable"]
    assert messages["requiredDocumentsApproved"] == "no APPROVED document of kind land-title"
    assert messages["projectUnitsAvailable"] == "10 units requested, project p1 has 5 available"

    # And with no such project, that is what it says
    with pytest.raises(BusinessRuleViolation) as refused:
        rules.apply_signal(LIFECYCLE, workflow, "approveApplication", {}, context(project=None))
    assert "p1 is not an active project" in refused.value.details[-1]["message"]


def test_a_terminal_status_closes_the_workflow_and_refuses_further_signals():
    workflow = draft()
    for signal, payload in [("submitApplication", {}), ("assignReviewer", {}), ("rejectApplication", {"reason": "no"})]:
        workflow = rules.apply_signal(LIFECYCLE, workflow, signal, payload, context()).after
    assert (workflow.status, workflow.executionStatus, workflow.closeTime) == (
        "REJECTED",
        "COMPLETED",
        "2026-11-25T09:00:00.000Z",
    )
    with pytest.raises(WorkflowClosed):
        rules.apply_signal(LIFECYCLE, workflow, "updateMetadata", {"metadata": {}}, context())


def test_timeouts_escalate_or_issue_and_ignore_a_workflow_that_moved_on():
    submitted = rules.apply_signal(LIFECYCLE, draft(), "submitApplication", {}, context()).after
    escalation = rules.time_out(LIFECYCLE, submitted, "SUBMITTED", context(SYSTEM))
    assert escalation is not None and escalation.event.type == "ESCALATED"
    assert escalation.after.escalationLevel == 1 and escalation.after.status == "SUBMITTED"
    assert rules.time_out(LIFECYCLE, submitted, "DRAFT", context(SYSTEM)) is None

    approved = submitted
    for signal, payload in [
        ("assignReviewer", {}),
        ("validateMethodology", {}),
        ("approveApplication", {}),
    ]:
        approved = rules.apply_signal(LIFECYCLE, approved, signal, payload, context()).after
    issued = rules.time_out(LIFECYCLE, approved, "APPROVED", context(SYSTEM, NOW + timedelta(days=3)))
    assert issued is not None
    assert (issued.event.type, issued.event.actor, issued.after.status) == ("TIMEOUT", "system", "ISSUED")


def test_merge_patch_merges_objects_and_null_removes():
    from functions.domain.common import merge_patch

    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"a": None, "b": {"c": None, "e": 4}, "f": [1]}) == {
        "b": {"d": 3, "e": 4},
        "f": [1],
    }
    assert merge_patch({"a": 1}, "replace") == "replace"


# ----- property: random signal sequences ---------------------------------------------------------

SIGNALS = [
    ("submitApplication", {}),
    ("assignReviewer", {}),
    ("approveApplication", {}),
    ("rejectApplication", {"reason": "r"}),
    ("rejectApplication", {"reason": ""}),
    ("issueCertificate", {}),
    ("validateMethodology", {}),
    ("updateMetadata", {"metadata": {"methodologyValidated": True}}),  # a protected key: refused
    ("updateMetadata", {"metadata": {"x": None}}),
    ("assignReviewer", {"reviewerId": 7}),
    ("unknownSignal", {}),
]
ALLOWED = {
    ("DRAFT", "SUBMITTED"),
    ("SUBMITTED", "UNDER_REVIEW"),
    ("UNDER_REVIEW", "APPROVED"),
    ("UNDER_REVIEW", "REJECTED"),
    ("APPROVED", "ISSUED"),
}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(SIGNALS))), max_size=25))
def test_random_signal_sequences_never_reach_an_invalid_state(sequence):
    workflow = draft()
    applied = 0
    for index in sequence:
        signal, payload = SIGNALS[index]
        before = workflow
        snapshot = workflow.model_dump(mode="json")  # a deep copy: what the workflow was, field by field
        try:
            transition = rules.apply_signal(LIFECYCLE, workflow, signal, payload, context())
        except DomainError:
            assert workflow.model_dump(mode="json") == snapshot  # a refused signal changes nothing
            continue
        workflow = transition.after
        applied += 1
        # every status change is one the lifecycle allows; terminal statuses close the workflow
        assert before.status == workflow.status or (before.status, workflow.status) in ALLOWED
        assert workflow.status in LIFECYCLE.statuses
        assert (workflow.status in LIFECYCLE.terminal_statuses) == (workflow.executionStatus == "COMPLETED")
        assert transition.event.sequence == workflow.historyLength
    # one history event per applied transition, plus the start
    assert workflow.historyLength == applied + 1 and workflow.version == applied + 1


def test_a_version_1_application_reads_as_version_2_keeping_its_validation_from_metadata():
    # Given two applications stored at schema version 1, one with the metadata flag of that version
    stored = draft().model_dump(mode="json") | {"schemaVersion": 1, "status": "UNDER_REVIEW"}
    flagged = stored | {"metadata": {"methodologyValidated": True}}

    # When they are read
    plain, validated = rules.Workflow.model_validate(stored), rules.Workflow.model_validate(flagged)

    # Then both are version 2, and only the flagged one counts as validated for approval
    assert plain.schemaVersion == validated.schemaVersion == 2
    assert plain.fields.get("methodologyValidatedAt") is None
    assert validated.fields["methodologyValidatedBy"] == VALIDATED_BY_SCHEMA_1
    assert validated.fields["methodologyValidatedAt"] == stored["lastProgressAt"]
    assert rules.apply_signal(LIFECYCLE, validated, "approveApplication", {}, context()).after.status == "APPROVED"
    with pytest.raises(BusinessRuleViolation):
        rules.apply_signal(LIFECYCLE, plain, "approveApplication", {}, context())


def test_validate_methodology_records_the_reviewer_and_the_time_and_keeps_the_status():
    submitted = rules.apply_signal(LIFECYCLE, draft(), "submitApplication", {}, context()).after
    transition = rules.apply_signal(LIFECYCLE, submitted, "validateMethodology", {}, context(RITA))
    assert transition.after.status == "SUBMITTED"
    assert transition.after.fields["methodologyValidatedBy"] == "rita"
    assert transition.after.fields["methodologyValidatedAt"] == "2026-11-25T09:00:00.000Z"
