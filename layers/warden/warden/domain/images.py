"""Container images as Warden sees them: ECR's image details, App Runner's image reference, semver tags.

Pure: no AWS SDK here. The ECR adapter maps `describe_images` onto `ImageInfo`; App Runner's
`ImageIdentifier` is parsed here so that the use case knows which repository, tag or digest the
service runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from warden.errors import WardenError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
# batch_get_image must accept all four, or ECR may convert an index to a single-platform manifest.
ACCEPTED_MEDIA_TYPES = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX)
INDEX_MEDIA_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})

# ECR private storage, per GB-month (AWS-FACTS §5.5).
PRICE_PER_GB_MONTH = Decimal("0.10")

# Per-item failure codes of batch_delete_image worth trying again (data-level, not transport-level):
# throttling and unavailability of an upstream (pull-through) registry, and KMS hiccups. A KmsError
# can also be permanent (a disabled key); two more tries cost little and then it is reported.
RETRYABLE_FAILURES = frozenset({"UpstreamTooManyRequests", "UpstreamUnavailable", "KmsError"})
ALREADY_GONE = "ImageNotFound"

_ECR_REGISTRY = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class RepositoryNotFound(WardenError):
    """The repository named by ECR_REPOSITORY does not exist in this account and region."""


class ImageInfo(BaseModel):
    """One image of a repository, as `describe_images` reports it."""

    model_config = ConfigDict(frozen=True)

    digest: str
    tags: tuple[str, ...] = ()  # ECR omits imageTags for untagged images: empty here
    pushed_at: datetime
    size_bytes: int = 0  # compressed; shared layers are counted once per image that has them
    media_type: str | None = None
    last_pull: datetime | None = None  # ECR refreshes it at least once every 24 h; absent if never pulled

    @property
    def is_index(self) -> bool:
        """A manifest list or OCI image index: it refers to other manifests (its children)."""
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def short_digest(self) -> str:
        return short_digest(self.digest)


class ImageReference(BaseModel):
    """App Runner's `ImageIdentifier`, taken apart: `<registry>/<repository>(:<tag>|@<digest>)`."""

    model_config = ConfigDict(frozen=True)

    identifier: str
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def ecr_account(self) -> str | None:
        match = _ECR_REGISTRY.match(self.registry)
        return match["account"] if match else None

    @property
    def ecr_region(self) -> str | None:
        match = _ECR_REGISTRY.match(self.registry)
        return match["region"] if match else None

    def is_in(self, account_id: str, region: str, repository: str) -> bool:
        """True when this reference names a repository of this account's private ECR in `region`."""
        return self.ecr_account == account_id and self.ecr_region == region and self.repository == repository


def parse_image_identifier(identifier: str) -> ImageReference:
    """Parses `<acct>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` or `...<repo>@sha256:<hex>`.

    A reference without tag or digest means `latest`, as for docker. Raises ValueError, saying why.
    """
    text = identifier.strip()
    registry, slash, rest = text.partition("/")
    if not slash or not registry or not rest:
        raise ValueError(f"expected <registry>/<repository>[:tag|@digest], got {identifier!r}")
    digest: str | None = None
    tag: str | None = None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not _DIGEST.match(digest):
            raise ValueError(f"{digest!r} is not an image digest such as sha256:<64 hex digits>")
    name, colon, maybe_tag = rest.rpartition(":")
    if colon and "/" not in maybe_tag:
        rest, tag = name, maybe_tag
        if not _TAG.match(tag):
            raise ValueError(f"{tag!r} is not a valid image tag")
    if not _REPOSITORY.match(rest):
        raise ValueError(f"{rest!r} is not a valid repository name")
    if digest is None and tag is None:
        tag = "latest"
    return ImageReference(identifier=identifier, registry=registry, repository=rest, tag=tag, digest=digest)


class SemVer(NamedTuple):
    """A sortable semantic version: releases sort above their pre-releases (SemVer 2.0 precedence)."""

    major: int
    minor: int
    patch: int
    release: int  # 1 for a release, 0 for a pre-release
    pre: tuple[tuple[int, int, str], ...]


def parse_semver(tag: str) -> SemVer | None:
    """`v1.2.0` or `1.2.0` (with an optional `-rc.1`) as a sortable version; None for other tags."""
    match = _SEMVER.match(tag)
    if match is None:
        return None
    pre = match["pre"]
    identifiers: tuple[tuple[int, int, str], ...] = ()
    if pre:
        # Numeric identifiers sort numerically and below alphanumeric ones (SemVer 2.0 §11).
        identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split("."))
    return SemVer(int(match["major"]), int(match["minor"]), int(match["patch"]), 0 if pre else 1, identifiers)


def best_semver(tags: tuple[str, ...]) -> tuple[SemVer, str] | None:
    """The highest semver tag of an image and its spelling, or None when it has none."""
    versions = [(version, tag) for tag in tags if (version := parse_semver(tag)) is not None]
    return max(versions) if versions else None


class DeleteFailure(BaseModel):
    """One per-item failure of batch_delete_image (it answers HTTP 200 even when some items fail)."""

    model_config = ConfigDict(frozen=True)

    digest: str
    code: str
    reason: str


class BatchResult(BaseModel):
    """What one batch_delete_image call did: the digests now gone, and the failures by item."""

    model_config = ConfigDict(frozen=True)

    deleted: tuple[str, ...] = ()
    failures: tuple[DeleteFailure, ...] = ()


class PurgeTrigger(StrEnum):
    SCHEDULE = "schedule"
    PUSH = "push"
    MANUAL = "manual"


class PlanOnly(StrEnum):
    """Why a purge run only plans: it deletes nothing, and its notification says so."""

    DRY_RUN = "dry run"  # DRY_RUN is on (for one service of the repository at least)
    MODE = "plan mode"  # IMAGE_PURGE_MODE is plan
    REQUESTED = "requested"  # the caller asked this run to plan


class SharingService(BaseModel):
    """A guarded service whose images are in the repository a purge cleans, as its report names it."""

    model_config = ConfigDict(frozen=True)

    label: str  # its name, or its ARN where another service of the repository has the same name
    arn: str
    unreadable: str | None = None  # what failed reading what it needs (then nothing is purged)


class Invocation(BaseModel):
    """What started a purge, or why an event is ignored (`trigger` None)."""

    model_config = ConfigDict(frozen=True)

    trigger: PurgeTrigger | None
    reason: str

    @property
    def ignored(self) -> bool:
        return self.trigger is None


PURGE_JOB = "purge-images"


def classify_invocation(event: Mapping[str, Any], repository: str | None) -> Invocation:
    """The scheduler's `{"job": "purge-images"}`, or a successful ECR push to the app's repository.

    Anything else is ignored with a reason: another job, a push to another repository, a DELETE
    action or a failed push (the EventBridge rule filters these, but a hand-made invocation may not),
    and everything while no repository is configured (the stack keeps the function idle then).
    """
    if not repository:
        return Invocation(
            trigger=None,
            reason="ignored, because ECR_REPOSITORY is not set: the image purge is off (stack parameter EcrRepository)",
        )
    if "job" in event and "source" not in event:
        job = event.get("job")
        if job == PURGE_JOB:
            return Invocation(trigger=PurgeTrigger.SCHEDULE, reason=f"scheduled job '{PURGE_JOB}'")
        return Invocation(trigger=None, reason=f"ignored, because job {job!r} is not '{PURGE_JOB}'")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source != "aws.ecr" or detail_type != "ECR Image Action":
        return Invocation(
            trigger=None,
            reason=f"ignored, because the event (source {source!r}, detail-type {detail_type!r}) is neither "
            f"the '{PURGE_JOB}' schedule nor an ECR image action",
        )
    detail = event.get("detail")
    detail = detail if isinstance(detail, Mapping) else {}
    action, result, name = detail.get("action-type"), detail.get("result"), detail.get("repository-name")
    if action != "PUSH":
        return Invocation(trigger=None, reason=f"ignored, because the ECR action is {action!r}, not a PUSH")
    if result != "SUCCESS":
        return Invocation(trigger=None, reason=f"ignored, because the push to {name!r} did not succeed ({result!r})")
    if name != repository:
        return Invocation(
            trigger=None,
            reason=f"ignored, because the push was to repository {name!r}, not to {repository!r}",
        )
    tag = detail.get("image-tag")
    pushed = f"{name}:{tag}" if tag else f"{name}@{short_digest(str(detail.get('image-digest', '')))}"
    return Invocation(trigger=PurgeTrigger.PUSH, reason=f"ECR push of {pushed}")


def short_digest(digest: str) -> str:
    """`sha256:` and the first 12 hex digits: enough to tell images apart, short enough for a table."""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest[:19]


def format_size(size_bytes: int) -> str:
    """Decimal units, as AWS bills storage: 1 GB = 10^9 bytes."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:,.2f} {unit}" if unit == "GB" else f"{size_bytes / scale:,.1f} {unit}"
    return f"{size_bytes} B"


def monthly_storage_cost(size_bytes: int) -> Decimal:
    """What `size_bytes` of private ECR storage costs a month, in USD (unrounded)."""
    return Decimal(size_bytes) / Decimal(10**9) * PRICE_PER_GB_MONTH


def format_usd(amount: Decimal) -> str:
    """Dollars and cents; an amount above zero but under a cent says so instead of "$0.00"."""
    if Decimal(0) < amount < Decimal("0.005"):
        return "< $0.01"
    return f"${amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
