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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import (
    Assessment,
    BudgetSnapshot,
    EnforcePolicy,
    Verdict,
    assess_alert,
    assess_anomaly,
    confirm_breach,
    measured_figure,
)
from warden.domain.claims import Claim, ClaimReason, DesiredState
from warden.domain.converge import ConvergeAction
from warden.domain.costs import SECTION, pause_effect, paused_cost_lines
from warden.domain.notification import Notification, Severity, render
from warden.domain.records import EventStart
from warden.errors import BudgetNotFound, ServiceNotFound, StateUnavailable, UnparseableMessage
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
BUDGETS_CONSOLE = "https://console.aws.amazon.com/costmanagement/home#/budgets"


@dataclass(frozen=True)
class BudgetAlertDeps:
    service: Target
    budgets: BudgetPort
    notifier: NotifierPort
    state: StatePort
    images: ImagePort | None = None  # lets a later resume notice an image pushed while paused


class Outcome(StrEnum):
    WARNED = "warned"
    FORECAST = "forecast"
    OTHER_BUDGET = "other_budget"
    NOT_CONFIRMED = "not_confirmed"
    UNVERIFIABLE = "unverifiable"
    PAUSED = "paused"
    WOULD_PAUSE = "would_pause"
    ALREADY_PAUSED = "already_paused"
    UNAVAILABLE = "unavailable"
    ANOMALY = "anomaly"
    FORWARDED = "forwarded"
    DUPLICATE = "duplicate"
    OVERRIDDEN = "overridden"


# The outcomes after which the service is (or, in a dry run, would be) paused.
_HELD = (Outcome.PAUSED, Outcome.ALREADY_PAUSED)
_PAUSES = (*_HELD, Outcome.WOULD_PAUSE)


class AlertResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str
    outcome: Outcome
    reason: str
    notification_event: str | None = None


def handle_message(message: SnsMessage, deps: BudgetAlertDeps, settings: Settings, now: datetime) -> AlertResult:
    """Handles one SNS message once; a duplicate delivery is logged, counted and ignored."""

    def duplicate(start: EventStart) -> AlertResult:
        reason = f"ignored, because SNS message {message.message_id} was already handled at {handled_at(start)}"
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
        name = settings.service.name
        deps.notifier.publish(
            Notification(
                subject=f"[warden] CANNOT PAUSE {name}: the state table is unavailable",
                body=render(
                    [
                        ("What happened", [_alert_excerpt(message)]),
                        ("Why nothing was done", [str(unavailable), f"Pausing needed the table too: {again}."]),
                        ("What to do", _unrecorded_help(deps.service.facts.console_url)),
                    ],
                    headline=f"Warden could not handle a budget alert for {name}: its state table is unavailable.",
                ),
                event="budget.unenforceable",
                severity=Severity.CRITICAL,
            )
        )
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
        topic="the budget topic",
        service_name=settings.service.name,
        notifier=deps.notifier,
    )


def _handle(message: SnsMessage, deps: BudgetAlertDeps, settings: Settings, now: datetime) -> AlertResult:
    text = message.message
    policy = EnforcePolicy(
        budget_name=settings.budget_name,
        threshold_percent=settings.enforce_threshold_percent,
        enforce_on_forecast=settings.enforce_on_forecast,
        anomaly_pause_impact_usd=settings.anomaly_pause_impact_usd,
    )
    try:
        if looks_like_anomaly_alert(text):
            anomaly = parse_anomaly_alert(text)
            count("AlertsParsed")
            try:
                return _on_anomaly(anomaly, message, policy, deps, settings, now)
            except ServiceNotFound as missing:
                return _service_missing(missing, message, deps, settings)
        alert = parse_budget_notification(text)
    except UnparseableMessage as error:
        forward_unparseable(
            text,
            error.reason,
            subject=message.subject,
            source=f"SNS message {message.message_id}",
            deps=deps,
            settings=settings,
        )
        return AlertResult(
            message_id=message.message_id,
            outcome=Outcome.FORWARDED,
            reason=f"forwarded verbatim, because {error.reason}",
            notification_event="alert.unparsed",
        )
    count("AlertsParsed")
    try:
        return _on_budget_alert(alert, message, policy, deps, settings, now)
    except ServiceNotFound as missing:
        return _service_missing(missing, message, deps, settings)


def _on_budget_alert(
    alert: BudgetAlert,
    message: SnsMessage,
    policy: EnforcePolicy,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
) -> AlertResult:
    assessment = assess_alert(alert, policy)
    logger.info(
        "budget alert assessed",
        extra={
            "budget": alert.budget_name,
            "alert_type": alert.alert_type.value,
            "verdict": assessment.verdict.value,
        },
    )
    match assessment.verdict:
        case Verdict.WARN | Verdict.FORECAST | Verdict.OTHER_BUDGET:
            return _notify_only(alert, assessment, message, deps, settings)
        case Verdict.VERIFY:
            pass
    try:
        snapshot = deps.budgets.read_budget(settings.service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        reason = f"cannot verify the spend: {missing}; the service was not paused"
        return _send(
            deps,
            message,
            Outcome.UNVERIFIABLE,
            reason,
            Notification(
                subject=f"[warden] NOT PAUSED {settings.service.name}: budget '{settings.budget_name}' not found",
                body=render(
                    [
                        ("What happened", [_alert_line(alert)]),
                        ("Why nothing was done", [reason, "Check BUDGET_NAME (stack parameter BudgetName)."]),
                        ("Links", [BUDGETS_CONSOLE]),
                    ],
                    headline=f"Warden could not verify a budget breach for {settings.service.name}.",
                ),
                event="budget.unverifiable",
                severity=Severity.CRITICAL,
            ),
        )
    confirmation = confirm_breach(alert, snapshot, policy)
    # The subject names the figure the alert is judged by: a forecast-triggered pause names the forecast.
    label, figure = measured_figure(alert.alert_type, snapshot)
    measured = f"{label} {figure if figure is not None else 'not reported'} of {snapshot.limit}"
    if not confirmation.confirmed:
        record_action(
            deps.state,
            settings.service.arn,
            now=now,
            actor=ACTOR,
            action="pause",
            outcome="skipped",
            reason=confirmation.reason,
            dry_run=settings.dry_run,
            source_event=message.message_id,
        )
        return _send(
            deps,
            message,
            Outcome.NOT_CONFIRMED,
            confirmation.reason,
            Notification(
                subject=f"[warden] NOT PAUSED {settings.service.name}: Budgets API shows {measured}",
                body=render(
                    [
                        ("What happened", [_alert_line(alert)]),
                        ("Evidence", [_snapshot_line(snapshot, now)]),
                        ("What Warden did", ["Nothing: " + confirmation.reason + "."]),
                        ("Links", [BUDGETS_CONSOLE]),
                    ],
                    headline=f"Warden did not pause {settings.service.name}: the breach was not confirmed.",
                ),
                event="budget.not_confirmed",
                severity=Severity.WARNING,
            ),
        )
    evidence = f"{alert.alert_type.value} alert {alert.amount} of {alert.budgeted}; {confirmation.reason}"
    period_start, period_end = snapshot.period(now)
    details = {
        "actual": str(snapshot.actual),
        "limit": str(snapshot.limit),
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
    }
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=ACTOR,
        evidence=evidence,
        now=now,
        source_event=message.message_id,
        details=details,
    )
    return _enforce(
        claim,
        message,
        deps,
        settings,
        now,
        what=[_alert_line(alert)],
        evidence=[
            _snapshot_line(snapshot, now),
            f"Budget alert: SNS message {message.message_id} at {message.timestamp:%Y-%m-%d %H:%M} UTC",
        ],
        subject_evidence=measured,
        event_prefix="budget",
    )


def _enforce(
    claim: Claim,
    message: SnsMessage,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
    *,
    what: list[str],
    evidence: list[str],
    subject_evidence: str,
    event_prefix: str,
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
    result, claim_line = change.result, change.line
    if change.cleared is not None:
        # A retry of an alert whose first attempt paused, after someone cleared its claim: that decision stands.
        name = settings.service.name
        return _send(
            deps,
            message,
            Outcome.OVERRIDDEN,
            claim_line,
            Notification(
                subject=f"[warden] NOT PAUSED AGAIN {name}: {subject_evidence}",
                body=render(
                    [
                        ("What happened", what),
                        ("Evidence", evidence),
                        ("What Warden did", [claim_line, result.summary]),
                        ("Links", [f"Service: {deps.service.facts.console_url}", f"Budgets: {BUDGETS_CONSOLE}"]),
                    ],
                    headline=f"{name} is over budget, but its pause was undone since; Warden does not pause it again.",
                ),
                event=f"{event_prefix}.overridden",
                severity=Severity.WARNING,
            ),
        )
    if result.credited:
        claim_line += " The service was paused by an earlier attempt at handling this same alert."
    name = settings.service.name
    action = result.decision.action
    if result.called == "pause":
        action = ConvergeAction.PAUSE
    if action is ConvergeAction.PAUSE and result.dry_run:
        outcome, tag, event = Outcome.WOULD_PAUSE, "DRY RUN would pause", f"{event_prefix}.dry_run"
        headline = f"[dry run] Warden would have paused {name}; DRY_RUN is on, so nothing was changed."
    elif action is ConvergeAction.PAUSE:
        outcome, tag, event = Outcome.PAUSED, "PAUSED", f"{event_prefix}.paused"
        headline = f"Warden paused {name}. {pause_effect(result.before)}"
    elif action is ConvergeAction.UNAVAILABLE:
        outcome, tag, event = Outcome.UNAVAILABLE, "CANNOT PAUSE", f"{event_prefix}.unenforceable"
        headline = f"Warden could not pause {name}: {result.decision.reason}."
    elif result.desire.state is not DesiredState.PAUSED:
        # The claim was cleared while Warden converged (an operator's override): the service runs, as it should.
        outcome, tag, event = Outcome.OVERRIDDEN, "NOT PAUSED", f"{event_prefix}.overridden"
        headline = f"{name} is over budget, but its pause claim was cleared meanwhile; Warden leaves it running."
    else:
        outcome, tag, event = (
            Outcome.ALREADY_PAUSED,
            "BREACH, already paused",
            f"{event_prefix}.already_paused",
        )
        headline = f"{name} is over budget and already paused; Warden keeps it paused."
    did = [
        claim_line,
        "" if result.credited else result.summary,
    ]
    if result.called == "pause" and result.operation_id:
        did.append(
            f"{result.before.platform} operation {result.operation_id}: compute goes to zero; config, domain and "
            "image stay."
        )
    next_steps = [
        "Warden resumes the service when the next budget period starts and the Budgets API shows spend "
        f"under {settings.enforce_threshold_percent}% of the budget, unless another pause claim holds it.",
        deps.service.facts.while_paused,
    ]
    body = render(
        [
            ("What happened", what),
            ("Evidence", evidence),
            ("What Warden did", did),
            ("What happens next", next_steps),
            # A pause stops compute, not the whole bill (an ECS load balancer bills on): every pause says so.
            (SECTION, paused_cost_lines(result.before) if outcome in _PAUSES else []),
            ("How to undo", undo_pause_lines(deps.service, settings, claim.reason, claim.key, state=deps.state)),
            ("Links", [f"Service: {deps.service.facts.console_url}", f"Budgets: {BUDGETS_CONSOLE}"]),
        ],
        headline=headline,
    )
    notification = Notification(
        subject=f"[warden] {tag} {name}: {subject_evidence}",
        body=body,
        event=event,
        severity=Severity.CRITICAL,
    )
    return _send(deps, message, outcome, result.summary, notification)


def _notify_only(
    alert: BudgetAlert, assessment: Assessment, message: SnsMessage, deps: BudgetAlertDeps, settings: Settings
) -> AlertResult:
    name = settings.service.name
    match assessment.verdict:
        case Verdict.FORECAST:
            outcome, event = Outcome.FORECAST, "budget.forecast"
            subject = f"[warden] FORECAST {name}: {alert.amount} of {alert.budgeted} expected this period"
            headline = f"AWS Budgets forecasts {alert.amount_percent}% of the budget for {name} this period."
        case Verdict.OTHER_BUDGET:
            outcome, event = Outcome.OTHER_BUDGET, "budget.other"
            subject = f"[warden] BUDGET ALERT '{alert.budget_name}': {alert.amount} of {alert.budgeted}"
            headline = f"AWS Budgets alert for '{alert.budget_name}' (not the budget Warden enforces)."
        case _:
            outcome, event = Outcome.WARNED, "budget.warning"
            subject = f"[warden] WARNING {name}: budget at {alert.amount_percent}% ({alert.amount} of {alert.budgeted})"
            headline = f"{name} has used {alert.amount_percent}% of its budget."
    enforce_at = f"{settings.enforce_threshold_percent}%"
    body = render(
        [
            ("What happened", [_alert_line(alert)]),
            ("What Warden did", [f"Nothing yet: {assessment.reason}."]),
            (
                "What happens next",
                [
                    f"At {enforce_at} of '{settings.budget_name}' (actual spend, verified with the Budgets API), "
                    f"Warden pauses {name}.",
                    "DRY_RUN is on: Warden will only report what it would do." if settings.dry_run else "",
                ],
            ),
            ("Links", [f"Budgets: {BUDGETS_CONSOLE}", f"Service: {deps.service.facts.console_url}"]),
        ],
        headline=headline,
    )
    return _send(
        deps,
        message,
        outcome,
        assessment.reason,
        Notification(subject=subject, body=body, event=event, severity=Severity.WARNING),
    )


def _on_anomaly(
    anomaly: CostAnomalyAlert,
    message: SnsMessage,
    policy: EnforcePolicy,
    deps: BudgetAlertDeps,
    settings: Settings,
    now: datetime,
) -> AlertResult:
    assessment = assess_anomaly(anomaly, policy)
    impact = anomaly.impact
    what = [
        f"Cost Anomaly Detection found unexpected spend on {anomaly.dimension_value or 'an AWS service'}"
        f" (monitor '{anomaly.monitor_name or 'unknown'}').",
        f"Impact ${impact.total_impact:,.2f}"
        + (f" ({impact.total_impact_percentage}% above expected)" if impact.total_impact_percentage is not None else "")
        + (
            f": actual ${impact.total_actual_spend:,.2f} vs expected ${impact.total_expected_spend:,.2f}"
            if impact.total_actual_spend is not None and impact.total_expected_spend is not None
            else ""
        ),
        f"Since {anomaly.anomaly_start:%Y-%m-%d}" if anomaly.anomaly_start else "",
    ]
    causes = [
        " / ".join(
            part
            for part in (
                cause.service,
                cause.region,
                cause.usage_type,
                cause.linked_account_name or cause.linked_account,
            )
            if part
        )
        for cause in anomaly.root_causes
    ] or ["none reported"]
    links = [anomaly.details_link or "", f"Service: {deps.service.facts.console_url}"]
    subject_what = anomaly.dimension_value or "unexpected spend"
    if assessment.verdict is not Verdict.VERIFY:
        body = render(
            [
                ("What happened", what),
                ("Root causes", causes),
                ("What Warden did", [f"Nothing: {assessment.reason}."]),
                ("Links", links),
            ],
            headline=f"Cost anomaly: ${impact.total_impact:,.2f} of unexpected spend.",
        )
        return _send(
            deps,
            message,
            Outcome.ANOMALY,
            assessment.reason,
            Notification(
                subject=f"[warden] COST ANOMALY ${impact.total_impact:,.2f} impact: {subject_what}",
                body=body,
                event="anomaly.detected",
                severity=Severity.WARNING,
            ),
        )
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=ACTOR,
        evidence=f"cost anomaly {anomaly.anomaly_id}: {assessment.reason}",
        now=now,
        source_event=message.message_id,
        details={"anomaly_id": anomaly.anomaly_id},
    )
    return _enforce(
        claim,
        message,
        deps,
        settings,
        now,
        what=what,
        evidence=["Root causes: " + "; ".join(causes), assessment.reason],
        subject_evidence=f"cost anomaly ${impact.total_impact:,.2f}",
        event_prefix="anomaly",
    )


def _service_missing(
    missing: ServiceNotFound, message: SnsMessage, deps: BudgetAlertDeps, settings: Settings
) -> AlertResult:
    # Retrying cannot make a missing service appear: tell the operator once instead of failing forever.
    reason = f"the guarded service does not exist: {missing}"
    body = render(
        [
            (
                "What happened",
                [
                    f"A budget alert asked Warden to pause the service, but {deps.service.facts.platform} does not "
                    "know it."
                ],
            ),
            ("Why nothing was done", [reason, "Check SERVICE_ARN (stack parameter ServiceArn)."]),
            ("The alert", [message.message[:2000]]),
        ],
        headline=f"Warden could not act on {settings.service.arn}.",
    )
    return _send(
        deps,
        message,
        Outcome.UNAVAILABLE,
        reason,
        Notification(
            subject=f"[warden] CANNOT PAUSE {settings.service.name}: service not found",
            body=body,
            event="budget.unenforceable",
            severity=Severity.CRITICAL,
        ),
    )


def _send(
    deps: BudgetAlertDeps, message: SnsMessage, outcome: Outcome, reason: str, notification: Notification
) -> AlertResult:
    if isinstance(deps.state, UnrecordedState):
        notification = _unrecorded(notification, deps.state.cause, outcome)
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return AlertResult(
        message_id=message.message_id, outcome=outcome, reason=reason, notification_event=notification.event
    )


def _alert_line(alert: BudgetAlert) -> str:
    kind = "forecast" if alert.alert_type.value == "FORECASTED" else "actual"
    sent = f", sent {alert.notified_on:%B %d, %Y}" if alert.notified_on else ""
    return (
        f"AWS Budgets: {kind} spend {alert.amount} of the {alert.budgeted} budget '{alert.budget_name}' "
        f"({alert.amount_percent}%; alert threshold {alert.comparison} {alert.threshold}{sent})."
    )


def _snapshot_line(snapshot: BudgetSnapshot, now: datetime) -> str:
    start, end = snapshot.period(now)
    parts = [f"Budgets API now: actual {snapshot.actual} of {snapshot.limit} ({snapshot.actual_percent}%)"]
    if snapshot.forecast is not None:
        parts.append(f"forecast {snapshot.forecast}")
    parts.append(f"{snapshot.time_unit.lower()} period {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    return ", ".join(parts) + "."


def _unrecorded(notification: Notification, cause: str, outcome: Outcome) -> Notification:
    """`notification`, saying first that the state table is unavailable and what that leaves unrecorded."""
    anomaly = notification.event.startswith("anomaly.")
    if outcome in _HELD:
        done = (
            "The pause is in effect, but it is not recorded: there is no pause claim yet, no action-log entry and "
            "no record of this alert."
        )
    elif outcome is Outcome.WOULD_PAUSE:
        done = "DRY_RUN is on: nothing was changed, and nothing could have been recorded."
    else:
        done = "Nothing was recorded: the action log and the record of this alert are in the table."
    state = render(
        [
            (
                "State table unavailable",
                [
                    f"Cause: {cause}.",
                    "Without the table a repeat of this alert is not recognised: each delivery and each of Lambda's "
                    "retries pauses again (which changes nothing) and sends this message again.",
                ],
            ),
            ("What to do", _unrecorded_help_lines(anomaly=anomaly) if outcome in _HELD else []),
        ],
        headline=done,
    )
    return Notification(
        subject="[warden] NOT RECORDED " + notification.subject.removeprefix("[warden] "),
        body=state + "\n" + notification.body,
        event=notification.event,
        severity=Severity.CRITICAL,
    )


def _unrecorded_help_lines(*, anomaly: bool = False) -> list[str]:
    recorded = (
        'Then keep it paused with `warden pause --reason "cost anomaly"`: a pause for a cost anomaly cannot be '
        "re-derived from the Budgets API, and the reconcile resumes a paused service that no claim holds."
        if anomaly
        else "Nothing else: once the table is back, the reconcile finds the service paused with no claim and records "
        "the budget claim while the Budgets API still shows the breach; the budget-period check resumes it later."
    )
    return [
        "Bring the table back: a deleted table is recreated by deploying the stack again (sam deploy); a "
        "throttled one needs its capacity or the account's limits checked (DynamoDB console, the table's metrics).",
        recorded,
        "Until then `warden resume` and `warden status` fail. To resume by hand, use the platform's own command "
        "under 'How to undo' once Lambda's retries of this alert are over; the reconcile leaves a running service "
        "running.",
        "On ECS the desired count and Auto Scaling target to restore could not be stored either: this function's "
        "log has them (search for 'memo kept in memory only').",
    ]


def _unrecorded_help(console_url: str) -> list[str]:
    return [*_unrecorded_help_lines()[:1], f"Then check the service by hand: {console_url}"]


def _alert_excerpt(message: SnsMessage) -> str:
    return f"SNS message {message.message_id}: " + " ".join(message.message.split())[:300]
