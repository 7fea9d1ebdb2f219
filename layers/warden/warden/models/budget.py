"""AWS Budgets alerts, as delivered over SNS: a plain-text message, not JSON.

The layout (an illustration; the prose sentence varies and is not trusted):

    AWS Budget Notification March 03, 2026
    AWS Account 111122223333

    Dear AWS Customer,

    You requested that we alert you when the ACTUAL Cost associated with your demo-monthly budget ...

    Budget Name: demo-monthly
    Budget Type: Cost
    Budgeted Amount: $20.00
    Alert Type: ACTUAL
    Alert Threshold: > $16.00
    ACTUAL Amount: $17.42

    [1] https://console.aws.amazon.com/costmanagement/home#/budgets

The parser reads the `Key: value` lines and nothing else, except as a last resort for the amount
(`amount_source="prose"`). A percentage threshold arrives already converted to money, so the
percentage is derived: threshold / budgeted.
"""

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from warden.errors import UnparseableMessage
from warden.models.money import Money, parse_money, precision_for

_TENTH: Final = Decimal("0.1")
_HUNDRED: Final = Decimal(100)


class AlertType(StrEnum):
    ACTUAL = "ACTUAL"
    FORECASTED = "FORECASTED"


class BudgetAlert(BaseModel):
    """One AWS Budgets alert, read from the labelled lines of its notification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_name: str
    account_id: str | None
    alert_type: AlertType
    budget_type: str | None
    budgeted: Money
    threshold: Money
    comparison: str
    """The comparison shown before the threshold: ">" (the only one AWS is known to send), "<", "=",
    ">=", "<=", or "" when the line had none."""
    amount: Money
    """The ACTUAL or FORECASTED amount (which one is `alert_type`)."""
    amount_source: Literal["label", "prose"]
    notified_on: date | None

    @field_validator("budgeted")
    @classmethod
    def _budgeted_positive(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("the budgeted amount must be greater than zero")
        return value

    @property
    def threshold_percent(self) -> Decimal:
        """The threshold as a percentage of the budgeted amount, to one decimal place (80.0)."""
        return _percent(self.threshold.amount, self.budgeted.amount)

    @property
    def amount_percent(self) -> Decimal:
        """The ACTUAL or FORECASTED amount as a percentage of the budgeted amount, to one decimal place."""
        return _percent(self.amount.amount, self.budgeted.amount)


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    with localcontext() as context:
        # Room for every digit of the ratio (which can be far longer than either amount) and its rounding.
        context.prec = precision_for(part, whole) + max(0, part.adjusted() - whole.adjusted())
        return (part / whole * _HUNDRED).quantize(_TENTH, rounding=ROUND_HALF_UP)


# --- parsing ----------------------------------------------------------------------------------------

_MONTHS: Final[Mapping[str, int]] = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}

_HEADER_RE: Final = re.compile(r"AWS\s+Budget\s+Notification\b(?P<rest>.*)", re.IGNORECASE)
_DATE_RE: Final = re.compile(r"\b(?P<month>[A-Za-z]+)\s+(?P<day>[0-9]{1,2}),?\s+(?P<year>[0-9]{4})\b")
_ACCOUNT_RE: Final = re.compile(r"AWS\s++Account\s*+:?\s*+(?P<account>[0-9]{12})", re.IGNORECASE)
# A labelled line: a short key of letters and spaces, a colon, the value. The key is matched against
# the known labels below; any other key is ignored. Possessive `*+` keeps long padded lines linear.
_LABEL_RE: Final = re.compile(r"(?P<key>[A-Za-z](?:[A-Za-z ]{0,38}[A-Za-z])?)\s*+:\s*+(?P<value>.*)")
_THRESHOLD_RE: Final = re.compile(r"(?P<comparison>>=|<=|=>|=<|[<>=≥≤])?\s*(?P<amount>.+)")
_COMPARISONS: Final[Mapping[str, str]] = {
    "": "",
    ">": ">",
    "<": "<",
    "=": "=",
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
}
# "The ACTUAL Cost associated with this budget is $17.42." Only read when the labelled line is missing.
_PROSE_AMOUNT_RE: Final = re.compile(
    r"\bThe\s+(?P<type>ACTUAL|FORECASTED)\s+[A-Za-z]+(?:\s+[A-Za-z]+)?\s+associated\s+with\s+this\s+"
    r"budget\s+is\s+(?P<amount>-?\$\s?[0-9][0-9,]*(?:\.[0-9]+)?|[0-9][0-9,]*(?:\.[0-9]+)?(?:\s[A-Za-z][A-Za-z/-]*)?)",
    re.IGNORECASE,
)
_SNIFF_RE: Final = re.compile(r"\A\s*AWS\s+Budget\s+Notification\b|^[ \t]*Budget\s+Name\s*:", re.IGNORECASE | re.M)

_BUDGET_NAME: Final = "budget name"
_BUDGET_TYPE: Final = "budget type"
_BUDGETED_AMOUNT: Final = "budgeted amount"
_ALERT_TYPE: Final = "alert type"
_ALERT_THRESHOLD: Final = "alert threshold"
_AMOUNT_KEYS: Final[Mapping[AlertType, str]] = {
    AlertType.ACTUAL: "actual amount",
    AlertType.FORECASTED: "forecasted amount",
}
_KNOWN_KEYS: Final = frozenset(
    {_BUDGET_NAME, _BUDGET_TYPE, _BUDGETED_AMOUNT, _ALERT_TYPE, _ALERT_THRESHOLD, *_AMOUNT_KEYS.values()}
)
_LABELS: Final[Mapping[str, str]] = {
    _BUDGET_NAME: "Budget Name",
    _BUDGETED_AMOUNT: "Budgeted Amount",
    _ALERT_TYPE: "Alert Type",
    _ALERT_THRESHOLD: "Alert Threshold",
    "actual amount": "ACTUAL Amount",
    "forecasted amount": "FORECASTED Amount",
}


def looks_like_budget_notification(text: str) -> bool:
    """A cheap sniff: the text starts with "AWS Budget Notification" or has a "Budget Name:" line."""
    return _SNIFF_RE.search(text) is not None


def parse_budget_notification(text: str) -> BudgetAlert:
    """Read an AWS Budgets notification (the SNS `Message`). Raises `UnparseableMessage` with a reason."""
    if not text.strip():
        raise UnparseableMessage("message is empty")
    _reject_json(text)
    lines = [line.strip() for line in text.splitlines()]
    labels = _labelled_values(lines)

    budget_name = _required(labels, _BUDGET_NAME)
    budgeted = _money(labels, _BUDGETED_AMOUNT)
    if budgeted.amount <= 0:
        raise UnparseableMessage(f"Budgeted Amount '{_excerpt(labels[_BUDGETED_AMOUNT])}' is not greater than zero")
    alert_type = _alert_type(labels)
    comparison, threshold = _threshold(labels)
    amount, amount_source = _amount(labels, alert_type, text)

    try:
        return BudgetAlert(
            budget_name=budget_name,
            account_id=_account_id(lines),
            alert_type=alert_type,
            budget_type=labels.get(_BUDGET_TYPE) or None,
            budgeted=budgeted,
            threshold=threshold,
            comparison=comparison,
            amount=amount,
            amount_source=amount_source,
            notified_on=_notified_on(lines),
        )
    except ValidationError as error:  # pragma: no cover - every field is checked above
        raise UnparseableMessage(f"the budget alert is invalid: {error}") from None


def _excerpt(text: str, limit: int = 60) -> str:
    """`text`, cut short for a reason an operator reads (a hostile message can be 256 KB)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reject_json(text: str) -> None:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        if stripped.startswith("{"):
            raise UnparseableMessage(
                "message looks like JSON (though invalid), not an AWS Budgets plain-text notification"
            ) from None
        return  # "[1] https://..." and the like: let the line parser judge it
    if isinstance(document, dict) and "anomalyId" in document:
        raise UnparseableMessage(
            "message looks like JSON (a Cost Anomaly Detection alert), not an AWS Budgets notification"
        )
    if isinstance(document, dict | list):
        raise UnparseableMessage("message looks like JSON, not an AWS Budgets plain-text notification")


def _labelled_values(lines: list[str]) -> dict[str, str]:
    """The known `Key: value` lines, keyed by the lower-case key; the first of a repeated key wins."""
    labels: dict[str, str] = {}
    for line in lines:
        match = _LABEL_RE.fullmatch(line)
        if match is None:
            continue
        key = " ".join(match["key"].lower().split())
        if key in _KNOWN_KEYS and key not in labels:
            labels[key] = match["value"].strip()
    return labels


def _required(labels: Mapping[str, str], key: str) -> str:
    label = _LABELS[key]
    if key not in labels:
        raise UnparseableMessage(f"no '{label}:' line")
    value = labels[key]
    if not value:
        raise UnparseableMessage(f"the '{label}:' line is empty")
    return value


def _money(labels: Mapping[str, str], key: str) -> Money:
    value = _required(labels, key)
    try:
        return parse_money(value)
    except UnparseableMessage as error:
        raise UnparseableMessage(f"{_LABELS[key]} {error.reason}") from None


def _alert_type(labels: Mapping[str, str]) -> AlertType:
    value = _required(labels, _ALERT_TYPE)
    try:
        return AlertType(value.upper())
    except ValueError:
        raise UnparseableMessage(f"Alert Type '{_excerpt(value)}' is neither ACTUAL nor FORECASTED") from None


def _threshold(labels: Mapping[str, str]) -> tuple[str, Money]:
    value = _required(labels, _ALERT_THRESHOLD)
    match = _THRESHOLD_RE.fullmatch(value)
    if match is None:  # pragma: no cover - the pattern accepts any non-empty value
        raise UnparseableMessage(f"Alert Threshold '{_excerpt(value)}' is not a comparison and an amount")
    try:
        threshold = parse_money(match["amount"])
    except UnparseableMessage:
        raise UnparseableMessage(
            f"Alert Threshold '{_excerpt(value)}' is not a comparison and an amount such as '> $8.00'"
        ) from None
    return _COMPARISONS[match["comparison"] or ""], threshold


def _amount(labels: Mapping[str, str], alert_type: AlertType, text: str) -> tuple[Money, Literal["label", "prose"]]:
    key = _AMOUNT_KEYS[alert_type]
    if key in labels:
        return _money(labels, key), "label"
    for match in _PROSE_AMOUNT_RE.finditer(text):
        if match["type"].upper() == alert_type:
            try:
                return parse_money(match["amount"]), "prose"
            except UnparseableMessage:
                continue
    other = next(label for other_type, label in _AMOUNT_KEYS.items() if other_type != alert_type)
    if other in labels:
        raise UnparseableMessage(
            f"Alert Type is {alert_type} but the message has a '{_LABELS[other]}:' line and no '{_LABELS[key]}:' line"
        )
    raise UnparseableMessage(f"no '{_LABELS[key]}:' line")


def _account_id(lines: list[str]) -> str | None:
    for line in lines:
        match = _ACCOUNT_RE.match(line)
        if match is not None and line[match.end() :].strip() == "":
            return match["account"]
    return None


def _notified_on(lines: list[str]) -> date | None:
    header = next((line for line in lines if line), "")
    header_match = _HEADER_RE.match(header)
    if header_match is None:
        return None
    date_match = _DATE_RE.search(header_match["rest"])
    if date_match is None:
        return None
    month = _MONTHS.get(date_match["month"].lower())
    if month is None:
        return None
    try:
        return date(int(date_match["year"]), month, int(date_match["day"]))
    except ValueError:
        return None
