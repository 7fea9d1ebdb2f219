"""The release pipeline's test world: the local account, the app's repository in moto's ECR, a recording `docker`
first on PATH, a build context with a Dockerfile and a `.env`, and the real `warden` CLI in a subprocess."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local import fake_docker
from local.account import REPOSITORY, LocalAccount
from warden.adapters.dynamodb import StateTable
from warden.domain.images import ACCEPTED_MEDIA_TYPES, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from warden.domain.pipeline import RELEASE_SOURCE

CANARY = "pk_test_CANARY123"  # the Clerk publishable key in the app's .env: must never show up anywhere
ECR_PASSWORD = "123456789012-auth-token"  # what moto's get_authorization_token hands out (after "AWS:")
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
IMAGE = f"{REGISTRY}/{REPOSITORY}"
BUILD_ARG = "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY"


@dataclass
class Pipeline:
    account: LocalAccount
    bin: Path
    log: Path
    context: Path

    def warden(self, *args: str, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        """The CLI with the recording docker first on PATH (or `path`)."""
        default = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        return self.account.warden(*args, path=path if path is not None else default, **env)

    def release(self, version: str, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.warden("release", version, "--build-arg", BUILD_ARG, "--context", str(self.context), *extra, **env)

    def docker_calls(self) -> list[dict[str, Any]]:
        return fake_docker.calls(self.log)

    def argv(self) -> list[list[str]]:
        return [call["argv"] for call in self.docker_calls()]

    def deployments_started(self) -> int:
        arn = self.account.service_arn
        return sum(1 for call in self.account.emulator.calls("StartDeployment") if call["params"]["ServiceArn"] == arn)

    def auto_deploy(self, enabled: bool) -> None:
        """The service's AutoDeploymentsEnabled (UpdateService, as an operator would set it)."""
        self.account.client("apprunner").update_service(
            ServiceArn=self.account.service_arn, SourceConfiguration={"AutoDeploymentsEnabled": enabled}
        )

    def digest_of(self, tag: str) -> str | None:
        ecr = self.account.client("ecr")
        try:
            details = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])["imageDetails"]
        except ecr.exceptions.ImageNotFoundException:
            return None
        return str(details[0]["imageDigest"])


def make_pipeline(account: LocalAccount, tmp_path: Path, *, repository: bool = True) -> Pipeline:
    ecr = account.client("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
        ecr.delete_repository(repositoryName=REPOSITORY, force=True)
    if repository:
        ecr.create_repository(repositoryName=REPOSITORY, imageTagMutability="MUTABLE")
    log = fake_docker.install(tmp_path / "bin")
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM node:20-alpine\nARG NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY\n")
    (context / ".env").write_text(
        f"# Clerk (publishable)\n{BUILD_ARG}={CANARY}\nCLERK_SECRET_KEY=sk_test_NOT_A_BUILD_ARG\n"
    )
    return Pipeline(account=account, bin=tmp_path / "bin", log=log, context=context)


def sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def docker_manifest(label: str) -> str:
    """A Docker v2 manifest with layers of its own (moto derives the digest from the layers)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7, "digest": sha(label)},
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 9,
                    "digest": sha(label + "/l"),
                }
            ],
        }
    )


def oci_index(label: str) -> str:
    """What `docker buildx` pushes: an OCI image index of a platform manifest and an attestation."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha(label + "/amd64"),
                    "size": 1024,
                    "platform": {"architecture": "amd64", "os": "linux"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha(label + "/attestation"),
                    "size": 840,
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    "platform": {"architecture": "unknown", "os": "unknown"},
                },
            ],
        }
    )


class Releases:
    """v1.0.0 (an OCI index), v1.1.0, v1.2.0 (Docker v2 manifests) in ECR and Warden's history; latest = v1.2.0."""

    def __init__(self, pipeline: Pipeline, *, latest_minutes_ago: float = 72) -> None:
        self.pipeline = pipeline
        self.ecr = pipeline.account.client("ecr")
        self.manifests = {"v1.0.0": oci_index("v1.0.0"), "v1.1.0": docker_manifest("v1.1.0")}
        self.manifests["v1.2.0"] = docker_manifest("v1.2.0")
        self.media = {"v1.0.0": OCI_INDEX, "v1.1.0": DOCKER_MANIFEST, "v1.2.0": DOCKER_MANIFEST}
        self.digests: dict[str, str] = {}
        history = StateTable(pipeline.account.table_name, pipeline.account.client("dynamodb"))
        now = datetime.now(UTC)
        ages = {
            "v1.0.0": timedelta(days=3),
            "v1.1.0": timedelta(days=2),
            "v1.2.0": timedelta(minutes=latest_minutes_ago),
        }
        for version, age in ages.items():
            self.digests[version] = self.put(version, version)
            history.record_deployment(
                pipeline.account.service_arn, self.digests[version], version, now - age, RELEASE_SOURCE
            )
        self.put("v1.2.0", "latest")

    def put(self, version: str, tag: str) -> str:
        response = self.ecr.put_image(
            repositoryName=REPOSITORY,
            imageManifest=self.manifests[version],
            imageManifestMediaType=self.media[version],
            imageTag=tag,
        )
        return str(response["image"]["imageId"]["imageDigest"])

    def latest(self) -> tuple[str, str, str]:
        """(digest, media type as describe_images reports it, manifest as batch_get_image returns it)."""
        (detail,) = self.ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": "latest"}])[
            "imageDetails"
        ]
        (image,) = self.ecr.batch_get_image(
            repositoryName=REPOSITORY, imageIds=[{"imageTag": "latest"}], acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES)
        )["images"]
        assert image["imageManifestMediaType"] == detail["imageManifestMediaType"]
        return detail["imageDigest"], detail["imageManifestMediaType"], image["imageManifest"]

    def deploy(self, *, fails: bool = False) -> str:
        """App Runner deploys what latest points at (the console's Deploy button); `fails` makes it fail and
        roll back by itself, as a failing health check does. Returns the operation id."""
        account = self.pipeline.account
        if fails:
            account.emulator.fail_next(account.service_arn, "START_DEPLOYMENT")
        operation = account.client("apprunner").start_deployment(ServiceArn=account.service_arn)["OperationId"]
        account.service_status()  # the emulator settles the operation on the next request
        return str(operation)

    def delete(self, version: str) -> None:
        """The image is gone from ECR (a lifecycle rule or a purge took it)."""
        self.ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageDigest": self.digests[version]}])
