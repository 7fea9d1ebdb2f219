"""Demo act: the daily image purge plans, then deletes, and never touches the image that runs.

Also the seeding helpers the integration tests and the benchmark share. moto's server runs in this
process, so its ECR backend objects are the server's state: images are added to them directly, which
is fast (10,000 images in well under a second, where `put_image` would take minutes) and is the only
way to back-date `imagePushedAt` and to set `lastRecordedPullTime` (moto never records pulls).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.ecr.models import Image, ecr_backends

from local.account import ACCOUNT_ID, REGION, REPOSITORY, LocalAccount
from local.timeline import Timeline, expect
from warden.adapters.dynamodb import StateTable
from warden.domain.images import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
MB = 1_000_000


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class SeededRepository:
    """A repository in moto's ECR backend, with helpers that add (back-dated) images to it."""

    name: str
    now: datetime
    backend_repository: Any

    @classmethod
    def fresh(cls, account: LocalAccount, name: str = REPOSITORY, now: datetime | None = None) -> SeededRepository:
        """Deletes the repository if a previous test left it, and creates it again through the API."""
        ecr = account.client("ecr")
        with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
            ecr.delete_repository(repositoryName=name, force=True)
        ecr.create_repository(repositoryName=name)
        repository = ecr_backends[ACCOUNT_ID][REGION].repositories[name]
        return cls(name=name, now=now or datetime.now(UTC), backend_repository=repository)

    def image(
        self,
        label: str,
        *tags: str,
        days: float,
        size: int = 200 * MB,
        pulled_days: float | None = None,
        media_type: str = DOCKER_MANIFEST,
    ) -> str:
        """A single-platform image; its digest (moto hashes the layer digests, unique per label)."""
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": size,  # moto reports the config size as imageSizeInBytes
                "digest": _sha(f"{self.name}/{label}/config"),
            },
            "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size, "digest": _sha(label)}
            ],
        }
        return self._add(json.dumps(manifest), media_type, tags, days, pulled_days, digest=None)

    def index(self, label: str, *tags: str, children: list[str], days: float) -> str:
        """An OCI image index (what `docker buildx` pushes) referring to `children`."""
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": child,
                        "size": 1024,
                        "platform": {"architecture": arch, "os": "linux"},
                    }
                    for child, arch in zip(children, ("amd64", "arm64", "unknown"), strict=False)
                ],
            }
        )
        # moto invents a digest for a manifest without layers; an index's digest is its manifest's hash.
        return self._add(manifest, OCI_INDEX, tags, days, None, digest=_sha(manifest))

    def _add(
        self,
        manifest: str,
        media_type: str,
        tags: tuple[str, ...],
        days: float,
        pulled_days: float | None,
        digest: str | None,
    ) -> str:
        image = Image(ACCOUNT_ID, tags[-1] if tags else None, manifest, self.name, media_type, digest)
        image.image_tags = list(tags)
        image.image_pushed_at = int((self.now - timedelta(days=days)).timestamp())
        if pulled_days is not None:
            image.last_recorded_pull_time = self.now - timedelta(days=pulled_days)
        self.backend_repository.images.append(image)
        return str(image.image_digest)

    def digests(self) -> set[str]:
        return {str(image.image_digest) for image in self.backend_repository.images}

    def digest_of(self, tag: str) -> str:
        return next(str(i.image_digest) for i in self.backend_repository.images if tag in i.image_tags)


@dataclass(frozen=True)
class ConsultationImages:
    """What `seed_consultation_app` pushed, for the checks."""

    repository: SeededRepository
    running: str  # v1.1.0, the service's image
    index: str  # v1.15.0 (latest), an OCI index
    children: tuple[str, ...]  # its two platform manifests, untagged
    pulled: str  # v1.3.0, pulled by staging two days ago


def seed_consultation_app(account: LocalAccount, now: datetime | None = None) -> ConsultationImages:
    """Eight months of releases: v1.0.0 ... v1.15.0 every two weeks, untagged dev builds in between,
    and the newest release built with buildx as an OCI index whose platform children are untagged."""
    repository = SeededRepository.fresh(account, now=now)
    tags: dict[str, str] = {}
    for number in range(15):
        released = 230 - 14 * number
        tags[f"v1.{number}.0"] = repository.image(
            f"v1.{number}.0",
            f"v1.{number}.0",
            days=released,
            size=(180 + 4 * number) * MB,
            pulled_days=2 if number == 3 else None,
        )
        for build in (5, 9):  # dev builds pushed as `latest`, untagged by the next push
            repository.image(f"dev-{number}-{build}", days=released - build, size=(178 + 4 * number) * MB)
    children = (
        repository.image("v1.15.0-amd64", days=20, size=246 * MB, media_type=OCI_MANIFEST),
        repository.image("v1.15.0-arm64", days=20, size=238 * MB, media_type=OCI_MANIFEST),
    )
    index = repository.index("v1.15.0", "v1.15.0", "latest", children=list(children), days=20)
    for days in (2, 4):  # this week's dev builds: too recent to go
        repository.image(f"dev-now-{days}", days=days, size=250 * MB)
    return ConsultationImages(repository, tags["v1.1.0"], index, children, tags["v1.3.0"])


def run_image(account: LocalAccount, tag: str) -> None:
    """Points the App Runner service at `consultation-app:<tag>` (UpdateService, as an operator would)."""
    account.client("apprunner").update_service(
        ServiceArn=account.service_arn,
        SourceConfiguration={
            "ImageRepository": {
                "ImageIdentifier": f"{REGISTRY}/{REPOSITORY}:{tag}",
                "ImageRepositoryType": "ECR",
            }
        },
    )


def play(timeline: Timeline) -> int:
    """The purge's first week: a daily run's plan to review, then the next daily run deleting, with v1.1.0 running."""
    account = timeline.account
    failures = 0
    now = timeline.clock.now
    seeded = seed_consultation_app(account, now)
    repository = seeded.repository
    run_image(account, "v1.1.0")
    # A deployment Warden saw before: v1.14.0 ran until someone pinned the service to v1.1.0.
    StateTable(account.table_name, account.client("dynamodb")).record_deployment(
        account.service_arn, repository.digest_of("v1.14.0"), "v1.14.0", now - timedelta(days=27), "warden release"
    )
    before = repository.digests()

    timeline.say(
        timeline.calendar.purge_plan,
        "Daily purge-images -> purge_images, IMAGE_PURGE_MODE=plan (the default)",
    )
    timeline.note(f"ECR: {len(before)} images from eight months of releases; the service runs v1.1.0, an old one.")
    timeline.detail(
        "The releases run v1.0.0 ... v1.15.0, the newest an OCI index with two untagged platform manifests, with "
        "untagged dev builds in between. A plan says what a real run would delete, and deletes nothing."
    )
    outcome = timeline.run("purge_images", {"job": "purge-images"})[0]
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "planned" and repository.digests() == before and timeline.show_inbox() == 1,
        "the plan deletes nothing and sends one plan",
    )
    planned = outcome.get("planned")
    timeline.note(f"It would delete {planned} of {len(before)} images; v1.1.0 would stay.")

    timeline.say(timeline.calendar.purge, "The next daily run, after the operator set IMAGE_PURGE_MODE=delete")
    outcome = timeline.run("purge_images", {"job": "purge-images"}, IMAGE_PURGE_MODE="delete")[0]
    timeline.outcome(outcome)
    after = repository.digests()
    failures += expect(timeline.show_inbox() == 1, "the purge sends one summary")
    failures += expect(
        outcome["outcome"] == "purged" and outcome["deleted"] == len(before) - len(after) == planned,
        "the run deleted what the plan said it would",
    )
    failures += expect(seeded.running in after, "the running image v1.1.0 survives")
    failures += expect(seeded.pulled in after, "v1.3.0, pulled by staging two days before, survives")
    failures += expect(
        seeded.index in after and set(seeded.children) <= after, "latest's index and its untagged children survive"
    )
    timeline.note(f"ECR {REPOSITORY}: {len(before)} images before, {len(after)} after.")
    return failures
