"""Secret-looking strings are masked in every notification, log line and action record; Warden's own words are not."""

from __future__ import annotations

import string
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- a secret is masked whatever it is glued to -------------------------------------------------------------

_AROUND = st.text(alphabet=string.ascii_letters + string.digits + "_-/.:=\"' %@?&+,;#", max_size=6)
_key_ids = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["AKIA", "ASIA"]),
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16),
)


@settings(max_examples=300)
@given(key_id=_key_ids, before=_AROUND, after=_AROUND)
def test_an_access_key_id_is_masked_whatever_surrounds_it(key_id: str, before: str, after: str) -> None:
    # Given an access key id next to any characters (`_old`, digits, letters, inside a URL or a path)
    text = f"{before}{key_id}{after}"
    # When the text is redacted
    redacted = redact(text)
    # Then no more of the key id than its last four characters is left
    assert key_id[:-4] not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "AKIAIOSFODNN7EXAMPLE_old",
        "old_AKIAIOSFODNN7EXAMPLE",
        "key=AKIAIOSFODNN7EXAMPLE&x=1",
        "https://example.com/AKIAIOSFODNN7EXAMPLE/path",
        "xAKIAIOSFODNN7EXAMPLEx",
        "AKIAIOSFODNN7EXAMPLE9",
    ],
)
def test_the_reported_key_id_next_to_an_underscore_or_a_letter_is_masked(text: str) -> None:
    assert "AKIAIOSFODNN7EXA" not in redact(text)


_TOKENS = [
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "rk_test_51H8abcdefghijkl",
    "sk-proj-abcdefghijklmnop1234",
    "ghp_0123456789abcdefghijABCDEFGHIJ",
    "github_pat_0123456789abcdefghijABCDEF",
    "xoxb-123456789012-abcdefABCDEF",
]


@settings(max_examples=300)
@given(token=st.sampled_from(_TOKENS), before=st.sampled_from(["", "_", "-", "old_", "x-", "=", "/", " "]))
def test_a_secret_token_is_masked_after_an_underscore_or_a_dash(token: str, before: str) -> None:
    # Given a token glued after `_` or `-` (an environment dump, a file name), When redacted
    redacted = redact(f"{before}{token} end")
    # Then the token's secret part is gone
    assert token[-10:] not in redacted
