"""The real `warden` entry point, in a subprocess, against moto's server and the App Runner emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.account import LocalAccount
from local.template import ROOT

pytestmark = pytest.mark.integration

CONSOLE_SCRIPT = Path(sys.executable).with_name("warden")


def warden(account: LocalAccount, *args: str, script: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "warden"]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT / "layers" / "warden"),
        "WARDEN_OPERATOR": "alice",
        **account.env(),
        **env,
    }
    return subprocess.run([*command, *args], env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_status_shows_the_service_its_claims_the_budget_and_the_last_actions(account: LocalAccount) -> None:
    # Given a running service and a budget at $8.13 of $10.00
    # When the operator asks for the status
    result = warden(account, "status")
    # Then it prints a readable report and exits 0
    assert result.returncode == 0, result.stderr
    assert "consultation-app  RUNNING" in result.stdout
    assert "Claims    none: the service should be running" in result.stdout
    assert "$8.13 of $10.00 (81.3%)" in result.stdout
    assert "Last actions" in result.stdout


def test_pause_and_resume_by_hand_round_trip_through_app_runner(account: LocalAccount) -> None:
    # When the operator pauses with a reason
    paused = warden(account, "pause", "--reason", "database maintenance")
    # Then the service is paused with a manual claim owned by them
    assert paused.returncode == 0, paused.stderr
    assert "Recorded the 'manual' pause claim." in paused.stdout
    assert account.service_status() == "PAUSED"
    claims = account.claims()
    assert [(claim["SK"], claim["owner"]) for claim in claims] == [("CLAIM#manual", "alice")]
    # And `status` shows the claim, `history` the actions
    status = warden(account, "status")
    assert "manual" in status.stdout
    assert "database maintenance" in status.stdout
    history = warden(account, "history")
    assert "pause" in history.stdout
    assert "alice" in history.stdout
    # When the operator resumes, Then the claim is gone and the service runs
    resumed = warden(account, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Cleared the 'manual' pause claim" in resumed.stdout
    assert account.service_status() == "RUNNING"
    assert account.claims() == []
    # And the operator's inbox received both notifications
    assert [message.attributes["event"] for message in account.inbox()] == ["manual.paused", "manual.resumed"]


def test_the_console_script_is_the_same_cli(account: LocalAccount) -> None:
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} missing: `pip install -e .` installs it (make does)"
    result = warden(account, "history", script=True)
    assert result.returncode == 0, result.stderr
    assert "(no actions recorded)" in result.stdout


def test_an_override_needs_a_reason_and_says_so_in_one_line(account: LocalAccount) -> None:
    result = warden(account, "resume", "--override", "budget")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "needs --reason" in result.stderr


def test_missing_settings_fail_in_one_line_naming_the_variables(account: LocalAccount) -> None:
    result = warden(account, "status", SERVICE_ARN="", STATE_TABLE="")
    assert result.returncode == 2
    assert result.stderr.startswith("warden: invalid settings")
    assert "SERVICE_ARN is not set" in result.stderr
    assert "STATE_TABLE is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_pause_changes_nothing(account: LocalAccount) -> None:
    result = warden(account, "--dry-run", "pause", "--reason", "try it")
    assert result.returncode == 0, result.stderr
    assert "[dry run]" in result.stdout
    assert account.service_status() == "RUNNING"
    assert account.claims() == []


def test_an_unknown_service_is_one_clear_line(account: LocalAccount) -> None:
    missing = "arn:aws:apprunner:us-east-1:123456789012:service/ghost-app/" + "0" * 32
    result = warden(account, "--service-arn", missing, "status")
    assert result.returncode == 2
    assert "ghost-app" in result.stderr
    assert "Traceback" not in result.stderr
