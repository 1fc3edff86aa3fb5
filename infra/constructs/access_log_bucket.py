"""The bucket a bucket's server access logs go to: private, SSE-S3 (the only encryption log delivery
writes to), TLS 1.2+, records kept a year, retained when the stack goes; made in the caller's scope so the
logical id stays the caller's ``AccessLogs``."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge, acknowledge_checkov

ACCESS_LOG_RETENTION = Duration.days(365)

# What every bucket of the platform is: no public access, no ACLs, S3-managed keys, TLS 1.2+ only.
PRIVATE_BUCKET: dict[str, Any] = {
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    "encryption": s3.BucketEncryption.S3_MANAGED,
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
}


def access_log_bucket(scope: Construct, logged: str, construct_id: str = "AccessLogs") -> s3.Bucket:
    """The access log bucket of ``logged`` (a name for the findings' reasons: "the documents bucket")."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        **PRIVATE_BUCKET,
        lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=ACCESS_LOG_RETENTION)],
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        f"This bucket is the server access log destination of {logged}; logging it in turn would "
        "need yet another bucket (or log into itself, an endless loop) while it holds only S3's log records.",
    )
    acknowledge_checkov(
        bucket,
        "CKV_AWS_18",
        f"This bucket is the server access log destination of {logged}: logging it would need yet "
        "another bucket (or log into itself, an endless loop).",
    )
    acknowledge_checkov(
        bucket,
        "CKV_AWS_21",
        "Only S3's log delivery writes here, each record once under a unique key, and records expire after "
        f"{ACCESS_LOG_RETENTION.to_days()} days: versions would keep nothing that can be overwritten.",
    )
    return bucket
