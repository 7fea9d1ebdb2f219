"""Rollback and the deployment watcher when SERVICE_ARN names an ECS service, against moto's ECS: `warden rollback`
as a real subprocess deploys an earlier task-definition revision (no ECR re-tag), and on_deployment, run as
Lambda runs it, reports ECS's deployment state changes and rolls a failed deployment back once."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import timedelta
from typing import Any

import pytest

from local.account import ACCOUNT_ID, REGION, REPOSITORY, LocalAccount
from local.deployment_events import operation_event
from local.ecs import CLUSTER, register_revision, run_revision, seed_ecs_service
from local.invoke import invoke

pytestmark = pytest.mark.integration

URI = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}"
AUTO = {"AUTO_ROLLBACK": "true"}


@dataclasses.dataclass
class EcsWorld:
    """The service runs v1.2.0; its family's two revisions before it run v1.1.0 and v1.0.0."""

    account: LocalAccount
    revisions: dict[str, str]  # version -> task-definition ARN

    def name(self, version: str) -> str:
        """`consultation-app:12`, as Warden names the revision (moto's revisions accumulate over the session)."""
        return self.revisions[version].rsplit("/", 1)[-1]

    def service(self) -> dict[str, Any]:
        ecs = self.account.client("ecs")
        return dict(ecs.describe_services(cluster=CLUSTER, services=[REPOSITORY])["services"][0])

    def running(self) -> str:
        return str(self.service()["taskDefinition"])

    def warden(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.account.warden(*args, **env)

    def watch(self, fixture: str, *, event_id: str | None = None, **env: str) -> dict[str, Any]:
        """The fixture for this service's current deployment, four and a half minutes after it started."""
        (deployment,) = self.service()["deployments"]
        event = operation_event(
            fixture,
            service_arn=self.account.service_arn,
            at=deployment["createdAt"] + timedelta(minutes=4, seconds=30),
            event_id=event_id,
        )
        event["detail"]["deploymentId"] = deployment["id"]
        (result,) = invoke("on_deployment", event, {**self.account.env(), **env})["results"]
        return dict(result)

    def rollback_records(self) -> list[str]:
        history = self.warden("history")
        return [line.split()[4] for line in history.stdout.splitlines() if " rollback " in line]


@pytest.fixture
def world(account: LocalAccount) -> EcsWorld:
    arn = seed_ecs_service(account, image=f"{URI}:v1.0.0")
    ecs_account = dataclasses.replace(account, service_arn=arn)
    first = str(
        ecs_account.client("ecs").describe_services(cluster=CLUSTER, services=[REPOSITORY])["services"][0][
            "taskDefinition"
        ]
    )
    revisions = {
        "v1.0.0": first,
        "v1.1.0": register_revision(ecs_account, f"{URI}:v1.1.0"),
        "v1.2.0": register_revision(ecs_account, f"{URI}:v1.2.0"),
    }
    run_revision(revisions["v1.2.0"])
    return EcsWorld(account=ecs_account, revisions=revisions)


def test_without_a_version_the_rollback_deploys_the_previous_revision_and_says_what_why_and_undo(
    world: EcsWorld,
) -> None:
    # When the operator rolls back
    result = world.warden("rollback", "--reason", "checkout broken")
    # Then the service's task definition is the previous revision (no ECR re-tag: there is no repository at all)
    assert result.returncode == 0, result.stderr
    assert f"Target:  {world.name('v1.1.0')} (v1.1.0): the previous revision" in result.stdout
    assert world.running() == world.revisions["v1.1.0"]
    # And the operator reads what happened, why, and how to undo it
    (message,) = world.account.inbox()
    assert message.attributes == {"event": "rollback.done", "severity": "warning"}
    assert world.name("v1.1.0") in message.subject
    assert "alice" in message.body
    assert "checkout broken" in message.body
    assert f"warden rollback {world.name('v1.2.0')} " in message.body
    # And the action is recorded
    assert world.rollback_records() == ["done"]


def test_a_named_version_deploys_the_revision_that_runs_it(world: EcsWorld) -> None:
    result = world.warden("rollback", "v1.0.0")
    assert result.returncode == 0, result.stderr
    assert world.running() == world.revisions["v1.0.0"]
    # And rolling forward by revision number works the same way
    number = world.name("v1.2.0").rsplit(":", 1)[1]
    forward = world.warden("rollback", number)
    assert forward.returncode == 0, forward.stderr
    assert world.running() == world.revisions["v1.2.0"]


def test_a_name_that_matches_nothing_is_one_line_listing_what_exists(world: EcsWorld) -> None:
    result = world.warden("rollback", "v0.1.0")
    assert result.returncode == 2
    assert "no revision of consultation-app runs 'v0.1.0': it has " in result.stderr
    assert f"{world.name('v1.2.0')} (v1.2.0), {world.name('v1.1.0')} (v1.1.0)" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert world.running() == world.revisions["v1.2.0"]


def test_a_paused_service_takes_the_revision_now_and_runs_it_on_resume(world: EcsWorld) -> None:
    # Given the service paused by hand (desired count 0)
    assert world.warden("pause", "--reason", "maintenance").returncode == 0
    # When the operator rolls back
    result = world.warden("rollback")
    # Then ECS has the revision, still with no task, and Warden says it runs on resume
    assert result.returncode == 0, result.stderr
    assert world.running() == world.revisions["v1.1.0"]
    assert world.service()["desiredCount"] == 0
    assert f"is PAUSED: ECS runs {world.name('v1.1.0')} when it resumes" in result.stdout


def test_a_failed_deployment_rolls_back_once_and_a_redelivery_changes_nothing(world: EcsWorld) -> None:
    event_id = "b7e4a9c2-1d3f-4e5a-8b6c-7d8e9f0a1b22"
    # When ECS reports that the deployment of v1.2.0 failed, with automatic rollback on
    result = world.watch("ecs-deployment-failed", event_id=event_id, **AUTO)
    # Then Warden deployed the previous revision, and the operator is told
    assert result["outcome"] == "rolled_back"
    assert world.running() == world.revisions["v1.1.0"]
    (message,) = world.account.inbox()
    assert message.attributes == {"event": "deployment.rolled_back", "severity": "warning"}
    assert "ECS deployment circuit breaker: task failed to start." in message.body  # ECS's own reason
    # When EventBridge delivers the same event again, Then nothing more happens
    run_revision(world.revisions["v1.2.0"])
    again = world.watch("ecs-deployment-failed", event_id=event_id, **AUTO)
    assert again["outcome"] == "duplicate"
    assert world.running() == world.revisions["v1.2.0"]
    assert world.account.inbox() == []
    assert world.rollback_records() == ["done"]


def test_a_completed_deployment_is_reported_with_its_revision_image_and_duration(world: EcsWorld) -> None:
    result = world.watch("ecs-deployment-completed")
    assert result["outcome"] == "deployed"
    (message,) = world.account.inbox()
    assert message.attributes == {"event": "deployment.succeeded", "severity": "info"}
    assert f"{world.name('v1.2.0')} (v1.2.0)" in message.subject
    assert f"warden rollback {world.name('v1.1.0')}   (the same, naming the revision)" in message.body
