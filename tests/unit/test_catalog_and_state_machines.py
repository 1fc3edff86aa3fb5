"""The catalog and the ASL files agree: every placeholder has a substitution, every Next names a
real state, every status has its wait, and every signal of the catalog is reachable."""

from __future__ import annotations

import json
from collections import deque

import pytest

from infra.catalog import CATALOG, FUNCTIONS, timeout_placeholder

ENTRIES = list(CATALOG.values())


def rendered(entry) -> dict:
    arns = {name: f"arn:aws:lambda:ap-southeast-2:123456789012:function:{name}" for name in entry.functions}
    return json.loads(entry.render(arns, entry.timeouts()))


def successors(state: dict) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {choice.get("Next") for choice in state.get("Choices", [])}
    names |= {catcher.get("Next") for catcher in state.get("Catch", [])}
    return {name for name in names if name}


def reachable(definition: dict) -> set[str]:
    seen, queue = set(), deque([definition["StartAt"]])
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        queue.extend(successors(definition["States"][name]))
    return seen


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_placeholder_has_a_substitution_and_every_substitution_a_placeholder(entry):
    arns = {name: "arn" for name in entry.functions}
    assert entry.placeholders() == set(entry.substitutions(arns, entry.timeouts()))
    assert set(entry.functions) <= set(FUNCTIONS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_next_names_a_real_state_and_every_state_is_reachable(entry):
    definition = rendered(entry)
    states = definition["States"]
    for name, state in states.items():
        assert successors(state) <= set(states), name
    assert reachable(definition) == set(states)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_status_is_routed_and_every_signal_is_reachable(entry):
    definition = rendered(entry)
    states, lifecycle = definition["States"], entry.lifecycle
    route = {choice["StringEquals"]: choice["Next"] for choice in states["Route"]["Choices"]}
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
def test_each_timeout_of_the_catalog_is_a_timed_wait_with_its_handler(entry):
    template = entry.definition_template()
    definition = rendered(entry)
    states = definition["States"]
    for status, spec in entry.lifecycle.timeouts.items():
        wait = next(
            state
            for state in states.values()
            if state.get("Parameters", {}).get("Payload", {}).get("status") == status
            and state["Resource"].endswith(".waitForTaskToken")
        )
        if spec.computed:
            # computed from the workflow's data, carried by the execution
            assert wait["TimeoutSecondsPath"] == "$.waitSeconds" and "TimeoutSeconds" not in wait
        else:
            assert wait["TimeoutSeconds"] == spec.default_seconds
            assert "${" + timeout_placeholder(spec.name) + "}" in template
        handler = states[next(c["Next"] for c in wait["Catch"] if c["ErrorEquals"] == ["States.Timeout"])]
        assert handler["Parameters"]["Payload"]["status"] == status
    timed = {
        state["Parameters"]["Payload"]["status"]
        for state in states.values()
        if "TimeoutSeconds" in state or "TimeoutSecondsPath" in state
    }
    assert timed == set(entry.lifecycle.timeouts)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.type)
def test_every_lambda_task_retries_with_backoff_and_jitter_and_catches_into_the_failure_record(entry):
    for name, state in rendered(entry)["States"].items():
        if state["Type"] != "Task":
            continue
        retry = state["Retry"][0]
        assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL", name
        assert "States.Timeout" not in retry["ErrorEquals"] and "States.ALL" not in retry["ErrorEquals"]
        assert any(c["ErrorEquals"] == ["States.ALL"] for c in state["Catch"]), name


def test_timeout_overrides_must_name_a_known_timeout():
    entry = CATALOG["accu-application"]
    assert entry.timeouts({"reviewerAssignment": 60})["reviewerAssignment"] == 60
    with pytest.raises(ValueError):
        entry.timeouts({"coffeeBreak": 60})
