"""AWS Budgets adapter: read one budget's limit and calculated spend, and its notifications with their subscribers.

Budgets is a global API served from us-east-1 (aws-cn: cn-northwest-1), whatever the stack's region.
`budgets:ViewBudget` authorizes every read here: DescribeBudget, DescribeNotificationsForBudget and
DescribeSubscribersForNotification (the Budgets permissions are not named after the API operations).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.budget import BudgetSnapshot
from warden.domain.wiring import BudgetNotice, BudgetSubscriber, WiringUnreadable
from warden.errors import BudgetNotFound
from warden.models.money import Money

if TYPE_CHECKING:
    from mypy_boto3_budgets import BudgetsClient

IAM_ACTIONS = frozenset({"budgets:ViewBudget"})
BUDGETS_REGION = "us-east-1"


class BudgetsReader:
    def __init__(self, budgets: BudgetsClient | None = None) -> None:
        self._client = budgets

    @property
    def _budgets(self) -> BudgetsClient:
        if self._client is None:
            self._client = client("budgets", BUDGETS_REGION)
        return self._client

    def read_budget(self, account_id: str, budget_name: str) -> BudgetSnapshot:
        try:
            budget = self._budgets.describe_budget(AccountId=account_id, BudgetName=budget_name)["Budget"]
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                raise BudgetNotFound(f"no budget named '{budget_name}' in account {account_id}") from error
            if is_retryable(error):
                raise unavailable("budgets", "DescribeBudget", error) from error
            raise
        except BotoCoreError as error:
            raise unavailable("budgets", "DescribeBudget", error) from error
        return _snapshot(budget)

    def budget_notices(self, account_id: str, budget_name: str) -> list[BudgetNotice]:
        """Every notification of the budget with its subscribers (both calls paginated).

        Raises BudgetNotFound, WiringUnreadable (AccessDenied and other refusals) or AwsUnavailable."""
        notices: list[BudgetNotice] = []
        operation = "DescribeNotificationsForBudget"
        try:
            pages = self._budgets.get_paginator("describe_notifications_for_budget").paginate(
                AccountId=account_id, BudgetName=budget_name
            )
            for page in pages:
                for notification in page.get("Notifications", []):
                    operation = "DescribeSubscribersForNotification"
                    subscribers = [
                        BudgetSubscriber(kind=str(subscriber["SubscriptionType"]), address=str(subscriber["Address"]))
                        for subscribers_page in self._budgets.get_paginator(
                            "describe_subscribers_for_notification"
                        ).paginate(AccountId=account_id, BudgetName=budget_name, Notification=notification)
                        for subscriber in subscribers_page.get("Subscribers", [])
                    ]
                    notices.append(_notice(notification, subscribers))
                    operation = "DescribeNotificationsForBudget"
        except ClientError as error:
            code = error_code(error)
            if code == "NotFoundException" and operation == "DescribeNotificationsForBudget":
                raise BudgetNotFound(f"no budget named '{budget_name}' in account {account_id}") from error
            if is_retryable(error):
                raise unavailable("budgets", operation, error) from error
            raise WiringUnreadable(f"Budgets {operation}: {code}", code) from error
        except BotoCoreError as error:
            raise unavailable("budgets", operation, error) from error
        return notices


def _notice(notification: Any, subscribers: list[BudgetSubscriber]) -> BudgetNotice:
    return BudgetNotice(
        notification_type=str(notification.get("NotificationType", "")),
        comparison=str(notification.get("ComparisonOperator", "")),
        threshold=Decimal(str(notification.get("Threshold", 0))),
        threshold_type=str(notification.get("ThresholdType") or "PERCENTAGE"),
        subscribers=tuple(subscribers),
    )


def _money(spend: Any) -> Money | None:
    if not spend or spend.get("Amount") in (None, ""):
        return None
    unit = str(spend.get("Unit") or "USD")
    return Money(amount=Decimal(str(spend["Amount"])), unit=unit)


def _snapshot(budget: Any) -> BudgetSnapshot:
    limit = _money(budget.get("BudgetLimit")) or Money(amount=Decimal(0))
    calculated = budget.get("CalculatedSpend") or {}
    actual = _money(calculated.get("ActualSpend")) or Money(amount=Decimal(0), unit=limit.unit)
    return BudgetSnapshot(
        name=budget["BudgetName"],
        limit=limit,
        actual=actual,
        forecast=_money(calculated.get("ForecastedSpend")),
        time_unit=str(budget.get("TimeUnit") or "MONTHLY"),
    )
