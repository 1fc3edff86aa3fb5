"""The operations console: a private bucket behind CloudFront (OAC, HTTPS, security headers), its files and
config.json deployed, the hosted sign-in's client and domain, and the API's CORS for the console's origin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from infra.catalog import ROOT
from infra.stacks.config import DeploymentConfig
from tests.infra.synthesis import ACCOUNT, PLATFORM_STACK, REGION, STAGE, Synthesized, template_text

MARKER = re.compile(r"<<marker:0xbaba:\d+>>")


def _one(synthesized: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = synthesized.resources(resource_type, PLATFORM_STACK).items()
    return found


def _console_bucket(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    """The bucket the distribution reads (its one origin)."""
    _, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    bucket_id = origin["DomainName"]["Fn::GetAtt"][0]
    return bucket_id, synthesized.platform["Resources"][bucket_id]


def _distribution_url(synthesized: Synthesized) -> str:
    distribution_id, _ = _one(synthesized, "AWS::CloudFront::Distribution")
    return f"https://<{distribution_id}.DomainName>/"


def _clients(synthesized: Synthesized) -> tuple[dict[str, Any], dict[str, Any]]:
    """(accu login's SRP client, the console's client)."""
    clients = [c["Properties"] for c in synthesized.resources("AWS::Cognito::UserPoolClient", PLATFORM_STACK).values()]
    (srp,) = [c for c in clients if "ALLOW_USER_SRP_AUTH" in c.get("ExplicitAuthFlows", [])]
    (console,) = [c for c in clients if c is not srp]
    return srp, console


def _console_client_id(synthesized: Synthesized) -> str:
    (logical_id,) = (
        logical_id
        for logical_id, client in synthesized.resources("AWS::Cognito::UserPoolClient", PLATFORM_STACK).items()
        if client["Properties"].get("AllowedOAuthFlows") == ["code"]
    )
    return logical_id


def _sign_in_domain(synthesized: Synthesized) -> str:
    domain_id, _ = _one(synthesized, "AWS::Cognito::UserPoolDomain")
    return f"https://<{domain_id}>.auth.{REGION}.amazoncognito.com"


def _api_origin(synthesized: Synthesized) -> str:
    rest_api_id, _ = _one(synthesized, "AWS::ApiGateway::RestApi")
    return f"https://<{rest_api_id}>.execute-api.{REGION}.<AWS::URLSuffix>"


def test_given_the_console_bucket_then_it_is_private_and_only_cloudfront_reads_it_through_oac(
    synthesized: Synthesized,
) -> None:
    # Given the bucket the distribution serves
    bucket_id, bucket = _console_bucket(synthesized)
    properties = bucket["Properties"]
    # Then nothing of it is public, ACLs are off, it is encrypted, versioned, logged and kept with the stack gone
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"] != bucket_id
    assert bucket["DeletionPolicy"] == "Retain"
    # and its policy denies requests without TLS and allows one thing: the distribution's GetObject, signed by OAC
    (policy,) = (
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.resources("AWS::S3::BucketPolicy", PLATFORM_STACK).values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in policy
    )
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    distribution_id, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert template_text(allow["Resource"]) == f"<{bucket_id}.Arn>/*"
    source = template_text(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source == f"arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<{distribution_id}>"
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = synthesized.platform["Resources"][oac_id]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_given_the_distribution_then_it_serves_index_html_over_https_only_with_the_security_headers(
    synthesized: Synthesized,
) -> None:
    _, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert config["DefaultRootObject"] == "index.html"
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    headers_id, headers = _one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["ContentSecurityPolicy"]["Override"] is True


def test_given_the_content_security_policy_then_code_comes_from_the_console_and_calls_go_to_the_api_and_cognito(
    synthesized: Synthesized,
) -> None:
    _, headers = _one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")
    policy = template_text(
        headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"][
            "ContentSecurityPolicy"
        ]
    )
    directives = {name: sources for name, *sources in (part.split() for part in policy.split("; "))}
    # scripts and styles from the console's origin only: no inline code, no eval, no other host
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert "unsafe" not in policy
    # requests to itself (config.json), the API and Cognito's token endpoint, and nowhere else
    assert directives["connect-src"] == ["'self'", _api_origin(synthesized), _sign_in_domain(synthesized)]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"] and directives["object-src"] == ["'none'"]
    # within the length CloudFront accepts for the header (1783 characters), with room for the real names
    assert len(policy) < 1200


def test_given_the_deployment_then_it_copies_the_console_folder_and_a_config_json_for_cognito(
    synthesized: Synthesized,
) -> None:
    # Given the BucketDeployment of the console's files
    _, deployment = _one(synthesized, "Custom::CDKBucketDeployment")
    properties = deployment["Properties"]
    bucket_id, _ = _console_bucket(synthesized)
    assert properties["DestinationBucketName"] == {"Ref": bucket_id}
    assert properties["Prune"] is True
    assert properties["SystemMetadata"] == {"cache-control": "no-cache"}
    folders = [synthesized.outdir / f"asset.{key.removesuffix('.zip')}" for key in properties["SourceObjectKeys"]]
    files, config = folders
    # Then the first source is the console folder (index.html and its modules), without any config.json of its own
    assert (files / "index.html").is_file() and (files / "index.html").read_bytes() == (
        ROOT / "console" / "index.html"
    ).read_bytes()
    assert not (files / "config.json").exists()
    # and the second is config.json, whose deploy-time values are filled in by the deployment
    markers = {marker: template_text(value) for marker, value in properties["SourceMarkers"][1].items()}
    written = MARKER.sub(lambda match: markers[match.group(0)], (config / "config.json").read_text())
    pool_id, _ = _one(synthesized, "AWS::Cognito::UserPool")
    stage_id, _ = _one(synthesized, "AWS::ApiGateway::Stage")
    assert json.loads(written) == {
        "mode": "cognito",
        "apiUrl": f"{_api_origin(synthesized)}/<{stage_id}>/",
        "region": REGION,
        "userPoolId": f"<{pool_id}>",
        "clientId": f"<{_console_client_id(synthesized)}>",
        "signInDomain": _sign_in_domain(synthesized),
        "redirectUri": _distribution_url(synthesized),
    }


def test_given_the_console_client_then_it_signs_in_with_the_code_grant_only_back_to_the_console(
    synthesized: Synthesized,
) -> None:
    srp, console = _clients(synthesized)
    # a public client: no secret, the authorization code grant (redeemed with PKCE by the console), no API sign-in
    assert console["GenerateSecret"] is False
    assert console["AllowedOAuthFlowsUserPoolClient"] is True
    assert console["AllowedOAuthFlows"] == ["code"]
    assert sorted(console["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert console["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert console["SupportedIdentityProviders"] == ["COGNITO"]
    # back to the distribution's URL after sign-in and sign-out, and nowhere else
    assert [template_text(url) for url in console["CallbackURLs"]] == [_distribution_url(synthesized)]
    assert [template_text(url) for url in console["LogoutURLs"]] == [_distribution_url(synthesized)]
    assert console["EnableTokenRevocation"] is True
    assert console["PreventUserExistenceErrors"] == "ENABLED"
    for validity in ("IdTokenValidity", "AccessTokenValidity", "RefreshTokenValidity", "TokenValidityUnits"):
        assert console[validity] == srp[validity], validity


def test_given_the_hosted_ui_then_accu_logins_srp_client_keeps_its_flows_and_has_no_oauth(
    synthesized: Synthesized,
) -> None:
    srp, _ = _clients(synthesized)
    assert set(srp["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert srp["GenerateSecret"] is False
    # the pool's domain cannot hand this client's tokens to a redirect (CDK's default is https://example.com)
    assert srp["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in srp and "CallbackURLs" not in srp


def test_given_the_user_pool_then_it_has_a_cognito_domain_for_the_stage_and_account(
    synthesized: Synthesized,
) -> None:
    _, domain = _one(synthesized, "AWS::Cognito::UserPoolDomain")
    pool_id, _ = _one(synthesized, "AWS::Cognito::UserPool")
    assert domain["Properties"]["Domain"] == f"accu-{STAGE}-{ACCOUNT}"
    assert domain["Properties"]["UserPoolId"] == {"Ref": pool_id}
    assert domain["Properties"]["ManagedLoginVersion"] == 1  # the classic hosted UI
    assert "CustomDomainConfig" not in domain["Properties"]


@pytest.mark.parametrize("stage", ["aws", "amazon-dev", "cognito1", "Laws"])
def test_given_a_stage_that_makes_a_reserved_cognito_domain_prefix_then_reading_the_context_fails(stage: str) -> None:
    with pytest.raises(ValueError, match="Cognito domain prefix"):
        DeploymentConfig.from_context({"stage": stage}, environ={})


def test_given_the_api_then_api_gateway_answers_the_consoles_preflight_without_the_authorizer(
    synthesized: Synthesized,
) -> None:
    resources = synthesized.resources("AWS::ApiGateway::Resource", PLATFORM_STACK)
    preflights = {
        resources[m["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"]: m["Properties"]
        for m in synthesized.resources("AWS::ApiGateway::Method", PLATFORM_STACK).values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    }
    assert set(preflights) == {"{proxy+}", "health", "openapi.json"}
    origin = _distribution_url(synthesized).rstrip("/")
    for path, method in preflights.items():
        assert method["AuthorizationType"] == "NONE" and "AuthorizerId" not in method, path
        assert method["Integration"]["Type"] == "MOCK", path
        (response,) = method["Integration"]["IntegrationResponses"]
        headers = {
            name.removeprefix("method.response.header."): template_text(value)
            for name, value in response["ResponseParameters"].items()
        }
        assert headers["Access-Control-Allow-Origin"] == f"'{origin}'", path
        assert headers["Access-Control-Allow-Headers"] == "'Authorization,Content-Type,Idempotency-Key'", path
    proxy = preflights["{proxy+}"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert proxy["method.response.header.Access-Control-Allow-Methods"] == "'GET,POST,DELETE,OPTIONS'"


def test_given_what_the_gateway_refuses_itself_then_the_console_may_read_it(synthesized: Synthesized) -> None:
    responses = synthesized.resources("AWS::ApiGateway::GatewayResponse", PLATFORM_STACK).values()
    origin = _distribution_url(synthesized).rstrip("/")
    assert {r["Properties"]["ResponseType"] for r in responses} >= {"UNAUTHORIZED", "DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses:
        parameters = response["Properties"]["ResponseParameters"]
        assert template_text(parameters["gatewayresponse.header.Access-Control-Allow-Origin"]) == f"'{origin}'"


def test_given_the_api_function_then_it_knows_the_consoles_origin_and_no_other_function_does(
    synthesized: Synthesized,
) -> None:
    origin = _distribution_url(synthesized).rstrip("/")
    for name, (_, function) in synthesized.functions().items():
        variables = function["Properties"]["Environment"]["Variables"]
        if name == "Api":
            assert template_text(variables["CONSOLE_ORIGIN"]) == origin
        else:
            assert "CONSOLE_ORIGIN" not in variables, name


# A request to the Api function as API Gateway's proxy integration passes it, from a browser at ORIGIN.
CORS_PROBE = """
import json, sys
from functions.handlers import api
answers = []
for method, path, origin in json.loads(sys.argv[1]):
    event = {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "body": None, "isBase64Encoded": False,
        "headers": {"Origin": origin}, "multiValueHeaders": {"Origin": [origin]}, "pathParameters": {"proxy": path[1:]},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "stageVariables": None,
        "requestContext": {"requestId": "r", "stage": "test", "path": path, "httpMethod": method,
                           "resourcePath": "/{proxy+}", "identity": {}},
    }
    answer = api.app.resolve(event, None)
    headers = answer.get("multiValueHeaders") or {}
    answers.append([answer["statusCode"], (headers.get("Access-Control-Allow-Origin") or [None])[0]])
print(json.dumps(answers))
"""


@pytest.mark.parametrize("console_origin", ["https://d111111abcdef8.cloudfront.net", None])
def test_given_the_console_origin_variable_then_the_functions_own_answers_carry_cors_for_it_alone(
    console_origin: str | None,
) -> None:
    # Given the Api function started with (or without, as locally) the console's origin
    environment = {key: value for key, value in os.environ.items() if key != "CONSOLE_ORIGIN"}
    environment |= {"POWERTOOLS_TRACE_DISABLED": "1", "PYTHONPATH": str(ROOT)}
    if console_origin:
        environment["CONSOLE_ORIGIN"] = console_origin
    # When the console's origin, and another, call it (a success, a route it does not have, a method it refuses)
    origin = console_origin or "https://d111111abcdef8.cloudfront.net"
    requests = [["GET", "/health", origin], ["GET", "/no-such-route", origin], ["DELETE", "/health", origin]]
    requests.append(["GET", "/health", "https://elsewhere.example.com"])
    result = subprocess.run(
        [sys.executable, "-c", CORS_PROBE, json.dumps(requests)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    # Then its answers, errors included, name the console's origin, and only for it
    assert [status for status, _ in answers] == [200, 404, 405, 200]
    expected = console_origin if console_origin else None
    assert [allowed for _, allowed in answers] == [expected, expected, expected, None]


def test_given_the_platform_stack_then_it_outputs_the_consoles_url_client_and_sign_in_domain(
    synthesized: Synthesized,
) -> None:
    outputs = synthesized.platform["Outputs"]
    assert template_text(outputs["ConsoleUrl"]["Value"]) == _distribution_url(synthesized)
    assert outputs["ConsoleClientId"]["Value"] == {"Ref": _console_client_id(synthesized)}
    assert template_text(outputs["SignInDomain"]["Value"]) == _sign_in_domain(synthesized)
