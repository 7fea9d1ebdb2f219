"""Demo act: the weekly access-key audit reads one credential report and deactivates exactly one key.

The account's users are created through the IAM API and then back-dated on moto's backend objects
(moto's server runs in this process, so `iam_backends` holds the very objects it serves): moto has
no API to create a key in the past (AWS-FACTS §8).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.iam.models import AccessKeyLastUsed, iam_backends

from local.account import ACCOUNT_ID, REGION, LocalAccount
from local.template import ROOT
from local.timeline import Timeline, expect

# name, [(key age in days, days since last use or None for never), ...]: keys 12, 85, 120 and 400
# days old plus one never used. deploy-bot is half-way through a rotation: a new key next to the old one.
DEMO_USERS: tuple[tuple[str, tuple[tuple[int, int | None], ...]], ...] = (
    ("dev-alice", ((12, 1),)),
    ("dev-bob", ((85, 2),)),
    ("ci-runner", ((120, 1),)),
    ("deploy-bot", ((400, 3), (5, 1))),
    ("old-laptop", ((30, None),)),
)
DEACTIVATE_AFTER_DAYS = "180"


def iam_backend() -> Any:
    """moto's IAM backend of the local account (the server's own objects: it runs in this process)."""
    return iam_backends[ACCOUNT_ID]["global"]


def clear_users() -> None:
    """Removes every IAM user (and its keys) from the local account, and forgets the credential report."""
    backend = iam_backend()
    for user in list(backend.users.values()):
        for key in user.access_keys:
            backend.access_keys.pop(key.physical_resource_id, None)
        backend.users.pop(user.name)
    backend.credential_report = None


def add_user(
    account: LocalAccount,
    name: str,
    keys: Sequence[tuple[int, int | None]],
    *,
    tags: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Creates a user with keys `(age in days, days since last use or None)`, back-dated; returns the key ids."""
    iam = account.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()])
    ids = [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in keys]
    backdate(name, keys, now=now)
    return ids


def backdate(name: str, keys: Sequence[tuple[int, int | None]], *, now: datetime | None = None) -> None:
    """Sets the creation and last-use times of a user's keys, in the order they were created."""
    # moto keeps naive UTC times; its report writes them with +00:00.
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    user = iam_backend().users[name]
    for key, (age, used) in zip(user.access_keys, keys, strict=True):
        key.create_date = moment - timedelta(days=age, hours=1)
        key.last_used = (
            None if used is None else AccessKeyLastUsed(moment - timedelta(days=used), service="s3", region=REGION)
        )


def seed(account: LocalAccount) -> dict[str, list[str]]:
    """The consultation app's IAM users (keys 12, 85, 120 and 400 days old, one never used); their key ids."""
    return {name: add_user(account, name, keys) for name, keys in DEMO_USERS}


def play(timeline: Timeline) -> int:
    """Monday 09:00: the weekly audit; then the operator checks from a shell with `warden audit-keys`."""
    account = timeline.account
    ids = seed(account)
    failures = 0
    when = "Monday, 09:00 (weekly)"

    timeline.say(when, 'Scheduler {"job": "audit-keys"} -> audit_access_keys (KEY_DEACTIVATE_AFTER_DAYS=180)')
    outcome = timeline.run("audit_access_keys", {"job": "audit-keys"}, KEY_DEACTIVATE_AFTER_DAYS=DEACTIVATE_AFTER_DAYS)[
        0
    ]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += expect(timeline.show_inbox() == 1, "one digest for the whole account")
    statuses = {key["AccessKeyId"]: key["Status"] for key in _keys(account, "deploy-bot")}
    old, new = ids["deploy-bot"]
    timeline.note(f"deploy-bot's keys now: 400-day key {statuses[old]}, 5-day key {statuses[new]}.")
    failures += expect(
        outcome["outcome"] == "reported" and statuses == {old: "Inactive", new: "Active"},
        "exactly deploy-bot's 400-day key is deactivated, its new key is not",
    )

    timeline.say(when, "The operator checks from a shell: warden audit-keys (prints only)")
    printed = _cli(account, "audit-keys")
    print(textwrap.indent(printed.stdout.rstrip(), "      "))
    failures += expect(
        printed.returncode == 0 and "delete me" in printed.stdout and timeline.show_inbox() == 0,
        "the CLI prints the same audit, the old key now 'delete me', and sends nothing",
    )
    return failures


def _keys(account: LocalAccount, name: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = account.client("iam").list_access_keys(UserName=name)["AccessKeyMetadata"]
    return keys


def _cli(account: LocalAccount, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m warden ...` as an operator runs it, against the local account."""
    env = {**os.environ, **account.env(), "PYTHONPATH": str(ROOT / "layers" / "warden")}
    return subprocess.run(
        [sys.executable, "-m", "warden", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
