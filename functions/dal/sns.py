"""SNS access: alerts and escalations for operations, reminders for a workflow's people
(e-mail subscriptions in AWS, the outbox locally)."""

from __future__ import annotations

import json
from typing import Any


class Notifier:
    def __init__(self, client: Any, alerts_topic_arn: str | None, notifications_topic_arn: str | None = None):
        self.client = client
        self.alerts_topic_arn = alerts_topic_arn
        self.notifications_topic_arn = notifications_topic_arn

    def alert(self, subject: str, message: dict[str, Any], kind: str = "alert", level: int | None = None) -> None:
        """To operations. ``kind`` and ``level`` let subscriptions filter: escalation recipients by
        level, administrators the reports."""
        attributes = {"kind": {"DataType": "String", "StringValue": kind}}
        if level is not None:
            attributes["escalationLevel"] = {"DataType": "Number", "StringValue": str(level)}
        self._publish(self.alerts_topic_arn, subject, message, attributes)

    def notify(self, subject: str, message: dict[str, Any]) -> None:
        self._publish(self.notifications_topic_arn, subject, message, {})

    def _publish(
        self, topic_arn: str | None, subject: str, message: dict[str, Any], attributes: dict[str, dict[str, str]]
    ) -> None:
        if not topic_arn:
            return
        # SNS subjects: at most 100 printable ASCII characters, no line breaks.
        clean = "".join(ch for ch in subject if 32 <= ord(ch) < 127)[:100] or "ACCU workflows"
        self.client.publish(
            TopicArn=topic_arn,
            Subject=clean,
            Message=json.dumps(message, indent=2, sort_keys=True),
            MessageAttributes=attributes,
        )
