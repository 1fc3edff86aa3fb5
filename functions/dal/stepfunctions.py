"""Step Functions access: start a lifecycle's execution, release an open wait, stop an execution, ask its status."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from functions.domain.migration import version_number

# Answers to SendTaskSuccess that mean "this wait is no longer open" (it timed out or already ended).
CLOSED_WAIT_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class Executions:
    def __init__(self, client: Any, state_machine_arns: dict[str, str]):
        self.client = client
        self.state_machine_arns = state_machine_arns

    def start(self, workflow_type: str, name: str, payload: dict[str, Any]) -> str:
        response = self.client.start_execution(
            stateMachineArn=self.state_machine_arns[workflow_type], name=name, input=json.dumps(payload)
        )
        return str(response["executionArn"])

    def execution_arn(self, workflow_type: str, name: str) -> str:
        machine = self.state_machine_arns[workflow_type]
        # A qualified ARN (version or alias) names the same state machine for its executions.
        base = machine.split(":stateMachine:")
        machine_name = base[1].split(":")[0]
        return f"{base[0]}:execution:{machine_name}:{name}"

    def release(self, task_token: str, output: dict[str, Any]) -> bool:
        """Complete an open wait; False when the wait had already closed."""
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] in CLOSED_WAIT_ERRORS:
                return False
            raise

    def status(self, execution_arn: str) -> str | None:
        """The execution's status (RUNNING, SUCCEEDED, ...), None if there is no such execution."""
        try:
            return str(self.client.describe_execution(executionArn=execution_arn)["status"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self.client.stop_execution(executionArn=execution_arn, error="Terminated", cause=cause[:32768])
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "ValidationException"):
                raise


class DefinitionVersions:
    """The versions of the lifecycles' state machines: which one each live alias routes to (and its
    definition), and which one an execution runs."""

    def __init__(self, client: Any, alias_arns: dict[str, str]):
        self.client = client
        self.alias_arns = alias_arns

    def live(self, workflow_type: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
        """The alias's routes (version ARN, weight) and the definition of its heaviest version."""
        routes = self.client.describe_state_machine_alias(stateMachineAliasArn=self.alias_arns[workflow_type])[
            "routingConfiguration"
        ]
        weighted = [(str(route["stateMachineVersionArn"]), int(route["weight"])) for route in routes]
        heaviest = max(weighted, key=lambda route: route[1])[0]
        definition = self.client.describe_state_machine(stateMachineArn=heaviest)["definition"]
        return weighted, json.loads(definition)

    def version_of_execution(self, execution_arn: str) -> int | None:
        """The version an execution runs; None when it was started on the state machine itself."""
        try:
            version_arn = self.client.describe_execution(executionArn=execution_arn).get("stateMachineVersionArn")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        return version_number(version_arn) if version_arn else None


class StateMachine:
    """One of the platform's own state machines (the batch operation's), started through its ARN."""

    def __init__(self, client: Any, state_machine_arn: str):
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        response = self.client.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
        )
        return str(response["executionArn"])
