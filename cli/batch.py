"""``accu batch``: batch operations run by the platform (``POST /batches``): one action on every workflow
a filter matches, followed with a progress bar; status, cancel, resume and the list of batches."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.options import Caller, caller_options, json_argument, pages
from cli.output import console, key_values, table

ACTIONS = ("signal", "terminate", "retry", "escalate")
BATCH_COLUMNS = ("batchId", "action", "state", "matched", "applied", "skipped", "failed", "createdBy", "createdAt")
POLL_SECONDS = 0.5


@click.group()
def batch() -> None:
    """Batch operations: one action on every workflow a filter matches, run by the platform at a rate."""


def _show(caller: Caller, answer: dict[str, Any]) -> None:
    wanted = ", ".join(f"{key}={value}" for key, value in answer["filter"].items() if value is not None)
    skipped = ", ".join(f"{code} {count}" for code, count in sorted(answer["skippedReasons"].items()))
    action = answer["action"] + (f" {answer['signal']}" if answer.get("signal") else "")
    rows = [
        ("action", action + (" (dry run)" if answer["dryRun"] else "")),
        ("filter", wanted),
        ("reason", answer["reason"]),
        (
            "state",
            answer["state"]
            + (" (cancel requested)" if answer["cancelRequested"] and answer["state"] == "RUNNING" else ""),
        ),
        ("phase", answer["phase"]),
        ("matched", answer["matched"]),
        ("applied", f"{answer['applied']}" + (f" ({answer['kept']} kept for the next wait)" if answer["kept"] else "")),
        ("skipped", f"{answer['skipped']}" + (f" ({skipped})" if skipped else "")),
        ("failed", answer["failed"]),
        ("rate", f"{answer['ratePerSecond']}/s"),
        ("created", f"{answer['createdAt']} by {answer['createdBy']}"),
        ("finished", answer.get("finishedAt")),
        ("error", answer.get("error")),
    ]
    renderables: list[Any] = [key_values([row for row in rows if row[1] not in (None, "")], title=answer["batchId"])]
    if answer["dryRun"] and answer["sample"]:
        renderables += ["sample:", ", ".join(answer["sample"])]
    failures = answer.get("failures") or []
    if failures:
        renderables.append(
            table(
                ("workflowId", "code", "message"),
                [(f["workflowId"], f.get("code"), f.get("message")) for f in failures],
                title="failures",
            )
        )
    caller.answer(answer, *renderables)


def _follow(caller: Caller, batch_id: str) -> dict[str, Any]:
    """Poll the batch until it ends, with a progress bar on standard error when that is a terminal."""
    err = console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("applied {task.fields[applied]} skipped {task.fields[skipped]} failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=False,
    ) as progress:
        task = progress.add_task(batch_id, total=None, applied=0, skipped=0, failed=0)
        while True:
            answer = caller.api.call("GET", f"/batches/{batch_id}")
            counting = answer["phase"] == "COUNTING" and answer["state"] == "RUNNING"
            progress.update(
                task,
                description=f"{batch_id} {'counting' if counting else answer['state'].lower()}",
                total=None if counting else max(answer["matched"], 1),
                completed=answer["matched"] if answer["dryRun"] else answer["processed"],
                applied=answer["applied"],
                skipped=answer["skipped"],
                failed=answer["failed"],
            )
            if answer["state"] != "RUNNING":
                return answer
            time.sleep(POLL_SECONDS)


def _outcome(caller: Caller, answer: dict[str, Any]) -> None:
    """The batch as it ended; exit status 1 when it failed or failed on a workflow."""
    _show(caller, answer)
    if answer["state"] == "FAILED" or answer["failed"]:
        raise SystemExit(1)


@batch.command()
@click.argument("action", type=click.Choice(ACTIONS))
@click.option("--type", "workflow_type", help="the lifecycle (needed for signal)")
@click.option("--status", help="a status of that lifecycle")
@click.option("--execution-status", type=click.Choice(("RUNNING", "COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT")))
@click.option("--started-after", help="inclusive, RFC 3339 date-time")
@click.option("--started-before", help="exclusive, RFC 3339 date-time (at most now)")
@click.option("--signal", "signal_name", help="the signal to send (action signal)")
@click.option("--payload", "payload_json", help="the signal's payload as JSON, or @file.json")
@click.option("--reason", required=True, help="why: kept in each workflow's history")
@click.option("--rate", "rate", type=click.IntRange(1, 100), default=20, show_default=True, help="workflows per second")
@click.option("--dry-run", is_flag=True, help="count and sample the matching workflows; change nothing")
@click.option("--yes", is_flag=True, help="do not ask: start at once (needed without a terminal)")
@click.option("--no-wait", is_flag=True, help="answer the started batch; do not follow it")
@caller_options
def start(
    caller: Caller,
    action: str,
    workflow_type: str | None,
    status: str | None,
    execution_status: str | None,
    started_after: str | None,
    started_before: str | None,
    signal_name: str | None,
    payload_json: str | None,
    reason: str,
    rate: int,
    dry_run: bool,
    yes: bool,
    no_wait: bool,
) -> None:
    """Start a batch: ACTION (signal, terminate, retry, escalate) on every workflow the filter matches.

    Unless --dry-run or --yes, it first counts what matches (a dry run) and asks before changing anything.
    """
    wanted = {
        "type": workflow_type,
        "status": status,
        "executionStatus": execution_status,
        "startedAfter": started_after,
        "startedBefore": started_before,
    }
    request: dict[str, Any] = {
        "action": action,
        "filter": {key: value for key, value in wanted.items() if value is not None},
        "reason": reason,
        "ratePerSecond": rate,
    }
    if signal_name is not None:
        request["signal"] = signal_name
    if payload_json is not None:
        request["payload"] = json_argument(payload_json, "--payload")
    if not dry_run and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("without a terminal to confirm on, say --yes (or --dry-run first)")
        counted = _follow(caller, caller.api.call("POST", "/batches", {**request, "dryRun": True})["batchId"])
        click.confirm(
            f"{action} {counted['matched']} workflows (e.g. {', '.join(counted['sample'][:5])})?", abort=True, err=True
        )
    started = caller.api.call("POST", "/batches", {**request, "dryRun": dry_run})
    if no_wait:
        _show(caller, started)
        return
    _outcome(caller, _follow(caller, started["batchId"]))


@batch.command()
@click.argument("batch_id", metavar="BATCH_ID")
@click.option("--follow", is_flag=True, help="follow it with a progress bar until it ends")
@caller_options
def status(caller: Caller, batch_id: str, follow: bool) -> None:
    """A batch's state, counts (skipped by reason) and the workflows it failed on."""
    if follow:
        _follow(caller, batch_id)
    _outcome(caller, caller.api.call("GET", f"/batches/{batch_id}"))


@batch.command()
@click.argument("batch_id", metavar="BATCH_ID")
@click.option("--no-wait", is_flag=True, help="answer at once; do not wait for it to stop")
@caller_options
def cancel(caller: Caller, batch_id: str, no_wait: bool) -> None:
    """Cancel a running batch: it stops within seconds; what it changed stays."""
    answer = caller.api.call("POST", f"/batches/{batch_id}/cancel")
    _show(caller, answer if no_wait else _follow(caller, batch_id))


@batch.command()
@click.argument("batch_id", metavar="BATCH_ID")
@click.option("--no-wait", is_flag=True, help="answer the resumed batch; do not follow it")
@caller_options
def resume(caller: Caller, batch_id: str, no_wait: bool) -> None:
    """Resume a FAILED batch where it stopped (what it changed is not changed again)."""
    answer = caller.api.call("POST", f"/batches/{batch_id}/resume")
    if no_wait:
        _show(caller, answer)
        return
    _outcome(caller, _follow(caller, batch_id))


@batch.command(name="list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--all", "follow", is_flag=True, help="every batch (follows nextToken)")
@caller_options
def list_batches(caller: Caller, limit: int, follow: bool) -> None:
    """Batches, newest first."""
    answer = pages(caller, "/batches", {"limit": limit}, follow)
    rows = [[item.get(key) for key in BATCH_COLUMNS] for item in answer["items"]]
    caller.answer(answer, table(BATCH_COLUMNS, rows))
