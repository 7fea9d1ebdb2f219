"""The spend guard's words (warden/messages/spend.py) as approved golden files, tests/golden/texts/spend.*.txt.

Each notification the guard can send is rendered from its facts: the estimate and the decision the domain makes
(domain/spend.py, from Budgets' figure and a metric series), the claim change and the undo commands. Most are
rendered again by the `spend-check` job with the in-memory fakes against the same files: the guard words nothing
itself. The sentences of `warden status` and of the accuracy report are approved the same way. `UPDATE_GOLDEN=1`
rewrites the files after a wording change; review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.golden.golden import assert_golden, assert_golden_notification
from tests.golden.worlds import (
    NAME,
    World,
    changed,
    converged,
    seeded,
    service,
    snapshot,
    target,
    undo,
    usage_facts,
)
from warden.domain.claims import Claim, ClaimReason, DesiredState
from warden.domain.converge import decide_convergence
from warden.domain.notification import Notification
from warden.domain.service import ServiceStatus
from warden.domain.spend import (
    Architecture,
    CannotEstimate,
    CannotKind,
    CannotReason,
    Comparison,
    Estimate,
    FigureRecord,
    GuardDecision,
    GuardMode,
    MetricPoints,
    PriceTable,
    enforce_amount,
    estimate,
    guard_decision,
    observe_figure,
    usage_between,
)
from warden.messages.spend import (
    accuracy_line,
    breach,
    cannot_estimate,
    cannot_reason,
    decision_reason,
    estimate_parts,
    held_reason,
    projected,
    projection_text,
    spend_paused,
)
from warden.models.money import Money
from warden.usecases.claims import ClaimStep, Cleared
from warden.usecases.operator import manual_resume
from warden.usecases.schedule import Job, JobResult
from warden.usecases.spend_guard import USAGE_QUERY, SpendFacts, SpendPause

# Saturday 14 March 2026: Budgets says $2.00 until its refresh between 06:00 and 06:15 brings $3.00; from 07:00 the
# service runs 25 instances of 1 vCPU / 2 GB ($1.95 an hour; on ECS 40 tasks, $1.97 an hour).
MIDNIGHT = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)
MARCH = date(2026, 3, 1)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
SPIKE = {"apprunner": 25, "ecs": 40}
BEFORE = {"apprunner": 0, "ecs": 1}
PRICES = PriceTable()
LIMIT = Money(amount=Decimal("10.00"))


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


# --- the facts: the estimate and the decision the domain makes of the spike ----------------------------------------


def figure() -> FigureRecord:
    """Budgets' figure as the checks saw it: $2.00 from midnight to 06:00, $3.00 from 06:15."""
    record = observe_figure(None, Decimal("2.00"), MARCH, MIDNIGHT)
    record = observe_figure(record, Decimal("2.00"), MARCH, at(6))
    return observe_figure(record, Decimal("3.00"), MARCH, at(6.25))


def spike_estimate(now: datetime, platform: str = "apprunner") -> Estimate:
    """The estimate at `now`: the metric read from 06:00 (where Budgets' figure stops covering usage)."""
    start, points = at(6), []
    minute = start
    while minute < now:
        points.append((minute, Decimal(SPIKE[platform] if minute >= at(7) else BEFORE[platform])))
        minute += timedelta(minutes=1)
    metric = MetricPoints(period_seconds=60, points=tuple(points))
    return estimate(usage_facts(platform), PRICES, figure(), metric, [(MIDNIGHT, Decimal(1))], now)


def decided(guess: Estimate, mode: GuardMode = GuardMode.NOTIFY) -> GuardDecision:
    threshold = enforce_amount(LIMIT.amount, Decimal(100))
    return guard_decision(guess, threshold, period_end=APRIL, horizon_hours=24, mode=mode)


def check(now: datetime, platform: str = "apprunner", mode: GuardMode = GuardMode.NOTIFY) -> SpendFacts:
    guess = spike_estimate(now, platform)
    return SpendFacts(
        service=NAME,
        target=target(platform),
        estimate=guess,
        decision=decided(guess, mode),
        limit=LIMIT,
        threshold_percent=Decimal(100),
    )


def budget_claim(now: datetime) -> Claim:
    return seeded(ClaimReason.BUDGET, "estimated", "spend_guard", ago=timedelta(0), now=now)


def paused(platform: str = "apprunner", *, dry_run: bool = False) -> SpendPause:
    now = at(10.75)
    step = ClaimStep.WOULD_RECORD if dry_run else ClaimStep.RECORDED
    result = converged(service(platform), (budget_claim(now),), called=None if dry_run else "pause", dry_run=dry_run)
    return SpendPause(
        check=check(now, platform, GuardMode.PAUSE),
        dry_run=dry_run,
        change=changed("budget", step, result),
        undo=undo(platform, ClaimReason.BUDGET),
    )


def deferred() -> SpendPause:
    busy = service(status=ServiceStatus.OPERATION_IN_PROGRESS)
    return SpendPause(
        check=check(at(10.75), mode=GuardMode.PAUSE),
        dry_run=False,
        change=None,
        busy=f"{NAME}: {decide_convergence(busy, DesiredState.PAUSED).reason}",
        undo=undo("apprunner", ClaimReason.BUDGET),
    )


def no_prices_for(region: str) -> CannotReason:
    """What the domain says of a region without prices (CannotEstimate's text)."""
    with pytest.raises(CannotEstimate) as raised:
        usage_between(usage_facts("apprunner", region=region), PRICES, MetricPoints(), [], at(0), at(1))
    return CannotReason(kind=CannotKind.NOT_PRICED, detail=str(raised.value))


CLEARED_BY_ALICE = Cleared(actor="alice", at=at(11), why="alice: launch day")

FROM_FACTS: dict[str, Callable[[], Notification]] = {
    # The first check that sees the spike projects the threshold within the day: a warning, per SPEND_GUARD.
    "spend.projected": lambda: projected(check(at(7.25))),
    "spend.projected.pause_mode": lambda: projected(check(at(7.25), mode=GuardMode.PAUSE)),
    # The estimate reaches the threshold: SPEND_GUARD=notify only notifies.
    "spend.estimated_breach": lambda: breach(check(at(10.75)), None),
    # A person cleared the guard's budget claim in this period: the guard does not pause again.
    "spend.overridden": lambda: breach(check(at(11.25), mode=GuardMode.PAUSE), CLEARED_BY_ALICE),
    # SPEND_GUARD=pause: the budget claim and the pause, with each platform's costs and undo commands.
    "spend.paused.apprunner": lambda: spend_paused(paused()),
    "spend.paused.ecs": lambda: spend_paused(paused("ecs")),
    "spend.dry_run": lambda: spend_paused(paused(dry_run=True)),
    # The claim is recorded, but the platform is busy: the reconcile pauses the service.
    "spend.pause_deferred": lambda: spend_paused(deferred()),
    # No prices for the service's region: said once a day, never priced at zero.
    "spend.cannot_estimate": lambda: cannot_estimate(NAME, no_prices_for("ap-northeast-1")),
}


@pytest.mark.parametrize("name", FROM_FACTS)
def test_each_spend_guard_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one check, When the renderer writes its notification, Then it is the approved text
    assert_golden_notification(name, FROM_FACTS[name]())


def test_the_reasons_of_every_decision_and_every_missing_estimate_read_as_approved() -> None:
    # Given an estimate of $6.10 burning at each rate, with the period ending in 17 days or in an hour
    now = at(10)

    def burning(total: str, rate: str, *, period_end: datetime = APRIL, mode: GuardMode = GuardMode.NOTIFY) -> str:
        guess = spike_estimate(now)
        guess = guess.model_copy(
            update={
                "burn_rate": Decimal(rate),
                "base": guess.base.model_copy(update={"amount": Decimal(total)}),
                "usage": guess.usage.model_copy(update={"cost": Decimal(0)}),
            }
        )
        decision = guard_decision(guess, Decimal("10.00"), period_end=period_end, horizon_hours=24, mode=mode)
        projection = projection_text(decision.projection)
        return f"{decision.action.value}: {decision_reason(decision)}\n  projection: {projection}"

    lines = [
        burning("6.10", "1.95"),
        burning("6.10", "0.10"),
        burning("6.10", "1.95", period_end=now + timedelta(hours=1)),
        burning("6.10", "0"),
        burning("10.00", "0"),
        burning("10.50", "1", mode=GuardMode.PAUSE),
        "held: " + held_reason(decided(spike_estimate(at(10.75)), GuardMode.PAUSE)),
        *(
            f"cannot: {cannot_reason(reason)}"
            for reason in [
                CannotReason(kind=CannotKind.BUDGET_UNREADABLE, detail="no budget named 'consultation-app-monthly'"),
                CannotReason(kind=CannotKind.NOT_USD, detail="GB"),
                no_prices_for("ap-northeast-1"),
                CannotReason(kind=CannotKind.SERVICE_UNREADABLE, detail=f"{NAME}: no such service"),
                CannotReason(kind=CannotKind.NO_ANSWER, detail="cloudwatch GetMetricData failed: Throttling"),
                CannotReason(
                    kind=CannotKind.NO_ANSWER, detail="cloudwatch GetMetricData failed: Throttling", since=at(8)
                ),
            ]
        ),
    ]
    # When each is told, Then the sentences are the approved ones
    assert_golden("spend.reasons", "\n".join(lines) + "\n")


def test_the_evidence_of_every_kind_of_estimate_reads_as_approved() -> None:
    # Given estimates from each kind of Budgets figure (refreshed, first seen, carried over) and each kind of gap
    now = at(10)
    refreshed = observe_figure(observe_figure(None, Decimal("8.13"), MARCH, at(8)), Decimal("9.00"), MARCH, at(8.25))
    first_look = observe_figure(None, Decimal("2.00"), MARCH, now)
    march_first = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    february = observe_figure(None, Decimal("9.50"), date(2026, 2, 1), datetime(2026, 2, 28, 23, 45, tzinfo=UTC))
    carried = observe_figure(february, Decimal("9.50"), MARCH, march_first)

    def minutes(start: datetime, count: int, value: int) -> list[tuple[datetime, Decimal]]:
        return [(start + timedelta(minutes=n), Decimal(value)) for n in range(count)]

    gaps = MetricPoints(
        points=tuple(minutes(at(8), 10, 5) + minutes(at(8 + 40 / 60), 20, 5) + minutes(at(9 + 10 / 60), 20, 5))
    )
    fargate = usage_facts("ecs").model_copy(
        update={"vcpu": Decimal("0.25"), "memory_gb": Decimal("0.5"), "described": "0.25 vCPU / 0.5 GB per task"}
    )
    arm = fargate.model_copy(update={"architecture": Architecture.ARM64})
    tasks = [(now - timedelta(days=2), Decimal(2))]
    estimates = {
        "refreshed, full data": estimate(
            usage_facts("apprunner"), PRICES, refreshed, MetricPoints(points=tuple(minutes(at(7), 180, 25))), [], now
        ),
        "first look, no data (App Runner)": estimate(
            usage_facts("apprunner"), PRICES, first_look, MetricPoints(), [], now
        ),
        "first look, no data (Fargate)": estimate(fargate, PRICES, first_look, MetricPoints(), tasks, now),
        "carried over": estimate(
            arm,
            PRICES,
            carried,
            MetricPoints(points=tuple(minutes(march_first - timedelta(hours=6), 360, 3))),
            tasks,
            march_first,
        ),
        "gaps (App Runner)": estimate(usage_facts("apprunner"), PRICES, refreshed, gaps, [], now),
        "gaps (Fargate)": estimate(fargate, PRICES, refreshed, gaps, tasks, now),
    }
    # When each estimate's evidence is told, Then it is the approved lines
    text = "".join(f"{case}:\n" + "".join(f"  {line}\n" for line in estimate_parts(e)) for case, e in estimates.items())
    assert_golden("spend.parts", text)


def test_the_accuracy_line_reads_as_approved() -> None:
    # Given the 06:00 estimate of $4.34 against the $2.45 Budgets reported next, of a $10.00 budget
    comparison = Comparison(
        estimated_at=at(6), estimated=Decimal("4.34"), reported=Decimal("2.45"), limit=Decimal("10.00")
    )
    # When it is told, Then it is the approved line
    assert_golden("spend.accuracy", accuracy_line(comparison) + "\n")


# --- the same notifications, through the spend-check job with fakes -------------------------------------------------


def units(world: World, count: int, start: datetime, end: datetime) -> None:
    series = world.metrics.series.setdefault(USAGE_QUERY, [])
    minute = start
    while minute < end:
        series.append((minute, Decimal(count)))
        minute += timedelta(minutes=1)


def checks(world: World, start: datetime, end: datetime) -> list[JobResult]:
    results, now = [], start
    while now < end:
        results.append(world.run(Job.SPEND_CHECK, now))
        now += QUARTER
    return results


def spike(platform: str = "apprunner", **env: str) -> World:
    world = World(platform, actual="2.00", **env)
    units(world, BEFORE[platform], MIDNIGHT - timedelta(days=1), at(7))
    units(world, SPIKE[platform], at(7), MIDNIGHT + timedelta(days=2))
    checks(world, MIDNIGHT, at(6.25))
    world.budgets.snapshot = snapshot("3.00")
    return world


def first(event: str, platform: str = "apprunner", **env: str) -> Callable[[], Notification]:
    """The first notification of `event` in a day of checks through the spike."""

    def run() -> Notification:
        world = spike(platform, **env)
        checks(world, at(6.25), at(20))
        return next(sent for sent in world.notifier.sent if sent.event == event)

    return run


def overridden() -> Notification:
    world = spike(SPEND_GUARD="pause")
    checks(world, at(6.25), at(11))
    manual_resume(
        world.operator, world.settings, who="alice", reason="launch day", override=ClaimReason.BUDGET, now=at(11)
    )
    checks(world, at(11.25), at(12))
    return world.last()


def busy_at_the_breach() -> Notification:
    world = spike(SPEND_GUARD="pause")
    checks(world, at(6.25), at(10.75))
    world.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    checks(world, at(10.75), at(11))
    return world.last()


def region_without_prices() -> Notification:
    world = World(actual="2.00")
    world.usage.facts = usage_facts("apprunner", region="ap-northeast-1")
    checks(world, MIDNIGHT, MIDNIGHT + QUARTER)
    return world.last()


THROUGH_THE_USE_CASE: dict[str, Callable[[], Notification]] = {
    "spend.projected": first("spend.projected"),
    "spend.projected.pause_mode": first("spend.projected", SPEND_GUARD="pause"),
    "spend.estimated_breach": first("spend.estimated_breach"),
    "spend.paused.apprunner": first("spend.paused", SPEND_GUARD="pause"),
    "spend.paused.ecs": first("spend.paused", "ecs", SPEND_GUARD="pause"),
    "spend.dry_run": first("spend.dry_run", SPEND_GUARD="pause", DRY_RUN="true"),
    "spend.overridden": overridden,
    "spend.pause_deferred": busy_at_the_breach,
    "spend.cannot_estimate": region_without_prices,
}


@pytest.mark.parametrize("name", THROUGH_THE_USE_CASE)
def test_the_spend_check_publishes_exactly_what_the_renderer_writes(name: str) -> None:
    # Given a spike in the fakes (Budgets, the metric, the service), When the guard checks every quarter of an hour
    sent = THROUGH_THE_USE_CASE[name]()
    # Then the notification it publishes is the approved text, the same the renderer writes from the facts
    assert_golden_notification(name, sent)
    assert sent == FROM_FACTS[name]()


def test_the_budget_period_check_reports_the_approved_accuracy_line() -> None:
    # Given one instance all morning and Budgets refreshing from $2.00 to $2.45 between 06:00 and 06:15
    world = World(actual="2.00")
    units(world, 1, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    checks(world, MIDNIGHT, at(6.25))
    world.budgets.snapshot = snapshot("2.45")
    checks(world, at(6.25), at(9))
    # When the budget-period check compares the 06:00 estimate with it
    result = world.run(Job.BUDGET_PERIOD_CHECK, at(9))
    # Then its accuracy line is the approved one
    assert result.accuracy is not None
    assert_golden("spend.accuracy", result.accuracy + "\n")
