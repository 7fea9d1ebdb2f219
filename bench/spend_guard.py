"""Benchmark: the spend guard against AWS Budgets alone, on simulated budget periods (issue 17).

    .venv/bin/python -m bench.spend_guard            # 20 trials per random scenario, a year of steady periods
    .venv/bin/python -m bench.spend_guard --quick    # 5 trials, 3 steady periods

What is simulated, minute by minute, on a $10.00 monthly budget enforced at 100 %:
- **the service's usage** per scenario (below), priced here with the list prices of AWS-FACTS §4.7 / §9.5 in plain
  floats: the "truth", computed independently of the code under test;
- **AWS Budgets**: it refreshes its figure 1 to 8 hours into a period, then every 8 to 12 hours (uniformly at
  random); each refresh shows the period's true spend up to the refresh (`--budgets-lag-hours` shows it that many
  hours behind instead; the default 0 is the optimistic case for Budgets). Until its first refresh in a period it
  still shows the previous period's figure. Budgets' own alert pauses the service at the first refresh whose figure
  reaches the threshold (on_budget_alert verifies and pauses at once): that is **Budgets-only**;
- **Warden's guard**: the real `spend-check` use case (usecases/spend_guard.py and domain/spend.py, with settings
  SPEND_GUARD=pause) every 15 minutes, over in-memory ports: Budgets' figure as above, the service's
  configuration, and its CloudWatch metric minute by minute with the last 2 minutes not yet delivered. Budgets' own
  alert stays on beside it, so the guard's column pauses at whichever comes first.

The **overshoot** is the period's spend above the budget at the end of the period, in % of the budget (a pause
stops the compute; Budgets keeps reporting). The **time to pause** runs from the minute the true spend crosses the
threshold to the pause (negative: the guard paused before the true crossing, on an estimate slightly above it).

Then each random scenario's first trial is **replayed on the local account** (moto's CloudWatch, Budgets and ECS,
and the App Runner emulator) with the real adapters, from the quarter hour before Budgets' last refresh ahead of
the pause, and the replay's estimates and pause are compared with the in-process run's: the in-process figures
are the moto run's, only faster.

Scenarios (the tutorial's App Runner service is 0.25 vCPU / 0.5 GB with one instance kept warm):
- steady: office-hours traffic (one or two active instances on weekdays 08:00-20:00 UTC, rarely at night),
  about $6 a month, for a year of periods: any pause is a false pause;
- spike: at a random hour a misconfigured release runs 25 instances of 1 vCPU / 2 GB (about $1.95 an hour) until
  paused;
- slow climb: traffic growing through the month from a fifth of an instance to five active instances;
- paused: the service paused all period (a manual claim);
- ECS scale-out: an ECS Fargate service of one ARM task of 0.25 vCPU / 0.5 GB scales out to 100 tasks at a random
  hour (an auto scaling maximum set too high, about $0.99 an hour), with Container Insights (RunningTaskCount) and
  without (Warden's records of the desired count).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import random
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import ROOT, write_results

RESULTS = ROOT / "bench" / "results" / "spend_guard.json"
BUDGET = 10.0
TICK = 15  # minutes between spend checks (the template's schedule)
CLOUDWATCH_DELAY = 2  # minutes of data CloudWatch has not delivered yet at a check
REFRESH_HOURS = (8.0, 12.0)
FIRST_REFRESH_HOURS = (1.0, 8.0)
WARM_UP = timedelta(days=2)
LAGGING = (
    4 * 60
)  # the sensitivity run's Budgets lag, minutes  # checks before the event, so that the guard has seen Budgets refresh
SMALL, LARGE = (0.25, 0.5), (1.0, 2.0)
APP_RUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
BUDGET_NAME = "consultation-app-monthly"

# The truth's prices, USD per hour (AWS-FACTS §4.7, §9.5), kept apart from domain/spend.py on purpose.
AR_VCPU, AR_GB, AR_WARM_GB = 0.064, 0.007, 0.007
FARGATE = {"x86_64": (0.04048, 0.004445), "arm64": (0.03238, 0.00356)}


# --- the truth ----------------------------------------------------------------------------------------------------


@dataclass
class Period:
    """One budget period's usage, minute by minute: billed units (App Runner active instances, or ECS tasks) and
    the size they run at. A pause (from minute `paused_from`) stops both."""

    start: datetime
    platform: str  # "apprunner" | "ecs"
    units: list[int]
    sizes: list[tuple[float, float]]
    architecture: str = "x86_64"
    warm_minimum: int = 1
    insights: bool = True
    paused_from: int | None = None
    label: str = ""
    event_minute: int | None = None  # the spike or scale-out

    @property
    def minutes(self) -> int:
        return len(self.units)

    def running(self, minute: int) -> bool:
        return self.paused_from is None or minute < self.paused_from

    def cost(self, minute: int) -> float:
        """The true cost of one minute, in USD."""
        if not self.running(minute):
            return 0.0
        vcpu, gb = self.sizes[minute]
        units = self.units[minute]
        if self.platform == "apprunner":
            warm = max(self.warm_minimum - units, 0)
            return (units * (vcpu * AR_VCPU + gb * AR_GB) + warm * gb * AR_WARM_GB) / 60
        cpu_price, gb_price = FARGATE[self.architecture]
        return units * (vcpu * cpu_price + gb * gb_price) / 60


def month_minutes(start: datetime) -> int:
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return int((following - start).total_seconds() // 60)


def steady_units(rng: random.Random, start: datetime, minutes: int, scale: float = 1.0) -> list[int]:
    """Office-hours traffic: per hour, 0, 1 or 2 active instances."""
    units: list[int] = []
    for hour in range(math.ceil(minutes / 60)):
        moment = start + timedelta(hours=hour)
        office = moment.weekday() < 5 and 8 <= moment.hour < 20
        draw = rng.random() / scale
        value = (2 if draw < 0.1 else 1 if draw < 0.55 else 0) if office else (1 if draw < 0.06 else 0)
        units.extend([value] * 60)
    return units[:minutes]


def steady(rng: random.Random, start: datetime) -> Period:
    minutes = month_minutes(start)
    scale = rng.uniform(0.85, 1.15)
    return Period(start, "apprunner", steady_units(rng, start, minutes, scale), [SMALL] * minutes, label="steady")


def spike(rng: random.Random, start: datetime) -> Period:
    period = steady(rng, start)
    at = rng.randrange(2 * 1440, period.minutes - 3 * 1440)
    at -= at % 60 - rng.randrange(60)  # a random minute of a random hour
    for minute in range(at, period.minutes):
        period.units[minute], period.sizes[minute] = 25, LARGE
    period.label, period.event_minute = "spike", at
    return period


def slow_climb(rng: random.Random, start: datetime) -> Period:
    minutes = month_minutes(start)
    units: list[int] = []
    for hour in range(math.ceil(minutes / 60)):
        mean = 0.2 + 4.8 * hour * 60 / minutes
        units.extend([int(mean) + (1 if rng.random() < mean - int(mean) else 0)] * 60)
    return Period(start, "apprunner", units[:minutes], [SMALL] * minutes, label="slow climb")


def paused(rng: random.Random, start: datetime) -> Period:
    period = steady(rng, start)
    period.paused_from, period.label = 0, "paused"
    return period


def ecs_scale_out(rng: random.Random, start: datetime, *, insights: bool) -> Period:
    minutes = month_minutes(start)
    at = rng.randrange(2 * 1440, minutes - 3 * 1440)
    units = [1] * at + [100] * (minutes - at)
    return Period(
        start,
        "ecs",
        units,
        [SMALL] * minutes,
        architecture="arm64",
        insights=insights,
        label="ECS scale-out" + ("" if insights else ", no Container Insights"),
        event_minute=at,
    )


# --- AWS Budgets --------------------------------------------------------------------------------------------------


def refresh_minutes(rng: random.Random, minutes: int) -> list[int]:
    """When Budgets refreshes in a period: first 1-8 h in, then every 8-12 h."""
    at = int(rng.uniform(*FIRST_REFRESH_HOURS) * 60)
    found: list[int] = []
    while at < minutes:
        found.append(at)
        at += int(rng.uniform(*REFRESH_HOURS) * 60)
    return found


@dataclass
class Ledger:
    """The period's true cumulative spend, minute by minute, as far as the simulation has run."""

    period: Period
    spent: list[float] = field(default_factory=lambda: [0.0])

    def upto(self, minute: int) -> float:
        """Spend over [0, minute)."""
        while len(self.spent) <= minute:
            index = len(self.spent) - 1
            self.spent.append(self.spent[-1] + (self.period.cost(index) if index < self.period.minutes else 0.0))
        return self.spent[max(minute, 0)]


def crossing(period: Period) -> int | None:
    """The first minute after which the period's true spend (without any pause) reaches the budget."""
    spent = 0.0
    for minute in range(period.minutes):
        spent += period.cost(minute)
        if spent >= BUDGET:
            return minute + 1
    return None


# --- Budgets-only --------------------------------------------------------------------------------------------------


def budgets_only(period: Period, refreshes: list[int], lag: int) -> int | None:
    """The minute Budgets' own alert pauses the service, or None."""
    ledger = Ledger(period)
    for at in refreshes:
        if ledger.upto(max(at - lag, 0)) >= BUDGET:
            return at
    return None


# --- the guard ------------------------------------------------------------------------------------------------------


@dataclass
class SimBudgets:
    figure: float = 0.0

    def read_budget(self, account_id: str, budget_name: str) -> Any:
        from warden.domain.budget import BudgetSnapshot
        from warden.models.money import Money

        return BudgetSnapshot(
            name=BUDGET_NAME,
            limit=Money(amount=Decimal("10.00")),
            actual=Money(amount=Decimal(f"{self.figure:.2f}")),
        )


@dataclass
class SimService:
    """The platform: usage facts and metrics from the period, minute by minute, up to `now`."""

    period: Period
    now_minute: int = 0
    requests: int = 0

    def usage_facts(self, service_arn: str) -> Any:
        from warden.domain.spend import Architecture, MetricSpec, Pricing, UsageFacts

        minute = min(self.now_minute, self.period.minutes - 1)
        vcpu, gb = self.period.sizes[minute]
        running = self.period.running(self.now_minute)
        if self.period.platform == "apprunner":
            return UsageFacts(
                pricing=Pricing.APP_RUNNER,
                region="us-east-1",
                vcpu=Decimal(str(vcpu)),
                memory_gb=Decimal(str(gb)),
                warm_minimum=self.period.warm_minimum,
                running=running,
                units_now=Decimal(self.period.warm_minimum if running else 0),
                metric=MetricSpec(namespace="AWS/AppRunner", name="ActiveInstances", dimensions=()),
                described="simulated",
            )
        return UsageFacts(
            pricing=Pricing.FARGATE,
            region="us-east-1",
            vcpu=Decimal(str(vcpu)),
            memory_gb=Decimal(str(gb)),
            architecture=Architecture(self.period.architecture),
            running=running,
            units_now=Decimal(self.period.units[minute] if running else 0),
            metric=MetricSpec(namespace="ECS/ContainerInsights", name="RunningTaskCount", dimensions=()),
            described="simulated",
        )

    def metric_data(self, queries: Any, start: datetime, end: datetime, period_seconds: int) -> dict[str, Any]:
        from warden.domain.spend import MetricPoints

        self.requests += 1
        points: list[tuple[datetime, Decimal]] = []
        if self.period.platform == "apprunner" or self.period.insights:
            first = max(int((start - self.period.start).total_seconds() // 60), 0)
            last = min(int((end - self.period.start).total_seconds() // 60) - CLOUDWATCH_DELAY, self.period.minutes)
            step = period_seconds // 60
            values = {1: Decimal(1), 0: Decimal(0)}
            for minute in range(first - first % step, last, step):
                running = self.period.running(minute)
                if not running and self.period.platform == "apprunner":
                    continue  # a paused App Runner service has no instance and publishes nothing
                chunk = range(minute, min(minute + step, last))
                value = max((self.period.units[m] if self.period.running(m) else 0) for m in chunk)
                at = self.period.start + timedelta(minutes=minute)
                points.append((at, values.get(value) or Decimal(value)))
        return {query_id: MetricPoints(period_seconds=period_seconds, points=tuple(points)) for query_id in queries}


@dataclass
class Run:
    label: str
    crossing: int | None
    budgets_pause: int | None
    guard_pause: int | None
    guard_by: str  # "guard" | "budgets" | ""
    budgets_overshoot_pct: float
    guard_overshoot_pct: float
    warnings: int
    checks: int
    estimates: list[tuple[int, str, str]]  # (minute, estimate, outcome) per check, for the replay
    errors: list[float]  # the estimate before each Budgets refresh minus the figure it brought, USD

    @property
    def budgets_hours(self) -> float | None:
        return (
            None if self.crossing is None or self.budgets_pause is None else (self.budgets_pause - self.crossing) / 60
        )

    @property
    def guard_hours(self) -> float | None:
        return None if self.crossing is None or self.guard_pause is None else (self.guard_pause - self.crossing) / 60


def overshoot(period: Period, pause: int | None) -> float:
    period.paused_from = pause if period.paused_from != 0 else 0
    spent = Ledger(period).upto(period.minutes)
    return max(spent - BUDGET, 0.0) / BUDGET * 100


def guard_run(
    period: Period,
    refreshes: list[int],
    lag: int,
    *,
    previous_figure: float,
    begin: int,
    end: int | None = None,
    state: Any = None,
    errors: list[float] | None = None,
) -> tuple[int | None, str, int, int, list[tuple[int, str, str]], Any]:
    """The real use case every quarter of an hour from minute `begin` until the pause (or `end`): the pause minute,
    who paused ("guard" or "budgets"), projection warnings, checks, and the estimates."""
    from tests.fakes import FakeNotifier, FakeService, FakeState
    from warden.domain.spend import FigureRecord
    from warden.settings import Settings
    from warden.usecases.schedule import Job, ScheduleDeps, run_job
    from warden.usecases.spend_guard import FIGURE_MEMO, record_accuracy

    arn = APP_RUNNER_ARN if period.platform == "apprunner" else ECS_ARN
    settings = Settings.from_env(
        {
            "SERVICE_ARN": arn,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": BUDGET_NAME,
            "SPEND_GUARD": "pause",
        }
    )
    from warden.domain.service import ServiceStatus

    initially = ServiceStatus.PAUSED if period.paused_from == 0 else ServiceStatus.RUNNING
    service: Any = FakeService(arn=arn, status=initially)
    if state is None:
        state = FakeState()
        if begin == 0:
            # Warden ran through the previous period: it saw Budgets' last figure of it, so it can tell that figure
            # from the new period's (a first look on the 1st could not: domain/spend.py takes it as this period's).
            last_month = (period.start - timedelta(days=1)).date().replace(day=1)
            seen = FigureRecord(
                figure=Decimal(f"{previous_figure:.2f}"),
                period_start=last_month,
                first_seen=period.start - timedelta(hours=12),
                last_seen=period.start - timedelta(minutes=TICK),
            )
            state.put_memo(arn, FIGURE_MEMO, seen.to_memo())
    notifier = FakeNotifier()
    platform, budgets = SimService(period), SimBudgets(previous_figure)
    deps = ScheduleDeps(service, state, notifier, budgets, None, usage=platform, metrics=platform)
    ledger = Ledger(period)
    last = end if end is not None else period.minutes
    pending = [at for at in refreshes if at <= begin]
    if pending:
        budgets.figure = ledger.upto(max(pending[-1] - lag, 0))
    upcoming = [at for at in refreshes if at > begin]
    estimates: list[tuple[int, str, str]] = []
    checks = 0
    minute = begin - begin % TICK
    while minute < last:
        while upcoming and upcoming[0] <= minute:
            at = upcoming.pop(0)
            budgets.figure = ledger.upto(max(at - lag, 0))
            if budgets.figure >= BUDGET and period.running(at):
                period.paused_from = at  # Budgets' own alert: on_budget_alert pauses at once
                return at, "budgets", _warnings(notifier), checks, estimates, state
        platform.now_minute = minute
        result = run_job(Job.SPEND_CHECK, deps, settings, period.start + timedelta(minutes=minute))
        checks += 1
        memo = state.get_memo(arn, "spend.last") or {}
        estimates.append((minute, memo.get("estimate", ""), result.outcome))
        # The budget-period check's comparison, made at every check here (it records each refresh once).
        comparison = record_accuracy(state, settings.service)
        if comparison is not None and errors is not None:
            errors.append(float(comparison.error))
        if service.status is ServiceStatus.PAUSED and period.running(minute):
            period.paused_from = minute
            return minute, "guard", _warnings(notifier), checks, estimates, state
        minute += TICK
    return None, "", _warnings(notifier), checks, estimates, state


def _warnings(notifier: Any) -> int:
    return sum(1 for sent in notifier.sent if sent.event == "spend.projected")


def first_check(period: Period) -> int:
    """Where a trial's checks start: WARM_UP before the spike or scale-out, else at the period's start."""
    if period.event_minute is None:
        return 0
    return max(0, period.event_minute - int(WARM_UP.total_seconds() // 60))


def trial(make: Callable[[random.Random, datetime], Period], seed: int, start: datetime, lag: int) -> Run:
    rng = random.Random(seed)
    period = make(rng, start)
    refreshes = refresh_minutes(rng, period.minutes)
    cross = crossing(period)
    budgets_pause = budgets_only(period, refreshes, lag)
    budgets_overshoot = overshoot(period, budgets_pause)
    period.paused_from = 0 if period.label == "paused" else None
    errors: list[float] = []
    pause, by, warnings, checks, estimates, _ = guard_run(
        period, refreshes, lag, previous_figure=BUDGET * 0.6, begin=first_check(period), errors=errors
    )
    return Run(
        label=period.label,
        crossing=cross,
        budgets_pause=budgets_pause,
        guard_pause=pause,
        guard_by=by,
        budgets_overshoot_pct=budgets_overshoot,
        guard_overshoot_pct=overshoot(period, pause),
        warnings=warnings,
        checks=checks,
        estimates=estimates,
        errors=errors,
    )


def steady_year(seed: int, months: int, lag: int) -> dict[str, Any]:
    """Consecutive steady periods on one state table: the guard carries its memory across periods."""
    rng = random.Random(seed)
    state: Any = None
    previous = BUDGET * 0.6
    pauses = warnings = checks = 0
    peaks: list[float] = []
    spends: list[float] = []
    daily: dict[str, int] = {}
    errors: list[float] = []
    for month in range(months):
        start = datetime(2026 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        period = steady(rng, start)
        refreshes = refresh_minutes(rng, period.minutes)
        pause, _, warned, ran, estimates, state = guard_run(
            period, refreshes, lag, previous_figure=previous, begin=0, state=state, errors=errors
        )
        pauses += pause is not None
        warnings += warned
        checks += ran
        peaks.append(max((float(value) for _, value, _ in estimates if value), default=0.0))
        spends.append(Ledger(period).upto(period.minutes))
        previous = Ledger(period).upto(refreshes[-1]) if refreshes else previous
        for minute, _, outcome in estimates:
            if outcome == "warned":
                day = f"{(start + timedelta(minutes=minute)).date()}"
                daily[day] = daily.get(day, 0) + 1
    return {
        "periods": months,
        "checks": checks,
        "false_pauses": pauses,
        "projection_warnings": warnings,
        "most_warnings_in_a_day": max(daily.values(), default=0),
        "spend_per_period_usd": [round(spend, 2) for spend in spends],
        "highest_estimate_per_period_usd": [round(peak, 2) for peak in peaks],
        "accuracy": accuracy(errors),
    }


def accuracy(errors: list[float]) -> dict[str, Any]:
    """The estimates just before Budgets' refreshes against the figures those refreshes brought."""
    if not errors:
        return {"comparisons": 0}
    return {
        "comparisons": len(errors),
        "mean_error_usd": round(statistics.mean(errors), 4),
        "mean_absolute_error_usd": round(statistics.mean(abs(error) for error in errors), 4),
        "worst_error_pct_of_budget": round(max(abs(error) for error in errors) / BUDGET * 100, 2),
    }


# --- the replay on the local account ----------------------------------------------------------------------------------


def replay(
    make: Callable[[random.Random, datetime], Period], seed: int, start: datetime, lag: int, run: Run
) -> dict[str, Any]:
    """The trial's critical window on moto and the App Runner emulator, with the real adapters."""
    from moto.budgets.models import budgets_backends

    from local.account import ACCOUNT_ID, local_servers, seed_account
    from local.ecs import CLUSTER, seed_ecs_service
    from local.invoke import fresh_container
    from warden.adapters.dynamodb import StateTable
    from warden.settings import get_settings
    from warden.usecases.schedule import Job, run_job
    from warden.wiring import schedule_deps

    rng = random.Random(seed)
    period = make(rng, start)
    refreshes = refresh_minutes(rng, period.minutes)
    pause = run.guard_pause
    if pause is None or run.guard_by != "guard":
        return {"replayed": False, "why": "Budgets' own alert paused first: nothing of the guard's to replay"}
    # From the quarter hour before Budgets' last refresh ahead of the pause, on the state table as the in-process run
    # left it then (its memos are copied over): both runs then read the same figures, records and metrics.
    before = [at for at in refreshes if at <= pause]
    first = first_check(period) - first_check(period) % TICK  # the in-process run's first quarter hour
    begin = max((before[-1] - before[-1] % TICK - TICK) if before else 0, first)
    *_, earlier = guard_run(
        make(random.Random(seed), start),
        refreshes,
        lag,
        previous_figure=BUDGET * 0.6,
        begin=first_check(period),
        end=begin,
    )
    ledger = Ledger(period)
    in_process = {minute: value for minute, value, _ in run.estimates}
    agreed, compared = 0, 0
    disagreements: list[dict[str, Any]] = []
    moto_pause: int | None = None
    with local_servers() as servers, contextlib.redirect_stdout(io.StringIO()):
        # moto's backends live in this process, shared by every server it starts: start from an empty account.
        urllib.request.urlopen(urllib.request.Request(f"{servers.moto_url}/moto-api/reset", method="POST"), timeout=30)
        account = seed_account(servers)
        if period.platform == "ecs":
            import dataclasses

            arn = seed_ecs_service(account, desired=period.units[begin], scaling=None)
            account = dataclasses.replace(account, service_arn=arn)
            ecs = account.client("ecs")
            ecs.register_task_definition(
                family="consultation-app",
                requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc",
                cpu="256",
                memory="512",
                runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
                containerDefinitions=[{"name": "web", "image": "nginx", "essential": True}],
            )
            ecs.update_service(cluster=CLUSTER, service="consultation-app", taskDefinition="consultation-app")
        apprunner = account.client("apprunner")
        memos = StateTable(account.table_name, account.client("dynamodb"))
        for (_, name), values in earlier.memos.items():
            if name in {"spend.budgets", "spend.records", "spend.estimates", "spend.last"}:
                memos.put_memo(account.service_arn, name, values)
        budget = budgets_backends[ACCOUNT_ID]["aws"].budgets[ACCOUNT_ID][account.budget_name].budget

        def figure_at(minute: int) -> float:
            done = [at for at in refreshes if at <= minute]
            return ledger.upto(max(done[-1] - lag, 0)) if done else BUDGET * 0.6

        _put_metrics(account, period, max(begin - 1500, 0), pause)
        size = None
        with fresh_container({**account.env(), "SPEND_GUARD": "pause", "POWERTOOLS_LOG_LEVEL": "WARNING"}):
            settings = get_settings()
            deps = schedule_deps(settings)
            minute = begin
            while minute <= pause:
                budget["CalculatedSpend"]["ActualSpend"]["Amount"] = f"{figure_at(minute):.2f}"
                if period.platform == "apprunner" and period.sizes[minute] != size:
                    size = period.sizes[minute]
                    apprunner.update_service(
                        ServiceArn=account.service_arn,
                        InstanceConfiguration={"Cpu": f"{size[0]:g} vCPU", "Memory": f"{size[1]:g} GB"},
                    )
                    apprunner.describe_service(ServiceArn=account.service_arn)  # the update settles
                if period.platform == "ecs" and not period.insights:
                    account.client("ecs").update_service(
                        cluster=CLUSTER, service="consultation-app", desiredCount=period.units[minute]
                    )
                result = run_job(Job.SPEND_CHECK, deps, settings, period.start + timedelta(minutes=minute))
                compared += 1
                value = _last_estimate(account)
                if value is not None and f"{Decimal(value):.2f}" == f"{Decimal(in_process[minute]):.2f}":
                    agreed += 1
                else:
                    disagreements.append({"minute": minute, "moto": value, "in_process": in_process[minute]})
                if result.outcome == "paused":
                    moto_pause = minute
                    break
                minute += TICK
    return {
        "replayed": True,
        "from_minute": begin,
        "checks": compared,
        "estimates_agreeing_to_the_cent": f"{agreed} of {compared}",
        "paused_at_the_same_check": moto_pause == pause,
        "disagreements": disagreements[:3],
    }


def _put_metrics(account: Any, period: Period, first: int, last: int) -> None:
    if period.platform == "ecs" and not period.insights:
        return
    if period.platform == "apprunner":
        service = account.client("apprunner").describe_service(ServiceArn=account.service_arn)["Service"]
        namespace, name = "AWS/AppRunner", "ActiveInstances"
        dimensions = [
            {"Name": "ServiceName", "Value": service["ServiceName"]},
            {"Name": "ServiceID", "Value": service["ServiceId"]},
        ]
    else:
        from local.ecs import CLUSTER

        namespace, name = "ECS/ContainerInsights", "RunningTaskCount"
        dimensions = [{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "ServiceName", "Value": "consultation-app"}]
    data = [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": period.start + timedelta(minutes=minute),
            "Value": float(period.units[minute]),
        }
        for minute in range(first, last)
    ]
    cloudwatch = account.client("cloudwatch")
    for index in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[index : index + 1000])


def _last_estimate(account: Any) -> str | None:
    item = (
        account.client("dynamodb")
        .get_item(
            TableName=account.table_name,
            Key={"PK": {"S": f"SERVICE#{account.service_arn}"}, "SK": {"S": "MEMO#spend.last"}},
        )
        .get("Item")
    )
    return item["values"]["M"].get("estimate", {}).get("S") if item else None


# --- the table ----------------------------------------------------------------------------------------------------


def summary(runs: list[Run]) -> dict[str, Any]:
    crossed = [run for run in runs if run.crossing is not None]

    def hours(values: list[float | None]) -> dict[str, float | None]:
        known = [value for value in values if value is not None]
        if not known:
            return {"median": None, "worst": None}
        return {"median": round(statistics.median(known), 2), "worst": round(max(known), 2)}

    applies = [run for run in runs if run.budgets_overshoot_pct >= 100]
    return {
        "trials": len(runs),
        "crossed": len(crossed),
        "budgets_only_overshoot_pct": {
            "median": round(statistics.median(run.budgets_overshoot_pct for run in runs), 1),
            "worst": round(max(run.budgets_overshoot_pct for run in runs), 1),
        },
        "guard_overshoot_pct": {
            "median": round(statistics.median(run.guard_overshoot_pct for run in runs), 1),
            "worst": round(max(run.guard_overshoot_pct for run in runs), 1),
        },
        "budgets_only_hours_to_pause": hours([run.budgets_hours for run in crossed]),
        "guard_hours_to_pause": hours([run.guard_hours for run in crossed]),
        "paused_by_the_guard": sum(run.guard_by == "guard" for run in runs),
        "trials_where_budgets_only_overshoots_100_pct": len(applies),
        "target_met_in_those": sum(run.guard_overshoot_pct <= 5 for run in applies),
        "projection_warnings": sum(run.warnings for run in runs),
        "accuracy": accuracy([error for run in runs for error in run.errors]),
    }


SCENARIOS: dict[str, Callable[[random.Random, datetime], Period]] = {
    "spike": spike,
    "slow_climb": slow_climb,
    "paused": paused,
    "ecs_scale_out": lambda rng, start: ecs_scale_out(rng, start, insights=True),
    "ecs_scale_out_no_insights": lambda rng, start: ecs_scale_out(rng, start, insights=False),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spend_guard")
    parser.add_argument("--quick", action="store_true", help="5 trials per random scenario, 3 steady periods")
    parser.add_argument("--budgets-lag-hours", type=float, default=0.0, help="Budgets' data behind its refresh")
    parser.add_argument("--no-replay", action="store_true", help="skip the replay on the local account")
    arguments = parser.parse_args(argv)
    from warden.observability import logger

    logger.setLevel("WARNING")
    lag = int(arguments.budgets_lag_hours * 60)
    trials = 5 if arguments.quick else 20
    start = datetime(2026, 3, 1, tzinfo=UTC)
    began = time.perf_counter()
    scenarios: dict[str, Any] = {}
    quoted: dict[str, int | float | str | bool] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for name, make in SCENARIOS.items():
            count = {"paused": 1, "slow_climb": min(trials, 5)}.get(name, trials)
            runs = [trial(make, seed, start, lag) for seed in range(count)]
            scenarios[name] = summary(runs)
            if not arguments.no_replay and name != "paused":
                scenarios[name]["replay_of_trial_0"] = replay(make, 0, start, lag, runs[0])
        year = steady_year(1, 3 if arguments.quick else 12, lag)
        # Sensitivity: a Budgets figure that covers usage only up to 4 hours before its refresh. The guard takes a
        # figure to cover usage up to its refresh, so it counts those hours too few (its accuracy report shows it).
        behind = [trial(spike, seed, start, lag + LAGGING) for seed in range(trials)]
        scenarios["spike_budgets_4h_behind"] = summary(behind)
    for name, figures in scenarios.items():
        overshoots = (("budgets", "budgets_only_overshoot_pct"), ("guard", "guard_overshoot_pct"))
        for who, key in overshoots:
            quoted[f"{name}_{who}_overshoot_median_pct"] = figures[key]["median"]
            quoted[f"{name}_{who}_overshoot_worst_pct"] = figures[key]["worst"]
        budgets_hours, guard_hours = figures["budgets_only_hours_to_pause"], figures["guard_hours_to_pause"]
        quoted[f"{name}_budgets_hours_median"] = budgets_hours["median"] if budgets_hours["median"] is not None else "-"
        quoted[f"{name}_budgets_hours_worst"] = budgets_hours["worst"] if budgets_hours["worst"] is not None else "-"
        for stat in ("median", "worst"):
            value = guard_hours[stat]
            quoted[f"{name}_guard_minutes_{stat}"] = round(value * 60) if value is not None else "-"
        quoted[f"{name}_trials"] = figures["trials"]
        quoted[f"{name}_mean_error_usd"] = figures["accuracy"].get("mean_error_usd", "-")
    quoted["steady_periods"] = year["periods"]
    quoted["steady_false_pauses"] = year["false_pauses"]
    quoted["steady_projection_warnings"] = year["projection_warnings"]
    quoted["steady_most_warnings_in_a_day"] = year["most_warnings_in_a_day"]
    quoted["steady_highest_spend_usd"] = max(year["spend_per_period_usd"])
    quoted["steady_highest_estimate_usd"] = max(year["highest_estimate_per_period_usd"])
    quoted["steady_comparisons"] = year["accuracy"]["comparisons"]
    quoted["steady_mean_absolute_error_usd"] = year["accuracy"].get("mean_absolute_error_usd", "-")
    quoted["steady_worst_error_pct"] = year["accuracy"].get("worst_error_pct_of_budget", "-")
    # The target (issue 17): overshoot at most 5 % wherever Budgets-only overshoots by 100 % or more, with Budgets'
    # figure as fresh as its refresh; the 4-hours-behind run is a sensitivity, counted apart.
    main_runs = [figures for name, figures in scenarios.items() if name != "spike_budgets_4h_behind"]
    quoted["target_trials"] = sum(f["trials_where_budgets_only_overshoots_100_pct"] for f in main_runs)
    quoted["target_met"] = sum(f["target_met_in_those"] for f in main_runs)
    lagging = scenarios["spike_budgets_4h_behind"]
    quoted["lagging_target_trials"] = lagging["trials_where_budgets_only_overshoots_100_pct"]
    quoted["lagging_target_met"] = lagging["target_met_in_those"]
    quoted["replays_agreeing"] = sum(
        bool(f.get("replay_of_trial_0", {}).get("paused_at_the_same_check")) for f in main_runs
    )
    quoted["replays"] = sum(bool(f.get("replay_of_trial_0", {}).get("replayed")) for f in main_runs)
    return write_results(
        RESULTS,
        {
            "method": "Simulated budget periods: the real spend-check use case every 15 minutes over in-memory ports, "
            "the first trial of each scenario replayed on moto and the App Runner emulator",
            "budget_usd": BUDGET,
            "budgets_lag_hours": arguments.budgets_lag_hours,
            "budgets_refresh_hours": list(REFRESH_HOURS),
            "seconds": round(time.perf_counter() - began, 1),
            "scenarios": scenarios,
            "steady_year": year,
        },
        quoted=quoted,
    )


if __name__ == "__main__":
    sys.exit(main())
