"""The fleet purge of one repository shared by two App Runner services, against moto's ECR, DynamoDB and SNS and the
App Runner emulator, through the real adapters.

The stack's service (consultation-app) is staging and follows `latest`; a second service, consultation-prod,
follows `prod` in the same repository. Each one's deployment history is in the state table under its own ARN.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.account import REGION, REPOSITORY, LocalAccount
from local.demo_images import REGISTRY, SeededRepository
from local.invoke import fresh_container
from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.clients import PROBE_CONFIG
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecr import EcrImages
from warden.adapters.sns import SnsNotifier
from warden.adapters.targets.apprunner import AppRunnerTarget
from warden.domain.images import PurgeTrigger, SharingService
from warden.domain.pipeline import OBSERVED_SOURCE
from warden.domain.retention import Rule
from warden.messages.images import purge_blocked
from warden.settings import Settings
from warden.usecases.purge_images import (
    Outcome,
    PurgeImagesDeps,
    PurgeService,
    RepositoryPurgeDeps,
    plan_repository,
    prepare_plan,
    purge_repository,
)
from warden.wiring import target

pytestmark = pytest.mark.integration

PRODUCTION_NAME = "consultation-prod"


@dataclass
class SharedRepository:
    """What the fixture seeded: the two services, and the images each runs and rolls back to."""

    account: LocalAccount
    repository: SeededRepository
    staging: str  # the stack's service, following latest
    production: str  # following prod
    staging_runs: str
    production_runs: str
    production_ran: str  # untagged now: what a rollback of production goes back to
    strays: tuple[str, ...]

    def settings(self, arn: str) -> Settings:
        return Settings.from_env({**self.account.env(), "SERVICE_ARN": arn, "IMAGE_PURGE_MODE": "delete"})

    def deps(self) -> RepositoryPurgeDeps:
        return RepositoryPurgeDeps(
            registry=EcrImages(self.account.client("ecr")),
            notifier=SnsNotifier(self.account.notify_topic_arn, self.account.client("sns")),
            state=StateTable(self.account.table_name, self.account.client("dynamodb")),
        )


@pytest.fixture
def shared(account: LocalAccount) -> Iterator[SharedRepository]:
    """Staging runs its build (latest, 40 days old); production runs release-2 (prod, 120 days old) and ran
    release-1 (untagged, 200 days old) before; three old untagged strays nobody deployed."""
    production = account.emulator.seed_service(PRODUCTION_NAME, f"{REGISTRY}/{REPOSITORY}:prod")
    repository = SeededRepository.fresh(account)
    staging_runs = repository.image("staging-build", "latest", days=40)
    production_ran = repository.image("release-1", days=200)
    production_runs = repository.image("release-2", "prod", days=120)
    strays = tuple(repository.image(f"stray-{n}", days=30 + n) for n in range(3))
    state = StateTable(account.table_name, account.client("dynamodb"))
    now = datetime.now(UTC)
    for arn, image, days in (
        (production, production_ran, 200),
        (production, production_runs, 120),
        (account.service_arn, staging_runs, 40),
    ):
        state.record_deployment(arn, image, None, now - timedelta(days=days), OBSERVED_SOURCE)
    # The adapters Warden's wiring builds read the local endpoints from the environment, as in Lambda.
    with fresh_container(account.env()):
        yield SharedRepository(
            account, repository, account.service_arn, production, staging_runs, production_runs, production_ran, strays
        )


def test_two_services_on_one_repository_keep_both_running_images_and_only_strays_go(shared: SharedRepository) -> None:
    # Given staging's own purge plan, which would delete what production runs and rolls back to
    staging = shared.settings(shared.staging)
    alone = PurgeImagesDeps(target(staging), EcrImages(), SnsNotifier(staging.notify_topic_arn), shared.deps().state)
    deletions = {decision.image.digest for decision in prepare_plan(alone, staging, datetime.now(UTC)).plan.deletions}
    assert {shared.production_runs, shared.production_ran} <= deletions
    # When the fleet purges the repository for both services, each through the target Warden's wiring builds
    services = [
        PurgeService(settings=shared.settings(arn), service=target(shared.settings(arn)))
        for arn in (shared.staging, shared.production)
    ]
    planned = plan_repository(REPOSITORY, services, shared.deps(), datetime.now(UTC))
    result = purge_repository(REPOSITORY, services, shared.deps(), datetime.now(UTC), trigger=PurgeTrigger.SCHEDULE)
    # Then both running digests (latest and prod) and production's rollback target survive; the strays are gone
    assert result.outcome is Outcome.PURGED
    assert shared.repository.digests() == {shared.staging_runs, shared.production_runs, shared.production_ran}
    assert result.deleted == 3
    assert result.services == (shared.staging, shared.production)
    # and one notification goes out, from a plan that names both services and keeps each one's image for it
    (message,) = shared.account.inbox()
    assert message.attributes == {"event": "images.purged", "severity": "info"}
    assert [(service.label, service.settings.service.arn) for service in planned.services] == [
        ("consultation-app", shared.staging),
        ("consultation-prod", shared.production),
    ]
    kept = {decision.image.digest: (decision.rule, decision.kept_for) for decision in planned.plan.kept}
    assert kept[shared.production_runs] == (Rule.DEPLOYED_NOW, "consultation-prod")
    assert kept[shared.staging_runs] == (Rule.DEPLOYED_NOW, "consultation-app")


def one_attempt_client(account: LocalAccount) -> Any:
    """An App Runner client of the emulator without botocore's retries, so that one injected error is final."""
    return boto3.session.Session().client(
        "apprunner",
        region_name=REGION,
        endpoint_url=account.apprunner_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=PROBE_CONFIG,
    )


def test_a_failing_describe_of_one_sharing_service_blocks_the_purge_and_is_reported(shared: SharedRepository) -> None:
    # Given App Runner failing the next DescribeService, which is production's (it is read first)
    account = shared.account
    production = shared.settings(shared.production)
    services = [
        PurgeService(
            settings=production,
            service=AppRunnerTarget(production.service, AppRunnerServices(one_attempt_client(account))),
        ),
        PurgeService(settings=shared.settings(shared.staging), service=target(shared.settings(shared.staging))),
    ]
    account.emulator.inject_error("DescribeService", "InternalServiceErrorException")
    before = shared.repository.digests()
    # When the fleet purges the repository in delete mode
    result = purge_repository(REPOSITORY, services, shared.deps(), datetime.now(UTC), trigger=PurgeTrigger.SCHEDULE)
    # Then nothing is deleted, and the result and the one notification say that production blocked it
    assert result.outcome is Outcome.BLOCKED
    assert result.blocked_by == (shared.production,)
    assert shared.repository.digests() == before
    (message,) = account.inbox()
    assert message.attributes == {"event": "images.unavailable", "severity": "warning"}
    error = "apprunner DescribeService failed after botocore's retries: InternalServiceErrorException"
    expected = purge_blocked(
        REPOSITORY,
        [
            SharingService(label="consultation-prod", arn=shared.production, unreadable=error),
            SharingService(label="consultation-app", arn=shared.staging),
        ],
    )
    assert (message.subject, message.body) == (expected.subject, expected.body)
    # and the next run, with App Runner answering again, purges the strays only
    retried = purge_repository(REPOSITORY, services, shared.deps(), datetime.now(UTC), trigger=PurgeTrigger.SCHEDULE)
    assert retried.outcome is Outcome.PURGED
    assert shared.repository.digests() == before - set(shared.strays)
