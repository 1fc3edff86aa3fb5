"""``accu migrate`` as an operator runs it, the installed command against the local platform (its
default): states stored at version 1 are served at the current one, planned without a write, applied
with a MIGRATED event each (a second apply changes nothing), verified, rolled back byte for byte, and
a migrated application goes on to the end of its lifecycle; running workflows move to a new definition
(a status it does not know refused unless mapped) and go on to their end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.catalog import CATALOG
from infra.local.launcher import start_local_platform
from infra.local.names import MIGRATIONS_TABLE, WORKFLOWS_TABLE
from tests.e2e.conftest import LocalHttp
from tests.support.aws import emulated_aws_client
from tests.support.http import wait_for
from tests.support.version_1 import store_as_version_1, table_items

ACCU = Path(sys.executable).parent / "accu"
APPLICANT = {"user": "alice", "groups": "applicants"}
REVIEWER = {"user": "rita", "groups": "reviewers"}
APPROVER = {"user": "paul", "groups": "approvers"}
PROJECT = {"name": "Migrated soil", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}


def accu(local: LocalHttp, *arguments: str, output: str = "json") -> tuple[int, Any]:
    """Run the installed ``accu`` command against this local platform; answers its exit status and its answer."""
    assert ACCU.exists(), f"{ACCU} is missing: run make install"
    where = ["--endpoint-url", local.aws_endpoint, "--api-url", local.base, "--user", "olga", "--output", output]
    done = subprocess.run([str(ACCU), *arguments, *where], capture_output=True, text=True, timeout=300, check=False)
    assert not done.stderr.strip() or done.returncode, done.stderr
    return done.returncode, json.loads(done.stdout) if output == "json" else done.stdout


def signal(local: LocalHttp, workflow_id: str, name: str, who: dict, payload: dict | None = None) -> dict:
    # The next wait opens moments after a transition: a signal sent meanwhile is kept (202) and applied there.
    code, body = local("POST", f"/workflows/{workflow_id}/signals/{name}", payload or {}, **who)
    assert code in (200, 202), (name, code, body)
    return body  # type: ignore[no-any-return]


def settled(local: LocalHttp, workflow_id: str, status: str) -> dict:
    return wait_for(
        lambda: local("GET", f"/workflows/{workflow_id}", **REVIEWER)[1],
        lambda state: state.get("status") == status,
        seconds=30,
    )


def applications_under_review(local: LocalHttp, project_id: str, workflow_ids: list[str]) -> None:
    """An active project with units, and applications for it under review."""
    assert (
        local("POST", "/workflows", {"type": "project", "workflowId": project_id, "input": PROJECT}, **APPLICANT)[0]
        == 201
    )
    report = {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": 900}
    for name, who, payload in [
        ("submitRegistration", APPLICANT, {}),
        ("assignAssessor", REVIEWER, {}),
        ("approveRegistration", APPROVER, {}),
        ("submitOffsetsReport", APPLICANT, report),
        ("acceptReport", APPROVER, {}),
    ]:
        signal(local, project_id, name, who, payload)
    settled(local, project_id, "ACTIVE")
    application = {"projectId": project_id, "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}
    for workflow_id in workflow_ids:
        body = {"type": "accu-application", "workflowId": workflow_id, "input": application}
        assert local("POST", "/workflows", body, **APPLICANT)[0] == 201
        signal(local, workflow_id, "submitApplication", APPLICANT)
        signal(local, workflow_id, "assignReviewer", REVIEWER)
        settled(local, workflow_id, "UNDER_REVIEW")


@pytest.fixture
def aws(local: LocalHttp) -> Any:
    return emulated_aws_client("dynamodb", local.aws_endpoint)


def test_version_1_states_are_planned_applied_verified_rolled_back_and_go_on(local: LocalHttp, aws: Any):
    # Given an active project and two applications under review, stored by the version-1 platform:
    # one whose metadata flag said its methodology was validated
    applications_under_review(local, "mig-project", ["mig-flagged", "mig-plain"])
    originals = {}
    for workflow_id in ("mig-flagged", "mig-plain"):
        originals[workflow_id] = store_as_version_1(
            aws, WORKFLOWS_TABLE, workflow_id, flagged=workflow_id == "mig-flagged"
        )

    # Then they are served at the current version, the flagged one validated
    flagged = local("GET", "/workflows/mig-flagged", **REVIEWER)[1]
    assert flagged["schemaVersion"] == 2 and flagged["methodologyValidatedAt"]

    # When the migration is planned: both are reported, by type and version, and nothing is written
    before = table_items(aws, WORKFLOWS_TABLE), table_items(aws, MIGRATIONS_TABLE)
    code, plan = accu(local, "migrate", "plan", "--type", "accu-application")
    assert code == 0 and plan["toMigrate"] == {"accu-application": {"1": 2}}, plan
    assert (table_items(aws, WORKFLOWS_TABLE), table_items(aws, MIGRATIONS_TABLE)) == before
    code, text = accu(local, "migrate", "plan", output="table")
    assert code == 0 and "accu-application  1             2" in text, text

    # When it is applied: each gets a MIGRATED event; a second apply changes nothing
    code, applied = accu(local, "migrate", "apply", "--rate", "20")
    assert code == 0 and applied["counts"]["migrated"] == 2, applied
    run_id = applied["runId"]
    for workflow_id in originals:
        events = local("GET", f"/workflows/{workflow_id}/history", **REVIEWER)[1]["items"]
        assert events[-1]["type"] == "MIGRATED" and events[-1]["details"]["run"] == run_id
    code, again = accu(local, "migrate", "apply")
    assert code == 0 and again["counts"]["migrated"] == 0

    # And verify passes
    code, verified = accu(local, "migrate", "verify", "--run", run_id)
    assert code == 0 and verified["ok"] and verified["checked"] == 2, verified

    # When it is rolled back: the states are byte for byte what they were, the MIGRATED events gone
    code, rolled_back = accu(local, "migrate", "rollback", "--run", run_id)
    assert code == 0 and rolled_back["restored"] == 2, rolled_back
    for workflow_id, original in originals.items():
        key = {"pk": {"S": f"WF#{workflow_id}"}, "sk": {"S": "STATE"}}
        assert aws.get_item(TableName=WORKFLOWS_TABLE, Key=key, ConsistentRead=True)["Item"] == original
        events = local("GET", f"/workflows/{workflow_id}/history", **REVIEWER)[1]["items"]
        assert "MIGRATED" not in [event["type"] for event in events]
    code, runs = accu(local, "migrate", "runs")
    assert {run["runId"]: run["status"] for run in runs["runs"]}[run_id] == "ROLLED_BACK"

    # And once applied again, the flagged application goes on to the end of its lifecycle
    code, applied = accu(local, "migrate", "apply")
    assert code == 0 and applied["counts"]["migrated"] == 2
    signal(local, "mig-flagged", "approveApplication", APPROVER)
    settled(local, "mig-flagged", "APPROVED")
    signal(local, "mig-flagged", "issueCertificate", APPROVER, {"certificateId": "CERT-MIG"})
    issued = settled(local, "mig-flagged", "ISSUED")
    assert issued["executionStatus"] == "COMPLETED" and issued["certificateId"] == "CERT-MIG"


def test_a_command_for_a_run_that_does_not_exist_fails_with_a_clear_message(local: LocalHttp):
    where = ["--endpoint-url", local.aws_endpoint, "--api-url", local.base]
    done = subprocess.run(
        [str(ACCU), "migrate", "verify", "--run", "no-such-run", *where], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "no migration run 'no-such-run'" in done.stderr


def test_running_workflows_move_to_a_new_definition_and_go_on_to_the_end(tmp_path: Path):
    # A platform of its own: a move acts on every running workflow of a type
    process = start_local_platform(tmp_path)
    try:
        local = LocalHttp(process.api_url, tmp_path / "outbox", process.aws_url, process.log)
        # Given two applications under review, their executions on version 1 of the lifecycle
        applications_under_review(local, "move-project", ["move-a", "move-b"])

        # When a new definition is loaded (version 2) and the move is tried dry: nothing moves
        code, loaded = local("POST", "/local/definitions/accu-application", {"description": "version 2"})
        assert code == 201 and loaded["live"][0]["version"] == 2
        before = local("GET", "/workflows/move-a/history", **REVIEWER)[1]["items"]
        code, dry = accu(local, "migrate", "move", "--type", "accu-application", "--dry-run")
        assert code == 0 and dry["counts"]["wouldMove"] == 2 and dry["counts"]["moved"] == 0, dry
        assert local("GET", "/workflows/move-a/history", **REVIEWER)[1]["items"] == before

        # And then for real: each is MIGRATED from version 1 to 2 and runs on version 2
        code, moved = accu(local, "migrate", "move", "--type", "accu-application")
        assert code == 0 and moved["counts"]["moved"] == 2, moved
        event = local("GET", "/workflows/move-a/history", **REVIEWER)[1]["items"][-1]
        assert event["type"] == "MIGRATED" and event["details"]["action"] == "moveExecution"
        assert (event["details"]["fromDefinitionVersion"], event["details"]["toDefinitionVersion"]) == (1, 2)

        # And a moved workflow goes on, on version 2, to the end of its lifecycle
        signal(local, "move-a", "validateMethodology", REVIEWER)
        signal(local, "move-a", "approveApplication", APPROVER)
        settled(local, "move-a", "APPROVED")
        signal(local, "move-a", "issueCertificate", APPROVER, {"certificateId": "CERT-MOVED"})
        assert settled(local, "move-a", "ISSUED")["executionStatus"] == "COMPLETED"

        # When version 3 no longer routes UNDER_REVIEW: the move refuses, unless the status is mapped
        template = json.loads(CATALOG["accu-application"].definition_template())
        template["States"]["Route"]["Choices"] = [
            choice for choice in template["States"]["Route"]["Choices"] if choice.get("StringEquals") != "UNDER_REVIEW"
        ]
        assert local("POST", "/local/definitions/accu-application", {"definition": template})[0] == 201
        code, refused = accu(local, "migrate", "move", "--type", "accu-application")
        assert code == 1 and refused["counts"]["refused"] == 1, refused
        assert "does not know UNDER_REVIEW" in refused["workflows"][0]["reason"]
        code, mapped = accu(local, "migrate", "move", "--type", "accu-application", "--map", "UNDER_REVIEW=SUBMITTED")
        assert code == 0 and mapped["counts"]["moved"] == 1, mapped

        # Then it runs on version 3 in the mapped status, waiting for that status's signals
        moved_b = settled(local, "move-b", "SUBMITTED")
        assert moved_b["executionStatus"] == "RUNNING" and "assignReviewer" in moved_b["awaiting"]
        event = local("GET", "/workflows/move-b/history", **REVIEWER)[1]["items"][-1]
        assert (event["fromStatus"], event["toStatus"], event["details"]["toDefinitionVersion"]) == (
            "UNDER_REVIEW",
            "SUBMITTED",
            3,
        )
    finally:
        process.stop()


def test_version_1_states_loaded_into_a_new_platform_are_served_current_and_left_for_the_migration(tmp_path: Path):
    # Given a platform holding applications under review, one stored at version 1, then stopped
    first = start_local_platform(tmp_path)
    try:
        local = LocalHttp(first.api_url, tmp_path / "outbox", first.aws_url, first.log)
        applications_under_review(local, "kept-project", ["kept-v1"])
        client = emulated_aws_client("dynamodb", first.aws_url)
        store_as_version_1(client, WORKFLOWS_TABLE, "kept-v1", flagged=True)
    finally:
        first.stop()

    # When a new platform starts on its data (each running workflow's execution resumed at its wait)
    second = start_local_platform(tmp_path)
    try:
        local = LocalHttp(second.api_url, tmp_path / "outbox", second.aws_url, second.log)
        client = emulated_aws_client("dynamodb", second.aws_url)
        key = {"pk": {"S": "WF#kept-v1"}, "sk": {"S": "STATE"}}
        stored = wait_for(
            lambda: client.get_item(TableName=WORKFLOWS_TABLE, Key=key, ConsistentRead=True)["Item"],
            lambda item: "waitToken" in item,
            seconds=30,
        )

        # Then it is served at the current version, waits again, and is still stored at version 1 for the plan
        state = local("GET", "/workflows/kept-v1", **REVIEWER)[1]
        assert state["schemaVersion"] == 2 and state["methodologyValidatedAt"]
        assert stored["schemaVersion"] == {"N": "1"}
        code, plan = accu(local, "migrate", "plan")
        assert code == 0 and plan["toMigrate"] == {"accu-application": {"1": 1}}, plan
    finally:
        second.stop()
