"""Typed settings fail fast and name the variable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from warden.errors import SettingsError
from warden.settings import ImagePurgeMode, Settings

ARN = "arn:aws:apprunner:eu-west-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
VALID = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}


def test_the_required_settings_are_enough_and_the_defaults_are_safe() -> None:
    # Given only the four required variables, When settings are read
    settings = Settings.from_env(VALID)
    # Then the service is understood from its ARN and destructive features default off
    assert settings.service.name == "consultation-app"
    assert settings.service.region == "eu-west-1"
    assert settings.service.account_id == "123456789012"
    assert settings.dry_run is False
    assert settings.enforce_threshold_percent == Decimal(100)
    assert settings.image_purge_mode is ImagePurgeMode.PLAN
    assert settings.key_deactivate_after_days is None
    assert settings.key_max_age_days == 90


def test_every_problem_is_reported_at_once_naming_each_variable() -> None:
    # Given a bad ARN, a missing table and an unreadable flag
    env = {**VALID, "SERVICE_ARN": "arn:aws:ecs:x", "DRY_RUN": "maybe", "ENFORCE_THRESHOLD_PERCENT": "0"}
    del env["STATE_TABLE"]
    # When settings are read, Then one error names all four
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    message = str(failure.value)
    for name in ("SERVICE_ARN", "STATE_TABLE", "DRY_RUN", "ENFORCE_THRESHOLD_PERCENT"):
        assert name in message


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("", False)]
)
def test_dry_run_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env({**VALID, "DRY_RUN": raw}).dry_run is expected


def test_optional_numbers_may_be_empty_meaning_off() -> None:
    settings = Settings.from_env({**VALID, "KEY_DEACTIVATE_AFTER_DAYS": "", "ANOMALY_PAUSE_IMPACT_USD": ""})
    assert settings.key_deactivate_after_days is None
    assert settings.anomaly_pause_impact_usd is None


def test_a_budget_name_with_a_colon_is_refused() -> None:
    with pytest.raises(SettingsError, match="BUDGET_NAME"):
        Settings.from_env({**VALID, "BUDGET_NAME": "a:b"})


def test_working_hours_are_off_unless_enabled() -> None:
    assert Settings.from_env(VALID).working_hours is None


def test_working_hours_are_read_in_the_operators_time_zone() -> None:
    # Given working hours enabled for Berlin, 07:30 to 17:00, Monday to Thursday
    env = {
        **VALID,
        "WORKING_HOURS_ENABLED": "true",
        "SCHEDULE_TIMEZONE": "Europe/Berlin",
        "WORKDAY_START": "07:30",
        "WORKDAY_END": "17:00",
        "WORKING_DAYS": "MON-THU",
    }
    # When settings are read
    hours = Settings.from_env(env).working_hours
    # Then they are what the operator wrote
    assert hours is not None
    assert hours.describe() == "MON-THU 07:30-17:00 Europe/Berlin"


def test_an_unknown_time_zone_and_a_backwards_day_are_named() -> None:
    env = {**VALID, "WORKING_HOURS_ENABLED": "true", "SCHEDULE_TIMEZONE": "Mars/Olympus", "WORKDAY_START": "19:00"}
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    assert "SCHEDULE_TIMEZONE" in str(failure.value)
    assert "WORKDAY_START" in str(failure.value)
