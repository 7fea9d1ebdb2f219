"""Numbers read from messages are bounded before anything formats them.

A Cost Anomaly alert with `"totalImpact": 1e999999999` once parsed as a Decimal and `f"{impact:,.2f}"` built a
1.3 GB string: out of memory in a 128 MB function, then retries and the failure queue. Every amount Warden
reads (Budgets text, the Budgets API, Cost Anomaly JSON) is now checked when it is parsed: non-finite values and
magnitudes beyond $1,000,000,000,000 are a clear parse error (the alert is forwarded verbatim), digits below
10^-12 are rounded away, so nothing downstream can build an unbounded string.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.events import budget_message
from tests.unit.test_budget_alert_usecase import World
from warden.errors import UnparseableMessage
from warden.models.anomaly import CostAnomalyAlert, parse_anomaly_alert
from warden.models.budget import parse_budget_notification
from warden.models.money import MAX_AMOUNT, Money, parse_money
from warden.usecases.budget_alert import Outcome

# Numbers as JSON or a person could write them, with the edge cases named: huge and tiny exponents, the
# non-finite literals Python's json accepts, a negative zero, thousands of digits.
SPECIAL_NUMBERS = [
    "1e999999999",
    "-1e999999999",
    "1E+999999999",
    "1e-999999",
    "1e-999999999",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "-0.0",
    "0e-999999",
    "1" + "0" * 4000,
    "0." + "0" * 5000 + "1",
    "9" * 13,
    "1e12",
    "1000000000000.01",
    "999999999999.99",
]
json_numbers = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,10})?", fullmatch=True),
)
# Budgets prints amounts without exponents, but nothing stops a message from carrying thousands of digits.
written_amounts = st.one_of(
    st.sampled_from(["$" + "9" * 5000, "$0." + "0" * 5000 + "1", "-$" + "1" * 300, "1" + "0" * 20 + " GB"]),
    st.from_regex(r"-?\$?(0|[1-9][0-9]{0,60})(\.[0-9]{0,60})?( GB| Hrs)?", fullmatch=True),
)
# Longer than any bounded amount renders, far shorter than what an unbounded one builds.
RENDERED_LIMIT = 64


def _anomaly(number: str) -> str:
    # The number is written into the JSON as it came, so that json.loads reads it as a number.
    return (
        '{"anomalyId": "a-1", "dimensionalValue": "AWS App Runner", "impact": {"totalImpact": '
        + number
        + ', "totalActualSpend": '
        + number
        + ', "totalExpectedSpend": 1.05, "maxImpact": '
        + number
        + "}}"
    )


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(number=json_numbers, pause_at=st.sampled_from(["", "25"]))
@example(number="1e999999999", pause_at="")
@example(number="1e999999999", pause_at="25")
def test_an_anomaly_alert_of_any_number_is_handled_with_a_bounded_notification(number: str, pause_at: str) -> None:
    # Given a Cost Anomaly alert whose impact is any number at all
    text = _anomaly(number)
    world = World(**({"ANOMALY_PAUSE_IMPACT_USD": pause_at} if pause_at else {}))
    # When on_budget_alert handles it
    outcome = world.deliver(text)
    # Then it ends in one notification no longer than the alert itself plus Warden's own words
    (sent,) = world.notifier.sent
    assert len(sent.subject) <= 99
    assert len(sent.body) <= len(text) + 8_000
    # And an implausible amount is forwarded verbatim with the reason, never acted on
    if outcome is Outcome.FORWARDED:
        assert "implausible" in sent.body or "not a finite number" in sent.body or "invalid" in sent.body
        assert world.service.mutations == []


def test_the_reported_anomaly_impact_is_forwarded_as_implausible_not_formatted() -> None:
    # Given the alert from the report: "totalImpact": 1e999999999
    world = World(ANOMALY_PAUSE_IMPACT_USD="25")
    # When it is handled
    outcome = world.deliver('{"anomalyId": "a-1", "impact": {"totalImpact": 1e999999999}}')
    # Then it is forwarded verbatim with the reason, and nothing is paused
    assert outcome is Outcome.FORWARDED
    (sent,) = world.notifier.sent
    assert "1e999999999" in sent.body
    assert "implausible" in sent.body
    assert world.service.mutations == []


@settings(deadline=None, max_examples=200)
@given(number=json_numbers)
def test_the_anomaly_parser_accepts_only_bounded_finite_numbers(number: str) -> None:
    # Given an alert carrying the number, When it is parsed
    outcome: CostAnomalyAlert | UnparseableMessage
    try:
        outcome = parse_anomaly_alert(_anomaly(number))
    except UnparseableMessage as error:
        outcome = error
    # Then a refusal is the parser's clear error
    if isinstance(outcome, UnparseableMessage):
        assert outcome.reason
        return
    # Or every amount is finite, at most a trillion dollars, and renders short
    impact = outcome.impact.total_impact
    assert impact.is_finite()
    assert abs(impact) <= MAX_AMOUNT
    assert len(f"{impact:,.2f}") <= RENDERED_LIMIT
    assert not (impact.is_zero() and impact.is_signed())


@settings(deadline=None, max_examples=300)
@given(text=written_amounts)
def test_parse_money_accepts_only_bounded_amounts_and_renders_them_short(text: str) -> None:
    # Given an amount written with any number of digits, When it is parsed and rendered
    outcome: Money | UnparseableMessage
    try:
        outcome = parse_money(text)
    except UnparseableMessage as error:
        outcome = error
    # Then a refusal is the parser's clear error, quoting the text only in part
    if isinstance(outcome, UnparseableMessage):
        assert len(outcome.reason) <= 200
        return
    money = outcome
    assert abs(money.amount) <= MAX_AMOUNT
    assert len(str(money)) <= RENDERED_LIMIT


@pytest.mark.parametrize("amount", ["9" * 5000, "1" + "0" * 13, "1000000000000.01"])
def test_a_budget_notification_with_an_implausible_amount_is_forwarded(amount: str) -> None:
    # Given a Budgets notification whose actual amount is beyond a trillion dollars
    world = World()
    text = budget_message(threshold="$10.00", amount=f"${amount}")
    # When it is handled, Then it is forwarded verbatim with the reason, and nothing is paused
    assert world.deliver(text) is Outcome.FORWARDED
    (sent,) = world.notifier.sent
    assert "implausible" in sent.body
    assert world.service.mutations == []


@pytest.mark.parametrize(
    "amount", [Decimal("1E+999999999"), Decimal("-1E+13"), Decimal("NaN"), Decimal("Infinity"), Decimal("sNaN")]
)
def test_money_refuses_non_finite_and_implausible_amounts_from_any_source(amount: Decimal) -> None:
    # Given an amount as the Budgets API adapter builds it, When Money is made from it, Then it is refused
    with pytest.raises(ValueError, match=r"finite|implausible"):
        Money(amount=amount)


@pytest.mark.parametrize(
    ("amount", "kept"),
    [
        (Decimal("1E-999999"), Decimal(0)),
        (Decimal("-0"), Decimal(0)),
        (Decimal("0.1234567890123456"), Decimal("0.123456789012")),
        (Decimal("1E+12"), Decimal("1E+12")),
        (Decimal("17.4212345678"), Decimal("17.4212345678")),
    ],
)
def test_money_keeps_twelve_decimal_places_and_no_negative_zero(amount: Decimal, kept: Decimal) -> None:
    money = Money(amount=amount)
    assert money.amount == kept
    assert not money.amount.is_signed() or money.amount < 0
    assert len(str(money)) <= RENDERED_LIMIT


def test_a_forwarded_number_is_not_expanded_in_the_reason() -> None:
    # Given an anomaly alert with a 4,000-digit integer impact
    with pytest.raises(UnparseableMessage) as raised:
        parse_anomaly_alert(json.dumps({"anomalyId": "a", "impact": {"totalImpact": int("1" + "0" * 3000)}}))
    # Then the reason is short
    assert len(raised.value.reason) <= 300


def test_a_budget_alert_with_a_tiny_budget_still_renders_its_percentages() -> None:
    # Given a budgeted amount of a trillionth of a dollar and the largest plausible amount
    text = budget_message(budgeted="$0.000000000001", threshold="$0.000000000001", amount="$1000000000000")
    alert = parse_budget_notification(text)
    # Then the percentages are computed and short
    assert len(str(alert.amount_percent)) <= RENDERED_LIMIT
