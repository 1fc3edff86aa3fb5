"""The CDK stacks of a stage, and the app that holds them (``build_app``)."""

from infra.stacks.application import CONTEXT_KEYS, build_app, cdk_json_context
from infra.stacks.config import DeploymentConfig
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.storage_stack import StorageStack

__all__ = ["CONTEXT_KEYS", "DeploymentConfig", "PlatformStack", "StorageStack", "build_app", "cdk_json_context"]
