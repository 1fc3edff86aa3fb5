"""``accu migrate``: plan, apply, verify and roll back a migration of the stored states to a schema
version (functions/service/migrations.py), list the runs, and move running workflows to the live
definition (functions/service/moves.py). Local by default (the emulated AWS endpoint), ``--aws`` for a
deployment."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from cli.api import ApiError, ApiUnreachable, PlatformApi
from cli.output import ProgressLine, complain, emit
from cli.output import text_table as table
from cli.sessions import SignInExpired
from cli.target import Target, TargetUnreachable, resolve, target_options
from functions.dal.migrations import MigrationStore
from functions.dal.stepfunctions import DefinitionVersions, Executions
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.schema import registry
from functions.service.migrations import MigrationError, MigrationService
from functions.service.moves import ExecutionMoves, MoveRefused
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


@dataclass
class _Session:
    """Where a migration command acts and what it acts through."""

    target: Target
    records: MigrationStore
    progress: ProgressLine
    user: str

    def migrations(self) -> MigrationService:
        return MigrationService(
            self.records,
            Executions(self.target.client("stepfunctions"), {}),
            LIFECYCLES,
            registry(),
            now=self.target.now,
            actor=self.user,
            progress=self.progress,
        )

    def moves(self) -> ExecutionMoves:
        if self.target.api is None:
            raise TargetUnreachable(f"the REST API of the {self.target.description} is not known")
        return ExecutionMoves(
            self.records,
            DefinitionVersions(self.target.client("stepfunctions"), dict(self.target.live_aliases)),
            InterventionMover(self.target.api),
            LIFECYCLES,
            routed_statuses,
            now=self.target.now,
            actor=self.user,
            progress=self.progress,
        )


class InterventionMover:
    """Moves a workflow as the platform's own operator intervention ``moveExecution``."""

    def __init__(self, api: PlatformApi):
        self.api = api

    def move(self, workflow_id: str, status: str, reason: str, from_version: int | None, to_version: int) -> None:
        body = {
            "action": "moveExecution",
            "reason": reason,
            "status": status,
            "fromDefinitionVersion": from_version,
            "toDefinitionVersion": to_version,
        }
        try:
            self.api.call("POST", f"/workflows/{workflow_id}/interventions", body)
        except ApiError as refused:
            raise MoveRefused(str(refused)) from refused
        except ApiUnreachable as error:
            raise TargetUnreachable(str(error)) from error


def _run(
    label: str,
    text: Callable[[dict[str, Any]], str],
    where: Any,
    output: str,
    user: str,
    act: Callable[[_Session], dict[str, Any]],
) -> None:
    """Resolve where, run the command, answer; exit 1 when it found problems, 2 when it cannot be done,
    3 when the platform cannot be reached."""
    where.user = user
    try:
        target = resolve(where)
        session = _Session(
            target,
            MigrationStore(target.client("dynamodb"), target.workflows_table, target.migrations_table),
            ProgressLine(f"migrate {label}"),
            user,
        )
        try:
            report = act(session)
        finally:
            session.progress.close()
    except TargetUnreachable as error:
        complain(str(error))
        raise SystemExit(3) from error
    except MigrationError as error:
        complain(str(error))
        raise SystemExit(2) from error
    except SignInExpired as error:
        complain(str(error))
        raise SystemExit(1) from error
    report["target"] = target.description
    emit(report, output, text(report))
    if not report["ok"]:
        raise SystemExit(1)


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


@migrate.command()
@_scope
@click.option("--sample", type=click.IntRange(0, 100), default=3, show_default=True, help="before/after diffs to show")
@_common
def plan(
    where: Any, output: str, user: str, types: tuple[str, ...], to_version: int | None, segments: int, sample: int
) -> None:
    """What would change, by type and from-version, with sample diffs; writes nothing."""
    _run(
        "plan",
        _plan_text,
        where,
        output,
        user,
        lambda session: session.migrations().plan(types, to_version, segments, sample),
    )


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
def apply(
    where: Any,
    output: str,
    user: str,
    types: tuple[str, ...],
    to_version: int | None,
    segments: int,
    rate: float,
    run_id: str | None,
) -> None:
    """Back up and migrate every state below the version (resumable, idempotent)."""
    _run(
        "apply",
        _apply_text,
        where,
        output,
        user,
        lambda session: session.migrations().apply(types, to_version, segments, rate, run_id),
    )


@migrate.command()
@click.option("--run", "run_id", required=True)
@_common
def verify(where: Any, output: str, user: str, run_id: str) -> None:
    """Re-read and check every state a run migrated."""
    _run("verify", _verify_text, where, output, user, lambda session: session.migrations().verify(run_id))


@migrate.command()
@click.option("--run", "run_id", required=True)
@_common
def rollback(where: Any, output: str, user: str, run_id: str) -> None:
    """Restore every state a run migrated exactly as it was."""
    _run("rollback", _rollback_text, where, output, user, lambda session: session.migrations().rollback(run_id))


@migrate.command()
@_common
def runs(where: Any, output: str, user: str) -> None:
    """The migration runs and their status."""
    _run(
        "runs",
        lambda report: _runs_text(report["runs"]),
        where,
        output,
        user,
        lambda session: {"command": "runs", "ok": True, "runs": session.records.runs()},
    )


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
def move(
    where: Any,
    output: str,
    user: str,
    move_type: str,
    mapping: tuple[str, ...],
    dry_run: bool,
    reason: str | None,
    segments: int,
) -> None:
    """End running workflows' executions and start them on the live definition."""
    where.needs_api = True
    _run(
        "move",
        _move_text,
        where,
        output,
        user,
        lambda session: session.moves().move(move_type, _mapping(list(mapping)), dry_run, segments, reason),
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
