"""Demo act: AWS Budgets alerts warn, then pause the service once, whatever SNS redelivers.

Both alerts arrive within working hours, while the service runs; the Budgets API reports what the alert says.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from local.events import budget_message, sns_event
from local.timeline import Timeline, expect

# Where the body is the point of the step: the first pause says what it rests on and how it ends.
PAUSE_SECTIONS = ("Evidence", "What happens next")


def play(timeline: Timeline) -> int:
    """The budget month: the 80 % warning, the 100 % pause, and the ignored duplicate."""
    account, calendar = timeline.account, timeline.calendar
    failures = 0
    warned_at, breached_at = calendar.warning, calendar.breach

    timeline.say(warned_at, "AWS Budgets: spend passed 80 % ($8.13 of $10.00) -> on_budget_alert")
    account.set_budget(limit="10.00", actual="8.13", forecast="11.20")
    warning = sns_event(
        budget_message(name=account.budget_name, threshold="$8.00", amount="$8.13", date=f"{warned_at:%B %d, %Y}"),
        message_id="3b0f8c52-8d0e-4b7e-9a55-0c1d2e3f4a01",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(warned_at),
    )
    outcome = timeline.run("on_budget_alert", warning)[0]
    timeline.outcome(outcome)
    failures += expect(outcome["outcome"] == "warned" and timeline.show_inbox() == 1, "the 80 % alert warns")
    failures += expect(account.claims() == [], "a warning claims nothing")

    timeline.say(breached_at, "AWS Budgets: spend passed 100 % ($10.42 of $10.00) -> on_budget_alert")
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    pauses = account.pause_calls()
    breach = sns_event(
        budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42", date=f"{breached_at:%B %d, %Y}"),
        message_id="9c4e2a17-5b6d-4f80-8e21-7a9b0c1d2e02",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(breached_at),
    )
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "paused" and timeline.show_inbox(sections=PAUSE_SECTIONS) == 1, "the 104 % alert pauses"
    )
    timeline.state()

    timeline.say(breached_at + timedelta(minutes=1), "SNS delivers the same alert again (at-least-once delivery)")
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "duplicate" and timeline.show_inbox() == 0 and account.pause_calls() == pauses + 1,
        "the repeat is ignored: one pause, one notification",
    )
    failures += expect(
        [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"] and account.service_status() == "PAUSED",
        "the service is paused under the budget's claim",
    )
    timeline.state()
    return failures


def _sns_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
