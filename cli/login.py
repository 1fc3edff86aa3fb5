"""``accu login`` / ``accu logout``: sign in to a deployment's Cognito user pool in the terminal (SRP,
so the password never leaves this machine; a new password and the authenticator app's setup on the
first sign-in; the TOTP code the pool requires), and keep the tokens for the commands that follow."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from pycognito.aws_srp import AWSSRP  # the SRP arithmetic Cognito expects, from a maintained library

from cli import sessions
from cli.api import default_api_url
from cli.output import complain
from cli.sessions import SignIn, claims, cognito_client, pool_region
from cli.target import DEFAULT_STAGE, TargetUnreachable, platform_outputs

AUTHENTICATOR_LABEL = "ACCU workflows"


class SignInRefused(Exception):
    """Cognito refused the sign-in (wrong password or code, unknown user, a challenge accu cannot answer)."""


@dataclass
class Conversation:
    """How the sign-in asks its user: a secret (password), a code, or says something."""

    secret: Callable[[str], str]
    code: Callable[[str], str]
    say: Callable[[str], None]


def terminal() -> Conversation:
    def new_secret(prompt: str) -> str:
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=prompt.startswith("New")))

    return Conversation(
        secret=new_secret,
        code=lambda prompt: str(click.prompt(prompt)).strip(),
        say=lambda text: click.echo(text, err=True),
    )


def sign_in(cognito: Any, user_pool_id: str, client_id: str, username: str, ask: Conversation) -> dict[str, Any]:
    """Cognito's AuthenticationResult for this user, after answering each challenge the pool sets."""
    srp = AWSSRP(
        username=username, password=ask.secret("Password"), pool_id=user_pool_id, client_id=client_id, client=cognito
    )
    auth_parameters = srp.get_auth_params()
    answer = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=auth_parameters)
    # Cognito's name for the user (with e-mail sign-in, not the e-mail) is what the challenges answer as.
    internal_name = username
    while not answer.get("AuthenticationResult"):
        challenge, parameters = answer.get("ChallengeName"), answer.get("ChallengeParameters") or {}
        internal_name = parameters.get("USERNAME", internal_name)
        session = answer.get("Session")
        if challenge == "PASSWORD_VERIFIER":
            responses = srp.process_challenge(parameters, auth_parameters)
        elif challenge == "NEW_PASSWORD_REQUIRED":
            ask.say("A new password is required (the first sign-in after an administrator created the account).")
            responses = {"USERNAME": internal_name, "NEW_PASSWORD": ask.secret("New password")}
        elif challenge == "MFA_SETUP":
            session = _set_up_authenticator(cognito, session, username, ask)
            responses = {"USERNAME": internal_name}
        elif challenge == "SELECT_MFA_TYPE":
            responses = {"USERNAME": internal_name, "ANSWER": "SOFTWARE_TOKEN_MFA"}
        elif challenge == "SOFTWARE_TOKEN_MFA":
            code = ask.code("Code from the authenticator app")
            responses = {"USERNAME": internal_name, "SOFTWARE_TOKEN_MFA_CODE": code}
        else:
            raise SignInRefused(f"the user pool asks for {challenge}, which accu cannot answer; sign in another way")
        request: dict[str, Any] = {"ClientId": client_id, "ChallengeName": challenge, "ChallengeResponses": responses}
        if session:
            request["Session"] = session
        answer = cognito.respond_to_auth_challenge(**request)
    return dict(answer["AuthenticationResult"])


def _set_up_authenticator(cognito: Any, session: str | None, username: str, ask: Conversation) -> str:
    """The pool requires TOTP and the user has no authenticator yet: register one; the session that follows."""
    associated = cognito.associate_software_token(Session=session)
    secret = associated["SecretCode"]
    uri = (
        f"otpauth://totp/{urllib.parse.quote(AUTHENTICATOR_LABEL)}:{urllib.parse.quote(username)}?"
        + urllib.parse.urlencode({"secret": secret, "issuer": AUTHENTICATOR_LABEL})
    )
    ask.say(
        "The pool requires an authenticator app. Add this key to it (or open the link on the phone):"
        f"\n  {secret}\n  {uri}"
    )
    verified = cognito.verify_software_token(
        Session=associated["Session"], UserCode=ask.code("Code from the authenticator app"), FriendlyDeviceName="accu"
    )
    if verified.get("Status") != "SUCCESS":
        raise SignInRefused("the authenticator's code was not accepted")
    return str(verified["Session"])


@dataclass(frozen=True)
class Deployment:
    api_url: str
    user_pool_id: str
    client_id: str


def _deployment(
    stage: str, region: str | None, api_url: str | None, user_pool_id: str | None, client_id: str | None
) -> Deployment:
    if api_url and user_pool_id and client_id:
        return Deployment(api_url, user_pool_id, client_id)
    if api_url or user_pool_id or client_id:
        raise click.UsageError("--api-url, --user-pool-id and --client-id go together (or none: read from --stage)")
    outputs = platform_outputs(stage, region)
    missing = [key for key in ("ApiUrl", "UserPoolId", "UserPoolClientId") if key not in outputs]
    if missing:
        raise TargetUnreachable(f"the platform stack of {stage} has no {'/'.join(missing)} output")
    return Deployment(outputs["ApiUrl"], outputs["UserPoolId"], outputs["UserPoolClientId"])


@click.command()
@click.option("--stage", default=DEFAULT_STAGE, show_default=True, help="the deployment, found by its stacks' outputs")
@click.option("--region", help="the deployment's region (default: AWS_REGION, else ap-southeast-2)")
@click.option("--api-url", help="with --user-pool-id and --client-id: the deployment, named instead of read")
@click.option("--user-pool-id", help="the deployment's user pool (its platform stack's UserPoolId output)")
@click.option("--client-id", help="the user pool's app client (its platform stack's UserPoolClientId output)")
@click.option("--username", envvar="ACCU_USERNAME", prompt="E-mail", help="who signs in (ACCU_USERNAME)")
def login(
    stage: str, region: str | None, api_url: str | None, user_pool_id: str | None, client_id: str | None, username: str
) -> None:
    """Sign in to a deployment's user pool; commands for its API then use the tokens, refreshed as they
    expire, until the refresh token does (a day as deployed). Reading the stacks' outputs needs AWS
    credentials; signing in does not (name the deployment with --api-url, --user-pool-id, --client-id)."""
    try:
        deployment = _deployment(stage, region, api_url, user_pool_id, client_id)
        cognito = cognito_client(pool_region(deployment.user_pool_id))
        result = sign_in(cognito, deployment.user_pool_id, deployment.client_id, username, terminal())
    except TargetUnreachable as error:
        complain(str(error))
        raise SystemExit(3) from error
    except (ClientError, SignInRefused) as error:
        complain(f"sign-in refused: {_reason(error)}")
        raise SystemExit(1) from error
    except BotoCoreError as error:
        complain(f"Cognito cannot be reached: {error}")
        raise SystemExit(3) from error
    kept = SignIn.of(
        deployment.api_url, deployment.user_pool_id, deployment.client_id, username, result, datetime.now(UTC)
    )
    sessions.keep(kept)
    groups = ", ".join(kept.groups) or "no group: the API will refuse every call"
    click.echo(f"Signed in to {kept.api_url} as {claims(kept.id_token).get('email', username)} ({groups}).")
    click.echo(f"Commands given this API use the sign-in: export ACCU_API_URL={kept.api_url}")


@click.command()
@click.option("--api-url", envvar="ACCU_API_URL", default=default_api_url, help="the API signed in to (ACCU_API_URL)")
def logout(api_url: str) -> None:
    """Forget the sign-in kept for an API and revoke its refresh token."""
    forgotten = sessions.forget(api_url)
    if forgotten is None:
        click.echo(f"Not signed in to {sessions.api_key(api_url)}.")
        return
    try:
        cognito_client(forgotten.region).revoke_token(Token=forgotten.refresh_token, ClientId=forgotten.client_id)
        revoked = "its refresh token revoked"
    except (ClientError, BotoCoreError) as error:
        revoked = f"its refresh token could not be revoked ({_reason(error)}); it expires by itself"
    click.echo(f"Signed out of {forgotten.api_url} ({revoked}).")


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}"
    return str(error)
