"""The spend guard (run_schedule `spend-check`, every 15 minutes; issue 17): act on Warden's own spend estimate
before AWS Budgets reports the spend.

Per guarded service: read the budget (DescribeBudget), the service's billed configuration (UsageFactsPort) and
its usage metric (ONE GetMetricData request), estimate the period's spend and project it (domain/spend.py), then:
- projected to reach the enforce threshold within SPEND_GUARD_HORIZON_HOURS and before the period ends: a
  `spend.projected` warning, at most once per service per UTC day (a conditional memo write);
- the estimate at or above the threshold: with SPEND_GUARD=notify (the default) a `spend.estimated_breach`
  notification (at most once a day); with SPEND_GUARD=pause the `budget` pause claim, whose evidence says
  "estimated, not yet confirmed by AWS Budgets" with the estimate's parts. It is the budget claim in every other
  respect: the new period's budget-period check clears it, `warden resume --override budget` overrides it, and an
  override stands for the rest of the period (the guard notifies instead of pausing again);
- an estimate it cannot make (a region without prices, an ECS service on EC2, CloudWatch refusing): said once a
  day, never answered with a zero.

Memos in the state table (per service): `spend.budgets` (Budgets' figure and when Warden saw it change),
`spend.records` (the billed units Warden saw at each check: the ECS desired count stands in for RunningTaskCount
without Container Insights), `spend.estimates` (a day of estimates, for the accuracy report), `spend.last` (the
last estimate and projection, for `warden status`), `spend.accuracy` (the estimate against Budgets' later figure,
recorded by the budget-period check), and the once-a-day markers.

The notifications, the claim's evidence and the sentences `warden status` shows are written by
warden/messages/spend.py from the facts (`SpendFacts`, `SpendPause`, domain/spend.py's `Estimate`,
`GuardDecision` and `CannotReason`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification
from warden.domain.spend import (
    BURN_WINDOW,
    CannotEstimate,
    CannotKind,
    CannotReason,
    Comparison,
    Estimate,
    FigureRecord,
    GuardAction,
    GuardDecision,
    GuardMode,
    baseline,
    compare,
    enforce_amount,
    estimate,
    guard_decision,
    observe_figure,
    record_units,
    records_from_memo,
    records_to_memo,
    warning_day,
)
from warden.domain.target import TargetFacts
from warden.errors import AwsUnavailable, BudgetNotFound, ServiceBusy, ServiceNotFound
from warden.messages import spend as words
from warden.models.money import Money
from warden.observability import count, logger
from warden.settings import ServiceRef, Settings
from warden.usecases.claims import ClaimChange, ClaimDeps, Cleared, place_claim
from warden.usecases.ports import BudgetPort, ImagePort, MetricsPort, NotifierPort, StatePort, UsageFactsPort
from warden.usecases.target import Target
from warden.usecases.undo import UndoFacts, undo_facts

ACTOR = "spend_guard"
USAGE_QUERY = "usage"
FIGURE_MEMO = "spend.budgets"
RECORDS_MEMO = "spend.records"
ESTIMATES_MEMO = "spend.estimates"
LAST_MEMO = "spend.last"
ACCURACY_MEMO = "spend.accuracy"
WARNED_MEMO = "spend.warned"
BREACH_MEMO = "spend.breach_notified"
CANNOT_MEMO = "spend.cannot_estimate"
# A day of estimates (plus margin) is kept for the accuracy report: the budget-period check runs every 6 hours.
ESTIMATES_KEPT = timedelta(hours=26)
ACCURACY_KEPT = 30
# CloudWatch keeps 1-minute data for 15 days and 5-minute data for 63 (AWS-FACTS §9.6): minutes for a window of up
# to 3 days (4,320 points), 5 minutes beyond, and never further back than the 5-minute data reaches.
MINUTE_WINDOW = timedelta(days=3)
OLDEST_WINDOW = timedelta(days=62)
# A failed check (CloudWatch or the platform not answering) is retried by the next one a quarter of an hour later;
# only when the guard has had no estimate for this long does it tell a person it cannot estimate.
SILENT_FOR = timedelta(hours=2)
# The budget-period check clears the previous period's budget claim: that clear is no override (schedule.ACTOR).
PERIOD_CHECK_ACTOR = "run_schedule"


@dataclass(frozen=True)
class SpendDeps:
    service: Target
    state: StatePort
    notifier: NotifierPort
    budgets: BudgetPort
    usage: UsageFactsPort
    metrics: MetricsPort
    images: ImagePort | None = None

    @property
    def claims(self) -> ClaimDeps:
        return ClaimDeps(self.service, self.state, self.images)


class SpendOutcome(StrEnum):
    OK = "ok"
    WARNED = "warned"  # spend.projected sent
    WARNED_EARLIER = "warned_earlier"  # projected, but today's warning went out already
    BREACH_NOTIFIED = "breach_notified"  # SPEND_GUARD=notify: spend.estimated_breach sent
    BREACH_NOTIFIED_EARLIER = "breach_notified_earlier"
    PAUSED = "paused"  # SPEND_GUARD=pause: the budget claim placed and the service paused
    WOULD_PAUSE = "would_pause"  # the same in a dry run
    PAUSE_DEFERRED = "pause_deferred"  # the claim is placed; the platform is busy, the reconcile pauses it
    HELD = "held"  # a budget claim already holds the service
    OVERRIDDEN = "overridden"  # a person cleared the budget claim in this period: notified, not paused again
    CANNOT_ESTIMATE = "cannot_estimate"
    DEFERRED = "deferred"  # AWS did not answer; the next check tries again


class SpendResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    service_arn: str
    outcome: SpendOutcome
    reason: str
    estimate: Decimal | None = None
    reach_at: datetime | None = None
    notification_event: str | None = None


def guarded_services(settings: Settings) -> list[ServiceRef]:
    """The services the guard checks: the one SERVICE_ARN names (a fleet will list every guarded service)."""
    return [settings.service]


def run_spend_checks(deps: SpendDeps, settings: Settings, now: datetime) -> list[SpendResult]:
    """One check per guarded service; one service's failure does not stop the others' checks."""
    results: list[SpendResult] = []
    failure: Exception | None = None
    for service in guarded_services(settings):
        try:
            results.append(check_service(deps, settings, service, now))
        except Exception as error:  # raised after the other services are checked
            logger.exception("spend check failed", extra={"service_arn": service.arn})
            failure = failure or error
    if failure is not None:
        raise failure
    return results


def check_service(deps: SpendDeps, settings: Settings, service: ServiceRef, now: datetime) -> SpendResult:
    arn = service.arn
    try:
        budget = deps.budgets.read_budget(service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        return _cannot(deps, service, now, CannotReason(kind=CannotKind.BUDGET_UNREADABLE, detail=str(missing)))
    if not budget.limit.is_usd or not budget.actual.is_usd:
        return _cannot(deps, service, now, CannotReason(kind=CannotKind.NOT_USD, detail=budget.limit.unit))
    period_start, period_end = budget.period(now)
    record = observe_figure(
        FigureRecord.from_memo(deps.state.get_memo(arn, FIGURE_MEMO)), budget.actual.amount, period_start, now
    )
    deps.state.put_memo(arn, FIGURE_MEMO, record.to_memo())
    start = _window_start(record, now)
    try:
        facts = deps.usage.usage_facts(arn)
        stored = records_from_memo((deps.state.get_memo(arn, RECORDS_MEMO) or {}).get("records"))
        records = record_units(stored, facts.units_now, now, keep_from=start)
        deps.state.put_memo(arn, RECORDS_MEMO, {"records": records_to_memo(records)})
        period = 60 if now - start <= MINUTE_WINDOW else 300
        metric = deps.metrics.metric_data({USAGE_QUERY: facts.metric}, start, now, period)[USAGE_QUERY]
        guess = estimate(facts, settings.spend_prices, record, metric, records, now)
    except CannotEstimate as reason:
        return _cannot(deps, service, now, CannotReason(kind=CannotKind.NOT_PRICED, detail=str(reason)))
    except ServiceNotFound as missing:
        return _cannot(deps, service, now, CannotReason(kind=CannotKind.SERVICE_UNREADABLE, detail=str(missing)))
    except AwsUnavailable as unavailable:
        return _deferred(deps, service, now, str(unavailable))
    threshold = enforce_amount(budget.limit.amount, settings.enforce_threshold_percent)
    decision = guard_decision(
        guess,
        threshold,
        period_end=datetime.combine(period_end, time(0), tzinfo=UTC),
        horizon_hours=settings.spend_guard_horizon_hours,
        mode=settings.spend_guard,
    )
    _remember(deps.state, arn, guess, decision, budget, settings.spend_guard, now)
    why = words.decision_reason(decision)
    logger.info(
        "spend check",
        extra={"service_arn": arn, "estimate": str(guess.total), "action": decision.action, "reason": why},
    )
    count("SpendChecks")
    result = SpendResult(
        service_arn=arn,
        outcome=SpendOutcome.OK,
        reason=why,
        estimate=guess.total,
        reach_at=decision.projection.reach_at,
    )
    if decision.action is not GuardAction.OK and deps.state.get_claim(arn, ClaimReason.BUDGET.value) is not None:
        return result.model_copy(update={"outcome": SpendOutcome.HELD, "reason": words.held_reason(decision)})
    match decision.action:
        case GuardAction.OK:
            return result
        case GuardAction.WARN:
            return _warn(_Check(deps, settings, service, guess, decision, budget, now), result)
        case GuardAction.BREACH:
            return _breach(_Check(deps, settings, service, guess, decision, budget, now), result)


class SpendFacts(BaseModel):
    """One check of one service, as every notification of the guard tells it."""

    model_config = ConfigDict(frozen=True)

    service: str
    target: TargetFacts
    estimate: Estimate
    decision: GuardDecision
    limit: Money  # the budget's
    threshold_percent: Decimal  # ENFORCE_THRESHOLD_PERCENT


class SpendPause(BaseModel):
    """The guard's pause (or, in a dry run, the pause it would make): the budget claim and what converging did."""

    model_config = ConfigDict(frozen=True)

    check: SpendFacts
    dry_run: bool
    change: ClaimChange | None  # None: the claim is recorded, but the platform was busy (`busy` says why)
    busy: str = ""
    undo: UndoFacts


@dataclass(frozen=True)
class _Check:
    deps: SpendDeps
    settings: Settings
    service: ServiceRef
    guess: Estimate
    decision: GuardDecision
    budget: BudgetSnapshot
    now: datetime

    @property
    def facts(self) -> SpendFacts:
        return SpendFacts(
            service=self.service.name,
            target=self.deps.service.facts,
            estimate=self.guess,
            decision=self.decision,
            limit=self.budget.limit,
            threshold_percent=self.settings.enforce_threshold_percent,
        )


# --- acting ----------------------------------------------------------------------------------------------------


def _warn(check: _Check, result: SpendResult) -> SpendResult:
    deps, service = check.deps, check.service
    if not _first_today(deps.state, service.arn, WARNED_MEMO, check.now):
        return result.model_copy(update={"outcome": SpendOutcome.WARNED_EARLIER})
    notification = words.projected(check.facts)
    _publish(deps, service.arn, WARNED_MEMO, notification)
    return result.model_copy(update={"outcome": SpendOutcome.WARNED, "notification_event": notification.event})


def _breach(check: _Check, result: SpendResult) -> SpendResult:
    period_start, _ = check.budget.period(check.now)
    overridden = _cleared_this_period(check.deps.state, check.service.arn, period_start)
    if check.settings.spend_guard is GuardMode.PAUSE and overridden is None:
        return _pause(check, result)
    return _notify_breach(check, result, overridden)


def _notify_breach(check: _Check, result: SpendResult, overridden: Cleared | None) -> SpendResult:
    deps, service = check.deps, check.service
    if not _first_today(deps.state, service.arn, BREACH_MEMO, check.now):
        return result.model_copy(update={"outcome": SpendOutcome.BREACH_NOTIFIED_EARLIER})
    outcome = SpendOutcome.BREACH_NOTIFIED if overridden is None else SpendOutcome.OVERRIDDEN
    notification = words.breach(check.facts, overridden)
    _publish(deps, service.arn, BREACH_MEMO, notification)
    return result.model_copy(update={"outcome": outcome, "notification_event": notification.event})


def _pause(check: _Check, result: SpendResult) -> SpendResult:
    deps, settings, service, guess, budget, now = (
        check.deps,
        check.settings,
        check.service,
        check.guess,
        check.budget,
        check.now,
    )
    if settings.dry_run and not _first_today(deps.state, service.arn, BREACH_MEMO, now):
        # A dry run stores no claim: without this marker it would report "would pause" every quarter of an hour.
        return result.model_copy(update={"outcome": SpendOutcome.BREACH_NOTIFIED_EARLIER})
    period_start, period_end = budget.period(now)
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=ACTOR,
        evidence=words.claim_evidence(guess, budget.limit),
        now=now,
        # One placement per budget period: a person's override of it stands until the period ends.
        source_event=f"spend-guard:{settings.budget_name}:{period_start.isoformat()}",
        details={
            "estimated": "true",
            "estimate": _cents(guess.total),
            "budgets_figure": str(guess.base.reported),
            "budgets_figure_covers_until": guess.base.covered_until.isoformat(),
            "figure_age_hours": _cents(guess.figure_age_hours, "0.1"),
            "usage_since": _cents(guess.usage.cost, "0.0001"),
            "prices": words.prices_line(guess)[:300],
            "actual": str(budget.actual),
            "limit": str(budget.limit),
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
        },
    )

    def told(change: ClaimChange | None, busy: str = "") -> Notification:
        # The undo commands are read after the pause: a platform that remembers what to restore (ECS) quotes it.
        undo = undo_facts(deps.service, settings, ClaimReason.BUDGET, claim.key, state=deps.state)
        pause = SpendPause(check=check.facts, dry_run=settings.dry_run, change=change, busy=busy, undo=undo)
        return words.spend_paused(pause)

    try:
        change = place_claim(
            deps.claims,
            service.arn,
            claim,
            now=now,
            actor=ACTOR,
            dry_run=settings.dry_run,
            source_event=claim.source_event,
        )
    except ServiceBusy as busy:
        # The claim is recorded; the reconcile pauses the service once the operation in progress ends.
        notification = told(None, str(busy))
        deps.notifier.publish(notification)
        count("NotificationsSent")
        return result.model_copy(
            update={"outcome": SpendOutcome.PAUSE_DEFERRED, "notification_event": notification.event}
        )
    if change.cleared is not None:
        # An earlier check in this period paused and a person cleared its claim since: that decision stands.
        return _notify_breach(check, result, change.cleared)
    if not change.changed:
        return result.model_copy(update={"outcome": SpendOutcome.HELD})
    notification = told(change)
    if settings.dry_run:
        _publish(deps, service.arn, BREACH_MEMO, notification)  # not sent: the next check says it again
    else:
        # The claim is placed: should this fail, the invocation fails and run_schedule's errors alarm tells.
        deps.notifier.publish(notification)
        count("NotificationsSent")
    count("SpendGuardDryRunPauses" if settings.dry_run else "SpendGuardPauses")
    outcome = SpendOutcome.WOULD_PAUSE if settings.dry_run else SpendOutcome.PAUSED
    return result.model_copy(update={"outcome": outcome, "notification_event": notification.event})


def _cannot(deps: SpendDeps, service: ServiceRef, now: datetime, cannot: CannotReason) -> SpendResult:
    """The guard cannot estimate: said once a day (and in `warden status`), never answered with a zero."""
    reason = words.cannot_reason(cannot)
    logger.warning("spend guard cannot estimate", extra={"service_arn": service.arn, "reason": reason})
    count("SpendCannotEstimate")
    deps.state.put_memo(
        service.arn, LAST_MEMO, {"at": now.isoformat(), "action": SpendOutcome.CANNOT_ESTIMATE.value, "reason": reason}
    )
    result = SpendResult(service_arn=service.arn, outcome=SpendOutcome.CANNOT_ESTIMATE, reason=reason)
    if not _first_today(deps.state, service.arn, CANNOT_MEMO, now):
        return result
    notification = words.cannot_estimate(service.name, cannot)
    _publish(deps, service.arn, CANNOT_MEMO, notification)
    return result.model_copy(update={"notification_event": notification.event})


def _deferred(deps: SpendDeps, service: ServiceRef, now: datetime, reason: str) -> SpendResult:
    """AWS did not answer: the next check, a quarter of an hour later, tries again. Only when the guard has had no
    estimate for SILENT_FOR does a person hear that it cannot estimate."""
    last = deps.state.get_memo(service.arn, LAST_MEMO) or {}
    made = _moment(last.get("at")) if last.get("action") != SpendOutcome.CANNOT_ESTIMATE.value else None
    if made is None or now - made >= SILENT_FOR:
        return _cannot(deps, service, now, CannotReason(kind=CannotKind.NO_ANSWER, detail=reason, since=made))
    logger.warning("spend check deferred", extra={"service_arn": service.arn, "reason": reason})
    count("SpendChecksDeferred")
    return SpendResult(service_arn=service.arn, outcome=SpendOutcome.DEFERRED, reason=reason)


# --- memory ----------------------------------------------------------------------------------------------------


def _remember(
    state: StatePort,
    arn: str,
    guess: Estimate,
    decision: GuardDecision,
    budget: BudgetSnapshot,
    mode: GuardMode,
    now: datetime,
) -> None:
    reach = decision.projection.reach_at
    state.put_memo(
        arn,
        LAST_MEMO,
        {
            "at": now.isoformat(),
            "estimate": str(guess.total),
            "budgets_figure": str(guess.base.amount),
            "usage_since": str(guess.usage.cost),
            "covered_until": guess.base.covered_until.isoformat(),
            "burn_rate": str(guess.burn_rate),
            "threshold": str(decision.projection.threshold),
            "reach_at": reach.isoformat() if reach is not None and not decision.projection.reached else "",
            "projection": words.projection_text(decision.projection),
            "action": decision.action.value,
            "reason": words.decision_reason(decision),
            "mode": mode.value,
            "parts": "\n".join(words.estimate_parts(guess)),
        },
    )
    log = [entry for entry in _estimates(state, arn)[0] if entry[0] >= now - ESTIMATES_KEPT and entry[0] < now]
    log.append((now, guess.total))
    state.put_memo(arn, ESTIMATES_MEMO, {"log": records_to_memo(log), "limit": str(budget.limit.amount)})


def _estimates(state: StatePort, arn: str) -> tuple[list[tuple[datetime, Decimal]], Decimal]:
    memo = state.get_memo(arn, ESTIMATES_MEMO) or {}
    try:
        limit = Decimal(memo.get("limit") or "0")
    except InvalidOperation:
        limit = Decimal(0)
    return records_from_memo(memo.get("log")), limit


def _first_today(state: StatePort, arn: str, memo: str, now: datetime) -> bool:
    """True for the first caller of the UTC day (one conditional write: two checks cannot both be first)."""
    values = {"day": now.astimezone(UTC).date().isoformat(), "at": now.isoformat()}
    return state.advance_memo(arn, memo, values, order=warning_day(now), token=now.isoformat())


def _publish(deps: SpendDeps, arn: str, marker: str, notification: Notification) -> None:
    try:
        deps.notifier.publish(notification)
    except Exception:
        # Not sent: forget today's marker so that the next check sends it (at most once a day, not "never").
        deps.state.delete_memo(arn, marker)
        raise
    count("NotificationsSent")


def _cleared_this_period(state: StatePort, arn: str, period_start: date) -> Cleared | None:
    """Who cleared a budget claim by hand in this period, and when (None when nobody did).

    The budget-period check (actor run_schedule) clears the previous period's claim at the start of a period: that
    is no override. Any other clear of the budget claim is a person's decision, and stands for the period."""
    for record in state.list_actions(arn, limit=50):  # newest first
        if (
            record.action == "claim.clear"
            and record.outcome == "done"
            and record.reason.startswith(f"{ClaimReason.BUDGET.value}: ")
            and record.actor != PERIOD_CHECK_ACTOR
            and record.at.date() >= period_start
        ):
            return Cleared(
                actor=record.actor, at=record.at, why=record.reason.removeprefix(f"{ClaimReason.BUDGET.value}: ")
            )
    return None


def _window_start(record: FigureRecord, now: datetime) -> datetime:
    """Where the metric window starts: where Budgets' figure stops covering usage, and at least the burn-rate hour
    back; never further back than CloudWatch's 5-minute data reaches. On the minute."""
    start = min(baseline(record, now).covered_until, now - BURN_WINDOW)
    start = max(start, now - OLDEST_WINDOW)
    return start.replace(second=0, microsecond=0)


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _cents(value: Decimal, places: str = "0.01") -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


# --- the accuracy report and `warden status` ----------------------------------------------------------------------


def record_accuracy(state: StatePort, service: ServiceRef) -> Comparison | None:
    """The budget-period check's part: the estimate Warden made just before Budgets' latest refresh, against the
    figure that refresh reported, recorded once per refresh (the last ACCURACY_KEPT comparisons). None when there
    is nothing new to compare."""
    arn = service.arn
    record = FigureRecord.from_memo(state.get_memo(arn, FIGURE_MEMO))
    if record is None or record.refreshed_after is None:
        return None
    memo = state.get_memo(arn, ACCURACY_MEMO) or {}
    if memo.get("compared") == record.refreshed_after.isoformat():
        return None
    estimates, limit = _estimates(state, arn)
    comparison = compare(record, estimates, limit)
    if comparison is None:
        return None
    history = [*_history(memo.get("history")), comparison][-ACCURACY_KEPT:]
    state.put_memo(
        arn,
        ACCURACY_MEMO,
        {
            "compared": record.refreshed_after.isoformat(),
            "history": json.dumps([item.model_dump(mode="json") for item in history], separators=(",", ":")),
        },
    )
    logger.info(
        "spend estimate compared with Budgets",
        extra={"service_arn": arn, "comparison": words.accuracy_line(comparison)},
    )
    return comparison


def _history(text: str | None) -> list[Comparison]:
    try:
        items = json.loads(text or "[]")
        return [Comparison.model_validate(item) for item in items] if isinstance(items, list) else []
    except ValueError:
        return []


class SpendStatus(BaseModel):
    """The guard's last estimate, its projection, and how its estimates compared with Budgets' later figures."""

    model_config = ConfigDict(frozen=True)

    at: datetime | None
    action: str
    reason: str
    estimate: Decimal | None = None
    reach_at: datetime | None = None
    projection: str = ""
    mode: str = ""
    parts: tuple[str, ...] = ()
    accuracy: tuple[Comparison, ...] = ()

    @property
    def mean_absolute_error(self) -> Decimal | None:
        if not self.accuracy:
            return None
        return sum((abs(item.error) for item in self.accuracy), Decimal(0)) / len(self.accuracy)


def spend_status(state: StatePort, service: ServiceRef) -> SpendStatus | None:
    """What `warden status` shows of the guard; None before its first check."""
    last = state.get_memo(service.arn, LAST_MEMO)
    accuracy = tuple(_history((state.get_memo(service.arn, ACCURACY_MEMO) or {}).get("history")))
    if not last and not accuracy:
        return None
    last = last or {}
    try:
        figure = Decimal(last["estimate"]) if last.get("estimate") else None
    except InvalidOperation:
        figure = None
    return SpendStatus(
        at=_moment(last.get("at")),
        action=last.get("action", ""),
        reason=last.get("reason", ""),
        estimate=figure,
        reach_at=_moment(last.get("reach_at")),
        projection=last.get("projection", ""),
        mode=last.get("mode", ""),
        parts=tuple(line for line in last.get("parts", "").split("\n") if line),
        accuracy=accuracy,
    )
