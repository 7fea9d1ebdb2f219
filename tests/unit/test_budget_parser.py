"""The AWS Budgets notification parser (plain text over SNS) and the Money it reads amounts into."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import budget_message, load_event
from warden.errors import UnparseableMessage
from warden.models.budget import (
    AlertType,
    BudgetAlert,
    looks_like_budget_notification,
    parse_budget_notification,
)
from warden.models.money import Money, parse_money
from warden.models.sns import parse_sns_event

# --- real-shaped notifications -------------------------------------------------------------------------
# As AWS Budgets delivers them in the SNS Message, including the odd ones seen in captures.

ACTUAL_OVER_80_PERCENT = """\
AWS Budget Notification March 03, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your demo-monthly budget is greater than $16.00 for the current month. The ACTUAL Cost associated with this budget is $17.42. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: demo-monthly
Budget Type: Cost
Budgeted Amount: $20.00
Alert Type: ACTUAL
Alert Threshold: > $16.00
ACTUAL Amount: $17.42

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

FORECASTED_OVER_100_PERCENT = """\
AWS Budget Notification March 05, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the FORECASTED Cost associated with your demo-monthly budget is greater than $20.00 for the current month. The FORECASTED Cost associated with this budget is $26.31. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: demo-monthly
Budget Type: Cost
Budgeted Amount: $20.00
Alert Type: FORECASTED
Alert Threshold: > $20.00
FORECASTED Amount: $26.31

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

# A real capture: the amount has one decimal, and the prose ($1.03) disagrees with the label ($0.5).
HALF_DOLLAR_FORECAST_CAPTURE = """\
AWS Budget Notification February 11, 2026
AWS Account 444455556666

Dear AWS Customer,

You requested that we alert you when the FORECASTED Cost associated with your sandbox-tiny budget is greater than $0.40 for the current month. The FORECASTED Cost associated with this budget is $1.03. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: sandbox-tiny
Budget Type: Cost
Budgeted Amount: $0.50
Alert Type: FORECASTED
Alert Threshold: > $0.40
FORECASTED Amount: $0.5

[1] https://console.aws.amazon.com/billing/home#/budgets
"""  # noqa: E501

THOUSANDS_SEPARATORS = """\
AWS Budget Notification January 28, 2026
AWS Account 777788889999

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your platform-quarterly budget is greater than $10,000.00 for the current quarter. The ACTUAL Cost associated with this budget is $10,234.56. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: platform-quarterly
Budget Type: Cost
Budgeted Amount: $12,500.00
Alert Type: ACTUAL
Alert Threshold: > $10,000.00
ACTUAL Amount: $10,234.56

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

USAGE_IN_GIGABYTES = """\
AWS Budget Notification March 14, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the ACTUAL Usage associated with your s3-egress-usage budget is greater than 80.00 GB for the current month. The ACTUAL Usage associated with this budget is 85.5 GB. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: s3-egress-usage
Budget Type: Usage
Budgeted Amount: 100.00 GB
Alert Type: ACTUAL
Alert Threshold: > 80.00 GB
ACTUAL Amount: 85.5 GB

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

USAGE_IN_HOURS = """\
AWS Budget Notification March 21, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the FORECASTED Usage associated with your ec2-hours budget is greater than 90 Hrs for the current month. The FORECASTED Usage associated with this budget is 112 Hrs. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: ec2-hours
Budget Type: Usage
Budgeted Amount: 100 Hrs
Alert Type: FORECASTED
Alert Threshold: > 90 Hrs
FORECASTED Amount: 112 Hrs

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

# Older notifications linked to the Billing console; the 2026 ones link to Cost Management.
OLD_FOOTER = """\
AWS Budget Notification November 02, 2024
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your legacy-monthly budget is greater than $24.00 for the current month. The ACTUAL Cost associated with this budget is $24.81. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: legacy-monthly
Budget Type: Cost
Budgeted Amount: $30.00
Alert Type: ACTUAL
Alert Threshold: > $24.00
ACTUAL Amount: $24.81

[1] https://console.aws.amazon.com/billing/home#/budgets
"""  # noqa: E501

# Extra blank lines, indentation, trailing spaces, and labelled lines the parser does not know.
UNTIDY_WITH_UNKNOWN_LINES = """\


   AWS Budget Notification March 07, 2026\x20\x20\x20
AWS Account 111122223333


Dear AWS Customer,



You requested that we alert you when the ACTUAL Cost associated with your untidy-monthly budget is greater than $0.16 for the current month. The ACTUAL Cost associated with this budget is $0.19. You can find additional details below and by accessing the AWS Budgets dashboard [1].

  Budget Name: untidy-monthly\x20\x20
Budget Period: Monthly
Budget Type:    Cost

Budgeted Amount: $0.20
Cost Filters: Service=AWS App Runner
Alert Type: ACTUAL\x20\x20\x20
Alert Threshold: > $0.16
Notification Id: 3f1c9e2a-6b7d-4e80-91a2-c5d4e3f2a1b0
ACTUAL Amount: $0.19


[1] https://console.aws.amazon.com/costmanagement/home#/budgets


"""  # noqa: E501

LONG_NAME = "Consultation App production spend for all regions and linked accounts - monthly cap v2 (team ops) Q1"

LONG_NAME_WITH_SPACES = f"""\
AWS Budget Notification March 30, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your {LONG_NAME} budget is greater than $50.00 for the current month. The ACTUAL Cost associated with this budget is $51.20. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: {LONG_NAME}
Budget Type: Cost
Budgeted Amount: $50.00
Alert Type: ACTUAL
Alert Threshold: > $50.00
ACTUAL Amount: $51.20

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

WITHOUT_ACCOUNT_LINE = """\
AWS Budget Notification March 03, 2026

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your demo-monthly budget is greater than $16.00 for the current month. The ACTUAL Cost associated with this budget is $17.42. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: demo-monthly
Budget Type: Cost
Budgeted Amount: $20.00
Alert Type: ACTUAL
Alert Threshold: > $16.00
ACTUAL Amount: $17.42

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

# The labelled amount line is missing; only the prose says how much.
PROSE_ONLY_AMOUNT = """\
AWS Budget Notification March 03, 2026
AWS Account 111122223333

Dear AWS Customer,

You requested that we alert you when the ACTUAL Cost associated with your demo-monthly budget is greater than $16.00 for the current month. The ACTUAL Cost associated with this budget is $17.42. You can find additional details below and by accessing the AWS Budgets dashboard [1].

Budget Name: demo-monthly
Budget Type: Cost
Budgeted Amount: $20.00
Alert Type: ACTUAL
Alert Threshold: > $16.00

[1] https://console.aws.amazon.com/costmanagement/home#/budgets
"""  # noqa: E501

PARSEABLE_MESSAGES = {
    "actual": ACTUAL_OVER_80_PERCENT,
    "forecasted": FORECASTED_OVER_100_PERCENT,
    "half-dollar capture": HALF_DOLLAR_FORECAST_CAPTURE,
    "thousands": THOUSANDS_SEPARATORS,
    "usage GB": USAGE_IN_GIGABYTES,
    "usage Hrs": USAGE_IN_HOURS,
    "old footer": OLD_FOOTER,
    "untidy": UNTIDY_WITH_UNKNOWN_LINES,
    "long name": LONG_NAME_WITH_SPACES,
    "no account": WITHOUT_ACCOUNT_LINE,
    "prose only": PROSE_ONLY_AMOUNT,
}


def _without_line(text: str, prefix: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(prefix))


def _replace_line(text: str, prefix: str, new_line: str) -> str:
    return "\n".join(new_line if line.startswith(prefix) else line for line in text.split("\n"))


# --- reading the fields --------------------------------------------------------------------------------


def test_actual_alert_reads_every_labelled_field() -> None:
    # Given the ACTUAL notification from the documented layout
    # When it is parsed
    alert = parse_budget_notification(ACTUAL_OVER_80_PERCENT)
    # Then every labelled line is read, and the amount comes from its label
    assert alert == BudgetAlert(
        budget_name="demo-monthly",
        account_id="111122223333",
        alert_type=AlertType.ACTUAL,
        budget_type="Cost",
        budgeted=Money(amount=Decimal("20.00")),
        threshold=Money(amount=Decimal("16.00")),
        comparison=">",
        amount=Money(amount=Decimal("17.42")),
        amount_source="label",
        notified_on=date(2026, 3, 3),
    )
    assert alert.threshold_percent == Decimal("80.0")
    assert alert.amount_percent == Decimal("87.1")


def test_forecasted_alert_reads_the_forecasted_amount() -> None:
    # Given a FORECASTED notification, whose amount line is "FORECASTED Amount:"
    # When it is parsed
    alert = parse_budget_notification(FORECASTED_OVER_100_PERCENT)
    # Then the alert is FORECASTED and its amount is the forecast
    assert alert.alert_type is AlertType.FORECASTED
    assert alert.amount == Money(amount=Decimal("26.31"))
    assert alert.amount_source == "label"
    assert alert.threshold_percent == Decimal("100.0")
    assert alert.amount_percent == Decimal("131.6")


def test_an_amount_with_one_decimal_is_read_exactly() -> None:
    # Given the real capture whose label says "$0.5"
    # When it is parsed
    alert = parse_budget_notification(HALF_DOLLAR_FORECAST_CAPTURE)
    # Then the amount is fifty cents, shown with two decimals
    assert alert.amount.amount == Decimal("0.5")
    assert str(alert.amount) == "$0.50"


def test_the_labelled_amount_wins_when_the_prose_disagrees() -> None:
    # Given the real capture whose prose says $1.03 while its label says $0.5
    # When it is parsed
    alert = parse_budget_notification(HALF_DOLLAR_FORECAST_CAPTURE)
    # Then the label is trusted, not the prose
    assert alert.amount == Money(amount=Decimal("0.5"))
    assert alert.amount_source == "label"
    assert alert.amount_percent == Decimal("100.0")


def test_thousands_separators_are_read() -> None:
    # Given amounts written with thousands separators
    # When the notification is parsed
    alert = parse_budget_notification(THOUSANDS_SEPARATORS)
    # Then the separators are ignored and the amounts are exact
    assert alert.budgeted.amount == Decimal("12500.00")
    assert alert.threshold.amount == Decimal("10000.00")
    assert alert.amount.amount == Decimal("10234.56")
    assert alert.threshold_percent == Decimal("80.0")
    assert str(alert.amount) == "$10,234.56"


def test_usage_budget_amounts_keep_their_gigabyte_unit() -> None:
    # Given a USAGE budget measured in GB
    # When it is parsed
    alert = parse_budget_notification(USAGE_IN_GIGABYTES)
    # Then the amounts keep their unit and the percentages still work
    assert alert.budget_type == "Usage"
    assert alert.budgeted == Money(amount=Decimal("100.00"), unit="GB")
    assert alert.threshold == Money(amount=Decimal("80.00"), unit="GB")
    assert alert.amount == Money(amount=Decimal("85.5"), unit="GB")
    assert alert.threshold_percent == Decimal("80.0")
    assert str(alert.budgeted) == "100 GB"


def test_usage_budget_amounts_keep_their_hours_unit() -> None:
    # Given a FORECASTED USAGE budget measured in Hrs, with whole numbers
    # When it is parsed
    alert = parse_budget_notification(USAGE_IN_HOURS)
    # Then the amounts are read with their unit
    assert alert.alert_type is AlertType.FORECASTED
    assert alert.budgeted == Money(amount=Decimal(100), unit="Hrs")
    assert alert.amount == Money(amount=Decimal(112), unit="Hrs")
    assert alert.amount_percent == Decimal("112.0")


def test_windows_line_endings_read_the_same_as_unix_ones() -> None:
    # Given the same notification with CRLF line endings
    crlf = ACTUAL_OVER_80_PERCENT.replace("\n", "\r\n")
    # When both are parsed
    # Then they give the same alert
    assert "\r\n" in crlf
    assert parse_budget_notification(crlf) == parse_budget_notification(ACTUAL_OVER_80_PERCENT)


def test_blank_lines_spaces_and_unknown_lines_are_tolerated() -> None:
    # Given a notification with extra blank lines, stray spaces and labelled lines nobody knows
    # When it is parsed
    alert = parse_budget_notification(UNTIDY_WITH_UNKNOWN_LINES)
    # Then the known lines are read and the rest is ignored
    assert alert.budget_name == "untidy-monthly"
    assert alert.budget_type == "Cost"
    assert alert.account_id == "111122223333"
    assert alert.alert_type is AlertType.ACTUAL
    assert alert.amount == Money(amount=Decimal("0.19"))
    assert alert.notified_on == date(2026, 3, 7)


@pytest.mark.parametrize(
    ("message", "footer"),
    [
        (OLD_FOOTER, "https://console.aws.amazon.com/billing/home#/budgets"),
        (ACTUAL_OVER_80_PERCENT, "https://console.aws.amazon.com/costmanagement/home#/budgets"),
    ],
    ids=["billing footer (older)", "costmanagement footer (2026)"],
)
def test_old_and_new_footer_links_both_parse(message: str, footer: str) -> None:
    # Given a notification ending with either console link
    assert footer in message
    # When it is parsed
    alert = parse_budget_notification(message)
    # Then the alert is read regardless of the link
    assert alert.alert_type is AlertType.ACTUAL
    assert alert.threshold_percent == Decimal("80.0")


@pytest.mark.parametrize(
    ("budgeted", "threshold", "percent"),
    [
        ("$30.00", "$24.00", Decimal("80.0")),
        ("$0.20", "$0.16", Decimal("80.0")),
        ("$10.00", "$10.00", Decimal("100.0")),
        ("$0.30", "$0.17", Decimal("56.7")),
        ("$3.00", "$4.50", Decimal("150.0")),
    ],
)
def test_threshold_percent_is_derived_from_the_money_amounts(budgeted: str, threshold: str, percent: Decimal) -> None:
    # Given a percentage threshold that AWS printed already converted to money
    message = budget_message(budgeted=budgeted, threshold=threshold)
    # When it is parsed
    alert = parse_budget_notification(message)
    # Then the percentage is threshold / budgeted, to one decimal place
    assert alert.threshold_percent == percent


def test_thirty_dollars_at_24_and_twenty_cents_at_16_are_both_eighty_percent() -> None:
    # Given the two documented conversions: $30.00 at 80 % and $0.20 at 80 %
    thirty = parse_budget_notification(OLD_FOOTER)
    twenty_cents = parse_budget_notification(UNTIDY_WITH_UNKNOWN_LINES)
    # When their percentages are derived
    # Then both are 80.0
    assert (thirty.budgeted, thirty.threshold) == (Money(amount=Decimal(30)), Money(amount=Decimal(24)))
    assert thirty.threshold_percent == Decimal("80.0")
    assert twenty_cents.threshold_percent == Decimal("80.0")


def test_a_hundred_character_name_with_spaces_is_read_from_the_body() -> None:
    # Given a 100-character budget name with spaces (the subject would truncate it)
    assert len(LONG_NAME) == 100
    # When the notification is parsed
    alert = parse_budget_notification(LONG_NAME_WITH_SPACES)
    # Then the whole name is read from the "Budget Name:" line
    assert alert.budget_name == LONG_NAME


def test_a_missing_account_line_leaves_the_account_unknown() -> None:
    # Given a notification without its "AWS Account" line
    # When it is parsed
    alert = parse_budget_notification(WITHOUT_ACCOUNT_LINE)
    # Then the account is None and everything else is read
    assert alert.account_id is None
    assert alert.budget_name == "demo-monthly"
    assert alert.amount == Money(amount=Decimal("17.42"))


def test_a_missing_or_odd_date_leaves_the_date_unknown() -> None:
    # Given notifications without a date, or with an impossible one
    undated = budget_message(date=None)
    impossible = budget_message(date="February 30, 2026")
    # When they are parsed
    # Then the date is None
    assert parse_budget_notification(undated).notified_on is None
    assert parse_budget_notification(impossible).notified_on is None


def test_the_amount_falls_back_to_the_prose_and_says_so() -> None:
    # Given a notification whose "ACTUAL Amount:" line is missing but whose prose has the amount
    # When it is parsed
    alert = parse_budget_notification(PROSE_ONLY_AMOUNT)
    # Then the amount comes from the prose, and the alert records that
    assert alert.amount == Money(amount=Decimal("17.42"))
    assert alert.amount_source == "prose"


def test_a_missing_budget_type_is_none() -> None:
    # Given a notification without a "Budget Type:" line
    message = budget_message(budget_type=None)
    # When it is parsed
    alert = parse_budget_notification(message)
    # Then the budget type is None
    assert alert.budget_type is None


@pytest.mark.parametrize(
    ("line", "comparison", "amount"),
    [
        ("Alert Threshold: > $8.00", ">", Decimal("8.00")),
        ("Alert Threshold: < $8.00", "<", Decimal("8.00")),
        ("Alert Threshold: = $8.00", "=", Decimal("8.00")),
        ("Alert Threshold: >= $8.00", ">=", Decimal("8.00")),
        ("Alert Threshold: <= $8.00", "<=", Decimal("8.00")),
        ("Alert Threshold: $8.00", "", Decimal("8.00")),
        ("Alert Threshold: >$8", ">", Decimal(8)),
    ],
)
def test_the_threshold_comparison_is_recorded(line: str, comparison: str, amount: Decimal) -> None:
    # Given a threshold line with one of the comparisons (AWS has only been seen sending ">")
    message = _replace_line(budget_message(), "Alert Threshold:", line)
    # When it is parsed
    alert = parse_budget_notification(message)
    # Then the comparison and the amount are read
    assert alert.comparison == comparison
    assert alert.threshold.amount == amount


def test_every_real_shaped_message_is_recognised_as_a_budget_notification() -> None:
    # Given all the real-shaped notifications above
    # When they are sniffed
    # Then each one looks like a budget notification and parses
    for name, message in PARSEABLE_MESSAGES.items():
        assert looks_like_budget_notification(message), name
        assert isinstance(parse_budget_notification(message), BudgetAlert), name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        '{"anomalyId": "e83b5c17"}',
        "Your AWS bill is ready.",
        "AWS Account 111122223333\nBudget: demo",
    ],
)
def test_other_texts_do_not_look_like_budget_notifications(text: str) -> None:
    # Given a text that is no budget notification
    # When it is sniffed
    # Then it is not taken for one
    assert not looks_like_budget_notification(text)


def test_a_budget_name_line_alone_is_enough_for_the_sniff() -> None:
    # Given a text without the usual header but with a "Budget Name:" line
    text = "Something\n  Budget Name: demo-monthly\n"
    # When it is sniffed
    # Then it looks like a budget notification
    assert looks_like_budget_notification(text)


# --- rejections ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "message is empty"),
        ("  \r\n\n\t ", "message is empty"),
        (_without_line(ACTUAL_OVER_80_PERCENT, "Budget Name:"), "no 'Budget Name:' line"),
        (
            _replace_line(ACTUAL_OVER_80_PERCENT, "Budget Name:", "Budget Name:"),
            "the 'Budget Name:' line is empty",
        ),
        (_without_line(ACTUAL_OVER_80_PERCENT, "Budgeted Amount:"), "no 'Budgeted Amount:' line"),
        (
            _replace_line(ACTUAL_OVER_80_PERCENT, "Budgeted Amount:", "Budgeted Amount: $abc"),
            "Budgeted Amount '$abc' is not a number",
        ),
        (
            _replace_line(ACTUAL_OVER_80_PERCENT, "Budgeted Amount:", "Budgeted Amount: $0.00"),
            "Budgeted Amount '$0.00' is not greater than zero",
        ),
        (
            _replace_line(ACTUAL_OVER_80_PERCENT, "Budgeted Amount:", "Budgeted Amount: -$5.00"),
            "Budgeted Amount '-$5.00' is not greater than zero",
        ),
        (_without_line(ACTUAL_OVER_80_PERCENT, "Alert Type:"), "no 'Alert Type:' line"),
        (
            _replace_line(ACTUAL_OVER_80_PERCENT, "Alert Type:", "Alert Type: WEEKLY"),
            "Alert Type 'WEEKLY' is neither ACTUAL nor FORECASTED",
        ),
        (_without_line(PROSE_ONLY_AMOUNT, "You requested"), "no 'ACTUAL Amount:' line"),
        (_without_line(ACTUAL_OVER_80_PERCENT, "Alert Threshold:"), "no 'Alert Threshold:' line"),
    ],
    ids=[
        "empty",
        "blank",
        "no budget name",
        "empty budget name",
        "no budgeted amount",
        "budgeted amount not a number",
        "budgeted amount zero",
        "budgeted amount negative",
        "no alert type",
        "unknown alert type",
        "no amount",
        "no threshold",
    ],
)
def test_a_message_missing_what_matters_is_rejected_with_a_readable_reason(text: str, reason: str) -> None:
    # Given a message lacking (or garbling) a field the alert cannot do without
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(text)
    # Then it is rejected with a reason an operator can read
    assert raised.value.reason == reason


def test_a_threshold_that_is_not_an_amount_is_rejected() -> None:
    # Given a threshold line holding no amount
    message = _replace_line(ACTUAL_OVER_80_PERCENT, "Alert Threshold:", "Alert Threshold: > lots")
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(message)
    # Then the reason quotes the threshold
    assert raised.value.reason == "Alert Threshold '> lots' is not a comparison and an amount such as '> $8.00'"


def test_a_huge_value_is_quoted_only_in_part() -> None:
    # Given a hostile message whose budgeted amount is 100,000 characters long
    message = _replace_line(ACTUAL_OVER_80_PERCENT, "Budgeted Amount:", "Budgeted Amount: $" + "9" * 100_000 + "!")
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(message)
    # Then the reason quotes an excerpt, not the whole value
    assert raised.value.reason.startswith("Budgeted Amount '$999")
    assert raised.value.reason.endswith("…' is not a number")
    assert len(raised.value.reason) < 120


def test_an_amount_line_of_the_other_alert_type_is_not_taken_for_this_one() -> None:
    # Given an ACTUAL alert whose only amount line (and prose) is a FORECASTED one
    message = _without_line(
        _replace_line(ACTUAL_OVER_80_PERCENT, "ACTUAL Amount:", "FORECASTED Amount: $17.42"), "You requested"
    )
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(message)
    # Then it is rejected rather than mixing a forecast into actual spend
    assert raised.value.reason == (
        "Alert Type is ACTUAL but the message has a 'FORECASTED Amount:' line and no 'ACTUAL Amount:' line"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '{"Budget Name": "demo-monthly"}',
            "message looks like JSON, not an AWS Budgets plain-text notification",
        ),
        ("[1, 2, 3]", "message looks like JSON, not an AWS Budgets plain-text notification"),
        (
            '{"anomalyId": "e83b5c17", "impact": {"totalImpact": 5}}',
            "message looks like JSON (a Cost Anomaly Detection alert), not an AWS Budgets notification",
        ),
        (
            '{"Budget Name": ',
            "message looks like JSON (though invalid), not an AWS Budgets plain-text notification",
        ),
    ],
)
def test_json_is_rejected_as_not_a_budgets_message(text: str, reason: str) -> None:
    # Given a JSON message (Budgets notifications are plain text)
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(text)
    # Then the reason says it looks like JSON
    assert raised.value.reason == reason


# --- the fixtures under events/on_budget_alert ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "alert_type", "threshold", "amount", "threshold_percent", "amount_percent", "notified_on"),
    [
        ("budget-actual-80-percent", AlertType.ACTUAL, "8.00", "8.13", "80.0", "81.3", date(2026, 3, 18)),
        (
            "budget-actual-100-percent",
            AlertType.ACTUAL,
            "10.00",
            "10.42",
            "100.0",
            "104.2",
            date(2026, 3, 24),
        ),
        (
            "budget-forecasted-100-percent",
            AlertType.FORECASTED,
            "10.00",
            "12.87",
            "100.0",
            "128.7",
            date(2026, 3, 9),
        ),
    ],
)
def test_the_budget_fixtures_parse_to_their_documented_values(
    fixture: str,
    alert_type: AlertType,
    threshold: str,
    amount: str,
    threshold_percent: str,
    amount_percent: str,
    notified_on: date,
) -> None:
    # Given a budget fixture, an SNS -> Lambda event
    event = load_event("on_budget_alert", fixture)
    # When its single SNS message is parsed as a budget notification
    [message] = parse_sns_event(event)
    assert looks_like_budget_notification(message.message)
    alert = parse_budget_notification(message.message)
    # Then it is the consultation-app budget with the fixture's figures
    assert alert.budget_name == "consultation-app-monthly"
    assert alert.account_id == "123456789012"
    assert alert.budget_type == "Cost"
    assert alert.budgeted == Money(amount=Decimal("10.00"))
    assert alert.alert_type is alert_type
    assert alert.comparison == ">"
    assert alert.threshold == Money(amount=Decimal(threshold))
    assert alert.amount == Money(amount=Decimal(amount))
    assert alert.amount_source == "label"
    assert alert.threshold_percent == Decimal(threshold_percent)
    assert alert.amount_percent == Decimal(amount_percent)
    assert alert.notified_on == notified_on


def test_the_malformed_fixture_is_rejected_for_its_missing_amounts() -> None:
    # Given the malformed fixture: Budgets-looking text without its amount lines
    [message] = parse_sns_event(load_event("on_budget_alert", "malformed-budget"))
    assert looks_like_budget_notification(message.message)
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(message.message)
    # Then the first missing amount is named
    assert raised.value.reason == "no 'Budgeted Amount:' line"


def test_the_unknown_fixture_is_not_taken_for_a_budget_notification() -> None:
    # Given the unknown-message fixture (a CloudWatch alarm on the same topic)
    [message] = parse_sns_event(load_event("on_budget_alert", "unknown-message"))
    # When it is sniffed and parsed as a budget notification
    # Then it does not look like one and is rejected as JSON
    assert not looks_like_budget_notification(message.message)
    with pytest.raises(UnparseableMessage) as raised:
        parse_budget_notification(message.message)
    assert raised.value.reason == "message looks like JSON, not an AWS Budgets plain-text notification"


# --- Money ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("$10.42", Money(amount=Decimal("10.42"))),
        ("$0.5", Money(amount=Decimal("0.5"))),
        ("$1,234.56", Money(amount=Decimal("1234.56"))),
        ("$1234.56", Money(amount=Decimal("1234.56"))),
        ("  $8  ", Money(amount=Decimal(8))),
        ("-$3.00", Money(amount=Decimal("-3.00"))),
        ("12.00 USD", Money(amount=Decimal("12.00"))),
        ("100.00 GB", Money(amount=Decimal("100.00"), unit="GB")),
        ("100 Hrs", Money(amount=Decimal(100), unit="Hrs")),
        ("2.5 GB-Mo", Money(amount=Decimal("2.5"), unit="GB-Mo")),
        ("42", Money(amount=Decimal(42), unit="")),
    ],
)
def test_parse_money_reads_amounts_as_aws_prints_them(text: str, money: Money) -> None:
    # Given an amount as AWS prints it
    # When it is parsed
    parsed = parse_money(text)
    # Then the decimal value and unit are exact
    assert parsed == money


@pytest.mark.parametrize("text", ["", "$", "$abc", "1,23", "$1,2345", "1e5", "$10 GB", "ten dollars", "$1.2.3"])
def test_parse_money_rejects_what_is_not_one_amount(text: str) -> None:
    # Given a text that is not one amount
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_money(text)
    # Then the reason quotes it
    assert text.strip() in raised.value.reason


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(amount=Decimal("10.42")), "$10.42"),
        (Money(amount=Decimal("0.5")), "$0.50"),
        (Money(amount=Decimal("1234567.891")), "$1,234,567.89"),
        (Money(amount=Decimal("0.005")), "$0.01"),
        (Money(amount=Decimal("-3")), "-$3.00"),
        (Money(amount=Decimal("100.50"), unit="GB"), "100.5 GB"),
        (Money(amount=Decimal("1E+3"), unit="Hrs"), "1,000 Hrs"),
        (Money(amount=Decimal("42"), unit=""), "42"),
    ],
)
def test_money_prints_dollars_with_cents_and_other_units_plainly(money: Money, shown: str) -> None:
    # Given an amount
    # When it is printed
    # Then dollars have two decimals and separators; other units keep their significant digits
    assert str(money) == shown


def test_money_rejects_infinity_and_nan() -> None:
    # Given amounts that are not finite
    # When Money is built from them
    # Then pydantic refuses them
    for bad in (Decimal("Infinity"), Decimal("NaN")):
        with pytest.raises(ValueError, match="finite"):
            Money(amount=bad)


def test_a_budget_alert_cannot_be_built_with_a_zero_budget() -> None:
    # Given a zero budgeted amount, which would make the percentages meaningless
    # When a BudgetAlert is built with it
    # Then it is refused
    with pytest.raises(ValueError, match="greater than zero"):
        BudgetAlert(
            budget_name="demo",
            account_id=None,
            alert_type=AlertType.ACTUAL,
            budget_type=None,
            budgeted=Money(amount=Decimal(0)),
            threshold=Money(amount=Decimal(0)),
            comparison=">",
            amount=Money(amount=Decimal(1)),
            amount_source="label",
            notified_on=None,
        )


# --- properties ----------------------------------------------------------------------------------------

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July")
_MONTH_NAMES += ("August", "September", "October", "November", "December")

# Budget names: 1-100 characters, no ':' or '\'. Leading and trailing spaces are not kept (the
# parser strips lines), and line breaks cannot occur in a one-line label.
_names = (
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters=":\\"),
        min_size=1,
        max_size=100,
    )
    .map(str.strip)
    .filter(bool)
)
_cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
_cents_or_zero = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999999.99"), places=2)


@st.composite
def _written_amounts(draw: st.DrawFn, value: Decimal, unit: str) -> str:
    """`value` written one of the ways AWS writes amounts."""
    style = draw(st.sampled_from(["cents", "separators", "minimal"]))
    if style == "cents":
        number = f"{value:.2f}"
    elif style == "separators":
        number = f"{value:,.2f}"
    else:
        number = f"{value.normalize():f}"
    return f"${number}" if unit == "USD" else f"{number} {unit}"


@settings(deadline=None)
@given(
    name=_names,
    budgeted=_cents,
    threshold=_cents_or_zero,
    amount=_cents_or_zero,
    unit=st.sampled_from(["USD", "GB", "Hrs"]),
    alert_type=st.sampled_from(AlertType),
    account=st.none() | st.from_regex(r"[0-9]{12}", fullmatch=True),
    day=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    comparison=st.sampled_from([">", "<", "=", ">=", "<=", ""]),
    budget_type=st.sampled_from(["Cost", "Usage", "RI Utilization", "Savings Plans Coverage", None]),
    data=st.data(),
)
def test_a_rendered_notification_round_trips_through_the_parser(
    name: str,
    budgeted: Decimal,
    threshold: Decimal,
    amount: Decimal,
    unit: str,
    alert_type: AlertType,
    account: str | None,
    day: date | None,
    comparison: str,
    budget_type: str | None,
    data: st.DataObject,
) -> None:
    # Given a notification rendered from random valid fields
    message = budget_message(
        name=name,
        budgeted=data.draw(_written_amounts(budgeted, unit)),
        threshold=data.draw(_written_amounts(threshold, unit)),
        amount=data.draw(_written_amounts(amount, unit)),
        alert_type=alert_type.value,
        account=account,
        date=None if day is None else f"{_MONTH_NAMES[day.month - 1]} {day.day:02d}, {day.year}",
        comparison=comparison,
        budget_type=budget_type,
    )
    # When it is parsed
    alert = parse_budget_notification(message)
    # Then every field comes back exactly
    assert alert.budget_name == name
    assert alert.budgeted == Money(amount=budgeted, unit=unit)
    assert alert.threshold == Money(amount=threshold, unit=unit)
    assert alert.amount == Money(amount=amount, unit=unit)
    assert alert.amount_source == "label"
    assert alert.alert_type is alert_type
    assert alert.account_id == account
    assert alert.notified_on == day
    assert alert.comparison == comparison
    assert alert.budget_type == budget_type
    assert abs(alert.threshold_percent - threshold / budgeted * 100) <= Decimal("0.05")
    assert abs(alert.amount_percent - amount / budgeted * 100) <= Decimal("0.05")


_KEYS = [
    "Budget Name",
    "Budget Type",
    "Budgeted Amount",
    "Alert Type",
    "Alert Threshold",
    "ACTUAL Amount",
    "FORECASTED Amount",
    "AWS Account",
]
_labelled_lines = st.builds(
    lambda key, value: f"{key}: {value}",
    st.sampled_from(_KEYS),
    st.one_of(
        st.text(max_size=20),
        st.from_regex(r"[<>=]{0,2} ?-?\$?[0-9,]{1,8}(\.[0-9]{0,3})?( [A-Za-z]{1,4})?", fullmatch=True),
        st.sampled_from(["ACTUAL", "FORECASTED", "actual", "$0", "$-1"]),
    ),
)
_message_like_text = st.lists(
    st.one_of(_labelled_lines, st.text(max_size=30), st.just("AWS Budget Notification March 03, 2026")),
    max_size=12,
).map("\n".join)


@settings(deadline=None)
@given(text=st.one_of(st.text(), _message_like_text))
def test_the_parser_raises_nothing_but_unparseable_message(text: str) -> None:
    # Given arbitrary text, some of it shaped like a notification
    # When it is sniffed and parsed
    looks_like_budget_notification(text)
    outcome: BudgetAlert | UnparseableMessage
    try:
        outcome = parse_budget_notification(text)
    except UnparseableMessage as error:
        outcome = error
    # Then a failure is an UnparseableMessage with a reason, and a success a whole alert
    if isinstance(outcome, UnparseableMessage):
        assert outcome.reason
    else:
        assert outcome.budgeted.amount > 0
        assert isinstance(outcome.threshold_percent, Decimal)
        assert isinstance(outcome.amount_percent, Decimal)
