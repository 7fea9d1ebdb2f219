"""The converge table of DESIGN §4, row by row, and who holds a pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warden.domain.claims import Claim, ClaimReason, DesiredState, desired_state
from warden.domain.converge import ConvergeAction, decide_convergence
from warden.domain.service import ServiceSnapshot, ServiceStatus

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"


def _snapshot(status: ServiceStatus) -> ServiceSnapshot:
    return ServiceSnapshot(arn=ARN, name="consultation-app", status=status)


@pytest.mark.parametrize(
    ("status", "desired", "expected"),
    [
        (ServiceStatus.RUNNING, DesiredState.PAUSED, ConvergeAction.PAUSE),
        (ServiceStatus.RUNNING, DesiredState.RUNNING, ConvergeAction.NOTHING),
        (ServiceStatus.PAUSED, DesiredState.PAUSED, ConvergeAction.NOTHING),
        (ServiceStatus.PAUSED, DesiredState.RUNNING, ConvergeAction.RESUME),
        (ServiceStatus.OPERATION_IN_PROGRESS, DesiredState.PAUSED, ConvergeAction.DEFER),
        (ServiceStatus.OPERATION_IN_PROGRESS, DesiredState.RUNNING, ConvergeAction.DEFER),
        (ServiceStatus.CREATE_FAILED, DesiredState.PAUSED, ConvergeAction.UNAVAILABLE),
        (ServiceStatus.DELETE_FAILED, DesiredState.RUNNING, ConvergeAction.UNAVAILABLE),
        (ServiceStatus.DELETED, DesiredState.PAUSED, ConvergeAction.UNAVAILABLE),
    ],
)
def test_each_status_and_desire_leads_to_the_designed_action(
    status: ServiceStatus, desired: DesiredState, expected: ConvergeAction
) -> None:
    # Given a service in `status` that should be `desired`
    # When Warden decides
    decision = decide_convergence(_snapshot(status), desired)
    # Then it takes the action of DESIGN §4, and says why in words
    assert decision.action is expected
    assert status.value in decision.reason or "OPERATION_IN_PROGRESS" in decision.reason


def test_every_service_status_has_a_decision() -> None:
    # Given every status App Runner can report, When each is decided, Then none falls through
    for status in ServiceStatus:
        for desired in DesiredState:
            assert decide_convergence(_snapshot(status), desired).reason


def test_resume_asks_for_a_deployment_when_the_image_changed_while_paused() -> None:
    decision = decide_convergence(
        _snapshot(ServiceStatus.PAUSED), DesiredState.RUNNING, image_changed_while_paused=True
    )
    assert decision.action is ConvergeAction.RESUME
    assert decision.deploy_after_resume is True


def test_no_claim_means_the_service_should_run() -> None:
    # Given no claims, When the desired state is computed, Then it is RUNNING
    desire = desired_state([])
    assert desire.state is DesiredState.RUNNING
    assert "no pause claim" in desire.reason


def test_any_claim_keeps_the_service_paused_and_the_reason_names_every_holder() -> None:
    # Given a budget claim and a later manual claim
    budget = Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="spend $10.42", now=NOW)
    manual = Claim.new(ClaimReason.MANUAL, owner="alice", evidence="maintenance", now=NOW + timedelta(hours=1))
    # When the desired state is computed
    desire = desired_state([manual, budget])
    # Then it is PAUSED and names both, oldest first
    assert desire.state is DesiredState.PAUSED
    assert desire.reason.index("budget") < desire.reason.index("manual")


def test_alarm_claims_are_keyed_per_alarm() -> None:
    claim = Claim.new(ClaimReason.ALARM, owner="on_alarm", evidence="5xx", now=NOW, qualifier="HighErrors")
    assert claim.key == "alarm#HighErrors"
    assert claim.reason is ClaimReason.ALARM


@pytest.mark.parametrize(
    ("unit", "now", "start", "end"),
    [
        ("MONTHLY", datetime(2026, 3, 31, 23, 59, tzinfo=UTC), "2026-03-01", "2026-04-01"),
        ("MONTHLY", datetime(2026, 12, 5, tzinfo=UTC), "2026-12-01", "2027-01-01"),
        ("QUARTERLY", datetime(2026, 11, 27, tzinfo=UTC), "2026-10-01", "2027-01-01"),
        ("ANNUALLY", datetime(2026, 2, 1, tzinfo=UTC), "2026-01-01", "2027-01-01"),
        ("DAILY", datetime(2026, 2, 28, 13, tzinfo=UTC), "2026-02-28", "2026-03-01"),
    ],
)
def test_the_budget_period_is_computed_from_the_time_unit_not_budgets_end_of_life(
    unit: str, now: datetime, start: str, end: str
) -> None:
    # Given a budget's time unit and a moment, When its period is computed, Then it brackets the moment
    from warden.domain.budget import budget_period

    period = budget_period(unit, now)
    assert (period[0].isoformat(), period[1].isoformat()) == (start, end)
