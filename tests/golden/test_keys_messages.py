"""The access-key audit's words (warden/messages/keys.py) as approved golden files, tests/golden/texts/keys.*.txt.

Each notification the audit can send is rendered from facts (a `KeyAudit`); four of them are rendered again by
the use case with in-memory fakes and must match the same files, so the weekly run publishes exactly what the
renderer writes. `UPDATE_GOLDEN=1` rewrites the files after a wording change; review the diff.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeAccessKeys, FakeNotifier, FakeState, credential_report_csv
from tests.golden.golden import assert_golden, assert_golden_notification
from warden.domain.keys import (
    AccessKeyRefused,
    Deactivation,
    DeactivationOutcome,
    FailureKind,
    Hold,
    KeyAudit,
    KeyFailure,
    KeyFinding,
    KeyOperation,
    KeyPolicy,
    ListedKey,
    assess_keys,
    match_listed_key,
    remedy_for,
)
from warden.domain.notification import Notification
from warden.messages.keys import (
    action_reason,
    audit_digest,
    deactivation_lines,
    healthy_digest,
    quiet_reason,
    undo_lines,
)
from warden.models.credential_report import parse_credential_report
from warden.settings import Settings
from warden.usecases.audit_keys import AuditKeysDeps, audit_access_keys

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
GENERATED = NOW - timedelta(minutes=20)
ACCOUNT = "123456789012"
ENV = {
    "SERVICE_ARN": f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/consultation-app/0123456789abcdef0123456789abcdef",
    "NOTIFY_TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
FULL_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
EXEMPT = {"warden:exempt": "true"}

Row = dict[str, str]


# -- the facts: report rows, the findings the domain makes of them, what happened to each key ------------------


def created(age: int) -> datetime:
    return (NOW - timedelta(days=age, hours=1)).replace(microsecond=0)


def user(name: str, *keys: tuple[int, int | None] | tuple[int, int | None, bool]) -> Row:
    """A report row: each key is (age in days, days since last use or None for never[, active])."""
    values = {"user": name}
    for slot, spec in enumerate(keys, start=1):
        age, used, *rest = spec
        values[f"access_key_{slot}_active"] = "true" if (rest[0] if rest else True) else "false"
        values[f"access_key_{slot}_last_rotated"] = created(age).isoformat()
        if used is not None:
            values[f"access_key_{slot}_last_used_date"] = (NOW - timedelta(days=used)).isoformat()
            values[f"access_key_{slot}_last_used_service"] = "s3"
    return values


def listed(key_id: str, age: int, status: str = "Active") -> ListedKey:
    return ListedKey(access_key_id=key_id, status=status, created_at=created(age) + timedelta(microseconds=123456))


def policy(deactivate_after_days: int | None = None) -> KeyPolicy:
    return KeyPolicy(deactivate_after_days=deactivate_after_days)


def facts(
    rows: Sequence[Row],
    *,
    tags: dict[str, dict[str, str]] | None = None,
    deactivate_after_days: int | None = None,
    dry_run: bool = False,
    deactivations: Callable[[list[KeyFinding]], list[Deactivation]] = lambda due: [],
) -> KeyAudit:
    """What an audit of `rows` found; `deactivations` says what happened to the keys due for deactivation."""
    findings = assess_keys(
        parse_credential_report(credential_report_csv(*rows)), tags or {}, policy(deactivate_after_days), NOW
    )
    return KeyAudit(
        account=ACCOUNT,
        policy=policy(deactivate_after_days),
        dry_run=dry_run,
        healthy_digest_days=7,
        findings=tuple(findings),
        deactivations=tuple(deactivations([finding for finding in findings if finding.deactivate])),
        report_generated_at=GENERATED,
        now=NOW,
    )


def handled(
    finding: KeyFinding,
    outcome: DeactivationOutcome,
    keys: Sequence[ListedKey],
    *,
    held_by: Hold | None = None,
    failure: KeyFailure | None = None,
    unrecorded: str | None = None,
) -> Deactivation:
    """A key Warden re-read (`keys`: the user's keys as listed now), then deactivated, held back or failed to."""
    match = match_listed_key(finding, keys)
    return Deactivation(
        user=finding.user,
        slot=finding.slot,
        age_days=finding.age_days,
        suffix=match.suffix,
        outcome=outcome,
        held_by=held_by,
        match=match.reason,
        failure=failure,
        unrecorded=unrecorded,
    )


def unread(finding: KeyFinding, failure: KeyFailure) -> Deactivation:
    """A key whose user's keys Warden could not even list."""
    return Deactivation(
        user=finding.user,
        slot=finding.slot,
        age_days=finding.age_days,
        suffix=None,
        outcome=DeactivationOutcome.FAILED,
        failure=failure,
    )


def failure(kind: FailureKind, code: str, operation: KeyOperation, detail: str) -> KeyFailure:
    return KeyFailure(kind=kind, code=code, operation=operation, detail=detail, remedy=remedy_for(kind, code))


DENIED_UPDATE = failure(
    FailureKind.REFUSED,
    "AccessDenied",
    KeyOperation.UPDATE,
    "IAM UpdateAccessKey refused (AccessDenied): explicit deny in an SCP",
)


# -- the accounts ----------------------------------------------------------------------------------------------


def consultation_account() -> list[Row]:
    """The demo's users: keys 12, 85, 120 and 400 days old, and one never used."""
    return [
        user("dev-alice", (12, 1)),
        user("dev-bob", (85, 2)),
        user("deploy-bot", (400, 3), (120, 1)),
        user("old-laptop", (30, None)),
    ]


# deploy-bot: key 1 is 400 days old (overdue), key 2 is 20 days old.
TWO_KEYS = [user("deploy-bot", (400, 1), (20, 1)), user("dev-alice", (12, 1))]
DEPLOY_BOT_KEYS = [listed("AKIANEWKEY000000ABCD", 20), listed("AKIAOLDKEY000000WXYZ", 400)]
# break-glass: an SCP denies iam:UpdateAccessKey on it; deploy-bot's key is deactivated all the same.
BREAK_GLASS = [user("break-glass", (400, 200)), user("deploy-bot", (300, 1))]
BREAK_GLASS_KEYS = {
    "break-glass": [listed("AKIABREAKGLASS00GLAS", 400)],
    "deploy-bot": [listed("AKIADEPLOYBOT000WXYZ", 300)],
}
HEALTHY = [user("dev-alice", (12, 1)), user("dev-bob", (30, 2), (60, 5))]


def deactivated(due: list[KeyFinding]) -> list[Deactivation]:
    return [handled(due[0], DeactivationOutcome.DONE, DEPLOY_BOT_KEYS)]


def break_glass_handled(due: list[KeyFinding]) -> list[Deactivation]:
    glass, bot = due
    return [
        handled(glass, DeactivationOutcome.FAILED, BREAK_GLASS_KEYS["break-glass"], failure=DENIED_UPDATE),
        handled(bot, DeactivationOutcome.DONE, BREAK_GLASS_KEYS["deploy-bot"]),
    ]


def read_failed(due: list[KeyFinding]) -> list[Deactivation]:
    """ListAccessKeys failing four ways, one per remedy: denied, gone, throttled, and an answer of an odd shape."""
    op = KeyOperation.LIST
    how = {
        "locked": failure(FailureKind.REFUSED, "AccessDenied", op, "IAM ListAccessKeys refused (AccessDenied)"),
        "deleted": failure(FailureKind.REFUSED, "NoSuchEntity", op, "IAM ListAccessKeys refused (NoSuchEntity)"),
        "busy": failure(
            FailureKind.UNAVAILABLE, "Throttling", op, "iam ListAccessKeys failed after retries: Throttling"
        ),
        "odd": failure(FailureKind.UNEXPECTED, "KeyError", op, "'AccessKeyMetadata'"),
    }
    return [unread(finding, how[finding.user]) for finding in due]


def skipped(due: list[KeyFinding]) -> list[Deactivation]:
    """Three keys the report names that are not exactly one Active key any more: none is touched."""
    now_listed = {
        "deploy-bot": [listed("AKIANEWERKEY0000EEEE", 0)],  # rotated since the report
        "twins": [listed("AKIATWINONE00000AAAA", 300), listed("AKIATWINTWO00000BBBB", 300)],  # same second
        "tidy": [listed("AKIAINACTIVE0000IIII", 200, "Inactive")],  # deactivated by hand since
    }
    return [handled(finding, DeactivationOutcome.SKIPPED, now_listed[finding.user]) for finding in due]


# -- every notification, from facts ----------------------------------------------------------------------------

NOTIFICATIONS: dict[str, Callable[[], Notification]] = {
    # Overdue, unused and due keys; deactivation off.
    "keys.findings": lambda: audit_digest(facts(consultation_account())),
    # A root access key leads the digest, with how to delete it.
    "keys.root_key": lambda: audit_digest(facts([user("<root_account>", (3, 1)), user("dev-alice", (12, 1))])),
    # Inactive keys to delete (the root user's whatever its age) and a never-used one.
    "keys.delete_me": lambda: audit_digest(
        facts([user("<root_account>", (3, 1, False)), user("retired", (120, 100, False)), user("intern", (12, None))])
    ),
    # An exempt user is listed (not actioned) next to a due key.
    "keys.exempt_listed": lambda: audit_digest(
        facts([user("legacy-ci", (400, 1)), user("dev-bob", (80, 1))], tags={"legacy-ci": EXEMPT})
    ),
    # Deactivation on, a due key only: the digest says what would happen to overdue keys.
    "keys.due": lambda: audit_digest(facts([user("dev-bob", (80, 1))], deactivate_after_days=180)),
    # Overdue, but younger than KEY_DEACTIVATE_AFTER_DAYS: reported only.
    "keys.not_old_enough": lambda: audit_digest(facts([user("ci-runner", (120, 1))], deactivate_after_days=180)),
    # The overdue key of a two-key user deactivated, with the commands to re-activate it.
    "keys.deactivated": lambda: audit_digest(facts(TWO_KEYS, deactivate_after_days=180, deactivations=deactivated)),
    # DRY_RUN: what would have been deactivated.
    "keys.dry_run": lambda: audit_digest(
        facts(
            TWO_KEYS,
            deactivate_after_days=180,
            dry_run=True,
            deactivations=lambda due: [
                handled(due[0], DeactivationOutcome.WOULD, DEPLOY_BOT_KEYS, held_by=Hold.DRY_RUN)
            ],
        )
    ),
    # Rotated since the report, two keys created in the same second, already inactive: none touched.
    "keys.skipped": lambda: audit_digest(
        facts(
            [user("deploy-bot", (400, 1)), user("twins", (300, 1)), user("tidy", (200, 1))],
            deactivate_after_days=180,
            deactivations=skipped,
        )
    ),
    # A user's keys could not be read, four ways; the audit went on.
    "keys.read_failed": lambda: audit_digest(
        facts(
            [user(name, (200 + n, 1)) for n, name in enumerate(["locked", "deleted", "busy", "odd"])],
            deactivate_after_days=180,
            deactivations=read_failed,
        )
    ),
    # An SCP denies the deactivation of the break-glass user's key; the other key is deactivated.
    "keys.update_failed": lambda: audit_digest(
        facts(BREAK_GLASS, deactivate_after_days=180, deactivations=break_glass_handled)
    ),
    # Deactivated, but the action log could not record it.
    "keys.unrecorded": lambda: audit_digest(
        facts(
            TWO_KEYS,
            deactivate_after_days=180,
            deactivations=lambda due: [
                handled(
                    due[0],
                    DeactivationOutcome.DONE,
                    DEPLOY_BOT_KEYS,
                    unrecorded="state table warden-state: ProvisionedThroughputExceededException",
                )
            ],
        )
    ),
    # More findings than a digest lists.
    "keys.long": lambda: audit_digest(facts([user(f"user-{n:03}", (100, 1)) for n in range(203)])),
    # Nothing to report: the short weekly digest.
    "keys.healthy": lambda: healthy_digest(facts(HEALTHY)),
    # Nothing to report but an exempt user's key.
    "keys.healthy_exempt": lambda: healthy_digest(
        facts([user("legacy-ci", (400, 1)), user("dev-alice", (12, 1))], tags={"legacy-ci": EXEMPT})
    ),
    # A user named after a key id, and IAM's error quoting one: only `…WXYZ` is ever shown.
    "keys.masked": lambda: audit_digest(
        facts(
            [user("ci-AKIAUSERNAMEDLIKE1D", (400, 2))],
            deactivate_after_days=180,
            deactivations=lambda due: [
                handled(
                    due[0],
                    DeactivationOutcome.FAILED,
                    [listed("AKIAREALKEY00000RRRR", 400)],
                    failure=failure(
                        FailureKind.REFUSED,
                        "AccessDenied",
                        KeyOperation.UPDATE,
                        "IAM UpdateAccessKey refused (AccessDenied): not authorized on AKIAREALKEY00000RRRR",
                    ),
                )
            ],
        )
    ),
}


@pytest.mark.parametrize("name", NOTIFICATIONS)
def test_each_key_audit_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one kind of audit, When the renderer writes its notification
    notification = NOTIFICATIONS[name]()
    # Then it is the approved text, and no full access key id is in it
    assert_golden_notification(name, notification)
    assert FULL_KEY_ID.findall(notification.subject + notification.body) == []


def every_kind_of_deactivation() -> list[Deactivation]:
    """One key for each thing that can happen to a key due for deactivation."""
    audit = facts(
        [user(f"user-{n}", (200 + n, 1)) for n in range(9)],
        deactivate_after_days=180,
    )
    by_user = {finding.user: finding for finding in audit.findings}
    keys = {name: [listed(f"AKIAKEY{n:09d}00{n}Z", 200 + n)] for n, name in enumerate(sorted(by_user))}
    done, dry, preview, gone, listing, busy, odd, refused, unrecorded = (by_user[f"user-{n}"] for n in range(9))
    list_op, update_op = KeyOperation.LIST, KeyOperation.UPDATE
    return [
        handled(done, DeactivationOutcome.DONE, keys[done.user]),
        handled(dry, DeactivationOutcome.WOULD, keys[dry.user], held_by=Hold.DRY_RUN),
        handled(preview, DeactivationOutcome.WOULD, keys[preview.user], held_by=Hold.PREVIEW),
        handled(gone, DeactivationOutcome.SKIPPED, []),
        unread(listing, failure(FailureKind.REFUSED, "AccessDenied", list_op, "IAM ListAccessKeys refused")),
        unread(busy, failure(FailureKind.UNAVAILABLE, "Throttling", list_op, "iam ListAccessKeys failed: Throttling")),
        unread(odd, failure(FailureKind.UNEXPECTED, "KeyError", list_op, "'AccessKeyMetadata'")),
        handled(
            refused,
            DeactivationOutcome.FAILED,
            keys[refused.user],
            failure=failure(FailureKind.REFUSED, "NoSuchEntity", update_op, "IAM UpdateAccessKey refused"),
        ),
        handled(
            unrecorded, DeactivationOutcome.DONE, keys[unrecorded.user], unrecorded="state table unavailable: timeout"
        ),
    ]


def test_the_action_log_reason_of_each_kind_of_deactivation_reads_as_approved() -> None:
    # Given one key for each outcome, When each is written to the action log (`warden history` shows it)
    reasons = [action_reason(d) for d in every_kind_of_deactivation()]
    # Then each reason is the approved line: the user, the key by suffix, its age, what happened and why
    assert_golden("keys.action_log", "\n".join(reasons) + "\n")


def test_the_lines_warden_audit_keys_prints_read_as_approved() -> None:
    # Given one key for each outcome, When `warden audit-keys` prints its Deactivation and How to undo lines
    deactivations = every_kind_of_deactivation()
    text = "\n".join(["Deactivation", *deactivation_lines(deactivations), "How to undo", *undo_lines(deactivations)])
    # Then they are the approved lines
    assert_golden("keys.cli_lines", text + "\n")


def test_why_a_clean_account_got_no_digest_reads_as_approved() -> None:
    # Given a clean account whose last healthy digest went out two days ago
    audit = facts(HEALTHY)
    # When the use case says why it sent nothing (the result's reason, printed by the CLI)
    reason = quiet_reason(audit, NOW - timedelta(days=2))
    # Then it is the approved sentence
    assert_golden("keys.quiet_reason", reason + "\n")


# -- the same notifications, through the use case with fakes -------------------------------------------------


class DenyingAccessKeys(FakeAccessKeys):
    """IAM where an SCP denies iam:UpdateAccessKey on the user `break-glass`."""

    def deactivate_access_key(self, user_name: str, access_key_id: str) -> None:
        if user_name == "break-glass":
            self.calls.append(f"refused:{user_name}")
            raise AccessKeyRefused(
                "IAM UpdateAccessKey refused (AccessDenied): explicit deny in an SCP", code="AccessDenied"
            )
        super().deactivate_access_key(user_name, access_key_id)


WEEKLY_RUNS: dict[str, tuple[list[Row], dict[str, list[ListedKey]], dict[str, str]]] = {
    "keys.findings": (consultation_account(), {}, {}),
    "keys.deactivated": (TWO_KEYS, {"deploy-bot": DEPLOY_BOT_KEYS}, {"KEY_DEACTIVATE_AFTER_DAYS": "180"}),
    "keys.update_failed": (BREAK_GLASS, BREAK_GLASS_KEYS, {"KEY_DEACTIVATE_AFTER_DAYS": "180"}),
    "keys.healthy": (HEALTHY, {}, {}),
}


@pytest.mark.parametrize("name", WEEKLY_RUNS)
def test_the_weekly_run_publishes_exactly_what_the_renderer_writes(name: str) -> None:
    # Given an account in IAM (fakes) and the settings of the weekly run
    rows, keys, env = WEEKLY_RUNS[name]
    iam = DenyingAccessKeys(report=credential_report_csv(*rows), generated_at=GENERATED, keys=dict(keys))
    notifier = FakeNotifier()
    deps = AuditKeysDeps(iam, notifier, FakeState(), sleep=lambda seconds: None)
    # When the use case audits it
    audit_access_keys(deps, Settings.from_env({**ENV, **env}), NOW)
    # Then the one notification it publishes is the approved text the renderer writes from the same facts
    (sent,) = notifier.sent
    assert_golden_notification(name, sent)
    assert sent == NOTIFICATIONS[name]()
