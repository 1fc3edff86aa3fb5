"""The sign-ins ``accu login`` keeps between commands: per deployment's API, the Cognito tokens, in a
file of the user's config directory that only its owner can read; the ID token (an hour) is refreshed
with the refresh token (a day) when it is about to expire."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import click
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

CONFIG_DIRECTORY_VARIABLE = "ACCU_CONFIG_DIR"
SESSIONS_FILE = "sessions.json"
# A command that starts with less than this left of the ID token refreshes it first, so that the
# token does not expire during the command (a batch followed to its end, a long listing).
REFRESH_MARGIN = timedelta(minutes=5)


class SignInExpired(Exception):
    """The kept sign-in can no longer be refreshed (refresh token expired or revoked): sign in again."""


class SignIn(BaseModel):
    """One deployment's sign-in: where its users are, who signed in, and their tokens."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    api_url: str
    user_pool_id: str
    client_id: str
    username: str
    id_token: str
    access_token: str
    refresh_token: str
    expires_at: datetime

    @property
    def region(self) -> str:
        return pool_region(self.user_pool_id)

    @property
    def groups(self) -> list[str]:
        return list(claims(self.id_token).get("cognito:groups", []))

    @classmethod
    def of(
        cls, api_url: str, user_pool_id: str, client_id: str, username: str, result: dict[str, Any], now: datetime
    ) -> SignIn:
        """The sign-in a Cognito AuthenticationResult completes."""
        return cls(
            api_url=api_key(api_url),
            user_pool_id=user_pool_id,
            client_id=client_id,
            username=username,
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result["RefreshToken"],
            expires_at=expiry(result, now),
        )

    def with_tokens(self, result: dict[str, Any], now: datetime) -> SignIn:
        """This sign-in with the tokens of a Cognito AuthenticationResult (a refresh keeps the refresh token)."""
        return self.model_copy(
            update={
                "id_token": result["IdToken"],
                "access_token": result["AccessToken"],
                "refresh_token": result.get("RefreshToken", self.refresh_token),
                "expires_at": expiry(result, now),
            }
        )


def expiry(result: dict[str, Any], now: datetime) -> datetime:
    """When the ID token of a Cognito AuthenticationResult expires."""
    return now + timedelta(seconds=int(result.get("ExpiresIn", 3600)))


def pool_region(user_pool_id: str) -> str:
    """A user pool's id starts with its region: ap-southeast-2_AbCdEf123."""
    return user_pool_id.split("_", 1)[0]


def api_key(api_url: str) -> str:
    """One spelling per API: API Gateway's stage URL ends with a slash, the option may not."""
    return api_url.rstrip("/")


def config_directory() -> Path:
    return Path(os.environ.get(CONFIG_DIRECTORY_VARIABLE) or click.get_app_dir("accu"))


def sessions_path() -> Path:
    return config_directory() / SESSIONS_FILE


def load() -> dict[str, SignIn]:
    """The kept sign-ins by API; a file that cannot be read keeps none (sign in again)."""
    try:
        document = json.loads(sessions_path().read_text())
        return {key: SignIn.model_validate(value) for key, value in document.get("signIns", {}).items()}
    except (OSError, ValueError, AttributeError, ValidationError):
        return {}


def keep(sign_in: SignIn) -> None:
    signed_in = load()
    signed_in[api_key(sign_in.api_url)] = sign_in
    _write(signed_in)


def forget(api_url: str) -> SignIn | None:
    signed_in = load()
    forgotten = signed_in.pop(api_key(api_url), None)
    if forgotten is not None:
        _write(signed_in)
    return forgotten


def _write(signed_in: dict[str, SignIn]) -> None:
    """Replace the file at once, created readable by its owner only (the tokens are credentials)."""
    directory = config_directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {"signIns": {key: value.model_dump(mode="json", by_alias=True) for key, value in signed_in.items()}}
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".sessions-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w") as file:
            json.dump(document, file, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, directory / SESSIONS_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def token_for(api_url: str, now: datetime | None = None) -> str | None:
    """The ID token of the sign-in kept for this API (refreshed if about to expire); None if not signed in."""
    sign_in = load().get(api_key(api_url))
    if sign_in is None:
        return None
    now = now or datetime.now(UTC)
    if sign_in.expires_at - now > REFRESH_MARGIN:
        return sign_in.id_token
    refreshed = refresh(sign_in, now)
    keep(refreshed)
    return refreshed.id_token


def refresh(sign_in: SignIn, now: datetime) -> SignIn:
    try:
        answer = cognito_client(sign_in.region).initiate_auth(
            ClientId=sign_in.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": sign_in.refresh_token},
        )
    except ClientError as error:
        raise SignInExpired(
            f"the sign-in to {sign_in.api_url} as {sign_in.username} could not be refreshed "
            f"({error.response['Error'].get('Message', error)}); sign in again with `accu login`"
        ) from error
    except BotoCoreError as error:
        raise SignInExpired(f"Cognito in {sign_in.region} cannot be reached to refresh the sign-in: {error}") from error
    return sign_in.with_tokens(answer["AuthenticationResult"], now)


def cognito_client(region: str) -> Any:
    """Cognito's sign-in operations are public: no AWS credentials are needed (nor sent) to sign in."""
    return boto3.client("cognito-idp", region_name=region, config=Config(signature_version=UNSIGNED))


def claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: for showing who signed in, never for deciding anything (the API
    verifies the token)."""
    try:
        payload = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (IndexError, ValueError, binascii.Error):
        return {}
