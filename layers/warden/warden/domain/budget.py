"""Budget enforcement decisions: warn, or verify and pause (DESIGN §2, `on_budget_alert`).

Two steps, both pure. `assess_alert` reads only the alert and decides whether it could justify a
pause. `confirm_breach` then compares the alert with what the Budgets API says now: an alert can
arrive hours after the spend (Budgets refreshes up to three times a day) or after the budget was
raised, so the API has the last word before anything is paused.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.models.anomaly import CostAnomalyAlert
from warden.models.budget import AlertType, BudgetAlert
from warden.models.money import Money


class EnforcePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    budget_name: str
    threshold_percent: Decimal = Decimal(100)
    enforce_on_forecast: bool = False
    anomaly_pause_impact_usd: Decimal | None = None


class Verdict(StrEnum):
    WARN = "warn"  # below the enforce threshold: tell the operator
    FORECAST = "forecast"  # a forecast alert Warden does not enforce
    OTHER_BUDGET = "other_budget"  # an alert for a budget Warden does not enforce
    VERIFY = "verify"  # could justify a pause: check the Budgets API first


class Assessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reason: str


class BudgetSnapshot(BaseModel):
    """The budget as the Budgets API reports it now."""

    model_config = ConfigDict(frozen=True)

    name: str
    limit: Money
    actual: Money
    forecast: Money | None = None
    time_unit: str = "MONTHLY"

    def period(self, now: datetime) -> tuple[date, date]:
        return budget_period(self.time_unit, now)

    @property
    def actual_percent(self) -> Decimal:
        return percent(self.actual.amount, self.limit.amount)

    @property
    def forecast_percent(self) -> Decimal | None:
        return None if self.forecast is None else percent(self.forecast.amount, self.limit.amount)


def budget_period(time_unit: str, now: datetime) -> tuple[date, date]:
    """The budget period containing `now`: [start, end). Budgets' own `TimePeriod.End` is the budget's
    end of life (2087-06-15 by default), not the end of the current period, so it is computed here."""
    today = now.date()
    match time_unit.upper():
        case "DAILY":
            return today, date.fromordinal(today.toordinal() + 1)
        case "QUARTERLY":
            first_month = (today.month - 1) // 3 * 3 + 1
            start = date(today.year, first_month, 1)
            return start, _add_months(start, 3)
        case "ANNUALLY":
            return date(today.year, 1, 1), date(today.year + 1, 1, 1)
        case _:  # MONTHLY, and custom budgets are treated as monthly for the roll-over check
            start = date(today.year, today.month, 1)
            return start, _add_months(start, 1)


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Confirmation(BaseModel):
    model_config = ConfigDict(frozen=True)

    confirmed: bool
    reason: str


def percent(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    # Amounts are bounded (models/money.py): a trillion over a trillionth is 10^26 %, which 60 digits hold.
    with localcontext(prec=60, rounding=ROUND_HALF_UP):
        return (part / whole * 100).quantize(Decimal("0.1"))


def measured_figure(alert_type: AlertType, snapshot: BudgetSnapshot) -> tuple[str, Money | None]:
    """The figure of the Budgets API that an alert of `alert_type` is judged by: ("forecast", the forecast) for a
    forecast alert, ("spend", the actual spend) otherwise. A message names this figure, not another one."""
    if alert_type is AlertType.FORECASTED:
        return "forecast", snapshot.forecast
    return "spend", snapshot.actual


def assess_alert(alert: BudgetAlert, policy: EnforcePolicy) -> Assessment:
    threshold = policy.threshold_percent
    if alert.budget_name != policy.budget_name:
        return Assessment(
            verdict=Verdict.OTHER_BUDGET,
            reason=f"Warden enforces the budget '{policy.budget_name}', not '{alert.budget_name}': notify only",
        )
    spent = f"{alert.alert_type.value.lower()} spend {alert.amount} is {alert.amount_percent}% of {alert.budgeted}"
    if alert.amount_percent < threshold:
        return Assessment(verdict=Verdict.WARN, reason=f"{spent}, below the enforce threshold of {threshold}%")
    if alert.alert_type is AlertType.FORECASTED and not policy.enforce_on_forecast:
        return Assessment(
            verdict=Verdict.FORECAST,
            reason=f"{spent}; forecasts never pause unless ENFORCE_ON_FORECAST is true",
        )
    return Assessment(
        verdict=Verdict.VERIFY,
        reason=f"{spent}, at or above the enforce threshold of {threshold}%: verifying with the Budgets API",
    )


def confirm_breach(alert: BudgetAlert, snapshot: BudgetSnapshot, policy: EnforcePolicy) -> Confirmation:
    threshold = policy.threshold_percent
    enforce_at = (snapshot.limit.amount * threshold / 100).quantize(Decimal("0.01"))
    if alert.alert_type is AlertType.FORECASTED:
        measured, measured_percent, label = snapshot.forecast, snapshot.forecast_percent, "forecast"
    else:
        measured, measured_percent, label = snapshot.actual, snapshot.actual_percent, "actual spend"
    if measured is None or measured_percent is None:
        return Confirmation(confirmed=False, reason=f"the Budgets API reports no {label} for '{snapshot.name}' yet")
    limit = Money(amount=enforce_at, unit=snapshot.limit.unit)
    if measured_percent >= threshold:
        return Confirmation(
            confirmed=True,
            reason=f"the Budgets API confirms {label} {measured} of {snapshot.limit} "
            f"({measured_percent}%), at or above the enforce point {limit} ({threshold}%)",
        )
    return Confirmation(
        confirmed=False,
        reason=f"the alert said {alert.amount}, but the Budgets API now reports {label} {measured} of "
        f"{snapshot.limit} ({measured_percent}%), below the enforce point {limit} ({threshold}%)",
    )


def assess_anomaly(alert: CostAnomalyAlert, policy: EnforcePolicy) -> Assessment:
    impact = alert.impact.total_impact
    pause_at = policy.anomaly_pause_impact_usd
    if pause_at is None:
        return Assessment(
            verdict=Verdict.WARN,
            reason=f"cost anomaly with ${impact:,.2f} impact; anomalies never pause unless "
            "ANOMALY_PAUSE_IMPACT_USD is set",
        )
    if impact < pause_at:
        return Assessment(
            verdict=Verdict.WARN,
            reason=f"cost anomaly with ${impact:,.2f} impact, below ANOMALY_PAUSE_IMPACT_USD ${pause_at:,.2f}",
        )
    return Assessment(
        verdict=Verdict.VERIFY,
        reason=f"cost anomaly with ${impact:,.2f} impact, at or above ANOMALY_PAUSE_IMPACT_USD ${pause_at:,.2f}",
    )


class PeriodCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    release: bool
    reason: str


def budget_claim_release(
    claim_period_start: date, snapshot: BudgetSnapshot, policy: EnforcePolicy, now: datetime
) -> PeriodCheck:
    """The budget claim ends only when a new period has started AND the spend in it is under the threshold."""
    start, end = snapshot.period(now)
    if start <= claim_period_start:
        return PeriodCheck(
            release=False,
            reason=f"the budget period that paused the service ({claim_period_start:%Y-%m-%d} to {end:%Y-%m-%d}) "
            "has not ended yet",
        )
    if snapshot.actual_percent >= policy.threshold_percent:
        return PeriodCheck(
            release=False,
            reason=f"a new period started on {start:%Y-%m-%d}, but spend is already {snapshot.actual} of "
            f"{snapshot.limit} ({snapshot.actual_percent}%), at or above {policy.threshold_percent}%",
        )
    return PeriodCheck(
        release=True,
        reason=f"a new budget period started on {start:%Y-%m-%d} and spend in it is {snapshot.actual} of "
        f"{snapshot.limit} ({snapshot.actual_percent}%), under {policy.threshold_percent}%",
    )


def unrecorded_budget_pause(
    snapshot: BudgetSnapshot, policy: EnforcePolicy, now: datetime, *, cleared_this_period: bool
) -> Confirmation:
    """Whether a PAUSED service that no claim holds is a budget pause the state table never recorded.

    A confirmed breach is paused even when the state table is unavailable, and then no claim exists; once the table
    is back the reconcile would resume the service. It must not while the breach stands: confirmed means the Budgets
    API shows the enforced figure (actual spend, or the forecast with ENFORCE_ON_FORECAST) at or above the threshold
    in the current period. An operator who cleared a budget claim in this period has decided otherwise: that stands.
    """
    start, _ = snapshot.period(now)
    if cleared_this_period:
        return Confirmation(
            confirmed=False,
            reason=f"a budget claim was cleared since this period started on {start:%Y-%m-%d}; that decision stands",
        )
    threshold = policy.threshold_percent
    figures = [("actual spend", snapshot.actual, snapshot.actual_percent)]
    if policy.enforce_on_forecast and snapshot.forecast is not None and snapshot.forecast_percent is not None:
        figures.append(("forecast", snapshot.forecast, snapshot.forecast_percent))
    for label, figure, figure_percent in figures:
        if figure_percent >= threshold:
            return Confirmation(
                confirmed=True,
                reason=f"the service is paused with no claim, and the Budgets API shows {label} {figure} of "
                f"{snapshot.limit} ({figure_percent}%), at or above {threshold}% in the period that started on "
                f"{start:%Y-%m-%d}: a budget pause the state table did not record",
            )
    return Confirmation(
        confirmed=False,
        reason=f"the Budgets API shows actual spend {snapshot.actual} of {snapshot.limit} "
        f"({snapshot.actual_percent}%), under {threshold}%: no budget breach holds the service",
    )
