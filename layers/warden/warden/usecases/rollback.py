"""`warden rollback [VERSION]` and the automatic rollback, whatever the target (DESIGN §7).

Going back is one of two moves, planned first (`--plan` prints it and changes nothing):
- the target's own (Target.plan_rollback): on ECS, deploy an earlier task-definition revision of the family;
- moving the tag the service follows back to an earlier image and deploying it: App Runner's way, and ECS's for
  a task definition that follows a moving tag such as `latest`. Any service that follows a tag goes back this
  way, so it is done here, over ECR: `batch_get_image` (all four manifest media types, so an OCI index stays an
  index) and `put_image` with the exact manifest and its media type ("already exists": the tag already pointed
  there); then the deployment, started now, left to the platform (auto-deploy), or remembered for after the
  resume (a paused App Runner service cannot deploy, and its resume brings back the version from before).
Either way DRY_RUN says what would happen and changes nothing; a rollback is recorded in the action log and the
deployment history (source `rollback`) and announced with how to undo it (the `RolledBack` facts, worded by
messages/pipeline.py, as are the re-tag move's own words).

`AutoRollback` is the RollbackPort of on_alarm and on_deployment: the target judges the deployment to blame, the
domain decides (automatic rollback on, the deployment is not itself a rollback, not against the platform's own
rollback, an alarm within the window after the deployment), and a conditional write keyed by the deployment
claims the attempt: at most once per deployment, even when the rollback fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from warden.domain.images import short_digest
from warden.domain.pipeline import (
    ROLLBACK_SOURCE,
    NoRollbackTarget,
    PipelineError,
    Redeployed,
    RetagPlan,
    RollbackTarget,
    RollbackTrigger,
    RolledBack,
    choose_rollback_target,
    decide_auto_rollback,
    decide_deployment,
    tag_of,
    version_label,
)
from warden.domain.records import DeploymentRecord, EventStatus
from warden.errors import EventInProgress, RollbackDeclined, RollbackFailed
from warden.messages.pipeline import (
    retag_before,
    retag_chosen_because,
    retag_intent,
    retag_next_steps,
    retag_plan_lines,
    retag_summary,
    retag_undo_lines,
    retag_waits,
    rollback_done,
    rollback_next_step,
    rollback_would,
)
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.deployment_outcome import RollbackOutcome
from warden.usecases.pipeline import deliver, follow, require_repository
from warden.usecases.ports import NotifierPort, PipelineRegistryPort, StatePort
from warden.usecases.target import RollbackMove, Target

HISTORY_DEPTH = 50


class RollbackReport(BaseModel):
    """What `warden rollback` prints after the rollback, whatever the target."""

    model_config = ConfigDict(frozen=True)

    summary: str
    notification_event: str | None = None
    next_step: str | None = None  # e.g. the service is paused: when the rollback takes effect


class PreparedRollback(Protocol):
    """The seam between the CLI and the use case: a planned rollback, printed by `--plan` and run on request."""

    def lines(self) -> list[str]: ...

    def run(self, *, now: datetime, actor: str, reason: str) -> RollbackReport: ...


@dataclass(frozen=True)
class RollbackDeps:
    target: Target
    state: StatePort
    notifier: NotifierPort
    registry: PipelineRegistryPort | None = None  # the app's repository (ECR_REPOSITORY): moving the tag back

    def prepare(self, settings: Settings, version: str | None) -> PreparedRollback:
        return _Prepared(self, settings, plan_rollback(self, settings, version))


@dataclass(frozen=True)
class RollbackResult:
    """What a rollback came to: done or only said (DRY_RUN), the move it made, and what it did to the service."""

    outcome: RollbackOutcome
    move: RollbackMove
    redeployed: Redeployed | None = None
    notification_event: str | None = None

    @property
    def summary(self) -> str:
        """What it did (the move's words), or what it would have done."""
        return self.redeployed.summary if self.redeployed is not None else rollback_would(self.move.intent)


class _Prepared:
    def __init__(self, deps: RollbackDeps, settings: Settings, move: RollbackMove) -> None:
        self.deps, self.settings, self.move = deps, settings, move

    def lines(self) -> list[str]:
        return self.move.lines()

    def run(self, *, now: datetime, actor: str, reason: str) -> RollbackReport:
        result = roll_back(self.deps, self.settings, self.move, now=now, actor=actor, reason=reason)
        waits = result.redeployed.waits if result.redeployed is not None else None
        return RollbackReport(
            summary=result.summary,
            notification_event=result.notification_event,
            next_step=rollback_next_step(self.move.service_name, waits) if waits else None,
        )


def plan_rollback(
    deps: RollbackDeps, settings: Settings, version: str | None = None, *, from_deployment: str | None = None
) -> RollbackMove:
    """Where a rollback goes and how: the target's own way, else moving the tag back. Changes nothing."""
    move = deps.target.plan_rollback(version, from_deployment=from_deployment)
    return move if move is not None else plan_retag(deps, settings, version)


def roll_back(
    deps: RollbackDeps,
    settings: Settings,
    move: RollbackMove,
    *,
    now: datetime,
    actor: str,
    reason: str,
    notify: bool = True,
    source_event: str | None = None,
) -> RollbackResult:
    """Carries the move out (or, with DRY_RUN, says what it would do), records it, notifies."""
    arn = settings.service.arn
    if settings.dry_run:
        result = RollbackResult(outcome=RollbackOutcome.WOULD_ROLL_BACK, move=move)
        record_action(
            deps.state,
            arn,
            now=now,
            action="rollback",
            outcome="would",
            reason=f"{reason}: {result.summary}",
            actor=actor,
            dry_run=True,
            source_event=source_event,
        )
        return _notify(deps, result, reason=reason, actor=actor) if notify else result
    redeployed = move.carry_out(now)
    deps.state.record_deployment(arn, redeployed.deployed, redeployed.version, now, ROLLBACK_SOURCE)
    record_action(
        deps.state,
        arn,
        now=now,
        action="rollback",
        outcome="done",
        reason=f"{reason}: {redeployed.summary}",
        actor=actor,
        source_event=source_event,
    )
    count("ActionsTaken")
    logger.info("rolled back", extra=redeployed.detail)
    result = RollbackResult(outcome=RollbackOutcome.ROLLED_BACK, move=move, redeployed=redeployed)
    return _notify(deps, result, reason=reason, actor=actor) if notify else result


def _rolled_back(result: RollbackResult, console_url: str, *, reason: str, actor: str) -> RolledBack:
    """The facts of the rollback's notification."""
    move, redeployed = result.move, result.redeployed
    dry = result.outcome is RollbackOutcome.WOULD_ROLL_BACK
    return RolledBack(
        service_name=move.service_name,
        target_label=move.target_label,
        subject_target=move.subject_target,
        before=move.before,
        chosen_because=move.chosen_because,
        summary=result.summary,
        dry_run=dry,
        actor=actor,
        reason=reason,
        console_url=console_url,
        next_steps=redeployed.next_steps if redeployed is not None else (),
        undo=() if dry else tuple(move.undo_lines()),
    )


def _notify(deps: RollbackDeps, result: RollbackResult, *, reason: str, actor: str) -> RollbackResult:
    notification = rollback_done(_rolled_back(result, deps.target.facts.console_url, reason=reason, actor=actor))
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return replace(result, notification_event=notification.event)


# --- moving the tag back ------------------------------------------------------------------------------------


class RetagRollback:
    """A rollback that moves the tag the service follows back to an earlier image, then deploys it."""

    def __init__(self, deps: RollbackDeps, settings: Settings, plan: RetagPlan) -> None:
        self._deps, self._settings, self.plan = deps, settings, plan

    @property
    def service_name(self) -> str:
        return self.plan.service_name

    @property
    def target_label(self) -> str:
        return self.plan.target_label

    @property
    def target_short(self) -> str:
        return self.plan.target.tag or short_digest(self.plan.target.digest)

    @property
    def subject_target(self) -> str:
        return self.target_short

    @property
    def chosen_because(self) -> str:
        return retag_chosen_because(self.plan)

    @property
    def before(self) -> str:
        return retag_before(self.plan)

    @property
    def intent(self) -> str:
        return retag_intent(self.plan)

    def lines(self) -> list[str]:
        return retag_plan_lines(self.plan)

    def carry_out(self, now: datetime) -> Redeployed:
        deps, plan = self._deps, self.plan
        registry = _registry(deps)
        manifest = registry.get_manifest(plan.repository, plan.target.digest)
        if manifest is None:
            raise PipelineError(
                f"the image {plan.target_label} is no longer in {plan.repository} (deleted?): choose another "
                "version, e.g. `warden rollback v1.1.0`"
            )
        moved = tuple(tag for tag in plan.tracked.tags_to_move if registry.put_manifest(plan.repository, tag, manifest))
        delivery = deliver(
            deps.target,
            deps.state,
            self._settings.service.arn,
            plan.tracked,
            from_digest=plan.current_digest,
            to_digest=plan.target.digest,
            now=now,
        )
        return Redeployed(
            summary=retag_summary(plan, moved, delivery),
            deployed=plan.target.digest,
            version=plan.target.tag,
            next_steps=retag_next_steps(delivery),
            waits=retag_waits(delivery),
            detail={"target": plan.target.digest, "moved": ",".join(moved), "deploy": delivery.decision.action.value},
        )

    def undo_lines(self) -> list[str]:
        """Going forward again is another rollback, to the version the tag pointed at before."""
        return retag_undo_lines(self.plan, self._deps.target.deploy_command())


def plan_retag(deps: RollbackDeps, settings: Settings, version: str | None = None) -> RetagRollback:
    """Reads the service, ECR and the deployment history and decides where the tag goes. Changes nothing."""
    repository = require_repository(settings, "rollback")
    registry = _registry(deps)
    snapshot = deps.target.describe(settings.service.arn)
    tracked = follow(snapshot, settings, repository)
    current = registry.resolve_tag(repository, tracked.tag)
    history = deps.state.list_deployments(settings.service.arn, limit=HISTORY_DEPTH)
    named = (version or "").strip()
    if named:
        target = _named_target(registry, repository, named, history)
    else:
        found = choose_rollback_target(history, current)
        if found is None:
            raise NoRollbackTarget(
                f"Warden's deployment history has no version before the one {tracked.tag} points at "
                f"({version_label(current, history)}): name one, e.g. `warden rollback v1.1.0` "
                f"(aws ecr list-images --repository-name {repository} lists the tags)"
            )
        target = found
    plan = RetagPlan(
        repository=repository,
        service_name=snapshot.name,
        service_status=snapshot.status.value,
        tracked=tracked,
        current_digest=current,
        current_tag=tag_of(current, history),
        current_label=version_label(current, history),
        target=target,
        deploy=decide_deployment(snapshot.status, snapshot.auto_deploy),
        named=bool(named),
    )
    return RetagRollback(deps, settings, plan)


def _registry(deps: RollbackDeps) -> PipelineRegistryPort:
    if deps.registry is None:
        raise PipelineError(
            "no image registry is wired for this rollback: set ECR_REPOSITORY (stack parameter EcrRepository)"
        )
    return deps.registry


def _named_target(
    registry: PipelineRegistryPort, repository: str, version: str, history: list[DeploymentRecord]
) -> RollbackTarget:
    if version.startswith("sha256:"):
        known = next((record for record in history if record.digest == version), None)
        return RollbackTarget(digest=version, tag=known.tag if known else None)
    digest = registry.resolve_tag(repository, version)
    if digest is None:
        raise NoRollbackTarget(
            f"no image tagged {version!r} in {repository} (aws ecr list-images --repository-name {repository} "
            "lists the tags)"
        )
    return RollbackTarget(digest=digest, tag=version)


# --- the automatic rollback (the RollbackPort) -------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


class AutoRollback:
    """Rolls back on its own at most once per deployment, never a rollback, never on top of the platform's own
    rollback, and for an alarm only soon after the deployment."""

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

    def attempt(
        self,
        trigger: RollbackTrigger,
        *,
        reason: str,
        source_event: str | None = None,
        deployment_id: str | None = None,
    ) -> RollbackResult:
        """`deployment_id` names the failed deployment where the platform names them; an alarm judges the one
        that runs now."""
        deps, settings = self._deps, self._settings
        now = self._clock()
        history = deps.state.list_deployments(settings.service.arn, limit=HISTORY_DEPTH)
        judged = deps.target.judge_deployment(trigger, deployment_id=deployment_id, history=history)
        decision = decide_auto_rollback(
            trigger,
            enabled=settings.auto_rollback,
            judged=judged,
            now=now,
            window=timedelta(minutes=settings.rollback_window_minutes),
        )
        logger.info("automatic rollback decision", extra={"allowed": decision.allowed, "reason": decision.reason})
        if not decision.allowed or decision.attempt_key is None or decision.bad_digest is None:
            raise RollbackDeclined(decision.reason)
        bad = decision.bad_digest
        if settings.dry_run:
            try:
                move = plan_rollback(deps, settings, from_deployment=bad)
            except PipelineError as error:
                raise RollbackFailed(f"[dry run] Warden could not roll back: {error}") from error
            return roll_back(deps, settings, move, now=now, actor=self._actor, reason=decision.reason, notify=False)
        return once_per_deployment(
            deps.state,
            decision.attempt_key,
            now,
            lambda: roll_back(
                deps,
                settings,
                plan_rollback(deps, settings, from_deployment=bad),
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
        raise RollbackFailed(str(error)) from error
    state.complete_event(key, now, f"done: {result.summary}")
    return result
