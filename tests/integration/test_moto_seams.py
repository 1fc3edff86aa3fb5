"""The local runtime's seams into moto's Step Functions engine (infra/local/moto_patches.py), each
shown to work on a minimal state machine: if a moto upgrade moves one, this fails."""

from __future__ import annotations

import json
import time

import boto3
import pytest

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
