"""``accu workflow``: the REST API's workflow routes, one command each."""

from __future__ import annotations

from typing import Any

import click
from rich.json import JSON

from cli.options import Caller, caller_options, json_argument, pages
from cli.output import key_values, table

STATE_COLUMNS = ("workflowId", "type", "status", "executionStatus", "escalationLevel", "startedBy", "startTime")


@click.group()
def workflow() -> None:
    """Start, read, list and act on workflows (the REST API's routes)."""


# What every workflow's state has; the rest are its lifecycle's fields.
COMMON_KEYS = frozenset(
    {
        *STATE_COLUMNS,
        "schemaVersion",
        "closeTime",
        "lastProgressAt",
        "historyLength",
        "version",
        "metadata",
        "retryCount",
        "input",
        "failure",
        "awaiting",
    }
)


def _state(caller: Caller, state: dict[str, Any]) -> None:
    if "queued" in state:  # a kept signal (202)
        if caller.output == "json":
            caller.answer(state)
            return
        caller.answer(state, f"kept as signal {state['signalSequence']}: {state['message']}")
        state = state["workflow"]
    rows = [
        *((key, state.get(key)) for key in (*STATE_COLUMNS, "lastProgressAt", "closeTime", "version")),
        ("awaiting", ", ".join(state.get("awaiting", [])) or "-"),
    ]
    fields = {key: value for key, value in state.items() if key not in COMMON_KEYS and value is not None}
    documents = [
        ("input", state.get("input")),
        ("fields", fields),
        ("metadata", state.get("metadata")),
        ("failure", state.get("failure")),
    ]
    caller.answer(
        state,
        key_values(rows, title=f"{state['type']} {state['workflowId']}"),
        *(item for name, value in documents if value for item in (f"{name}:", JSON.from_data(value))),
    )


@workflow.command()
@click.argument("workflow_type", metavar="TYPE")
@click.option("--id", "workflow_id", help="the workflow's id (unique on the platform); generated if absent")
@click.option("--input", "input_json", help='the start input as JSON, or @file.json: {"projectId": ...}')
@caller_options
def start(caller: Caller, workflow_type: str, workflow_id: str | None, input_json: str | None) -> None:
    """Start a workflow of TYPE."""
    body = {"type": workflow_type, "input": json_argument(input_json, "--input") or {}}
    if workflow_id:
        body["workflowId"] = workflow_id
    _state(caller, caller.api.call("POST", "/workflows", body))


@workflow.command()
@click.argument("workflow_id")
@caller_options
def show(caller: Caller, workflow_id: str) -> None:
    """A workflow's state and the signals it awaits."""
    _state(caller, caller.api.call("GET", f"/workflows/{workflow_id}"))


@workflow.command()
@click.argument("workflow_id")
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("--next-token", help="continue a listing where a page ended")
@click.option("--all", "follow", is_flag=True, help="every page")
@caller_options
def history(caller: Caller, workflow_id: str, limit: int, next_token: str | None, follow: bool) -> None:
    """A workflow's history, oldest first."""
    page = pages(caller, f"/workflows/{workflow_id}/history", {"limit": limit, "nextToken": next_token}, follow)
    rows = [
        (
            e["sequence"],
            e["time"],
            e["type"],
            e.get("signal") or "",
            f"{e.get('fromStatus') or ''} → {e['toStatus'] or ''}",
            e["actor"],
        )
        for e in page["items"]
    ]
    caller.answer(
        page,
        table(("#", "time", "type", "signal", "status", "actor"), rows, title=f"history of {workflow_id}"),
        *((f"more: --next-token {page['nextToken']}",) if page["nextToken"] else ()),
    )


@workflow.command(name="list")
@click.option("--type", "workflow_type", help="only this lifecycle")
@click.option("--status", help="only in this status")
@click.option("--execution-status", type=click.Choice(["RUNNING", "COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"]))
@click.option("--started-after", help="ISO-8601, inclusive")
@click.option("--started-before", help="ISO-8601, exclusive")
@click.option("--escalated", is_flag=True, help="only the running workflows that were escalated")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--next-token", help="continue a listing where a page ended")
@click.option("--all", "follow", is_flag=True, help="every page (follows nextToken)")
@caller_options
def list_workflows(
    caller: Caller,
    workflow_type: str | None,
    status: str | None,
    execution_status: str | None,
    started_after: str | None,
    started_before: str | None,
    escalated: bool,
    limit: int,
    next_token: str | None,
    follow: bool,
) -> None:
    """Workflows, newest first, filtered as the API filters."""
    query = {
        "type": workflow_type,
        "status": status,
        "executionStatus": execution_status,
        "startedAfter": started_after,
        "startedBefore": started_before,
        "escalated": "true" if escalated else None,
        "limit": limit,
        "nextToken": next_token,
    }
    page = pages(caller, "/workflows", query, follow)
    rows = [[item.get(key) for key in STATE_COLUMNS] for item in page["items"]]
    caller.answer(
        page,
        table(("id", "type", "status", "execution", "level", "started by", "started"), rows),
        *((f"more: --next-token {page['nextToken']}",) if page["nextToken"] else ()),
    )


@workflow.command()
@click.argument("workflow_id")
@click.argument("signal_name", metavar="SIGNAL")
@click.option("--payload", help="the signal's payload as JSON, or @file.json")
@caller_options
def signal(caller: Caller, workflow_id: str, signal_name: str, payload: str | None) -> None:
    """Send SIGNAL to a workflow."""
    body = json_argument(payload, "--payload") or {}
    _state(caller, caller.api.call("POST", f"/workflows/{workflow_id}/signals/{signal_name}", body))


@workflow.command()
@click.argument("workflow_id")
@click.option("--reason", required=True)
@caller_options
def terminate(caller: Caller, workflow_id: str, reason: str) -> None:
    """End a running workflow (operators)."""
    _state(caller, caller.api.call("POST", f"/workflows/{workflow_id}/terminate", {"reason": reason}))


@workflow.command()
@click.argument("workflow_id")
@click.option("--reason")
@caller_options
def retry(caller: Caller, workflow_id: str, reason: str | None) -> None:
    """Run a failed, timed-out or terminated workflow again from its last state (operators)."""
    body = {"reason": reason} if reason else {}
    _state(caller, caller.api.call("POST", f"/workflows/{workflow_id}/retry", body))


@workflow.command()
@click.argument("workflow_id")
@click.option("--reason", required=True)
@click.option("--level", type=click.IntRange(1, 10), help="the level to set (default: one up)")
@caller_options
def escalate(caller: Caller, workflow_id: str, reason: str, level: int | None) -> None:
    """Hand a workflow to people: the escalation level rises, they are told (operators)."""
    body: dict[str, Any] = {"reason": reason, **({"level": level} if level else {})}
    _state(caller, caller.api.call("POST", f"/workflows/{workflow_id}/escalate", body))


@workflow.command()
@click.argument("workflow_id")
@click.argument(
    "action", type=click.Choice(["signal", "terminate", "retry", "escalate", "patchMetadata", "moveExecution"])
)
@click.option("--reason", required=True, help="recorded in the history with the operator")
@click.option("--signal", "signal_name", help="signal: the signal to send")
@click.option("--payload", help="signal: its payload as JSON")
@click.option("--level", type=click.IntRange(1, 10), help="escalate: the level to set")
@click.option("--metadata", help="patchMetadata: a JSON merge patch")
@click.option("--status", help="moveExecution: the status to go on in")
@caller_options
def intervene(
    caller: Caller,
    workflow_id: str,
    action: str,
    reason: str,
    signal_name: str | None,
    payload: str | None,
    level: int | None,
    metadata: str | None,
    status: str | None,
) -> None:
    """An audited manual intervention (operators)."""
    body: dict[str, Any] = {"action": action, "reason": reason}
    extras = {
        "signal": signal_name,
        "payload": json_argument(payload, "--payload"),
        "level": level,
        "metadata": json_argument(metadata, "--metadata"),
        "status": status,
    }
    body.update({key: value for key, value in extras.items() if value is not None})
    _state(caller, caller.api.call("POST", f"/workflows/{workflow_id}/interventions", body))
