"""Key findings: a pure function of report rows, tags, the policy and `now`; every class with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import credential_report_csv
from warden.domain.keys import (
    KeyClass,
    KeyFinding,
    KeyPolicy,
    ListedKey,
    assess_keys,
    audit_severity,
    count_findings,
    describe_report_age,
    healthy_digest_due,
    is_clean,
    is_exempt,
    key_suffix,
    mask_key_ids,
    match_listed_key,
)
from warden.domain.notification import Severity
from warden.models.credential_report import ROOT_USER, ReportKey, ReportRow, parse_credential_report

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
POLICY = KeyPolicy(max_age_days=90, warning_days=14, unused_days=90, unused_never_days=7)


def key(age: int, *, used: int | None = 1, active: bool = True, slot: int = 1) -> ReportKey:
    """A key created `age` days before NOW, last used `used` days before NOW (None: never)."""
    return ReportKey(
        slot=slot,
        active=active,
        last_rotated=NOW - timedelta(days=age, hours=1),
        last_used=None if used is None else NOW - timedelta(days=used),
        last_used_service=None if used is None else "s3",
    )


def row(user: str, *keys: ReportKey) -> ReportRow:
    return ReportRow(user=user, arn=f"arn:aws:iam::123456789012:user/{user}", keys=keys)


def assess_one(report_key: ReportKey, *, policy: KeyPolicy = POLICY, user: str = "alice") -> KeyFinding:
    (finding,) = assess_keys([row(user, report_key)], {}, policy, NOW)
    return finding


@pytest.mark.parametrize(
    ("age", "used", "kind", "reason"),
    [
        (12, 1, KeyClass.OK, "12 days old, rotation due in 78 days"),
        (75, 1, KeyClass.OK, "rotation due in 15 days"),
        (76, 1, KeyClass.DUE, "rotate it within 14 days (limit 90)"),
        (85, 1, KeyClass.DUE, "85 days old: rotate it within 5 days"),
        (89, 1, KeyClass.DUE, "within 1 days"),
        (90, 1, KeyClass.OVERDUE, "90 days since it was created, at or past the 90-day rotation limit"),
        (400, 3, KeyClass.OVERDUE, "400 days since it was created"),
        (6, None, KeyClass.OK, "6 days old"),
        (7, None, KeyClass.UNUSED, "never used in the 7 days since it was created: delete it if nothing needs it"),
        (60, 90, KeyClass.UNUSED, "not used for 90 days (last used 2026-09-01)"),
        (60, 89, KeyClass.OK, "60 days old"),
        (80, None, KeyClass.UNUSED, "never used"),
    ],
)
def test_an_active_key_gets_the_most_urgent_class_that_applies(
    age: int, used: int | None, kind: KeyClass, reason: str
) -> None:
    # Given an active key of that age and last use / When it is assessed
    finding = assess_one(key(age, used=used))
    # Then its class and its reason are as a person would say them
    assert finding.kind is kind
    assert reason in finding.reason
    assert finding.age_days == age
    assert finding.deactivate is False


def test_an_overdue_key_that_is_also_unused_says_both() -> None:
    finding = assess_one(key(120, used=None))
    assert finding.kind is KeyClass.OVERDUE
    assert finding.reason.endswith("and never used in the 120 days since it was created")
    assert finding.last_used_text == "never"


def test_any_active_root_key_is_critical_whatever_its_age() -> None:
    # Given the root row with a key created yesterday
    (finding,) = assess_keys([row(ROOT_USER, key(1))], {}, POLICY, NOW)
    # Then it is "root key present", and the audit is critical
    assert finding.kind is KeyClass.ROOT_KEY
    assert "root user has an active access key" in finding.reason
    assert audit_severity([finding]) is Severity.CRITICAL


def test_root_keys_are_never_marked_for_deactivation_nor_exempted() -> None:
    policy = POLICY.model_copy(update={"deactivate_after_days": 90})
    tags = {ROOT_USER: {"warden:exempt": "true"}}
    (finding,) = assess_keys([row(ROOT_USER, key(500))], tags, policy, NOW)
    assert finding.kind is KeyClass.ROOT_KEY
    assert finding.deactivate is False


def test_an_inactive_key_past_the_limit_is_listed_to_delete_and_a_younger_one_is_not() -> None:
    # Given a user with an old inactive key and a young inactive key
    findings = assess_keys([row("bob", key(120, active=False), key(30, active=False, slot=2))], {}, POLICY, NOW)
    # Then only the old one is listed, as "delete me", with how to find its id
    (finding,) = findings
    assert (finding.kind, finding.slot, finding.active) == (KeyClass.DELETE_ME, 1, False)
    assert "aws iam list-access-keys --user-name bob" in finding.reason


def test_an_inactive_root_key_is_listed_to_delete_whatever_its_age() -> None:
    (finding,) = assess_keys([row(ROOT_USER, key(3, active=False))], {}, POLICY, NOW)
    assert finding.kind is KeyClass.DELETE_ME
    assert "root user has an inactive access key" in finding.reason


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_a_user_tagged_exempt_is_reported_as_exempt_with_what_it_would_otherwise_be(value: str) -> None:
    # Given an exempt user with an overdue key, and deactivation enabled
    policy = POLICY.model_copy(update={"deactivate_after_days": 90})
    (finding,) = assess_keys([row("ci-bot", key(400))], {"ci-bot": {"warden:exempt": value}}, policy, NOW)
    # Then it is exempt, never marked for deactivation, and the reason says what it would be
    assert finding.kind is KeyClass.EXEMPT
    assert finding.deactivate is False
    assert finding.reason.startswith("user tagged warden:exempt=true, not actioned; otherwise overdue: 400 days")


@pytest.mark.parametrize("tags", [{}, {"warden:exempt": "false"}, {"warden:exempt": "yes"}, {"exempt": "true"}])
def test_only_the_exact_tag_with_the_value_true_exempts(tags: dict[str, str]) -> None:
    assert is_exempt(tags) is False


def test_deactivation_is_marked_only_for_overdue_keys_at_least_that_old() -> None:
    # Given deactivation after 180 days
    policy = POLICY.model_copy(update={"deactivate_after_days": 180})
    findings = assess_keys([row("a", key(120)), row("b", key(180)), row("c", key(400, used=None))], {}, policy, NOW)
    # Then the 180- and 400-day keys are marked, the 120-day one is only overdue
    assert {f.user: f.deactivate for f in findings} == {"a": False, "b": True, "c": True}


def test_without_the_setting_no_key_is_marked_for_deactivation() -> None:
    assert assess_one(key(1000)).deactivate is False


def test_findings_come_most_urgent_first_then_oldest_first() -> None:
    rows = [
        row("ok", key(12)),
        row("due", key(85)),
        row("old", key(120), key(400, slot=2)),
        row("never", key(30, used=None)),
        row(ROOT_USER, key(5)),
    ]
    findings = assess_keys(rows, {}, POLICY, NOW)
    assert [(f.user, f.slot, f.kind.value) for f in findings] == [
        (ROOT_USER, 1, "root key present"),
        ("old", 2, "overdue"),
        ("old", 1, "overdue"),
        ("never", 1, "unused"),
        ("due", 1, "due"),
        ("ok", 1, "ok"),
    ]
    counts = count_findings(findings)
    assert list(counts) == list(KeyClass)
    assert counts[KeyClass.OVERDUE] == 2
    assert counts[KeyClass.EXEMPT] == 0


def test_findings_from_a_parsed_report_with_special_values() -> None:
    # Given a report as AWS writes it: a never-used key (N/A), a key used long ago, no keys at all
    text = credential_report_csv(
        {
            "user": "svc",
            "access_key_1_active": "TRUE",
            "access_key_1_last_rotated": "2026-11-01T00:00:00+00:00",
            "access_key_1_last_used_date": "N/A",
            "access_key_2_active": "true",
            "access_key_2_last_rotated": "2026-06-01T00:00:00+00:00",
            "access_key_2_last_used_date": "2026-07-01T00:00:00+00:00",
            "access_key_2_last_used_service": "no_information",
        },
        {"user": "human", "password_last_used": "no_information"},
    )
    # When findings are made
    findings = assess_keys(parse_credential_report(text), {}, POLICY, NOW)
    # Then key 2 is overdue and idle, key 1 unused, each with its reason, and the keyless user has none
    assert [(f.slot, f.kind) for f in findings] == [(2, KeyClass.OVERDUE), (1, KeyClass.UNUSED)]
    assert findings[0].reason.endswith("and not used for 152 days (last used 2026-07-01)")
    assert findings[0].last_used_service is None
    assert "never used in the 29 days" in findings[1].reason


@pytest.mark.parametrize(
    ("kinds", "severity", "clean"),
    [
        ([KeyClass.OK, KeyClass.EXEMPT], Severity.INFO, True),
        ([KeyClass.OK, KeyClass.DELETE_ME], Severity.INFO, False),
        ([KeyClass.DUE], Severity.WARNING, False),
        ([KeyClass.UNUSED, KeyClass.OK], Severity.WARNING, False),
        ([KeyClass.OVERDUE, KeyClass.DUE], Severity.CRITICAL, False),
        ([KeyClass.ROOT_KEY], Severity.CRITICAL, False),
        ([], Severity.INFO, True),
    ],
)
def test_severity_follows_the_worst_finding(kinds: list[KeyClass], severity: Severity, clean: bool) -> None:
    findings = [assess_one(key(12)).model_copy(update={"kind": kind}) for kind in kinds]
    assert audit_severity(findings) is severity
    assert is_clean(findings) is clean


def listed(key_id: str, created: datetime, status: str = "Active") -> ListedKey:
    return ListedKey(access_key_id=key_id, status=status, created_at=created)


def test_the_listed_key_created_in_the_reports_second_is_the_one() -> None:
    # Given a finding for key 1 and the user's two keys as listed now (microseconds differ from the report)
    finding = assess_one(key(400))
    created = finding.created_at
    keys = [
        listed("AKIAOLDKEY000000WXYZ", created.replace(microsecond=654321)),
        listed("AKIANEWKEY000000ABCD", created + timedelta(days=300)),
    ]
    # When it is matched / Then exactly the old key is found, shown only by its suffix in the reason
    match = match_listed_key(finding, keys)
    assert match.access_key_id == "AKIAOLDKEY000000WXYZ"
    assert match.suffix == "…WXYZ"
    assert "AKIAOLDKEY000000WXYZ" not in match.reason
    assert "(…WXYZ) is the report's key 1, Active when re-read" in match.reason


def test_no_key_is_matched_when_it_was_rotated_since_the_report() -> None:
    finding = assess_one(key(400))
    match = match_listed_key(finding, [listed("AKIANEWKEY000000ABCD", NOW)])
    assert match.access_key_id is None
    assert "no key created at" in match.reason
    assert "rotated or deleted since the report" in match.reason


def test_no_key_is_matched_when_two_were_created_in_the_same_second() -> None:
    finding = assess_one(key(400))
    keys = [listed("AKIAFIRST0000000AAAA", finding.created_at), listed("AKIASECOND000000BBBB", finding.created_at)]
    match = match_listed_key(finding, keys)
    assert match.access_key_id is None
    assert "cannot tell which one" in match.reason
    assert "…AAAA" in match.reason
    assert "AKIAFIRST" not in match.reason


def test_no_key_is_matched_when_it_is_already_inactive() -> None:
    finding = assess_one(key(400))
    match = match_listed_key(finding, [listed("AKIAOLDKEY000000WXYZ", finding.created_at, "Inactive")])
    assert match.access_key_id is None
    assert match.suffix == "…WXYZ"
    assert "already Inactive" in match.reason


def test_a_key_id_is_shown_only_as_its_last_four_characters() -> None:
    assert key_suffix("AKIAIOSFODNN7EXAMPLE") == "…MPLE"


def test_key_ids_in_any_text_are_shortened_and_other_words_are_left_alone() -> None:
    text = "The Access Key with id AKIAIOSFODNN7EXAMPLE (or ASIAY34FZKBOKMUTVV7A) cannot be found; AKIA alone stays"
    assert mask_key_ids(text) == "The Access Key with id …MPLE (or …VV7A) cannot be found; AKIA alone stays"


@pytest.mark.parametrize(
    ("generated", "expected"),
    [
        (NOW - timedelta(minutes=12), "Credential report generated 2026-11-30 05:48 UTC, 12 min before this run"),
        (NOW - timedelta(hours=3, minutes=5), "3 h 5 min before this run (AWS refreshes it at most every 4 hours)"),
        (NOW + timedelta(seconds=30), "just now"),
        (
            datetime(2015, 2, 2, 20, 2, 2, tzinfo=UTC),
            "AWS says it was generated 2015-02-02 20:02 UTC (4,318 days ago), which cannot be right",
        ),
        (None, "AWS gave no generation time"),
    ],
)
def test_the_reports_age_is_told_honestly_even_when_implausible(generated: datetime | None, expected: str) -> None:
    assert expected in describe_report_age(generated, NOW)


@pytest.mark.parametrize(
    ("last", "due"),
    [
        (None, True),
        (NOW - timedelta(days=3), False),
        (NOW - timedelta(days=7) + timedelta(minutes=5), True),  # the weekly schedule fired a little early
        (NOW - timedelta(days=6, hours=22), False),
        (NOW - timedelta(days=8), True),
    ],
)
def test_a_healthy_digest_goes_out_at_most_once_per_period(last: datetime | None, due: bool) -> None:
    assert healthy_digest_due(last, NOW, 7) is due
