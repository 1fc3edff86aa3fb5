"""``accu``, the platform's operator and developer command: ``accu workflow …``, ``accu batch …``, ``accu migrate …``,
``accu metrics``, ``accu health``, ``accu report daily``, ``accu local …``, ``accu login``/``logout`` (a deployment).
``accu --help`` and each command's ``--help`` say the rest.

Exit status: 0 when the command did what it was asked; 1 when the platform refused it (its error
code and message are printed) or it ran and found problems (a failed verification, refused moves);
2 for a usage error; 3 when the platform cannot be reached.

Shell completion (Click's): ``eval "$(_ACCU_COMPLETE=bash_source accu)"`` (``zsh_source``, ``fish_source``).
"""

from __future__ import annotations

import click

from cli.batch import batch
from cli.local import local
from cli.login import login, logout
from cli.migrate import migrate
from cli.reports import health, metrics, report
from cli.workflow import workflow


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def accu() -> None:
    """Operate the ACCU workflow platform: the local one (make local) by default, or a deployment."""


for command in (workflow, batch, metrics, health, report, migrate, local, login, logout):
    accu.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run ``accu`` with ``argv`` (the process's arguments by default); answers the exit status."""
    try:
        accu.main(args=argv, prog_name="accu", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as error:
        error.show()
        return 2
    except click.exceptions.Abort:
        return 130
    except SystemExit as ended:
        return int(ended.code or 0) if not isinstance(ended.code, str) else 1
    return 0
