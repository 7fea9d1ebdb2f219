"""The tests' view of the shared event builders and fixtures, which live in local/events.py (the demo uses them too)."""

from local.events import (
    ACCOUNT_ID,
    BUDGET_NAME,
    BUDGET_SUBJECT,
    BUDGET_TOPIC_ARN,
    BUDGETS_CONSOLE_URL,
    EVENTS_DIR,
    REGION,
    budget_message,
    load_event,
    sns_event,
)

__all__ = [
    "ACCOUNT_ID",
    "BUDGETS_CONSOLE_URL",
    "BUDGET_NAME",
    "BUDGET_SUBJECT",
    "BUDGET_TOPIC_ARN",
    "EVENTS_DIR",
    "REGION",
    "budget_message",
    "load_event",
    "sns_event",
]
