"""The spend guard in words: its projection warning, the estimated breach it notifies or pauses, the override it
respects, the estimate it cannot make, and the sentences `warden status` and the accuracy report show.

The facts are domain/spend.py's (`Estimate`, `Baseline`, `Gap`, `GuardDecision`, `Projection`, `Comparison`,
`CannotReason`) and usecases/spend_guard.py's (`SpendFacts`, `SpendPause`). The service's console and what a paused
service does not do come from the target's facts; the claim's and the converge's sentences, the costs while paused
and the undo commands are warden/messages/service.py's. The approved text of each notification is under
tests/golden/texts/spend.*.txt.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Final, assert_never

from warden.domain.costs import SECTION
from warden.domain.notification import Notification, Severity, render
from warden.domain.spend import (
    AppRunnerRates,
    Baseline,
    BaselineKind,
    BilledUnit,
    CannotKind,
    CannotReason,
    Comparison,
    Estimate,
    FargateRates,
    Gap,
    GapKind,
    GuardDecision,
    GuardMode,
    GuardWhy,
    Projection,
)
from warden.messages.service import cleared_by, paused_cost_lines, undo_lines
from warden.models.money import Money
from warden.usecases.claims import Cleared

if TYPE_CHECKING:
    from warden.usecases.spend_guard import SpendFacts, SpendPause

BUDGETS_CONSOLE: Final = "https://console.aws.amazon.com/costmanagement/home#/budgets"
PAUSE_NOW: Final = 'Pause it now: warden pause --reason "<why>"'
BUDGETS_CONFIRM: Final = "AWS Budgets confirms or corrects the estimate at its next refresh (up to three a day)."
_ESTIMATED: Final = "Estimated, not yet confirmed by AWS Budgets."
_UNIT_HOURS: Final = {BilledUnit.ACTIVE_INSTANCE: "active instance-hours", BilledUnit.TASK: "task-hours"}


# --- the figures ------------------------------------------------------------------------------------------------


def _usd(value: Decimal, places: str = "0.01") -> str:
    """A figure in a sentence of the estimate: "1,234.50" (rounded half up)."""
    return f"{value.quantize(Decimal(places), rounding=ROUND_HALF_UP):,}"


def _plain(value: Decimal, places: str = "0.01") -> str:
    """A figure in a subject, a headline or the claim's evidence: "1234.50"."""
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


# --- the estimate and the decision ------------------------------------------------------------------------------


def estimate_parts(estimate: Estimate) -> list[str]:
    """The estimate's evidence, one line each: Budgets' figure and its age, usage since, prices, gaps."""
    usage, base = estimate.usage, estimate.base
    units = f"{_usd(usage.unit_hours, '0.1')} {_UNIT_HOURS[estimate.unit]}"
    if usage.warm_hours:
        units += f" and {_usd(usage.warm_hours, '0.1')} idle warm instance-hours"
    return [
        f"Estimate ${_usd(estimate.total)} at {estimate.at:%Y-%m-%d %H:%M} UTC = Budgets' figure "
        f"${_usd(base.amount)} + ${_usd(usage.cost)} used since "
        f"{base.covered_until:%Y-%m-%d %H:%M} UTC ({_usd(estimate.figure_age_hours, '0.1')} h).",
        f"Budgets' figure: {basis(base)}.",
        f"Usage since: {units} ({estimate.described}).",
        f"Prices: {prices_line(estimate)}.",
        f"Burn rate over the last hour: ${_usd(estimate.burn_rate, '0.0001')}/hour.",
        *(gap_line(gap) for gap in estimate.gaps),
    ]


def basis(base: Baseline) -> str:
    """Where Budgets' figure comes from, and up to when it is taken to cover usage."""
    covered = base.covered_until
    match base.kind:
        case BaselineKind.CARRIED_OVER:
            return (
                f"Budgets still shows ${_usd(base.reported)}, unchanged since the previous period: this period is "
                "counted from its start"
            )
        case BaselineKind.REFRESHED:
            return (
                f"Budgets refreshed between {covered:%Y-%m-%d %H:%M} and {base.first_seen:%H:%M} UTC "
                f"(seen by Warden; counted from {covered:%H:%M})"
            )
        case BaselineKind.ASSUMED:
            return (
                f"Warden has not seen this figure change (first seen {base.first_seen:%Y-%m-%d %H:%M} UTC): "
                f"assumed to cover usage up to {covered:%Y-%m-%d %H:%M} UTC at most"
            )
        case unreachable:
            assert_never(unreachable)


def gap_line(gap: Gap) -> str:
    """Minutes without data, and how the estimate counted them."""
    name = gap.metric
    match gap.kind:
        case GapKind.NO_DATA_FROM_RECORDS:
            return (
                f"No {name} data (Container Insights off?): tasks are counted from the desired count Warden records "
                "at every check."
            )
        case GapKind.NO_DATA_WARM_ONLY:
            since = f"{gap.since:%Y-%m-%d %H:%M} UTC" if gap.since else "the start of the window"
            return f"No {name} data since {since}: no active instance is counted, only the warm ones."
        case GapKind.COUNTED_FROM_RECORDS:
            return f"{gap.minutes} minutes without {name} data were counted as Warden's records of the desired count."
        case GapKind.COUNTED_AS_NONE:
            return f"{gap.minutes} minutes without {name} data were counted as no active instance."
        case GapKind.CARRIED:
            return f"{gap.minutes} minutes without {name} data took the last value seen before them."
        case unreachable:
            assert_never(unreachable)


def prices_line(estimate: Estimate) -> str:
    """The prices an estimate used and where they come from, in one line."""
    rates, region, source = estimate.rates, estimate.region, estimate.price_source
    match rates:
        case AppRunnerRates():
            return (
                f"{estimate.pricing.value} {region}: active ${rates.vcpu_hour}/vCPU-hour + ${rates.gb_hour}/GB-hour, "
                f"warm ${rates.provisioned_gb_hour}/GB-hour ({source})"
            )
        case FargateRates():
            return (
                f"{estimate.pricing.value} {estimate.architecture.value} {region}: ${rates.vcpu_hour}/vCPU-hour + "
                f"${rates.gb_hour}/GB-hour ({source})"
            )
        case unreachable:
            assert_never(unreachable)


def projection_text(projection: Projection) -> str:
    """When the estimate reaches the enforce threshold at the last hour's rate (`warden status` shows it)."""
    threshold = f"${_usd(projection.threshold)}"
    if projection.reached:
        return f"the estimate is at or above the enforce threshold {threshold}"
    if projection.reach_at is None:
        return f"not rising: the enforce threshold {threshold} is not reached at this rate"
    return f"the enforce threshold {threshold} is reached about {projection.reach_at:%Y-%m-%d %H:%M} UTC"


def decision_reason(decision: GuardDecision) -> str:
    """The check's reason: the estimate, and what the guard makes of it."""
    total, projection = f"${_usd(decision.total)}", decision.projection
    match decision.why:
        case GuardWhy.REACHED:
            act = "pause the service" if decision.mode is GuardMode.PAUSE else "notify (SPEND_GUARD=notify)"
            return (
                f"estimated spend {total} is at or above the enforce threshold ${_usd(projection.threshold)}, not yet "
                f"confirmed by AWS Budgets: {act}"
            )
        case GuardWhy.SOON:
            return (
                f"estimated spend {total} rises ${_usd(decision.burn_rate, '0.0001')}/hour: "
                f"{projection_text(projection)}, within {decision.horizon_hours} h and before the period ends"
            )
        case GuardWhy.NOT_RISING:
            return f"estimated spend {total}; {projection_text(projection)}"
        case GuardWhy.BEYOND_HORIZON:
            return (
                f"estimated spend {total}; {projection_text(projection)}, beyond the {decision.horizon_hours} h horizon"
            )
        case GuardWhy.AFTER_PERIOD:
            return f"estimated spend {total}; {projection_text(projection)}, after the period ends"
        case unreachable:
            assert_never(unreachable)


def held_reason(decision: GuardDecision) -> str:
    """A check that would act on a service a budget claim already holds."""
    return f"{decision_reason(decision)}; a budget claim holds the service"


def claim_evidence(estimate: Estimate, limit: Money) -> str:
    """The evidence of the budget claim the guard places: an estimate, with its parts."""
    return (
        f"estimated, not yet confirmed by AWS Budgets: ${_plain(estimate.total)} of {limit} = Budgets' "
        f"${_plain(estimate.base.amount)} (covering usage up to {_plain(estimate.figure_age_hours, '0.1')} h ago) + "
        f"${_plain(estimate.usage.cost)} used since; prices: {prices_line(estimate)}"
    )


def accuracy_line(comparison: Comparison) -> str:
    """The estimate Warden made before Budgets' refresh against the figure the refresh reported."""
    sign = "+" if comparison.error >= 0 else "-"
    return (
        f"{comparison.estimated_at:%Y-%m-%d %H:%M} UTC: estimated ${_usd(comparison.estimated)}, Budgets reported "
        f"${_usd(comparison.reported)}: {sign}${_usd(abs(comparison.error))} "
        f"({comparison.error_percent_of_budget:+}% of the budget)"
    )


def cannot_reason(cannot: CannotReason) -> str:
    """Why the guard has no estimate (the check's reason, `warden status`, and the notification)."""
    detail = cannot.detail
    match cannot.kind:
        case CannotKind.BUDGET_UNREADABLE:
            return f"cannot read the budget: {detail}"
        case CannotKind.NOT_USD:
            return f"the budget counts {detail}, not USD: the prices are in USD"
        case CannotKind.NOT_PRICED:
            return detail
        case CannotKind.SERVICE_UNREADABLE:
            return f"the service cannot be read: {detail}"
        case CannotKind.NO_ANSWER:
            return f"{detail} (no estimate since {cannot.since:%Y-%m-%d %H:%M} UTC)" if cannot.since else detail
        case unreachable:
            assert_never(unreachable)


# --- the notifications ------------------------------------------------------------------------------------------


def _threshold(check: SpendFacts) -> str:
    return f"${_plain(check.decision.projection.threshold)}"


def _links(check: SpendFacts) -> tuple[str, list[str]]:
    return ("Links", [f"Service: {check.target.console_url}", f"Budgets: {BUDGETS_CONSOLE}"])


def _subject(tag: str, check: SpendFacts) -> str:
    return f"[warden] {tag} {check.service}: estimated ${_plain(check.estimate.total)} of {check.limit}"


def projected(check: SpendFacts) -> Notification:
    """The estimate is projected to reach the enforce threshold within the horizon (at most once a day)."""
    name, threshold, reach = check.service, _threshold(check), check.decision.projection.reach_at
    when = f"{reach:%Y-%m-%d %H:%M} UTC" if reach else "soon"
    then = (
        "pause the service with a budget claim (SPEND_GUARD=pause)"
        if check.decision.mode is GuardMode.PAUSE
        else "notify you again; it does not pause (SPEND_GUARD=notify)"
    )
    return Notification(
        subject=f"[warden] SPEND PROJECTED {name}: {threshold} reached about {when}",
        body=render(
            [
                ("Why", [decision_reason(check.decision) + "."]),
                ("Evidence", estimate_parts(check.estimate)),
                (
                    "What Warden does",
                    [
                        f"When the estimate reaches {threshold} Warden will {then}.",
                        "This warning is sent at most once a day.",
                    ],
                ),
                (
                    "What you can do",
                    [f"Check what scales {name} out (traffic, a retry loop, the auto scaling maximum).", PAUSE_NOW],
                ),
                _links(check),
            ],
            headline=f"{name}'s spend is rising: at ${_plain(check.estimate.burn_rate, '0.0001')}/hour Warden "
            f"projects the enforce threshold {threshold} about {when}.",
        ),
        event="spend.projected",
        severity=Severity.WARNING,
    )


def breach(check: SpendFacts, overridden: Cleared | None) -> Notification:
    """The estimate reached the threshold and the guard does not pause: SPEND_GUARD=notify, or a person cleared the
    budget claim in this period (`overridden`)."""
    name = check.service
    if overridden is not None:
        event, tag = "spend.overridden", "NOT PAUSED AGAIN"
        headline = (
            f"{name}'s estimated spend is over the enforce threshold, but a person cleared its budget claim in this "
            "period; Warden does not pause it again."
        )
        did = f"Nothing: the budget claim was cleared {cleared_by(overridden)}."
    else:
        event, tag = "spend.estimated_breach", "SPEND ESTIMATE OVER"
        headline = (
            f"{name}'s estimated spend reached the enforce threshold {_threshold(check)} before AWS Budgets reported "
            "it. Warden did not pause it (SPEND_GUARD=notify)."
        )
        did = "Nothing: SPEND_GUARD is notify. Set the SpendGuard parameter to pause for Warden to pause."
    return Notification(
        subject=_subject(tag, check),
        body=render(
            [
                ("What happened", [decision_reason(check.decision) + "."]),
                ("Evidence", estimate_parts(check.estimate)),
                ("What Warden did", [did]),
                ("What you can do", [PAUSE_NOW, BUDGETS_CONFIRM, "This notification is sent at most once a day."]),
                _links(check),
            ],
            headline=headline,
        ),
        event=event,
        severity=Severity.CRITICAL,
    )


def spend_paused(pause: SpendPause) -> Notification:
    """The guard placed the budget claim on its estimate and paused the service (or would have, in a dry run; or
    the platform was busy, and the reconcile pauses it)."""
    check, change, name, threshold = pause.check, pause.change, pause.check.service, _threshold(pause.check)
    if pause.dry_run:
        tag, event = "DRY RUN would pause", "spend.dry_run"
        headline = f"[dry run] Warden would have paused {name}: its estimated spend reached {threshold}. "
        headline += "DRY_RUN is on, so nothing was changed."
    elif change is None:
        tag, event = "PAUSE PENDING", "spend.paused"
        headline = f"Warden recorded the budget claim of {name}: its estimated spend reached the enforce threshold "
        headline += f"{threshold} before AWS Budgets reported it. The reconcile pauses it once {check.target.platform} "
        headline += "is no longer busy."
    else:
        tag, event = "PAUSED", "spend.paused"
        headline = f"Warden paused {name}: its estimated spend reached the enforce threshold {threshold} "
        headline += "before AWS Budgets reported it."
    did = (
        [f"Recorded the 'budget' pause claim. {pause.busy}"] if change is None else [change.line, change.result.summary]
    )
    costs = paused_cost_lines(change.result.before) if change is not None and not pause.dry_run else []
    return Notification(
        subject=_subject(tag, check),
        body=render(
            [
                ("What happened", [decision_reason(check.decision) + "."]),
                ("Evidence", [_ESTIMATED, *estimate_parts(check.estimate)]),
                ("What Warden did", did),
                (
                    "What happens next",
                    [
                        BUDGETS_CONFIRM,
                        "The budget claim stays until the next budget period starts and the Budgets API shows spend "
                        f"under {check.threshold_percent}% of the budget, unless a person overrides it.",
                        check.target.while_paused,
                    ],
                ),
                (SECTION, costs),
                ("How to undo", undo_lines(pause.undo)),
                _links(check),
            ],
            headline=headline,
        ),
        event=event,
        severity=Severity.CRITICAL,
    )


def cannot_estimate(service: str, cannot: CannotReason) -> Notification:
    """The guard cannot estimate the service's spend (at most once a day): never answered with a zero."""
    return Notification(
        subject=f"[warden] SPEND GUARD CANNOT ESTIMATE {service}",
        body=render(
            [
                ("Why", [cannot_reason(cannot) + "."]),
                (
                    "What this means",
                    [
                        f"Warden cannot estimate {service}'s spend ahead of AWS Budgets: only Budgets' own alerts, "
                        "hours behind the usage, can pause it until this is fixed.",
                        "This notification is sent at most once a day.",
                    ],
                ),
                (
                    "How to fix it",
                    [
                        "Prices for another region or platform: the SpendPrices parameter (SPEND_PRICES), e.g. "
                        '{"eu-central-1": {"apprunner": {"vcpu_hour": "0.081", "gb_hour": "0.009", '
                        '"provisioned_gb_hour": "0.009"}}}',
                        "`warden status` shows the guard's last estimate or why it has none.",
                    ],
                ),
            ],
            headline=f"Warden's spend guard cannot estimate {service}'s spend.",
        ),
        event="spend.cannot_estimate",
        severity=Severity.WARNING,
    )
