"""``accu metrics``, ``accu health`` and ``accu report daily``: the platform's running totals, its health
checks against their thresholds, and its daily reports."""

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


@click.command()
@caller_options
def health(caller: Caller) -> None:
    """The health checks against their thresholds, now (what the HealthCheck schedule alerts on; this reads
    only). Exits 1 when a check fails, so a script can act on it."""
    answer = caller.api.call("GET", "/operations/health")
    verdict = {True: "ok", False: "FAILS"}
    rows = [
        (check["check"], check["value"], f"{check['comparison']} {check['threshold']}", verdict[check["ok"]])
        for check in answer["checks"]
    ]
    stalled = [(w["workflowId"], w["type"], w["status"], w["lastProgressAt"]) for w in answer["stalled"]]
    caller.answer(
        answer,
        table(("check", "now", "threshold", ""), rows),
        table(("stalled", "type", "status", "last progress"), stalled) if stalled else "no stalled workflow",
    )
    if not answer["healthy"]:
        raise SystemExit(1)


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
