"""Migrations on moto's DynamoDB and Step Functions: plan, apply, verify and roll back states stored
at version 1, with signals arriving meanwhile and a run interrupted halfway."""

from __future__ import annotations

import boto3
import pytest

from functions.dal.migrations import MigrationStore
from functions.dal.stepfunctions import Executions
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.schema import CURRENT_VERSION, registry
from functions.service.migrations import MigrationService
from infra.local.names import MIGRATIONS_TABLE, WORKFLOWS_TABLE
from tests.support.scenarios import active_project, application_in
from tests.support.version_1 import store_as_version_1, table_items


def migrations(platform, progress=None) -> MigrationService:
    return MigrationService(
        MigrationStore(boto3.client("dynamodb"), WORKFLOWS_TABLE, MIGRATIONS_TABLE),
        Executions(boto3.client("stepfunctions"), {}),
        LIFECYCLES,
        registry(),
        now=platform.clock.now,
        actor="olga",
        progress=progress,
    )


@pytest.fixture
def version_1(platform, applicant, reviewer, approver) -> dict[str, dict]:
    """Three applications stored by the version-1 platform: one flagged as validated in UNDER_REVIEW,
    one unflagged, one SUBMITTED without a version attribute at all; and the active project they are for."""
    active_project(platform, applicant, reviewer, approver)
    application_in("UNDER_REVIEW", "app-flagged", applicant, reviewer, approver, platform)
    application_in("UNDER_REVIEW", "app-plain", applicant, reviewer, approver, platform)
    application_in("SUBMITTED", "app-unlabelled", applicant, reviewer, approver, platform)
    platform.settle()
    client = boto3.client("dynamodb")
    return {
        "app-flagged": store_as_version_1(client, WORKFLOWS_TABLE, "app-flagged", flagged=True),
        "app-plain": store_as_version_1(client, WORKFLOWS_TABLE, "app-plain", flagged=False),
        "app-unlabelled": store_as_version_1(client, WORKFLOWS_TABLE, "app-unlabelled", flagged=False, labelled=False),
    }


def history_types(client, workflow_id: str) -> list[str]:
    code, page = client.history(workflow_id)
    assert code == 200
    return [event["type"] for event in page["items"]]


def test_version_1_states_are_served_at_the_current_version_before_any_migration(platform, version_1, reviewer):
    # Given states stored at version 1 (When they are read through the API)
    flagged, plain = reviewer.get("app-flagged")[1], reviewer.get("app-plain")[1]

    # Then they are answered at the current version, the flagged one validated
    assert flagged["schemaVersion"] == plain["schemaVersion"] == CURRENT_VERSION
    assert flagged["methodologyValidatedAt"] and not plain.get("methodologyValidatedAt")


def test_plan_reports_by_type_and_version_with_diffs_and_writes_nothing(platform, version_1):
    # Given version-1 states among current ones
    client = boto3.client("dynamodb")
    before = table_items(client, WORKFLOWS_TABLE), table_items(client, MIGRATIONS_TABLE)

    # When the migration is planned
    report = migrations(platform).plan((), None, segments=3, sample=5)

    # Then it counts them by type and from-version, shows what changes, and nothing is written
    assert report["toMigrate"] == {"accu-application": {"1": 3}} and report["total"] == 3
    states = [item for item in before[0] if item["sk"]["S"] == "STATE"]
    assert report["scanned"] == len(states) > 3  # the project (and what came with it) is current
    flagged = next(sample for sample in report["samples"] if sample["workflowId"] == "app-flagged")
    paths = {entry["path"]: entry for entry in flagged["diff"]}
    assert paths["schemaVersion"]["before"] == 1 and paths["schemaVersion"]["after"] == CURRENT_VERSION
    assert {"fields.methodologyValidatedBy", "fields.methodologyValidatedAt"} <= set(paths), paths
    assert paths["fields.methodologyValidatedAt"]["before"] is None and paths["fields.methodologyValidatedAt"]["after"]
    assert (table_items(client, WORKFLOWS_TABLE), table_items(client, MIGRATIONS_TABLE)) == before


def test_apply_migrates_with_a_backup_and_a_migrated_event_each_and_a_second_apply_changes_nothing(
    platform, version_1, reviewer, approver
):
    # When the migration is applied
    service = migrations(platform)
    report = service.apply((), None, segments=2, rate_per_second=0)

    # Then each version-1 state is at the current version with a MIGRATED event, backed up as it was
    states = [item for item in table_items(boto3.client("dynamodb"), WORKFLOWS_TABLE) if item["sk"]["S"] == "STATE"]
    assert report["ok"] and report["counts"]["migrated"] == 3 and report["counts"]["current"] == len(states) - 3
    assert report["migratedByType"] == {"accu-application": {"1": 3}}
    client = boto3.client("dynamodb")
    for workflow_id in version_1:
        assert history_types(reviewer, workflow_id)[-1] == "MIGRATED"
    records = MigrationStore(client, WORKFLOWS_TABLE, MIGRATIONS_TABLE)
    backups = {record["workflowId"]: record for record in records.backups(report["runId"])}
    assert {key: record["item"] for key, record in backups.items()} == version_1
    for workflow_id in version_1:
        stored = records.state(workflow_id)
        assert stored is not None and stored.attributes["schemaVersion"] == CURRENT_VERSION
    event = reviewer.history("app-flagged")[1]["items"][-1]
    assert event["details"]["run"] == report["runId"] and event["details"]["fromSchemaVersion"] == 1

    # And a second apply writes nothing
    everything = table_items(client, WORKFLOWS_TABLE)
    again = service.apply((), None, segments=2, rate_per_second=0)
    assert again["counts"]["migrated"] == 0 and again["counts"]["current"] == len(states)
    assert table_items(client, WORKFLOWS_TABLE) == everything

    # And the migrated workflows go on: the flagged application is approved on its carried-over validation
    assert service.verify(report["runId"])["ok"]
    platform.settle()
    code, state = approver.signal("app-flagged", "approveApplication")
    assert code == 200 and state["status"] == "APPROVED", (code, state)


def test_rollback_restores_every_state_exactly_and_takes_the_migrated_events_away(platform, version_1, reviewer):
    # Given an applied migration
    service = migrations(platform)
    run_id = service.apply((), None, segments=1, rate_per_second=0)["runId"]

    # When it is rolled back
    report = service.rollback(run_id)

    # Then each state is byte for byte what it was, and its history is as before the migration
    assert report["ok"] and report["restored"] == 3
    client = boto3.client("dynamodb")
    records = MigrationStore(client, WORKFLOWS_TABLE, MIGRATIONS_TABLE)
    for workflow_id, original in version_1.items():
        stored = records.state(workflow_id)
        assert stored is not None and stored.item == original
        assert "MIGRATED" not in history_types(reviewer, workflow_id)
    assert records.get_run(run_id)["status"] == "ROLLED_BACK"

    # And a second rollback restores nothing more
    assert service.rollback(run_id)["alreadyRolledBack"] == 3


def test_a_signal_applied_while_a_state_is_migrated_is_kept_and_the_migration_retries(platform, version_1, reviewer):
    # Given a migration whose first write finds the state changed by a signal since it was read
    service = migrations(platform)
    records = service.records
    write = records.write_migrated
    signalled: list[str] = []

    def write_after_a_signal(before, attributes, event):
        workflow_id = before.attributes["workflowId"]
        if not signalled and workflow_id == "app-plain":
            platform.settle()
            code, state = reviewer.signal(workflow_id, "validateMethodology")
            assert code == 200, state
            signalled.append(workflow_id)
        return write(before, attributes, event)

    records.write_migrated = write_after_a_signal  # type: ignore[method-assign]

    # When it is applied
    report = service.apply(("accu-application",), None, segments=1, rate_per_second=0)

    # Then the signal's change stands, and the state was migrated on a fresh read (or written current by the signal)
    assert signalled == ["app-plain"] and report["counts"]["conflicts"] == 1
    code, state = reviewer.get("app-plain")
    assert code == 200 and state["methodologyValidatedBy"] == "rita" and state["schemaVersion"] == CURRENT_VERSION
    assert "SIGNAL_APPLIED" in history_types(reviewer, "app-plain")


def test_an_interrupted_apply_resumes_where_it_stopped(platform, version_1):
    # Given an apply interrupted after its first state
    service = migrations(platform)

    def interrupt(counts):
        if counts.get("migrated") == 1:
            raise KeyboardInterrupt

    interrupted = migrations(platform, progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        interrupted.apply((), None, segments=1, rate_per_second=0)
    run = next(iter(MigrationStore(boto3.client("dynamodb"), WORKFLOWS_TABLE, MIGRATIONS_TABLE).runs()))
    assert run["status"] == "RUNNING"

    # When the run is resumed
    report = service.apply((), None, segments=1, rate_per_second=0, run_id=run["runId"])

    # Then it finishes, and every version-1 state is migrated once, by that run
    assert report["status"] == "COMPLETED" and report["runId"] == run["runId"]
    backups = list(service.records.backups(run["runId"]))
    assert sorted(record["workflowId"] for record in backups) == sorted(version_1)
    assert all(record["outcome"] == "MIGRATED" for record in backups)
    assert service.verify(run["runId"])["ok"]


def test_verify_finds_a_running_workflow_whose_execution_is_gone(platform, version_1):
    # Given an applied migration, after which a running workflow names an execution that does not exist
    service = migrations(platform)
    run_id = service.apply((), None, segments=1, rate_per_second=0)["runId"]
    stored = service.records.state("app-plain")
    assert stored is not None
    boto3.client("dynamodb").update_item(
        TableName=WORKFLOWS_TABLE,
        Key={"pk": {"S": "WF#app-plain"}, "sk": {"S": "STATE"}},
        UpdateExpression="SET executionArn = :gone",
        ExpressionAttributeValues={":gone": {"S": stored.attributes["executionArn"] + "-gone"}},
    )

    # When the run is verified
    report = service.verify(run_id)

    # Then that workflow, and only it, is named with its problem
    assert not report["ok"] and report["checked"] == 3
    assert [item["workflowId"] for item in report["problems"]] == ["app-plain"]
    assert "is gone" in report["problems"][0]["problems"][0]


def test_a_scan_left_early_stops_its_segments(platform, version_1, monkeypatch):
    # Given a Scan of one item per page over four segments (so each segment has pages still to hand over)
    import threading

    import functions.dal.migrations as dal

    monkeypatch.setattr(dal, "SCAN_PAGE_SIZE", 1)
    records = MigrationStore(boto3.client("dynamodb"), WORKFLOWS_TABLE, MIGRATIONS_TABLE)
    finished = threading.Event()

    def take_one() -> None:
        states = records.scan_states(4)
        next(states)
        states.close()  # the reader leaves after the first state
        finished.set()

    # When its reader leaves after the first state
    reader = threading.Thread(target=take_one, daemon=True)
    reader.start()

    # Then the Scan ends (no segment waits for ever to hand over its next page)
    assert finished.wait(30)
