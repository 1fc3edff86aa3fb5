"""IAM is scoped: named actions on named resources; '*' only where the service allows nothing else."""

from __future__ import annotations

from typing import Any

from infra.catalog import ACTIVITY_FUNCTIONS, CATALOG
from tests.infra.synthesis import PLATFORM_STACK, Synthesized

# Actions that support no resource-level permissions, and so may (must) be granted on Resource "*":
# X-Ray (functions and state machines) and CloudWatch Logs' vended-log delivery (state machine logging).
RESOURCE_STAR_ALLOW_LIST = {
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


def _role_of_function(synthesized: Synthesized, suffix: str) -> str:
    function = next(
        f
        for f in synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK).values()
        if f["Properties"]["FunctionName"].endswith(f"-{suffix}")
    )
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


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
    assert not {"dynamodb:*", "states:*", "lambda:*", "*"} & actions
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


def test_given_each_state_machine_role_then_it_may_invoke_only_the_activity_functions(
    synthesized: Synthesized,
) -> None:
    functions = synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK)
    activity_ids = {
        logical_id
        for logical_id, f in functions.items()
        if f["Properties"]["FunctionName"].rsplit("-", 1)[-1] in ACTIVITY_FUNCTIONS
    }
    assert len(activity_ids) == len(ACTIVITY_FUNCTIONS)
    machines = synthesized.resources("AWS::StepFunctions::StateMachine", PLATFORM_STACK)
    assert len(machines) == len(CATALOG)
    for machine in machines.values():
        statements = _policy_statements_of_role(synthesized, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
        lambda_statements = [s for s in statements if any(a.startswith("lambda:") for a in _as_list(s["Action"]))]
        assert _actions(lambda_statements) == {"lambda:InvokeFunction"}
        invoked = {resource["Fn::GetAtt"][0] for s in lambda_statements for resource in _as_list(s["Resource"])}
        assert invoked == activity_ids


def test_given_each_function_then_its_states_and_dynamodb_actions_are_what_its_handlers_need(
    synthesized: Synthesized,
) -> None:
    expected_states = {
        "Api": {"states:StartExecution", "states:StopExecution", "states:SendTaskSuccess"},
        "OpenWait": {"states:SendTaskSuccess"},
        "OnTimeout": set(),
        "RecordFailure": set(),
    }
    for name, states_actions in expected_states.items():
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
        }
        expected_tables = {"AccuWorkflows-test-Workflows"} | (
            {"AccuWorkflows-test-Idempotency"} if name == "Api" else set()
        )
        assert tables == expected_tables, name


def test_given_the_api_function_then_it_starts_and_stops_only_the_platforms_state_machines(
    synthesized: Synthesized,
) -> None:
    statements = _policy_statements_of_role(synthesized, _role_of_function(synthesized, "Api"))
    names = [f"{PLATFORM_STACK}-{entry.state_machine_name}" for entry in CATALOG.values()]
    for statement in statements:
        actions = set(_as_list(statement["Action"]))
        resources = _as_list(statement["Resource"])
        if actions == {"states:StartExecution"}:
            assert sorted(r.rsplit(":stateMachine:", 1)[1] for r in resources) == sorted(
                [n for n in names] + [f"{n}:live" for n in names]
            )
        if actions == {"states:StopExecution"}:
            assert sorted(r.rsplit(":execution:", 1)[1] for r in resources) == sorted(f"{n}:*" for n in names)
