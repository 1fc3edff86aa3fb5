"""(a) The bare engine: moto's Step Functions engine as it comes (none of the local runtime's seams),
one lifecycle of N task-token waits, each opened by an in-process Lambda that only hands the token
back, the client completing each wait as soon as it has the token. What the platform's lifecycle
would cost if the platform added nothing to the engine.

Run in its own process (``python -m bench.bare_engine WAITS RUNS``) so that no seam is installed;
it prints its figures as one JSON line.
"""

from __future__ import annotations

import io
import json
import os
import queue
import statistics
import sys
import time
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/bench"
REGION = "ap-southeast-2"


def definition(waits: int) -> str:
    states: dict[str, Any] = {}
    for number in range(1, waits + 1):
        states[f"Wait{number}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "HandBack", "Payload": {"token.$": "$$.Task.Token"}},
            **({"Next": f"Wait{number + 1}"} if number < waits else {"End": True}),
        }
    return json.dumps({"StartAt": "Wait1", "States": states})


def measure(waits: int, runs: int) -> dict[str, Any]:
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.response import StreamingBody
    from moto import mock_aws

    tokens: queue.Queue[str] = queue.Queue()

    def hand_back(model: Any, params: dict[str, Any], **kwargs: Any) -> Any:
        event = json.loads(params["body"])
        tokens.put(event["token"])
        payload = b"{}"
        parsed = {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
            "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}},
        }
        return AWSResponse("http://lambda.local", 200, {}, None), parsed

    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION})
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        boto3.setup_default_session(region_name=REGION)
        boto3.DEFAULT_SESSION.events.register("before-call.lambda.Invoke", hand_back)  # type: ignore[union-attr]
        client = boto3.client("stepfunctions")
        machine = client.create_state_machine(name="bare", definition=definition(waits), roleArn=ROLE)[
            "stateMachineArn"
        ]

        def lifecycle(name: str) -> float:
            started = time.perf_counter()
            execution = client.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
            for _ in range(waits):
                client.send_task_success(taskToken=tokens.get(timeout=60), output="{}")
            while client.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.001)
            return time.perf_counter() - started

        for number in range(3):
            lifecycle(f"warm-{number}")
        seconds = [lifecycle(f"run-{number}") for number in range(runs)]
    return {"waits": waits, "runs": runs, "median_seconds": statistics.median(seconds), "seconds": seconds}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
