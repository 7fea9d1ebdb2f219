"""`audit_access_keys`: one credential report -> findings -> optional deactivation -> one digest.

The calls to IAM do not grow with the number of users (generate until COMPLETE, get, one bulk tag
read); only keys about to be deactivated are re-read one user at a time, because the report can be
hours old and names no key ids. Deactivation touches exactly the key the report's slot describes,
never the user's other key, and only when KEY_DEACTIVATE_AFTER_DAYS is set and DRY_RUN is off.

Key ids never appear in full in a notification, a log line, an action record or the result: only as
`…WXYZ`. The undo command therefore tells how to find the id instead of printing it.

One user's failure is that user's only: an AccessDenied from an SCP on a break-glass user, a user deleted
since the report, throttling, even an answer of an unexpected shape, while re-reading or deactivating its
key, is reported in the digest (the user, the key as `…WXYZ` once read, AWS's error code and what to do),
and the audit goes on with the other users.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.domain.keys import (
    EXEMPT_TAG,
    PROBLEMS,
    AccessKeyRefused,
    KeyClass,
    KeyFinding,
    KeyPolicy,
    assess_keys,
    audit_severity,
    count_findings,
    describe_report_age,
    healthy_digest_due,
    is_clean,
    mask_key_ids,
    match_listed_key,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.table import table
from warden.errors import AwsUnavailable
from warden.models.credential_report import (
    CredentialReportUnavailable,
    RawCredentialReport,
    ReportLimitExceeded,
    ReportMissing,
    ReportNotReady,
    ReportState,
    parse_credential_report,
)
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.ports import AccessKeysPort, NotifierPort, StatePort

ACTOR = "audit_access_keys"
EVENT = "keys.audit"
HEALTHY_MEMO = "keys.healthy_digest"
# Seconds between generate calls while AWS makes the report: about a minute in all, then a
# retryable error (Lambda tries again later, when the report AWS kept making is ready).
POLL_DELAYS: Final = (1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0)
# The digest lists at most this many findings; `warden audit-keys` prints them all.
DIGEST_ROWS: Final = 200
_SHORT: Final = {KeyClass.ROOT_KEY: "root key", KeyClass.DELETE_ME: "to delete"}
# The classes a digest lists and its subject counts: everything but `ok`, most urgent first.
_LISTED: Final = tuple(kind for kind in KeyClass if kind in PROBLEMS or kind is KeyClass.EXEMPT)


@dataclass(frozen=True)
class AuditKeysDeps:
    iam: AccessKeysPort
    notifier: NotifierPort
    state: StatePort
    sleep: Callable[[float], None] = time.sleep


class Outcome(StrEnum):
    REPORTED = "reported"  # a digest with findings went out
    HEALTHY = "healthy"  # the short "all keys healthy" digest went out
    HEALTHY_QUIET = "healthy_quiet"  # clean, and a healthy digest went out recently: nothing sent
    PRINTED = "printed"  # asked not to notify (the CLI's default)


class Deactivation(BaseModel):
    """What happened to one key due for deactivation: done, would (DRY_RUN or preview), skipped or failed."""

    model_config = ConfigDict(frozen=True)

    user: str
    slot: int
    age_days: int
    suffix: str | None
    outcome: str
    reason: str
    # For a failure: AWS's error code (AccessDenied, NoSuchEntity, Throttling...; the exception's type when AWS
    # gave none), the call that failed, and what the operator can do about it.
    error_code: str | None = None
    operation: str | None = None
    advice: str = ""


class AuditResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: str
    counts: dict[str, int]
    active_keys: int
    report_age: str
    deactivations: list[Deactivation]
    findings: list[KeyFinding]
    notification_event: str | None = None
    severity: Severity = Severity.INFO


def key_policy(settings: Settings) -> KeyPolicy:
    return KeyPolicy(
        max_age_days=settings.key_max_age_days,
        warning_days=settings.key_warning_days,
        unused_days=settings.key_unused_days,
        unused_never_days=settings.key_unused_never_days,
        deactivate_after_days=settings.key_deactivate_after_days,
    )


def audit_access_keys(
    deps: AuditKeysDeps, settings: Settings, now: datetime, *, notify: bool = True, apply: bool = True
) -> AuditResult:
    """Runs one audit. `notify` sends the digest; `apply` lets it deactivate (still never under DRY_RUN)."""
    raw = fetch_credential_report(deps.iam, deps.sleep)
    rows = parse_credential_report(raw.content)
    findings = assess_keys(rows, deps.iam.user_tags(), key_policy(settings), now)
    deactivations = [
        _deactivate(finding, deps, settings, now, apply=apply) for finding in findings if finding.deactivate
    ]
    counts = count_findings(findings)
    active = sum(1 for finding in findings if finding.active)
    report_age = describe_report_age(raw.generated_at, now)
    severity = audit_severity(findings)
    logger.info(
        "access keys audited",
        extra={
            "users": len(rows),
            "active_keys": active,
            "counts": {kind.value: number for kind, number in counts.items()},
            "deactivations": [f"{d.user} key {d.slot} {d.suffix or ''}: {d.outcome}" for d in deactivations],
        },
    )
    count("KeysAudited", active)
    for kind, metric in ((KeyClass.OVERDUE, "KeysOverdue"), (KeyClass.DUE, "KeysDue"), (KeyClass.UNUSED, "KeysUnused")):
        count(metric, counts[kind])
    count("RootKeys", counts[KeyClass.ROOT_KEY])
    count("KeysDeactivated", sum(1 for d in deactivations if d.outcome == "done"))
    summary = _summary(counts, active)
    result = AuditResult(
        outcome=Outcome.PRINTED,
        reason=summary,
        counts={kind.value: number for kind, number in counts.items()},
        active_keys=active,
        report_age=report_age,
        deactivations=deactivations,
        findings=findings,
        severity=severity,
    )
    if not notify:
        return result
    arn = settings.service.arn
    if is_clean(findings):
        memo = deps.state.get_memo(arn, HEALTHY_MEMO) or {}
        last = datetime.fromisoformat(memo["at"]) if memo.get("at") else None
        if not healthy_digest_due(last, now, settings.key_healthy_digest_days):
            reason = (
                f"{summary}; no digest, because the last 'all keys healthy' digest went out at "
                f"{last:%Y-%m-%d %H:%M} UTC, less than KEY_HEALTHY_DIGEST_DAYS ({settings.key_healthy_digest_days}) "
                "days ago"
            )
            logger.info(reason)
            return result.model_copy(update={"outcome": Outcome.HEALTHY_QUIET, "reason": reason})
        notification = healthy_digest(settings, findings, report_age)
        deps.notifier.publish(notification)
        deps.state.put_memo(arn, HEALTHY_MEMO, {"at": now.isoformat()})
        outcome = Outcome.HEALTHY
    else:
        notification = audit_digest(settings, findings, deactivations, report_age)
        deps.notifier.publish(notification)
        outcome = Outcome.REPORTED
    count("NotificationsSent")
    return result.model_copy(update={"outcome": outcome, "notification_event": notification.event})


def fetch_credential_report(
    iam: AccessKeysPort, sleep: Callable[[float], None], delays: Sequence[float] = POLL_DELAYS
) -> RawCredentialReport:
    """Generates (or reuses, when AWS has one at most 4 h old) the report, waits for it with a bounded backoff, gets it.

    This is polling for a result, not a retry of a throttled call: botocore's standard retries handle those.
    """
    waited = 0.0
    problem = ""
    for delay in (*delays, None):
        try:
            state = iam.generate_credential_report()
        except ReportLimitExceeded as refused:
            # AWS refused another generation; the report it keeps (≤4 h old) may still be there to get.
            state, problem = ReportState.COMPLETE, str(refused)
        if state is ReportState.COMPLETE:
            try:
                return iam.get_credential_report()
            except (ReportNotReady, ReportMissing) as not_yet:
                problem = str(not_yet)
        else:
            problem = f"the report generation is {state.value}"
        if delay is None:
            break
        sleep(delay)
        waited += delay
    raise CredentialReportUnavailable(f"no IAM credential report after waiting {waited:.0f} s: {problem}")


def _deactivate(
    finding: KeyFinding, deps: AuditKeysDeps, settings: Settings, now: datetime, *, apply: bool
) -> Deactivation:
    """Re-reads the user's keys (the report can be hours old), finds exactly the report's key, deactivates it.

    Never raises for this user's sake: a failure to read or change its keys becomes a "failed" Deactivation
    with AWS's error code and advice, so that the other users' keys are still handled and the digest still sent.
    """
    suffix: str | None = None
    failure: Failure | None = None
    try:
        match = match_listed_key(finding, deps.iam.list_access_keys(finding.user))
    except Exception as error:  # one user's failure must not stop the audit of the others
        failure = _failure(error, "ListAccessKeys", finding.user, suffix)
        outcome, reason = "failed", f"its keys could not be re-read: {failure.message}"
    else:
        suffix = match.suffix
        if match.access_key_id is None:
            outcome, reason = "skipped", f"not deactivated: {match.reason}"
        elif not apply:
            outcome, reason = "would", f"would be deactivated with --apply: {match.reason}"
        elif settings.dry_run:
            outcome, reason = "would", f"would be deactivated, but DRY_RUN is on: {match.reason}"
        else:
            try:
                deps.iam.deactivate_access_key(finding.user, match.access_key_id)
                outcome, reason = "done", f"deactivated: {match.reason}"
            except Exception as error:  # as above: this user only
                failure = _failure(error, "UpdateAccessKey", finding.user, suffix)
                outcome, reason = "failed", f"deactivation failed: {failure.message}"
    reason = mask_key_ids(reason)
    if apply:
        try:
            record_action(
                deps.state,
                settings.service.arn,
                now=now,
                actor=ACTOR,
                action="key.deactivate",
                outcome=outcome,
                reason=f"{finding.user} {finding.key_label} ({suffix or 'id unknown'}), "
                f"{finding.age_days} days old: {reason}",
                dry_run=settings.dry_run,
            )
        except Exception as error:  # the state table failing is no reason to leave the other keys or the digest
            logger.warning("access key deactivation not recorded in the action log", extra={"error": str(error)})
            reason += f" (not recorded in the action log: {mask_key_ids(str(error))})"
    result = Deactivation(
        user=finding.user,
        slot=finding.slot,
        age_days=finding.age_days,
        suffix=suffix,
        outcome=outcome,
        reason=reason,
        error_code=failure.code if failure else None,
        operation=failure.operation if failure else None,
        advice=failure.advice if failure else "",
    )
    logger.info(
        "access key deactivation",
        extra={
            "user": finding.user,
            "slot": finding.slot,
            "key": suffix,
            "outcome": outcome,
            "reason": reason,
            "error_code": result.error_code,
        },
    )
    return result


@dataclass(frozen=True)
class Failure:
    code: str
    operation: str
    message: str
    advice: str


def _failure(error: Exception, operation: str, user: str, suffix: str | None) -> Failure:
    """AWS's error code for a per-user failure and what the operator can do about it."""
    if isinstance(error, AccessKeyRefused):
        code, message = error.code or "Refused", error.reason
    elif isinstance(error, AwsUnavailable):
        code, message = str(error).rsplit(": ", 1)[-1] or "Unavailable", f"{error}; the next run tries again"
    else:
        code, message = type(error).__name__, f"unexpected error {type(error).__name__}: {error}"
        logger.exception("access key audit: unexpected error for one user", extra={"user": user})
    tail = (suffix or "").removeprefix("…")
    key = f"<the id ending in {tail}>" if tail else "<its id, from aws iam list-access-keys>"
    quoted = shlex.quote(user)
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        advice = (
            f"something denies Warden iam:{operation} on {user} (an SCP, a permissions boundary or a deny policy). "
            f"Act by hand: aws iam update-access-key --user-name {quoted} --access-key-id {key} --status Inactive; "
            f"or, for a break-glass user, tag it warden:exempt=true so that it is reported and never actioned."
        )
    elif code == "NoSuchEntity":
        advice = "the user or the key was deleted since the report: nothing to do, the next audit no longer lists it."
    elif isinstance(error, AwsUnavailable) or code in {"LimitExceeded", "Throttling", "ServiceFailure"}:
        advice = "IAM was busy: the next weekly run tries again (or run `warden audit-keys --apply` later)."
    else:
        advice = "the audit_access_keys log group has the details; the next weekly run tries again."
    return Failure(code=code, operation=operation, message=mask_key_ids(message), advice=mask_key_ids(advice))


def findings_table(
    findings: Iterable[KeyFinding], deactivations: Iterable[Deactivation] = (), *, limit: int | None = None
) -> str:
    """The findings as a plain-text table: user, key (slot, and its id's suffix where Warden read it), class,
    age, last use, and why."""
    suffixes = {(d.user, d.slot): d.suffix for d in deactivations if d.suffix}
    listed = list(findings)
    shown = listed if limit is None else listed[:limit]
    rows = [
        (
            finding.user,
            f"{finding.key_label} {suffixes.get((finding.user, finding.slot), '')}".rstrip(),
            finding.kind.value,
            finding.age_days,
            finding.last_used_text,
            finding.reason,
        )
        for finding in shown
    ]
    text = table(["user", "key", "class", "age (days)", "last used", "why"], rows, empty="(no access keys)")
    if len(shown) < len(listed):
        text += f"\n... and {len(listed) - len(shown)} more: `warden audit-keys` prints them all."
    return mask_key_ids(text)


def deactivation_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """One line per key due for deactivation; each reason starts with what happened to it."""
    return [
        f"{d.user} key {d.slot}{' ' + d.suffix if d.suffix else ''} ({d.age_days} days): {d.reason}"
        for d in deactivations
    ]


def failure_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """One line per key Warden failed to re-read or deactivate: user, key, AWS's code, the call, what to do."""
    return [
        f"{d.user} key {d.slot} {d.suffix or '(id not read)'}: {d.error_code} on {d.operation}. What to do: {d.advice}"
        for d in deactivations
        if d.outcome == "failed"
    ]


def undo_lines(deactivations: Iterable[Deactivation]) -> list[str]:
    """How to re-activate each deactivated key. The full id is not printed: the first command shows it."""
    lines: list[str] = []
    for d in deactivations:
        if d.outcome != "done":
            continue
        user, tail = shlex.quote(d.user), (d.suffix or "").removeprefix("…")
        lines += [
            f"{d.user}, the key ending in {tail}:",
            f"  aws iam list-access-keys --user-name {user}",
            f"  aws iam update-access-key --user-name {user} --access-key-id <the id ending in {tail}> --status Active",
        ]
    return lines


def audit_digest(
    settings: Settings,
    findings: Sequence[KeyFinding],
    deactivations: Sequence[Deactivation],
    report_age: str,
) -> Notification:
    counts = count_findings(findings)
    active = sum(1 for finding in findings if finding.active)
    account = settings.service.account_id
    listed = [finding for finding in findings if finding.kind in _LISTED]
    done = sum(1 for d in deactivations if d.outcome == "done")
    failed = [d for d in deactivations if d.outcome == "failed"]
    subject = f"[warden] KEYS {account}: " + ", ".join(_found(counts))
    if done:
        subject += f"; {done} deactivated"
    if failed:
        subject += f"; {len(failed)} failed"
    deactivation_title = "Deactivated" if done else "Deactivation"
    setting = _deactivation_setting(settings, counts, len(deactivations))
    others = [d for d in deactivations if d.outcome != "failed"]
    body = render(
        [
            ("Findings", findings_table(listed, deactivations, limit=DIGEST_ROWS).splitlines()),
            ("Counts", [_counts_line(counts, active)]),
            (
                f"Failed: {len(failed)} key(s) Warden could not re-read or deactivate (the audit went on)",
                failure_lines(failed),
            ),
            (deactivation_title, deactivation_lines(others) or ([] if failed else [setting])),
            ("How to undo", undo_lines(deactivations)),
            ("What to do", _advice(counts)),
            ("Report", [report_age, setting if deactivations else ""]),
        ],
        headline=f"Access-key audit of account {account}: {_summary(counts, active)}"
        + (f"; {len(failed)} key(s) could not be deactivated." if failed else "."),
    )
    severity = audit_severity(findings)
    if failed and severity is Severity.INFO:
        severity = Severity.WARNING
    return Notification(subject=subject, body=mask_key_ids(body), event=EVENT, severity=severity)


def healthy_digest(settings: Settings, findings: Sequence[KeyFinding], report_age: str) -> Notification:
    account = settings.service.account_id
    exempt = [finding for finding in findings if finding.kind is KeyClass.EXEMPT]
    checked = sum(1 for finding in findings if finding.active and finding.kind is not KeyClass.EXEMPT)
    body = render(
        [
            (
                "What Warden checked",
                [
                    f"Every active key is younger than {settings.key_max_age_days - settings.key_warning_days} days "
                    f"(limit {settings.key_max_age_days}) and in use; no root access key.",
                    f"This short digest goes out at most every {settings.key_healthy_digest_days} days while all "
                    "stays healthy; any finding is reported on the next run.",
                ],
            ),
            (f"Exempt (tagged {EXEMPT_TAG}=true, not actioned)", findings_table(exempt).splitlines() if exempt else []),
            ("Report", [report_age]),
        ],
        headline=f"Every active access key of account {account} is healthy ({_plural(checked, 'key')} checked).",
    )
    subject = f"[warden] KEYS {account}: all {_plural(checked, 'key')} healthy"
    if exempt:
        subject += f" ({len(exempt)} exempt)"
    return Notification(subject=subject, body=mask_key_ids(body), event=EVENT, severity=Severity.INFO)


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _found(counts: dict[KeyClass, int]) -> list[str]:
    """The listed classes that occur, most urgent first, as "2 overdue", "1 root key", ..."""
    return [f"{counts[kind]} {_SHORT.get(kind, kind.value)}" for kind in _LISTED if counts[kind]]


def _summary(counts: dict[KeyClass, int], active: int) -> str:
    found = _found(counts)
    keys = _plural(active, "active key")
    return f"{keys}, " + ", ".join(found) if found else f"{keys}, all healthy"


def _counts_line(counts: dict[KeyClass, int], active: int) -> str:
    by_class = ", ".join(f"{kind.value} {number}" for kind, number in counts.items())
    return f"{_plural(active, 'active key')}; by class: {by_class}"


def _deactivation_setting(settings: Settings, counts: dict[KeyClass, int], candidates: int) -> str:
    if settings.key_deactivate_after_days is None:
        if not counts[KeyClass.OVERDUE]:
            return ""
        return "Deactivation is off (KEY_DEACTIVATE_AFTER_DAYS is empty): overdue keys are only reported."
    line = f"Overdue keys {settings.key_deactivate_after_days} or more days old are deactivated"
    if not candidates:
        return line + ("; none is that old yet." if counts[KeyClass.OVERDUE] else ".")
    if settings.dry_run:
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
