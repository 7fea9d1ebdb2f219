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


def test_alarm_actions_default_to_notify_everything_with_a_30_minute_cool_down() -> None:
    settings = Settings.from_env(VALID)
    assert settings.alarm_actions.rules == ()
    assert settings.alarm_cooldown_minutes == 30


def test_alarm_actions_are_parsed_into_a_validated_mapping() -> None:
    # Given exact names and a glob pattern, When settings are read
    settings = Settings.from_env(
        {**VALID, "ALARM_ACTIONS": "warden-5xx-rate=rollback, warden-no-instances=notify,*-cpu=PAUSE"}
    )
    # Then each alarm resolves to its action
    actions = settings.alarm_actions
    assert actions.resolve("warden-5xx-rate").action.value == "rollback"
    assert actions.resolve("warden-no-instances").action.value == "notify"
    assert actions.resolve("warden-cpu").action.value == "pause"


def test_an_unknown_alarm_action_and_a_bad_cool_down_are_named() -> None:
    env = {**VALID, "ALARM_ACTIONS": "warden-cpu=reboot", "ALARM_COOLDOWN_MINUTES": "half an hour"}
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    message = str(failure.value)
    assert "ALARM_ACTIONS: unknown action 'reboot' for 'warden-cpu'" in message
    assert "ALARM_COOLDOWN_MINUTES" in message


def test_the_key_audit_thresholds_default_to_the_documented_days() -> None:
    settings = Settings.from_env(VALID)
    assert (settings.key_warning_days, settings.key_unused_days, settings.key_unused_never_days) == (14, 90, 7)
    assert settings.key_healthy_digest_days == 7


def test_the_key_audit_thresholds_are_read_from_the_environment() -> None:
    env = {
        **VALID,
        "KEY_MAX_AGE_DAYS": "60",
        "KEY_WARNING_DAYS": "10",
        "KEY_UNUSED_DAYS": "45",
        "KEY_UNUSED_NEVER_DAYS": "3",
        "KEY_HEALTHY_DIGEST_DAYS": "30",
        "KEY_DEACTIVATE_AFTER_DAYS": "60",
    }
    settings = Settings.from_env(env)
    assert settings.key_max_age_days == 60
    assert (settings.key_warning_days, settings.key_unused_days, settings.key_unused_never_days) == (10, 45, 3)
    assert (settings.key_healthy_digest_days, settings.key_deactivate_after_days) == (30, 60)


def test_bad_key_audit_thresholds_are_all_named() -> None:
    # Given a warning window as long as the limit, a deactivation age under it, and unreadable days
    env = {
        **VALID,
        "KEY_WARNING_DAYS": "90",
        "KEY_DEACTIVATE_AFTER_DAYS": "30",
        "KEY_UNUSED_DAYS": "0",
        "KEY_UNUSED_NEVER_DAYS": "a week",
        "KEY_HEALTHY_DIGEST_DAYS": "-1",
    }
    # When settings are read, Then one error names each of them
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    message = str(failure.value)
    assert "KEY_WARNING_DAYS: the warning window (90) must be shorter than KEY_MAX_AGE_DAYS (90)" in message
    assert "KEY_DEACTIVATE_AFTER_DAYS: only overdue keys are deactivated" in message
    for name in ("KEY_UNUSED_DAYS", "KEY_UNUSED_NEVER_DAYS", "KEY_HEALTHY_DIGEST_DAYS"):
        assert name in message


def test_the_image_retention_settings_default_to_the_documented_values() -> None:
    # Given only the required variables, When settings are read, Then retention keeps 5/10/30 and expires at 7/90
    settings = Settings.from_env(VALID)
    assert settings.ecr_repository is None
    assert (settings.image_keep_deployed, settings.image_keep_semver, settings.image_keep_pulled_days) == (5, 10, 30)
    assert (settings.image_untagged_days, settings.image_tagged_days) == (7, 90)


def test_image_retention_settings_are_read_and_zero_turns_the_semver_and_pull_rules_off() -> None:
    env = {
        **VALID,
        "ECR_REPOSITORY": "team/consultation-app",
        "IMAGE_PURGE_MODE": "DELETE",
        "IMAGE_KEEP_DEPLOYED": "3",
        "IMAGE_KEEP_SEMVER": "0",
        "IMAGE_KEEP_PULLED_DAYS": "0",
        "IMAGE_UNTAGGED_DAYS": "1",
        "IMAGE_TAGGED_DAYS": "365",
    }
    settings = Settings.from_env(env)
    assert settings.ecr_repository == "team/consultation-app"
    assert settings.image_purge_mode is ImagePurgeMode.DELETE
    assert (settings.image_keep_deployed, settings.image_keep_semver, settings.image_keep_pulled_days) == (3, 0, 0)
    assert (settings.image_untagged_days, settings.image_tagged_days) == (1, 365)


def test_bad_image_retention_settings_are_all_named() -> None:
    # Given no deployment kept, a negative count, a word, zero days and an unknown mode
    env = {
        **VALID,
        "IMAGE_KEEP_DEPLOYED": "0",
        "IMAGE_KEEP_SEMVER": "-1",
        "IMAGE_KEEP_PULLED_DAYS": "a month",
        "IMAGE_UNTAGGED_DAYS": "0",
        "IMAGE_TAGGED_DAYS": "",
        "IMAGE_PURGE_MODE": "purge",
    }
    # When settings are read, Then one error names each of them
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    message = str(failure.value)
    for name in (
        "IMAGE_KEEP_DEPLOYED",
        "IMAGE_KEEP_SEMVER",
        "IMAGE_KEEP_PULLED_DAYS",
        "IMAGE_UNTAGGED_DAYS",
        "IMAGE_TAGGED_DAYS",
        "IMAGE_PURGE_MODE",
    ):
        assert name in message


@pytest.mark.parametrize("raw", ["1e999999999", "1E+13", "99999999999999"])
def test_an_amount_beyond_a_trillion_is_refused_naming_the_variable(raw: str) -> None:
    # A finite but huge amount would make the notification's "{:,.2f}" build a string of that many digits.
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**VALID, "ANOMALY_PAUSE_IMPACT_USD": raw})
    assert "ANOMALY_PAUSE_IMPACT_USD" in str(refused.value)
    assert len(str(refused.value)) < 400


def test_a_vanishingly_small_amount_is_rounded_to_cents_not_kept_with_a_huge_exponent() -> None:
    settings = Settings.from_env({**VALID, "ANOMALY_PAUSE_IMPACT_USD": "1e-999999999"})
    assert settings.anomaly_pause_impact_usd == 0
    assert len(f"{settings.anomaly_pause_impact_usd:,.2f}") == 4
