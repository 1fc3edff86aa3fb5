"""The platform's REST API: API Gateway in front of the Api function, behind a Cognito authorizer."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.acknowledgments import LOG_GROUP_ENCRYPTION, acknowledge, acknowledge_checkov

# Paths answered without authentication (GET), and why; everything else goes through the Cognito authorizer.
PUBLIC_PATHS = {
    "health": "/health is a liveness probe for monitors and load tests; it answers a constant and reads no data.",
    "openapi.json": "/openapi.json serves the API's OpenAPI description to clients and tooling; it reads no data.",
}


# What API Gateway answers itself, before the function runs, in the API's error body (DESIGN §5), so
# that a client reads every refusal the same way: response type -> (status, error code).
GATEWAY_REFUSALS = {
    apigw.ResponseType.UNAUTHORIZED: ("401", "UNAUTHENTICATED"),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: ("404", "NOT_FOUND"),
    apigw.ResponseType.ACCESS_DENIED: ("403", "FORBIDDEN"),
    apigw.ResponseType.THROTTLED: ("429", "THROTTLED"),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("413", "PAYLOAD_TOO_LARGE"),
    apigw.ResponseType.DEFAULT_4_XX: ("400", "BAD_REQUEST"),
    apigw.ResponseType.DEFAULT_5_XX: ("502", "GATEWAY_ERROR"),
}
ERROR_BODY_TEMPLATE = (
    '{"error": "%s", "message": $context.error.messageString, "details": [{"requestId": "$context.requestId"}]}'
)

# What a browser app on another origin may send (CORS, ``allow_origin``): the ID token, JSON bodies, and the key
# that makes a state-changing request idempotent; the methods each resource answers.
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
PROXY_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
PUBLIC_METHODS = ("GET", "OPTIONS")
CORS_MAX_AGE = Duration.minutes(10)
PREFLIGHT_REASON = (
    "A CORS preflight (OPTIONS) is sent by browsers without credentials, by design (Fetch standard): it must be "
    "answered without an authorizer. API Gateway answers it itself (a mock integration: the allowed origin, "
    "headers and methods), reads no data and never invokes the function."
)


class WorkflowApi(Construct):
    """A regional REST API proxying every request to one function: ``/health`` and ``/openapi.json`` (GET)
    are public, ``/{proxy+}`` (ANY) requires a Cognito ID token. The stage writes JSON access logs, traces with
    X-Ray, emits metrics and throttles; what the gateway refuses itself carries the API's error body."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        stage_name: str,
        handler: lambda_.IFunction,
        user_pool: cognito.IUserPool,
        throttle_rate_limit: float,
        throttle_burst_limit: int,
        log_retention: logs.RetentionDays,
        cloud_watch_role: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=api_name,
            description="ACCU workflow platform",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Stage logging needs the account's API Gateway CloudWatch role: set here unless the account has one
            # (one per account and region; kept when the stack is deleted, as other APIs may rely on it).
            cloud_watch_role=cloud_watch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if cloud_watch_role else None,
            deploy_options=apigw.StageOptions(
                # Execution logs of errors (the request that failed, and why), beside the access logs.
                logging_level=apigw.MethodLoggingLevel.ERROR if cloud_watch_role else None,
                stage_name=stage_name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=throttle_rate_limit,
                throttling_burst_limit=throttle_burst_limit,
            ),
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "A {proxy+} integration declares no per-route models for API Gateway to validate against; the Api "
            "function validates every body, path and query parameter with its pydantic models (Powertools event "
            "handler) and answers 422 on invalid requests.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAF web ACL: every route but /health and /openapi.json needs a Cognito token and the stage "
            "throttles; a web ACL (billed per ACL, rule and request) is left to the environment's owner.",
        )
        if cloud_watch_role:
            acknowledge(
                self.rest_api,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account's API Gateway CloudWatch role uses the AWS managed policy the API Gateway documentation "
                "names for it (AmazonAPIGatewayPushToCloudWatchLogs): it writes API Gateway's own logs only.",
            )
        else:
            acknowledge(
                self.rest_api,
                "AwsSolutions-APIG6",
                "apiGatewayCloudWatchRole=false: the account's API Gateway CloudWatch role is managed outside this "
                "stack, so execution logging is left off; requests are covered by the stage's JSON access logs, "
                "X-Ray traces and the function's structured logs.",
            )
        acknowledge_checkov(self.access_logs, "CKV_AWS_158", LOG_GROUP_ENCRYPTION)
        acknowledge_checkov(
            self.rest_api.deployment_stage,
            "CKV_AWS_120",
            "No response cache: answers depend on the caller (identity, groups) and on workflows that change with "
            "every signal, so a cache would serve stale or another caller's data; a cache cluster is also billed "
            "by the hour.",
        )
        self.gateway_responses = {
            response_type: self.rest_api.add_gateway_response(
                f"{code.title().replace('_', '')}Response",
                type=response_type,
                status_code=status,
                templates={"application/json": ERROR_BODY_TEMPLATE % code},
            )
            for response_type, (status, code) in GATEWAY_REFUSALS.items()
        }
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool], identity_source="method.request.header.Authorization"
        )
        integration = apigw.LambdaIntegration(handler, proxy=True, allow_test_invoke=False)

        self.public_methods: dict[str, apigw.Method] = {}
        for path, why_public in PUBLIC_PATHS.items():
            method = self.rest_api.root.add_resource(path).add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE
            )
            acknowledge(method, "AwsSolutions-APIG4", why_public)
            acknowledge_checkov(method, "CKV_AWS_59", why_public)
            acknowledge(method, "AwsSolutions-COG4", why_public)
            self.public_methods[path] = method

        self.proxy_method = self.rest_api.root.add_resource("{proxy+}").add_method(
            "ANY",
            integration,
            authorization_type=apigw.AuthorizationType.COGNITO,
            authorizer=self.authorizer,
        )
        self.preflight_methods: dict[str, apigw.Method] = {}

    def allow_origin(self, origin: str) -> None:
        """Let a browser app at ``origin`` (``https://host``) call the API: API Gateway answers every resource's
        CORS preflight itself, without the authorizer, and what the gateway refuses itself carries
        ``Access-Control-Allow-Origin`` so that the app reads the error. The function's own answers carry it
        too: its ``CONSOLE_ORIGIN`` variable, read by the API's resolver (functions/handlers/api.py)."""
        methods = {path: PUBLIC_METHODS for path in PUBLIC_PATHS} | {"{proxy+}": PROXY_METHODS}
        for path, allowed in methods.items():
            resource = self.rest_api.root.get_resource(path)
            if resource is None:
                raise ValueError(f"the API has no /{path} resource")
            method = resource.add_cors_preflight(
                allow_origins=[origin],
                allow_headers=list(CORS_ALLOW_HEADERS),
                allow_methods=list(allowed),
                max_age=CORS_MAX_AGE,
            )
            acknowledge(method, "AwsSolutions-APIG4", PREFLIGHT_REASON)
            acknowledge(method, "AwsSolutions-COG4", PREFLIGHT_REASON)
            acknowledge_checkov(method, "CKV_AWS_59", PREFLIGHT_REASON)
            self.preflight_methods[path] = method
        for response in self.gateway_responses.values():
            cfn_response = response.node.default_child
            if not isinstance(cfn_response, apigw.CfnGatewayResponse):
                raise TypeError(f"{response.node.path} has no CfnGatewayResponse")
            cfn_response.response_parameters = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{origin}'"}

    @property
    def url(self) -> str:
        return self.rest_api.url
