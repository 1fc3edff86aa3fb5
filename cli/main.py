"""The ``accu`` command: ``accu [where] [--output json] migrate plan|apply|verify|rollback|runs``.

Exit status: 0 when the command did what it was asked, 1 when it ran and found problems (a failed
verification, states left as they were), 2 for a usage error, 3 when the platform cannot be reached.
"""

from __future__ import annotations

import argparse
import sys

from cli import migrate
from cli.target import TargetUnreachable, add_options, resolve
from functions.service.migrations import MigrationError


def common_options() -> argparse.ArgumentParser:
    """Options every command takes, after its name: how to answer, who acts, where."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", choices=("table", "json"), default="table", help="answer format (default: table)")
    common.add_argument("--user", help="who acts, as recorded in runs and history (default: the login name)")
    add_options(common)
    return common


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="accu", description="Operate the ACCU workflow platform (local or AWS).")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    migrate.add_commands(commands, common_options())
    return root


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    try:
        target = resolve(options)
        return migrate.run(options, target)
    except TargetUnreachable as error:
        print(f"accu: {error}", file=sys.stderr)
        return 3
    except MigrationError as error:
        print(f"accu: {error}", file=sys.stderr)
        return 2
