"""Definition versions on the local platform: executions start on each lifecycle's live alias; a new
definition loaded while workflows run becomes the version new executions start on, and the running
ones finish on the version they started on."""

from __future__ import annotations

import json

import boto3

from infra.catalog import CATALOG
from infra.local.server import LocalApi
from tests.support.scenarios import active_project, to_issuance


def execution_of(platform, workflow_id: str) -> dict:
    arn = platform.state_machine_arns["accu-application"].replace(":stateMachine:", ":execution:") + f":{workflow_id}"
    return boto3.client("stepfunctions").describe_execution(executionArn=arn)


def local_route(platform, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    return LocalApi(platform).handle(method, path, {}, json.dumps(body).encode() if body is not None else b"")  # type: ignore[return-value]


def test_a_new_definition_takes_new_executions_while_running_ones_finish_on_theirs(
    platform, applicant, reviewer, approver
):
    # Given an application whose execution started on version 1 of its lifecycle, through the live alias
    active_project(platform, applicant, reviewer, approver)
    application = {"projectId": "project-1", "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}
    assert applicant.start("app-old", input=application)[0] == 201
    platform.settle()
    old = execution_of(platform, "app-old")
    assert old["stateMachineVersionArn"].endswith(":1") and old["stateMachineAliasArn"].endswith(":live")

    # When a new definition of the lifecycle is loaded (the catalog's, with another comment), and another starts
    template = json.loads(CATALOG["accu-application"].definition_template())
    template["Comment"] = "version 2: the same states, a new comment"
    code, loaded = local_route(platform, "POST", "/local/definitions/accu-application", {"definition": template})
    assert code == 201 and [route["version"] for route in loaded["live"]] == [2], loaded
    assert applicant.start("app-new", input=application)[0] == 201
    platform.settle()

    # Then the new one runs version 2, the old one still version 1, and both go to the end of their lifecycle
    assert execution_of(platform, "app-new")["stateMachineVersionArn"].endswith(":2")
    for workflow_id in ("app-old", "app-new"):
        for client, signal, payload in to_issuance(applicant, reviewer, approver):
            platform.settle()
            code, state = client.signal(workflow_id, signal, payload)
            assert code == 200, (workflow_id, signal, state)
        platform.settle()
        assert execution_of(platform, workflow_id)["status"] == "SUCCEEDED"
    assert execution_of(platform, "app-old")["stateMachineVersionArn"].endswith(":1")


def test_a_definition_that_is_not_valid_asl_is_refused_and_the_live_version_stays(platform):
    # Given the live versions
    before = local_route(platform, "GET", "/local/definitions")[1]

    # When a definition with a Next to no state, and one for an unknown lifecycle, are loaded
    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    code, refused = local_route(platform, "POST", "/local/definitions/project", {"definition": broken})
    unknown_code, unknown = local_route(platform, "POST", "/local/definitions/no-such-type", {})

    # Then each is refused with what was wrong, and nothing changed
    assert code == 422 and refused["details"][0]["field"] == "definition", refused
    assert unknown_code == 404 and unknown["details"][0]["value"] == "no-such-type"
    assert local_route(platform, "GET", "/local/definitions")[1] == before
