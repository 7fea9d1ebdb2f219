"""CloudWatch alarm state changes, every delivery shape and every quirk, read into one model."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import load_event
from warden.errors import UnparseableMessage
from warden.models.alarm import (
    AlarmSource,
    AlarmState,
    AlarmStateChange,
    is_direct_alarm,
    is_eventbridge_alarm,
    looks_like_alarm_message,
    normalise_statistic,
    parse_alarm_message,
    parse_direct_alarm,
    parse_eventbridge_alarm,
)
from warden.models.sns import parse_sns_event

SERVICE_ID = "0123456789abcdef0123456789abcdef"
DIMENSIONS = {"ServiceName": "consultation-app", "ServiceID": SERVICE_ID}
ALARM_AT = datetime(2026, 11, 27, 10, 5, 37, 811000, tzinfo=UTC)


def message(fixture: str) -> dict[str, Any]:
    """The alarm JSON inside the SNS fixture's Message."""
    (sns,) = parse_sns_event(load_event("on_alarm", fixture))
    document: dict[str, Any] = json.loads(sns.message)
    return document


def parse(document: dict[str, Any]) -> Any:
    return parse_alarm_message(json.dumps(document))


# --- SNS: a single-metric alarm with the old quirks ---------------------------------------------------


def test_a_single_metric_alarm_reads_region_from_the_arn_and_normalises_every_quirk() -> None:
    # Given the CPU alarm as SNS delivers it: display-name Region, UPPER-CASE statistic, lower-case
    # dimension objects in any order, a null description and an odd TreatMissingData
    document = message("sns-cpu-alarm")
    assert document["Region"] == "US East (N. Virginia)"
    # When it is parsed
    change = parse(document)
    # Then the model holds the region code, title-case statistic, a dimension map and no description
    assert change.source is AlarmSource.SNS
    assert change.name == "warden-cpu"
    assert change.region == "us-east-1"
    assert change.account_id == "123456789012"
    assert change.new_state is AlarmState.ALARM
    assert change.old_state is AlarmState.OK
    assert change.changed_at == ALARM_AT
    assert change.description is None
    assert change.metric is not None
    assert change.metric.shape == "metric"
    assert (change.metric.namespace, change.metric.metric_name) == ("AWS/AppRunner", "CPUUtilization")
    assert change.metric.statistic == "Average"
    assert change.metric.dimensions == DIMENSIONS
    assert change.metric.unit is None
    assert change.threshold == 90.0
    assert change.comparison == "GreaterThanThreshold"
    assert (change.period, change.evaluation_periods, change.datapoints_to_alarm) == (300, 3, 3)
    assert change.treat_missing_data == "notBreaching"
    assert change.is_composite is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AVERAGE", "Average"),
        ("SUM", "Sum"),
        ("MAXIMUM", "Maximum"),
        ("MINIMUM", "Minimum"),
        ("SAMPLE_COUNT", "SampleCount"),
        ("SampleCount", "SampleCount"),
        ("Average", "Average"),
        ("p99", "p99"),
        ("P99", "p99"),
        ("P99.9", "p99.9"),
        ("TM(10%:90%)", "tm(10%:90%)"),
    ],
)
def test_statistics_are_normalised_to_the_apis_spelling(raw: str, expected: str) -> None:
    assert normalise_statistic(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("notBreaching", "notBreaching"),
        ("missing", "missing"),
        ("breaching", "breaching"),
        ("ignore", "ignore"),
        ("- TreatMissingData: Breaching", "breaching"),
        ("- TreatMissingData:                    NotBreaching", "notBreaching"),
        ("", None),
        ("something new", None),
    ],
)
def test_treat_missing_data_is_normalised_including_the_odd_old_forms(raw: str, expected: str | None) -> None:
    document = message("sns-cpu-alarm")
    document["Trigger"]["TreatMissingData"] = raw
    assert parse(document).treat_missing_data == expected


def test_dimensions_in_the_apis_capitalised_form_are_read_too() -> None:
    document = message("sns-cpu-alarm")
    document["Trigger"]["Dimensions"] = [
        {"Name": "ServiceID", "Value": SERVICE_ID},
        {"Name": "ServiceName", "Value": "x"},
    ]
    assert parse(document).metric.dimensions == {"ServiceID": SERVICE_ID, "ServiceName": "x"}


def test_a_p99_alarm_keeps_its_extended_statistic() -> None:
    change = parse(message("sns-latency-p99-alarm"))
    assert change.metric.statistic == "p99"
    assert change.metric.unit == "Milliseconds"
    assert change.threshold == 5000.0


# --- SNS: metric math and anomaly detection ---------------------------------------------------------


def test_a_metric_math_alarm_reads_the_returned_expression_and_the_metrics_it_uses() -> None:
    # Given the stack's 5xx-rate alarm (no MetricName, a Metrics list with title-case Stat)
    change = parse(message("sns-5xx-rate-alarm"))
    # Then the expression is the metric, and both App Runner metrics are known with their dimensions
    metric = change.metric
    assert metric.shape == "math"
    assert metric.expression == "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"
    assert metric.label == "5xx error rate (%)"
    assert metric.metric_name is None
    assert metric.metrics() == [
        ("AWS/AppRunner", "5xxStatusResponses", DIMENSIONS),
        ("AWS/AppRunner", "Requests", DIMENSIONS),
    ]
    assert {query.id: query.statistic for query in metric.queries} == {"rate": None, "errors": "Sum", "requests": "Sum"}
    assert change.threshold == 5.0
    assert (change.evaluation_periods, change.datapoints_to_alarm) == (3, 2)


def test_an_anomaly_detection_alarm_has_a_band_instead_of_a_threshold() -> None:
    # Given an alarm with ThresholdMetricId and no Threshold
    change = parse(message("sns-latency-anomaly-alarm"))
    # Then the threshold is None, the band is kept and the metric inside the band is described
    assert change.threshold is None
    assert change.comparison == "LessThanLowerOrGreaterThanUpperThreshold"
    metric = change.metric
    assert metric.shape == "anomaly"
    assert metric.anomaly_band == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/AppRunner", "RequestLatency", "Average")
    assert metric.dimensions == DIMENSIONS


def test_a_stray_threshold_beside_threshold_metric_id_is_ignored() -> None:
    document = message("sns-latency-anomaly-alarm")
    document["Trigger"]["Threshold"] = 0.0
    assert parse(document).threshold is None


# --- SNS: composite alarms --------------------------------------------------------------------------


def test_composite_children_as_objects_and_as_strings_give_the_same_children() -> None:
    # Given the same composite alarm with children in both forms AWS has sent
    objects = parse(message("sns-composite-object-children"))
    strings = parse(message("sns-composite-string-children"))
    # Then both name the child and its ARN; only the object form knows the child's state
    for change in (objects, strings):
        assert change.is_composite
        assert change.metric is None
        assert change.threshold is None
        assert change.composite_rule == "ALARM(warden-5xx-rate) OR ALARM(warden-p99-latency)"
        (child,) = change.triggering_children
        assert child.name == "warden-5xx-rate"
        assert child.arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:warden-5xx-rate"
    assert objects.triggering_children[0].state is AlarmState.ALARM
    assert objects.triggering_children[0].changed_at == ALARM_AT
    assert strings.triggering_children[0].state is None


def test_composite_children_may_be_empty_or_bare_names() -> None:
    document = message("sns-composite-string-children")
    document["TriggeringChildren"] = []
    assert parse(document).triggering_children == ()
    document["TriggeringChildren"] = ["warden-cpu"]
    (child,) = parse(document).triggering_children
    assert (child.name, child.arn) == ("warden-cpu", None)


# --- EventBridge and direct invocation --------------------------------------------------------------


def test_an_eventbridge_state_change_is_the_same_state_change_as_its_sns_twin() -> None:
    # Given the 5xx-rate alarm's state change delivered by EventBridge (camelCase, dimension maps,
    # reason data as a JSON string, no threshold or comparison in the configuration)
    event = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    assert is_eventbridge_alarm(event)
    # When it is parsed
    change = parse_eventbridge_alarm(event)
    twin = parse(message("sns-5xx-rate-alarm"))
    # Then it reads like the SNS delivery and has the same idempotency key
    assert change.source is AlarmSource.EVENTBRIDGE
    assert change.delivery_key == twin.delivery_key
    assert change.region == "us-east-1"
    assert change.metric.expression == twin.metric.expression
    assert change.metric.metrics() == twin.metric.metrics()
    assert change.threshold == 5.0  # from reasonData
    assert change.comparison == "GreaterThanThreshold"  # from the reason text
    assert change.reason_data is not None
    assert change.reason_data["evaluatedDatapoints"][0]["value"] == 12.5
    assert (change.evaluation_periods, change.datapoints_to_alarm) == (3, 2)


def test_an_eventbridge_threshold_is_read_from_the_reason_when_the_data_lacks_it() -> None:
    event = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    event["detail"]["state"]["reasonData"] = "not json"
    change = parse_eventbridge_alarm(event)
    assert change.reason_data is None
    assert change.threshold == 5.0


def test_an_eventbridge_composite_reads_its_rule_and_children_from_the_reason_data() -> None:
    # Given a composite alarm's EventBridge event, whose children are in reasonData.triggeringAlarms
    event = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    detail = event["detail"]
    detail["alarmName"] = "consultation-app-unhealthy"
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:consultation-app-unhealthy"]
    detail["configuration"] = {"alarmRule": "ALARM(warden-5xx-rate) OR ALARM(warden-cpu)", "description": None}
    detail["state"]["reasonData"] = json.dumps(
        {
            "triggeringAlarms": [
                {
                    "arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:warden-cpu",
                    "state": {"value": "ALARM", "timestamp": "2026-11-27T10:05:00.000+0000"},
                }
            ]
        }
    )
    # When it is parsed
    change = parse_eventbridge_alarm(event)
    # Then it is a composite with that child
    assert change.composite_rule == "ALARM(warden-5xx-rate) OR ALARM(warden-cpu)"
    assert change.metric is None
    assert [(child.name, child.state) for child in change.triggering_children] == [("warden-cpu", AlarmState.ALARM)]


def test_a_direct_alarm_invocation_is_read_like_eventbridge() -> None:
    # Given the payload of an alarm that invokes the function directly
    event = load_event("on_alarm", "direct-memory-alarm")
    assert is_direct_alarm(event)
    assert not is_eventbridge_alarm(event)
    # When it is parsed
    change = parse_direct_alarm(event)
    # Then the metric, threshold (from reasonData) and times are there, and the description is None
    assert change.source is AlarmSource.LAMBDA
    assert change.name == "warden-memory"
    assert change.region == "us-east-1"
    assert change.metric.shape == "metric"
    assert (change.metric.metric_name, change.metric.statistic) == ("MemoryUtilization", "Average")
    assert change.metric.dimensions == DIMENSIONS
    assert change.threshold == 95.0
    assert change.comparison == "GreaterThanThreshold"
    assert change.period == 300
    assert change.description is None
    assert change.changed_at == ALARM_AT


def test_the_delivery_key_is_alarm_name_new_state_and_state_change_time() -> None:
    change = parse(message("sns-5xx-rate-ok"))
    assert change.delivery_key == "alarm#warden-5xx-rate#OK#2026-11-27T10:25:41.102+00:00"


# --- what is not an alarm ---------------------------------------------------------------------------


def test_the_sniffers_tell_alarm_shapes_apart() -> None:
    assert looks_like_alarm_message(json.dumps(message("sns-cpu-alarm")))
    assert not looks_like_alarm_message("AWS Budget Notification March 03, 2026")
    assert not looks_like_alarm_message("{not json")
    assert not is_eventbridge_alarm({"detail-type": "AppRunner Service Status Change"})
    assert not is_direct_alarm({"source": "aws.cloudwatch"})


def broken(change: dict[str, Any], path: list[str], value: object) -> dict[str, Any]:
    document = copy.deepcopy(change)
    node = document
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (["AlarmArn"], KeyError, "AlarmArn is missing"),
        (["AlarmArn"], "arn:aws:sns:us-east-1:123456789012:topic", "is not arn:aws:cloudwatch"),
        (["NewStateValue"], "BROKEN", "NewStateValue is 'BROKEN', not OK, ALARM or INSUFFICIENT_DATA"),
        (["StateChangeTime"], "yesterday", "StateChangeTime 'yesterday' is not an ISO 8601"),
        (["StateChangeTime"], KeyError, "StateChangeTime is missing"),
        (["Trigger"], "metric", "Trigger is a string, not an object"),
        (["Trigger"], KeyError, "neither a Trigger (metric alarm) nor an AlarmRule"),
        (["Trigger", "Threshold"], "high", "Trigger.Threshold is 'high', not a number"),
        (["Trigger", "Dimensions"], "ServiceName=x", "Trigger.Dimensions is a string"),
    ],
)
def test_a_broken_alarm_message_is_refused_with_a_reason(path: list[str], value: object, reason: str) -> None:
    # Given the CPU alarm with one field broken / When it is parsed / Then the reason names the field
    with pytest.raises(UnparseableMessage) as refused:
        parse(broken(message("sns-cpu-alarm"), path, value))
    assert reason in refused.value.reason
    assert refused.value.reason.startswith("not a CloudWatch alarm state change")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the message is empty"),
        ("AWS Budget Notification", "the message is not JSON"),
        ("[1, 2]", "the message is a list, not a JSON object"),
        ('{"hello": "world"}', "the message has no AlarmName"),
    ],
)
def test_text_that_is_no_alarm_is_refused(text: str, reason: str) -> None:
    with pytest.raises(UnparseableMessage, match=reason):
        parse_alarm_message(text)


def test_the_unparseable_fixture_is_refused() -> None:
    (sns,) = parse_sns_event(load_event("on_alarm", "unparseable-message"))
    with pytest.raises(UnparseableMessage, match="AlarmArn is missing"):
        parse_alarm_message(sns.message)


def test_an_eventbridge_event_without_the_alarm_arn_is_refused() -> None:
    event = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    event["resources"] = []
    with pytest.raises(UnparseableMessage, match="no alarm ARN"):
        parse_eventbridge_alarm(event)


# --- any input: a refusal with a reason, never another exception ------------------------------------

_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, 10**400, "", "\ud800", "NaN", "0"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["value", "Value", "name", "Arn"]), st.text(max_size=4), max_size=2),
)
_ALARM_FIXTURES = [
    "sns-cpu-alarm",
    "sns-5xx-rate-alarm",
    "sns-latency-anomaly-alarm",
    "sns-composite-object-children",
    "eventbridge-5xx-rate-alarm",
    "eventbridge-suppressed-composite-alarm",
    "direct-memory-alarm",
]


def _leaves(node: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path] if path else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found += _leaves(child, (*path, key))
    return found


def _replace(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    """`value` at `path`, if an earlier replacement left the path there."""
    node: Any = document
    try:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass


def _alarm_document(fixture: str) -> dict[str, Any]:
    event = load_event("on_alarm", fixture)
    return message(fixture) if "Records" in event else event


def _parse_any(fixture: str, document: dict[str, Any]) -> Any:
    if fixture.startswith("eventbridge"):
        return parse_eventbridge_alarm(document)
    if fixture.startswith("direct"):
        return parse_direct_alarm(document)
    return parse_alarm_message(json.dumps(document))


@settings(deadline=None, max_examples=400)
@given(fixture=st.sampled_from(_ALARM_FIXTURES), data=st.data())
def test_any_value_anywhere_in_an_alarm_is_read_or_refused_with_a_reason_never_raised(fixture: str, data: Any) -> None:
    # Given a valid alarm of each delivery with up to three of its values replaced by odd JSON
    document = _alarm_document(fixture)
    for path in data.draw(st.lists(st.sampled_from(_leaves(document)), min_size=1, max_size=3)):
        _replace(document, path, data.draw(_ODD_VALUES))
    # When it is parsed
    outcome: AlarmStateChange | UnparseableMessage
    try:
        outcome = _parse_any(fixture, document)
    except UnparseableMessage as refused:
        outcome = refused
    # Then a refusal says what it is not, in a bounded reason; a success holds only bounded numbers (a finite
    # threshold, counts as CloudWatch's API bounds them)
    if isinstance(outcome, UnparseableMessage):
        assert outcome.reason.startswith("not a CloudWatch alarm state change: ")
        assert len(outcome.reason) < 400
        return
    assert outcome.threshold is None or math.isfinite(outcome.threshold)
    for count in (outcome.period, outcome.evaluation_periods, outcome.datapoints_to_alarm):
        assert count is None or 1 <= count < 2**31


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (["Trigger", "Period"], float("nan"), "Trigger.Period is nan, not a finite number"),
        (["Trigger", "EvaluationPeriods"], 10**30, "Trigger.EvaluationPeriods is 1000000000000000000000000000000, not"),
        (["NewStateValue"], {"Value": "ALARM"}, "NewStateValue is an object"),
        (["Trigger", "Threshold"], float("inf"), "Trigger.Threshold is inf, not a finite number"),
    ],
)
def test_values_that_once_raised_or_slipped_through_are_refused_naming_the_field(
    path: list[str], value: object, reason: str
) -> None:
    # Given the CPU alarm with a NaN period (int() raised ValueError), a period no 32-bit integer holds, an object
    # as its state (an unhashable TypeError) or an infinite threshold (read as inf)
    text = json.dumps(broken(message("sns-cpu-alarm"), path, value))
    # When it is parsed / Then it is refused, and the reason names the field
    with pytest.raises(UnparseableMessage) as refused:
        parse_alarm_message(text)
    assert reason in refused.value.reason
