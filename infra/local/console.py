"""The operations console's files (``console/``), served by the local API at ``/console/``: the same
origin as the API, so the console calls it without CORS. Its ``config.json`` says the platform is
local (identity from a picker, the local-only pages); in AWS the deployment writes its own."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

CONSOLE_DIRECTORY = Path(__file__).resolve().parents[2] / "console"
PREFIX = "/console"
LOCAL_CONFIG = {"mode": "local"}
# What CloudFront's response headers policy sends in AWS, less the API and sign-in origins (here the
# API is this origin).
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
]
Answer = tuple[int, list[tuple[str, str]], bytes]


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def answer(method: str, path: str) -> Answer:
    """The console file for a GET (or HEAD) of ``/console…``: ``/console`` redirects to ``/console/``
    (so the files' relative addresses resolve; the browser keeps the ``#/…`` page)."""
    if method not in ("GET", "HEAD"):
        return _error(405, "METHOD_NOT_ALLOWED", f"{method} {path}: the console's files are read with GET")
    path = path.split("?", 1)[0]
    if path == PREFIX:
        return 308, [("Location", PREFIX + "/")], b""
    relative = path.removeprefix(PREFIX + "/") or "index.html"
    if relative == "config.json":
        return 200, [("Content-Type", "application/json"), *SECURITY_HEADERS], json.dumps(LOCAL_CONFIG).encode()
    file = (CONSOLE_DIRECTORY / relative).resolve()
    if not file.is_relative_to(CONSOLE_DIRECTORY) or not file.is_file():
        return _error(404, "NOT_FOUND", f"no console file {relative}")
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return 200, [("Content-Type", content_type), *SECURITY_HEADERS], file.read_bytes()


def _error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"error": code, "message": message, "details": []}).encode()
    return status, [("Content-Type", "application/json")], body
