"""What moto 5.2.5's Budgets lacks and Warden's budget wiring check calls, added to the local server.

- `DescribeSubscribersForNotification` is not implemented (moto answers 500): here it returns the subscribers
  moto stored with the notification (at CreateBudget or CreateNotification), matched on the whole
  Notification structure as AWS does (AWS-FACTS §9.4).
- `DescribeNotificationsForBudget` of a budget that does not exist raises a KeyError in moto (a 500): here it
  is AWS's NotFoundException.

The server runs in this process (ThreadedMotoServer), so patching the response class changes what it serves.
Pagination is left out: a budget has at most 10 notifications, a notification at most 11 subscribers.
"""

from __future__ import annotations

import json
from typing import Any

from moto.budgets.exceptions import NotFoundException
from moto.budgets.responses import BudgetsResponse

_KEYS = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")


def _same(stored: dict[str, Any], asked: dict[str, Any]) -> bool:
    def norm(notification: dict[str, Any]) -> tuple[Any, ...]:
        values = {key: notification.get(key) for key in _KEYS}
        values["Threshold"] = float(values["Threshold"] or 0)
        values["ThresholdType"] = values["ThresholdType"] or "PERCENTAGE"
        return tuple(values[key] for key in _KEYS)

    return norm(stored) == norm(asked)


def _budget(response: BudgetsResponse) -> Any:
    account_id, name = response._get_param("AccountId"), response._get_param("BudgetName")
    budget = response.backend.budgets[account_id].get(name)
    if budget is None:
        raise NotFoundException(f"Unable to get budget: {name} - the budget doesn't exist.")
    return budget


def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    asked = self._get_param("Notification")
    for notification in _budget(self).notifications:
        if _same(notification.details, asked):
            return json.dumps({"Subscribers": list(notification.subscribers), "NextToken": None})
    raise NotFoundException("Unable to find the notification - it doesn't exist.")


def describe_notifications_for_budget(self: BudgetsResponse) -> str:
    notifications = [notification.details for notification in _budget(self).notifications]
    return json.dumps({"Notifications": notifications, "NextToken": None})


def install() -> None:
    """Idempotent: patches moto's Budgets responses in this process."""
    setattr(BudgetsResponse, "describe_subscribers_for_notification", describe_subscribers_for_notification)  # noqa: B010
    setattr(BudgetsResponse, "describe_notifications_for_budget", describe_notifications_for_budget)  # noqa: B010
