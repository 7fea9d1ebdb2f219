"""The spend guard's arithmetic and decisions (domain/spend.py), against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warden.domain.spend import (
    CARRY_LIMIT,
    UNKNOWN_FIGURE_AGE,
    Architecture,
    BaselineKind,
    CannotEstimate,
    FigureRecord,
    GapKind,
    GuardAction,
    GuardMode,
    GuardWhy,
    MetricPoints,
    MetricSpec,
    PriceTable,
    Pricing,
    UsageFacts,
    baseline,
    compare,
    enforce_amount,
    estimate,
    guard_decision,
    observe_figure,
    parse_memory_gb,
    parse_price_override,
    parse_vcpu,
    record_units,
    records_from_memo,
    records_to_memo,
    usage_between,
)

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
MARCH = date(2026, 3, 1)
PRICES = PriceTable()
APP_RUNNER_METRIC = MetricSpec(namespace="AWS/AppRunner", name="ActiveInstances", dimensions=(("ServiceName", "x"),))
ECS_METRIC = MetricSpec(namespace="ECS/ContainerInsights", name="RunningTaskCount", dimensions=(("ClusterName", "p"),))


def app_runner(vcpu: str = "1", memory: str = "2", warm: int = 1, *, running: bool = True, region: str = "us-east-1"):
    return UsageFacts(
        pricing=Pricing.APP_RUNNER,
        region=region,
        vcpu=Decimal(vcpu),
        memory_gb=Decimal(memory),
        warm_minimum=warm,
        running=running,
        units_now=Decimal(warm if running else 0),
        metric=APP_RUNNER_METRIC,
        described=f"{vcpu} vCPU / {memory} GB",
    )


def fargate(vcpu: str = "1", memory: str = "2", desired: int = 1, arch: Architecture = Architecture.X86_64):
    return UsageFacts(
        pricing=Pricing.FARGATE,
        region="us-east-1",
        vcpu=Decimal(vcpu),
        memory_gb=Decimal(memory),
        architecture=arch,
        running=desired > 0,
        units_now=Decimal(desired),
        metric=ECS_METRIC,
        described="task",
    )


def minutes(start: datetime, count: int, value: int | str, *, step: int = 1) -> list[tuple[datetime, Decimal]]:
    return [(start + timedelta(minutes=i), Decimal(value)) for i in range(0, count, step)]


def points(*series: list[tuple[datetime, Decimal]]) -> MetricPoints:
    return MetricPoints(period_seconds=60, points=tuple(p for s in series for p in s))


def seen(figure: str, *, last_seen: datetime, first_seen: datetime) -> FigureRecord:
    """Budgets' figure as Warden saw it change: still the old one at `last_seen`, this one at `first_seen`."""
    old = observe_figure(None, Decimal("1.00"), MARCH, last_seen - timedelta(minutes=15))
    old = observe_figure(old, Decimal("1.00"), MARCH, last_seen)
    return observe_figure(old, Decimal(figure), MARCH, first_seen)


# --- the arithmetic, by hand --------------------------------------------------------------------------------------


def test_25_app_runner_instances_of_1_vcpu_2_gb_cost_1_95_an_hour() -> None:
    # Given 25 active instances of 1 vCPU / 2 GB for one hour, 1 kept warm
    hour = points(minutes(NOW - timedelta(hours=1), 60, 25))
    # When the usage is priced
    usage = usage_between(app_runner(), PRICES, hour, [], NOW - timedelta(hours=1), NOW)
    # Then 25 x (1 x $0.064 + 2 x $0.007) = $1.95, and no idle warm instance is billed on top
    assert usage.cost == Decimal("1.95")
    assert usage.unit_hours == 25
    assert usage.warm_hours == 0


def test_an_idle_app_runner_service_pays_only_the_warm_instances_memory() -> None:
    # Given 0.25 vCPU / 0.5 GB, MinSize 2, no active instance for an hour (App Runner publishes 0)
    hour = points(minutes(NOW - timedelta(hours=1), 60, 0))
    usage = usage_between(app_runner("0.25", "0.5", warm=2), PRICES, hour, [], NOW - timedelta(hours=1), NOW)
    # Then 2 x 0.5 GB x $0.007 = $0.007 (no vCPU charge)
    assert usage.cost == Decimal("0.007")
    assert usage.warm_hours == 2


def test_an_active_instance_is_not_also_billed_as_a_warm_one() -> None:
    # Given MinSize 2 and one active instance of 0.25 vCPU / 0.5 GB for an hour
    hour = points(minutes(NOW - timedelta(hours=1), 60, 1))
    usage = usage_between(app_runner("0.25", "0.5", warm=2), PRICES, hour, [], NOW - timedelta(hours=1), NOW)
    # Then 1 x (0.25 x 0.064 + 0.5 x 0.007) + 1 idle x 0.5 x 0.007 = 0.0195 + 0.0035
    assert usage.cost == Decimal("0.0230")


def test_40_fargate_tasks_for_half_an_hour() -> None:
    # Given 40 x86 tasks of 1 vCPU / 2 GB for 30 minutes
    half = points(minutes(NOW - timedelta(minutes=30), 30, 40))
    usage = usage_between(fargate(), PRICES, half, [], NOW - timedelta(minutes=30), NOW)
    # Then 40 x (0.04048 + 2 x 0.004445) x 0.5 = 0.9874
    assert usage.cost == Decimal("0.9874")


@pytest.mark.parametrize(
    ("architecture", "monthly"), [(Architecture.X86_64, Decimal("9.01")), (Architecture.ARM64, Decimal("7.21"))]
)
def test_a_quarter_vcpu_fargate_task_for_a_month_matches_the_documented_monthly_price(
    architecture: Architecture, monthly: Decimal
) -> None:
    # Given one 0.25 vCPU / 0.5 GB task for 730 hours, at 5-minute resolution (AWS-FACTS §9.5: $9.01, $7.21)
    start = NOW - timedelta(hours=730)
    month = MetricPoints(period_seconds=300, points=tuple(minutes(start, 730 * 60, 1, step=5)))
    usage = usage_between(fargate("0.25", "0.5", arch=architecture), PRICES, month, [], start, NOW)
    assert usage.cost.quantize(Decimal("0.01")) == monthly


def test_the_estimate_is_budgets_figure_plus_the_usage_since_its_refresh() -> None:
    # Given Budgets' figure $8.13, which Warden saw appear between 08:00 and 08:15, and 25 instances since 08:00
    record = seen("8.13", last_seen=NOW - timedelta(hours=2), first_seen=NOW - timedelta(hours=1, minutes=45))
    since = points(minutes(NOW - timedelta(hours=2), 120, 25))
    # When Warden estimates at 10:00
    guess = estimate(app_runner(), PRICES, record, since, [], NOW)
    # Then it counts from 08:00 (the earlier bound): 8.13 + 2 h x 1.95 = 12.03, burning 1.95 an hour
    assert guess.base.covered_until == NOW - timedelta(hours=2)
    assert guess.usage.cost == Decimal("3.90")
    assert guess.total == Decimal("12.03")
    assert guess.burn_rate == Decimal("1.95")
    # And its evidence holds Budgets' figure, its age, how it was dated, and the prices (golden spend.parts words it)
    assert guess.base.reported == Decimal("8.13")
    assert guess.base.kind is BaselineKind.REFRESHED
    assert guess.figure_age_hours == 2
    assert guess.rates == PRICES.regions["us-east-1"].apprunner


def test_a_figure_warden_has_not_seen_change_is_taken_as_a_day_old() -> None:
    # Given Warden's first look at Budgets, mid-month
    record = observe_figure(None, Decimal("5.00"), MARCH, NOW)
    # Then the figure is taken to cover usage only up to a day before
    assert baseline(record, NOW).covered_until == NOW - UNKNOWN_FIGURE_AGE


def test_a_figure_unchanged_across_the_period_start_is_the_previous_periods() -> None:
    # Given $9.50 seen on the last evening of February, still shown on 1 March at 06:00
    february = observe_figure(None, Decimal("9.50"), date(2026, 2, 1), datetime(2026, 2, 28, 23, 45, tzinfo=UTC))
    record = observe_figure(february, Decimal("9.50"), MARCH, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    # Then March starts from zero at its first moment
    base = baseline(record, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    assert base.amount == 0
    assert base.covered_until == datetime(2026, 3, 1, tzinfo=UTC)


def test_the_refresh_time_is_the_last_check_that_still_saw_the_old_figure() -> None:
    record = observe_figure(None, Decimal("1.00"), MARCH, NOW - timedelta(minutes=30))
    record = observe_figure(record, Decimal("1.00"), MARCH, NOW - timedelta(minutes=15))
    record = observe_figure(record, Decimal("1.42"), MARCH, NOW)
    assert record.refreshed_after == NOW - timedelta(minutes=15)
    assert observe_figure(record, Decimal("1.42"), MARCH, NOW + timedelta(minutes=15)).refreshed_after == (
        NOW - timedelta(minutes=15)
    )


# --- never a silent zero --------------------------------------------------------------------------------------------


def test_a_region_without_prices_cannot_be_estimated_rather_than_costing_nothing() -> None:
    record = observe_figure(None, Decimal("1"), MARCH, NOW)
    with pytest.raises(CannotEstimate, match="ap-northeast-1"):
        estimate(app_runner(region="ap-northeast-1"), PRICES, record, points(), [], NOW)


def test_an_unknown_size_cannot_be_estimated() -> None:
    record = observe_figure(None, Decimal("1"), MARCH, NOW)
    with pytest.raises(CannotEstimate, match="size is unknown"):
        estimate(app_runner(vcpu="0"), PRICES, record, points(), [], NOW)


def test_an_ecs_service_on_ec2_cannot_be_estimated() -> None:
    facts = fargate().model_copy(update={"unsupported": "the service runs on EC2 capacity"})
    with pytest.raises(CannotEstimate, match="EC2"):
        usage_between(facts, PRICES, points(), [], NOW - timedelta(hours=1), NOW)


def test_an_app_runner_service_without_data_counts_its_warm_instances_and_says_so() -> None:
    # Given a running service whose metric has no data point at all
    record = observe_figure(None, Decimal("2.00"), MARCH, NOW)
    guess = estimate(app_runner("0.25", "0.5", warm=1), PRICES, record, points(), [], NOW)
    # Then the warm instance's memory is counted for the day (24 h x 0.5 GB x 0.007) and the note says why
    assert guess.usage.cost == Decimal("0.084")
    assert [(gap.kind, gap.metric) for gap in guess.gaps] == [(GapKind.NO_DATA_WARM_ONLY, "ActiveInstances")]


def test_an_ecs_service_without_container_insights_is_counted_from_wardens_records() -> None:
    # Given no RunningTaskCount data, and Warden's records: 2 tasks until 09:30, then 6
    records = [(NOW - timedelta(hours=3), Decimal(2)), (NOW - timedelta(minutes=30), Decimal(6))]
    usage = usage_between(fargate("0.25", "0.5"), PRICES, points(), records, NOW - timedelta(hours=1), NOW)
    # Then 0.5 h x 2 tasks + 0.5 h x 6 tasks = 4 task-hours at $0.0123425
    assert usage.unit_hours == 4
    assert usage.cost == Decimal("0.0493700")
    assert usage.recorded_minutes == 60


def test_a_metric_gap_takes_the_last_value_for_a_quarter_hour_then_counts_as_no_data() -> None:
    # Given 5 instances reported 09:00-09:09 and 09:40-09:59, nothing from 09:10 to 09:39
    start = NOW - timedelta(hours=1)
    gap = points(minutes(start, 10, 5), minutes(start + timedelta(minutes=40), 20, 5))
    usage = usage_between(app_runner("1", "2", warm=1), PRICES, gap, [], start, NOW)
    # Then the first 15 minutes of the gap carry the 5 instances, the next 15 count none (warm only)
    assert usage.carried_minutes == 15
    assert usage.no_data_minutes == 15
    assert usage.unit_hours == Decimal(5) * 45 / 60
    assert timedelta(minutes=15) == CARRY_LIMIT


def test_the_last_minutes_cloudwatch_has_not_delivered_yet_take_the_last_value() -> None:
    # Given 25 instances reported up to 3 minutes ago
    start = NOW - timedelta(hours=1)
    late = points(minutes(start, 57, 25))
    usage = usage_between(app_runner(), PRICES, late, [], start, NOW)
    assert usage.cost == Decimal("1.95")
    assert usage.carried_minutes == 3


def test_a_paused_service_has_no_usage_and_no_projection() -> None:
    # Given a paused App Runner service (no instance, no data) and Budgets' figure of $4
    record = seen("4.00", last_seen=NOW - timedelta(hours=3), first_seen=NOW - timedelta(hours=2, minutes=45))
    guess = estimate(app_runner(running=False), PRICES, record, points(), [(NOW - timedelta(days=1), Decimal(0))], NOW)
    # Then nothing is added, nothing burns, and the guard has nothing to say
    assert guess.usage.cost == 0
    assert guess.burn_rate == 0
    assert guess.gaps == ()
    decision = guard_decision(
        guess, Decimal("10.00"), period_end=NOW + timedelta(days=17), horizon_hours=24, mode=GuardMode.PAUSE
    )
    assert decision.action is GuardAction.OK
    assert decision.projection.reach_at is None


# --- the projection and the decision ----------------------------------------------------------------------------------


def burning(total: str, rate: str) -> object:
    record = seen(total, last_seen=NOW, first_seen=NOW)
    guess = estimate(app_runner(), PRICES, record, points(), [(NOW - timedelta(days=1), Decimal(0))], NOW)
    return guess.model_copy(update={"burn_rate": Decimal(rate)})


def test_the_threshold_is_projected_at_the_last_hours_rate() -> None:
    # Given $6.10 spent, burning $1.95 an hour, and a $10.00 enforce threshold
    guess = burning("6.10", "1.95")
    decision = guard_decision(
        guess, Decimal("10.00"), period_end=NOW + timedelta(days=17), horizon_hours=24, mode=GuardMode.NOTIFY
    )
    # Then $3.90 / $1.95 = 2 hours: a warning
    assert decision.action is GuardAction.WARN
    assert decision.projection.reach_at == NOW + timedelta(hours=2)


@pytest.mark.parametrize(
    ("rate", "period_days", "action"),
    [
        ("0.10", 17, GuardAction.OK),  # 39 hours away: beyond the 24 h horizon
        ("1.95", 0.05, GuardAction.OK),  # 2 hours away, but the period ends in 1.2 hours
        ("0.20", 17, GuardAction.WARN),  # 19.5 hours away
    ],
)
def test_a_warning_needs_the_threshold_within_the_horizon_and_before_the_period_ends(
    rate: str, period_days: float, action: GuardAction
) -> None:
    decision = guard_decision(
        burning("6.10", rate),
        Decimal("10.00"),
        period_end=NOW + timedelta(days=period_days),
        horizon_hours=24,
        mode=GuardMode.NOTIFY,
    )
    assert decision.action is action


def test_the_estimate_at_the_threshold_is_a_breach_whatever_the_rate() -> None:
    decision = guard_decision(
        burning("10.00", "0"),
        Decimal("10.00"),
        period_end=NOW + timedelta(days=17),
        horizon_hours=24,
        mode=GuardMode.PAUSE,
    )
    assert decision.action is GuardAction.BREACH
    assert decision.why is GuardWhy.REACHED


def test_the_enforce_amount_is_the_limit_times_the_threshold_percent() -> None:
    assert enforce_amount(Decimal("10.00"), Decimal(100)) == Decimal("10.00")
    assert enforce_amount(Decimal("10.00"), Decimal("80")) == Decimal("8.00")


# --- the accuracy report, records, prices --------------------------------------------------------------------------


def test_the_estimate_before_a_refresh_is_compared_with_the_figure_it_brought() -> None:
    record = seen("3.40", last_seen=NOW - timedelta(minutes=15), first_seen=NOW)
    log = [(NOW - timedelta(minutes=30), Decimal("3.20")), (NOW - timedelta(minutes=15), Decimal("3.45"))]
    comparison = compare(record, log, Decimal("10"))
    assert comparison is not None
    assert comparison.estimated == Decimal("3.45")
    assert comparison.reported == Decimal("3.40")
    assert comparison.error == Decimal("0.05")
    assert comparison.error_percent_of_budget == Decimal("0.5")


def test_no_comparison_without_an_estimate_near_the_refresh() -> None:
    record = seen("3.40", last_seen=NOW - timedelta(minutes=15), first_seen=NOW)
    assert compare(record, [(NOW - timedelta(hours=2), Decimal("3"))], Decimal("10")) is None
    assert compare(observe_figure(None, Decimal(1), MARCH, NOW), [], Decimal("10")) is None


def test_wardens_records_keep_changes_only_and_survive_the_memo() -> None:
    records = record_units([], Decimal(2), NOW - timedelta(hours=2), keep_from=NOW - timedelta(days=1))
    records = record_units(records, Decimal(2), NOW - timedelta(hours=1), keep_from=NOW - timedelta(days=1))
    records = record_units(records, Decimal(5), NOW, keep_from=NOW - timedelta(minutes=30))
    assert records == [(NOW - timedelta(hours=2), Decimal(2)), (NOW, Decimal(5))]
    assert records_from_memo(records_to_memo(records)) == records


def test_sizes_are_read_in_both_of_app_runners_forms() -> None:
    assert [parse_vcpu("1024"), parse_vcpu("0.25 vCPU"), parse_vcpu("256")] == [1, Decimal("0.25"), Decimal("0.25")]
    assert [parse_memory_gb("2048"), parse_memory_gb("0.5 GB"), parse_memory_gb("nonsense")] == [2, Decimal("0.5"), 0]


def test_spend_prices_override_one_platform_of_a_region_and_add_regions() -> None:
    override = parse_price_override(
        '{"us-east-1": {"apprunner": {"vcpu_hour": "0.07", "gb_hour": "0.008", "provisioned_gb_hour": "0.008"}},'
        ' "eu-central-1": {"fargate": {"arm64": {"vcpu_hour": "0.035", "gb_hour": "0.004"}}}}'
    )
    table = PriceTable().merged(override)
    assert table.regions["us-east-1"].apprunner is not None
    assert table.regions["us-east-1"].apprunner.vcpu_hour == Decimal("0.07")
    assert Architecture.X86_64 in table.regions["us-east-1"].fargate  # the default Fargate prices stay
    assert table.regions["eu-central-1"].fargate[Architecture.ARM64].gb_hour == Decimal("0.004")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "invalid JSON"),
        ('{"Mars-1": {"apprunner": {}}}', "not a region"),
        ('{"us-east-1": {"apprunner": {"vcpu_hour": "0.07"}}}', "expected exactly"),
        ('{"us-east-1": {"apprunner": {"vcpu_hour": "-1", "gb_hour": "0", "provisioned_gb_hour": "0"}}}', "from 0"),
        ('{"us-east-1": {"fargate": {"sparc": {"vcpu_hour": "1", "gb_hour": "1"}}}}', "x86_64 or arm64"),
    ],
)
def test_a_bad_spend_prices_override_is_refused_with_the_reason(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_price_override(raw)


# --- properties ---------------------------------------------------------------------------------------------------

unit_minutes = st.lists(st.integers(min_value=0, max_value=30), min_size=60, max_size=60)


@settings(max_examples=60, deadline=None)
@given(unit_minutes, st.integers(min_value=0, max_value=59), st.integers(min_value=1, max_value=10))
def test_more_usage_never_lowers_the_estimate_and_the_estimate_is_never_negative(
    values: list[int], minute: int, more: int
) -> None:
    # Given an hour of usage, and the same hour with more units in one minute
    start = NOW - timedelta(hours=1)
    lower = MetricPoints(points=tuple((start + timedelta(minutes=i), Decimal(v)) for i, v in enumerate(values)))
    raised = list(values)
    raised[minute] += more
    higher = MetricPoints(points=tuple((start + timedelta(minutes=i), Decimal(v)) for i, v in enumerate(raised)))
    for facts in (app_runner("0.25", "0.5", warm=2), fargate("0.5", "1")):
        low = usage_between(facts, PRICES, lower, [], start, NOW).cost
        high = usage_between(facts, PRICES, higher, [], start, NOW).cost
        # Then the estimate grows with usage, and is never negative
        assert Decimal(0) <= low <= high


@settings(max_examples=60, deadline=None)
@given(unit_minutes.filter(lambda values: any(values)))
def test_usage_above_zero_is_never_priced_at_zero(values: list[int]) -> None:
    start = NOW - timedelta(hours=1)
    series = MetricPoints(points=tuple((start + timedelta(minutes=i), Decimal(v)) for i, v in enumerate(values)))
    for facts in (app_runner("0.25", "0.5", warm=1), fargate("0.25", "0.5")):
        assert usage_between(facts, PRICES, series, [], start, NOW).cost > 0
