"""SERVICE_ARN alone picks every use case's target: App Runner's adapters, or ECS's. Building them calls no AWS."""

from __future__ import annotations

import pytest

from warden import wiring
from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.ecs import EcsServices
from warden.settings import Settings
from warden.usecases.deployment import DeploymentDeps
from warden.usecases.ecs_deployment import EcsDeploymentDeps
from warden.usecases.ecs_rollback import EcsAutoRollback, EcsRollbackDeps
from warden.usecases.rollback import AutoRollback, RollbackDeps

APPRUNNER = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"


def settings(arn: str) -> Settings:
    return Settings.from_env(
        {
            "SERVICE_ARN": arn,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": "consultation-app-monthly",
            "ECR_REPOSITORY": "consultation-app",
        }
    )


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_an_ecs_arn_wires_the_ecs_controller_everywhere_and_tracks_no_image() -> None:
    # Given an ECS SERVICE_ARN (and an ECR repository)
    chosen = settings(ECS)
    # When each use case's dependencies are built
    # Then pausing, purging, rolling back and watching deployments all go through ECS
    assert isinstance(wiring.service_controller(chosen), EcsServices)
    assert isinstance(wiring.budget_alert_deps(chosen).service, EcsServices)
    purge = wiring.purge_images_deps(chosen)
    assert isinstance(purge.service, EcsServices)
    assert purge.task_definitions is purge.service
    assert isinstance(wiring.rollback_deps(chosen), EcsRollbackDeps)
    assert isinstance(wiring.alarm_rollback(chosen), EcsAutoRollback)
    assert isinstance(wiring.deployment_deps(chosen), EcsDeploymentDeps)
    # And no tag is tracked across a pause: the tasks a resume starts pull what their task definition names
    assert wiring.image_resolver(chosen) is None


def test_an_app_runner_arn_wires_app_runner_and_tracks_the_image_it_follows() -> None:
    # Given an App Runner SERVICE_ARN (and an ECR repository)
    chosen = settings(APPRUNNER)
    # When each use case's dependencies are built / Then App Runner's adapters and the re-tag rollback are used
    assert isinstance(wiring.service_controller(chosen), AppRunnerServices)
    assert wiring.purge_images_deps(chosen).task_definitions is None
    assert isinstance(wiring.rollback_deps(chosen), RollbackDeps)
    assert isinstance(wiring.alarm_rollback(chosen), AutoRollback)
    assert isinstance(wiring.deployment_deps(chosen), DeploymentDeps)
    assert wiring.image_resolver(chosen) is not None
