"""Is budget enforcement actually wired? Pure checks of what the Budgets and SNS APIs report.

Warden pauses the service only when AWS Budgets sends an alert to Warden's budget topic, and it tells a
person only when somebody has confirmed a subscription to the notify topic. Both are console steps
outside the stack, so both can silently be missing. These functions take the facts the adapters read and
return a `Check` each: ok or not, what is wrong, and the exact commands that fix it.

Why "an ACTUAL notification AT the enforce threshold" and not just "at or below": Budgets sends a
notification once per budget period, when spend first passes its threshold. An alert at 80 % arrives
with a spend below a 100 % enforce threshold, so Warden only warns, and that notification never fires
again in the period: the pause would never come. A notification above the threshold pauses, but late.
So the check wants one whose threshold IS the enforce point (for ABSOLUTE_VALUE, to the cent), and
says which of the two is wrong otherwise.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.errors import WardenError

_CENT: Final = Decimal("0.01")
# Until the operator's Budgets console step is done, the budget topic is this stack output.
TOPIC_PLACEHOLDER: Final = "<the BudgetAlertTopicArn output of the Warden stack>"


class WiringUnreadable(WardenError):
    """AWS refused to show the wiring (AccessDenied, an SCP...): it cannot be verified. `code` is AWS's."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TopicNotFound(WardenError):
    """The SNS topic does not exist (deleted outside CloudFormation?)."""


class BudgetSubscriber(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # SNS | EMAIL
    address: str


class BudgetNotice(BaseModel):
    """One of the budget's notifications (Budgets' `Notification`) with its subscribers."""

    model_config = ConfigDict(frozen=True)

    notification_type: str  # ACTUAL | FORECASTED
    comparison: str  # GREATER_THAN | LESS_THAN | EQUAL_TO
    threshold: Decimal
    threshold_type: str = "PERCENTAGE"  # PERCENTAGE | ABSOLUTE_VALUE
    subscribers: tuple[BudgetSubscriber, ...] = ()

    def sns_topics(self) -> list[str]:
        return [subscriber.address for subscriber in self.subscribers if subscriber.kind == "SNS"]

    def describe(self) -> str:
        unit = " %" if self.threshold_type == "PERCENTAGE" else ""
        sign = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}.get(self.comparison, self.comparison)
        return f"{self.notification_type.lower()} {sign} {number(self.threshold)}{unit}"

    def cli_shorthand(self) -> str:
        return (
            f"NotificationType={self.notification_type},ComparisonOperator={self.comparison},"
            f"Threshold={number(self.threshold)},ThresholdType={self.threshold_type}"
        )


class TopicSubscription(BaseModel):
    """One subscription to an SNS topic. A pending one has SubscriptionArn "PendingConfirmation"."""

    model_config = ConfigDict(frozen=True)

    protocol: str
    endpoint: str
    confirmed: bool


class CheckStatus(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"  # could not be checked now (AWS unavailable); says nothing about the wiring


class Check(BaseModel):
    """One verified fact: its name, whether it holds, what was found, and how to fix it when it does not."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: CheckStatus
    detail: str
    fix: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.OK


def number(value: Decimal) -> str:
    """100 -> "100", 95.50 -> "95.5": as a person (and the AWS CLI) writes it."""
    return format(value.normalize(), "f")


def enforce_amount(limit: Decimal, threshold_percent: Decimal) -> Decimal:
    return (limit * threshold_percent / 100).quantize(_CENT)


def threshold_percent(notice: BudgetNotice, limit: Decimal) -> Decimal | None:
    """The notification's threshold as a percentage of the budget (None for an absolute one on a zero budget)."""
    if notice.threshold_type == "PERCENTAGE":
        return notice.threshold
    if limit <= 0:
        return None
    return notice.threshold * 100 / limit


def fires_at_enforce_point(notice: BudgetNotice, limit: Decimal, enforce_percent: Decimal) -> bool:
    """An ACTUAL "greater than" notification whose threshold is exactly where Warden pauses."""
    if notice.notification_type != "ACTUAL" or notice.comparison != "GREATER_THAN":
        return False
    if notice.threshold_type == "PERCENTAGE":
        return notice.threshold == enforce_percent
    return notice.threshold.quantize(_CENT) == enforce_amount(limit, enforce_percent)


def assess_budget_alerts(
    notices: Sequence[BudgetNotice],
    *,
    account_id: str,
    budget_name: str,
    limit: Decimal,
    enforce_percent: Decimal,
    budget_topic_arn: str | None,
) -> Check:
    """Does some ACTUAL notification at the enforce threshold send to Warden's budget topic?

    Without `budget_topic_arn` (a CLI run that was not told it) any SNS subscriber counts, and the detail
    says that the topic itself was not compared.
    """
    name = "budget alert"
    topic = budget_topic_arn or TOPIC_PLACEHOLDER
    at_point = [notice for notice in notices if fires_at_enforce_point(notice, limit, enforce_percent)]
    wired = [
        notice
        for notice in at_point
        if (budget_topic_arn in notice.sns_topics()) or (budget_topic_arn is None and notice.sns_topics())
    ]
    shown = ", ".join(notice.describe() for notice in notices) or "none"
    if wired:
        detail = f"'{budget_name}' alerts at {wired[0].describe()} to {wired[0].sns_topics()[0]}"
        if budget_topic_arn is None:
            detail += " (not compared with Warden's budget topic: BUDGET_TOPIC_ARN is not set)"
        return Check(name=name, status=CheckStatus.OK, detail=detail)
    wanted = BudgetNotice(
        notification_type="ACTUAL", comparison="GREATER_THAN", threshold=enforce_percent, threshold_type="PERCENTAGE"
    )
    base = f"--account-id {account_id} --budget-name {shlex.quote(budget_name)}"
    if at_point:
        notice = at_point[0]
        others = notice.sns_topics()
        if others:
            detail = (
                f"'{budget_name}' alerts at {notice.describe()} to {others[0]}, not to Warden's budget topic {topic}: "
                "Warden never hears of the breach, so it never pauses"
            )
            fix = (
                "Point that alert at Warden's budget topic (a Budgets notification has at most one SNS subscriber):",
                f"  aws budgets update-subscriber {base} --notification {notice.cli_shorthand()} "
                f"--old-subscriber SubscriptionType=SNS,Address={others[0]} "
                f"--new-subscriber SubscriptionType=SNS,Address={topic}",
            )
        else:
            detail = (
                f"'{budget_name}' alerts at {notice.describe()} by e-mail only, not to Warden's budget topic {topic}: "
                "Warden never hears of the breach, so it never pauses"
            )
            fix = (
                "Add Warden's budget topic to that alert:",
                f"  aws budgets create-subscriber {base} --notification {notice.cli_shorthand()} "
                f"--subscriber SubscriptionType=SNS,Address={topic}",
            )
        return Check(name=name, status=CheckStatus.PROBLEM, detail=detail, fix=fix)
    percents = [
        (notice, percent)
        for notice in notices
        if notice.notification_type == "ACTUAL" and notice.comparison == "GREATER_THAN"
        if (percent := threshold_percent(notice, limit)) is not None
    ]
    later = sorted((percent, notice.describe()) for notice, percent in percents if percent > enforce_percent)
    if later:
        why = (
            f"no ACTUAL alert at the enforce threshold of {number(enforce_percent)} % (alerts: {shown}); "
            f"the first one above it fires at {later[0][1]}, so Warden would pause late, not at "
            f"{number(enforce_percent)} %"
        )
    else:
        why = (
            f"no ACTUAL alert at or above the enforce threshold of {number(enforce_percent)} % (alerts: {shown}); "
            "an alert below it only warns and Budgets sends it once a period, so Warden never pauses"
        )
    fix = (
        f"Add an alert at {number(enforce_percent)} % that notifies Warden's budget topic (or in the Budgets console: "
        f"edit the budget's alerts, actual > {number(enforce_percent)} %, SNS topic ARN {topic}):",
        f"  aws budgets create-notification {base} --notification {wanted.cli_shorthand()} "
        f"--subscribers SubscriptionType=SNS,Address={topic}",
    )
    return Check(name=name, status=CheckStatus.PROBLEM, detail=f"'{budget_name}' has {why}", fix=fix)


def missing_budget(account_id: str, budget_name: str, reason: str) -> Check:
    return Check(
        name="budget",
        status=CheckStatus.PROBLEM,
        detail=f"{reason}: Warden cannot verify a breach, so it never pauses",
        fix=(
            f"Create the budget '{budget_name}' in account {account_id} (Billing and Cost Management > Budgets), "
            "or deploy with BudgetName set to an existing budget (sam deploy --parameter-overrides BudgetName=...).",
        ),
    )


def assess_subscriptions(topic_arn: str, subscriptions: Sequence[TopicSubscription]) -> Check:
    """At least one confirmed subscription: otherwise every notification Warden sends reaches nobody."""
    name = "notify topic"
    confirmed = [subscription for subscription in subscriptions if subscription.confirmed]
    pending = [subscription for subscription in subscriptions if not subscription.confirmed]
    if confirmed:
        kinds = ", ".join(sorted({subscription.protocol for subscription in confirmed}))
        detail = f"{len(confirmed)} confirmed subscription(s) ({kinds}) to {topic_arn}"
        if pending:
            detail += f"; {len(pending)} still pending confirmation"
        return Check(name=name, status=CheckStatus.OK, detail=detail)
    subscribe = (
        f"  aws sns subscribe --topic-arn {topic_arn} --protocol email --notification-endpoint <you@example.com>"
    )
    if pending:
        return Check(
            name=name,
            status=CheckStatus.PROBLEM,
            detail=f"no confirmed subscription to {topic_arn}: {len(pending)} pending confirmation, so Warden's "
            "notifications reach nobody",
            fix=(
                "Click the link in the confirmation e-mail AWS sent; to get a new one, subscribe again:",
                subscribe,
            ),
        )
    return Check(
        name=name,
        status=CheckStatus.PROBLEM,
        detail=f"nobody is subscribed to {topic_arn}, so Warden's notifications reach nobody",
        fix=("Subscribe, then click the link in the confirmation e-mail:", subscribe),
    )


def missing_topic(topic_arn: str) -> Check:
    name = topic_arn.rsplit(":", 1)[-1]
    return Check(
        name="notify topic",
        status=CheckStatus.PROBLEM,
        detail=f"the notify topic {topic_arn} does not exist, so every notification fails",
        fix=(
            "Recreate it under the same name (the ARN is the same) and subscribe again; CloudFormation does not "
            "recreate a topic deleted behind its back:",
            f"  aws sns create-topic --name {shlex.quote(name)} --attributes KmsMasterKeyId=alias/aws/sns",
            f"  aws sns subscribe --topic-arn {topic_arn} --protocol email --notification-endpoint <you@example.com>",
        ),
    )


def unreadable(name: str, what: str, error: WiringUnreadable, permission: str) -> Check:
    return Check(
        name=name,
        status=CheckStatus.PROBLEM,
        detail=f"cannot read {what}: {error.reason}",
        fix=(f"Allow {permission} to whoever runs this check (the stack grants it to run_schedule).",),
    )


def unknown(name: str, reason: str) -> Check:
    return Check(name=name, status=CheckStatus.UNKNOWN, detail=f"not checked: {reason}; the next check tries again")
