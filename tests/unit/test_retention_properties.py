"""Retention, checked over thousands of random repositories and deployment histories.

Three properties a purge must never break: nothing protected is ever planned for deletion (and every
image gets exactly one decision), including every image an ECS service's task definitions name, what a
paused service resumes to and a pending deployment's images; the plan does not depend on the order ECR
lists images in; and a plan applied and planned again deletes nothing more. And `rollback_picks` holds
whatever a rollback picks from a history, wherever the tag points when it runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warden.domain.images import DOCKER_MANIFEST, OCI_INDEX, ImageInfo, best_semver
from warden.domain.pipeline import RELEASE_SOURCE, ROLLBACK_SOURCE, choose_rollback_target
from warden.domain.records import DeploymentRecord
from warden.domain.retention import (
    Protected,
    Protection,
    RetentionPlan,
    RetentionPolicy,
    Rule,
    plan_retention,
    rollback_picks,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# Several spellings of one version on purpose (v1.0.0 and 1.0.0 tie), pre-releases, and non-semver tags.
TAG_POOL = [
    *(f"v1.{minor}.{patch}" for minor in range(6) for patch in range(3)),
    "1.0.0",
    "1.2.1",
    "v2.0.0-rc.1",
    "v2.0.0-rc.2",
    "v2.0.0",
    "latest",
    "prod",
    "staging",
    "feature-x",
    "build-7",
]
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def digest(number: int) -> str:
    return "sha256:" + hashlib.sha256(str(number).encode()).hexdigest()


@dataclass(frozen=True)
class Case:
    images: list[ImageInfo]
    protection: Protection
    policy: RetentionPolicy
    children: dict[str, list[str]]
    unreadable: frozenset[str]

    def plan(self, images: list[ImageInfo] | None = None) -> RetentionPlan:
        return plan_retention(
            self.images if images is None else images,
            self.protection,
            self.policy,
            NOW,
            children=self.children,
            unreadable=self.unreadable,
        )


def build_case(count: int, seed: bytes, policy: RetentionPolicy) -> Case:
    """A repository of `count` images, its manifests, history and protection, drawn from `seed`."""
    rng = Random(seed)
    used: set[str] = set()
    images = []
    for number in range(count):
        tags = tuple(
            tag for tag in dict.fromkeys(rng.sample(TAG_POOL, rng.choice((0, 0, 1, 1, 2, 3)))) if tag not in used
        )
        used.update(tags)
        pulled = rng.randrange(120 * 24) if rng.random() < 0.3 else None
        images.append(
            ImageInfo(
                digest=digest(number),
                tags=tags,
                pushed_at=NOW - timedelta(hours=rng.randrange(400 * 24)),
                size_bytes=rng.randrange(2000) * 10**6,
                media_type=OCI_INDEX if rng.random() < 0.2 else DOCKER_MANIFEST,
                last_pull=None if pulled is None else NOW - timedelta(hours=pulled),
            )
        )
    known = [image.digest for image in images] + [digest(1000 + n) for n in range(3)]  # some digests not in ECR
    children: dict[str, list[str]] = {}
    unreadable: set[str] = set()
    for image in images:
        if image.is_index:
            if rng.random() < 0.1:
                unreadable.add(image.digest)
            else:
                children[image.digest] = [rng.choice(known) for _ in range(rng.randrange(5))]
    minutes = rng.sample(range(500 * 24 * 60), rng.randrange(13))
    deployments = tuple(
        DeploymentRecord(digest=rng.choice(known), tag=None, at=NOW - timedelta(minutes=m), source="test")
        for m in minutes
    )
    # An ECS service: its current task definitions' images, and those of its previous revisions.
    ecs = rng.random() < 0.5
    also_running = tuple(
        Protected(digest=rng.choice(known), why=f"deployed now (task definition app:{n}, container web)")
        for n in range(rng.randrange(3) if ecs else 0)
    )
    task_definitions = tuple(
        Protected(digest=rng.choice(known), why=f"in task definition app:{40 - n} (rollback target)")
        for n in range(rng.randrange(6) if ecs else 0)
    )
    next_up = tuple(
        Protected(digest=rng.choice(known), why="the paused service resumes to it") for _ in range(rng.randrange(3))
    )
    protection = Protection(
        running_digest=rng.choice(known) if rng.random() < 0.75 else None,
        next_up=next_up,
        rollback_targets=rollback_picks(sorted(deployments, key=lambda r: r.at, reverse=True)),
        also_running=also_running,
        tracked_tag=rng.choice(TAG_POOL) if rng.random() < 0.6 else None,
        task_definitions=task_definitions,
        deployments=deployments,
        hold="the running image is unknown" if rng.random() < 0.05 else None,
    )
    return Case(images, protection, policy, children, frozenset(unreadable))


# Hypothesis draws the size, a seed and the policy (a handful of choices, so thousands of cases take
# seconds); the repository is built from the seed. A failure shrinks towards fewer images and a
# smaller policy, and reports the seed that reproduces it.
policies = st.builds(
    RetentionPolicy,
    keep_deployed=st.integers(0, 6),
    keep_semver=st.integers(0, 12),
    keep_pulled_days=st.integers(0, 60),
    untagged_days=st.integers(1, 30),
    tagged_days=st.integers(1, 200),
)
cases = st.builds(build_case, st.integers(0, 30), st.binary(min_size=8, max_size=8), policies)


def protected_digests(case: Case) -> set[str]:
    """The keep rules restated plainly, independent of the implementation (children are checked apart)."""
    images, protection, policy = case.images, case.protection, case.policy
    protected = {protection.running_digest} if protection.running_digest else set()
    named = (*protection.also_running, *protection.next_up, *protection.task_definitions, *protection.rollback_targets)
    protected |= {item.digest for item in named}
    for tag in {protection.tracked_tag, "latest"} - {None}:
        protected |= {image.digest for image in images if tag in image.tags}
    newest: list[str] = []
    for record in sorted(protection.deployments, key=lambda r: r.at, reverse=True):
        if record.digest not in newest:
            newest.append(record.digest)
    protected |= set(newest[: policy.keep_deployed])
    versions = {image.digest: found[0] for image in images if (found := best_semver(image.tags))}
    for key, version in versions.items():
        higher = sum(1 for other in versions.values() if other > version)
        if higher < policy.keep_semver and not any(
            other == version for d, other in versions.items() if d != key
        ):  # ties at the boundary are decided by a tie-break: only clear winners are asserted
            protected.add(key)
    if policy.keep_pulled_days:
        window = timedelta(days=policy.keep_pulled_days)
        protected |= {i.digest for i in images if i.last_pull is not None and NOW - i.last_pull <= window}
    return protected


def deleted(plan: RetentionPlan) -> set[str]:
    return {decision.image.digest for decision in plan.deletions}


@settings(FAST, max_examples=1200)
@given(cases)
def test_nothing_protected_is_ever_planned_for_deletion_and_every_image_has_one_decision(case: Case) -> None:
    # Given a random repository, history and policy / When it is planned
    plan = case.plan()
    gone = deleted(plan)

    # Then every image has exactly one decision
    assert sorted(d.image.digest for d in plan.decisions) == sorted(i.digest for i in case.images)
    assert all(d.reason.startswith("deleted: " if d.delete else "kept: ") for d in plan.decisions)
    # and nothing protected is planned for deletion
    assert gone.isdisjoint(protected_digests(case))
    # and at least the newest N semver-tagged images stay
    semver_kept = [d for d in plan.kept if best_semver(d.image.tags)]
    semver_all = [i for i in case.images if best_semver(i.tags)]
    assert len(semver_kept) >= min(case.policy.keep_semver, len(semver_all))
    # and no child of a kept index goes; when a kept index is unreadable, no image but an index goes
    kept_indexes = [d.image.digest for d in plan.kept if d.image.is_index]
    for index in kept_indexes:
        assert gone.isdisjoint(case.children.get(index, []))
    if any(index in case.unreadable for index in kept_indexes):
        assert all(d.image.is_index for d in plan.deletions)
    # and every image a task definition names is kept, saying so unless an earlier rule already kept it
    named = {t.digest for t in case.protection.task_definitions} - {r.digest for r in case.protection.also_running}
    for decision in plan.decisions:
        if decision.image.digest in named and decision.rule is Rule.TASK_DEFINITION:
            assert decision.reason.startswith("kept: in task definition app:")
        if decision.image.digest in named:
            assert decision.rule in {Rule.DEPLOYED_NOW, Rule.NEXT_UP, Rule.TRACKED_TAG, Rule.TASK_DEFINITION}
    # and a hold deletes nothing
    if case.protection.hold:
        assert gone == set()
    # and nothing is deleted younger than its age limit
    for decision in plan.deletions:
        limit = case.policy.tagged_days if decision.image.tags else case.policy.untagged_days
        assert NOW - decision.image.pushed_at > timedelta(days=limit)


@settings(FAST, max_examples=600)
@given(cases, st.integers(0, 2**32))
def test_the_plan_is_the_same_whatever_order_ecr_lists_the_images_in(case: Case, shuffle_seed: int) -> None:
    # Given the same repository listed in another order (and the manifests read in another order)
    shuffled = list(case.images)
    Random(shuffle_seed).shuffle(shuffled)
    children: Mapping[str, list[str]] = dict(reversed(list(case.children.items())))

    # When both are planned
    first = case.plan()
    second = plan_retention(
        shuffled, case.protection, case.policy, NOW, children=children, unreadable=set(case.unreadable)
    )

    # Then the plans are identical, decision for decision
    assert second == first


@settings(FAST, max_examples=600)
@given(cases)
def test_a_plan_applied_and_planned_again_deletes_nothing_more(case: Case) -> None:
    # Given a plan, and the repository after its deletions
    plan = case.plan()
    remaining = [image for image in case.images if image.digest not in deleted(plan)]

    # When the same run plans again
    again = case.plan(remaining)

    # Then it deletes nothing, and every image kept keeps its reason
    assert again.deletions == ()
    assert {d.image.digest: d.reason for d in again.decisions} == {d.image.digest: d.reason for d in plan.kept}


sources = st.sampled_from([RELEASE_SOURCE, ROLLBACK_SOURCE, "observed by on_deployment", "resume"])
histories = st.lists(st.tuples(st.integers(0, 6), sources), max_size=14).map(
    lambda drawn: [
        DeploymentRecord(digest=digest(number), tag=None, at=NOW - timedelta(hours=hours), source=source)
        for hours, (number, source) in enumerate(drawn)
    ]
)


@settings(FAST, max_examples=1500)
@given(histories, st.one_of(st.none(), st.integers(0, 8).map(digest)))
def test_whatever_the_tag_points_at_a_rollbacks_pick_is_among_the_kept_rollback_picks(
    history: list[DeploymentRecord], tag_points_at: str | None
) -> None:
    # Given a history (newest first, rollbacks among the releases) and wherever the tracked tag points now
    # When a rollback picks its target, and the purge computes what to keep
    target = choose_rollback_target(history, tag_points_at)
    kept = {item.digest for item in rollback_picks(history)}
    # Then the target is kept, and no more than the two a rollback can ever pick are
    assert target is None or target.digest in kept
    assert len(kept) <= 2
