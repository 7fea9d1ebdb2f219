"""The Cost Anomaly Detection alert parser (a JSON object in the SNS Message)."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import load_event
from warden.errors import UnparseableMessage
from warden.models.anomaly import (
    AnomalyImpact,
    CostAnomalyAlert,
    RootCause,
    looks_like_anomaly_alert,
    parse_anomaly_alert,
)
from warden.models.budget import looks_like_budget_notification
from warden.models.sns import parse_sns_event

MONITOR_ID = "7d3f9a21-4c8e-4b06-a5d2-91e6f0b8c347"
ANOMALY_ID = "e83b5c17-2f9a-4d64-b0e8-5a71c3d9f026"

# The SNS form, as costalerts.amazonaws.com publishes it.
SNS_FORM: dict[str, Any] = {
    "accountId": "123456789012",
    "accountName": "consultation-app",
    "anomalyDetailsLink": (
        "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
        f"{MONITOR_ID}/anomalies/{ANOMALY_ID}"
    ),
    "anomalyEndDate": "2026-03-12T00:00:00Z",
    "anomalyId": ANOMALY_ID,
    "anomalyScore": {"currentScore": 0.82, "maxScore": 0.91},
    "anomalyStartDate": "2026-03-11T00:00:00Z",
    "dimensionalValue": "AWS App Runner",
    "impact": {
        "maxImpact": 4.37,
        "totalActualSpend": 6.12,
        "totalExpectedSpend": 1.05,
        "totalImpact": 5.07,
        "totalImpactPercentage": 482.86,
    },
    "monitorArn": f"arn:aws:ce::123456789012:anomalymonitor/{MONITOR_ID}",
    "monitorName": "warden-service-monitor",
    "monitorType": "DIMENSIONAL",
    "rootCauses": [
        {
            "linkedAccount": "123456789012",
            "linkedAccountName": "consultation-app",
            "region": "us-east-1",
            "service": "AWS App Runner",
            "usageType": "USE1-AppRunner-vCPU-Hours",
        }
    ],
    "subscriptionId": "4a6c2e81-9b3d-4f57-8e0a-c2d4b6f81a39",
    "subscriptionName": "warden-immediate-alerts",
}


def _with(changes: dict[str, Any], *, drop: tuple[str, ...] = ()) -> str:
    """The SNS form with some keys changed or dropped, as the JSON text SNS would carry."""
    document = {key: value for key, value in SNS_FORM.items() if key not in drop}
    document.update(changes)
    return json.dumps(document)


def test_the_sns_form_is_read_into_every_field() -> None:
    # Given the SNS form of an anomaly alert
    text = json.dumps(SNS_FORM)
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then every field is read, with exact decimals and UTC dates
    assert alert == CostAnomalyAlert(
        account_id="123456789012",
        account_name="consultation-app",
        anomaly_id=ANOMALY_ID,
        anomaly_start=datetime(2026, 3, 11, tzinfo=UTC),
        anomaly_end=datetime(2026, 3, 12, tzinfo=UTC),
        dimension_value="AWS App Runner",
        monitor_name="warden-service-monitor",
        monitor_arn=f"arn:aws:ce::123456789012:anomalymonitor/{MONITOR_ID}",
        monitor_type="DIMENSIONAL",
        current_score=Decimal("0.82"),
        max_score=Decimal("0.91"),
        impact=AnomalyImpact(
            max_impact=Decimal("4.37"),
            total_actual_spend=Decimal("6.12"),
            total_expected_spend=Decimal("1.05"),
            total_impact=Decimal("5.07"),
            total_impact_percentage=Decimal("482.86"),
        ),
        root_causes=(
            RootCause(
                service="AWS App Runner",
                region="us-east-1",
                linked_account="123456789012",
                linked_account_name="consultation-app",
                usage_type="USE1-AppRunner-vCPU-Hours",
                contribution=None,
            ),
        ),
        details_link=SNS_FORM["anomalyDetailsLink"],
        subscription_id="4a6c2e81-9b3d-4f57-8e0a-c2d4b6f81a39",
        subscription_name="warden-immediate-alerts",
    )


def test_the_eventbridge_spelling_dimension_value_is_read_too() -> None:
    # Given the EventBridge spelling, dimensionValue, with per-cause contributions
    text = _with(
        {
            "dimensionValue": "Amazon Elastic Container Registry",
            "rootCauses": [{"service": "Amazon Elastic Container Registry", "impact": {"contribution": 3.5}}],
        },
        drop=("dimensionalValue",),
    )
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then the dimension and the contribution are read
    assert alert.dimension_value == "Amazon Elastic Container Registry"
    assert alert.root_causes[0].contribution == Decimal("3.5")


def test_the_sns_spelling_dimensional_value_is_read() -> None:
    # Given the SNS spelling, dimensionalValue
    text = json.dumps(SNS_FORM)
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then the dimension is read
    assert alert.dimension_value == "AWS App Runner"


def test_a_null_end_date_means_the_anomaly_is_ongoing() -> None:
    # Given an anomaly still in progress: its end date is null
    text = _with({"anomalyEndDate": None})
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then the end is None and the start is kept
    assert alert.anomaly_end is None
    assert alert.anomaly_start == datetime(2026, 3, 11, tzinfo=UTC)


def test_only_the_anomaly_id_and_total_impact_are_required() -> None:
    # Given the smallest alert: an id and a total impact
    text = json.dumps({"anomalyId": ANOMALY_ID, "impact": {"totalImpact": 12}})
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then every optional field defaults to None (or no root causes)
    assert alert.anomaly_id == ANOMALY_ID
    assert alert.impact == AnomalyImpact(total_impact=Decimal(12))
    assert alert.root_causes == ()
    assert alert.account_id is None
    assert alert.anomaly_start is None
    assert alert.anomaly_end is None
    assert alert.dimension_value is None
    assert alert.current_score is None
    assert alert.max_score is None
    assert alert.details_link is None


def test_numbers_written_as_strings_are_read_as_decimals() -> None:
    # Given amounts and scores written as strings, and the account id as a number
    text = _with(
        {
            "accountId": 123456789012,
            "anomalyScore": {"currentScore": "0.5", "maxScore": "0.75"},
            "impact": {"totalImpact": "5.07", "maxImpact": "1.10"},
        }
    )
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then they are exact decimals, and the account id a string
    assert alert.impact.total_impact == Decimal("5.07")
    assert alert.impact.max_impact == Decimal("1.10")
    assert alert.current_score == Decimal("0.5")
    assert alert.account_id == "123456789012"


def test_json_floats_are_read_exactly_not_as_binary_floats() -> None:
    # Given an impact that binary floats cannot hold exactly
    text = '{"anomalyId": "a-1", "impact": {"totalImpact": 0.1, "totalActualSpend": 1234567.891}}'
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then the decimals are exactly as written
    assert alert.impact.total_impact == Decimal("0.1")
    assert alert.impact.total_actual_spend == Decimal("1234567.891")


def test_unknown_keys_are_ignored_and_malformed_optional_values_read_as_none() -> None:
    # Given unknown keys, a score that is not a number, a date that is not a date and odd root causes
    text = _with(
        {
            "feedback": "YES",
            "newKey": {"nested": [1, 2]},
            "anomalyScore": {"currentScore": "high", "maxScore": True},
            "anomalyStartDate": "yesterday",
            "rootCauses": [{"service": "AWS App Runner", "region": 7}, "not an object"],
        }
    )
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then nothing fails: the bad optional values are None and the odd cause entry is skipped
    assert alert.current_score is None
    assert alert.max_score is None
    assert alert.anomaly_start is None
    assert alert.root_causes == (RootCause(service="AWS App Runner", region="7"),)


def test_null_root_causes_read_as_none_at_all() -> None:
    # Given rootCauses null
    text = _with({"rootCauses": None})
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then there are no root causes
    assert alert.root_causes == ()


def test_a_date_without_time_is_midnight_utc() -> None:
    # Given the API's date-only form
    text = _with({"anomalyStartDate": "2026-03-11", "anomalyEndDate": "2026-03-12T00:00:00"})
    # When it is parsed
    alert = parse_anomaly_alert(text)
    # Then both dates are midnight UTC
    assert alert.anomaly_start == datetime(2026, 3, 11, tzinfo=UTC)
    assert alert.anomaly_end == datetime(2026, 3, 12, tzinfo=UTC)


def test_the_model_can_be_built_by_field_name() -> None:
    # Given the Python field names rather than the JSON keys
    # When the models are built
    alert = CostAnomalyAlert(anomaly_id="a-1", impact=AnomalyImpact(total_impact=Decimal(3)), monitor_name="m")
    # Then the names are accepted
    assert alert.anomaly_id == "a-1"
    assert alert.monitor_name == "m"
    assert alert.impact.total_impact == Decimal(3)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "message is empty"),
        ("   ", "message is empty"),
        (
            "{not json",
            "message is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
        ("[1, 2]", "message is JSON but not an object (it is a list)"),
        ('"a string"', "message is JSON but not an object (it is a str)"),
        (_with({}, drop=("anomalyId",)), "no 'anomalyId' key: not a Cost Anomaly Detection alert"),
        (_with({}, drop=("impact",)), "no 'impact.totalImpact' in the Cost Anomaly Detection alert"),
        (_with({"impact": {"maxImpact": 3}}), "no 'impact.totalImpact' in the Cost Anomaly Detection alert"),
        (
            _with({"impact": {"totalImpact": None}}),
            "no 'impact.totalImpact' in the Cost Anomaly Detection alert",
        ),
        (_with({"impact": 5}), "no 'impact.totalImpact' in the Cost Anomaly Detection alert"),
    ],
    ids=[
        "empty",
        "blank",
        "invalid JSON",
        "array",
        "string",
        "no anomalyId",
        "no impact",
        "no totalImpact",
        "null totalImpact",
        "impact not an object",
    ],
)
def test_an_alert_without_what_matters_is_rejected_with_a_readable_reason(text: str, reason: str) -> None:
    # Given a message that is not a usable anomaly alert
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_anomaly_alert(text)
    # Then it is rejected with a reason an operator can read
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"anomalyId": None}, "anomalyId"),
        ({"anomalyId": ""}, "anomalyId"),
        ({"impact": {"totalImpact": "lots"}}, "impact.totalImpact"),
        ({"impact": {"totalImpact": "NaN"}}, "impact.totalImpact"),
    ],
)
def test_an_unusable_required_value_is_rejected_naming_the_key(changes: dict[str, Any], field: str) -> None:
    # Given a required value that is null, empty or not a number
    text = _with(changes)
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_anomaly_alert(text)
    # Then the reason names the JSON key
    assert raised.value.reason.startswith("the Cost Anomaly Detection alert is invalid: ")
    assert f"{field}:" in raised.value.reason


def test_deeply_nested_json_is_rejected_rather_than_crashing() -> None:
    # Given JSON nested deeper than the decoder's recursion allows
    text = "[" * 100_000 + "]" * 100_000
    # When it is sniffed and parsed
    # Then it is not an alert, and the failure is an UnparseableMessage
    assert not looks_like_anomaly_alert(text)
    with pytest.raises(UnparseableMessage) as raised:
        parse_anomaly_alert(text)
    assert raised.value.reason == "message is JSON nested too deeply to read"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps(SNS_FORM), True),
        ('  {"anomalyId": "a-1"}', True),
        ('{"AlarmName": "consultation-app-5xx"}', False),
        ('["anomalyId"]', False),
        ('{"anomalyId": ', False),
        ("AWS Budget Notification March 03, 2026\nBudget Name: demo", False),
        ("", False),
    ],
)
def test_the_sniff_wants_a_json_object_with_an_anomaly_id(text: str, expected: bool) -> None:
    # Given a text
    # When it is sniffed
    # Then only a JSON object with anomalyId looks like an anomaly alert
    assert looks_like_anomaly_alert(text) is expected


def test_the_cost_anomaly_fixture_parses_to_its_documented_values() -> None:
    # Given the cost-anomaly fixture, delivered on the budget topic
    [message] = parse_sns_event(load_event("on_budget_alert", "cost-anomaly"))
    # When its message is sniffed and parsed
    assert looks_like_anomaly_alert(message.message)
    assert not looks_like_budget_notification(message.message)
    alert = parse_anomaly_alert(message.message)
    # Then it is the App Runner anomaly with its impact
    assert message.topic_arn == "arn:aws:sns:us-east-1:123456789012:warden-budget-alerts"
    assert alert.anomaly_id == ANOMALY_ID
    assert alert.account_id == "123456789012"
    assert alert.dimension_value == "AWS App Runner"
    assert alert.monitor_name == "warden-service-monitor"
    assert alert.impact.total_impact == Decimal("5.07")
    assert alert.impact.total_impact_percentage == Decimal("482.86")
    assert alert.anomaly_start == datetime(2026, 3, 11, tzinfo=UTC)
    assert alert.root_causes[0].service == "AWS App Runner"
    assert alert.root_causes[0].region == "us-east-1"
    assert alert.details_link is not None
    assert alert.details_link.endswith(f"/anomalies/{ANOMALY_ID}")


def test_the_unknown_fixture_is_not_an_anomaly_alert() -> None:
    # Given the unknown-message fixture (a CloudWatch alarm, JSON without anomalyId)
    [message] = parse_sns_event(load_event("on_budget_alert", "unknown-message"))
    # When it is sniffed and parsed as an anomaly alert
    # Then it is not one
    assert not looks_like_anomaly_alert(message.message)
    with pytest.raises(UnparseableMessage) as raised:
        parse_anomaly_alert(message.message)
    assert raised.value.reason == "no 'anomalyId' key: not a Cost Anomaly Detection alert"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
_anomaly_like = st.fixed_dictionaries(
    {
        "anomalyId": _json_values,
        "impact": _json_values | st.fixed_dictionaries({"totalImpact": _json_values}),
    },
    optional={
        "anomalyScore": _json_values | st.fixed_dictionaries({"currentScore": _json_values}),
        "anomalyStartDate": _json_values,
        "anomalyEndDate": _json_values,
        "dimensionalValue": _json_values,
        "rootCauses": _json_values | st.lists(st.dictionaries(st.sampled_from(["service", "impact"]), _json_values)),
    },
).map(json.dumps)


@settings(deadline=None)
@given(text=st.text() | _json_values.map(json.dumps) | _anomaly_like)
def test_the_parser_raises_nothing_but_unparseable_message(text: str) -> None:
    # Given arbitrary text, JSON, or JSON shaped like an alert
    # When it is sniffed and parsed
    sniffed = looks_like_anomaly_alert(text)
    outcome: CostAnomalyAlert | UnparseableMessage
    try:
        outcome = parse_anomaly_alert(text)
    except UnparseableMessage as error:
        outcome = error
    # Then a failure is an UnparseableMessage with a reason, and a success has what is required
    if isinstance(outcome, UnparseableMessage):
        assert outcome.reason
    else:
        assert sniffed
        assert outcome.anomaly_id
        assert outcome.impact.total_impact.is_finite()
