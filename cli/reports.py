"""``accu metrics`` and ``accu report daily``: the platform's running totals and its daily reports."""

from __future__ import annotations

import click
from rich.json import JSON

from cli.options import Caller, caller_options
from cli.output import key_values, table


@click.command()
@click.option("--type", "workflow_type", help="only this lifecycle")
@caller_options
def metrics(caller: Caller, workflow_type: str | None) -> None:
    """Workflows by type, status and execution status; failure rate; average execution time."""
    answer = caller.api.call("GET", "/metrics", query={"type": workflow_type})
    statuses = sorted(answer["byExecutionStatus"])
    rows = [
        (name, counts["total"], *(counts["byExecutionStatus"].get(status, 0) for status in statuses))
        for name, counts in sorted(answer["byType"].items())
    ]
    caller.answer(
        answer,
        table(("type", "total", *statuses), rows),
        key_values(
            [
                ("total", answer["total"]),
                ("failure rate", answer["failureRate"]),
                ("average execution (s)", answer["averageExecutionSeconds"]),
            ]
        ),
    )


@click.group()
def report() -> None:
    """The platform's reports."""


@report.command()
@click.argument("date", required=False)
@caller_options
def daily(caller: Caller, date: str | None) -> None:
    """A stored daily report (DATE as YYYY-MM-DD; default: the latest, yesterday's)."""
    if date is None:
        clock = caller.api.request("GET", "/local/clock")
        from datetime import date as calendar
        from datetime import timedelta

        today = calendar.fromisoformat(clock[1]["now"][:10]) if clock[0] == 200 else calendar.today()
        date = (today - timedelta(days=1)).isoformat()
    answer = caller.api.call("GET", f"/reports/daily/{date}")
    caller.answer(answer, f"daily report {date}", JSON.from_data(answer))
