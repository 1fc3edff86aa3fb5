"""The platform's users: a Cognito user pool, its role groups, and the app client the API's callers use."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs.acknowledgments import acknowledge


class WorkflowUserPool(Construct):
    """An admin-provisioned user pool (no self sign-up, e-mail sign-in, strong passwords, TOTP MFA required,
    deletion protection) with one group per role, and a public app client for SRP sign-in."""

    def __init__(self, scope: Construct, construct_id: str, *, user_pool_name: str, groups: Sequence[str]) -> None:
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
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )
