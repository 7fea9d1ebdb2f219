"""Demo acts: the month's budget period and the working hours.

`month_starts`: the 1st's budget-period check finds nothing to lift, then the first working evening pauses the
service and the next working morning resumes it (the schedule's own claim). `month_ends`: after the budget
pause, the 18:00 run adds the schedule's claim beside the budget's, the 08:00 run lifts only its own and leaves
the service paused; the next month's budget-period check lifts the budget claim (the night's schedule claim
still holds it), and the first working morning of the new month resumes it.

Every job is the real `run_schedule` handler, run when EventBridge Scheduler would run it on the demo's clock.
"""

from __future__ import annotations

from local.timeline import Timeline, expect

RUNNING = {"RUNNING", "OPERATION_IN_PROGRESS"}


def month_starts(timeline: Timeline) -> int:
    account, calendar = timeline.account, timeline.calendar
    failures = 0
    pauses = account.pause_calls()

    timeline.say(calendar.period_start, "New budget month ($0.00 spent so far): run_schedule budget-period-check")
    account.set_budget(limit="10.00", actual="0.00", forecast="9.80")
    timeline.outcome(timeline.run("run_schedule", {"job": "budget-period-check"})[0])
    timeline.show_inbox()
    failures += expect(account.claims() == [], "a new month with nothing paused: no claim to lift")

    timeline.say(
        calendar.first_evening, "run_schedule: workday-end (working hours Mon-Fri 08:00-18:00 UTC)", job="workday-end"
    )
    timeline.outcome(timeline.run("run_schedule", {"job": "workday-end"})[0])
    failures += expect(timeline.show_inbox() == 1, "the evening pause is announced")
    timeline.state()
    failures += expect(
        _claims(timeline) == ["schedule"] and account.pause_calls() == pauses + 1,
        "the end of the working day pauses the service once, under the schedule's claim",
    )

    timeline.say(calendar.first_morning, "run_schedule: workday-start", job="workday-start")
    timeline.outcome(timeline.run("run_schedule", {"job": "workday-start"})[0])
    failures += expect(timeline.show_inbox() == 1, "the morning resume is announced")
    timeline.state()
    failures += expect(
        _claims(timeline) == [] and account.service_status() in RUNNING, "the working morning resumes the service"
    )
    return failures


def month_ends(timeline: Timeline) -> int:
    account, calendar = timeline.account, timeline.calendar
    failures = 0

    timeline.say(
        calendar.breach_evening, "run_schedule: workday-end, on a service the budget has paused", job="workday-end"
    )
    timeline.outcome(timeline.run("run_schedule", {"job": "workday-end"})[0])
    timeline.show_inbox()
    timeline.state()
    failures += expect(_claims(timeline) == ["budget", "schedule"], "the schedule's claim is added beside the budget's")

    timeline.say(calendar.breach_morning, "run_schedule: workday-start", job="workday-start")
    timeline.outcome(timeline.run("run_schedule", {"job": "workday-start"})[0])
    failures += expect(timeline.show_inbox() == 1, "the operator hears why the service stays paused")
    timeline.state()
    failures += expect(
        account.service_status() == "PAUSED" and _claims(timeline) == ["budget"],
        "the 08:00 resume lifts only its own claim and leaves the budget pause alone",
    )

    timeline.say(calendar.next_period, "New budget month ($0.31 spent so far): run_schedule budget-period-check")
    account.set_budget(limit="10.00", actual="0.31", forecast="9.80")
    timeline.outcome(timeline.run("run_schedule", {"job": "budget-period-check"})[0])
    failures += expect(timeline.show_inbox() == 1, "the lifted budget claim is announced")
    timeline.state()
    failures += expect(
        _claims(timeline) == ["schedule"] and account.service_status() == "PAUSED",
        "the budget claim is lifted; outside working hours the schedule's claim still holds the service",
    )

    timeline.say(
        calendar.next_morning, "run_schedule: workday-start, the new month's first working morning", job="workday-start"
    )
    timeline.outcome(timeline.run("run_schedule", {"job": "workday-start"})[0])
    failures += expect(timeline.show_inbox() == 1, "the resume is announced")
    timeline.state()
    failures += expect(
        _claims(timeline) == [] and account.service_status() in RUNNING, "the last claim lifted, the service runs"
    )
    return failures


def _claims(timeline: Timeline) -> list[str]:
    return sorted(claim["SK"].removeprefix("CLAIM#") for claim in timeline.account.claims())
