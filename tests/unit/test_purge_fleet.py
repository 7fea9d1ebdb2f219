"""The purge of a repository several guarded services share (issue 15): only what none of them needs goes.

The staging service follows `latest` and the production service `prod`, both in one repository. A purge made with
one service's facts alone deletes what the other runs; `purge_repository` makes each service's own plan (from its
own deployment history and memos) and deletes only what every one of those plans deletes.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tests.fakes import FakeBudgets, FakeNotifier, FakeOperations, FakeService, FakeState, platform_target
from tests.unit.test_purge_ecs import FakeTaskDefinitions, ours, revision
from tests.unit.test_purge_history_properties import World, histories
from tests.unit.test_purge_images_usecase import REGISTRY, FakeRegistry, image
from warden.domain.claims import Claim, ClaimReason
from warden.domain.images import (
    DOCKER_MANIFEST,
    BatchResult,
    DeleteFailure,
    ImageInfo,
    PlanOnly,
    PurgeTrigger,
    SharingService,
)
from warden.domain.pipeline import OBSERVED_SOURCE, ImageManifest, NoRollbackTarget, RegistryLogin, RepositoryInfo
from warden.domain.records import DeploymentRecord
from warden.domain.retention import NAMED_RULES, HeldBack, HoldKind, NextUp, Rule, RunningKind
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import AwsUnavailable, InvalidServiceState, SettingsError, StateUnavailable
from warden.messages.images import blocked_reason, purge_blocked, purge_summary, repository_missing
from warden.settings import ImagePurgeMode, Settings
from warden.usecases.claims import ClaimDeps, place_claim, release_claim
from warden.usecases.converge import PAUSED_IMAGE, PENDING_DEPLOY
from warden.usecases.deployment import DeploymentDeps, handle_event
from warden.usecases.purge_images import (
    Outcome,
    PurgeImagesDeps,
    PurgeResult,
    PurgeService,
    RepositoryPlan,
    RepositoryPurgeDeps,
    plan_repository,
    prepare_plan,
    purge_images,
    purge_repository,
)
from warden.usecases.rollback import RollbackDeps, plan_retag, roll_back
from warden.usecases.schedule import Job, ScheduleDeps, run_job

NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
REPOSITORY = "consultation-app"
STAGING = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-staging/" + "a" * 32
PRODUCTION = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-prod/" + "b" * 32
WORKER = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-worker"
ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": REPOSITORY,
    "IMAGE_PURGE_MODE": "delete",
    # Only the rules this issue is about: no semver, pull or age rule keeps these old images.
    "IMAGE_UNTAGGED_DAYS": "1",
    "IMAGE_TAGGED_DAYS": "1",
    "IMAGE_KEEP_SEMVER": "0",
    "IMAGE_KEEP_PULLED_DAYS": "0",
}


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def settings_of(arn: str, **env: str) -> Settings:
    return Settings.from_env({**ENV, "SERVICE_ARN": arn, **env})


@dataclass
class PartlyUnavailableState(FakeState):
    """The state table, refusing to read the history and memos of the services in `unavailable`."""

    unavailable: set[str] = field(default_factory=set)

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        if service_arn in self.unavailable:
            raise StateUnavailable("dynamodb Query failed after botocore's retries: ProvisionedThroughputExceeded")
        return super().list_deployments(service_arn, limit)


@dataclass
class Unreachable:
    """A service App Runner does not describe: DescribeService fails after botocore's retries."""

    def describe(self, service_arn: str) -> ServiceSnapshot:
        raise AwsUnavailable("apprunner DescribeService failed after botocore's retries: InternalServiceErrorException")


@dataclass
class Fleet:
    """Staging (follows latest) and production (follows prod) of one app, sharing its repository."""

    registry: FakeRegistry = field(default_factory=FakeRegistry)
    state: PartlyUnavailableState = field(default_factory=PartlyUnavailableState)
    notifier: FakeNotifier = field(default_factory=FakeNotifier)
    staging: Any = field(
        default_factory=lambda: FakeService(
            arn=STAGING, name="consultation-staging", image=f"{REGISTRY}/{REPOSITORY}:latest"
        )
    )
    production: Any = field(
        default_factory=lambda: FakeService(
            arn=PRODUCTION, name="consultation-prod", image=f"{REGISTRY}/{REPOSITORY}:prod"
        )
    )

    @property
    def deps(self) -> RepositoryPurgeDeps:
        return RepositoryPurgeDeps(
            registry=self.registry, notifier=self.notifier, state=self.state, sleep=lambda _: None
        )

    def services(self, **env: str) -> list[PurgeService]:
        return [
            PurgeService(settings=settings_of(STAGING, **env), service=self.staging),
            PurgeService(settings=settings_of(PRODUCTION, **env), service=self.production),
        ]

    def purge(self, trigger: PurgeTrigger = PurgeTrigger.SCHEDULE, **env: str) -> Any:
        return purge_repository(REPOSITORY, self.services(**env), self.deps, NOW, trigger=trigger)

    def plan(self, services: Sequence[PurgeService] | None = None, **env: str) -> RepositoryPlan:
        """The plan of the repository now, for `services` (both, by default): what the purge decides from."""
        return plan_repository(REPOSITORY, services or self.services(**env), self.deps, NOW)

    def alone(self, arn: str, service: Any) -> set[str]:
        """What a purge for this one service would delete (today's purge, before issue 15)."""
        deps = PurgeImagesDeps(service=service, registry=self.registry, notifier=self.notifier, state=self.state)
        return {decision.image.digest for decision in prepare_plan(deps, settings_of(arn), NOW).plan.deletions}

    @property
    def sent(self) -> Any:
        (sent,) = self.notifier.sent
        return sent


@pytest.fixture
def fleet() -> Fleet:
    """Production runs prod-now (prod, 60 days old) and ran prod-before; staging runs staging-now (latest) and ran
    staging-before; three old strays nobody deployed. Every image is old enough for the age rules to delete it."""
    fleet = Fleet()
    fleet.registry.add(
        image("prod-now", "prod", days=60),
        image("prod-before", days=100),
        image("staging-now", "latest", days=3),
        image("staging-before", days=20),
        *(image(f"stray-{n}", days=30 + n) for n in range(3)),
    )
    for arn, name, days in (
        (PRODUCTION, "prod-before", 100),
        (PRODUCTION, "prod-now", 60),
        (STAGING, "staging-before", 20),
        (STAGING, "staging-now", 3),
    ):
        fleet.state.record_deployment(arn, digest(name), None, NOW - timedelta(days=days), OBSERVED_SOURCE)
    return fleet


NEEDED = {digest(name) for name in ("prod-now", "prod-before", "staging-now", "staging-before")}
STRAYS = {digest(f"stray-{n}") for n in range(3)}


def test_a_repository_shared_by_staging_and_production_keeps_what_either_runs_or_rolls_back_to(fleet: Fleet) -> None:
    # Given staging's own plan, which would delete what production runs and rolls back to
    assert {digest("prod-now"), digest("prod-before")} <= fleet.alone(STAGING, fleet.staging)
    # When the fleet purges the repository in delete mode
    result = fleet.purge()
    # Then only the strays, which neither service needs, are gone
    assert result.outcome is Outcome.PURGED
    assert set(fleet.registry.images) == NEEDED
    assert (result.deleted, result.planned, result.images) == (3, 3, 7)
    assert result.services == (STAGING, PRODUCTION)
    assert (result.held_by, result.blocked_by) == ((), ())


def test_the_one_notification_lists_the_services_it_kept_images_for_and_each_logs_the_run(fleet: Fleet) -> None:
    # Given the plan of the shared repository (what its one notification renders: images.fleet.txt)
    planned = fleet.plan()
    # When the fleet purges the shared repository
    fleet.purge()
    # Then one notification goes out, from a plan that names both services and what each needs
    assert (fleet.sent.event, fleet.sent.severity.value) == ("images.purged", "info")
    assert [(service.label, service.settings.service.arn) for service in planned.services] == [
        ("consultation-staging", STAGING),
        ("consultation-prod", PRODUCTION),
    ]
    named = [sum(d.rule in NAMED_RULES for d in s.prepared.plan.decisions) for s in planned.services]
    assert named == [2, 3]  # production's own plan keeps latest too
    assert planned.services[1].prepared.running.digest == digest("prod-now")
    # and each image kept names the services that need it
    kept = {d.image.digest: (d.rule, d.kept_for, d.also_kept_for) for d in planned.plan.kept}
    assert kept == {
        digest("prod-now"): (Rule.DEPLOYED_NOW, "consultation-prod", ()),
        digest("prod-before"): (Rule.ROLLBACK_TARGET, "consultation-prod", ()),
        digest("staging-now"): (Rule.DEPLOYED_NOW, "consultation-staging", ("consultation-prod",)),
        digest("staging-before"): (Rule.ROLLBACK_TARGET, "consultation-staging", ()),
    }
    # and the action log of each service records the run
    logged = sorted((arn, record.action, record.outcome) for arn, record in fleet.state.actions)
    assert logged == sorted([(STAGING, "images.purge", "done"), (PRODUCTION, "images.purge", "done")])


def test_each_service_is_read_under_its_own_arn_a_paused_production_keeps_what_it_resumes_to(fleet: Fleet) -> None:
    # Given production paused, its memo naming an old untagged image it resumes to, and a deployment Warden has
    # pending for staging
    fleet.registry.add(image("prod-resumes-to", days=200), image("staging-next", days=200))
    fleet.state.put_memo(PRODUCTION, PAUSED_IMAGE, {"digest": digest("prod-resumes-to")})
    fleet.state.put_memo(STAGING, PENDING_DEPLOY, {"image": "latest", "from": "", "to": digest("staging-next")})
    # When the fleet purges
    fleet.purge()
    # Then both memos' images stay, each kept for the service whose memo names it
    assert {digest("prod-resumes-to"), digest("staging-next")} <= set(fleet.registry.images)
    kept = {d.image.digest: (d.rule, d.reason, d.kept_for) for d in fleet.plan().plan.kept}
    assert kept[digest("prod-resumes-to")] == (Rule.NEXT_UP, f"kept: {NextUp.RESUMES_TO}", "consultation-prod")
    assert kept[digest("staging-next")] == (Rule.NEXT_UP, f"kept: {NextUp.PENDING}", "consultation-staging")
    assert set(fleet.registry.images) & STRAYS == set()


def test_when_the_state_of_one_service_cannot_be_read_the_repository_is_not_purged_and_the_report_names_it(
    fleet: Fleet,
) -> None:
    # Given the state table refusing production's history
    fleet.state.unavailable = {PRODUCTION}
    # When the fleet purges
    result = fleet.purge()
    # Then nothing is deleted, nor even listed, and the result and the notification name production
    assert result.outcome is Outcome.BLOCKED
    assert result.blocked_by == (PRODUCTION,)
    assert fleet.registry.delete_calls == []
    assert set(fleet.registry.images) == NEEDED | STRAYS
    (sent,) = fleet.notifier.sent
    assert (sent.event, sent.severity.value) == ("images.unavailable", "warning")
    error = "dynamodb Query failed after botocore's retries: ProvisionedThroughputExceeded"
    sharing = [
        SharingService(label="consultation-staging", arn=STAGING),
        SharingService(label="consultation-prod", arn=PRODUCTION, unreadable=error),
    ]
    assert sent == purge_blocked(REPOSITORY, sharing)
    assert result.reason == blocked_reason(REPOSITORY, sharing)
    assert {record.outcome for _, record in fleet.state.actions} == {"skipped"}
    assert fleet.state.events == {}, "the run's lock is released"


def test_when_one_service_cannot_be_described_the_repository_is_not_purged(fleet: Fleet) -> None:
    fleet.staging = Unreachable()
    result = fleet.purge()
    assert (result.outcome, result.blocked_by) == (Outcome.BLOCKED, (STAGING,))
    assert set(fleet.registry.images) == NEEDED | STRAYS
    error = "apprunner DescribeService failed after botocore's retries: InternalServiceErrorException"
    assert fleet.sent == purge_blocked(
        REPOSITORY,
        [
            SharingService(label="consultation-staging", arn=STAGING, unreadable=error),
            SharingService(label="consultation-prod", arn=PRODUCTION),
        ],
    )


def test_when_one_service_is_not_found_every_deletion_is_held_and_the_report_names_it(fleet: Fleet) -> None:
    # Given production deleted (App Runner no longer knows its ARN)
    fleet.production.arn = "arn:aws:apprunner:us-east-1:123456789012:service/other/" + "f" * 32
    # When the fleet purges
    result = fleet.purge()
    # Then nothing is deleted, and the hold says which service it is (images.fleet.held.txt)
    assert (result.outcome, result.held_by) == (Outcome.HELD, (PRODUCTION,))
    assert fleet.registry.delete_calls == []
    planned = fleet.plan()
    assert [service.prepared.seen.hold for service in planned.services] == [None, HoldKind.SERVICE_NOT_FOUND]
    assert planned.plan.held_back == (HeldBack(hold=HoldKind.SERVICE_NOT_FOUND.value),)
    assert fleet.sent == purge_summary(planned, None, None)


@pytest.mark.parametrize(
    ("env", "why"), [({"DRY_RUN": "true"}, PlanOnly.DRY_RUN), ({"IMAGE_PURGE_MODE": "plan"}, PlanOnly.MODE)]
)
def test_the_repository_is_only_planned_when_any_of_its_services_only_plans(
    fleet: Fleet, env: dict[str, str], why: PlanOnly
) -> None:
    # Given production in delete mode and staging only planning
    services = fleet.services()
    services[0] = PurgeService(settings=settings_of(STAGING, **env), service=fleet.staging)
    # When the fleet purges
    result = purge_repository(REPOSITORY, services, fleet.deps, NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then it plans the three strays and deletes nothing, and its notification says why staging's setting
    assert (result.outcome, result.planned, result.deleted) == (Outcome.PLANNED, 3, 0)
    assert fleet.registry.delete_calls == []
    assert fleet.sent == purge_summary(fleet.plan(services), why, None)


def test_an_explicit_plan_request_deletes_nothing(fleet: Fleet) -> None:
    services = fleet.services()
    result = purge_repository(
        REPOSITORY, services, fleet.deps, NOW, trigger=PurgeTrigger.MANUAL, mode=ImagePurgeMode.PLAN
    )
    assert (result.outcome, result.deleted) == (Outcome.PLANNED, 0)


def test_an_ecs_service_and_an_app_runner_service_on_one_repository_keep_their_task_definitions(fleet: Fleet) -> None:
    # Given an ECS worker of the same app: revision 7 runs worker-now by digest, revision 6 ran worker-before
    fleet.registry.add(image("worker-now", days=50), image("worker-before", days=80))
    tasks = FakeTaskDefinitions(
        [revision(7, ours(f"@{digest('worker-now')}"), current=True), revision(6, ours(f"@{digest('worker-before')}"))]
    )
    worker = FakeService(arn=WORKER, name="consultation-worker", image=None)
    services = [*fleet.services(), PurgeService(settings=settings_of(WORKER), service=worker, task_definitions=tasks)]
    # When the fleet purges
    result = purge_repository(REPOSITORY, services, fleet.deps, NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then the worker's images stay with the others; the strays go
    assert set(fleet.registry.images) == NEEDED | {digest("worker-now"), digest("worker-before")}
    assert result.deleted == 3
    worker_plan = fleet.plan(services).services[2]
    assert worker_plan.label == "consultation-worker"
    assert (worker_plan.prepared.running.kind, worker_plan.prepared.running.digest) == (
        RunningKind.TASK_DEFINITIONS,
        digest("worker-now"),
    )


def test_a_fleet_run_and_a_single_service_run_of_one_repository_never_overlap(fleet: Fleet) -> None:
    fleet.state.events["purge-images#consultation-app"] = ("busy", None, None)
    result = fleet.purge(PurgeTrigger.PUSH)
    assert (result.outcome, result.services) == (Outcome.BUSY, (STAGING, PRODUCTION))
    assert fleet.registry.delete_calls == []
    assert fleet.notifier.sent == []


def test_a_missing_repository_is_reported_once_for_every_service_using_it(fleet: Fleet) -> None:
    fleet.registry.missing = True
    result = fleet.purge()
    assert result.outcome is Outcome.NO_REPOSITORY
    why = "ECR repository 'consultation-app' does not exist (check ECR_REPOSITORY)"
    assert fleet.sent == repository_missing(REPOSITORY, why, ["consultation-staging", "consultation-prod"])
    assert sorted(arn for arn, _ in fleet.state.actions) == sorted([STAGING, PRODUCTION])


def test_a_service_of_another_repository_or_none_at_all_is_refused(fleet: Fleet) -> None:
    elsewhere = PurgeService(settings=settings_of(PRODUCTION, ECR_REPOSITORY="another-app"), service=fleet.production)
    with pytest.raises(SettingsError, match="another-app"):
        purge_repository(REPOSITORY, [fleet.services()[0], elsewhere], fleet.deps, NOW, trigger=PurgeTrigger.MANUAL)
    with pytest.raises(ValueError, match="no service"):
        purge_repository(REPOSITORY, [], fleet.deps, NOW, trigger=PurgeTrigger.MANUAL)
    with pytest.raises(ValueError, match="twice"):
        purge_repository(REPOSITORY, fleet.services() * 2, fleet.deps, NOW, trigger=PurgeTrigger.MANUAL)
    assert fleet.registry.delete_calls == []


def test_services_with_the_same_name_are_told_apart_by_their_arn(fleet: Fleet) -> None:
    # Given an App Runner service and an ECS service, both named consultation-app
    web = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/" + "c" * 32
    ecs = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
    fleet.state.record_deployment(web, digest("staging-now"), None, NOW - timedelta(days=3), OBSERVED_SOURCE)
    tasks = FakeTaskDefinitions([revision(7, ours(":prod"), current=True)])
    services = [
        PurgeService(settings=settings_of(web), service=FakeService(arn=web, image=f"{REGISTRY}/{REPOSITORY}:latest")),
        PurgeService(settings=settings_of(ecs), service=FakeService(arn=ecs, image=None), task_definitions=tasks),
    ]
    # When the fleet purges
    purge_repository(REPOSITORY, services, fleet.deps, NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then the notification names each by its ARN
    assert [service.label for service in fleet.plan(services).services] == [web, ecs]
    assert fleet.sent.event == "images.purged"
    assert {digest("staging-now"), digest("prod-now")} <= set(fleet.registry.images)


# --- properties ---------------------------------------------------------------------------------------------


class Twin(World):
    """The single-service world of test_purge_history_properties, where every purge runs twice from the same start:
    today's purge_images, then purge_repository with that one service. Both must do exactly the same."""

    def purge(self, trigger: PurgeTrigger) -> None:
        images, state, sent = dict(self.registry.images), copy.deepcopy(self.state), len(self.notifier.sent)
        deps = PurgeImagesDeps(self.service, self.registry, self.notifier, self.state, sleep=lambda _: None)
        today = purge_images(deps, self.settings, self.now, trigger=trigger)
        kept_today, told_today, logged_today = set(self.registry.images), self.notifier.sent[sent:], self.state.actions
        self.registry.images, self.state = images, state
        sent = len(self.notifier.sent)
        shared = RepositoryPurgeDeps(self.registry, self.notifier, self.state, sleep=lambda _: None)
        member = PurgeService(settings=self.settings, service=self.service)
        fleet = purge_repository(REPOSITORY, [member], shared, self.now, trigger=trigger)
        if set(self.registry.images) != kept_today:
            self.violations.append(f"the fleet purge kept {set(self.registry.images)}, today's {kept_today}")
        if self.notifier.sent[sent:] != told_today:
            self.violations.append("the fleet purge's notification differs from today's")
        if PurgeResult(**fleet.model_dump(include=set(PurgeResult.model_fields))) != today:
            self.violations.append(f"the fleet purge's result {fleet} differs from today's {today}")
        if self.state.actions != logged_today:
            self.violations.append("the fleet purge's action log differs from today's")
        if fleet.services != (self.settings.service.arn,) or fleet.blocked_by:
            self.violations.append(f"the fleet purge names services {fleet.services}, blocked by {fleet.blocked_by}")


PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@PROPERTY
@given(keep=st.integers(1, 5), auto_deploy=st.booleans(), steps=histories)
def test_for_a_repository_of_one_service_the_fleet_purge_does_exactly_what_todays_purge_does(
    keep: int, auto_deploy: bool, steps: list[Any]
) -> None:
    # Given the single-service world of test_purge_history_properties
    world = Twin(keep=keep, auto_deploy=auto_deploy)
    # When its history happens, every purge run both ways from the same start
    for step in steps:
        world.run(step)
    # Then each time the fleet purge deleted, said, logged and returned the same as today's purge
    assert world.violations == [], world.log


# A fleet of 2-4 App Runner services sharing one repository, driven through Warden's real use cases.

FLEET_TAGS = ("latest", "prod", "staging")
URI = f"{REGISTRY}/{REPOSITORY}"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class SharedRegistry:
    """ECR with the one repository: the purge's RegistryPort and the rollback's PipelineRegistryPort."""

    world: FleetWorld
    images: dict[str, ImageInfo] = field(default_factory=dict)

    def push(self, image: str, tag: str, at: datetime) -> None:
        self._untag(tag)
        self.images[image] = ImageInfo(
            digest=image, tags=(tag,), pushed_at=at, size_bytes=1, media_type=DOCKER_MANIFEST
        )

    def retag(self, image: str, tag: str) -> None:
        self._untag(tag)
        listed = self.images[image]
        self.images[image] = listed.model_copy(update={"tags": (*listed.tags, tag)})

    def _untag(self, tag: str) -> None:
        for key, listed in list(self.images.items()):
            if tag in listed.tags:
                self.images[key] = listed.model_copy(update={"tags": tuple(t for t in listed.tags if t != tag)})

    def list_images(self, repository: str) -> list[ImageInfo]:
        return list(self.images.values())

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return next((listed.digest for listed in self.images.values() if tag in listed.tags), None)

    def index_children(self, repository: str, digests: Any) -> dict[str, tuple[str, ...]]:
        return {}

    def delete_digests(self, repository: str, digests: Any) -> BatchResult:
        gone = [d for d in digests if self.images.pop(d, None) is not None]
        missing = [DeleteFailure(digest=d, code="ImageNotFound", reason="gone") for d in digests if d not in gone]
        return BatchResult(deleted=tuple(gone), failures=tuple(missing))

    def repository(self, name: str) -> RepositoryInfo:
        return RepositoryInfo(name=name, uri=URI, tag_mutability="MUTABLE")

    def login(self) -> RegistryLogin:
        return RegistryLogin(registry=REGISTRY, username="AWS", password=SecretStr("unused"))

    def get_manifest(self, repository: str, image: str) -> ImageManifest | None:
        if image not in self.images:
            return None
        return ImageManifest(digest=image, manifest=f'{{"digest": "{image}"}}', media_type=DOCKER_MANIFEST)

    def put_manifest(self, repository: str, tag: str, manifest: ImageManifest) -> bool:
        if self.resolve_tag(repository, tag) == manifest.digest:
            return False
        self.retag(manifest.digest, tag)
        self.world.tag_moved(tag)
        return True


@dataclass
class AppRunnerService:
    """One service as App Runner runs it; `runs` is the truth Warden cannot read from any API."""

    world: FleetWorld
    arn: str
    name: str
    tag: str
    runs: str
    auto_deploy: bool
    status: ServiceStatus = ServiceStatus.RUNNING

    def describe(self, service_arn: str) -> ServiceSnapshot:
        assert service_arn == self.arn, "each service is described under its own ARN"
        return ServiceSnapshot(
            arn=self.arn,
            name=self.name,
            status=self.status,
            image_identifier=f"{URI}:{self.tag}",
            auto_deploy=self.auto_deploy,
        )

    def pause(self, service_arn: str) -> str | None:
        if self.status is not ServiceStatus.RUNNING:
            raise InvalidServiceState(f"pause: the service is {self.status.value}")
        self.status = ServiceStatus.PAUSED
        return "op-pause"

    def resume(self, service_arn: str) -> str | None:
        if self.status is not ServiceStatus.PAUSED:
            raise InvalidServiceState(f"resume: the service is {self.status.value}")
        self.status = ServiceStatus.RUNNING  # App Runner resumes the version deployed before the pause
        return "op-resume"

    def start_deployment(self, service_arn: str) -> str:
        if self.status is not ServiceStatus.RUNNING:
            raise InvalidServiceState(f"start_deployment: the service is {self.status.value}")
        self.world.deploy(self)
        return "op-deploy"


@dataclass
class Resolver:
    """The ImagePort: the tag in an ImageIdentifier, resolved in the shared repository."""

    registry: SharedRegistry

    def resolve(self, image_identifier: str) -> str | None:
        return self.registry.resolve_tag(REPOSITORY, image_identifier.rsplit(":", 1)[1])


class Act(StrEnum):
    PUSH = "CI pushes a build to a tag (the push runs the purge)"
    PROMOTE = "a person points a tag at what another tag points at"
    PAUSE = "budget pause"
    RESUME = "budget cleared"
    RECONCILE = "reconcile"
    DEPLOY = "a person deploys"
    ROLLBACK = "a person runs warden rollback"
    AUTO_DEPLOY = "auto-deploy switched"
    DAILY = "daily purge"


class FleetWorld:
    def __init__(self, tags: Sequence[str], keep: int, auto_deploy: Sequence[bool]) -> None:
        self.now = START
        self.builds = itertools.count(1)
        self.events = itertools.count(1)
        self.registry = SharedRegistry(self)
        first = digest("build-0")
        self.registry.images[first] = ImageInfo(
            digest=first, tags=tuple(FLEET_TAGS), pushed_at=START - timedelta(days=30), media_type=DOCKER_MANIFEST
        )
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.resolver = Resolver(self.registry)
        self.services = [
            AppRunnerService(
                self,
                arn=f"arn:aws:apprunner:us-east-1:123456789012:service/app{n}/{n:032x}",
                name=f"app{n}",
                tag=tag,
                runs=first,
                auto_deploy=auto,
            )
            for n, (tag, auto) in enumerate(zip(tags, auto_deploy, strict=True))
        ]
        env = {"IMAGE_KEEP_DEPLOYED": str(keep)}
        self.settings = {service.arn: settings_of(service.arn, **env) for service in self.services}
        self.violations: list[str] = []
        self.log: list[str] = []
        self.purges = 0
        for service in self.services:
            self.observe(service)

    # --- App Runner's side ---------------------------------------------------------------------------------
    def deploy(self, service: AppRunnerService) -> None:
        target = self.registry.resolve_tag(REPOSITORY, service.tag)
        assert target is not None, f"{service.tag} points at nothing: the purge deleted what a service follows"
        service.runs = target
        self.observe(service)

    def tag_moved(self, tag: str) -> None:
        for service in self.services:
            if service.tag == tag and service.auto_deploy and service.status is ServiceStatus.RUNNING:
                self.deploy(service)

    def observe(self, service: AppRunnerService) -> None:
        """App Runner's DeploymentCompletedSuccessfully for this service reaches on_deployment."""
        self.now += timedelta(minutes=1)
        event = {
            "version": "0",
            "id": f"event-{next(self.events)}",
            "detail-type": "AppRunner Service Operation Status Change",
            "source": "aws.apprunner",
            "time": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [service.arn],
            "detail": {"operationStatus": "DeploymentCompletedSuccessfully", "ServiceName": service.name},
        }
        target = platform_target(service.arn, service, operations=FakeOperations(), images=self.resolver)
        handle_event(event, DeploymentDeps(target, self.state, self.notifier), self.settings[service.arn], self.now)

    # --- the acts ----------------------------------------------------------------------------------------------
    def run(self, act: Act, who: int, tag: int, other: int) -> None:
        self.now += timedelta(days=1)
        service = self.services[who % len(self.services)]
        settings = self.settings[service.arn]
        self.log.append(f"{act.value} ({service.name} on {service.tag}, {service.status.value}; tags {tag}, {other})")
        claims = ClaimDeps(service, self.state, self.resolver)
        match act:
            case Act.PUSH:
                self.registry.push(digest(f"build-{next(self.builds)}"), FLEET_TAGS[tag], self.now)
                self.tag_moved(FLEET_TAGS[tag])
                self.purge(PurgeTrigger.PUSH)
            case Act.PROMOTE:
                source = self.registry.resolve_tag(REPOSITORY, FLEET_TAGS[tag])
                if source is not None and tag != other:
                    self.registry.retag(source, FLEET_TAGS[other])
                    self.tag_moved(FLEET_TAGS[other])
            case Act.PAUSE:
                claim = Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="over budget", now=self.now)
                place_claim(claims, service.arn, claim, now=self.now, actor="on_budget_alert", dry_run=False)
            case Act.RESUME:
                release_claim(
                    claims,
                    service.arn,
                    "budget",
                    now=self.now,
                    actor="run_schedule",
                    reason="new period",
                    dry_run=False,
                )
            case Act.RECONCILE:
                deps = ScheduleDeps(service, self.state, self.notifier, FakeBudgets(None), self.resolver)
                run_job(Job.RECONCILE, deps, settings, self.now)
            case Act.DEPLOY:
                if service.status is ServiceStatus.RUNNING:
                    service.start_deployment(service.arn)
            case Act.ROLLBACK:
                self.roll_back(service)
            case Act.AUTO_DEPLOY:
                service.auto_deploy = not service.auto_deploy
            case Act.DAILY:
                self.purge(PurgeTrigger.SCHEDULE)
        self.now += timedelta(minutes=1)

    def rollback_deps(self, service: AppRunnerService) -> RollbackDeps:
        target = platform_target(service.arn, service, registry=self.registry, repository=REPOSITORY)
        return RollbackDeps(target, self.state, self.notifier, self.registry)

    def roll_back(self, service: AppRunnerService) -> None:
        deps = self.rollback_deps(service)
        settings = self.settings[service.arn]
        try:
            move = plan_retag(deps, settings)
        except NoRollbackTarget:
            return
        if move.plan.target.digest not in self.registry.images:
            return  # a rollback after a rollback goes further back than a purge had to keep: roll_back refuses it
        roll_back(deps, settings, move, now=self.now, actor="operator", reason="a bad release")

    def must_stay(self, service: AppRunnerService) -> dict[str, str]:
        """What this service runs (or resumes to), what its pending deployment deploys, what its rollback picks."""
        paused = service.status is ServiceStatus.PAUSED
        named = {service.runs: f"which {service.name} {'resumes to' if paused else 'runs'}"}
        pending = self.state.get_memo(service.arn, PENDING_DEPLOY)
        if pending is not None:
            named.setdefault(pending["to"], f"which a pending deployment of {service.name} deploys")
        try:
            move = plan_retag(self.rollback_deps(service), self.settings[service.arn])
            named.setdefault(move.plan.target.digest, f"which a rollback of {service.name} would pick")
        except NoRollbackTarget:
            pass
        return named

    def purge(self, trigger: PurgeTrigger) -> None:
        self.purges += 1
        present = set(self.registry.images)
        truth = [self.must_stay(service) for service in self.services]
        # What each service's own purge (today's, for it alone) would keep and delete, from the same facts.
        kept: set[str] = set()
        deleted_by_all = set(present)
        for service in self.services:
            deps = PurgeImagesDeps(service, self.registry, self.notifier, self.state)
            plan = prepare_plan(deps, self.settings[service.arn], self.now).plan
            kept |= {decision.image.digest for decision in plan.kept}
            deleted_by_all &= {decision.image.digest for decision in plan.deletions}
        members = [PurgeService(settings=self.settings[service.arn], service=service) for service in self.services]
        shared = RepositoryPurgeDeps(self.registry, self.notifier, self.state, sleep=lambda _: None)
        result = purge_repository(REPOSITORY, members, shared, self.now, trigger=trigger)
        gone = present - set(self.registry.images)
        for lost in sorted(gone & kept):
            self.violations.append(f"the fleet purge deleted {lost[:15]}, which a service's own plan keeps")
        if gone != deleted_by_all:
            self.violations.append(f"the fleet purge deleted {len(gone)}, not the {len(deleted_by_all)} all agree on")
        if result.blocked_by or result.services != tuple(service.arn for service in self.services):
            self.violations.append(f"unexpected result {result}")
        for before, service in zip(truth, self.services, strict=True):
            for needed, why in {**self.must_stay(service), **before}.items():
                if needed in gone:
                    self.violations.append(f"the fleet purge deleted {needed[:15]}, {why}")


fleets = st.lists(st.sampled_from(FLEET_TAGS), min_size=2, max_size=4)
# Pushes and purges weigh double: they are what makes images to delete and deletes them.
ACTS = [*Act, Act.PUSH, Act.DAILY]
acts = st.lists(
    st.tuples(st.sampled_from(ACTS), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)), min_size=5, max_size=30
)


@PROPERTY
@given(tags=fleets, keep=st.integers(1, 5), auto_deploy=st.lists(st.booleans(), min_size=4, max_size=4), history=acts)
def test_no_fleet_purge_deletes_what_any_sharing_service_keeps_runs_resumes_deploys_next_or_rolls_back_to(
    tags: list[str], keep: int, auto_deploy: list[bool], history: list[tuple[Act, int, int, int]]
) -> None:
    # Given 2-4 services sharing one repository, each following latest, prod or staging (some the same tag)
    world = FleetWorld(tags, keep, auto_deploy[: len(tags)])
    # When pushes, promotions, pauses, resumes, reconciles, deploys, rollbacks, auto-deploy switches and purges
    # happen to them
    for act, who, tag, other in [*history, (Act.DAILY, 0, 0, 0)]:
        world.run(act, who, tag, other)
        # Then no purge deleted an image that any service's own plan keeps, it deleted exactly what all their plans
        # delete, and what each service runs, resumes to, deploys next or a rollback of it picks is still there
        assert world.violations == [], world.log
