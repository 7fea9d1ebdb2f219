"""The alarm domain: which metric and unit, the observed value, the action mapping and the cool-down.

The metric in plain words for each of these alarms is approved in tests/golden/texts/alarm.metrics.txt."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.events import load_event
from warden.domain.alarms import (
    AlarmAction,
    AlarmActionMap,
    AlarmFacts,
    AlarmOutcome,
    Fired,
    Guarded,
    MetricKind,
    Notified,
    PauseFailed,
    Unit,
    Verdict,
    alarm_console_url,
    anomaly_band_limits,
    classify,
    concerns,
    decide_cooldown,
    format_duration,
    metric_statistic,
    metric_unit,
    observed_value,
)
from warden.messages.alarm import runbook
from warden.models.alarm import AlarmStateChange, parse_alarm_message, parse_direct_alarm
from warden.models.sns import parse_sns_event
from warden.settings import ServiceRef
from warden.wiring import target_facts

SERVICE_ID = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 27, 10, 6, tzinfo=UTC)


def document(fixture: str) -> dict[str, Any]:
    (sns,) = parse_sns_event(load_event("on_alarm", fixture))
    parsed: dict[str, Any] = json.loads(sns.message)
    return parsed


def change(fixture: str, **edits: Any) -> AlarmStateChange:
    message = document(fixture)
    message.update(edits)
    return parse_alarm_message(json.dumps(message))


# --- which metric, in which unit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "unit", "value"),
    [
        ("sns-5xx-rate-alarm", MetricKind.ERROR_RATE, Unit.PERCENT, 12.5),
        ("sns-5xx-rate-ok", MetricKind.ERROR_RATE, Unit.PERCENT, 0.4),
        ("sns-cpu-alarm", MetricKind.CPU, Unit.PERCENT, 96.4),
        ("sns-latency-p99-alarm", MetricKind.LATENCY, Unit.MILLISECONDS, 6214.0),
        ("sns-latency-anomaly-alarm", MetricKind.LATENCY, Unit.MILLISECONDS, 1840.0),
        ("sns-no-instances-alarm", MetricKind.INSTANCES, Unit.COUNT, 0.0),
        ("sns-composite-object-children", MetricKind.COMPOSITE, Unit.NONE, None),
    ],
)
def test_each_metric_is_known_with_its_unit_and_newest_datapoint(
    fixture: str, kind: MetricKind, unit: Unit, value: float | None
) -> None:
    # Given an alarm message / When it is classified and its datapoint read
    alarm = change(fixture)
    observation = observed_value(alarm.reason, alarm.reason_data)
    # Then Warden knows the metric, the unit of its numbers and the value that tripped it
    assert classify(alarm) is kind
    assert metric_unit(kind, alarm.metric) is unit
    assert (observation.value if observation else None) == value


def test_the_memory_alarm_of_a_direct_invocation_is_memory() -> None:
    alarm = parse_direct_alarm(load_event("on_alarm", "direct-memory-alarm"))
    assert classify(alarm) is MetricKind.MEMORY
    assert metric_unit(MetricKind.MEMORY, alarm.metric) is Unit.PERCENT
    observation = observed_value(alarm.reason, alarm.reason_data)
    assert observation is not None
    assert observation.value == 97.6


def test_a_billing_alarm_speaks_dollars() -> None:
    message = document("sns-cpu-alarm")
    message["Trigger"].update(
        Namespace="AWS/Billing",
        MetricName="EstimatedCharges",
        Statistic="MAXIMUM",
        Dimensions=[{"name": "Currency", "value": "USD"}],
        Threshold=10.0,
    )
    message["NewStateReason"] = (
        "Threshold Crossed: 1 datapoint [12.34 (27/11/26 04:00:00)] was greater than the threshold (10.0)."
    )
    alarm = parse_alarm_message(json.dumps(message))
    assert classify(alarm) is MetricKind.BILLING
    assert metric_unit(MetricKind.BILLING, alarm.metric) is Unit.USD
    assert any("Cost Explorer" in line for line in runbook(MetricKind.BILLING))


def test_the_anomaly_bands_bounds_are_read_from_the_reason() -> None:
    alarm = change("sns-latency-anomaly-alarm")
    assert alarm.metric is not None
    assert alarm.metric.anomaly_band == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert anomaly_band_limits(alarm) == (112.6, 612.9)
    assert anomaly_band_limits(change("sns-cpu-alarm")) is None


def test_without_a_datapoint_no_value_is_invented() -> None:
    # Given a reason that lists no datapoint / When its datapoint is read / Then there is none
    alarm = change("sns-cpu-alarm", NewStateReason="Threshold Crossed: no datapoints were received.")
    assert observed_value(alarm.reason, alarm.reason_data) is None


def test_an_unknown_metric_is_other_and_keeps_its_statistic() -> None:
    message = document("sns-cpu-alarm")
    message["Trigger"].update(Namespace="AWS/RDS", MetricName="DatabaseConnections", Statistic="SUM")
    alarm = parse_alarm_message(json.dumps(message))
    assert classify(alarm) is MetricKind.OTHER
    assert metric_unit(MetricKind.OTHER, alarm.metric) is Unit.NONE
    assert metric_statistic(alarm.metric) == "Sum"


# --- the observed value -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "value", "at"),
    [
        (
            "Threshold Crossed: 2 out of the last 3 datapoints [12.5 (27/11/26 10:00:00), 8.3 (27/11/26 09:55:00)] "
            "were greater than the threshold (5.0)",
            12.5,
            "27/11/26 10:00:00",
        ),
        ("Threshold Crossed: 1 datapoint [0.0 (27/11/26 09:55:00)] was less than the threshold (1.0).", 0.0, None),
        (
            "Threshold Crossed: 1 datapoint [1.5E-4 (27/11/26 09:55:00)] was greater than the threshold (0.0).",
            1.5e-4,
            None,
        ),
        (
            "Thresholds Crossed: 1 out of the last 1 datapoints [1840.0 (27/11/26 10:00:00)] was less than the lower "
            "thresholds [112.6] or greater than the upper thresholds [612.9]",
            1840.0,
            None,
        ),
    ],
)
def test_the_newest_datapoint_is_read_from_the_reason(reason: str, value: float, at: str | None) -> None:
    observation = observed_value(reason)
    assert observation is not None
    assert observation.value == value
    assert observation.source == "reason"
    if at is not None:
        assert observation.at == at


def test_the_reason_data_is_the_fallback_and_nothing_is_invented() -> None:
    data = {"evaluatedDatapoints": [{"timestamp": "2026-11-27T10:00:00.000+0000", "value": 97.6}]}
    assert observed_value("Threshold Crossed", data).value == 97.6  # type: ignore[union-attr]
    assert observed_value("Threshold Crossed", {"recentDatapoints": [1.0, 2.0]}).value == 2.0  # type: ignore[union-attr]
    assert observed_value("Insufficient Data: 1 datapoint was unknown.") is None
    assert observed_value("ALARM(child) transitioned [see child]") is None


# --- whose alarm ------------------------------------------------------------------------------------


def app_runner(service_id: str, name: str = "consultation-app") -> Guarded:
    service = ServiceRef.parse(f"arn:aws:apprunner:us-east-1:123456789012:service/{name}/{service_id}")
    facts = target_facts(service)
    return Guarded(
        partition="aws",
        account_id="123456789012",
        region="us-east-1",
        described=facts.described,
        metrics=facts.alarm_metrics,
        behind_load_balancer=facts.behind_load_balancer,
    )


APP_RUNNER_ADVICE = target_facts(
    ServiceRef.parse(f"arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/{'0' * 32}")
).runbook


def test_an_alarm_on_another_app_runner_service_is_recognised() -> None:
    alarm = change("sns-cpu-alarm")
    assert concerns(alarm, app_runner(SERVICE_ID)).verdict is Verdict.GUARDED
    other = concerns(alarm, app_runner("f" * 32))
    assert other.verdict is Verdict.OTHER_RESOURCE
    assert other.resource == f"App Runner service consultation-app ({SERVICE_ID})"
    assert concerns(change("sns-composite-object-children"), app_runner("f" * 32, "xxxx")).verdict is Verdict.UNKNOWN


# --- the action mapping -----------------------------------------------------------------------------


def test_an_exact_name_wins_over_a_pattern_and_the_first_pattern_wins_over_later_ones() -> None:
    # Given a mapping with a pattern written before an exact name
    actions = AlarmActionMap.parse("warden-*=pause, warden-5xx-rate=rollback, *-rate=notify")
    # When alarms are resolved / Then exact beats pattern, and among patterns the first written wins
    assert actions.resolve("warden-5xx-rate").action is AlarmAction.ROLLBACK
    assert actions.resolve("warden-cpu").action is AlarmAction.PAUSE
    assert actions.resolve("other-rate").action is AlarmAction.NOTIFY
    choice = actions.resolve("consultation-app-unhealthy")
    assert choice.action is AlarmAction.NOTIFY
    assert "no ALARM_ACTIONS rule matches" in choice.reason


def test_patterns_are_case_sensitive_globs() -> None:
    actions = AlarmActionMap.parse("*-CPU=pause,warden-?pu=rollback")
    assert actions.resolve("warden-cpu").action is AlarmAction.ROLLBACK
    assert actions.resolve("x-CPU").action is AlarmAction.PAUSE


def test_an_empty_mapping_notifies_everything_and_newlines_separate_too() -> None:
    assert AlarmActionMap.parse("").rules == ()
    assert AlarmActionMap.parse(" , ").rules == ()
    assert len(AlarmActionMap.parse("a=pause\nb=notify").rules) == 2


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("warden-cpu=reboot", "unknown action 'reboot' for 'warden-cpu' (expected one of notify, pause, rollback)"),
        ("warden-cpu", "'warden-cpu' is not <alarm name or pattern>=<action>"),
        ("=pause", "'=pause' is not <alarm name or pattern>=<action>"),
        ("a=pause,a=rollback", "'a' is mapped to both pause and rollback"),
    ],
)
def test_a_bad_mapping_fails_naming_the_bad_pair(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        AlarmActionMap.parse(raw)


def test_every_problem_of_a_mapping_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="reboot") as failure:
        AlarmActionMap.parse("a=reboot,b,c=pause")
    assert "'reboot'" in str(failure.value)
    assert "'b'" in str(failure.value)


# --- the cool-down ----------------------------------------------------------------------------------


def test_an_alarm_that_never_acted_may_act() -> None:
    assert decide_cooldown(None, NOW, timedelta(minutes=30)).allowed


def test_an_alarm_that_acted_within_the_window_may_not_act_and_learns_when_it_may() -> None:
    # Given an alarm that paused 10 minutes ago and a 30-minute cool-down
    decision = decide_cooldown(NOW - timedelta(minutes=10), NOW, timedelta(minutes=30))
    # Then it may not act, and the reason says when the cool-down ends
    assert not decision.allowed
    assert decision.ends_at == NOW + timedelta(minutes=20)
    assert "ends at 10:26 UTC" in decision.reason
    assert "30 minutes cool-down (ALARM_COOLDOWN_MINUTES)" in decision.reason


def test_the_cool_down_ends_exactly_at_the_end_of_the_window_and_zero_turns_it_off() -> None:
    assert decide_cooldown(NOW - timedelta(minutes=30), NOW, timedelta(minutes=30)).allowed
    assert decide_cooldown(NOW - timedelta(seconds=1), NOW, timedelta(0)).allowed


# --- durations and links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=20, seconds=4), "20 minutes"),
        (timedelta(hours=1, minutes=5), "1 h 5 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(days=2, hours=3), "2 days 3 h"),
    ],
)
def test_durations_read_naturally(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_the_console_link_uses_the_region_code_and_encodes_the_name() -> None:
    assert alarm_console_url("eu-west-1", "app 5xx/rate") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/app%205xx%2Frate"
    )


@pytest.mark.parametrize("kind", list(MetricKind))
def test_every_kind_of_alarm_has_a_runbook_hint(kind: MetricKind) -> None:
    assert runbook(kind)
    assert runbook(kind, APP_RUNNER_ADVICE)


def test_the_runbook_hints_name_the_first_things_to_check() -> None:
    assert any("warden rollback" in line for line in runbook(MetricKind.ERROR_RATE, APP_RUNNER_ADVICE))
    assert any("hot loops" in line for line in runbook(MetricKind.CPU, APP_RUNNER_ADVICE))
    assert any("leak" in line for line in runbook(MetricKind.MEMORY, APP_RUNNER_ADVICE))
    assert any("Cold starts" in line for line in runbook(MetricKind.LATENCY, APP_RUNNER_ADVICE))
    assert any("paused" in line for line in runbook(MetricKind.INSTANCES, APP_RUNNER_ADVICE))


# --- the facts a notification is written from -----------------------------------------------------------------


def test_what_warden_did_about_an_alarm_must_match_its_outcome() -> None:
    # Given the facts of an ALARM Warden only notified about
    alarm = change("sns-cpu-alarm")
    facts = AlarmFacts(
        change=alarm,
        observation=observed_value(alarm.reason),
        concern=concerns(alarm, app_runner(SERVICE_ID)),
        service_name="consultation-app",
    )
    # When they are told as a pause, or a pause as a notification / Then the facts refuse to be built
    with pytest.raises(ValueError, match="Notified cannot end as paused"):
        Fired(alarm=facts, outcome=AlarmOutcome.PAUSED, did=Notified(permission=None))
    with pytest.raises(ValueError, match="PauseFailed cannot end as notified"):
        Fired(alarm=facts, outcome=AlarmOutcome.NOTIFIED, did=PauseFailed(missing="gone"))
    # And the facts that do match are what they say
    told = Fired(alarm=facts, outcome=AlarmOutcome.NOTIFIED, did=Notified(permission=None))
    assert (told.alarm.kind, told.alarm.guarded, told.alarm.unit) == (MetricKind.CPU, True, Unit.PERCENT)
