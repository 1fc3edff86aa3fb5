"""How a command answers: JSON for programs (``--output json``), Rich tables for people; progress and
errors go to standard error, so that standard output is the answer alone."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

# Where the answer goes to a file or a pipe (no terminal to fit), tables are this wide, so that nothing
# is cut short.
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    # Made when used: whoever runs the command (a test, a pipe) may have replaced the streams.
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(file=stream, soft_wrap=True, highlight=False, width=width)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Table:
    shown = Table(*headers, title=title, title_justify="left", show_edge=False, pad_edge=False)
    for row in rows:
        shown.add_row(*("" if cell is None else str(cell) for cell in row))
    return shown


def key_values(rows: Sequence[tuple[str, Any]], title: str | None = None) -> Table:
    shown = Table(show_header=False, title=title, title_justify="left", show_edge=False, pad_edge=False, box=None)
    shown.add_column(style="bold")
    shown.add_column()
    for key, value in rows:
        shown.add_row(key, "" if value is None else str(value))
    return shown


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain table (columns padded, a rule under the headers), for answers made of lines."""
    cells = [
        [str(header) for header in headers],
        *[["" if cell is None else str(cell) for cell in row] for row in rows],
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def emit(report: Any, output: str, *renderables: Any) -> None:
    """The answer: ``report`` as JSON, or the renderables (text, tables) one after the other."""
    if output == "json":
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
        return
    out = console()
    for renderable in renderables:
        # Text is printed as it is (a status list in brackets is no markup).
        out.print(renderable, markup=False) if isinstance(renderable, str) else out.print(renderable)


def complain(message: str) -> None:
    console(stderr=True).print(f"[bold red]accu:[/] {message}", markup=True, highlight=False)


class ProgressLine:
    """Counts on one line of standard error while a command works, when that is a terminal."""

    def __init__(self, label: str):
        self.label = label
        self.console = console(stderr=True)
        self.enabled = self.console.is_terminal
        self.status: Any = None

    def __call__(self, counts: dict[str, Any]) -> None:
        if not self.enabled:
            return
        summary = ", ".join(f"{name} {value}" for name, value in counts.items())
        if self.status is None:
            self.status = self.console.status(f"{self.label}: {summary}")
            self.status.start()
        else:
            self.status.update(f"{self.label}: {summary}")

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
