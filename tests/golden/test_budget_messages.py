"""Budget enforcement's words (warden/messages/budget.py) as approved golden files, tests/golden/texts/budget.*.txt.

Each notification on_budget_alert, the reconcile's claim recovery and the budget-wiring check can send is rendered
from its facts (domain/budget.py, domain/wiring.py); where the platforms' words differ (what a paused service does
not do, what keeps billing, the undo commands, the console) there is a file for App Runner and one for ECS. Several
are then produced by the use cases with the in-memory fakes and must match the same files and the renderer's output
from the same facts: the use cases word nothing themselves. `UPDATE_GOLDEN=1` rewrites the files; review the diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgetNotices, FakeBudgets, FakeNotifier, FakeService, FakeState, FakeTopics
from tests.golden.golden import assert_golden, assert_golden_notification
from warden.domain.budget import (
    AlertOutcome,
    AnomalyBreach,
    BudgetBreach,
    BudgetGuard,
    BudgetSnapshot,
    Enforcement,
    EnforcePolicy,
    Figure,
    Recovery,
    Verification,
    assess_alert,
    assess_anomaly,
    confirm_breach,
    unrecorded_budget_pause,
)
from warden.domain.claims import ClaimReason
from warden.domain.notification import Notification
from warden.domain.service import ECS, ServiceSnapshot, ServiceStatus
from warden.domain.target import TargetFacts
from warden.domain.wiring import (
    BudgetNotice,
    BudgetSubscriber,
    Check,
    TopicSubscription,
    WiringUnreadable,
    assess_budget_alerts,
    assess_subscriptions,
    missing_budget,
)
from warden.errors import StateUnavailable
from warden.messages import budget as words
from warden.models.anomaly import parse_anomaly_alert
from warden.models.budget import BudgetAlert, parse_budget_notification
from warden.models.money import Money
from warden.models.sns import SnsMessage, parse_sns_event
from warden.settings import Settings
from warden.usecases.budget_alert import BudgetAlertDeps, handle_message
from warden.usecases.budget_wiring import WiringDeps, check_budget_wiring, report_if_off
from warden.usecases.undo import undo_pause_lines
from warden.usecases.unrecorded import recover_budget_claim

NAME = "consultation-app"
BUDGET = "consultation-app-monthly"
ACCOUNT = "123456789012"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
SENT_AT = "2026-03-03T09:58:12.345Z"
MESSAGE_ID = "11111111-2222-3333-4444-555555555555"
APPRUNNER = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/{NAME}/0123456789abcdef0123456789abcdef"
ECS_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/{NAME}"
NOTIFY = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-NotifyTopic-1A2B3C"
BUDGET_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-BudgetAlertTopic-9Z8Y7X"
ENV = {
    "NOTIFY_TOPIC_ARN": NOTIFY,
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": BUDGET,
    "BUDGET_TOPIC_ARN": BUDGET_TOPIC,
}
GONE = "the state table is unavailable: DynamoDB PutItem failed (ResourceNotFoundException)"
ANOMALY = json.dumps(
    {
        "anomalyId": "e83b5c17-2f9a-4d64-b0e8-5a71c3d9f026",
        "anomalyDetailsLink": "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/7d3f/"
        "anomalies/e83b",
        "anomalyStartDate": "2026-03-01T00:00:00Z",
        "dimensionalValue": "AWS App Runner",
        "monitorName": "warden-service-monitor",
        "impact": {
            "totalImpact": 42.1,
            "totalActualSpend": 50.0,
            "totalExpectedSpend": 7.9,
            "totalImpactPercentage": 532.9,
        },
        "rootCauses": [
            {"service": "AWS App Runner", "region": "us-east-1", "usageType": "USE1-AppRunner-vCPU-Hours"},
            {"service": "Amazon Elastic Container Registry (ECR)", "linkedAccountName": NAME},
        ],
    }
)
BARE_ANOMALY = json.dumps({"anomalyId": "a-2", "impact": {"totalImpact": 1234.5}})


# -- the services, as the fakes and the real targets report them ------------------------------------------------


class EcsService(FakeService):
    """An ECS service behind a load balancer, as Warden's ECS controller reports it: no operation id for a pause."""

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return super().describe(service_arn).model_copy(update={"platform": ECS, "load_balanced": True})

    def pause(self, service_arn: str) -> str | None:
        super().pause(service_arn)
        return None


def fake(arn: str, status: ServiceStatus = ServiceStatus.RUNNING) -> FakeService:
    return EcsService(arn=arn, status=status) if arn == ECS_ARN else FakeService(arn=arn, status=status)


def target(arn: str) -> TargetFacts:
    return fake(arn).facts


def settings(arn: str = APPRUNNER, **env: str) -> Settings:
    return Settings.from_env({**ENV, "SERVICE_ARN": arn, **env})


def policy(**changes: Any) -> EnforcePolicy:
    return EnforcePolicy(budget_name=BUDGET, **changes)


def guard(arn: str = APPRUNNER, *, dry_run: bool = False, **changes: Any) -> BudgetGuard:
    return BudgetGuard(
        service_name=NAME, service_arn=arn, target=target(arn), policy=policy(**changes), dry_run=dry_run
    )


def before(arn: str, status: ServiceStatus = ServiceStatus.RUNNING) -> ServiceSnapshot:
    """The service as the converge read it before its call (the fakes' describe)."""
    return fake(arn, status).describe(arn)


def undo(arn: str) -> tuple[str, ...]:
    """The undo commands of usecases/undo.py, with the platform's own resume (read from an empty state table)."""
    return tuple(undo_pause_lines(fake(arn), settings(arn), ClaimReason.BUDGET, "budget", state=FakeState()))


# -- the alerts and what the Budgets API says --------------------------------------------------------------------


def alert(amount: str = "$10.42", *, threshold: str = "$10.00", **changes: str) -> BudgetAlert:
    return parse_budget_notification(budget_message(threshold=threshold, amount=amount, **changes))


WARNING = {"amount": "$8.13", "threshold": "$8.00"}
BREACH = budget_message(threshold="$10.00", amount="$10.42")
FORECASTED = {"alert_type": "FORECASTED", "amount": "$12.87"}


def budget(actual: str = "10.42", forecast: str | None = "12.87") -> BudgetSnapshot:
    return BudgetSnapshot(
        name=BUDGET,
        limit=Money(amount=Decimal("10.00")),
        actual=Money(amount=Decimal(actual)),
        forecast=None if forecast is None else Money(amount=Decimal(forecast)),
    )


def verified(reported: BudgetAlert, snapshot: BudgetSnapshot, **changes: Any) -> Verification:
    return Verification(
        alert=reported, snapshot=snapshot, confirmation=confirm_breach(reported, snapshot, policy(**changes)), now=NOW
    )


def breach(reported: BudgetAlert | None = None, snapshot: BudgetSnapshot | None = None, **changes: Any) -> BudgetBreach:
    return BudgetBreach(
        verification=verified(reported or alert(), snapshot or budget(), **changes),
        message_id=MESSAGE_ID,
        received_at=datetime(2026, 3, 3, 9, 58, 12, 345000, tzinfo=UTC),
    )


def anomaly(text: str = ANOMALY, pause_at: str | None = None) -> AnomalyBreach:
    found = parse_anomaly_alert(text)
    limit = None if pause_at is None else Decimal(pause_at)
    return AnomalyBreach(anomaly=found, assessment=assess_anomaly(found, policy(anomaly_pause_impact_usd=limit)))


def message(text: str) -> SnsMessage:
    (parsed,) = parse_sns_event(sns_event(text, message_id=MESSAGE_ID, timestamp=SENT_AT))
    return parsed


# -- what placing the claim and converging did (in the words of claims.py and converge.py) ------------------------

RECORDED = "Recorded the 'budget' pause claim."
WOULD_RECORD = "[dry run] Would have recorded the 'budget' pause claim."


def enforcement(outcome: AlertOutcome, arn: str = APPRUNNER, **facts: Any) -> Enforcement:
    summaries = {
        AlertOutcome.PAUSED: f"Paused {NAME} (it was RUNNING).",
        AlertOutcome.WOULD_PAUSE: f"[dry run] Would have paused {NAME} (it is RUNNING); nothing was changed.",
        AlertOutcome.ALREADY_PAUSED: "Left as it is: service is already PAUSED as it should be.",
        AlertOutcome.OVERRIDDEN: "Left as it is: service is RUNNING as it should be.",
    }
    status = ServiceStatus.PAUSED if outcome is AlertOutcome.ALREADY_PAUSED else ServiceStatus.RUNNING
    values: dict[str, Any] = {
        "outcome": outcome,
        "claim_line": WOULD_RECORD if outcome is AlertOutcome.WOULD_PAUSE else RECORDED,
        "summary": summaries.get(outcome, ""),
        "operation_id": "op-pause" if outcome is AlertOutcome.PAUSED and arn == APPRUNNER else None,
        "before": before(arn, status),
        "undo": undo(arn),
    }
    return Enforcement(**{**values, **facts})


def enforced(outcome: AlertOutcome, arn: str = APPRUNNER, **facts: Any) -> Notification:
    """A confirmed budget breach (actual spend $10.42 of $10.00), and what enforcing it did."""
    dry_run = outcome is AlertOutcome.WOULD_PAUSE
    return words.enforced(guard(arn, dry_run=dry_run), breach(), enforcement(outcome, arn, **facts))


def anomaly_paused(outcome: AlertOutcome, arn: str = APPRUNNER) -> Notification:
    return words.enforced(
        guard(arn, dry_run=outcome is AlertOutcome.WOULD_PAUSE, anomaly_pause_impact_usd=Decimal(25)),
        anomaly(pause_at="25"),
        enforcement(outcome, arn),
    )


def recovered(arn: str = APPRUNNER, *, dry_run: bool = False, forecast: bool = False) -> Notification:
    snapshot = budget("6.00", "12.40") if forecast else budget()
    enforced_policy = policy(enforce_on_forecast=forecast)
    decision = unrecorded_budget_pause(snapshot, enforced_policy, NOW, cleared_this_period=False)
    recovery = Recovery(decision=decision, budget=snapshot, service=before(arn, ServiceStatus.PAUSED), undo=undo(arn))
    return words.claim_recovered(guard(arn, dry_run=dry_run, enforce_on_forecast=forecast), recovery)


# -- the budget wiring's checks ----------------------------------------------------------------------------------


def notice(threshold: str = "100", *, to: tuple[str, ...] = (BUDGET_TOPIC,)) -> BudgetNotice:
    subscribers = tuple(BudgetSubscriber(kind="EMAIL" if "@" in a else "SNS", address=a) for a in to)
    return BudgetNotice(
        notification_type="ACTUAL", comparison="GREATER_THAN", threshold=Decimal(threshold), subscribers=subscribers
    )


def alerts(*notices: BudgetNotice) -> Check:
    return assess_budget_alerts(
        notices,
        account_id=ACCOUNT,
        budget_name=BUDGET,
        limit=Decimal(10),
        enforce_percent=Decimal(100),
        budget_topic_arn=BUDGET_TOPIC,
    )


EMAIL_ONLY = alerts(notice("80", to=("ops@example.com",)), notice(to=("ops@example.com",)))
NOBODY = assess_subscriptions(
    NOTIFY, [TopicSubscription(protocol="email", endpoint="ops@example.com", confirmed=False)]
)
NO_BUDGET = missing_budget(ACCOUNT, "no-such-budget", "no budget named 'no-such-budget'")
TABLE_GONE = "RuntimeError: ResourceNotFoundException: Requested resource not found"


NOTIFICATIONS: dict[str, Callable[[], Notification]] = {
    # An 80 % alert: a warning, with what happens at the threshold.
    "budget.warned": lambda: words.notify_only(guard(), assess_alert(alert(**WARNING), policy())),
    "budget.warned_dry_run": lambda: words.notify_only(guard(dry_run=True), assess_alert(alert(**WARNING), policy())),
    # A forecast over the threshold, not enforced (ENFORCE_ON_FORECAST is false).
    "budget.forecast": lambda: words.notify_only(guard(), assess_alert(alert(**FORECASTED), policy())),
    # An alert for a budget Warden does not enforce.
    "budget.other_budget": lambda: words.notify_only(
        guard(), assess_alert(alert("$50.00", name="team-sandbox"), policy())
    ),
    # BUDGET_NAME names no budget: nothing can be verified, nothing is paused.
    "budget.unverifiable": lambda: words.unverifiable(guard(), alert(), f"no budget named '{BUDGET}'"),
    # The Budgets API reports less than the alert did.
    "budget.not_confirmed": lambda: words.not_confirmed(guard(), verified(alert(), budget("9.10"))),
    # A forecast alert, and the Budgets API has no forecast yet.
    "budget.not_confirmed_no_forecast": lambda: words.not_confirmed(
        guard(enforce_on_forecast=True),
        verified(alert(**FORECASTED), budget("9.10", None), enforce_on_forecast=True),
    ),
    # A confirmed breach pauses the service.
    "budget.paused.apprunner": lambda: enforced(AlertOutcome.PAUSED),
    "budget.paused.ecs": lambda: enforced(AlertOutcome.PAUSED, ECS_ARN),
    # A confirmed forecast pauses (ENFORCE_ON_FORECAST is true): the subject names the forecast.
    "budget.paused_forecast": lambda: words.enforced(
        guard(enforce_on_forecast=True),
        breach(alert(**FORECASTED), budget("8.13", "12.40"), enforce_on_forecast=True),
        enforcement(AlertOutcome.PAUSED),
    ),
    # DRY_RUN: what would have happened.
    "budget.dry_run.apprunner": lambda: enforced(AlertOutcome.WOULD_PAUSE),
    "budget.dry_run.ecs": lambda: enforced(AlertOutcome.WOULD_PAUSE, ECS_ARN),
    # Someone paused the service by hand: the claim keeps it paused.
    "budget.already_paused.apprunner": lambda: enforced(AlertOutcome.ALREADY_PAUSED),
    "budget.already_paused.ecs": lambda: enforced(AlertOutcome.ALREADY_PAUSED, ECS_ARN),
    # A second alert in the period: the first alert's claim stays.
    "budget.second_alert": lambda: enforced(
        AlertOutcome.ALREADY_PAUSED,
        claim_line="The 'budget' pause claim was already active (since 2026-03-03 10:00 UTC, from on_budget_alert); "
        "it stays as it was.",
    ),
    # The platform accepts no pause in the service's state.
    "budget.unavailable": lambda: enforced(
        AlertOutcome.UNAVAILABLE,
        summary="Not changed: service is CREATE_FAILED: App Runner accepts no pause or resume in that state.",
        refusal="service is CREATE_FAILED: App Runner accepts no pause or resume in that state",
        before=before(APPRUNNER, ServiceStatus.CREATE_FAILED),
    ),
    # The claim was cleared while Warden converged: the service runs on.
    "budget.overridden": lambda: enforced(AlertOutcome.OVERRIDDEN),
    # Lambda's retry of an alert whose pause an operator undid since: not paused again.
    "budget.not_paused_again": lambda: enforced(
        AlertOutcome.OVERRIDDEN,
        undone_since=True,
        claim_line="Did not record the 'budget' pause claim again: an earlier attempt at this same event recorded "
        "it, and it was cleared since (by alice at 2026-03-03 09:55 UTC: launch).",
        summary=f"Resumed {NAME} (it was PAUSED).",
        undo=(),
    ),
    # Lambda's retry of an alert whose first attempt paused and then failed to notify.
    "budget.credited": lambda: enforced(
        AlertOutcome.PAUSED,
        summary="Left as it is: service is already PAUSED as it should be.",
        credited=True,
        operation_id=None,
    ),
    # Cost anomalies: told, not paused (ANOMALY_PAUSE_IMPACT_USD unset, or above the impact).
    "budget.anomaly": lambda: words.anomaly_noticed(guard(), anomaly()),
    "budget.anomaly_bare": lambda: words.anomaly_noticed(guard(), anomaly(BARE_ANOMALY)),
    "budget.anomaly_below": lambda: words.anomaly_noticed(
        guard(anomaly_pause_impact_usd=Decimal(100)), anomaly(pause_at="100")
    ),
    # A cost anomaly over ANOMALY_PAUSE_IMPACT_USD pauses.
    "budget.anomaly_paused.apprunner": lambda: anomaly_paused(AlertOutcome.PAUSED),
    "budget.anomaly_paused.ecs": lambda: anomaly_paused(AlertOutcome.PAUSED, ECS_ARN),
    "budget.anomaly_dry_run": lambda: anomaly_paused(AlertOutcome.WOULD_PAUSE),
    # SERVICE_ARN names a service the platform does not know.
    "budget.service_missing.apprunner": lambda: words.service_missing(guard(), message(BREACH), APPRUNNER),
    "budget.service_missing.ecs": lambda: words.service_missing(guard(ECS_ARN), message(BREACH), ECS_ARN),
    # Without the state table: paused, but not recorded.
    "budget.unrecorded.paused.apprunner": lambda: words.unrecorded(
        enforced(AlertOutcome.PAUSED), GONE, AlertOutcome.PAUSED, guard().target
    ),
    "budget.unrecorded.paused.ecs": lambda: words.unrecorded(
        enforced(AlertOutcome.PAUSED, ECS_ARN), GONE, AlertOutcome.PAUSED, guard(ECS_ARN).target
    ),
    "budget.unrecorded.anomaly_paused": lambda: words.unrecorded(
        anomaly_paused(AlertOutcome.PAUSED), GONE, AlertOutcome.PAUSED, guard().target
    ),
    "budget.unrecorded.dry_run": lambda: words.unrecorded(
        enforced(AlertOutcome.WOULD_PAUSE), GONE, AlertOutcome.WOULD_PAUSE, guard().target
    ),
    "budget.unrecorded.warned": lambda: words.unrecorded(
        words.notify_only(guard(), assess_alert(alert(**WARNING), policy())), GONE, AlertOutcome.WARNED, guard().target
    ),
    # Without the table, and the pause itself needed it: nothing done.
    "budget.cannot_pause_without_table.apprunner": lambda: words.cannot_pause_without_table(
        guard(), message(BREACH), GONE, "the scale memo: timeout"
    ),
    "budget.cannot_pause_without_table.ecs": lambda: words.cannot_pause_without_table(
        guard(ECS_ARN), message(BREACH), GONE, "the scale memo: timeout"
    ),
    # The table is back: the reconcile records the budget claim of the unrecorded pause.
    "budget.claim_recovered.apprunner": lambda: recovered(),
    "budget.claim_recovered.ecs": lambda: recovered(ECS_ARN),
    "budget.claim_recovered_forecast": lambda: recovered(forecast=True),
    "budget.claim_recovered_dry_run": lambda: recovered(dry_run=True),
    # Budget enforcement is off (or nobody hears Warden), once a day.
    "budget.enforcement_off": lambda: words.enforcement_off(NAME, [EMAIL_ONLY], None),
    "budget.enforcement_off_no_budget": lambda: words.enforcement_off(NAME, [NO_BUDGET], None),
    "budget.enforcement_off_table": lambda: words.enforcement_off(NAME, [EMAIL_ONLY], TABLE_GONE),
    "budget.enforcement_off_and_unheard": lambda: words.enforcement_off(NAME, [EMAIL_ONLY, NOBODY], None),
    "budget.nobody_hears": lambda: words.enforcement_off(NAME, [NOBODY], None),
}


@pytest.mark.parametrize("name", NOTIFICATIONS)
def test_each_budget_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one way a budget alert, the claim recovery or the wiring check ends
    # When the renderer writes its notification
    # Then it is the approved text
    assert_golden_notification(name, NOTIFICATIONS[name]())


def test_the_reasons_the_action_log_the_claims_and_the_results_keep_read_as_approved() -> None:
    # Given every decision's facts, When each is worded for the action log, a claim's evidence or a result
    reported, snapshot = alert(), budget()
    anomalies = {limit: anomaly(pause_at=limit) for limit in (None, "25", "100")}
    unrecorded = {
        "actual over": (budget(), policy(), False),
        "forecast over": (budget("6.00", "12.40"), policy(enforce_on_forecast=True), False),
        "under": (budget("3.00"), policy(), False),
        "cleared this period": (budget(), policy(), True),
    }
    wiring = [NO_BUDGET, EMAIL_ONLY, NOBODY]
    lines = {
        **{
            f"assessment, {verdict}": words.assessment_reason(assess_alert(alerted, policy()))
            for verdict, alerted in (
                ("warn", alert(**WARNING)),
                ("forecast", alert(**FORECASTED)),
                ("other budget", alert(name="team-sandbox")),
                ("verify", reported),
            )
        },
        **{f"anomaly, pause at {limit}": words.anomaly_reason(b.assessment) for limit, b in anomalies.items()},
        "confirmed": words.confirmation_reason(verified(reported, snapshot).confirmation),
        "not confirmed": words.confirmation_reason(verified(reported, budget("9.10")).confirmation),
        "no forecast yet": words.confirmation_reason(
            verified(alert(**FORECASTED), budget(forecast=None), enforce_on_forecast=True).confirmation
        ),
        **{
            f"unrecorded pause, {case}": words.unrecorded_pause_reason(
                unrecorded_budget_pause(figures, rule, NOW, cleared_this_period=cleared)
            )
            for case, (figures, rule, cleared) in unrecorded.items()
        },
        "budget claim's evidence": words.breach_evidence(verified(reported, snapshot)),
        "anomaly claim's evidence": words.anomaly_evidence(anomalies["25"]),
        "unverifiable": words.unverifiable_reason(f"no budget named '{BUDGET}'"),
        "service missing": words.service_missing_reason(APPRUNNER),
        "duplicate": words.duplicate_reason(MESSAGE_ID, "2026-03-03 10:00:00 UTC"),
        "forwarded": words.forwarded_reason("no 'Budget Name:' line"),
        "forwarded from": words.sns_source(MESSAGE_ID),
        "budget found": words.budget_found(BUDGET, snapshot.actual, snapshot.limit, Decimal(100)),
        **{
            f"cannot read, {check}": words.unreadable_what(check, BUDGET, NOTIFY)
            for check in ("budget", "budget alert", "notify topic")
        },
        "refused": words.refused_detail(words.unreadable_what("budget", BUDGET, NOTIFY), KeyError("Budget")),
        "problems": words.problems_summary(wiring),
        "wired": words.WIRED,
        "already reported": words.already_reported("06:15", words.problems_summary(wiring)),
        "unheard": words.unheard(
            words.enforcement_off(NAME, wiring, None), [words.unpublished(RuntimeError("SNS is down")), NOBODY.detail]
        ),
    }
    # Then each is the approved line
    assert_golden("budget.reasons", "".join(f"{case}:\n  {line}\n" for case, line in lines.items()))


_figures = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@given(actual=_figures, forecast=st.none() | _figures, forecasted=st.booleans())
def test_a_subject_names_the_figure_the_alert_was_judged_by(
    actual: Decimal, forecast: Decimal | None, forecasted: bool
) -> None:
    # Given any actual spend and forecast in the Budgets API, and a 100 % alert of either kind
    reported = alert("$12.00", **({"alert_type": "FORECASTED"} if forecasted else {}))
    snapshot = BudgetSnapshot(
        name=BUDGET,
        limit=Money(amount=Decimal(10)),
        actual=Money(amount=actual),
        forecast=None if forecast is None else Money(amount=forecast),
    )
    verification = verified(reported, snapshot, enforce_on_forecast=True)
    c = verification.confirmation
    # When the notification is written (a pause when confirmed, else "not paused")
    sent = (
        words.enforced(
            guard(),
            BudgetBreach(verification=verification, message_id="m", received_at=NOW),
            enforcement(AlertOutcome.PAUSED),
        )
        if c.confirmed
        else words.not_confirmed(guard(), verification)
    )
    # Then its subject names the figure of the alert's kind (the forecast for a forecast alert, else the spend)
    assert c.figure is (Figure.FORECAST if forecasted else Figure.ACTUAL)
    measured = forecast if forecasted else actual
    label = "forecast" if forecasted else "spend"
    shown = f"${measured:,.2f}" if measured is not None else "not reported"
    assert f"{label} {shown} of $10.00" in sent.subject


# -- the same notifications, through the use cases with fakes -----------------------------------------------------


class GoneState(FakeState):
    """The state table deleted: every call fails, as botocore's spent retries leave it."""

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute) or name not in _STATE_METHODS:
            return attribute

        def gone(*args: Any, **kwargs: Any) -> Any:
            raise StateUnavailable(GONE)

        return gone


_STATE_METHODS = frozenset(n for n in dir(FakeState) if not n.startswith("_") and callable(getattr(FakeState, n)))


@dataclass(frozen=True)
class Run:
    text: str
    arn: str = APPRUNNER
    actual: str = "10.42"
    env: tuple[tuple[str, str], ...] = ()
    status: ServiceStatus = ServiceStatus.RUNNING
    gone: bool = False


ALERT_RUNS: dict[str, Run] = {
    "budget.warned": Run(budget_message(threshold="$8.00", amount="$8.13")),
    "budget.not_confirmed": Run(BREACH, actual="9.10"),
    "budget.paused.apprunner": Run(BREACH),
    "budget.paused.ecs": Run(BREACH, arn=ECS_ARN),
    "budget.already_paused.ecs": Run(BREACH, arn=ECS_ARN, status=ServiceStatus.PAUSED),
    "budget.anomaly": Run(ANOMALY),
    "budget.anomaly_paused.apprunner": Run(ANOMALY, env=(("ANOMALY_PAUSE_IMPACT_USD", "25"),)),
    "budget.unrecorded.paused.apprunner": Run(BREACH, gone=True),
}


def deliver(run: Run) -> list[Notification]:
    service, notifier = fake(run.arn, run.status), FakeNotifier()
    state = GoneState() if run.gone else FakeState()
    deps = BudgetAlertDeps(service, FakeBudgets(budget(run.actual)), notifier, state)
    try:
        handle_message(message(run.text), deps, settings(run.arn, **dict(run.env)), NOW)
    except StateUnavailable:
        assert run.gone
    return notifier.sent


@pytest.mark.parametrize("name", ALERT_RUNS)
def test_on_budget_alert_publishes_exactly_what_the_renderer_writes(name: str) -> None:
    # Given a service (fakes), a Budgets API and the settings of the case
    # When the use case handles the alert
    (sent,) = deliver(ALERT_RUNS[name])
    # Then the one notification it publishes is the approved text, the renderer's from the same facts
    assert_golden_notification(name, sent)
    assert sent == NOTIFICATIONS[name]()


def test_the_forwarded_message_reads_as_approved() -> None:
    # Given a message on the budget topic that is neither a Budgets alert nor a cost anomaly
    text = "Hello from an unexpected publisher\nwith two lines"
    # When on_budget_alert handles it, Then it is forwarded verbatim with the approved words around it
    (sent,) = deliver(Run(text))
    assert_golden_notification("budget.forwarded", sent)
    assert text in sent.body


def test_the_reconcile_publishes_exactly_what_the_renderer_writes_when_it_recovers_a_claim() -> None:
    # Given a paused service that no claim holds, and the Budgets API still showing the breach
    notifier = FakeNotifier()
    service = fake(APPRUNNER, ServiceStatus.PAUSED)
    # When the claim recovery runs, Then it publishes the approved text, the renderer's from the same facts
    recover_budget_claim(service, FakeState(), FakeBudgets(budget()), notifier, settings(), NOW, actor="run_schedule")
    (sent,) = notifier.sent
    assert_golden_notification("budget.claim_recovered.apprunner", sent)
    assert sent == NOTIFICATIONS["budget.claim_recovered.apprunner"]()


def test_the_wiring_check_publishes_exactly_what_the_renderer_writes() -> None:
    # Given a budget that alerts by e-mail only, and a confirmed subscription to the notify topic
    budgets = FakeBudgetNotices(
        budget("4.20", None), notices=[notice("80", to=("ops@example.com",)), notice(to=("ops@example.com",))]
    )
    topics = FakeTopics({NOTIFY: [TopicSubscription(protocol="email", endpoint="ops@example.com", confirmed=True)]})
    notifier = FakeNotifier()
    # When the 6-hourly check runs
    checks = check_budget_wiring(WiringDeps(budgets, topics), settings())
    report_if_off(checks, state=FakeState(), notifier=notifier, settings=settings(), now=NOW)
    # Then it publishes the approved "enforcement is OFF" text, the renderer's from the same checks
    (sent,) = notifier.sent
    assert_golden_notification("budget.enforcement_off", sent)
    assert sent == NOTIFICATIONS["budget.enforcement_off"]()


def test_a_check_that_cannot_read_the_alerts_says_what_and_which_permission() -> None:
    # Given Budgets refusing to show the budget's alerts
    budgets = FakeBudgetNotices(budget("4.20", None))
    budgets.notices_error = WiringUnreadable("Budgets DescribeNotificationsForBudget: AccessDeniedException")
    topics = FakeTopics({NOTIFY: [TopicSubscription(protocol="email", endpoint="ops@example.com", confirmed=True)]})
    # When the wiring is checked
    found, refused, _ = check_budget_wiring(WiringDeps(budgets, topics), settings())
    # Then the budget's and the refusal's details are the renderer's words
    assert found.detail == words.budget_found(
        BUDGET, Money(amount=Decimal("4.20")), Money(amount=Decimal(10)), Decimal(100)
    )
    assert refused.detail.startswith("cannot read " + words.unreadable_what("budget alert", BUDGET, NOTIFY))
    assert any("budgets:ViewBudget" in line for line in refused.fix)
