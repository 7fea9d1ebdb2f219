"""The image purge over generated histories of an App Runner service (issue 13, §1 and §6).

A small App Runner world, driven only through Warden's real use cases on in-memory fakes: CI pushes `latest`
(each push runs the purge, as the ECR rule does), budget claims pause and resume the service, the reconcile
finishes what a resume left pending, people deploy (the console's Deploy button) and roll back, automatic
deployments go on and off, and every deployment App Runner completes reaches on_deployment. The world itself
knows the truth Warden has to infer: which image the service runs (App Runner resumes the version deployed
before the pause, and deploys a push by itself only with auto-deploy on and the service running).

After every purge:
- the image the service runs (for a paused service: the one it resumes to) is still in the repository;
- so is every image a deployment Warden has pending would deploy, and the image a rollback would pick now
  (rollback.plan_rollback, the same plan `warden rollback` and the automatic rollback run).
And at every step: with auto-deploy off, every deployment Warden starts deploys what a person released or
rolled back to, never a build CI merely pushed.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tests.fakes import FakeBudgets, FakeNotifier, FakeOperations, FakeState, platform_target
from warden.domain.claims import Claim, ClaimReason
from warden.domain.images import DOCKER_MANIFEST, BatchResult, DeleteFailure, ImageInfo, PurgeTrigger
from warden.domain.pipeline import ImageManifest, NoRollbackTarget, RegistryLogin, RepositoryInfo
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import InvalidServiceState
from warden.settings import Settings
from warden.usecases.claims import ClaimDeps, place_claim, release_claim
from warden.usecases.converge import PENDING_DEPLOY
from warden.usecases.deployment import DeploymentDeps, handle_event
from warden.usecases.purge_images import PurgeImagesDeps, purge_images
from warden.usecases.rollback import RollbackDeps, plan_retag, roll_back
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
REPOSITORY = "consultation-app"
URI = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": REPOSITORY,
    "IMAGE_PURGE_MODE": "delete",
    # Only the rules this issue is about: a day-old untagged build is fair game, no semver or pull rule helps.
    "IMAGE_UNTAGGED_DAYS": "1",
    "IMAGE_TAGGED_DAYS": "1",
    "IMAGE_KEEP_SEMVER": "0",
    "IMAGE_KEEP_PULLED_DAYS": "0",
}


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Registry:
    """ECR: the purge's RegistryPort and release/rollback's PipelineRegistryPort over one repository."""

    world: World
    images: dict[str, ImageInfo] = field(default_factory=dict)

    def push(self, image: str, tag: str, at: datetime) -> None:
        self._untag(tag)
        self.images[image] = ImageInfo(
            digest=image, tags=(tag,), pushed_at=at, size_bytes=1_000_000, media_type=DOCKER_MANIFEST
        )

    def _untag(self, tag: str) -> None:
        for key, image in list(self.images.items()):
            if tag in image.tags:
                self.images[key] = image.model_copy(update={"tags": tuple(t for t in image.tags if t != tag)})

    # RegistryPort (the purge)
    def list_images(self, repository: str) -> list[ImageInfo]:
        return list(self.images.values())

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return next((image.digest for image in self.images.values() if tag in image.tags), None)

    def index_children(self, repository: str, digests: Any) -> dict[str, tuple[str, ...]]:
        return {}

    def delete_digests(self, repository: str, digests: Any) -> BatchResult:
        gone = [d for d in digests if self.images.pop(d, None) is not None]
        missing = [DeleteFailure(digest=d, code="ImageNotFound", reason="gone") for d in digests if d not in gone]
        return BatchResult(deleted=tuple(gone), failures=tuple(missing))

    # PipelineRegistryPort (the rollback)
    def repository(self, name: str) -> RepositoryInfo:
        return RepositoryInfo(name=name, uri=URI, tag_mutability="MUTABLE")

    def login(self) -> RegistryLogin:
        return RegistryLogin(registry=URI.split("/")[0], username="AWS", password=SecretStr("unused"))

    def get_manifest(self, repository: str, image: str) -> ImageManifest | None:
        if image not in self.images:
            return None
        return ImageManifest(digest=image, manifest=f'{{"digest": "{image}"}}', media_type=DOCKER_MANIFEST)

    def put_manifest(self, repository: str, tag: str, manifest: ImageManifest) -> bool:
        if self.resolve_tag(repository, tag) == manifest.digest:
            return False
        self._untag(tag)
        image = self.images[manifest.digest]
        self.images[manifest.digest] = image.model_copy(update={"tags": (*image.tags, tag)})
        self.world.tag_moved()
        return True


@dataclass
class AppRunner:
    """The service as App Runner runs it: `runs` is the truth Warden cannot read from any API."""

    world: World
    runs: str
    status: ServiceStatus = ServiceStatus.RUNNING
    auto_deploy: bool = True

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return ServiceSnapshot(
            arn=ARN,
            name="consultation-app",
            status=self.status,
            image_identifier=f"{URI}:latest",
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
        # App Runner redeploys the version deployed before the pause, whatever `latest` points at now.
        self.status = ServiceStatus.RUNNING
        return "op-resume"

    def start_deployment(self, service_arn: str) -> str:
        if self.status is not ServiceStatus.RUNNING:
            raise InvalidServiceState(f"start_deployment: the service is {self.status.value}")
        self.world.deploy_latest(started_by_warden=True)
        return "op-deploy"


class Images:
    """The ImagePort: the tag in an ImageIdentifier, resolved in the registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def resolve(self, image_identifier: str) -> str | None:
        return self.registry.resolve_tag(REPOSITORY, image_identifier.rsplit(":", 1)[1])


class Step(StrEnum):
    PUSH = "CI pushes latest (the push runs the purge)"
    PAUSE = "budget pause"
    RESUME = "budget cleared"
    RECONCILE = "reconcile"
    DEPLOY = "a person deploys latest"
    ROLLBACK = "a person runs warden rollback"
    AUTO_DEPLOY = "auto-deploy switched"
    DAILY = "daily purge"


class World:
    def __init__(self, *, keep: int, auto_deploy: bool) -> None:
        self.settings = Settings.from_env({**ENV, "IMAGE_KEEP_DEPLOYED": str(keep)})
        self.now = START
        self.builds = itertools.count(1)
        self.registry = Registry(self)
        first = digest("build-0")
        self.registry.push(first, "latest", START - timedelta(days=30))
        self.service = AppRunner(self, runs=first, auto_deploy=auto_deploy)
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.images = Images(self.registry)
        self.approved = {first}  # what people chose to deploy: the first deployment, releases, rollbacks
        self.events = itertools.count(1)
        self.violations: list[str] = []
        self.log: list[str] = []
        self.observe()  # the deployment of the first build, as on_deployment saw it

    # --- App Runner's side -------------------------------------------------------------------------------
    def deploy_latest(self, *, started_by_warden: bool) -> None:
        target = self.registry.resolve_tag(REPOSITORY, "latest")
        assert target is not None
        if started_by_warden and self.service.auto_deploy is False and target not in self.approved:
            self.violations.append(f"Warden deployed {target[:15]}, which nobody released, with auto-deploy off")
        self.service.runs = target
        self.observe()

    def tag_moved(self) -> None:
        # With auto-deploy on, App Runner deploys a moved tag by itself, but never a paused service's.
        if self.service.auto_deploy and self.service.status is ServiceStatus.RUNNING:
            self.deploy_latest(started_by_warden=False)

    def observe(self) -> None:
        """App Runner's DeploymentCompletedSuccessfully reaches on_deployment."""
        self.tick()
        event = {
            "version": "0",
            "id": f"event-{next(self.events)}",
            "detail-type": "AppRunner Service Operation Status Change",
            "source": "aws.apprunner",
            "time": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [ARN],
            "detail": {"operationStatus": "DeploymentCompletedSuccessfully", "ServiceName": "consultation-app"},
        }
        target = platform_target(ARN, self.service, operations=FakeOperations(), images=self.images)
        deps = DeploymentDeps(target, self.state, self.notifier)
        handle_event(event, deps, self.settings, self.now)

    # --- the steps -----------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.now += timedelta(minutes=1)

    def run(self, step: Step) -> None:
        self.now += timedelta(days=1)
        self.log.append(f"{step.value} ({self.service.status.value}, auto-deploy {self.service.auto_deploy})")
        claims = ClaimDeps(self.service, self.state, self.images)
        match step:
            case Step.PUSH:
                self.registry.push(digest(f"build-{next(self.builds)}"), "latest", self.now)
                self.tag_moved()
                self.purge(PurgeTrigger.PUSH)
            case Step.PAUSE:
                claim = Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="over budget", now=self.now)
                place_claim(claims, ARN, claim, now=self.now, actor="on_budget_alert", dry_run=False)
            case Step.RESUME:
                release_claim(
                    claims, ARN, "budget", now=self.now, actor="run_schedule", reason="new period", dry_run=False
                )
            case Step.RECONCILE:
                deps = ScheduleDeps(self.service, self.state, self.notifier, FakeBudgets(None), self.images)
                run_job(Job.RECONCILE, deps, self.settings, self.now)
            case Step.DEPLOY:
                if self.service.status is ServiceStatus.RUNNING:
                    self.approved.add(self.registry.resolve_tag(REPOSITORY, "latest") or "")
                    self.service.start_deployment(ARN)  # the console's Deploy button
            case Step.ROLLBACK:
                self.roll_back()
            case Step.AUTO_DEPLOY:
                self.service.auto_deploy = not self.service.auto_deploy
            case Step.DAILY:
                self.purge(PurgeTrigger.SCHEDULE)
        self.tick()

    def rollback_deps(self) -> RollbackDeps:
        target = platform_target(ARN, self.service, registry=self.registry, repository=REPOSITORY)
        return RollbackDeps(target, self.state, self.notifier, self.registry)

    def roll_back(self) -> None:
        deps = self.rollback_deps()
        try:
            move = plan_retag(deps, self.settings)
        except NoRollbackTarget:
            return
        if move.plan.target.digest not in self.registry.images:
            # A rollback after a rollback goes further back than the last purge had to keep: roll_back refuses it.
            return
        self.approved.add(move.plan.target.digest)
        roll_back(deps, self.settings, move, now=self.now, actor="operator", reason="a bad release")

    def purge(self, trigger: PurgeTrigger) -> None:
        present, before = set(self.registry.images), self.must_stay()
        deps = PurgeImagesDeps(self.service, self.registry, self.notifier, self.state, sleep=lambda _: None)
        purge_images(deps, self.settings, self.now, trigger=trigger)
        for image, why in {**self.must_stay(), **before}.items():
            if image in present and image not in self.registry.images:
                self.violations.append(f"the purge deleted {image[:15]}, {why}")

    def must_stay(self) -> dict[str, str]:
        """The images a purge must leave in the repository, each with why (the purge itself may change what a
        rollback picks: it is asked before and after)."""
        paused = self.service.status is ServiceStatus.PAUSED
        named = {self.service.runs: "which the service resumes to" if paused else "which the service runs"}
        pending = self.state.get_memo(ARN, PENDING_DEPLOY)
        if pending is not None:
            named.setdefault(pending["to"], "which a pending deployment deploys")
        try:
            move = plan_retag(self.rollback_deps(), self.settings)
            named.setdefault(move.plan.target.digest, "which a rollback would pick")
        except NoRollbackTarget:
            pass
        return named


histories = st.lists(st.sampled_from(list(Step)), min_size=1, max_size=25)
PROPERTY = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@PROPERTY
@given(keep=st.integers(1, 5), auto_deploy=st.booleans(), steps=histories)
def test_no_purge_deletes_what_runs_resumes_deploys_next_or_a_rollback_picks(
    keep: int, auto_deploy: bool, steps: list[Step]
) -> None:
    # Given a service that runs its first build, IMAGE_KEEP_DEPLOYED=keep and auto-deploy on or off
    world = World(keep=keep, auto_deploy=auto_deploy)
    # When pushes, pauses, resumes, reconciles, deploys, rollbacks, auto-deploy switches and purges happen
    for step in steps:
        world.run(step)
        # Then no purge deleted what the service runs, resumes to, deploys next or a rollback picks, and
        # Warden never deployed an unreleased build with auto-deploy off
        assert world.violations == [], world.log
