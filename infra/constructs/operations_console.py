"""The operations console: its static files in a private S3 bucket, served over HTTPS by CloudFront."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.access_log_bucket import PRIVATE_BUCKET, access_log_bucket
from infra.constructs.acknowledgments import (
    LOG_GROUP_ENCRYPTION,
    acknowledge,
    acknowledge_checkov,
    wildcard_resource_finding,
)

# The file the console reads at start (its API, and how it signs in): written by the deployment, never taken from
# the source folder (where the local runtime may keep its own).
CONFIG_FILE = "config.json"
# Each deployment's files stay retrievable (as noncurrent versions) this long: what the console served, and when.
NONCURRENT_VERSION_RETENTION = Duration.days(90)
HSTS_MAX_AGE = Duration.days(730)
# The id cdk.BucketDeployment gives its handler (a SingletonFunction, created once per stack at the stack's root).
BUCKET_DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment"
# The S3 action families CDK's grants give BucketDeployment's role: read of the CDK assets bucket (the zipped
# sources), read and write of the destination (aws s3 sync --delete).
BUCKET_DEPLOYMENT_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:DeleteObject*", "s3:Abort*")
BUCKET_DEPLOYMENT_WILDCARDS = (
    "CDK's BucketDeployment grants its handler role read of the CDK assets bucket (the zipped sources) and read "
    "and write of the console bucket with S3 action families and object wildcards (<bucket>/*): aws s3 sync "
    "--delete lists, writes and deletes any of the console's files. The role reaches no other bucket."
)


def content_security_policy(*, api_origin: str, sign_in_url: str) -> str:
    """Scripts, styles, fonts and images from the console's own origin only (no inline code, no eval); requests to
    itself, the API and Cognito's OAuth endpoints; never framed; forms post nowhere but to itself and Cognito."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "manifest-src 'self'",
            f"connect-src 'self' {api_origin} {sign_in_url}",
            f"form-action 'self' {sign_in_url}",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


class OperationsConsole(Construct):
    """A private bucket (public access blocked, ACLs disabled, SSE-S3, TLS 1.2+ only, versioned, server access
    logs to a bucket of its own, retained when the stack goes) read by a CloudFront distribution through Origin
    Access Control only. The distribution redirects HTTP to HTTPS, serves ``index.html`` at ``/`` and adds
    security headers (HSTS, a strict Content-Security-Policy, nosniff, no framing, no referrer). ``publish``
    copies the source folder and a generated ``config.json`` into the bucket with a BucketDeployment (a Lambda
    function with the AWS CLI layer, no Docker); every file is served ``Cache-Control: no-cache`` so that
    browsers and CloudFront revalidate rather than mix two deployments' modules."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: Path,
        api_origin: str,
        sign_in_url: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (source / "index.html").is_file():
            raise ValueError(f"{source} has no index.html: the operations console is deployed from that folder")
        self.source = source
        self.log_retention = log_retention

        self.access_logs = access_log_bucket(self, "the console's bucket")
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            **PRIVATE_BUCKET,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="console/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireOldDeployments",
                    noncurrent_version_expiration=NONCURRENT_VERSION_RETENTION,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="ACCU operations console: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_origin=api_origin, sign_in_url=sign_in_url),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                # The sign-in's authorization code comes back in the page's URL: it is never sent on.
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                        override=True,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="ACCU operations console",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
        )
        self._acknowledge_distribution()

    @property
    def origin(self) -> str:
        """``https://<distribution domain>``: the console's origin (CORS, CSP)."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        """``https://<distribution domain>/``: where operators open the console, and where sign-in returns."""
        return f"{self.origin}/"

    def publish(self, config: Mapping[str, str]) -> s3deploy.BucketDeployment:
        """Copy the source folder into the bucket with ``config`` as ``config.json`` (deploy-time values allowed),
        removing what the folder no longer has."""
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the operations console's files into its bucket",
        )
        log_group = logs.LogGroup(
            self, "DeploymentLogs", retention=self.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        log_group.grant_write(role)
        acknowledge_checkov(log_group, "CKV_AWS_158", LOG_GROUP_ENCRYPTION)
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[
                s3deploy.Source.asset(str(self.source), exclude=[CONFIG_FILE]),
                s3deploy.Source.json_data(CONFIG_FILE, dict(config)),
            ],
            destination_bucket=self.bucket,
            prune=True,
            cache_control=[s3deploy.CacheControl.no_cache()],
            role=role,
            log_group=log_group,
        )
        for action in BUCKET_DEPLOYMENT_ACTIONS:
            acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]", BUCKET_DEPLOYMENT_WILDCARDS)
        for objects in (self.bucket.arn_for_objects("*"), self._assets_objects_arn()):
            acknowledge(role, wildcard_resource_finding(self, objects), BUCKET_DEPLOYMENT_WILDCARDS)
        self._acknowledge_deployment_handler()
        return self.deployment

    def _assets_objects_arn(self) -> str:
        """The objects of the CDK bootstrap's assets bucket (the default synthesizer's), where the sources are."""
        stack = Stack.of(self)
        qualifier = self.node.try_get_context("@aws-cdk/core:bootstrapQualifier") or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        name = (
            DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier)
            .replace("${AWS::AccountId}", stack.account)
            .replace("${AWS::Region}", stack.region)
        )
        return stack.format_arn(service="s3", region="", account="", resource=name, resource_name="*")

    def _acknowledge_distribution(self) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: operators sign in from wherever they work, the files served are the console's "
            "static code (no data), and every API call needs a Cognito token.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL: the distribution serves static files only (the data is behind the API's Cognito "
            "authorizer and throttle); a web ACL is billed per ACL, rule and request and is left to the "
            "environment's owner, as for the API.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "No CloudFront access logs: viewers only fetch the console's public static files; changes to those "
            "files are in the console bucket's server access logs, and every call on data is in the API's access "
            "logs with its caller.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses its default *.cloudfront.net certificate, with which CloudFront does not let a "
            "minimum viewer TLS version be set (that needs a custom domain with an ACM certificate in us-east-1, "
            "which this platform does not have); the console is HTTPS only (HTTP is redirected) with HSTS.",
        )
        checkov = {
            "CKV_AWS_68": "No WAF web ACL: the distribution serves the console's static files only; the data is "
            "behind the API's Cognito authorizer and throttle, and a web ACL is a cost left to the environment's "
            "owner.",
            "CKV_AWS_86": "No CloudFront access logs: viewers only fetch public static files; changes to them are in "
            "the console bucket's server access logs, calls on data in the API's access logs.",
            "CKV_AWS_174": "The default *.cloudfront.net certificate cannot be given a minimum TLS version (that needs "
            "a custom domain and an ACM certificate); viewers are redirected to HTTPS and told HSTS.",
        }
        for check_id, reason in checkov.items():
            acknowledge_checkov(self.distribution, check_id, reason)

    def _acknowledge_deployment_handler(self) -> None:
        """BucketDeployment's handler is a singleton function at the stack's root, outside this construct."""
        stack = Stack.of(self)
        handlers = [
            child
            for child in stack.node.children
            if child.node.id.startswith(BUCKET_DEPLOYMENT_HANDLER) and isinstance(child, lambda_.Function)
        ]
        if not handlers:
            raise LookupError(f"no {BUCKET_DEPLOYMENT_HANDLER} function in {stack.node.path}")
        for handler in handlers:
            acknowledge(
                handler,
                "AwsSolutions-L1",
                "CDK's BucketDeployment handler runs on the Python runtime CDK packages it for (3.13 in this CDK "
                "release), with the AWS CLI layer; its code is CDK's and it runs only while CloudFormation deploys.",
            )
            acknowledge_checkov(
                handler,
                "CKV_AWS_115",
                "CDK's BucketDeployment handler runs once per deployment of the stack, invoked by CloudFormation "
                "only: reserving concurrency would take from the account's pool for nothing.",
            )
            acknowledge_checkov(
                handler,
                "CKV_AWS_116",
                "CDK's BucketDeployment handler is invoked synchronously by CloudFormation (a custom resource): "
                "a failure fails the deployment, which rolls back; a DLQ applies to asynchronous invocations only.",
            )
            acknowledge_checkov(
                handler,
                "CKV_AWS_117",
                "CDK's BucketDeployment handler calls only S3's public API (aws s3 sync) with IAM: a VPC would need "
                "NAT or endpoints and protect nothing more.",
            )
            acknowledge_checkov(
                handler,
                "CKV_AWS_173",
                "CDK's BucketDeployment handler's environment holds only the CA bundle path the AWS CLI layer "
                "needs, no secret; Lambda encrypts it at rest with its AWS managed key.",
            )
