"""The platform's users: a Cognito user pool, its role groups, the app client the API's callers use, and the
hosted sign-in (a Cognito domain) with the operations console's app client."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge

# The same lifetimes for every app client: an hour of ID and access token, a day of refresh token.
ID_TOKEN_VALIDITY = Duration.hours(1)
ACCESS_TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.days(1)


class WorkflowUserPool(Construct):
    """An admin-provisioned user pool (no self sign-up, e-mail sign-in, strong passwords, TOTP MFA required,
    deletion protection) with one group per role, a public app client for SRP sign-in (``accu login``), and a
    Cognito prefix domain serving the classic hosted UI, which the console's client (``add_console_client``)
    signs in through."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool_name: str,
        groups: Sequence[str],
        domain_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=user_pool_name,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Essentials tier: the pool is admin-provisioned (no self sign-up) with TOTP MFA required and strong "
            "passwords; the Plus tier's threat protection is billed per monthly active user and is a "
            "production decision for the platform's owner, not a default of every stage.",
        )
        # The groups become the ID token's cognito:groups claim, which the API authorises on.
        self.groups = {
            name: cognito.CfnUserPoolGroup(
                self,
                f"Group{name.capitalize()}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=name,
                description=f"ACCU workflow {name}",
            )
            for name in groups
        }
        # SRP through Cognito's API only: with OAuth left on, CDK's defaults would let the hosted UI hand this
        # client's tokens to https://example.com (implicit grant) once the pool has a domain.
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            disable_o_auth=True,
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=ID_TOKEN_VALIDITY,
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
        )
        # The classic hosted UI (managed login version 1) at https://<prefix>.auth.<region>.amazoncognito.com.
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix),
            managed_login_version=cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
        )

    @property
    def sign_in_url(self) -> str:
        """``https://<prefix>.auth.<region>.amazoncognito.com``: the hosted UI and the OAuth endpoints."""
        return self.domain.base_url()

    def add_console_client(self, url: str) -> cognito.UserPoolClient:
        """A public client (no secret) for a browser app at ``url``: the authorization code grant only, which the
        app redeems with PKCE (a code_challenge it sends with S256), back to ``url`` after sign-in and sign-out;
        no sign-in through Cognito's API (refresh only)."""
        client = self.user_pool.add_client(
            "ConsoleClient",
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[url],
                logout_urls=[url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=ID_TOKEN_VALIDITY,
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
        )
        # Left unset, ExplicitAuthFlows would allow SRP and custom auth: the hosted UI is the only way in.
        resource = client.node.default_child
        if not isinstance(resource, cognito.CfnUserPoolClient):
            raise TypeError(f"{client.node.path} has no CfnUserPoolClient")
        resource.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]
        return client
