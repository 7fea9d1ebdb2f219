"""run_schedule's jobs and the operator's pause/resume, with in-memory fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes import FakeBudgets, FakeImages, FakeNotifier, FakeService, FakeState
from warden.domain.budget import BudgetSnapshot, EnforcePolicy, budget_claim_release
from warden.domain.claims import Claim, ClaimReason
from warden.domain.service import ServiceStatus
from warden.models.money import Money
from warden.settings import Settings
from warden.usecases.claims import ClaimStep
from warden.usecases.converge import PENDING_DEPLOY
from warden.usecases.operator import OperatorDeps, manual_pause, manual_resume
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
}


def snapshot(actual: str) -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly", limit=Money(amount=Decimal("10.00")), actual=Money(amount=Decimal(actual))
    )


class World:
    def __init__(self, *, status: ServiceStatus = ServiceStatus.RUNNING, actual: str = "0.50", **env: str) -> None:
        self.service = FakeService(arn=ARN, status=status)
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.budgets = FakeBudgets(snapshot(actual))
        self.images = FakeImages()
        self.settings = Settings.from_env({**ENV, **env})
        self.schedule = ScheduleDeps(self.service, self.state, self.notifier, self.budgets, self.images)
        self.operator = OperatorDeps(self.service, self.state, self.notifier, self.budgets, self.images)

    def claim(self, reason: ClaimReason, *, days_ago: int = 3, period_start: str | None = None) -> None:
        details = {"period_start": period_start} if period_start else None
        claim = Claim.new(
            reason, owner="seed", evidence="seeded", now=MONDAY_0800 - timedelta(days=days_ago), details=details
        )
        assert self.state.add_claim(ARN, claim)

    def run(self, job: Job, now: datetime = MONDAY_0800) -> str:
        return run_job(job, self.schedule, self.settings, now).outcome


def test_the_0800_resume_leaves_a_budget_paused_service_paused_and_says_who_holds_it() -> None:
    # Given a service paused by the budget and by the evening schedule
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET)
    world.claim(ClaimReason.SCHEDULE, days_ago=0)
    # When the working day starts
    world.run(Job.WORKDAY_START)
    # Then the schedule claim is gone, the budget claim stays, and App Runner is not called
    assert [claim.key for claim in world.state.list_claims(ARN)] == ["budget"]
    assert world.service.mutations == []
    # And the one notification says the service stays paused (its words: golden schedule.working_hours.held)
    (sent,) = world.notifier.sent
    assert sent.event == "schedule.held"


def test_the_evening_pause_and_the_morning_resume_call_app_runner_once_each() -> None:
    world = World()
    world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18))
    assert world.service.status is ServiceStatus.PAUSED
    world.run(Job.WORKDAY_START, MONDAY_0800 + timedelta(days=1))
    assert world.service.mutations == ["pause", "resume"]
    assert [sent.event for sent in world.notifier.sent] == ["schedule.paused", "schedule.resumed"]


def test_a_repeated_schedule_delivery_changes_nothing_and_stays_quiet() -> None:
    world = World()
    world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18))
    assert world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18)) == "unchanged"
    assert world.service.mutations == ["pause"]
    assert len(world.notifier.sent) == 1


def test_schedule_jobs_are_ignored_when_working_hours_are_off() -> None:
    world = World(WORKING_HOURS_ENABLED="false")
    assert world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18)) == "ignored"
    assert world.state.list_claims(ARN) == []


def test_the_new_month_resumes_a_budget_paused_service_when_spend_is_under_the_threshold() -> None:
    # Given a budget claim placed last month and a Budgets API reporting $0.50 this month
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET, period_start="2026-10-01")
    # When the budget-period check runs
    world.run(Job.BUDGET_PERIOD_CHECK)
    # Then the claim is cleared and the service resumed
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == ["resume"]
    assert world.notifier.sent[0].event == "budget.period_resumed"


def test_a_manual_pause_survives_the_budget_roll_over() -> None:
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET, period_start="2026-10-01")
    world.claim(ClaimReason.MANUAL)
    world.run(Job.BUDGET_PERIOD_CHECK)
    assert [claim.key for claim in world.state.list_claims(ARN)] == ["manual"]
    assert world.service.mutations == []
    assert world.notifier.sent[0].event == "budget.period_held"


def test_the_budget_claim_stays_within_the_same_period() -> None:
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET, period_start="2026-11-01")
    assert world.run(Job.BUDGET_PERIOD_CHECK) == "kept"
    assert world.service.mutations == []
    assert world.notifier.sent == []


@pytest.mark.parametrize(
    ("claim_period", "actual", "release"),
    [("2026-10-01", "0.50", True), ("2026-11-01", "0.50", False), ("2026-10-01", "10.00", False)],
    ids=["new period under threshold", "same period", "new period already over"],
)
def test_the_budget_claim_is_released_only_in_a_new_period_under_the_threshold(
    claim_period: str, actual: str, release: bool
) -> None:
    check = budget_claim_release(
        date.fromisoformat(claim_period), snapshot(actual), EnforcePolicy(budget_name="b"), MONDAY_0800
    )
    assert check.release is release
    assert check.reason


def test_a_resume_after_an_image_push_starts_a_deployment_once_the_service_runs() -> None:
    # Given a service paused with image digest 1
    world = World()
    world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18))
    # When a new image is pushed to the tracked tag while paused, and the day starts
    world.images.digest = "sha256:" + "2" * 64
    world.run(Job.WORKDAY_START, MONDAY_0800 + timedelta(days=1))
    # Then a deployment of the pushed image is pending (the resume's words: golden schedule.working_hours.resumed_*)
    assert world.notifier.sent[-1].event == "schedule.resumed"
    assert world.state.get_memo(ARN, PENDING_DEPLOY)["to"] == world.images.digest
    # When the reconcile runs with the service RUNNING
    assert world.run(Job.RECONCILE, MONDAY_0800 + timedelta(days=1, minutes=15)) == "deployed"
    # Then exactly one deployment started and nothing is pending any more
    assert world.service.mutations == ["pause", "resume", "start_deployment"]
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is None


def test_a_resume_without_a_push_starts_no_deployment() -> None:
    world = World()
    world.run(Job.WORKDAY_END, MONDAY_0800.replace(hour=18))
    world.run(Job.WORKDAY_START, MONDAY_0800 + timedelta(days=1))
    assert world.run(Job.RECONCILE, MONDAY_0800 + timedelta(days=1, minutes=15)) == "converged"
    assert "start_deployment" not in world.service.mutations


def test_reconcile_finishes_a_pause_deferred_while_app_runner_was_busy() -> None:
    # Given a claim whose pause was deferred (the service was busy), now RUNNING
    world = World()
    world.claim(ClaimReason.BUDGET)
    # When the reconcile runs, Then it pauses and says so
    assert world.run(Job.RECONCILE) == "paused"
    assert world.service.mutations == ["pause"]
    assert world.notifier.sent[0].event == "service.reconciled"


def test_reconcile_on_a_busy_service_defers_quietly() -> None:
    world = World(status=ServiceStatus.OPERATION_IN_PROGRESS)
    world.claim(ClaimReason.BUDGET)
    assert world.run(Job.RECONCILE) == "deferred"
    assert world.notifier.sent == []


def test_manual_resume_clears_only_the_manual_claim() -> None:
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET)
    world.claim(ClaimReason.MANUAL)
    changes = manual_resume(world.operator, world.settings, who="alice", reason="done", override=None, now=MONDAY_0800)
    assert [claim.key for claim in world.state.list_claims(ARN)] == ["budget"]
    assert world.service.mutations == []
    # The manual claim was cleared, and no resume was called (golden operator.resume.held words it)
    assert [(change.claim_key, change.step, change.called) for change in changes] == [
        ("manual", ClaimStep.CLEARED, None)
    ]
    assert world.notifier.sent[0].event == "manual.resumed"


def test_an_override_clears_the_named_claim_and_records_who_and_why() -> None:
    world = World(status=ServiceStatus.PAUSED)
    world.claim(ClaimReason.BUDGET)
    manual_resume(
        world.operator,
        world.settings,
        who="bob",
        reason="raised the budget",
        override=ClaimReason.BUDGET,
        now=MONDAY_0800,
    )
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == ["resume"]
    clear = next(record for _, record in world.state.actions if record.action == "claim.clear")
    assert "bob: raised the budget" in clear.reason
    assert world.notifier.sent[0].event == "override.resumed"


def test_dry_run_manual_pause_changes_nothing() -> None:
    world = World(DRY_RUN="true")
    change = manual_pause(world.operator, world.settings, who="alice", reason="test", now=MONDAY_0800)
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == []
    # What it would have done is told (golden operator.pause.dry_run words it)
    assert (change.step, change.result.dry_run) == (ClaimStep.WOULD_RECORD, True)
    assert world.notifier.sent[0].event == "manual.paused"


def test_the_budget_period_check_runs_every_six_hours_with_the_wiring_check_wired_in() -> None:
    # Given the template's schedule and the production wiring of run_schedule
    from local.template import load_template
    from warden.wiring import schedule_deps

    events = load_template()["Resources"]["RunScheduleFunction"]["Properties"]["Events"]
    check = events["BudgetPeriodCheck"]["Properties"]
    # Then the budget-period check runs four times a day, and its deps include the budget wiring check
    assert (check["ScheduleExpression"], check["Input"]) == ("cron(15 0/6 * * ? *)", '{"job": "budget-period-check"}')
    assert schedule_deps(Settings.from_env(ENV)).wiring is not None
