"""SERVICE_ARN alone picks every use case's target: App Runner's adapters, or ECS's. Building them calls no AWS."""

from __future__ import annotations

import pytest

from warden import wiring
from warden.adapters.ecs import EcsServices
from warden.adapters.targets.apprunner import AppRunnerTarget
from warden.adapters.targets.ecs import EcsTarget
from warden.settings import Settings
from warden.usecases.alarm import RollbackNotConfigured
from warden.usecases.rollback import AutoRollback

APPRUNNER = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"


def settings(arn: str, **env: str) -> Settings:
    return Settings.from_env(
        {
            "SERVICE_ARN": arn,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": "consultation-app-monthly",
            "ECR_REPOSITORY": "consultation-app",
            **env,
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
    assert isinstance(wiring.target(chosen), EcsTarget)
    assert isinstance(wiring.budget_alert_deps(chosen).service, EcsTarget)
    purge = wiring.purge_images_deps(chosen)
    assert isinstance(purge.service, EcsTarget)
    assert isinstance(purge.task_definitions, EcsServices)
    assert isinstance(wiring.rollback_deps(chosen).target, EcsTarget)
    assert isinstance(wiring.alarm_rollback(chosen), AutoRollback)
    deployments = wiring.deployment_deps(chosen)
    assert isinstance(deployments.target, EcsTarget)
    assert deployments.rollback is not None
    # And no tag is tracked across a pause: the tasks a resume starts pull what their task definition names
    assert wiring.image_resolver(chosen) is None


def test_an_app_runner_arn_wires_app_runner_and_tracks_the_image_it_follows() -> None:
    # Given an App Runner SERVICE_ARN (and an ECR repository)
    chosen = settings(APPRUNNER)
    # When each use case's dependencies are built / Then App Runner's adapters and the re-tag rollback are used
    assert isinstance(wiring.target(chosen), AppRunnerTarget)
    assert wiring.purge_images_deps(chosen).task_definitions is None
    assert isinstance(wiring.rollback_deps(chosen).target, AppRunnerTarget)
    assert isinstance(wiring.alarm_rollback(chosen), AutoRollback)
    assert isinstance(wiring.deployment_deps(chosen).target, AppRunnerTarget)
    assert wiring.image_resolver(chosen) is not None


def test_without_a_repository_app_runner_has_no_tag_to_move_back_and_ecs_still_rolls_back() -> None:
    # Given no ECR_REPOSITORY
    bare = {"ECR_REPOSITORY": ""}
    apprunner, ecs = settings(APPRUNNER, **bare), settings(ECS, **bare)
    # Then App Runner's alarm rollback and deployment watcher say it is not configured; ECS deploys a revision
    assert isinstance(wiring.alarm_rollback(apprunner), RollbackNotConfigured)
    assert wiring.deployment_deps(apprunner).rollback is None
    assert isinstance(wiring.alarm_rollback(ecs), AutoRollback)
    assert wiring.deployment_deps(ecs).rollback is not None
