"""Bad input for the two handlers whose reading depends on the kind of service, with an ECS SERVICE_ARN:
on_deployment (ECS deployment state changes) and on_alarm (AWS/ECS and load-balancer alarms).

The shared fuzz (test_fuzz.py) runs every handler with an App Runner SERVICE_ARN, so the ECS fixtures reach
only the "another service" branch there. Here every action path is armed for ECS (AUTO_ROLLBACK on and an
earlier revision to go back to; every alarm pauses), and per generated event:
- the handler returns, or raises only a RetryableError;
- garbage takes no action: no revision deployed, no pause, no pause claim;
- a mutated fixture does at most what the fixture itself does (a failed deployment: one rollback);
- absolutely: every revision deployed, pause and claim is on the configured service, and an alarm pauses only
  when it provably concerns the guarded service or its configured target group (harness.provably_guarded);
  valid alarms about other resources, accounts or regions, or suppressed, act on nothing;
- the event ends in a notification or an "ignored, because ..." result (a deployment that started is
  remembered for the report of its end).
Other functions' events (misrouted) are the shared fuzz's: they do not depend on the kind of service.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState, platform_target
from tests.robustness.harness import fixtures, provably_guarded
from tests.robustness.strategies import (
    ARMED_PATTERNS,
    GUARDED_TARGET_GROUP,
    ForeignAlarm,
    Generated,
    events_for,
    foreign_alarms,
)
from tests.unit.test_ecs_rollback import ENV, NOW, URI, FakeEcs
from warden.domain.service import ServiceStatus
from warden.errors import RetryableError
from warden.settings import Settings
from warden.usecases import alarm, deployment
from warden.usecases.alarm import AlarmDeps
from warden.usecases.deployment import DeploymentDeps
from warden.usecases.rollback import AutoRollback, RollbackDeps

pytestmark = pytest.mark.robustness

ECS_ARN = ENV["SERVICE_ARN"]
LOAD_BALANCED = {
    "LOAD_BALANCER_ARN": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{GUARDED_TARGET_GROUP[0]}",
    "TARGET_GROUP_ARN": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{GUARDED_TARGET_GROUP[1]}",
}


class TargetedEcs(FakeEcs):
    """FakeEcs, recording the service each revision was deployed to (it answers for any ARN)."""

    targets: list[str]

    def deploy_task_definition(self, service_arn: str, task_definition: str) -> str:
        self.targets = [*getattr(self, "targets", []), service_arn]
        return super().deploy_task_definition(service_arn, task_definition)


EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def ecs_fixtures(function: str) -> dict[str, Any]:
    """This function's fixtures that speak of an ECS service (the others are App Runner's)."""
    return {name: event for name, event in fixtures(function).items() if ":ecs:" in json.dumps(event) or "alb" in name}


def said_something(notifier: FakeNotifier, results: list[Any]) -> bool:
    """Notified, ignored with a reason, or (a deployment that started) remembered for its report."""
    reasons = " ".join(str(result.reason) for result in results)
    started = any(str(result.outcome) == "started" for result in results)
    return bool(notifier.sent) or "ignored, because" in reasons or started


@given(generated=events_for(ecs_fixtures("on_deployment"), []))
@FUZZ
def test_bad_ecs_deployment_events_never_crash_and_never_roll_back_unless_a_failure_says_so(
    generated: Generated,
) -> None:
    # Given an ECS service on revision 3 of its family, with automatic rollback on
    ecs = TargetedEcs(revisions={1: [f"{URI}:v1.0.0"], 2: [f"{URI}:v1.1.0"], 3: [f"{URI}:v1.2.0"]}, running=3)
    state, notifier = FakeState(), FakeNotifier()
    env = Settings.from_env({**ENV, "AUTO_ROLLBACK": "true"})
    rollback_deps = RollbackDeps(platform_target(ECS_ARN, ecs, revisions=ecs), state, notifier)
    deps = DeploymentDeps(
        target=rollback_deps.target,
        state=state,
        notifier=notifier,
        rollback=AutoRollback(rollback_deps, env, actor="on_deployment", clock=lambda: NOW),
    )
    # When the generated event arrives
    try:
        results = [deployment.handle_event(generated.event, deps, env, NOW)]
    except RetryableError:
        return
    # Then garbage deploys nothing, a mutated failure at most one rollback, and the event is told or ignored
    allowed = 0 if generated.is_garbage or "failed" not in generated.origin else 1
    assert len(ecs.deployed) <= allowed, generated.origin
    assert set(getattr(ecs, "targets", [])) <= {ECS_ARN}, generated.origin
    assert said_something(notifier, list(results)), generated.origin


@given(generated=events_for(ecs_fixtures("on_alarm"), []))
@FUZZ
def test_bad_ecs_alarm_events_never_crash_and_never_pause_unless_an_alarm_says_so(generated: Generated) -> None:
    # Given a running ECS service and every alarm set to pause
    service = FakeService(arn=ECS_ARN, status=ServiceStatus.RUNNING)
    state, notifier = FakeState(), FakeNotifier()
    env = Settings.from_env({**ENV, **LOAD_BALANCED, "ALARM_ACTIONS": "*=pause"})
    deps = AlarmDeps(service, notifier, state, FakeRollback(configured=False))
    # When the generated event arrives
    try:
        results = alarm.handle_event(generated.event, deps, env, datetime.now(UTC))
    except RetryableError:
        return
    # Then garbage pauses nothing and claims nothing; a mutated ALARM fixture pauses at most once
    allowed = 0 if generated.is_garbage or "alarm" not in generated.origin else 1
    assert len(service.mutations) <= allowed, generated.origin
    if generated.is_garbage:
        assert state.list_claims(ECS_ARN) == [], generated.origin
    # And absolutely: only the configured service, and only for an alarm provably about it
    assert {arn for _, arn in service.targets} <= {ECS_ARN}, generated.origin
    assert {arn for arn, _ in state.claims} <= {ECS_ARN}, generated.origin
    if service.targets or state.claims:
        assert provably_guarded(
            generated.event,
            ECS_ARN,
            load_balancer=GUARDED_TARGET_GROUP[0],
            target_group=GUARDED_TARGET_GROUP[1],
        ), generated.origin
    assert said_something(notifier, list(results)), generated.origin


@given(alarm_change=foreign_alarms("ecs"), actions=st.sampled_from(ARMED_PATTERNS))
@FUZZ
def test_valid_alarms_about_other_resources_never_act_on_the_ecs_service(
    alarm_change: ForeignAlarm, actions: str
) -> None:
    # Given a running ECS service behind its target group, every alarm armed to pause or roll back
    service = FakeService(arn=ECS_ARN, status=ServiceStatus.RUNNING)
    state, notifier, rollback = FakeState(), FakeNotifier(), FakeRollback(configured=True)
    env = Settings.from_env({**ENV, **LOAD_BALANCED, "ALARM_ACTIONS": actions})
    deps = AlarmDeps(service, notifier, state, rollback)
    # When a valid alarm that is not the guarded service's arrives
    alarm.handle_event(alarm_change.event, deps, env, datetime.now(UTC))
    # Then nothing is paused, claimed or rolled back, and the operator is told
    assert service.targets == [], alarm_change.origin
    assert state.claims == {}, alarm_change.origin
    assert rollback.requests == [], alarm_change.origin
    assert notifier.sent, alarm_change.origin
