"""The AWS-published Powertools for AWS Lambda (Python) layer, resolved at deploy time."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

# AWS publishes one public SSM parameter per Powertools release, architecture and Python version, whose
# value is the layer version ARN in the parameter's region, e.g.
# /aws/service/powertools/python/x86_64/python3.14/3.37.0
#   -> arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:<N>
SSM_PARAMETER_TEMPLATE = "/aws/service/powertools/python/{architecture}/{python}/{version}"


class PowertoolsLayer(Construct):
    """The Powertools layer of a given release.

    By default its ARN is read from the AWS-published SSM parameter by CloudFormation when the stack deploys
    (a template parameter of type ``AWS::SSM::Parameter::Value<String>``): nothing is looked up at synth
    time. An explicit ``layer_arn`` (context ``powertoolsLayerArn``) bypasses the parameter.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        version: str,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture = lambda_.Architecture.X86_64,
        layer_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.parameter_name = SSM_PARAMETER_TEMPLATE.format(
            architecture=architecture.name, python=runtime.name, version=version
        )
        arn = layer_arn or ssm.StringParameter.value_for_string_parameter(self, self.parameter_name)
        self.layer = lambda_.LayerVersion.from_layer_version_arn(self, "Layer", arn)
