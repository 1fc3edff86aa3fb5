"""``accu local``: the local platform's own routes (never deployed): its virtual clock, injected faults,
schedules, published events and loaded definitions."""

from __future__ import annotations

import re
from typing import Any

import click
from rich.json import JSON

from cli.options import Caller, caller_options, json_argument
from cli.output import key_values, table

_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def duration_seconds(text: str) -> float:
    """``14d``, ``3h``, ``1d12h``, ``90s`` (or a number of seconds) as seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise click.BadParameter(f"{text!r} is not a duration like 14d, 3h, 1d12h, 90s", param_hint="DURATION")
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


@click.group()
def local() -> None:
    """The local platform's clock, faults, schedules, events and definitions (make local only)."""


@local.group(invoke_without_command=True)
@caller_options
def clock(caller: Caller) -> None:
    """The virtual clock: its time, skipped time and next timers; ``advance DURATION`` skips time."""
    if click.get_current_context().invoked_subcommand is None:
        now = caller.api.call("GET", "/local/clock")
        caller.answer(now, key_values([(key, now[key]) for key in ("now", "offsetSeconds", "pendingTimerCount")]))


@clock.command()
@click.argument("duration")
@caller_options
def advance(caller: Caller, duration: str) -> None:
    """Skip DURATION (14d, 3h, 1d12h, 90s): every timer and schedule due meanwhile fires, in order."""
    answer = caller.api.call("POST", "/local/clock/advance", {"seconds": duration_seconds(duration)})
    caller.answer(answer, f"now {answer['now']} (+{answer['advancedSeconds']:g} s)")


@local.command()
@click.option(
    "--add", "fault", help='a fault to inject, as JSON: {"activity": "OpenWait", "count": 1, "kind": "transient"}'
)
@click.option("--clear", is_flag=True, help="remove every fault")
@caller_options
def faults(caller: Caller, fault: str | None, clear: bool) -> None:
    """The injected faults with their hits; --add one, or --clear them."""
    if clear:
        answer = caller.api.call("DELETE", "/local/faults")
    elif fault:
        answer = caller.api.call("POST", "/local/faults", json_argument(fault, "--add"))
    else:
        answer = caller.api.call("GET", "/local/faults")
    caller.answer(answer, JSON.from_data(answer["items"]) if answer["items"] else "no faults")


@local.command()
@click.argument("run_name", metavar="[run NAME]", nargs=-1)
@caller_options
def schedules(caller: Caller, run_name: tuple[str, ...]) -> None:
    """The schedules and when each runs next; ``run NAME`` runs one now."""
    if run_name:
        if len(run_name) != 2 or run_name[0] != "run":
            raise click.UsageError("accu local schedules [run NAME]")
        answer = caller.api.call("POST", f"/local/schedules/{run_name[1]}")
        caller.answer(answer, JSON.from_data(answer))
        return
    answer = caller.api.call("GET", "/local/schedules")
    items: list[dict[str, Any]] = answer["items"]
    columns = sorted({key for item in items for key in item}, key=lambda key: (key != "schedule", key))
    caller.answer(answer, table(columns, [[item.get(column) for column in columns] for item in items]))


@local.command()
@click.option("--detail-type", help="only events of this detail-type (Workflow Started, ...)")
@click.option("--workflow", "workflow_id", help="only this workflow's events")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@caller_options
def events(caller: Caller, detail_type: str | None, workflow_id: str | None, limit: int) -> None:
    """The domain events published on the bus, newest last."""
    answer = caller.api.call(
        "GET", "/local/events", query={"detailType": detail_type, "workflowId": workflow_id, "limit": limit}
    )
    rows = [
        (
            event.get("time"),
            event.get("detail-type"),
            event["detail"].get("workflowId"),
            event["detail"].get("toStatus"),
        )
        for event in answer["items"]
    ]
    caller.answer(answer, table(("time", "detail-type", "workflow", "status"), rows), f"{answer['total']} in all")


@local.command()
@click.argument("workflow_type", metavar="[TYPE]", required=False)
@click.option(
    "--definition", help="with TYPE: the ASL to load (JSON or @file); default the catalog's file as it is now"
)
@caller_options
def definitions(caller: Caller, workflow_type: str | None, definition: str | None) -> None:
    """What each live alias routes to; with TYPE, load a definition as its next version (as a deploy does)."""
    if workflow_type:
        body = {"definition": json_argument(definition, "--definition")} if definition else {}
        answer = caller.api.call("POST", f"/local/definitions/{workflow_type}", body)
        answers = {workflow_type: answer}
    else:
        answers = caller.api.call("GET", "/local/definitions")
    rows = [
        (name, ", ".join(f"version {route['version']} ({route['weight']} %)" for route in item["live"]))
        for name, item in sorted(answers.items())
    ]
    caller.answer(answers, table(("type", "live"), rows))
