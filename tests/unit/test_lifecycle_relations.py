"""The relations the lifecycles declare (what ``GET /workflows/{id}/related`` follows) agree with the
rest of the catalog: each reference a start must own is a relation, each workflow the subject index
finds is named by a relation, and every type a relation names is a lifecycle."""

from __future__ import annotations

import pytest

from functions.domain.lifecycle import Relation
from functions.domain.lifecycles import LIFECYCLES
from functions.service.catalog import payload_models


@pytest.mark.parametrize("lifecycle", LIFECYCLES.values(), ids=list(LIFECYCLES))
def test_each_owned_reference_is_a_declared_relation(lifecycle):
    declared = {(relation.id_field, relation.type_field): relation for relation in lifecycle.relations}
    for reference in lifecycle.references:
        type_field = f"input.{reference.type_field}" if reference.type_field else None
        relation = declared.get((f"input.{reference.id_field}", type_field))
        assert relation is not None, reference.rule
        if reference.workflow_type:
            assert relation.workflow_types == (reference.workflow_type,)


@pytest.mark.parametrize("lifecycle", LIFECYCLES.values(), ids=list(LIFECYCLES))
def test_what_the_subject_index_finds_is_named_by_a_relation(lifecycle):
    # The store indexes input.subjectType / input.subjectId: a workflow it finds about another must be
    # one a relation says names it, or GET /workflows/{id}/related could not say how they relate.
    if {"subjectType", "subjectId"} <= set(lifecycle.input_model.model_fields):
        assert any(
            (relation.id_field, relation.type_field) == ("input.subjectId", "input.subjectType")
            for relation in lifecycle.relations
        )
    for relation in lifecycle.relations:
        assert set(relation.workflow_types) <= set(LIFECYCLES), relation.name


def test_a_relation_reads_the_id_and_type_it_names():
    subject = Relation("subject", "document", "input.subjectId", ("accu-application", "project"), "input.subjectType")
    assert subject.named({"subjectType": "project", "subjectId": "p-1"}, {}) == ("p-1", ("project",))
    assert subject.named({"subjectType": "rocket", "subjectId": "p-1"}, {}) == ("p-1", ())
    assert subject.named({}, {}) is None
    calendar = Relation("reportCalendar", "project", "fields.reportCalendarId", ("calendar",))
    assert calendar.named({}, {"reportCalendarId": "p-1-report-1"}) == ("p-1-report-1", ("calendar",))
    assert calendar.named({}, {"reportCalendarId": None}) is None
    with pytest.raises(ValueError, match=r"input\.<field>"):
        Relation("x", "y", "projectId", ("project",))


def test_schema_names_are_unique_per_lifecycle_and_signal():
    models = payload_models(LIFECYCLES)
    assert len(models) == sum(len(lifecycle.signals) + 1 for lifecycle in LIFECYCLES.values())
    assert models["DocumentRejectDocumentPayload"] is models["AccuApplicationRejectApplicationPayload"]
