"""Secret-looking strings are masked in every notification, log line and action record; Warden's own words are not."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from warden.domain.notification import Notification, Severity
from warden.domain.records import ActionRecord
from warden.domain.redaction import MASK, redact, secret_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key AKIAIOSFODNN7EXAMPLE leaked", "key …MPLE leaked"),
        ("temporary ASIAJEXAMPLEXEG2JICEA", "temporary …ICEA"),
        ("CLERK_SECRET_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc", f"CLERK_SECRET_KEY={MASK}"),
        ("stripe rk_test_51H8abcdefghijkl", f"stripe {MASK}"),
        ("openai sk-proj-abcdefghijklmnop1234_-xyz", f"openai {MASK}"),
        ("gh ghp_0123456789abcdefghijABCDEFGHIJ", f"gh {MASK}"),
        ("slack xoxb-123456789012-abcdefABCDEF", f"slack {MASK}"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4", f"Bearer {MASK}"),
        ('{"password": "hunter2hunter2"}', f'{{"password": "{MASK}"}}'),
        ('{\\"api_key\\": \\"abcd1234\\"}', f'{{\\"api_key\\": \\"{MASK}\\"}}'),
        ("db_password=s3cr3t! and more", f"db_password={MASK} and more"),
        ("AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"AWS_SECRET_ACCESS_KEY: {MASK}"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", MASK),
    ],
)
def test_secret_looking_strings_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The access key …WXYZ of user deploy-bot is 400 days old",
        "access_key_1_last_rotated: 2026-01-01T00:00:00+00:00",
        "KEY_MAX_AGE_DAYS: 90; KEY_DEACTIVATE_AFTER_DAYS: 180",
        "image sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef",
        "CPU utilisation is 96.4 %, above 90 %.",
        "token: abc",
        "the credential report is 3 hours old",
        "warden-self-errors-on-budget-alert",
    ],
)
def test_wardens_own_words_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_exact_known_values_are_masked_wherever_they_appear() -> None:
    assert redact("db=postgres://u:pw-9f8e7d6c5b@h/db", {"pw-9f8e7d6c5b"}) == f"db=postgres://u:{MASK}@h/db"
    assert redact("short", {"short"}) == "short"  # too short to be told apart from words


def test_secret_values_come_from_variables_named_as_secrets() -> None:
    environ = {
        "CLERK_SECRET_KEY": "sk_live_abcdefgh",
        "OPENAI_API_KEY": "sk-abcdefghijkl",
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE",
        "DATABASE_PASSWORD": "correct-horse",
        "KEY_MAX_AGE_DAYS": "90",
        "POWERTOOLS_SERVICE_NAME": "warden",
        "STATE_TABLE": "warden-StateTable-1ABC",
    }
    assert secret_values(environ) == {
        "sk_live_abcdefgh",
        "sk-abcdefghijkl",
        "IQoJb3JpZ2luX2VjEXAMPLE",
        "correct-horse",
    }


def test_notifications_and_action_records_are_masked_whatever_builds_them() -> None:
    notification = Notification(
        subject="[warden] ALARM sk_live_abcdefghijkl",
        body="Alarm description: call ops, api_key=abcd1234efgh, key AKIAIOSFODNN7EXAMPLE",
        event="alarm.fired",
        severity=Severity.CRITICAL,
    )
    assert notification.subject == f"[warden] ALARM {MASK}"
    assert notification.body == f"Alarm description: call ops, api_key={MASK}, key …MPLE"
    record = ActionRecord(
        at=datetime(2026, 11, 27, tzinfo=UTC),
        action="key.deactivate",
        outcome="done",
        reason="ci-AKIAIOSFODNN7EXAMPLE",
        actor="t",
    )
    assert record.reason == "ci-…MPLE"


@pytest.mark.parametrize(
    "unit", ["a.", "eyJ-", "sk-", "token ", "-----BEGIN ", "AKIA", "password:", "sk_live_", "ghp_", "secret_key='"]
)
def test_redacting_hostile_text_takes_linear_time(unit: str) -> None:
    # Given 256 KB of one repeated fragment (a forwarded message can be that, and anything)
    text = unit * (262_144 // len(unit))
    # When it is redacted / Then it takes well under a second, not the minutes of a backtracking pattern
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 1.0
