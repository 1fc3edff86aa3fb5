#!/usr/bin/env python3
"""The CDK app of the ACCU workflow platform: ``cdk synth`` / ``cdk deploy`` (or ``python app.py`` to synthesize
into ``cdk.out``). Synthesis is offline: no lookups, no AWS credentials.

Two stacks per stage:

- ``AccuWorkflows-<stage>-Storage``: the workflows table (with a NEW_IMAGE stream) and the idempotency table,
  the documents bucket (``accuworkflows-<stage>-docs-<account>-<region>``) and its access-logs bucket (stateful).
- ``AccuWorkflows-<stage>-Platform``: the Lambda functions, one Step Functions state machine per lifecycle of
  ``infra/catalog.py`` (published behind a ``live`` alias), the alerts and notifications SNS topics, the
  ``AccuWorkflows-<stage>-Events`` EventBridge bus (archived) and one rule per ``EVENT_RULES`` entry (on that bus,
  or on the account's default bus for AWS services' events), one EventBridge Scheduler schedule per ``SCHEDULES``
  entry, the stream's event source mapping into ``PublishEvents``, the Cognito user pool (with its hosted sign-in
  domain ``accu-<stage>-<account>``), the REST API, the operations console (``console/`` in a private bucket behind
  CloudFront), and operations' CloudWatch alarms (notifying the alerts topic) and
  ``AccuWorkflows-<stage>-Operations`` dashboard.
  It reads the stream's ARN from the storage stack's outputs (``Fn::GetStackOutput``, no export).

cdk-nag's AwsSolutions checks run as a validation plugin: synthesis fails on any unacknowledged finding.

Context values (``cdk.json``, ``-c key=value`` or ``build_app(context=...)``; all optional):

``account``, ``region``
    Target environment. Default: ``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION``, else ``123456789012`` /
    ``ap-southeast-2``.
``stage``
    Names the stacks and resources (``AccuWorkflows-<stage>-...``) and the API stage. Default ``dev``. Letters,
    digits and hyphens, short enough for the documents bucket's name (at most 63 characters), and without
    ``aws``, ``amazon`` or ``cognito`` (it names the Cognito domain).
``alertEmail``
    An e-mail address subscribed to the alerts topic, hearing every alert (escalations, failures, health, reports,
    alarms). Default: no subscription.
``escalationRecipients``
    Escalation level → e-mail addresses, as JSON or a dict: ``{"1": ["ops@x"], "2": ["lead@x"], "3": ["dir@x"]}``.
    Each address is subscribed to the alerts topic with a filter policy: it hears escalations (message attribute
    ``kind`` = ``escalation``) whose ``escalationLevel`` is its level or above. Default: none.
``reportEmail``
    An e-mail address subscribed to the alerts topic for the daily reports only (``kind`` = ``report``). An address
    named more than once (here, in ``escalationRecipients``, as ``alertEmail``) gets one subscription hearing what
    each mention asks for. Default: none.
``notificationEmail``
    An e-mail address subscribed to the notifications topic (reminders to a workflow's people). Default: no
    subscription.
``uploadAllowedOrigins``
    Browser origins (``scheme://host[:port]``) that may ``PUT`` files to the documents bucket with the API's
    presigned URLs: a list, a JSON list or a comma-separated string (``-c``). Default: none, i.e. no CORS rule
    (scripts and servers can still upload; browsers cannot).
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
``healthFailureRateThreshold``, ``healthRunningThreshold``, ``healthStalledHours``
    The health check's thresholds: the share of finished workflows that failed or timed out (0 to 1; default 0.1),
    the number of running workflows (default 100), the hours without progress after which a running workflow
    that is not waiting for a signal is stalled (default 24). The FailureRate and RunningWorkflows alarms use the
    first two.
``recoveryMaxRetries``
    How many times the hourly recovery retries a failed workflow before escalating it. Default 3.
``apiGatewayCloudWatchRole``
    Whether the platform stack sets the account's API Gateway CloudWatch role (``AWS::ApiGateway::Account``, one
    per account and region, kept when the stack is deleted), which stage logging needs. Default ``true``, so a
    fresh account deploys; ``false`` where the account has its role already (another stack or team manages it).
``reservedConcurrency``
    Whether functions get the concurrency their catalog entry reserves (SignalIntake 10, FailureRecovery 1,
    DailyReport 1). Default ``true``. An account whose Lambda concurrency quota is still 10 cannot reserve any
    until the quota is raised: set ``false`` there.
``stateMachineDeployment``, ``stateMachineDeploymentPercentage``, ``stateMachineDeploymentIntervalMinutes``
    How a deploy moves each lifecycle's ``live`` alias to the version it publishes (the alias's CloudFormation
    deployment preference): ``CANARY`` (the percentage of new executions for the interval, then all), ``LINEAR``
    (the percentage more every interval) or ``ALL_AT_ONCE`` (all, watched for the interval). The state machine's
    ExecutionsFailed and ExecutionsTimedOut alarms roll the alias back meanwhile. Running executions finish on the
    version they started on. Default ``CANARY``, 10 %, 10 minutes.
"""

import os

from infra.catalog import ROOT
from infra.stacks import build_app

if __name__ == "__main__":
    # The CDK CLI sets CDK_OUTDIR; run directly, the app writes to ./cdk.out as `cdk synth` would.
    build_app(outdir=os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out")).synth()
