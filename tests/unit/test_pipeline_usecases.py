"""Release, rollback, the automatic rollback and the deployment watcher with in-memory fakes, no sockets.

What the use cases did is asserted on the facts they return; the words of their notifications are approved once,
in tests/golden/texts/pipeline.*.txt (tests/golden/test_pipeline_messages.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from local.deployment_events import operation_event
from tests.fakes import (
    FakeDocker,
    FakeImages,
    FakeNotifier,
    FakeOperations,
    FakeRegistry,
    FakeService,
    FakeState,
    platform_target,
)
from warden.domain.deployments import OperationInfo
from warden.domain.images import OCI_INDEX, RepositoryNotFound
from warden.domain.notification import Severity
from warden.domain.pipeline import (
    AUTO_ROLLBACK_OFF,
    RELEASE_SOURCE,
    ROLLBACK_SOURCE,
    AfterFailure,
    AutoRollbackVerdict,
    DeployAction,
    DockerUnavailable,
    ImmutableTag,
    MissingBuildArg,
    NoRollbackTarget,
    RollbackTrigger,
    VersionAlreadyReleased,
)
from warden.domain.service import ServiceStatus
from warden.errors import RollbackDeclined, RollbackFailed, SettingsError
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps
from warden.usecases.alarm import Outcome as AlarmOutcome
from warden.usecases.alarm import handle_event as handle_alarm
from warden.usecases.converge import PENDING_DEPLOY, settle_pending_deploy
from warden.usecases.deployment import DeploymentDeps, Outcome, handle_event
from warden.usecases.deployment_outcome import RollbackOutcome
from warden.usecases.release import ReleaseDeps, ReleaseRequest, prepare_release, release
from warden.usecases.rollback import AutoRollback, RollbackDeps, plan_rollback, roll_back

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
V1, V2, V3 = ("sha256:" + digit * 64 for digit in "123")
CANARY = "pk_test_CANARY123"
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": "consultation-app",
}


class World:
    """The consultation app: v1.1.0 released yesterday, v1.2.0 twelve minutes ago, `latest` = v1.2.0."""

    def __init__(self, *, status: ServiceStatus = ServiceStatus.RUNNING, auto_deploy: bool = False, **env: str) -> None:
        self.service = FakeService(arn=ARN, status=status, auto_deploy=auto_deploy)
        self.registry = FakeRegistry()
        self.registry.add(V1, "v1.1.0")
        self.registry.add(V2, "v1.2.0", "latest", media_type=OCI_INDEX)
        self.state = FakeState()
        self.state.record_deployment(ARN, V1, "v1.1.0", NOW - timedelta(days=1), RELEASE_SOURCE)
        self.state.record_deployment(ARN, V2, "v1.2.0", NOW - timedelta(minutes=12), RELEASE_SOURCE)
        self.notifier = FakeNotifier()
        self.docker = FakeDocker(registry=self.registry)
        self.settings = Settings.from_env({**ENV, **env})
        self.rollback_deps = RollbackDeps(self.target(), self.state, self.notifier, self.registry)
        self.auto = AutoRollback(self.rollback_deps, self.settings, actor="on_alarm", clock=lambda: NOW)

    def target(self, **ports: Any) -> Any:
        """The App Runner target over the fakes (as wiring builds it over App Runner and ECR)."""
        return platform_target(ARN, self.service, registry=self.registry, repository="consultation-app", **ports)

    @property
    def release_deps(self) -> ReleaseDeps:
        return ReleaseDeps(self.service, self.registry, self.docker, self.state, self.notifier)

    def release(self, version: str = "v1.3.0", *names: str, environ: dict[str, str] | None = None) -> Any:
        request = ReleaseRequest(version=version, context="app", build_arg_names=names, env_file_name=".env")
        prepared = prepare_release(
            self.release_deps, self.settings, request, environ=environ or {}, env_file={n: CANARY for n in names}
        )
        return release(self.release_deps, self.settings, prepared, now=NOW, actor="alice")

    def roll_back(self, version: str | None = None) -> Any:
        plan = plan_rollback(self.rollback_deps, self.settings, version)
        return roll_back(self.rollback_deps, self.settings, plan, now=NOW, actor="alice", reason="bad release")

    def watcher(self, operations: list[OperationInfo] | None = None) -> DeploymentDeps:
        return DeploymentDeps(
            target=self.target(
                operations=FakeOperations(operations or []), images=FakeImages(digest=self.registry.tags.get("latest"))
            ),
            state=self.state,
            notifier=self.notifier,
            rollback=AutoRollback(self.rollback_deps, self.settings, actor="on_deployment", clock=lambda: NOW),
        )

    def newest(self) -> tuple[str, str | None, str]:
        record = self.state.list_deployments(ARN, limit=1)[0]
        return record.digest, record.tag, record.source


# --- release ------------------------------------------------------------------------------------------


def test_a_release_builds_tags_logs_in_pushes_deploys_records_and_notifies() -> None:
    # Given a running service with auto-deploy off
    world = World()
    # When v1.3.0 is released with the Clerk key as a build arg
    result = world.release("v1.3.0", "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY")
    # Then docker ran the tutorial's steps, in order, with names only on its command lines
    assert world.docker.calls == [
        "info",
        f"build {URI}:v1.3.0 app NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",
        f"tag {URI}:v1.3.0 {URI}:latest",
        f"login AWS {URI.split('/')[0]}",
        f"push {URI}:v1.3.0",
        f"push {URI}:latest",
    ]
    assert world.docker.build_env == {"NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY": CANARY}
    assert world.docker.passwords == ["ecr-password"]
    assert CANARY not in " ".join(world.docker.calls)
    # And the deployment was started, the release recorded and announced, with where a rollback would go
    assert world.service.mutations == ["start_deployment"]
    assert (result.delivery.decision.action, result.delivery.operation_id) == (DeployAction.START, "op-deploy")
    assert world.newest() == (result.digest, "v1.3.0", RELEASE_SOURCE)
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("release.done", Severity.INFO)
    assert result.released.rollback_to == "v1.2.0 (sha256:222222222222)"
    assert result.released.build_args == ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",)
    assert CANARY not in sent.body
    assert [record.action for _, record in world.state.actions] == ["release"]


def test_with_auto_deploy_on_app_runner_deploys_the_push_itself() -> None:
    world = World(auto_deploy=True)
    result = world.release()
    assert world.service.mutations == []
    assert result.delivery.decision.action is DeployAction.AUTOMATIC


def test_a_release_while_paused_is_deployed_after_the_resume_by_the_reconcile() -> None:
    # Given a paused service
    world = World(status=ServiceStatus.PAUSED)
    # When v1.3.0 is released
    result = world.release()
    # Then nothing is deployed now, and the pending deployment is remembered
    assert world.service.mutations == []
    assert (result.delivery.decision.action, result.delivery.remembered) == (DeployAction.AFTER_RESUME, PENDING_DEPLOY)
    assert world.state.get_memo(ARN, PENDING_DEPLOY)["to"] == result.digest  # type: ignore[index]
    assert world.notifier.sent[0].severity is Severity.WARNING  # the release waits for someone to resume
    # When the service runs again, Then the reconcile's settle_pending_deploy starts it once
    world.service.status = ServiceStatus.RUNNING
    settled = settle_pending_deploy(world.service, world.state, ARN, now=NOW, actor="run_schedule", dry_run=False)
    assert settled is not None
    assert settled.line.startswith("Started deployment op-deploy")
    assert world.service.mutations == ["start_deployment"]
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is None


def test_a_version_already_in_ecr_is_refused_before_anything_is_built() -> None:
    world = World()
    with pytest.raises(VersionAlreadyReleased, match=r"v1\.2\.0 is already released .*`warden rollback v1\.2\.0`"):
        world.release("v1.2.0")
    assert world.docker.calls == []


def test_a_missing_repository_is_refused_with_the_command_that_creates_it() -> None:
    world = World()
    world.registry.exists = False
    with pytest.raises(RepositoryNotFound) as refused:
        world.release()
    assert "aws ecr create-repository --repository-name consultation-app --region us-east-1" in str(refused.value)
    assert world.docker.calls == []


def test_a_repository_with_immutable_tags_is_refused_because_latest_must_move() -> None:
    world = World()
    world.registry.mutability = "IMMUTABLE"
    with pytest.raises(ImmutableTag, match="put-image-tag-mutability"):
        world.release()


def test_a_named_build_arg_without_a_value_is_refused_before_docker_runs() -> None:
    world = World()
    request = ReleaseRequest(version="v1.3.0", build_arg_names=("API_URL",), env_file_name=".env")
    with pytest.raises(MissingBuildArg, match="API_URL"):
        prepare_release(world.release_deps, world.settings, request, environ={}, env_file={})


def test_no_docker_engine_stops_the_release_before_the_build() -> None:
    world = World()
    world.docker.engine = False
    with pytest.raises(DockerUnavailable):
        world.release()
    assert world.docker.calls == ["info"]
    assert world.state.deployments[-1][1].tag == "v1.2.0"


# --- rollback -----------------------------------------------------------------------------------------


def test_a_rollback_goes_to_the_previous_deployed_version_with_the_exact_manifest() -> None:
    # Given latest = v1.2.0 (an OCI index), v1.1.0 deployed before
    world = World()
    # When the operator rolls back
    result = world.roll_back()
    # Then latest points at v1.1.0 again, the deployment started, the rollback recorded and announced
    assert result.outcome is RollbackOutcome.ROLLED_BACK
    assert world.registry.tags["latest"] == V1
    assert world.registry.calls == [f"get:{V1}", "put:latest"]
    assert world.service.mutations == ["start_deployment"]
    assert world.newest() == (V1, "v1.1.0", ROLLBACK_SOURCE)
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("rollback.done", Severity.WARNING)
    assert [record.action for _, record in world.state.actions] == ["rollback"]
    # And the way forward again is another rollback to v1.2.0, or the same re-tag by hand, media type and all
    undo = result.move.undo_lines()
    assert undo[0].startswith("warden rollback v1.2.0 ")
    assert any("--image-manifest-media-type" in line for line in undo)
    assert all(line in sent.body for line in undo)


def test_a_rollback_to_a_named_version_and_an_already_moved_tag_is_done_without_a_put() -> None:
    world = World()
    world.registry.tags["latest"] = V1
    result = world.roll_back("v1.1.0")
    assert result.redeployed is not None
    assert result.redeployed.detail["moved"] == ""  # put-image found the tag already there
    assert world.service.mutations == ["start_deployment"]  # and the deployment still starts


def test_a_rollback_without_an_earlier_version_asks_for_one() -> None:
    world = World()
    world.state.deployments.clear()
    with pytest.raises(NoRollbackTarget, match=r"name one, e\.g\. `warden rollback v1\.1\.0`"):
        world.roll_back()
    with pytest.raises(NoRollbackTarget, match=r"no image tagged 'v0\.9\.0'"):
        world.roll_back("v0.9.0")


def test_a_rollback_while_paused_moves_the_tag_and_deploys_after_the_resume() -> None:
    world = World(status=ServiceStatus.PAUSED)
    result = world.roll_back()
    assert world.registry.tags["latest"] == V1
    assert world.service.mutations == []
    assert result.redeployed is not None
    assert result.redeployed.waits == "the rollback deploys"
    assert world.state.get_memo(ARN, PENDING_DEPLOY) == {
        "image": f"{URI}:latest",
        "from": V2,
        "to": V1,
        "since": NOW.isoformat(),
    }


def test_a_dry_run_rollback_changes_nothing_and_says_what_it_would_do() -> None:
    world = World(DRY_RUN="true")
    result = world.roll_back()
    assert result.outcome is RollbackOutcome.WOULD_ROLL_BACK
    assert world.registry.calls == []
    assert world.service.mutations == []
    assert world.notifier.sent[0].event == "rollback.dry_run"
    assert [(record.outcome, record.dry_run) for _, record in world.state.actions] == [("would", True)]


def test_the_plan_names_both_media_types_steps_and_changes_nothing() -> None:
    world = World()
    plan = plan_rollback(world.rollback_deps, world.settings)
    text = "\n".join(plan.lines())
    assert "application/vnd.oci.image.index.v1+json" in text
    assert "v1.2.0 (sha256:222222222222)" in text
    assert "v1.1.0 (sha256:111111111111)" in text
    assert world.registry.calls == []


# --- the automatic rollback ---------------------------------------------------------------------------


def test_an_alarm_soon_after_a_release_rolls_back_once_and_never_rolls_back_the_rollback() -> None:
    # Given auto-rollback on and v1.2.0 released 12 minutes ago
    world = World(AUTO_ROLLBACK="true")
    # When the alarm's rollback action asks
    said = world.auto.roll_back(ARN, reason="alarm 'warden-5xx-rate'")
    # Then v1.1.0 is back, once, and the alarm has a summary to quote
    assert said
    assert world.registry.tags["latest"] == V1
    assert world.newest() == (V1, "v1.1.0", ROLLBACK_SOURCE)
    # When another alarm asks a minute later, Then it is declined: the last deployment is the rollback
    with pytest.raises(RollbackDeclined, match="never rolls back a rollback"):
        world.auto.roll_back(ARN, reason="alarm 'warden-p99-latency'")
    assert world.registry.calls.count("put:latest") == 1


def test_with_auto_rollback_off_the_alarm_action_is_declined_saying_how_to_turn_it_on() -> None:
    world = World()
    with pytest.raises(RollbackDeclined, match="AutoRollback"):
        world.auto.roll_back(ARN, reason="alarm")
    assert world.registry.calls == []
    assert world.state.actions == []  # the caller (on_alarm, on_deployment) records it, with its context


def test_an_alarm_long_after_the_release_is_not_blamed_on_it() -> None:
    world = World(AUTO_ROLLBACK="true", ROLLBACK_WINDOW_MINUTES="10")
    with pytest.raises(RollbackDeclined, match="outside the 10-minute rollback window"):
        world.auto.roll_back(ARN, reason="alarm")


def test_a_failing_rollback_is_attempted_once_per_deployment() -> None:
    # Given v1.1.0's image was deleted from ECR (the rollback target is gone)
    world = World(AUTO_ROLLBACK="true")
    del world.registry.manifests[V1]
    # When the deployment failure triggers the rollback, Then it fails, saying why
    with pytest.raises(RollbackFailed, match="no longer in consultation-app"):
        world.auto.attempt(RollbackTrigger.FAILED_DEPLOYMENT, reason="deployment failed")
    # When an alarm (or a retry) asks again for the same deployment, Then it is not attempted again
    with pytest.raises(RollbackDeclined, match="already tried to roll back this deployment") as second:
        world.auto.attempt(RollbackTrigger.ALARM, reason="alarm")
    assert not isinstance(second.value, RollbackFailed)
    assert world.registry.calls == [f"get:{V1}"]


# --- the deployment watcher ---------------------------------------------------------------------------


def succeeded_operation(minutes: float) -> OperationInfo:
    started = NOW - timedelta(minutes=minutes)
    return OperationInfo(id="op-1", type="START_DEPLOYMENT", status="SUCCEEDED", started_at=started, ended_at=NOW)


def test_a_successful_deployment_is_reported_with_its_version_and_duration() -> None:
    world = World()
    event = operation_event("deployment-succeeded", service_arn=ARN, at=NOW)
    result = handle_event(event, world.watcher([succeeded_operation(4)]), world.settings, NOW)
    assert result.outcome is Outcome.DEPLOYED
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("deployment.succeeded", Severity.INFO)
    assert result.ended is not None
    assert (result.ended.report.deployed, result.ended.report.took) == (V2, timedelta(minutes=4))
    assert (result.ended.recorded, result.ended.by_rollback) == (False, False)
    assert any(line.startswith("warden rollback v1.1.0 ") for line in result.ended.report.manual_rollback)


def test_a_deployment_warden_did_not_make_is_added_to_the_history() -> None:
    world = World()
    world.registry.add(V3, "latest")
    event = operation_event("deployment-succeeded", service_arn=ARN, at=NOW)
    result = handle_event(event, world.watcher(), world.settings, NOW)
    assert world.newest() == (V3, None, "observed by on_deployment")
    assert result.ended is not None
    assert result.ended.recorded


def test_the_deployment_of_wardens_own_rollback_is_reported_as_a_rollback() -> None:
    # Given Warden rolled back to v1.1.0
    world = World()
    world.roll_back()
    # When App Runner reports that deployment's success
    event = operation_event("deployment-succeeded", service_arn=ARN, at=NOW)
    result = handle_event(event, world.watcher(), world.settings, NOW)
    # Then the report is of the rollback's deployment, and the history is not told it again
    assert result.ended is not None
    assert (result.ended.report.deployed, result.ended.by_rollback, result.ended.recorded) == (V1, True, False)


def test_the_duration_falls_back_to_the_remembered_start_event() -> None:
    world = World()
    deps = world.watcher()
    started = operation_event("deployment-started", service_arn=ARN, at=NOW - timedelta(minutes=3))
    assert handle_event(started, deps, world.settings, NOW).outcome is Outcome.STARTED
    assert world.notifier.sent == []
    result = handle_event(operation_event("deployment-succeeded", service_arn=ARN, at=NOW), deps, world.settings, NOW)
    assert result.ended is not None
    assert result.ended.report.took == timedelta(minutes=3)


def test_a_failed_deployment_without_auto_rollback_gives_the_exact_rollback_command() -> None:
    world = World()
    event = operation_event("deployment-failed", service_arn=ARN, at=NOW)
    rolled = OperationInfo(id="op-1", type="START_DEPLOYMENT", status="ROLLBACK_SUCCEEDED", started_at=NOW)
    result = handle_event(event, world.watcher([rolled]), world.settings, NOW)
    assert result.outcome is Outcome.FAILED
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("deployment.failed", Severity.WARNING)
    ended = result.ended
    assert ended is not None
    assert ended.failure == "Deployment failed. Health check failed on path /health."
    assert ended.rollback == AutoRollbackVerdict(after=AfterFailure.NOT_TRIED, why=AUTO_ROLLBACK_OFF)
    assert any(line.startswith("warden rollback v1.1.0 ") for line in ended.report.manual_rollback)
    assert all(line in sent.body for line in ended.report.manual_rollback)
    assert world.registry.calls == []


def test_one_failed_deployment_with_auto_rollback_rolls_back_once_however_often_it_is_delivered() -> None:
    world = World(AUTO_ROLLBACK="true")
    deps = world.watcher()
    event = operation_event("deployment-failed", service_arn=ARN, at=NOW)
    first = handle_event(event, deps, world.settings, NOW)
    again = handle_event(event, deps, world.settings, NOW)
    assert (first.outcome, again.outcome) == (Outcome.ROLLED_BACK, Outcome.DUPLICATE)
    assert world.registry.calls.count("put:latest") == 1
    (sent,) = world.notifier.sent
    assert sent.event == "deployment.rolled_back"
    assert first.ended is not None
    assert first.ended.rollback is not None
    assert (first.ended.rollback.after, first.ended.rollback.to) == (AfterFailure.ROLLED_BACK, "v1.1.0")
    assert first.ended.rollback.undo[0].startswith("warden rollback v1.2.0 ")


def test_a_failing_automatic_rollback_is_critical_and_not_tried_again() -> None:
    world = World(AUTO_ROLLBACK="true")
    del world.registry.manifests[V1]
    deps = world.watcher()
    first = handle_event(operation_event("deployment-failed", service_arn=ARN, at=NOW), deps, world.settings, NOW)
    second = handle_event(operation_event("deployment-failed", service_arn=ARN, at=NOW), deps, world.settings, NOW)
    assert (first.outcome, second.outcome) == (Outcome.ROLLBACK_FAILED, Outcome.ROLLBACK_DECLINED)
    assert [sent.severity for sent in world.notifier.sent] == [Severity.CRITICAL, Severity.WARNING]
    assert first.ended is not None
    assert first.ended.rollback is not None
    assert first.ended.rollback.after is AfterFailure.FAILED
    assert "no longer in consultation-app" in first.ended.rollback.why
    assert second.ended is not None
    assert second.ended.rollback is not None
    assert "already tried to roll back this deployment" in second.ended.rollback.why
    assert world.registry.calls == [f"get:{V1}"]
    assert [(record.actor, record.outcome) for _, record in world.state.actions] == [
        ("on_deployment", "failed"),
        ("on_deployment", "skipped"),
    ]


def test_a_pause_event_a_configuration_update_and_another_service_do_not_roll_back() -> None:
    world = World(AUTO_ROLLBACK="true")
    deps = world.watcher()
    paused = handle_event(operation_event("pause-completed", service_arn=ARN), deps, world.settings, NOW)
    assert paused.outcome is Outcome.IGNORED
    assert "Warden reports itself" in paused.reason
    other = "arn:aws:apprunner:us-east-1:123456789012:service/other-app/" + "a" * 32
    elsewhere = handle_event(operation_event("deployment-failed", service_arn=other), deps, world.settings, NOW)
    assert elsewhere.outcome is Outcome.IGNORED
    update = handle_event(operation_event("update-failed", service_arn=ARN), deps, world.settings, NOW)
    assert update.outcome is Outcome.FAILED
    assert world.notifier.sent[-1].event == "deployment.update_failed"
    assert world.registry.calls == []


# --- on_alarm's rollback action through the port ------------------------------------------------------


class RaisingRollback:
    """A RollbackPort that declines (or fails), as AutoRollback does."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.requests = 0

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        self.requests += 1
        raise self.error


@pytest.mark.parametrize(
    ("error", "outcome", "said"),
    [
        (RollbackDeclined("the last deployment was 3 h ago"), AlarmOutcome.ROLLBACK_DECLINED, "Did not roll back"),
        (RollbackFailed("the image is gone"), AlarmOutcome.ROLLBACK_FAILED, "The rollback FAILED: the image is gone"),
    ],
)
def test_a_rollback_alarm_tells_why_the_port_did_not_roll_back(
    error: Exception, outcome: AlarmOutcome, said: str
) -> None:
    # Given the 5xx-rate alarm mapped to rollback, and a port that declines or fails
    settings = Settings.from_env({**ENV, "ALARM_ACTIONS": "warden-5xx-rate=rollback"})
    notifier, port = FakeNotifier(), RaisingRollback(error)
    deps = AlarmDeps(FakeService(arn=ARN), notifier, FakeState(), port)
    # When it fires
    (result,) = handle_alarm(alarm_event("sns-5xx-rate-alarm", changed_at=NOW), deps, settings, NOW)
    # Then the alarm's critical message says what the rollback did not do, and why
    assert result.outcome is outcome
    assert port.requests == 1
    (sent,) = notifier.sent
    assert said in sent.body
    assert sent.severity is Severity.CRITICAL


# --- settings -----------------------------------------------------------------------------------------


def test_the_pipeline_settings_parse_and_default_to_no_automatic_rollback() -> None:
    defaults = Settings.from_env(ENV)
    assert (defaults.release_build_args, defaults.auto_rollback, defaults.rollback_window_minutes) == ((), False, 30)
    configured = Settings.from_env(
        {
            **ENV,
            "RELEASE_BUILD_ARGS": "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",
            "AUTO_ROLLBACK": "true",
            "ROLLBACK_WINDOW_MINUTES": "15",
        }
    )
    assert configured.release_build_args == ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",)
    assert (configured.auto_rollback, configured.rollback_window_minutes) == (True, 15)


def test_bad_pipeline_settings_fail_naming_each_variable() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {
                **ENV,
                "RELEASE_BUILD_ARGS": f"KEY={CANARY}",
                "AUTO_ROLLBACK": "maybe",
                "ROLLBACK_WINDOW_MINUTES": "0",
            }
        )
    message = str(refused.value)
    for variable in ("RELEASE_BUILD_ARGS", "AUTO_ROLLBACK", "ROLLBACK_WINDOW_MINUTES"):
        assert variable in message
    assert CANARY not in message
