"""`warden release` when SERVICE_ARN names an ECS service: the tags move as on App Runner, and ECS deploys them
with a forced new deployment (new tasks pull the moved `latest`); a task definition pinned to a version is refused
with what to change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from local.account import LocalAccount
from local.demo_images import REGISTRY
from local.ecs import register_revision, run_revision, seed_ecs_service, update_calls
from tests.integration.pipeline_world import Pipeline, Releases, make_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(account: LocalAccount, tmp_path: Path) -> Pipeline:
    arn = seed_ecs_service(account, desired=2)  # its task definition runs consultation-app:latest
    return make_pipeline(dataclasses.replace(account, service_arn=arn), tmp_path)


def forced_deployments() -> int:
    return sum(1 for call in update_calls() if call.get("force_new_deployment"))


def test_a_release_to_an_ecs_service_moves_latest_and_forces_one_new_deployment(pipeline: Pipeline) -> None:
    # Given an ECS service whose task definition follows consultation-app:latest
    before = forced_deployments()
    # When the operator releases v1.2.0
    result = pipeline.release("v1.2.0")
    # Then both tags point at the pushed image, and ECS got exactly one forced new deployment
    assert result.returncode == 0, result.stderr
    digest = pipeline.digest_of("v1.2.0")
    assert digest is not None
    assert pipeline.digest_of("latest") == digest
    assert forced_deployments() == before + 1
    assert "Started deployment" in result.stdout
    # And the operator hears of the release once
    (received,) = [message for message in pipeline.account.inbox() if "v1.2.0" in message.subject]
    assert "consultation-app" in received.subject


def test_a_release_to_an_ecs_service_pinned_to_a_version_is_refused_with_what_to_change(pipeline: Pipeline) -> None:
    # Given the service now runs a revision pinned to consultation-app:v1.1.0
    run_revision(register_revision(pipeline.account, f"{REGISTRY}/consultation-app:v1.1.0"))
    before = forced_deployments()
    # When the operator releases v1.2.0
    result = pipeline.release("v1.2.0")
    # Then nothing is built or deployed, and one line says how to make releases reach the service
    assert result.returncode == 2
    assert "pinned to the version tag v1.1.0" in result.stderr
    assert "task-definition revision whose image is <repository>:latest" in result.stderr
    assert pipeline.argv() == []
    assert forced_deployments() == before


def test_a_rollback_of_an_ecs_service_that_follows_latest_moves_latest_back_and_redeploys(pipeline: Pipeline) -> None:
    # Given v1.1.0 and v1.2.0 released through Warden, latest = v1.2.0, and the service following latest
    releases = Releases(pipeline)
    before = forced_deployments()
    # When the operator rolls back without naming a version
    result = pipeline.warden("rollback", "--reason", "checkout broken")
    # Then latest points at v1.1.0 again and ECS got one forced new deployment (a revision would not have helped)
    assert result.returncode == 0, result.stderr
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert forced_deployments() == before + 1


def test_an_automatic_rollback_never_redeploys_a_revision_that_runs_the_same_moving_tag(pipeline: Pipeline) -> None:
    # Given an earlier revision that runs the same consultation-app:latest as the current one
    account = pipeline.account
    current = register_revision(account, f"{REGISTRY}/consultation-app:latest")
    run_revision(current)
    # When the revision rollback is planned (what the alarm's and on_deployment's automatic rollback do)
    result = pipeline.warden("rollback", "--plan", ECR_REPOSITORY="")
    # Then it is refused, saying that going back a revision would deploy the same image, and what to do instead
    assert result.returncode == 2
    assert "`latest` is a tag that moves" in result.stderr
    assert "re-points `latest` to the previous release" in result.stderr


def test_a_release_finds_the_apps_container_behind_a_sidecar_listed_first(pipeline: Pipeline) -> None:
    # Given a task definition whose first container is a log router from public ECR, the app's second
    account = pipeline.account
    definition = account.client("ecs").register_task_definition(
        family="consultation-app",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
            {"name": "web", "image": f"{REGISTRY}/consultation-app:latest", "essential": True},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    run_revision(definition)
    before = forced_deployments()
    # When the operator releases v1.2.0
    result = pipeline.release("v1.2.0")
    # Then the release follows the app's container (consultation-app:latest), not the sidecar, and deploys it
    assert result.returncode == 0, result.stderr
    assert pipeline.digest_of("latest") == pipeline.digest_of("v1.2.0")
    assert forced_deployments() == before + 1
