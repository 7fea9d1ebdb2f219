"""Demo act: the pause-ownership model. The 08:00 resume leaves a budget-paused service paused, the new
budget month lifts the budget claim, and a person's manual pause survives that roll-over.

The scheduled jobs and the operator's commands run through their real use cases with a simulated clock
(EventBridge Scheduler cannot be fast-forwarded), against the same local account.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from local.invoke import fresh_container
from local.timeline import Timeline, expect
from warden.settings import get_settings
from warden.usecases.operator import manual_pause, manual_resume
from warden.usecases.schedule import Job, run_job
from warden.wiring import operator_deps, schedule_deps

SCHEDULE_ENV = {
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "Europe/Berlin",
    "WORKDAY_START": "08:00",
    "WORKDAY_END": "18:00",
    "WORKING_DAYS": "MON-SUN",
}


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    today = datetime.now(UTC).astimezone(_berlin()).replace(second=0, microsecond=0)
    evening = today.replace(hour=18, minute=0)
    morning = (today + timedelta(days=1)).replace(hour=8, minute=0)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1, hour=1, minute=15)

    def job(name: Job, at: datetime) -> str:
        return _quietly(timeline, lambda: run_job(name, schedule_deps(get_settings()), get_settings(), at).outcome)

    timeline.say(f"{evening:%b %d, %H:%M}", "run_schedule: workday-end (working hours 08:00-18:00 Europe/Berlin)")
    job(Job.WORKDAY_END, evening)
    timeline.note("The service is already paused by the budget; the schedule adds its own claim beside it.")
    timeline.show_inbox()
    timeline.state()

    timeline.say(f"{morning:%b %d, %H:%M}", "run_schedule: workday-start")
    job(Job.WORKDAY_START, morning)
    failures += expect(account.service_status() == "PAUSED", "the 08:00 resume leaves the budget pause alone")
    failures += expect(timeline.show_inbox() == 1, "the operator hears why the service stays paused")
    timeline.state()

    timeline.say(f"{morning + timedelta(hours=2):%b %d, %H:%M}", "alice: warden pause --reason 'database migration'")
    _quietly(
        timeline,
        lambda: manual_pause(
            operator_deps(get_settings()),
            get_settings(),
            who="alice",
            reason="database migration",
            now=morning + timedelta(hours=2),
        ),
    )
    timeline.show_inbox()
    timeline.state()

    timeline.say(
        f"{next_month:%b %d, %H:%M}", "A new budget month; Budgets reports $0.31. run_schedule: budget-period-check"
    )
    account.set_budget(limit="10.00", actual="0.31", forecast="9.80")
    job(Job.BUDGET_PERIOD_CHECK, next_month)
    claims = [claim["SK"] for claim in account.claims()]
    failures += expect(claims == ["CLAIM#manual"], "the budget claim is lifted, the manual one stays")
    failures += expect(account.service_status() == "PAUSED", "a person's pause survives the budget roll-over")
    timeline.show_inbox()
    timeline.state()

    timeline.say(f"{next_month + timedelta(hours=8):%b %d, %H:%M}", "alice: warden resume --reason 'migration done'")
    _quietly(
        timeline,
        lambda: manual_resume(
            operator_deps(get_settings()),
            get_settings(),
            who="alice",
            reason="migration done",
            override=None,
            now=next_month + timedelta(hours=8),
        ),
    )
    failures += expect(account.service_status() in {"RUNNING", "OPERATION_IN_PROGRESS"}, "the last claim gone, it runs")
    timeline.show_inbox()
    timeline.state()
    return failures


def _quietly(timeline: Timeline, call: Callable[[], Any]) -> Any:
    with fresh_container({**timeline.account.env(), **SCHEDULE_ENV}), contextlib.redirect_stdout(timeline.log):
        return call()


def _berlin() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")
