"""Demo act (ECS): the CPU alarm, set to pause, scales the ECS service to zero; its OK puts back exactly the
desired count and the Auto Scaling target from before. The alarm is the stack's `warden-cpu` on AWS/ECS
CPUUtilization (ClusterName, ServiceName), named as on App Runner so that ALARM_ACTIONS carry over."""

from __future__ import annotations

from datetime import timedelta

from local.alarm_events import alarm_event
from local.ecs import ecs_state
from local.timeline import Timeline, expect

ACTIONS = {"ALARM_ACTIONS": "*-cpu=pause"}


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    fired_at = timeline.calendar.alarm
    recovered_at = fired_at + timedelta(minutes=35)

    timeline.say(fired_at, "Alarm warden-cpu fires (CPU 97 %), ALARM_ACTIONS='*-cpu=pause' -> on_alarm")
    before = ecs_state(account)
    pauses_before = account.pause_calls()
    timeline.detail("A runaway job keeps every task at full CPU, and Fargate bills by the task-hour.")
    fired = alarm_event(
        "sns-ecs-cpu-alarm",
        service_arn=account.service_arn,
        changed_at=fired_at,
        message_id="0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    )
    outcome = timeline.run("on_alarm", fired, **ACTIONS)[0]
    timeline.outcome(outcome)
    paused = ecs_state(account)
    failures += expect(
        outcome["outcome"] == "paused" and timeline.show_inbox() == 1,
        "the CPU alarm pauses the service and says so in one message",
    )
    failures += expect(
        paused.desired == 0 and paused.scaling == (0, 0, True) and account.pause_calls() == pauses_before + 1,
        "the pause sets 0 tasks and pins auto scaling at 0..0, suspended",
    )
    timeline.state()

    timeline.say(recovered_at, "the job is fixed; the alarm returns to OK")
    recovered = alarm_event(
        "sns-ecs-cpu-ok",
        service_arn=account.service_arn,
        changed_at=recovered_at,
        message_id="1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7",
    )
    outcome = timeline.run("on_alarm", recovered, **ACTIONS)[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "recovered" and timeline.show_inbox() == 1,
        "the recovery lifts the alarm's claim in one message",
    )
    failures += expect(ecs_state(account) == before, f"the resume restores exactly {before.describe()}")
    timeline.state()
    return failures
