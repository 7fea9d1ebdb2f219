"""One Target port, one implementation per platform: every platform gives the whole port and complete facts, the
use cases and the domain never ask which platform it is, and the one automatic-rollback decision holds its
guarantees whatever facts a target gives it."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import FakeNotifier, FakeRegistry, FakeState, platform_target
from tests.unit.test_ecs_rollback import ENV, URI, FakeEcs
from warden import wiring
from warden.adapters.targets import apprunner, ecs
from warden.domain.alarms import SERVICE_METRICS
from warden.domain.pipeline import RELEASE_SOURCE, JudgedDeployment, RollbackTrigger, decide_auto_rollback
from warden.settings import ServiceRef, Settings
from warden.usecases.ports import ServicePort
from warden.usecases.rollback import RollbackDeps, plan_rollback, roll_back
from warden.usecases.target import Target

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "warden" / "warden"
APPRUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
PLATFORMS = [(apprunner, APPRUNNER_ARN), (ecs, ECS_ARN)]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


def protocol_members(protocol: type) -> set[str]:
    return {
        name
        for klass in protocol.__mro__
        if klass not in (object,) and klass.__module__.startswith("warden.")
        for name in vars(klass)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(("platform", "arn"), PLATFORMS, ids=["apprunner", "ecs"])
def test_every_platform_implements_the_whole_target_port_and_its_module_what_wiring_needs(
    platform: Any, arn: str
) -> None:
    # Given a platform's module under adapters/targets/ and its target over a fake controller
    target = platform_target(arn, controller=None)
    # Then the target has every member of the Target port, and the module gives wiring `facts` and `build`
    missing = {name for name in protocol_members(Target) if not hasattr(target, name)}
    assert missing == set()
    assert callable(platform.facts)
    assert callable(platform.build)
    # And wiring picks exactly this module for the ARN
    assert wiring.platform(ServiceRef.parse(arn)) is platform


@pytest.mark.parametrize(("platform", "arn"), PLATFORMS, ids=["apprunner", "ecs"])
def test_every_platform_gives_complete_facts_in_its_own_words(platform: Any, arn: str) -> None:
    facts = platform.facts(ServiceRef.parse(arn))
    other = {"App Runner": "ECS", "ECS": "App Runner"}[facts.platform]
    # Then it advises on every metric of the service itself, in its own console's words, never the other's
    assert set(facts.runbook) >= SERVICE_METRICS
    assert not [line for lines in facts.runbook.values() for line in lines if other in line]
    # And its alarm identity names the service by its ARN's parts
    service = ServiceRef.parse(arn)
    named = {value for metrics in facts.alarm_metrics for _, value in metrics.dimensions}
    assert service.name in named
    assert facts.console_url.startswith(f"https://{service.region}.console.aws.amazon.com/")
    assert service.name in facts.described


def python_files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("usecases") + python_files("domain"), ids=lambda path: path.name)
def test_the_use_cases_and_the_domain_never_ask_which_platform_it_is(path: Path) -> None:
    # Given a use-case or domain module, When its names are read
    names = {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}
    attributes = {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
    # Then neither the platform's kind nor a platform-named module appears: the target carries the difference
    assert "ServiceKind" not in names | attributes
    assert not any(word in path.stem for word in ("ecs", "apprunner", "app_runner"))


# --- the one automatic-rollback decision ------------------------------------------------------------------


judged_deployments = st.builds(
    JudgedDeployment,
    deployed=st.one_of(st.none(), st.sampled_from(["sha256:" + "1" * 64, "arn:aws:ecs:x:1:task-definition/app:3"])),
    unknown=st.sampled_from(["", "the target cannot tell"]),
    label=st.sampled_from(["v1.2.0", "app:3"]),
    deployed_at=st.one_of(st.none(), st.integers(0, 600).map(lambda minutes: NOW - timedelta(minutes=minutes))),
    by_rollback=st.booleans(),
    refused=st.sampled_from(["", "the platform rolls back by itself"]),
    failure=st.sampled_from(["", "the deployment of app:3 (ecs-svc/1) failed"]),
    attempt_key=st.sampled_from(["", "rollback#x#y"]),
)


@given(judged=judged_deployments, trigger=st.sampled_from(list(RollbackTrigger)), enabled=st.booleans())
def test_whatever_a_target_judges_the_decision_never_rolls_back_what_it_must_not(
    judged: JudgedDeployment, trigger: RollbackTrigger, enabled: bool
) -> None:
    # When the one decision runs over the target's facts
    decision = decide_auto_rollback(trigger, enabled=enabled, judged=judged, now=NOW, window=WINDOW)
    # Then it allows only when on, the deployment is known, not refused by the platform, not a rollback, and for an
    # alarm only within the window; and an allowed rollback names what it goes back from, with a reason
    alarm_in_time = judged.deployed_at is not None and NOW - judged.deployed_at <= WINDOW
    may = (
        enabled
        and judged.deployed is not None
        and not judged.refused
        and not judged.by_rollback
        and (trigger is RollbackTrigger.FAILED_DEPLOYMENT or alarm_in_time)
    )
    assert decision.allowed == may
    if decision.allowed:
        assert decision.bad_digest == judged.deployed
        assert decision.attempt_key == (judged.attempt_key or None)
    assert decision.reason


# --- a task definition that follows `latest` is rolled back by moving the tag, undone with ECS's command -------


@dataclass
class MovingEcs(FakeEcs):
    """An ECS service whose task definitions all follow `latest`; a forced new deployment pulls what it names."""

    forced: int = 0

    def start_deployment(self, service_arn: str) -> str:
        self.forced += 1
        return f"ecs-svc/forced-{self.forced}"


def test_an_ecs_rollback_by_moving_the_tag_is_undone_with_ecs_own_deployment_command() -> None:
    # Given an ECS service on revision 2 whose task definition follows latest, v1.1.0 released after v1.0.0
    moving = MovingEcs(revisions={1: [f"{URI}:latest"], 2: [f"{URI}:latest"]}, running=2)
    registry, state, notifier = FakeRegistry(), FakeState(), FakeNotifier()
    old, new = registry.add("sha256:" + "1" * 64, "v1.0.0"), registry.add("sha256:" + "2" * 64, "v1.1.0", "latest")
    state.record_deployment(ECS_ARN, old, "v1.0.0", NOW - timedelta(days=1), RELEASE_SOURCE)
    state.record_deployment(ECS_ARN, new, "v1.1.0", NOW - timedelta(hours=1), RELEASE_SOURCE)
    settings = Settings.from_env(ENV)
    target = platform_target(ECS_ARN, moving, revisions=moving, registry=registry, repository=settings.ecr_repository)
    deps = RollbackDeps(target, state, notifier, registry)
    # When the operator rolls back
    roll_back(deps, settings, plan_rollback(deps, settings), now=NOW, actor="alice", reason="bad release")
    # Then latest moved back and ECS redeployed it, and the undo deploys with ECS's command, not App Runner's
    assert registry.tags["latest"] == old
    assert moving.forced == 1
    (message,) = notifier.sent
    assert (
        "aws ecs update-service --cluster prod --service consultation-app --force-new-deployment --region us-east-1"
        in message.body
    )
    assert "apprunner" not in message.body


def test_the_target_is_the_service_port_wiring_hands_every_pausing_use_case() -> None:
    # Given each platform's target, Then it is a ServicePort: pause, resume, describe, deploy go to its controller
    for _, arn in PLATFORMS:
        assert protocol_members(ServicePort) <= protocol_members(Target)
        assert {"pause", "resume", "describe", "start_deployment"} <= set(dir(platform_target(arn, None)))
