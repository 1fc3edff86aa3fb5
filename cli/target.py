"""Where a command acts: the local platform (the default: its emulated AWS endpoint) or a deployment
(its tables from the storage stack's outputs, or named by options)."""

from __future__ import annotations

import functools
import getpass
import os
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import click
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cli import sessions
from cli.api import OPERATORS, ApiError, ApiUnreachable, PlatformApi, default_api_url
from infra.catalog import CATALOG, LIVE_ALIAS
from infra.local.names import (
    DEFAULT_API_PORT,
    DEFAULT_AWS_PORT,
    MIGRATIONS_TABLE,
    REGION,
    WORKFLOWS_TABLE,
    local_live_alias_arn,
)

DEFAULT_STAGE = "dev"


class TargetUnreachable(Exception):
    """The platform a command is for cannot be reached, or its tables cannot be found."""


@dataclass(frozen=True)
class Target:
    description: str
    region: str
    workflows_table: str
    migrations_table: str
    endpoint_url: str | None = None
    # The local platform's virtual clock runs ahead of this machine's once time was skipped: what a
    # command records (history events, runs) is dated on the platform's clock.
    clock_offset_seconds: float = 0.0
    # The REST API, as an operator (locally the identity headers, in AWS a Cognito token); None: not known.
    api: PlatformApi | None = None
    # Each lifecycle's live alias (workflow type -> ARN).
    live_aliases: tuple[tuple[str, str], ...] = ()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset_seconds)

    def client(self, service: str) -> Any:
        options: dict[str, Any] = {"region_name": self.region, "config": Config(retries={"mode": "standard"})}
        if self.endpoint_url:
            # The emulated AWS takes any credentials.
            options.update(endpoint_url=self.endpoint_url, aws_access_key_id="local", aws_secret_access_key="local")
        return boto3.client(service, **options)


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where a command acts (default: the local platform); the command gets them as ``where``."""

    @functools.wraps(command)
    def with_where(
        aws: bool,
        endpoint_url: str,
        api_url: str,
        token: str | None,
        stage: str,
        region: str | None,
        workflows_table: str | None,
        migrations_table: str | None,
        **arguments: Any,
    ) -> Any:
        where = types.SimpleNamespace(
            aws=aws,
            endpoint_url=endpoint_url,
            api_url=api_url,
            token=token,
            stage=stage,
            region=region,
            workflows_table=workflows_table,
            migrations_table=migrations_table,
            needs_api=False,
            user=None,
        )
        return command(where=where, **arguments)

    options = [
        click.option("--aws", is_flag=True, help="act on an AWS deployment instead of the local platform"),
        click.option(
            "--endpoint-url",
            envvar="ACCU_AWS_ENDPOINT",
            default=f"http://127.0.0.1:{DEFAULT_AWS_PORT}",
            show_default=True,
            help="the local platform's emulated AWS endpoint (ACCU_AWS_ENDPOINT)",
        ),
        click.option(
            "--api-url",
            envvar="ACCU_API_URL",
            default=default_api_url,
            show_default=f"http://127.0.0.1:$PORT, {DEFAULT_API_PORT}",
            help="the REST API (locally also its clock) (ACCU_API_URL)",
        ),
        click.option("--token", envvar="ACCU_TOKEN", help="with --aws: an operator's Cognito ID token (ACCU_TOKEN)"),
        click.option("--stage", default=DEFAULT_STAGE, show_default=True, help="the deployment's stage, with --aws"),
        click.option("--region", help="the deployment's region, with --aws (default: AWS_REGION, else ap-southeast-2)"),
        click.option("--workflows-table", help="the workflows table's name (default: from the storage stack)"),
        click.option("--migrations-table", help="the migrations table's name (default: from the storage stack)"),
    ]
    for decorate in reversed(options):
        with_where = decorate(with_where)
    return with_where


def resolve(options: Any) -> Target:
    if not options.aws:
        api = PlatformApi.as_caller(options.api_url, options.user or getpass.getuser(), OPERATORS)
        target = Target(
            description=f"local platform at {options.endpoint_url}",
            region=REGION,
            workflows_table=options.workflows_table or WORKFLOWS_TABLE,
            migrations_table=options.migrations_table or MIGRATIONS_TABLE,
            endpoint_url=options.endpoint_url,
            clock_offset_seconds=_local_clock_offset(api),
            api=api,
            live_aliases=tuple(
                (workflow_type, local_live_alias_arn(entry.state_machine_name, LIVE_ALIAS))
                for workflow_type, entry in CATALOG.items()
            ),
        )
        _check_reachable(target, "start it with `make local`")
        return target
    region = deployment_region(options.region)
    stack = f"AccuWorkflows-{options.stage}-Storage"
    workflows, migrations = options.workflows_table, options.migrations_table
    if not (workflows and migrations):
        outputs = _stack_outputs(stack, region)
        workflows = workflows or outputs.get("WorkflowsTableName")
        migrations = migrations or outputs.get("MigrationsTableName")
        if not (workflows and migrations):
            raise TargetUnreachable(
                f"the stack {stack} in {region} has no WorkflowsTableName/MigrationsTableName output"
            )
    platform = platform_outputs(options.stage, region) if getattr(options, "needs_api", False) else {}
    deployed_api = None
    if "ApiUrl" in platform:
        token = options.token or sessions.token_for(platform["ApiUrl"])
        deployed_api = PlatformApi.as_caller(platform["ApiUrl"], "", OPERATORS, token)
    target = Target(
        f"deployment {options.stage} in {region}",
        region,
        workflows,
        migrations,
        api=deployed_api,
        live_aliases=tuple(
            (workflow_type, platform[f"{entry.state_machine_name}LiveAlias"])
            for workflow_type, entry in CATALOG.items()
            if f"{entry.state_machine_name}LiveAlias" in platform
        ),
    )
    _check_reachable(target, "check the credentials, the region and the table names")
    return target


def deployment_region(region: str | None) -> str:
    return region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION


def platform_outputs(stage: str, region: str | None) -> dict[str, str]:
    """The outputs of a deployment's platform stack: its API, user pool, live aliases."""
    return _stack_outputs(f"AccuWorkflows-{stage}-Platform", deployment_region(region))


def _local_clock_offset(api: PlatformApi) -> float:
    try:
        return float(api.call("GET", "/local/clock")["offsetSeconds"])
    except (ApiUnreachable, ApiError, KeyError, TypeError) as error:
        raise TargetUnreachable(
            f"cannot read the local platform's clock at {api.base} ({error}); start it with `make local`"
        ) from error


def _stack_outputs(stack: str, region: str) -> dict[str, str]:
    try:
        response = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    except (BotoCoreError, ClientError) as error:
        raise TargetUnreachable(f"cannot read the outputs of the stack {stack} in {region}: {error}") from error
    return {output["OutputKey"]: output["OutputValue"] for output in response["Stacks"][0].get("Outputs", [])}


def _check_reachable(target: Target, advice: str) -> None:
    try:
        client = target.client("dynamodb")
        for table in (target.workflows_table, target.migrations_table):
            client.describe_table(TableName=table)
    except (BotoCoreError, ClientError) as error:
        raise TargetUnreachable(f"cannot reach the tables of the {target.description} ({error}); {advice}") from error
