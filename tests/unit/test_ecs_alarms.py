"""Alarms on an ECS service and its load balancer: the metric and its unit, whose service, what to check.

The words (the metric in its unit, the ECS status, the runbook) are approved in tests/golden/texts/alarm.*.txt:
alarm.metrics for every metric and unit, alarm.fired.ecs, alarm.paused.ecs, alarm.expected.ecs for the messages."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.alarms import (
    AlarmOutcome,
    Expected,
    Fired,
    Guarded,
    MetricKind,
    PauseTaken,
    ServiceNow,
    Unit,
    Verdict,
    classify,
    concerns,
    is_below_alarm,
    metric_statistic,
    metric_unit,
)
from warden.domain.claims import Claim, ClaimReason
from warden.domain.service import ServiceStatus
from warden.messages import alarm as words
from warden.messages.alarm import runbook
from warden.models.alarm import AlarmStateChange, parse_alarm_message
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, AlarmResult, Outcome, guarded_of, handle_event
from warden.wiring import target_facts

ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
APP_RUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
LOAD_BALANCER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/50dc6c495c0c9188"
)
TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/73e2d6bc24d8a067"
BASE_ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
LOAD_BALANCED = {"LOAD_BALANCER_ARN": LOAD_BALANCER_ARN, "TARGET_GROUP_ARN": TARGET_GROUP_ARN}


def guarded(env: dict[str, str]) -> Guarded:
    chosen = Settings.from_env(env)
    return guarded_of(chosen, target_facts(chosen.service))


ECS = guarded({**BASE_ENV, "SERVICE_ARN": ECS_ARN, **LOAD_BALANCED})
ECS_WITHOUT_LOAD_BALANCER = guarded({**BASE_ENV, "SERVICE_ARN": ECS_ARN})
APP_RUNNER = guarded({**BASE_ENV, "SERVICE_ARN": APP_RUNNER_ARN})
ECS_ADVICE = target_facts(Settings.from_env({**BASE_ENV, "SERVICE_ARN": ECS_ARN}).service).runbook
APP_RUNNER_ADVICE = target_facts(Settings.from_env({**BASE_ENV, "SERVICE_ARN": APP_RUNNER_ARN}).service).runbook
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
ALB = "AWS/ApplicationELB"
TARGET_GROUP = [
    {"name": "TargetGroup", "value": "targetgroup/consultation-app/73e2d6bc24d8a067"},
    {"name": "LoadBalancer", "value": "app/consultation-app/50dc6c495c0c9188"},
]


def document(fixture: str) -> dict[str, Any]:
    (sns,) = parse_sns_event(load_event("on_alarm", fixture))
    parsed: dict[str, Any] = json.loads(sns.message)
    return parsed


def change(fixture: str, **edits: Any) -> AlarmStateChange:
    message = document(fixture)
    message.update(edits)
    return parse_alarm_message(json.dumps(message))


def retargeted(
    fixture: str, reason: str, threshold: float, comparison: str = "GreaterThanThreshold", **trigger: Any
) -> AlarmStateChange:
    """The fixture's alarm on another single metric: its trigger replaced, its reason and threshold given."""
    message = document(fixture)
    message["Trigger"] = {
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Period": 300,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "ComparisonOperator": comparison,
        "Threshold": threshold,
        "TreatMissingData": "notBreaching",
        **trigger,
    }
    message["NewStateReason"] = reason
    return parse_alarm_message(json.dumps(message))


def unit(alarm: AlarmStateChange) -> Unit:
    return metric_unit(classify(alarm), alarm.metric)


def reason(value: str, word: str = "greater", threshold: str = "5.0") -> str:
    return f"Threshold Crossed: 1 datapoint [{value} (27/11/26 10:00:00)] was {word} than the threshold ({threshold})."


# --- which metric, in which unit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "expected_unit"),
    [
        ("sns-ecs-cpu-alarm", MetricKind.CPU, Unit.PERCENT),
        ("sns-alb-5xx-rate-alarm", MetricKind.ERROR_RATE, Unit.PERCENT),
        ("sns-alb-p99-latency-alarm", MetricKind.LATENCY, Unit.MILLISECONDS),
    ],
)
def test_the_stacks_ecs_alarms_are_known_in_their_units(fixture: str, kind: MetricKind, expected_unit: Unit) -> None:
    # Given one of the alarms the stack creates for an ECS service / When it is classified
    alarm = change(fixture)
    # Then Warden knows the metric and the unit its numbers are in
    assert classify(alarm) is kind
    assert unit(alarm) is expected_unit


def test_the_metric_math_latency_alarm_is_read_in_milliseconds_with_the_statistic_it_reads() -> None:
    # Given the stack's latency alarm (1000 * the load balancer's p99 TargetResponseTime, threshold in ms)
    alarm = change("sns-alb-p99-latency-alarm")
    # Then its threshold and datapoints are milliseconds, of the p99 its one metric reads
    assert unit(alarm) is Unit.MILLISECONDS
    assert metric_statistic(alarm.metric) == "p99"
    assert alarm.threshold == 5000.0


@pytest.mark.parametrize(("value", "threshold"), [("7.2", 5.0), ("0.35", 0.25)])
def test_a_plain_target_response_time_alarm_is_in_seconds(value: str, threshold: float) -> None:
    # Given an alarm someone set on TargetResponseTime itself (CloudWatch reports it in seconds)
    alarm = retargeted(
        "sns-ecs-cpu-alarm",
        reason(value, threshold=str(threshold)),
        threshold,
        Namespace=ALB,
        MetricName="TargetResponseTime",
        StatisticType="ExtendedStatistic",
        ExtendedStatistic="p99",
        Dimensions=TARGET_GROUP,
    )
    # When it is classified / Then the seconds are not mistaken for milliseconds
    assert classify(alarm) is MetricKind.LATENCY
    assert unit(alarm) is Unit.SECONDS


def test_metric_math_over_target_response_time_without_the_factor_1000_stays_in_seconds() -> None:
    message = document("sns-alb-p99-latency-alarm")
    message["Trigger"]["Metrics"][0]["Expression"] = "seconds"
    message["Trigger"]["Threshold"] = 5.0
    message["NewStateReason"] = reason("7.2")
    alarm = parse_alarm_message(json.dumps(message))
    assert unit(alarm) is Unit.SECONDS


def test_the_ecs_memory_alarm_is_memory() -> None:
    message = document("sns-ecs-cpu-alarm")
    message["Trigger"].update(MetricName="MemoryUtilization", Threshold=95.0)
    message["NewStateReason"] = reason("97.6", threshold="95.0")
    alarm = parse_alarm_message(json.dumps(message))
    assert classify(alarm) is MetricKind.MEMORY
    assert unit(alarm) is Unit.PERCENT


@pytest.mark.parametrize("metric", ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"])
def test_the_load_balancers_5xx_counts_are_5xx_responses(metric: str) -> None:
    alarm = retargeted(
        "sns-ecs-cpu-alarm",
        reason("42.0", threshold="10.0"),
        10.0,
        Namespace=ALB,
        MetricName=metric,
        Dimensions=TARGET_GROUP,
    )
    assert classify(alarm) is MetricKind.ERRORS_5XX
    assert unit(alarm) is Unit.COUNT


def test_metric_math_over_the_load_balancers_own_5xx_and_requests_is_an_error_rate() -> None:
    message = document("sns-alb-5xx-rate-alarm")
    message["Trigger"]["Metrics"][1]["MetricStat"]["Metric"]["MetricName"] = "HTTPCode_ELB_5XX_Count"
    assert classify(parse_alarm_message(json.dumps(message))) is MetricKind.ERROR_RATE


@pytest.mark.parametrize(
    ("namespace", "metric"), [("ECS/ContainerInsights", "RunningTaskCount"), (ALB, "HealthyHostCount")]
)
def test_no_running_tasks_or_no_healthy_targets_are_no_instances(namespace: str, metric: str) -> None:
    alarm = retargeted(
        "sns-ecs-cpu-alarm",
        reason("0.0", word="less", threshold="1.0"),
        1.0,
        "LessThanThreshold",
        Namespace=namespace,
        MetricName=metric,
        Statistic="MINIMUM",
    )
    assert classify(alarm) is MetricKind.INSTANCES
    assert is_below_alarm(alarm)


# --- whose alarm ------------------------------------------------------------------------------------


def ecs_alarm(cluster: str = "prod", service: str = "consultation-app") -> AlarmStateChange:
    message = document("sns-ecs-cpu-alarm")
    message["Trigger"]["Dimensions"] = [
        {"name": "ClusterName", "value": cluster},
        {"name": "ServiceName", "value": service},
    ]
    return parse_alarm_message(json.dumps(message))


def test_an_alarm_on_the_guarded_ecs_service_is_its_own() -> None:
    assert concerns(ecs_alarm(), ECS).verdict is Verdict.GUARDED


@pytest.mark.parametrize(
    ("cluster", "service", "watched"),
    [
        ("staging", "consultation-app", "ECS service consultation-app in cluster staging"),
        ("prod", "billing-worker", "ECS service billing-worker in cluster prod"),
    ],
)
def test_an_alarm_on_another_ecs_service_or_cluster_is_recognised(cluster: str, service: str, watched: str) -> None:
    # Given Warden guards prod/consultation-app / When an alarm on another cluster's or service's metric arrives
    concern = concerns(ecs_alarm(cluster, service), ECS)
    # Then it is someone else's, and the reason names both services
    assert concern.verdict is Verdict.OTHER_RESOURCE
    assert concern.resource == watched
    assert (
        concern.reason == f"the alarm watches {watched}, not the guarded ECS service consultation-app in cluster prod"
    )


def test_an_app_runner_alarm_is_another_service_when_warden_guards_ecs_and_the_other_way_round() -> None:
    app_runner_alarm = change("sns-cpu-alarm")
    assert concerns(app_runner_alarm, APP_RUNNER).verdict is Verdict.GUARDED
    assert concerns(app_runner_alarm, ECS).verdict is Verdict.OTHER_RESOURCE
    assert concerns(ecs_alarm(), APP_RUNNER).resource == "ECS service consultation-app in cluster prod"


def test_a_load_balancer_alarm_is_the_guarded_services_only_for_the_configured_target_group() -> None:
    # Given the stack's load-balancer alarms on the configured target group
    for fixture in ("sns-alb-5xx-rate-alarm", "sns-alb-p99-latency-alarm", "sns-alb-no-healthy-targets-alarm"):
        # Then they are the guarded service's when LoadBalancerArn and TargetGroupArn are configured
        assert concerns(change(fixture), ECS).verdict is Verdict.GUARDED, fixture
        # And Warden cannot tell when they are not
        assert concerns(change(fixture), ECS_WITHOUT_LOAD_BALANCER).verdict is Verdict.UNKNOWN, fixture
    # And another target group behind the same load balancer is another resource
    other = retargeted(
        "sns-alb-5xx-rate-alarm",
        reason("3.0"),
        1.0,
        Namespace=ALB,
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[TARGET_GROUP[1], {"name": "TargetGroup", "value": "targetgroup/billing/0123456789abcdef"}],
    )
    assert concerns(other, ECS).verdict is Verdict.OTHER_RESOURCE
    # And the load balancer's own metric counts every target group behind it: not provably the service's
    whole = retargeted(
        "sns-alb-5xx-rate-alarm",
        reason("3.0"),
        1.0,
        Namespace=ALB,
        MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[TARGET_GROUP[1]],
    )
    assert concerns(whole, ECS).verdict is Verdict.UNKNOWN


# --- what to check ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MetricKind))
def test_no_runbook_hint_for_an_ecs_service_sends_the_operator_to_app_runner(kind: MetricKind) -> None:
    steps = runbook(kind, ECS_ADVICE)
    assert steps
    assert not [step for step in steps if "App Runner" in step]


def test_the_ecs_runbook_names_the_task_definition_and_the_ecs_console() -> None:
    assert any("task definition" in step for step in runbook(MetricKind.CPU, ECS_ADVICE))
    assert any("task definition" in step for step in runbook(MetricKind.MEMORY, ECS_ADVICE))
    assert any("ECS console" in step for step in runbook(MetricKind.ERROR_RATE, ECS_ADVICE))
    assert any("desired count" in step for step in runbook(MetricKind.LATENCY, ECS_ADVICE))
    assert any("App Runner" in step for step in runbook(MetricKind.CPU, APP_RUNNER_ADVICE))


# --- the notification, with fakes -------------------------------------------------------------------


class EcsWorld:
    def __init__(self, **env: str) -> None:
        self.service = FakeService(arn=ECS_ARN, status=ServiceStatus.RUNNING)
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.settings = Settings.from_env({**BASE_ENV, "SERVICE_ARN": ECS_ARN, **LOAD_BALANCED, **env})
        self.deps = AlarmDeps(self.service, self.notifier, self.state, FakeRollback(configured=False))

    def fire(self, event: dict[str, Any]) -> Outcome:
        return self.deliver(event).outcome

    def deliver(self, event: dict[str, Any]) -> AlarmResult:
        (result,) = handle_event(event, self.deps, self.settings, FIRED + timedelta(seconds=5))
        # What was published is what warden.messages.alarm writes from the facts the result carries
        assert result.told is not None
        assert self.notifier.sent[-1] == words.notification(result.told, self.service.facts)
        return result


def test_an_ecs_alarm_notification_speaks_of_ecs_not_app_runner() -> None:
    # Given Warden guards an ECS service and the CPU alarm only notifies
    world = EcsWorld()
    # When the ECS CPU alarm fires
    result = world.deliver(alarm_event("sns-ecs-cpu-alarm", changed_at=FIRED, message_id=str(uuid.uuid4())))
    # Then it tells the ECS service's status and what to check, from the ECS target's facts, never App Runner's
    assert result.outcome is Outcome.NOTIFIED
    told = result.told
    assert isinstance(told, Fired)
    assert told.status == ServiceNow(arn=ECS_ARN, status=ServiceStatus.RUNNING)
    assert told.alarm.concern.verdict is Verdict.GUARDED
    (sent,) = world.notifier.sent
    assert world.service.facts.platform == "ECS"
    assert all(line in sent.body for line in world.service.facts.runbook[MetricKind.CPU])
    assert "App Runner" not in sent.body


def test_no_running_tasks_while_paused_is_expected_on_ecs() -> None:
    # Given an ECS service a budget claim holds paused
    world = EcsWorld(ALARM_ACTIONS="*=pause")
    world.service.status = ServiceStatus.PAUSED
    world.state.add_claim(
        ECS_ARN, Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="spend $10.42 of $10.00", now=FIRED)
    )
    event = alarm_event("sns-ecs-cpu-alarm", changed_at=FIRED, message_id=str(uuid.uuid4()))
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["Trigger"].update(
        Namespace="ECS/ContainerInsights", MetricName="RunningTaskCount", ComparisonOperator="LessThanThreshold"
    )
    message["Trigger"]["Threshold"] = 1.0
    message["NewStateReason"] = reason("0.0", word="less", threshold="1.0")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    # When the running-tasks alarm fires
    result = world.deliver(event)
    # Then it is expected, nothing runs, and the message speaks of ECS's tasks, not App Runner's instances
    assert result.outcome is Outcome.EXPECTED
    assert world.service.mutations == []
    told = result.told
    assert isinstance(told, Expected)
    assert told.paused_by.startswith("paused by budget")
    (sent,) = world.notifier.sent
    assert world.service.facts.runs_on == "tasks"
    assert "instances" not in sent.body


@pytest.mark.parametrize(("dry_run", "outcome"), [("false", Outcome.PAUSED), ("true", Outcome.WOULD_PAUSE)])
def test_a_pause_on_ecs_says_what_it_means_for_the_tasks(dry_run: str, outcome: Outcome) -> None:
    # Given the CPU alarms mapped to pause on an ECS service
    world = EcsWorld(ALARM_ACTIONS="*-cpu=pause", DRY_RUN=dry_run)
    # When the ECS CPU alarm fires
    result = world.deliver(alarm_event("sns-ecs-cpu-alarm", changed_at=FIRED, message_id=str(uuid.uuid4())))
    # Then the message says, in the ECS target's words, what the pause does (or would do) to the tasks
    assert result.outcome is outcome
    assert isinstance(result.told, Fired)
    assert isinstance(result.told.did, PauseTaken)
    facts = world.service.facts
    means = facts.pause_means if outcome is AlarmOutcome.PAUSED else facts.would_pause_means
    assert means
    assert means in world.notifier.sent[-1].body


def test_no_healthy_target_while_paused_is_expected_and_acts_on_nothing() -> None:
    # Given an ECS service a budget claim holds paused, and every alarm mapped to pause
    world = EcsWorld(ALARM_ACTIONS="*=pause")
    world.service.status = ServiceStatus.PAUSED
    world.state.add_claim(
        ECS_ARN, Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="spend $10.42 of $10.00", now=FIRED)
    )
    # When the stack's -no-instances alarm (the target group's HealthyHostCount) fires
    outcome = world.fire(
        alarm_event("sns-alb-no-healthy-targets-alarm", changed_at=FIRED, message_id=str(uuid.uuid4()))
    )
    # Then it is expected while paused: nothing is paused again, no claim is added, and the message says why
    assert outcome is Outcome.EXPECTED
    assert world.service.mutations == []
    assert [claim.key for claim in world.state.list_claims(ECS_ARN)] == ["budget"]
    assert world.notifier.sent[-1].event == "alarm.expected"
