"""The local platform serves the console's files at /console/ (the same origin as the API): the
page, its modules with the right types, a local config, and nothing outside console/."""

from __future__ import annotations

import json

import pytest

from infra.local import console


def test_the_console_address_without_a_slash_redirects_to_the_folder():
    status, headers, _ = console.answer("GET", "/console")
    assert status == 308 and ("Location", "/console/") in headers


@pytest.mark.parametrize(
    "path, content_type",
    [("/console/", "text/html"), ("/console/js/app.js", "text/javascript"), ("/console/console.css", "text/css")],
)
def test_files_are_served_with_their_type_and_the_security_headers(path, content_type):
    status, headers, body = console.answer("GET", path)
    values = dict(headers)
    assert status == 200 and body
    assert values["Content-Type"].startswith(content_type)
    assert "script-src 'self'" in values["Content-Security-Policy"]


def test_the_config_says_the_platform_is_local():
    status, _, body = console.answer("GET", "/console/config.json")
    assert status == 200 and json.loads(body) == {"mode": "local"}


@pytest.mark.parametrize("path", ["/console/../infra/local/server.py", "/console/%2e%2e/Makefile", "/console/nope.js"])
def test_nothing_outside_the_console_folder_is_served(path):
    status, _, body = console.answer("GET", path)
    assert status == 404 and json.loads(body)["error"] == "NOT_FOUND"


def test_the_files_are_only_read():
    status, _, _ = console.answer("POST", "/console/")
    assert status == 405
