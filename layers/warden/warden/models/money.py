"""An amount of money (or of usage, for USAGE budgets) as AWS writes it in its notifications.

AWS Budgets prints amounts such as `$17.42`, `$0.5`, `$1,234.56`, `100.00 GB` or `100 Hrs`.
`parse_money` reads those; `Money` keeps the exact decimal value and the unit.
"""

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Final

from pydantic import BaseModel, ConfigDict, field_validator

from warden.errors import UnparseableMessage

USD: Final = "USD"

_CENT: Final = Decimal("0.01")

# Bounds every amount is held to when it is read, before anything formats it: `f"{x:,.2f}"` of 1E+999999999
# builds a billion-character string. A trillion dollars is far beyond any bill Warden guards, and twelve
# decimal places are more than Budgets (ten) or Cost Explorer print.
MAX_AMOUNT: Final = Decimal(10) ** 12
_SMALLEST: Final = Decimal("1E-12")
_SMALLEST_EXPONENT: Final = -12
_BOUNDED: Final = Context(prec=40, rounding=ROUND_HALF_UP)

# An optional sign, an optional `$`, a number with optional `,` thousands separators (strictly in
# groups of three) and an optional fraction, then an optional unit of one or two words (GB, Hrs, GB-Mo).
# Possessive quantifiers (`*+`, `?+`) keep the match linear however the text is padded.
_MONEY_RE: Final = re.compile(
    r"""
    (?P<sign>-)?+\s*+
    (?P<dollar>\$)?+\s*+
    (?P<sign2>-)?+\s*+
    (?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})++(?![0-9])|[0-9]++)(?:\.[0-9]*+)?+|\.[0-9]++)
    (?:\s*+(?P<unit>%|[A-Za-z][A-Za-z/]*+(?:-[A-Za-z0-9]++)*+(?:\s[A-Za-z][A-Za-z/]*+(?:-[A-Za-z0-9]++)*+)?+))?+
    """,
    re.VERBOSE,
)


class Money(BaseModel):
    """An exact decimal amount and its unit: "USD" for money, else the usage unit (GB, Hrs...).

    The unit is "" when the text gave neither `$` nor a unit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    unit: str = USD

    @field_validator("amount")
    @classmethod
    def _amount_finite(cls, value: Decimal) -> Decimal:
        return plausible(value)

    @field_validator("unit")
    @classmethod
    def _unit_trimmed(cls, value: str) -> str:
        return value.strip()

    @property
    def is_usd(self) -> bool:
        return self.unit == USD

    def __str__(self) -> str:
        with localcontext() as context:
            context.prec = precision_for(self.amount)
            if self.is_usd:
                cents = self.amount.quantize(_CENT, rounding=ROUND_HALF_UP)
                sign = "-" if cents < 0 else ""
                return f"{sign}${abs(cents):,.2f}"
            number = f"{_plain(self.amount):,f}"
        if not self.unit:
            return number
        if self.unit == "%":
            return f"{number}%"
        return f"{number} {self.unit}"


def plausible(value: Decimal) -> Decimal:
    """`value` if it can be a real amount, rounded to twelve decimal places and without a negative zero.

    Raises ValueError, quoting the value only in short form, when it is not finite or beyond a trillion.
    """
    problem = implausibility(value)
    if problem is not None:
        raise ValueError(f"the amount {_excerpt(str(value))} {problem}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < _SMALLEST_EXPONENT:
        value = value.quantize(_SMALLEST, context=_BOUNDED)
    return value.copy_abs() if value.is_zero() else value


def implausibility(value: Decimal) -> str | None:
    """Why `value` cannot be a real amount ("is not a finite number", "is implausible ..."), or None."""
    if not value.is_finite():
        return "is not a finite number"
    # The exponent is compared first: adjusted() reads it without expanding 1E+999999999.
    if value.adjusted() > MAX_AMOUNT.adjusted() or value.copy_abs() > MAX_AMOUNT:
        return f"is implausible: beyond {MAX_AMOUNT:,.0f}"
    return None


def precision_for(*values: Decimal) -> int:
    """A decimal precision that holds every digit of `values`, plus room for rounding to cents or tenths.

    The default (28 digits) would round or raise on very long amounts; these never lose a digit.
    """
    needed = 28
    for value in values:
        if value.is_finite() and not value.is_zero():
            _, digits, exponent = value.as_tuple()
            if isinstance(exponent, int):  # always, for a finite number
                needed = max(needed, len(digits) + abs(exponent) + 8)
    return needed


def _plain(value: Decimal) -> Decimal:
    """`value` without trailing fractional zeros and never in exponent form (100.50 -> 100.5, 1E+2 -> 100)."""
    if value.is_zero():
        return Decimal(0)
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normal.quantize(Decimal(1))
    return normal


def _excerpt(text: str, limit: int = 60) -> str:
    """`text`, cut short for a reason an operator reads (a hostile message can be 256 KB)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_money(text: str) -> Money:
    """Read an amount as AWS prints it: `$10.42`, `$0.5`, `$1,234.56`, `100.00 GB`, `-$3.00`, `12 USD`.

    Raises `UnparseableMessage` when `text` is not one amount.
    """
    stripped = text.strip()
    if not stripped:
        raise UnparseableMessage("the amount is empty")
    match = _MONEY_RE.fullmatch(stripped)
    if match is None or (match["sign"] and match["sign2"]):
        raise UnparseableMessage(f"'{_excerpt(stripped)}' is not a number")
    unit = (match["unit"] or "").strip()
    if match["dollar"]:
        if unit and unit.upper() != USD:
            raise UnparseableMessage(f"'{_excerpt(stripped)}' has both '$' and the unit '{_excerpt(unit)}'")
        unit = USD
    elif unit.upper() == USD:
        unit = USD
    negative = bool(match["sign"] or match["sign2"])
    try:
        amount = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise UnparseableMessage(f"'{_excerpt(stripped)}' is not a number") from None
    problem = implausibility(amount)
    if problem is not None:
        raise UnparseableMessage(f"'{_excerpt(stripped)}' {problem}")
    return Money(amount=-amount if negative else amount, unit=unit)
