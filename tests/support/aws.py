"""Clients of a local platform's emulated AWS endpoint, as a user outside the platform makes them."""

from __future__ import annotations

from typing import Any

import boto3

from infra.local.names import REGION


def emulated_aws_client(service: str, endpoint_url: str) -> Any:
    """A signed client on a session of its own. moto's server tells the service from the request's
    signature, and an in-process platform of this test process (the integration tests') makes the
    default session's clients unsigned: a client of that session would be answered as S3."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
