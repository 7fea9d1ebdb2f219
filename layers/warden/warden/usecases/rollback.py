"""`warden rollback [VERSION]` and the automatic rollback: move the tag the service follows back to an earlier
image, then deploy it (DESIGN §7).

The re-tag is ECR's `batch_get_image` (all four manifest media types, so an OCI index stays an index) and
`put_image` with the exact manifest and its media type; "already exists" means the tag already pointed there.
Then the deployment: started now when auto-deploy is off, left to App Runner when it is on, and remembered for
after the resume when the service is paused (App Runner cannot deploy a paused service, and its resume brings
back the version from before the pause).

This module is the App Runner target; ecs_rollback.py is the ECS one (an earlier task-definition revision). Both
offer `prepare(settings, version)` -> PreparedRollback, the CLI's seam, and wiring picks one by SERVICE_ARN.

`AutoRollback` is the RollbackPort of on_alarm and on_deployment: it decides (automatic rollback on, the
deployment is not itself a rollback, an alarm within the window after the deployment), claims the attempt with
a conditional write keyed by the deployment, and rolls back at most once per deployment, even when the
rollback fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from warden.domain.images import short_digest
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import (
    ACCEPTED_MEDIA_TYPES_TEXT,
    RELEASE_SOURCE,
    ROLLBACK_SOURCE,
    DeployAction,
    DeployDecision,
    NoRollbackTarget,
    PipelineError,
    RollbackTarget,
    RollbackTrigger,
    Tracked,
    choose_rollback_target,
    decide_auto_rollback,
    decide_deployment,
    tag_of,
    version_label,
)
from warden.domain.records import DeploymentRecord, EventStatus
from warden.errors import EventInProgress, RollbackDeclined, RollbackFailed
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.deployment_outcome import RollbackOutcome
from warden.usecases.pipeline import Delivery, deliver, describe_move, follow, label, require_repository
from warden.usecases.ports import NotifierPort, PipelineRegistryPort, ServicePort, StatePort

HISTORY_DEPTH = 50
_SOURCES = {RELEASE_SOURCE: "by warden release", ROLLBACK_SOURCE: "by a rollback"}


class RollbackReport(BaseModel):
    """What `warden rollback` prints after the rollback, whatever the target."""

    model_config = ConfigDict(frozen=True)

    summary: str
    notification_event: str | None = None
    next_step: str | None = None  # e.g. the service is paused: when the rollback takes effect


class PreparedRollback(Protocol):
    """The seam between the CLI and the target: a planned rollback (App Runner re-tags and deploys, ECS deploys
    an earlier task-definition revision), printed by `--plan` and run on request. Wiring picks the target."""

    def lines(self) -> list[str]: ...

    def run(self, *, now: datetime, actor: str, reason: str) -> RollbackReport: ...


@dataclass(frozen=True)
class RollbackDeps:
    service: ServicePort
    registry: PipelineRegistryPort
    state: StatePort
    notifier: NotifierPort

    def prepare(self, settings: Settings, version: str | None) -> PreparedRollback:
        return _PreparedAppRunnerRollback(self, settings, plan_rollback(self, settings, version))


class RollbackPlan(BaseModel):
    """What a rollback would do; `warden rollback --plan` prints it and changes nothing."""

    model_config = ConfigDict(frozen=True)

    repository: str
    service_name: str
    service_status: str
    tracked: Tracked
    current_digest: str | None
    current_tag: str | None  # the version the history recorded for the current digest
    current_label: str
    target: RollbackTarget
    chosen_because: str
    deploy: DeployDecision

    @property
    def target_label(self) -> str:
        return label(self.target.digest, self.target.tag)

    def lines(self) -> list[str]:
        tags = " and ".join(self.tracked.tags_to_move)
        return [
            f"Now:     {tags} -> {self.current_label} (the service follows {self.tracked.identifier})",
            f"Target:  {self.target_label}: {self.chosen_because}",
            f"ECR:     batch-get-image {short_digest(self.target.digest)} (accepting {ACCEPTED_MEDIA_TYPES_TEXT}), "
            f"then put-image as {tags} with that exact manifest and media type",
            f"Deploy:  {self.deploy.reason} (service {self.service_name} is {self.service_status})",
        ]


class RollbackResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: RollbackOutcome
    plan: RollbackPlan
    moved: tuple[str, ...] = ()
    delivery: Delivery | None = None
    summary: str
    notification_event: str | None = None


class _PreparedAppRunnerRollback:
    def __init__(self, deps: RollbackDeps, settings: Settings, plan: RollbackPlan) -> None:
        self.deps, self.settings, self.plan = deps, settings, plan

    def lines(self) -> list[str]:
        return self.plan.lines()

    def run(self, *, now: datetime, actor: str, reason: str) -> RollbackReport:
        result = roll_back(self.deps, self.settings, self.plan, now=now, actor=actor, reason=reason)
        delivery = result.delivery
        waits = delivery is not None and delivery.decision.action is DeployAction.AFTER_RESUME
        return RollbackReport(
            summary=result.summary,
            notification_event=result.notification_event,
            next_step=f"{self.plan.service_name} is PAUSED: the rollback deploys when it resumes "
            "(warden resume, or when its pause claims clear)."
            if result.outcome is RollbackOutcome.ROLLED_BACK and waits
            else None,
        )


def plan_rollback(deps: RollbackDeps, settings: Settings, version: str | None = None) -> RollbackPlan:
    """Reads App Runner, ECR and the deployment history and decides where to go. Changes nothing."""
    repository = require_repository(settings, "rollback")
    snapshot = deps.service.describe(settings.service.arn)
    tracked = follow(snapshot, settings, repository)
    current = deps.registry.resolve_tag(repository, tracked.tag)
    history = deps.state.list_deployments(settings.service.arn, limit=HISTORY_DEPTH)
    if version:
        target, because = _named_target(deps, repository, version.strip(), history)
    else:
        found = choose_rollback_target(history, current)
        if found is None:
            raise NoRollbackTarget(
                f"Warden's deployment history has no version before the one {tracked.tag} points at "
                f"({version_label(current, history)}): name one, e.g. `warden rollback v1.1.0` "
                f"(aws ecr list-images --repository-name {repository} lists the tags)"
            )
        target = found
        when = f"deployed {found.deployed_at:%Y-%m-%d %H:%M} UTC" if found.deployed_at else "deployed before"
        because = f"the previous deployed version ({when}, {_SOURCES.get(found.source or '', found.source)})"
    return RollbackPlan(
        repository=repository,
        service_name=snapshot.name,
        service_status=snapshot.status.value,
        tracked=tracked,
        current_digest=current,
        current_tag=tag_of(current, history),
        current_label=version_label(current, history),
        target=target,
        chosen_because=because,
        deploy=decide_deployment(snapshot.status, snapshot.auto_deploy),
    )


def _named_target(
    deps: RollbackDeps, repository: str, version: str, history: list[DeploymentRecord]
) -> tuple[RollbackTarget, str]:
    if version.startswith("sha256:"):
        known = next((record for record in history if record.digest == version), None)
        return RollbackTarget(digest=version, tag=known.tag if known else None), "named on the command line"
    digest = deps.registry.resolve_tag(repository, version)
    if digest is None:
        raise NoRollbackTarget(
            f"no image tagged {version!r} in {repository} (aws ecr list-images --repository-name {repository} "
            "lists the tags)"
        )
    return RollbackTarget(digest=digest, tag=version), "named on the command line"


def roll_back(
    deps: RollbackDeps,
    settings: Settings,
    plan: RollbackPlan,
    *,
    now: datetime,
    actor: str,
    reason: str,
    notify: bool = True,
    source_event: str | None = None,
) -> RollbackResult:
    """Re-tags and deploys as planned (or, with DRY_RUN, says what it would do), records it, notifies."""
    arn = settings.service.arn
    if settings.dry_run:
        summary = (
            f"[dry run] Would have moved {' and '.join(plan.tracked.tags_to_move)} from {plan.current_label} to "
            f"{plan.target_label} and deployed it ({plan.deploy.reason}); nothing was changed."
        )
        record_action(
            deps.state,
            arn,
            now=now,
            action="rollback",
            outcome="would",
            reason=f"{reason}: {summary}",
            actor=actor,
            dry_run=True,
            source_event=source_event,
        )
        result = RollbackResult(outcome=RollbackOutcome.WOULD_ROLL_BACK, plan=plan, summary=summary)
        return _notify(deps, settings, result, reason=reason, actor=actor) if notify else result
    manifest = deps.registry.get_manifest(plan.repository, plan.target.digest)
    if manifest is None:
        raise PipelineError(
            f"the image {plan.target_label} is no longer in {plan.repository} (deleted?): choose another version, "
            "e.g. `warden rollback v1.1.0`"
        )
    moved = tuple(
        tag for tag in plan.tracked.tags_to_move if deps.registry.put_manifest(plan.repository, tag, manifest)
    )
    snapshot = deps.service.describe(arn)  # again: the ECR step took time, and the service may have changed
    delivery = deliver(
        deps.service,
        deps.state,
        snapshot,
        plan.tracked,
        from_digest=plan.current_digest,
        to_digest=plan.target.digest,
        now=now,
    )
    deps.state.record_deployment(arn, plan.target.digest, plan.target.tag, now, ROLLBACK_SOURCE)
    move = describe_move(plan.tracked.tags_to_move, moved, plan.current_label, plan.target_label)
    summary = f"Rolled {plan.service_name} back to {plan.target_label}. {move} {delivery.line}"
    record_action(
        deps.state,
        arn,
        now=now,
        action="rollback",
        outcome="done",
        reason=f"{reason}: {summary}",
        actor=actor,
        source_event=source_event,
    )
    count("ActionsTaken")
    logger.info(
        "rolled back",
        extra={"target": plan.target.digest, "moved": list(moved), "deploy": delivery.decision.action.value},
    )
    result = RollbackResult(
        outcome=RollbackOutcome.ROLLED_BACK, plan=plan, moved=moved, delivery=delivery, summary=summary
    )
    return _notify(deps, settings, result, reason=reason, actor=actor) if notify else result


def undo_lines(plan: RollbackPlan, settings: Settings) -> list[str]:
    """Going forward again is another rollback, to the version the tag pointed at before."""
    tag = plan.tracked.tag
    service = settings.service
    lines = []
    if plan.current_digest:
        lines.append(f"warden rollback {plan.current_tag or plan.current_digest}   (back to {plan.current_label})")
        image = f"--repository-name {plan.repository} --image-ids imageDigest={plan.current_digest}"
        accepted = ACCEPTED_MEDIA_TYPES_TEXT.replace(", ", " ")
        lines += [
            "With the AWS CLI (the same re-tag by hand):",
            f"  aws ecr batch-get-image {image} --accepted-media-types {accepted} "
            "--query 'images[0].imageManifest' --output text > manifest.json",
            f"  MEDIA=$(aws ecr batch-get-image {image} --accepted-media-types {accepted} "
            "--query 'images[0].imageManifestMediaType' --output text)",
            f"  aws ecr put-image --repository-name {plan.repository} --image-tag {tag} "
            '--image-manifest file://manifest.json --image-manifest-media-type "$MEDIA"',
            f"  aws apprunner start-deployment --service-arn {service.arn} --region {service.region}",
        ]
    return lines


def _notify(
    deps: RollbackDeps, settings: Settings, result: RollbackResult, *, reason: str, actor: str
) -> RollbackResult:
    plan = result.plan
    name = plan.service_name
    dry = result.outcome is RollbackOutcome.WOULD_ROLL_BACK
    delivery = result.delivery
    next_steps: list[str] = []
    if delivery is not None and delivery.decision.pending:
        next_steps.append(
            "The service runs the old version until it is deployed: resume it (warden resume) and the reconcile "
            "deploys within 15 minutes."
        )
    elif delivery is not None and delivery.decision.action in {DeployAction.START, DeployAction.AUTOMATIC}:
        next_steps.append("on_deployment reports how the deployment went.")
    notification = rollback_notification(
        settings,
        name=name,
        target=plan.target_label,
        short=plan.target.tag or short_digest(plan.target.digest),
        dry=dry,
        happened=[
            f"Requested by {actor}: {reason}.",
            f"Before: {' and '.join(plan.tracked.tags_to_move)} pointed at {plan.current_label}; "
            f"the target is {plan.chosen_because}.",
        ],
        did=result.summary,
        next_steps=next_steps,
        undo=[] if dry else undo_lines(plan, settings),
    )
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return result.model_copy(update={"notification_event": notification.event})


def rollback_notification(
    settings: Settings,
    *,
    name: str,
    target: str,
    short: str,
    dry: bool,
    happened: list[str],
    did: str,
    next_steps: list[str],
    undo: list[str],
) -> Notification:
    """The rollback's message, App Runner or ECS: `target` names where it went in the body, `short` in the subject."""
    body = render(
        [
            ("What happened", happened),
            ("What Warden did", [did]),
            ("What happens next", next_steps),
            ("How to undo", undo),
            ("Links", [f"Service: {settings.service.console_url}"]),
        ],
        headline=f"[dry run] Warden would have rolled {name} back to {target}."
        if dry
        else f"Warden rolled {name} back to {target}.",
    )
    return Notification(
        subject=f"[warden] DRY RUN would roll back {name} to {short}"
        if dry
        else f"[warden] ROLLED BACK {name} to {short}",
        body=body,
        event="rollback.dry_run" if dry else "rollback.done",
        severity=Severity.WARNING,
    )


# --- the automatic rollback (the RollbackPort) -------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


class AutoRollback:
    """Rolls back on its own at most once per deployment, never a rollback, and an alarm only soon after a deploy."""

    def __init__(
        self,
        deps: RollbackDeps,
        settings: Settings,
        *,
        actor: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._deps = deps
        self._settings = settings
        self._actor = actor
        self._clock = clock

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        """The RollbackPort for a health alarm's `rollback` action. Raises RollbackDeclined or RollbackFailed
        (on_alarm records and reports either)."""
        return self.attempt(RollbackTrigger.ALARM, reason=reason).summary

    def attempt(self, trigger: RollbackTrigger, *, reason: str, source_event: str | None = None) -> RollbackResult:
        deps, settings = self._deps, self._settings
        now = self._clock()
        arn = settings.service.arn
        try:
            repository = require_repository(settings, "the automatic rollback")
            snapshot = deps.service.describe(arn)
            tracked = follow(snapshot, settings, repository)
            current = deps.registry.resolve_tag(repository, tracked.tag)
        except PipelineError as error:
            raise RollbackFailed(f"Warden could not roll back: {error}") from error
        history = deps.state.list_deployments(arn, limit=HISTORY_DEPTH)
        decision = decide_auto_rollback(
            trigger,
            enabled=settings.auto_rollback,
            history=history,
            current_digest=current,
            now=now,
            window=timedelta(minutes=settings.rollback_window_minutes),
        )
        logger.info("automatic rollback decision", extra={"allowed": decision.allowed, "reason": decision.reason})
        if not decision.allowed or decision.attempt_key is None:
            raise RollbackDeclined(decision.reason)
        if settings.dry_run:
            try:
                plan = plan_rollback(deps, settings)
            except PipelineError as error:
                raise RollbackFailed(f"[dry run] Warden could not roll back: {error}") from error
            return roll_back(deps, settings, plan, now=now, actor=self._actor, reason=decision.reason, notify=False)
        return once_per_deployment(
            deps.state,
            decision.attempt_key,
            now,
            lambda: roll_back(
                deps,
                settings,
                plan_rollback(deps, settings),
                now=now,
                actor=self._actor,
                reason=f"{reason} ({decision.reason})",
                notify=False,
                source_event=source_event,
            ),
        )


class _Summarised(Protocol):
    @property
    def summary(self) -> str: ...


Attempted = TypeVar("Attempted", bound=_Summarised)


def once_per_deployment(state: StatePort, key: str, now: datetime, attempt: Callable[[], Attempted]) -> Attempted:
    """Runs the automatic rollback keyed by `key` (its deployment) at most once, ever: a second call, a Lambda
    retry or a later alarm is declined, and so is every call while one runs. A failed attempt counts as the one."""
    try:
        start = state.begin_event(key, now)
    except EventInProgress:
        raise RollbackDeclined("another rollback of this deployment is running right now") from None
    if start.status is EventStatus.DUPLICATE:
        when = f"{start.handled_at:%Y-%m-%d %H:%M} UTC" if start.handled_at else "earlier"
        raise RollbackDeclined(
            f"Warden already tried to roll back this deployment ({when}; {start.summary or 'no summary'}): "
            "it rolls back at most once per deployment"
        )
    try:
        result = attempt()
    except Exception as error:
        # Recorded as tried, so neither a Lambda retry nor the next alarm tries again: one attempt per deployment.
        # (The caller writes the action log entry, with its own context.)
        state.complete_event(key, now, f"failed: {error}")
        count("RollbackFailures")
        raise RollbackFailed(f"the rollback failed: {error}") from error
    state.complete_event(key, now, f"done: {result.summary}")
    return result
