"""`on_deployment`: the guarded platform's deployment events, turned into deployment reports.

The target reads its platform's events (App Runner's operation status changes, ECS's deployment state changes) and
tells about the deployment each one ended; the report is the same whatever the platform:
- a start (`DeploymentStarted`, `SERVICE_DEPLOYMENT_IN_PROGRESS`) is remembered (a memo), so that the report of
  its end can say how long it took, and whether it is the platform's own rollback;
- a success: "deployed v1.2.0 in 4 minutes". A deployment Warden did not make (a push with auto-deploy, the
  console, a CI pipeline) is added to the deployment history as observed: rollback targets and the purge's keep
  list learn it. A configuration update (App Runner's UpdateService) is reported as one;
- a failure: the reason, what the platform did about it, and the exact `warden rollback` commands. With
  AUTO_ROLLBACK on, Warden rolls back once itself (AutoRollback decides: never a rollback, never on top of the
  platform's own); a rollback that fails is a critical notification and is never tried again for that
  deployment. A failed configuration update is reported, never rolled back (no image would undo it).
Pauses and resumes are ignored (Warden's pause claims report every pause), and so is what is no deployment of the
guarded service, with a logged reason. The same event delivered twice is handled once (its EventBridge id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warden.domain.alarms import format_duration
from warden.domain.deployments import DeploymentEvent, DeploymentReport, DeploymentStart, Phase
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import OBSERVED_SOURCE, ROLLBACK_SOURCE, RollbackTrigger
from warden.domain.records import DeploymentRecord
from warden.errors import UnparseableMessage
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.deployment_outcome import (
    DeploymentResult,
    Outcome,
    duplicate,
    failed_notification,
    rollback_verdict,
)
from warden.usecases.once import handle_once
from warden.usecases.ports import NotifierPort, StatePort
from warden.usecases.rollback import AutoRollback
from warden.usecases.target import Target

# The newest deployment's start (what matches it to its end, its time and reason): one memo per service.
STARTED_MEMO = "deployment_started"
HISTORY = 20


@dataclass(frozen=True)
class DeploymentDeps:
    target: Target
    state: StatePort
    notifier: NotifierPort
    rollback: AutoRollback | None = None
    no_rollback: str = "no automatic rollback is wired in this stack"  # why, when `rollback` is None


def handle_event(event: object, deps: DeploymentDeps, settings: Settings, now: datetime) -> DeploymentResult:
    """One EventBridge event, read by the guarded service's target."""
    try:
        read = deps.target.read_deployment_event(event)
    except UnparseableMessage as error:
        return _ignored(None, f"ignored, because {error.reason}")
    if read.service_arn != settings.service.arn:
        return _ignored(
            read.status,
            f"ignored, because the event is about {read.service_arn or 'no service'}, not {settings.service.name}",
        )
    if read.ignored is not None or read.phase is Phase.UNKNOWN:
        return _ignored(read.status, read.ignored or f"ignored, because {read.status!r} is no known outcome")

    return handle_once(
        deps.state,
        read.delivery_key,
        now,
        lambda: _handle(read, deps, settings, now),
        lambda _: duplicate(read.status, read.event_id),
    )


def _handle(event: DeploymentEvent, deps: DeploymentDeps, settings: Settings, now: datetime) -> DeploymentResult:
    arn = settings.service.arn
    logger.info(
        "deployment event",
        extra={"status": event.status, "event_id": event.event_id, "deployment": event.deployment_id},
    )
    if event.phase is Phase.STARTED:
        deps.state.put_memo(
            arn,
            STARTED_MEMO,
            {"key": event.start_key, "at": event.time.isoformat(), "reason": event.message or ""},
        )
        return DeploymentResult(status=event.status, outcome=Outcome.STARTED, reason=f"{event.status} remembered")
    context = _Context.read(event, deps, settings, now)
    if event.phase is Phase.SUCCEEDED:
        return _succeeded(context, deps, settings)
    return _failed(context, deps, settings)


@dataclass(frozen=True)
class _Context:
    event: DeploymentEvent
    report: DeploymentReport
    history: list[DeploymentRecord]
    platform: str
    now: datetime  # when Warden handles the event: action records are dated by it, not by the event

    @classmethod
    def read(cls, event: DeploymentEvent, deps: DeploymentDeps, settings: Settings, now: datetime) -> _Context:
        arn = settings.service.arn
        memo = deps.state.get_memo(arn, STARTED_MEMO) or {}
        started = None
        if memo.get("at") and memo.get("key") == event.start_key:
            started = DeploymentStart(at=datetime.fromisoformat(memo["at"]), reason=memo.get("reason", ""))
            deps.state.delete_memo(arn, STARTED_MEMO)
        # Another deployment's start stays: it is still running (or the platform is rolling it back).
        history = deps.state.list_deployments(arn, limit=HISTORY)
        report = deps.target.read_deployment(event, history, started)
        return cls(event=event, report=report, history=history, platform=deps.target.facts.platform, now=now)

    @property
    def is_rollback(self) -> bool:
        """Deployed by Warden's rollback (the history says so) or by the platform's own."""
        newest = self.history[0] if self.history else None
        deployed = self.report.deployed
        by_warden = newest is not None and deployed is not None and newest.digest == deployed
        return (by_warden and newest is not None and newest.source == ROLLBACK_SOURCE) or (
            self.report.by_platform_rollback
        )

    def took(self, word: str = "in") -> str:
        took = self.report.took
        return f" {word} {format_duration(took)}" if took is not None else ""

    def happened(self) -> str:
        event = self.event
        deployment = f" (deployment {event.deployment_id})" if event.deployment_id else ""
        return f"{self.platform} reported {event.status}{deployment} at {event.time:%Y-%m-%d %H:%M:%S} UTC."


def _succeeded(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    name, arn = settings.service.name, settings.service.arn
    report, update = context.report, context.event.update
    recorded = ""
    newest = context.history[0] if context.history else None
    if not update and report.deployed and (newest is None or newest.digest != report.deployed):
        # A deployment Warden did not make: the history (rollback targets, the purge's keep list) learns it.
        deps.state.record_deployment(arn, report.deployed, report.version, context.event.time, OBSERVED_SOURCE)
        recorded = "Recorded it in the deployment history (it was not released through Warden)."
    kind = "rollback " if context.is_rollback else ""
    if update:
        subject = f"[warden] UPDATED {name}{context.took()}"
        headline = f"{name}: the configuration update finished{context.took()}; it runs {report.label}."
        outcome, event = Outcome.UPDATED, "deployment.updated"
    else:
        subject = f"[warden] DEPLOYED {name} {report.headline}{context.took()}"
        headline = f"{name}: the {kind}deployment of {report.label} succeeded{context.took()}."
        outcome, event = Outcome.DEPLOYED, "deployment.succeeded"
    body = render(
        [
            ("What happened", [context.happened(), report.detail]),
            ("What Warden did", [recorded or "Nothing to do: reported it."]),
            ("How to undo", [] if update else list(report.manual_rollback)),
            ("Links", [f"Service: {deps.target.facts.console_url}"]),
        ],
        headline=headline,
    )
    notification = Notification(subject=subject, body=body, event=event, severity=Severity.INFO)
    return _send(deps, context, outcome, headline, notification)


def _failed(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    name, report = settings.service.name, context.report
    reason = context.event.message or f"{context.platform} reported {context.event.status}"
    what_happened = [context.happened(), f"Reason: {reason}", report.explanation]
    links = [f"Service: {deps.target.facts.console_url}"]
    if context.event.update:
        headline = f"{name}: a configuration update failed{context.took('after')}."
        body = render(
            [("What happened", what_happened), ("What Warden did", [report.update_advice]), ("Links", links)],
            headline=headline,
        )
        notification = Notification(
            subject=f"[warden] UPDATE FAILED {name}",
            body=body,
            event="deployment.update_failed",
            severity=Severity.WARNING,
        )
        return _send(deps, context, Outcome.FAILED, headline, notification)
    outcome, did, severity, tail, undo = _auto_rollback(context, deps, settings, reason)
    if context.is_rollback or report.platform_rollback_failed:
        severity = Severity.CRITICAL
    what = "rollback " if context.is_rollback else ""
    headline = f"{name}: the {what}deployment of {report.label} failed{context.took('after')}."
    body = render(
        [
            ("What happened", what_happened),
            ("What Warden did", did),
            ("How to roll back by hand", [] if outcome is Outcome.ROLLED_BACK else list(report.manual_rollback)),
            ("How to undo the rollback", undo),
            ("Links", links),
        ],
        headline=headline,
    )
    notification = failed_notification(name, report.short, tail, outcome, severity, body)
    return _send(deps, context, outcome, headline, notification)


def _auto_rollback(
    context: _Context, deps: DeploymentDeps, settings: Settings, reason: str
) -> tuple[Outcome, list[str], Severity, str, list[str]]:
    """(outcome, what Warden did, severity, subject tail, how to undo what Warden did)."""
    rollback = deps.rollback
    if not settings.auto_rollback or rollback is None:
        why = (
            "automatic rollback is off (AUTO_ROLLBACK=false, stack parameter AutoRollback)"
            if rollback is not None
            else deps.no_rollback
        )
        return Outcome.FAILED, [f"No rollback: {why}."], Severity.WARNING, "run warden rollback", []
    verdict = rollback_verdict(
        lambda: rollback.attempt(
            RollbackTrigger.FAILED_DEPLOYMENT,
            reason=f"the deployment failed: {reason}",
            source_event=context.event.delivery_key,
            deployment_id=context.event.deployment_id,
        ),
        deps.state,
        settings.service.arn,
        now=context.now,
        source_event=context.event.delivery_key,
    )
    if verdict.outcome is Outcome.ROLLED_BACK and verdict.result is not None:
        move = verdict.result.move
        return verdict.outcome, verdict.did, verdict.severity, f"rolled back to {move.target_short}", move.undo_lines()
    return verdict.outcome, verdict.did, verdict.severity, verdict.tail, []


def _send(
    deps: DeploymentDeps, context: _Context, outcome: Outcome, reason: str, notification: Notification
) -> DeploymentResult:
    deps.notifier.publish(notification)
    count("NotificationsSent")
    logger.info("deployment reported", extra={"outcome": outcome.value, "version": context.report.label})
    return DeploymentResult(
        status=context.event.status, outcome=outcome, reason=reason, notification_event=notification.event
    )


def _ignored(status: str | None, reason: str) -> DeploymentResult:
    logger.info(reason, extra={"status": status})
    count("DeploymentEventsIgnored")
    return DeploymentResult(status=status, outcome=Outcome.IGNORED, reason=reason)
