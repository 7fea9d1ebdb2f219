"""`make invoke`: the Docker-free `sam local invoke -e`, one handler on an event file against the local account."""

from __future__ import annotations

import subprocess
import sys

import pytest

from local.template import ROOT

pytestmark = pytest.mark.integration


def _invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.invoke", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_confirmed_budget_breach_event_prints_the_result_and_the_pause_notification() -> None:
    # Given the documented 100 % budget event and a local Budgets API that confirms the spend
    # When it is invoked the Docker-free way
    run = _invoke("on_budget_alert", "events/on_budget_alert/budget-actual-100-percent.json", "--actual-spend", "10.42")

    # Then the handler's result and the operator's notification are printed, and nothing else is logged
    assert run.returncode == 0, run.stderr
    assert '"outcome": "paused"' in run.stdout
    assert "event=budget.paused severity=critical" in run.stdout
    assert '"level"' not in run.stdout  # Powertools' JSON log lines only with --logs


def test_an_unknown_function_is_one_line_on_stderr_and_exit_2() -> None:
    run = _invoke("no_such_function", "events/on_alarm/sns-cpu-alarm.json")

    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
    assert "on_budget_alert" in run.stderr  # the known functions are listed


def test_an_alarm_sample_is_about_the_local_service_and_a_setting_reaches_the_handler() -> None:
    # Given the CPU alarm sample (it names a fixed service id) and ALARM_ACTIONS given on the command line
    run = _invoke("on_alarm", "events/on_alarm/sns-cpu-alarm.json", "--env", "ALARM_ACTIONS=*-cpu=pause")

    # Then the alarm is the local service's, and the pattern pauses it
    assert run.returncode == 0, run.stderr
    assert '"outcome": "paused"' in run.stdout
