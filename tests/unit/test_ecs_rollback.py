"""Rollback and the deployment watcher on ECS, with in-memory fakes: which revision a rollback goes to, how ECS's
deployment events are read, and when Warden rolls back on its own (once, never a rollback, never over ECS's).

What the watcher reported is asserted on its facts (DeploymentResult.ended); the notifications' words are approved
once, in tests/golden/texts/pipeline.*.txt."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRegistry, FakeState, platform_target
from warden.domain.deployments import (
    EcsDeployment,
    EcsPhase,
    EcsServiceState,
    decide_ecs_watch,
    ecs_failure_explanation,
    ecs_rolling_back_to,
)
from warden.domain.pipeline import (
    OBSERVED_SOURCE,
    RELEASE_SOURCE,
    ROLLBACK_SOURCE,
    AfterFailure,
    DeploymentEnded,
    NoRollbackTarget,
    RollbackTrigger,
    TaskRevision,
    app_image,
    decide_auto_rollback,
    image_version,
    judge_listed,
    parse_revision_query,
    parse_task_definition,
    previous_revision,
    runs_version,
)
from warden.domain.records import DeploymentRecord
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import RollbackDeclined, UnparseableMessage
from warden.models.deployment import parse_ecs_deployment_event
from warden.settings import Settings
from warden.usecases.deployment import STARTED_MEMO, DeploymentDeps, Outcome, handle_event
from warden.usecases.rollback import AutoRollback, RollbackDeps, plan_rollback

ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/consultation-app"
URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app"
SIDECAR = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
DEPLOYED = datetime(2026, 11, 24, 9, 12, 1, tzinfo=UTC)
FAILED_ID = "ecs-svc/4125630193884410297"  # the fixtures' deployment
V2_DIGEST = "sha256:" + "2" * 64
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": "consultation-app",
}


@dataclass
class FakeEcs:
    """An ECS service and its family's revisions: revision -> images (the app's first, a sidecar after it)."""

    revisions: dict[int, list[str]]
    running: int
    desired: int = 2
    deployment_id: str = FAILED_ID
    deployment_created: datetime | None = DEPLOYED
    deployment_revision: int | None = None  # the deployment's own revision (default: what the service runs)
    circuit_breaker_rollback: bool | None = None
    deployed: list[str] = field(default_factory=list)

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return ServiceSnapshot(
            arn=service_arn,
            name="consultation-app",
            status=ServiceStatus.PAUSED if self.desired == 0 else ServiceStatus.RUNNING,
            image_identifier=self.revisions[self.running][0],
            auto_deploy=False,
        )

    def service_state(self, service_arn: str) -> EcsServiceState:
        deployment = EcsDeployment(
            id=self.deployment_id,
            task_definition=f"{TD}:{self.deployment_revision or self.running}",
            status="PRIMARY",
            created_at=self.deployment_created,
        )
        return EcsServiceState(
            arn=service_arn,
            task_definition=f"{TD}:{self.running}",
            desired_count=self.desired,
            deployments=(deployment,),
            circuit_breaker_rollback=self.circuit_breaker_rollback,
        )

    def list_revisions(self, family: str, limit: int) -> list[str]:
        return [f"{TD}:{number}" for number in sorted(self.revisions, reverse=True)][:limit]

    def describe_revision(self, task_definition: str, repository: str | None) -> TaskRevision | None:
        parsed = parse_task_definition(task_definition)
        if parsed is None or parsed[0] != "consultation-app" or parsed[1] not in self.revisions:
            return None
        images = self.revisions[parsed[1]]
        return TaskRevision(
            arn=f"{TD}:{parsed[1]}", family=parsed[0], revision=parsed[1], image=app_image(images, repository)
        )

    def deploy_task_definition(self, service_arn: str, task_definition: str) -> str:
        self.deployed.append(task_definition)
        self.running = int(task_definition.rsplit(":", 1)[1])
        self.deployment_id = f"ecs-svc/{len(self.deployed)}"
        return self.deployment_id


class World:
    """consultation-app:1 (v1.0.0), :2 (v1.1.0, pinned by digest), :3 (v1.2.0) with a sidecar; the service runs :3."""

    def __init__(self, **env: str) -> None:
        self.ecs = FakeEcs(
            revisions={
                1: [f"{URI}:v1.0.0"],
                2: [SIDECAR, f"{URI}@{V2_DIGEST}"],
                3: [SIDECAR, f"{URI}:v1.2.0"],
            },
            running=3,
        )
        self.registry = FakeRegistry()
        self.registry.add(V2_DIGEST, "v1.1.0")
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.settings = Settings.from_env({**ENV, **env})
        # The ECS target over the fakes, as wiring builds it over ECS and ECR
        target = platform_target(
            ARN, self.ecs, revisions=self.ecs, registry=self.registry, repository=self.settings.ecr_repository
        )
        self.deps = RollbackDeps(target, self.state, self.notifier, self.registry)

    def rollback(self, version: str | None = None) -> Any:
        prepared = self.deps.prepare(self.settings, version)
        return prepared.lines(), prepared.run(now=NOW, actor="alice", reason="checkout broken")

    def watch(self, fixture: str, *, event_id: str | None = None, **changes: Any) -> Any:
        event = copy.deepcopy(load_event("on_deployment", fixture))
        event["detail"].update(changes)
        if event_id:
            event["id"] = event_id
        deps = DeploymentDeps(
            target=self.deps.target,
            state=self.state,
            notifier=self.notifier,
            rollback=AutoRollback(self.deps, self.settings, actor="on_deployment", clock=lambda: NOW),
        )
        return handle_event(event, deps, self.settings, NOW)

    def actions(self) -> list[tuple[str, str, str]]:
        return [(a.action, a.outcome, a.actor) for a in self.state.list_actions(ARN)]


def ended(result: Any) -> DeploymentEnded:
    """What the watcher reported, as facts."""
    assert result.ended is not None
    return result.ended  # type: ignore[no-any-return]


def revision(number: int, image: str | None = None) -> TaskRevision:
    return TaskRevision(arn=f"{TD}:{number}", family="consultation-app", revision=number, image=image)


# --- the domain: revisions and names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (f"{TD}:12", ("consultation-app", 12)),
        ("consultation-app:12", ("consultation-app", 12)),
        ("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web_1:3", ("web_1", 3)),
        ("consultation-app", None),
        ("v1.2.0", None),
    ],
)
def test_a_task_definition_is_read_from_its_arn_or_family_and_revision(
    text: str, parsed: tuple[str, int] | None
) -> None:
    assert parse_task_definition(text) == parsed


def test_the_previous_revision_is_the_newest_older_one_of_the_same_family() -> None:
    # Given revisions listed in any order, a longer family matched by the prefix, and one newer than the current
    listed = [f"{TD}:2", f"{TD}-worker:9", f"{TD}:5", f"{TD}:1", f"{TD}:4"]
    # When the previous of revision 4 is chosen / Then it is 2: not the worker's, not 5 (newer)
    assert previous_revision(revision(4), listed) == f"{TD}:2"
    assert previous_revision(revision(1), listed) is None


@pytest.mark.parametrize(
    ("name", "task_definition", "version"),
    [
        ("12", "consultation-app:12", None),
        ("other-app:3", "other-app:3", None),
        (f"{TD}:7", f"{TD}:7", None),
        ("v1.2.0", None, "v1.2.0"),
        ("latest", None, "latest"),
    ],
)
def test_a_rollback_name_is_a_revision_or_a_version(
    name: str, task_definition: str | None, version: str | None
) -> None:
    query = parse_revision_query(name, "consultation-app")
    assert (query.task_definition, query.version) == (task_definition, version)


def test_a_revision_runs_a_version_by_its_tag_or_by_the_digest_the_tag_points_at() -> None:
    assert runs_version(revision(3, f"{URI}:v1.2.0"), "v1.2.0", None)
    assert runs_version(revision(3, f"{URI}:v1.2.0"), "1.2.0", None)
    assert runs_version(revision(2, f"{URI}@{V2_DIGEST}"), "v1.1.0", V2_DIGEST)
    assert not runs_version(revision(2, f"{URI}@{V2_DIGEST}"), "v1.1.0", None)
    assert not runs_version(revision(3, f"{URI}:v1.2.0"), "v1.2.1", None)


def test_the_apps_image_is_the_one_from_its_repository_not_a_sidecars() -> None:
    images = [SIDECAR, f"{URI}:v1.2.0"]
    assert app_image(images, "consultation-app") == f"{URI}:v1.2.0"
    assert app_image(images, None) == SIDECAR
    assert image_version(f"{URI}@{V2_DIGEST}") == "sha256:222222222222"
    assert image_version("nginx") is None


# --- the domain: ECS deployment events and the automatic rollback -----------------------------------------


@pytest.mark.parametrize(
    ("fixture", "name", "phase"),
    [
        ("ecs-deployment-in-progress", "SERVICE_DEPLOYMENT_IN_PROGRESS", EcsPhase.IN_PROGRESS),
        ("ecs-deployment-completed", "SERVICE_DEPLOYMENT_COMPLETED", EcsPhase.COMPLETED),
        ("ecs-deployment-failed", "SERVICE_DEPLOYMENT_FAILED", EcsPhase.FAILED),
    ],
)
def test_every_ecs_fixture_parses_with_its_service_deployment_and_phase(
    fixture: str, name: str, phase: EcsPhase
) -> None:
    event = parse_ecs_deployment_event(load_event("on_deployment", fixture))
    assert (event.service_arn, event.event_name, event.deployment_id) == (ARN, name, FAILED_ID)
    assert decide_ecs_watch(event.event_name)[0] is phase
    assert event.delivery_key == f"ecs#{event.event_id}"


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda event: event.update({"detail-type": "ECS Service Action"}), "is not an 'ECS Deployment State Change'"),
        (lambda event: event.update({"source": "aws.apprunner"}), "is not an 'ECS Deployment State Change'"),
        (lambda event: event["detail"].pop("eventName"), "no eventName"),
        (lambda event: event.update({"detail": []}), "detail is not an object"),
        (lambda event: event.pop("id"), "has no id"),
        (lambda event: event.update({"time": "soon"}), "not an ISO 8601 time"),
    ],
)
def test_what_is_no_ecs_deployment_event_is_refused_saying_why(mutate: Any, why: str) -> None:
    event = copy.deepcopy(load_event("on_deployment", "ecs-deployment-failed"))
    mutate(event)
    with pytest.raises(UnparseableMessage, match=why):
        parse_ecs_deployment_event(event)


def test_an_unknown_event_name_is_ignored_with_a_reason() -> None:
    assert decide_ecs_watch("SERVICE_DEPLOYMENT_STOPPED") == (
        None,
        "ignored, because 'SERVICE_DEPLOYMENT_STOPPED' is not a deployment state Warden reports",
    )


def test_ecs_is_said_to_roll_back_only_when_the_event_says_so() -> None:
    rolling = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1234567890."
    assert ecs_rolling_back_to(rolling) == "ecs-svc/1234567890"
    assert "rolling the service back by itself" in ecs_failure_explanation(rolling)
    stopped = ecs_failure_explanation("ECS deployment circuit breaker: task failed to start.")
    assert "stopped the deployment" in stopped
    assert "rolling" not in stopped


def decide(
    trigger: RollbackTrigger = RollbackTrigger.FAILED_DEPLOYMENT,
    *,
    service_revision: int = 3,
    history: list[DeploymentRecord] | None = None,
    breaker: bool | None = None,
    created: datetime | None = DEPLOYED,
    enabled: bool = True,
) -> Any:
    deployment = EcsDeployment(id=FAILED_ID, task_definition=f"{TD}:3", status="PRIMARY", created_at=created)
    judged = judge_listed(
        trigger,
        service_task_definition=f"{TD}:{service_revision}",
        deployment=deployment,
        circuit_breaker_rollback=breaker,
        history=history or [],
    )
    return decide_auto_rollback(trigger, enabled=enabled, judged=judged, now=NOW, window=timedelta(minutes=30))


def test_a_failed_deployment_may_be_rolled_back_once_keyed_by_the_deployment() -> None:
    decision = decide()
    assert decision.allowed
    assert decision.reason == f"the deployment of consultation-app:3 ({FAILED_ID}) failed"
    assert decision.attempt_key == f"rollback#ecs#{TD}:3#{FAILED_ID}"


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"enabled": False}, "automatic rollback is off"),
        ({"service_revision": 2}, "the service already runs consultation-app:2, not the failed consultation-app:3"),
        ({"breaker": True}, "ECS rolls back to the last completed deployment by itself"),
        (
            {"history": [DeploymentRecord(digest=f"{TD}:3", tag="v1.2.0", at=DEPLOYED, source=ROLLBACK_SOURCE)]},
            "Warden never rolls back a rollback",
        ),
    ],
)
def test_a_failed_deployment_is_not_rolled_back_when(kwargs: dict[str, Any], why: str) -> None:
    decision = decide(**kwargs)
    assert not decision.allowed
    assert why in decision.reason


def test_an_alarm_blames_the_deployment_only_within_the_window() -> None:
    assert decide(RollbackTrigger.ALARM).allowed
    late = decide(RollbackTrigger.ALARM, created=NOW - timedelta(hours=3))
    assert not late.allowed
    assert "outside the 30-minute rollback window" in late.reason


# --- warden rollback on ECS ------------------------------------------------------------------------------


def test_without_a_version_the_rollback_deploys_the_previous_revision_and_says_how_to_undo() -> None:
    world = World()
    # When the operator rolls back
    lines, report = world.rollback()
    # Then revision 2 is deployed (no re-tag), recorded as a rollback, and the operator told what, why and undo
    assert lines[0] == "Now:     consultation-app runs consultation-app:3 (v1.2.0)"
    assert lines[1].startswith("Target:  consultation-app:2 (sha256:222222222222): the previous revision")
    assert world.ecs.deployed == [f"{TD}:2"]
    assert world.actions() == [("rollback", "done", "alice")]
    (newest, *_) = world.state.list_deployments(ARN, limit=5)
    assert (newest.digest, newest.source) == (f"{TD}:2", ROLLBACK_SOURCE)
    assert report.next_step is None
    (message,) = world.notifier.sent
    assert (message.event, message.severity.value) == ("rollback.done", "warning")
    assert "checkout broken" in message.body
    assert "warden rollback consultation-app:3 " in message.body
    assert "aws ecs update-service --cluster prod --service consultation-app --task-definition consultation-app:3" in (
        message.body
    )


@pytest.mark.parametrize(
    ("name", "deployed"),
    [("v1.1.0", 2), ("v1.0.0", 1), ("1", 1), ("consultation-app:2", 2), (f"{TD}:1", 1)],
)
def test_a_named_version_or_revision_picks_that_revision(name: str, deployed: int) -> None:
    world = World()
    world.rollback(name)
    assert world.ecs.deployed == [f"{TD}:{deployed}"]


def test_a_name_that_matches_nothing_is_one_line_listing_what_exists() -> None:
    world = World()
    with pytest.raises(NoRollbackTarget) as version:
        world.rollback("v0.9.0")
    assert str(version.value) == (
        "no revision of consultation-app runs 'v0.9.0': it has consultation-app:3 (v1.2.0), consultation-app:2 "
        "(sha256:222222222222), consultation-app:1 (v1.0.0) (name a revision, e.g. "
        "`warden rollback consultation-app:2`)"
    )
    with pytest.raises(NoRollbackTarget) as revision_number:
        world.rollback("9")
    assert str(revision_number.value) == (
        "ECS has no task definition 'consultation-app:9'; consultation-app has consultation-app:3, "
        "consultation-app:2, consultation-app:1"
    )
    assert world.ecs.deployed == []


def test_the_oldest_revision_has_nothing_before_it() -> None:
    world = World()
    world.ecs.running = 1
    with pytest.raises(NoRollbackTarget, match="consultation-app:1 is the oldest ACTIVE revision"):
        world.rollback()


def test_a_paused_service_gets_the_revision_now_and_runs_it_on_resume() -> None:
    world = World()
    world.ecs.desired = 0
    lines, report = world.rollback()
    assert world.ecs.deployed == [f"{TD}:2"]
    assert "the service is PAUSED (desired count 0)" in lines[3]
    assert report.next_step == (
        "consultation-app is PAUSED: ECS runs consultation-app:2 when it resumes (warden resume, or when its pause "
        "claims clear)."
    )
    assert [message.event for message in world.notifier.sent] == ["rollback.done"]


def test_a_dry_run_rollback_deploys_nothing_and_says_what_it_would_do() -> None:
    world = World(DRY_RUN="true")
    world.rollback()
    assert world.ecs.deployed == []
    assert [m.event for m in world.notifier.sent] == ["rollback.dry_run"]
    assert world.actions() == [("rollback", "would", "alice")]


def test_the_plan_changes_nothing() -> None:
    world = World()
    plan = plan_rollback(world.deps, world.settings, "v1.0.0")
    assert plan.target_label == "consultation-app:1 (v1.0.0)"
    assert world.ecs.deployed == []
    assert world.notifier.sent == []


# --- on_deployment on ECS --------------------------------------------------------------------------------


def test_a_completed_deployment_is_reported_with_its_revision_image_and_duration() -> None:
    world = World()
    # When ECS reports the deployment started, then completed
    assert world.watch("ecs-deployment-in-progress").outcome is Outcome.STARTED
    result = world.watch("ecs-deployment-completed")
    # Then the operator reads which revision runs and how long it took (from the deployment's createdAt)
    assert result.outcome is Outcome.DEPLOYED
    (message,) = world.notifier.sent
    assert message.event == "deployment.succeeded"
    report = ended(result).report
    assert (report.label, report.took) == ("consultation-app:3 (v1.2.0)", timedelta(minutes=4, seconds=39))
    assert any(line.startswith("warden rollback consultation-app:2 ") for line in report.manual_rollback)
    # And the history learns the deployment Warden did not make
    (newest,) = world.state.list_deployments(ARN, limit=5)
    assert (newest.digest, newest.tag, newest.source) == (f"{TD}:3", "v1.2.0", OBSERVED_SOURCE)


def test_without_a_deployment_time_the_remembered_start_gives_the_duration() -> None:
    world = World()
    world.ecs.deployment_created = None
    world.watch("ecs-deployment-in-progress")
    result = world.watch("ecs-deployment-completed")
    assert ended(result).report.took == timedelta(minutes=4, seconds=37)  # from 09:12:03, the start event's time


def test_a_failed_deployment_rolls_back_once_and_a_redelivery_changes_nothing() -> None:
    world = World(AUTO_ROLLBACK="true")
    event_id = "b7e4a9c2-1d3f-4e5a-8b6c-7d8e9f0a1b22"
    # When ECS reports the failure
    result = world.watch("ecs-deployment-failed", event_id=event_id)
    # Then Warden deployed revision 2, once, and said what ECS did (it did not say it rolls back)
    assert result.outcome is Outcome.ROLLED_BACK
    assert world.ecs.deployed == [f"{TD}:2"]
    (message,) = world.notifier.sent
    assert message.event == "deployment.rolled_back"
    facts = ended(result)
    assert facts.failure == "ECS deployment circuit breaker: task failed to start."
    assert facts.report.explanation == ecs_failure_explanation(facts.failure)  # ECS did not say it rolls back
    assert facts.rollback is not None
    assert (facts.rollback.after, facts.rollback.to) == (AfterFailure.ROLLED_BACK, "consultation-app:2")
    # When EventBridge delivers the same event again, Then nothing more happens
    again = world.watch("ecs-deployment-failed", event_id=event_id)
    assert again.outcome is Outcome.DUPLICATE
    assert world.ecs.deployed == [f"{TD}:2"]
    assert len(world.notifier.sent) == 1


def test_a_second_failure_event_of_the_same_deployment_is_not_rolled_back_twice() -> None:
    world = World(AUTO_ROLLBACK="true")
    world.watch("ecs-deployment-failed")
    # Given the service back on revision 3 by hand, still deployment FAILED_ID
    world.ecs.running, world.ecs.deployment_id = 3, FAILED_ID
    world.state.record_deployment(ARN, f"{TD}:3", "v1.2.0", NOW, RELEASE_SOURCE)
    second = world.watch("ecs-deployment-failed", event_id="another-delivery-of-a-new-failure")
    assert second.outcome is Outcome.ROLLBACK_DECLINED
    verdict = ended(second).rollback
    assert verdict is not None
    assert "already tried to roll back this deployment" in verdict.why
    assert world.ecs.deployed == [f"{TD}:2"]


def test_when_ecs_rolls_back_by_itself_warden_says_so_and_does_not_roll_back_on_top() -> None:
    world = World(AUTO_ROLLBACK="true")
    # Given ECS's circuit breaker already moved the service back to revision 2
    world.ecs.running = 2
    rolling = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111."
    # When the failure arrives (the failed deployment still listed, with its revision 3)
    world.ecs.deployment_revision = 3
    result = world.watch("ecs-deployment-failed", reason=rolling)
    # Then nothing is deployed, and the message says ECS rolls back
    assert result.outcome is Outcome.ROLLBACK_DECLINED
    assert world.ecs.deployed == []
    facts = ended(result)
    assert facts.report.explanation == ecs_failure_explanation(rolling)  # ECS's own rollback, to ecs-svc/1111
    assert "ecs-svc/1111" in facts.report.explanation
    assert facts.rollback is not None
    assert facts.rollback.after is AfterFailure.DECLINED
    assert world.actions() == [("rollback", "skipped", "on_deployment")]


def test_a_failed_rollback_deployment_is_never_rolled_back() -> None:
    world = World(AUTO_ROLLBACK="true")
    world.state.record_deployment(ARN, f"{TD}:3", "v1.2.0", NOW - timedelta(minutes=5), ROLLBACK_SOURCE)
    result = world.watch("ecs-deployment-failed")
    assert result.outcome is Outcome.ROLLBACK_DECLINED
    assert world.ecs.deployed == []
    assert world.notifier.sent[0].severity.value == "critical"
    assert ended(result).by_rollback


def test_without_auto_rollback_the_failure_says_the_command_to_run() -> None:
    world = World()
    result = world.watch("ecs-deployment-failed")
    assert result.outcome is Outcome.FAILED
    assert world.ecs.deployed == []
    by_hand = ended(result).report.manual_rollback
    assert any(line.startswith("warden rollback consultation-app:2 ") for line in by_hand)
    assert all(line in world.notifier.sent[0].body for line in by_hand)


def test_events_about_another_service_or_of_another_kind_are_ignored_saying_why() -> None:
    world = World()
    other = copy.deepcopy(load_event("on_deployment", "ecs-deployment-failed"))
    other["resources"] = ["arn:aws:ecs:us-east-1:123456789012:service/prod/other-app"]
    assert "ignored, because the event is about" in handle_event(other, _deps(world), world.settings, NOW).reason
    apprunner = load_event("on_deployment", "deployment-failed")
    ignored = handle_event(apprunner, _deps(world), world.settings, NOW)
    assert ignored.outcome is Outcome.IGNORED
    assert ignored.reason.startswith("ignored, because the event (source 'aws.apprunner'")
    stopped = world.watch("ecs-deployment-failed", eventName="SERVICE_DEPLOYMENT_STOPPED")
    assert stopped.outcome is Outcome.IGNORED
    assert world.notifier.sent == []


def _deps(world: World) -> DeploymentDeps:
    return DeploymentDeps(target=world.deps.target, state=world.state, notifier=world.notifier)


def test_an_alarm_soon_after_a_deployment_rolls_back_and_a_late_one_does_not() -> None:
    world = World(AUTO_ROLLBACK="true")
    auto = AutoRollback(world.deps, world.settings, actor="on_alarm", clock=lambda: NOW)
    summary = auto.roll_back(ARN, reason="alarm 'warden-5xx-rate' fired")
    assert summary
    assert world.ecs.deployed == [f"{TD}:2"]
    late = AutoRollback(world.deps, world.settings, actor="on_alarm", clock=lambda: NOW + timedelta(hours=2))
    world.ecs.running, world.ecs.deployment_id = 3, "ecs-svc/later"
    with pytest.raises(RollbackDeclined, match="outside the 30-minute rollback window"):
        late.roll_back(ARN, reason="alarm 'warden-5xx-rate' fired")
    assert world.ecs.deployed == [f"{TD}:2"]


def test_ecs_own_rollback_deployment_is_reported_as_the_rollback_it_is() -> None:
    world = World()
    rolling = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111."
    # Given ECS started its circuit-breaker rollback (the IN_PROGRESS event says so)
    world.watch("ecs-deployment-in-progress", reason=rolling)
    # When that deployment completes
    result = world.watch("ecs-deployment-completed")
    # Then the report calls it a rollback deployment
    assert result.outcome is Outcome.DEPLOYED
    assert ended(result).by_rollback


def test_the_start_of_another_deployment_is_not_taken_for_this_ones() -> None:
    world = World()
    world.ecs.deployment_created = None
    world.watch("ecs-deployment-in-progress", deploymentId="ecs-svc/another")
    result = world.watch("ecs-deployment-completed")
    # Then no duration is claimed, and the other deployment's start is still remembered
    assert ended(result).report.took is None
    assert world.state.get_memo(ARN, STARTED_MEMO) is not None
