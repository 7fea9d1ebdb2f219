"""Budget enforcement decisions: warn, or verify and pause (DESIGN §2, `on_budget_alert`).

Two steps, both pure. `assess_alert` reads only the alert and decides whether it could justify a
pause. `confirm_breach` then compares the alert with what the Budgets API says now: an alert can
arrive hours after the spend (Budgets refreshes up to three times a day) or after the budget was
raised, so the API has the last word before anything is paused.

Each decision returns facts (the verdict and the figures it was judged by), and so does the handling of an alert
(`AlertOutcome`, `Enforcement`, `Recovery`...): warden/messages/budget.py words them, for the notifications, the
action log, the claims' evidence and the results.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.domain.service import ServiceSnapshot
from warden.domain.target import TargetFacts
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


class Figure(StrEnum):
    """Which figure of the Budgets API a decision went by."""

    ACTUAL = "actual"
    FORECAST = "forecast"


class Assessment(BaseModel):
    """What `assess_alert` made of a budget alert, and what it judged it against."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    alert: BudgetAlert
    policy: EnforcePolicy


class AnomalyAssessment(BaseModel):
    """What `assess_anomaly` made of a cost anomaly: WARN or VERIFY, by its impact against the pause setting."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    impact: Decimal
    pause_at: Decimal | None
    """ANOMALY_PAUSE_IMPACT_USD; None when anomalies never pause."""


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
    """What `confirm_breach` found: the figure the alert is judged by, as the Budgets API reports it now, against
    the enforce point."""

    model_config = ConfigDict(frozen=True)

    confirmed: bool
    budget_name: str
    figure: Figure
    measured: Money | None
    """None when the Budgets API reports no such figure yet."""
    measured_percent: Decimal | None
    limit: Money
    enforce_point: Money
    threshold_percent: Decimal
    alert_amount: Money


def percent(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    # Amounts are bounded (models/money.py): a trillion over a trillionth is 10^26 %, which 60 digits hold.
    with localcontext(prec=60, rounding=ROUND_HALF_UP):
        return (part / whole * 100).quantize(Decimal("0.1"))


def measured_figure(alert_type: AlertType, snapshot: BudgetSnapshot) -> tuple[Figure, Money | None]:
    """The figure of the Budgets API that an alert of `alert_type` is judged by: the forecast for a forecast alert,
    the actual spend otherwise. A message names this figure, not another one."""
    if alert_type is AlertType.FORECASTED:
        return Figure.FORECAST, snapshot.forecast
    return Figure.ACTUAL, snapshot.actual


def assess_alert(alert: BudgetAlert, policy: EnforcePolicy) -> Assessment:
    if alert.budget_name != policy.budget_name:
        verdict = Verdict.OTHER_BUDGET
    elif alert.amount_percent < policy.threshold_percent:
        verdict = Verdict.WARN
    elif alert.alert_type is AlertType.FORECASTED and not policy.enforce_on_forecast:
        verdict = Verdict.FORECAST
    else:
        verdict = Verdict.VERIFY
    return Assessment(verdict=verdict, alert=alert, policy=policy)


def confirm_breach(alert: BudgetAlert, snapshot: BudgetSnapshot, policy: EnforcePolicy) -> Confirmation:
    threshold = policy.threshold_percent
    enforce_at = (snapshot.limit.amount * threshold / 100).quantize(Decimal("0.01"))
    figure, measured = measured_figure(alert.alert_type, snapshot)
    measured_percent = snapshot.forecast_percent if figure is Figure.FORECAST else snapshot.actual_percent
    return Confirmation(
        confirmed=measured_percent is not None and measured_percent >= threshold,
        budget_name=snapshot.name,
        figure=figure,
        measured=measured,
        measured_percent=measured_percent,
        limit=snapshot.limit,
        enforce_point=Money(amount=enforce_at, unit=snapshot.limit.unit),
        threshold_percent=threshold,
        alert_amount=alert.amount,
    )


def assess_anomaly(alert: CostAnomalyAlert, policy: EnforcePolicy) -> AnomalyAssessment:
    impact = alert.impact.total_impact
    pause_at = policy.anomaly_pause_impact_usd
    verdict = Verdict.WARN if pause_at is None or impact < pause_at else Verdict.VERIFY
    return AnomalyAssessment(verdict=verdict, impact=impact, pause_at=pause_at)


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


class UnrecordedPause(BaseModel):
    """What `unrecorded_budget_pause` found: whether a PAUSED service that no claim holds is a budget pause the state
    table did not record, by which figure of the Budgets API, in the period that started on `period_start`."""

    model_config = ConfigDict(frozen=True)

    confirmed: bool
    cleared_this_period: bool
    """An operator cleared a budget claim in this period: that decision stands (not confirmed)."""
    period_start: date
    figure: Figure
    """The figure at or above the threshold; the actual spend when none is."""
    measured: Money
    measured_percent: Decimal
    limit: Money
    threshold_percent: Decimal


def unrecorded_budget_pause(
    snapshot: BudgetSnapshot, policy: EnforcePolicy, now: datetime, *, cleared_this_period: bool
) -> UnrecordedPause:
    """Whether a PAUSED service that no claim holds is a budget pause the state table never recorded.

    A confirmed breach is paused even when the state table is unavailable, and then no claim exists; once the table
    is back the reconcile would resume the service. It must not while the breach stands: confirmed means the Budgets
    API shows the enforced figure (actual spend, or the forecast with ENFORCE_ON_FORECAST) at or above the threshold
    in the current period. An operator who cleared a budget claim in this period has decided otherwise: that stands.
    """
    start, _ = snapshot.period(now)
    threshold = policy.threshold_percent
    figures = [(Figure.ACTUAL, snapshot.actual, snapshot.actual_percent)]
    if policy.enforce_on_forecast and snapshot.forecast is not None and snapshot.forecast_percent is not None:
        figures.append((Figure.FORECAST, snapshot.forecast, snapshot.forecast_percent))
    over = [(figure, measured, share) for figure, measured, share in figures if share >= threshold]
    figure, measured, share = over[0] if over else figures[0]
    return UnrecordedPause(
        confirmed=bool(over) and not cleared_this_period,
        cleared_this_period=cleared_this_period,
        period_start=start,
        figure=figure,
        measured=measured,
        measured_percent=share,
        limit=snapshot.limit,
        threshold_percent=threshold,
    )


# --- what handling an alert did: the facts its notification tells ---------------------------------------------


class AlertOutcome(StrEnum):
    """How `on_budget_alert` ended for one message (usecases/budget_alert.py calls it `Outcome`)."""

    WARNED = "warned"
    FORECAST = "forecast"
    OTHER_BUDGET = "other_budget"
    NOT_CONFIRMED = "not_confirmed"
    UNVERIFIABLE = "unverifiable"
    PAUSED = "paused"
    WOULD_PAUSE = "would_pause"
    ALREADY_PAUSED = "already_paused"
    UNAVAILABLE = "unavailable"
    ANOMALY = "anomaly"
    FORWARDED = "forwarded"
    DUPLICATE = "duplicate"
    OVERRIDDEN = "overridden"


# The outcomes after which the service is paused, and those after which it is or (in a dry run) would be.
HELD: Final = frozenset({AlertOutcome.PAUSED, AlertOutcome.ALREADY_PAUSED})
PAUSES: Final = HELD | {AlertOutcome.WOULD_PAUSE}


class BudgetGuard(BaseModel):
    """One guarded service and how Warden enforces its budget: what every budget notification about it names."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    service_arn: str
    target: TargetFacts
    """The platform's words and links (deps.service.facts)."""
    policy: EnforcePolicy
    dry_run: bool = False


class Verification(BaseModel):
    """A budget alert checked against the Budgets API at `now`: what the alert said, what the API says."""

    model_config = ConfigDict(frozen=True)

    alert: BudgetAlert
    snapshot: BudgetSnapshot
    confirmation: Confirmation
    now: datetime

    @property
    def period(self) -> tuple[date, date]:
        return self.snapshot.period(self.now)


class BudgetBreach(BaseModel):
    """A breach the Budgets API confirmed, and the SNS message that reported it: the reason for a budget pause."""

    model_config = ConfigDict(frozen=True)

    verification: Verification
    message_id: str
    received_at: datetime


class AnomalyBreach(BaseModel):
    """A cost anomaly and what `assess_anomaly` made of it: the reason for an anomaly's pause (or notice)."""

    model_config = ConfigDict(frozen=True)

    anomaly: CostAnomalyAlert
    assessment: AnomalyAssessment


class Enforcement(BaseModel):
    """What placing the budget claim and converging did.

    `claim_line` and `summary` are the words of usecases/claims.py and usecases/converge.py for the claim and the
    call; `undo` the commands of usecases/undo.py (they read the state: a platform's remembered scale)."""

    model_config = ConfigDict(frozen=True)

    outcome: AlertOutcome
    """PAUSED, WOULD_PAUSE, ALREADY_PAUSED, UNAVAILABLE or OVERRIDDEN."""
    undone_since: bool = False
    """OVERRIDDEN because an earlier attempt at this alert placed the claim and someone cleared it since: the claim
    is not placed again (otherwise OVERRIDDEN means the claim was cleared while Warden converged)."""
    claim_line: str
    summary: str
    credited: bool = False
    """The pause was made by an earlier attempt at this same alert (which failed before it could notify)."""
    operation_id: str | None = None
    """The platform's operation of the pause this attempt made, where it has one."""
    before: ServiceSnapshot
    refusal: str = ""
    """UNAVAILABLE: why the platform accepts no pause now."""
    undo: tuple[str, ...] = ()


class Recovery(BaseModel):
    """A budget pause the state table did not record, recorded (in a dry run: not) once the table is back."""

    model_config = ConfigDict(frozen=True)

    decision: UnrecordedPause
    budget: BudgetSnapshot
    service: ServiceSnapshot
    undo: tuple[str, ...] = ()
