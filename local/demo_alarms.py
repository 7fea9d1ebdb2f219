"""Demo act: a 5xx-rate alarm explains itself, arrives twice (SNS and EventBridge), and recovers.

The act reads the service's state first. The budget act before it leaves the service PAUSED by a
budget claim, and a paused service serves no requests, so it cannot fail any: in that case the act
replays the incident from earlier that day, before the pause (the alarm messages carry their own
times; Warden reads App Runner's status when it handles them, so its evidence shows PAUSED). When the
service is RUNNING the incident happens now. Either way the alarm's action is `notify` (ALARM_ACTIONS
is empty), so the service and its claims are left exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from local.alarm_events import alarm_event
from local.timeline import Timeline, expect


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    status_before = account.service_status()
    claims_before = sorted(claim["SK"] for claim in account.claims())
    pauses_before = account.pause_calls()
    paused = status_before == "PAUSED"
    fired_at = now - timedelta(hours=3) if paused else now - timedelta(minutes=20)
    recovered_at = fired_at + timedelta(minutes=20)
    when = "earlier that day: " if paused else ""

    timeline.say(
        f"{fired_at:%b %d, %H:%M}", f"{when}CloudWatch alarm warden-5xx-rate fires (12.5 % of requests) -> on_alarm"
    )
    if paused:
        timeline.note(
            f"The service is {status_before} now (claims: {', '.join(claims_before) or 'none'}); a paused service "
            "serves no requests, so this replays the 5xx incident from before the budget pause. Its messages "
            "carry their own times; the evidence shows App Runner's status when Warden handles them."
        )
    fired = alarm_event(
        "sns-5xx-rate-alarm",
        service_arn=account.service_arn,
        changed_at=fired_at,
        message_id="5f0c1e2d-3b4a-5968-8776-a1b2c3d4e5f6",
    )
    outcome = timeline.run("on_alarm", fired)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(
        outcome["outcome"] == "notified" and timeline.show_inbox() == 1,
        "the 5xx alarm is explained in one message (its action is notify)",
    )

    timeline.say(f"{fired_at:%b %d, %H:%M}", "the same state change arrives through EventBridge as well")
    duplicate = alarm_event("eventbridge-5xx-rate-alarm", service_arn=account.service_arn, changed_at=fired_at)
    outcome = timeline.run("on_alarm", duplicate)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(
        outcome["outcome"] == "duplicate" and timeline.show_inbox() == 0,
        "the second delivery of the same state change is ignored",
    )

    timeline.say(f"{recovered_at:%b %d, %H:%M}", "the 5xx rate falls back to 0.4 %: the alarm returns to OK")
    recovered = alarm_event(
        "sns-5xx-rate-ok",
        service_arn=account.service_arn,
        changed_at=recovered_at,
        message_id="7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
    )
    outcome = timeline.run("on_alarm", recovered)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(
        outcome["outcome"] == "recovered" and "20 minutes" in outcome["reason"] and timeline.show_inbox() == 1,
        "the recovery says how long the incident lasted (20 minutes)",
    )
    failures += expect(
        account.service_status() == status_before
        and sorted(claim["SK"] for claim in account.claims()) == claims_before
        and account.pause_calls() == pauses_before,
        "a notify-only alarm changes neither the service nor its pause claims",
    )
    timeline.state()
    return failures
