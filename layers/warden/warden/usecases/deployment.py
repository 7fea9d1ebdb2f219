"""`on_deployment`: App Runner operation events for the guarded service, turned into deployment reports.

- `Deployment*` / `UpdateService*` `...Started`: remembered (a memo) so the report can say how long it took.
- `...CompletedSuccessfully`: "deployed v1.2.0 in 4 minutes". The version comes from the tag the service
  follows, resolved to a digest in ECR and looked up in the deployment history; a deployment Warden did not
  make (a push with auto-deploy, the console's Deploy button) is added to the history as observed.
- `DeploymentFailed`: the reason, what App Runner did (it rolls back to the version before by itself), and the
  exact `warden rollback` command: App Runner keeps serving the old version, but the tag still points at the
  failed image, so the next deploy or resume would try it again. With AUTO_ROLLBACK on, Warden rolls back once
  itself; a rollback that fails is a critical notification and is never tried again for that deployment.
- Pauses and resumes are ignored: Warden's pause claims report every pause already.
The same event delivered twice is handled once (its EventBridge id). An ECS SERVICE_ARN gets ECS's "ECS
Deployment State Change" events instead, handled by ecs_deployment.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warden.domain.alarms import format_duration
from warden.domain.deployments import (
    OPERATION_TYPES,
    OperationInfo,
    OperationKind,
    OperationStatus,
    Phase,
    Watch,
    decide_watch,
    failure_explanation,
    operation_duration,
    read_operation_status,
)
from warden.domain.images import short_digest
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import (
    OBSERVED_SOURCE,
    ROLLBACK_SOURCE,
    RollbackTrigger,
    choose_rollback_target,
    tag_of,
    version_label,
)
from warden.domain.records import DeploymentRecord
from warden.domain.service import ServiceSnapshot
from warden.errors import ServiceNotFound, UnparseableMessage, WardenError
from warden.models.deployment import OperationEvent, parse_operation_event
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.deployment_outcome import (
    DeploymentResult,
    Outcome,
    duplicate,
    failed_notification,
    rollback_verdict,
)
from warden.usecases.ecs_deployment import EcsDeploymentDeps, handle_ecs_event
from warden.usecases.once import handle_once
from warden.usecases.pipeline import label
from warden.usecases.ports import ImagePort, NotifierPort, OperationsPort, ServicePort, StatePort
from warden.usecases.rollback import AutoRollback

STARTED_MEMO = "deployment_started"


@dataclass(frozen=True)
class DeploymentDeps:
    service: ServicePort
    operations: OperationsPort
    state: StatePort
    notifier: NotifierPort
    images: ImagePort | None = None  # resolves the tag the service follows (None without ECR_REPOSITORY)
    rollback: AutoRollback | None = None  # None without ECR_REPOSITORY: nothing to roll back with


def handle_event(
    event: object, deps: DeploymentDeps | EcsDeploymentDeps, settings: Settings, now: datetime
) -> DeploymentResult:
    """One EventBridge event; wiring hands ECS deps for an ECS SERVICE_ARN, whose events ecs_deployment reads."""
    if isinstance(deps, EcsDeploymentDeps):
        return handle_ecs_event(event, deps, settings, now)
    try:
        parsed = parse_operation_event(event)
    except UnparseableMessage as error:
        return _ignored(None, f"ignored, because {error.reason}")
    if parsed.service_arn != settings.service.arn:
        return _ignored(
            parsed.operation_status,
            f"ignored, because the event is about {parsed.service_arn or 'no service'}, not {settings.service.name}",
        )
    status = read_operation_status(parsed.operation_status)
    watch = decide_watch(status)
    if watch.watch is Watch.IGNORE:
        return _ignored(parsed.operation_status, watch.reason)

    return handle_once(
        deps.state,
        parsed.delivery_key,
        now,
        lambda: _handle(parsed, status, deps, settings, now),
        lambda _: duplicate(parsed.operation_status, parsed.event_id),
    )


def _handle(
    event: OperationEvent, status: OperationStatus, deps: DeploymentDeps, settings: Settings, now: datetime
) -> DeploymentResult:
    arn = settings.service.arn
    logger.info("operation event", extra={"status": status.raw, "event_id": event.event_id})
    if status.phase is Phase.STARTED:
        deps.state.put_memo(arn, STARTED_MEMO, {"kind": status.kind.value, "at": event.time.isoformat()})
        return DeploymentResult(status=status.raw, outcome=Outcome.STARTED, reason=f"{status.raw} remembered")
    context = _Context.read(event, status, deps, settings, now)
    if status.phase is Phase.SUCCEEDED:
        return _succeeded(context, deps, settings)
    return _failed(context, deps, settings)


@dataclass(frozen=True)
class _Context:
    event: OperationEvent
    status: OperationStatus
    snapshot: ServiceSnapshot | None
    digest: str | None
    history: list[DeploymentRecord]
    operation: OperationInfo | None
    duration: str
    now: datetime  # when Warden handles the event: action records are dated by it, not by the event

    @classmethod
    def read(
        cls, event: OperationEvent, status: OperationStatus, deps: DeploymentDeps, settings: Settings, now: datetime
    ) -> _Context:
        arn = settings.service.arn
        try:
            snapshot: ServiceSnapshot | None = deps.service.describe(arn)
            operation = deps.operations.last_operation(arn, OPERATION_TYPES[status.kind])
        except ServiceNotFound:
            snapshot, operation = None, None
        digest = None
        if deps.images is not None and snapshot is not None and snapshot.image_identifier:
            try:
                digest = deps.images.resolve(snapshot.image_identifier)
            except WardenError as error:
                logger.warning("could not resolve the service's image", extra={"error": str(error)})
        memo = deps.state.get_memo(arn, STARTED_MEMO) or {}
        remembered = datetime.fromisoformat(memo["at"]) if memo.get("kind") == status.kind.value else None
        if memo:
            deps.state.delete_memo(arn, STARTED_MEMO)
        took = operation_duration(operation, remembered, event.time)
        return cls(
            event=event,
            status=status,
            snapshot=snapshot,
            digest=digest,
            history=deps.state.list_deployments(arn, limit=20),
            operation=operation,
            duration=format_duration(took) if took is not None else "",
            now=now,
        )

    @property
    def version(self) -> str:
        if self.digest is None:
            image = self.snapshot.image_identifier if self.snapshot else None
            return image.rsplit("/", 1)[-1] if image else "an unknown version"
        return version_label(self.digest, self.history)

    @property
    def short(self) -> str:
        """The version for a subject line: its tag when the history knows it, else the short digest."""
        if self.digest is None:
            return self.version
        return tag_of(self.digest, self.history) or short_digest(self.digest)

    @property
    def is_rollback(self) -> bool:
        newest = self.history[0] if self.history else None
        return newest is not None and newest.digest == self.digest and newest.source == ROLLBACK_SOURCE

    def took(self, word: str = "in") -> str:
        return f" {word} {self.duration}" if self.duration else ""


def _succeeded(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    name, arn = settings.service.name, settings.service.arn
    update = context.status.kind is OperationKind.UPDATE
    recorded = ""
    if not update and context.digest and (not context.history or context.history[0].digest != context.digest):
        # A deployment Warden did not make: the history (rollback targets, the purge's keep list) learns it.
        deps.state.record_deployment(arn, context.digest, None, context.event.time, OBSERVED_SOURCE)
        recorded = "Recorded it in the deployment history (it was not released through Warden)."
    kind = "rollback " if context.is_rollback else ""
    if update:
        subject = f"[warden] UPDATED {name}{context.took()}"
        headline = f"{name}: the configuration update finished{context.took()}; it runs {context.version}."
        outcome, event = Outcome.UPDATED, "deployment.updated"
    else:
        subject = f"[warden] DEPLOYED {name} {context.short}{context.took()}"
        headline = f"{name}: the {kind}deployment of {context.version} succeeded{context.took()}."
        outcome, event = Outcome.DEPLOYED, "deployment.succeeded"
    body = render(
        [
            ("What happened", [_happened(context), _operation_line(context)]),
            ("What Warden did", [recorded or "Nothing to do: reported it."]),
            ("How to undo", [] if update else _manual_rollback_lines(context, settings)),
            ("Links", [f"Service: {settings.service.console_url}"]),
        ],
        headline=headline,
    )
    notification = Notification(subject=subject, body=body, event=event, severity=Severity.INFO)
    return _send(deps, context, outcome, headline, notification)


def _failed(context: _Context, deps: DeploymentDeps, settings: Settings) -> DeploymentResult:
    name = settings.service.name
    reason = context.event.message or f"App Runner reported {context.status.raw}"
    explanation = failure_explanation(context.operation)
    if context.status.kind is OperationKind.UPDATE:
        headline = f"{name}: a configuration update failed{context.took('after')}."
        body = render(
            [
                ("What happened", [_happened(context), f"Reason: {reason}", explanation]),
                (
                    "What Warden did",
                    [
                        "Nothing: an UpdateService failure is a configuration change, which rolling back the image "
                        "would not undo. Check the change (aws apprunner list-operations) and the service's logs."
                    ],
                ),
                ("Links", [f"Service: {settings.service.console_url}"]),
            ],
            headline=headline,
        )
        notification = Notification(
            subject=f"[warden] UPDATE FAILED {name}",
            body=body,
            event="deployment.update_failed",
            severity=Severity.WARNING,
        )
        return _send(deps, context, Outcome.FAILED, headline, notification)
    outcome, did, severity, tail = _auto_rollback(context, deps, settings, reason)
    if context.is_rollback:
        severity = Severity.CRITICAL
    if context.operation is not None and context.operation.status == "ROLLBACK_FAILED":
        severity = Severity.CRITICAL
    what_rolled = "rollback " if context.is_rollback else ""
    headline = f"{name}: the {what_rolled}deployment of {context.version} failed{context.took('after')}."
    by_hand = [] if outcome is Outcome.ROLLED_BACK else _manual_rollback_lines(context, settings)
    body = render(
        [
            ("What happened", [_happened(context), f"Reason: {reason}", explanation]),
            ("What Warden did", did),
            ("How to roll back by hand", by_hand),
            ("Links", [f"Service: {settings.service.console_url}"]),
        ],
        headline=headline,
    )
    notification = failed_notification(name, context.short, tail, outcome, severity, body)
    return _send(deps, context, outcome, headline, notification)


def _auto_rollback(
    context: _Context, deps: DeploymentDeps, settings: Settings, reason: str
) -> tuple[Outcome, list[str], Severity, str]:
    """(outcome, what Warden did, severity, subject tail)."""
    rollback = deps.rollback
    if not settings.auto_rollback or rollback is None:
        why = (
            "automatic rollback is off (AUTO_ROLLBACK=false, stack parameter AutoRollback)"
            if rollback is not None
            else "ECR_REPOSITORY is not set, so Warden cannot re-tag images"
        )
        return Outcome.FAILED, [f"No rollback: {why}."], Severity.WARNING, "run warden rollback"
    verdict = rollback_verdict(
        lambda: rollback.attempt(
            RollbackTrigger.FAILED_DEPLOYMENT,
            reason=f"the deployment failed: {reason}",
            source_event=context.event.delivery_key,
        ),
        deps.state,
        settings.service.arn,
        now=context.now,
        source_event=context.event.delivery_key,
    )
    target = verdict.result.plan.target if verdict.result is not None else None
    if verdict.outcome is Outcome.ROLLED_BACK and target is not None:
        return (
            verdict.outcome,
            verdict.did,
            verdict.severity,
            f"rolled back to {target.tag or short_digest(target.digest)}",
        )
    return verdict.outcome, verdict.did, verdict.severity, verdict.tail


def _happened(context: _Context) -> str:
    return f"App Runner reported {context.status.raw} at {context.event.time:%Y-%m-%d %H:%M:%S} UTC."


def _operation_line(context: _Context) -> str:
    operation = context.operation
    if operation is None:
        return ""
    took = f", took {context.duration}" if context.duration else ""
    return f"Operation {operation.id} ({operation.type}) ended {operation.status}{took}."


def _manual_rollback_lines(context: _Context, settings: Settings) -> list[str]:
    target = choose_rollback_target(context.history, context.digest)
    if target is None:
        return ["warden rollback VERSION   (no earlier deployment is on record: name the version to go back to)"]
    return [
        f"warden rollback   (moves the tag back to {label(target.digest, target.tag)} and deploys it)",
        f"warden rollback {target.tag or target.digest}   (the same, naming the version)",
        "warden rollback --plan   (shows what it would do; changes nothing)",
    ]


def _send(
    deps: DeploymentDeps, context: _Context, outcome: Outcome, reason: str, notification: Notification
) -> DeploymentResult:
    deps.notifier.publish(notification)
    count("NotificationsSent")
    logger.info("deployment reported", extra={"outcome": outcome.value, "digest": short_digest(context.digest or "")})
    return DeploymentResult(
        status=context.status.raw, outcome=outcome, reason=reason, notification_event=notification.event
    )


def _ignored(status: str | None, reason: str) -> DeploymentResult:
    logger.info(reason, extra={"status": status})
    count("DeploymentEventsIgnored")
    return DeploymentResult(status=status, outcome=Outcome.IGNORED, reason=reason)
