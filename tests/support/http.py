"""What the HTTP-level tests share: an upload through a presigned URL, polling."""

from __future__ import annotations

import hashlib
import time
import urllib.request
from collections.abc import Callable
from typing import Any

Call = Callable[[str, str, Any], tuple[int, Any]]


def upload_file(call: Call, content: bytes, file_name: str) -> dict[str, Any]:
    """Ask for an upload URL and PUT the file there, over HTTP, as a client would; answers the
    file's facts as a document workflow declares them."""
    code, ticket = call(
        "POST",
        "/documents/uploads",
        {"fileName": file_name, "contentType": "application/pdf", "sizeBytes": len(content)},
    )
    assert code == 201, ticket
    request = urllib.request.Request(ticket["uploadUrl"], data=content, method="PUT", headers=ticket["headers"])
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return {
        "fileName": file_name,
        "objectKey": ticket["objectKey"],
        "sha256": hashlib.sha256(content).hexdigest(),
        "sizeBytes": len(content),
    }


def wait_for(
    read: Callable[[], dict[str, Any]], check: Callable[[dict[str, Any]], bool], seconds: float, pause: float = 0.05
) -> dict[str, Any]:
    """Read until ``check`` holds; answers that state. Fails (naming the last state read) when ``seconds``
    pass first: a wait that ends without what it waited for is a failure, never a silent return."""
    deadline = time.monotonic() + seconds
    while True:
        state = read()
        if check(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {seconds} s; last state read: {state}")
        time.sleep(pause)
