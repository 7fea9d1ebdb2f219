"""Image retention, rule by rule: each image gets one decision and a reason a person can read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.events import load_event
from warden.domain.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    ImageInfo,
    PurgeTrigger,
    classify_invocation,
    format_size,
    format_usd,
    monthly_storage_cost,
    parse_image_identifier,
    parse_semver,
)
from warden.domain.records import DeploymentRecord
from warden.domain.retention import HeldBack, Protected, Protection, RetentionPolicy, Rule, plan_retention

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = RetentionPolicy()


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


NAMES: dict[str, str] = {}


def image(
    name: str,
    *tags: str,
    days: float = 200,
    size: int = 100_000_000,
    media_type: str = DOCKER_MANIFEST,
    pulled_days: float | None = None,
) -> ImageInfo:
    NAMES[digest(name)] = name
    return ImageInfo(
        digest=digest(name),
        tags=tags,
        pushed_at=NOW - timedelta(days=days),
        size_bytes=size,
        media_type=media_type,
        last_pull=None if pulled_days is None else NOW - timedelta(days=pulled_days),
    )


def reasons(images: list[ImageInfo], protection: Protection | None = None) -> dict[str, str]:
    """Each image's reason, by the name it was built with."""
    plan = plan_retention(images, protection or Protection(), POLICY, NOW)
    return {NAMES[d.image.digest]: d.reason for d in plan.decisions}


def test_the_image_the_service_runs_is_kept_however_old_and_untagged() -> None:
    # Given the running image, untagged and 400 days old
    images = [image("running", days=400)]
    # When planned with it as the running digest / Then it is kept as deployed now
    assert reasons(images, Protection(running_digest=digest("running"))) == {"running": "kept: deployed now"}


def test_the_images_behind_latest_and_behind_the_services_tag_are_kept() -> None:
    # Given an old `latest` and an old image carrying the service's tag
    images = [image("latest", "latest", "build-7", days=300), image("tracked", "prod", days=300)]
    # When planned with the service tracking `prod`
    found = reasons(images, Protection(tracked_tag="prod"))
    # Then both stay, each saying which tag holds it
    assert found == {"latest": "kept: behind latest", "tracked": "kept: behind prod (the service's tag)"}


def test_the_last_k_distinct_deployed_digests_are_rollback_targets() -> None:
    # Given six old images and a history deploying img0..img5, with img1 deployed twice
    images = [image(f"img{i}", days=300) for i in range(6)]
    history = [
        DeploymentRecord(digest=digest(f"img{i}"), tag=None, at=NOW - timedelta(days=30 - i), source="test")
        for i in (0, 1, 2, 3, 4, 5)
    ] + [DeploymentRecord(digest=digest("img1"), tag=None, at=NOW - timedelta(days=1), source="test")]
    # When planned with K=5 (the default)
    found = reasons(images, Protection(deployments=tuple(history)))
    # Then the newest five distinct digests stay, each with its latest deployment date; img0 goes
    assert found["img1"] == f"kept: deployed {NOW - timedelta(days=1):%Y-%m-%d} (rollback target)"
    assert found["img5"] == f"kept: deployed {NOW - timedelta(days=25):%Y-%m-%d} (rollback target)"
    assert [name for name, reason in found.items() if reason.startswith("deleted")] == ["img0"]


def test_an_ecs_services_task_definition_images_are_kept_with_the_revision_that_names_them() -> None:
    # Given two images its current task definition runs, two of earlier revisions (one named twice), and a stray
    images = [image(name, days=300) for name in ("web", "worker", "rev40", "rev39", "stray")]
    protection = Protection(
        also_running=(
            Protected(digest=digest("web"), why="deployed now (task definition app:41, container web)"),
            Protected(digest=digest("worker"), why="deployed now (task definition app:41, container worker)"),
        ),
        task_definitions=(
            Protected(digest=digest("rev40"), why="in task definition app:40 (rollback target)"),
            Protected(digest=digest("web"), why="in task definition app:40 (rollback target)"),
            Protected(digest=digest("rev39"), why="in task definition app:39 (rollback target)"),
            Protected(digest=digest("rev39"), why="in task definition app:38 (rollback target)"),
        ),
    )
    # When planned
    plan = plan_retention(images, protection, POLICY, NOW)
    found = {NAMES[d.image.digest]: (d.rule, d.reason) for d in plan.decisions}
    # Then what runs is deployed now, each earlier image names the newest revision that has it, the stray goes
    assert found["web"] == (Rule.DEPLOYED_NOW, "kept: deployed now (task definition app:41, container web)")
    assert found["worker"] == (Rule.DEPLOYED_NOW, "kept: deployed now (task definition app:41, container worker)")
    assert found["rev40"] == (Rule.TASK_DEFINITION, "kept: in task definition app:40 (rollback target)")
    assert found["rev39"] == (Rule.TASK_DEFINITION, "kept: in task definition app:39 (rollback target)")
    assert found["stray"][0] is Rule.UNTAGGED_EXPIRED
    assert list(plan.counts())[:2] == [Rule.DEPLOYED_NOW, Rule.TASK_DEFINITION]


def test_the_newest_n_semver_images_are_kept_by_version_not_by_push_date() -> None:
    # Given twelve old releases pushed in scrambled order, one of them a pre-release above v1.10.0
    versions = [f"v1.{minor}.0" for minor in range(11)] + ["1.11.0-rc.1"]
    images = [image(f"img{i}", tag, days=200 + (i * 7) % 13) for i, tag in enumerate(versions)]
    # When planned with N=10
    found = reasons(images)
    # Then v1.2.0 .. v1.10.0 and 1.11.0-rc.1 stay; v1.0.0 and v1.1.0 go
    kept = {versions[int(name[3:])] for name, reason in found.items() if reason.startswith("kept")}
    assert kept == {f"v1.{minor}.0" for minor in range(2, 11)} | {"1.11.0-rc.1"}
    assert found["img10"] == "kept: newest 10 semver (v1.10.0)"
    assert found["img0"] == "deleted: tagged v1.0.0, beyond keep rules, 200 days"


def test_semver_precedence_puts_a_release_above_its_pre_releases_and_numbers_numerically() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "v1.0.0", "1.2.0"]
    parsed = [parse_semver(tag) for tag in ordered]
    assert all(version is not None for version in parsed)
    assert sorted(parsed) == parsed  # type: ignore[type-var]
    assert parse_semver("latest") is None
    assert parse_semver("v1.2") is None
    assert parse_semver("01.2.3") is None


def test_an_image_pulled_within_the_window_is_kept_and_says_when() -> None:
    # Given old images pulled 3 days and 45 days ago, and one never pulled
    images = [image("pulled", days=200, pulled_days=3), image("old", days=200, pulled_days=45), image("other")]
    # When planned with P=30 / Then only the recent pull keeps its image
    found = reasons(images)
    assert found["pulled"] == "kept: pulled 3 days ago"
    assert found["old"].startswith("deleted: untagged")
    assert found["other"] == "deleted: untagged, 200 days"


def test_untagged_and_tagged_images_expire_at_their_own_ages() -> None:
    # Given untagged images of 41 and 3 days, tagged ones of 200 and 30 days
    images = [
        image("img1", days=41),
        image("img2", days=3),
        image("img3", "v0.3.1", "feature-x", days=200),
        image("img4", "feature-y", days=30),
    ]
    # When planned with N=0 semver, so that v0.3.1 is not protected by version
    plan = plan_retention(images, Protection(), RetentionPolicy(keep_semver=0), NOW)
    found = {d.image.digest: d.reason for d in plan.decisions}
    # Then the reasons name the rule and the age
    assert found[digest("img1")] == "deleted: untagged, 41 days"
    assert found[digest("img2")] == "kept: too recent (untagged, 3 of 7 days)"
    assert found[digest("img3")] == "deleted: tagged feature-x, v0.3.1, beyond keep rules, 200 days"
    assert found[digest("img4")] == "kept: too recent (tagged, 30 of 90 days)"


def test_an_untagged_child_of_a_kept_index_is_never_deleted() -> None:
    # Given a recent index (too recent, so kept) whose platform child is untagged and 120 days old
    index = image("index", "v2.0.0", days=2, media_type=OCI_INDEX)
    child = image("child", days=120)
    # When planned without the index's manifest, the plan asks for it and holds every non-index deletion
    first = plan_retention([index, child], Protection(), POLICY, NOW)
    assert first.missing_children == (digest("index"),)
    assert first.deletions == ()
    # When planned with it
    plan = plan_retention([index, child], Protection(), POLICY, NOW, children={digest("index"): [digest("child")]})
    # Then the child stays because of its index
    (kept,) = [d for d in plan.decisions if d.image.digest == digest("child")]
    assert kept.rule is Rule.INDEX_CHILD
    assert kept.reason == f"kept: child of kept index {digest('index')[:19]}"
    assert plan.missing_children == ()


def test_the_children_of_a_deleted_index_go_with_it_and_an_unreadable_kept_index_holds_deletions() -> None:
    # Given an old untagged index with an old untagged child, and another old untagged image
    index = image("index", days=100, media_type=OCI_INDEX)
    images = [index, image("child", days=100), image("other", days=100)]
    # When the index is not kept, Then it and its child go (no manifest needed)
    plan = plan_retention(images, Protection(), POLICY, NOW)
    assert {d.image.digest for d in plan.deletions} == {digest(n) for n in ("index", "child", "other")}
    assert plan.missing_children == ()
    # When the index runs but its manifest cannot be read
    held = plan_retention(images, Protection(running_digest=digest("index")), POLICY, NOW, unreadable={digest("index")})
    # Then nothing but indexes could be deleted, and the plan says which index held them back
    assert held.deletions == ()
    assert {d.rule for d in held.decisions} == {Rule.DEPLOYED_NOW, Rule.CHILDREN_UNKNOWN}
    assert held.held_back == (HeldBack(unknown_indexes=(digest("index"),)),)


def test_a_hold_keeps_everything_and_says_why() -> None:
    images = [image("old", days=400), image("other", "feature-x", days=400)]
    plan = plan_retention(images, Protection(hold="the service was not found"), POLICY, NOW)
    assert plan.deletions == ()
    assert {d.reason for d in plan.decisions} == {"kept: the service was not found"}
    assert plan.held_back == (HeldBack(hold="the service was not found"),)


def test_the_first_rule_that_applies_gives_the_reason_and_the_plan_counts_per_rule() -> None:
    # Given the running image, which is also `latest`, a semver release and pulled yesterday
    images = [image("running", "latest", "v1.0.0", days=300, pulled_days=1), image("old", days=30)]
    plan = plan_retention(images, Protection(running_digest=digest("running")), POLICY, NOW)
    # Then "deployed now" wins, and the counts say one kept as deployed, one deleted as untagged
    assert plan.decisions[-1].image.digest == digest("running")
    assert plan.decisions[-1].reason == "kept: deployed now"
    assert plan.counts() == {Rule.DEPLOYED_NOW: 1, Rule.UNTAGGED_EXPIRED: 1}
    assert plan.bytes_to_delete == 100_000_000


def test_decisions_come_newest_first_whatever_the_input_order() -> None:
    images = [image("img1", days=10), image("img2", days=1), image("img3", days=5)]
    plan = plan_retention(list(reversed(images)), Protection(), POLICY, NOW)
    assert [d.image.digest for d in plan.decisions] == [digest("img2"), digest("img3"), digest("img1")]


@pytest.mark.parametrize(
    ("identifier", "repository", "tag", "digest_"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app:latest", "consultation-app", "latest", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1.2.0", "team/app", "v1.2.0", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app", "consultation-app", "latest", None),
        (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@{digest('x')}", "app", None, digest("x")),
        (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1@{digest('x')}", "app", "v1", digest("x")),
        ("public.ecr.aws/nginx/nginx:1.27", "nginx/nginx", "1.27", None),
    ],
)
def test_app_runner_image_identifiers_are_taken_apart(
    identifier: str, repository: str, tag: str | None, digest_: str | None
) -> None:
    reference = parse_image_identifier(identifier)
    assert (reference.repository, reference.tag, reference.digest) == (repository, tag, digest_)


def test_an_image_identifier_knows_whether_it_is_in_this_accounts_repository() -> None:
    reference = parse_image_identifier("123456789012.dkr.ecr.eu-west-1.amazonaws.com/consultation-app:latest")
    assert reference.is_in("123456789012", "eu-west-1", "consultation-app")
    assert not reference.is_in("123456789012", "us-east-1", "consultation-app")
    assert not reference.is_in("210987654321", "eu-west-1", "consultation-app")
    assert not parse_image_identifier("public.ecr.aws/nginx/nginx:1").is_in("123456789012", "eu-west-1", "nginx")


@pytest.mark.parametrize("identifier", ["consultation-app", "registry/Bad_Repo:tag", "r/app@sha256:xyz", "r/app:-bad"])
def test_an_unreadable_image_identifier_is_refused_with_a_reason(identifier: str) -> None:
    with pytest.raises(ValueError, match=r"expected|not a valid|not an image digest"):
        parse_image_identifier(identifier)


def test_sizes_and_savings_are_in_decimal_units_at_ten_cents_a_gigabyte_month() -> None:
    assert format_size(3_120_000_000) == "3.12 GB"
    assert format_size(187_400_000) == "187.4 MB"
    assert format_usd(monthly_storage_cost(3_120_000_000)) == "$0.31"
    assert format_usd(monthly_storage_cost(40_000_000)) == "< $0.01"
    assert format_usd(monthly_storage_cost(0)) == "$0.00"


def test_the_schedule_and_a_push_to_the_apps_repository_start_a_purge() -> None:
    assert classify_invocation(load_event("purge_images", "daily"), "consultation-app").trigger is PurgeTrigger.SCHEDULE
    push = classify_invocation(load_event("purge_images", "ecr-push"), "consultation-app")
    assert push.trigger is PurgeTrigger.PUSH
    assert push.reason == "ECR push of consultation-app:v1.16.0"


@pytest.mark.parametrize(
    ("change", "because"),
    [
        ({"repository-name": "other-app"}, "ignored, because the push was to repository 'other-app'"),
        ({"action-type": "DELETE"}, "ignored, because the ECR action is 'DELETE', not a PUSH"),
        ({"result": "FAILURE"}, "ignored, because the push to 'consultation-app' did not succeed ('FAILURE')"),
    ],
)
def test_other_ecr_events_are_ignored_with_the_reason(change: dict[str, str], because: str) -> None:
    event = load_event("purge_images", "ecr-push")
    event["detail"].update(change)
    invocation = classify_invocation(event, "consultation-app")
    assert invocation.ignored
    assert invocation.reason.startswith(because)


def test_another_job_or_an_unknown_event_is_ignored() -> None:
    assert classify_invocation({"job": "reconcile"}, "app").reason == (
        "ignored, because job 'reconcile' is not 'purge-images'"
    )
    assert classify_invocation({"source": "aws.s3", "detail-type": "x"}, "app").ignored


def test_without_a_repository_every_invocation_is_ignored_because_the_purge_is_off() -> None:
    for event in (load_event("purge_images", "daily"), load_event("purge_images", "ecr-push")):
        invocation = classify_invocation(event, None)
        assert invocation.ignored
        assert invocation.reason.startswith("ignored, because ECR_REPOSITORY is not set")
