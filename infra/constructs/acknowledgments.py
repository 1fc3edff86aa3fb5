"""Acknowledging cdk-nag findings (cdk-nag 3: ``Validations.of(construct).acknowledge``), each with a reason."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
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
