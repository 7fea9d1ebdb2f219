"""`make demo` is the first command of the README: the month plays through, for both kinds of service.

The demo checks its own story (each act counts its failed checks and prints them with '!!'); these tests
run it as the operator does, in a subprocess, and hold it to an exit code of 0 and a clean story.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.template import ROOT

pytestmark = pytest.mark.integration


def play(target: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "local.demo", "--target", target],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_app_runner_month_plays_through_with_every_check_passing() -> None:
    # Given a fresh machine's demo (moto and the App Runner emulator on free local ports)
    # When it plays the month against the App Runner service
    result = play("apprunner")
    # Then every act's checks pass and the story shows the budget pause
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo check failed" not in result.stdout + result.stderr
    assert "App Runner: PAUSED; pause claims: budget (by on_budget_alert)" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_ecs_month_plays_through_with_every_check_passing() -> None:
    # Given the same demo with an ECS Fargate service of 2 tasks (auto scaling 1..4) in moto
    # When it plays the month with --target ecs
    result = play("ecs")
    # Then every check passes: the budget pause scales it to 0 with scaling pinned, the resume restores it
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo check failed" not in result.stdout + result.stderr
    assert "ECS service: PAUSED (0 tasks desired; auto scaling 0..0, suspended)" in result.stdout
    assert "ECS service: RUNNING (2 tasks desired; auto scaling 1..4); pause claims: none" in result.stdout
    # And moto's refusal of the Express Mode probe is not shown to the operator as a crash
    assert "Traceback" not in result.stderr
