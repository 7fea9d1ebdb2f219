"""The alarm domain: plain words per metric, the observed value, the action mapping and the cool-down."""

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
    Guarded,
    MetricKind,
    Verdict,
    alarm_console_url,
    classify,
    concerns,
    decide_cooldown,
    describe,
    format_duration,
    observed_value,
    runbook,
)
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


def sentence(fixture: str, **edits: Any) -> str:
    alarm = change(fixture, **edits)
    return describe(alarm, observed_value(alarm.reason, alarm.reason_data)).sentence


# --- wording ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "expected"),
    [
        ("sns-5xx-rate-alarm", MetricKind.ERROR_RATE, "The 5xx error rate is 12.5 %, above 5 %."),
        ("sns-5xx-rate-ok", MetricKind.ERROR_RATE, "The 5xx error rate is 0.4 %, not above 5 %."),
        ("sns-cpu-alarm", MetricKind.CPU, "CPU utilisation is 96.4 %, above 90 %."),
        ("sns-latency-p99-alarm", MetricKind.LATENCY, "The p99 response time is 6.21 s, above 5 s."),
        (
            "sns-latency-anomaly-alarm",
            MetricKind.LATENCY,
            "The average response time is 1.84 s, outside the expected band.",
        ),
        ("sns-no-instances-alarm", MetricKind.INSTANCES, "The service has no active instances (0, below 1)."),
        (
            "sns-composite-object-children",
            MetricKind.COMPOSITE,
            "The composite rule ALARM(warden-5xx-rate) OR ALARM(warden-p99-latency) is true, "
            "triggered by warden-5xx-rate (ALARM).",
        ),
    ],
)
def test_each_metric_is_explained_in_plain_words(fixture: str, kind: MetricKind, expected: str) -> None:
    # Given an alarm message / When it is classified and described / Then a person can read what is wrong
    alarm = change(fixture)
    assert classify(alarm) is kind
    assert describe(alarm, observed_value(alarm.reason, alarm.reason_data)).sentence == expected


def test_the_memory_alarm_of_a_direct_invocation_is_explained() -> None:
    alarm = parse_direct_alarm(load_event("on_alarm", "direct-memory-alarm"))
    finding = describe(alarm, observed_value(alarm.reason, alarm.reason_data))
    assert finding.kind is MetricKind.MEMORY
    assert finding.sentence == "Memory utilisation is 97.6 %, above 95 %."
    assert finding.subject == "memory utilisation 97.6 % (above 95 %)"


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
    finding = describe(alarm, observed_value(alarm.reason))
    assert finding.kind is MetricKind.BILLING
    assert finding.sentence == "The estimated AWS charge for this month is $12.34, above $10.00."
    assert any("Cost Explorer" in line for line in runbook(finding.kind))


def test_the_anomaly_band_is_shown_with_its_bounds() -> None:
    alarm = change("sns-latency-anomaly-alarm")
    finding = describe(alarm, observed_value(alarm.reason))
    assert finding.threshold.startswith("the anomaly detection band ANOMALY_DETECTION_BAND(m1, 2)")
    assert "(expected 113 ms to 613 ms)" in finding.threshold


def test_the_threshold_says_how_many_periods_must_breach() -> None:
    finding = describe(change("sns-5xx-rate-alarm"), None)
    assert finding.threshold == "> 5 %, in 2 of 3 periods of 5 minutes"


def test_without_a_datapoint_the_message_says_so_instead_of_inventing_a_value() -> None:
    # Given a reason that lists no datapoint
    alarm = change("sns-cpu-alarm", NewStateReason="Threshold Crossed: no datapoints were received.")
    # When it is described / Then the value is said to be missing
    finding = describe(alarm, observed_value(alarm.reason))
    assert finding.sentence == "CPU utilisation is above 90 % (the alarm message gave no datapoint value)."
    assert finding.observed.startswith("not given")


def test_insufficient_data_says_too_little_data() -> None:
    text = sentence(
        "sns-cpu-alarm", NewStateValue="INSUFFICIENT_DATA", NewStateReason="Insufficient Data: 1 datapoint was unknown."
    )
    assert text == "CloudWatch has too little data to judge CPU utilisation (threshold > 90 %)."


def test_an_unknown_metric_is_named_by_namespace_metric_and_statistic() -> None:
    message = document("sns-cpu-alarm")
    message["Trigger"].update(Namespace="AWS/RDS", MetricName="DatabaseConnections", Statistic="SUM")
    alarm = parse_alarm_message(json.dumps(message))
    assert classify(alarm) is MetricKind.OTHER
    assert describe(alarm, observed_value(alarm.reason)).sentence == (
        "AWS/RDS DatabaseConnections (Sum) is 96.4, above 90."
    )


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
