"""The purge run with in-memory fakes: plan or delete, batches of 100, per-item failures, one summary."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeNotifier, FakeService, FakeState
from warden.domain.claims import Claim, ClaimReason
from warden.domain.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    BatchResult,
    DeleteFailure,
    ImageInfo,
    PlanOnly,
    PurgeTrigger,
    RepositoryNotFound,
)
from warden.domain.pipeline import OBSERVED_SOURCE, RELEASE_SOURCE, ROLLBACK_SOURCE
from warden.domain.retention import HoldKind, Rule, RunningKind
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import AwsUnavailable, SettingsError
from warden.messages.images import busy_reason
from warden.settings import ImagePurgeMode, Settings
from warden.usecases.claims import ClaimDeps, place_claim
from warden.usecases.converge import PAUSED_IMAGE, PENDING_DEPLOY
from warden.usecases.purge_images import Outcome, PurgeImagesDeps, effective_mode, prepare_plan, purge_images

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
    """A service running `current` (latest, v1.4.0), whose deployment on_deployment saw three days ago."""
    registry = FakeRegistry()
    registry.add(image("current", "latest", "v1.4.0", days=3))
    state = FakeState()
    state.record_deployment(ARN, digest("current"), None, NOW - timedelta(days=3), OBSERVED_SOURCE)
    return Run(registry, FakeService(arn=ARN, status=ServiceStatus.RUNNING), FakeNotifier(), state, [])


def settings(**env: str) -> Settings:
    return Settings.from_env({**ENV, **env})


def old_untagged(count: int, prefix: str = "old") -> list[ImageInfo]:
    return [image(f"{prefix}{n}", days=30 + n % 50) for n in range(count)]


def rules(run: Run, **env: str) -> dict[str, Rule]:
    """What the plan decides for each image now, by digest (the notification's reasons are its words for these)."""
    return {
        decision.image.digest: decision.rule for decision in prepare_plan(run.deps, settings(**env), NOW).plan.decisions
    }


def test_plan_mode_deletes_nothing_and_its_one_notification_lists_exactly_what_a_real_run_deletes(run: Run) -> None:
    # Given the default settings (IMAGE_PURGE_MODE=plan) and three expired images
    run.registry.add(*old_untagged(3))
    # When the daily run happens
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then nothing was deleted, and one images.plan notification lists the three images (its words:
    # tests/golden/texts/images.plan.txt, which the same run renders)
    assert result.outcome is Outcome.PLANNED
    assert (result.planned, result.deleted) == (3, 0)
    assert run.registry.delete_calls == []
    (sent,) = run.notifier.sent
    assert (sent.event, sent.severity.value) == ("images.plan", "info")
    assert effective_mode(settings()) == (ImagePurgeMode.PLAN, PlanOnly.MODE)
    for n in range(3):
        assert digest(f"old{n}")[:19] in sent.body
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
    assert (sent.event, sent.severity.value) == ("images.purged", "info")
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
    assert (sent.event, sent.severity.value) == ("images.purged", "warning")
    # and names AWS's code of each image not deleted (images.partial.txt has the words)
    assert all(code in sent.body for code in ("ImageReferencedByManifestList", "UpstreamUnavailable"))
    assert run.state.actions[-1][1].outcome == "partial"


def test_when_ecr_itself_fails_mid_run_the_rest_is_reported_not_attempted_and_nothing_is_raised(run: Run) -> None:
    run.registry.add(*old_untagged(250))
    run.registry.unavailable_on_call = 2
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert len(run.registry.delete_calls) == 2
    assert (result.outcome, result.deleted, result.failed) == (Outcome.PARTIAL, 100, 150)
    assert run.notifier.sent[0].severity.value == "warning"
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
    assert effective_mode(settings(IMAGE_PURGE_MODE="delete", DRY_RUN="true")) == (
        ImagePurgeMode.PLAN,
        PlanOnly.DRY_RUN,
    )
    assert run.notifier.sent[0].event == "images.plan"
    assert run.state.actions[-1][1].dry_run is True


def test_an_explicit_delete_request_overrides_plan_mode(run: Run) -> None:
    run.registry.add(*old_untagged(5))
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.MANUAL, mode=ImagePurgeMode.DELETE)
    assert result.outcome is Outcome.PURGED
    assert result.deleted == 5


def test_the_image_the_last_deployment_deployed_is_protected_and_the_purge_records_no_deployment(run: Run) -> None:
    # Given a service following v1.0.0, whose deployment of the OLDEST image on_deployment saw
    run.registry.add(image("oldest", "v1.0.0", days=400), *old_untagged(2))
    run.image_identifier = f"{REGISTRY}/{REPOSITORY}:v1.0.0"
    run.state.record_deployment(ARN, digest("oldest"), "v1.0.0", NOW - timedelta(days=1), OBSERVED_SOURCE)
    # When two runs happen
    for _ in range(2):
        purge_images(
            run.deps, settings(IMAGE_PURGE_MODE="delete", IMAGE_KEEP_SEMVER="0"), NOW, trigger=PurgeTrigger.SCHEDULE
        )
    # Then the running image survives, kept as deployed now, and the history is as on_deployment left it
    assert digest("oldest") in run.registry.images
    assert [r.digest for _, r in run.state.deployments] == [digest("current"), digest("oldest")]
    assert rules(run, IMAGE_KEEP_SEMVER="0")[digest("oldest")] is Rule.DEPLOYED_NOW


def test_a_rollback_target_from_the_history_survives(run: Run) -> None:
    run.registry.add(image("previous", days=300))
    run.state.record_deployment(ARN, digest("previous"), "v1.3.0", NOW - timedelta(days=10), "warden release")
    purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert digest("previous") in run.registry.images
    (kept,) = [
        d for d in prepare_plan(run.deps, settings(), NOW).plan.decisions if d.image.digest == digest("previous")
    ]
    assert (kept.rule, kept.reason) == (
        Rule.ROLLBACK_TARGET,
        f"kept: deployed {NOW - timedelta(days=10):%Y-%m-%d}, which a rollback would pick",
    )


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
    assert (result.outcome, result.images, result.planned) == (Outcome.HELD, 5, 0)
    assert run.registry.delete_calls == []
    (sent,) = run.notifier.sent
    assert (sent.event, sent.severity.value) == ("images.purged", "warning")
    seen = prepare_plan(run.deps, settings(), NOW).seen
    assert (seen.hold, seen.running.kind, seen.running.tag) == (
        HoldKind.TAG_POINTS_AT_NOTHING,
        RunningKind.TAG_POINTS_AT_NOTHING,
        "v9.9.9",
    )


def test_when_the_service_is_missing_the_run_holds_every_deletion(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.service.arn = "arn:aws:apprunner:us-east-1:123456789012:service/other/" + "f" * 32
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []
    assert prepare_plan(run.deps, settings(), NOW).seen.hold is HoldKind.SERVICE_NOT_FOUND


def test_while_app_runner_is_mid_operation_the_run_deletes_nothing(run: Run) -> None:
    # Given a deployment in flight (a push just moved `latest`; App Runner may still roll back)
    run.registry.add(*old_untagged(3))
    run.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    # When a push-triggered run happens in delete mode
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.PUSH)
    # Then it holds every deletion and says why
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []
    assert run.notifier.sent[0].severity.value == "warning"
    assert prepare_plan(run.deps, settings(), NOW).seen.hold is HoldKind.IN_PROGRESS


def test_a_service_running_an_image_from_another_repository_does_not_hold_the_purge(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.image_identifier = f"{REGISTRY}/another-app:latest"
    plan = prepare_plan(run.deps, settings(), NOW)
    assert len(plan.plan.deletions) == 2
    assert (plan.running.kind, plan.running.in_repository, plan.seen.hold) == (
        RunningKind.OTHER_REPOSITORY,
        False,
        None,
    )


def test_a_second_run_while_one_is_running_is_skipped(run: Run) -> None:
    run.registry.add(*old_untagged(2))
    run.state.events["purge-images#consultation-app"] = ("busy", None, None)
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.PUSH)
    assert result.outcome is Outcome.BUSY
    assert result.reason == busy_reason(REPOSITORY)
    assert run.registry.delete_calls == []
    assert run.notifier.sent == []


def test_a_push_that_leaves_nothing_to_purge_stays_quiet(run: Run) -> None:
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.PUSH)
    assert result.outcome is Outcome.NOTHING
    assert run.notifier.sent == []
    # while the daily run says so
    daily = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert (daily.outcome, daily.images, daily.notification_event) == (Outcome.NOTHING, 1, "images.plan")
    assert run.notifier.sent[0].severity.value == "info"


def test_a_missing_repository_is_reported_once_per_run_not_retried(run: Run) -> None:
    run.registry.missing = True
    result = purge_images(run.deps, settings(), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.outcome is Outcome.NO_REPOSITORY
    assert run.notifier.sent[0].event == "images.unavailable"


def test_without_ecr_repository_the_purge_fails_naming_the_variable(run: Run) -> None:
    with pytest.raises(SettingsError, match="ECR_REPOSITORY"):
        purge_images(run.deps, settings(ECR_REPOSITORY=""), NOW, trigger=PurgeTrigger.SCHEDULE)


# --- issue 13 §1: a tag pointing at an image is not a deployment -------------------------------------------


@dataclass
class Resolver:
    """The ImagePort of a resume or pause: the tag in the service's ImageIdentifier, resolved in the registry."""

    registry: FakeRegistry

    def resolve(self, image_identifier: str) -> str | None:
        return self.registry.resolve_tag(REPOSITORY, image_identifier.rsplit(":", 1)[1])


def push(registry: FakeRegistry, name: str, tag: str = "latest", days: float = 0.5) -> None:
    """CI pushes `name` as `tag`: the tag leaves the image it was on."""
    for key, listed in list(registry.images.items()):
        if tag in listed.tags:
            registry.images[key] = listed.model_copy(update={"tags": tuple(t for t in listed.tags if t != tag)})
    registry.add(image(name, tag, days=days))


def deployed_only(run: Run, name: str, days: float) -> None:
    """The repository holds `name` as latest, and its deployment is the one deployment on record."""
    run.registry.images.clear()
    run.registry.add(image(name, "latest", days=days))
    run.state.deployments.clear()
    run.state.record_deployment(ARN, digest(name), None, NOW - timedelta(days=days), OBSERVED_SOURCE)


@pytest.mark.parametrize("keep", [5, 1])
def test_a_paused_service_keeps_the_image_it_resumes_to_however_many_builds_ci_pushes(run: Run, keep: int) -> None:
    # Given a service that runs build-0 (40 days old, its deployment seen), paused by the budget
    deployed_only(run, "build-0", days=40)
    claims = ClaimDeps(run.service, run.state, Resolver(run.registry))
    claim = Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="over budget", now=NOW)
    place_claim(claims, ARN, claim, now=NOW, actor="on_budget_alert", dry_run=False)
    assert run.service.status is ServiceStatus.PAUSED
    # When CI pushes IMAGE_KEEP_DEPLOYED builds to latest, each push running the purge in delete mode
    for n in range(1, keep + 1):
        push(run.registry, f"build-{n}")
        env = {"IMAGE_PURGE_MODE": "delete", "IMAGE_KEEP_DEPLOYED": str(keep)}
        purge_images(run.deps, settings(**env), NOW, trigger=PurgeTrigger.PUSH)
    # Then build-0, which App Runner redeploys on resume and the paused-image memo names, is still there
    assert digest("build-0") in run.registry.images
    assert run.state.get_memo(ARN, PAUSED_IMAGE)["digest"] == digest("build-0")  # type: ignore[index]
    # and no push was taken for a deployment
    assert [record.digest for _, record in run.state.deployments] == [digest("build-0")]


def test_with_auto_deploy_off_a_push_leaves_the_running_image_alone(run: Run) -> None:
    # Given auto-deploy off and a service running build-1 (40 days old), the only deployment on record, K = 1
    run.service.auto_deploy = False
    deployed_only(run, "build-1", days=40)
    # When CI pushes build-2 as latest, which deploys nothing, and the push runs the purge
    push(run.registry, "build-2")
    env = {"IMAGE_PURGE_MODE": "delete", "IMAGE_KEEP_DEPLOYED": "1"}
    result = purge_images(run.deps, settings(**env), NOW, trigger=PurgeTrigger.PUSH)
    # Then build-1 stays, named as what runs, and build-2 stays behind latest
    assert set(run.registry.images) == {digest("build-1"), digest("build-2")}
    assert result.deleted == 0
    plan = prepare_plan(run.deps, settings(**env), NOW)
    assert plan.running.digest == digest("build-1")
    assert {d.image.digest: d.rule for d in plan.plan.decisions} == {
        digest("build-1"): Rule.DEPLOYED_NOW,
        digest("build-2"): Rule.TRACKED_TAG,
    }
    assert len(run.state.deployments) == 1


def test_with_no_deployment_on_record_a_service_following_a_tag_holds_every_deletion(run: Run) -> None:
    # Given a service following latest, expired images, and no deployment on record
    run.state.deployments.clear()
    run.registry.add(*old_untagged(3))
    # When a delete run happens
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then nothing is deleted, and the notification says why and how that ends (images.held.not_deployed_yet.txt)
    assert result.outcome is Outcome.HELD
    assert run.registry.delete_calls == []
    assert run.notifier.sent[0].severity.value == "warning"
    seen = prepare_plan(run.deps, settings(), NOW).seen
    assert (seen.hold, seen.running.points_at) == (HoldKind.NOT_DEPLOYED_YET, digest("current"))


def test_a_service_pinned_to_a_digest_runs_that_digest_without_any_history(run: Run) -> None:
    run.state.deployments.clear()
    run.registry.add(image("pinned", days=400), *old_untagged(2))
    run.image_identifier = f"{REGISTRY}/{REPOSITORY}@{digest('pinned')}"
    result = purge_images(run.deps, settings(IMAGE_PURGE_MODE="delete"), NOW, trigger=PurgeTrigger.SCHEDULE)
    assert result.deleted == 2
    assert set(run.registry.images) == {digest("pinned"), digest("current")}


def test_the_images_a_pending_deployment_names_stay(run: Run) -> None:
    # Given a deployment Warden has pending: a rollback to `target` made while paused, the service resumed to
    # `resumed`, and the tag pointed at `earlier` when the rollback was decided; all untagged and old
    run.registry.add(*(image(name, days=200) for name in ("target", "resumed", "earlier")), *old_untagged(2))
    pending = {"image": f"{REGISTRY}/{REPOSITORY}:latest", "since": NOW.isoformat()}
    pending |= {"to": digest("target"), "resumed": digest("resumed"), "from": digest("earlier")}
    run.state.put_memo(ARN, PENDING_DEPLOY, pending)
    # When a delete run happens with K = 1
    env = {"IMAGE_PURGE_MODE": "delete", "IMAGE_KEEP_DEPLOYED": "1"}
    result = purge_images(run.deps, settings(**env), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then only the two strays go, the three kept as deployed next
    assert result.deleted == 2
    assert {digest("target"), digest("resumed"), digest("earlier")} <= set(run.registry.images)
    found = rules(run, IMAGE_KEEP_DEPLOYED="1")
    assert {found[digest(name)] for name in ("target", "resumed", "earlier")} == {Rule.NEXT_UP}


def test_while_a_rollback_waits_to_deploy_the_image_before_it_is_the_one_that_runs(run: Run) -> None:
    # Given a rollback to `target` recorded an hour ago whose deployment is still pending (App Runner was busy)
    run.registry.add(image("target", days=200))
    run.state.record_deployment(ARN, digest("target"), "v1.3.0", NOW - timedelta(hours=1), ROLLBACK_SOURCE)
    run.state.put_memo(ARN, PENDING_DEPLOY, {"image": "latest", "from": "", "to": digest("target"), "since": ""})
    # When the purge plans
    plan = prepare_plan(run.deps, settings(IMAGE_KEEP_DEPLOYED="1"), NOW)
    # Then what runs is the deployment before it, and both stay
    assert plan.running.digest == digest("current")
    assert plan.plan.deletions == ()


def test_with_k_1_the_image_a_rollback_would_pick_still_stays(run: Run) -> None:
    # Given the history: `previous` (untagged, 300 days old) deployed before `current`, and K = 1
    run.registry.add(image("previous", days=300), *old_untagged(2))
    run.state.record_deployment(ARN, digest("previous"), "v1.3.0", NOW - timedelta(days=10), RELEASE_SOURCE)
    env = {"IMAGE_PURGE_MODE": "delete", "IMAGE_KEEP_DEPLOYED": "1"}
    # When a delete run happens
    purge_images(run.deps, settings(**env), NOW, trigger=PurgeTrigger.SCHEDULE)
    # Then `previous`, which `warden rollback` would go back to, stays; the strays go
    assert set(run.registry.images) == {digest("current"), digest("previous")}
