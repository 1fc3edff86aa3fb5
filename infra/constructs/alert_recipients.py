"""Who hears what on the alerts topic: e-mail subscriptions filtered on the alerts' message attributes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

# The message attributes the functions set on every alert (functions/dal/sns.py, Notifier.alert): ``kind``
# (String) and, on escalations, ``escalationLevel`` (Number).
KIND_ATTRIBUTE = "kind"
LEVEL_ATTRIBUTE = "escalationLevel"
ESCALATION = "escalation"
REPORT = "report"

FilterPolicy = dict[str, list[Any]]


def escalation_filter(level: int) -> FilterPolicy:
    """Escalations at ``level`` and above."""
    return {KIND_ATTRIBUTE: [ESCALATION], LEVEL_ATTRIBUTE: [{"numeric": [">=", level]}]}


def report_filter() -> FilterPolicy:
    return {KIND_ATTRIBUTE: [REPORT]}


def filter_policies(
    *,
    everything: str | None,
    escalation_recipients: Mapping[int, Sequence[str]],
    report_email: str | None,
) -> dict[str, FilterPolicy | None]:
    """E-mail address → its subscription's filter policy (None: every alert).

    SNS keeps one subscription per topic, protocol and endpoint, so an address named more than once gets one
    subscription whose policy is the union of what each mention asks for: an address listed at several levels
    hears escalations from the lowest of them; one that is also the report's recipient gets both (``$or``);
    the ``alertEmail`` address hears everything anyway. Addresses are compared case-insensitively.
    """
    spelled: dict[str, str] = {}
    wants_everything: set[str] = set()
    lowest_level: dict[str, int] = {}
    wants_report: set[str] = set()

    def key(address: str) -> str:
        spelled.setdefault(address.lower(), address)
        return address.lower()

    if everything:
        wants_everything.add(key(everything))
    for level, addresses in sorted(escalation_recipients.items()):
        for address in addresses:
            lowest_level.setdefault(key(address), level)
    if report_email:
        wants_report.add(key(report_email))

    policies: dict[str, FilterPolicy | None] = {}
    for address, spelling in spelled.items():
        if address in wants_everything:
            policies[spelling] = None
            continue
        clauses = [escalation_filter(lowest_level[address])] if address in lowest_level else []
        clauses += [report_filter()] if address in wants_report else []
        policies[spelling] = clauses[0] if len(clauses) == 1 else {"$or": list(clauses)}
    return policies


class AlertRecipients(Construct):
    """E-mail subscriptions on an alerts topic: ``everything`` hears every alert (no filter); each level's
    ``escalation_recipients`` hear escalations at that level and above (``kind`` = escalation, numeric
    ``escalationLevel`` >= the level); ``report_email`` hears the daily reports (``kind`` = report).

    The subscriptions belong to the topic (their logical ids follow the address, as ``add_subscription`` makes
    them), so adding a recipient never replaces another's subscription."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        everything: str | None,
        escalation_recipients: Mapping[int, Sequence[str]],
        report_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.filter_policies = filter_policies(
            everything=everything, escalation_recipients=escalation_recipients, report_email=report_email
        )
        for address, policy in self.filter_policies.items():
            topic.add_subscription(
                subscriptions.EmailSubscription(
                    address,
                    filter_policy=(
                        {name: sns.SubscriptionFilter(conditions=conditions) for name, conditions in policy.items()}
                        if policy
                        else None
                    ),
                )
            )
