"""The lifecycles' state machines: their ASL template, substitutions, logging, tracing, version and alias."""

from __future__ import annotations

import json
import re
import subprocess
from functools import partial
from pathlib import Path

import pytest

from infra.catalog import (
    BATCH_OPERATION,
    CATALOG,
    FUNCTIONS,
    ROOT,
    STATE_MACHINE_ENTRIES,
    StateMachineEntry,
    function_placeholder,
)
from tests.infra.synthesis import NAME_PREFIX, PLATFORM_STACK, REVIEWER_ASSIGNMENT_SECONDS, Synthesized

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


def _value_of(values: dict[str, str], match: re.Match[str]) -> str:
    return values[match.group(1)]


def _state_machines(synthesized: Synthesized) -> dict[str, dict]:
    machines = synthesized.resources("AWS::StepFunctions::StateMachine", PLATFORM_STACK)
    assert len(machines) == len(STATE_MACHINE_ENTRIES)
    return machines


def _entry_of(resource: dict) -> StateMachineEntry:
    name = resource["Properties"]["StateMachineName"]
    return next(entry for entry in STATE_MACHINE_ENTRIES if name == f"{PLATFORM_STACK}-{entry.state_machine_name}")


def test_given_each_lifecycle_when_synthesized_then_its_state_machine_is_named_from_the_stack_and_catalog(
    synthesized: Synthesized,
) -> None:
    names = {r["Properties"]["StateMachineName"] for r in _state_machines(synthesized).values()}
    assert names == {f"{PLATFORM_STACK}-{entry.state_machine_name}" for entry in STATE_MACHINE_ENTRIES}


def test_given_the_asl_template_when_synthesized_then_every_placeholder_has_a_substitution_and_vice_versa(
    synthesized: Synthesized,
) -> None:
    for resource in _state_machines(synthesized).values():
        properties = resource["Properties"]
        definition = properties["DefinitionString"]
        assert isinstance(definition, str), "the template must reach CloudFormation as is, not joined with tokens"
        placeholders = set(PLACEHOLDER.findall(definition))
        substitutions = set(properties["DefinitionSubstitutions"])
        assert placeholders, "the template has placeholders"
        assert placeholders == substitutions
        assert placeholders == _entry_of(resource).placeholders()


def test_given_the_substitutions_when_filled_then_the_definition_is_valid_json_invoking_only_activity_functions(
    synthesized: Synthesized,
) -> None:
    functions = synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK)
    for resource in _state_machines(synthesized).values():
        entry = _entry_of(resource)
        properties = resource["Properties"]
        substitutions = properties["DefinitionSubstitutions"]
        for name in entry.functions:
            logical_id = substitutions[function_placeholder(name)]["Fn::GetAtt"][0]
            assert functions[logical_id]["Properties"]["Handler"].endswith(".handler")
            assert functions[logical_id]["Properties"]["FunctionName"].endswith(f"-{name}")
        # Function ARNs are GetAtts, resolved at deploy: stand in a plain ARN.
        values = {
            key: f"arn:aws:lambda:ap-southeast-2:123456789012:function:{value['Fn::GetAtt'][0]}"
            if isinstance(value, dict)
            else value
            for key, value in substitutions.items()
        }
        filled = PLACEHOLDER.sub(partial(_value_of, values), properties["DefinitionString"])
        definition = json.loads(filled)
        assert definition["StartAt"] in definition["States"]
        invoked = {
            state["Parameters"]["FunctionName"]
            for state in definition["States"].values()
            if state["Type"] == "Task" and "FunctionName" in state.get("Parameters", {})
        }
        assert invoked == {values[function_placeholder(name)] for name in entry.functions}


def test_given_a_timeout_override_in_context_when_synthesized_then_the_functions_that_time_waits_get_it(
    synthesized: Synthesized,
) -> None:
    # Timeouts are not written into the definitions (a wait's length travels with its execution), so every
    # function that computes a wait's length reads the deployment's timeouts
    for resource in _state_machines(synthesized).values():
        assert set(resource["Properties"]["DefinitionSubstitutions"]) == {
            function_placeholder(name) for name in _entry_of(resource).functions
        }
    timed = {name for name, spec in FUNCTIONS.items() if "lifecycle_timeouts" in spec.settings}
    assert {"Api", "OpenWait", "OnTimeout"} <= timed
    for name, (_, function) in synthesized.functions().items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert ("LIFECYCLE_TIMEOUTS" in variables) == (name in timed), name
        if name in timed:
            timeouts = json.loads(variables["LIFECYCLE_TIMEOUTS"])
            assert timeouts["accu-application"]["reviewerAssignment"] == REVIEWER_ASSIGNMENT_SECONDS


def test_given_each_definition_then_asl_validator_finds_it_valid_before_and_after_substitution(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    # Given each ASL file as it is in the repository, and as CloudFormation fills it
    files = []
    for resource in _state_machines(synthesized).values():
        entry = _entry_of(resource)
        files.append(entry.asl_file)
        filled = tmp_path / f"{entry.state_machine_name}.filled.asl.json"
        filled.write_text(
            entry.render(
                {name: f"arn:aws:lambda:ap-southeast-2:123456789012:function:{name}" for name in entry.functions}
            )
        )
        files.append(filled)
    # When the Amazon States Language validator (npm asl-validator, installed by make install) reads them
    assert ASL_VALIDATOR.exists(), "asl-validator is missing: run make install (npm ci)"
    result = subprocess.run(
        [str(ASL_VALIDATOR), *(argument for path in files for argument in ("--json-path", str(path)))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then every one is valid
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("is valid") == len(files), result.stdout


def test_given_each_state_machine_then_it_is_standard_logs_all_with_execution_data_and_traces(
    synthesized: Synthesized,
) -> None:
    log_groups = synthesized.resources("AWS::Logs::LogGroup", PLATFORM_STACK)
    for resource in _state_machines(synthesized).values():
        properties = resource["Properties"]
        assert properties["StateMachineType"] == "STANDARD"
        assert properties["LoggingConfiguration"]["Level"] == "ALL"
        assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
        (destination,) = properties["LoggingConfiguration"]["Destinations"]
        log_group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert log_groups[log_group]["Properties"]["RetentionInDays"] > 0
        assert properties["TracingConfiguration"] == {"Enabled": True}


@pytest.mark.parametrize("workflow_type", [*sorted(CATALOG), "batch operation"])
def test_given_a_lifecycle_then_a_version_is_published_per_revision_behind_the_live_alias_the_api_starts_on(
    synthesized: Synthesized, workflow_type: str
) -> None:
    entry = CATALOG.get(workflow_type, BATCH_OPERATION)
    machines = _state_machines(synthesized)
    machine_id = next(
        logical_id
        for logical_id, resource in machines.items()
        if resource["Properties"]["StateMachineName"] == f"{PLATFORM_STACK}-{entry.state_machine_name}"
    )
    versions = {
        logical_id: version
        for logical_id, version in synthesized.resources("AWS::StepFunctions::StateMachineVersion").items()
        if version["Properties"]["StateMachineArn"] == {"Ref": machine_id}
    }
    (version_id,) = versions
    assert versions[version_id]["Properties"]["StateMachineRevisionId"] == {
        "Fn::GetAtt": [machine_id, "StateMachineRevisionId"]
    }
    assert versions[version_id]["UpdateReplacePolicy"] == "Retain"
    (alias,) = (
        alias
        for alias in synthesized.resources("AWS::StepFunctions::StateMachineAlias").values()
        if alias["Properties"]["DeploymentPreference"]["StateMachineVersionArn"]["Fn::GetAtt"][0] == version_id
    )
    assert alias["Properties"]["Name"] == "live" and "RoutingConfiguration" not in alias["Properties"]
    # Each deploy moves the alias as a canary by default (10 % for 10 minutes), rolled back by the state
    # machine's failed and timed-out execution alarms, which exist before it moves
    alarms = [f"{NAME_PREFIX}-{entry.state_machine_name}-{name}" for name in ("ExecutionsFailed", "ExecutionsTimedOut")]
    assert alias["Properties"]["DeploymentPreference"] == {
        "StateMachineVersionArn": {"Fn::GetAtt": [version_id, "Arn"]},
        "Type": "CANARY",
        "Percentage": 10,
        "Interval": 10,
        "Alarms": alarms,
    }
    alarm_ids = {
        logical_id
        for logical_id, alarm in synthesized.resources("AWS::CloudWatch::Alarm", PLATFORM_STACK).items()
        if alarm["Properties"]["AlarmName"] in alarms
    }
    assert len(alarm_ids) == 2 and alarm_ids <= set(alias["DependsOn"])

    api = next(
        function
        for function in synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK).values()
        if function["Properties"].get("FunctionName", "").endswith("-Api")
    )
    variables = api["Properties"]["Environment"]["Variables"]
    live = json.loads(variables["STATE_MACHINE_ARNS"]).get(workflow_type) or variables["BATCH_STATE_MACHINE_ARN"]
    assert live.endswith(f":stateMachine:{PLATFORM_STACK}-{entry.state_machine_name}:live")
