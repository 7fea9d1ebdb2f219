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
What each report says is a `DeploymentEnded` (returned in the result); messages/pipeline.py words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warden.domain.deployments import DeploymentEvent, DeploymentReport, DeploymentStart, Phase
from warden.domain.pipeline import (
    AUTO_ROLLBACK_OFF,
    OBSERVED_SOURCE,
    ROLLBACK_SOURCE,
    AfterFailure,
    AutoRollbackVerdict,
    DeploymentEnded,
    RollbackTrigger,
    failure_reason,
)
from warden.domain.records import DeploymentRecord
from warden.domain.target import TargetFacts
from warden.errors import UnparseableMessage
from warden.messages.pipeline import deployment_ended, deployment_headline
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.deployment_outcome import OUTCOMES, DeploymentResult, Outcome, duplicate, rollback_verdict
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
    service_name: str
    facts: TargetFacts
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
        return cls(
            event=event,
            report=report,
            history=history,
            service_name=settings.service.name,
            facts=deps.target.facts,
            now=now,
        )

    @property
    def is_rollback(self) -> bool:
        """Deployed by Warden's rollback (the history says so) or by the platform's own."""
        newest = self.history[0] if self.history else None
        deployed = self.report.deployed
        by_warden = newest is not None and deployed is not None and newest.digest == deployed
        return (by_warden and newest is not None and newest.source == ROLLBACK_SOURCE) or (
            self.report.by_platform_rollback
        )

    def ended(self, *, recorded: bool = False, rollback: AutoRollbackVerdict | None = None) -> DeploymentEnded:
        return DeploymentEnded(
            service_name=self.service_name,
            platform=self.facts.platform,
            console_url=self.facts.console_url,
            event=self.event,
            report=self.report,
            by_rollback=self.is_rollback,
            recorded=recorded,
            rollback=rollback,
        )


def _succeeded(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    arn = settings.service.arn
    report, update = context.report, context.event.update
    newest = context.history[0] if context.history else None
    recorded = not update and bool(report.deployed) and (newest is None or newest.digest != report.deployed)
    if recorded and report.deployed:
        # A deployment Warden did not make: the history (rollback targets, the purge's keep list) learns it.
        deps.state.record_deployment(arn, report.deployed, report.version, context.event.time, OBSERVED_SOURCE)
    return _send(deps, context, Outcome.UPDATED if update else Outcome.DEPLOYED, context.ended(recorded=recorded))


def _failed(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    if context.event.update:
        # A configuration update is reported, never rolled back: no image would undo it.
        return _send(deps, context, Outcome.FAILED, context.ended())
    verdict = _auto_rollback(context, deps, settings)
    return _send(deps, context, OUTCOMES[verdict.after], context.ended(rollback=verdict))


def _auto_rollback(context: _Context, deps: DeploymentDeps, settings: Settings) -> AutoRollbackVerdict:
    rollback = deps.rollback
    if not settings.auto_rollback or rollback is None:
        why = AUTO_ROLLBACK_OFF if rollback is not None else deps.no_rollback
        return AutoRollbackVerdict(after=AfterFailure.NOT_TRIED, why=why)
    reason = failure_reason(context.event, context.facts.platform)
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
    result = verdict.result
    if result is None:
        return AutoRollbackVerdict(after=verdict.after, why=verdict.why)
    if verdict.after is AfterFailure.ROLLED_BACK:
        move = result.move
        return AutoRollbackVerdict(
            after=verdict.after, done=result.summary, to=move.target_short, undo=tuple(move.undo_lines())
        )
    return AutoRollbackVerdict(after=verdict.after, done=result.summary)


def _send(deps: DeploymentDeps, context: _Context, outcome: Outcome, ended: DeploymentEnded) -> DeploymentResult:
    notification = deployment_ended(ended)
    deps.notifier.publish(notification)
    count("NotificationsSent")
    logger.info("deployment reported", extra={"outcome": outcome.value, "version": context.report.label})
    return DeploymentResult(
        status=context.event.status,
        outcome=outcome,
        reason=deployment_headline(ended),
        notification_event=notification.event,
        ended=ended,
    )


def _ignored(status: str | None, reason: str) -> DeploymentResult:
    logger.info(reason, extra={"status": status})
    count("DeploymentEventsIgnored")
    return DeploymentResult(status=status, outcome=Outcome.IGNORED, reason=reason)
