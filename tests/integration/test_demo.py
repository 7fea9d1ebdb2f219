"""`make demo` is the first command of the README: one month on one simulated clock, for both kinds of service.

The demo checks its own story (each act counts its failed checks and prints them with '!!'); these tests
run it as the operator does, in a subprocess, and hold it to an exit code of 0, a story told in order
(no step's time before the one above it), at most 200 lines by default, and every message in full with
--verbose. The calendar the story is laid on is checked for every month, without servers.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from local.demo_clock import Calendar, DemoClock, working_hours_fires
from local.template import ROOT

pytestmark = pytest.mark.integration

DEFAULT_LINES = 200
# A step's header: its number, then the clock's time ("Tue 2027-02-09 14:10"), then what happens.
STEP = re.compile(r"^ ?\d{1,2}\. ")
STAMP = re.compile(r"^ ?\d{1,2}\. (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d{2}-\d{2} \d{2}:\d{2})  \S")
# With --verbose, each working-hours run between the steps: "      · Tue 2027-02-02 18:00  run_schedule ...".
SCHEDULED = re.compile(r"^ +· (?:Mon|Tue|Wed|Thu|Fri) (\d{4}-\d{2}-\d{2} \d{2}:\d{2})  run_schedule ")


# The current month, as the demo picks it, named once: runs on either side of a month's end still compare.
MONTH = f"{datetime.now(UTC):%Y-%m}"


@functools.cache
def play(target: str, *options: str) -> subprocess.CompletedProcess[str]:
    """The demo as `make demo [TARGET=...] [VERBOSE=1]` runs it; each variant played once per test session."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "local.demo", "--target", target, "--month", MONTH, *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def step_times(stdout: str) -> list[datetime]:
    """The time of every step, in the order printed; fails if a step's header carries no readable time."""
    headers = [line for line in stdout.splitlines() if STEP.match(line)]
    times = [STAMP.match(line) for line in headers]
    unreadable = [header for header, match in zip(headers, times, strict=True) if match is None]
    assert not unreadable, f"steps without a clock time: {unreadable[:3]}"
    return [datetime.strptime(match.group(1), "%Y-%m-%d %H:%M") for match in times if match]


def assert_played_through(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo check failed" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def assert_one_month_in_order(stdout: str) -> None:
    times = step_times(stdout)
    assert len(times) >= 15, "the month has its steps"
    going_back = [(earlier, later) for earlier, later in itertools.pairwise(times) if later < earlier]
    assert not going_back, f"the story's time goes back: {going_back}"
    assert times[-1] - times[0] < timedelta(days=40), "one month, from its first day to the next month's first days"


def final_state(stdout: str) -> str:
    """The last line of the service's state the timeline printed (the demo's own line, not a notification)."""
    return [line.strip() for line in stdout.splitlines() if "; pause claims: " in line][-1]


def test_the_app_runner_month_plays_in_order_within_200_lines() -> None:
    # Given a fresh machine's demo (moto and the App Runner emulator on free local ports)
    # When it plays the month against the App Runner service, by default
    result = play("apprunner")
    # Then every act's check passes, and the story is one month told in order, in at most 200 lines
    assert_played_through(result)
    assert_one_month_in_order(result.stdout)
    assert len(result.stdout.splitlines()) <= DEFAULT_LINES
    # And the month ends with the service running again and no claim left
    assert final_state(result.stdout) == "App Runner: RUNNING; pause claims: none"


def test_the_ecs_month_plays_in_order_within_200_lines() -> None:
    # Given the same demo with an ECS Fargate service of 2 tasks (auto scaling 1..4) in moto
    # When it plays the month with --target ecs
    result = play("ecs")
    # Then every check passes, in order and in at most 200 lines
    assert_played_through(result)
    assert_one_month_in_order(result.stdout)
    assert len(result.stdout.splitlines()) <= DEFAULT_LINES
    # And the budget pause scaled it to 0 with scaling pinned; the month ends with exactly the count from before
    assert "ECS service: PAUSED (0 tasks desired; auto scaling 0..0, suspended)" in result.stdout
    assert final_state(result.stdout) == "ECS service: RUNNING (2 tasks desired; auto scaling 1..4); pause claims: none"


def test_verbose_prints_every_message_in_full_in_the_same_order() -> None:
    # Given the App Runner month played with --verbose (make demo VERBOSE=1)
    verbose = play("apprunner", "--verbose")
    # Then it passes, prints more than the default and still never goes back in time
    assert_played_through(verbose)
    assert_one_month_in_order(verbose.stdout)
    assert len(verbose.stdout.splitlines()) > len(play("apprunner").stdout.splitlines())
    assert step_times(verbose.stdout) == step_times(play("apprunner").stdout)
    # And the schedule's own runs between the steps are listed, in the same forward order as the steps
    every = [
        datetime.strptime(match.group(1), "%Y-%m-%d %H:%M")
        for match in (STAMP.match(line) or SCHEDULED.match(line) for line in verbose.stdout.splitlines())
        if match
    ]
    assert len(every) > len(step_times(verbose.stdout))
    assert every == sorted(every), "a working-hours run is listed out of order"
    # And no emulator artefact reads as the operator's text: moto's fixed credential-report date is not quoted
    assert "2015-02-02" not in verbose.stdout


# --- the calendar and the clock, for every month ---------------------------------------------------------------

months = st.builds(
    date, st.integers(min_value=1990, max_value=2100), st.integers(min_value=1, max_value=12), st.just(1)
)


@given(first=months)
def test_every_month_lays_the_story_in_order_on_the_working_hours_it_claims(first: date) -> None:
    # Given the calendar of any month
    calendar = Calendar(first)
    moments = calendar.moments()
    times = [moment.at for moment in moments]
    # Then its moments are in story order, strictly, from the 1st to the next month's first working day
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[0].date() == first
    assert times[-1].date() <= calendar.next_first + timedelta(days=3)
    assert all(at.date() < calendar.next_first for at in times[:-2]), "the month's story fits in the month"
    # And a step run by the working-hours schedule is exactly one of its runs; no other step lands on one
    fires = dict(working_hours_fires(times[0] - timedelta(days=1), times[-1] + timedelta(minutes=1)))
    for moment in moments:
        assert fires.get(moment.at) == moment.job, f"{moment.name} at {moment.at:%a %Y-%m-%d %H:%M}"
    # And the weekly key audit runs on a Monday at 09:00, as its schedule says
    assert calendar.audit.weekday() == 0
    assert (calendar.audit.hour, calendar.audit.minute) == (9, 0)


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    forward=st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=1, max_size=5),
    back=st.integers(min_value=1, max_value=60 * 24 * 40),
)
def test_the_demo_clock_moves_only_forward(start: datetime, forward: list[int], back: int) -> None:
    # Given the demo's clock at any moment, moved forward any number of times
    with DemoClock(start) as clock:
        for minutes in forward:
            target = clock.now + timedelta(minutes=minutes)
            clock.advance(target)
            # Then every moment it is moved to is what the story and the process's own clock read
            assert clock.now == target
            assert datetime.now(UTC) >= target
        # When a step asks for a time before the current one, Then it is refused
        with pytest.raises(ValueError, match="never goes back"):
            clock.advance(clock.now - timedelta(minutes=back))
    # And the process's clock is the real one again after the demo
    assert not time_machine.escape_hatch.is_travelling()
