"""Image retention: which images of the app's repository may go, and why each one stays or goes.

A pure function of the image list, what is protected and the policy, with `now` as a parameter. Every
image gets exactly one decision with a reason a person can read, and the plan is deterministic: the
same images in any order give the same plan, and applying a plan and planning again deletes nothing
more (every reason to keep an image survives the deletion of the others).

"Deployed" means a deployment of the digest was seen (App Runner's operation events, Warden's own release,
rollback or resume), never that a tag points at it: a push to `latest` with auto-deploy off, or to a paused
service, deploys nothing (AWS-FACTS §4.4), and the image that runs is then one no tag may name any more.

The rules, in the order their reasons are reported (an image is kept by the first that applies):
1. deployed now: the digest the service runs (App Runner: the newest deployment on record, or the
   `@sha256:` digest its ImageIdentifier pins), and on ECS every image of this repository that the
   service's current task definitions name;
2. resumes to or deploys next: the image a paused service resumes to (App Runner redeploys the version
   from before the pause), and the images of a deployment Warden has pending;
3. behind the service's tag, and behind `latest`: whatever those tags point at in the listing;
4. in a recent task definition (ECS): the images of the K task-definition revisions before the current
   one, which are what a rollback of an ECS service goes back to;
5. rollback targets: every digest a rollback could pick from the history (`rollback_picks`), and the
   last K distinct digests of the deployment history;
6. the newest N semver-tagged images, ordered by version (not by push date);
7. pulled within P days, where ECR recorded a pull;
then age: untagged images older than U days and tagged images older than A days go, younger ones stay
("too recent"); and finally 8. every manifest a kept index refers to (its children, usually untagged)
stays, whatever the age rules said. Deletion is by digest, which removes all of an image's tags, so
one tag that a rule protects keeps the whole image.

Two safety holds turn every deletion into a keep: `Protection.hold` (the use case could not tell which
image runs), and a kept index whose manifest could not be read (its children are unknown). The plan says which
in `held_back`, as facts: warden/messages/images.py writes the sentences.

A repository several guarded services share is planned once per service, and `shared_plan` deletes only what
every one of those plans deletes. `WhatRuns` is what the purge found one service runs (and, on ECS, may roll
back to), and the hold that follows from it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.images import ImageInfo, best_semver, short_digest
from warden.domain.pipeline import choose_rollback_target
from warden.domain.records import DeploymentRecord
from warden.domain.service import ServiceStatus

LATEST = "latest"
_DAY = timedelta(days=1)


class RetentionPolicy(BaseModel):
    """The thresholds, from settings (IMAGE_KEEP_DEPLOYED, IMAGE_KEEP_SEMVER, ...)."""

    model_config = ConfigDict(frozen=True)

    keep_deployed: int = 5
    keep_semver: int = 10
    keep_pulled_days: int = 30  # 0 turns the pull rule off
    untagged_days: int = 7
    tagged_days: int = 90


class Protected(BaseModel):
    """A digest the caller protects by name, with why (the reason reads "kept: <why>")."""

    model_config = ConfigDict(frozen=True)

    digest: str
    why: str  # e.g. "deployed now (task definition consultation-app:41, container web)"


class NextUp(StrEnum):
    """What a memo of converge.py says of an image, as its keep-reason reads ("kept: <value>")."""

    RESUMES_TO = "the paused service resumes to it (the version deployed before the pause)"
    PENDING = "a deployment Warden has pending deploys it"
    RUNS_UNTIL_PENDING = "the service runs it until Warden's pending deployment starts"
    DECIDED_FROM = "the tag pointed at it when Warden's pending deployment was decided"


class Protection(BaseModel):
    """What must never go, as far as the run could tell."""

    model_config = ConfigDict(frozen=True)

    running_digest: str | None = None
    # What a paused service resumes to and what a deployment Warden has pending deploys, each saying which.
    next_up: tuple[Protected, ...] = ()
    # More images deployed now, each saying where it runs (ECS: every container of the current task definitions).
    also_running: tuple[Protected, ...] = ()
    tracked_tag: str | None = None  # the tag in the service's ImageIdentifier (`latest` is always kept too)
    # ECS rollback targets: the images of the previous task-definition revisions, newest first (the caller
    # has already cut them to the last K); the first reason given for a digest is the one reported.
    task_definitions: tuple[Protected, ...] = ()
    # Every digest a rollback could pick from the history (`rollback_picks`), whatever K is.
    rollback_targets: tuple[Protected, ...] = ()
    deployments: tuple[DeploymentRecord, ...] = ()  # any order; the newest K distinct digests are kept
    hold: str | None = None  # set: nothing is deleted, and this says why (a short label: HoldKind)


class ContainerImage(BaseModel):
    """One container of an ECS task definition and the image reference it names (a tag or a digest)."""

    model_config = ConfigDict(frozen=True)

    container: str
    image: str


class TaskDefinitionImages(BaseModel):
    """One task-definition revision of an ECS service and the images of its containers, as ECS describes it."""

    model_config = ConfigDict(frozen=True)

    task_definition: str  # family:revision, e.g. "consultation-app:41"
    containers: tuple[ContainerImage, ...] = ()
    current: bool = False  # a deployment of the service runs it now (PRIMARY, or an ACTIVE one still draining)
    unreadable: str | None = None  # why ECS could not describe it (then `containers` is empty)


class HoldKind(StrEnum):
    """Why a purge deletes nothing this run, as the short label Protection.hold takes (warden/messages/images.py
    writes the sentence, from WhatRuns)."""

    SERVICE_NOT_FOUND = "the service was not found"
    IMAGE_UNREADABLE = "the service's image reference could not be read"
    TAG_POINTS_AT_NOTHING = "the service's tag points at no image"
    NOT_DEPLOYED_YET = "no deployment of the service is on record yet"
    NO_TASK_DEFINITION = "the service lists no task definition"
    TASK_DEFINITION_UNKNOWN = "the images of a current task definition are unknown"
    IN_PROGRESS = "a deployment of the service is in progress"


class RunningKind(StrEnum):
    """How the purge told what the service runs, or why it could not."""

    NOT_FOUND = "not found"
    NO_IMAGE_REPOSITORY = "no image repository"  # built from source code: no image of any repository runs
    IMAGE_UNREADABLE = "image reference unreadable"
    PINNED = "pinned to a digest"
    OTHER_REPOSITORY = "a tag of another repository"
    TAG_POINTS_AT_NOTHING = "its tag points at no image"
    NOT_DEPLOYED_YET = "no deployment on record yet"
    DEPLOYED = "the newest deployment on record"
    NO_TASK_DEFINITION = "no task definition"
    TASK_DEFINITIONS = "its task definitions"


class RunningImage(BaseModel):
    """What the service runs, as far as its platform and ECR tell. On ECS: its first container in the repository
    (WhatRuns.task_definitions has every container)."""

    model_config = ConfigDict(frozen=True)

    kind: RunningKind
    identifier: str | None = None
    digest: str | None = None
    tag: str | None = None
    in_repository: bool = False
    problem: str | None = None  # IMAGE_UNREADABLE: why the reference could not be read
    points_at: str | None = None  # NOT_DEPLOYED_YET, DEPLOYED: the digest the service's tag points at now
    deployed: DeploymentRecord | None = None  # DEPLOYED: the newest deployment on record


class ContainerSeen(BaseModel):
    """One container of a task definition, its image resolved against the repository."""

    model_config = ConfigDict(frozen=True)

    container: str
    image: str
    inside: bool  # an image of the repository; any other (another registry, another repository) is ignored
    digest: str | None = None  # inside and None: its tag points at no image
    tag: str | None = None

    @property
    def dangling(self) -> bool:
        return self.inside and self.digest is None


class TaskDefinitionSeen(BaseModel):
    """One task-definition revision of an ECS service, its containers resolved (none when it was unreadable)."""

    model_config = ConfigDict(frozen=True)

    task_definition: str
    current: bool = False
    containers: tuple[ContainerSeen, ...] = ()
    unreadable: str | None = None


class WhatRuns(BaseModel):
    """What one purge run found a guarded service runs (and, on ECS, may roll back to): what its plan keeps by
    name, and whether every deletion must wait (`hold`)."""

    model_config = ConfigDict(frozen=True)

    repository: str
    service: str  # its name, as its platform describes it (as its settings name it when it was not found)
    platform: str | None = None  # how messages name its platform (ServiceSnapshot.platform); None: not found
    status: ServiceStatus | None = None
    running: RunningImage
    task_definitions: tuple[TaskDefinitionSeen, ...] = ()  # ECS: the current revisions, then the K before them

    @property
    def hold(self) -> HoldKind | None:
        """Why nothing may be deleted: what runs cannot be told, or a deployment in flight may still roll back
        to the image that ran before it, which may no longer carry a tag."""
        match self.running.kind:
            case RunningKind.NOT_FOUND:
                return HoldKind.SERVICE_NOT_FOUND
            case RunningKind.IMAGE_UNREADABLE:
                return HoldKind.IMAGE_UNREADABLE
            case RunningKind.TAG_POINTS_AT_NOTHING:
                return HoldKind.TAG_POINTS_AT_NOTHING
            case RunningKind.NOT_DEPLOYED_YET:
                return HoldKind.NOT_DEPLOYED_YET
            case RunningKind.NO_TASK_DEFINITION:
                return HoldKind.NO_TASK_DEFINITION
            case RunningKind.TASK_DEFINITIONS:
                if any(
                    definition.unreadable or any(container.dangling for container in definition.containers)
                    for definition in self.task_definitions
                    if definition.current
                ):
                    return HoldKind.TASK_DEFINITION_UNKNOWN
            case (
                RunningKind.NO_IMAGE_REPOSITORY
                | RunningKind.PINNED
                | RunningKind.OTHER_REPOSITORY
                | RunningKind.DEPLOYED
            ):
                pass
            case unreachable:
                assert_never(unreachable)
        return HoldKind.IN_PROGRESS if self.status is ServiceStatus.OPERATION_IN_PROGRESS else None

    @property
    def also_running(self) -> tuple[Protected, ...]:
        """ECS: every image of the repository that a current task definition names, with where it runs."""
        return tuple(
            Protected(
                digest=container.digest,
                why=f"deployed now (task definition {definition.task_definition}, container {container.container})",
            )
            for definition in self.task_definitions
            if definition.current
            for container in definition.containers
            if container.inside and container.digest
        )

    @property
    def rollback_revisions(self) -> tuple[Protected, ...]:
        """ECS: the images of the revisions before the current one, which a rollback of the service goes back to."""
        return tuple(
            Protected(digest=container.digest, why=f"in task definition {definition.task_definition} (rollback target)")
            for definition in self.task_definitions
            if not definition.current
            for container in definition.containers
            if container.inside and container.digest
        )


class Rule(StrEnum):
    """Why an image stays or goes; the notification counts images per rule, in this order."""

    DEPLOYED_NOW = "deployed now"
    NEXT_UP = "resumed to or deployed next"
    TRACKED_TAG = "behind the service's tag or latest"
    TASK_DEFINITION = "in a recent task definition"
    ROLLBACK_TARGET = "rollback target"
    SEMVER = "newest semver"
    PULLED = "pulled recently"
    INDEX_CHILD = "child of a kept index"
    TOO_RECENT = "too recent"
    CHILDREN_UNKNOWN = "kept index unreadable"
    HOLD = "held"
    UNTAGGED_EXPIRED = "untagged, expired"
    TAGGED_EXPIRED = "tagged, beyond keep rules"


DELETE_RULES = frozenset({Rule.UNTAGGED_EXPIRED, Rule.TAGGED_EXPIRED})
# The rules that keep an image by name: what the service runs, resumes to, deploys next or may roll back to.
NAMED_RULES = (Rule.DEPLOYED_NOW, Rule.NEXT_UP, Rule.TRACKED_TAG, Rule.TASK_DEFINITION, Rule.ROLLBACK_TARGET)
# The rules that keep an image for one service's own reasons (in a shared repository, its decision names it).
SERVICE_RULES = frozenset({*NAMED_RULES, Rule.HOLD})


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    image: ImageInfo
    rule: Rule
    reason: str  # "kept: deployed now", "deleted: untagged, 41 days", ...
    # In the plan of a repository several services share (`shared_plan`): the service whose own reason keeps the
    # image (a rule of SERVICE_RULES), and the other services that keep it for their own reasons too.
    kept_for: str | None = None
    also_kept_for: tuple[str, ...] = ()

    @property
    def delete(self) -> bool:
        return self.rule in DELETE_RULES


class HeldBack(BaseModel):
    """Why a plan keeps images its rules would delete: the caller's hold (nothing goes), or kept indexes whose
    manifest could not be read (nothing but indexes goes)."""

    model_config = ConfigDict(frozen=True)

    hold: str | None = None  # Protection.hold
    unknown_indexes: tuple[str, ...] = ()  # sorted digests


class RetentionPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    decisions: tuple[Decision, ...]  # newest push first, then by digest
    # Kept indexes whose children the caller has not looked up yet: look them up and plan again.
    missing_children: tuple[str, ...] = ()
    # Empty, or why the plan keeps what it would delete; a shared plan has each service's, in service order.
    held_back: tuple[HeldBack, ...] = ()

    @property
    def deletions(self) -> tuple[Decision, ...]:
        return tuple(decision for decision in self.decisions if decision.delete)

    @property
    def kept(self) -> tuple[Decision, ...]:
        return tuple(decision for decision in self.decisions if not decision.delete)

    @property
    def bytes_to_delete(self) -> int:
        return sum(decision.image.size_bytes for decision in self.deletions)

    def counts(self) -> dict[Rule, int]:
        """How many images each rule decided, in the order of `Rule`, leaving out rules that decided none."""
        counted = {rule: 0 for rule in Rule}
        for decision in self.decisions:
            counted[decision.rule] += 1
        return {rule: count for rule, count in counted.items() if count}


def plan_retention(
    images: Iterable[ImageInfo],
    protection: Protection,
    policy: RetentionPolicy,
    now: datetime,
    *,
    children: Mapping[str, Sequence[str]] | None = None,
    unreadable: Collection[str] = (),
) -> RetentionPlan:
    """Decides every image once. `children` maps an index digest to the digests its manifest lists;
    `unreadable` holds index digests whose manifest could not be read."""
    ordered = _unique(images)
    by_digest = {image.digest: image for image in ordered}
    decided: dict[str, tuple[Rule, str]] = {}

    def keep(digest: str, rule: Rule, reason: str) -> None:
        if digest in by_digest and digest not in decided:
            decided[digest] = (rule, reason)

    if protection.running_digest:
        keep(protection.running_digest, Rule.DEPLOYED_NOW, "kept: deployed now")
    for running in protection.also_running:
        keep(running.digest, Rule.DEPLOYED_NOW, f"kept: {running.why}")
    for coming in protection.next_up:
        keep(coming.digest, Rule.NEXT_UP, f"kept: {coming.why}")
    tracked = [tag for tag in (protection.tracked_tag, LATEST) if tag]
    for tag in dict.fromkeys(tracked):
        reason = "kept: behind latest" if tag == LATEST else f"kept: behind {tag} (the service's tag)"
        for image in ordered:
            if tag in image.tags:
                keep(image.digest, Rule.TRACKED_TAG, reason)
    for target in protection.task_definitions:
        keep(target.digest, Rule.TASK_DEFINITION, f"kept: {target.why}")
    for target in protection.rollback_targets:
        keep(target.digest, Rule.ROLLBACK_TARGET, f"kept: {target.why}")
    for digest, at in _last_deployed(protection.deployments, policy.keep_deployed):
        keep(digest, Rule.ROLLBACK_TARGET, f"kept: deployed {at:%Y-%m-%d} (rollback target)")
    for image, tag in _newest_semver(ordered, policy.keep_semver):
        keep(image.digest, Rule.SEMVER, f"kept: newest {policy.keep_semver} semver ({tag})")
    if policy.keep_pulled_days > 0:
        for image in ordered:
            if image.last_pull is not None and now - image.last_pull <= timedelta(days=policy.keep_pulled_days):
                keep(image.digest, Rule.PULLED, f"kept: {_pulled(now, image.last_pull)}")
    for image in ordered:
        if image.digest not in decided:
            decided[image.digest] = _by_age(image, policy, now)

    # Children of kept indexes stay, whatever their age: an index is useless without them. Repeat for
    # nested indexes until nothing changes (each pass only turns deletions into keeps, so it ends).
    lookup = children or {}
    expanded: set[str] = set()
    missing: list[str] = []
    changed = True
    while changed:
        changed = False
        for image in ordered:
            rule = decided[image.digest][0]
            if not image.is_index or rule in DELETE_RULES or image.digest in expanded:
                continue
            expanded.add(image.digest)
            if image.digest not in lookup:
                if image.digest not in unreadable:
                    missing.append(image.digest)
                continue
            for child in sorted(set(lookup[image.digest])):
                if child in by_digest and decided[child][0] in DELETE_RULES:
                    decided[child] = (Rule.INDEX_CHILD, f"kept: child of kept index {short_digest(image.digest)}")
                    changed = True

    held_back: list[HeldBack] = []
    unknown = sorted(digest for digest in expanded if digest not in lookup and decided[digest][0] not in DELETE_RULES)
    if protection.hold:
        held_back.append(HeldBack(hold=protection.hold))
        for digest, (rule, _) in list(decided.items()):
            if rule in DELETE_RULES:
                decided[digest] = (Rule.HOLD, f"kept: {protection.hold}")
    elif unknown:
        first = short_digest(unknown[0])
        held_back.append(HeldBack(unknown_indexes=tuple(unknown)))
        for image in ordered:
            if decided[image.digest][0] in DELETE_RULES and not image.is_index:
                decided[image.digest] = (Rule.CHILDREN_UNKNOWN, f"kept: children of kept index {first} unknown")

    decisions = tuple(
        Decision(image=image, rule=decided[image.digest][0], reason=decided[image.digest][1]) for image in ordered
    )
    return RetentionPlan(decisions=decisions, missing_children=tuple(sorted(missing)), held_back=tuple(held_back))


_RULE_ORDER = {rule: position for position, rule in enumerate(Rule)}


def shared_plan(plans: Sequence[tuple[str, RetentionPlan]]) -> RetentionPlan:
    """The plan of a repository several services share, from each one's own plan of the same images (label, plan):
    an image is deleted when every plan deletes it, else kept by the first rule (in the order of Rule) of the
    plans that keep it, naming the services that keep it for their own reasons (what they run, resume to, deploy
    next, roll back to, their tag, a hold). One plan is its own shared plan."""
    if len(plans) == 1:
        return plans[0][1]
    by_service = [(label, {decision.image.digest: decision for decision in plan.decisions}) for label, plan in plans]
    decisions = []
    for decision in plans[0][1].decisions:
        digest = decision.image.digest
        keeping = [(label, decided[digest]) for label, decided in by_service if not decided[digest].delete]
        if not keeping:
            decisions.append(decision)
            continue
        label, kept = min(keeping, key=lambda found: _RULE_ORDER[found[1].rule])
        also = tuple(name for name, found in keeping if found.rule in SERVICE_RULES and name != label)
        kept_for = label if kept.rule in SERVICE_RULES else None
        decisions.append(kept.model_copy(update={"kept_for": kept_for, "also_kept_for": also}))
    held_back = tuple(held for _, plan in plans for held in plan.held_back)
    return RetentionPlan(decisions=tuple(decisions), held_back=held_back)


def rollback_picks(history: Sequence[DeploymentRecord]) -> tuple[Protected, ...]:
    """Every digest a rollback could pick from `history` (newest first, as the rollback reads it), whatever the
    tracked tag points at when it runs: `choose_rollback_target` skips only that one digest, so its pick is one
    of the first two it finds eligible. Kept whatever K is, so `warden rollback` and the automatic rollback
    never find their target deleted."""
    currents: list[str | None] = [None, *dict.fromkeys(record.digest for record in history)]
    # A tag that points at a digest no deployment has (a push not deployed yet): the rollback skips none.
    currents.append(_undeployed_digest(history))
    picks: dict[str, Protected] = {}
    for current in currents:
        target = choose_rollback_target(history, current)
        if target is not None and target.digest not in picks:
            when = f"deployed {target.deployed_at:%Y-%m-%d}" if target.deployed_at else "deployed before"
            picks[target.digest] = Protected(digest=target.digest, why=f"{when}, which a rollback would pick")
    return tuple(picks.values())


def _undeployed_digest(history: Sequence[DeploymentRecord]) -> str:
    taken = {record.digest for record in history}
    return next(candidate for n in range(len(taken) + 1) if (candidate := f"sha256:not-deployed-{n}") not in taken)


def _unique(images: Iterable[ImageInfo]) -> list[ImageInfo]:
    """One entry per digest (merging duplicates, should a listing repeat one), newest push first."""
    merged: dict[str, ImageInfo] = {}
    for image in images:
        seen = merged.get(image.digest)
        if seen is None:
            merged[image.digest] = image
            continue
        pulls = [t for t in (seen.last_pull, image.last_pull) if t is not None]
        merged[image.digest] = seen.model_copy(
            update={
                "tags": _sorted([*seen.tags, *image.tags]),
                "pushed_at": min(seen.pushed_at, image.pushed_at),
                "size_bytes": max(seen.size_bytes, image.size_bytes),
                "media_type": seen.media_type or image.media_type,
                "last_pull": max(pulls) if pulls else None,
            }
        )
    normalised = [
        image if list(image.tags) == sorted(set(image.tags)) else image.model_copy(update={"tags": _sorted(image.tags)})
        for image in merged.values()
    ]
    return sorted(normalised, key=lambda image: (-image.pushed_at.timestamp(), image.digest))


def _sorted(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(tags)))


def _last_deployed(deployments: Iterable[DeploymentRecord], count: int) -> list[tuple[str, datetime]]:
    """The newest `count` distinct digests of the history, each with its latest deployment time."""
    newest: dict[str, datetime] = {}
    for record in sorted(deployments, key=lambda r: (-r.at.timestamp(), r.digest)):
        if record.digest not in newest:
            newest[record.digest] = record.at
    return list(newest.items())[:count]


def _newest_semver(images: Sequence[ImageInfo], count: int) -> list[tuple[ImageInfo, str]]:
    """The `count` images with the highest semver tags (an image counts once, by its highest tag)."""
    versioned = [(found, image) for image in images if (found := best_semver(image.tags)) is not None]
    versioned.sort(key=lambda item: (item[0][0], item[0][1], item[1].digest), reverse=True)
    return [(image, tag) for (_, tag), image in versioned[:count]]


def _pulled(now: datetime, last_pull: datetime) -> str:
    days = max(0, (now - last_pull) // _DAY)
    return "pulled today" if days == 0 else f"pulled {days} day{'s' if days != 1 else ''} ago"


def _by_age(image: ImageInfo, policy: RetentionPolicy, now: datetime) -> tuple[Rule, str]:
    age = now - image.pushed_at
    days = age // _DAY
    if not image.tags:
        if age > timedelta(days=policy.untagged_days):
            return Rule.UNTAGGED_EXPIRED, f"deleted: untagged, {days} days"
        return Rule.TOO_RECENT, f"kept: too recent (untagged, {max(days, 0)} of {policy.untagged_days} days)"
    if age > timedelta(days=policy.tagged_days):
        return Rule.TAGGED_EXPIRED, f"deleted: tagged {_tags(image.tags)}, beyond keep rules, {days} days"
    return Rule.TOO_RECENT, f"kept: too recent (tagged, {max(days, 0)} of {policy.tagged_days} days)"


def _tags(tags: Sequence[str], shown: int = 3) -> str:
    listed = ", ".join(tags[:shown])
    return listed + (f" (+{len(tags) - shown} more)" if len(tags) > shown else "")
