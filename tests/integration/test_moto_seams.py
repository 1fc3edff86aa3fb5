"""The local runtime's seams into moto's Step Functions engine (infra/local/moto_patches.py), each
shown to work on a minimal state machine: if a moto upgrade moves one, this fails."""

from __future__ import annotations

import json
import sys
import threading
import time

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.platform import LocalPlatform


@pytest.fixture
def stepfunctions(platform: LocalPlatform):
    return boto3.client("stepfunctions")


def run(stepfunctions, platform, name: str, definition: dict, execution_input: dict | None = None) -> str:
    role = "arn:aws:iam::123456789012:role/accu-local-state-machines"
    arn = stepfunctions.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]
    execution = stepfunctions.start_execution(
        stateMachineArn=arn, name=f"{name}-1", input=json.dumps(execution_input or {})
    )
    platform.settle()
    return str(execution["executionArn"])


def status(stepfunctions, execution_arn: str) -> str:
    return str(stepfunctions.describe_execution(executionArn=execution_arn)["status"])


def test_a_wait_state_of_a_day_ends_when_a_day_is_skipped(platform, stepfunctions):
    arn = run(
        stepfunctions,
        platform,
        "seam-wait",
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 86400, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
    )
    platform.advance(86399)
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(2)
    assert status(stepfunctions, arn) == "SUCCEEDED"


def test_a_wait_until_a_timestamp_uses_the_virtual_clock(platform, stepfunctions):
    due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(platform.clock.time() + 7 * 86400))
    arn = run(
        stepfunctions,
        platform,
        "seam-timestamp",
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "TimestampPath": "$.due", "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
        {"due": due},
    )
    platform.advance(6 * 86400)
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(86400 + 5)
    assert status(stepfunctions, arn) == "SUCCEEDED"


def test_a_task_token_wait_times_out_on_the_virtual_clock(platform, stepfunctions, applicant):
    # A wait opened through the catalog's OpenWait function, on a real draft workflow
    applicant.start("seam-draft")
    platform.settle()
    arn = run(
        stepfunctions,
        platform,
        "seam-callback",
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "TimeoutSeconds": 3600,
                    "Parameters": {
                        "FunctionName": platform.lambdas.function_arn("OpenWait"),
                        "Payload": {"workflowId": "seam-draft", "status": "DRAFT", "taskToken.$": "$$.Task.Token"},
                    },
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
                    "End": True,
                },
                "TimedOut": {"Type": "Succeed"},
            },
        },
    )
    platform.advance(3599)
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(2)
    assert status(stepfunctions, arn) == "SUCCEEDED"


def test_retry_back_off_sleeps_on_the_virtual_clock(platform, stepfunctions):
    # The OnTimeout function fails for a workflow that does not exist; each retry waits an hour
    arn = run(
        stepfunctions,
        platform,
        "seam-retry",
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {
                        "FunctionName": platform.lambdas.function_arn("OnTimeout"),
                        "Payload": {"workflowId": "nobody", "status": "DRAFT"},
                    },
                    "Retry": [
                        {"ErrorEquals": ["LookupError"], "IntervalSeconds": 3600, "MaxAttempts": 2, "BackoffRate": 1}
                    ],
                    "End": True,
                }
            },
        },
    )
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(3590)
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(3600 + 20)
    assert status(stepfunctions, arn) == "FAILED"


def test_stopping_an_execution_ends_its_wait_at_once_and_it_is_aborted(platform, stepfunctions):
    arn = run(
        stepfunctions,
        platform,
        "seam-stop",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 999999, "End": True}}},
    )
    stepfunctions.stop_execution(executionArn=arn, cause="test")
    platform.settle()
    assert status(stepfunctions, arn) == "ABORTED"


def token_wait_machine(stepfunctions, name: str, waits: int = 1) -> str:
    """A state machine whose states (one, or ``waits`` in a row) each wait for their task token
    (published to a topic)."""
    topic = boto3.client("sns").create_topic(Name=f"{name}-tokens")["TopicArn"]
    names = ["Wait", *(f"Wait{number}" for number in range(2, waits + 1))]
    definition = {
        "StartAt": "Wait",
        "States": {
            state: {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"TopicArn": topic, "Message.$": "$$.Task.Token"},
                **({"Next": names[position + 1]} if position + 1 < len(names) else {"End": True}),
            }
            for position, state in enumerate(names)
        },
    }
    role = "arn:aws:iam::123456789012:role/accu-local-state-machines"
    return str(
        stepfunctions.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
    )


def task_token(stepfunctions, execution_arn: str) -> str:
    events = stepfunctions.get_execution_history(executionArn=execution_arn)["events"]
    scheduled = next(event for event in events if event["type"] == "TaskScheduled")
    return str(json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Message"])


def test_waiting_executions_hold_no_os_thread_and_each_moves_on_its_own_token(platform, stepfunctions):
    # Given 200 executions, each waiting for its task token
    machine = token_wait_machine(stepfunctions, "seam-tokens")
    threads_before = threading.active_count()
    arns = [
        stepfunctions.start_execution(stateMachineArn=machine, name=f"wait-{n}")["executionArn"] for n in range(200)
    ]
    platform.settle()
    assert {status(stepfunctions, arn) for arn in arns} == {"RUNNING"}

    # Then they hold no OS thread (at most the engine's own one, started by the first execution)
    assert threading.active_count() <= threads_before + 1
    assert platform.clock.engine.threads >= 200

    # When each one's token is sent back
    tokens = [task_token(stepfunctions, arn) for arn in arns]
    for token in tokens:
        stepfunctions.send_task_success(taskToken=token, output="{}")
    platform.settle()

    # Then each one succeeded, and nothing of them is left on the engine
    assert {status(stepfunctions, arn) for arn in arns} == {"SUCCEEDED"}
    assert platform.clock.engine.threads == 0
    # And a token whose execution has ended is refused, as in AWS
    with pytest.raises(stepfunctions.exceptions.InvalidToken):
        stepfunctions.send_task_success(taskToken=tokens[0], output="{}")


def test_a_token_completed_once_is_refused_as_closed_while_its_execution_runs_on(platform, stepfunctions):
    # Given an execution past its first wait (completed), now at its second
    machine = token_wait_machine(stepfunctions, "seam-closed-token", waits=2)
    arn = stepfunctions.start_execution(stateMachineArn=machine, name="closed-token-1")["executionArn"]
    platform.settle()
    first = task_token(stepfunctions, arn)
    stepfunctions.send_task_success(taskToken=first, output="{}")
    platform.settle()

    # When the first wait's token is completed again
    with pytest.raises(stepfunctions.exceptions.TaskTimedOut):
        stepfunctions.send_task_success(taskToken=first, output="{}")

    # Then it is refused as AWS refuses it (TaskTimedOut: "the task associated with the token has already
    # been closed"), and the execution still waits at its second state
    platform.settle()
    assert status(stepfunctions, arn) == "RUNNING"
    events = stepfunctions.get_execution_history(executionArn=arn)["events"]
    assert [event["type"] for event in events].count("TaskSucceeded") == 1


def test_executions_of_one_definition_share_one_parse_and_a_name_is_used_once(platform, stepfunctions):
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machine = token_wait_machine(stepfunctions, "seam-parse")
    first = stepfunctions.start_execution(stateMachineArn=machine, name="one", input="{}")["executionArn"]
    second = stepfunctions.start_execution(stateMachineArn=machine, name="two", input="{}")["executionArn"]
    backend = stepfunctions_parser_backends["123456789012"][platform.region]
    programs = {id(backend.describe_execution(arn).exec_worker._get_evaluation_entrypoint()) for arn in (first, second)}
    assert len(programs) == 1

    # The same name and input is the same execution (idempotent); another input is refused
    again = stepfunctions.start_execution(stateMachineArn=machine, name="one", input="{}")["executionArn"]
    assert again == first
    with pytest.raises(stepfunctions.exceptions.ExecutionAlreadyExists):
        stepfunctions.start_execution(stateMachineArn=machine, name="one", input='{"other": 1}')


# ----- DynamoDB (infra/local/moto_dynamodb.py) ---------------------------------------------------

REGION = "ap-southeast-2"
ACCOUNT = "123456789012"


@pytest.fixture
def table(platform):
    """A table shaped like the platform's (pk/sk, a sparse index on gsi/startKey, a stream), on the
    platform's moto, seams installed."""
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName="seams",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi", "startKey")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byGsi",
                "KeySchema": [
                    {"AttributeName": "gsi", "KeyType": "HASH"},
                    {"AttributeName": "startKey", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return client


def moto_table():
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].get_table("seams")


def store_directly(count: int, partition: str = "bulk") -> None:
    """``count`` items written straight into moto's table (through the seam's bookkeeping), fast."""
    stored = moto_table()
    for number in range(count):
        stored.put_item(
            {
                "pk": {"S": f"WF#{partition}-{number:06d}"},
                "sk": {"S": "STATE"},
                "gsi": {"S": partition},
                "startKey": {"S": f"2026-01-01T00:00:00Z#{number:06d}"},
            }
        )


def everything(client) -> dict:
    """Every item, every index entry, and the stream's length: what a cancelled transaction must not change."""
    items = sorted(client.scan(TableName="seams")["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
    partitions = {
        value: client.query(
            TableName="seams",
            IndexName="byGsi",
            KeyConditionExpression="gsi = :g",
            ExpressionAttributeValues={":g": {"S": value}},
        )["Items"]
        for value in ("a", "b", "c")
    }
    return {"items": items, "index": partitions, "stream": len(moto_table().stream_shard.items)}


def moto_calls(operation) -> int:
    """How many Python calls moto's DynamoDB code makes for ``operation``: its cost, deterministically."""
    import sys

    calls = 0

    def count(frame, event, _argument):
        nonlocal calls
        if event == "call" and "moto/dynamodb" in frame.f_code.co_filename:
            calls += 1

    sys.setprofile(count)
    try:
        operation()
    finally:
        sys.setprofile(None)
    return calls


def test_a_cancelled_transaction_leaves_every_item_and_index_entry_as_it_was(table):
    # Given items in two index partitions, and a counter
    for number, partition in enumerate(["a", "a", "b"]):
        table.put_item(
            TableName="seams",
            Item={
                "pk": {"S": f"WF#{number}"},
                "sk": {"S": "STATE"},
                "gsi": {"S": partition},
                "startKey": {"S": f"2026-01-0{number + 1}#{number}"},
                "revision": {"N": "1"},
            },
        )
    table.put_item(TableName="seams", Item={"pk": {"S": "COUNTER"}, "sk": {"S": "SHARD#0"}, "total": {"N": "3"}})
    before = everything(table)

    # When a transaction moves one item to another partition, adds one, counts, deletes one, and
    # then fails a condition on its last item
    with pytest.raises(table.exceptions.TransactionCanceledException) as cancelled:
        table.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "seams",
                        "Item": {
                            "pk": {"S": "WF#0"},
                            "sk": {"S": "STATE"},
                            "gsi": {"S": "c"},
                            "startKey": {"S": "2026-01-01#0"},
                            "revision": {"N": "2"},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": "seams",
                        "Item": {
                            "pk": {"S": "WF#9"},
                            "sk": {"S": "STATE"},
                            "gsi": {"S": "a"},
                            "startKey": {"S": "2026-01-09#9"},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": "seams",
                        "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": "SHARD#0"}},
                        "UpdateExpression": "ADD #total :one",
                        "ExpressionAttributeNames": {"#total": "total"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": "seams", "Key": {"pk": {"S": "WF#1"}, "sk": {"S": "STATE"}}}},
                {
                    "Put": {
                        "TableName": "seams",
                        "Item": {"pk": {"S": "WF#2"}, "sk": {"S": "STATE"}, "gsi": {"S": "b"}, "startKey": {"S": "x"}},
                        "ConditionExpression": "revision = :stale",
                        "ExpressionAttributeValues": {":stale": {"N": "7"}},
                    }
                },
            ]
        )

    # Then it was cancelled for that item's condition, and nothing changed: items, index, stream
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert everything(table) == before

    # And the same transaction without the stale condition applies every item
    table.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "seams",
                    "Item": {
                        "pk": {"S": "WF#0"},
                        "sk": {"S": "STATE"},
                        "gsi": {"S": "c"},
                        "startKey": {"S": "2026-01-01#0"},
                    },
                }
            },
            {"Delete": {"TableName": "seams", "Key": {"pk": {"S": "WF#1"}, "sk": {"S": "STATE"}}}},
        ]
    )
    after = everything(table)
    assert [item["pk"]["S"] for item in after["index"]["a"]] == []
    assert [item["pk"]["S"] for item in after["index"]["c"]] == ["WF#0"]
    assert after["stream"] == before["stream"] + 2


def test_transaction_and_query_costs_do_not_grow_with_the_table(table):
    # Given twenty items of one index partition, among 100 others
    store_directly(20, partition="hot")
    store_directly(100)

    def transaction() -> None:
        table.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "seams",
                        "Key": {"pk": {"S": f"WF#hot-{n:06d}"}, "sk": {"S": "STATE"}},
                        "UpdateExpression": "SET revision = :r",
                        "ExpressionAttributeValues": {":r": {"N": "2"}},
                    }
                }
                for n in range(10)
            ]
        )

    def page() -> None:
        table.query(
            TableName="seams",
            IndexName="byGsi",
            KeyConditionExpression="gsi = :g AND startKey BETWEEN :low AND :high",
            ExpressionAttributeValues={":g": {"S": "hot"}, ":low": {"S": "0"}, ":high": {"S": "~"}},
            ScanIndexForward=False,
            Limit=10,
        )

    transaction(), page()  # the first calls load moto's service models and give the items their shape
    small = (moto_calls(transaction), moto_calls(page))

    # When 99,900 more items are stored
    store_directly(100_000)

    # Then a ten-item transaction and a page of ten cost the same number of moto calls
    assert (moto_calls(transaction), moto_calls(page)) == small


KEY_CONDITIONS = [
    ("gsi = :g", {}),
    ("gsi = :g AND startKey BETWEEN :low AND :high", {":low": "k03", ":high": "k11"}),
    ("gsi = :g AND startKey < :v", {":v": "k07"}),
    ("gsi = :g AND startKey <= :v", {":v": "k07"}),
    ("gsi = :g AND startKey > :v", {":v": "k07"}),
    ("gsi = :g AND startKey >= :v", {":v": "k07"}),
    ("gsi = :g AND startKey = :v", {":v": "k05"}),
    ("gsi = :g AND begins_with(startKey, :v)", {":v": "k1"}),
]


def all_pages(client, condition: str, values: dict, forward: bool, limit: int | None, filtered: bool) -> list:
    query = {
        "TableName": "seams",
        "IndexName": "byGsi",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": {key: {"S": value} for key, value in {":g": "a", **values}.items()},
        "ScanIndexForward": forward,
    }
    if limit:
        query["Limit"] = limit
    if filtered:
        query["FilterExpression"] = "attribute_exists(odd)"
    pages = []
    while True:
        response = client.query(**query)
        pages.append((response["Items"], response.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in response:
            return pages
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(st.integers(min_value=0, max_value=15), min_size=0, max_size=30),
    condition=st.sampled_from(KEY_CONDITIONS),
    forward=st.booleans(),
    limit=st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    filtered=st.booleans(),
)
def test_an_index_query_answers_what_moto_answers_reading_the_whole_table(
    table, monkeypatch, keys, condition, forward, limit, filtered
):
    from infra.local import moto_dynamodb

    # Given items in two partitions of an index, some sharing a sort key (told apart by the table key)
    for leftover in table.scan(TableName="seams")["Items"]:
        table.delete_item(TableName="seams", Key={"pk": leftover["pk"], "sk": leftover["sk"]})
    for number, key in enumerate(keys):
        item = {
            "pk": {"S": f"WF#{number}"},
            "sk": {"S": "STATE"},
            "gsi": {"S": "ab"[number % 2]},
            "startKey": {"S": f"k{key:02d}"},
        }
        if number % 3:
            item["odd"] = {"S": "yes"}
        table.put_item(TableName="seams", Item=item)

    # When the same query is paged through with the partition index and by moto alone
    narrowed = all_pages(table, *condition, forward, limit, filtered)
    with monkeypatch.context() as unseamed:
        unseamed.setattr(moto_dynamodb, "_narrowed", lambda *arguments: None)
        whole = all_pages(table, *condition, forward, limit, filtered)

    # Then every page is the same
    assert narrowed == whole


# ----- The API's execution environment (infra/local/lambda_environment.py) -------------------------


def test_requests_served_at_once_each_see_their_own_identity_even_across_a_pause(platform, applicant):
    from concurrent.futures import ThreadPoolExecutor

    from infra.local.faults import Fault
    from tests.support.actors import APPLICATION_INPUT, OTHER_APPLICANT, Client

    # Given two applicants' workflows, and one whose next wait cannot open yet (a signal to it pauses)
    other = Client(platform.api, OTHER_APPLICANT)
    theirs = {**APPLICATION_INPUT, "projectId": "their-project"}
    assert applicant.start("mine")[0] == 201 and other.start("theirs", input=theirs)[0] == 201
    platform.faults.add(Fault(count=1, kind="transient", activity="OpenWait"))
    assert applicant.start("paused")[0] == 201
    platform.settle()

    # When many requests by both run at once, one of them pausing while the others run
    def ask(number: int) -> tuple[str, int, str | None]:
        if number == 0:
            code, body = applicant.signal("paused", "submitApplication")
            return ("pause", code, (body.get("workflow") or body).get("workflowId"))
        client, workflow = (applicant, "mine") if number % 2 else (other, "mine")
        code, body = client.get(workflow)
        return (client.actor.user, code, body.get("workflowId"))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often: any state they share gets mixed up
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, range(120)))
    finally:
        sys.setswitchinterval(interval)

    # Then each saw what its own identity may see: alice her workflow, arthur nothing of hers
    assert {answer for answer in answers if answer[0] == "alice"} == {("alice", 200, "mine")}
    assert {answer[:2] for answer in answers if answer[0] == "arthur"} == {("arthur", 404)}
    # And the paused signal's answer is about its own workflow
    assert [answer[2] for answer in answers if answer[0] == "pause"] == ["paused"]


def test_an_alias_starts_its_version_and_a_new_version_leaves_running_executions_on_theirs(platform, stepfunctions):
    # Given a state machine published as version 1 behind an alias, an execution waiting on it
    def waiting(result: str) -> str:
        return json.dumps(
            {
                "StartAt": "Wait",
                "States": {
                    "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                    "Done": {"Type": "Pass", "Result": result, "End": True},
                },
            }
        )

    role = "arn:aws:iam::123456789012:role/accu-local-state-machines"
    created = stepfunctions.create_state_machine(
        name="seam-alias", definition=waiting("v1"), roleArn=role, publish=True
    )
    machine, version_1 = created["stateMachineArn"], created["stateMachineVersionArn"]
    alias = stepfunctions.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": version_1, "weight": 100}]
    )["stateMachineAliasArn"]
    first = stepfunctions.start_execution(stateMachineArn=alias, name="on-v1")["executionArn"]

    # When a new definition is published as version 2 and the alias moved to it, and another starts
    version_2 = stepfunctions.update_state_machine(stateMachineArn=machine, definition=waiting("v2"), publish=True)[
        "stateMachineVersionArn"
    ]
    stepfunctions.update_state_machine_alias(
        stateMachineAliasArn=alias, routingConfiguration=[{"stateMachineVersionArn": version_2, "weight": 100}]
    )
    second = stepfunctions.start_execution(stateMachineArn=alias, name="on-v2")["executionArn"]
    platform.advance(3601)

    # Then each ran the definition of the version it started on, and says so, as AWS does
    outputs = {arn: stepfunctions.describe_execution(executionArn=arn) for arn in (first, second)}
    # (moto answers a string output as it is, not as JSON)
    assert [outputs[arn].get("output") for arn in (first, second)] == ["v1", "v2"], outputs
    assert (
        outputs[first]["stateMachineVersionArn"] == version_1 and outputs[second]["stateMachineVersionArn"] == version_2
    )
    assert {answer["stateMachineArn"] for answer in outputs.values()} == {machine}
    assert {answer["stateMachineAliasArn"] for answer in outputs.values()} == {alias}
    # And both are the state machine's executions, whose names are used once across its versions
    listed = {item["executionArn"] for item in stepfunctions.list_executions(stateMachineArn=machine)["executions"]}
    assert {first, second} <= listed
    with pytest.raises(stepfunctions.exceptions.ExecutionAlreadyExists):
        stepfunctions.start_execution(stateMachineArn=version_1, name="on-v2", input='{"other": 1}')


def test_an_execution_times_out_a_year_after_it_started_as_in_aws(platform, stepfunctions):
    # Given an execution that would wait 400 days (moto alone lets it run on for ever)
    arn = run(
        stepfunctions,
        platform,
        "seam-lifetime",
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 400 * 86400, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
    )
    # When a year less a minute passes, it runs; when the year is over, it has timed out
    platform.advance(365 * 86400 - 60)
    assert status(stepfunctions, arn) == "RUNNING"
    platform.advance(120)
    assert status(stepfunctions, arn) == "TIMED_OUT"
    # Then Step Functions' status-change event says so, as AWS puts it on the default bus
    changes = [event["detail"] for event in platform.router.events("Step Functions Execution Status Change")]
    assert {"executionArn": arn, "status": "TIMED_OUT"}.items() <= changes[-1].items()


def test_items_exported_and_imported_come_back_whole_indexed_and_without_stream_records(table):
    # Given items written through the API (one of them indexed), the table's stream holding their records
    from infra.local import moto_dynamodb

    items = [
        {"pk": {"S": "WF#a"}, "sk": {"S": "STATE"}, "gsi": {"S": "g"}, "startKey": {"S": "1"}, "n": {"N": "3"}},
        {"pk": {"S": "WF#a"}, "sk": {"S": "HISTORY#1"}, "doc": {"M": {"x": {"L": [{"S": "y"}, {"BOOL": True}]}}}},
    ]
    for item in items:
        table.put_item(TableName="seams", Item=item)
    seams_table = moto_table()
    exported = moto_dynamodb.export_items(seams_table)

    # When the table is emptied and the export imported
    for item in items:
        table.delete_item(TableName="seams", Key={"pk": item["pk"], "sk": item["sk"]})
    records = len(seams_table.stream_shard.items)
    moto_dynamodb.import_items(seams_table, exported)

    # Then every item is back as it was, the index finds it, and the stream has no record of the import
    assert sorted(exported, key=str) == sorted(items, key=str)
    for item in items:
        assert table.get_item(TableName="seams", Key={"pk": item["pk"], "sk": item["sk"]})["Item"] == item
    indexed = table.query(
        TableName="seams",
        IndexName="byGsi",
        KeyConditionExpression="gsi = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )["Items"]
    assert indexed == [items[0]]
    assert len(seams_table.stream_shard.items) == records


def test_an_export_after_changes_reads_them_and_only_them(table):
    # Given a table exported once
    from infra.local import moto_dynamodb

    for number in range(3):
        table.put_item(TableName="seams", Item={"pk": {"S": f"WF#{number}"}, "sk": {"S": "STATE"}, "v": {"N": "1"}})
    seams_table = moto_table()
    first = moto_dynamodb.export_items(seams_table)

    # When one item is updated, one deleted and one added
    table.update_item(
        TableName="seams",
        Key={"pk": {"S": "WF#0"}, "sk": {"S": "STATE"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    table.delete_item(TableName="seams", Key={"pk": {"S": "WF#1"}, "sk": {"S": "STATE"}})
    table.put_item(TableName="seams", Item={"pk": {"S": "WF#3"}, "sk": {"S": "STATE"}, "v": {"N": "1"}})
    second = moto_dynamodb.export_items(seams_table)

    # Then the next export is the table as it is now, and the first one is unchanged
    assert sorted(item["pk"]["S"] + item["v"]["N"] for item in second) == ["WF#02", "WF#21", "WF#31"]
    assert sorted(item["pk"]["S"] + item["v"]["N"] for item in first) == ["WF#01", "WF#11", "WF#21"]
