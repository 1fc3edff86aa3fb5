"""SNS access: alerts and escalations for operations (e-mail subscriptions in AWS, the outbox locally)."""

from __future__ import annotations

import json
from typing import Any


class Notifier:
    def __init__(self, client: Any, alerts_topic_arn: str | None):
        self.client = client
        self.alerts_topic_arn = alerts_topic_arn

    def alert(self, subject: str, message: dict[str, Any]) -> None:
        if not self.alerts_topic_arn:
            return
        self.client.publish(
            TopicArn=self.alerts_topic_arn,
            Subject=subject[:100],
            Message=json.dumps(message, indent=2, sort_keys=True),
        )
