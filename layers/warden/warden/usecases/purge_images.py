"""`purge_images`: keep the app's ECR repository small without ever deleting what runs or a rollback target.

One run: read the deployment history, find the image the service runs, list the repository, plan
(domain/retention.py), then, only in `delete` mode and without DRY_RUN, delete by digest in batches of at
most 100, reading each batch's per-item failures. The run is recorded in the action log and ends in one
summary notification (`images.plan` or `images.purged`).

What an App Runner service runs is the digest its ImageIdentifier pins, else the newest deployment on record
(on_deployment records what App Runner deploys; release, rollback and the reconcile record Warden's own); never
what its tag resolves to now, because a push deploys nothing with auto-deploy off or while the service is
paused (AWS-FACTS §4.4). The purge itself records no deployment. A paused service resumes to the image the
`paused_image` memo names, and a deployment Warden has pending (the `pending_deploy` memo) deploys the image it
names: both stay, and so does every image a rollback could pick from the history, whatever K is.

An ECS service (deps carry a TaskDefinitionsPort) runs several containers and rolls back to an earlier
revision of its task-definition family, so there every image of this repository named by the task
definitions its deployments run now is "deployed now", and the images of the K revisions before the
current one (K = IMAGE_KEEP_DEPLOYED) are kept as "in a recent task definition". A tag is resolved to
the digest it points at now (what a task started now, or a rollback to that revision, would pull); a
`@sha256:` reference is a digest already; containers whose image is in another registry (sidecars such
as a log router) are ignored with a note.

A fleet may guard several services that share one repository (the staging and production services of one app,
following `latest` and `prod`). `purge_repository` purges such a repository once for all of them: each service's
own plan is made exactly as above, from its own deployment history and memos (under its own ARN), and an image is
deleted only when every one of those plans deletes it, so nothing any of them runs, resumes to, deploys next or
may roll back to goes. When what one of them needs cannot be read, the repository is not touched that run. With
one service the plan is that service's own: `purge_images` runs the same code for its one service (there an AWS
error reading the service propagates, so that Lambda retries, instead of being reported as BLOCKED).

Safety first:
- when Warden cannot tell which image runs (the service is missing, its tag points at nothing, no deployment
  of an App Runner service that follows a tag is on record yet, a current task definition cannot be read),
  the plan keeps everything and says why; an older task definition whose tag points at nothing is only a
  note (a rollback to it would fail to pull anyway);
- runs of the same repository never overlap (a lock in the state table): an ECR push during the daily
  run is ignored, not run twice;
- indexes are deleted before other images, so ECR never refuses a child as still referenced by an
  index that this same run deletes.

This module decides and acts and returns facts (`WhatRuns`, the plans, `DeletionReport`, the outcome); every
sentence a person reads, in the notification, the action log or the result's `reason`, is written by
warden/messages/images.py, called only where a text leaves the use case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.images import (
    ALREADY_GONE,
    RETRYABLE_FAILURES,
    DeleteFailure,
    ImageInfo,
    PlanOnly,
    PurgeTrigger,
    RepositoryNotFound,
    SharingService,
    parse_image_identifier,
)
from warden.domain.records import DeploymentRecord, newest_deployed
from warden.domain.retention import (
    ContainerSeen,
    NextUp,
    Protected,
    Protection,
    RetentionPlan,
    RetentionPolicy,
    Rule,
    RunningImage,
    RunningKind,
    TaskDefinitionImages,
    TaskDefinitionSeen,
    WhatRuns,
    plan_retention,
    rollback_picks,
    shared_plan,
)
from warden.domain.service import ServiceSnapshot
from warden.errors import AwsUnavailable, EventInProgress, ServiceNotFound, SettingsError
from warden.messages import images as words
from warden.observability import count, logger
from warden.settings import ImagePurgeMode, Settings
from warden.usecases.converge import PAUSED_IMAGE, PENDING_DEPLOY, record_action
from warden.usecases.ports import NotifierPort, RegistryPort, ServiceReaderPort, StatePort, TaskDefinitionsPort
from warden.usecases.rollback import HISTORY_DEPTH

ACTOR = "purge_images"
BATCH_LIMIT = 100
LOCK_SECONDS = 300  # the function's timeout: a lock left by a crashed run expires with it
MAX_RETRIES = 2  # per-item failures with a retryable code are tried at most twice more
RETRY_BACKOFF_SECONDS = (1.0, 3.0)
CHILD_LOOKUP_ROUNDS = 5  # nested indexes: each round reads the manifests of newly kept indexes


@dataclass(frozen=True)
class PurgeImagesDeps:
    service: ServiceReaderPort
    registry: RegistryPort
    notifier: NotifierPort
    state: StatePort
    # Set for an ECS service (its task definitions say what runs and what a rollback needs); None for App Runner.
    task_definitions: TaskDefinitionsPort | None = None
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class PurgeService:
    """One guarded service whose images are in the repository a fleet purge cleans: its own settings
    (`settings.service` names it, and its deployment history and memos are read under its ARN;
    `settings.ecr_repository` must name that repository), and how to read what it runs (its Target; on ECS also
    its task definitions, as in PurgeImagesDeps)."""

    settings: Settings
    service: ServiceReaderPort
    task_definitions: TaskDefinitionsPort | None = None


@dataclass(frozen=True)
class RepositoryPurgeDeps:
    """What every service of one repository shares in its purge: ECR, the notification topic and the state table."""

    registry: RegistryPort
    notifier: NotifierPort
    state: StatePort
    sleep: Callable[[float], None] = time.sleep


class PreparedPlan(BaseModel):
    """One service's plan: what it runs (`seen`), the policy, the plan and the history it was made from.
    warden.messages.images writes its lines (`running_line`, `task_definition_lines`, `plan_notes`)."""

    model_config = ConfigDict(frozen=True)

    repository: str
    seen: WhatRuns
    policy: RetentionPolicy
    plan: RetentionPlan
    deployments: tuple[DeploymentRecord, ...]

    @property
    def running(self) -> RunningImage:
        return self.seen.running


class ServicePlan(BaseModel):
    """One service's own plan of a shared repository: what a purge for it alone would keep and delete."""

    model_config = ConfigDict(frozen=True)

    label: str  # its name in messages (its ARN when another service of the repository has the same name)
    settings: Settings
    prepared: PreparedPlan


class RepositoryPlan(BaseModel):
    """The plan of a repository and every guarded service using it: an image is deleted only when the plan of
    every one of them deletes it (the union of what they keep stays). With one service, `plan` is its plan."""

    model_config = ConfigDict(frozen=True)

    repository: str
    services: tuple[ServicePlan, ...]
    plan: RetentionPlan


class DeletionReport(BaseModel):
    """What the deletions of one run did: deleted, already gone, refused (with AWS's code), never attempted because
    ECR itself failed (`aborted` says how), and how many calls and retries it took."""

    model_config = ConfigDict(frozen=True)

    deleted: tuple[ImageInfo, ...] = ()
    already_gone: tuple[str, ...] = ()
    failed: tuple[DeleteFailure, ...] = ()
    not_attempted: tuple[str, ...] = ()
    aborted: str | None = None
    calls: int = 0
    retries: int = 0

    @property
    def bytes_deleted(self) -> int:
        return sum(image.size_bytes for image in self.deleted)


class Outcome(StrEnum):
    PURGED = "purged"
    PARTIAL = "partial"
    PLANNED = "planned"
    NOTHING = "nothing"
    HELD = "held"
    BUSY = "busy"
    NO_REPOSITORY = "no_repository"
    # purge_repository only: what a sharing service needs could not be read, so nothing was planned or deleted.
    BLOCKED = "blocked"


class PurgeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: str
    mode: ImagePurgeMode
    trigger: PurgeTrigger
    images: int = 0
    planned: int = 0
    deleted: int = 0
    already_gone: int = 0
    failed: int = 0
    bytes_deleted: int = 0
    notification_event: str | None = None


class RepositoryPurgeResult(PurgeResult):
    """A fleet purge of one repository: the run's result, and the services (ARNs) it kept images for."""

    repository: str
    services: tuple[str, ...] = ()
    # Services whose facts hold every deletion (not found, a tag pointing at nothing, mid-deployment, no deployment
    # on record): their own plan keeps everything, so the union does.
    held_by: tuple[str, ...] = ()
    # Services whose facts could not be read (an AWS error describing them, the state table unavailable): the
    # repository was not planned at all.
    blocked_by: tuple[str, ...] = ()


def require_repository(settings: Settings) -> str:
    if not settings.ecr_repository:
        raise SettingsError("ECR_REPOSITORY is not set: the image purge needs the name of the app's repository")
    return settings.ecr_repository


def effective_mode(
    settings: Settings, requested: ImagePurgeMode | None = None
) -> tuple[ImagePurgeMode, PlanOnly | None]:
    """The mode this run acts in, and why it will not delete when it will not. DRY_RUN always plans."""
    mode = requested or settings.image_purge_mode
    if settings.dry_run:
        return ImagePurgeMode.PLAN, PlanOnly.DRY_RUN
    if mode is ImagePurgeMode.PLAN:
        return mode, PlanOnly.MODE if requested is None else PlanOnly.REQUESTED
    return mode, None


def policy_of(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        keep_deployed=settings.image_keep_deployed,
        keep_semver=settings.image_keep_semver,
        keep_pulled_days=settings.image_keep_pulled_days,
        untagged_days=settings.image_untagged_days,
        tagged_days=settings.image_tagged_days,
    )


def prepare_plan(deps: PurgeImagesDeps, settings: Settings, now: datetime) -> PreparedPlan:
    """Reads what runs, the images and the history, and plans. Changes nothing (the CLI's `--plan`)."""
    repository = require_repository(settings)
    member, shared = _split(deps, settings)
    facts = _read_facts(member, shared, repository)
    images = deps.registry.list_images(repository)
    return _plan_service(facts, images, _IndexManifests(deps.registry, repository), now)


def plan_repository(
    repository: str, services: Sequence[PurgeService], deps: RepositoryPurgeDeps, now: datetime
) -> RepositoryPlan:
    """The plan of a repository several guarded services share: each service's own plan, and their union.
    Changes nothing. Raises AwsUnavailable (StateUnavailable) when what a service needs cannot be read."""
    _check_services(repository, services)
    labels = _labels(services)
    facts = [_read_facts(member, deps, repository) for member in services]
    images = deps.registry.list_images(repository)
    return _plan_repository(repository, labels, facts, images, deps.registry, now)


class _Facts(BaseModel):
    """What one service needs kept, read before the repository is listed."""

    model_config = ConfigDict(frozen=True)

    settings: Settings
    seen: WhatRuns
    protection: Protection
    history: tuple[DeploymentRecord, ...]


def _read_facts(member: PurgeService, deps: RepositoryPurgeDeps, repository: str) -> _Facts:
    """The service's history and memos (under its own ARN) and what it runs. ServiceNotFound becomes a hold;
    an AWS error (AwsUnavailable, StateUnavailable) propagates."""
    settings = member.settings
    policy = policy_of(settings)
    arn = settings.service.arn
    history = deps.state.list_deployments(arn, limit=max(HISTORY_DEPTH, 4 * policy.keep_deployed))
    pending = deps.state.get_memo(arn, PENDING_DEPLOY) or {}
    # Release and rollback record their deployment before it happens: while it is pending, the one before runs.
    deployed = newest_deployed(history, pending.get("to"))
    seen = _running_image(member, deps.registry, repository, policy.keep_deployed, deployed)
    running, hold = seen.running, seen.hold
    protection = Protection(
        # On ECS every container's image is named in also_running, each with its task definition.
        running_digest=None if member.task_definitions is not None else running.digest,
        next_up=_next_up(deps.state, arn),
        also_running=seen.also_running,
        tracked_tag=running.tag if running.in_repository else None,
        task_definitions=seen.rollback_revisions,
        # The rollback reads the newest HISTORY_DEPTH records: its pick is one of these, however small K is.
        rollback_targets=rollback_picks(history[:HISTORY_DEPTH]),
        deployments=tuple(history),
        hold=None if hold is None else hold.value,
    )
    return _Facts(settings=settings, seen=seen, protection=protection, history=tuple(history))


@dataclass
class _IndexManifests:
    """The children of the repository's indexes, read once per run whichever service's plan keeps the index."""

    registry: RegistryPort
    repository: str
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)

    def plan(
        self, images: Sequence[ImageInfo], protection: Protection, policy: RetentionPolicy, now: datetime
    ) -> RetentionPlan:
        plan = plan_retention(images, protection, policy, now, children=self.children, unreadable=self.unreadable)
        for _ in range(CHILD_LOOKUP_ROUNDS):
            if not plan.missing_children:
                break
            wanted = plan.missing_children
            self.children.update(self.registry.index_children(self.repository, wanted))
            self.unreadable.update(digest for digest in wanted if digest not in self.children)
            plan = plan_retention(images, protection, policy, now, children=self.children, unreadable=self.unreadable)
        return plan


def _plan_service(
    facts: _Facts, images: Sequence[ImageInfo], manifests: _IndexManifests, now: datetime
) -> PreparedPlan:
    policy = policy_of(facts.settings)
    return PreparedPlan(
        repository=manifests.repository,
        seen=facts.seen,
        policy=policy,
        plan=manifests.plan(images, facts.protection, policy, now),
        deployments=facts.history,
    )


def _plan_repository(
    repository: str,
    labels: Sequence[str],
    facts: Sequence[_Facts],
    images: Sequence[ImageInfo],
    registry: RegistryPort,
    now: datetime,
) -> RepositoryPlan:
    manifests = _IndexManifests(registry, repository)
    services = tuple(
        ServicePlan(label=label, settings=found.settings, prepared=_plan_service(found, images, manifests, now))
        for label, found in zip(labels, facts, strict=True)
    )
    plan = shared_plan([(service.label, service.prepared.plan) for service in services])
    return RepositoryPlan(repository=repository, services=services, plan=plan)


def _next_up(state: StatePort, service_arn: str) -> tuple[Protected, ...]:
    """The images the memos of converge.py name: what a paused service resumes to, and a pending deployment's."""
    paused = state.get_memo(service_arn, PAUSED_IMAGE) or {}
    pending = state.get_memo(service_arn, PENDING_DEPLOY) or {}
    named = [
        (paused.get("digest"), NextUp.RESUMES_TO),
        (pending.get("to"), NextUp.PENDING),
        (pending.get("resumed"), NextUp.RUNS_UNTIL_PENDING),
        (pending.get("from"), NextUp.DECIDED_FROM),
    ]
    return tuple(Protected(digest=digest, why=why.value) for digest, why in named if digest)


def purge_images(
    deps: PurgeImagesDeps,
    settings: Settings,
    now: datetime,
    *,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode | None = None,
) -> PurgeResult:
    """One purge run of the app's repository; runs of the same repository never overlap. An AWS error reading
    what the service runs propagates (a RetryableError: Lambda retries)."""
    repository = require_repository(settings)
    member, shared = _split(deps, settings)
    result = _purge(repository, [member], shared, now, trigger, mode, blocking=False)
    return PurgeResult(**{name: getattr(result, name) for name in PurgeResult.model_fields})


def purge_repository(
    repository: str,
    services: Sequence[PurgeService],
    deps: RepositoryPurgeDeps,
    now: datetime,
    *,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode | None = None,
) -> RepositoryPurgeResult:
    """One purge run of a repository that the guarded `services` share (one or more): every service's own plan is
    made from its own history and memos, and an image is deleted only when each of those plans deletes it. One
    lock, one notification and one action-log entry per service.

    It acts only when every service allows it: DRY_RUN or IMAGE_PURGE_MODE=plan on any of them (or `mode` plan)
    plans. When what one of them needs cannot be read (an AWS error describing it, its state unavailable), nothing
    is planned or deleted: the result is BLOCKED, names it in `blocked_by`, and the notification says so (a
    service that is not found holds every deletion, as for one service). Raises SettingsError when a service's
    ECR_REPOSITORY is not `repository`; errors of the lock, of ECR itself and of SNS propagate, as in
    purge_images."""
    _check_services(repository, services)
    return _purge(repository, services, deps, now, trigger, mode, blocking=True)


def _split(deps: PurgeImagesDeps, settings: Settings) -> tuple[PurgeService, RepositoryPurgeDeps]:
    member = PurgeService(settings=settings, service=deps.service, task_definitions=deps.task_definitions)
    return member, RepositoryPurgeDeps(deps.registry, deps.notifier, deps.state, deps.sleep)


def _check_services(repository: str, services: Sequence[PurgeService]) -> None:
    if not services:
        raise ValueError(f"no service given for repository {repository!r}: nothing would say what it must keep")
    arns = [member.settings.service.arn for member in services]
    if len(set(arns)) != len(arns):
        raise ValueError(f"a service is listed twice for repository {repository!r}: {arns}")
    for member in services:
        if member.settings.ecr_repository != repository:
            raise SettingsError(
                f"{member.settings.service.arn} uses repository {member.settings.ecr_repository!r}, not "
                f"{repository!r}: its facts cannot say what {repository} keeps"
            )
    places = {(member.settings.service.account_id, member.settings.service.region) for member in services}
    if len(places) > 1:
        raise SettingsError(f"the services of repository {repository!r} are in different accounts or regions")


def _labels(services: Sequence[PurgeService]) -> list[str]:
    names = [member.settings.service.name for member in services]
    return [
        name if names.count(name) == 1 else member.settings.service.arn
        for name, member in zip(names, services, strict=True)
    ]


def _mode_of(
    services: Sequence[PurgeService], requested: ImagePurgeMode | None
) -> tuple[ImagePurgeMode, PlanOnly | None]:
    """The repository is deleted from only when every service using it would delete (a dry run of one plans)."""
    modes = [effective_mode(member.settings, requested) for member in services]
    return next((found for found in modes if found[0] is ImagePurgeMode.PLAN), modes[0])


def _purge(
    repository: str,
    services: Sequence[PurgeService],
    deps: RepositoryPurgeDeps,
    now: datetime,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode | None,
    *,
    blocking: bool,
) -> RepositoryPurgeResult:
    acting, plan_only = _mode_of(services, mode)
    arns = tuple(member.settings.service.arn for member in services)
    lock = f"purge-images#{repository}"
    try:
        deps.state.begin_event(lock, now, lock_seconds=LOCK_SECONDS)
    except EventInProgress:
        reason = words.busy_reason(repository)
        logger.info("image purge skipped: another run holds the lock", extra={"repository": repository})
        count("PurgeRunsSkipped")
        return RepositoryPurgeResult(
            outcome=Outcome.BUSY, reason=reason, mode=acting, trigger=trigger, repository=repository, services=arns
        )
    try:
        return _run(repository, services, deps, now, trigger, acting, plan_only, blocking=blocking)
    finally:
        deps.state.release_event(lock)


def _run(
    repository: str,
    services: Sequence[PurgeService],
    deps: RepositoryPurgeDeps,
    now: datetime,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode,
    plan_only: PlanOnly | None,
    *,
    blocking: bool,
) -> RepositoryPurgeResult:
    labels = _labels(services)
    facts: list[_Facts] = []
    unreadable: dict[str, str] = {}  # ARN -> the error reading what that service needs
    for member in services:
        try:
            facts.append(_read_facts(member, deps, repository))
        except AwsUnavailable as error:
            if not blocking:
                raise
            # Never a partial keep set: without this service's facts, any deletion could be what it runs.
            unreadable[member.settings.service.arn] = str(error)
    if unreadable:
        sharing = [
            SharingService(label=label, arn=arn, unreadable=unreadable.get(arn))
            for label, arn in zip(labels, (member.settings.service.arn for member in services), strict=True)
        ]
        return _blocked(deps, services, sharing, now, repository, trigger, mode)
    arns = tuple(member.settings.service.arn for member in services)
    held_by = tuple(found.settings.service.arn for found in facts if found.seen.hold)
    try:
        images = deps.registry.list_images(repository)
    except RepositoryNotFound as missing:
        result = _repository_missing(deps, services, now, repository, trigger, mode, str(missing))
        return result.model_copy(update={"held_by": held_by})
    planned = _plan_repository(repository, labels, facts, images, deps.registry, now)
    plan = planned.plan
    report = _delete(deps, repository, plan) if mode is ImagePurgeMode.DELETE and plan.deletions else None
    outcome, reason = _summary(planned, plan_only, report)
    logger.info(
        "image purge planned" if report is None else "image purge done",
        extra={
            "repository": repository,
            "services": len(services),
            "trigger": trigger.value,
            "mode": mode.value,
            "images": len(plan.decisions),
            "planned": len(plan.deletions),
            "deleted": len(report.deleted) if report else 0,
            "failed": len(report.failed) if report else 0,
        },
    )
    count("PurgeRuns")
    if report is not None:
        count("ImagesDeleted", len(report.deleted))
        count("ImageDeleteFailures", len(report.failed))
    for member in services:
        record_action(
            deps.state,
            member.settings.service.arn,
            now=now,
            actor=ACTOR,
            action="images.purge",
            outcome={Outcome.PURGED: "done", Outcome.PARTIAL: "partial", Outcome.PLANNED: "would"}.get(
                outcome, "skipped"
            ),
            reason=reason,
            dry_run=member.settings.dry_run,
            source_event=trigger.value,
        )
    event: str | None = None
    quiet = trigger is PurgeTrigger.PUSH and not plan.deletions and not plan.held_back
    if quiet:
        logger.info("nothing to purge after the push; no notification", extra={"repository": repository})
    else:
        notification = words.purge_summary(planned, plan_only, report)
        deps.notifier.publish(notification)
        count("NotificationsSent")
        event = notification.event
    return RepositoryPurgeResult(
        outcome=outcome,
        reason=reason,
        mode=mode,
        trigger=trigger,
        images=len(plan.decisions),
        planned=len(plan.deletions),
        deleted=len(report.deleted) if report else 0,
        already_gone=len(report.already_gone) if report else 0,
        failed=len(report.failed) + len(report.not_attempted) if report else 0,
        bytes_deleted=report.bytes_deleted if report else 0,
        notification_event=event,
        repository=repository,
        services=arns,
        held_by=held_by,
    )


def _blocked(
    deps: RepositoryPurgeDeps,
    services: Sequence[PurgeService],
    sharing: Sequence[SharingService],
    now: datetime,
    repository: str,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode,
) -> RepositoryPurgeResult:
    """What a service needs could not be read: the repository is neither planned nor purged this run."""
    reason = words.blocked_reason(repository, sharing)
    blocked_by = tuple(service.arn for service in sharing if service.unreadable is not None)
    logger.warning(
        "image purge blocked", extra={"repository": repository, "trigger": trigger.value, "blocked_by": blocked_by}
    )
    count("PurgeRunsBlocked")
    for member in services:
        try:
            record_action(
                deps.state,
                member.settings.service.arn,
                now=now,
                actor=ACTOR,
                action="images.purge",
                outcome="skipped",
                reason=reason,
                dry_run=member.settings.dry_run,
                source_event=trigger.value,
            )
        except AwsUnavailable as error:
            # The state table may be what failed: the notification still goes out.
            logger.warning("the purge's action log entry could not be written", extra={"error": str(error)})
    notification = words.purge_blocked(repository, sharing)
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return RepositoryPurgeResult(
        outcome=Outcome.BLOCKED,
        reason=reason,
        mode=mode,
        trigger=trigger,
        notification_event=notification.event,
        repository=repository,
        services=tuple(member.settings.service.arn for member in services),
        blocked_by=blocked_by,
    )


def _running_image(
    member: PurgeService, registry: RegistryPort, repository: str, keep: int, deployed: DeploymentRecord | None
) -> WhatRuns:
    """What the service runs (and, on ECS, may roll back to); its `hold` says when what runs cannot be told or
    may still change (then nothing is deleted)."""
    settings = member.settings
    try:
        snapshot = member.service.describe(settings.service.arn)
        if member.task_definitions is not None:
            history = member.task_definitions.task_definition_history(settings.service.arn, previous=keep)
            running, definitions = _task_definition_images(history, registry, settings, repository, keep)
        else:
            running, definitions = _image_of(snapshot, registry, settings, repository, deployed), ()
    except ServiceNotFound:
        not_found = RunningImage(kind=RunningKind.NOT_FOUND)
        return WhatRuns(repository=repository, service=settings.service.name, running=not_found)
    return WhatRuns(
        repository=repository,
        service=snapshot.name,
        platform=snapshot.platform,
        status=snapshot.status,
        running=running,
        task_definitions=definitions,
    )


def _resolve(container: str, image: str, registry: RegistryPort, settings: Settings, repository: str) -> ContainerSeen:
    """One container image reference, resolved against the repository."""
    try:
        reference = parse_image_identifier(image)
    except ValueError:
        # No registry host (`nginx:1.27`): Docker Hub, never this account's ECR.
        return ContainerSeen(container=container, image=image, inside=False)
    if not reference.is_in(settings.service.account_id, settings.service.region, repository):
        return ContainerSeen(container=container, image=image, inside=False)
    if reference.digest:
        return ContainerSeen(container=container, image=image, inside=True, digest=reference.digest, tag=reference.tag)
    tag = reference.tag or "latest"
    digest = registry.resolve_tag(repository, tag)
    return ContainerSeen(container=container, image=image, inside=True, digest=digest, tag=tag)


def _task_definition_images(
    history: Sequence[TaskDefinitionImages],
    registry: RegistryPort,
    settings: Settings,
    repository: str,
    keep: int,
) -> tuple[RunningImage, tuple[TaskDefinitionSeen, ...]]:
    """ECS: every image of the repository in a current task definition runs now; those of the `keep` revisions
    before it are rollback targets. A current tag that points at nothing holds the run; an older one is a note."""
    current = [definition for definition in history if definition.current]
    previous = [definition for definition in history if not definition.current][:keep]
    if not current:
        return RunningImage(kind=RunningKind.NO_TASK_DEFINITION), ()
    running: RunningImage | None = None
    seen: list[TaskDefinitionSeen] = []
    for definition in [*current, *previous]:
        name = definition.task_definition
        if definition.unreadable:
            seen.append(
                TaskDefinitionSeen(task_definition=name, current=definition.current, unreadable=definition.unreadable)
            )
            continue
        containers = []
        for container in definition.containers:
            found = _resolve(container.container, container.image, registry, settings, repository)
            containers.append(found)
            if definition.current and running is None and found.inside and found.digest is not None:
                running = RunningImage(
                    kind=RunningKind.TASK_DEFINITIONS,
                    identifier=found.image,
                    digest=found.digest,
                    tag=found.tag,
                    in_repository=True,
                )
        seen.append(TaskDefinitionSeen(task_definition=name, current=definition.current, containers=tuple(containers)))
    return running or RunningImage(kind=RunningKind.TASK_DEFINITIONS), tuple(seen)


def _image_of(
    snapshot: ServiceSnapshot,
    registry: RegistryPort,
    settings: Settings,
    repository: str,
    deployed: DeploymentRecord | None,
) -> RunningImage:
    """App Runner: the digest the ImageIdentifier pins, else the newest deployment on record (the tag is shown,
    and kept by its own rule, but a push to it deploys nothing with auto-deploy off or while paused)."""
    identifier = snapshot.image_identifier
    if identifier is None:
        return RunningImage(kind=RunningKind.NO_IMAGE_REPOSITORY)
    try:
        reference = parse_image_identifier(identifier)
    except ValueError as error:
        return RunningImage(kind=RunningKind.IMAGE_UNREADABLE, identifier=identifier, problem=str(error))
    inside = reference.is_in(settings.service.account_id, settings.service.region, repository)
    if reference.digest:
        return RunningImage(
            kind=RunningKind.PINNED, identifier=identifier, digest=reference.digest, in_repository=inside
        )
    if not inside:
        return RunningImage(kind=RunningKind.OTHER_REPOSITORY, identifier=identifier, tag=reference.tag)
    tag = reference.tag or "latest"
    digest = registry.resolve_tag(repository, tag)
    if digest is None:
        return RunningImage(kind=RunningKind.TAG_POINTS_AT_NOTHING, identifier=identifier, tag=tag, in_repository=True)
    if deployed is None:
        return RunningImage(
            kind=RunningKind.NOT_DEPLOYED_YET,
            identifier=identifier,
            digest=digest,
            tag=tag,
            in_repository=True,
            points_at=digest,
        )
    return RunningImage(
        kind=RunningKind.DEPLOYED,
        identifier=identifier,
        digest=deployed.digest,
        tag=tag,
        in_repository=True,
        points_at=digest,
        deployed=deployed,
    )


def _delete(deps: RepositoryPurgeDeps, repository: str, plan: RetentionPlan) -> DeletionReport:
    """Deletes the plan's images by digest: indexes first, at most 100 a call, retrying what may succeed."""
    images = {decision.image.digest: decision.image for decision in plan.deletions}
    indexes = [image.digest for image in images.values() if image.is_index]
    others = [image.digest for image in images.values() if not image.is_index]
    batches = [*_chunks(indexes, BATCH_LIMIT), *_chunks(others, BATCH_LIMIT)]
    deleted: list[str] = []
    gone: list[str] = []
    failed: list[DeleteFailure] = []
    not_attempted: list[str] = []
    aborted: str | None = None
    calls = retries = 0
    for position, batch in enumerate(batches):
        todo = batch
        for attempt in range(MAX_RETRIES + 1):
            try:
                result = deps.registry.delete_digests(repository, todo)
            except AwsUnavailable as error:
                # ECR itself is failing (botocore has retried already): stop, report, let the next run go on.
                aborted = str(error)
                not_attempted = [*todo, *(digest for later in batches[position + 1 :] for digest in later)]
                break
            calls += 1
            deleted.extend(result.deleted)
            again: list[str] = []
            for failure in result.failures:
                if failure.code == ALREADY_GONE:
                    gone.append(failure.digest)
                elif failure.code in RETRYABLE_FAILURES and attempt < MAX_RETRIES:
                    again.append(failure.digest)
                else:
                    failed.append(failure)
            if not again:
                break
            retries += 1
            logger.info(
                "retrying per-item failures of batch_delete_image",
                extra={"repository": repository, "images": len(again), "attempt": attempt + 1},
            )
            deps.sleep(RETRY_BACKOFF_SECONDS[attempt])
            todo = again
        if aborted:
            break
    return DeletionReport(
        deleted=tuple(images[digest] for digest in deleted if digest in images),
        already_gone=tuple(gone),
        failed=tuple(failed),
        not_attempted=tuple(not_attempted),
        aborted=aborted,
        calls=calls,
        retries=retries,
    )


def _summary(planned: RepositoryPlan, plan_only: PlanOnly | None, report: DeletionReport | None) -> tuple[Outcome, str]:
    """The run's outcome, and its reason in words (the action log's and the result's)."""
    plan = planned.plan
    deletions = len(plan.deletions)
    if report is None:
        if any(decision.rule is Rule.HOLD for decision in plan.decisions) or (plan.held_back and not deletions):
            return Outcome.HELD, words.held_reason(planned)
        if not deletions:
            return Outcome.NOTHING, words.nothing_reason(planned)
        if plan_only is not None:
            return Outcome.PLANNED, words.planned_reason(planned, plan_only)
    assert report is not None
    problems = len(report.failed) + len(report.not_attempted)
    return Outcome.PARTIAL if problems else Outcome.PURGED, words.deleted_reason(planned, report)


def _repository_missing(
    deps: RepositoryPurgeDeps,
    services: Sequence[PurgeService],
    now: datetime,
    repository: str,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode,
    why: str,
) -> RepositoryPurgeResult:
    # A retry cannot make the repository appear: say so once per run instead of failing.
    reason = words.missing_reason(why)
    for member in services:
        record_action(
            deps.state,
            member.settings.service.arn,
            now=now,
            actor=ACTOR,
            action="images.purge",
            outcome="skipped",
            reason=reason,
        )
    notification = words.repository_missing(repository, why, _labels(services))
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return RepositoryPurgeResult(
        outcome=Outcome.NO_REPOSITORY,
        reason=reason,
        mode=mode,
        trigger=trigger,
        notification_event=notification.event,
        repository=repository,
        services=tuple(member.settings.service.arn for member in services),
    )


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
