"""Demo act: AWS Budgets alerts warn, then pause the service once, whatever SNS redelivers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from local.events import budget_message, sns_event
from local.timeline import Timeline, expect


def play(timeline: Timeline) -> int:
    """The budget month: the 80 % warning, the 100 % pause, and the ignored duplicate."""
    account = timeline.account
    failures = 0
    # The story happens now, in the current budget month, so the alerts' dates, the Budgets period and
    # the handlers' own clock agree.
    breached_at = datetime.now(UTC).replace(second=0, microsecond=0)
    warned_at = max(breached_at - timedelta(days=7), breached_at.replace(day=1, hour=9, minute=12))

    timeline.say(
        f"{warned_at:%b %d, %H:%M}",
        "AWS Budgets: actual spend passed 80 % ($8.13 of $10.00) -> on_budget_alert",
    )
    warning = sns_event(
        budget_message(name=account.budget_name, threshold="$8.00", amount="$8.13", date=f"{warned_at:%B %d, %Y}"),
        message_id="3b0f8c52-8d0e-4b7e-9a55-0c1d2e3f4a01",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(warned_at),
    )
    outcome = timeline.run("on_budget_alert", warning)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(outcome["outcome"] == "warned" and timeline.show_inbox() == 1, "the 80 % alert warns")
    timeline.state()

    timeline.say(f"{breached_at:%b %d, %H:%M}", "AWS Budgets: actual spend passed 100 % ($10.42 of $10.00)")
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    breach = sns_event(
        budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42", date=f"{breached_at:%B %d, %Y}"),
        message_id="9c4e2a17-5b6d-4f80-8e21-7a9b0c1d2e02",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(breached_at),
    )
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(outcome["outcome"] == "paused" and timeline.show_inbox() == 1, "the 104 % alert pauses")
    timeline.state()

    timeline.say(f"{breached_at:%b %d, %H:%M}", "SNS delivers the same alert again (at-least-once delivery)")
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    pauses = account.pause_calls()
    timeline.note(f"Pauses applied to the service so far: {pauses}")
    failures += expect(
        outcome["outcome"] == "duplicate" and timeline.show_inbox() == 0 and pauses == 1,
        "the repeat is ignored: one pause, one notification",
    )
    timeline.state()
    return failures


def _sns_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
