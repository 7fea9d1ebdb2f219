"""Demo act: the weekly access-key audit reads one credential report and deactivates exactly one key.

moto dates every credential report 2015-02-02; the act dates it by the demo's clock, as AWS dates a fresh
report, so no emulator artefact reads as the operator's account.

The account's users are created through the IAM API and then back-dated on moto's backend objects
(moto's server runs in this process, so `iam_backends` holds the very objects it serves): moto has
no API to create a key in the past (AWS-FACTS §8).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.models import AccessKeyLastUsed, iam_backends
from moto.iam.responses import IamResponse

from local.account import ACCOUNT_ID, REGION, LocalAccount
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
    failures = 0

    with _reports_dated_by_the_clock():
        timeline.say(timeline.calendar.audit, "Weekly audit-keys -> audit_access_keys (KEY_DEACTIVATE_AFTER_DAYS=180)")
        ids = seed(account)
        timeline.detail(
            "IAM users: keys 12, 85, 120 and 400 days old and one never used; deploy-bot is half-way through a "
            "rotation, a 5-day key next to its 400-day one."
        )
        outcome = timeline.run(
            "audit_access_keys", {"job": "audit-keys"}, KEY_DEACTIVATE_AFTER_DAYS=DEACTIVATE_AFTER_DAYS
        )[0]
        timeline.outcome(outcome)
        failures += expect(timeline.show_inbox(sections=("Deactivated",)) == 1, "one digest for the whole account")
        statuses = {key["AccessKeyId"]: key["Status"] for key in _keys(account, "deploy-bot")}
        old, new = ids["deploy-bot"]
        timeline.note(f"deploy-bot's keys now: 400-day key {statuses[old]}, 5-day key {statuses[new]}.")
        failures += expect(
            outcome["outcome"] == "reported" and statuses == {old: "Inactive", new: "Active"},
            "exactly deploy-bot's 400-day key is deactivated, its new key is not",
        )

        timeline.say(timeline.calendar.audit + timedelta(minutes=30), "alice checks from a shell: warden audit-keys")
        printed = timeline.cli("audit-keys")
        for line in printed.stdout.rstrip().splitlines()[: None if timeline.verbose else _table_length(printed.stdout)]:
            print(f"      {line if timeline.verbose or len(line) <= 90 else line[:89] + '…'}")
        after = {key["AccessKeyId"]: key["Status"] for key in _keys(account, "deploy-bot")}
        failures += expect(
            printed.returncode == 0 and after == statuses and timeline.show_inbox() == 0,
            "the CLI prints the same audit, changes no key and sends nothing",
        )
    return failures


def _table_length(printed: str) -> int:
    """The findings table: the lines up to the first blank one."""
    lines = printed.splitlines()
    return next((number for number, line in enumerate(lines) if not line.strip()), len(lines))


@contextlib.contextmanager
def _reports_dated_by_the_clock() -> Iterator[None]:
    """moto stamps every credential report "generated 2015-02-02T20:02:02Z"; AWS dates a report when it makes it.
    While the act runs, the report moto serves is dated by the demo's clock (moto's server runs in this process),
    so the digest's report age is the emulated account's, not an emulator artefact."""
    original = IamResponse.get_credential_report

    def dated(self: IamResponse) -> ActionResult:
        result = original(self)
        if isinstance(result.result, dict):
            result.result["GeneratedTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return result

    IamResponse.get_credential_report = dated  # type: ignore[method-assign]
    try:
        yield
    finally:
        IamResponse.get_credential_report = original  # type: ignore[method-assign]


def _keys(account: LocalAccount, name: str) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = account.client("iam").list_access_keys(UserName=name)["AccessKeyMetadata"]
    return keys
