"""Demo act: a 5xx-rate alarm explains itself, arrives twice (SNS and EventBridge), and recovers.

A Tuesday afternoon, within working hours: the service runs and serves the failing requests. The alarm's
action is `notify` (ALARM_ACTIONS is empty), so the service and its claims are left exactly as they were.
"""

from __future__ import annotations

from datetime import timedelta

from local.alarm_events import alarm_event
from local.timeline import Timeline, expect


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    fired_at = timeline.calendar.alarm
    recovered_at = fired_at + timedelta(minutes=20)

    timeline.say(fired_at, "Alarm warden-5xx-rate fires (12.5 % of requests) -> on_alarm")
    status_before = account.service_status()
    claims_before = sorted(claim["SK"] for claim in account.claims())
    pauses_before = account.pause_calls()
    fired = alarm_event(
        "sns-5xx-rate-alarm",
        service_arn=account.service_arn,
        changed_at=fired_at,
        message_id="5f0c1e2d-3b4a-5968-8776-a1b2c3d4e5f6",
    )
    outcome = timeline.run("on_alarm", fired)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "notified" and timeline.show_inbox() == 1,
        "the 5xx alarm is explained in one message (its action is notify)",
    )

    timeline.say(fired_at, "the same state change arrives through EventBridge as well")
    duplicate = alarm_event("eventbridge-5xx-rate-alarm", service_arn=account.service_arn, changed_at=fired_at)
    outcome = timeline.run("on_alarm", duplicate)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "duplicate" and timeline.show_inbox() == 0,
        "the second delivery of the same state change is ignored",
    )

    timeline.say(recovered_at, "the 5xx rate falls back to 0.4 %: the alarm returns to OK")
    recovered = alarm_event(
        "sns-5xx-rate-ok",
        service_arn=account.service_arn,
        changed_at=recovered_at,
        message_id="7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
    )
    outcome = timeline.run("on_alarm", recovered)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "recovered" and timeline.show_inbox() == 1, "the recovery is reported in one message"
    )
    failures += expect(
        account.service_status() == status_before
        and sorted(claim["SK"] for claim in account.claims()) == claims_before
        and account.pause_calls() == pauses_before,
        "a notify-only alarm changes neither the service nor its pause claims",
    )
    timeline.state()
    return failures
