"""The real on_alarm handler guarding an ECS service (moto's ECS and Auto Scaling): pause on alarm, resume on OK.

What the service, the claims and the notifications' attributes become; the notifications' words are approved in
tests/golden/texts/alarm.*.txt (alarm.paused.ecs, alarm.recovered.ecs, alarm.fired.ecs, ...)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.ecs import CLUSTER, seed_ecs_service
from local.invoke import invoke

pytestmark = pytest.mark.integration

FIRED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
PAUSE_CPU = {"ALARM_ACTIONS": "*-cpu=pause"}
# The load balancer and target group of the stack's -5xx-rate, -p99-latency and -no-instances alarms (the
# fixtures' dimensions), as template.yaml passes them to on_alarm.
LOAD_BALANCED = {
    "LOAD_BALANCER_ARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/"
    "50dc6c495c0c9188",
    "TARGET_GROUP_ARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/"
    "73e2d6bc24d8a067",
}


@pytest.fixture
def ecs_account(account: LocalAccount) -> LocalAccount:
    arn = seed_ecs_service(account, desired=3, scaling=(2, 5))
    return dataclasses.replace(account, service_arn=arn)


def ecs_state(account: LocalAccount) -> tuple[int, int, int]:
    """The service's desired count and its scalable target's minimum and maximum."""
    service = account.client("ecs").describe_services(cluster=CLUSTER, services=["consultation-app"])["services"][0]
    # This service's own target: the session's moto may hold other tests' ECS services too.
    (target,) = account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/consultation-app"]
    )["ScalableTargets"]
    return int(service["desiredCount"]), int(target["MinCapacity"]), int(target["MaxCapacity"])


def deliver(account: LocalAccount, event: dict[str, Any], **env: str) -> dict[str, Any]:
    (result,) = invoke("on_alarm", event, {**account.env(), **env})["results"]
    outcome: dict[str, Any] = result
    return outcome


def on_cluster(event: dict[str, Any], cluster: str) -> dict[str, Any]:
    """The same alarm event about the consultation-app service of another cluster."""
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    for dimension in message["Trigger"]["Dimensions"]:
        if dimension["name"] == "ClusterName":
            dimension["value"] = cluster
    sns["Message"] = json.dumps(message)
    return event


def test_a_cpu_alarm_mapped_to_pause_scales_the_ecs_service_to_zero_and_its_ok_restores_it(
    ecs_account: LocalAccount,
) -> None:
    # Given an ECS service of 3 tasks (auto scaling 2..5) and the CPU alarms mapped to pause
    account = ecs_account
    assert ecs_state(account) == (3, 2, 5)
    # When the stack's ECS CPU alarm fires over SNS
    result = deliver(account, alarm_event("sns-ecs-cpu-alarm", changed_at=FIRED), **PAUSE_CPU)
    # Then the service is scaled to zero with its target pinned, the alarm's claim is stored
    assert result["outcome"] == "paused"
    assert ecs_state(account) == (0, 0, 0)
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#alarm#warden-cpu"]
    # And the operator is told, critically, with the exact command that puts back the 3 tasks Warden remembered
    # in the table, and nothing of App Runner
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.paused", "severity": "critical"}
    assert "--desired-count 3" in received.body
    assert "App Runner" not in received.body

    # When the alarm returns to OK 20 minutes later
    ok = alarm_event("sns-ecs-cpu-ok", changed_at=FIRED + timedelta(minutes=20))
    result = deliver(account, ok, **PAUSE_CPU)
    # Then the claim is cleared and the service runs its 3 tasks with its scaling bounds again
    assert result["outcome"] == "recovered"
    assert account.claims() == []
    assert ecs_state(account) == (3, 2, 5)
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.recovered", "severity": "info"}


def test_an_alarm_on_another_ecs_service_changes_nothing(ecs_account: LocalAccount) -> None:
    # Given the guarded prod/consultation-app and an alarm on the staging cluster's consultation-app
    account = ecs_account
    event = on_cluster(alarm_event("sns-ecs-cpu-alarm", changed_at=FIRED), "staging")
    # When it fires with the CPU alarms mapped to pause
    result = deliver(account, event, **PAUSE_CPU)
    # Then nothing is paused or claimed, and the message is about the staging service, with no status of the
    # guarded one that would blame it
    assert result["outcome"] == "other_service"
    assert ecs_state(account) == (3, 2, 5)
    assert account.claims() == []
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.other_service", "severity": "critical"}
    assert "cluster staging" in received.subject
    assert "ECS status now" not in received.body


def test_a_load_balancer_alarm_on_another_target_group_never_pauses_the_ecs_service(
    ecs_account: LocalAccount,
) -> None:
    # Given every alarm mapped to pause, and the stack's target group configured
    account = ecs_account
    event = alarm_event("sns-alb-5xx-rate-alarm", changed_at=FIRED)
    sns = event["Records"][0]["Sns"]
    sns["Message"] = sns["Message"].replace("targetgroup/consultation-app/", "targetgroup/billing-api/")
    # When the 5xx alarm of another target group behind the same load balancer fires
    result = deliver(account, event, ALARM_ACTIONS="*=pause", **LOAD_BALANCED)
    # Then the service keeps its tasks, and no claim is placed
    assert result["outcome"] == "other_service"
    assert ecs_state(account) == (3, 2, 5)
    assert account.claims() == []


def test_the_load_balancer_latency_alarm_is_reported_in_milliseconds_and_only_notifies_by_default(
    ecs_account: LocalAccount,
) -> None:
    account = ecs_account
    result = deliver(account, alarm_event("sns-alb-p99-latency-alarm", changed_at=FIRED), **LOAD_BALANCED)
    assert result["outcome"] == "notified"
    assert ecs_state(account) == (3, 2, 5)
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.fired", "severity": "critical"}
    # The datapoint, 7,200 ms, in its unit (not 7,200 s); the words: tests/golden/texts/alarm.metrics.txt
    assert "7.2 s" in received.subject
