"""Working hours: is the service meant to run at `now`, in the operator's own time zone?

EventBridge Scheduler fires the start and end jobs at local times (DST-aware); the functions decide
again from `now` with this pure function, so a late or repeated delivery still does the right thing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class WorkingHours(BaseModel):
    model_config = ConfigDict(frozen=True)

    timezone: str
    start: time
    end: time
    days: frozenset[int]  # 0 = Monday, as datetime.weekday()

    @classmethod
    def parse(cls, timezone: str, start: str, end: str, days: str) -> WorkingHours:
        """Raises ValueError with a readable message for an unknown zone, a bad time or a bad day list."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {timezone!r} (e.g. Europe/Berlin, America/New_York)") from None
        opening, closing = parse_clock(start), parse_clock(end)
        if opening >= closing:
            raise ValueError(f"the working day must start before it ends, got {start}-{end}")
        return cls(timezone=timezone, start=opening, end=closing, days=parse_days(days))

    @classmethod
    def parse_tag(cls, text: str) -> WorkingHours:
        """A `warden:hours` tag: `MON-FRI 08:00-18:00 Europe/Berlin` (days EventBridge-style, local times, an IANA
        zone). Raises ValueError saying which part is wrong."""
        parts = text.split()
        if len(parts) != 3 or "-" not in parts[1]:
            raise ValueError("expected '<days> <HH:MM>-<HH:MM> <IANA zone>', e.g. 'MON-FRI 08:00-18:00 Europe/Berlin'")
        days, span, zone = parts
        start, _, end = span.partition("-")
        return cls.parse(zone, start, end, days)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        return f"{days_text(self.days)} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


class ScheduleDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    working: bool
    local_time: datetime
    reason: str


def working_hours_decision(hours: WorkingHours, now: datetime) -> ScheduleDecision:
    local = now.astimezone(hours.zone)
    stamp = f"{DAY_NAMES[local.weekday()].title()} {local:%H:%M} {hours.timezone}"
    if local.weekday() not in hours.days:
        return ScheduleDecision(
            working=False, local_time=local, reason=f"{stamp} is not a working day ({hours.describe()})"
        )
    if hours.start <= local.time() < hours.end:
        return ScheduleDecision(
            working=True, local_time=local, reason=f"{stamp} is within working hours ({hours.describe()})"
        )
    return ScheduleDecision(
        working=False, local_time=local, reason=f"{stamp} is outside working hours ({hours.describe()})"
    )


def parse_clock(text: str) -> time:
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"expected a time of day as HH:MM, got {text!r}")
    return time(int(match[1]), int(match[2]))


def parse_days(text: str) -> frozenset[int]:
    """`MON-FRI`, `MON,WED,FRI` or a mix (`MON-WED,SAT`), as EventBridge cron writes days of the week."""
    days: set[int] = set()
    for part in (piece.strip().upper() for piece in text.split(",")):
        if "-" in part:
            first, _, last = part.partition("-")
            start, stop = _day(first), _day(last)
            if start > stop:
                raise ValueError(f"day range {part!r} runs backwards")
            days.update(range(start, stop + 1))
        elif part:
            days.add(_day(part))
    if not days:
        raise ValueError("no working days given (e.g. MON-FRI)")
    return frozenset(days)


def days_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{DAY_NAMES[ordered[0]]}-{DAY_NAMES[ordered[-1]]}"
    return ",".join(DAY_NAMES[day] for day in ordered)


def _day(name: str) -> int:
    try:
        return DAY_NAMES.index(name[:3])
    except ValueError:
        raise ValueError(f"unknown day {name!r}; use MON, TUE, WED, THU, FRI, SAT, SUN") from None


def last_boundary(hours: WorkingHours, now: datetime) -> tuple[datetime, bool] | None:
    """The latest start or end of working hours at or before `now` (in UTC), and whether it was a start. The fleet
    reconcile applies a service's own hours at each boundary once, so an operator's override in between (working
    late) stands until the next boundary, as with the stack's scheduled start and end jobs. DST-aware: a local
    08:00 is 08:00 on both sides of a clock change."""
    zone = hours.zone
    today = now.astimezone(zone).date()
    boundaries: list[tuple[datetime, bool]] = []
    for back in range(8):
        day = today - timedelta(days=back)
        if day.weekday() not in hours.days:
            continue
        for clock, starts in ((hours.start, True), (hours.end, False)):
            moment = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            if moment <= now:
                boundaries.append((moment, starts))
    return max(boundaries, default=None)
