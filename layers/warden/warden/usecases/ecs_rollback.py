"""`warden rollback [VERSION]` and the automatic rollback when SERVICE_ARN names an ECS service: deploy an earlier
task-definition revision with UpdateService. The task definition pins the image, so nothing is re-tagged in ECR.

Where a rollback goes:
- no VERSION: the previous revision, i.e. the newest ACTIVE revision of the service's family older than the one it
  runs, read from ECS (ListTaskDefinitions). ECS knows every revision whoever registered it (a CI pipeline, the
  console, Terraform), and the revision order is the release order; Warden's own history only knows what passed
  through Warden. (The image purge protects the same revisions' images, for the same reason.)
- `v1.2.0`: the newest revision whose app image is tagged v1.2.0, or pins the digest that tag resolves to in the
  app's repository (ECR_REPOSITORY, when set);
- `12`, `family:12` or a task-definition ARN: that revision.

A paused service (desired count 0) still gets the revision: ECS accepts UpdateService with no tasks, and the
resume (which restores the desired count) starts the tasks of the revision rolled back to.

Each rollback is recorded in the action log and in the deployment history (`digest` holds the task-definition
ARN on ECS), so that `EcsAutoRollback` never rolls back a revision that a rollback deployed. It rolls back at
most once per deployment (a conditional write keyed by the deployment), even when the rollback fails, and never
on top of ECS's own circuit-breaker rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from warden.domain.pipeline import (
    ROLLBACK_SOURCE,
    NoRollbackTarget,
    PipelineError,
    RollbackTrigger,
    TaskRevision,
    decide_ecs_auto_rollback,
    moving_tag,
    parse_revision_query,
    previous_revision,
    runs_version,
    sorted_revisions,
)
from warden.domain.service import ServiceStatus
from warden.errors import InvalidServiceState, RollbackDeclined, RollbackFailed, WardenError
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.deployment_outcome import RollbackOutcome
from warden.usecases.ports import EcsRevisionsPort, NotifierPort, PipelineRegistryPort, ServicePort, StatePort
from warden.usecases.rollback import (
    PreparedRollback,
    RollbackDeps,
    RollbackReport,
    once_per_deployment,
    rollback_notification,
    utcnow,
)

HISTORY_DEPTH = 50
SEARCH_DEPTH = 50  # the newest revisions a version is looked for in
LISTED = 8  # revisions an unknown name's error lists
_UNDEPLOYABLE = {ServiceStatus.DELETED, ServiceStatus.CREATE_FAILED, ServiceStatus.DELETE_FAILED}


@dataclass(frozen=True)
class EcsRollbackDeps:
    service: ServicePort
    revisions: EcsRevisionsPort
    state: StatePort
    notifier: NotifierPort
    registry: PipelineRegistryPort | None = None  # resolves a version's tag to a digest (with ECR_REPOSITORY)
    # The re-tag rollback (rollback.py) over this ECS service, with ECR_REPOSITORY: for a task definition that
    # follows a moving tag such as `latest`, where an earlier revision runs the very same tag.
    retag: RollbackDeps | None = None

    def prepare(self, settings: Settings, version: str | None) -> PreparedRollback:
        """The CLI's seam (see rollback.PreparedRollback): plan now, run on request. A service whose task definition
        follows a moving tag is rolled back by moving the tag back and forcing a new deployment, as on App Runner;
        a revision named on the command line (`12`, `family:12`) is still deployed as named."""
        if self.retag is not None:
            running = self.revisions.service_state(settings.service.arn).task_definition
            current = self.revisions.describe_revision(running, settings.ecr_repository)
            named_revision = version is not None and (
                parse_revision_query(version, current.family if current else "").task_definition is not None
            )
            if current is not None and moving_tag(current.image) and not named_revision:
                return self.retag.prepare(settings, version)
        return PreparedEcsRollback(self, settings, plan_ecs_rollback(self, settings, version))


class EcsRollbackPlan(BaseModel):
    """What a rollback on ECS would do; `warden rollback --plan` prints it and changes nothing."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    cluster: str
    service_status: ServiceStatus
    current: TaskRevision
    target: TaskRevision
    chosen_because: str

    @property
    def paused(self) -> bool:
        return self.service_status is ServiceStatus.PAUSED

    @property
    def deploy_reason(self) -> str:
        if self.paused:
            return (
                "the service is PAUSED (desired count 0): ECS takes the revision now and starts its tasks when the "
                "service resumes"
            )
        return "ECS replaces the running tasks with the revision's (a rolling deployment)"

    def lines(self) -> list[str]:
        return [
            f"Now:     {self.service_name} runs {self.current.label}",
            f"Target:  {self.target.label}: {self.chosen_because}",
            f"ECS:     update-service --cluster {self.cluster} --service {self.service_name} --task-definition "
            f"{self.target.name} (no ECR re-tag: the task definition pins the image {self.target.image or '?'})",
            f"Deploy:  {self.deploy_reason} (service {self.service_name} is {self.service_status.value})",
        ]


class EcsRollbackResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: RollbackOutcome
    plan: EcsRollbackPlan
    deployment_id: str | None = None
    summary: str
    notification_event: str | None = None


class PreparedEcsRollback:
    def __init__(self, deps: EcsRollbackDeps, settings: Settings, plan: EcsRollbackPlan) -> None:
        self.deps, self.settings, self.plan = deps, settings, plan

    def lines(self) -> list[str]:
        return self.plan.lines()

    def run(self, *, now: datetime, actor: str, reason: str) -> RollbackReport:
        result = roll_back_ecs(self.deps, self.settings, self.plan, now=now, actor=actor, reason=reason)
        waits = result.outcome is RollbackOutcome.ROLLED_BACK and self.plan.paused
        return RollbackReport(
            summary=result.summary,
            notification_event=result.notification_event,
            next_step=f"{self.plan.service_name} is PAUSED: ECS runs {self.plan.target.name} when it resumes "
            "(warden resume, or when its pause claims clear)."
            if waits
            else None,
        )


def plan_ecs_rollback(
    deps: EcsRollbackDeps,
    settings: Settings,
    version: str | None = None,
    *,
    from_task_definition: str | None = None,
) -> EcsRollbackPlan:
    """Reads the service and its family's revisions and decides where to go. Changes nothing.

    `from_task_definition` is the revision to go back from (the automatic rollback's failed one); by default
    the one the service runs."""
    service = settings.service
    snapshot = deps.service.describe(service.arn)
    if snapshot.status in _UNDEPLOYABLE:
        raise PipelineError(f"the ECS service {snapshot.name} is {snapshot.status.value}: nothing can be deployed")
    running = from_task_definition or deps.revisions.service_state(service.arn).task_definition
    current = deps.revisions.describe_revision(running, settings.ecr_repository)
    if current is None:
        raise PipelineError(f"ECS cannot describe the task definition the service runs ({running})")
    if version:
        target, because = _named_target(deps, settings, current, version.strip())
    else:
        earlier = previous_revision(current, deps.revisions.list_revisions(current.family, SEARCH_DEPTH))
        found = deps.revisions.describe_revision(earlier, settings.ecr_repository) if earlier else None
        if found is None:
            raise NoRollbackTarget(
                f"{current.name} is the oldest ACTIVE revision of {current.family}: there is no earlier one to go "
                f"back to (aws ecs list-task-definitions --family-prefix {current.family} --sort DESC)"
            )
        target, because = found, f"the previous revision of {current.family} (the newest older than {current.name})"
    _refuse_same_moving_tag(current, target)
    return EcsRollbackPlan(
        service_name=snapshot.name,
        cluster=service.cluster,
        service_status=snapshot.status,
        current=current,
        target=target,
        chosen_because=because,
    )


def _named_target(
    deps: EcsRollbackDeps, settings: Settings, current: TaskRevision, name: str
) -> tuple[TaskRevision, str]:
    query = parse_revision_query(name, current.family)
    repository = settings.ecr_repository
    if query.task_definition is not None:
        found = deps.revisions.describe_revision(query.task_definition, repository)
        if found is None:
            raise NoRollbackTarget(
                f"ECS has no task definition {query.task_definition!r}; {current.family} has "
                f"{_existing(deps, current.family)}"
            )
        target, because = found, "named on the command line"
    else:
        version = query.version or name
        digest = _resolve(deps, repository, version)
        seen: list[TaskRevision] = []
        match: TaskRevision | None = None
        for arn in sorted_revisions(current.family, deps.revisions.list_revisions(current.family, SEARCH_DEPTH)):
            revision = deps.revisions.describe_revision(arn, repository)
            if revision is not None and runs_version(revision, version, digest):
                match = revision
                break
            seen.extend([revision] if revision is not None else [])
        if match is None:
            listed = ", ".join(item.label for item in seen[:LISTED]) or "no ACTIVE revision"
            more = f" and {len(seen) - LISTED} more" if len(seen) > LISTED else ""
            raise NoRollbackTarget(
                f"no revision of {current.family} runs {version!r}: it has {listed}{more} "
                f"(name a revision, e.g. `warden rollback {current.family}:{max(current.revision - 1, 1)}`)"
            )
        target, because = match, f"the newest revision of {current.family} that runs {version}"
    if target.arn == current.arn:
        raise NoRollbackTarget(f"the service already runs {target.label}: name another version or revision")
    return target, because


def _refuse_same_moving_tag(current: TaskRevision, target: TaskRevision) -> None:
    """Going back a revision that runs the same moving tag (`latest`) would redeploy the same image."""
    tag = moving_tag(current.image)
    if tag is not None and target.image == current.image:
        raise NoRollbackTarget(
            f"{target.name} runs the same image reference as {current.name} ({current.image}), and `{tag}` is a tag "
            f"that moves: going back a revision would deploy the same image. Move the tag back instead: "
            f"`warden rollback` (with ECR_REPOSITORY set) re-points `{tag}` to the previous release and redeploys"
        )


def _resolve(deps: EcsRollbackDeps, repository: str | None, version: str) -> str | None:
    """The digest the version's tag points at, for task definitions that pin images by digest."""
    if deps.registry is None or not repository:
        return None
    try:
        return deps.registry.resolve_tag(repository, version)
    except WardenError as error:
        # Expected without the repository or the tag: the revisions' own tags still match.
        logger.info("could not resolve the version's tag", extra={"version": version, "error": str(error)})
        return None


def _existing(deps: EcsRollbackDeps, family: str) -> str:
    names = [
        arn.rsplit("/", 1)[-1] for arn in sorted_revisions(family, deps.revisions.list_revisions(family, LISTED + 1))
    ]
    if not names:
        return "no ACTIVE revision"
    return ", ".join(names[:LISTED]) + (" and older ones" if len(names) > LISTED else "")


def roll_back_ecs(
    deps: EcsRollbackDeps,
    settings: Settings,
    plan: EcsRollbackPlan,
    *,
    now: datetime,
    actor: str,
    reason: str,
    notify: bool = True,
    source_event: str | None = None,
) -> EcsRollbackResult:
    """Deploys the target revision as planned (or, with DRY_RUN, says what it would do), records it, notifies."""
    arn = settings.service.arn
    if settings.dry_run:
        summary = (
            f"[dry run] Would have deployed {plan.target.label} to {plan.service_name} in place of "
            f"{plan.current.label} ({plan.deploy_reason}); nothing was changed."
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
        result = EcsRollbackResult(outcome=RollbackOutcome.WOULD_ROLL_BACK, plan=plan, summary=summary)
        return _notify(deps, settings, result, reason=reason, actor=actor) if notify else result
    try:
        deployment_id = deps.revisions.deploy_task_definition(arn, plan.target.arn)
    except InvalidServiceState as refused:
        raise PipelineError(f"ECS refused to deploy {plan.target.name}: {refused}") from refused
    deps.state.record_deployment(arn, plan.target.arn, plan.target.version, now, ROLLBACK_SOURCE)
    if plan.paused:
        how = (
            f"The service is paused (desired count 0): ECS keeps {plan.target.name} as its task definition and "
            "starts its tasks when the service resumes."
        )
    else:
        how = f"UpdateService started ECS deployment {deployment_id}."
    summary = f"Rolled {plan.service_name} back to {plan.target.label} (it ran {plan.current.label}). {how}"
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
    logger.info("rolled back", extra={"target": plan.target.arn, "deployment": deployment_id})
    result = EcsRollbackResult(
        outcome=RollbackOutcome.ROLLED_BACK, plan=plan, deployment_id=deployment_id, summary=summary
    )
    return _notify(deps, settings, result, reason=reason, actor=actor) if notify else result


def undo_lines(plan: EcsRollbackPlan, settings: Settings) -> list[str]:
    """Going forward again is another rollback, to the revision the service ran before."""
    service = settings.service
    return [
        f"warden rollback {plan.current.name}   (back to {plan.current.label})",
        "With the AWS CLI:",
        f"  aws ecs update-service --cluster {service.cluster} --service {service.name} "
        f"--task-definition {plan.current.name} --region {service.region}",
    ]


def _notify(
    deps: EcsRollbackDeps, settings: Settings, result: EcsRollbackResult, *, reason: str, actor: str
) -> EcsRollbackResult:
    plan = result.plan
    name = plan.service_name
    dry = result.outcome is RollbackOutcome.WOULD_ROLL_BACK
    if dry:
        next_steps: list[str] = []
    elif plan.paused:
        next_steps = [f"ECS runs {plan.target.name} as soon as the service resumes (warden resume)."]
    else:
        next_steps = ["ECS replaces the tasks; on_deployment reports how the deployment went."]
    notification = rollback_notification(
        settings,
        name=name,
        target=plan.target.label,
        short=plan.target.label,
        dry=dry,
        happened=[
            f"Requested by {actor}: {reason}.",
            f"Before: the service ran {plan.current.label}; the target is {plan.chosen_because}.",
        ],
        did=result.summary,
        next_steps=next_steps,
        undo=[] if dry else undo_lines(plan, settings),
    )
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return result.model_copy(update={"notification_event": notification.event})


# --- the automatic rollback (the RollbackPort on ECS) ------------------------------------------------------


class EcsAutoRollback:
    """Rolls an ECS service back on its own at most once per deployment, never a rollback, never on top of ECS's
    own rollback, and for an alarm only soon after the deployment."""

    def __init__(
        self,
        deps: EcsRollbackDeps,
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
        """The RollbackPort for a health alarm's `rollback` action: judges the service's primary deployment."""
        return self.attempt(RollbackTrigger.ALARM, reason=reason).summary

    def attempt(
        self,
        trigger: RollbackTrigger,
        *,
        reason: str,
        source_event: str | None = None,
        deployment_id: str | None = None,
    ) -> EcsRollbackResult:
        """`deployment_id` names the failed deployment (FAILED_DEPLOYMENT); an alarm judges the primary one."""
        deps, settings = self._deps, self._settings
        now = self._clock()
        arn = settings.service.arn
        try:
            state = deps.revisions.service_state(arn)
        except WardenError as error:
            raise RollbackFailed(f"Warden could not read the ECS service: {error}") from error
        deployment = state.deployment(deployment_id) if trigger is RollbackTrigger.FAILED_DEPLOYMENT else state.primary
        decision = decide_ecs_auto_rollback(
            trigger,
            enabled=settings.auto_rollback,
            service_task_definition=state.task_definition,
            deployment=deployment,
            circuit_breaker_rollback=state.circuit_breaker_rollback,
            history=deps.state.list_deployments(arn, limit=HISTORY_DEPTH),
            now=now,
            window=timedelta(minutes=settings.rollback_window_minutes),
        )
        logger.info("automatic rollback decision", extra={"allowed": decision.allowed, "reason": decision.reason})
        if not decision.allowed or decision.attempt_key is None or decision.bad_digest is None:
            raise RollbackDeclined(decision.reason)
        bad = decision.bad_digest
        if settings.dry_run:
            try:
                plan = plan_ecs_rollback(deps, settings, from_task_definition=bad)
            except PipelineError as error:
                raise RollbackFailed(f"[dry run] Warden could not roll back: {error}") from error
            return roll_back_ecs(deps, settings, plan, now=now, actor=self._actor, reason=decision.reason, notify=False)
        return once_per_deployment(
            deps.state,
            decision.attempt_key,
            now,
            lambda: roll_back_ecs(
                deps,
                settings,
                plan_ecs_rollback(deps, settings, from_task_definition=bad),
                now=now,
                actor=self._actor,
                reason=f"{reason} ({decision.reason})",
                notify=False,
                source_event=source_event,
            ),
        )
