"""What every command of ``accu`` takes: how to answer, who calls, which API; and how a command's
failure becomes an exit status (0 done, 1 refused or problems found, 2 usage, 3 unreachable)."""

from __future__ import annotations

import functools
import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from cli import sessions
from cli.api import OPERATORS, ApiError, ApiUnreachable, PlatformApi, default_api_url
from cli.output import complain, emit
from cli.sessions import SignInExpired

OUTPUT_FORMATS = ("table", "json")


@dataclass
class Caller:
    """Who runs the command and where it answers."""

    output: str
    user: str
    api: PlatformApi

    def answer(self, report: Any, *renderables: Any) -> None:
        emit(report, self.output, *renderables)


def output_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--output",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        show_default=True,
        help="json for programs, a table for people",
    )(command)


def caller_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The command gets a Caller: the API at --api-url as --user in --groups (locally), or with --token."""

    @functools.wraps(command)
    def with_caller(output: str, user: str, groups: str, api_url: str, token: str | None, **arguments: Any) -> Any:
        def act() -> Any:
            # Without --token, the sign-in `accu login` kept for this API (none locally: the headers).
            signed_in = token or sessions.token_for(api_url)
            return command(Caller(output, user, PlatformApi.as_caller(api_url, user, groups, signed_in)), **arguments)

        return run(act, output)

    decorators = [
        output_option,
        click.option(
            "--user",
            envvar="ACCU_USER",
            default=getpass.getuser,
            show_default="the login name",
            help="who calls, locally (ACCU_USER)",
        ),
        click.option(
            "--groups",
            envvar="ACCU_GROUPS",
            default=OPERATORS,
            show_default=True,
            help="the caller's groups, comma-separated, locally (ACCU_GROUPS)",
        ),
        click.option(
            "--api-url",
            envvar="ACCU_API_URL",
            default=default_api_url,
            show_default="http://127.0.0.1:$PORT, 8000",
            help="the REST API (ACCU_API_URL)",
        ),
        click.option(
            "--token",
            envvar="ACCU_TOKEN",
            default=None,
            help="a deployment's Cognito ID token, sent as Authorization (ACCU_TOKEN); default: `accu login`'s",
        ),
    ]
    for decorate in reversed(decorators):
        with_caller = decorate(with_caller)
    return with_caller


def run(action: Callable[[], Any], output: str) -> Any:
    """Run a command; a refusal answers its error (JSON on standard output for programs) and exits 1,
    an API that does not answer exits 3."""
    try:
        return action()
    except ApiError as error:
        if output == "json":
            click.echo(
                json.dumps(
                    {"status": error.status, **(error.body if isinstance(error.body, dict) else {"body": error.body})},
                    indent=2,
                )
            )
        complain(str(error))
        raise SystemExit(1) from error
    except ApiUnreachable as error:
        complain(str(error))
        raise SystemExit(3) from error
    except SignInExpired as error:
        complain(str(error))
        raise SystemExit(1) from error


def json_argument(text: str | None, what: str) -> Any:
    """A JSON document given on the command line (``@file`` reads a file)."""
    if text is None:
        return None
    if text.startswith("@"):
        with open(text[1:]) as source:
            text = source.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint=what) from error


def pages(caller: Caller, path: str, query: dict[str, Any], follow: bool) -> dict[str, Any]:
    """One page of a listing, or with ``follow`` every page (nextToken followed): the items and the last token."""
    items: list[Any] = []
    while True:
        page = caller.api.call("GET", path, query=query)
        items += page["items"]
        if not follow or not page.get("nextToken"):
            return {"items": items, "nextToken": page.get("nextToken")}
        query = {**query, "nextToken": page["nextToken"]}
