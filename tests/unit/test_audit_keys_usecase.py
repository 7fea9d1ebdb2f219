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
from warden.domain.keys import AccessKeyRefused, ListedKey
from warden.domain.notification import Severity
from warden.errors import AwsUnavailable, RetryableError
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


# -- the digest -----------------------------------------------------------------------------------


def test_the_digest_counts_each_class_and_tabulates_the_findings() -> None:
    # Given the consultation account (deactivation off)
    world = World(*consultation_account())
    # When the weekly audit runs
    result = world.audit()
    # Then one critical digest tells the counts, the table, the report's age and what to do
    assert result.outcome is Outcome.REPORTED
    (sent,) = world.notifier.sent
    assert sent.event == "keys.audit"
    assert sent.severity is Severity.CRITICAL
    assert sent.subject == "[warden] KEYS 123456789012: 2 overdue, 1 unused, 1 due"
    body = sent.body
    assert body.startswith("Access-key audit of account 123456789012: 5 active keys, 2 overdue, 1 unused, 1 due.")
    assert re.search(r"deploy-bot\s+key 1\s+overdue\s+400\s+2026-11-27", body)
    assert re.search(r"old-laptop\s+key 1\s+unused\s+30\s+never", body)
    assert re.search(r"dev-bob\s+key 1\s+due\s+85", body)
    assert "dev-alice" not in body.split("Counts")[0], "healthy keys are counted, not listed"
    counts = "5 active keys; by class: root key present 0, overdue 2, unused 1, due 1, delete me 0, exempt 0, ok 1"
    assert counts in body
    assert "Deactivation is off (KEY_DEACTIVATE_AFTER_DAYS is empty)" in body
    assert "Credential report generated 2026-11-30 05:40 UTC, 20 min before this run" in body
    assert "aws iam create-access-key --user-name <user>" in body
    assert result.counts["overdue"] == 2


def test_a_root_key_makes_the_digest_critical_and_leads_it() -> None:
    world = World(user("<root_account>", (3, 1)), user("a", (12, 1)))
    world.audit()
    (sent,) = world.notifier.sent
    assert sent.severity is Severity.CRITICAL
    assert sent.subject == "[warden] KEYS 123456789012: 1 root key"
    assert "Root key: sign in as root" in sent.body


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
    # Then nothing was re-read or deactivated, and the healthy digest lists it as exempt
    assert result.deactivations == []
    assert world.iam.calls == ["generate", "get", "tags"]
    (sent,) = world.notifier.sent
    assert sent.severity is Severity.INFO
    assert sent.subject == "[warden] KEYS 123456789012: all 1 key healthy (1 exempt)"
    assert "Exempt (tagged warden:exempt=true, not actioned)" in sent.body
    assert re.search(r"ci-bot\s+key 1\s+exempt\s+400", sent.body)
    assert "not actioned; otherwise overdue" in sent.body


def test_a_long_digest_lists_the_first_findings_and_says_how_many_more() -> None:
    world = World(*(user(f"user-{n:03}", (100, 1)) for n in range(250)))
    world.audit()
    assert "... and 50 more: `warden audit-keys` prints them all." in world.body


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
    assert world.notifier.sent[0].subject == "[warden] KEYS 123456789012: all 3 keys healthy"
    assert world.notifier.sent[0].body.startswith("Every active access key of account 123456789012 is healthy (3 keys")
    assert world.notifier.sent[0].severity is Severity.INFO
    assert "less than KEY_HEALTHY_DIGEST_DAYS (7) days ago" in second.reason
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
    assert (done.user, done.slot, done.suffix, done.outcome) == ("deploy-bot", 1, "…WXYZ", "done")
    # And the action log has it, with the suffix only
    ((arn, record),) = world.state.actions
    assert arn == ARN
    assert (record.action, record.outcome, record.actor, record.dry_run) == (
        "key.deactivate",
        "done",
        "audit_access_keys",
        False,
    )
    assert "deploy-bot key 1 (…WXYZ), 400 days old: deactivated" in record.reason
    # And the digest names it with the commands to re-activate it, never the full id
    (sent,) = world.notifier.sent
    assert sent.subject == "[warden] KEYS 123456789012: 1 overdue; 1 deactivated"
    assert "deploy-bot key 1 …WXYZ (400 days): deactivated: the key created at" in sent.body
    assert "aws iam list-access-keys --user-name deploy-bot" in sent.body
    assert (
        "aws iam update-access-key --user-name deploy-bot --access-key-id <the id ending in WXYZ> --status Active"
        in (sent.body)
    )
    assert re.search(r"deploy-bot\s+key 1 …WXYZ\s+overdue\s+400", sent.body)
    assert FULL_KEY_ID.findall(sent.body) == []
    assert FULL_KEY_ID.findall(record.reason) == []
    assert FULL_KEY_ID.findall(result.model_dump_json()) == []


def test_under_dry_run_the_digest_says_what_would_be_deactivated() -> None:
    world = two_key_world(DRY_RUN="true")
    result = world.audit()
    assert world.iam.deactivated == []
    assert result.deactivations[0].outcome == "would"
    assert "would be deactivated, but DRY_RUN is on" in world.body
    assert "(DRY_RUN is on: none was; the lines above say which would have been)" in world.body
    assert "How to undo" not in world.body
    ((_, record),) = world.state.actions
    assert (record.outcome, record.dry_run) == ("would", True)


def test_a_preview_without_apply_changes_and_records_nothing() -> None:
    world = two_key_world()
    result = world.audit(notify=False, apply=False)
    assert world.iam.deactivated == []
    assert world.state.actions == []
    assert result.deactivations[0].outcome == "would"
    assert result.deactivations[0].reason.startswith("would be deactivated with --apply")


def test_a_key_rotated_since_the_report_is_not_touched() -> None:
    # Given the overdue key was replaced after the report was made
    world = two_key_world()
    world.iam.keys = {"deploy-bot": [listed("AKIANEWKEY000000ABCD", 20), listed("AKIANEWERKEY0000EEEE", 0)]}
    # When the audit runs / Then nothing is deactivated and the digest says why
    result = world.audit()
    assert world.iam.deactivated == []
    assert result.deactivations[0].outcome == "skipped"
    assert "not deactivated: deploy-bot has no key created at" in world.body


def test_two_keys_created_in_the_same_second_are_not_touched() -> None:
    world = two_key_world()
    world.iam.keys = {"deploy-bot": [listed("AKIAOLDKEY000000WXYZ", 400), listed("AKIATWINKEY00000TTTT", 400)]}
    result = world.audit()
    assert world.iam.deactivated == []
    assert "cannot tell which one the report means" in result.deactivations[0].reason


def test_a_refusal_by_iam_is_reported_without_the_full_key_id() -> None:
    # Given IAM refusing the update with a message that quotes the key id
    world = two_key_world()
    world.iam.refuse = {
        "AKIAOLDKEY000000WXYZ": "NoSuchEntity: The Access Key with id AKIAOLDKEY000000WXYZ cannot be found"
    }
    # When the audit runs / Then the failure is reported, with the id shortened
    result = world.audit()
    (failed,) = result.deactivations
    assert failed.outcome == "failed"
    assert "The Access Key with id …WXYZ cannot be found" in failed.reason
    assert FULL_KEY_ID.findall(world.body) == []
    assert world.state.actions[0][1].outcome == "failed"


def test_overdue_keys_younger_than_the_deactivation_age_are_only_reported() -> None:
    world = World(user("a", (120, 1)), KEY_DEACTIVATE_AFTER_DAYS="180")
    result = world.audit()
    assert result.deactivations == []
    assert world.iam.calls == ["generate", "get", "tags"]
    assert "Deactivation\n  Overdue keys 180 or more days old are deactivated; none is that old yet." in world.body


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
    # And exactly one digest went out, naming each failed user, its key (as …WXYZ once read) and the error code
    (sent,) = world.notifier.sent
    failed = [d for d in result.deactivations if d.outcome == "failed"]
    assert {d.user for d in failed} == set(iam.failures)
    for d in failed:
        assert d.error_code
        line = next(line for line in sent.body.splitlines() if line.strip().startswith(f"{d.user} key 1"))
        assert d.error_code in line
        if iam.failures[d.user].startswith("update"):
            assert d.suffix is not None
            assert d.suffix in line
    if failed:
        assert f"{len(failed)} failed" in sent.subject
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
    # And the one digest names the refusal: the user, the key's suffix, IAM's code and what to do about it
    (sent,) = world.notifier.sent
    assert sent.subject == "[warden] KEYS 123456789012: 2 overdue; 1 deactivated; 1 failed"
    (failed,) = [d for d in result.deactivations if d.outcome == "failed"]
    assert (failed.user, failed.suffix, failed.error_code) == ("break-glass", "…GLAS", "AccessDenied")
    assert "warden:exempt=true" in failed.advice
    assert "break-glass key 1 …GLAS: AccessDenied on UpdateAccessKey" in sent.body
    # And the action log says it failed, and why
    outcomes = {record.reason.split(" ")[0]: record.outcome for _, record in world.state.actions}
    assert outcomes == {"break-glass": "failed", "deploy-bot": "done"}
