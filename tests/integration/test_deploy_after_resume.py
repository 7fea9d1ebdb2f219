"""A resume after an image push deploys the new image: App Runner alone would resume the old version."""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from local.account import IMAGE, REPOSITORY, LocalAccount
from local.invoke import fresh_container
from warden.settings import get_settings
from warden.usecases.schedule import Job, run_job
from warden.wiring import schedule_deps

pytestmark = pytest.mark.integration

MONDAY_1800 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
ENV = {"WORKING_HOURS_ENABLED": "true", "SCHEDULE_TIMEZONE": "UTC", "WORKING_DAYS": "MON-FRI"}


def push_latest(account: LocalAccount, label: str) -> str:
    """Pushes a manifest (distinct layers per label, as moto hashes layers) as `latest`; returns its digest."""
    layer = "sha256:" + hashlib.sha256(label.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 10, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 10, "digest": layer}],
    }
    response = account.client("ecr").put_image(
        repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag="latest"
    )
    return str(response["image"]["imageId"]["imageDigest"])


def deployments(account: LocalAccount) -> int:
    return sum(
        1 for call in account.emulator.calls("StartDeployment") if call["params"]["ServiceArn"] == account.service_arn
    )


@pytest.fixture
def repository(account: LocalAccount) -> LocalAccount:
    ecr = account.client("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
        ecr.delete_repository(repositoryName=REPOSITORY, force=True)
    ecr.create_repository(repositoryName=REPOSITORY)
    return account


def run(account: LocalAccount, job: Job, now: datetime) -> str:
    with fresh_container({**account.env(), **ENV}):
        settings = get_settings()
        return run_job(job, schedule_deps(settings), settings, now).outcome


def test_an_image_pushed_while_paused_is_deployed_once_the_resume_completes(repository: LocalAccount) -> None:
    account = repository
    # Given the service runs `latest` = v1 and pauses at the end of the day
    push_latest(account, "v1")
    run(account, Job.WORKDAY_END, MONDAY_1800)
    assert account.service_status() == "PAUSED"
    # When v2 is pushed as `latest` while paused, and the next working day starts
    push_latest(account, "v2")
    run(account, Job.WORKDAY_START, MONDAY_1800 + timedelta(hours=14))
    # Then the resume notification says a deployment follows
    resumed = account.inbox()[-1]
    assert "changed while paused" in resumed.body
    assert deployments(account) == 0
    # When the reconcile runs after the resume completed
    assert account.service_status() == "RUNNING"
    outcome = run(account, Job.RECONCILE, MONDAY_1800 + timedelta(hours=14, minutes=15))
    # Then exactly one deployment was started, and a second reconcile starts none
    assert outcome == "deployed"
    assert deployments(account) == 1
    run(account, Job.RECONCILE, MONDAY_1800 + timedelta(hours=14, minutes=30))
    assert deployments(account) == 1
    assert account.inbox()[-1].attributes["event"] == "service.deploy_after_resume"


def test_a_resume_with_the_same_image_deploys_nothing(repository: LocalAccount) -> None:
    account = repository
    push_latest(account, "v1")
    run(account, Job.WORKDAY_END, MONDAY_1800)
    run(account, Job.WORKDAY_START, MONDAY_1800 + timedelta(hours=14))
    run(account, Job.RECONCILE, MONDAY_1800 + timedelta(hours=14, minutes=15))
    assert account.service_status() == "RUNNING"
    assert deployments(account) == 0


def auto_deploy_off(account: LocalAccount) -> None:
    account.client("apprunner").update_service(
        ServiceArn=account.service_arn,
        SourceConfiguration={
            "ImageRepository": {"ImageIdentifier": IMAGE, "ImageRepositoryType": "ECR"},
            "AutoDeploymentsEnabled": False,
        },
    )


def test_with_auto_deploy_off_an_image_pushed_while_paused_is_not_deployed(repository: LocalAccount) -> None:
    account = repository
    # Given auto-deploy off, and the service running `latest` = v1, paused at the end of the day
    push_latest(account, "v1")
    auto_deploy_off(account)
    run(account, Job.WORKDAY_END, MONDAY_1800)
    # When CI pushes v2 as `latest` while paused, and the next working day starts
    v2 = push_latest(account, "v2")
    run(account, Job.WORKDAY_START, MONDAY_1800 + timedelta(hours=14))
    # Then the resume notification says v2 is not deployed, and why
    resumed = account.inbox()[-1]
    assert "automatic deployments are off" in resumed.body
    assert v2[:19] in resumed.body
    # When the reconcile runs after the resume completed
    assert account.service_status() == "RUNNING"
    outcome = run(account, Job.RECONCILE, MONDAY_1800 + timedelta(hours=14, minutes=15))
    # Then no deployment was started: v2, which nobody released, does not go live
    assert outcome == "converged"
    assert deployments(account) == 0
