"""The image purge's words (warden/messages/images.py) as approved golden files, tests/golden/texts/images.*.txt.

Each notification the purge can send is rendered from facts: what each service runs (`WhatRuns`), its plan, why the
run only plans and what the deletions did. Six of them are rendered again by the use case with in-memory fakes
(one through the fleet's purge of a repository two services share) and must match the same files, so the run
publishes exactly what the renderer writes. `UPDATE_GOLDEN=1` rewrites the files after a wording change; review
the diff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeNotifier, FakeService, FakeState
from tests.golden.golden import assert_golden, assert_golden_notification
from tests.unit.test_purge_images_usecase import FakeRegistry
from warden.domain.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    DeleteFailure,
    ImageInfo,
    PlanOnly,
    PurgeTrigger,
    SharingService,
)
from warden.domain.notification import Notification
from warden.domain.pipeline import OBSERVED_SOURCE, RELEASE_SOURCE
from warden.domain.records import DeploymentRecord
from warden.domain.retention import (
    ContainerSeen,
    NextUp,
    Protected,
    Protection,
    RetentionPolicy,
    RunningImage,
    RunningKind,
    TaskDefinitionSeen,
    WhatRuns,
    plan_retention,
    rollback_picks,
    shared_plan,
)
from warden.domain.service import APP_RUNNER, ECS, ServiceStatus
from warden.errors import AwsUnavailable
from warden.messages.images import (
    blocked_reason,
    busy_reason,
    deleted_reason,
    held_reason,
    hold_sentence,
    missing_reason,
    nothing_reason,
    plan_notes,
    planned_reason,
    purge_blocked,
    purge_summary,
    repository_missing,
    running_line,
    task_definition_lines,
)
from warden.settings import Settings
from warden.usecases.purge_images import (
    DeletionReport,
    PreparedPlan,
    PurgeImagesDeps,
    PurgeService,
    RepositoryPlan,
    RepositoryPurgeDeps,
    ServicePlan,
    policy_of,
    purge_images,
    purge_repository,
)
from warden.usecases.rollback import HISTORY_DEPTH

NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
REPOSITORY = "consultation-app"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
WEB = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
STAGING = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-staging/" + "a" * 32
PRODUCTION = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-prod/" + "b" * 32
WORKER = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-worker"
SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": REPOSITORY,
}
DELETE = {"IMAGE_PURGE_MODE": "delete"}


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def image(name: str, *tags: str, days: float = 200, size: int = 50_000_000, index: bool = False) -> ImageInfo:
    return ImageInfo(
        digest=digest(name),
        tags=tags,
        pushed_at=NOW - timedelta(days=days),
        size_bytes=size,
        media_type=OCI_INDEX if index else DOCKER_MANIFEST,
    )


def strays(count: int, prefix: str = "old") -> list[ImageInfo]:
    """Old untagged builds nobody deployed: what a purge is for."""
    return [image(f"{prefix}{n}", days=30 + n) for n in range(count)]


def settings(arn: str = WEB, **env: str) -> Settings:
    return Settings.from_env({**ENV, "SERVICE_ARN": arn, **env})


def deployed(name: str, days: float, tag: str | None = None, source: str = OBSERVED_SOURCE) -> DeploymentRecord:
    return DeploymentRecord(digest=digest(name), tag=tag, at=NOW - timedelta(days=days), source=source)


# -- the facts: what a service runs, its plan, the plan of the repository -----------------------------------------


def app_runner(
    running: RunningImage, *, name: str = "consultation-app", status: ServiceStatus | None = None
) -> WhatRuns:
    return WhatRuns(
        repository=REPOSITORY,
        service=name,
        platform=APP_RUNNER,
        status=status or ServiceStatus.RUNNING,
        running=running,
    )


def deployed_latest(record: DeploymentRecord, *, tag: str = "latest", points_at: str | None = None) -> RunningImage:
    """An App Runner service following `tag`, running the newest deployment on record."""
    return RunningImage(
        kind=RunningKind.DEPLOYED,
        identifier=f"{REGISTRY}/{REPOSITORY}:{tag}",
        digest=record.digest,
        tag=tag,
        in_repository=True,
        points_at=points_at or record.digest,
        deployed=record,
    )


def not_found(name: str = "consultation-app") -> WhatRuns:
    return WhatRuns(repository=REPOSITORY, service=name, running=RunningImage(kind=RunningKind.NOT_FOUND))


def container(name: str, reference: str, resolved: str | None = None) -> ContainerSeen:
    """A container naming `reference` (":tag" or "@digest" of the repository, or another registry's image)."""
    if not reference.startswith((":", "@")):
        return ContainerSeen(container=name, image=reference, inside=False)
    tag = reference[1:] if reference.startswith(":") else None
    found = digest(resolved) if resolved else (reference[1:] if tag is None else None)
    return ContainerSeen(
        container=name, image=f"{REGISTRY}/{REPOSITORY}{reference}", inside=True, digest=found, tag=tag
    )


def revision(
    number: int, *containers: ContainerSeen, current: bool = False, unreadable: str | None = None
) -> TaskDefinitionSeen:
    return TaskDefinitionSeen(
        task_definition=f"consultation-app:{number}", current=current, containers=containers, unreadable=unreadable
    )


def ecs(*definitions: TaskDefinitionSeen, status: ServiceStatus = ServiceStatus.RUNNING) -> WhatRuns:
    """An ECS service: what runs is its current task definitions' first image of the repository."""
    first = next(
        (
            found
            for definition in definitions
            if definition.current
            for found in definition.containers
            if found.inside and found.digest
        ),
        None,
    )
    running = RunningImage(kind=RunningKind.TASK_DEFINITIONS)
    if first is not None:
        running = RunningImage(
            kind=RunningKind.TASK_DEFINITIONS,
            identifier=first.image,
            digest=first.digest,
            tag=first.tag,
            in_repository=True,
        )
    if not any(definition.current for definition in definitions):
        running, definitions = RunningImage(kind=RunningKind.NO_TASK_DEFINITION), ()
    return WhatRuns(
        repository=REPOSITORY,
        service="consultation-app",
        platform=ECS,
        status=status,
        running=running,
        task_definitions=definitions,
    )


def prepared(
    seen: WhatRuns,
    images: Sequence[ImageInfo],
    *,
    history: Sequence[DeploymentRecord] = (),
    policy: RetentionPolicy | None = None,
    next_up: Sequence[Protected] = (),
    children: dict[str, Sequence[str]] | None = None,
    unreadable: Sequence[str] = (),
) -> PreparedPlan:
    """One service's plan from what it runs, as the purge makes it (`history`: newest first)."""
    policy = policy or policy_of(settings())
    running, hold = seen.running, seen.hold
    protection = Protection(
        running_digest=None if seen.platform == ECS else running.digest,
        next_up=tuple(next_up),
        also_running=seen.also_running,
        tracked_tag=running.tag if running.in_repository else None,
        task_definitions=seen.rollback_revisions,
        rollback_targets=rollback_picks(history[:HISTORY_DEPTH]),
        deployments=tuple(history),
        hold=None if hold is None else hold.value,
    )
    plan = plan_retention(images, protection, policy, NOW, children=children or {}, unreadable=unreadable)
    return PreparedPlan(repository=REPOSITORY, seen=seen, policy=policy, plan=plan, deployments=tuple(history))


def repository(*services: tuple[str, Settings, PreparedPlan]) -> RepositoryPlan:
    plans = tuple(ServicePlan(label=label, settings=chosen, prepared=plan) for label, chosen, plan in services)
    return RepositoryPlan(
        repository=REPOSITORY,
        services=plans,
        plan=shared_plan([(service.label, service.prepared.plan) for service in plans]),
    )


def alone(plan: PreparedPlan, chosen: Settings | None = None) -> RepositoryPlan:
    return repository(("consultation-app", chosen or settings(), plan))


def all_deleted(planned: RepositoryPlan) -> DeletionReport:
    return DeletionReport(deleted=tuple(decision.image for decision in planned.plan.deletions), calls=1)


# -- the scenarios, each once as facts ------------------------------------------------------------------------

CURRENT = image("current", "latest", "v1.4.0", days=3)
RAN_CURRENT = deployed("current", days=3)


def web_plan(*images: ImageInfo, **env: str) -> PreparedPlan:
    """consultation-app runs `current` (latest, v1.4.0), deployed three days ago, next to `images`."""
    return prepared(
        app_runner(deployed_latest(RAN_CURRENT)),
        [CURRENT, *images],
        history=[RAN_CURRENT],
        policy=policy_of(settings(**env)),
    )


def planned_run() -> RepositoryPlan:
    return alone(web_plan(*strays(3)))


def partial_run() -> tuple[RepositoryPlan, DeletionReport]:
    """Six strays: old0 throttled once then deleted, old1 refused (referenced by an index), old2 gone meanwhile."""
    planned = alone(web_plan(*strays(6), **DELETE), settings(**DELETE))
    gone = {digest("old1"), digest("old2")}
    report = DeletionReport(
        deleted=tuple(d.image for d in planned.plan.deletions if d.image.digest not in gone),
        already_gone=(digest("old2"),),
        failed=(
            DeleteFailure(
                digest=digest("old1"),
                code="ImageReferencedByManifestList",
                reason="ImageReferencedByManifestList for the test",
            ),
        ),
        calls=3,
        retries=1,
    )
    return planned, report


def stopped_run() -> tuple[RepositoryPlan, DeletionReport]:
    """ECR itself failed after the first batch: the rest was not attempted."""
    planned = alone(web_plan(*strays(4), **DELETE), settings(**DELETE))
    first, *rest = planned.plan.deletions
    report = DeletionReport(
        deleted=(first.image,),
        not_attempted=tuple(d.image.digest for d in rest),
        aborted="ecr BatchDeleteImage failed after botocore's retries: ServerException",
        calls=1,
    )
    return planned, report


def tag_points_at_nothing() -> PreparedPlan:
    """The service follows v9.9.9, which no image carries."""
    running = RunningImage(
        kind=RunningKind.TAG_POINTS_AT_NOTHING,
        identifier=f"{REGISTRY}/{REPOSITORY}:v9.9.9",
        tag="v9.9.9",
        in_repository=True,
    )
    return prepared(
        app_runner(running), [CURRENT, *strays(4)], history=[RAN_CURRENT], policy=policy_of(settings(**DELETE))
    )


def not_deployed_yet() -> PreparedPlan:
    running = RunningImage(
        kind=RunningKind.NOT_DEPLOYED_YET,
        identifier=f"{REGISTRY}/{REPOSITORY}:latest",
        digest=digest("current"),
        tag="latest",
        in_repository=True,
        points_at=digest("current"),
    )
    return prepared(app_runner(running), [CURRENT, *strays(3)])


def in_progress() -> PreparedPlan:
    seen = app_runner(deployed_latest(RAN_CURRENT), status=ServiceStatus.OPERATION_IN_PROGRESS)
    return prepared(seen, [CURRENT, *strays(3)], history=[RAN_CURRENT])


def image_unreadable() -> PreparedPlan:
    identifier = f"{REGISTRY}/{REPOSITORY}:not a tag"
    running = RunningImage(
        kind=RunningKind.IMAGE_UNREADABLE, identifier=identifier, problem="'not a tag' is not a valid image tag"
    )
    return prepared(app_runner(running), [CURRENT, *strays(2)], history=[RAN_CURRENT])


def children_unknown() -> PreparedPlan:
    """`latest` is an index whose manifest could not be read: no image but an index goes."""
    index = image("release", "latest", days=3, index=True)
    record = deployed("release", days=3)
    return prepared(
        app_runner(deployed_latest(record)), [index, *strays(2)], history=[record], unreadable=[digest("release")]
    )


def paused_with_history() -> PreparedPlan:
    """A paused service: it resumes to `before-pause`; a release is pending; two earlier releases on record."""
    history = [
        deployed("current", days=3),
        deployed("v1.3.0", days=10, tag="v1.3.0", source=RELEASE_SOURCE),
        deployed("v1.2.0", days=40, tag="v1.2.0", source=RELEASE_SOURCE),
    ]
    images = [
        CURRENT,
        image("v1.3.0", "v1.3.0", days=120),
        image("v1.2.0", "v1.2.0", days=150),
        image("before-pause", days=60),
        image("pending", days=50),
        *strays(2),
    ]
    next_up = [
        Protected(digest=digest("before-pause"), why=NextUp.RESUMES_TO.value),
        Protected(digest=digest("pending"), why=NextUp.PENDING.value),
    ]
    env = {**DELETE, "IMAGE_KEEP_SEMVER": "0", "IMAGE_KEEP_DEPLOYED": "1"}
    seen = app_runner(deployed_latest(history[0]), status=ServiceStatus.PAUSED)
    return prepared(seen, images, history=history, next_up=next_up, policy=policy_of(settings(**env)))


ECS_DELETE = {**DELETE, "SERVICE_ARN": WORKER, "IMAGE_KEEP_SEMVER": "0", "IMAGE_KEEP_DEPLOYED": "3"}


def ecs_plan() -> PreparedPlan:
    """Revision 41 runs v1.4.0 with a log router from ECR Public; 40 is pinned by digest, 39 names a tag deleted long
    ago, 38 could not be read."""
    seen = ecs(
        revision(41, container("web", ":v1.4.0", "v1.4.0"), container("log_router", SIDECAR), current=True),
        revision(40, container("web", f"@{digest('pinned')}"), container("log_router", SIDECAR)),
        revision(39, container("web", ":v0.9.0")),
        revision(38, unreadable="ClientException: Unable to describe task definition."),
    )
    images = [image(f"v1.{n}.0", f"v1.{n}.0", days=300 - n) for n in range(5)] + [image("pinned", days=400)]
    return prepared(seen, images, policy=policy_of(settings(WORKER, **ECS_DELETE)))


def ecs_held() -> PreparedPlan:
    """The current revision names a tag that no image carries."""
    seen = ecs(
        revision(41, container("web", ":v9.9.9"), current=True), revision(40, container("web", ":v1.3.0", "v1.3.0"))
    )
    images = [image("v1.3.0", "v1.3.0", days=200), *strays(2)]
    return prepared(seen, images, policy=policy_of(settings(WORKER, **ECS_DELETE)))


def no_task_definition() -> PreparedPlan:
    return prepared(ecs(), [*strays(2)], policy=policy_of(settings(WORKER, **ECS_DELETE)))


# Staging follows latest, production prod, both in one repository (the fleet's purge of issue 15).
FLEET_ENV = {
    **DELETE,
    "IMAGE_UNTAGGED_DAYS": "1",
    "IMAGE_TAGGED_DAYS": "1",
    "IMAGE_KEEP_SEMVER": "0",
    "IMAGE_KEEP_PULLED_DAYS": "0",
}
FLEET_IMAGES = [
    image("prod-now", "prod", days=60),
    image("prod-before", days=100),
    image("staging-now", "latest", days=3),
    image("staging-before", days=20),
    *(image(f"stray-{n}", days=30 + n) for n in range(3)),
]
STAGING_HISTORY = [deployed("staging-now", days=3), deployed("staging-before", days=20)]
PRODUCTION_HISTORY = [deployed("prod-now", days=60), deployed("prod-before", days=100)]


def fleet_run(*, production_found: bool = True) -> RepositoryPlan:
    policy = policy_of(settings(STAGING, **FLEET_ENV))
    staging = prepared(
        app_runner(deployed_latest(STAGING_HISTORY[0]), name="consultation-staging"),
        FLEET_IMAGES,
        history=STAGING_HISTORY,
        policy=policy,
    )
    production_seen = (
        app_runner(deployed_latest(PRODUCTION_HISTORY[0], tag="prod"), name="consultation-prod")
        if production_found
        else not_found("consultation-prod")
    )
    production = prepared(production_seen, FLEET_IMAGES, history=PRODUCTION_HISTORY, policy=policy)
    return repository(
        ("consultation-staging", settings(STAGING, **FLEET_ENV), staging),
        ("consultation-prod", settings(PRODUCTION, **FLEET_ENV), production),
    )


FLEET_BLOCKED = [
    SharingService(label="consultation-staging", arn=STAGING),
    SharingService(
        label="consultation-prod",
        arn=PRODUCTION,
        unreadable="dynamodb Query failed after botocore's retries: ProvisionedThroughputExceededException",
    ),
]
MISSING = "ECR repository 'consultation-app' does not exist (check ECR_REPOSITORY)"


# -- every notification, from facts -----------------------------------------------------------------------------

NOTIFICATIONS: dict[str, Callable[[], Notification]] = {
    # The default plan mode: what a real run would delete, and how to let it.
    "images.plan": lambda: purge_summary(planned_run(), PlanOnly.MODE, None),
    # DRY_RUN: a plan, whatever the mode, and how to turn it off.
    "images.plan.dry_run": lambda: purge_summary(
        alone(web_plan(*strays(2), DRY_RUN="true"), settings(DRY_RUN="true")), PlanOnly.DRY_RUN, None
    ),
    # `warden purge-images` asked to plan.
    "images.plan.requested": lambda: purge_summary(planned_run(), PlanOnly.REQUESTED, None),
    # Deleted, with the saving.
    "images.purged": lambda: purge_summary(
        (planned := alone(web_plan(*strays(3), **DELETE), settings(**DELETE))), None, all_deleted(planned)
    ),
    # More deletions than a notification lists.
    "images.purged.long": lambda: purge_summary(
        (planned := alone(web_plan(*strays(45), **DELETE), settings(**DELETE))), None, all_deleted(planned)
    ),
    # A paused service: what it resumes to, a pending deployment's image and a rollback target stay.
    "images.purged.paused": lambda: purge_summary(
        (planned := alone(paused_with_history(), settings(**DELETE))), None, all_deleted(planned)
    ),
    # Some deletions failed: retried, refused, already gone.
    "images.partial": lambda: purge_summary(*partial_run()[:1], None, partial_run()[1]),
    # ECR failed mid-run: the rest not attempted.
    "images.partial.stopped": lambda: purge_summary(stopped_run()[0], None, stopped_run()[1]),
    # Nothing to delete (the daily run says so; a push stays quiet).
    "images.nothing": lambda: purge_summary(alone(web_plan()), PlanOnly.MODE, None),
    # The service's tag points at nothing: every deletion held.
    "images.held.tag_points_at_nothing": lambda: purge_summary(
        alone(tag_points_at_nothing(), settings(**DELETE)), None, None
    ),
    "images.held.not_found": lambda: purge_summary(
        alone(prepared(not_found(), [CURRENT, *strays(2)], history=[RAN_CURRENT])), PlanOnly.MODE, None
    ),
    "images.held.not_deployed_yet": lambda: purge_summary(alone(not_deployed_yet()), PlanOnly.MODE, None),
    "images.held.in_progress": lambda: purge_summary(alone(in_progress()), PlanOnly.MODE, None),
    "images.held.image_unreadable": lambda: purge_summary(alone(image_unreadable()), PlanOnly.MODE, None),
    # A kept index's manifest could not be read: nothing but indexes goes.
    "images.held.children_unknown": lambda: purge_summary(alone(children_unknown()), PlanOnly.MODE, None),
    # ECS: the task definitions say what runs and what a rollback goes back to; notes for what is ignored.
    "images.ecs": lambda: purge_summary(
        (planned := alone(ecs_plan(), settings(WORKER, **ECS_DELETE))), None, all_deleted(planned)
    ),
    "images.ecs.held": lambda: purge_summary(alone(ecs_held(), settings(WORKER, **ECS_DELETE)), None, None),
    "images.ecs.no_task_definition": lambda: purge_summary(
        alone(no_task_definition(), settings(WORKER, **ECS_DELETE)), None, None
    ),
    # One repository, two services: only what neither needs goes.
    "images.fleet": lambda: purge_summary((planned := fleet_run()), None, all_deleted(planned)),
    # One of them was not found: every deletion held, and the note names it.
    "images.fleet.held": lambda: purge_summary(fleet_run(production_found=False), None, None),
    # What one of them needs could not be read: nothing planned.
    "images.blocked": lambda: purge_blocked(REPOSITORY, FLEET_BLOCKED),
    "images.missing": lambda: repository_missing(REPOSITORY, MISSING, ["consultation-app"]),
    "images.missing.fleet": lambda: repository_missing(
        REPOSITORY, MISSING, ["consultation-staging", "consultation-prod"]
    ),
}


@pytest.mark.parametrize("name", NOTIFICATIONS)
def test_each_image_purge_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one kind of purge run, When the renderer writes its notification
    notification = NOTIFICATIONS[name]()
    # Then it is the approved text
    assert_golden_notification(name, notification)


WHAT_RUNS: dict[str, Callable[[], PreparedPlan]] = {
    "deployed": lambda: web_plan(),
    "pinned": lambda: prepared(
        app_runner(
            RunningImage(
                kind=RunningKind.PINNED,
                identifier=f"{REGISTRY}/{REPOSITORY}@{digest('pinned')}",
                digest=digest("pinned"),
                in_repository=True,
            )
        ),
        [image("pinned", days=400)],
    ),
    "pinned elsewhere": lambda: prepared(
        app_runner(
            RunningImage(
                kind=RunningKind.PINNED, identifier=f"{REGISTRY}/another-app@{digest('x')}", digest=digest("x")
            )
        ),
        [],
    ),
    "another repository": lambda: prepared(
        app_runner(
            RunningImage(kind=RunningKind.OTHER_REPOSITORY, identifier=f"{REGISTRY}/another-app:latest", tag="latest")
        ),
        [],
    ),
    "no image repository": lambda: prepared(app_runner(RunningImage(kind=RunningKind.NO_IMAGE_REPOSITORY)), []),
    "not found": lambda: prepared(not_found(), []),
    "image unreadable": image_unreadable,
    "tag points at nothing": tag_points_at_nothing,
    "not deployed yet": not_deployed_yet,
    "in progress": in_progress,
    "children unknown": children_unknown,
    "ecs": ecs_plan,
    "ecs held": ecs_held,
    "ecs no task definition": no_task_definition,
    "ecs unreadable": lambda: prepared(
        ecs(revision(41, unreadable="ClientException: gone", current=True)),
        [],
        policy=policy_of(settings(WORKER, **ECS_DELETE)),
    ),
}


def test_what_runs_and_why_a_run_holds_read_as_approved() -> None:
    # Given what a run can find a service runs, When `warden purge-images --plan` prints it (Running, then the
    # task definitions, then the notes)
    blocks = []
    for case, make in WHAT_RUNS.items():
        plan = make()
        seen = plan.seen
        blocks += [
            f"[{case}]",
            f"Running  {running_line(seen)}",
            *(f"         {line}" for line in task_definition_lines(seen, plan.policy.keep_deployed)),
            f"Hold     {hold_sentence(seen) if seen.hold else '-'}",
            *(f"Note     {note}" for note in plan_notes(plan)),
            "",
        ]
    # Then each is the approved text
    assert_golden("images.what_runs", "\n".join(blocks))


def test_the_reason_of_each_outcome_reads_as_approved() -> None:
    # Given a run of each outcome, When its reason is written (the action log, the result, the CLI's "Result")
    partial, report = partial_run()
    purged = alone(web_plan(*strays(3), **DELETE), settings(**DELETE))
    reasons = [
        f"busy:          {busy_reason(REPOSITORY)}",
        f"planned:       {planned_reason(planned_run(), PlanOnly.MODE)}",
        f"planned:       {planned_reason(planned_run(), PlanOnly.DRY_RUN)}",
        f"planned:       {planned_reason(planned_run(), PlanOnly.REQUESTED)}",
        f"nothing:       {nothing_reason(alone(web_plan()))}",
        f"held:          {held_reason(alone(tag_points_at_nothing()))}",
        f"held:          {held_reason(alone(children_unknown()))}",
        f"held:          {held_reason(fleet_run(production_found=False))}",
        f"purged:        {deleted_reason(purged, all_deleted(purged))}",
        f"partial:       {deleted_reason(partial, report)}",
        f"partial:       {deleted_reason(*stopped_run())}",
        f"blocked:       {blocked_reason(REPOSITORY, FLEET_BLOCKED)}",
        f"no_repository: {missing_reason(MISSING)}",
    ]
    # Then each is the approved sentence
    assert_golden("images.reasons", "\n".join(reasons) + "\n")


# -- the same notifications, through the use case with fakes --------------------------------------------------


@dataclass
class World:
    """consultation-app on App Runner, following latest, and its repository, as the fakes hold them."""

    registry: FakeRegistry
    service: FakeService
    state: FakeState
    notifier: FakeNotifier

    @property
    def deps(self) -> PurgeImagesDeps:
        return PurgeImagesDeps(self.service, self.registry, self.notifier, self.state, sleep=lambda _: None)


def world(*images: ImageInfo) -> World:
    registry = FakeRegistry()
    registry.add(CURRENT, *images)
    state = FakeState()
    state.record_deployment(WEB, RAN_CURRENT.digest, RAN_CURRENT.tag, RAN_CURRENT.at, RAN_CURRENT.source)
    return World(registry, FakeService(arn=WEB), state, FakeNotifier())


def plan_run() -> Notification:
    run = world(*strays(3))
    purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    (sent,) = run.notifier.sent
    return sent


def partial_usecase_run() -> Notification:
    run = world(*strays(6))
    run.registry.failing = {
        digest("old0"): ["UpstreamTooManyRequests"],
        digest("old1"): ["ImageReferencedByManifestList"],
    }
    run.registry.vanish = {digest("old2")}
    purge_images(run.deps, settings(**DELETE), NOW, trigger=PurgeTrigger.SCHEDULE)
    (sent,) = run.notifier.sent
    return sent


def held_run() -> Notification:
    run = world(*strays(4))
    run.service.image = f"{REGISTRY}/{REPOSITORY}:v9.9.9"
    purge_images(run.deps, settings(**DELETE), NOW, trigger=PurgeTrigger.SCHEDULE)
    (sent,) = run.notifier.sent
    return sent


def missing_run() -> Notification:
    run = world()
    run.registry.missing = True
    purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    (sent,) = run.notifier.sent
    return sent


class UnavailableHistory(FakeState):
    """The state table, refusing to read production's deployment history."""

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        if service_arn == PRODUCTION:
            raise AwsUnavailable(
                "dynamodb Query failed after botocore's retries: ProvisionedThroughputExceededException"
            )
        return super().list_deployments(service_arn, limit)


def fleet_usecase_run(state: FakeState | None = None) -> Notification:
    """The fleet's purge of the repository staging and production share."""
    registry = FakeRegistry()
    registry.add(*FLEET_IMAGES)
    state = state or FakeState()
    for arn, history in ((STAGING, STAGING_HISTORY), (PRODUCTION, PRODUCTION_HISTORY)):
        for record in history:
            state.record_deployment(arn, record.digest, record.tag, record.at, record.source)
    notifier = FakeNotifier()
    services = [
        PurgeService(
            settings=settings(STAGING, **FLEET_ENV),
            service=FakeService(arn=STAGING, name="consultation-staging", image=f"{REGISTRY}/{REPOSITORY}:latest"),
        ),
        PurgeService(
            settings=settings(PRODUCTION, **FLEET_ENV),
            service=FakeService(arn=PRODUCTION, name="consultation-prod", image=f"{REGISTRY}/{REPOSITORY}:prod"),
        ),
    ]
    deps = RepositoryPurgeDeps(registry, notifier, state, sleep=lambda _: None)
    purge_repository(REPOSITORY, services, deps, NOW, trigger=PurgeTrigger.SCHEDULE)
    (sent,) = notifier.sent
    return sent


RUNS: dict[str, Callable[[], Notification]] = {
    "images.plan": plan_run,
    "images.partial": partial_usecase_run,
    "images.held.tag_points_at_nothing": held_run,
    "images.missing": missing_run,
    "images.fleet": fleet_usecase_run,
    "images.blocked": lambda: fleet_usecase_run(UnavailableHistory()),
}


@pytest.mark.parametrize("name", RUNS)
def test_the_purge_publishes_exactly_what_the_renderer_writes(name: str) -> None:
    # Given a repository and the services using it, in fakes, When the purge (or the fleet's purge) runs
    sent = RUNS[name]()
    # Then the one notification it publishes is the approved text the renderer writes from the same facts
    assert_golden_notification(name, sent)
    assert sent == NOTIFICATIONS[name]()
