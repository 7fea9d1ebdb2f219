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

This module decides and acts and returns facts (`KeyAudit`, `Deactivation`, `KeyFailure` in domain/keys.py);
every sentence a person reads, in the digests, the action log or the result's `reason`, is written by
warden/messages/keys.py, called only where a text leaves the use case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.domain.keys import (
    AccessKeyRefused,
    Deactivation,
    DeactivationOutcome,
    FailureKind,
    Hold,
    KeyAudit,
    KeyClass,
    KeyFailure,
    KeyFinding,
    KeyOperation,
    KeyPolicy,
    assess_keys,
    healthy_digest_due,
    is_clean,
    mask_key_ids,
    match_listed_key,
    remedy_for,
)
from warden.domain.notification import Severity
from warden.errors import AwsUnavailable
from warden.messages import keys as words

# Re-exported for cli/keys.py, which prints them; it can import them from warden.messages.keys instead.
from warden.messages.keys import deactivation_lines as deactivation_lines
from warden.messages.keys import findings_table as findings_table
from warden.messages.keys import undo_lines as undo_lines
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
HEALTHY_MEMO = "keys.healthy_digest"
# Seconds between generate calls while AWS makes the report: about a minute in all, then a
# retryable error (Lambda tries again later, when the report AWS kept making is ready).
POLL_DELAYS: Final = (1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0)


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


class AuditResult(BaseModel):
    """What one audit found and did. `reason` and `report_age` are warden.messages.keys' words for the facts."""

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
    last_healthy_digest: datetime | None = None
    """For HEALTHY_QUIET: when the last "all keys healthy" digest went out."""


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
    policy = key_policy(settings)
    findings = assess_keys(rows, deps.iam.user_tags(), policy, now)
    deactivations = [
        _deactivate(finding, deps, settings, now, apply=apply) for finding in findings if finding.deactivate
    ]
    audit = KeyAudit(
        account=settings.service.account_id,
        policy=policy,
        dry_run=settings.dry_run,
        healthy_digest_days=settings.key_healthy_digest_days,
        findings=tuple(findings),
        deactivations=tuple(deactivations),
        report_generated_at=raw.generated_at,
        now=now,
    )
    counts = audit.counts
    logger.info(
        "access keys audited",
        extra={
            "users": len(rows),
            "active_keys": audit.active_keys,
            "counts": {kind.value: number for kind, number in counts.items()},
            "deactivations": [f"{d.user} key {d.slot} {d.suffix or ''}: {d.outcome}" for d in deactivations],
        },
    )
    count("KeysAudited", audit.active_keys)
    for kind, metric in ((KeyClass.OVERDUE, "KeysOverdue"), (KeyClass.DUE, "KeysDue"), (KeyClass.UNUSED, "KeysUnused")):
        count(metric, counts[kind])
    count("RootKeys", counts[KeyClass.ROOT_KEY])
    count("KeysDeactivated", audit.deactivated)
    result = AuditResult(
        outcome=Outcome.PRINTED,
        reason=words.summary(audit),
        counts={kind.value: number for kind, number in counts.items()},
        active_keys=audit.active_keys,
        report_age=audit.report_age,
        deactivations=deactivations,
        findings=findings,
        severity=audit.severity,
    )
    if not notify:
        return result
    arn = settings.service.arn
    if is_clean(findings):
        memo = deps.state.get_memo(arn, HEALTHY_MEMO) or {}
        last = datetime.fromisoformat(memo["at"]) if memo.get("at") else None
        if last is not None and not healthy_digest_due(last, now, settings.key_healthy_digest_days):
            logger.info("no healthy key digest: one went out recently", extra={"last_sent": memo["at"]})
            return result.model_copy(
                update={
                    "outcome": Outcome.HEALTHY_QUIET,
                    "reason": words.quiet_reason(audit, last),
                    "last_healthy_digest": last,
                }
            )
        notification = words.healthy_digest(audit)
        deps.notifier.publish(notification)
        deps.state.put_memo(arn, HEALTHY_MEMO, {"at": now.isoformat()})
        outcome = Outcome.HEALTHY
    else:
        notification = words.audit_digest(audit)
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
    with AWS's error code and its remedy, so that the other users' keys are still handled and the digest still sent.
    """
    suffix: str | None = None
    matched: str | None = None
    held_by: Hold | None = None
    failure: KeyFailure | None = None
    try:
        match = match_listed_key(finding, deps.iam.list_access_keys(finding.user))
    except Exception as error:  # one user's failure must not stop the audit of the others
        failure = _failure(error, KeyOperation.LIST, finding.user)
        outcome = DeactivationOutcome.FAILED
    else:
        suffix, matched = match.suffix, mask_key_ids(match.reason)
        if match.access_key_id is None:
            outcome = DeactivationOutcome.SKIPPED
        elif not apply:
            outcome, held_by = DeactivationOutcome.WOULD, Hold.PREVIEW
        elif settings.dry_run:
            outcome, held_by = DeactivationOutcome.WOULD, Hold.DRY_RUN
        else:
            try:
                deps.iam.deactivate_access_key(finding.user, match.access_key_id)
                outcome = DeactivationOutcome.DONE
            except Exception as error:  # as above: this user only
                failure = _failure(error, KeyOperation.UPDATE, finding.user)
                outcome = DeactivationOutcome.FAILED
    result = Deactivation(
        user=finding.user,
        slot=finding.slot,
        age_days=finding.age_days,
        suffix=suffix,
        outcome=outcome,
        held_by=held_by,
        match=matched,
        failure=failure,
    )
    if apply:
        try:
            record_action(
                deps.state,
                settings.service.arn,
                now=now,
                actor=ACTOR,
                action="key.deactivate",
                outcome=outcome.value,
                reason=words.action_reason(result),
                dry_run=settings.dry_run,
            )
        except Exception as error:  # the state table failing is no reason to leave the other keys or the digest
            logger.warning("access key deactivation not recorded in the action log", extra={"error": str(error)})
            result = result.model_copy(update={"unrecorded": mask_key_ids(str(error))})
    logger.info(
        "access key deactivation",
        extra={
            "user": finding.user,
            "slot": finding.slot,
            "key": suffix,
            "outcome": outcome,
            "held_by": held_by,
            "match": matched,
            "error_code": failure.code if failure else None,
            "error": failure.detail if failure else None,
        },
    )
    return result


def _failure(error: Exception, operation: KeyOperation, user: str) -> KeyFailure:
    """A per-user failure as facts: AWS's error code (or the exception's type), the call, its text, the remedy."""
    if isinstance(error, AccessKeyRefused):
        kind, code, detail = FailureKind.REFUSED, error.code or "Refused", error.reason
    elif isinstance(error, AwsUnavailable):
        kind, code, detail = FailureKind.UNAVAILABLE, str(error).rsplit(": ", 1)[-1] or "Unavailable", str(error)
    else:
        kind, code, detail = FailureKind.UNEXPECTED, type(error).__name__, str(error)
        logger.exception("access key audit: unexpected error for one user", extra={"user": user})
    return KeyFailure(
        kind=kind, code=code, operation=operation, detail=mask_key_ids(detail), remedy=remedy_for(kind, code)
    )
