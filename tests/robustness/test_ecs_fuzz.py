"""Bad input for the two handlers whose reading depends on the kind of service, with an ECS SERVICE_ARN:
on_deployment (ECS deployment state changes) and on_alarm (AWS/ECS and load-balancer alarms).

The shared fuzz (test_fuzz.py) runs every handler with an App Runner SERVICE_ARN, so the ECS fixtures reach
only the "another service" branch there. Here every action path is armed for ECS (AUTO_ROLLBACK on and an
earlier revision to go back to; every alarm pauses), and per generated event:
- the handler returns, or raises only a RetryableError;
- garbage takes no action: no revision deployed, no pause, no pause claim;
- a mutated fixture does at most what the fixture itself does (a failed deployment: one rollback);
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

from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from tests.robustness.harness import fixtures
from tests.robustness.strategies import Generated, events_for
from tests.unit.test_ecs_rollback import ENV, NOW, URI, FakeEcs
from warden.domain.service import ServiceStatus
from warden.errors import RetryableError
from warden.settings import Settings
from warden.usecases import alarm, deployment
from warden.usecases.alarm import AlarmDeps
from warden.usecases.ecs_deployment import EcsDeploymentDeps
from warden.usecases.ecs_rollback import EcsAutoRollback, EcsRollbackDeps

pytestmark = pytest.mark.robustness

ECS_ARN = ENV["SERVICE_ARN"]
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
    ecs = FakeEcs(revisions={1: [f"{URI}:v1.0.0"], 2: [f"{URI}:v1.1.0"], 3: [f"{URI}:v1.2.0"]}, running=3)
    state, notifier = FakeState(), FakeNotifier()
    env = Settings.from_env({**ENV, "AUTO_ROLLBACK": "true"})
    rollback_deps = EcsRollbackDeps(ecs, ecs, state, notifier)
    deps = EcsDeploymentDeps(
        revisions=ecs,
        state=state,
        notifier=notifier,
        rollback=EcsAutoRollback(rollback_deps, env, actor="on_deployment", clock=lambda: NOW),
    )
    # When the generated event arrives
    try:
        results = [deployment.handle_event(generated.event, deps, env, NOW)]
    except RetryableError:
        return
    # Then garbage deploys nothing, a mutated failure at most one rollback, and the event is told or ignored
    allowed = 0 if generated.is_garbage or "failed" not in generated.origin else 1
    assert len(ecs.deployed) <= allowed, generated.origin
    assert said_something(notifier, list(results)), generated.origin


@given(generated=events_for(ecs_fixtures("on_alarm"), []))
@FUZZ
def test_bad_ecs_alarm_events_never_crash_and_never_pause_unless_an_alarm_says_so(generated: Generated) -> None:
    # Given a running ECS service and every alarm set to pause
    service = FakeService(arn=ECS_ARN, status=ServiceStatus.RUNNING)
    state, notifier = FakeState(), FakeNotifier()
    env = Settings.from_env({**ENV, "ALARM_ACTIONS": "*=pause"})
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
    assert said_something(notifier, list(results)), generated.origin
