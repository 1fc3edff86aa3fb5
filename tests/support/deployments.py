"""A deployment as the CLI finds it: stacks (moto's CloudFormation) whose outputs name its parts."""

from __future__ import annotations

import json

import boto3


def deploy_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
