"""``accu --aws``: the tables of a deployment come from its storage stack's outputs (or options), the
live aliases and the API from its platform stack's; here the deployment is moto's CloudFormation
naming the local platform's tables."""

from __future__ import annotations

import json

import boto3
import pytest

from cli.main import main
from infra.local.names import MIGRATIONS_TABLE, WORKFLOWS_TABLE
from tests.support.deployments import deploy_stack
from tests.support.scenarios import application_in
from tests.support.version_1 import store_as_version_1


def test_a_plan_on_a_deployment_reads_its_tables_from_the_storage_stack(
    platform, applicant, reviewer, approver, capsys
):
    # Given a deployment whose storage stack names its tables, and a version-1 application in them
    deploy_stack(
        "AccuWorkflows-prod-Storage", {"WorkflowsTableName": WORKFLOWS_TABLE, "MigrationsTableName": MIGRATIONS_TABLE}
    )
    application_in("SUBMITTED", "app-deployed", applicant, reviewer, approver, platform)
    store_as_version_1(boto3.client("dynamodb"), WORKFLOWS_TABLE, "app-deployed", flagged=False)

    # When the operator plans a migration there
    status = main(["migrate", "plan", "--aws", "--stage", "prod", "--region", "ap-southeast-2", "--output", "json"])

    # Then the plan is of that deployment's states
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["toMigrate"] == {"accu-application": {"1": 1}}
    assert report["target"] == "deployment prod in ap-southeast-2"


def test_a_deployment_that_cannot_be_found_is_named_with_exit_status_3(platform, capsys):
    # When the operator names a stage that is not deployed
    status = main(["migrate", "plan", "--aws", "--stage", "nowhere", "--region", "ap-southeast-2"])

    # Then the command says which stack it looked for, and fails without an answer
    captured = capsys.readouterr()
    assert status == 3 and "AccuWorkflows-nowhere-Storage" in captured.err and captured.out == ""


@pytest.mark.parametrize("options", [["--workflows-table", "no-such-table", "--migrations-table", MIGRATIONS_TABLE]])
def test_tables_named_by_options_are_checked_before_anything_runs(platform, capsys, options):
    status = main(["migrate", "plan", "--aws", "--stage", "prod", "--region", "ap-southeast-2", *options])
    assert status == 3 and "no-such-table" in capsys.readouterr().err
