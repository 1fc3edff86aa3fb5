#!/usr/bin/env python3
"""The CDK app of the ACCU workflow platform: ``cdk synth`` / ``cdk deploy`` (or ``python app.py`` to synthesize
into ``cdk.out``). Synthesis is offline: no lookups, no AWS credentials.

Two stacks per stage:

- ``AccuWorkflows-<stage>-Storage``: the workflows and idempotency DynamoDB tables (stateful).
- ``AccuWorkflows-<stage>-Platform``: the Lambda functions, one Step Functions state machine per lifecycle of
  ``infra/catalog.py`` (published behind a ``live`` alias), the alerts SNS topic, the Cognito user pool and
  the REST API.

cdk-nag's AwsSolutions checks run as a validation plugin: synthesis fails on any unacknowledged finding.

Context values (``cdk.json``, ``-c key=value`` or ``build_app(context=...)``; all optional):

``account``, ``region``
    Target environment. Default: ``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION``, else ``123456789012`` /
    ``ap-southeast-2``.
``stage``
    Names the stacks and resources (``AccuWorkflows-<stage>-...``) and the API stage. Default ``dev``.
``alertEmail``
    An e-mail address subscribed to the alerts topic. Default: no subscription.
``lifecycleTimeouts``
    Per workflow type, timeouts overriding the lifecycle's defaults, as JSON or a dict:
    ``{"<workflow type>": {"<timeout name>": <seconds>}}``. Unknown types or names fail the synthesis.
``apiThrottleRateLimit``, ``apiThrottleBurstLimit``
    The API stage's steady-state requests per second and burst. Default 50 and 100.
``powertoolsVersion``
    Release of the AWS-published Powertools for AWS Lambda (Python) layer. Default ``3.37.0``. Its ARN is read
    at deploy time from the public SSM parameter
    ``/aws/service/powertools/python/x86_64/python3.14/<version>``.
``powertoolsLayerArn``
    An explicit layer version ARN instead of the SSM parameter, e.g.
    ``arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:<N>``.
``signalApplyWaitSeconds``
    How long the API waits for a kept signal to be applied before answering 202. Default 5.
"""

import os

from infra.catalog import ROOT
from infra.stacks import build_app

if __name__ == "__main__":
    # The CDK CLI sets CDK_OUTDIR; run directly, the app writes to ./cdk.out as `cdk synth` would.
    build_app(outdir=os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out")).synth()
