"""The demo's one clock and the month it tells.

`DemoClock` freezes-and-ticks this process's time (time-machine patches the C clock, so moto's server,
the App Runner emulator and every handler run in-process read it too) and moves only forward. `Calendar`
lays the story on one month: each step's moment, from the 1st to the next month's first working day.
`working_hours_fires` are the runs EventBridge Scheduler makes with the working hours the demo deploys
(the README's defaults, switched on): the timeline runs them between steps, so the service is paused
every evening and resumed every morning whether or not a step shows it.

`python -m local.demo_clock ISO-TIME MODULE [ARGS...]` runs `python -m MODULE ARGS` with its clock set to
ISO-TIME and ticking: how the demo runs the `warden` CLI, in a subprocess, on the demo's time.
"""

from __future__ import annotations

import calendar
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import TracebackType

import time_machine

WORKDAY_START, WORKDAY_END = time(8, 0), time(18, 0)
WORKING_DAYS = frozenset(range(5))  # Monday to Friday
# The settings every function of the demo's stack sees: working hours on, the README's default hours and days.
SCHEDULE_ENV = {
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
    "WORKDAY_START": f"{WORKDAY_START:%H:%M}",
    "WORKDAY_END": f"{WORKDAY_END:%H:%M}",
    "WORKING_DAYS": "MON-FRI",
}
WORKING_HOURS = "Mon-Fri 08:00-18:00 UTC"


class DemoClock:
    """This process's clock at the story's time, ticking from each step's moment; `advance` never goes back."""

    def __init__(self, start: datetime) -> None:
        self._moment = start.astimezone(UTC)
        self._travel = time_machine.travel(self._moment, tick=True)
        self._traveller: time_machine.Traveller | None = None

    def __enter__(self) -> DemoClock:
        self._traveller = self._travel.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._travel.stop()
        self._traveller = None

    @property
    def now(self) -> datetime:
        """The moment of the story: the time the last step was set at."""
        return self._moment

    def advance(self, to: datetime) -> None:
        """Sets the story at `to`. The process's clock jumps there unless it has already ticked past it (a step
        in the same minute as the one before): the time any code reads never goes back either."""
        if self._traveller is None:
            raise RuntimeError("the demo's clock is not running: use it as a context manager")
        to = to.astimezone(UTC)
        if to < self._moment:
            raise ValueError(f"the demo's clock never goes back: {to:%Y-%m-%d %H:%M} is before {self._moment:%H:%M}")
        self._moment = to
        if to > datetime.now(UTC):
            self._traveller.move_to(to)


def working_hours_fires(after: datetime, before: datetime) -> Iterator[tuple[datetime, str]]:
    """The `run_schedule` jobs the working-hours schedules start strictly between `after` and `before`, in order."""
    day = after.astimezone(UTC).date()
    while day <= before.astimezone(UTC).date():
        if day.weekday() in WORKING_DAYS:
            for clock, job in ((WORKDAY_START, "workday-start"), (WORKDAY_END, "workday-end")):
                fire = datetime.combine(day, clock, UTC)
                if after < fire < before:
                    yield fire, job
        day += timedelta(days=1)


@dataclass(frozen=True)
class Moment:
    name: str
    at: datetime
    job: str | None = None  # the working-hours job a schedule step runs itself


@dataclass(frozen=True)
class Calendar:
    """The month of the story, from `first` (a 1st) to the next month's first working day, on working days.

    Everything after the first morning is counted from the first Monday after it (`audit`, the weekly key
    audit), so every act lands on the weekday it needs in any month.
    """

    first: date

    @property
    def next_first(self) -> date:
        return self.first + timedelta(days=calendar.monthrange(self.first.year, self.first.month)[1])

    @staticmethod
    def _at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), UTC)

    @staticmethod
    def _working_day(on_or_after: date, n: int = 1) -> date:
        day, seen = on_or_after, 0
        while True:
            seen += day.weekday() in WORKING_DAYS
            if seen == n:
                return day
            day += timedelta(days=1)

    def _monday(self, days: int) -> date:
        morning = self.first_morning.date()
        return morning + timedelta(days=(7 - morning.weekday()) % 7 + days)

    @property
    def period_start(self) -> datetime:
        return self._at(self.first, 0, 15)  # the budget-period check runs at 00:15, 06:15, ... UTC

    @property
    def first_evening(self) -> datetime:
        return self._at(self._working_day(self.first), 18)

    @property
    def first_morning(self) -> datetime:
        return self._at(self._working_day(self.first, 2), 8)

    @property
    def audit(self) -> datetime:
        return self._at(self._monday(0), 9)  # the weekly key audit: Mondays 09:00

    @property
    def alarm(self) -> datetime:
        return self._at(self._monday(1), 14, 10)

    @property
    def purge_plan(self) -> datetime:
        return self._at(self._monday(2), 3, 30)  # the daily image purge: 03:30

    @property
    def purge(self) -> datetime:
        return self._at(self._monday(3), 3, 30)

    @property
    def release(self) -> datetime:
        return self._at(self._monday(3), 11)

    @property
    def failed_release(self) -> datetime:
        return self._at(self._monday(4), 15)

    @property
    def warning(self) -> datetime:
        return self._at(self._monday(9), 9, 12)

    @property
    def breach(self) -> datetime:
        return self._at(self._monday(15), 14, 38)

    @property
    def breach_evening(self) -> datetime:
        return self._at(self._monday(15), 18)

    @property
    def breach_morning(self) -> datetime:
        return self._at(self._monday(16), 8)

    @property
    def next_period(self) -> datetime:
        return self._at(self.next_first, 0, 15)

    @property
    def next_morning(self) -> datetime:
        return self._at(self._working_day(self.next_first), 8)

    def moments(self) -> list[Moment]:
        """Every moment of the story in the order it is told, the schedule's own runs marked with their job."""
        return [
            Moment("period_start", self.period_start),
            Moment("first_evening", self.first_evening, "workday-end"),
            Moment("first_morning", self.first_morning, "workday-start"),
            Moment("audit", self.audit),
            Moment("alarm", self.alarm),
            Moment("purge_plan", self.purge_plan),
            Moment("purge", self.purge),
            Moment("release", self.release),
            Moment("failed_release", self.failed_release),
            Moment("warning", self.warning),
            Moment("breach", self.breach),
            Moment("breach_evening", self.breach_evening, "workday-end"),
            Moment("breach_morning", self.breach_morning, "workday-start"),
            Moment("next_period", self.next_period),
            Moment("next_morning", self.next_morning, "workday-start"),
        ]


def main(argv: list[str]) -> None:
    """Runs `python -m MODULE ARGS` on the demo's clock; its exit status is the module's."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m local.demo_clock ISO-TIME MODULE [ARGS...]")
    at, module, *args = argv
    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
