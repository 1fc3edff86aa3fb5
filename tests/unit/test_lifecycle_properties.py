"""Properties every lifecycle keeps, checked over random signal sequences: a refused signal
changes nothing; an applied one moves only along the lifecycle's declared transitions; terminal
statuses and only those close the workflow; one history event per applied transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain import workflow as rules
from functions.domain.errors import DomainError
from functions.domain.identity import Identity
from functions.domain.lifecycle import SignalContext
from functions.domain.lifecycles import LIFECYCLES

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPERATOR = Identity("olga", frozenset({"operators"}))
SHA = "a" * 64

STARTS = {
    "accu-application": {"projectId": "p1", "unitsRequested": 10, "methodologyId": "m1"},
    "project": {"name": "n", "methodologyId": "m", "reportingPeriodMonths": 6},
    "document": {
        "subjectType": "project",
        "subjectId": "p1",
        "kind": "land-title",
        "fileName": "f.pdf",
        "objectKey": "k",
        "sha256": SHA,
        "sizeBytes": 10,
    },
    "calendar": {"title": "t", "subjectType": "project", "subjectId": "p1", "dueAt": "2027-01-01T00:00:00Z"},
}
# Payloads to try for each signal: valid ones and a few invalid.
PAYLOADS = {
    "updateMetadata": [{"metadata": {"note": "n"}}, {"metadata": {"methodologyValidated": True}}, {"metadata": 1}],
    "rejectApplication": [{"reason": "r"}, {"reason": ""}],
    "rejectRegistration": [{"reason": "r"}],
    "rejectReport": [{"reason": "r"}],
    "revokeProject": [{"reason": "r"}],
    "rejectDocument": [{"reason": "r"}],
    "requestRevision": [{"reason": "r"}],
    "cancelEvent": [{"reason": "r"}],
    "submitOffsetsReport": [
        {"periodStart": "2026-01-01", "periodEnd": "2026-06-30", "unitsClaimed": 50},
        {"periodStart": "2026-06-30", "periodEnd": "2026-01-01", "unitsClaimed": 5},
    ],
    "consumeUnits": [{"units": 20, "applicationId": "a"}, {"units": 0, "applicationId": "a"}],
    "documentValidated": [{"sha256": SHA, "sizeBytes": 10}],
    "uploadRevision": [{"fileName": "g.pdf", "objectKey": "k2", "sha256": SHA, "sizeBytes": 11}],
    "rescheduleEvent": [{"dueAt": "2027-02-01T00:00:00Z"}, {"dueAt": "soon"}],
    "assignReviewer": [{}, {"reviewerId": 7}],
}
FACTS = {"project": {"status": "ACTIVE", "fields": {"availableUnits": 1000}}, "documents": []}


def signals_of(workflow_type: str) -> list[tuple[str, dict]]:
    return [(name, payload) for name in LIFECYCLES[workflow_type].signals for payload in PAYLOADS.get(name, [{}])]


@pytest.mark.parametrize("workflow_type", sorted(LIFECYCLES))
def test_random_signal_sequences_keep_every_lifecycle_consistent(workflow_type):
    lifecycle = LIFECYCLES[workflow_type]
    candidates = signals_of(workflow_type)
    allowed = {(source, spec.target or source) for spec in lifecycle.signals.values() for source in spec.sources}

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.sampled_from(range(len(candidates))), max_size=30))
    def run(sequence: list[int]) -> None:
        workflow = rules.start(lifecycle, "wf-1", STARTS[workflow_type], OPERATOR, NOW).after
        applied = 0
        for step, index in enumerate(sequence):
            signal, payload = candidates[index]
            context = SignalContext(OPERATOR, NOW + timedelta(hours=step), lifecycle.default_timeouts(), FACTS)
            before = workflow
            snapshot = workflow.model_dump(mode="json")  # a deep copy: the same object cannot show a change
            try:
                transition = rules.apply_signal(lifecycle, workflow, signal, payload, context)
            except DomainError:
                assert workflow.model_dump(mode="json") == snapshot  # a refused signal changes nothing
                continue
            workflow = transition.after
            applied += 1
            assert (before.status, workflow.status) in allowed
            assert (workflow.status in lifecycle.terminal_statuses) == (workflow.executionStatus == "COMPLETED")
            assert transition.event.sequence == workflow.historyLength
            assert lifecycle.fields_model.model_validate(workflow.fields)  # fields keep their shape
        assert workflow.historyLength == applied + 1 and workflow.version == applied + 1
        if workflow_type == "project":
            assert workflow.fields["availableUnits"] >= 0
        lengths.append(applied)

    lengths: list[int] = []
    run()
    # the sequences tried reached past the start: some applied several signals (else nothing was shown)
    assert max(lengths) >= 3, lengths
