"""A confirmed budget breach pauses even when the state table is gone, and the pause is recorded once it is back.

The state table deleted or throttled for good used to turn a confirmed breach into an exception: no pause and no
message. Now the breach is paused on an in-memory state, the notification says the pause is not recorded and what
to do, the metric `StateUnavailable` is counted and the invocation fails (Lambda's error alarm, the failure queue).
Once the table is back, the reconcile records the budget claim instead of resuming the service.

The words of those notifications are tests/golden/test_budget_messages.py's (budget.unrecorded.*,
budget.claim_recovered.*); here, what happened: the calls, the claims, the events, the quoted cause.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgets, FakeNotifier, FakeService, FakeState
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Severity
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceStatus
from warden.errors import StateUnavailable
from warden.messages.budget import NOT_RECORDED
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.observability import metrics
from warden.settings import Settings
from warden.usecases.budget_alert import BudgetAlertDeps, Outcome, handle_message
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
GONE = "the state table is unavailable: DynamoDB PutItem failed (ResourceNotFoundException)"


class FailingState(FakeState):
    """The state table, failing from its `fail_from`-th call on (0: from the start), as a deleted or throttled
    table does once botocore's retries are spent."""

    def __init__(self, fail_from: int = 0) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.calls = 0

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute) or name not in _STATE_METHODS:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls > self.fail_from:
                raise StateUnavailable(GONE)
            return attribute(*args, **kwargs)

        return call


_STATE_METHODS = frozenset(
    name for name in dir(FakeState) if not name.startswith("_") and callable(getattr(FakeState, name))
)


def budget(actual: str, *, forecast: str | None = "12.87") -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly",
        limit=Money(amount=Decimal("10.00")),
        actual=Money(amount=Decimal(actual)),
        forecast=None if forecast is None else Money(amount=Decimal(forecast)),
    )


class World:
    def __init__(self, state: FakeState, *, actual: str = "10.42", **env: str) -> None:
        self.service = FakeService(arn=ARN)
        self.budgets = FakeBudgets(budget(actual))
        self.notifier = FakeNotifier()
        self.state = state
        self.settings = Settings.from_env({**ENV, **env})

    def deliver(self, text: str, message_id: str = "11111111-2222-3333-4444-555555555555") -> Outcome:
        (message,) = parse_sns_event(sns_event(text, message_id=message_id))
        deps = BudgetAlertDeps(self.service, self.budgets, self.notifier, self.state)
        return handle_message(message, deps, self.settings, NOW).outcome

    def run(self, job: Job, now: datetime = NOW) -> str:
        deps = ScheduleDeps(self.service, self.state, self.notifier, self.budgets)
        return run_job(job, deps, self.settings, now).outcome


def breach() -> str:
    return budget_message(threshold="$10.00", amount="$10.42")


def test_a_confirmed_breach_pauses_without_the_state_table_and_says_the_pause_is_not_recorded() -> None:
    # Given a running service and a state table that is gone
    world = World(FailingState())
    metrics.clear_metrics()
    # When a confirmed breach arrives, Then the invocation fails so that the error alarm fires
    with pytest.raises(StateUnavailable):
        world.deliver(breach())
    # And yet the service is paused, once
    assert world.service.mutations == ["pause"]
    assert world.service.status is ServiceStatus.PAUSED
    # And one critical notification says the pause is in effect but not recorded, quoting why
    (sent,) = world.notifier.sent
    assert sent.subject.startswith(NOT_RECORDED)
    assert (sent.event, sent.severity) == ("budget.paused", Severity.CRITICAL)
    assert GONE in sent.body
    # And the metric the self-alarm watches is counted
    assert "StateUnavailable" in metrics.metric_set
    metrics.clear_metrics()


def test_a_warning_without_the_state_table_is_still_told_and_the_failure_still_surfaces() -> None:
    world = World(FailingState())
    with pytest.raises(StateUnavailable):
        world.deliver(budget_message(threshold="$8.00", amount="$8.13"))
    (sent,) = world.notifier.sent
    assert sent.subject.startswith(NOT_RECORDED)
    assert (sent.event, sent.severity) == ("budget.warning", Severity.CRITICAL)
    assert world.service.mutations == []


def test_a_breach_the_budgets_api_does_not_confirm_is_not_paused_without_the_table_either() -> None:
    world = World(FailingState(), actual="9.10")
    with pytest.raises(StateUnavailable):
        world.deliver(breach())
    assert world.service.mutations == []
    (sent,) = world.notifier.sent
    assert sent.event == "budget.not_confirmed"


def test_dry_run_without_the_table_changes_nothing() -> None:
    world = World(FailingState(), DRY_RUN="true")
    with pytest.raises(StateUnavailable):
        world.deliver(breach())
    assert world.service.mutations == []
    (sent,) = world.notifier.sent
    assert sent.event == "budget.dry_run"


@settings(max_examples=60, deadline=None)
@given(fail_from=st.integers(min_value=0, max_value=40), repeats=st.integers(min_value=1, max_value=3))
def test_whenever_the_table_fails_a_confirmed_breach_ends_paused_and_told(fail_from: int, repeats: int) -> None:
    # Given a table that fails at any point of the handling (before, between or after the claim and the pause)
    world = World(FailingState(fail_from))
    # When the same confirmed breach is delivered one or more times (SNS and Lambda retry)
    raised: list[BaseException] = []
    for _ in range(repeats):
        try:
            world.deliver(breach())
        except StateUnavailable as error:
            raised.append(error)
    # Then the service is paused, with one pause call at most, and the operator was told it is paused
    assert world.service.status is ServiceStatus.PAUSED
    assert world.service.mutations.count("pause") == 1
    assert world.notifier.sent
    assert all(sent.severity is Severity.CRITICAL for sent in world.notifier.sent)
    assert all(sent.event in {"budget.paused", "budget.already_paused"} for sent in world.notifier.sent)
    # And every delivery that ran without the table says so and fails the invocation
    unrecorded = [sent for sent in world.notifier.sent if sent.subject.startswith(NOT_RECORDED)]
    assert len(unrecorded) == len(raised)


# --- once the table is back: the reconcile records the claim ------------------------------------------------


def paused_world(actual: str = "10.42", **env: str) -> World:
    world = World(FakeState(), actual=actual, **env)
    world.service.status = ServiceStatus.PAUSED
    return world


def test_the_reconcile_records_the_budget_claim_of_an_unrecorded_pause_instead_of_resuming() -> None:
    # Given the service paused by a breach while the table was gone, and the table back, empty
    world = paused_world()
    # When the reconcile runs
    world.run(Job.RECONCILE)
    # Then the budget claim is recorded from the Budgets API, and the service stays paused
    assert world.service.mutations == []
    claim = world.state.get_claim(ARN, "budget")
    assert claim is not None
    assert claim.details["recovered"] == "true"
    assert claim.details["period_start"] == "2026-03-01"
    assert claim.details["actual"] == "$10.42"
    (sent,) = world.notifier.sent
    assert sent.event == "budget.claim_recovered"


def test_the_recorded_claim_is_cleared_by_the_next_budget_period_like_any_other() -> None:
    world = paused_world()
    world.run(Job.RECONCILE)
    world.budgets.snapshot = budget("0.40")
    assert world.run(Job.BUDGET_PERIOD_CHECK, datetime(2026, 4, 1, 0, 5, tzinfo=UTC)) == "resume"
    assert world.service.status is ServiceStatus.RUNNING


def test_a_paused_service_with_no_claim_and_spend_under_the_threshold_is_resumed_as_before() -> None:
    world = paused_world(actual="3.00")
    assert world.run(Job.RECONCILE) == "resumed"
    assert world.state.get_claim(ARN, "budget") is None


def test_an_operators_override_in_this_period_is_not_undone_by_the_recovery() -> None:
    # Given the operator cleared the budget claim this period, and the resume that followed did not complete
    world = paused_world()
    world.state.record_action(
        ARN,
        ActionRecord(
            at=NOW - timedelta(hours=1),
            action="claim.clear",
            outcome="done",
            reason="budget: alice: the launch is worth it",
            actor="alice",
        ),
    )
    # When the reconcile runs, Then it resumes the service: the override stands
    assert world.run(Job.RECONCILE) == "resumed"
    assert world.state.get_claim(ARN, "budget") is None


def test_a_forecast_breach_is_recovered_only_when_forecasts_are_enforced() -> None:
    world = paused_world(actual="6.00", ENFORCE_ON_FORECAST="true")
    world.budgets.snapshot = budget("6.00", forecast="12.40")
    world.run(Job.RECONCILE)
    assert world.state.get_claim(ARN, "budget") is not None
    unenforced = paused_world(actual="6.00")
    unenforced.budgets.snapshot = budget("6.00", forecast="12.40")
    assert unenforced.run(Job.RECONCILE) == "resumed"


def test_another_claim_is_left_to_the_converge_and_no_budget_read_happens() -> None:
    world = paused_world()
    world.state.add_claim(ARN, Claim.new(ClaimReason.MANUAL, owner="alice", evidence="by hand", now=NOW))
    world.run(Job.RECONCILE)
    assert world.budgets.reads == 0
    assert world.state.get_claim(ARN, "budget") is None


def test_the_whole_story_table_gone_then_back() -> None:
    # Given a breach handled while the table is gone
    state = FailingState()
    world = World(state)
    with pytest.raises(StateUnavailable):
        world.deliver(breach())
    assert world.service.status is ServiceStatus.PAUSED
    # When the table is back (recreated empty) and the reconcile runs
    state.fail_from = 10**9
    world.run(Job.RECONCILE)
    # Then the pause is recorded as a budget claim and kept
    assert [claim.key for claim in world.state.list_claims(ARN)] == ["budget"]
    assert world.service.status is ServiceStatus.PAUSED
    # And a redelivery of the alert now finds the claim and says it stays paused
    assert world.deliver(breach(), message_id="99999999-2222-3333-4444-555555555555") is Outcome.ALREADY_PAUSED
