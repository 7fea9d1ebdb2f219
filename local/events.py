"""Events for the demo and the tests: the JSON fixtures under events/ (also used by `sam local invoke -e`),
and builders of SNS -> Lambda events and AWS Budgets notification texts.
"""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
BUDGET_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:warden-budget-alerts"
BUDGET_NAME = "consultation-app-monthly"
BUDGET_SUBJECT = f"AWS Budgets: {BUDGET_NAME} has exceeded your alert threshold"
BUDGETS_CONSOLE_URL = "https://console.aws.amazon.com/costmanagement/home#/budgets"
"""The footer link since 2026; older notifications link to .../billing/home#/budgets."""


def load_event(function: str, name: str) -> dict[str, Any]:
    """The fixture events/<function>/<name>.json. Fails loudly, listing what exists, if it is missing."""
    path = EVENTS_DIR / function / f"{name}.json"
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.json")) if path.parent.is_dir() else []
        raise FileNotFoundError(f"no event fixture {path}; {function} has: {', '.join(available) or 'none'}")
    event = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(event, dict):
        raise TypeError(f"{path} holds a {type(event).__name__}, not a JSON object")
    return event


def sns_event(
    message: str,
    *,
    subject: str | None = BUDGET_SUBJECT,
    message_id: str | None = None,
    topic_arn: str = BUDGET_TOPIC_ARN,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A complete SNS -> Lambda event with one record carrying `message`, shaped as Lambda delivers it."""
    if timestamp is None:
        now = datetime.now(UTC)
        timestamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    subscription_arn = f"{topic_arn}:{uuid.uuid4()}"
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else REGION
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": timestamp,
                    "SignatureVersion": "1",
                    "Signature": "dGVzdC1zaWduYXR1cmUtbm90LXZlcmlmaWVkLWJ5LXdhcmRlbg==",
                    "SigningCertUrl": (
                        f"https://sns.{region}.amazonaws.com/"
                        "SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
                    ),
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": {},
                },
            }
        ]
    }


def budget_message(
    *,
    name: str = BUDGET_NAME,
    budgeted: str = "$10.00",
    threshold: str = "$8.00",
    amount: str = "$8.13",
    alert_type: str = "ACTUAL",
    account: str | None = ACCOUNT_ID,
    date: str | None = "March 03, 2026",
    budget_type: str | None = "Cost",
    comparison: str = ">",
    footer_url: str = BUDGETS_CONSOLE_URL,
) -> str:
    """An AWS Budgets notification as SNS delivers it (plain text). `account`/`date`/`budget_type` None
    leave out the account line, the date and the Budget Type line."""
    what = "Usage" if budget_type is not None and budget_type.lower() == "usage" else "Cost"
    lines = [f"AWS Budget Notification {date}" if date is not None else "AWS Budget Notification"]
    if account is not None:
        lines.append(f"AWS Account {account}")
    lines += [
        "",
        "Dear AWS Customer,",
        "",
        f"You requested that we alert you when the {alert_type} {what} associated with your {name} budget "
        f"is greater than {threshold} for the current month. The {alert_type} {what} associated with this "
        f"budget is {amount}. You can find additional details below and by accessing the AWS Budgets "
        "dashboard [1].",
        "",
        f"Budget Name: {name}",
    ]
    if budget_type is not None:
        lines.append(f"Budget Type: {budget_type}")
    lines += [
        f"Budgeted Amount: {budgeted}",
        f"Alert Type: {alert_type}",
        f"Alert Threshold: {comparison} {threshold}" if comparison else f"Alert Threshold: {threshold}",
        f"{alert_type} Amount: {amount}",
        "",
        f"[1] {footer_url}",
        "",
    ]
    return "\n".join(lines)
