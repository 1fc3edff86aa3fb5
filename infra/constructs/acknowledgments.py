"""Acknowledging findings, each with a reason: cdk-nag's (cdk-nag 3: ``Validations.of(construct).acknowledge``)
and checkov's (its skip metadata on the CloudFormation resource: ``Metadata.checkov.skip``)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-XX`` or ``AwsSolutions-XX[finding]``) on ``scope`` and below."""
    if not reason.strip():
        raise ValueError(f"acknowledging {rule_id} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _flatten(node: Any) -> str:
    # How cdk-nag writes a resource in a finding id: intrinsics flattened to <Ref> / <Logical.Attr>.
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise ValueError(f"cannot name a finding for {node!r}")


def wildcard_resource_finding(scope: IConstruct, resource: str) -> str:
    """The id of the AwsSolutions-IAM5 finding for a resource ARN with a wildcard."""
    return f"AwsSolutions-IAM5[Resource::{_flatten(Stack.of(scope).resolve(resource))}]"


# Why the log groups are not encrypted with a customer managed key (checkov CKV_AWS_158), said once.
LOG_GROUP_ENCRYPTION = (
    "CloudWatch Logs encrypts every log group at rest; these logs carry workflow ids, statuses and errors (no "
    "secrets, no documents), so a customer managed key per log group would add cost and a key policy to keep, "
    "not protection."
)


def acknowledge_checkov(scope: IConstruct, check_id: str, reason: str) -> None:
    """Acknowledge one checkov finding on ``scope``'s CloudFormation resource (itself, or its default child)."""
    if not reason.strip():
        raise ValueError(f"acknowledging {check_id} needs a reason")
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to acknowledge {check_id} on")
    metadata = resource.get_metadata("checkov") or {}
    skips = [skip for skip in metadata.get("skip", []) if skip["id"] != check_id]
    resource.add_metadata("checkov", {**metadata, "skip": [*skips, {"id": check_id, "comment": reason}]})
