"""Schema upgrades, checked over random stored items: every valid item of version N becomes a valid
item of version N+1, reading an item of any version never fails, and an upgrade touches nothing but
what its version changed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain import workflow as rules
from functions.domain.errors import DomainError
from functions.domain.lifecycle import SchemaChange, SignalContext
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.lifecycles.accu_application import VALIDATED_BY_SCHEMA_1
from functions.domain.schema import CURRENT_VERSION, FIRST_VERSION, SchemaRegistry, registry
from tests.unit.test_lifecycle_properties import FACTS, NOW, OPERATOR, STARTS, signals_of

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@st.composite
def stored_states(draw: Any, workflow_type: str, version: int) -> dict[str, Any]:
    """A state as a platform of ``version`` stored it: a workflow some signals moved on, with any
    metadata a client may have set (the version-1 flag among them, of any JSON value)."""
    lifecycle = LIFECYCLES[workflow_type]
    candidates = signals_of(workflow_type)
    workflow = rules.start(lifecycle, "wf-1", STARTS[workflow_type], OPERATOR, NOW).after
    for step, index in enumerate(draw(st.lists(st.sampled_from(range(len(candidates))), max_size=12))):
        signal, payload = candidates[index]
        context = SignalContext(OPERATOR, NOW + timedelta(hours=step), lifecycle.default_timeouts(), FACTS)
        try:
            workflow = rules.apply_signal(lifecycle, workflow, signal, payload, context).after
        except DomainError:
            continue
    state = workflow.model_dump(mode="json")
    metadata = draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3))
    if draw(st.booleans()):
        metadata["methodologyValidated"] = draw(JSON_VALUES)
    state["metadata"] = metadata
    if version == 1:
        # Version 1 knew no validation fields; some items carry no version at all.
        state["fields"] = {
            key: value for key, value in state["fields"].items() if not key.startswith("methodologyValidated")
        }
        state["schemaVersion"] = draw(st.sampled_from([1, None]))
        if state["schemaVersion"] is None:
            del state["schemaVersion"]
    return state


STEPS = [
    (workflow_type, version)
    for workflow_type in sorted(LIFECYCLES)
    for version in range(FIRST_VERSION, CURRENT_VERSION)
]


@pytest.mark.parametrize(("workflow_type", "version"), STEPS)
def test_every_valid_item_of_a_version_becomes_a_valid_item_of_the_next(workflow_type, version):
    lifecycle = LIFECYCLES[workflow_type]

    @settings(max_examples=60, deadline=None)
    @given(stored_states(workflow_type, version))
    def check(stored: dict[str, Any]) -> None:
        # Given a valid item of this version
        before = dict(stored)

        # When it is upgraded one version
        after = registry().upgrade("state", workflow_type, stored, to_version=version + 1)

        # Then it is a valid item of the next one, the stored item itself untouched ...
        assert stored == before
        assert after["schemaVersion"] == version + 1
        workflow = rules.Workflow.model_validate(after)
        lifecycle.fields_model.model_validate(workflow.fields)
        # ... only the lifecycle's fields (and the version) changed ...
        unchanged = {"fields", "schemaVersion"}
        assert {k: v for k, v in after.items() if k not in unchanged} == {
            k: v for k, v in stored.items() if k not in unchanged
        }
        # ... and upgrading it again to the same version changes nothing.
        assert registry().upgrade("state", workflow_type, after, to_version=version + 1) == after

    check()


@pytest.mark.parametrize("workflow_type", sorted(LIFECYCLES))
def test_reading_an_item_of_any_version_never_fails_and_answers_the_current_version(workflow_type):
    @settings(max_examples=40, deadline=None)
    @given(
        stored_states(workflow_type, FIRST_VERSION),
        st.sampled_from([None, 0, 1, 2, "2", "x", -3]),
    )
    def check(stored: dict[str, Any], label: Any) -> None:
        # Given an item whose version says anything at all
        stored = stored | {"schemaVersion": label}

        # When it is read
        workflow = rules.Workflow.model_validate(stored)

        # Then it is the current version
        assert workflow.schemaVersion == CURRENT_VERSION

    check()


@given(stored_states("accu-application", FIRST_VERSION))
@settings(max_examples=80, deadline=None)
def test_version_2_counts_an_application_validated_exactly_when_version_1_flagged_it(stored):
    # Given a version-1 application, flagged or not
    flagged = stored["metadata"].get("methodologyValidated") is True

    # When it is read
    workflow = rules.Workflow.model_validate(stored)

    # Then its validation is in its fields exactly when the flag said so, and the flag stays
    assert bool(workflow.fields.get("methodologyValidatedAt")) == flagged
    if flagged:
        assert workflow.fields["methodologyValidatedBy"] == VALIDATED_BY_SCHEMA_1
        assert workflow.fields["methodologyValidatedAt"] == stored["lastProgressAt"]
    assert workflow.metadata == stored["metadata"]


def test_an_item_of_a_later_version_than_this_code_reads_as_it_is():
    # Given a state a newer deployment wrote (version 9, with a field this code does not know)
    stored = rules.start(LIFECYCLES["project"], "p-9", STARTS["project"], OPERATOR, NOW).after.model_dump(mode="json")
    stored |= {"schemaVersion": 9, "fields": {**stored["fields"], "newField": "x"}}

    # When this code reads it
    workflow = rules.Workflow.model_validate(stored)

    # Then it keeps its version and the field (in the lifecycle's fields, carried over as they are)
    assert workflow.schemaVersion == 9 and workflow.fields["newField"] == "x"


def test_history_events_and_kept_signals_upgrade_on_read_with_their_lifecycle_change():
    # Given a registry whose version 2 changes the project's events and kept signals
    lifecycle = LIFECYCLES["project"]
    change = SchemaChange(
        version=2,
        description="test",
        history_event=lambda event: {**event, "actor": event["actor"].upper()},
        kept_signal=lambda record: {**record, "signal": record["signal"] + "V2"},
    )
    registry_with_change = SchemaRegistry.of([_with_changes(lifecycle, change)])

    # When a version-1 event and kept signal are read, and a version-2 one
    event = registry_with_change.upgrade("history_event", "project", {"actor": "olga"})
    kept = registry_with_change.upgrade("kept_signal", "project", {"signal": "approve", "schemaVersion": 1})
    current = registry_with_change.upgrade("history_event", "project", {"actor": "olga", "schemaVersion": 2})

    # Then the older ones are upgraded, the current one is not
    assert event == {"actor": "OLGA", "schemaVersion": 2}
    assert kept == {"signal": "approveV2", "schemaVersion": 2}
    assert current == {"actor": "olga", "schemaVersion": 2}


@pytest.mark.parametrize("version", [1, CURRENT_VERSION + 1])
def test_a_registry_refuses_a_change_numbered_outside_its_versions(version):
    change = SchemaChange(version=version, description="misnumbered")
    with pytest.raises(ValueError, match="schema change"):
        SchemaRegistry.of([_with_changes(LIFECYCLES["project"], change)])


def _with_changes(lifecycle: Any, *changes: SchemaChange) -> Any:
    return dataclasses.replace(lifecycle, schema_changes=changes)
