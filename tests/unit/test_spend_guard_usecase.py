"""The spend guard (run_schedule `spend-check`) with in-memory fakes: warn, notify, pause, and stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes import FakeBudgets, FakeMetrics, FakeNotifier, FakeService, FakeState, FakeUsage
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceStatus
from warden.domain.spend import MetricSpec, Pricing, UsageFacts
from warden.errors import AwsUnavailable
from warden.messages.spend import accuracy_line
from warden.models.money import Money
from warden.settings import Settings
from warden.usecases.operator import OperatorDeps, manual_resume, status
from warden.usecases.schedule import Job, JobResult, ScheduleDeps, run_job
from warden.usecases.spend_guard import ACCURACY_MEMO, FIGURE_MEMO, USAGE_QUERY
from warden.usecases.undo import undo_pause_lines

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
MIDNIGHT = datetime(2026, 3, 14, 0, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}


def snapshot(actual: str, limit: str = "10.00") -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly", limit=Money(amount=Decimal(limit)), actual=Money(amount=Decimal(actual))
    )


def facts(vcpu: str = "1", memory: str = "2", *, running: bool = True, region: str = "us-east-1") -> UsageFacts:
    return UsageFacts(
        pricing=Pricing.APP_RUNNER,
        region=region,
        vcpu=Decimal(vcpu),
        memory_gb=Decimal(memory),
        warm_minimum=1,
        running=running,
        units_now=Decimal(1 if running else 0),
        metric=MetricSpec(namespace="AWS/AppRunner", name="ActiveInstances", dimensions=(("ServiceName", "x"),)),
        described=f"{vcpu} vCPU / {memory} GB per instance, 1 kept warm",
    )


class World:
    def __init__(
        self,
        *,
        mode: str = "notify",
        dry_run: bool = False,
        status: ServiceStatus = ServiceStatus.RUNNING,
        usage: UsageFacts | None = None,
        budget: str = "2.00",
        **env: str,
    ) -> None:
        self.service = FakeService(arn=ARN, status=status)
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.budgets = FakeBudgets(snapshot(budget))
        self.usage = FakeUsage(usage or facts(running=status is ServiceStatus.RUNNING))
        self.metrics = FakeMetrics()
        self.settings = Settings.from_env(
            {**ENV, "SPEND_GUARD": mode, "DRY_RUN": "true" if dry_run else "false", **env}
        )
        self.deps = ScheduleDeps(
            self.service, self.state, self.notifier, self.budgets, None, usage=self.usage, metrics=self.metrics
        )

    def instances(self, count: int, start: datetime, end: datetime) -> None:
        """ActiveInstances: `count` every minute of [start, end)."""
        series = self.metrics.series.setdefault(USAGE_QUERY, [])
        minute = start
        while minute < end:
            series.append((minute, Decimal(count)))
            minute += timedelta(minutes=1)

    def check(self, now: datetime) -> JobResult:
        return run_job(Job.SPEND_CHECK, self.deps, self.settings, now)

    def checks(self, start: datetime, end: datetime) -> list[JobResult]:
        """A check every quarter of an hour over [start, end), as the schedule runs them."""
        results, now = [], start
        while now < end:
            results.append(self.check(now))
            now += QUARTER
        return results

    def events(self) -> list[str]:
        return [sent.event for sent in self.notifier.sent]


def spike_world(**options: object) -> World:
    """Budgets' $3.00 appears at 06:15 (it said $2.00 at 06:00); 25 instances of 1 vCPU / 2 GB from 07:00:
    $1.95 an hour. Estimate: 3.00 + 0.014 (06:00-07:00, one warm instance) + 1.95 x (t - 07:00)."""
    world = World(**options)  # type: ignore[arg-type]
    world.instances(0, MIDNIGHT, MIDNIGHT + timedelta(hours=7))
    world.instances(25, MIDNIGHT + timedelta(hours=7), MIDNIGHT + timedelta(days=2))
    world.checks(MIDNIGHT, MIDNIGHT + timedelta(hours=6, minutes=15))
    world.budgets.snapshot = snapshot("3.00")
    return world


# --- quiet when nothing is wrong ----------------------------------------------------------------------------------


def test_a_steady_service_far_below_its_budget_gets_no_message_in_a_day_of_checks() -> None:
    # Given 0.25 vCPU / 0.5 GB with one instance active all day ($0.0195 an hour) and $2.00 spent
    world = World(usage=facts("0.25", "0.5"))
    world.instances(1, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    # When the guard checks every quarter of an hour for a day
    results = world.checks(MIDNIGHT, MIDNIGHT + timedelta(days=1))
    # Then every check is ok and nobody hears anything
    assert {result.outcome for result in results} == {"ok"}
    assert world.notifier.sent == []
    # And each check made one metrics request
    assert len(world.metrics.requests) == 96


def test_a_paused_service_has_no_usage_no_projection_and_no_message() -> None:
    # Given a paused service: no instance, no metric data, and Budgets' $4.00
    world = World(status=ServiceStatus.PAUSED, budget="4.00")
    # When the guard checks for a day
    results = world.checks(MIDNIGHT, MIDNIGHT + timedelta(days=1))
    # Then the estimate stays Budgets' figure, nothing is projected, and nothing is sent
    assert {result.outcome for result in results} == {"ok"}
    assert world.notifier.sent == []
    assert world.service.mutations == []
    report = status(OperatorDeps(world.service, world.state, world.notifier, world.budgets), world.settings)
    assert report.spend is not None
    assert report.spend.estimate == Decimal("4.00")
    assert report.spend.reach_at is None


# --- the projection warning ---------------------------------------------------------------------------------------


def test_a_spike_is_projected_and_warned_about_once_however_many_checks_see_it() -> None:
    # Given the spike from 07:00
    world = spike_world()
    # When the guard checks until 10:00
    results = world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=10))
    # Then the first check that sees the spike (07:15: a quarter hour of it in the last hour) warns, and only it
    outcomes = [result.outcome for result in results]
    assert outcomes[:4] == ["ok"] * 4
    assert outcomes[4:] == ["warned"] + ["warned_earlier"] * (len(outcomes) - 5)
    (sent,) = world.notifier.sent
    assert sent.event == "spend.projected"
    assert sent.severity == "warning"
    # (its words, the $0.4980 an hour and $10.00 by 20:17 of this same spike: golden spend.projected)


def test_the_projection_warning_is_sent_at_most_once_per_day_and_again_the_next_day() -> None:
    # Given one instance of 1 vCPU / 2 GB ($0.078 an hour), and a 96-hour horizon that keeps the threshold in sight
    world = World(SPEND_GUARD_HORIZON_HOURS="96")
    world.instances(1, MIDNIGHT - timedelta(days=2), MIDNIGHT + timedelta(days=3))
    # When the guard checks every quarter of an hour for two days (192 checks, each projecting the threshold)
    results = world.checks(MIDNIGHT, MIDNIGHT + timedelta(days=2))
    # Then one warning a day: at the first check of each UTC day, nothing in between
    assert [result.outcome for result in results].count("warned_earlier") == 190
    assert world.events() == ["spend.projected", "spend.projected"]
    assert [i for i, result in enumerate(results) if result.outcome == "warned"] == [0, 96]


def test_a_warning_that_could_not_be_sent_is_sent_by_the_next_check() -> None:
    world = spike_world()
    world.notifier.fail_times = 1
    with pytest.raises(RuntimeError):
        world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=8, minutes=15))
    world.check(MIDNIGHT + timedelta(hours=8, minutes=15))
    assert world.events() == ["spend.projected"]


# --- the estimate reaches the threshold ---------------------------------------------------------------------------


def test_by_default_a_breach_is_notified_once_a_day_and_nothing_is_paused() -> None:
    # Given the spike and SPEND_GUARD=notify (the default)
    world = spike_world()
    # When the guard checks until the evening (the estimate crosses $10.00 between 10:30 and 10:45)
    results = world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=20))
    # Then one projection warning, one breach notification, no claim and no pause
    assert world.events() == ["spend.projected", "spend.estimated_breach"]
    assert [r.outcome for r in results].index("breach_notified") == 18  # the 10:45 check
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == []
    assert world.notifier.sent[1].severity == "critical"


def test_with_spend_guard_pause_the_breach_pauses_with_an_estimated_budget_claim() -> None:
    # Given the spike and SPEND_GUARD=pause
    world = spike_world(mode="pause")
    # When the guard checks until 11:00
    results = world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=11, minutes=15))
    # Then the 10:45 check places the budget claim and pauses the service
    assert results[-2].outcome == "paused"
    assert results[-1].outcome == "held"
    assert world.service.status is ServiceStatus.PAUSED
    (claim,) = world.state.list_claims(ARN)
    assert claim.reason is ClaimReason.BUDGET
    assert claim.owner == "spend_guard"
    # And its evidence says it is an estimate, with the estimate's parts: Budgets' figure, its age, usage, prices
    assert claim.evidence.startswith("estimated, not yet confirmed by AWS Budgets")
    assert claim.details["estimated"] == "true"
    assert claim.details["budgets_figure"] == "3.00"
    assert claim.details["figure_age_hours"] == "4.8"  # covering usage up to 06:00, estimated at 10:45
    assert claim.details["usage_since"] == "7.3265"  # 0.014 + 3.75 h x 1.95
    assert claim.details["period_start"] == "2026-03-01"
    assert "$0.064/vCPU-hour" in claim.details["prices"]
    # And the operator reads how to undo it: the undo commands of the budget claim, as every pause gives them
    paused = world.notifier.sent[-1]
    assert paused.event == "spend.paused"
    assert paused.severity == "critical"
    undo = undo_pause_lines(world.service, world.settings, ClaimReason.BUDGET, claim.key, state=world.state)
    assert [line for line in undo if line not in paused.body] == []


def test_a_dry_run_says_it_would_pause_once_a_day_and_changes_nothing() -> None:
    # Given the spike, SPEND_GUARD=pause and DRY_RUN
    world = spike_world(mode="pause", dry_run=True)
    # When the guard checks until the evening
    results = world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=20))
    # Then it says once that it would pause; no claim is stored and the service is not called
    assert world.events() == ["spend.projected", "spend.dry_run"]
    assert [r.outcome for r in results].count("would_pause") == 1
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == []
    assert [record.outcome for _, record in world.state.actions if record.action == "claim.add"] == ["would"]


def test_an_override_of_the_guards_pause_stands_for_the_rest_of_the_period() -> None:
    # Given the guard paused the spike at 10:45
    world = spike_world(mode="pause")
    world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=11))
    # When the operator overrides the budget claim at 11:00
    operator = OperatorDeps(world.service, world.state, world.notifier, world.budgets)
    manual_resume(
        operator,
        world.settings,
        who="alice",
        reason="launch day",
        override=ClaimReason.BUDGET,
        now=MIDNIGHT + timedelta(hours=11),
    )
    results = world.checks(MIDNIGHT + timedelta(hours=11, minutes=15), MIDNIGHT + timedelta(days=1, hours=1))
    # Then the guard does not pause again: it notifies once a day that it does not
    assert world.service.status is ServiceStatus.RUNNING
    assert world.state.list_claims(ARN) == []
    overridden = [result for result in results if result.outcome == "overridden"]
    assert len(overridden) == 2  # 11:15 today, 00:00 tomorrow
    assert world.notifier.sent[-1].event == "spend.overridden"  # golden spend.overridden: "cleared by alice at ..."


def test_the_period_checks_release_of_last_months_claim_is_no_override() -> None:
    # Given a budget claim from February that the budget-period check cleared on 1 March
    world = spike_world(mode="pause")
    world.state.actions.append(
        (
            ARN,
            ActionRecord(
                at=datetime(2026, 3, 1, 0, 5, tzinfo=UTC),
                action="claim.clear",
                outcome="done",
                reason="budget: a new budget period started on 2026-03-01",
                actor="run_schedule",
            ),
        )
    )
    # When the spike crosses the threshold in March
    world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=11))
    # Then the guard pauses
    assert world.service.status is ServiceStatus.PAUSED


def test_a_service_a_budget_claim_already_holds_is_left_alone() -> None:
    world = spike_world(mode="pause")
    world.service.status = ServiceStatus.PAUSED
    world.state.add_claim(ARN, Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="Budgets", now=MIDNIGHT))
    results = world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=12))
    assert world.notifier.sent == []
    assert world.service.mutations == []
    assert {result.outcome for result in results} <= {"ok", "held"}


# --- cannot estimate --------------------------------------------------------------------------------------------------


def test_a_region_without_prices_is_reported_once_a_day_and_never_priced_at_zero() -> None:
    # Given a service in a region the price table does not know
    world = World(usage=facts(region="ap-northeast-1"))
    # When the guard checks for a day
    results = world.checks(MIDNIGHT, MIDNIGHT + timedelta(days=1))
    # Then every check says it cannot estimate, and a person hears it once
    assert {result.outcome for result in results} == {"cannot_estimate"}
    assert world.events() == ["spend.cannot_estimate"]  # golden spend.cannot_estimate: which region, how to fix it
    report = status(OperatorDeps(world.service, world.state, world.notifier, world.budgets), world.settings)
    assert report.spend is not None
    assert report.spend.estimate is None
    assert "ap-northeast-1" in report.spend.reason


def test_cloudwatch_not_answering_defers_quietly_then_is_reported_after_two_hours() -> None:
    world = World()
    world.instances(0, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    world.check(MIDNIGHT)
    world.metrics.fail_with = AwsUnavailable("cloudwatch GetMetricData failed after botocore's retries: Throttling")
    results = world.checks(MIDNIGHT + QUARTER, MIDNIGHT + timedelta(hours=2, minutes=15))
    assert [result.outcome for result in results[:7]] == ["deferred"] * 7
    assert results[7].outcome == "cannot_estimate"
    assert world.events() == ["spend.cannot_estimate"]


# --- the accuracy report --------------------------------------------------------------------------------------------


def test_the_budget_period_check_records_the_estimate_against_budgets_next_figure() -> None:
    # Given one instance of 1 vCPU / 2 GB all day ($0.078 an hour) and Budgets at $2.00, checked every quarter
    world = World()
    world.instances(1, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    world.checks(MIDNIGHT, MIDNIGHT + timedelta(hours=6, minutes=15))
    world.budgets.snapshot = snapshot("2.45")  # Budgets refreshes between 06:00 and 06:15
    world.checks(MIDNIGHT + timedelta(hours=6, minutes=15), MIDNIGHT + timedelta(hours=9))
    # When the budget-period check runs
    result = run_job(Job.BUDGET_PERIOD_CHECK, world.deps, world.settings, MIDNIGHT + timedelta(hours=9))
    # Then it compared the 06:00 estimate with $2.45, once
    assert result.accuracy is not None
    again = run_job(Job.BUDGET_PERIOD_CHECK, world.deps, world.settings, MIDNIGHT + timedelta(hours=15))
    assert again.accuracy is None
    # And `warden status` shows it with the error
    report = status(OperatorDeps(world.service, world.state, world.notifier, world.budgets), world.settings)
    assert report.spend is not None
    (comparison,) = report.spend.accuracy
    # 06:00: Warden's first look (00:00) took $2.00 as a day old, so it counted 30 h at $0.078: 2.00 + 2.34
    assert comparison.estimated_at == MIDNIGHT + timedelta(hours=6)
    assert comparison.estimated == Decimal("4.34")
    assert comparison.reported == Decimal("2.45")
    # And the period check reported that comparison (golden spend.accuracy words it)
    assert result.accuracy == accuracy_line(comparison)
    assert world.state.get_memo(ARN, ACCURACY_MEMO) is not None
    assert world.state.get_memo(ARN, FIGURE_MEMO)["refreshed_after"] == (MIDNIGHT + timedelta(hours=6)).isoformat()
