"""The spend guard (issue 17): Warden's own estimate of the budget period's spend, ahead of AWS Budgets. Pure.

AWS Budgets refreshes its figure up to three times a day and can lag a day behind usage, so a pause that waits for
Budgets waits hours: at $2/hour (25 App Runner instances of 1 vCPU / 2 GB) a $10 budget is spent several times over
before Budgets notices. The guard adds what Budgets cannot see yet:

    estimate = Budgets' last figure + what the service has used since that figure was refreshed

- **When the figure was refreshed.** The API has no such field: `Budget.LastUpdatedTime` is when someone last
  changed the budget's configuration (AWS-FACTS §9.4), not when its data was refreshed, so it is not read at all.
  Warden watches the figure instead (`observe_figure`): every spend check remembers the figure and when it saw it;
  when the figure changes, the refresh happened after the last check that saw the old one, and that earlier bound
  is taken as the refresh time (more usage is counted, never less). A figure Warden has not seen change (its first
  check, or a figure unchanged since) is assumed to be a day old when first seen (`UNKNOWN_FIGURE_AGE`, Budgets'
  documented worst lag). A figure that did not change across the start of a new period is the previous period's:
  the new period then starts from zero.
- **Usage since.** One metric per service, read from CloudWatch, minute by minute:
  - App Runner `ActiveInstances`. Memory is billed for every provisioned instance (at least `MinSize`, kept warm)
    and vCPU only for the active ones (the AutoScalingConfiguration `MinSize` doc; prices AWS-FACTS §4.7):
    per hour `active × (vCPU × active $/vCPU-h + GB × active $/GB-h) + max(MinSize − active, 0) × GB × provisioned
    $/GB-h`, with `MinSize` 0 while the service is paused.
  - ECS Fargate `RunningTaskCount` (Container Insights): per hour `tasks × (task vCPU × $/vCPU-h + task GB ×
    $/GB-h)` at the task's architecture's prices. Without Container Insights (no data), the desired count that
    Warden records at every check stands in for it.
- **Gaps.** A minute without a data point takes the last value seen if it is at most `CARRY_LIMIT` old (CloudWatch
  delivers minutes late); beyond that the minute counts as no data: App Runner as no active instance (its warm
  instances still count), ECS as Warden's recorded desired count. Either way the estimate says so: never a silent
  zero. An unknown region or configuration is no zero either: the guard says it cannot estimate.

Then the projection: the burn rate over the last hour, and when the estimate reaches the enforce threshold at that
rate. `guard_decision` warns when that moment is within the horizon and inside the budget period, and acts when the
estimate itself reaches the threshold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

HOUR: Final = Decimal(3600)
# How long a figure Warden has not seen change is assumed to be already old when Warden first sees it: Budgets
# "can lag a day behind usage" (issue 17), and counting a day of usage too many is safer than a day too few.
UNKNOWN_FIGURE_AGE: Final = timedelta(hours=24)
# A minute without a data point takes the last value seen up to this long before it: CloudWatch delivers data
# minutes late, and the last minutes of a window are always missing. Longer gaps count as no data (and say so).
CARRY_LIMIT: Final = timedelta(minutes=15)
# The burn rate is measured over the last hour (issue 17).
BURN_WINDOW: Final = timedelta(hours=1)
# The accuracy report compares Budgets' new figure with an estimate made at most this long before the refresh.
COMPARE_WITHIN: Final = timedelta(minutes=30)
_CENT: Final = Decimal("0.01")
_MAX_PRICE: Final = Decimal(1000)
_REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


class Pricing(StrEnum):
    """How the platform bills the service's compute."""

    APP_RUNNER = "App Runner"
    FARGATE = "Fargate"


class Architecture(StrEnum):
    X86_64 = "x86_64"
    ARM64 = "arm64"


class GuardMode(StrEnum):
    """SPEND_GUARD: what the guard does when its estimate reaches the enforce threshold."""

    NOTIFY = "notify"
    PAUSE = "pause"


# --- prices ------------------------------------------------------------------------------------------------------


class AppRunnerRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vcpu_hour: Decimal
    """Active instances, per vCPU-hour."""
    gb_hour: Decimal
    """Active instances, per GB-hour of memory."""
    provisioned_gb_hour: Decimal
    """Idle provisioned (warm) instances, per GB-hour of memory; no vCPU charge."""


class FargateRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vcpu_hour: Decimal
    gb_hour: Decimal


class RegionPrices(BaseModel):
    model_config = ConfigDict(frozen=True)

    apprunner: AppRunnerRates | None = None
    fargate: dict[Architecture, FargateRates] = {}
    source: str


# us-east-1 list prices, on demand (AWS-FACTS §4.7, §9.5, read 2026-12):
# - App Runner: aws.amazon.com/apprunner/pricing (its JP and FR mirrors): active $0.064 per vCPU-hour and $0.007
#   per GB-hour, provisioned $0.007 per GB-hour (memory only). The page gives the same rates for us-east-2,
#   us-west-2 and eu-west-1; other regions differ (Tokyo memory is $0.009) and are not guessed.
# - Fargate Linux: x86 $0.04048 per vCPU-hour and $0.004445 per GB-hour, ARM (Graviton) $0.03238 and $0.00356, as
#   third-party summaries of aws.amazon.com/fargate/pricing give them (vantage.sh; wring.co and cloudburn.io, March
#   2026). Check them against the AWS page before relying on them; SPEND_PRICES overrides any of them.
_APP_RUNNER_LIST = AppRunnerRates(
    vcpu_hour=Decimal("0.064"), gb_hour=Decimal("0.007"), provisioned_gb_hour=Decimal("0.007")
)
_APP_RUNNER_SOURCE = "aws.amazon.com/apprunner/pricing, read 2026-12"
_FARGATE_SOURCE = "aws.amazon.com/fargate/pricing as summarised by vantage.sh (March 2026)"
DEFAULT_PRICES: Final[dict[str, RegionPrices]] = {
    "us-east-1": RegionPrices(
        apprunner=_APP_RUNNER_LIST,
        fargate={
            Architecture.X86_64: FargateRates(vcpu_hour=Decimal("0.04048"), gb_hour=Decimal("0.004445")),
            Architecture.ARM64: FargateRates(vcpu_hour=Decimal("0.03238"), gb_hour=Decimal("0.00356")),
        },
        source=f"App Runner: {_APP_RUNNER_SOURCE}; Fargate: {_FARGATE_SOURCE}",
    ),
    **{
        region: RegionPrices(apprunner=_APP_RUNNER_LIST, source=f"App Runner: {_APP_RUNNER_SOURCE}")
        for region in ("us-east-2", "us-west-2", "eu-west-1")
    },
}


class PriceTable(BaseModel):
    """Prices per region: the documented defaults, with SPEND_PRICES laid over them."""

    model_config = ConfigDict(frozen=True)

    regions: dict[str, RegionPrices] = DEFAULT_PRICES

    def merged(self, override: Mapping[str, RegionPrices]) -> PriceTable:
        """This table with `override`'s platforms replacing the same region's (a region's other platform stays)."""
        regions = dict(self.regions)
        for region, given in override.items():
            base = regions.get(region)
            if base is None:
                regions[region] = given
                continue
            regions[region] = RegionPrices(
                apprunner=given.apprunner or base.apprunner,
                fargate={**base.fargate, **given.fargate},
                source=f"{given.source}; otherwise {base.source}" if given.source != base.source else given.source,
            )
        return PriceTable(regions=regions)


def parse_price_override(raw: str) -> dict[str, RegionPrices]:
    """SPEND_PRICES: a JSON object of regions, each with `apprunner` and/or `fargate` prices in USD, e.g.

        {"eu-central-1": {"apprunner": {"vcpu_hour": "0.081", "gb_hour": "0.009", "provisioned_gb_hour": "0.009"},
                          "fargate": {"x86_64": {"vcpu_hour": "0.04656", "gb_hour": "0.00511"}},
                          "source": "aws.amazon.com/apprunner/pricing, 2027-01"}}

    Raises ValueError naming the first bad entry."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"expected a JSON object of regions, got invalid JSON ({error.msg})") from None
    if not isinstance(document, dict):
        raise ValueError('expected a JSON object of regions, e.g. {"eu-central-1": {"apprunner": {...}}}')
    parsed: dict[str, RegionPrices] = {}
    for region, entry in document.items():
        if not isinstance(region, str) or not _REGION.match(region):
            raise ValueError(f"{str(region)[:40]!r} is not a region name such as eu-central-1")
        if not isinstance(entry, dict) or not ({"apprunner", "fargate"} & entry.keys()):
            raise ValueError(f"{region}: expected an object with 'apprunner' and/or 'fargate' prices")
        unknown = set(entry) - {"apprunner", "fargate", "source"}
        if unknown:
            raise ValueError(f"{region}: unknown keys {sorted(unknown)} (expected apprunner, fargate, source)")
        apprunner = None
        if "apprunner" in entry:
            apprunner = AppRunnerRates(
                **_rates(entry["apprunner"], f"{region}.apprunner", ("vcpu_hour", "gb_hour", "provisioned_gb_hour"))
            )
        fargate: dict[Architecture, FargateRates] = {}
        given = entry.get("fargate", {})
        if not isinstance(given, dict):
            raise ValueError(f"{region}.fargate: expected an object of architectures (x86_64, arm64)")
        for name, rates in given.items():
            try:
                architecture = Architecture(name)
            except ValueError:
                raise ValueError(f"{region}.fargate: {str(name)[:20]!r} is not x86_64 or arm64") from None
            fargate[architecture] = FargateRates(**_rates(rates, f"{region}.fargate.{name}", ("vcpu_hour", "gb_hour")))
        source = entry.get("source", "SPEND_PRICES")
        parsed[region] = RegionPrices(apprunner=apprunner, fargate=fargate, source=str(source)[:200] or "SPEND_PRICES")
    return parsed


def _rates(given: Any, path: str, names: tuple[str, ...]) -> dict[str, Decimal]:
    if not isinstance(given, dict) or set(given) != set(names):
        raise ValueError(f"{path}: expected exactly {', '.join(names)}")
    values: dict[str, Decimal] = {}
    for name in names:
        try:
            value = Decimal(str(given[name]))
        except InvalidOperation:
            raise ValueError(f"{path}.{name}: expected a price in USD, got {str(given[name])[:40]!r}") from None
        if not value.is_finite() or not Decimal(0) <= value < _MAX_PRICE:
            raise ValueError(f"{path}.{name}: expected a price from 0 to {_MAX_PRICE} USD, got {str(value)[:40]}")
        values[name] = value
    return values


# --- what the service bills for ----------------------------------------------------------------------------------


class MetricSpec(BaseModel):
    """The one CloudWatch metric that counts the billed units of a service (instances or tasks)."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    # Maximum within each minute: a minute with 3 then 25 instances is billed nearer 25 than the average says
    # only if the scale-out came early in the minute; the maximum never under-counts.
    stat: str = "Maximum"


class UsageFacts(BaseModel):
    """What the service is configured to bill for, as its platform's API describes it now (adapters fill it in)."""

    model_config = ConfigDict(frozen=True)

    pricing: Pricing
    region: str
    vcpu: Decimal
    memory_gb: Decimal
    architecture: Architecture = Architecture.X86_64
    warm_minimum: int = 0
    """App Runner's MinSize: instances provisioned (memory billed) whenever the service runs."""
    running: bool
    """False when the service is paused (App Runner PAUSED, ECS desired count 0)."""
    units_now: Decimal
    """What Warden records at every check: the warm minimum while running (App Runner), the desired count (ECS)."""
    metric: MetricSpec
    described: str
    """The configuration in a few words, for the estimate's evidence ("1 vCPU / 2 GB, 1 instance kept warm")."""
    unsupported: str | None = None
    """Why this service cannot be priced (an ECS service on EC2 capacity, say); None when it can."""


def parse_vcpu(text: str | None) -> Decimal:
    """App Runner's `Cpu` or a task definition's `cpu`: CPU units ("1024") or "1 vCPU". 0 when unreadable."""
    return _size(text, "vcpu", Decimal(1024))


def parse_memory_gb(text: str | None) -> Decimal:
    """App Runner's `Memory` or a task definition's `memory`: MiB ("2048") or "2 GB". 0 when unreadable."""
    return _size(text, "gb", Decimal(1024))


def _size(text: str | None, suffix: str, per_unit: Decimal) -> Decimal:
    cleaned = (text or "").strip().lower().replace(" ", "")
    try:
        value = Decimal(cleaned.removesuffix(suffix)) if cleaned.endswith(suffix) else Decimal(cleaned) / per_unit
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() and Decimal(0) < value < Decimal(10_000) else Decimal(0)


class MetricPoints(BaseModel):
    """One metric's data points (period start, value), in any order; `period_seconds` is the query's period."""

    model_config = ConfigDict(frozen=True)

    period_seconds: int = 60
    points: tuple[tuple[datetime, Decimal], ...] = ()


class Usage(BaseModel):
    """What the service used (and cost) over [start, end)."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    cost: Decimal
    unit_hours: Decimal
    """Instance-hours (App Runner: active) or task-hours (ECS)."""
    warm_hours: Decimal = Decimal(0)
    """App Runner: hours of idle warm instances (memory only)."""
    no_data_minutes: int = 0
    recorded_minutes: int = 0
    """ECS: minutes priced from Warden's records of the desired count, for lack of RunningTaskCount."""
    carried_minutes: int = 0
    """Minutes without a data point that took the last value seen (at most CARRY_LIMIT after it)."""


def usage_between(
    facts: UsageFacts,
    prices: PriceTable,
    metric: MetricPoints,
    records: Sequence[tuple[datetime, Decimal]],
    start: datetime,
    end: datetime,
) -> Usage:
    """The service's usage and its cost over [start, end), minute by minute (or by the metric's period).

    `records` are Warden's own records of `units_now` (time, value), a step function: each value holds until the
    next; before the first one, the first one holds; without any, `facts.units_now`. Raises CannotEstimate."""
    rates = _rates_for(facts, prices)
    if end <= start:
        return Usage(start=start, end=end, cost=Decimal(0), unit_hours=Decimal(0))
    # Whole seconds since the epoch: a minute is 1/60 of an hour, which no decimal holds, so the seconds each
    # (metric value, record) pair lasted are summed first and priced once, divided by 3,600 at the end.
    step = max(60, metric.period_seconds)
    carry = int(CARRY_LIMIT.total_seconds())
    values: dict[int, Decimal] = {}
    for moment, value in metric.points:
        stamp = int(moment.timestamp())
        values[stamp - stamp % step] = value
    known = sorted(values)
    steps = sorted((int(moment.timestamp()), value) for moment, value in records)
    first, last = int(start.timestamp()), int(end.timestamp())
    seconds_by: dict[tuple[Decimal | None, Decimal], int] = {}
    no_data = recorded = carried = 0
    minutes_per_slot = step // 60
    slot = first - first % step
    point_index = record_index = 0
    last_point: tuple[int, Decimal] | None = None
    while slot < last:
        while point_index < len(known) and known[point_index] <= slot:
            last_point = (known[point_index], values[known[point_index]])
            point_index += 1
        while record_index < len(steps) and steps[record_index][0] <= slot:
            record_index += 1
        record = steps[record_index - 1][1] if record_index else (steps[0][1] if steps else facts.units_now)
        measured: Decimal | None = None
        if last_point is not None and slot - last_point[0] <= carry:
            measured = last_point[1]
            if last_point[0] != slot:
                carried += minutes_per_slot
        else:
            no_data += minutes_per_slot
            recorded += minutes_per_slot if facts.pricing is Pricing.FARGATE else 0
        key = (measured, record)
        seconds_by[key] = seconds_by.get(key, 0) + min(slot + step, last) - max(slot, first)
        slot += step
    cost = unit_hours = warm_hours = Decimal(0)
    for (measured, record), seconds in seconds_by.items():
        rate, units, warm = _hourly(facts, rates, measured, record)
        cost += rate * seconds
        unit_hours += units * seconds
        warm_hours += warm * seconds
    return Usage(
        start=start,
        end=end,
        cost=cost / HOUR,
        unit_hours=unit_hours / HOUR,
        warm_hours=warm_hours / HOUR,
        no_data_minutes=no_data,
        recorded_minutes=recorded,
        carried_minutes=carried,
    )


def _hourly(
    facts: UsageFacts, rates: AppRunnerRates | FargateRates, measured: Decimal | None, record: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(cost per hour, billed units, idle warm units) for one minute's metric value and Warden's record."""
    if isinstance(rates, AppRunnerRates):
        # No data: no active instance is known; the warm ones are known from the configuration.
        active = max(measured or Decimal(0), Decimal(0))
        warm = max(record - active, Decimal(0))
        rate = active * (facts.vcpu * rates.vcpu_hour + facts.memory_gb * rates.gb_hour)
        return rate + warm * facts.memory_gb * rates.provisioned_gb_hour, active, warm
    tasks = max(measured if measured is not None else record, Decimal(0))
    return tasks * (facts.vcpu * rates.vcpu_hour + facts.memory_gb * rates.gb_hour), tasks, Decimal(0)


class CannotEstimate(ValueError):
    """The guard cannot price this service: an unknown region or configuration. Never answered with zero."""


class CannotKind(StrEnum):
    """Why the guard has no estimate."""

    BUDGET_UNREADABLE = "budget_unreadable"
    NOT_USD = "not_usd"  # the budget counts another unit: the prices are in USD
    NOT_PRICED = "not_priced"  # CannotEstimate: no prices for the region or configuration (its text says which)
    SERVICE_UNREADABLE = "service_unreadable"
    NO_ANSWER = "no_answer"  # AWS has not answered for a while


class CannotReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CannotKind
    detail: str  # the error's text, or the budget's unit (NOT_USD)
    since: datetime | None = None
    """NO_ANSWER: when the guard made its last estimate (None: never)."""


def _rates_for(facts: UsageFacts, prices: PriceTable) -> AppRunnerRates | FargateRates:
    if facts.unsupported:
        raise CannotEstimate(facts.unsupported)
    if facts.vcpu <= 0 or facts.memory_gb <= 0:
        raise CannotEstimate(f"the service's size is unknown ({facts.vcpu} vCPU / {facts.memory_gb} GB)")
    region = prices.regions.get(facts.region)
    if facts.pricing is Pricing.APP_RUNNER:
        if region is None or region.apprunner is None:
            raise CannotEstimate(
                f"no App Runner prices for {facts.region}: give them in the SpendPrices parameter (SPEND_PRICES)"
            )
        return region.apprunner
    rates = None if region is None else region.fargate.get(facts.architecture)
    if rates is None:
        raise CannotEstimate(
            f"no Fargate {facts.architecture.value} prices for {facts.region}: give them in the SpendPrices "
            "parameter (SPEND_PRICES)"
        )
    return rates


# --- Budgets' figure and when it was refreshed ------------------------------------------------------------------


class FigureRecord(BaseModel):
    """What Warden remembers of Budgets' figure (the state table's `spend.budgets` memo)."""

    model_config = ConfigDict(frozen=True)

    figure: Decimal
    period_start: date
    first_seen: datetime
    last_seen: datetime
    refreshed_after: datetime | None = None
    """The last check that saw the previous figure: Budgets refreshed after it (and at or before `first_seen`)."""
    carried_over: bool = False
    """The figure did not change across the start of this period: it is the previous period's."""

    def to_memo(self) -> dict[str, str]:
        memo = {
            "figure": str(self.figure),
            "period_start": self.period_start.isoformat(),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "carried_over": "true" if self.carried_over else "false",
        }
        if self.refreshed_after is not None:
            memo["refreshed_after"] = self.refreshed_after.isoformat()
        return memo

    @classmethod
    def from_memo(cls, memo: Mapping[str, str] | None) -> FigureRecord | None:
        """None for no memo, or one this version cannot read (the next check starts afresh)."""
        if not memo:
            return None
        try:
            return cls(
                figure=Decimal(memo["figure"]),
                period_start=date.fromisoformat(memo["period_start"]),
                first_seen=datetime.fromisoformat(memo["first_seen"]),
                last_seen=datetime.fromisoformat(memo["last_seen"]),
                refreshed_after=datetime.fromisoformat(memo["refreshed_after"])
                if memo.get("refreshed_after")
                else None,
                carried_over=memo.get("carried_over") == "true",
            )
        except (KeyError, ValueError, InvalidOperation):
            return None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def observe_figure(record: FigureRecord | None, figure: Decimal, period_start: date, now: datetime) -> FigureRecord:
    """The record after this check saw `figure` in the period starting `period_start`."""
    if record is None or now < record.last_seen:
        return FigureRecord(figure=figure, period_start=period_start, first_seen=now, last_seen=now)
    if record.period_start != period_start:
        if figure == record.figure and figure > 0:
            # Budgets has not refreshed since the period turned: its figure is still the previous period's.
            return FigureRecord(
                figure=figure, period_start=period_start, first_seen=now, last_seen=now, carried_over=True
            )
        return FigureRecord(
            figure=figure,
            period_start=period_start,
            first_seen=now,
            last_seen=now,
            refreshed_after=max(record.last_seen, _midnight(period_start)),
        )
    if figure == record.figure:
        return record.model_copy(update={"last_seen": now})
    return FigureRecord(
        figure=figure, period_start=period_start, first_seen=now, last_seen=now, refreshed_after=record.last_seen
    )


class BaselineKind(StrEnum):
    """Where the estimate's base comes from."""

    CARRIED_OVER = "carried_over"  # Budgets still shows the previous period's figure: this one counts from zero
    REFRESHED = "refreshed"  # Warden saw the figure change between two checks
    ASSUMED = "assumed"  # Warden has not seen it change: taken as UNKNOWN_FIGURE_AGE old when first seen


class Baseline(BaseModel):
    """Budgets' figure as the estimate's base: the amount and the time up to which it is taken to cover usage."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    reported: Decimal
    covered_until: datetime
    kind: BaselineKind
    first_seen: datetime
    """When Warden first saw this figure."""


def baseline(record: FigureRecord, now: datetime) -> Baseline:
    start = _midnight(record.period_start)
    if record.carried_over:
        return Baseline(
            amount=Decimal(0),
            reported=record.figure,
            covered_until=start,
            kind=BaselineKind.CARRIED_OVER,
            first_seen=record.first_seen,
        )
    if record.refreshed_after is not None:
        return Baseline(
            amount=record.figure,
            reported=record.figure,
            covered_until=max(record.refreshed_after, start),
            kind=BaselineKind.REFRESHED,
            first_seen=record.first_seen,
        )
    return Baseline(
        amount=record.figure,
        reported=record.figure,
        covered_until=max(record.first_seen - UNKNOWN_FIGURE_AGE, start),
        kind=BaselineKind.ASSUMED,
        first_seen=record.first_seen,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- the estimate and the projection ----------------------------------------------------------------------------


class BilledUnit(StrEnum):
    """What the usage metric counts: App Runner's active instances, or ECS tasks."""

    ACTIVE_INSTANCE = "active_instance"
    TASK = "task"


class GapKind(StrEnum):
    """Minutes the usage metric has no data for, and how the estimate counted them: never a silent zero."""

    NO_DATA_WARM_ONLY = "no_data_warm_only"  # App Runner, no data at all: the warm instances only
    NO_DATA_FROM_RECORDS = "no_data_from_records"  # ECS, no data at all (Container Insights off?): the desired count
    COUNTED_AS_NONE = "counted_as_none"  # App Runner: minutes without data counted as no active instance
    COUNTED_FROM_RECORDS = "counted_from_records"  # ECS: minutes without data counted from the desired count
    CARRIED = "carried"  # minutes that took the last value seen before them


class Gap(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: GapKind
    metric: str  # the metric's name, "ActiveInstances"
    minutes: int = 0
    since: datetime | None = None  # NO_DATA_*: the start of the window without data


class Estimate(BaseModel):
    """The period's spend as Warden estimates it now, with its parts."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    base: Baseline
    usage: Usage
    burn_rate: Decimal
    """USD per hour over the last hour."""
    pricing: Pricing
    region: str
    architecture: Architecture = Architecture.X86_64
    rates: AppRunnerRates | FargateRates
    price_source: str
    """Where the prices come from (RegionPrices.source)."""
    described: str
    unit: BilledUnit = BilledUnit.ACTIVE_INSTANCE
    gaps: tuple[Gap, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.base.amount + self.usage.cost

    @property
    def figure_age_hours(self) -> Decimal:
        return Decimal((self.at - self.base.covered_until).total_seconds()) / HOUR


def estimate(
    facts: UsageFacts,
    prices: PriceTable,
    record: FigureRecord,
    metric: MetricPoints,
    records: Sequence[tuple[datetime, Decimal]],
    now: datetime,
) -> Estimate:
    """Budgets' figure plus the service's usage since it was refreshed. Raises CannotEstimate."""
    base = baseline(record, now)
    usage = usage_between(facts, prices, metric, records, base.covered_until, now)
    last_hour = usage_between(facts, prices, metric, records, now - BURN_WINDOW, now)
    return Estimate(
        at=now,
        base=base,
        usage=usage,
        burn_rate=last_hour.cost / (Decimal(BURN_WINDOW.total_seconds()) / HOUR),
        pricing=facts.pricing,
        region=facts.region,
        architecture=facts.architecture,
        rates=_rates_for(facts, prices),
        price_source=prices.regions[facts.region].source,
        described=facts.described,
        unit=BilledUnit.ACTIVE_INSTANCE if facts.pricing is Pricing.APP_RUNNER else BilledUnit.TASK,
        gaps=tuple(_gaps(facts, usage, metric)),
    )


def _gaps(facts: UsageFacts, usage: Usage, metric: MetricPoints) -> Iterable[Gap]:
    name, fargate = facts.metric.name, facts.pricing is Pricing.FARGATE
    if not metric.points and facts.running:
        kind = GapKind.NO_DATA_FROM_RECORDS if fargate else GapKind.NO_DATA_WARM_ONLY
        yield Gap(kind=kind, metric=name, since=usage.start)
    elif usage.no_data_minutes and metric.points:
        kind = GapKind.COUNTED_FROM_RECORDS if fargate else GapKind.COUNTED_AS_NONE
        yield Gap(kind=kind, metric=name, minutes=usage.no_data_minutes)
    if usage.carried_minutes > 15:
        yield Gap(kind=GapKind.CARRIED, metric=name, minutes=usage.carried_minutes)


class Projection(BaseModel):
    model_config = ConfigDict(frozen=True)

    threshold: Decimal
    """The enforce threshold in USD (the budget's limit × ENFORCE_THRESHOLD_PERCENT)."""
    reach_at: datetime | None
    """When the estimate reaches the threshold at the current burn rate; None when it does not rise."""
    reached: bool


def project(estimate: Estimate, threshold: Decimal) -> Projection:
    if estimate.total >= threshold:
        return Projection(threshold=threshold, reach_at=estimate.at, reached=True)
    if estimate.burn_rate <= 0:
        return Projection(threshold=threshold, reach_at=None, reached=False)
    hours = (threshold - estimate.total) / estimate.burn_rate
    if hours > Decimal(24 * 366 * 10):  # beyond any budget period: never, at this rate
        return Projection(threshold=threshold, reach_at=None, reached=False)
    seconds = int((hours * HOUR).to_integral_value(rounding=ROUND_CEILING))
    return Projection(threshold=threshold, reach_at=estimate.at + timedelta(seconds=seconds), reached=False)


def enforce_amount(limit: Decimal, threshold_percent: Decimal) -> Decimal:
    return (limit * threshold_percent / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


# --- the decision -------------------------------------------------------------------------------------------------


class GuardAction(StrEnum):
    OK = "ok"
    WARN = "warn"  # the threshold is projected within the horizon and this period: spend.projected
    BREACH = "breach"  # the estimate reached the threshold: act per SPEND_GUARD


class GuardWhy(StrEnum):
    """The decision's ground."""

    REACHED = "reached"  # BREACH: the estimate is at or above the threshold
    SOON = "soon"  # WARN: reached within the horizon, before the period ends
    NOT_RISING = "not_rising"  # OK: the estimate does not rise
    BEYOND_HORIZON = "beyond_horizon"  # OK
    AFTER_PERIOD = "after_period"  # OK: the next period starts from zero


class GuardDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: GuardAction
    why: GuardWhy
    projection: Projection
    total: Decimal
    burn_rate: Decimal
    horizon_hours: int
    mode: GuardMode


def guard_decision(
    estimate: Estimate, threshold: Decimal, *, period_end: datetime, horizon_hours: int, mode: GuardMode
) -> GuardDecision:
    """OK, WARN (projected to reach the threshold within the horizon and before the period ends; after it the
    next period starts from zero) or BREACH (the estimate itself is at or above the threshold)."""
    projection = project(estimate, threshold)
    decided = GuardDecision(
        action=GuardAction.OK,
        why=GuardWhy.NOT_RISING,
        projection=projection,
        total=estimate.total,
        burn_rate=estimate.burn_rate,
        horizon_hours=horizon_hours,
        mode=mode,
    )
    if projection.reached:
        return decided.model_copy(update={"action": GuardAction.BREACH, "why": GuardWhy.REACHED})
    reach = projection.reach_at
    if reach is None:
        return decided
    if reach <= estimate.at + timedelta(hours=horizon_hours) and reach < period_end:
        return decided.model_copy(update={"action": GuardAction.WARN, "why": GuardWhy.SOON})
    return decided.model_copy(update={"why": GuardWhy.AFTER_PERIOD if reach >= period_end else GuardWhy.BEYOND_HORIZON})


def warning_day(now: datetime) -> int:
    """The order of the once-a-day memo: one projection warning per service per UTC day."""
    return now.astimezone(UTC).date().toordinal()


# --- Warden's records of the billed units ---------------------------------------------------------------------------


def record_units(
    records: Sequence[tuple[datetime, Decimal]], units: Decimal, now: datetime, keep_from: datetime
) -> list[tuple[datetime, Decimal]]:
    """Warden's records after this check saw `units`: changes only (a step function), none needed before
    `keep_from` but the one in force then."""
    ordered = sorted(record for record in records if record[0] <= now)
    if not ordered or ordered[-1][1] != units:
        ordered.append((now, units))
    in_force = [record for record in ordered if record[0] <= keep_from]
    later = [record for record in ordered if record[0] > keep_from]
    return [*in_force[-1:], *later]


def records_to_memo(records: Sequence[tuple[datetime, Decimal]]) -> str:
    return ";".join(f"{moment.isoformat()}={value}" for moment, value in records)


def records_from_memo(text: str | None) -> list[tuple[datetime, Decimal]]:
    records: list[tuple[datetime, Decimal]] = []
    for part in (text or "").split(";"):
        moment, _, value = part.partition("=")
        try:
            records.append((datetime.fromisoformat(moment), Decimal(value)))
        except (ValueError, InvalidOperation):
            continue  # an unreadable record is dropped: the next check records the current value again
    return records


# --- accuracy: the estimate against Budgets' later figure ----------------------------------------------------------


class Comparison(BaseModel):
    """The estimate Warden made just before Budgets refreshed, against the figure that refresh reported."""

    model_config = ConfigDict(frozen=True)

    estimated_at: datetime
    estimated: Decimal
    reported: Decimal
    limit: Decimal

    @property
    def error(self) -> Decimal:
        """Positive: Warden estimated more than Budgets reported."""
        return self.estimated - self.reported

    @property
    def error_percent_of_budget(self) -> Decimal:
        if self.limit <= 0:
            return Decimal(0)
        return (self.error / self.limit * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def compare(record: FigureRecord, estimates: Sequence[tuple[datetime, Decimal]], limit: Decimal) -> Comparison | None:
    """The comparison for Budgets' latest refresh: the estimate Warden made at the last check before it (the check
    that still saw the old figure, `refreshed_after`, or one at most COMPARE_WITHIN before it) against the new
    figure. None when there is none to make: Warden has not seen this figure appear, or made no estimate then."""
    if record.refreshed_after is None or record.carried_over:
        return None
    made = sorted(
        (moment, value)
        for moment, value in estimates
        if record.refreshed_after - COMPARE_WITHIN <= moment <= record.refreshed_after
    )
    if not made:
        return None
    moment, value = made[-1]
    return Comparison(estimated_at=moment, estimated=value, reported=record.figure, limit=limit)


def _cents(value: Decimal, *, places: str = "0.01") -> str:
    return f"{value.quantize(Decimal(places), rounding=ROUND_HALF_UP):,}"
