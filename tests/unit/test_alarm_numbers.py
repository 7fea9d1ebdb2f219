"""Every number an alarm carries renders in bounded length, whatever its magnitude, and never crashes Warden.

An alarm's threshold (`Trigger.Threshold`, EventBridge's `reasonData.threshold` or the reason's "the threshold
(5.0)"), its datapoints (the reason's "[12.5 (27/11/26 10:00:00)]", `reasonData.evaluatedDatapoints`) and an
anomaly band's limits are numbers Warden puts into a notification. JSON allows `1e308` and Python's json reads
`NaN`, `Infinity` and `1e999` (as inf): before this, `1e300` rendered as a 400-character number, and an infinite
or NaN datapoint raised out of the handler (Lambda retries, then dead-letters the alarm). Now the parser refuses
a non-finite threshold with a reason, and every finite or non-finite value renders in at most
`NUMBER_LIMIT` characters.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.events import load_event
from warden.domain.alarms import observed_value
from warden.errors import UnparseableMessage
from warden.messages.alarm import describe
from warden.models.alarm import AlarmStateChange, parse_alarm_message, parse_eventbridge_alarm
from warden.models.sns import parse_sns_event

# "1,234,567,890,123.46" is 20 characters; "-1.23457e+300 s" is 15.
NUMBER_LIMIT = 24
# A number as a message can write it: huge and tiny exponents, the non-finite literals Python's json accepts.
SPECIAL = [
    "1e308",
    "-1.7976931348623157e308",
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e-999",
    "-0.0",
    "1" + "0" * 400,  # an integer no double holds: float() of it raises
]
NUMBER_TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)
# Alarms whose words use each unit: %, ms, s (the load balancer's latency), a count, a Lambda error count.
FIXTURES = [
    "sns-cpu-alarm",
    "sns-latency-p99-alarm",
    "sns-alb-p99-latency-alarm",
    "sns-no-instances-alarm",
    "sns-self-errors-alarm",
    "sns-self-failed-events-alarm",
    "sns-5xx-rate-alarm",
]
# Numbers in the rendered words: digits with their separators, signs, exponents and units' symbols.
NUMBERS = re.compile(r"[-+$]?[0-9][0-9,.]*(?:e[-+]?[0-9]+)?", re.IGNORECASE)


def sns_alarm(fixture: str) -> dict[str, Any]:
    (sns,) = parse_sns_event(load_event("on_alarm", fixture))
    document: dict[str, Any] = json.loads(sns.message)
    return document


def with_numbers(document: dict[str, Any], threshold: str, value: str) -> str:
    """The alarm's JSON with `threshold` written as Trigger.Threshold and `value` as the reason's datapoint."""
    document["NewStateReason"] = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value} (27/11/26 10:00:00)] was greater than the "
        f"threshold ({threshold}) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    document["Trigger"]["Threshold"] = "@THRESHOLD@"
    return json.dumps(document).replace('"@THRESHOLD@"', threshold)


def rendered_numbers(change: AlarmStateChange) -> list[str]:
    """Every number in the words Warden sends about `change`."""
    finding = describe(change, observed_value(change.reason, change.reason_data))
    words = " ".join((finding.sentence, finding.subject, finding.observed, finding.threshold))
    # The alarm's own name and dimensions are quoted as they are; only the rendered values are judged.
    for quoted in (change.name, *(change.metric.dimensions.values() if change.metric else ())):
        words = words.replace(quoted, "")
    return NUMBERS.findall(words)


@settings(deadline=None, max_examples=300)
@given(fixture=st.sampled_from(FIXTURES), threshold=NUMBER_TEXT, value=NUMBER_TEXT)
@example(fixture="sns-cpu-alarm", threshold="1e300", value="96.4")
@example(fixture="sns-cpu-alarm", threshold="90.0", value="1e999")
@example(fixture="sns-self-errors-alarm", threshold="0.0", value="1e300")
def test_an_sns_alarm_number_of_any_magnitude_renders_in_bounded_length(
    fixture: str, threshold: str, value: str
) -> None:
    # Given an SNS alarm whose threshold and datapoint are written with any magnitude
    text = with_numbers(sns_alarm(fixture), threshold, value)
    # When it is parsed and described
    change: AlarmStateChange | UnparseableMessage
    try:
        change = parse_alarm_message(text)
    except UnparseableMessage as refused:
        change = refused
    if isinstance(change, UnparseableMessage):
        # Then a refusal is a short reason about the threshold (CloudWatch never sends a non-finite one)
        assert "Trigger.Threshold" in change.reason
        assert len(change.reason) < 200
        return
    # Then every number in the words is at most NUMBER_LIMIT characters
    assert change.threshold is None or abs(change.threshold) != float("inf")
    assert [number for number in rendered_numbers(change) if len(number) > NUMBER_LIMIT] == []


@settings(deadline=None, max_examples=200)
@given(threshold=NUMBER_TEXT, value=NUMBER_TEXT, lower=NUMBER_TEXT, upper=NUMBER_TEXT)
@example(threshold="NaN", value="Infinity", lower="1", upper="2")
@example(threshold="1", value="1", lower="1.2.3", upper="4e+-5")
def test_eventbridge_and_anomaly_numbers_of_any_magnitude_render_in_bounded_length(
    threshold: str, value: str, lower: str, upper: str
) -> None:
    # Given an EventBridge alarm whose reason data holds any numbers, and an anomaly alarm with any band limits
    event = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    state = event["detail"]["state"]
    state["reasonData"] = (
        f'{{"threshold": {threshold}, "evaluatedDatapoints": [{{"timestamp": "2026-11-27T10:00:00.000+0000", '
        f'"value": {value}}}], "recentDatapoints": [{value}]}}'
    )
    state["reason"] = (
        f"Threshold Crossed: 1 out of the last 3 datapoints were greater than the threshold ({threshold})."
    )
    anomaly = sns_alarm("sns-latency-anomaly-alarm")
    anomaly["NewStateReason"] = (
        f"Thresholds Crossed: 1 out of the last 1 datapoints [{value} (27/11/26 10:00:00)] was less than the lower "
        f"thresholds [{lower}] or greater than the upper thresholds [{upper}]."
    )
    # When both are parsed and described
    changes = [parse_eventbridge_alarm(event), parse_alarm_message(json.dumps(anomaly))]
    # Then no threshold is infinite or NaN, and every number in the words is at most NUMBER_LIMIT characters
    for change in changes:
        assert change.threshold is None or abs(change.threshold) < float("inf")
        assert [number for number in rendered_numbers(change) if len(number) > NUMBER_LIMIT] == []


@pytest.mark.parametrize("threshold", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_sns_threshold_is_refused_naming_the_field(threshold: str) -> None:
    # Given the CPU alarm with a threshold CloudWatch cannot hold (JSON has no such number; Python's json reads it)
    text = json.dumps(sns_alarm("sns-cpu-alarm")).replace('"Threshold": 90.0', f'"Threshold": {threshold}')
    assert threshold in text
    # When it is parsed / Then it is refused, and the reason names the field
    with pytest.raises(UnparseableMessage) as refused:
        parse_alarm_message(text)
    assert "Trigger.Threshold" in refused.value.reason


def test_a_huge_threshold_reads_in_exponent_form() -> None:
    # Given the CPU alarm with a threshold of 1e300 %, and a datapoint of 1e300
    change = parse_alarm_message(with_numbers(sns_alarm("sns-cpu-alarm"), "1e300", "1e300"))
    # When it is described
    finding = describe(change, observed_value(change.reason, change.reason_data))
    # Then both read as 1e+300 %, not as 301 digits
    assert change.threshold == 1e300
    assert finding.threshold.startswith("> 1e+300 %")
    assert finding.observed.startswith("1e+300 %")
