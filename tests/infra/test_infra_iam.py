"""IAM is scoped: named actions on named resources; '*' only where the service allows nothing else."""

from __future__ import annotations

import json
from typing import Any

from infra.catalog import CATALOG, FUNCTIONS, SCHEDULES
from tests.infra.synthesis import (
    ACCOUNT,
    DOCUMENTS_BUCKET,
    IDEMPOTENCY_TABLE,
    PLATFORM_STACK,
    STORAGE_STACK,
    WORKFLOWS_TABLE,
    Synthesized,
)

# What each function does to executions: starting new workflows' executions and releasing moved workflows'
# waits follow from committing signals (any lifecycle's: a signal may start or move another lifecycle's workflow).
WORKFLOW_EFFECTS = {"states:StartExecution", "states:SendTaskSuccess"}
EXPECTED_STATES_ACTIONS = {
    "Api": WORKFLOW_EFFECTS | {"states:StopExecution"},
    "OpenWait": WORKFLOW_EFFECTS,
    "OnTimeout": WORKFLOW_EFFECTS,
    "SignalIntake": WORKFLOW_EFFECTS,
    "ValidateDocument": WORKFLOW_EFFECTS,
    "RecordFailure": set(),
    "PublishEvents": set(),
    # Recovery retries a failed workflow from its last state: a new execution, whose first wait may be released.
    "FailureRecovery": WORKFLOW_EFFECTS,
    "HealthCheck": set(),
    "DailyReport": set(),
    "ExecutionStatusChanged": set(),
}
EXPECTED_TABLES = {name: {WORKFLOWS_TABLE} for name in FUNCTIONS} | {
    "Api": {WORKFLOWS_TABLE, IDEMPOTENCY_TABLE},
    "SignalIntake": {WORKFLOWS_TABLE, IDEMPOTENCY_TABLE},
}
UPLOADS_ARN = f"arn:aws:s3:::{DOCUMENTS_BUCKET}/uploads/*"
EXPECTED_S3 = {"Api": {("s3:PutObject", UPLOADS_ARN)}, "ValidateDocument": {("s3:GetObject", UPLOADS_ARN)}}
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}

# Actions that support no resource-level permissions, and so may (must) be granted on Resource "*": X-Ray
# (functions and state machines), CloudWatch Logs' vended-log delivery (state machine logging) and DynamoDB's
# ListStreams (the stream event source of the function that publishes domain events).
RESOURCE_STAR_ALLOW_LIST = {
    "dynamodb:ListStreams",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """(owning role or policy logical id, statement) for every identity policy statement of every stack."""
    found = []
    for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        found += [(logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for logical_id, role in synthesized.resources("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            found += [(logical_id, s) for s in inline["PolicyDocument"]["Statement"]]
    return found


def _role_of_function(synthesized: Synthesized, name: str) -> str:
    _, function = synthesized.functions()[name]
    return str(function["Properties"]["Role"]["Fn::GetAtt"][0])


def _policy_statements_of_role(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements for action in _as_list(s["Action"])}


def test_given_all_policies_then_no_statement_allows_a_service_wide_or_wildcard_action(
    synthesized: Synthesized,
) -> None:
    allowed = [s for _, s in _statements(synthesized) if s["Effect"] == "Allow"]
    actions = _actions(allowed)
    assert actions, "the app has policies"
    forbidden = {"*", "dynamodb:*", "states:*", "lambda:*", "s3:*", "events:*", "sqs:*", "sns:*", "kms:*"}
    assert not forbidden & actions
    assert not [action for action in actions if "*" in action]


def test_given_all_policies_then_resource_star_is_granted_exactly_for_the_actions_that_require_it(
    synthesized: Synthesized,
) -> None:
    star_actions = {
        action
        for _, s in _statements(synthesized)
        if s["Effect"] == "Allow" and "*" in _as_list(s["Resource"])
        for action in _as_list(s["Action"])
    }
    assert star_actions == RESOURCE_STAR_ALLOW_LIST


def test_given_all_roles_then_none_uses_a_managed_policy(synthesized: Synthesized) -> None:
    for role in synthesized.resources("AWS::IAM::Role").values():
        assert not role["Properties"].get("ManagedPolicyArns")


def test_given_each_state_machine_role_then_it_may_invoke_only_its_lifecycles_functions(
    synthesized: Synthesized,
) -> None:
    machines = synthesized.resources("AWS::StepFunctions::StateMachine", PLATFORM_STACK)
    assert len(machines) == len(CATALOG)
    for machine in machines.values():
        entry = next(
            entry
            for entry in CATALOG.values()
            if machine["Properties"]["StateMachineName"] == f"{PLATFORM_STACK}-{entry.state_machine_name}"
        )
        statements = _policy_statements_of_role(synthesized, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
        lambda_statements = [s for s in statements if any(a.startswith("lambda:") for a in _as_list(s["Action"]))]
        assert _actions(lambda_statements) == {"lambda:InvokeFunction"}
        invoked = {resource["Fn::GetAtt"][0] for s in lambda_statements for resource in _as_list(s["Resource"])}
        assert invoked == {synthesized.function_id(name) for name in entry.functions}, entry.type


def test_given_each_function_then_its_states_dynamodb_and_s3_actions_are_what_its_handlers_need(
    synthesized: Synthesized,
) -> None:
    assert set(EXPECTED_STATES_ACTIONS) == set(FUNCTIONS)
    for name, states_actions in EXPECTED_STATES_ACTIONS.items():
        statements = _policy_statements_of_role(synthesized, _role_of_function(synthesized, name))
        actions = _actions(statements)
        assert {a for a in actions if a.startswith("states:")} == states_actions, name
        assert "sns:Publish" in actions
        assert "dynamodb:Scan" not in actions
        tables = {
            resource.split(":table/")[1].split("/")[0]
            for s in statements
            if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))
            for resource in _as_list(s["Resource"])
            if isinstance(resource, str) and ":table/" in resource
        }
        assert tables == EXPECTED_TABLES[name], name
        s3 = {
            (action, resource)
            for s in statements
            for action in _as_list(s["Action"])
            if action.startswith("s3:")
            for resource in _as_list(s["Resource"])
        }
        assert s3 == EXPECTED_S3.get(name, set()), name


def test_given_each_function_that_commits_then_it_starts_and_releases_every_lifecycles_workflows_only(
    synthesized: Synthesized,
) -> None:
    names = [f"{PLATFORM_STACK}-{entry.state_machine_name}" for entry in CATALOG.values()]
    for function, states_actions in EXPECTED_STATES_ACTIONS.items():
        statements = _policy_statements_of_role(synthesized, _role_of_function(synthesized, function))
        granted: dict[str, list[str]] = {}
        for statement in statements:
            for action in _as_list(statement["Action"]):
                if action.startswith("states:"):
                    granted.setdefault(action, []).extend(_as_list(statement["Resource"]))
        assert set(granted) == states_actions, function
        if "states:StartExecution" in granted:
            assert sorted(r.rsplit(":stateMachine:", 1)[1] for r in granted["states:StartExecution"]) == sorted(
                [*names, *(f"{n}:live" for n in names)]
            ), function
        if "states:SendTaskSuccess" in granted:
            assert sorted(r.rsplit(":stateMachine:", 1)[1] for r in granted["states:SendTaskSuccess"]) == sorted(
                [*names, *(f"{n}:*" for n in names)]
            ), function
        if "states:StopExecution" in granted:
            assert sorted(r.rsplit(":execution:", 1)[1] for r in granted["states:StopExecution"]) == sorted(
                f"{n}:*" for n in names
            ), function


def test_given_the_event_bus_then_only_the_publishers_put_events_and_only_on_it(synthesized: Synthesized) -> None:
    (bus_id,) = synthesized.resources("AWS::Events::EventBus", PLATFORM_STACK)
    putters = {}
    for name in FUNCTIONS:
        for statement in _policy_statements_of_role(synthesized, _role_of_function(synthesized, name)):
            if "events:PutEvents" in _as_list(statement["Action"]):
                assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": [bus_id, "Arn"]}], name
                putters[name] = statement
    assert set(putters) == {"PublishEvents", "SignalIntake"}


def test_given_the_workflows_stream_then_only_the_stream_consumer_reads_it(synthesized: Synthesized) -> None:
    readers = {}
    for name in FUNCTIONS:
        statements = _policy_statements_of_role(synthesized, _role_of_function(synthesized, name))
        stream_actions = _actions(statements) & STREAM_READ
        if stream_actions:
            readers[name] = stream_actions
        for statement in statements:
            if set(_as_list(statement["Action"])) & (STREAM_READ - {"dynamodb:ListStreams"}):
                (resource,) = _as_list(statement["Resource"])
                assert resource["Fn::GetStackOutput"]["StackName"] == STORAGE_STACK
    assert readers == {"PublishEvents": STREAM_READ}


def _roles_assumed_by(synthesized: Synthesized, service: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: role
        for logical_id, role in synthesized.resources("AWS::IAM::Role", PLATFORM_STACK).items()
        if any(
            _as_list(statement["Principal"].get("Service")) == [service]
            for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    }


def test_given_each_schedule_then_its_role_may_only_invoke_its_function_and_write_its_dead_letters(
    synthesized: Synthesized,
) -> None:
    roles = _roles_assumed_by(synthesized, "scheduler.amazonaws.com")
    schedules = synthesized.resources("AWS::Scheduler::Schedule", PLATFORM_STACK)
    assert len(roles) == len(schedules) == len(SCHEDULES)
    for schedule in schedules.values():
        target = schedule["Properties"]["Target"]
        role_id = target["RoleArn"]["Fn::GetAtt"][0]
        (trust,) = roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
        assert not roles[role_id]["Properties"].get("Policies")
        granted = {
            (action, json.dumps(resource))
            for statement in _policy_statements_of_role(synthesized, role_id)
            if statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"])
            for resource in _as_list(statement["Resource"])
        }
        assert granted == {
            ("lambda:InvokeFunction", json.dumps(target["Arn"])),
            ("sqs:SendMessage", json.dumps(target["DeadLetterConfig"]["Arn"])),
        }


def test_given_all_roles_then_only_the_state_machines_and_the_schedules_may_invoke_functions(
    synthesized: Synthesized,
) -> None:
    allowed = set(_roles_assumed_by(synthesized, "states.amazonaws.com")) | set(
        _roles_assumed_by(synthesized, "scheduler.amazonaws.com")
    )
    invokers = {
        role["Ref"]
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if any(
            "lambda:InvokeFunction" in _as_list(statement["Action"])
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
        for role in policy["Properties"]["Roles"]
    }
    assert invokers and invokers <= allowed
