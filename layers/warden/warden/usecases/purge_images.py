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
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.images import (
    ALREADY_GONE,
    RETRYABLE_FAILURES,
    DeleteFailure,
    ImageInfo,
    PurgeTrigger,
    RepositoryNotFound,
    format_size,
    format_usd,
    monthly_storage_cost,
    parse_image_identifier,
    short_digest,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.records import DeploymentRecord, newest_deployed
from warden.domain.retention import (
    Decision,
    Protected,
    Protection,
    RetentionPlan,
    RetentionPolicy,
    Rule,
    TaskDefinitionImages,
    plan_retention,
    rollback_picks,
)
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import AwsUnavailable, EventInProgress, ServiceNotFound, SettingsError
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
LISTED_DELETIONS = 40  # a notification lists this many deletions, then counts the rest
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


class RunningImage(BaseModel):
    """What the service runs, as far as App Runner (or ECS) and ECR tell. On ECS: its first container in
    the repository, with `description` naming every container."""

    model_config = ConfigDict(frozen=True)

    description: str
    identifier: str | None = None
    digest: str | None = None
    tag: str | None = None
    in_repository: bool = False


class Seen(BaseModel):
    """What the run found the service runs and may roll back to, before planning."""

    model_config = ConfigDict(frozen=True)

    running: RunningImage
    hold: str | None = None
    also_running: tuple[Protected, ...] = ()  # ECS: every container image of the current task definitions
    task_definitions: tuple[Protected, ...] = ()  # ECS: the images of the previous K revisions
    lines: tuple[str, ...] = ()  # ECS: the task definitions and their images, for "What runs now"
    notes: tuple[str, ...] = ()  # worth knowing, never a reason to hold (a sidecar ignored, a dangling old tag)


class PreparedPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    repository: str
    running: RunningImage
    task_definition_lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    policy: RetentionPolicy
    plan: RetentionPlan
    deployments: tuple[DeploymentRecord, ...]


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


def effective_mode(settings: Settings, requested: ImagePurgeMode | None = None) -> tuple[ImagePurgeMode, str]:
    """The mode this run acts in, and why it will not delete when it will not. DRY_RUN always plans."""
    mode = requested or settings.image_purge_mode
    if settings.dry_run:
        return ImagePurgeMode.PLAN, "DRY_RUN is on"
    if mode is ImagePurgeMode.PLAN:
        return mode, "IMAGE_PURGE_MODE is plan" if requested is None else "this run only plans"
    return mode, ""


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
    seen: Seen
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
    running = seen.running
    protection = Protection(
        # On ECS every container's image is named in also_running, each with its task definition.
        running_digest=None if member.task_definitions is not None else running.digest,
        next_up=_next_up(deps.state, arn),
        also_running=seen.also_running,
        tracked_tag=running.tag if running.in_repository else None,
        task_definitions=seen.task_definitions,
        # The rollback reads the newest HISTORY_DEPTH records: its pick is one of these, however small K is.
        rollback_targets=rollback_picks(history[:HISTORY_DEPTH]),
        deployments=tuple(history),
        hold=seen.hold,
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
        running=facts.seen.running,
        task_definition_lines=facts.seen.lines,
        notes=facts.seen.notes,
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
    return RepositoryPlan(repository=repository, services=services, plan=_union(services))


_RULE_ORDER = {rule: position for position, rule in enumerate(Rule)}


def _union(services: Sequence[ServicePlan]) -> RetentionPlan:
    """One decision per image: deleted when every service's own plan deletes it, else kept by the first rule (in
    the order of Rule) of the plans that keep it, its reason naming the services that keep it for their own
    reasons (what they run, resume to, deploy next, roll back to, their tag, a hold)."""
    if len(services) == 1:
        return services[0].prepared.plan
    plans = [(service.label, service.prepared.plan) for service in services]
    by_service = [(label, {decision.image.digest: decision for decision in plan.decisions}) for label, plan in plans]
    decisions = []
    for decision in plans[0][1].decisions:
        digest = decision.image.digest
        keeping = [(label, decided[digest]) for label, decided in by_service if not decided[digest].delete]
        if not keeping:
            decisions.append(decision)
            continue
        label, kept = min(keeping, key=lambda found: _RULE_ORDER[found[1].rule])
        others = ", ".join(name for name, found in keeping if found.rule in _SERVICE_RULES and name != label)
        also = f"also kept for {others}" if others else ""
        if kept.rule in _SERVICE_RULES:
            kept = kept.model_copy(update={"reason": f"{kept.reason} (for {label}{'; ' + also if also else ''})"})
        elif also:
            kept = kept.model_copy(update={"reason": f"{kept.reason} ({also})"})
        decisions.append(kept)
    notes = tuple(f"{label}: {note}" for label, plan in plans for note in plan.notes)
    return RetentionPlan(decisions=tuple(decisions), notes=notes)


def _next_up(state: StatePort, service_arn: str) -> tuple[Protected, ...]:
    """The images the memos of converge.py name: what a paused service resumes to, and a pending deployment's."""
    paused = state.get_memo(service_arn, PAUSED_IMAGE) or {}
    pending = state.get_memo(service_arn, PENDING_DEPLOY) or {}
    named = [
        (
            paused.get("digest"),
            "the paused service resumes to it (the version deployed before the pause)",
        ),
        (pending.get("to"), "a deployment Warden has pending deploys it"),
        (pending.get("resumed"), "the service runs it until Warden's pending deployment starts"),
        (pending.get("from"), "the tag pointed at it when Warden's pending deployment was decided"),
    ]
    return tuple(Protected(digest=digest, why=why) for digest, why in named if digest)


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


def _mode_of(services: Sequence[PurgeService], requested: ImagePurgeMode | None) -> tuple[ImagePurgeMode, str]:
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
    acting, why_not = _mode_of(services, mode)
    arns = tuple(member.settings.service.arn for member in services)
    lock = f"purge-images#{repository}"
    try:
        deps.state.begin_event(lock, now, lock_seconds=LOCK_SECONDS)
    except EventInProgress:
        reason = f"ignored, because another purge of {repository} is running"
        logger.info(reason, extra={"repository": repository, "trigger": trigger.value})
        count("PurgeRunsSkipped")
        return RepositoryPurgeResult(
            outcome=Outcome.BUSY, reason=reason, mode=acting, trigger=trigger, repository=repository, services=arns
        )
    try:
        return _run(repository, services, deps, now, trigger, acting, why_not, blocking=blocking)
    finally:
        deps.state.release_event(lock)


def _run(
    repository: str,
    services: Sequence[PurgeService],
    deps: RepositoryPurgeDeps,
    now: datetime,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode,
    why_not: str,
    *,
    blocking: bool,
) -> RepositoryPurgeResult:
    labels = _labels(services)
    facts: list[_Facts] = []
    blocked: list[tuple[str, PurgeService, str]] = []
    for label, member in zip(labels, services, strict=True):
        try:
            facts.append(_read_facts(member, deps, repository))
        except AwsUnavailable as error:
            if not blocking:
                raise
            # Never a partial keep set: without this service's facts, any deletion could be what it runs.
            blocked.append((label, member, str(error)))
    if blocked:
        return _blocked(deps, services, labels, blocked, now, repository, trigger, mode)
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
    outcome, reason = _summary(repository, plan, mode, why_not, report)
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
    quiet = trigger is PurgeTrigger.PUSH and not plan.deletions and not plan.notes
    if quiet:
        logger.info("nothing to purge after the push; no notification", extra={"repository": repository})
    else:
        notification = _notification(planned, mode, why_not, report)
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
    labels: Sequence[str],
    blocked: Sequence[tuple[str, PurgeService, str]],
    now: datetime,
    repository: str,
    trigger: PurgeTrigger,
    mode: ImagePurgeMode,
) -> RepositoryPurgeResult:
    """What a service needs could not be read: the repository is neither planned nor purged this run."""
    who = ", ".join(label for label, _, _ in blocked)
    reason = (
        f"nothing purged from {repository}: what {who} needs could not be read "
        f"({'; '.join(f'{label}: {error}' for label, _, error in blocked)})"
    )
    logger.warning(
        "image purge blocked",
        extra={
            "repository": repository,
            "trigger": trigger.value,
            "blocked_by": [m.settings.service.arn for _, m, _ in blocked],
        },
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
    shared = len(services)
    notification = Notification(
        subject=f"[warden] PURGE BLOCKED {repository}: nothing deleted, {who} could not be read",
        body=render(
            [
                (
                    "What happened",
                    [f"{label} ({member.settings.service.arn}): {error}" for label, member, error in blocked],
                ),
                (
                    f"Services using {repository} ({shared})",
                    [f"{label}: {member.settings.service.arn}" for label, member in zip(labels, services, strict=True)],
                ),
                (
                    "What next",
                    [
                        "Nothing to do if the error was passing: the next run (the daily one, or the next push) plans "
                        "again. If it repeats, check the service named above (warden doctor) and the state table.",
                    ],
                ),
            ],
            headline=(
                f"Warden deleted nothing from {repository}: it keeps the images of {shared} guarded "
                f"service{'s' if shared != 1 else ''}, and what {who} runs or may roll back to could not be read. "
                "An image is deleted only when Warden knows that no service using the repository needs it."
            ),
        ),
        event="images.unavailable",
        severity=Severity.WARNING,
    )
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
        blocked_by=tuple(member.settings.service.arn for _, member, _ in blocked),
    )


def _running_image(
    member: PurgeService, registry: RegistryPort, repository: str, keep: int, deployed: DeploymentRecord | None
) -> Seen:
    """What the service runs (and, on ECS, may roll back to), with a hold reason when what runs cannot be told
    (then nothing is deleted)."""
    settings = member.settings
    gone = f"the guarded service {settings.service.name} was not found, so Warden cannot tell which image it runs"
    try:
        snapshot = member.service.describe(settings.service.arn)
        if member.task_definitions is not None:
            history = member.task_definitions.task_definition_history(settings.service.arn, previous=keep)
            seen = _task_definition_images(history, registry, settings, repository, keep)
        else:
            running, hold = _image_of(snapshot, registry, settings, repository, deployed)
            seen = Seen(running=running, hold=hold)
    except ServiceNotFound:
        return Seen(running=RunningImage(description="unknown: the service was not found"), hold=gone)
    if seen.hold is None and snapshot.status is ServiceStatus.OPERATION_IN_PROGRESS:
        # A deployment in flight can still roll back to the image that ran before it, which may no longer
        # carry a tag (a push just moved it): delete nothing until the service has settled.
        hold = f"{snapshot.name} is in OPERATION_IN_PROGRESS (a deployment may still roll back), so this run waits"
        return seen.model_copy(update={"hold": hold})
    return seen


class _Resolved(BaseModel):
    """One container image reference, resolved against the repository."""

    model_config = ConfigDict(frozen=True)

    inside: bool
    digest: str | None = None
    tag: str | None = None


def _resolve(image: str, registry: RegistryPort, settings: Settings, repository: str) -> _Resolved:
    try:
        reference = parse_image_identifier(image)
    except ValueError:
        # No registry host (`nginx:1.27`): Docker Hub, never this account's ECR.
        return _Resolved(inside=False)
    if not reference.is_in(settings.service.account_id, settings.service.region, repository):
        return _Resolved(inside=False)
    if reference.digest:
        return _Resolved(inside=True, digest=reference.digest, tag=reference.tag)
    tag = reference.tag or "latest"
    return _Resolved(inside=True, digest=registry.resolve_tag(repository, tag), tag=tag)


def _task_definition_images(
    history: Sequence[TaskDefinitionImages],
    registry: RegistryPort,
    settings: Settings,
    repository: str,
    keep: int,
) -> Seen:
    """ECS: every image of the repository in a current task definition runs now; those of the `keep` revisions
    before it are rollback targets. A current tag that points at nothing holds the run; an older one is a note."""
    current = [definition for definition in history if definition.current]
    previous = [definition for definition in history if not definition.current][:keep]
    if not current:
        hold = "ECS lists no task definition for the service, so Warden cannot tell which images it runs"
        return Seen(running=RunningImage(description="unknown: the service has no task definition"), hold=hold)
    running: RunningImage | None = None
    holds: list[str] = []
    also_running: list[Protected] = []
    targets: list[Protected] = []
    described: list[str] = []
    lines: list[str] = []
    notes: list[str] = []
    foreign: dict[str, list[str]] = {}
    for definition in [*current, *previous]:
        name = definition.task_definition
        if definition.unreadable:
            if definition.current:
                holds.append(f"task definition {name} could not be read ({definition.unreadable})")
            else:
                notes.append(
                    f"Task definition {name} could not be read ({definition.unreadable}): "
                    "its images are not kept as a rollback target."
                )
            continue
        parts: list[str] = []
        for container in definition.containers:
            found = _resolve(container.image, registry, settings, repository)
            if not found.inside:
                foreign.setdefault(container.image, []).append(f"{container.container} in {name}")
                parts.append(f"{container.container}: {container.image} (not in {repository}, ignored)")
                continue
            if found.digest is None:
                parts.append(f"{container.container}: {repository}:{found.tag}, which points at no image")
                if definition.current:
                    holds.append(
                        f"the tag '{found.tag}' of container {container.container} in task definition {name} "
                        f"points at no image in {repository}"
                    )
                else:
                    notes.append(
                        f"Task definition {name} names {repository}:{found.tag} (container {container.container}), "
                        f"which points at no image now: a rollback to {name} could not pull it."
                    )
                continue
            shown = f"{repository}:{found.tag} = " if found.tag else f"{repository}@"
            parts.append(f"{container.container}: {shown}{short_digest(found.digest)}")
            if definition.current:
                why = f"deployed now (task definition {name}, container {container.container})"
                also_running.append(Protected(digest=found.digest, why=why))
                if running is None:
                    running = RunningImage(
                        description="",
                        identifier=container.image,
                        digest=found.digest,
                        tag=found.tag,
                        in_repository=True,
                    )
            else:
                targets.append(Protected(digest=found.digest, why=f"in task definition {name} (rollback target)"))
        text = f"{name}: {'; '.join(parts) or 'no container image'}"
        if definition.current:
            described.append(text)
        else:
            lines.append(f"Rollback target {text}")
    description = "task definition " + " | ".join(described) if described else "unknown"
    if running is None:
        running = RunningImage(description=f"{description} (no image of {repository} runs)")
    else:
        running = running.model_copy(update={"description": description})
    lines.append(
        f"Task definitions: the current one and the {keep} revision{'s' if keep != 1 else ''} before it are kept "
        f"(ECS rolls back to an earlier revision); {len(previous)} earlier revision"
        f"{'s' if len(previous) != 1 else ''} found."
    )
    if foreign:
        listed = "; ".join(f"{image} ({', '.join(where)})" for image, where in sorted(foreign.items()))
        notes.append(f"Ignored, not in {repository} (images of other registries are not this purge's): {listed}.")
    return Seen(
        running=running,
        hold="; ".join(holds) + ", so Warden cannot tell which images run" if holds else None,
        also_running=tuple(also_running),
        task_definitions=tuple(targets),
        lines=tuple(lines),
        notes=tuple(notes),
    )


def _image_of(
    snapshot: ServiceSnapshot,
    registry: RegistryPort,
    settings: Settings,
    repository: str,
    deployed: DeploymentRecord | None,
) -> tuple[RunningImage, str | None]:
    """App Runner: the digest the ImageIdentifier pins, else the newest deployment on record (the tag is shown,
    and kept by its own rule, but a push to it deploys nothing with auto-deploy off or while paused)."""
    identifier = snapshot.image_identifier
    if identifier is None:
        return RunningImage(description="no ECR image (the service does not run an image repository)"), None
    try:
        reference = parse_image_identifier(identifier)
    except ValueError as error:
        hold = f"App Runner's ImageIdentifier could not be understood ({error})"
        return RunningImage(description=f"unknown: {identifier}", identifier=identifier), hold
    inside = reference.is_in(settings.service.account_id, settings.service.region, repository)
    if reference.digest:
        where = "" if inside else f" (not in {repository})"
        return RunningImage(
            description=f"{identifier}{where}",
            identifier=identifier,
            digest=reference.digest,
            in_repository=inside,
        ), None
    if not inside:
        return RunningImage(
            description=f"{identifier}, which is not in {repository}: no image there is protected as running",
            identifier=identifier,
            tag=reference.tag,
        ), None
    tag = reference.tag or "latest"
    digest = registry.resolve_tag(repository, tag)
    if digest is None:
        hold = f"the service's tag '{tag}' points at no image in {repository}, so Warden cannot tell which image runs"
        return RunningImage(
            description=f"{repository}:{tag}, which points at no image",
            identifier=identifier,
            tag=tag,
            in_repository=True,
        ), hold
    if deployed is None:
        hold = (
            f"no deployment of {snapshot.name} is on record yet, so Warden cannot tell which image it runs "
            f"({repository}:{tag} points at {short_digest(digest)}, but a push deploys nothing with auto-deploy off, "
            "and a failed deployment leaves the image before it running); the purge deletes nothing until one is "
            "recorded: any App Runner deployment (on_deployment records it), `warden release` or `warden rollback`"
        )
        return RunningImage(
            description=f"{repository}:{tag} = {digest} (no deployment on record yet)",
            identifier=identifier,
            digest=digest,
            tag=tag,
            in_repository=True,
        ), hold
    return RunningImage(
        description=(
            f"{short_digest(deployed.digest)}{f' ({deployed.tag})' if deployed.tag else ''}: the newest deployment "
            f"on record ({deployed.at:%Y-%m-%d %H:%M} UTC, {deployed.source}); "
            f"{repository}:{tag} = {short_digest(digest)}"
        ),
        identifier=identifier,
        digest=deployed.digest,
        tag=tag,
        in_repository=True,
    ), None


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


def _summary(
    repository: str, plan: RetentionPlan, mode: ImagePurgeMode, why_not: str, report: DeletionReport | None
) -> tuple[Outcome, str]:
    total = len(plan.decisions)
    planned = len(plan.deletions)
    if report is None:
        if any(decision.rule is Rule.HOLD for decision in plan.decisions) or (plan.notes and not planned):
            return Outcome.HELD, f"nothing deleted from {repository}: {'; '.join(plan.notes)}"
        if not planned:
            return Outcome.NOTHING, f"nothing to purge in {repository}: all {total} images are kept"
        if mode is ImagePurgeMode.PLAN:
            return Outcome.PLANNED, (
                f"plan for {repository}: a real run would delete {planned} of {total} images "
                f"(up to {format_size(plan.bytes_to_delete)}); nothing deleted, because {why_not}"
            )
    assert report is not None
    problems = len(report.failed) + len(report.not_attempted)
    reason = (
        f"deleted {len(report.deleted)} of {total} images from {repository} "
        f"(up to {format_size(report.bytes_deleted)}, up to {format_usd(monthly_storage_cost(report.bytes_deleted))}"
        " a month)"
    )
    if report.already_gone:
        reason += f"; {len(report.already_gone)} already gone"
    if problems:
        reason += f"; {problems} not deleted"
        return Outcome.PARTIAL, reason
    return Outcome.PURGED, reason


_KEEP_LABELS = {
    Rule.DEPLOYED_NOW: "deployed now",
    Rule.NEXT_UP: "resumed to after the pause, or deployed next",
    Rule.TRACKED_TAG: "behind the service's tag or latest",
    Rule.TASK_DEFINITION: "in the last {keep_deployed} task definitions before the current one (rollback targets)",
    Rule.ROLLBACK_TARGET: "rollback targets (what a rollback would pick, and the last {keep_deployed} deployments)",
    Rule.SEMVER: "newest {keep_semver} semver releases",
    Rule.PULLED: "pulled within {keep_pulled_days} days",
    Rule.INDEX_CHILD: "children of kept indexes",
    Rule.TOO_RECENT: "too recent (untagged under {untagged_days} days, tagged under {tagged_days} days)",
    Rule.CHILDREN_UNKNOWN: "held: a kept index's children are unknown",
    Rule.HOLD: "held: the running image is unknown",
}
_NAMED_RULES = (Rule.DEPLOYED_NOW, Rule.NEXT_UP, Rule.TRACKED_TAG, Rule.TASK_DEFINITION, Rule.ROLLBACK_TARGET)
# The rules that keep an image for one service's own reasons (in a shared repository, the reason names it).
_SERVICE_RULES = frozenset({*_NAMED_RULES, Rule.HOLD})


def _notification(
    planned_run: RepositoryPlan,
    mode: ImagePurgeMode,
    why_not: str,
    report: DeletionReport | None,
) -> Notification:
    plan = planned_run.plan
    repository = planned_run.repository
    services = planned_run.services
    first = services[0]
    total = len(plan.decisions)
    planned = plan.deletions
    held = any(decision.rule in {Rule.HOLD, Rule.CHILDREN_UNKNOWN} for decision in plan.decisions)
    if report is None:
        size = format_size(plan.bytes_to_delete)
        saving = format_usd(monthly_storage_cost(plan.bytes_to_delete))
        event = "images.plan" if mode is ImagePurgeMode.PLAN else "images.purged"
        if planned:
            subject = f"[warden] PURGE PLAN {repository}: would delete {len(planned)} of {total} images, up to {size}"
            headline = (
                f"Plan for {repository}: a real run would delete {len(planned)} of {total} images, "
                f"up to {size} (up to {saving} a month). Nothing was deleted, because {why_not}."
            )
        elif held:
            subject = f"[warden] PURGE HELD {repository}: nothing deleted, {total} images kept"
            headline = f"Warden deleted nothing from {repository}: {' '.join(plan.notes)}"
        else:
            subject = f"[warden] NOTHING TO PURGE {repository}: all {total} images kept"
            headline = f"Nothing to purge in {repository}: every one of its {total} images is kept."
        deletion_title = f"Would delete ({len(planned)}, up to {size})"
        deletion_lines = _listed(planned)
        severity = Severity.WARNING if held else Severity.INFO
    else:
        deleted = {image.digest for image in report.deleted}
        size = format_size(report.bytes_deleted)
        saving = format_usd(monthly_storage_cost(report.bytes_deleted))
        problems = len(report.failed) + len(report.not_attempted)
        event = "images.purged"
        if problems:
            subject = (
                f"[warden] PURGED {repository} with {problems} failures: "
                f"{len(report.deleted)} of {len(planned)} images deleted"
            )
        else:
            subject = f"[warden] PURGED {repository}: {len(report.deleted)} images, up to {size} (up to {saving}/month)"
        headline = (
            f"Warden deleted {len(report.deleted)} of {total} images from {repository}, "
            f"up to {size} (up to {saving} a month)."
        )
        deletion_title = f"Deleted ({len(report.deleted)}, up to {size})"
        deletion_lines = _listed([decision for decision in planned if decision.image.digest in deleted])
        severity = Severity.WARNING if problems else Severity.INFO
    sections: list[tuple[str, Iterable[str]]] = []
    if len(services) > 1:
        headline += (
            f" The repository holds the images of {len(services)} guarded services: an image goes only when none "
            "of them needs it."
        )
        sections.append((f"Kept for ({len(services)})", [_service_line(service) for service in services]))
    sections += [
        ("What runs now", _runs_now_lines(services)),
        (deletion_title, deletion_lines),
        (f"Kept ({len(plan.kept)})", _kept_lines(plan, first.prepared.policy)),
    ]
    if report is not None:
        sections.append(("Not deleted", _failure_lines(report)))
    notes = [
        f"{service.label}: {note}" if len(services) > 1 else note
        for service in services
        for note in service.prepared.notes
    ]
    sections.append(("Notes", [*plan.notes, *notes, _size_note(plan, report)]))
    by_task_definitions = any(service.prepared.task_definition_lines for service in services)
    dry_run = any(service.settings.dry_run for service in services)
    sections.append(("What next", _next_lines(dry_run, mode, report, bool(planned), by_task_definitions)))
    sections.append(("Links", [_console_url(first.settings, repository)]))
    return Notification(subject=subject, body=render(sections, headline=headline), event=event, severity=severity)


def _listed(decisions: Sequence[Decision]) -> list[str]:
    lines = [_image_line(decision) for decision in decisions[:LISTED_DELETIONS]]
    rest = decisions[LISTED_DELETIONS:]
    if rest:
        rest_size = format_size(sum(decision.image.size_bytes for decision in rest))
        lines.append(f"... and {len(rest)} more ({rest_size}); `warden purge-images --plan` lists every image.")
    return lines


def _image_line(decision: Decision) -> str:
    image = decision.image
    tags = ", ".join(image.tags[:3]) + (" ..." if len(image.tags) > 3 else "") if image.tags else "(untagged)"
    return (
        f"{image.short_digest}  {tags}  pushed {image.pushed_at:%Y-%m-%d}  {format_size(image.size_bytes)}  "
        f"{decision.reason}"
    )


def _runs_now_lines(services: Sequence[ServicePlan]) -> list[str]:
    if len(services) == 1:
        prepared = services[0].prepared
        return [prepared.running.description, *prepared.task_definition_lines, *_history_lines(prepared)]
    lines = []
    for service in services:
        prepared = service.prepared
        known = len(prepared.deployments)
        lines += [
            f"{service.label}: {prepared.running.description}",
            *(f"{service.label}: {line}" for line in prepared.task_definition_lines),
            f"{service.label}: {known} deployment{'s' if known != 1 else ''} on record",
        ]
    policy = services[0].prepared.policy
    return [
        *lines,
        "Each service's deployment history is its own: every image a rollback of any of them could pick, and the "
        f"last {policy.keep_deployed} distinct images each one deployed, are kept as rollback targets.",
    ]


def _service_line(service: ServicePlan) -> str:
    """A service sharing the repository, and how many images its own plan keeps by name (what it runs, resumes
    to, deploys next or may roll back to, and its tag)."""
    named = sum(1 for decision in service.prepared.plan.decisions if decision.rule in _NAMED_RULES)
    held = (
        " (holds every deletion: see Notes)"
        if any(decision.rule is Rule.HOLD for decision in service.prepared.plan.decisions)
        else ""
    )
    return f"{service.label} ({service.settings.service.arn}): {named} image{'s' if named != 1 else ''} it needs{held}"


def _history_lines(prepared: PreparedPlan) -> list[str]:
    known = len(prepared.deployments)
    return [
        f"Deployment history: {known} deployment{'s' if known != 1 else ''} on record (deployments "
        "on_deployment saw, and Warden's releases and rollbacks; a push that deployed nothing is not "
        f"one). Every image a rollback could pick, and the last {prepared.policy.keep_deployed} distinct "
        "images deployed, are kept as rollback targets."
    ]


def _kept_lines(plan: RetentionPlan, policy: RetentionPolicy) -> list[str]:
    lines = []
    for rule, number in plan.counts().items():
        label = _KEEP_LABELS.get(rule)
        if label is not None:
            lines.append(f"{label.format(**policy.model_dump())}: {number}")
    for decision in plan.kept:
        if decision.rule in _NAMED_RULES:
            tags = ", ".join(decision.image.tags) or "untagged"
            lines.append(f"{decision.image.short_digest} ({tags}): {decision.reason}")
    return lines


def _failure_lines(report: DeletionReport) -> list[str]:
    lines = []
    by_code = Counter(failure.code for failure in report.failed)
    for code, number in sorted(by_code.items()):
        example = next(failure for failure in report.failed if failure.code == code)
        lines.append(f"{number} x {code}: {example.reason or 'no reason given'} (e.g. {short_digest(example.digest)})")
    if report.retries:
        lines.append(f"Retried per-item failures {report.retries} time(s) (throttling, upstream, KMS).")
    if report.already_gone:
        lines.append(f"{len(report.already_gone)} image(s) were already gone (ImageNotFound): nothing to do.")
    if report.aborted:
        lines.append(
            f"Stopped early: {report.aborted}. {len(report.not_attempted)} image(s) were not attempted; "
            "the next run plans again and deletes them."
        )
    return lines


def _size_note(plan: RetentionPlan, report: DeletionReport | None) -> str:
    return (
        "Sizes are ECR's imageSizeInBytes, which counts a layer shared by several images once per image: "
        "the storage freed is up to the figure shown, at $0.10 per GB-month."
        if plan.deletions or report
        else ""
    )


def _next_lines(
    dry_run: bool,
    mode: ImagePurgeMode,
    report: DeletionReport | None,
    planned: bool,
    by_task_definitions: bool,
) -> list[str]:
    """`by_task_definitions`: the run also kept the images of the service's last task definitions."""
    if dry_run:
        return ["DRY_RUN is on: no purge deletes anything until it is off (stack parameter DryRun=false)."]
    if mode is ImagePurgeMode.PLAN and planned:
        return [
            "Check the list above. To let the daily run delete what its plan lists, deploy with "
            "ImagePurgeMode=delete: sam deploy --parameter-overrides ImagePurgeMode=delete "
            "(repeat your other overrides).",
            "To delete it once now, from your shell: warden purge-images --apply",
        ]
    if report is not None:
        return [
            "Deleted images cannot be restored; rebuild and push one from source if you need it again.",
            "An image stays while it runs (or a paused service resumes to it), a pending deployment names it, a "
            "rollback would pick it or it is among the last deployments"
            + (" or in one of the last task definitions" if by_task_definitions else "")
            + ", carries latest or one of the newest semver tags, or was pulled recently.",
        ]
    return []


def _console_url(settings: Settings, repository: str) -> str:
    region = settings.service.region
    return (
        f"https://{region}.console.aws.amazon.com/ecr/repositories/private/"
        f"{settings.service.account_id}/{repository}?region={region}"
    )


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
    reason = f"nothing purged: {why}"
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
    what_next = "Set the stack parameter EcrRepository to the name of the app's ECR repository."
    if len(services) > 1:
        names = ", ".join(_labels(services))
        what_next = (
            f"Set the stack parameter EcrRepository, or the tag warden:repository of {names}, to the name of "
            "their ECR repository."
        )
    notification = Notification(
        subject=f"[warden] CANNOT PURGE {repository}: repository not found",
        body=render(
            [
                ("What happened", [why]),
                ("What next", [what_next]),
            ],
            headline=f"Warden could not purge images: ECR repository {repository!r} does not exist.",
        ),
        event="images.unavailable",
        severity=Severity.WARNING,
    )
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
