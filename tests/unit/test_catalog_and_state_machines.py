"""The catalog and the ASL files agree: every ASL file is JSON with placeholders only in strings,
every placeholder has a substitution, every Next names a real state, every status has its wait,
every signal of the catalog is reachable, and every wait can hand over to a new execution."""

from __future__ import annotations

import json
from collections import deque

import pytest

from infra.catalog import (
    CATALOG,
    FUNCTIONS,
    PLACEHOLDER,
    STATE_MACHINE_ENTRIES,
    definition_problems,
    transitions_of,
)

ENTRIES = list(CATALOG.values())
# Every state machine of the catalog: the lifecycles' and the platform's own (batch operations).
ALL_ENTRIES = list(STATE_MACHINE_ENTRIES)


def rendered(entry) -> dict:
    arns = {name: f"arn:aws:lambda:ap-southeast-2:123456789012:function:{name}" for name in entry.functions}
    return json.loads(entry.render(arns))


def reachable(definition: dict) -> set[str]:
    seen, queue = set(), deque([definition["StartAt"]])
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        queue.extend(transitions_of(definition["States"][name]))
    return seen


def strings(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.state_machine_name)
def test_every_placeholder_has_a_substitution_and_every_substitution_a_placeholder(entry):
    arns = {name: "arn" for name in entry.functions}
    assert entry.placeholders() == set(entry.substitutions(arns))
    assert set(entry.functions) <= set(FUNCTIONS)


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.state_machine_name)
def test_the_asl_file_is_json_before_substitution_with_each_placeholder_a_whole_string(entry):
    # Given the ASL file as it is in the repository (editors and validators read it as is)
    template = json.loads(entry.definition_template())
    # Then each placeholder is a whole JSON string (CloudFormation substitutes strings only)
    whole = {text[2:-1] for text in strings(template) if PLACEHOLDER.fullmatch(text)}
    assert whole == entry.placeholders()
    assert not any(PLACEHOLDER.search(text) and not PLACEHOLDER.fullmatch(text) for text in strings(template))


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.state_machine_name)
def test_every_next_names_a_real_state_and_every_state_is_reachable(entry):
    definition = rendered(entry)
    states = definition["States"]
    assert definition_problems(definition) == []
    assert reachable(definition) == set(states)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_status_is_routed_and_every_signal_is_reachable(entry):
    definition = rendered(entry)
    states, lifecycle = definition["States"], entry.lifecycle
    route = {
        choice["StringEquals"]: choice["Next"] for choice in states["Route"]["Choices"] if "StringEquals" in choice
    }
    # every status is routed: terminal ones to a Succeed, activity ones to their function,
    # the others to a task-token wait for that status
    assert set(route) == set(lifecycle.statuses)
    waits = {}
    for status in lifecycle.statuses:
        target = states[route[status]]
        if status in lifecycle.terminal_statuses:
            assert target["Type"] == "Succeed"
            continue
        assert target["Parameters"]["Payload"]["status"] == status
        assert target["Next"] == "Route"
        if status in lifecycle.activities:
            function = lifecycle.activities[status]
            assert (
                target["Parameters"]["FunctionName"]
                == f"arn:aws:lambda:ap-southeast-2:123456789012:function:{function}"
            )
        else:
            assert target["Resource"].endswith(".waitForTaskToken")
            waits[status] = route[status]
    assert sorted(waits) == sorted(lifecycle.wait_statuses())
    live = reachable(definition)
    for name, spec in lifecycle.signals.items():
        assert spec.sources, name
        for status in spec.sources:
            # an internal signal may be applied by the activity of its status; the others need a wait
            assert (waits.get(status) or route[status]) in live, (name, status)
            if not spec.internal and spec.moves_execution:
                assert status in waits, (name, status)
        if spec.target:
            assert spec.target in route, name


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_wait_lasts_what_the_execution_says_and_ends_in_its_timeout_or_a_hand_over(entry):
    definition = rendered(entry)
    states = definition["States"]
    on_timeout = "arn:aws:lambda:ap-southeast-2:123456789012:function:OnTimeout"
    for status in entry.lifecycle.wait_statuses():
        wait = next(
            state
            for state in states.values()
            if state.get("Parameters", {}).get("Payload", {}).get("status") == status
            and state["Resource"].endswith(".waitForTaskToken")
        )
        # no wait outlives its execution: its length is the platform's (waitSeconds), never fixed
        assert wait["TimeoutSecondsPath"] == "$.waitSeconds" and "TimeoutSeconds" not in wait
        handler = states[next(c["Next"] for c in wait["Catch"] if c["ErrorEquals"] == ["States.Timeout"])]
        assert handler["Parameters"]["FunctionName"] == on_timeout
        payload = handler["Parameters"]["Payload"]
        if status in entry.lifecycle.timeouts:
            # the state's own timer: a named state that says which status timed out
            assert payload["status"] == status
        else:
            # only the hand-over can end it: the shared hand-over reads the status from the execution
            assert payload["status.$"] == "$.status"
        assert payload["execution.$"] == "$$.Execution.Name"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_an_execution_another_has_taken_over_from_ends_and_every_route_input_says_whether(entry):
    definition = rendered(entry)
    states = definition["States"]
    first = states["Route"]["Choices"][0]
    assert first == {"Variable": "$.continuedAs", "IsNull": False, "Next": "ContinuedAsNew"}
    assert states["ContinuedAsNew"]["Type"] == "Succeed"
    for name, state in states.items():
        if state.get("Next") == "Route":
            # the Choice reads $.continuedAs: every state that leads there must produce it
            assert "continuedAs.$" in state["ResultSelector"], name
        if state["Type"] == "Task":
            assert state["Parameters"]["Payload"]["execution.$"] == "$$.Execution.Name", name


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_lambda_task_retries_with_backoff_and_jitter_and_catches_into_the_failure_record(entry):
    for name, state in rendered(entry)["States"].items():
        if state["Type"] != "Task":
            continue
        retry = state["Retry"][0]
        assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL", name
        # Ten retries, at most a minute apart: a transient fault lasting minutes is survived.
        assert retry["MaxAttempts"] >= 10 and retry["MaxDelaySeconds"] <= 60, name
        assert "States.Timeout" not in retry["ErrorEquals"] and "States.ALL" not in retry["ErrorEquals"]
        assert any(c["ErrorEquals"] == ["States.ALL"] for c in state["Catch"]), name


def test_timeout_overrides_must_name_a_known_timeout():
    entry = CATALOG["accu-application"]
    assert entry.timeouts({"reviewerAssignment": 60})["reviewerAssignment"] == 60
    with pytest.raises(ValueError):
        entry.timeouts({"coffeeBreak": 60})


def test_the_readme_says_what_each_function_may_do_as_the_catalog_declares_it():
    from infra.readme_tables import README, rendered

    # Given the README, when its generated table is made anew from the catalog, then nothing changes
    text = README.read_text()
    assert rendered(text) == text, "the README's function table is stale: run make readme"
    for name in FUNCTIONS:
        assert f"| `{name}` |" in text
