"""The documents' files: a private, versioned S3 bucket that browsers upload to with presigned URLs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.access_log_bucket import PRIVATE_BUCKET, access_log_bucket

# Where the API's presigned upload URLs put files (``uploads/<user>/<random>/<name>``).
UPLOADS_PREFIX = "uploads/"


@dataclass(frozen=True)
class BucketRef:
    """A bucket known by its (explicit) name, so that another stack grants access to it without a reference
    between the stacks, and cdk-nag findings on those grants have a name known at synth time."""

    name: str

    def objects_arn(self, scope: Construct, key_pattern: str) -> str:
        return Stack.of(scope).format_arn(
            service="s3", region="", account="", resource=self.name, resource_name=key_pattern
        )

    def uploads_arn(self, scope: Construct) -> str:
        """The objects the API's presigned URLs may create, and nothing else of the bucket."""
        return self.objects_arn(scope, f"{UPLOADS_PREFIX}*")


class DocumentsBucket(Construct):
    """The documents bucket: all public access blocked, ACLs disabled, S3-managed encryption, TLS 1.2+ only,
    versioned, server access logs to a bucket of their own, incomplete multipart uploads aborted after 7 days,
    CORS for ``PUT`` from the allowed origins only (none: no CORS rule), retained when the stack goes."""

    def __init__(
        self, scope: Construct, construct_id: str, *, bucket_name: str, upload_allowed_origins: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = access_log_bucket(self, "the documents bucket")

        cors = (
            [
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT],
                    allowed_origins=list(upload_allowed_origins),
                    allowed_headers=["Content-Type"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ]
            if upload_allowed_origins
            else None
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            **PRIVATE_BUCKET,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[
                s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(7))
            ],
            cors=cors,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.ref = BucketRef(name=bucket_name)
