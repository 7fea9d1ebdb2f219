"""`on_deployment` for an ECS service: "ECS Deployment State Change" events, turned into deployment reports.

- SERVICE_DEPLOYMENT_IN_PROGRESS: remembered (a memo) so the report can say how long it took, and whether the
  deployment is ECS's own circuit-breaker rollback (its reason says "rolling back to deploymentId ...").
- SERVICE_DEPLOYMENT_COMPLETED: "deployed consultation-app:12 (v1.2.0) in 4 minutes". The revision is the
  deployment's task definition (DescribeServices); a deployment Warden did not make is added to the deployment
  history as observed (its `digest` holds the task-definition ARN on ECS).
- SERVICE_DEPLOYMENT_FAILED (sent when the deployment circuit breaker is on): the reason, what ECS did (a
  rollback only when the event's reason says ECS is rolling back), and the exact `warden rollback` command.
  With AUTO_ROLLBACK on, Warden rolls back once to the previous revision, unless the deployment was itself a
  rollback, ECS already moved the service on, or ECS rolls back by itself (see decide_ecs_auto_rollback).
Other events, and events about another service, are ignored with a logged reason. The same event delivered
twice is handled once (its EventBridge id).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from warden.domain.alarms import format_duration
from warden.domain.deployments import (
    EcsDeployment,
    EcsPhase,
    EcsServiceState,
    decide_ecs_watch,
    ecs_failure_explanation,
    ecs_rolling_back_to,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import (
    OBSERVED_SOURCE,
    ROLLBACK_SOURCE,
    RollbackTrigger,
    TaskRevision,
    previous_revision,
    revision_name,
)
from warden.domain.records import DeploymentRecord
from warden.errors import ServiceNotFound, UnparseableMessage, WardenError
from warden.models.deployment import EcsDeploymentEvent, parse_ecs_deployment_event
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.deployment_outcome import (
    DeploymentResult,
    Outcome,
    duplicate,
    failed_notification,
    rollback_verdict,
)
from warden.usecases.ecs_rollback import SEARCH_DEPTH, EcsAutoRollback, undo_lines
from warden.usecases.once import handle_once
from warden.usecases.ports import EcsRevisionsPort, NotifierPort, StatePort

# The newest deployment's start (its id, time and reason): one memo per service, so a deployment that never
# reports an end (no circuit breaker) leaves nothing behind once the next one starts.
STARTED_MEMO = "ecs_deployment_started"


@dataclass(frozen=True)
class EcsDeploymentDeps:
    revisions: EcsRevisionsPort
    state: StatePort
    notifier: NotifierPort
    rollback: EcsAutoRollback | None = None  # None: no automatic rollback wired


def handle_ecs_event(event: object, deps: EcsDeploymentDeps, settings: Settings, now: datetime) -> DeploymentResult:
    try:
        parsed = parse_ecs_deployment_event(event)
    except UnparseableMessage as error:
        return _ignored(None, f"ignored, because {error.reason}")
    if parsed.service_arn != settings.service.arn:
        return _ignored(
            parsed.event_name,
            f"ignored, because the event is about {parsed.service_arn or 'no service'}, not {settings.service.name}",
        )
    phase, why = decide_ecs_watch(parsed.event_name)
    if phase is None:
        return _ignored(parsed.event_name, why)

    return handle_once(
        deps.state,
        parsed.delivery_key,
        now,
        lambda: _handle(parsed, phase, deps, settings, now),
        lambda _: duplicate(parsed.event_name, parsed.event_id),
    )


def _handle(
    event: EcsDeploymentEvent, phase: EcsPhase, deps: EcsDeploymentDeps, settings: Settings, now: datetime
) -> DeploymentResult:
    arn = settings.service.arn
    logger.info("ECS deployment event", extra={"event_name": event.event_name, "deployment": event.deployment_id})
    if phase is EcsPhase.IN_PROGRESS:
        deps.state.put_memo(
            arn,
            STARTED_MEMO,
            {"id": event.deployment_id or "", "at": event.time.isoformat(), "reason": event.reason or ""},
        )
        return DeploymentResult(
            status=event.event_name, outcome=Outcome.STARTED, reason=f"{event.event_name} remembered"
        )
    context = _Context.read(event, deps, settings, now)
    if phase is EcsPhase.COMPLETED:
        return _completed(context, deps, settings)
    return _failed(context, deps, settings)


@dataclass(frozen=True)
class _Context:
    event: EcsDeploymentEvent
    state: EcsServiceState | None
    deployment: EcsDeployment | None
    revision: TaskRevision | None  # the deployment's task definition
    previous: TaskRevision | None  # the revision before it: where `warden rollback` goes
    history: list[DeploymentRecord]
    started_reason: str  # the IN_PROGRESS event's reason (it says when ECS's circuit breaker rolls back)
    duration: str
    now: datetime

    @classmethod
    def read(cls, event: EcsDeploymentEvent, deps: EcsDeploymentDeps, settings: Settings, now: datetime) -> _Context:
        arn = settings.service.arn
        repository = settings.ecr_repository
        state: EcsServiceState | None = None
        revision = previous = None
        with contextlib.suppress(ServiceNotFound):  # deleted since: report what the event says
            state = deps.revisions.service_state(arn)
        deployment = state.deployment(event.deployment_id) if state else None
        task_definition = deployment.task_definition if deployment else None
        if task_definition is None and state is not None and event.event_name.endswith("COMPLETED"):
            # ECS drops finished deployments from the list soon: a completed one is what the service runs.
            task_definition = state.task_definition
        try:
            revision = deps.revisions.describe_revision(task_definition, repository) if task_definition else None
            if revision is not None:
                earlier = previous_revision(revision, deps.revisions.list_revisions(revision.family, SEARCH_DEPTH))
                previous = deps.revisions.describe_revision(earlier, repository) if earlier else None
        except WardenError as error:
            logger.warning("could not read the task definitions", extra={"error": str(error)})
        memo = deps.state.get_memo(arn, STARTED_MEMO) or {}
        if memo.get("id") != (event.deployment_id or ""):
            memo = {}  # another deployment's start: it is still running (or ECS is rolling it back)
        else:
            deps.state.delete_memo(arn, STARTED_MEMO)
        started = deployment.created_at if deployment and deployment.created_at else None
        if started is None and memo.get("at"):
            started = datetime.fromisoformat(memo["at"])
        took = event.time - started if started is not None and started <= event.time else None
        return cls(
            event=event,
            state=state,
            deployment=deployment,
            revision=revision,
            previous=previous,
            history=deps.state.list_deployments(arn, limit=20),
            started_reason=memo.get("reason", ""),
            duration=format_duration(took) if took is not None else "",
            now=now,
        )

    @property
    def label(self) -> str:
        if self.revision is not None:
            return self.revision.label
        if self.deployment is not None:
            return revision_name(self.deployment.task_definition)
        return f"deployment {self.event.deployment_id or '(no id)'}"

    @property
    def short(self) -> str:
        return self.revision.short if self.revision is not None else self.label

    @property
    def is_rollback(self) -> bool:
        """Deployed by Warden's rollback (the history says so) or by ECS's circuit-breaker rollback."""
        newest = self.history[0] if self.history else None
        by_warden = (
            newest is not None
            and self.revision is not None
            and newest.digest == self.revision.arn
            and newest.source == ROLLBACK_SOURCE
        )
        return by_warden or ecs_rolling_back_to(self.started_reason) is not None

    def took(self, word: str = "in") -> str:
        return f" {word} {self.duration}" if self.duration else ""


def _completed(context: _Context, deps: EcsDeploymentDeps, settings: Settings) -> DeploymentResult:
    name, arn = settings.service.name, settings.service.arn
    revision = context.revision
    recorded = ""
    if revision is not None and (not context.history or context.history[0].digest != revision.arn):
        # A deployment Warden did not make: the history learns it (what runs, and what a rollback moved away from).
        deps.state.record_deployment(arn, revision.arn, revision.version, context.event.time, OBSERVED_SOURCE)
        recorded = "Recorded it in the deployment history (it was not deployed through Warden)."
    kind = "rollback " if context.is_rollback else ""
    headline = f"{name}: the {kind}deployment of {context.label} succeeded{context.took()}."
    body = render(
        [
            ("What happened", [_happened(context), context.event.reason or ""]),
            ("What Warden did", [recorded or "Nothing to do: reported it."]),
            ("How to undo", _manual_rollback_lines(context)),
            ("Links", [f"Service: {settings.service.console_url}"]),
        ],
        headline=headline,
    )
    notification = Notification(
        subject=f"[warden] DEPLOYED {name} {context.label}{context.took()}",
        body=body,
        event="deployment.succeeded",
        severity=Severity.INFO,
    )
    return _send(deps, context, Outcome.DEPLOYED, headline, notification)


def _failed(context: _Context, deps: EcsDeploymentDeps, settings: Settings) -> DeploymentResult:
    name = settings.service.name
    reason = context.event.reason or f"ECS reported {context.event.event_name}"
    outcome, did, severity, tail, undo = _auto_rollback(context, deps, settings, reason)
    if context.is_rollback:
        severity = Severity.CRITICAL
    what = "rollback " if context.is_rollback else ""
    headline = f"{name}: the {what}deployment of {context.label} failed{context.took('after')}."
    body = render(
        [
            ("What happened", [_happened(context), f"Reason: {reason}", ecs_failure_explanation(context.event.reason)]),
            ("What Warden did", did),
            ("How to roll back by hand", [] if outcome is Outcome.ROLLED_BACK else _manual_rollback_lines(context)),
            ("How to undo the rollback", undo),
            ("Links", [f"Service: {settings.service.console_url}"]),
        ],
        headline=headline,
    )
    notification = failed_notification(name, context.short, tail, outcome, severity, body)
    return _send(deps, context, outcome, headline, notification)


def _auto_rollback(
    context: _Context, deps: EcsDeploymentDeps, settings: Settings, reason: str
) -> tuple[Outcome, list[str], Severity, str, list[str]]:
    """(outcome, what Warden did, severity, subject tail, how to undo what Warden did)."""
    if not settings.auto_rollback or deps.rollback is None:
        return (
            Outcome.FAILED,
            ["No rollback: automatic rollback is off (AUTO_ROLLBACK=false, stack parameter AutoRollback)."],
            Severity.WARNING,
            "run warden rollback",
            [],
        )
    rollback = deps.rollback
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
        plan = verdict.result.plan
        return (
            verdict.outcome,
            verdict.did,
            verdict.severity,
            f"rolled back to {plan.target.short}",
            undo_lines(plan, settings),
        )
    return verdict.outcome, verdict.did, verdict.severity, verdict.tail, []


def _happened(context: _Context) -> str:
    deployment = f" (deployment {context.event.deployment_id})" if context.event.deployment_id else ""
    return f"ECS reported {context.event.event_name}{deployment} at {context.event.time:%Y-%m-%d %H:%M:%S} UTC."


def _manual_rollback_lines(context: _Context) -> list[str]:
    target = context.previous
    if target is None:
        return ["warden rollback REVISION   (no earlier ACTIVE revision of the family: name one, e.g. family:12)"]
    return [
        f"warden rollback   (deploys {target.label}, the previous revision)",
        f"warden rollback {target.name}   (the same, naming the revision)",
        "warden rollback --plan   (shows what it would do; changes nothing)",
    ]


def _send(
    deps: EcsDeploymentDeps, context: _Context, outcome: Outcome, reason: str, notification: Notification
) -> DeploymentResult:
    deps.notifier.publish(notification)
    count("NotificationsSent")
    logger.info("deployment reported", extra={"outcome": outcome.value, "revision": context.label})
    return DeploymentResult(
        status=context.event.event_name, outcome=outcome, reason=reason, notification_event=notification.event
    )


def _ignored(status: str | None, reason: str) -> DeploymentResult:
    logger.info(reason, extra={"status": status})
    count("DeploymentEventsIgnored")
    return DeploymentResult(status=status, outcome=Outcome.IGNORED, reason=reason)
