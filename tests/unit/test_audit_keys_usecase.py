"""audit_access_keys' use case with in-memory fakes: polling, findings, deactivation, the digest, no sockets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import load_template
from tests.events import load_event
from tests.fakes import FakeAccessKeys, FakeNotifier, FakeState, credential_report_csv
from warden.domain.keys import (
    AccessKeyRefused,
    DeactivationOutcome,
    FailureKind,
    Hold,
    KeyClass,
    KeyFailure,
    KeyOperation,
    ListedKey,
    Remedy,
)
from warden.domain.notification import Severity
from warden.errors import AwsUnavailable, RetryableError
from warden.messages.keys import action_reason, failure_lines
from warden.models.credential_report import (
    CredentialReportUnavailable,
    RawCredentialReport,
    ReportLimitExceeded,
    ReportMissing,
    ReportState,
)
from warden.settings import Settings
from warden.usecases.audit_keys import HEALTHY_MEMO, AuditKeysDeps, AuditResult, Outcome, audit_access_keys

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
FULL_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")


def created(age: int) -> datetime:
    return (NOW - timedelta(days=age, hours=1)).replace(microsecond=0)


def user(name: str, *keys: tuple[int, int | None] | tuple[int, int | None, bool]) -> dict[str, str]:
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


class World:
    def __init__(self, *rows: dict[str, str], iam: FakeAccessKeys | None = None, **env: str) -> None:
        self.iam = iam or FakeAccessKeys(report=credential_report_csv(*rows), generated_at=NOW - timedelta(minutes=20))
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.sleeps: list[float] = []
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = AuditKeysDeps(self.iam, self.notifier, self.state, sleep=self.sleeps.append)

    def audit(self, now: datetime = NOW, **mode: Any) -> AuditResult:
        return audit_access_keys(self.deps, self.settings, now, **mode)

    @property
    def body(self) -> str:
        (sent,) = self.notifier.sent
        return sent.body


def consultation_account() -> list[dict[str, str]]:
    """The demo's users: keys 12, 85, 120 and 400 days old, and one never used."""
    return [
        user("dev-alice", (12, 1)),
        user("dev-bob", (85, 2)),
        user("deploy-bot", (400, 3), (120, 1)),
        user("old-laptop", (30, None)),
    ]


# -- the credential report: generate until COMPLETE, then get --------------------------------------


def test_the_report_is_awaited_with_a_growing_pause_until_it_is_complete() -> None:
    # Given IAM answering STARTED, then INPROGRESS, then COMPLETE
    iam = FakeAccessKeys(
        report=credential_report_csv(user("a", (12, 1))),
        states=[ReportState.STARTED, ReportState.INPROGRESS, ReportState.COMPLETE],
    )
    world = World(iam=iam)
    # When the audit runs
    world.audit()
    # Then it paused 1 s and 2 s between the three generate calls, then got the report and the tags once
    assert world.sleeps == [1.0, 2.0]
    assert iam.calls == ["generate", "generate", "generate", "get", "tags"]


def test_a_report_still_in_progress_when_fetched_is_asked_for_again() -> None:
    iam = FakeAccessKeys(report=credential_report_csv(user("a", (12, 1))), not_ready_gets=1)
    world = World(iam=iam)
    world.audit()
    assert iam.calls == ["generate", "get", "generate", "get", "tags"]
    assert world.sleeps == [1.0]


def test_waiting_is_bounded_and_ends_in_a_retryable_error() -> None:
    # Given a report that never completes
    iam = FakeAccessKeys(report="", states=[ReportState.INPROGRESS])
    world = World(iam=iam)
    # When the audit runs, Then it gives up after about a minute with an error Lambda retries
    with pytest.raises(CredentialReportUnavailable, match="after waiting 60 s: the report generation is INPROGRESS"):
        world.audit()
    assert issubclass(CredentialReportUnavailable, RetryableError)
    assert sum(world.sleeps) == 60
    assert world.notifier.sent == []


class RefusingIam(FakeAccessKeys):
    """IAM refusing to generate another report (LimitExceeded), and once having no report at all."""

    missing_once: bool = True

    def generate_credential_report(self) -> ReportState:
        self.calls.append("generate")
        raise ReportLimitExceeded("IAM GenerateCredentialReport: LimitExceeded: too many")

    def get_credential_report(self) -> RawCredentialReport:
        if self.missing_once:
            self.missing_once = False
            self.calls.append("get")
            raise ReportMissing("IAM GetCredentialReport: ReportExpired")
        return super().get_credential_report()


def test_a_refused_generation_still_reads_the_report_aws_keeps() -> None:
    # Given generate refused (LimitExceeded) and the first get finding the report expired
    iam = RefusingIam(report=credential_report_csv(user("a", (12, 1))))
    world = World(iam=iam)
    # When the audit runs / Then it waits, tries again and audits the report it gets
    result = world.audit()
    assert iam.calls == ["generate", "get", "generate", "get", "tags"]
    assert result.active_keys == 1


def test_the_calls_do_not_grow_with_the_number_of_users() -> None:
    # Given a thousand users with two keys each, all healthy
    world = World(*(user(f"user-{n:04}", (12, 1), (30, 2)) for n in range(1000)))
    # When the audit runs
    result = world.audit()
    # Then IAM was asked three times in all, and 2,000 keys were audited
    assert world.iam.calls == ["generate", "get", "tags"]
    assert result.active_keys == 2000


# -- the digest: its words are approved in tests/golden/texts/keys.*.txt; here, what it is sent for ------------


def test_the_digest_counts_each_class_and_tabulates_the_findings() -> None:
    # Given the consultation account (deactivation off)
    world = World(*consultation_account())
    # When the weekly audit runs
    result = world.audit()
    # Then each key is in its class, most urgent first, and nothing is deactivated
    assert [(f.user, f.slot, f.kind, f.age_days) for f in result.findings] == [
        ("deploy-bot", 1, KeyClass.OVERDUE, 400),
        ("deploy-bot", 2, KeyClass.OVERDUE, 120),
        ("old-laptop", 1, KeyClass.UNUSED, 30),
        ("dev-bob", 1, KeyClass.DUE, 85),
        ("dev-alice", 1, KeyClass.OK, 12),
    ]
    assert result.counts == {
        "root key present": 0,
        "overdue": 2,
        "unused": 1,
        "due": 1,
        "delete me": 0,
        "exempt": 0,
        "ok": 1,
    }
    assert (result.active_keys, result.deactivations) == (5, [])
    # And one critical digest went out (its text: tests/golden/texts/keys.findings.txt)
    assert (result.outcome, result.notification_event, result.severity) == (
        Outcome.REPORTED,
        "keys.audit",
        Severity.CRITICAL,
    )
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("keys.audit", Severity.CRITICAL)


def test_a_root_key_makes_the_digest_critical_and_leads_it() -> None:
    world = World(user("a", (12, 1)), user("<root_account>", (3, 1)))
    result = world.audit()
    assert result.findings[0].kind is KeyClass.ROOT_KEY
    assert result.counts["root key present"] == 1
    (sent,) = world.notifier.sent
    assert sent.severity is Severity.CRITICAL


def test_due_and_unused_keys_make_a_warning() -> None:
    world = World(user("a", (80, 1)), user("b", (10, None)))
    world.audit()
    assert world.notifier.sent[0].severity is Severity.WARNING


def test_an_exempt_user_is_reported_and_never_actioned() -> None:
    # Given an exempt user with a 400-day key and deactivation after 180 days
    world = World(user("ci-bot", (400, 1)), user("a", (12, 1)), KEY_DEACTIVATE_AFTER_DAYS="180")
    world.iam.tags = {"ci-bot": {"warden:exempt": "true"}, "a": {"team": "web"}}
    world.iam.keys = {"ci-bot": [listed("AKIACIBOT0000000WXYZ", 400)]}
    # When the audit runs
    result = world.audit()
    # Then nothing was re-read or deactivated, and the healthy digest went out with the key as exempt
    assert result.deactivations == []
    assert world.iam.calls == ["generate", "get", "tags"]
    (exempt,) = (f for f in result.findings if f.user == "ci-bot")
    assert (exempt.kind, exempt.deactivate, exempt.age_days) == (KeyClass.EXEMPT, False, 400)
    assert result.outcome is Outcome.HEALTHY
    (sent,) = world.notifier.sent
    assert sent.severity is Severity.INFO


def test_a_long_audit_sends_one_digest_and_keeps_every_finding_in_the_result() -> None:
    # (The digest lists the first 200: tests/golden/texts/keys.long.txt.)
    world = World(*(user(f"user-{n:03}", (100, 1)) for n in range(250)))
    result = world.audit()
    assert len(result.findings) == 250
    assert len(world.notifier.sent) == 1


def test_not_notifying_sends_nothing() -> None:
    world = World(*consultation_account())
    result = world.audit(notify=False)
    assert result.outcome is Outcome.PRINTED
    assert world.notifier.sent == []
    assert len(result.findings) == 5


# -- healthy accounts: a short digest at most once a week ------------------------------------------


def test_a_clean_account_gets_a_short_digest_once_a_week() -> None:
    # Given an account whose keys are all healthy
    world = World(user("a", (12, 1)), user("b", (30, 2), (60, 5)))
    # When the audit runs on day 0, day 2 and day 7
    first = world.audit()
    second = world.audit(NOW + timedelta(days=2))
    third = world.audit(NOW + timedelta(days=7))
    # Then the short digest went out on day 0 and day 7 only, and day 2 says why it sent nothing
    assert [first.outcome, second.outcome, third.outcome] == [Outcome.HEALTHY, Outcome.HEALTHY_QUIET, Outcome.HEALTHY]
    assert len(world.notifier.sent) == 2
    assert {(n.event, n.severity) for n in world.notifier.sent} == {("keys.audit", Severity.INFO)}
    assert (first.active_keys, first.last_healthy_digest, second.last_healthy_digest) == (3, None, NOW)
    assert world.state.get_memo(ARN, HEALTHY_MEMO) == {"at": (NOW + timedelta(days=7)).isoformat()}


def test_a_finding_is_reported_even_right_after_a_healthy_digest() -> None:
    world = World(user("a", (12, 1)))
    world.audit()
    world.iam.report = credential_report_csv(user("a", (12, 1)), user("b", (95, 1)))
    assert world.audit(NOW + timedelta(hours=1)).outcome is Outcome.REPORTED
    assert len(world.notifier.sent) == 2


# -- deactivation ---------------------------------------------------------------------------------


def two_key_world(**env: str) -> World:
    """deploy-bot: key 1 is 400 days old (overdue), key 2 is 20 days old; deactivation after 180 days."""
    world = World(user("deploy-bot", (400, 1), (20, 1)), user("a", (12, 1)), KEY_DEACTIVATE_AFTER_DAYS="180", **env)
    world.iam.keys = {"deploy-bot": [listed("AKIANEWKEY000000ABCD", 20), listed("AKIAOLDKEY000000WXYZ", 400)]}
    return world


def test_only_the_overdue_key_of_a_two_key_user_is_deactivated() -> None:
    # Given a user whose old key is overdue and whose new key is fine
    world = two_key_world()
    # When the audit runs
    result = world.audit()
    # Then exactly the old key was re-read and deactivated, the new one untouched
    assert world.iam.deactivated == ["AKIAOLDKEY000000WXYZ"]
    assert [key.status for key in world.iam.keys["deploy-bot"]] == ["Active", "Inactive"]
    (done,) = result.deactivations
    assert (done.user, done.slot, done.suffix, done.outcome) == ("deploy-bot", 1, "…WXYZ", DeactivationOutcome.DONE)
    assert (done.held_by, done.failure) == (None, None)
    # And the action log has it, in the renderer's words (tests/golden/texts/keys.action_log.txt)
    ((arn, record),) = world.state.actions
    assert arn == ARN
    assert (record.action, record.outcome, record.actor, record.dry_run) == (
        "key.deactivate",
        "done",
        "audit_access_keys",
        False,
    )
    assert record.reason == action_reason(done)
    # And one digest names it (tests/golden/texts/keys.deactivated.txt), never with the full id
    (sent,) = world.notifier.sent
    assert FULL_KEY_ID.findall(sent.subject + sent.body) == []
    assert FULL_KEY_ID.findall(record.reason) == []
    assert FULL_KEY_ID.findall(result.model_dump_json()) == []


def test_under_dry_run_the_digest_says_what_would_be_deactivated() -> None:
    world = two_key_world(DRY_RUN="true")
    result = world.audit()
    assert world.iam.deactivated == []
    (held,) = result.deactivations
    assert (held.outcome, held.held_by, held.suffix) == (DeactivationOutcome.WOULD, Hold.DRY_RUN, "…WXYZ")
    # (The digest says so, and offers no undo: tests/golden/texts/keys.dry_run.txt.)
    assert len(world.notifier.sent) == 1
    ((_, record),) = world.state.actions
    assert (record.outcome, record.dry_run) == ("would", True)


def test_a_preview_without_apply_changes_and_records_nothing() -> None:
    world = two_key_world()
    result = world.audit(notify=False, apply=False)
    assert world.iam.deactivated == []
    assert world.state.actions == []
    (held,) = result.deactivations
    assert (held.outcome, held.held_by) == (DeactivationOutcome.WOULD, Hold.PREVIEW)


def test_a_key_rotated_since_the_report_is_not_touched() -> None:
    # Given the overdue key was replaced after the report was made
    world = two_key_world()
    world.iam.keys = {"deploy-bot": [listed("AKIANEWKEY000000ABCD", 20), listed("AKIANEWERKEY0000EEEE", 0)]}
    # When the audit runs / Then nothing is deactivated, and the key is reported as skipped, its id unknown
    result = world.audit()
    assert world.iam.deactivated == []
    (skipped,) = result.deactivations
    assert (skipped.outcome, skipped.suffix, skipped.failure) == (DeactivationOutcome.SKIPPED, None, None)


def test_two_keys_created_in_the_same_second_are_not_touched() -> None:
    world = two_key_world()
    world.iam.keys = {"deploy-bot": [listed("AKIAOLDKEY000000WXYZ", 400), listed("AKIATWINKEY00000TTTT", 400)]}
    result = world.audit()
    assert world.iam.deactivated == []
    (skipped,) = result.deactivations
    assert (skipped.outcome, skipped.suffix) == (DeactivationOutcome.SKIPPED, None)


def test_a_refusal_by_iam_is_reported_without_the_full_key_id() -> None:
    # Given IAM refusing the update with a message that quotes the key id
    world = two_key_world()
    world.iam.refuse = {
        "AKIAOLDKEY000000WXYZ": "NoSuchEntity: The Access Key with id AKIAOLDKEY000000WXYZ cannot be found"
    }
    # When the audit runs / Then the failure is reported, with the id shortened
    result = world.audit()
    (failed,) = result.deactivations
    assert failed.outcome is DeactivationOutcome.FAILED
    assert failed.failure == KeyFailure(
        kind=FailureKind.REFUSED,
        code="Refused",
        operation=KeyOperation.UPDATE,
        detail="NoSuchEntity: The Access Key with id …WXYZ cannot be found",
        remedy=Remedy.SEE_LOGS,
    )
    assert FULL_KEY_ID.findall(world.body) == []
    assert FULL_KEY_ID.findall(result.model_dump_json()) == []
    assert world.state.actions[0][1].outcome == "failed"
    assert FULL_KEY_ID.findall(world.state.actions[0][1].reason) == []


def test_overdue_keys_younger_than_the_deactivation_age_are_only_reported() -> None:
    world = World(user("a", (120, 1)), KEY_DEACTIVATE_AFTER_DAYS="180")
    result = world.audit()
    assert result.deactivations == []
    assert world.iam.calls == ["generate", "get", "tags"]
    assert [(f.kind, f.deactivate) for f in result.findings] == [(KeyClass.OVERDUE, False)]
    assert len(world.notifier.sent) == 1  # tests/golden/texts/keys.not_old_enough.txt


def test_the_weekly_schedule_sends_the_event_the_handler_is_tested_with() -> None:
    # Given the template's weekly schedule and the sample event under events/
    function = load_template()["Resources"]["AuditAccessKeysFunction"]["Properties"]
    schedule = function["Events"]["WeeklyAudit"]
    # Then the schedule is EventBridge Scheduler in the operator's time zone, and its input is that event
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
    assert json.loads(schedule["Properties"]["Input"]) == load_event("audit_access_keys", "weekly")
    assert function["Environment"]["Variables"] == {
        "KEY_MAX_AGE_DAYS": {"Ref": "KeyMaxAgeDays"},
        "KEY_DEACTIVATE_AFTER_DAYS": {"Ref": "KeyDeactivateAfterDays"},
    }


# -- one user's failure never stops the audit of the others -------------------------------------------


class FailingAccessKeys(FakeAccessKeys):
    """IAM where some users' keys cannot be read or changed: `failures` maps a user to how it fails."""

    failures: dict[str, str]

    def list_access_keys(self, user_name: str) -> list[ListedKey]:
        self._fail(user_name, "list")
        return super().list_access_keys(user_name)

    def deactivate_access_key(self, user_name: str, access_key_id: str) -> None:
        self._fail(user_name, "update")
        super().deactivate_access_key(user_name, access_key_id)

    def _fail(self, user_name: str, step: str) -> None:
        how = self.failures.get(user_name, "")
        if not how.startswith(step):
            return
        operation = "ListAccessKeys" if step == "list" else "UpdateAccessKey"
        match how.removeprefix(step + "-"):
            case "denied":
                raise AccessKeyRefused(
                    f"IAM {operation} refused (AccessDenied): explicit deny in an SCP", code="AccessDenied"
                )
            case "gone":
                raise AccessKeyRefused(f"IAM {operation} refused (NoSuchEntity): cannot be found", code="NoSuchEntity")
            case "throttled":
                raise AwsUnavailable(f"iam {operation} failed after botocore's retries: Throttling")
            case _:
                raise KeyError("AccessKeyMetadata")  # an answer of a shape nobody expected


# How each failure is told apart: the call that failed and what the operator can do.
EXPECTED = {
    "denied": (FailureKind.REFUSED, "AccessDenied", Remedy.BY_HAND),
    "gone": (FailureKind.REFUSED, "NoSuchEntity", Remedy.NOTHING),
    "throttled": (FailureKind.UNAVAILABLE, "Throttling", Remedy.RETRY),
    "crash": (FailureKind.UNEXPECTED, "KeyError", Remedy.SEE_LOGS),
}
FAILURES = [
    "list-denied",
    "list-gone",
    "list-throttled",
    "list-crash",
    "update-denied",
    "update-gone",
    "update-throttled",
    "update-crash",
]


def key_id(index: int) -> str:
    return f"AKIA{index:012d}K{index % 10}YZ"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.lists(st.sampled_from(["", *FAILURES]), min_size=1, max_size=8))
def test_a_user_whose_keys_cannot_be_read_or_changed_is_reported_and_the_others_are_deactivated(
    plan: list[str],
) -> None:
    # Given users with one overdue key each, deactivation after 180 days, and an arbitrary subset failing
    names = [f"user-{index}" for index in range(len(plan))]
    rows = [user(name, (200 + index, 1)) for index, name in enumerate(names)]
    iam = FailingAccessKeys(report=credential_report_csv(*rows), generated_at=NOW - timedelta(minutes=20))
    iam.failures = {name: how for name, how in zip(names, plan, strict=True) if how}
    iam.keys = {name: [listed(key_id(index), 200 + index)] for index, name in enumerate(names)}
    world = World(iam=iam, KEY_DEACTIVATE_AFTER_DAYS="180")

    # When the weekly audit runs
    result = world.audit()

    # Then every key of a user that did not fail is deactivated, and no other key
    assert set(iam.deactivated) == {key_id(index) for index, how in enumerate(plan) if not how}
    assert {d.user for d in result.deactivations if d.outcome == "done"} == {
        name for name, how in zip(names, plan, strict=True) if not how
    }
    # And each failed user's key is reported with the call that failed, AWS's code and the remedy
    failed = [d for d in result.deactivations if d.outcome is DeactivationOutcome.FAILED]
    assert {d.user for d in failed} == set(iam.failures)
    for d in failed:
        assert d.failure is not None
        step, how = iam.failures[d.user].split("-")
        assert (d.failure.kind, d.failure.code, d.failure.remedy) == EXPECTED[how]
        assert d.failure.operation is (KeyOperation.LIST if step == "list" else KeyOperation.UPDATE)
        # the key is named by suffix once it was read
        assert (d.suffix is not None) is (step == "update")
    # And exactly one digest went out, with a line for each failed key, never a full key id
    (sent,) = world.notifier.sent
    for line in failure_lines(failed):
        assert line in sent.body
    if failed:
        assert sent.severity is Severity.CRITICAL
    assert FULL_KEY_ID.findall(sent.body) == []


def test_an_scp_denying_one_break_glass_users_key_change_stops_nothing_else() -> None:
    # Given two overdue keys, and an SCP that denies iam:UpdateAccessKey on the break-glass user only
    iam = FailingAccessKeys(
        report=credential_report_csv(user("break-glass", (400, 200)), user("deploy-bot", (300, 1))),
        generated_at=NOW - timedelta(minutes=20),
    )
    iam.failures = {"break-glass": "update-denied"}
    iam.keys = {
        "break-glass": [listed("AKIABREAKGLASS00GLAS", 400)],
        "deploy-bot": [listed("AKIADEPLOYBOT000WXYZ", 300)],
    }
    world = World(iam=iam, KEY_DEACTIVATE_AFTER_DAYS="180")
    # When the weekly audit runs
    result = world.audit()
    # Then deploy-bot's key is deactivated all the same
    assert iam.deactivated == ["AKIADEPLOYBOT000WXYZ"]
    # And the refusal is reported: the user, the key's suffix, IAM's code, the call, and that it is for a person
    failed, done = result.deactivations
    assert (done.user, done.outcome) == ("deploy-bot", DeactivationOutcome.DONE)
    assert (failed.user, failed.suffix, failed.outcome) == ("break-glass", "…GLAS", DeactivationOutcome.FAILED)
    assert failed.failure is not None
    assert (failed.failure.code, failed.failure.operation, failed.failure.remedy) == (
        "AccessDenied",
        KeyOperation.UPDATE,
        Remedy.BY_HAND,
    )
    # And one digest tells it (tests/golden/texts/keys.update_failed.txt)
    assert len(world.notifier.sent) == 1
    # And the action log says which failed and which was done, each in the renderer's words
    records = [record for _, record in world.state.actions]
    assert [(r.outcome, r.reason) for r in records] == [
        ("failed", action_reason(failed)),
        ("done", action_reason(done)),
    ]
