"""What an authenticator app does with the key a TOTP set-up shows: six digits every 30 seconds
(RFC 6238, HMAC-SHA1), as Cognito checks them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30


def totp(secret: str, at: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at // STEP_SECONDS)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def current_code(secret: str) -> str:
    """The code of now, waiting out the last second of a step so that it is still valid when checked."""
    if STEP_SECONDS - time.time() % STEP_SECONDS < 1.0:
        time.sleep(1.0)
    return totp(secret, time.time())
