"""`make demo FLEET=1`: one stack guarding a fleet of App Runner and ECS services, on the demo's one clock.

Played as the operator plays it, in a subprocess: it exits 0 with every one of its own checks passed, its steps are
told in time order, and the story's events are there, each in its step: the tagged services announced by the first
reconcile, staging paused at the end of its own (Berlin) working day while the others run, one message for the
budget alert that paused the two services on the shared budget, the worker let go (warden:guard=false) released
and resumed, and `warden status` listing the fleet.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import subprocess
import sys

import pytest

from local.template import ROOT
from tests.integration.test_demo import MONTH, assert_played_through, step_times

pytestmark = pytest.mark.integration

STATE = re.compile(r"^ {6}(\S+) +(App Runner|ECS) +(RUNNING|PAUSED)\b")


@functools.cache
def play(*options: str) -> subprocess.CompletedProcess[str]:
    """The demo as `make demo FLEET=1 [VERBOSE=1]` runs it, played once per test session."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "local.demo", "--target", "apprunner", "--fleet", "--month", MONTH, *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def steps(stdout: str) -> list[tuple[str, list[str]]]:
    """Each step's header and the lines under it, in the order printed."""
    told: list[tuple[str, list[str]]] = []
    for line in stdout.splitlines():
        if re.match(r"^ ?\d{1,2}\. ", line):
            told.append((line, []))
        elif told:
            told[-1][1].append(line)
    return told


def step(stdout: str, header: str) -> list[str]:
    """The lines of the one step whose header holds `header`."""
    (lines,) = [lines for title, lines in steps(stdout) if header in title]
    return lines


def states(lines: list[str]) -> dict[str, str]:
    """The demo's own line per service after a step: name → RUNNING or PAUSED."""
    return {match[1]: match[3] for match in map(STATE.match, lines) if match}


def inbox(lines: list[str]) -> list[str]:
    return [line.strip().removeprefix("inbox: ") for line in lines if line.strip().startswith("inbox: ")]


def test_the_fleet_demo_plays_its_checks_in_time_order() -> None:
    # Given a fresh machine's demo (moto, the App Runner emulator and moto's ECS on free local ports)
    # When it plays the fleet (make demo FLEET=1)
    result = play()
    # Then every check of the story passes, and no step's time is before the one above it
    assert_played_through(result)
    times = step_times(result.stdout)
    assert len(times) >= 7
    assert all(earlier <= later for earlier, later in itertools.pairwise(times)), times


def test_the_first_reconcile_announces_the_tagged_services_and_not_the_untagged_one() -> None:
    # Given the fleet's story, When the stack's first reconcile runs
    lines = step(play().stdout, "the stack's first")
    # Then one message announces the ECS worker and the App Runner staging service, and every service runs
    assert inbox(lines) == ["[warden] NOW GUARDING: staging, worker"]
    assert "(2 joined, 0 left)" in "\n".join(lines)
    assert states(lines) == {
        "consultation-app": "RUNNING",
        "worker": "RUNNING",
        "staging": "RUNNING",
        "marketing-site": "RUNNING",
    }


def test_staging_is_paused_at_the_end_of_its_own_working_day_while_the_others_run() -> None:
    # Given the fleet's story, When the first reconcile after 18:00 in Berlin runs
    stdout = play().stdout
    evening = step(stdout, "18:05 in Berlin")
    # Then staging alone is paused, with one message; the front end and the worker (no hours) run
    assert [message.split(":")[0] for message in inbox(evening)] == ["[warden] PAUSED staging"]
    assert states(evening) == {
        "consultation-app": "RUNNING",
        "worker": "RUNNING",
        "staging": "PAUSED",
        "marketing-site": "RUNNING",
    }
    # And its own morning resumes it
    assert states(step(stdout, "08:05 in Berlin"))["staging"] == "RUNNING"


def test_the_shared_budgets_alert_pauses_both_its_services_with_one_message() -> None:
    # Given the fleet's story, When the budget the front end and the worker share passes 100 %
    lines = step(play().stdout, "passed 100 %")
    # Then one message names both paused services, and staging (its own budget) runs on
    (message,) = inbox(lines)
    assert message.startswith("[warden] PAUSED 2 services on budget consultation-app-monthly")
    assert states(lines) == {
        "consultation-app": "PAUSED",
        "worker": "PAUSED",
        "staging": "RUNNING",
        "marketing-site": "RUNNING",
    }


def test_the_service_let_go_with_guard_false_is_released_and_resumed() -> None:
    # Given the worker paused by the budget, When it is tagged warden:guard=false before the next reconcile
    lines = step(play().stdout, "15:05  run_schedule reconcile")
    # Then it left the fleet: its budget claim is released and, as Warden paused it, it runs again
    assert inbox(lines) == ["[warden] NO LONGER GUARDED: worker"]
    text = " ".join(line.strip(" │") for line in lines)
    assert "released its budget pause claim(s)" in text
    assert "resumed it (Warden had paused it)" in text
    # And the front end stays paused under the budget's claim
    assert states(lines) == {
        "consultation-app": "PAUSED",
        "worker": "RUNNING",
        "staging": "RUNNING",
        "marketing-site": "RUNNING",
    }


def test_warden_status_lists_the_fleet_that_is_guarded() -> None:
    # Given the fleet's story, When alice runs `warden status` after the first reconcile and at the end
    first, last = [lines for title, lines in steps(play().stdout) if "warden status" in title]
    # Then it lists one line per guarded service: the three, then the two left after the worker's tag went
    assert states(first) == {"consultation-app": "RUNNING", "staging": "RUNNING", "worker": "RUNNING"}
    assert states(last) == {"consultation-app": "PAUSED", "staging": "RUNNING"}
    assert "3 services guarded" in "\n".join(first)
    assert "2 services guarded" in "\n".join(last)


def test_verbose_prints_every_message_in_full_and_fleet_refuses_an_ecs_target() -> None:
    # Given the fleet played with --verbose (make demo FLEET=1 VERBOSE=1)
    verbose = play("--verbose")
    # Then it passes, tells the same steps, and prints the combined budget message with each service's own
    assert_played_through(verbose)
    assert step_times(verbose.stdout) == step_times(play().stdout)
    assert "=== consultation-app ===" in verbose.stdout
    assert "=== worker ===" in verbose.stdout
    # And --target ecs with --fleet is refused with a reason, before anything starts
    refused = subprocess.run(
        [sys.executable, "-m", "local.demo", "--target", "ecs", "--fleet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "--fleet guards App Runner and ECS services together" in refused.stderr
