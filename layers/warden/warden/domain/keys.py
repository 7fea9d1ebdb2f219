"""Access-key findings (DESIGN §6): a pure function of the credential report, user tags, the policy and `now`.

Every active key gets exactly one class, the most urgent that applies, with a reason a person can
read (which names the others, e.g. "overdue ... and never used"):

- `root key present`: the root user has an active key (critical whatever its age);
- `overdue`: age since rotation at or past KEY_MAX_AGE_DAYS (critical);
- `unused`: never used and KEY_UNUSED_NEVER_DAYS or more old, or not used for KEY_UNUSED_DAYS or more;
- `due`: within KEY_WARNING_DAYS of the limit;
- `ok`.

Inactive keys at or past the limit are listed as `delete me` (an inactive root key whatever its age);
younger inactive keys are not listed. Keys of users tagged `warden:exempt=true` are `exempt`: reported
with what they would otherwise be, never actioned.

Key ids appear only as a suffix (`…WXYZ`), in findings, notifications and logs alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, model_validator

from warden.domain.notification import Severity
from warden.errors import WardenError
from warden.models.credential_report import ReportKey, ReportRow

EXEMPT_TAG: Final = "warden:exempt"
# AWS never serves a credential report older than 4 hours right after a generate call; a report that
# claims to be much older (moto's is fixed in 2015) has a GeneratedTime that cannot be taken at its word.
REPORT_IMPLAUSIBLE_AGE: Final = timedelta(days=1)
# Access key ids: AKIA (long-term), ASIA (temporary) and the like, 16 to 128 characters in all.
_KEY_ID: Final = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}\b")
# A weekly schedule can fire a little early; a healthy digest "once a week" must not skip a week for that.
DIGEST_SLACK: Final = timedelta(hours=1)


class AccessKeyRefused(WardenError):
    """IAM refused to read or change a user's keys (denied, it no longer exists, a limit, bad input); `reason`
    says which, `code` is IAM's error code (e.g. AccessDenied) when IAM gave one."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class KeyClass(StrEnum):
    ROOT_KEY = "root key present"
    OVERDUE = "overdue"
    UNUSED = "unused"
    DUE = "due"
    DELETE_ME = "delete me"
    EXEMPT = "exempt"
    OK = "ok"


# Most urgent first: the order of the digest, the CLI table and the counts.
URGENCY: Final = tuple(KeyClass)
# Classes that make an account "not clean" (anything else is ok or exempt).
PROBLEMS: Final = frozenset(URGENCY) - {KeyClass.OK, KeyClass.EXEMPT}


class KeyPolicy(BaseModel):
    """The thresholds, in days (KEY_* settings)."""

    model_config = ConfigDict(frozen=True)

    max_age_days: int = 90
    warning_days: int = 14
    unused_days: int = 90
    unused_never_days: int = 7
    deactivate_after_days: int | None = None


class KeyFinding(BaseModel):
    """One key of one user, classified. The report has no key ids: `slot` is its access_key_<slot> column."""

    model_config = ConfigDict(frozen=True)

    user: str
    slot: int
    kind: KeyClass
    active: bool
    created_at: datetime
    age_days: int
    last_used: datetime | None
    last_used_service: str | None
    reason: str
    deactivate: bool = False
    """Overdue and at least KEY_DEACTIVATE_AFTER_DAYS old: Warden deactivates it when that is enabled."""

    @property
    def key_label(self) -> str:
        return f"key {self.slot}"

    @property
    def last_used_text(self) -> str:
        return "never" if self.last_used is None else f"{self.last_used:%Y-%m-%d}"


class ListedKey(BaseModel):
    """One key as `list_access_keys` shows it now."""

    model_config = ConfigDict(frozen=True)

    access_key_id: str
    status: str
    created_at: datetime


class KeyMatch(BaseModel):
    """Which listed key a finding is, or why it cannot be told. `access_key_id` never leaves the use case."""

    model_config = ConfigDict(frozen=True)

    access_key_id: str | None
    suffix: str | None
    reason: str


def key_suffix(access_key_id: str) -> str:
    """The only form in which a key id is shown: `…` and its last four characters."""
    return "…" + access_key_id[-4:]


def mask_key_ids(text: str) -> str:
    """Every access key id in `text` shortened to `…WXYZ` (IAM's own error messages can quote one)."""
    return _KEY_ID.sub(lambda found: key_suffix(found.group(0)), text)


def is_exempt(tags: Mapping[str, str]) -> bool:
    return any(key == EXEMPT_TAG and value.strip().lower() == "true" for key, value in tags.items())


def assess_keys(
    rows: Iterable[ReportRow],
    tags_by_user: Mapping[str, Mapping[str, str]],
    policy: KeyPolicy,
    now: datetime,
) -> list[KeyFinding]:
    """Every listed key of the report, most urgent first (then oldest first)."""
    findings: list[KeyFinding] = []
    for row in rows:
        exempt = not row.is_root and is_exempt(tags_by_user.get(row.user, {}))
        for key in row.keys:
            finding = _assess(row, key, policy, now)
            if finding is None:
                continue
            if exempt:
                finding = finding.model_copy(
                    update={
                        "kind": KeyClass.EXEMPT,
                        "deactivate": False,
                        "reason": f"user tagged {EXEMPT_TAG}=true, not actioned; otherwise {finding.kind.value}: "
                        f"{finding.reason}",
                    }
                )
            findings.append(finding)
    return sorted(findings, key=lambda f: (URGENCY.index(f.kind), -f.age_days, f.user, f.slot))


def _assess(row: ReportRow, key: ReportKey, policy: KeyPolicy, now: datetime) -> KeyFinding | None:
    age = max(0, (now - key.last_rotated).days)
    base = {
        "user": row.user,
        "slot": key.slot,
        "active": key.active,
        "created_at": key.last_rotated,
        "age_days": age,
        "last_used": key.last_used,
        "last_used_service": key.last_used_service,
    }
    if not key.active:
        if row.is_root:
            reason = "the root user has an inactive access key: delete it (signed in as root, Security credentials)"
            return KeyFinding(kind=KeyClass.DELETE_ME, reason=reason, **base)
        if age < policy.max_age_days:
            return None
        reason = (
            f"inactive and {age} days old (limit {policy.max_age_days}): nothing should need it, delete it "
            f"(`aws iam list-access-keys --user-name {row.user}` shows its id)"
        )
        return KeyFinding(kind=KeyClass.DELETE_ME, reason=reason, **base)
    if row.is_root:
        reason = (
            f"the root user has an active access key ({age} days old); no policy can limit it: delete it "
            "(signed in as root, Security credentials) and use an IAM user or role instead"
        )
        return KeyFinding(kind=KeyClass.ROOT_KEY, reason=reason, **base)

    unused = _unused(key, age, policy, now)
    if age >= policy.max_age_days:
        reason = f"{age} days since it was created, at or past the {policy.max_age_days}-day rotation limit"
        if unused:
            reason += f", and {unused}"
        deactivate = policy.deactivate_after_days is not None and age >= policy.deactivate_after_days
        return KeyFinding(kind=KeyClass.OVERDUE, reason=reason, deactivate=deactivate, **base)
    if unused:
        return KeyFinding(kind=KeyClass.UNUSED, reason=unused + ": delete it if nothing needs it", **base)
    remaining = policy.max_age_days - age
    if remaining <= policy.warning_days:
        reason = f"{age} days old: rotate it within {remaining} days (limit {policy.max_age_days})"
        return KeyFinding(kind=KeyClass.DUE, reason=reason, **base)
    return KeyFinding(kind=KeyClass.OK, reason=f"{age} days old, rotation due in {remaining} days", **base)


def _unused(key: ReportKey, age: int, policy: KeyPolicy, now: datetime) -> str:
    """Why the key counts as unused, or "" when it does not."""
    if key.last_used is None:
        if age >= policy.unused_never_days:
            return f"never used in the {age} days since it was created"
        return ""
    idle = max(0, (now - key.last_used).days)
    if idle >= policy.unused_days:
        return f"not used for {idle} days (last used {key.last_used:%Y-%m-%d})"
    return ""


def count_findings(findings: Iterable[KeyFinding]) -> dict[KeyClass, int]:
    """Findings per class, every class present (zero included), most urgent first."""
    counted = Counter(finding.kind for finding in findings)
    return {kind: counted.get(kind, 0) for kind in URGENCY}


def is_clean(findings: Iterable[KeyFinding]) -> bool:
    return not any(finding.kind in PROBLEMS for finding in findings)


def audit_severity(findings: Iterable[KeyFinding]) -> Severity:
    """critical for a root key or an overdue key, warning for due or unused keys, info otherwise."""
    kinds = {finding.kind for finding in findings}
    if kinds & {KeyClass.ROOT_KEY, KeyClass.OVERDUE}:
        return Severity.CRITICAL
    if kinds & {KeyClass.DUE, KeyClass.UNUSED}:
        return Severity.WARNING
    return Severity.INFO


def match_listed_key(finding: KeyFinding, listed: Sequence[ListedKey]) -> KeyMatch:
    """The key the report's slot describes, found among the user's keys as listed now.

    The report names no key ids, and it can be hours old. A slot's `last_rotated` is its key's creation
    time (to the second), so exactly one Active key created in that second is the one; none (rotated or
    deleted since), several (created in the same second), or an inactive one means: do not touch anything.
    """
    created = finding.created_at.replace(microsecond=0)
    when = f"{created:%Y-%m-%d %H:%M:%S} UTC"
    same = [key for key in listed if key.created_at.replace(microsecond=0) == created]
    if not same:
        return KeyMatch(
            access_key_id=None,
            suffix=None,
            reason=f"{finding.user} has no key created at {when} any more (rotated or deleted since the report)",
        )
    if len(same) > 1:
        suffixes = ", ".join(key_suffix(key.access_key_id) for key in same)
        return KeyMatch(
            access_key_id=None,
            suffix=None,
            reason=f"{finding.user} has {len(same)} keys created at {when} ({suffixes}): cannot tell which one "
            "the report means",
        )
    key = same[0]
    suffix = key_suffix(key.access_key_id)
    if key.status != "Active":
        return KeyMatch(
            access_key_id=None, suffix=suffix, reason=f"the key created at {when} ({suffix}) is already {key.status}"
        )
    return KeyMatch(
        access_key_id=key.access_key_id,
        suffix=suffix,
        reason=f"the key created at {when} ({suffix}) is the report's {finding.key_label}, Active when re-read",
    )


def describe_report_age(generated_at: datetime | None, now: datetime) -> str:
    """The report's age in words. Findings never depend on it: ages are computed from `now`.

    AWS serves a report at most 4 hours old after a generate call. A GeneratedTime far older than that
    (moto's is fixed in 2015) is quoted as given and called implausible rather than failing the audit.
    """
    if generated_at is None:
        return "Credential report: AWS gave no generation time."
    when = f"{generated_at:%Y-%m-%d %H:%M} UTC"
    age = now - generated_at
    if age < timedelta(0):
        return f"Credential report generated {when}, just now."
    if age > REPORT_IMPLAUSIBLE_AGE:
        return (
            f"Credential report: AWS says it was generated {when} ({age.days:,} days ago), which cannot be right "
            "for a report it just confirmed complete (it serves them at most 4 hours old); shown as given. "
            "Key ages use this run's clock, not that time."
        )
    minutes = int(age.total_seconds() // 60)
    spoken = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    return f"Credential report generated {when}, {spoken} before this run (AWS refreshes it at most every 4 hours)."


def healthy_digest_due(last_sent: datetime | None, now: datetime, every_days: int) -> bool:
    """A clean account's "all keys healthy" digest goes out at most once per `every_days` (minus a little slack)."""
    return last_sent is None or now - last_sent >= timedelta(days=every_days) - DIGEST_SLACK


# -- What an audit did: the facts its digest, the CLI and the action log are written from (warden/messages/keys.py) --


class KeyOperation(StrEnum):
    """The IAM call of a per-user step."""

    LIST = "ListAccessKeys"
    UPDATE = "UpdateAccessKey"


class FailureKind(StrEnum):
    REFUSED = "refused"  # IAM answered with an error (AccessKeyRefused)
    UNAVAILABLE = "unavailable"  # IAM did not answer, even after botocore's retries (AwsUnavailable)
    UNEXPECTED = "unexpected"  # anything else: an answer of a shape nobody expected, or a bug


class Remedy(StrEnum):
    """What the operator can do about a key Warden failed to re-read or deactivate."""

    BY_HAND = "by_hand"  # something denies Warden the call (an SCP, a boundary): act by hand, or tag it exempt
    NOTHING = "nothing"  # the user or the key is gone: the next audit no longer lists it
    RETRY = "retry"  # IAM was busy: the next run tries again
    SEE_LOGS = "see_logs"  # the log group has the details; the next run tries again


_DENIED: Final = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_BUSY: Final = frozenset({"LimitExceeded", "Throttling", "ServiceFailure"})


def remedy_for(kind: FailureKind, code: str) -> Remedy:
    if code in _DENIED:
        return Remedy.BY_HAND
    if code == "NoSuchEntity":
        return Remedy.NOTHING
    if kind is FailureKind.UNAVAILABLE or code in _BUSY:
        return Remedy.RETRY
    return Remedy.SEE_LOGS


class KeyFailure(BaseModel):
    """Why one user's key could not be re-read or deactivated. `detail` is the error's own text, key ids masked."""

    model_config = ConfigDict(frozen=True)

    kind: FailureKind
    code: str
    """AWS's error code (AccessDenied, NoSuchEntity, Throttling...); the exception's type when AWS gave none."""
    operation: KeyOperation
    detail: str
    remedy: Remedy


class DeactivationOutcome(StrEnum):
    DONE = "done"
    WOULD = "would"  # held back: `held_by` says by what
    SKIPPED = "skipped"  # the report's key is not (or no longer) exactly one Active key: nothing touched
    FAILED = "failed"  # `failure` says which call failed and how


class Hold(StrEnum):
    PREVIEW = "preview"  # a run without --apply (`warden audit-keys`)
    DRY_RUN = "dry_run"


class Deactivation(BaseModel):
    """What happened to one key due for deactivation. The key id appears only as its `suffix` (`…WXYZ`)."""

    model_config = ConfigDict(frozen=True)

    user: str
    slot: int
    age_days: int
    suffix: str | None
    outcome: DeactivationOutcome
    held_by: Hold | None = None
    match: str | None = None
    """Which listed key the report's slot is, or why that cannot be told (KeyMatch.reason); None if never re-read."""
    failure: KeyFailure | None = None
    unrecorded: str | None = None
    """Why the action log could not record it, when it could not (key ids masked)."""

    @model_validator(mode="after")
    def _consistent(self) -> Deactivation:
        if (self.outcome is DeactivationOutcome.FAILED) != (self.failure is not None):
            raise ValueError("a failure is described exactly when the outcome is failed")
        if (self.outcome is DeactivationOutcome.WOULD) != (self.held_by is not None):
            raise ValueError("what held a deactivation back is given exactly when the outcome is would")
        if self.failure is None and self.match is None:
            raise ValueError("a key re-read has a match")
        return self


class KeyAudit(BaseModel):
    """One audit's facts as its digest tells them: the account, the thresholds, what was found and what was done."""

    model_config = ConfigDict(frozen=True)

    account: str
    policy: KeyPolicy
    dry_run: bool
    healthy_digest_days: int
    findings: tuple[KeyFinding, ...]
    deactivations: tuple[Deactivation, ...] = ()
    report_generated_at: datetime | None
    now: datetime

    @property
    def counts(self) -> dict[KeyClass, int]:
        return count_findings(self.findings)

    @property
    def active_keys(self) -> int:
        return sum(1 for finding in self.findings if finding.active)

    @property
    def deactivated(self) -> int:
        return sum(1 for d in self.deactivations if d.outcome is DeactivationOutcome.DONE)

    @property
    def failed(self) -> list[Deactivation]:
        return [d for d in self.deactivations if d.outcome is DeactivationOutcome.FAILED]

    @property
    def report_age(self) -> str:
        return describe_report_age(self.report_generated_at, self.now)

    @property
    def severity(self) -> Severity:
        """The findings' severity; a key Warden failed to handle is at least a warning."""
        severity = audit_severity(self.findings)
        return Severity.WARNING if self.failed and severity is Severity.INFO else severity
