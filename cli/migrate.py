"""``accu migrate``: plan, apply, verify and roll back a migration of the stored states to a schema
version (functions/service/migrations.py), list the runs, and move running workflows to the live
definition (functions/service/moves.py). Local by default (the emulated AWS endpoint), ``--aws`` for a
deployment."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any

import click

from cli.output import ProgressLine, complain, emit
from cli.output import text_table as table
from cli.platform_api import PlatformApi
from cli.target import Target, TargetUnreachable, resolve, target_options
from functions.dal.migrations import MigrationStore
from functions.dal.stepfunctions import DefinitionVersions, Executions
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.schema import registry
from functions.service.migrations import MigrationError, MigrationService
from functions.service.moves import ExecutionMoves
from infra.catalog import routed_statuses

DEFAULT_SEGMENTS = 4
DEFAULT_RATE = 50.0


@click.group()
def migrate() -> None:
    """Migrate stored workflow states to a schema version; move running workflows to a new definition."""


def _scope(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--segments",
        type=click.IntRange(1, 64),
        default=DEFAULT_SEGMENTS,
        show_default=True,
        help="parallel Scan segments",
    )(command)
    command = click.option(
        "--to-version", type=int, help=f"the schema version to reach (default: the current, {registry().current})"
    )(command)
    return click.option("--type", "types", multiple=True, metavar="TYPE", help="only this type (repeatable)")(command)


def _runner(
    label: str, command: Callable[..., dict[str, Any]], text: Callable[[dict[str, Any]], str]
) -> Callable[..., None]:
    """Resolve where, build what the command needs, run it, answer; exit 1 when it found problems."""

    def run(where: Any, output: str, user: str, **arguments: Any) -> None:
        where.user = user
        try:
            target = resolve(where)
            records = MigrationStore(target.client("dynamodb"), target.workflows_table, target.migrations_table)
            progress = ProgressLine(f"migrate {label}")
            try:
                report = command(target, records, progress, user, **arguments)
            finally:
                progress.close()
        except TargetUnreachable as error:
            complain(str(error))
            raise SystemExit(3) from error
        except MigrationError as error:
            complain(str(error))
            raise SystemExit(2) from error
        report["target"] = target.description
        emit(report, output, text(report))
        if not report["ok"]:
            raise SystemExit(1)

    return run


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    command = target_options(command)
    command = click.option(
        "--user",
        envvar="ACCU_USER",
        default=getpass.getuser,
        show_default="the login name",
        help="who acts, as recorded in runs and history (ACCU_USER)",
    )(command)
    return click.option(
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="json for programs, a table for people",
    )(command)


def _service(target: Target, records: MigrationStore, progress: ProgressLine, user: str) -> MigrationService:
    return MigrationService(
        records,
        Executions(target.client("stepfunctions"), {}),
        LIFECYCLES,
        registry(),
        now=target.now,
        actor=user,
        progress=progress,
    )


@migrate.command()
@_scope
@click.option("--sample", type=click.IntRange(0, 100), default=3, show_default=True, help="before/after diffs to show")
@_common
def plan(**arguments: Any) -> None:
    """What would change, by type and from-version, with sample diffs; writes nothing."""
    _runner(
        "plan",
        lambda target, records, progress, user, types, to_version, segments, sample: _service(
            target, records, progress, user
        ).plan(tuple(types), to_version, segments, sample),
        _plan_text,
    )(**arguments)


@migrate.command()
@_scope
@click.option(
    "--rate",
    type=click.FloatRange(0),
    default=DEFAULT_RATE,
    show_default=True,
    help="at most this many writes a second (0: no limit)",
)
@click.option("--run", "run_id", help="resume this interrupted run (with what it was asked)")
@_common
def apply(**arguments: Any) -> None:
    """Back up and migrate every state below the version (resumable, idempotent)."""
    _runner(
        "apply",
        lambda target, records, progress, user, types, to_version, segments, rate, run_id: _service(
            target, records, progress, user
        ).apply(tuple(types), to_version, segments, rate, run_id),
        _apply_text,
    )(**arguments)


@migrate.command()
@click.option("--run", "run_id", required=True)
@_common
def verify(**arguments: Any) -> None:
    """Re-read and check every state a run migrated."""
    _runner(
        "verify",
        lambda target, records, progress, user, run_id: _service(target, records, progress, user).verify(run_id),
        _verify_text,
    )(**arguments)


@migrate.command()
@click.option("--run", "run_id", required=True)
@_common
def rollback(**arguments: Any) -> None:
    """Restore every state a run migrated exactly as it was."""
    _runner(
        "rollback",
        lambda target, records, progress, user, run_id: _service(target, records, progress, user).rollback(run_id),
        _rollback_text,
    )(**arguments)


@migrate.command()
@_common
def runs(**arguments: Any) -> None:
    """The migration runs and their status."""
    _runner(
        "runs",
        lambda target, records, progress, user: {"command": "runs", "ok": True, "runs": records.runs()},
        lambda report: _runs_text(report["runs"]),
    )(**arguments)


@migrate.command()
@click.option("--type", "move_type", required=True, metavar="TYPE", help="the lifecycle whose workflows move")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="OLD=NEW",
    help="go on in NEW where a workflow is in OLD, a status the new definition does not know (repeatable)",
)
@click.option("--dry-run", is_flag=True, help="say what would move where; move nothing")
@click.option("--reason", help="recorded with each move (default: names the version and the run)")
@click.option(
    "--segments", type=click.IntRange(1, 64), default=DEFAULT_SEGMENTS, show_default=True, help="parallel Scan segments"
)
@_common
def move(**arguments: Any) -> None:
    """End running workflows' executions and start them on the live definition."""
    arguments["where"].needs_api = True
    _runner(
        "move",
        lambda target, records, progress, user, move_type, mapping, dry_run, reason, segments: _moves(
            target, records, progress, user
        ).move(move_type, _mapping(list(mapping)), dry_run, segments, reason),
        _move_text,
    )(**arguments)


def _moves(target: Target, records: MigrationStore, progress: ProgressLine, user: str) -> ExecutionMoves:
    return ExecutionMoves(
        records,
        DefinitionVersions(target.client("stepfunctions"), dict(target.live_aliases)),
        PlatformApi(target),
        LIFECYCLES,
        routed_statuses,
        now=target.now,
        actor=user,
        progress=progress,
    )


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, separator, new = pair.partition("=")
        if not separator or not old or not new:
            raise MigrationError(f"--map takes OLD=NEW (two statuses), not {pair!r}")
        mapping[old] = new
    return mapping


def _move_text(report: dict[str, Any]) -> str:
    counts = report["counts"]
    verb = "would move" if report["dryRun"] else "moved"
    lines = [
        f"Move {report['type']} to definition version {report['toDefinitionVersion']}"
        + (" (dry run: nothing moved)" if report["dryRun"] else f", run {report['runId']}"),
        f"{counts['running']} running: {counts['moved'] + counts['wouldMove']} {verb}, {counts['current']} on it "
        f"already, {counts['refused']} refused, {counts['failed']} failed",
    ]
    rows = [
        (
            item["workflowId"],
            item["status"],
            item["toStatus"],
            item["fromDefinitionVersion"] or "-",
            item["outcome"],
            item["reason"],
        )
        for item in report["workflows"]
        if item["outcome"] != "current"
    ]
    if rows:
        lines += ["", table(("workflow", "status", "to status", "from version", "outcome", "why"), rows)]
    return "\n".join(lines)


def _plan_text(report: dict[str, Any]) -> str:
    rows = [
        (workflow_type, version, count)
        for workflow_type, versions in sorted(report["toMigrate"].items())
        for version, count in sorted(versions.items())
    ]
    lines = [
        f"Plan: schema version {report['toVersion']} on the {report['target']} (nothing written)",
        f"{report['scanned']} states scanned, {report['total']} to migrate",
        "",
        table(("type", "from version", "states"), rows) if rows else "Every state is at the version already.",
    ]
    for sample in report["samples"]:
        lines += ["", f"{sample['workflowId']} ({sample['type']}, {sample['fromVersion']} -> {sample['toVersion']})"]
        lines += [f"  {change}" for change in sample["changes"]]
        lines += [f"  {entry['path']}: {entry['before']!r} -> {entry['after']!r}" for entry in sample["diff"]]
    return "\n".join(lines)


def _apply_text(report: dict[str, Any]) -> str:
    if "counts" not in report:
        return report.get("message", "")
    counts = report["counts"]
    rows = [
        (workflow_type, version, count)
        for workflow_type, versions in sorted(report["migratedByType"].items())
        for version, count in sorted(versions.items())
    ]
    lines = [
        f"Run {report['runId']}: {report['status']} (schema version {report['toVersion']}, {report['target']})",
        f"{counts['scanned']} scanned, {counts['migrated']} migrated, {counts['current']} already current, "
        f"{counts['conflicts']} conflicts retried, {counts['gone']} gone, {counts['leftOver']} left over",
    ]
    if rows:
        lines += ["", table(("type", "from version", "migrated"), rows)]
    lines += ["", f"Next: accu migrate verify --run {report['runId']}"]
    return "\n".join(lines)


def _verify_text(report: dict[str, Any]) -> str:
    verdict = "passed" if report["ok"] else "FAILED"
    lines = [f"Verify run {report['runId']}: {verdict}, {report['checked']} checked, {report['failed']} with problems"]
    rows = [(item["workflowId"], problem) for item in report["problems"] for problem in item["problems"]]
    if rows:
        lines += ["", table(("workflow", "problem"), rows)]
    return "\n".join(lines)


def _rollback_text(report: dict[str, Any]) -> str:
    lines = [
        f"Rollback of run {report['runId']}: {report['restored']} restored, "
        f"{report['alreadyRolledBack']} already rolled back, {len(report['conflicts'])} left as they are"
    ]
    if report["conflicts"]:
        lines += [
            "",
            table(("workflow", "problem"), [(item["workflowId"], item["problem"]) for item in report["conflicts"]]),
        ]
    return "\n".join(lines)


def _runs_text(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "No migration runs."
    rows = [
        (
            run["runId"],
            run["command"],
            run["status"],
            run["toVersion"],
            run["counts"]["migrated"],
            run["startedBy"],
            run["startedAt"],
        )
        for run in runs
    ]
    return table(("run", "command", "status", "to version", "migrated/moved", "by", "started"), rows)
