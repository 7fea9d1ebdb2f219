"""ECR adapter: list a repository's images, resolve a tag, read index manifests, delete by digest; re-tag an
image with its exact manifest and log docker in (the release pipeline).

ECR quirks handled here (AWS-FACTS §5):
- `describe_images` pages hold at most 1,000 images (`maxResults`); without it, 100. `imageTags` is
  absent, not empty, for an untagged image. `lastRecordedPullTime` is absent for an image never pulled.
- `batch_delete_image` and `batch_get_image` take at most 100 ids, which neither the client nor moto
  checks, and answer HTTP 200 with per-item `failures`: those become result values, not exceptions.
- A deleted image is "gone" unless a failure names its digest: real ECR lists it in `imageIds`, but
  moto leaves untagged images out of that list, so the list is not relied on.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.images import (
    ACCEPTED_MEDIA_TYPES,
    INDEX_MEDIA_TYPES,
    BatchResult,
    DeleteFailure,
    ImageInfo,
    RepositoryNotFound,
    parse_image_identifier,
)
from warden.domain.pipeline import ImageManifest, ImmutableTag, RegistryLogin, RegistryLoginFailed, RepositoryInfo
from warden.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

# The IAM actions this adapter calls; the template grants exactly these (checked by a test).
IAM_ACTIONS = frozenset(
    {
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:BatchDeleteImage",
        # The release pipeline: a rollback re-tags (PutImage); `warden release` (the operator's own rights, never
        # granted by the template) reads the repository and logs docker in.
        "ecr:PutImage",
        "ecr:DescribeRepositories",
        "ecr:GetAuthorizationToken",
    }
)
PAGE_SIZE = 1000  # describe_images' maximum page
BATCH_LIMIT = 100  # batch_get_image and batch_delete_image take at most 100 image ids


class EcrImages:
    def __init__(self, ecr: ECRClient | None = None) -> None:
        self._client = ecr

    @property
    def _ecr(self) -> ECRClient:
        if self._client is None:
            self._client = client("ecr")
        return self._client

    def list_images(self, repository: str) -> list[ImageInfo]:
        """Every ACTIVE image of the repository, through the paginator at 1,000 images a page."""
        images: list[ImageInfo] = []
        paginator = self._ecr.get_paginator("describe_images")
        pages = paginator.paginate(
            repositoryName=repository,
            filter={"tagStatus": "ANY"},
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        try:
            for page in pages:
                images.extend(_image(detail) for detail in page.get("imageDetails", []))
        except ClientError as error:
            raise self._translate("DescribeImages", repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "DescribeImages", error) from error
        return images

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        """The digest behind `tag` now, or None when no image carries it."""
        try:
            response = self._ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError as error:
            if error_code(error) == "ImageNotFoundException":
                return None
            raise self._translate("DescribeImages", repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "DescribeImages", error) from error
        details = response.get("imageDetails", [])
        return str(details[0]["imageDigest"]) if details else None

    def resolve(self, image_identifier: str) -> str | None:
        """The digest an App Runner ImageIdentifier points at now (the `ImagePort` contract).

        None when the tag does not exist, or the image is not in a private ECR repository this
        client's region can read.
        """
        try:
            reference = parse_image_identifier(image_identifier)
        except ValueError:
            return None
        if reference.digest:
            return reference.digest
        region = self._ecr.meta.region_name
        if reference.ecr_account is None or reference.ecr_region != region or reference.tag is None:
            return None
        try:
            response = self._ecr.describe_images(
                registryId=reference.ecr_account,
                repositoryName=reference.repository,
                imageIds=[{"imageTag": reference.tag}],
            )
        except ClientError as error:
            if error_code(error) in {"ImageNotFoundException", "RepositoryNotFoundException"}:
                return None
            raise self._translate("DescribeImages", reference.repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "DescribeImages", error) from error
        details = response.get("imageDetails", [])
        return str(details[0]["imageDigest"]) if details else None

    def index_children(self, repository: str, digests: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The manifests each index (manifest list / OCI image index) refers to, by index digest.

        An index whose manifest cannot be read is left out of the answer (the caller treats its
        children as unknown) and the reason is logged.
        """
        children: dict[str, tuple[str, ...]] = {}
        for chunk in _chunks(list(dict.fromkeys(digests)), BATCH_LIMIT):
            response = self._batch_get_image(repository, chunk)
            for image in response.get("images", []):
                digest = image.get("imageId", {}).get("imageDigest")
                if digest not in chunk:
                    continue
                listed = _manifest_children(image.get("imageManifest", ""), image.get("imageManifestMediaType"))
                if listed is None:
                    logger.warning(
                        "index manifest unreadable: its children are treated as unknown",
                        extra={"repository": repository, "digest": digest},
                    )
                    continue
                children[digest] = listed
            for failure in response.get("failures", []):
                logger.warning(
                    "index manifest not returned: its children are treated as unknown",
                    extra={
                        "repository": repository,
                        "image_id": failure.get("imageId", {}),
                        "failure_code": failure.get("failureCode"),
                        "failure_reason": failure.get("failureReason"),
                    },
                )
        return children

    def delete_digests(self, repository: str, digests: Sequence[str]) -> BatchResult:
        """One batch_delete_image call of at most 100 digests; per-item failures come back as values."""
        if not digests:
            return BatchResult()
        if len(digests) > BATCH_LIMIT:
            raise ValueError(f"batch_delete_image takes at most {BATCH_LIMIT} image ids, got {len(digests)}")
        try:
            response = self._ecr.batch_delete_image(
                repositoryName=repository, imageIds=[{"imageDigest": digest} for digest in digests]
            )
        except ClientError as error:
            raise self._translate("BatchDeleteImage", repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "BatchDeleteImage", error) from error
        failures = tuple(
            DeleteFailure(
                digest=str(failure.get("imageId", {}).get("imageDigest", "")),
                code=str(failure.get("failureCode", "")),
                reason=str(failure.get("failureReason", "")),
            )
            for failure in response.get("failures", [])
        )
        failed = {failure.digest for failure in failures}
        return BatchResult(deleted=tuple(digest for digest in digests if digest not in failed), failures=failures)

    # -- the release pipeline (AWS-FACTS §5.3) ---------------------------------------------------------------

    def repository(self, name: str) -> RepositoryInfo:
        """The repository's URI and tag mutability; RepositoryNotFound when it does not exist."""
        try:
            response = self._ecr.describe_repositories(repositoryNames=[name])
        except ClientError as error:
            raise self._translate("DescribeRepositories", name, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "DescribeRepositories", error) from error
        found = response["repositories"][0]
        return RepositoryInfo(
            name=name,
            uri=str(found["repositoryUri"]),
            tag_mutability=str(found.get("imageTagMutability", "MUTABLE")),
        )

    def login(self) -> RegistryLogin:
        """The registry's docker credentials: get_authorization_token's base64 `AWS:<password>`, decoded."""
        try:
            response = self._ecr.get_authorization_token()
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("ecr", "GetAuthorizationToken", error) from error
            message = str(error.response.get("Error", {}).get("Message", ""))
            raise RegistryLoginFailed(
                f"ECR refused to log you in ({error_code(error)}: {message}): check your AWS credentials "
                "(aws sts get-caller-identity) and that they may call ecr:GetAuthorizationToken"
            ) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "GetAuthorizationToken", error) from error
        data = response["authorizationData"][0]
        try:
            username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("ECR returned an authorization token that is not base64 'user:password'") from None
        registry = str(data.get("proxyEndpoint", "")).removeprefix("https://").removeprefix("http://").rstrip("/")
        return RegistryLogin(registry=registry, username=username, password=password)

    def get_manifest(self, repository: str, digest: str) -> ImageManifest | None:
        """The image's manifest exactly as stored, with its media type; None when the image is gone.

        All four media types are accepted, or ECR may convert an index into a single-platform manifest and a
        re-tag would no longer be the same image.
        """
        response = self._batch_get_image(repository, [digest])
        for image in response.get("images", []):
            if image.get("imageId", {}).get("imageDigest") == digest and image.get("imageManifest"):
                return ImageManifest(
                    digest=digest, manifest=image["imageManifest"], media_type=image.get("imageManifestMediaType")
                )
        for failure in response.get("failures", []):
            logger.warning(
                "image manifest not returned",
                extra={
                    "repository": repository,
                    "digest": digest,
                    "failure_code": failure.get("failureCode"),
                    "failure_reason": failure.get("failureReason"),
                },
            )
        return None

    def put_manifest(self, repository: str, tag: str, manifest: ImageManifest) -> bool:
        """Points `tag` at the manifest (the exact bytes and media type). False when it already pointed there."""
        request: dict[str, Any] = {
            "repositoryName": repository,
            "imageManifest": manifest.manifest,
            "imageTag": tag,
            "imageDigest": manifest.digest,
        }
        if manifest.media_type:
            # Without it an OCI re-tag fails with "Invalid JSON syntax" (aws/containers-roadmap#1873).
            request["imageManifestMediaType"] = manifest.media_type
        try:
            self._ecr.put_image(**request)
        except ClientError as error:
            code = error_code(error)
            if code == "ImageAlreadyExistsException":
                return False  # the tag already points at this manifest: done
            if code == "ImageTagAlreadyExistsException":
                raise ImmutableTag(
                    f"ECR repository {repository!r} has immutable tags, so {tag!r} cannot move: set its image tag "
                    f"mutability to MUTABLE, or IMMUTABLE_WITH_EXCLUSION with {tag!r} excluded"
                ) from error
            raise self._translate("PutImage", repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "PutImage", error) from error
        return True

    def _batch_get_image(self, repository: str, digests: Sequence[str]) -> Any:
        """The images' manifests exactly as stored: all four media types accepted, or ECR may convert an index into
        a single-platform manifest (AWS-FACTS §5.3)."""
        try:
            return self._ecr.batch_get_image(
                repositoryName=repository,
                imageIds=[{"imageDigest": digest} for digest in digests],
                acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES),
            )
        except ClientError as error:
            raise self._translate("BatchGetImage", repository, error) from error
        except BotoCoreError as error:
            raise unavailable("ecr", "BatchGetImage", error) from error

    @staticmethod
    def _translate(operation: str, repository: str, error: ClientError) -> Exception:
        if error_code(error) == "RepositoryNotFoundException":
            return RepositoryNotFound(f"ECR repository {repository!r} does not exist (check ECR_REPOSITORY)")
        return unavailable("ecr", operation, error) if is_retryable(error) else error


def _image(detail: Any) -> ImageInfo:
    pushed: datetime = detail["imagePushedAt"]
    pulled: datetime | None = detail.get("lastRecordedPullTime")
    return ImageInfo(
        digest=detail["imageDigest"],
        tags=tuple(detail.get("imageTags") or ()),
        pushed_at=pushed.astimezone(UTC),
        size_bytes=int(detail.get("imageSizeInBytes") or 0),
        media_type=detail.get("imageManifestMediaType"),
        last_pull=pulled.astimezone(UTC) if pulled is not None else None,
    )


def _manifest_children(manifest: str, media_type: str | None) -> tuple[str, ...] | None:
    """The digests in an index's `manifests[]`; () for a single-platform manifest; None if unreadable."""
    try:
        document = json.loads(manifest)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    kind = media_type or document.get("mediaType")
    entries = document.get("manifests")
    if kind not in INDEX_MEDIA_TYPES and not isinstance(entries, list):
        return ()
    if not isinstance(entries, list):
        return None
    return tuple(str(entry["digest"]) for entry in entries if isinstance(entry, dict) and "digest" in entry)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
