"""``accu migrate``: plan, apply, verify and roll back a migration of the stored states to a schema
version (functions/service/migrations.py), and list the runs."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from cli.output import ProgressLine, emit, table
from cli.platform_api import PlatformApi
from cli.target import Target
from functions.dal.migrations import MigrationStore
from functions.dal.stepfunctions import DefinitionVersions, Executions
from functions.domain.lifecycles import LIFECYCLES
from functions.domain.schema import registry
from functions.service.migrations import MigrationError, MigrationService
from functions.service.moves import ExecutionMoves
from infra.catalog import routed_statuses

DEFAULT_SEGMENTS = 4
DEFAULT_RATE = 50.0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser("migrate", help="migrate stored workflow states to a schema version")
    actions = migrate.add_subparsers(dest="action", required=True, metavar="ACTION")

    def scope(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--type", dest="types", action="append", default=[], metavar="TYPE", help="only this type (repeatable)"
        )
        parser.add_argument(
            "--to-version", type=int, help=f"the schema version to reach (default: the current, {registry().current})"
        )
        parser.add_argument(
            "--segments", type=int, default=DEFAULT_SEGMENTS, help="parallel Scan segments (default: %(default)s)"
        )

    plan = actions.add_parser(
        "plan", parents=[common], help="what would change, by type and from-version, with sample diffs; writes nothing"
    )
    scope(plan)
    plan.add_argument(
        "--sample", type=int, default=3, help="how many before/after diffs to show (default: %(default)s)"
    )

    apply = actions.add_parser("apply", parents=[common], help="back up and migrate every state below the version")
    scope(apply)
    apply.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="at most this many writes a second (0: no limit; default: %(default)s)",
    )
    apply.add_argument("--run", dest="run_id", help="resume this interrupted run (with what it was asked)")

    verify = actions.add_parser("verify", parents=[common], help="re-read and check every state a run migrated")
    verify.add_argument("--run", dest="run_id", required=True)

    rollback = actions.add_parser(
        "rollback", parents=[common], help="restore every state a run migrated exactly as it was"
    )
    rollback.add_argument("--run", dest="run_id", required=True)

    actions.add_parser("runs", parents=[common], help="the migration runs and their status")

    move = actions.add_parser(
        "move", parents=[common], help="end running workflows' executions and start them on the live definition"
    )
    move.add_argument(
        "--type", dest="move_type", required=True, metavar="TYPE", help="the lifecycle whose workflows move"
    )
    move.add_argument(
        "--map",
        dest="mapping",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="go on in NEW where a workflow is in OLD, a status the new definition does not know (repeatable)",
    )
    move.add_argument("--dry-run", action="store_true", help="say what would move where; move nothing")
    move.add_argument("--reason", help="recorded with each move (default: names the version and the run)")
    move.add_argument(
        "--segments", type=int, default=DEFAULT_SEGMENTS, help="parallel Scan segments (default: %(default)s)"
    )
    move.set_defaults(needs_api=True)


def run(options: argparse.Namespace, target: Target) -> int:
    records = MigrationStore(target.client("dynamodb"), target.workflows_table, target.migrations_table)
    progress = ProgressLine(f"migrate {options.action}")
    service = MigrationService(
        records,
        Executions(target.client("stepfunctions"), {}),
        LIFECYCLES,
        registry(),
        now=target.now,
        actor=options.user or getpass.getuser(),
        progress=progress,
    )
    try:
        if options.action == "move":
            report = _moves(options, target, records, progress).move(
                options.move_type, _mapping(options.mapping), options.dry_run, options.segments, options.reason
            )
        elif options.action == "runs":
            runs = records.runs()
            report = {"command": "runs", "ok": True, "runs": runs}
            emit(report, options.output, _runs_text(runs))
            return 0
        elif options.action == "plan":
            report = service.plan(tuple(options.types), options.to_version, options.segments, options.sample)
        elif options.action == "apply":
            report = service.apply(
                tuple(options.types), options.to_version, options.segments, options.rate, options.run_id
            )
        elif options.action == "verify":
            report = service.verify(options.run_id)
        else:
            report = service.rollback(options.run_id)
    finally:
        progress.close()
    report["target"] = target.description
    emit(report, options.output, TEXT[options.action](report))
    return 0 if report["ok"] else 1


def _moves(
    options: argparse.Namespace, target: Target, records: MigrationStore, progress: ProgressLine
) -> ExecutionMoves:
    return ExecutionMoves(
        records,
        DefinitionVersions(target.client("stepfunctions"), dict(target.live_aliases)),
        PlatformApi(target),
        LIFECYCLES,
        routed_statuses,
        now=target.now,
        actor=options.user or getpass.getuser(),
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


TEXT = {
    "move": _move_text,
    "plan": _plan_text,
    "apply": _apply_text,
    "verify": _verify_text,
    "rollback": _rollback_text,
}
