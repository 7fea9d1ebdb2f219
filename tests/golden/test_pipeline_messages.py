"""The release pipeline's notifications, word for word: each rendered from its facts by messages/pipeline.py and
compared with its approved text (tests/golden/texts/pipeline.*.txt). A few run through the use cases with the
in-memory fakes against the same files: the use cases word nothing themselves, and the facts they hand over are
these. Where the platforms' words differ (the move, the deployment report, the console) there is a file for each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.deployment_events import operation_event
from tests.fakes import FakeService, platform_target
from tests.golden.golden import assert_golden, assert_golden_notification
from tests.unit.test_ecs_rollback import World as EcsWorld
from tests.unit.test_pipeline_usecases import World as AppRunnerWorld
from tests.unit.test_pipeline_usecases import succeeded_operation
from warden.domain.deployments import DeploymentEvent, DeploymentReport, OperationInfo, Phase
from warden.domain.notification import Notification
from warden.domain.pipeline import (
    AUTO_ROLLBACK_OFF,
    RELEASE_SOURCE,
    AfterFailure,
    AutoRollbackVerdict,
    Delivered,
    DeploymentEnded,
    Released,
    RetagPlan,
    RollbackTarget,
    RolledBack,
    Tracked,
    decide_deployment,
    defer_after_refusal,
)
from warden.domain.service import ServiceStatus
from warden.domain.target import TargetFacts
from warden.messages.pipeline import (
    delivery_line,
    deployment_ended,
    release_done,
    retag_before,
    retag_chosen_because,
    retag_intent,
    retag_next_steps,
    retag_summary,
    retag_undo_lines,
    rollback_done,
    rollback_would,
)
from warden.usecases.converge import PENDING_DEPLOY
from warden.usecases.deployment import handle_event

NAME = "consultation-app"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
APPRUNNER_ARN = f"arn:aws:apprunner:us-east-1:123456789012:service/{NAME}/0123456789abcdef0123456789abcdef"
ECS_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/prod/{NAME}"
URI = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{NAME}"
V1, V2, V3 = ("sha256:" + digit * 64 for digit in "123")
RELEASED = "sha256:1863d7bf5d056d1d0fb468eebb1378d7d31c273fc48208d3bc39b3709c082750"  # FakeRegistry's v1.3.0
TRACKED = Tracked(identifier=f"{URI}:latest", registry=URI.split("/")[0], repository=NAME, tag="latest")
RUNNING = decide_deployment(ServiceStatus.RUNNING, auto_deploy=False)
PAUSED = decide_deployment(ServiceStatus.PAUSED, auto_deploy=False)
AUTOMATIC = decide_deployment(ServiceStatus.RUNNING, auto_deploy=True)


def target(arn: str) -> Any:
    return platform_target(arn, FakeService(arn=arn))


APPRUNNER: TargetFacts = target(APPRUNNER_ARN).facts
ECS: TargetFacts = target(ECS_ARN).facts


# --- how a moved tag reaches the service ---------------------------------------------------------------------


def test_every_way_a_moved_tag_reaches_the_service_has_its_sentence() -> None:
    deliveries = {
        "started": Delivered(decision=RUNNING, operation_id="op-deploy"),
        "automatic": Delivered(decision=AUTOMATIC),
        "after the resume": Delivered(decision=PAUSED, remembered=PENDING_DEPLOY),
        "busy": Delivered(
            decision=decide_deployment(ServiceStatus.OPERATION_IN_PROGRESS, auto_deploy=False),
            remembered=PENDING_DEPLOY,
        ),
        "refused on App Runner": Delivered(
            decision=defer_after_refusal(APPRUNNER.platform, "start_deployment: service is OPERATION_IN_PROGRESS"),
            remembered=PENDING_DEPLOY,
        ),
        "refused on ECS": Delivered(
            decision=defer_after_refusal(ECS.platform, "ECS is busy with deployment ecs-svc/7"),
            remembered=PENDING_DEPLOY,
        ),
        "unavailable": Delivered(decision=decide_deployment(ServiceStatus.CREATE_FAILED, auto_deploy=False)),
    }
    text = "".join(f"{case}:\n  {delivery_line(delivery)}\n" for case, delivery in deliveries.items())
    assert_golden("pipeline.delivery", text)


# --- warden release ------------------------------------------------------------------------------------------


def released(**changes: Any) -> Released:
    """v1.3.0 released by alice over v1.2.0, the deployment started (the unit tests' World)."""
    facts = Released(
        service_name=NAME,
        version="v1.3.0",
        repository=NAME,
        digest=RELEASED,
        images=(f"{URI}:v1.3.0", f"{URI}:latest"),
        build_args=("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",),
        tracked=TRACKED,
        previous="v1.2.0 (sha256:222222222222)",
        delivery=Delivered(decision=RUNNING, operation_id="op-deploy"),
        rollback_to="v1.2.0 (sha256:222222222222)",
        actor="alice",
        console_url=APPRUNNER.console_url,
    )
    return facts.model_copy(update=changes)


RELEASES = {
    "started": released(),
    "paused": released(build_args=(), delivery=Delivered(decision=PAUSED, remembered=PENDING_DEPLOY)),
    "first": released(
        build_args=(),
        previous=None,
        rollback_to=None,
        delivery=Delivered(decision=AUTOMATIC),
    ),
}


@pytest.mark.parametrize("case", RELEASES)
def test_a_release_is_announced(case: str) -> None:
    assert_golden_notification(f"pipeline.release.{case}", release_done(RELEASES[case]))


def test_the_release_use_case_announces_its_facts_through_the_renderer() -> None:
    # Given the unit tests' App Runner world, When v1.3.0 is released with the Clerk key as a build arg
    world = AppRunnerWorld()
    result = world.release("v1.3.0", "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY")
    # Then its facts are the ones above, and its notification the approved text
    assert result.released.model_dump() == RELEASES["started"].model_dump()
    (sent,) = world.notifier.sent
    assert_golden_notification("pipeline.release.started", sent)


# --- warden rollback -----------------------------------------------------------------------------------------


def retag_plan(status: ServiceStatus = ServiceStatus.RUNNING) -> RetagPlan:
    """latest: v1.2.0 -> v1.1.0, released the day before (the unit tests' World)."""
    return RetagPlan(
        repository=NAME,
        service_name=NAME,
        service_status=status.value,
        tracked=TRACKED,
        current_digest=V2,
        current_tag="v1.2.0",
        current_label="v1.2.0 (sha256:222222222222)",
        target=RollbackTarget(digest=V1, tag="v1.1.0", deployed_at=NOW - timedelta(days=1), source=RELEASE_SOURCE),
        deploy=decide_deployment(status, auto_deploy=False),
    )


def retag_rollback(plan: RetagPlan, delivery: Delivered, *, dry_run: bool = False) -> RolledBack:
    """The facts of a rollback that moved `latest` back (the words of the move are messages/pipeline.py's too)."""
    return RolledBack(
        service_name=plan.service_name,
        target_label=plan.target_label,
        subject_target="v1.1.0",
        before=retag_before(plan),
        chosen_because=retag_chosen_because(plan),
        summary=rollback_would(retag_intent(plan)) if dry_run else retag_summary(plan, ("latest",), delivery),
        dry_run=dry_run,
        actor="alice",
        reason="bad release",
        console_url=APPRUNNER.console_url,
        next_steps=() if dry_run else retag_next_steps(delivery),
        undo=() if dry_run else tuple(retag_undo_lines(plan, target(APPRUNNER_ARN).deploy_command())),
    )


def revision_rollback(*, summary: str, next_steps: tuple[str, ...], dry_run: bool = False) -> RolledBack:
    """The facts of a rollback on ECS: revision 3 -> 2, in the words of the ECS target's move."""
    return RolledBack(
        service_name=NAME,
        target_label="consultation-app:2 (sha256:222222222222)",
        subject_target="consultation-app:2 (sha256:222222222222)",
        before="the service ran consultation-app:3 (v1.2.0)",
        chosen_because="the previous revision of consultation-app (the newest older than consultation-app:3)",
        summary=summary,
        dry_run=dry_run,
        actor="alice",
        reason="checkout broken",
        console_url=ECS.console_url,
        next_steps=next_steps,
        undo=()
        if dry_run
        else (
            "warden rollback consultation-app:3   (back to consultation-app:3 (v1.2.0))",
            "With the AWS CLI:",
            "  aws ecs update-service --cluster prod --service consultation-app --task-definition consultation-app:3 "
            "--region us-east-1",
        ),
    )


ROLLED_TO_2 = (
    "Rolled consultation-app back to consultation-app:2 (sha256:222222222222) (it ran consultation-app:3 (v1.2.0))."
)
ROLLBACKS = {
    "done.apprunner": retag_rollback(retag_plan(), Delivered(decision=RUNNING, operation_id="op-deploy")),
    "done.ecs": revision_rollback(
        summary=f"{ROLLED_TO_2} UpdateService started ECS deployment ecs-svc/1.",
        next_steps=("ECS replaces the tasks; on_deployment reports how the deployment went.",),
    ),
    "paused.apprunner": retag_rollback(
        retag_plan(ServiceStatus.PAUSED), Delivered(decision=PAUSED, remembered=PENDING_DEPLOY)
    ),
    "paused.ecs": revision_rollback(
        summary=f"{ROLLED_TO_2} The service is paused (desired count 0): ECS keeps consultation-app:2 as its task "
        "definition and starts its tasks when the service resumes.",
        next_steps=("ECS runs consultation-app:2 as soon as the service resumes (warden resume).",),
    ),
    "dry_run.apprunner": retag_rollback(retag_plan(), Delivered(decision=RUNNING), dry_run=True),
    "dry_run.ecs": revision_rollback(
        summary=rollback_would(
            "deployed consultation-app:2 (sha256:222222222222) to consultation-app in place of consultation-app:3 "
            "(v1.2.0) (ECS replaces the running tasks with the revision's (a rolling deployment))"
        ),
        next_steps=(),
        dry_run=True,
    ),
}


@pytest.mark.parametrize("case", ROLLBACKS)
def test_a_rollback_is_announced_with_how_to_undo_it(case: str) -> None:
    assert_golden_notification(f"pipeline.rollback.{case}", rollback_done(ROLLBACKS[case]))


def apprunner_rollback(**env: str) -> Notification:
    world = AppRunnerWorld(status=ServiceStatus(env.pop("status", "RUNNING")), **env)
    world.roll_back()
    return only(world.notifier.sent)


def ecs_rollback(*, desired: int = 2, **env: str) -> Notification:
    world = EcsWorld(**env)
    world.ecs.desired = desired
    world.rollback()
    return only(world.notifier.sent)


def test_the_rollback_use_case_announces_through_the_renderer_on_both_platforms() -> None:
    # Given each platform's world (running, paused, or with DRY_RUN), When the operator rolls back
    # Then each notification is the approved text of its platform
    assert_golden_notification("pipeline.rollback.done.apprunner", apprunner_rollback())
    assert_golden_notification("pipeline.rollback.paused.apprunner", apprunner_rollback(status="PAUSED"))
    assert_golden_notification("pipeline.rollback.dry_run.apprunner", apprunner_rollback(DRY_RUN="true"))
    assert_golden_notification("pipeline.rollback.done.ecs", ecs_rollback())
    assert_golden_notification("pipeline.rollback.paused.ecs", ecs_rollback(desired=0))
    assert_golden_notification("pipeline.rollback.dry_run.ecs", ecs_rollback(DRY_RUN="true"))


def only(sent: list[Notification]) -> Notification:
    (notification,) = sent
    return notification


# --- on_deployment: a deployment that ended ------------------------------------------------------------------

HEALTH = "Deployment failed. Health check failed on path /health."
BREAKER = "ECS deployment circuit breaker: task failed to start."
ECS_DEPLOYMENT = "ecs-svc/4125630193884410297"


def apprunner_event(status: str, phase: Phase, *, update: bool = False, message: str | None = None) -> DeploymentEvent:
    return DeploymentEvent(
        event_id="e-1",
        delivery_key="apprunner#e-1",
        service_arn=APPRUNNER_ARN,
        status=status,
        time=NOW,
        phase=phase,
        update=update,
        start_key="update" if update else "deployment",
        message=message,
    )


def ecs_event(status: str, phase: Phase, at: datetime, message: str | None = None) -> DeploymentEvent:
    return DeploymentEvent(
        event_id="e-1",
        delivery_key="ecs#e-1",
        service_arn=ECS_ARN,
        status=status,
        time=at,
        phase=phase,
        start_key=ECS_DEPLOYMENT,
        deployment_id=ECS_DEPLOYMENT,
        message=message,
    )


APPRUNNER_BY_HAND = (
    "warden rollback   (moves the tag back to v1.1.0 (sha256:111111111111) and deploys it)",
    "warden rollback v1.1.0   (the same, naming the version)",
    "warden rollback --plan   (shows what it would do; changes nothing)",
)
ECS_BY_HAND = (
    "warden rollback   (deploys consultation-app:2 (sha256:222222222222), the previous revision)",
    "warden rollback consultation-app:2   (the same, naming the revision)",
    "warden rollback --plan   (shows what it would do; changes nothing)",
)


def apprunner_report(**changes: Any) -> DeploymentReport:
    """v1.2.0, as the App Runner target reports it."""
    report = DeploymentReport(
        deployed=V2,
        label="v1.2.0 (sha256:222222222222)",
        short="v1.2.0",
        headline="v1.2.0",
        manual_rollback=APPRUNNER_BY_HAND,
        update_advice="Nothing: an UpdateService failure is a configuration change, which rolling back the image "
        "would not undo. Check the change (aws apprunner list-operations) and the service's logs.",
    )
    return report.model_copy(update=changes)


def ecs_report(**changes: Any) -> DeploymentReport:
    """Revision 3 (v1.2.0), as the ECS target reports it."""
    report = DeploymentReport(
        deployed="arn:aws:ecs:us-east-1:123456789012:task-definition/consultation-app:3",
        version="v1.2.0",
        label="consultation-app:3 (v1.2.0)",
        short="v1.2.0",
        headline="consultation-app:3 (v1.2.0)",
        manual_rollback=ECS_BY_HAND,
    )
    return report.model_copy(update=changes)


def apprunner_ended(event: DeploymentEvent, report: DeploymentReport, **facts: Any) -> DeploymentEnded:
    return DeploymentEnded(
        service_name=NAME,
        platform=APPRUNNER.platform,
        console_url=APPRUNNER.console_url,
        event=event,
        report=report,
        **facts,
    )


def ecs_ended(event: DeploymentEvent, report: DeploymentReport, **facts: Any) -> DeploymentEnded:
    return DeploymentEnded(
        service_name=NAME, platform=ECS.platform, console_url=ECS.console_url, event=event, report=report, **facts
    )


APPRUNNER_SUCCEEDED = apprunner_event("DeploymentCompletedSuccessfully", Phase.SUCCEEDED)
APPRUNNER_FAILED = apprunner_event("DeploymentFailed", Phase.FAILED, message=HEALTH)
APPRUNNER_ROLLED_ITSELF_BACK = apprunner_report(
    took=timedelta(minutes=6),
    explanation="App Runner rolled the service back to the version that ran before; it keeps serving that.",
)
ECS_FAILED = ecs_event(
    "SERVICE_DEPLOYMENT_FAILED", Phase.FAILED, datetime(2026, 11, 24, 9, 19, 55, tzinfo=UTC), BREAKER
)
ECS_STOPPED = ecs_report(
    took=timedelta(minutes=7, seconds=54),
    explanation="ECS stopped the deployment (deployment circuit breaker): it starts no more tasks of the failed "
    "revision; tasks of the earlier deployment that still run keep running.",
)
ECS_COMPLETED = ecs_event(
    "SERVICE_DEPLOYMENT_COMPLETED",
    Phase.SUCCEEDED,
    datetime(2026, 11, 24, 9, 16, 40, tzinfo=UTC),
    f"ECS deployment {ECS_DEPLOYMENT} completed.",
)
ECS_REVISION_2 = (
    "Rolled consultation-app back to consultation-app:2 (sha256:222222222222) (it ran consultation-app:3 (v1.2.0)). "
    "UpdateService started ECS deployment ecs-svc/1."
)
IMAGE_GONE = (
    "the image v1.1.0 (sha256:111111111111) is no longer in consultation-app (deleted?): choose another version, "
    "e.g. `warden rollback v1.1.0`"
)


def not_tried(why: str = AUTO_ROLLBACK_OFF) -> AutoRollbackVerdict:
    return AutoRollbackVerdict(after=AfterFailure.NOT_TRIED, why=why)


DEPLOYMENTS = {
    "succeeded.apprunner": apprunner_ended(
        APPRUNNER_SUCCEEDED,
        apprunner_report(
            took=timedelta(minutes=4), detail="Operation op-1 (START_DEPLOYMENT) ended SUCCEEDED, took 4 minutes."
        ),
    ),
    "succeeded.ecs": ecs_ended(
        ECS_COMPLETED,
        ecs_report(took=timedelta(minutes=4, seconds=39), detail=f"ECS deployment {ECS_DEPLOYMENT} completed."),
        recorded=True,
    ),
    "observed": apprunner_ended(
        APPRUNNER_SUCCEEDED,
        apprunner_report(
            deployed=V3,
            label="sha256:333333333333",
            short="sha256:333333333333",
            headline="sha256:333333333333",
            manual_rollback=(
                "warden rollback   (moves the tag back to v1.2.0 (sha256:222222222222) and deploys it)",
                "warden rollback v1.2.0   (the same, naming the version)",
                "warden rollback --plan   (shows what it would do; changes nothing)",
            ),
        ),
        recorded=True,
    ),
    "rollback_succeeded": ecs_ended(
        ECS_COMPLETED,
        ecs_report(took=timedelta(minutes=4, seconds=39), detail=f"ECS deployment {ECS_DEPLOYMENT} completed."),
        by_rollback=True,
    ),
    "updated": apprunner_ended(
        apprunner_event("UpdateServiceCompletedSuccessfully", Phase.SUCCEEDED, update=True),
        apprunner_report(
            took=timedelta(minutes=3), detail="Operation op-2 (UPDATE_SERVICE) ended SUCCEEDED, took 3 minutes."
        ),
    ),
    "update_failed": apprunner_ended(
        apprunner_event("UpdateServiceFailed", Phase.FAILED, update=True, message="Update service failed."),
        apprunner_report(),
    ),
    "failed.apprunner": apprunner_ended(APPRUNNER_FAILED, APPRUNNER_ROLLED_ITSELF_BACK, rollback=not_tried()),
    "failed.ecs": ecs_ended(ECS_FAILED, ECS_STOPPED, rollback=not_tried()),
    "failed_not_wired": apprunner_ended(
        APPRUNNER_FAILED,
        APPRUNNER_ROLLED_ITSELF_BACK,
        rollback=not_tried("ECR_REPOSITORY is not set, so Warden cannot re-tag images"),
    ),
    "platform_rollback_failed": apprunner_ended(
        APPRUNNER_FAILED,
        apprunner_report(
            took=timedelta(minutes=6),
            platform_rollback_failed=True,
            explanation="App Runner could not roll the service back either: check the service now.",
        ),
        rollback=not_tried(),
    ),
    "rolled_back.apprunner": apprunner_ended(
        APPRUNNER_FAILED,
        APPRUNNER_ROLLED_ITSELF_BACK,
        rollback=AutoRollbackVerdict(
            after=AfterFailure.ROLLED_BACK,
            done=retag_summary(retag_plan(), ("latest",), Delivered(decision=RUNNING, operation_id="op-deploy")),
            to="v1.1.0",
            undo=tuple(retag_undo_lines(retag_plan(), target(APPRUNNER_ARN).deploy_command())),
        ),
    ),
    "rolled_back.ecs": ecs_ended(
        ECS_FAILED,
        ECS_STOPPED,
        rollback=AutoRollbackVerdict(
            after=AfterFailure.ROLLED_BACK,
            done=ECS_REVISION_2,
            to="consultation-app:2",
            undo=ROLLBACKS["done.ecs"].undo,
        ),
    ),
    "would_roll_back": apprunner_ended(
        APPRUNNER_FAILED,
        apprunner_report(),
        rollback=AutoRollbackVerdict(
            after=AfterFailure.WOULD_ROLL_BACK, done=rollback_would(retag_intent(retag_plan()))
        ),
    ),
    "rollback_declined": ecs_ended(
        ECS_FAILED.model_copy(
            update={"message": "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111."}
        ),
        ecs_report(
            took=timedelta(minutes=7, seconds=54),
            explanation="ECS is rolling the service back by itself (deployment circuit breaker) to deployment "
            "ecs-svc/1111.",
        ),
        rollback=AutoRollbackVerdict(
            after=AfterFailure.DECLINED,
            why="the service already runs consultation-app:2, not the failed consultation-app:3: it was rolled back "
            "or redeployed since, so there is nothing left to roll back",
        ),
    ),
    "rollback_failed": apprunner_ended(
        APPRUNNER_FAILED, apprunner_report(), rollback=AutoRollbackVerdict(after=AfterFailure.FAILED, why=IMAGE_GONE)
    ),
    "rollback_deployment_failed": ecs_ended(
        ECS_FAILED,
        ECS_STOPPED,
        by_rollback=True,
        rollback=AutoRollbackVerdict(
            after=AfterFailure.DECLINED,
            why="the last deployment (consultation-app:3 at 2026-11-24 09:12 UTC) was itself a rollback: Warden "
            "never rolls back a rollback, so a bad rollback cannot loop",
        ),
    ),
}


@pytest.mark.parametrize("case", DEPLOYMENTS)
def test_a_deployment_that_ended_is_reported(case: str) -> None:
    assert_golden_notification(f"pipeline.deployment.{case}", deployment_ended(DEPLOYMENTS[case]))


def test_the_deployment_watcher_reports_through_the_renderer_on_both_platforms() -> None:
    # Given App Runner's world: a success (4 minutes), a failure without and with automatic rollback
    succeeded = AppRunnerWorld()
    handle_event(
        operation_event("deployment-succeeded", service_arn=APPRUNNER_ARN, at=NOW),
        succeeded.watcher([succeeded_operation(4)]),
        succeeded.settings,
        NOW,
    )
    rolled = OperationInfo(
        id="op-1", type="START_DEPLOYMENT", status="ROLLBACK_SUCCEEDED", started_at=NOW - timedelta(minutes=6)
    )
    failed = operation_event("deployment-failed", service_arn=APPRUNNER_ARN, at=NOW)
    off, on = AppRunnerWorld(), AppRunnerWorld(AUTO_ROLLBACK="true")
    handle_event(failed, off.watcher([rolled]), off.settings, NOW)
    handle_event(failed, on.watcher([rolled]), on.settings, NOW)
    # And ECS's: a completed deployment, and a failed one rolled back
    ecs_completed, ecs_failed = EcsWorld(), EcsWorld(AUTO_ROLLBACK="true")
    ecs_completed.watch("ecs-deployment-completed")
    ecs_failed.watch("ecs-deployment-failed")
    # Then each report is the approved text
    assert_golden_notification("pipeline.deployment.succeeded.apprunner", only(succeeded.notifier.sent))
    assert_golden_notification("pipeline.deployment.failed.apprunner", only(off.notifier.sent))
    assert_golden_notification("pipeline.deployment.rolled_back.apprunner", only(on.notifier.sent))
    assert_golden_notification("pipeline.deployment.succeeded.ecs", only(ecs_completed.notifier.sent))
    assert_golden_notification("pipeline.deployment.rolled_back.ecs", only(ecs_failed.notifier.sent))
