"""(f) What one happy-path lifecycle costs in AWS, counted on the local platform (in this process):

- Step Functions state transitions, counted from the execution's history (every state entered);
- Lambda invocations by function, and the seconds they ran here (a stand-in for Lambda's billed
  duration: this machine is slower than Lambda, so the compute figure errs high);
- DynamoDB read and write request units, counted from each request and the items it read and
  wrote (``bench/capacity.py``), and the write transactions;
- API Gateway requests, EventBridge events published, SNS messages;

priced at AWS list prices, beside Temporal Cloud's list price for the Actions the same lifecycle
takes there. The lifecycle runs as a client would use it in AWS: each signal some time after the
one before, when the next wait is open (``settle``), one application on an ACTIVE project.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.capacity import CapacityMeter
from bench.http_client import Answer

# List prices, USD, us-east-1 (where both the AWS and the Temporal pages quote them), as the pages
# read when this was written; see README "Benchmark" for the addresses.
PRICES = {
    "stepfunctions_transition": 0.025 / 1000,  # Standard workflows, per state transition
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second": 0.0000166667,  # x86
    "dynamodb_write_unit": 0.625 / 1_000_000,  # on-demand, per write request unit
    "dynamodb_read_unit": 0.125 / 1_000_000,  # on-demand, per read request unit
    "apigateway_request": 3.50 / 1_000_000,  # REST API, first 333 million a month
    "eventbridge_event": 1.00 / 1_000_000,  # custom events published (each 64 KB chunk)
    "sns_publish": 0.50 / 1_000_000,  # standard topic publishes (first 1 million a month free)
    "temporal_action": 50.0 / 1_000_000,  # Temporal Cloud Actions, the first tier of consumption
}
PRICES_SEEN = "2026-11-25"

# The lifecycle as Temporal would run it (the seed: each signal handler updates the state and
# persists it with an activity; timeouts are timers): Actions counted by Temporal Cloud's rules.
TEMPORAL_ACTIONS = {
    "workflow started": 1,
    "signals received": 5,
    "activities to persist the state (one at the start, one per signal)": 6,
    "timers started (reviewer assignment, review decision, issue deadline)": 3,
}


class SettledClient:
    """The bench's client interface, in-process: each request, then everything it set going (the
    next wait opening, events delivered) before the next, as a client some seconds apart sees it."""

    def __init__(self, platform: Any):
        self.platform = platform

    def call(self, method: str, path: str, body: Any = None, identity: Any = None) -> Answer:
        started = time.perf_counter()
        status, answer = self.platform.api(
            method,
            path,
            body,
            user=identity.user if identity else "olga",
            groups=identity.groups if identity else "operators",
        )
        self.platform.settle()
        return Answer(status, answer, time.perf_counter() - started)


@dataclass
class LifecycleCost:
    state_transitions: int
    transitions_per_signal: list[int]
    lambda_invocations: dict[str, int]
    lambda_gb_seconds: float
    read_units: float
    write_units: float
    write_transactions: int
    write_transactions_per_signal: list[int]
    dynamodb_requests: dict[str, int]
    api_requests: int
    events_published: int
    sns_messages: int

    def prices(self) -> dict[str, float]:
        lambda_requests = sum(self.lambda_invocations.values())
        costs = {
            "Step Functions": self.state_transitions * PRICES["stepfunctions_transition"],
            "Lambda": lambda_requests * PRICES["lambda_request"] + self.lambda_gb_seconds * PRICES["lambda_gb_second"],
            "DynamoDB": self.write_units * PRICES["dynamodb_write_unit"]
            + self.read_units * PRICES["dynamodb_read_unit"],
            "API Gateway": self.api_requests * PRICES["apigateway_request"],
            "EventBridge": self.events_published * PRICES["eventbridge_event"],
            "SNS": self.sns_messages * PRICES["sns_publish"],
        }
        costs["AWS total"] = sum(costs.values())
        costs["Temporal Cloud"] = sum(TEMPORAL_ACTIONS.values()) * PRICES["temporal_action"]
        return costs


def measure() -> LifecycleCost:
    import boto3

    from bench.http_client import APPLICANT
    from bench.lifecycle import HAPPY_PATH, active_project, application_input
    from infra.catalog import FUNCTIONS
    from infra.local.platform import ACCOUNT, WORKFLOWS_TABLE, LocalPlatform

    outbox = Path(tempfile.mkdtemp(prefix="accu-bench-outbox-"))
    with LocalPlatform(outbox_dir=outbox, frozen_clock=True) as platform:
        client = SettledClient(platform)
        active_project(client, "cost-project", units=1000)

        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT][platform.region].get_table(WORKFLOWS_TABLE)
        from functions import dependencies

        meter = CapacityMeter(table)
        # The handlers' DynamoDB client (made once per cold start) is the one every request goes through.
        events = dependencies.engine().store.client.meta.events  # type: ignore[attr-defined]
        meter.register(events)
        invocations_before = dict(platform.lambdas.invocations)
        seconds_before = dict(platform.lambdas.seconds)
        published_before = len(platform.router.published)
        sns_before = len(platform.outbox.messages())
        stepfunctions = boto3.client("stepfunctions")
        execution_arn = (
            platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + ":cost-app"
        )

        def transitions() -> int:
            try:
                history = stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=1000)
            except stepfunctions.exceptions.ExecutionDoesNotExist:
                return 0
            return sum(1 for event in history["events"] if event["type"].endswith("StateEntered"))

        transactions_before = meter.write_transactions
        started = client.call(
            "POST",
            "/workflows",
            {
                "type": "accu-application",
                "workflowId": "cost-app",
                "input": {**application_input(), "projectId": "cost-project"},
            },
            APPLICANT,
        )
        assert started.status == 201, started.body
        transitions_per_signal: list[int] = []
        transactions_per_signal: list[int] = []
        for identity, signal, payload in HAPPY_PATH:
            counted, written = transitions(), meter.write_transactions
            answer = client.call("POST", f"/workflows/cost-app/signals/{signal}", payload, identity)
            assert answer.status == 200, answer.body
            transitions_per_signal.append(transitions() - counted)
            transactions_per_signal.append(meter.write_transactions - written)
        meter.unregister(events)
        calls = {
            name: count - invocations_before.get(name, 0)
            for name, count in platform.lambdas.invocations.items()
            if count - invocations_before.get(name, 0)
        }
        gb_seconds = sum(
            (platform.lambdas.seconds[name] - seconds_before.get(name, 0.0)) * FUNCTIONS[name].memory_mb / 1024
            for name in calls
        )
        return LifecycleCost(
            state_transitions=transitions(),
            transitions_per_signal=transitions_per_signal,
            lambda_invocations=calls,
            lambda_gb_seconds=gb_seconds,
            read_units=meter.read_units,
            write_units=meter.write_units,
            write_transactions=meter.write_transactions - transactions_before,
            write_transactions_per_signal=transactions_per_signal,
            dynamodb_requests=dict(meter.requests),
            api_requests=1 + len(HAPPY_PATH),
            events_published=len(platform.router.published) - published_before,
            sns_messages=len(platform.outbox.messages()) - sns_before,
        )


def as_json(cost: LifecycleCost) -> dict[str, Any]:
    return {**json.loads(json.dumps(cost.__dict__)), "pricesUsd": cost.prices(), "temporalActions": TEMPORAL_ACTIONS}
