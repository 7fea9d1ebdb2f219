"""on_budget_alert's use case with in-memory fakes: every branch, no sockets.

What happened is asserted on facts (the outcome, the calls, the claims, the result's facts, the event); the words
of each notification are tests/golden/test_budget_messages.py's golden files.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgets, FakeNotifier, FakeService, FakeState
from warden.domain.budget import BudgetSnapshot, Figure
from warden.domain.notification import Severity
from warden.domain.service import ServiceStatus
from warden.errors import ServiceBusy
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.budget_alert import AlertResult, BudgetAlertDeps, Outcome, handle_message

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}


def snapshot(actual: str, *, limit: str = "10.00", forecast: str | None = "12.87") -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly",
        limit=Money(amount=Decimal(limit)),
        actual=Money(amount=Decimal(actual)),
        forecast=None if forecast is None else Money(amount=Decimal(forecast)),
    )


class World:
    def __init__(self, *, status: ServiceStatus = ServiceStatus.RUNNING, actual: str = "10.42", **env: str) -> None:
        self.service = FakeService(arn=ARN, status=status)
        self.budgets = FakeBudgets(snapshot(actual))
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = BudgetAlertDeps(self.service, self.budgets, self.notifier, self.state)

    def deliver(self, text: str, message_id: str = "11111111-2222-3333-4444-555555555555") -> Outcome:
        return self.handle(text, message_id).outcome

    def handle(self, text: str, message_id: str = "11111111-2222-3333-4444-555555555555") -> AlertResult:
        (message,) = parse_sns_event(sns_event(text, message_id=message_id))
        return handle_message(message, self.deps, self.settings, NOW)


def breach() -> str:
    return budget_message(threshold="$10.00", amount="$10.42")


def test_an_alert_below_the_enforce_threshold_only_warns() -> None:
    # Given a running service, When an 80 % alert arrives
    world = World()
    result = world.handle(budget_message(threshold="$8.00", amount="$8.13"))
    # Then the operator is warned, the budget is not even read, and nothing is paused
    assert result.outcome is Outcome.WARNED
    assert world.budgets.reads == 0
    assert world.service.mutations == []
    (sent,) = world.notifier.sent
    assert sent.event == "budget.warning"
    assert result.assessment is not None
    assert result.assessment.alert.amount_percent == Decimal("81.3")


def test_a_confirmed_breach_records_a_budget_claim_and_pauses() -> None:
    # Given a running service and a Budgets API that confirms $10.42 of $10.00
    world = World()
    # When the 100 % alert arrives
    result = world.handle(breach())
    # Then one budget claim for this budget period, one pause, one critical notification with the undo commands
    assert result.outcome is Outcome.PAUSED
    (claim,) = world.state.list_claims(ARN)
    assert claim.key == "budget"
    assert (claim.details["period_start"], claim.details["period_end"]) == ("2026-03-01", "2026-04-01")
    assert world.service.mutations == ["pause"]
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("budget.paused", Severity.CRITICAL)
    assert result.enforcement is not None
    assert any("warden resume --override budget" in line for line in result.enforcement.undo)
    assert "warden resume --override budget" in sent.body
    assert "aws apprunner resume-service" in sent.body


def test_the_same_message_three_times_pauses_once_and_notifies_once() -> None:
    # Given a breach alert, When SNS delivers it three times
    world = World()
    outcomes = [world.deliver(breach()) for _ in range(3)]
    # Then the later deliveries are ignored as duplicates
    assert outcomes == [Outcome.PAUSED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert world.service.mutations == ["pause"]
    assert len(world.notifier.sent) == 1
    assert len(world.state.list_claims(ARN)) == 1


def test_a_second_breach_alert_keeps_the_first_claim_and_says_already_paused() -> None:
    # Given a service paused by a first alert
    world = World()
    world.deliver(breach(), message_id="first")
    # When a different alert (a new SNS message) reports the breach again
    outcome = world.deliver(budget_message(threshold="$10.00", amount="$11.00"), message_id="second")
    # Then no second pause, the claim is the first one, and the message says the service stays paused
    assert outcome is Outcome.ALREADY_PAUSED
    assert world.service.mutations == ["pause"]
    assert world.state.get_claim(ARN, "budget").source_event == "first"  # type: ignore[union-attr]
    assert world.notifier.sent[-1].event == "budget.already_paused"


def test_an_already_paused_service_gets_the_claim_but_no_pause_call() -> None:
    # Given a service someone paused by hand
    world = World(status=ServiceStatus.PAUSED)
    # When a breach is confirmed
    outcome = world.deliver(breach())
    # Then the claim is recorded (so the 08:00 resume will not undo it) and App Runner is not called
    assert outcome is Outcome.ALREADY_PAUSED
    assert world.service.mutations == []
    assert world.state.get_claim(ARN, "budget") is not None
    assert world.notifier.sent[0].event == "budget.already_paused"


def test_a_busy_service_defers_with_a_retryable_error_and_loses_nothing() -> None:
    # Given App Runner busy with another operation
    world = World(status=ServiceStatus.OPERATION_IN_PROGRESS)
    # When the breach alert arrives, Then a retryable error escapes for Lambda to retry
    with pytest.raises(ServiceBusy):
        world.deliver(breach())
    # And the claim is kept, the event is free for the retry, and no half-told notification went out
    assert world.state.get_claim(ARN, "budget") is not None
    assert world.notifier.sent == []
    # When the retry comes after App Runner settles, Then it pauses and notifies as if first time
    world.service.status = ServiceStatus.RUNNING
    assert world.deliver(breach()) is Outcome.PAUSED
    assert world.service.mutations == ["pause"]
    assert world.notifier.sent[0].event == "budget.paused"


def test_a_race_with_another_pause_is_answered_by_describing_again() -> None:
    # Given someone else pauses the service between Warden's describe and its call
    world = World()
    world.service.race_to = ServiceStatus.PAUSED
    # When the breach is enforced, Then Warden reads again and finds nothing left to do
    assert world.deliver(breach()) is Outcome.ALREADY_PAUSED
    assert world.service.status is ServiceStatus.PAUSED


def test_spend_not_confirmed_by_the_budgets_api_does_not_pause() -> None:
    # Given the Budgets API now reports $9.10 (the budget was raised, or the alert was stale)
    world = World(actual="9.10")
    # When the 100 % alert arrives
    result = world.handle(breach())
    # Then nothing is paused or claimed, the skipped pause is in the action log, and the operator is told why
    assert result.outcome is Outcome.NOT_CONFIRMED
    assert world.service.mutations == []
    assert world.state.list_claims(ARN) == []
    assert [(record.action, record.outcome) for _, record in world.state.actions] == [("pause", "skipped")]
    (sent,) = world.notifier.sent
    assert sent.event == "budget.not_confirmed"
    # And what the notification explains is the difference between the alert's $10.42 and the API's $9.10
    assert result.verification is not None
    assert str(result.verification.alert.amount) == "$10.42"
    assert str(result.verification.confirmation.measured) == "$9.10"


def test_a_forecast_alert_never_pauses_by_default() -> None:
    world = World()
    outcome = world.deliver(budget_message(alert_type="FORECASTED", threshold="$10.00", amount="$12.87"))
    assert outcome is Outcome.FORECAST
    assert world.service.mutations == []
    assert world.notifier.sent[0].event == "budget.forecast"


def test_a_forecast_alert_pauses_when_configured_and_the_forecast_is_confirmed() -> None:
    world = World(ENFORCE_ON_FORECAST="true")
    outcome = world.deliver(budget_message(alert_type="FORECASTED", threshold="$10.00", amount="$12.87"))
    assert outcome is Outcome.PAUSED
    assert world.service.mutations == ["pause"]


def test_an_alert_for_another_budget_is_notified_and_never_enforced() -> None:
    world = World()
    outcome = world.deliver(budget_message(name="team-sandbox", threshold="$10.00", amount="$50.00"))
    assert outcome is Outcome.OTHER_BUDGET
    assert world.budgets.reads == 0
    assert world.service.mutations == []


def test_dry_run_changes_nothing_and_says_what_would_have_happened() -> None:
    # Given DRY_RUN=true
    world = World(DRY_RUN="true")
    # When a confirmed breach arrives
    outcome = world.deliver(breach())
    # Then no claim, no pause, and the notification says what would have happened
    assert outcome is Outcome.WOULD_PAUSE
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == []
    (sent,) = world.notifier.sent
    assert sent.event == "budget.dry_run"
    assert all(record.dry_run for _, record in world.state.actions)


def test_an_unparseable_message_is_forwarded_verbatim_and_nothing_is_done() -> None:
    # Given a message that is not a Budgets alert
    world = World()
    text = "Hello from an unexpected publisher\nwith two lines"
    # When it arrives
    outcome = world.deliver(text)
    # Then it is forwarded word for word, and no pause happens
    assert outcome is Outcome.FORWARDED
    (sent,) = world.notifier.sent
    assert text in sent.body
    assert sent.event == "alert.unparsed"
    assert world.service.mutations == []


def test_a_cost_anomaly_is_notified_with_impact_and_root_causes_and_pauses_nothing() -> None:
    world = World()
    anomaly = {
        "anomalyId": "a-1",
        "dimensionalValue": "AWS App Runner",
        "monitorName": "services",
        "impact": {"totalImpact": 42.1, "totalActualSpend": 50.0, "totalExpectedSpend": 7.9},
        "rootCauses": [{"service": "AWS App Runner", "region": "us-east-1", "usageType": "USE1-Memory"}],
    }
    result = world.handle(json.dumps(anomaly))
    assert result.outcome is Outcome.ANOMALY
    (sent,) = world.notifier.sent
    assert sent.event == "anomaly.detected"
    assert result.anomaly is not None
    assert result.anomaly.anomaly.impact.total_impact == Decimal("42.1")
    assert [cause.usage_type for cause in result.anomaly.anomaly.root_causes] == ["USE1-Memory"]
    assert world.service.mutations == []


def test_a_cost_anomaly_above_the_configured_impact_pauses() -> None:
    world = World(ANOMALY_PAUSE_IMPACT_USD="25")
    anomaly = {"anomalyId": "a-2", "impact": {"totalImpact": 42.1}}
    assert world.deliver(json.dumps(anomaly)) is Outcome.PAUSED
    assert world.service.mutations == ["pause"]
    assert world.state.get_claim(ARN, "budget").details == {"anomaly_id": "a-2"}  # type: ignore[union-attr]
    assert world.notifier.sent[-1].event == "anomaly.paused"


def test_a_failed_notification_releases_the_event_so_the_retry_notifies() -> None:
    # Given SNS failing once after the pause
    world = World()
    world.notifier.fail_times = 1
    with pytest.raises(RuntimeError):
        world.deliver(breach())
    # When Lambda retries the same message
    result = world.handle(breach())
    # Then the service was paused once, and the retry's notification still says "PAUSED", credited to the first try
    assert world.service.mutations == ["pause"]
    assert result.outcome is Outcome.PAUSED
    assert result.enforcement is not None
    assert result.enforcement.credited
    (sent,) = world.notifier.sent
    assert sent.event == "budget.paused"


# --- a pause is judged, and titled, by the figure that triggered it --------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "figure"),
    [
        (budget_message(alert_type="ACTUAL", threshold="$10.00", amount="$10.42"), {}, (Figure.ACTUAL, "$10.42")),
        (
            budget_message(alert_type="FORECASTED", threshold="$10.00", amount="$12.40"),
            {"ENFORCE_ON_FORECAST": "true"},
            (Figure.FORECAST, "$12.40"),
        ),
    ],
    ids=["actual", "forecast"],
)
def test_a_pause_is_judged_by_the_figure_that_triggered_it(
    text: str, env: dict[str, str], figure: tuple[Figure, str]
) -> None:
    # Given the Budgets API reports actual spend $8.13 (or $10.42 for the actual alert) and a forecast of $12.40
    world = World(**env)
    world.budgets.snapshot = snapshot("10.42" if "ACTUAL" in text else "8.13", forecast="12.40")
    # When the alert pauses the service
    result = world.handle(text)
    assert result.outcome is Outcome.PAUSED
    # Then the pause went by the figure of the alert's kind, which its subject names (golden budget.paused_forecast)
    assert result.verification is not None
    confirmation = result.verification.confirmation
    assert (confirmation.figure, str(confirmation.measured)) == figure


def test_an_anomaly_pause_is_judged_by_its_impact() -> None:
    world = World(ANOMALY_PAUSE_IMPACT_USD="25")
    result = world.handle(json.dumps({"anomalyId": "a-9", "impact": {"totalImpact": 42.1}}))
    assert result.outcome is Outcome.PAUSED
    assert result.anomaly is not None
    assert (result.anomaly.assessment.impact, result.anomaly.assessment.pause_at) == (Decimal("42.1"), Decimal(25))
    assert result.verification is None
    assert world.notifier.sent[-1].event == "anomaly.paused"


_cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2)


@settings(max_examples=80, deadline=None)
@given(actual=_cents, forecast=_cents, alert_type=st.sampled_from(["ACTUAL", "FORECASTED"]))
def test_a_verified_alert_is_judged_by_the_figure_of_its_kind(
    actual: Decimal, forecast: Decimal, alert_type: str
) -> None:
    # Given any actual spend and forecast in the Budgets API, and a 100 % alert of either type
    world = World(ENFORCE_ON_FORECAST="true")
    world.budgets.snapshot = snapshot(str(actual), forecast=str(forecast))
    # When it is handled (paused, or not confirmed)
    result = world.handle(budget_message(alert_type=alert_type, threshold="$10.00", amount="$12.00"))
    # Then it was judged by the figure of the alert's kind: the forecast for a forecast alert, else the spend
    # (tests/golden/test_budget_messages.py proves the subject names exactly that figure)
    assert result.verification is not None
    confirmation = result.verification.confirmation
    measured, figure = (forecast, Figure.FORECAST) if alert_type == "FORECASTED" else (actual, Figure.ACTUAL)
    assert (confirmation.figure, confirmation.measured and confirmation.measured.amount) == (figure, measured)
    assert confirmation.confirmed == (measured >= 10)
    assert result.outcome is (Outcome.PAUSED if measured >= 10 else Outcome.NOT_CONFIRMED)
