"""Every pause message says what keeps costing while paused, with the monthly figure where it is known.

Pausing an ECS service stops its tasks, but a load balancer in front of it bills on (about $16.43 a month at
list price, more than a $10 budget), while the message used to say the pause stops the spend. For every path
that pauses (budget alert, cost anomaly, alarm, working hours, reconcile, operator) and every platform (App
Runner; ECS with a load balancer, Express Mode, without one, unknown), the message carries the lines
warden/messages/service.py writes from the costs (domain/costs.py); their words are approved once, in the golden
file tests/golden/texts/operator.costs.txt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.alarm_events import alarm_event
from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgets, FakeImages, FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.costs import ALB_MONTHLY_USD, CostItem, costs_while_paused, still_billed_monthly
from warden.domain.notification import Notification
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.messages.service import pause_effect, paused_cost_lines
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, handle_event
from warden.usecases.budget_alert import BudgetAlertDeps, handle_message
from warden.usecases.operator import OperatorDeps, manual_pause
from warden.usecases.schedule import Job, ScheduleDeps, run_job

APP_RUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # a Friday evening, after working hours
BASE_ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
    "ALARM_ACTIONS": "*=pause",
    "ANOMALY_PAUSE_IMPACT_USD": "5",
}
ALB_MONTHLY = Decimal("16.43")  # $0.0225 an hour × 730 hours (AWS-FACTS §9.5)


@dataclass(frozen=True)
class Platform:
    name: str
    arn: str
    facts: dict[str, Any]  # what the platform's adapter reports beside the status
    still_billed: Decimal  # the known monthly figure of what keeps billing (0: no load balancer)
    stopped: CostItem  # the compute the pause stops, at $0.00 a month


PLATFORMS = [
    Platform("App Runner", APP_RUNNER_ARN, {"auto_deploy": False}, Decimal(0), CostItem.APP_RUNNER_COMPUTE),
    Platform(
        "ECS with a load balancer",
        ECS_ARN,
        {"platform": "ECS", "load_balanced": True, "express": False},
        ALB_MONTHLY,
        CostItem.FARGATE_TASKS,
    ),
    Platform(
        "ECS Express Mode",
        ECS_ARN,
        {"platform": "ECS", "load_balanced": True, "express": True},
        ALB_MONTHLY,
        CostItem.FARGATE_TASKS,
    ),
    Platform(
        "ECS without a load balancer",
        ECS_ARN,
        {"platform": "ECS", "load_balanced": False, "express": False},
        Decimal(0),
        CostItem.FARGATE_TASKS,
    ),
    Platform(
        "ECS, load balancer unknown",
        ECS_ARN,
        {"platform": "ECS", "load_balanced": None, "express": None},
        ALB_MONTHLY,
        CostItem.FARGATE_TASKS,
    ),
]


@dataclass
class PlatformService(FakeService):
    """The fake service, reporting what the platform's adapter reports (platform, load balancer, Express)."""

    reported: dict[str, Any] = field(default_factory=dict)

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return super().describe(service_arn).model_copy(update=self.reported)


class World:
    def __init__(self, platform: Platform, *, status: ServiceStatus = ServiceStatus.RUNNING, **env: str) -> None:
        self.arn = platform.arn
        self.service = PlatformService(arn=platform.arn, status=status, reported=platform.facts)
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.budgets = FakeBudgets(
            BudgetSnapshot(
                name="consultation-app-monthly",
                limit=Money(amount=Decimal("10.00")),
                actual=Money(amount=Decimal("10.42")),
                forecast=Money(amount=Decimal("12.40")),
            )
        )
        self.settings = Settings.from_env({**BASE_ENV, "SERVICE_ARN": platform.arn, **env})

    def claim(self, reason: ClaimReason) -> None:
        self.state.add_claim(self.arn, Claim.new(reason, owner="seed", evidence="seeded", now=NOW - timedelta(days=1)))

    def budget_alert(self, text: str) -> Notification:
        deps = BudgetAlertDeps(self.service, self.budgets, self.notifier, self.state)
        (message,) = parse_sns_event(sns_event(text, message_id=str(uuid.uuid4())))
        handle_message(message, deps, self.settings, NOW)
        return self.notifier.sent[-1]

    def alarm(self) -> Notification:
        deps = AlarmDeps(self.service, self.notifier, self.state, FakeRollback(configured=False))
        fixture = "sns-ecs-cpu-alarm" if self.arn == ECS_ARN else "sns-5xx-rate-alarm"
        changed = NOW - timedelta(minutes=1)
        handle_event(alarm_event(fixture, changed_at=changed, message_id=str(uuid.uuid4())), deps, self.settings, NOW)
        return self.notifier.sent[-1]

    def schedule(self, job: Job) -> Notification:
        deps = ScheduleDeps(self.service, self.state, self.notifier, self.budgets, FakeImages())
        run_job(job, deps, self.settings, NOW)
        return self.notifier.sent[-1]

    def operator_pause(self) -> Notification:
        deps = OperatorDeps(self.service, self.state, self.notifier, self.budgets)
        manual_pause(deps, self.settings, who="alice", reason="investigating", now=NOW)
        return self.notifier.sent[-1]


def _breach() -> str:
    return budget_message(threshold="$10.00", amount="$10.42")


def _budget_pause(world: World) -> Notification:
    return world.budget_alert(_breach())


def _budget_dry_run(world: World) -> Notification:
    world.settings = world.settings.model_copy(update={"dry_run": True})
    return world.budget_alert(_breach())


def _budget_already_paused(world: World) -> Notification:
    world.service.status = ServiceStatus.PAUSED
    return world.budget_alert(_breach())


def _anomaly_pause(world: World) -> Notification:
    return world.budget_alert(json.dumps({"anomalyId": "a-1", "impact": {"totalImpact": 42.1}}))


def _alarm_pause(world: World) -> Notification:
    return world.alarm()


def _evening_pause(world: World) -> Notification:
    return world.schedule(Job.WORKDAY_END)


def _reconcile_pause(world: World) -> Notification:
    world.claim(ClaimReason.MANUAL)
    return world.schedule(Job.RECONCILE)


def _operator_pause(world: World) -> Notification:
    return world.operator_pause()


PATHS: list[Callable[[World], Notification]] = [
    _budget_pause,
    _budget_dry_run,
    _budget_already_paused,
    _anomaly_pause,
    _alarm_pause,
    _evening_pause,
    _reconcile_pause,
    _operator_pause,
]


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.name)
@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__.strip("_"))
def test_every_pause_message_says_what_keeps_costing_with_the_figure(
    path: Callable[[World], Notification], platform: Platform
) -> None:
    # Given a running service on the platform
    world = World(platform)
    service = world.service.describe(world.arn)
    # When a pause path pauses it (or, in a dry run, would)
    sent = path(world)
    # Then the message carries every line of what keeps billing, as the renderer writes them for this service
    assert [line for line in paused_cost_lines(service) if line not in sent.body] == []
    # And those are: the compute the pause stops at $0, the known figure of what does not, and what Warden cannot see
    billed = costs_while_paused(service)
    assert (billed[0].item, billed[0].monthly_usd) == (platform.stopped, 0)
    assert still_billed_monthly(billed[1:]) == platform.still_billed
    assert billed[-1].monthly_usd is None


@pytest.mark.parametrize("platform", PLATFORMS[1:3], ids=lambda platform: platform.name)
def test_a_budget_pause_of_a_load_balanced_ecs_service_does_not_claim_the_spend_stops(platform: Platform) -> None:
    # Given an ECS service with a load balancer, When a confirmed breach pauses it
    world = World(platform)
    sent = _budget_pause(world)
    # Then the headline says what the pause stops and names the figure that keeps billing (the load balancer's)
    effect = pause_effect(world.service.describe(world.arn))
    headline = sent.body.splitlines()[0]
    assert effect in headline
    assert f"${ALB_MONTHLY}" in effect
    assert "stop the spend" not in sent.body


@given(
    platform=st.sampled_from(["App Runner", "ECS"]),
    load_balanced=st.sampled_from([True, False, None]),
    express=st.sampled_from([True, False, None]),
    auto_deploy=st.sampled_from([True, False, None]),
)
def test_the_cost_lines_name_the_stopped_compute_every_known_figure_and_the_unknowns(
    platform: str, load_balanced: bool | None, express: bool | None, auto_deploy: bool | None
) -> None:
    # Given any facts a platform's adapter may report
    service = ServiceSnapshot(
        arn=ECS_ARN,
        name="consultation-app",
        status=ServiceStatus.RUNNING,
        platform=platform,
        load_balanced=load_balanced,
        express=express,
        auto_deploy=auto_deploy,
    )
    # When the costs while paused are listed
    lines = costs_while_paused(service)
    # Then the first is the compute the pause stops, at $0; what Warden cannot see is said to be unknown
    assert lines[0].monthly_usd == 0
    assert any(line.monthly_usd is None for line in lines)
    # And a load balancer is billed exactly where one is, or may be, in front of an ECS service
    may_have_one = platform == "ECS" and (bool(express) or load_balanced is not False)
    assert any(line.monthly_usd == ALB_MONTHLY_USD for line in lines) == may_have_one
    assert Decimal("16.43") == ALB_MONTHLY_USD


SNAPSHOTS = [
    ServiceSnapshot(
        arn=ECS_ARN,
        name="consultation-app",
        status=ServiceStatus.RUNNING,
        platform=platform,
        load_balanced=load_balanced,
        express=express,
        auto_deploy=auto_deploy,
    )
    for platform in ("App Runner", "ECS")
    for load_balanced in (True, False, None)
    for express in (True, False, None)
    for auto_deploy in (True, False, None)
]
