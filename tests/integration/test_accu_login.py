"""``accu login``: an operator signs in to a deployment's user pool in the terminal (moto's Cognito,
with TOTP codes checked), the tokens are kept for the commands that follow (refreshed when the ID
token is about to expire), and ``accu logout`` forgets them."""

from __future__ import annotations

import json
import re
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cli import login as login_command
from cli import sessions
from cli.login import Conversation
from cli.main import accu, main
from tests.support.authenticator import current_code
from tests.support.deployments import deploy_stack

REGION = "ap-southeast-2"
EMAIL = "ops@example.com"
TEMPORARY_PASSWORD = "Temporary-Passw0rd!"
PASSWORD = "Chosen-Passw0rd-2026!"
API_URL = "https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod/"


@pytest.fixture
def deployment(platform, monkeypatch, tmp_path) -> dict[str, str]:
    """A deployment's user pool as the platform stack makes it (e-mail sign-in, TOTP required, the
    operators group), an operator created by an administrator, and the stack's outputs."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    monkeypatch.setenv(sessions.CONFIG_DIRECTORY_VARIABLE, str(tmp_path / "config" / "accu"))
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName="accu-prod", UsernameAttributes=["email"])["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName="operators")
    cognito.admin_create_user(UserPoolId=pool_id, Username=EMAIL, TemporaryPassword=TEMPORARY_PASSWORD)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=EMAIL, GroupName="operators")
    outputs = {"ApiUrl": API_URL, "UserPoolId": pool_id, "UserPoolClientId": client_id}
    deploy_stack("AccuWorkflows-prod-Platform", outputs)
    return outputs


class Operator:
    """The person at the terminal, with an authenticator app that learns the key the set-up shows."""

    def __init__(self, passwords: list[str]):
        self.passwords = passwords
        self.asked: list[str] = []
        self.told: list[str] = []
        self.authenticator_key: str | None = None

    def conversation(self) -> Conversation:
        def secret(prompt: str) -> str:
            self.asked.append(prompt)
            return self.passwords.pop(0)

        def code(prompt: str) -> str:
            self.asked.append(prompt)
            assert self.authenticator_key, "a code was asked before any authenticator was set up"
            return current_code(self.authenticator_key)

        def say(text: str) -> None:
            self.told.append(text)
            shown = re.search(r"secret=([A-Z0-9]+)", text, re.IGNORECASE)
            if shown:
                self.authenticator_key = shown.group(1)

        return Conversation(secret=secret, code=code, say=say)


def sign_in_as(operator: Operator, monkeypatch, *arguments: str) -> int:
    with monkeypatch.context() as patched:
        patched.setattr(login_command, "terminal", operator.conversation)
        return main(["login", "--stage", "prod", "--region", REGION, "--username", EMAIL, *arguments])


@pytest.fixture
def signed_in(deployment, monkeypatch) -> Operator:
    operator = Operator([TEMPORARY_PASSWORD, PASSWORD])
    assert sign_in_as(operator, monkeypatch) == 0
    return operator


def test_a_first_sign_in_sets_a_password_and_an_authenticator_and_keeps_the_tokens_for_the_owner_only(
    deployment, monkeypatch, capsys
):
    # Given an operator an administrator created (a temporary password, no authenticator yet)
    operator = Operator([TEMPORARY_PASSWORD, PASSWORD])

    # When they sign in
    status = sign_in_as(operator, monkeypatch)

    # Then they were asked for a new password, shown a key for their authenticator and asked its code
    assert status == 0, capsys.readouterr().err
    assert operator.asked == ["Password", "New password", "Code from the authenticator app"]
    assert any("otpauth://totp/" in text for text in operator.told)
    # And the tokens are kept for the deployment's API, in a file only its owner can read
    kept = sessions.load()[sessions.api_key(API_URL)]
    assert kept.username == EMAIL and kept.groups == ["operators"] and kept.expires_at > datetime.now(UTC)
    path = sessions.sessions_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"Signed in to {API_URL.rstrip('/')} as {EMAIL} (operators)" in capsys.readouterr().out


def test_a_later_sign_in_asks_the_password_and_the_authenticators_code(signed_in, deployment, monkeypatch):
    # Given an operator who set up their authenticator at the first sign-in
    operator = Operator([PASSWORD])
    operator.authenticator_key = signed_in.authenticator_key

    # When they sign in again
    status = sign_in_as(operator, monkeypatch)

    # Then the password and the code were enough
    assert status == 0 and operator.asked == ["Password", "Code from the authenticator app"]


def test_the_terminal_prompts_read_the_password_hidden_and_the_code(signed_in, deployment):
    # When the operator signs in at a terminal (the password and the code typed)
    key = signed_in.authenticator_key
    assert key
    result = CliRunner().invoke(
        accu,
        ["login", "--stage", "prod", "--region", REGION, "--username", EMAIL],
        input=f"{PASSWORD}\n{current_code(key)}\n",
    )

    # Then they are signed in, and the password was not echoed
    assert result.exit_code == 0, result.output
    assert "Signed in to" in result.output and PASSWORD not in result.output


def test_a_wrong_code_is_refused_and_the_kept_sign_in_stays_as_it_was(signed_in, deployment, monkeypatch, capsys):
    # Given a kept sign-in
    before = sessions.sessions_path().read_text()
    capsys.readouterr()

    # When a sign-in is answered with a code that is not the authenticator's
    operator = Operator([PASSWORD])
    monkeypatch.setattr(login_command, "terminal", operator.conversation)
    operator.authenticator_key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # another authenticator's key
    status = main(["login", "--stage", "prod", "--region", REGION, "--username", EMAIL])

    # Then the sign-in is refused with Cognito's reason, and nothing kept changed
    assert status == 1
    assert "sign-in refused: CodeMismatchException" in capsys.readouterr().err
    assert sessions.sessions_path().read_text() == before


class RecordingApi(BaseHTTPRequestHandler):
    """Where API Gateway would be: records what each request carried, answers an empty listing."""

    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        RecordingApi.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        body = json.dumps({"items": [], "nextToken": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingApi)
    RecordingApi.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/prod/"
    finally:
        server.shutdown()


def keep_for(api_url: str, **changes: Any) -> sessions.SignIn:
    """The kept sign-in moved to ``api_url`` (the recording API), with some fields changed."""
    kept = sessions.load()[sessions.api_key(API_URL)]
    moved = kept.model_copy(update={"api_url": sessions.api_key(api_url), **changes})
    sessions.keep(moved)
    return moved


def test_commands_send_the_kept_id_token_to_the_api(signed_in, api, capsys):
    # Given a sign-in kept for the API
    kept = keep_for(api)

    # When a command is given that API (and no --token)
    status = main(["workflow", "list", "--api-url", api, "--output", "json"])

    # Then its request carried the ID token, not the local identity headers
    assert status == 0, capsys.readouterr().err
    assert [request["authorization"] for request in RecordingApi.seen] == [kept.id_token]


def test_an_id_token_about_to_expire_is_refreshed_and_kept(signed_in, api, capsys):
    # Given a kept sign-in whose ID token expires in a minute
    old = keep_for(api, expires_at=datetime.now(UTC) + timedelta(minutes=1))

    # When a command is given its API
    status = main(["workflow", "list", "--api-url", api, "--output", "json"])

    # Then a new ID token was sent, and kept with its new expiry (the refresh token is the same)
    assert status == 0, capsys.readouterr().err
    refreshed = sessions.load()[sessions.api_key(api)]
    assert refreshed.id_token != old.id_token and RecordingApi.seen[-1]["authorization"] == refreshed.id_token
    assert refreshed.expires_at > datetime.now(UTC) + timedelta(minutes=30)
    assert refreshed.refresh_token == old.refresh_token


def test_a_sign_in_that_cannot_be_refreshed_asks_to_sign_in_again_and_sends_nothing(signed_in, api, capsys):
    # Given a kept sign-in whose ID token expired and whose refresh token Cognito no longer knows
    keep_for(api, expires_at=datetime.now(UTC) - timedelta(minutes=1), refresh_token="revoked")

    # When a command is given its API
    status = main(["workflow", "list", "--api-url", api])

    # Then it fails, saying to sign in again, without calling the API
    assert status == 1 and "sign in again with `accu login`" in capsys.readouterr().err
    assert RecordingApi.seen == []


def test_logout_revokes_the_refresh_token_and_forgets_the_sign_in(signed_in, monkeypatch, capsys):
    # Given a kept sign-in (moto has no RevokeToken: botocore's Stubber checks the request instead)
    kept = sessions.load()[sessions.api_key(API_URL)]
    cognito = sessions.cognito_client(REGION)
    stubber = Stubber(cognito)
    stubber.add_response("revoke_token", {}, {"Token": kept.refresh_token, "ClientId": kept.client_id})
    monkeypatch.setattr(login_command, "cognito_client", lambda region: cognito)

    # When the operator signs out of the API
    with stubber:
        status = main(["logout", "--api-url", API_URL])

    # Then this sign-in's refresh token was revoked, and the sign-in forgotten
    stubber.assert_no_pending_responses()
    assert status == 0 and "refresh token revoked" in capsys.readouterr().out
    assert sessions.api_key(API_URL) not in sessions.load()
    assert sessions.token_for(API_URL) is None


def test_logout_forgets_the_sign_in_even_when_the_revocation_fails(signed_in, monkeypatch, capsys):
    # Given Cognito refuses the revocation
    cognito = sessions.cognito_client(REGION)
    stubber = Stubber(cognito)
    stubber.add_client_error("revoke_token", "UnsupportedTokenTypeException", "revocation is not enabled")
    monkeypatch.setattr(login_command, "cognito_client", lambda region: cognito)

    # When the operator signs out
    with stubber:
        status = main(["logout", "--api-url", API_URL])

    # Then the sign-in is forgotten anyway, and the output says the token lives until it expires
    assert status == 0 and "could not be revoked (UnsupportedTokenTypeException" in capsys.readouterr().out
    assert sessions.token_for(API_URL) is None


def test_a_deployment_without_a_user_pool_output_is_named(platform, monkeypatch, tmp_path: Path, capsys):
    # Given a platform stack without the user pool's outputs
    monkeypatch.setenv(sessions.CONFIG_DIRECTORY_VARIABLE, str(tmp_path))
    deploy_stack("AccuWorkflows-old-Platform", {"ApiUrl": API_URL})

    # When the operator signs in to it
    status = main(["login", "--stage", "old", "--region", REGION, "--username", EMAIL])

    # Then the command says what is missing, and keeps nothing
    assert status == 3 and "UserPoolId/UserPoolClientId" in capsys.readouterr().err
    assert not sessions.load()
