"""Demo act (ECS): a release whose tasks fail to start. CI registered a task-definition revision for v1.5.0 and
deployed it; ECS reports the deployment failed; Warden (AUTO_ROLLBACK=true) deploys the revision before it, once,
and reports the rollback's own deployment when ECS completes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moto.ecs.models import ecs_backends

from local.account import ACCOUNT_ID, REGION, REPOSITORY
from local.demo_images import REGISTRY
from local.deployment_events import operation_event
from local.ecs import CLUSTER, register_revision, run_revision
from local.timeline import Timeline, expect

AUTO = {"AUTO_ROLLBACK": "true"}


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    now = timeline.calendar.release
    ecs = account.client("ecs")

    def service() -> dict[str, Any]:
        return dict(ecs.describe_services(cluster=CLUSTER, services=[REPOSITORY])["services"][0])

    def report(fixture: str, at: datetime, event_id: str) -> dict[str, Any]:
        (deployment,) = service()["deployments"]
        event = operation_event(fixture, service_arn=account.service_arn, at=at, event_id=event_id)
        fixture_id = event["detail"]["deploymentId"]
        event["detail"]["deploymentId"] = deployment["id"]
        event["detail"]["reason"] = str(event["detail"].get("reason", "")).replace(fixture_id, deployment["id"])
        outcome: dict[str, Any] = timeline.run("on_deployment", event, **AUTO)[0]
        return outcome

    good = service()["taskDefinition"]
    timeline.say(now, "CI registers a task-definition revision for v1.5.0 and deploys it")
    bad = register_revision(account, f"{REGISTRY}/{REPOSITORY}:v1.5.0")
    run_revision(bad)
    _started(timeline.clock.now)
    timeline.note(f"ECS starts the tasks of {bad.rsplit('/', 1)[-1]}; they crash at start.")

    timeline.say(now + timedelta(minutes=6), "ECS: SERVICE_DEPLOYMENT_FAILED -> on_deployment (AUTO_ROLLBACK=true)")
    outcome = report("ecs-deployment-failed", now + timedelta(minutes=6), "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d")
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "rolled_back" and service()["taskDefinition"] == good and timeline.show_inbox() == 1,
        f"AUTO_ROLLBACK deploys the revision before, {good.rsplit('/', 1)[-1]}, and says so once",
    )

    run_revision(good)
    _started(now + timedelta(minutes=6))  # ECS started the rollback's deployment when Warden asked for it
    timeline.say(now + timedelta(minutes=10), "ECS: SERVICE_DEPLOYMENT_COMPLETED (the rollback)")
    outcome = report("ecs-deployment-completed", now + timedelta(minutes=10), "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e")
    timeline.outcome(outcome)
    failures += expect(
        outcome["outcome"] == "deployed" and timeline.show_inbox() == 1, "the rollback's deployment is reported"
    )
    return failures


def _started(at: datetime) -> None:
    """Dates the service's PRIMARY deployment `at`, as ECS dates a deployment it starts: `run_revision` keeps the one
    moto made when the service was seeded (on the 1st), whose age would read as the deployment's duration."""
    started = at.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    for deployment in ecs_backends[ACCOUNT_ID][REGION].services[f"{CLUSTER}:{REPOSITORY}"].deployments:
        if deployment["status"] == "PRIMARY":
            deployment["createdAt"] = deployment["updatedAt"] = started
