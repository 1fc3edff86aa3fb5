"""The local platform's data across restarts (``make local``; ``make local FRESH=1`` starts empty).

What the platform holds lives in moto's memory; this keeps a snapshot of it in one file,
``<state dir>/snapshot.json``: every item of the workflows and idempotency tables (workflows,
histories, kept signals, counters, reports, idempotency records), the documents bucket's files and
the virtual clock's skipped time. E-mails are files in the outbox already. A snapshot is written
when the platform stops and, while it runs, a few seconds after the tables last changed; it is
written to a temporary file and renamed over the last one, so a crash leaves the last complete
snapshot, never half of one.

Executions are not kept (moto's engine holds them as running code): on start, each running workflow
gets an execution again, with the same name, routed to its status, its wait lasting until its
timers are due (they are kept on the workflow, in virtual time).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local import moto_dynamodb

logger = logging.getLogger("accu.local.persistence")
SNAPSHOT = "snapshot.json"
FORMAT = 1


@dataclass(frozen=True)
class Snapshot:
    clock_offset: float
    tables: dict[str, list[dict[str, Any]]]
    files: dict[str, dict[str, dict[str, str]]]

    @property
    def items(self) -> int:
        return sum(len(items) for items in self.tables.values())


class StateDirectory:
    def __init__(self, directory: Path):
        self.directory = directory

    @property
    def path(self) -> Path:
        return self.directory / SNAPSHOT

    def forget(self) -> None:
        """Start empty (FRESH=1): the last snapshot is removed."""
        if self.directory.exists():
            shutil.rmtree(self.directory)

    def write(self, snapshot: Snapshot) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        body = {
            "format": FORMAT,
            "savedAt": time.time(),
            "clockOffset": snapshot.clock_offset,
            "tables": snapshot.tables,
            "files": snapshot.files,
        }
        with temporary.open("w") as handle:
            json.dump(body, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)  # atomic: readers see the old snapshot or the new one

    def read(self) -> Snapshot | None:
        if not self.path.exists():
            return None
        body = json.loads(self.path.read_text())
        if body.get("format") != FORMAT:
            raise RuntimeError(f"{self.path} was written by another version of the platform; FRESH=1 starts empty")
        return Snapshot(float(body["clockOffset"]), body["tables"], body["files"])


class FileCache:
    """The buckets' files as last read, by key and ETag: a snapshot reads only new or changed files."""

    def __init__(self) -> None:
        self._read: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}

    def files(self, s3: Any, bucket: str) -> dict[str, dict[str, str]]:
        files: dict[str, dict[str, str]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                key, etag = entry["Key"], entry.get("ETag", "")
                cached = self._read.get((bucket, key))
                if cached is None or cached[0] != etag:
                    stored = s3.get_object(Bucket=bucket, Key=key)
                    file = {
                        "body": base64.b64encode(stored["Body"].read()).decode(),
                        "contentType": stored.get("ContentType", "application/octet-stream"),
                    }
                    cached = self._read[(bucket, key)] = (etag, file)
                files[key] = cached[1]
        return files


def capture(tables: dict[str, Any], s3: Any, buckets: list[str], clock_offset: float, cache: FileCache) -> Snapshot:
    """The tables' items (as DynamoDB JSON) and the buckets' files. The caller holds the request lock,
    so the snapshot is of one moment: every transaction in it whole or not at all."""
    items = {name: moto_dynamodb.export_items(table) for name, table in tables.items()}
    return Snapshot(clock_offset, items, {bucket: cache.files(s3, bucket) for bucket in buckets})


def restore_files(snapshot: Snapshot, s3: Any) -> int:
    count = 0
    for bucket, files in snapshot.files.items():
        for key, file in files.items():
            s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(file["body"]), ContentType=file["contentType"])
            count += 1
    return count
