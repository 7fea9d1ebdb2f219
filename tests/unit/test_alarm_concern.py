"""Whose alarm it is (domain/alarms.py `concerns`) and which action may run for it (`permitted`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import load_event
from tests.robustness.strategies import GUARDED_TARGET_GROUP, alarm_state_change, foreign_alarms, guarded_metric
from warden.domain.alarms import (
    ActionChoice,
    AlarmAction,
    AlarmActionMap,
    Concern,
    Guarded,
    Verdict,
    concerns,
    load_balancer_dimension,
    permitted,
    target_group_dimension,
)
from warden.errors import UnparseableMessage
from warden.models.alarm import AlarmStateChange, parse_alarm_message, parse_direct_alarm, parse_eventbridge_alarm
from warden.models.sns import parse_sns_event
from warden.settings import ServiceRef
from warden.wiring import target_facts


def guarded(arn: str, *, load_balancer: str | None = None, target_group: str | None = None) -> Guarded:
    """The guarded service as on_alarm builds it: its ARN's account and region, its target's dimensions."""
    service = ServiceRef.parse(arn)
    facts = target_facts(service)
    return Guarded(
        partition=service.partition,
        account_id=service.account_id,
        region=service.region,
        described=facts.described,
        metrics=facts.alarm_metrics,
        behind_load_balancer=facts.behind_load_balancer,
        load_balancer=load_balancer,
        target_group=target_group,
    )


APP_RUNNER = guarded(
    "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
)
ECS = guarded(
    "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app",
    load_balancer=GUARDED_TARGET_GROUP[0],
    target_group=GUARDED_TARGET_GROUP[1],
)
OWN_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:warden-cpu"


def parsed(event: Any) -> AlarmStateChange:
    if "Records" in event:
        (sns,) = parse_sns_event(event)
        return parse_alarm_message(sns.message)
    if "detail" in event:
        return parse_eventbridge_alarm(event)
    return parse_direct_alarm(event)


def fixture(name: str) -> AlarmStateChange:
    return parsed(load_event("on_alarm", name))


@given(alarm=foreign_alarms("apprunner"))
@settings(max_examples=150, deadline=None)
def test_no_alarm_about_another_resource_account_or_region_is_ever_the_guarded_services(alarm: Any) -> None:
    change = parsed(alarm.event)
    concern = concerns(change, APP_RUNNER)
    if change.is_suppressed:
        return  # about the guarded service, but suppressed: the use case's test covers it
    assert concern.verdict is not Verdict.GUARDED, alarm.origin
    # And no rule, pattern or exact name, may pause for it when it is provably another resource's
    for exact in (True, False):
        choice = ActionChoice(action=AlarmAction.PAUSE, reason="r", exact=exact)
        allowed = permitted(choice, concern).action
        assert allowed is AlarmAction.NOTIFY or (exact and concern.verdict is Verdict.UNKNOWN), alarm.origin


@given(alarm=foreign_alarms("ecs"))
@settings(max_examples=100, deadline=None)
def test_no_alarm_about_another_resource_is_the_guarded_ecs_services(alarm: Any) -> None:
    change = parsed(alarm.event)
    if not change.is_suppressed:
        assert concerns(change, ECS).verdict is not Verdict.GUARDED, alarm.origin


@pytest.mark.parametrize("delivery", ["sns", "eventbridge", "direct"])
@pytest.mark.parametrize("kind", ["apprunner", "ecs"])
def test_the_guarded_services_own_metric_in_its_account_and_region_is_its_own(delivery: str, kind: str) -> None:
    event = alarm_state_change(delivery, "warden-cpu", OWN_ARN, "ALARM", [guarded_metric(kind)])
    guarded = APP_RUNNER if kind == "apprunner" else ECS
    concern = concerns(parsed(event), guarded)
    assert concern.verdict is Verdict.GUARDED
    assert concern.resource == guarded.describe()


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("sns-ec2-cpu-other-region-alarm", "EC2 instance i-0abc1234def567890 in ap-northeast-2"),
        ("sns-rds-cpu-alarm", "RDS orders-db"),
    ],
)
def test_the_reported_ec2_and_rds_alarms_are_other_resources_named_in_words(name: str, resource: str) -> None:
    concern = concerns(fixture(name), APP_RUNNER)
    assert concern.verdict is Verdict.OTHER_RESOURCE
    assert concern.resource == resource


def test_every_stack_alarm_fixture_of_the_guarded_app_runner_service_is_its_own() -> None:
    for name in ("sns-5xx-rate-alarm", "sns-cpu-alarm", "sns-latency-p99-alarm", "sns-latency-anomaly-alarm"):
        assert concerns(fixture(name), APP_RUNNER).verdict is Verdict.GUARDED, name
    assert concerns(fixture("eventbridge-5xx-rate-alarm"), APP_RUNNER).verdict is Verdict.GUARDED
    assert concerns(fixture("direct-memory-alarm"), APP_RUNNER).verdict is Verdict.GUARDED


@pytest.mark.parametrize(
    ("edit", "verdict"),
    [
        # a composite alarm reads other alarms, not a metric
        ({"composite": True}, Verdict.UNKNOWN),
        # a query that reads metrics the alarm does not name
        ({"expression": 'SEARCH(\'{AWS/EC2,InstanceId} MetricName="CPUUtilization"\', "Average")'}, Verdict.UNKNOWN),
        ({"expression": 'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId)'}, Verdict.UNKNOWN),
        # an App Runner metric naming no service
        ({"dimensions": {}}, Verdict.UNKNOWN),
        # a metric without a namespace (a MetricStat without its metric)
        ({"namespace": None}, Verdict.UNKNOWN),
    ],
)
def test_what_names_no_resource_is_unknown(edit: dict[str, Any], verdict: Verdict) -> None:
    namespace, metric, dims, _ = guarded_metric("apprunner")
    dims = edit.get("dimensions", dims)
    event = alarm_state_change("eventbridge", "warden-cpu", OWN_ARN, "ALARM", [(namespace, metric, dims, None)])
    detail = event["detail"]
    if "namespace" in edit:
        del detail["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"]
    if "expression" in edit:
        detail["configuration"]["metrics"].append({"id": "q", "expression": edit["expression"], "returnData": True})
    if edit.get("composite"):
        detail["configuration"] = {"alarmRule": "ALARM(a) OR ALARM(b)"}
    assert concerns(parse_eventbridge_alarm(event), APP_RUNNER).verdict is verdict


def test_a_load_balancer_alarm_needs_the_configured_target_group() -> None:
    balancer, group = GUARDED_TARGET_GROUP
    own = ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": balancer, "TargetGroup": group}, None)
    event = alarm_state_change("sns", "warden-5xx", OWN_ARN, "ALARM", [own])
    assert concerns(parsed(event), ECS).verdict is Verdict.GUARDED
    unconfigured = ECS.model_copy(update={"load_balancer": None, "target_group": None})
    assert concerns(parsed(event), unconfigured).verdict is Verdict.UNKNOWN
    # App Runner publishes no load balancer metrics of its own in the account
    assert concerns(parsed(event), APP_RUNNER).verdict is Verdict.OTHER_RESOURCE


def test_the_load_balancer_dimensions_are_the_ends_of_the_arns() -> None:
    assert (
        load_balancer_dimension(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/50dc6c495c0c9188"
        )
        == GUARDED_TARGET_GROUP[0]
    )
    assert (
        target_group_dimension(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/73e2d6bc24d8a067"
        )
        == GUARDED_TARGET_GROUP[1]
    )


def test_the_account_wide_billing_alarm_is_unknown_not_another_resource() -> None:
    billing = ("AWS/Billing", "EstimatedCharges", {"Currency": "USD"}, None)
    event = alarm_state_change(
        "sns", "warden-billing", OWN_ARN.replace("warden-cpu", "warden-billing"), "ALARM", [billing]
    )
    assert concerns(parsed(event), APP_RUNNER.model_copy(update={"region": "eu-west-1"})).verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("verdict", "exact", "allowed"),
    [
        (Verdict.GUARDED, False, AlarmAction.PAUSE),
        (Verdict.GUARDED, True, AlarmAction.PAUSE),
        (Verdict.UNKNOWN, True, AlarmAction.PAUSE),
        (Verdict.UNKNOWN, False, AlarmAction.NOTIFY),
        (Verdict.OTHER_RESOURCE, True, AlarmAction.NOTIFY),
        (Verdict.OTHER_RESOURCE, False, AlarmAction.NOTIFY),
    ],
)
def test_a_pattern_acts_only_on_the_guarded_services_alarms_and_an_exact_name_never_on_another_resources(
    verdict: Verdict, exact: bool, allowed: AlarmAction
) -> None:
    actions = AlarmActionMap.parse("warden-cpu=pause" if exact else "warden-*=pause")
    choice = actions.resolve("warden-cpu")
    assert choice.exact is exact
    concern = Concern(verdict=verdict, reason="because", resource="it")
    permission = permitted(choice, concern)
    assert permission.action is allowed
    assert permission.refused is (None if allowed is AlarmAction.PAUSE else AlarmAction.PAUSE)


def test_the_suppressed_composite_sample_is_read_as_suppressed() -> None:
    change = fixture("eventbridge-suppressed-composite-alarm")
    assert (change.actions_suppressed_by, change.actions_suppressed_reason) == (
        "WaitPeriod",
        "Actions suppressed by WaitPeriod",
    )
    assert concerns(change, APP_RUNNER).verdict is Verdict.UNKNOWN
    unsuppressed = json.loads(json.dumps(load_event("on_alarm", "eventbridge-suppressed-composite-alarm")))
    del unsuppressed["detail"]["state"]["actionsSuppressedBy"]
    assert not parse_eventbridge_alarm(unsuppressed).is_suppressed


def test_the_load_balancer_settings_come_together_and_must_be_arns() -> None:
    from warden.errors import SettingsError
    from warden.settings import Settings

    base = {
        "SERVICE_ARN": "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app",
        "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
        "STATE_TABLE": "warden-state",
        "BUDGET_NAME": "consultation-app-monthly",
    }
    balancer = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{GUARDED_TARGET_GROUP[0]}"
    group = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{GUARDED_TARGET_GROUP[1]}"
    both = Settings.from_env({**base, "LOAD_BALANCER_ARN": balancer, "TARGET_GROUP_ARN": group})
    assert (both.load_balancer_arn, both.target_group_arn) == (balancer, group)
    empty = Settings.from_env({**base, "LOAD_BALANCER_ARN": "", "TARGET_GROUP_ARN": ""})
    assert (empty.load_balancer_arn, empty.target_group_arn) == (None, None)
    with pytest.raises(SettingsError, match="TARGET_GROUP_ARN"):
        Settings.from_env({**base, "LOAD_BALANCER_ARN": balancer})
    with pytest.raises(SettingsError, match="LOAD_BALANCER_ARN"):
        Settings.from_env({**base, "LOAD_BALANCER_ARN": group, "TARGET_GROUP_ARN": group})


IDENTIFYING = [
    ("apprunner", "AWS/AppRunner", "CPUUtilization", {"ServiceName": "consultation-app"}, "ServiceID"),
    ("apprunner", "AWS/AppRunner", "CPUUtilization", {"ServiceID": "0123456789abcdef0123456789abcdef"}, "ServiceName"),
    ("ecs", "AWS/ECS", "CPUUtilization", {"ClusterName": "prod", "ServiceName": "consultation-app"}, "ClusterName"),
    ("ecs", "AWS/ECS", "CPUUtilization", {"ClusterName": "prod", "ServiceName": "consultation-app"}, "ServiceName"),
    (
        "ecs",
        "AWS/ApplicationELB",
        "RequestCount",
        {"LoadBalancer": GUARDED_TARGET_GROUP[0], "TargetGroup": GUARDED_TARGET_GROUP[1]},
        "LoadBalancer",
    ),
    (
        "ecs",
        "AWS/ApplicationELB",
        "RequestCount",
        {"LoadBalancer": GUARDED_TARGET_GROUP[0], "TargetGroup": GUARDED_TARGET_GROUP[1]},
        "TargetGroup",
    ),
]


@pytest.mark.parametrize(("platform", "namespace", "metric", "dimensions", "changed"), IDENTIFYING)
@given(value=st.text(max_size=40))
@settings(max_examples=40, deadline=None)
def test_an_identifying_dimension_with_any_other_value_even_empty_is_never_the_guarded_services(
    platform: str, namespace: str, metric: str, dimensions: dict[str, str], changed: str, value: str
) -> None:
    # Given the guarded service's own metric, When one identifying dimension carries any other value ("" included)
    own = {**dimensions}
    if platform == "apprunner":
        own = {"ServiceName": "consultation-app", "ServiceID": "0123456789abcdef0123456789abcdef"}
    expected = own.get(changed)
    if value == expected:
        return
    edited = {**own, changed: value}
    event = alarm_state_change("sns", "warden-any", OWN_ARN, "ALARM", [(namespace, metric, edited, None)])
    try:
        change = parsed(event)
    except UnparseableMessage:
        return  # refused at parse time: never acted on either
    # Then Warden never reads it as the guarded service's (a present dimension names a resource, whatever its value)
    verdict = concerns(change, APP_RUNNER if platform == "apprunner" else ECS).verdict
    assert verdict is not Verdict.GUARDED


def test_the_fuzz_found_alb_alarm_with_an_empty_load_balancer_dimension_is_not_the_guarded_services() -> None:
    balancer, group = GUARDED_TARGET_GROUP
    errors = ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": balancer, "TargetGroup": group}, None)
    requests = ("AWS/ApplicationELB", "RequestCount", {"LoadBalancer": "", "TargetGroup": group}, None)
    event = alarm_state_change("sns", "warden-5xx-rate", OWN_ARN, "ALARM", [errors, requests])
    assert concerns(parsed(event), ECS).verdict is not Verdict.GUARDED
