"""How a command answers: JSON for programs (``--output json``), readable text by default; progress
goes to standard error, so that standard output is the answer alone."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [
        [str(header) for header in headers],
        *[["" if cell is None else str(cell) for cell in row] for row in rows],
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def emit(report: dict[str, Any], output: str, text: str, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout  # looked up now: whoever runs the command may have replaced it
    if output == "json":
        stream.write(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    else:
        stream.write(text.rstrip() + "\n")


class ProgressLine:
    """Counts on one line of standard error, at most a few times a second; nothing unless it is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, every_seconds: float = 0.5):
        self.label = label
        self.stream = stream or sys.stderr
        self.every_seconds = every_seconds
        self.shown_at = 0.0
        self.enabled = self.stream.isatty()

    def __call__(self, counts: dict[str, Any]) -> None:
        if not self.enabled or time.monotonic() - self.shown_at < self.every_seconds:
            return
        self.shown_at = time.monotonic()
        summary = ", ".join(f"{name} {value}" for name, value in counts.items())
        self.stream.write(f"\r{self.label}: {summary}\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.shown_at:
            self.stream.write("\n")
