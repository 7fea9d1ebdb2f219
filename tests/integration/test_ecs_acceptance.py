"""The budget and operator behaviours hold when SERVICE_ARN names an ECS service (moto's ECS + Auto Scaling)."""

from __future__ import annotations

import dataclasses

import pytest

from local.account import LocalAccount
from local.ecs import CLUSTER, deploying, seed_ecs_service
from local.events import budget_message, sns_event
from local.invoke import invoke

pytestmark = pytest.mark.integration


@pytest.fixture
def ecs_account(account: LocalAccount) -> LocalAccount:
    arn = seed_ecs_service(account, desired=3, scaling=(2, 5))
    return dataclasses.replace(account, service_arn=arn)


def ecs_state(account: LocalAccount) -> tuple[int, int, int]:
    service = account.client("ecs").describe_services(cluster=CLUSTER, services=["consultation-app"])["services"][0]
    # This service's own target: the session's moto may hold other tests' ECS services too.
    (target,) = account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/consultation-app"]
    )["ScalableTargets"]
    return int(service["desiredCount"]), int(target["MinCapacity"]), int(target["MaxCapacity"])


def test_a_confirmed_budget_breach_scales_the_ecs_service_to_zero_and_says_how_to_undo(
    ecs_account: LocalAccount,
) -> None:
    # Given an ECS service of 3 tasks (auto scaling 2..5) and a confirmed breach
    account = ecs_account
    account.set_budget(limit="10.00", actual="10.42")
    event = sns_event(budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"))
    # When the alert arrives at the real handler
    result = invoke("on_budget_alert", event, account.env())
    # Then the service is scaled to zero with its target pinned, the claim recorded, the operator told
    assert result["results"][0]["outcome"] == "paused"
    assert ecs_state(account) == (0, 0, 0)
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.paused", "severity": "critical"}
    assert "warden resume --override budget" in received.body


def test_a_stuck_rollout_does_not_hold_off_a_budget_pause(ecs_account: LocalAccount) -> None:
    # Given an ECS service of 3 tasks whose deployment is stuck IN_PROGRESS, and a confirmed breach
    account = ecs_account
    account.set_budget(limit="10.00", actual="10.42")
    event = sns_event(budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"))
    with deploying():
        # When the alert arrives at the real handler, mid-rollout
        result = invoke("on_budget_alert", event, account.env())
        # Then the service is scaled to zero now, not deferred as busy, and the operator is told so in ECS's terms
        assert result["results"][0]["outcome"] == "paused"
        assert ecs_state(account) == (0, 0, 0)
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.paused", "severity": "critical"}
    assert "App Runner" not in received.body


def test_the_cli_resumes_an_ecs_service_to_exactly_what_it_was(ecs_account: LocalAccount) -> None:
    # Given an ECS service paused by hand through the CLI
    account = ecs_account
    warden = account.warden
    paused = warden("pause", "--reason", "migration")
    assert paused.returncode == 0, paused.stderr
    assert ecs_state(account) == (0, 0, 0)
    status = warden("status")
    assert "consultation-app  PAUSED" in status.stdout
    assert "Resume    restores 3 tasks, auto scaling 2..5 (remembered when Warden paused it)" in status.stdout
    # When the operator resumes it
    resumed = warden("resume")
    # Then the desired count and the scaling bounds are exactly those before the pause
    assert resumed.returncode == 0, resumed.stderr
    assert ecs_state(account) == (3, 2, 5)


def test_warden_keeps_a_budget_pause_across_the_move_from_app_runner_to_ecs(account: LocalAccount) -> None:
    # Given the App Runner service paused by a confirmed budget breach this month
    account.set_budget(limit="10.00", actual="10.42")
    event = sns_event(budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"))
    assert invoke("on_budget_alert", event, account.env())["results"][0]["outcome"] == "paused"
    account.inbox()
    old_arn = account.service_arn
    # And the app now running on ECS (3 tasks, auto scaling 2..5), the stack updated to its ARN
    ecs_arn = seed_ecs_service(account, desired=3, scaling=(2, 5))
    moved = dataclasses.replace(account, service_arn=ecs_arn)
    warden = moved.warden

    # When the operator carries Warden's state over
    result = warden("move", "--from", old_arn)
    # Then the ECS service holds the budget claim and is scaled to zero by it, as the old service was paused
    assert result.returncode == 0, result.stderr
    assert "carried over 1 pause claim" in result.stdout
    assert ecs_state(moved) == (0, 0, 0)
    assert [claim["SK"] for claim in moved.claims()] == ["CLAIM#budget"]
    (received,) = moved.inbox()
    assert received.subject.startswith("[warden] MOVED consultation-app -> consultation-app (paused")
    # And running it again changes nothing
    assert warden("move", "--from", old_arn).returncode == 0
    assert ecs_state(moved) == (0, 0, 0)
    # And the budget override resumes the ECS service to exactly what it was before the move's pause
    resumed = warden("resume", "--override", "budget", "--reason", "raised the budget")
    assert resumed.returncode == 0, resumed.stderr
    assert ecs_state(moved) == (3, 2, 5)


def test_a_move_from_something_that_is_not_a_service_is_one_clear_line(ecs_account: LocalAccount) -> None:
    # Given the guarded ECS service
    # When the operator names a Lambda function as the old service
    result = ecs_account.warden("move", "--from", "arn:aws:lambda:us-east-1:123456789012:function:app")
    # Then one line says what an ARN must look like, with exit status 2 and no traceback
    assert result.returncode == 2
    assert result.stderr.startswith("warden: --from: expected arn:aws:apprunner:")
    assert "Traceback" not in result.stderr
