"""The purge run with in-memory fakes: plan or delete, batches of 100, per-item failures, one summary."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeNotifier, FakeService, FakeState
from warden.domain.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    BatchResult,
    DeleteFailure,
    ImageInfo,
    PurgeTrigger,
    RepositoryNotFound,
)
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import AwsUnavailable, SettingsError
from warden.settings import ImagePurgeMode, Settings
from warden.usecases.purge_images import LISTED_DELETIONS, Outcome, PurgeImagesDeps, prepare_plan, purge_images

NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
REPOSITORY = "consultation-app"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": REPOSITORY,
}


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


@dataclass
class FakeRegistry:
    """ECR in miniature: images by digest, index manifests, and scripted per-item delete failures."""

    images: dict[str, ImageInfo] = field(default_factory=dict)
    manifests: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # digest -> failure codes answered on its successive delete attempts (then it is deleted)
    failing: dict[str, list[str]] = field(default_factory=dict)
    unavailable_on_call: int | None = None
    vanish: set[str] = field(default_factory=set)  # deleted by someone else between listing and deleting
    missing: bool = False
    delete_calls: list[list[str]] = field(default_factory=list)
    child_lookups: list[list[str]] = field(default_factory=list)

    def add(self, *images: ImageInfo) -> None:
        self.images.update({i.digest: i for i in images})

    def list_images(self, repository: str) -> list[ImageInfo]:
        if self.missing:
            raise RepositoryNotFound(f"ECR repository {repository!r} does not exist (check ECR_REPOSITORY)")
        return list(self.images.values())

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return next((i.digest for i in self.images.values() if tag in i.tags), None)

    def index_children(self, repository: str, digests: Sequence[str]) -> dict[str, tuple[str, ...]]:
        self.child_lookups.append(list(digests))
        return {d: self.manifests[d] for d in digests if d in self.manifests}

    def delete_digests(self, repository: str, digests: Sequence[str]) -> BatchResult:
        assert len(digests) <= 100, "batch_delete_image takes at most 100 ids"
        self.delete_calls.append(list(digests))
        for gone in self.vanish:
            self.images.pop(gone, None)
        if self.unavailable_on_call == len(self.delete_calls):
            raise AwsUnavailable("ecr BatchDeleteImage failed after botocore's retries: ServerException")
        deleted, failures = [], []
        for d in digests:
            if self.failing.get(d):
                code = self.failing[d].pop(0)
                failures.append(DeleteFailure(digest=d, code=code, reason=f"{code} for the test"))
            elif d not in self.images:
                failures.append(DeleteFailure(digest=d, code="ImageNotFound", reason="Requested image not found"))
            else:
                del self.images[d]
                deleted.append(d)
        return BatchResult(deleted=tuple(deleted), failures=tuple(failures))


@dataclass
class Run:
    registry: FakeRegistry
    service: FakeService
    notifier: FakeNotifier
    state: FakeState
    sleeps: list[float]

    @property
    def deps(self) -> PurgeImagesDeps:
        return PurgeImagesDeps(
            service=self, registry=self.registry, notifier=self.notifier, state=self.state, sleep=self.sleeps.append
        )

    image_identifier: str | None = f"{REGISTRY}/{REPOSITORY}:latest"

    def describe(self, service_arn: str) -> ServiceSnapshot:
        snapshot = self.service.describe(service_arn)
        return snapshot.model_copy(update={"image_identifier": self.image_identifier})


@pytest.fixture
def run() -> Run:
    registry = FakeRegistry()
    registry.add(image("current", "latest", "v1.4.0", days=3))
    return Run(registry, FakeService(arn=ARN, status=ServiceStatus.RUNNING), FakeNotifier(), FakeState(), [])


def settings(**env: str) -> Settings:
    return Settings.from_env({**ENV, **env})


def old_untagged(count: int, prefix: str = "old") -> list[ImageInfo]:
    return [image(f"{prefix}{n}", days=30 + n % 50) for n in range(count)]


def test_plan_mode_deletes_nothing_and_its_one_notification_lists_exactly_what_a_real_run_deletes(run: Run) -> None:
    # Given the default settings (IMAGE_PURGE_MODE=plan) and three expired images
    run.registry.add(*old_untagged(3))
    # When the daily run happens
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then nothing was deleted, and one images.plan notification lists the three images with their reasons
    assert result.outcome is Outcome.PLANNED
    assert (result.planned, result.deleted) == (3, 0)
    assert run.registry.delete_calls == []
    (sent,) = run.notifier.sent
    assert sent.event == "images.plan"
    assert sent.subject == "[warden] PURGE PLAN consultation-app: would delete 3 of 4 images, up to 150.0 MB"
    assert "Nothing was deleted, because IMAGE_PURGE_MODE is plan." in sent.body
    for n in range(3):
        assert f"{digest(f'old{n}')[:19]}  (untagged)" in sent.body
    assert "warden purge-images --apply" in sent.body
    assert "ImagePurgeMode=delete" in sent.body
    (_, record) = run.state.actions[-1]
    assert (record.action, record.outcome, record.actor) == ("images.purge", "would", "purge_images")


def test_a_delete_run_of_250_images_takes_three_batches_and_reports_bytes_and_the_monthly_saving(run: Run) -> None:
    # Given 250 expired untagged images of 50 MB and IMAGE_PURGE_MODE=delete
    run.registry.add(*old_untagged(250))
    # When the run happens
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then three batch calls of 100, 100 and 50 digests deleted all of them, and only the running image is left
    assert [len(batch) for batch in run.registry.delete_calls] == [100, 100, 50]
    assert result.outcome is Outcome.PURGED
    assert (result.deleted, result.failed, result.bytes_deleted) == (250, 0, 12_500_000_000)
    assert list(run.registry.images) == [digest("current")]
    (sent,) = run.notifier.sent
    assert sent.event == "images.purged"
    assert sent.subject == "[warden] PURGED consultation-app: 250 images, up to 12.50 GB (up to $1.25/month)"
    assert "imageSizeInBytes" in sent.body
    assert f"... and {250 - LISTED_DELETIONS} more" in sent.body
    assert run.state.actions[-1][1].outcome == "done"


def test_retryable_failures_are_tried_twice_more_then_reported_and_the_run_goes_on(run: Run) -> None:
    # Given 120 expired images: one throttled once, one throttled three times, one held by KMS once,
    # one referenced by an index, and one deleted by someone else meanwhile
    images = old_untagged(120)
    run.registry.add(*images)
    flaky, stuck, kms, referenced, gone = (images[n].digest for n in (0, 1, 2, 3, 4))
    run.registry.failing = {
        flaky: ["UpstreamTooManyRequests"],
        stuck: ["UpstreamUnavailable"] * 3,
        kms: ["KmsError"],
        referenced: ["ImageReferencedByManifestList"],
    }
    run.registry.vanish = {gone}
    # When the run deletes
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then the retryable ones were tried again (twice at most, with a pause), the rest reported, nothing raised
    assert [len(batch) for batch in run.registry.delete_calls] == [100, 3, 1, 20]
    assert run.sleeps == [1.0, 3.0]
    assert result.outcome is Outcome.PARTIAL
    assert (result.deleted, result.already_gone, result.failed) == (117, 1, 2)
    assert set(run.registry.images) == {digest("current"), stuck, referenced}
    (sent,) = run.notifier.sent
    assert sent.subject == "[warden] PURGED consultation-app with 2 failures: 117 of 120 images deleted"
    assert sent.severity.value == "warning"
    assert "1 x ImageReferencedByManifestList" in sent.body
    assert "1 x UpstreamUnavailable" in sent.body
    assert "already gone (ImageNotFound)" in sent.body
    assert run.state.actions[-1][1].outcome == "partial"


def test_when_ecr_itself_fails_mid_run_the_rest_is_reported_not_attempted_and_nothing_is_raised(run: Run) -> None:
    run.registry.add(*old_untagged(250))
    run.registry.unavailable_on_call = 2
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert len(run.registry.delete_calls) == 2
    assert (result.deleted, result.failed) == (100, 150)
    assert "Stopped early" in run.notifier.sent[0].body
    assert run.state.events == {}, "the run's lock is released"


def test_indexes_are_deleted_in_batches_before_other_images(run: Run) -> None:
    run.registry.add(image("index-old", days=100, index=True), *old_untagged(2))
    purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert run.registry.delete_calls == [[digest("index-old")], [digest("old0"), digest("old1")]]


def test_dry_run_always_plans_even_in_delete_mode(run: Run) -> None:
    run.registry.add(*old_untagged(5))
    result = purge_images(
        run.deps, settings(IMAGE_PURGE_MODE="delete", DRY_RUN="true"), NOW, trigger=PurgeTrigger.MANUAL
    )
    assert result.outcome is Outcome.PLANNED
    assert run.registry.delete_calls == []
    assert "Nothing was deleted, because DRY_RUN is on." in run.notifier.sent[0].body
    assert run.state.actions[-1][1].dry_run is True


def test_an_explicit_delete_request_overrides_plan_mode(run: Run) -> None:
    run.registry.add(*old_untagged(5))
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.MANUAL, mode=ImagePurgeMode.DELETE)
    assert result.outcome is Outcome.PURGED
    assert result.deleted == 5


def test_the_running_image_is_protected_and_recorded_as_a_deployment_once(run: Run) -> None:
    # Given a service running the OLDEST image through its tag v1.0.0
    run.registry.add(image("oldest", "v1.0.0", days=400), *old_untagged(2))
    run.image_identifier = f"{REGISTRY}/{REPOSITORY}:v1.0.0"
    # When two runs happen
    for _ in range(2):
        purge_images(
            run.deps, settings(IMAGE_PURGE_MODE="delete", IMAGE_KEEP_SEMVER="0"), NOW, trigger=PurgeTrigger.SCHEDULE
        )
    # Then the running image survives, and the history got it once
    assert digest("oldest") in run.registry.images
    assert [(r.digest, r.tag) for _, r in run.state.deployments] == [(digest("oldest"), "v1.0.0")]
    assert "kept: deployed now" in run.notifier.sent[0].body


def test_a_rollback_target_from_the_history_survives(run: Run) -> None:
    run.registry.add(image("previous", days=300))
    run.state.record_deployment(ARN, digest("previous"), "v1.3.0", NOW - timedelta(days=10), "warden release")
    purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert digest("previous") in run.registry.images
    assert f"kept: deployed {NOW - timedelta(days=10):%Y-%m-%d} (rollback target)" in run.notifier.sent[0].body


def test_an_untagged_child_of_a_kept_index_survives(run: Run) -> None:
    # Given a recent index whose old, untagged child ECR lists as an untagged image
    run.registry.add(image("index", "v1.5.0", days=2, index=True), image("child", days=60))
    run.registry.manifests = {digest("index"): (digest("child"),)}
    # When the run deletes
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then the index's manifest was read once and the child kept
    assert run.registry.child_lookups == [[digest("index")]]
    assert digest("child") in run.registry.images
    assert result.outcome is Outcome.NOTHING


def test_when_the_services_tag_points_at_nothing_the_run_holds_every_deletion(run: Run) -> None:
    run.registry.add(*old_untagged(4))
    run.image_identifier = f"{REGISTRY}/{REPOSITORY}:v9.9.9"
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []
    (sent,) = run.notifier.sent
    assert sent.subject == "[warden] PURGE HELD consultation-app: nothing deleted, 5 images kept"
    assert "the service's tag 'v9.9.9' points at no image in consultation-app" in sent.body


def test_when_the_service_is_missing_the_run_holds_every_deletion(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.service.arn = "arn:aws:apprunner:us-east-1:123456789012:service/other/" + "f" * 32
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []


def test_while_app_runner_is_mid_operation_the_run_deletes_nothing(run: Run) -> None:
    # Given a deployment in flight (a push just moved `latest`; App Runner may still roll back)
    run.registry.add(*old_untagged(3))
    run.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    # When a push-triggered run happens in delete mode
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.PUSH)
    # Then it holds every deletion and says why
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []
    assert "OPERATION_IN_PROGRESS (a deployment may still roll back)" in run.notifier.sent[0].body


def test_a_service_running_an_image_from_another_repository_does_not_hold_the_purge(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.image_identifier = f"{REGISTRY}/another-app:latest"
    plan = prepare_plan(run.deps, settings(), NOW)
    assert len(plan.plan.deletions) == 2
    assert "which is not in consultation-app" in plan.running.description


def test_a_second_run_while_one_is_running_is_skipped(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.state.events["purge-images#consultation-app"] = ("busy", None, None)
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.PUSH)
    assert result.outcome is Outcome.BUSY
    assert result.reason == "ignored, because another purge of consultation-app is running"
    assert run.registry.delete_calls == []
    assert run.notifier.sent == []


def test_a_push_that_leaves_nothing_to_purge_stays_quiet(run: Run) -> None:
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.PUSH)
    assert result.outcome is Outcome.NOTHING
    assert run.notifier.sent == []
    # while the daily run says so
    purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert run.notifier.sent[0].subject == "[warden] NOTHING TO PURGE consultation-app: all 1 images kept"


def test_a_missing_repository_is_reported_once_per_run_not_retried(run: Run) -> None:
    run.registry.missing = True
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.outcome is Outcome.NO_REPOSITORY
    assert run.notifier.sent[0].event == "images.unavailable"


def test_without_ecr_repository_the_purge_fails_naming_the_variable(run: Run) -> None:
    with pytest.raises(SettingsError, match="ECR_REPOSITORY"):
        purge_images(run.deps, settings(ECR_REPOSITORY=""), NOW, trigger=PurgeTrigger.SCHEDULE)
