"""The REST API: public /health and /openapi.json, Cognito everywhere else, a logged and throttled stage."""

from __future__ import annotations

from typing import Any

from functions.domain.identity import GROUPS
from tests.infra.synthesis import CONTEXT, PLATFORM_STACK, STAGE, Synthesized


def _methods_by_path(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    resources = synthesized.resources("AWS::ApiGateway::Resource", PLATFORM_STACK)
    return {
        (resources[m["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"], m["Properties"]["HttpMethod"]): m
        for m in synthesized.resources("AWS::ApiGateway::Method", PLATFORM_STACK).values()
    }


def test_given_the_api_then_it_has_exactly_the_public_routes_and_the_authenticated_proxy(
    synthesized: Synthesized,
) -> None:
    # and each resource answers the operations console's CORS preflight (test_infra_console.py)
    assert set(_methods_by_path(synthesized)) == {
        ("health", "GET"),
        ("openapi.json", "GET"),
        ("{proxy+}", "ANY"),
        *((path, "OPTIONS") for path in ("health", "openapi.json", "{proxy+}")),
    }


def test_given_the_proxy_route_then_every_method_uses_the_cognito_authorizer_of_the_user_pool(
    synthesized: Synthesized,
) -> None:
    authorizers = synthesized.resources("AWS::ApiGateway::Authorizer", PLATFORM_STACK)
    (authorizer_id,) = authorizers
    authorizer = authorizers[authorizer_id]["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool", PLATFORM_STACK)
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]

    # every method but the CORS preflight, which browsers send without credentials (test_infra_console.py)
    proxy_methods = [
        m for (path, method), m in _methods_by_path(synthesized).items() if path == "{proxy+}" and method != "OPTIONS"
    ]
    assert proxy_methods
    for method in proxy_methods:
        assert method["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert method["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}
        assert method["Properties"]["Integration"]["Type"] == "AWS_PROXY"


def test_given_the_public_routes_then_they_have_no_authorizer(synthesized: Synthesized) -> None:
    methods = _methods_by_path(synthesized)
    for key in (("health", "GET"), ("openapi.json", "GET")):
        assert methods[key]["Properties"]["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in methods[key]["Properties"]


def test_given_the_stage_then_it_writes_access_logs_traces_emits_metrics_and_throttles(
    synthesized: Synthesized,
) -> None:
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage", PLATFORM_STACK).values()
    properties = stage["Properties"]
    assert properties["StageName"] == STAGE
    log_group_ids = set(synthesized.resources("AWS::Logs::LogGroup", PLATFORM_STACK))
    assert properties["AccessLogSetting"]["DestinationArn"]
    assert any(log_group_id in str(properties["AccessLogSetting"]["DestinationArn"]) for log_group_id in log_group_ids)
    assert '"requestId"' in properties["AccessLogSetting"]["Format"]
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["MetricsEnabled"] is True
    assert settings["ThrottlingRateLimit"] == CONTEXT["apiThrottleRateLimit"]
    assert settings["ThrottlingBurstLimit"] == CONTEXT["apiThrottleBurstLimit"]


def test_given_the_user_pool_then_it_has_the_role_groups_mfa_and_no_self_sign_up(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Cognito::UserPoolGroup", PLATFORM_STACK)
    assert sorted(g["Properties"]["GroupName"] for g in groups.values()) == sorted(GROUPS)
    (pool,) = synthesized.resources("AWS::Cognito::UserPool", PLATFORM_STACK).values()
    assert pool["Properties"]["MfaConfiguration"] == "ON"
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # two clients: accu login's (SRP) and the operations console's (hosted UI, test_infra_console.py)
    assert len(synthesized.resources("AWS::Cognito::UserPoolClient", PLATFORM_STACK)) == 2


def test_given_the_app_client_then_accu_login_can_sign_in_refresh_and_revoke(synthesized: Synthesized) -> None:
    (client,) = (
        client
        for client in synthesized.resources("AWS::Cognito::UserPoolClient", PLATFORM_STACK).values()
        if "ALLOW_USER_SRP_AUTH" in client["Properties"].get("ExplicitAuthFlows", [])
    )
    properties = client["Properties"]
    # accu login: SRP (the password never leaves the laptop), no client secret (a CLI cannot keep one)
    assert set(properties["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert properties.get("GenerateSecret") is False
    # accu logout revokes the refresh token; a wrong e-mail is not told apart from a wrong password
    assert properties["EnableTokenRevocation"] is True
    assert properties["PreventUserExistenceErrors"] == "ENABLED"


def test_given_what_the_gateway_refuses_itself_then_it_answers_in_the_api_error_body(synthesized: Synthesized) -> None:
    responses = {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in synthesized.resources("AWS::ApiGateway::GatewayResponse", PLATFORM_STACK).values()
    }
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    for properties in responses.values():
        body = properties["ResponseTemplates"]["application/json"]
        assert body.startswith('{"error": "') and '"message": $context.error.messageString' in body
        assert '"details": [' in body
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"


def test_given_a_fresh_account_then_the_stack_sets_api_gateways_cloudwatch_role_before_the_stage_logs(
    synthesized: Synthesized,
) -> None:
    # Stage logging needs the account's API Gateway CloudWatch role: by default the stack sets it
    (account_id,) = synthesized.resources("AWS::ApiGateway::Account", PLATFORM_STACK)
    account = synthesized.platform["Resources"][account_id]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = synthesized.platform["Resources"][role_id]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    # kept when the stack goes: other APIs of the account may log through it
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    # and the stage, which logs access and errors, is made after it
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage", PLATFORM_STACK).values()
    assert account_id in stage["DependsOn"]
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"]
    assert {setting["LoggingLevel"] for setting in stage["Properties"]["MethodSettings"]} == {"ERROR"}
