"""Every CLI error is one line on stderr with exit status 2: argparse's, a missing region, a malformed digest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.account import LocalAccount
from local.template import ROOT

pytestmark = pytest.mark.integration


def warden(
    account: LocalAccount, *args: str, drop: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT / "layers" / "warden"),
        "WARDEN_OPERATOR": "alice",
        # No profile of the machine's may lend a region or credentials to these runs.
        "AWS_CONFIG_FILE": "/nonexistent/warden-test-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/warden-test-credentials",
        **account.env(),
        **env,
    }
    for name in drop:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "warden", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warden: ")
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("nonsense",),  # an unknown command
        ("pause",),  # a required option missing
        ("history", "--limit", "-5"),  # a count below 1
        ("history", "--limit", "many"),  # not a number
        ("status", "--actions", "0"),
        ("resume", "--override", "whim", "--reason", "x"),  # not a claim source
        (),  # no command at all
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2_not_a_usage_block(
    account: LocalAccount, args: tuple[str, ...]
) -> None:
    # When the command line is wrong Then the operator reads one line that says what and where to look
    line = assert_one_line_error(warden(account, *args))
    assert "--help" in line
    assert "usage:" not in line


def test_no_region_says_how_to_set_one(account: LocalAccount) -> None:
    # Given no AWS_REGION, no AWS_DEFAULT_REGION and no profile
    result = warden(account, "status", drop=("AWS_DEFAULT_REGION", "AWS_REGION"))
    # Then one line names the variable and the flag (not botocore's NoRegionError)
    line = assert_one_line_error(result)
    assert "AWS_REGION" in line
    assert "--region" in line
    assert "NoRegionError" not in line


@pytest.mark.parametrize("how", ["AWS_REGION", "--region"])
def test_aws_region_or_the_flag_is_enough(account: LocalAccount, how: str) -> None:
    region = {"AWS_REGION": "us-east-1"} if how == "AWS_REGION" else {}
    flag = ("--region", "us-east-1") if how == "--region" else ()
    result = warden(account, *flag, "history", drop=("AWS_DEFAULT_REGION",), **region)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("digest", ["sha256:zz", "sha256:" + "A" * 64, "sha256:" + "0" * 63])
def test_a_malformed_digest_for_rollback_is_named_as_such(account: LocalAccount, digest: str) -> None:
    line = assert_one_line_error(warden(account, "rollback", digest, "--plan"))
    assert digest in line
    assert "64" in line  # says what a digest looks like


def test_status_without_claims_says_so_once(account: LocalAccount) -> None:
    result = warden(account, "status")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lower().count("no pause claim") + result.stdout.count("Claims    none") == 1
