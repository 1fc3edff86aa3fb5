"""IAM is scoped: named actions on named resources; '*' only where the service allows nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.dal.dynamodb import INDEXES
from infra.catalog import (
    ALERTS_KEY,
    ALERTS_TOPIC,
    ANY_RESOURCE,
    BATCH_OPERATION,
    BATCH_STATE_MACHINE,
    BATCHES_TABLE,
    CAPABILITIES,
    CATALOG,
    EVENT_BUS,
    EVENT_RULES,
    EXECUTIONS,
    FUNCTIONS,
    NOTIFICATIONS_KEY,
    NOTIFICATIONS_TOPIC,
    SCHEDULES,
    STATE_MACHINE_ENTRIES,
    STATE_MACHINES,
    STREAM_CONSUMER,
    UPLOADS,
    WORKFLOWS_STREAM,
    WORKFLOWS_TABLE_ITEMS,
)
from infra.catalog import IDEMPOTENCY_TABLE as IDEMPOTENCY_TABLE_RESOURCE
from infra.catalog import WORKFLOWS_TABLE as WORKFLOWS_TABLE_INDEXES
from infra.constructs.dead_letter_queue import KEY_WILDCARD_ACTIONS
from infra.constructs.operations_console import BUCKET_DEPLOYMENT_ACTIONS
from tests.infra.synthesis import (
    ACCOUNT,
    DOCUMENTS_BUCKET,
    IDEMPOTENCY_TABLE,
    PLATFORM_STACK,
    REGION,
    STORAGE_STACK,
    WORKFLOWS_TABLE,
    Synthesized,
    template_text,
)
from tests.infra.synthesis import (
    BATCHES_TABLE as BATCHES_TABLE_NAME,
)
from tests.infra.synthesis import (
    EVENT_BUS as EVENT_BUS_NAME,
)

# Actions that support no resource-level permissions, and so may (must) be granted on Resource "*": X-Ray
# (functions and state machines), CloudWatch Logs' vended-log delivery (state machine logging), DynamoDB's
# ListStreams (the stream event source of the function that publishes domain events) and Step Functions'
# SendTaskSuccess (a task token names its execution: the Service Authorization Reference lists no resource type).
RESOURCE_STAR_ALLOW_LIST = {
    "dynamodb:ListStreams",
    "states:SendTaskSuccess",
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


def _policies_of_role(synthesized: Synthesized, role_id: str) -> set[str]:
    return {
        logical_id
        for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    }


def _console_deployment_role(synthesized: Synthesized) -> str:
    """The role of CDK's BucketDeployment handler, which copies the operations console's files."""
    (role_id,) = (
        logical_id
        for logical_id, role in synthesized.resources("AWS::IAM::Role", PLATFORM_STACK).items()
        if role["Properties"].get("Description") == "Copies the operations console's files into its bucket"
    )
    return role_id


def _console_deployment_buckets(synthesized: Synthesized) -> set[str]:
    """The console bucket and the CDK assets bucket (the zipped sources), and their objects."""
    (bucket_id,) = (
        logical_id
        for logical_id, bucket in synthesized.resources("AWS::S3::Bucket", PLATFORM_STACK).items()
        if "VersioningConfiguration" in bucket["Properties"]
    )
    assets = f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    return {f"<{bucket_id}.Arn>", f"<{bucket_id}.Arn>/*", assets, f"{assets}/*"}


def _console_deployment_log_group(synthesized: Synthesized) -> str:
    (function,) = (
        function
        for function in synthesized.resources("AWS::Lambda::Function", PLATFORM_STACK).values()
        if function["Properties"]["Role"] == {"Fn::GetAtt": [_console_deployment_role(synthesized), "Arn"]}
    )
    return str(function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])


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
    # but the KMS data-key families CDK grants the writers of an encrypted dead-letter queue, on its key alone
    (key_id,) = (
        logical_id
        for logical_id, key in synthesized.resources("AWS::KMS::Key", PLATFORM_STACK).items()
        if key["Properties"]["Description"] == "Encrypts the platform's dead-letter queues"
    )
    # and the S3 families CDK's BucketDeployment grants the role that copies the console's files (CDK's handler,
    # not one of the platform's functions), on the console bucket and the CDK assets bucket alone
    deployment_policies = _policies_of_role(synthesized, _console_deployment_role(synthesized))
    assert deployment_policies
    for owner, statement in _statements(synthesized):
        if owner in deployment_policies:
            assert {a for a in _as_list(statement["Action"]) if "*" in a} <= set(BUCKET_DEPLOYMENT_ACTIONS)
            allowed = _console_deployment_buckets(synthesized) | {f"<{_console_deployment_log_group(synthesized)}.Arn>"}
            assert {template_text(resource) for resource in _as_list(statement["Resource"])} <= allowed
        elif any("*" in action for action in _as_list(statement["Action"])):
            assert {a for a in _as_list(statement["Action"]) if "*" in a} <= set(KEY_WILDCARD_ACTIONS)
            assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": [key_id, "Arn"]}]


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


def test_given_all_roles_then_only_api_gateways_account_role_uses_a_managed_policy(synthesized: Synthesized) -> None:
    managed = {
        logical_id: role["Properties"]["ManagedPolicyArns"]
        for logical_id, role in synthesized.resources("AWS::IAM::Role").items()
        if role["Properties"].get("ManagedPolicyArns")
    }
    # the one the API Gateway documentation names for the account's CloudWatch role
    (account,) = synthesized.resources("AWS::ApiGateway::Account", PLATFORM_STACK).values()
    (role_id,) = managed
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert json.dumps(managed[role_id]).endswith('service-role/AmazonAPIGatewayPushToCloudWatchLogs"]]}]')


def test_given_each_state_machine_role_then_it_may_invoke_only_its_entrys_functions(
    synthesized: Synthesized,
) -> None:
    machines = synthesized.resources("AWS::StepFunctions::StateMachine", PLATFORM_STACK)
    assert len(machines) == len(STATE_MACHINE_ENTRIES)
    for machine in machines.values():
        entry = next(
            entry
            for entry in STATE_MACHINE_ENTRIES
            if machine["Properties"]["StateMachineName"] == f"{PLATFORM_STACK}-{entry.state_machine_name}"
        )
        statements = _policy_statements_of_role(synthesized, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
        lambda_statements = [s for s in statements if any(a.startswith("lambda:") for a in _as_list(s["Action"]))]
        assert _actions(lambda_statements) == {"lambda:InvokeFunction"}
        invoked = {resource["Fn::GetAtt"][0] for s in lambda_statements for resource in _as_list(s["Resource"])}
        assert invoked == {synthesized.function_id(name) for name in entry.functions}, entry.state_machine_name


def _declared_resources(synthesized: Synthesized) -> dict[str, set[str]]:
    """Each resource of the catalog's declarations, as its ARNs read in the synthesized template."""
    machines = [f"{PLATFORM_STACK}-{entry.state_machine_name}" for entry in CATALOG.values()]
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{{}}"
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{}}"
    keys = synthesized.resources("AWS::KMS::Key", PLATFORM_STACK)

    def key_of(topic: str) -> str:
        master = synthesized.platform["Resources"][synthesized.topic_id(topic)]["Properties"]["KmsMasterKeyId"]
        (key_id,) = (logical_id for logical_id in keys if master == {"Fn::GetAtt": [logical_id, "Arn"]})
        return f"<{key_id}.Arn>"

    return {
        WORKFLOWS_TABLE_INDEXES: {
            table.format(WORKFLOWS_TABLE),
            *(f"{table.format(WORKFLOWS_TABLE)}/index/{index}" for index in INDEXES),
        },
        WORKFLOWS_TABLE_ITEMS: {table.format(WORKFLOWS_TABLE)},
        WORKFLOWS_STREAM: {f"<output of {STORAGE_STACK}>"},
        IDEMPOTENCY_TABLE_RESOURCE: {table.format(IDEMPOTENCY_TABLE)},
        BATCHES_TABLE: {table.format(BATCHES_TABLE_NAME)},
        BATCH_STATE_MACHINE: {
            machine_arn.format(f"{PLATFORM_STACK}-{BATCH_OPERATION.state_machine_name}{suffix}")
            for suffix in ("", ":live")
        },
        STATE_MACHINES: {machine_arn.format(name) for name in machines}
        | {machine_arn.format(f"{name}:live") for name in machines},
        EXECUTIONS: {f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}:*" for name in machines},
        ALERTS_TOPIC: {f"<{synthesized.topic_id('Alerts')}>"},
        ALERTS_KEY: {key_of("Alerts")},
        NOTIFICATIONS_TOPIC: {f"<{synthesized.topic_id('Notifications')}>"},
        NOTIFICATIONS_KEY: {key_of("Notifications")},
        EVENT_BUS: {f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{EVENT_BUS_NAME}"},
        UPLOADS: {f"arn:aws:s3:::{DOCUMENTS_BUCKET}/uploads/*"},
        **{resource: {"*"} for resource in ANY_RESOURCE},
    }


# What every function's role has besides its declaration, made by CDK for the function's own plumbing: writing
# its log group, X-Ray tracing, and (functions invoked asynchronously or by the stream) writing its dead letters.
PLUMBING_SERVICES = ("logs:", "xray:", "sqs:")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_given_each_function_then_its_synthesized_policy_is_exactly_its_catalog_declaration(
    synthesized: Synthesized, name: str
) -> None:
    # Given what the catalog declares the function does
    resources = _declared_resources(synthesized)
    assert set(resources) >= {grant.resource for c in CAPABILITIES.values() for grant in c.grants}
    declared = {
        (action, arn)
        for resource, actions in FUNCTIONS[name].actions().items()
        for action in actions
        for arn in resources[resource]
    }
    # When its role's policies are read
    granted = {
        (action, template_text(resource))
        for statement in _policy_statements_of_role(synthesized, _role_of_function(synthesized, name))
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    dead_letters_key = {
        (action, arn) for action, arn in granted if action.startswith("kms:") and arn == _dead_letters_key(synthesized)
    }
    plumbing = {(action, arn) for action, arn in granted if action.startswith(PLUMBING_SERVICES)} | dead_letters_key
    # Then they grant what it declares, nothing more, nothing less
    assert granted - plumbing == declared
    # and its plumbing is its own: its log group, and a dead-letter queue only where it is invoked asynchronously
    queues = {arn for action, arn in plumbing if action.startswith("sqs:")}
    assert all(arn.startswith("<") and "DeadLetters" in arn for arn in queues), queues
    asynchronous = {rule.target for rule in EVENT_RULES} | {schedule.target for schedule in SCHEDULES}
    assert bool(queues) == (name in asynchronous | {STREAM_CONSUMER}), name


def _dead_letters_key(synthesized: Synthesized) -> str:
    (key_id,) = (
        logical_id
        for logical_id, key in synthesized.resources("AWS::KMS::Key", PLATFORM_STACK).items()
        if key["Properties"]["Description"] == "Encrypts the platform's dead-letter queues"
    )
    return f"<{key_id}.Arn>"


def test_given_the_declarations_then_no_function_may_delete_workflows_or_scan(synthesized: Synthesized) -> None:
    for name in FUNCTIONS:
        for statement in _policy_statements_of_role(synthesized, _role_of_function(synthesized, name)):
            actions = set(_as_list(statement["Action"]))
            assert "dynamodb:Scan" not in actions
            if "dynamodb:DeleteItem" in actions:
                assert [template_text(r) for r in _as_list(statement["Resource"])] == [
                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{IDEMPOTENCY_TABLE}"
                ], name


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
        key = json.dumps({"Fn::GetAtt": [_dead_letters_key(synthesized)[1:-5], "Arn"]})
        assert granted == {
            ("lambda:InvokeFunction", json.dumps(target["Arn"])),
            ("sqs:SendMessage", json.dumps(target["DeadLetterConfig"]["Arn"])),
            ("kms:Decrypt", key),
            ("kms:GenerateDataKey", key),
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
