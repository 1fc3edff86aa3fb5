"""E-mail, locally: what SNS would e-mail to a topic's subscribers is written to the outbox folder.

moto accepts SNS publishes but delivers nothing to e-mail subscriptions; an
``after-call.sns.Publish`` handler writes one RFC 822 file per e-mail subscriber instead.
"""

from __future__ import annotations

import json
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3

from infra.local import clock as virtual
from infra.local import permissions

SUBSCRIPTIONS_FRESH_SECONDS = 1.0


class Outbox:
    def __init__(self, folder: Path, sns_client_factory: Any = None):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sns_client_factory = sns_client_factory or (lambda: boto3.client("sns"))
        self._client: Any = None
        # Filter policies by subscription (a subscription's policy is set when it is made), and each
        # topic's subscriptions as last listed (at most once a second: a year skipped in seconds
        # sends hundreds of e-mails).
        self._policies: dict[str, str | None] = {}
        self._subscriptions: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._count = 0

    def reset(self, folder: Path) -> None:
        """Write to a new folder, as if nothing was ever sent (topics and subscriptions are made anew)."""
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._client = None
        self._policies.clear()
        self._subscriptions.clear()
        self._count = 0

    def _sns(self) -> Any:
        if self._client is None:
            self._client = self._sns_client_factory()
        return self._client

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        params = kwargs.get("context", {}).get("outbox_params")
        if params is None or parsed.get("ResponseMetadata", {}).get("HTTPStatusCode", 200) >= 300:
            return
        with permissions.as_runtime():  # the e-mail delivery is SNS's doing, not the publisher's
            self.deliver(
                params["TopicArn"],
                params.get("Subject") or "(no subject)",
                params["Message"],
                params.get("MessageAttributes") or {},
            )

    def remember_params(self, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        # provide-client-params runs before serialization: keep the publish's own fields for after-call.
        context["outbox_params"] = dict(params)

    def deliver(
        self, topic_arn: str, subject: str, message: str, attributes: dict[str, dict[str, str]] | None = None
    ) -> list[Path]:
        sns = self._sns()
        listed_at, subscriptions = self._subscriptions.get(topic_arn, (0.0, []))
        if time.monotonic() - listed_at > SUBSCRIPTIONS_FRESH_SECONDS:
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", [])
            self._subscriptions[topic_arn] = (time.monotonic(), subscriptions)
        written = []
        for subscription in subscriptions:
            if subscription.get("Protocol") != "email":
                continue
            arn = subscription["SubscriptionArn"]
            if arn not in self._policies:
                attributes_of = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                self._policies[arn] = attributes_of.get("FilterPolicy")
            policy = self._policies[arn]
            if policy and not matches_filter_policy(json.loads(policy), attributes or {}):
                continue
            self._count += 1
            mail = EmailMessage()
            mail["From"] = "accu-workflows@localhost"
            mail["To"] = subscription["Endpoint"]
            mail["Subject"] = subject
            mail["Date"] = virtual.current().now().strftime("%a, %d %b %Y %H:%M:%S +0000")
            mail["X-Topic-Arn"] = topic_arn
            mail.set_content(message)
            stamp = virtual.current().now().strftime("%Y%m%dT%H%M%S")
            slug = re.sub(r"[^A-Za-z0-9]+", "-", subject).strip("-")[:60]
            path = self.folder / f"{stamp}-{self._count:05d}-{slug}.eml"
            path.write_text(mail.as_string())
            written.append(path)
        return written

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))

    def to(self, address: str) -> list[str]:
        """The e-mails one address received."""
        return [text for text in (path.read_text() for path in self.messages()) if f"To: {address}" in text]


def matches_filter_policy(policy: dict[str, Any], attributes: dict[str, dict[str, str]]) -> bool:
    """SNS message-attribute filter policies, as far as the platform uses them: exact strings and
    numeric comparisons; every key of the policy must match."""
    for key, allowed in policy.items():
        attribute = attributes.get(key)
        if attribute is None:
            return False
        value = attribute.get("StringValue", "")
        if not any(_matches(rule, value) for rule in allowed):
            return False
    return True


def _matches(rule: Any, value: str) -> bool:
    if isinstance(rule, str):
        return rule == value
    if isinstance(rule, dict) and "numeric" in rule:
        comparisons = rule["numeric"]
        number = float(value)
        checks = {">=": number.__ge__, ">": number.__gt__, "<=": number.__le__, "<": number.__lt__, "=": number.__eq__}
        return all(
            checks[operator](float(bound)) for operator, bound in zip(comparisons[::2], comparisons[1::2], strict=True)
        )
    return False
