"""Working hours in the operator's time zone, on both sides of a daylight-saving change."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from local.template import load_template
from warden.domain.schedule import WorkingHours, parse_days, working_hours_decision

BERLIN = WorkingHours.parse("Europe/Berlin", "08:00", "18:00", "MON-FRI")
NEW_YORK = WorkingHours.parse("America/New_York", "08:00", "18:00", "MON-FRI")


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


# Europe/Berlin leaves summer time on Sunday 2026-10-25; America/New_York on Sunday 2026-11-01.
@pytest.mark.parametrize(
    ("hours", "day", "utc_open"),
    [
        (BERLIN, date(2026, 10, 23), "06:00"),  # Friday, CEST (UTC+2)
        (BERLIN, date(2026, 10, 26), "07:00"),  # Monday, CET (UTC+1)
        (NEW_YORK, date(2026, 10, 30), "12:00"),  # Friday, EDT (UTC-4)
        (NEW_YORK, date(2026, 11, 2), "13:00"),  # Monday, EST (UTC-5)
    ],
    ids=["Berlin before", "Berlin after", "New York before", "New York after"],
)
def test_the_day_opens_at_local_0800_and_closes_at_local_1800_across_the_clock_change(
    hours: WorkingHours, day: date, utc_open: str
) -> None:
    # Given a working day just before or after the clock change
    opening = local(hours.timezone, day, 8)
    closing = local(hours.timezone, day, 18)
    # Then local 08:00 is the UTC time the offset says
    assert f"{opening:%H:%M}" == utc_open
    # When Warden decides a minute either side of 08:00 and 18:00
    # Then the service should run from 08:00 to 17:59 local time, whatever UTC says
    assert not working_hours_decision(hours, opening - timedelta(minutes=1)).working
    assert working_hours_decision(hours, opening).working
    assert working_hours_decision(hours, closing - timedelta(minutes=1)).working
    assert not working_hours_decision(hours, closing).working


def test_the_weekend_is_not_a_working_day_and_the_reason_says_so() -> None:
    saturday_noon = local("Europe/Berlin", date(2026, 10, 24), 12)
    decision = working_hours_decision(BERLIN, saturday_noon)
    assert not decision.working
    assert decision.reason == "Sat 12:00 Europe/Berlin is not a working day (MON-FRI 08:00-18:00 Europe/Berlin)"


@pytest.mark.parametrize(
    ("text", "days"), [("MON-FRI", {0, 1, 2, 3, 4}), ("MON,WED,FRI", {0, 2, 4}), ("SAT-SUN", {5, 6})]
)
def test_day_lists_read_like_eventbridge_cron(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["FRI-MON", "FUNDAY", ""])
def test_bad_day_lists_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r"day|no working days"):
        parse_days(text)


def test_an_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkingHours.parse("Mars/Olympus", "08:00", "18:00", "MON-FRI")


# -- the template's schedules ----------------------------------------------------------------------
CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")


def _fires(expression: str, zone: str, days: str, start: datetime, end: datetime) -> list[datetime]:
    """Minute-by-minute evaluation of the simple cron forms Warden uses (fixed minute and hour, day-of-week
    list), in the schedule's own time zone as EventBridge Scheduler does. Returns UTC instants."""
    match = CRON.match(expression)
    assert match is not None, expression
    minute, hour, _, _, weekdays, _ = match.groups()
    allowed = parse_days(weekdays.replace("${WorkingDays}", days))
    fires, moment = [], start
    while moment < end:
        wall = moment.astimezone(ZoneInfo(zone))
        if wall.minute == int(minute) and wall.hour == int(hour) and wall.weekday() in allowed:
            fires.append(moment)
        moment += timedelta(minutes=1)
    return fires


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_the_templates_working_hour_schedules_fire_at_local_0800_and_1800_on_both_sides_of_dst(zone: str) -> None:
    # Given the template's working-hours schedules with their default parameters in `zone`
    template = load_template()
    events = template["Resources"]["RunScheduleFunction"]["Properties"]["Events"]
    parameters = template["Parameters"]
    expressions = {}
    for name in ("WorkdayStart", "WorkdayEnd"):
        properties = events[name]["Properties"]
        assert properties["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        hour = str(parameters[f"{name}Hour"]["Default"])
        expressions[name] = properties["ScheduleExpression"]["Fn::Sub"].replace(f"${{{name}Hour}}", hour)
    # When they are evaluated over the two weeks around the clock change
    start, end = datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 7, tzinfo=UTC)
    days = parameters["WorkingDays"]["Default"]
    for name, expected_hour in (("WorkdayStart", 8), ("WorkdayEnd", 18)):
        fires = _fires(expressions[name], zone, days, start, end)
        # Then every firing is a weekday at the local hour, and each is the moment Warden's own decision flips
        assert len(fires) == 15
        for moment in fires:
            wall = moment.astimezone(ZoneInfo(zone))
            assert (wall.hour, wall.minute, wall.weekday() < 5) == (expected_hour, 0, True)
            hours = WorkingHours.parse(zone, "08:00", "18:00", days)
            assert working_hours_decision(hours, moment).working is (name == "WorkdayStart")
        # And the UTC hour changed with the clocks (two different UTC hours across the window)
        assert len({moment.hour for moment in fires}) == 2
