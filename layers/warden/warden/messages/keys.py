"""The access-key audit in words: its digests, the CLI's lines and the action log's reasons, from the facts.

The facts are `KeyAudit`, `KeyFinding` and `Deactivation` (warden/domain/keys.py); the approved text of each
notification is under tests/golden/texts/keys.*.txt. Everything returned here has key ids masked (`…WXYZ`):
an IAM user may even be named after one.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from datetime import datetime
from typing import Final, assert_never

from warden.domain.keys import (
    EXEMPT_TAG,
    PROBLEMS,
    Deactivation,
    DeactivationOutcome,
    FailureKind,
    Hold,
    KeyAudit,
    KeyClass,
    KeyFailure,
    KeyFinding,
    KeyOperation,
    Remedy,
    mask_key_ids,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.table import table

EVENT: Final = "keys.audit"
# The digest lists at most this many findings; `warden audit-keys` prints them all.
DIGEST_ROWS: Final = 200
# The classes a digest lists and its subject counts: everything but `ok`, most urgent first.
LISTED: Final = tuple(kind for kind in KeyClass if kind in PROBLEMS or kind is KeyClass.EXEMPT)
_SHORT: Final = {KeyClass.ROOT_KEY: "root key", KeyClass.DELETE_ME: "to delete"}


# -- the two digests -------------------------------------------------------------------------------


def audit_digest(audit: KeyAudit) -> Notification:
    """The weekly digest of an account with findings: what was found, what was done, what to do."""
    counts, account = audit.counts, audit.account
    listed = [finding for finding in audit.findings if finding.kind in LISTED]
    failed = audit.failed
    subject = f"[warden] KEYS {account}: " + ", ".join(_found(counts))
    if audit.deactivated:
        subject += f"; {audit.deactivated} deactivated"
    if failed:
        subject += f"; {len(failed)} failed"
    setting = _deactivation_setting(audit)
    others = [d for d in audit.deactivations if d.outcome is not DeactivationOutcome.FAILED]
    body = render(
        [
            ("Findings", findings_table(listed, audit.deactivations, limit=DIGEST_ROWS).splitlines()),
            ("Counts", [_counts_line(audit)]),
            (
                f"Failed: {len(failed)} key(s) Warden could not re-read or deactivate (the audit went on)",
                failure_lines(failed),
            ),
            (
                "Deactivated" if audit.deactivated else "Deactivation",
                deactivation_lines(others) or ([] if failed else [setting]),
            ),
            ("How to undo", undo_lines(audit.deactivations)),
            ("What to do", _advice(counts)),
            ("Report", [audit.report_age, setting if audit.deactivations else ""]),
        ],
        headline=f"Access-key audit of account {account}: {summary(audit)}"
        + (f"; {len(failed)} key(s) could not be deactivated." if failed else "."),
    )
    return Notification(subject=subject, body=mask_key_ids(body), event=EVENT, severity=audit.severity)


def healthy_digest(audit: KeyAudit) -> Notification:
    """The short digest of a clean account (no finding but exempt keys)."""
    policy, account = audit.policy, audit.account
    exempt = [finding for finding in audit.findings if finding.kind is KeyClass.EXEMPT]
    checked = sum(1 for finding in audit.findings if finding.active and finding.kind is not KeyClass.EXEMPT)
    body = render(
        [
            (
                "What Warden checked",
                [
                    f"Every active key is younger than {policy.max_age_days - policy.warning_days} days "
                    f"(limit {policy.max_age_days}) and in use; no root access key.",
                    f"This short digest goes out at most every {audit.healthy_digest_days} days while all "
                    "stays healthy; any finding is reported on the next run.",
                ],
            ),
            (f"Exempt (tagged {EXEMPT_TAG}=true, not actioned)", findings_table(exempt).splitlines() if exempt else []),
            ("Report", [audit.report_age]),
        ],
        headline=f"Every active access key of account {account} is healthy ({_plural(checked, 'key')} checked).",
    )
    subject = f"[warden] KEYS {account}: all {_plural(checked, 'key')} healthy"
    if exempt:
        subject += f" ({len(exempt)} exempt)"
    return Notification(subject=subject, body=mask_key_ids(body), event=EVENT, severity=Severity.INFO)


def summary(audit: KeyAudit) -> str:
    """One line: the active keys and what was found, e.g. "5 active keys, 2 overdue, 1 unused"."""
    found = _found(audit.counts)
    keys = _plural(audit.active_keys, "active key")
    return f"{keys}, " + ", ".join(found) if found else f"{keys}, all healthy"


def quiet_reason(audit: KeyAudit, last_sent: datetime) -> str:
    """Why a clean account got no digest this time."""
    return (
        f"{summary(audit)}; no digest, because the last 'all keys healthy' digest went out at "
        f"{last_sent:%Y-%m-%d %H:%M} UTC, less than KEY_HEALTHY_DIGEST_DAYS ({audit.healthy_digest_days}) days ago"
    )


# -- lines the digest and `warden audit-keys` share ---------------------------------------------------


def findings_table(
    findings: Iterable[KeyFinding], deactivations: Iterable[Deactivation] = (), *, limit: int | None = None
) -> str:
    """The findings as a plain-text table: user, key (slot, and its id's suffix where Warden read it), class,
    age, last use, and why."""
    suffixes = {(d.user, d.slot): d.suffix for d in deactivations if d.suffix}
    listed = list(findings)
    shown = listed if limit is None else listed[:limit]
    rows = [
        # Masked cell by cell, before the columns are aligned: a user may be named after a key id.
        tuple(
            mask_key_ids(str(cell))
            for cell in (
                finding.user,
                f"{finding.key_label} {suffixes.get((finding.user, finding.slot), '')}".rstrip(),
                finding.kind.value,
                finding.age_days,
                finding.last_used_text,
                finding.reason,
            )
        )
        for finding in shown
    ]
    text = table(["user", "key", "class", "age (days)", "last used", "why"], rows, empty="(no access keys)")
    if len(shown) < len(listed):
        text += f"\n... and {len(listed) - len(shown)} more: `warden audit-keys` prints them all."
    return text


def deactivation_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """One line per key due for deactivation; each reason starts with what happened to it."""
    return [
        mask_key_ids(f"{d.user} key {d.slot}{' ' + d.suffix if d.suffix else ''} ({d.age_days} days): ")
        + deactivation_reason(d)
        for d in deactivations
    ]


def failure_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """One line per key Warden failed to re-read or deactivate: user, key, AWS's code, the call, what to do."""
    return [
        mask_key_ids(
            f"{d.user} key {d.slot} {d.suffix or '(id not read)'}: {d.failure.code} on {d.failure.operation}. "
            f"What to do: {advice(d, d.failure)}"
        )
        for d in deactivations
        if d.failure is not None
    ]


def undo_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """How to re-activate each deactivated key. The full id is not printed: the first command shows it."""
    lines: list[str] = []
    for d in deactivations:
        if d.outcome is not DeactivationOutcome.DONE:
            continue
        user, tail = shlex.quote(d.user), (d.suffix or "").removeprefix("…")
        lines += [
            f"{d.user}, the key ending in {tail}:",
            f"  aws iam list-access-keys --user-name {user}",
            f"  aws iam update-access-key --user-name {user} --access-key-id <the id ending in {tail}> --status Active",
        ]
    return [mask_key_ids(line) for line in lines]


# -- one key's deactivation -------------------------------------------------------------------------


def deactivation_reason(d: Deactivation) -> str:
    """What happened to the key, then why: "deactivated: the key created at ...", "deactivation failed: ..."."""
    match d.outcome:
        case DeactivationOutcome.DONE:
            text = f"deactivated: {d.match}"
        case DeactivationOutcome.WOULD:
            text = f"{_held(d.held_by)}: {d.match}"
        case DeactivationOutcome.SKIPPED:
            text = f"not deactivated: {d.match}"
        case DeactivationOutcome.FAILED:
            text = _failed(d.failure)
        case unreachable:
            assert_never(unreachable)
    if d.unrecorded:
        text += f" (not recorded in the action log: {d.unrecorded})"
    return mask_key_ids(text)


def action_reason(d: Deactivation) -> str:
    """The action log's reason for one key (`warden history` shows it)."""
    return mask_key_ids(f"{d.user} key {d.slot} ({d.suffix or 'id unknown'}), {d.age_days} days old: ") + (
        deactivation_reason(d)
    )


def advice(d: Deactivation, failure: KeyFailure) -> str:
    """What the operator can do about a key Warden failed to re-read or deactivate."""
    match failure.remedy:
        case Remedy.BY_HAND:
            tail = (d.suffix or "").removeprefix("…")
            key = f"<the id ending in {tail}>" if tail else "<its id, from aws iam list-access-keys>"
            text = (
                f"something denies Warden iam:{failure.operation} on {d.user} (an SCP, a permissions boundary or a "
                f"deny policy). Act by hand: aws iam update-access-key --user-name {shlex.quote(d.user)} "
                f"--access-key-id {key} --status Inactive; or, for a break-glass user, tag it {EXEMPT_TAG}=true so "
                "that it is reported and never actioned."
            )
        case Remedy.NOTHING:
            text = "the user or the key was deleted since the report: nothing to do, the next audit no longer lists it."
        case Remedy.RETRY:
            text = "IAM was busy: the next weekly run tries again (or run `warden audit-keys --apply` later)."
        case Remedy.SEE_LOGS:
            text = "the audit_access_keys log group has the details; the next weekly run tries again."
        case unreachable:
            assert_never(unreachable)
    return mask_key_ids(text)


def _held(hold: Hold | None) -> str:
    match hold:
        case Hold.PREVIEW:
            return "would be deactivated with --apply"
        case Hold.DRY_RUN:
            return "would be deactivated, but DRY_RUN is on"
        case None:
            raise ValueError("a deactivation held back says by what")
        case unreachable:
            assert_never(unreachable)


def _failed(failure: KeyFailure | None) -> str:
    if failure is None:
        raise ValueError("a failed deactivation says how it failed")
    match failure.operation:
        case KeyOperation.LIST:
            step = "its keys could not be re-read"
        case KeyOperation.UPDATE:
            step = "deactivation failed"
        case unreachable:
            assert_never(unreachable)
    match failure.kind:
        case FailureKind.REFUSED:
            error = failure.detail
        case FailureKind.UNAVAILABLE:
            error = f"{failure.detail}; the next run tries again"
        case FailureKind.UNEXPECTED:
            error = f"unexpected error {failure.code}: {failure.detail}"
        case unknown:
            assert_never(unknown)
    return f"{step}: {error}"


# -- the digest's parts ------------------------------------------------------------------------------


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _found(counts: dict[KeyClass, int]) -> list[str]:
    """The listed classes that occur, most urgent first, as "2 overdue", "1 root key", ..."""
    return [f"{counts[kind]} {_SHORT.get(kind, kind.value)}" for kind in LISTED if counts[kind]]


def _counts_line(audit: KeyAudit) -> str:
    by_class = ", ".join(f"{kind.value} {number}" for kind, number in audit.counts.items())
    return f"{_plural(audit.active_keys, 'active key')}; by class: {by_class}"


def _deactivation_setting(audit: KeyAudit) -> str:
    after, overdue = audit.policy.deactivate_after_days, audit.counts[KeyClass.OVERDUE]
    if after is None:
        if not overdue:
            return ""
        return "Deactivation is off (KEY_DEACTIVATE_AFTER_DAYS is empty): overdue keys are only reported."
    line = f"Overdue keys {after} or more days old are deactivated"
    if not audit.deactivations:
        return line + ("; none is that old yet." if overdue else ".")
    if audit.dry_run:
        return line + " (DRY_RUN is on: none was; the lines above say which would have been)."
    return line + "."


def _advice(counts: dict[KeyClass, int]) -> list[str]:
    lines: list[str] = []
    if counts[KeyClass.ROOT_KEY]:
        lines.append("Root key: sign in as root, open Security credentials, delete the access key.")
    if counts[KeyClass.OVERDUE] or counts[KeyClass.DUE]:
        lines += [
            "Rotate a key: aws iam create-access-key --user-name <user>; switch the app or person to the new key;",
            "  then aws iam update-access-key --user-name <user> --access-key-id <old id> --status Inactive;",
            "  once nothing breaks, aws iam delete-access-key --user-name <user> --access-key-id <old id>.",
        ]
    if counts[KeyClass.UNUSED] or counts[KeyClass.DELETE_ME]:
        lines.append(
            "Unused or inactive key: aws iam list-access-keys --user-name <user>, then "
            "aws iam delete-access-key --user-name <user> --access-key-id <its id>."
        )
    return lines
