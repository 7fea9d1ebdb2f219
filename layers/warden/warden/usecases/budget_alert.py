"""`on_budget_alert`: read a message from the budget topic, decide, act, record and notify.

Every message ends in exactly one notification, and nothing is ever dropped: a message Warden cannot
understand is forwarded verbatim. The same SNS message delivered again is recognised by its id and
ignored (one claim, one pause, one notification).

Without the state table (deleted, or throttled past botocore's retries) the message is handled all the same
on an in-memory state (usecases/unrecorded.py): a confirmed breach is paused, the notification says the pause
is not recorded and what to do, the metric `StateUnavailable` is counted and the invocation fails, so that the
error alarm fires and the failure queue keeps the alert. Without the table a repeat cannot be recognised: each
delivery (and each of Lambda's retries) pauses again, which changes nothing, and notifies again. The reconcile
records the budget claim once the table is back (`recover_budget_claim`).

This module decides and acts, and hands facts (domain/budget.py: `Assessment`, `Verification`, `Enforcement`...)
to warden/messages/budget.py, which writes every sentence: the notifications, the action log's reasons, the
claim's evidence and the result's `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from warden.domain.budget import (
    AlertOutcome,
    AnomalyBreach,
    Assessment,
    BudgetBreach,
    BudgetGuard,
    Enforcement,
    EnforcePolicy,
    Verdict,
    Verification,
    assess_alert,
    assess_anomaly,
    confirm_breach,
)
from warden.domain.claims import Claim, ClaimReason, DesiredState
from warden.domain.converge import ConvergeAction
from warden.domain.notification import Notification
from warden.domain.records import EventStart
from warden.errors import BudgetNotFound, ServiceNotFound, StateUnavailable, UnparseableMessage
from warden.messages import budget as words
from warden.models.anomaly import CostAnomalyAlert, looks_like_anomaly_alert, parse_anomaly_alert
from warden.models.budget import BudgetAlert, parse_budget_notification
from warden.models.sns import SnsMessage
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases import forward
from warden.usecases.claims import ClaimDeps, place_claim
from warden.usecases.converge import record_action
from warden.usecases.once import handle_once, handled_at
from warden.usecases.ports import BudgetPort, ImagePort, NotifierPort, StatePort
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines
from warden.usecases.unrecorded import METRIC, UnrecordedState

ACTOR = "on_budget_alert"
# The outcomes, by the name usecases/fleet_events.py and the tests know them (domain/budget.py holds them, so that
# warden/messages/budget.py can word them).
Outcome = AlertOutcome
_NOTIFY_ONLY = {
    Verdict.WARN: Outcome.WARNED,
    Verdict.FORECAST: Outcome.FORECAST,
    Verdict.OTHER_BUDGET: Outcome.OTHER_BUDGET,
}


@dataclass(frozen=True)
class BudgetAlertDeps:
    service: Target
    budgets: BudgetPort
    notifier: NotifierPort
    state: StatePort
    images: ImagePort | None = None  # lets a later resume notice an image pushed while paused


class AlertResult(BaseModel):
    """What handling one message did. `reason` is warden.messages.budget's words for it; the facts below (those
    that apply) are what the notification was written from, and stay out of the handler's JSON answer."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    outcome: Outcome
    reason: str
    notification_event: str | None = None
    assessment: Assessment | None = Field(default=None, exclude=True)
    verification: Verification | None = Field(default=None, exclude=True)
    """A budget alert checked against the Budgets API (what it was judged by, and whether that confirmed it)."""
    anomaly: AnomalyBreach | None = Field(default=None, exclude=True)
    enforcement: Enforcement | None = Field(default=None, exclude=True)
    """What placing the budget claim and converging did (a confirmed breach, or an anomaly that pauses)."""


def handle_message(message: SnsMessage, deps: BudgetAlertDeps, settings: Settings, now: datetime) -> AlertResult:
    """Handles one SNS message once; a duplicate delivery is logged, counted and ignored."""

    def duplicate(start: EventStart) -> AlertResult:
        reason = words.duplicate_reason(message.message_id, handled_at(start))
        logger.info(reason, extra={"message_id": message.message_id, "first_outcome": start.summary})
        count("DuplicateEvents")
        return AlertResult(message_id=message.message_id, outcome=Outcome.DUPLICATE, reason=reason)

    try:
        return handle_once(
            deps.state, f"sns#{message.message_id}", now, lambda: _handle(message, deps, settings, now), duplicate
        )
    except StateUnavailable as unavailable:
        _without_state(message, deps, settings, now, unavailable)
        raise


def _without_state(
    message: SnsMessage, deps: BudgetAlertDeps, settings: Settings, now: datetime, unavailable: StateUnavailable
) -> None:
    """Handles the message as if the table were there, on memory that is gone after this invocation: the pause
    (the safety action) happens, its record does not. The caller re-raises, so the failure reaches a person."""
    logger.error(
        "the state table is unavailable: handling the alert without it",
        extra={"message_id": message.message_id, "error": str(unavailable)},
    )
    count(METRIC)
    try:
        result = _handle(message, replace(deps, state=UnrecordedState(str(unavailable))), settings, now)
    except StateUnavailable as again:
        # Only a service controller that itself needs the table can get here (wiring gives ECS a fallback).
        guard = _guard(deps, settings)
        deps.notifier.publish(words.cannot_pause_without_table(guard, message, str(unavailable), str(again)))
        count("NotificationsSent")
        return
    logger.error(
        "handled without the state table; nothing is recorded",
        extra={"message_id": message.message_id, "outcome": result.outcome.value, "reason": result.reason},
    )


def forward_unparseable(
    raw: str, why: str, *, subject: str | None, source: str, deps: BudgetAlertDeps, settings: Settings
) -> str:
    """Sends a message Warden could not understand to the operator, verbatim, and says why."""
    return forward.forward_unparseable(
        raw,
        why,
        subject=subject,
        source=source,
        topic=words.TOPIC,
        service_name=settings.service.name,
        notifier=deps.notifier,
    )


def _policy(settings: Settings) -> EnforcePolicy:
    return EnforcePolicy(
        budget_name=settings.budget_name,
        threshold_percent=settings.enforce_threshold_percent,
        enforce_on_forecast=settings.enforce_on_forecast,
        anomaly_pause_impact_usd=settings.anomaly_pause_impact_usd,
    )


def _guard(deps: BudgetAlertDeps, settings: Settings) -> BudgetGuard:
    return BudgetGuard(
        service_name=settings.service.name,
        service_arn=settings.service.arn,
        target=deps.service.facts,
        policy=_policy(settings),
        dry_run=settings.dry_run,
    )


def _handle(message: SnsMessage, deps: BudgetAlertDeps, settings: Settings, now: datetime) -> AlertResult:
    text = message.message
    guard = _guard(deps, settings)
    try:
        if looks_like_anomaly_alert(text):
            anomaly = parse_anomaly_alert(text)
            count("AlertsParsed")
            try:
                return _on_anomaly(anomaly, message, guard, deps, settings, now)
            except ServiceNotFound as missing:
                return _service_missing(missing, message, guard, deps)
        alert = parse_budget_notification(text)
    except UnparseableMessage as error:
        forward_unparseable(
            text,
            error.reason,
            subject=message.subject,
            source=words.sns_source(message.message_id),
            deps=deps,
            settings=settings,
        )
        return AlertResult(
            message_id=message.message_id,
            outcome=Outcome.FORWARDED,
            reason=words.forwarded_reason(error.reason),
            notification_event=forward.EVENT,
        )
    count("AlertsParsed")
    try:
        return _on_budget_alert(alert, message, guard, deps, settings, now)
    except ServiceNotFound as missing:
        return _service_missing(missing, message, guard, deps)


def _on_budget_alert(
    alert: BudgetAlert,
    message: SnsMessage,
    guard: BudgetGuard,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
) -> AlertResult:
    assessment = assess_alert(alert, guard.policy)
    logger.info(
        "budget alert assessed",
        extra={
            "budget": alert.budget_name,
            "alert_type": alert.alert_type.value,
            "verdict": assessment.verdict.value,
        },
    )
    if assessment.verdict is not Verdict.VERIFY:
        outcome, reason = _NOTIFY_ONLY[assessment.verdict], words.assessment_reason(assessment)
        told = AlertResult(message_id=message.message_id, outcome=outcome, reason=reason, assessment=assessment)
        return _send(deps, words.notify_only(guard, assessment), told)
    try:
        snapshot = deps.budgets.read_budget(settings.service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        reason = words.unverifiable_reason(str(missing))
        told = AlertResult(
            message_id=message.message_id, outcome=Outcome.UNVERIFIABLE, reason=reason, assessment=assessment
        )
        return _send(deps, words.unverifiable(guard, alert, str(missing)), told)
    verification = Verification(
        alert=alert, snapshot=snapshot, confirmation=confirm_breach(alert, snapshot, guard.policy), now=now
    )
    if not verification.confirmation.confirmed:
        reason = words.confirmation_reason(verification.confirmation)
        record_action(
            deps.state,
            settings.service.arn,
            now=now,
            actor=ACTOR,
            action="pause",
            outcome="skipped",
            reason=reason,
            dry_run=settings.dry_run,
            source_event=message.message_id,
        )
        told = AlertResult(
            message_id=message.message_id, outcome=Outcome.NOT_CONFIRMED, reason=reason, verification=verification
        )
        return _send(deps, words.not_confirmed(guard, verification), told)
    period_start, period_end = verification.period
    details = {
        "actual": str(snapshot.actual),
        "limit": str(snapshot.limit),
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
    }
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=ACTOR,
        evidence=words.breach_evidence(verification),
        now=now,
        source_event=message.message_id,
        details=details,
    )
    trigger = BudgetBreach(verification=verification, message_id=message.message_id, received_at=message.timestamp)
    return _enforce(claim, trigger, message, guard, deps, settings, now)


def _enforce(
    claim: Claim,
    trigger: BudgetBreach | AnomalyBreach,
    message: SnsMessage,
    guard: BudgetGuard,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
) -> AlertResult:
    """Adds the claim, converges the service, and tells the operator what happened and how to undo it."""
    change = place_claim(
        ClaimDeps(deps.service, deps.state, deps.images),
        settings.service.arn,
        claim,
        now=now,
        actor=ACTOR,
        dry_run=settings.dry_run,
        source_event=message.message_id,
    )
    result = change.result
    action = ConvergeAction.PAUSE if result.called == "pause" else result.decision.action
    if change.cleared is not None:
        # A retry of an alert whose first attempt paused, after someone cleared its claim: that decision stands.
        outcome = Outcome.OVERRIDDEN
    elif action is ConvergeAction.PAUSE and result.dry_run:
        outcome = Outcome.WOULD_PAUSE
    elif action is ConvergeAction.PAUSE:
        outcome = Outcome.PAUSED
    elif action is ConvergeAction.UNAVAILABLE:
        outcome = Outcome.UNAVAILABLE
    elif result.desire.state is not DesiredState.PAUSED:
        # The claim was cleared while Warden converged (an operator's override): the service runs, as it should.
        outcome = Outcome.OVERRIDDEN
    else:
        outcome = Outcome.ALREADY_PAUSED
    enforcement = Enforcement(
        outcome=outcome,
        undone_since=change.cleared is not None,
        claim_line=change.line,
        summary=result.summary,
        credited=result.credited,
        operation_id=result.operation_id if result.called == "pause" else None,
        before=result.before,
        refusal=result.decision.reason if outcome is Outcome.UNAVAILABLE else "",
        # Read after the pause: a platform that remembers what to restore (ECS) quotes it.
        undo=()
        if change.cleared is not None
        else tuple(undo_pause_lines(deps.service, settings, claim.reason, claim.key, state=deps.state)),
    )
    told = AlertResult(
        message_id=message.message_id,
        outcome=outcome,
        reason=words.enforcement_reason(enforcement),
        verification=trigger.verification if isinstance(trigger, BudgetBreach) else None,
        anomaly=trigger if isinstance(trigger, AnomalyBreach) else None,
        enforcement=enforcement,
    )
    return _send(deps, words.enforced(guard, trigger, enforcement), told)


def _on_anomaly(
    anomaly: CostAnomalyAlert,
    message: SnsMessage,
    guard: BudgetGuard,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
) -> AlertResult:
    breach = AnomalyBreach(anomaly=anomaly, assessment=assess_anomaly(anomaly, guard.policy))
    if breach.assessment.verdict is not Verdict.VERIFY:
        reason = words.anomaly_reason(breach.assessment)
        told = AlertResult(message_id=message.message_id, outcome=Outcome.ANOMALY, reason=reason, anomaly=breach)
        return _send(deps, words.anomaly_noticed(guard, breach), told)
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=ACTOR,
        evidence=words.anomaly_evidence(breach),
        now=now,
        source_event=message.message_id,
        details={"anomaly_id": anomaly.anomaly_id},
    )
    return _enforce(claim, breach, message, guard, deps, settings, now)


def _service_missing(
    missing: ServiceNotFound, message: SnsMessage, guard: BudgetGuard, deps: BudgetAlertDeps
) -> AlertResult:
    # Retrying cannot make a missing service appear: tell the operator once instead of failing forever.
    reason = words.service_missing_reason(str(missing))
    told = AlertResult(message_id=message.message_id, outcome=Outcome.UNAVAILABLE, reason=reason)
    return _send(deps, words.service_missing(guard, message, str(missing)), told)


def _send(deps: BudgetAlertDeps, notification: Notification, result: AlertResult) -> AlertResult:
    """Publishes `notification` (saying first, without the state table, what is not recorded); `result` with it."""
    if isinstance(deps.state, UnrecordedState):
        notification = words.unrecorded(notification, deps.state.cause, result.outcome, deps.service.facts)
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return result.model_copy(update={"notification_event": notification.event})
