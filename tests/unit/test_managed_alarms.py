"""The alarms Warden keeps for a fleet's services (domain/managed_alarms.py, usecases/managed_alarms.py).

Three promises: a fleet service gets exactly the alarms a single-service stack deploys for it (read from
template.yaml itself), each recognised by `concerns` as the service's own; the plan writes nothing when nothing
changed; and nothing Warden did not create (no `warden:managed` = `true`, or not `warden-`) is ever rewritten or
deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import load_stack
from tests.robustness.strategies import envelope
from tests.template.deployment import APPRUNNER_ARN, ECS_ARN, LOAD_BALANCER_ARN, TARGET_GROUP_ARN, Stack
from warden.domain.alarms import (
    AlarmAction,
    AlarmActionMap,
    Guarded,
    MetricKind,
    Verdict,
    classify,
    concerns,
    load_balancer_dimension,
    permitted,
    target_group_dimension,
)
from warden.domain.fleet import MANAGED_TAG
from warden.domain.managed_alarms import (
    PREFIX,
    SUFFIXES,
    AlarmOwner,
    AlarmSpec,
    AlarmsRefused,
    AlarmThresholds,
    TagsRead,
    alarm_name,
    desired_alarms,
    is_managed_name,
    plan_alarm_changes,
    tag_candidates,
)
from warden.errors import AwsUnavailable
from warden.models.alarm import ALARM_NAME_LIMIT, AlarmStateChange, parse_alarm_message, parse_eventbridge_alarm
from warden.models.sns import parse_sns_event
from warden.settings import ServiceRef
from warden.usecases.managed_alarms import reconcile_alarms
from warden.wiring import target_facts

TOPIC = "arn:aws:sns:us-east-1:123456789012:warden-AlarmTopic-1X2Y3Z4W5V6U"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:another-stack-AlarmTopic-9Z8Y7X"
ACCOUNT_ALARMS = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
MANAGED = {MANAGED_TAG: "true"}
DEFAULTS = AlarmThresholds()
SELF_WATCHING = {"AWS/Lambda", "AWS/SQS"}
# The metric each suffix watches, as on_alarm reads it.
KINDS = {
    "5xx-rate": MetricKind.ERROR_RATE,
    "p99-latency": MetricKind.LATENCY,
    "cpu": MetricKind.CPU,
    "memory": MetricKind.MEMORY,
    "no-instances": MetricKind.INSTANCES,
}


def owner(arn: str, *, target_group: str | None = None, load_balancer: str | None = None, **extra: Any) -> AlarmOwner:
    """The owner as a fleet run builds it from a guarded service's ARN (and its `warden:target-group` tag)."""
    service = ServiceRef.parse(arn)
    return AlarmOwner(
        service_arn=service.arn,
        name=service.name,
        platform=service.kind.value,
        service_id=service.service_id or None,
        cluster=service.cluster or None,
        target_group_arn=target_group,
        load_balancer_arn=load_balancer,
        **extra,
    )


APP_RUNNER = owner(APPRUNNER_ARN)
ECS_BEHIND_LB = owner(ECS_ARN, target_group=TARGET_GROUP_ARN, load_balancer=LOAD_BALANCER_ARN)
ECS_ALONE = owner(ECS_ARN)
# Another service of the fleet, of another name (two of one name conflict: see below).
API = owner(
    "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
    target_group=TARGET_GROUP_ARN,
    load_balancer=LOAD_BALANCER_ARN,
)


def described(spec: AlarmSpec, tags: dict[str, str] | None = None) -> AlarmSpec:
    """The alarm as DescribeAlarms returns it after Warden wrote it (tags not read unless given)."""
    return AlarmSpec.from_described(
        {**spec.request(), "AlarmArn": ACCOUNT_ALARMS + spec.name, "StateValue": "OK"}, tags=tags
    )


def suffix_of(name: str) -> str:
    return next(suffix for suffix in SUFFIXES if name.endswith(f"-{suffix}"))


# --- the same alarms as the stack's template -------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_stack()


class Deployed(Stack):
    """The stack for some parameters (stack name "STACK", alarm topic TOPIC), resolving `Fn::Sub` as well."""

    def value(self, node: Any) -> Any:
        if isinstance(node, dict) and list(node) == ["Fn::Sub"] and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", lambda found: str(self.value({"Ref": found[1]})), node["Fn::Sub"])
        if node == {"Ref": "AWS::StackName"}:
            return "STACK"
        if node == {"Ref": "AlarmTopic"}:
            return TOPIC
        return super().value(node)


def resolved(stack: Stack, node: Any) -> Any:
    """A property as CloudFormation deploys it."""
    if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in ("Ref", "Fn::Sub", "Fn::Select", "Fn::Split"):
        return stack.value(node)
    if isinstance(node, dict):
        return {key: resolved(stack, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(stack, item) for item in node]
    return node


def deployed_health_alarms(template: dict[str, Any], **parameters: str) -> dict[str, dict[str, Any]]:
    """The service's health alarms a stack with these parameters deploys, as deployed, by name suffix."""
    stack = Deployed(template, **parameters)
    alarms: dict[str, dict[str, Any]] = {}
    for logical_id in stack.resources():
        resource = template["Resources"][logical_id]
        if resource["Type"] != "AWS::CloudWatch::Alarm" or resource["Properties"].get("Namespace") in SELF_WATCHING:
            continue
        properties = resolved(stack, resource["Properties"])
        if properties["AlarmName"] == "STACK-billing":
            continue
        alarms[properties["AlarmName"].removeprefix("STACK-")] = properties
    return alarms


STACKS = {
    "App Runner": (APP_RUNNER, {"ServiceArn": APPRUNNER_ARN}),
    "ECS behind a load balancer": (
        ECS_BEHIND_LB,
        {"ServiceArn": ECS_ARN, "LoadBalancerArn": LOAD_BALANCER_ARN, "TargetGroupArn": TARGET_GROUP_ARN},
    ),
    "ECS without a load balancer": (ECS_ALONE, {"ServiceArn": ECS_ARN}),
}


@pytest.mark.parametrize("case", list(STACKS))
def test_a_fleet_service_gets_exactly_the_alarms_a_single_service_stack_deploys_for_it(
    template: dict[str, Any], case: str
) -> None:
    # Given a service, and the stack template.yaml deploys for it alone (parameters at their defaults)
    service, parameters = STACKS[case]
    deployed = deployed_health_alarms(template, **parameters)
    # When Warden builds the service's alarms with the default thresholds
    desired = {suffix_of(spec.name): spec for spec in desired_alarms(service, DEFAULTS, TOPIC)}
    # Then the same suffixes, and for each the same PutMetricAlarm parameters but the name and the managed tag:
    # metrics, metric math, dimensions, statistics, periods, evaluation, missing data, thresholds, descriptions
    assert set(desired) == set(deployed)
    assert deployed
    for suffix, properties in deployed.items():
        request = desired[suffix].request()
        assert request.pop("AlarmName") == f"warden-{service.name}-{suffix}"
        assert request.pop("Tags") == [{"Key": MANAGED_TAG, "Value": "true"}]
        assert request.pop("ActionsEnabled") is True  # CloudFormation's default, which the template leaves to it
        properties = {key: value for key, value in properties.items() if key != "AlarmName"}
        assert set(request) == set(properties), suffix
        mirrored = AlarmSpec.from_described({**properties, "AlarmName": desired[suffix].name})
        assert mirrored.configuration() == desired[suffix].configuration(), suffix


def test_the_thresholds_default_to_the_template_parameters_with_their_bounds(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    fields = {
        "error_rate_percent": "ErrorRateThresholdPercent",
        "latency_p99_ms": "LatencyP99ThresholdMs",
        "cpu_percent": "CpuThresholdPercent",
        "memory_percent": "MemoryThresholdPercent",
    }
    for name, parameter in fields.items():
        info = AlarmThresholds.model_fields[name]
        assert info.default == parameters[parameter]["Default"], name
        bounds = {type(rule).__name__: rule for rule in info.metadata}
        assert bounds["Ge"].ge == parameters[parameter]["MinValue"], name
        assert bounds["Le"].le == parameters[parameter]["MaxValue"], name


# --- each alarm is the service's own for on_alarm --------------------------------------------------


def guarded(service: AlarmOwner) -> Guarded:
    """The service as on_alarm sees it when it guards it (usecases/alarm.guarded_of, per service)."""
    reference = ServiceRef.parse(service.service_arn)
    facts = target_facts(reference)
    return Guarded(
        partition=reference.partition,
        account_id=reference.account_id,
        region=reference.region,
        described=facts.described,
        metrics=facts.alarm_metrics,
        behind_load_balancer=facts.behind_load_balancer,
        load_balancer=load_balancer_dimension(service.load_balancer_arn) if service.load_balancer_arn else None,
        target_group=target_group_dimension(service.target_group_arn) if service.target_group_arn else None,
    )


def _sns_query(query: dict[str, Any]) -> dict[str, Any]:
    if "MetricStat" not in query:
        return query
    stat = query["MetricStat"]
    metric = stat["Metric"]
    dimensions = [{"name": item["Name"], "value": item["Value"]} for item in metric["Dimensions"]]
    return {**query, "MetricStat": {**stat, "Metric": {**metric, "Dimensions": dimensions}}}


def sns_delivery(spec: AlarmSpec) -> AlarmStateChange:
    """The alarm's state change as CloudWatch publishes it to the alarm topic (AWS-FACTS §2.1, §2.2)."""
    request = spec.request()
    trigger: dict[str, Any] = {
        key: request.get(key)
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "Threshold")
    }
    trigger.update(TreatMissingData=request["TreatMissingData"], EvaluateLowSampleCountPercentile="")
    if "Metrics" in request:
        trigger["Metrics"] = [_sns_query(query) for query in request["Metrics"]]
    else:
        statistic = request.get("Statistic")
        trigger.update(
            MetricName=request["MetricName"],
            Namespace=request["Namespace"],
            StatisticType="Statistic" if statistic else "ExtendedStatistic",
            Unit=None,
            Dimensions=[{"value": item["Value"], "name": item["Name"]} for item in request["Dimensions"]],
        )
        trigger.update(
            {"Statistic": statistic.upper()} if statistic else {"ExtendedStatistic": spec.extended_statistic}
        )
    message = {
        "AlarmName": spec.name,
        "AlarmDescription": spec.description,
        "AWSAccountId": "123456789012",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 3 out of the last 3 datapoints [97.5 (27/11/26 10:00:00)] were "
        "greater than the threshold (90.0).",
        "StateChangeTime": "2026-11-27T10:05:37.811+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": ACCOUNT_ALARMS + spec.name,
        "OldStateValue": "OK",
        "OKActions": list(spec.ok_actions),
        "AlarmActions": list(spec.alarm_actions),
        "InsufficientDataActions": [],
        "Trigger": trigger,
    }
    (sns,) = parse_sns_event(envelope(json.dumps(message), subject=f'ALARM: "{spec.name}" in US East'))
    return parse_alarm_message(sns.message)


def eventbridge_delivery(spec: AlarmSpec) -> AlarmStateChange:
    """The alarm's state change as EventBridge delivers it (AWS-FACTS §2.5: camelCase, dimensions as a map)."""
    if spec.metrics:
        metrics: list[dict[str, Any]] = []
        for query in spec.metrics:
            entry: dict[str, Any] = {"id": query.id, "returnData": query.return_data}
            if query.expression is not None:
                entry.update(expression=query.expression, label=query.label)
            if query.metric_stat is not None:
                stat = query.metric_stat
                entry["metricStat"] = {
                    "metric": {
                        "namespace": stat.namespace,
                        "name": stat.metric_name,
                        "dimensions": dict(stat.dimensions),
                    },
                    "period": stat.period,
                    "stat": stat.stat,
                }
            metrics.append(entry)
    else:
        metrics = [
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "namespace": spec.namespace,
                        "name": spec.metric_name,
                        "dimensions": dict(spec.dimensions),
                    },
                    "period": spec.period,
                    "stat": spec.statistic or spec.extended_statistic,
                },
                "returnData": True,
            }
        ]
    state = {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-11-27T10:05:37.811+0000"}
    return parse_eventbridge_alarm(
        {
            "version": "0",
            "id": f"{spec.name}-ALARM",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": "123456789012",
            "time": "2026-11-27T10:05:38Z",
            "region": "us-east-1",
            "resources": [ACCOUNT_ALARMS + spec.name],
            "detail": {
                "alarmName": spec.name,
                "state": state,
                "previousState": {**state, "value": "OK"},
                "configuration": {"description": spec.description, "metrics": metrics},
            },
        }
    )


DELIVERIES = {"sns": sns_delivery, "eventbridge": eventbridge_delivery}


@pytest.mark.parametrize("delivery", list(DELIVERIES))
@pytest.mark.parametrize("case", ["App Runner", "ECS behind a load balancer", "ECS without a load balancer"])
def test_every_managed_alarm_is_the_guarded_services_own_so_its_actions_may_run(delivery: str, case: str) -> None:
    # Given a fleet service and every alarm Warden keeps for it
    service = STACKS[case][0]
    specs = desired_alarms(service, DEFAULTS, TOPIC)
    assert len(specs) == (2 if case == "ECS without a load balancer" else 5)
    for spec in specs:
        # When the alarm fires and reaches on_alarm
        change = DELIVERIES[delivery](spec)
        concern = concerns(change, guarded(service))
        # Then it is provably about the guarded service, read as the metric its suffix names
        assert concern.verdict is Verdict.GUARDED, (spec.name, concern.reason)
        suffix = suffix_of(spec.name)
        assert classify(change) is KINDS[suffix], spec.name
        # And an ALARM_ACTIONS pattern on the suffix (as for the stack's own alarms) may pause for it
        rules = AlarmActionMap.parse(f"*-{suffix}=pause")
        assert fnmatchcase(spec.name, f"*-{suffix}")
        assert permitted(rules.resolve(spec.name), concern).action is AlarmAction.PAUSE


@pytest.mark.parametrize("delivery", list(DELIVERIES))
def test_another_services_managed_alarm_is_never_the_guarded_services(delivery: str) -> None:
    # Given two ECS services of one name in two clusters, behind two target groups
    other = owner(
        "arn:aws:ecs:us-east-1:123456789012:service/staging/consultation-app",
        target_group=TARGET_GROUP_ARN.replace("73e2d6bc24d8a067", "0000000000000000"),
        load_balancer=LOAD_BALANCER_ARN,
    )
    for spec in desired_alarms(other, DEFAULTS, TOPIC):
        # When the other one's alarm fires / Then it is not the guarded one's: nothing may pause it for that
        concern = concerns(DELIVERIES[delivery](spec), guarded(ECS_BEHIND_LB))
        assert concern.verdict is Verdict.OTHER_RESOURCE, spec.name


# --- names and owners ------------------------------------------------------------------------------


def test_names_keep_the_stacks_suffixes_and_fit_cloudwatchs_limit_even_for_a_255_character_ecs_name() -> None:
    # Given an ECS service with the longest name ECS allows, and another that differs only at its end
    long, twin = "s" * 254 + "a", "s" * 254 + "b"
    for suffix in SUFFIXES:
        # When its alarms are named / Then each fits, starts with warden- and ends in the suffix, and the two differ
        name = alarm_name(long, suffix)
        assert len(name) <= ALARM_NAME_LIMIT
        assert name.startswith(PREFIX)
        assert name.endswith(f"-{suffix}")
        assert name != alarm_name(twin, suffix)
    # And a usual name is just warden-<name>-<suffix>
    assert alarm_name("web", "cpu") == "warden-web-cpu"


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"platform": "apprunner"}, "service id"),
        ({"platform": "ecs"}, "cluster"),
    ],
)
def test_an_owner_without_what_names_its_metrics_is_refused(fields: dict[str, Any], missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        AlarmOwner(service_arn="arn:aws:ecs:us-east-1:123456789012:service/c/web", name="web", **fields)


def test_an_ecs_service_whose_load_balancer_is_unknown_gets_only_cpu_and_memory() -> None:
    # Given a target group tag but no load balancer for it: its metrics exist only with both dimensions
    service = owner(ECS_ARN, target_group=TARGET_GROUP_ARN)
    # When its alarms are built / Then no alarm watches a metric that is never published
    assert [suffix_of(spec.name) for spec in desired_alarms(service, DEFAULTS, TOPIC)] == ["cpu", "memory"]


def test_a_described_alarm_reads_back_as_the_alarm_written_whatever_cloudwatch_fills_in() -> None:
    for spec in desired_alarms(ECS_BEHIND_LB, DEFAULTS, TOPIC) + desired_alarms(APP_RUNNER, DEFAULTS, TOPIC):
        # Given the alarm as DescribeAlarms may return it: dimensions in another order, empty lists for what is not
        # set, the percentile default spelled out
        answer = spec.request()
        answer.pop("Tags")
        answer.setdefault("Dimensions", [])
        answer.setdefault("Metrics", [])
        answer["Dimensions"] = list(reversed(answer["Dimensions"]))
        answer["OKActions"] = list(reversed(answer["OKActions"]))
        if spec.extended_statistic:
            answer["EvaluateLowSampleCountPercentile"] = "evaluate"
        # When it is read / Then it is the same alarm: no write
        assert AlarmSpec.from_described(answer).configuration() == spec.configuration(), spec.name


# --- the plan --------------------------------------------------------------------------------------


def existing_of(*services: AlarmOwner, thresholds: AlarmThresholds = DEFAULTS, tags: bool = True) -> list[AlarmSpec]:
    """What CloudWatch holds after Warden kept these services' alarms (with their tags read, unless not)."""
    return [
        described(spec, MANAGED if tags else None)
        for service in services
        for spec in desired_alarms(service, thresholds, TOPIC)
    ]


def desired_of(*services: AlarmOwner, thresholds: AlarmThresholds = DEFAULTS) -> list[AlarmSpec]:
    return [spec for service in services for spec in desired_alarms(service, thresholds, TOPIC)]


def test_a_new_service_gets_all_its_alarms_created_tagged_and_pointed_at_the_alarm_topic() -> None:
    # Given two new services and no alarm yet / When the plan is made
    plan = plan_alarm_changes(desired_of(APP_RUNNER, API), [], alarm_topic_arn=TOPIC)
    # Then all ten are created, each with the managed tag, notifying the alarm topic on ALARM and OK
    assert len(plan.create) == 10
    assert (plan.update, plan.delete, plan.conflicts) == ((), (), ())
    for spec in plan.create:
        assert spec.tags == MANAGED
        assert (spec.alarm_actions, spec.ok_actions) == ((TOPIC,), (TOPIC,))
    assert plan.writes == 10


def test_nothing_changed_means_no_write_and_no_tag_read() -> None:
    # Given CloudWatch holding exactly the alarms Warden wrote, tags not read
    existing = existing_of(APP_RUNNER, API, tags=False)
    desired = desired_of(APP_RUNNER, API)
    # When the tags to read and the plan are asked for
    candidates = tag_candidates(desired, existing, alarm_topic_arn=TOPIC)
    plan = plan_alarm_changes(desired, existing, alarm_topic_arn=TOPIC)
    # Then no tag needs reading and nothing is written
    assert candidates == []
    assert plan.writes == 0
    assert len(plan.unchanged) == 10


def test_a_threshold_change_updates_only_the_alarms_it_changes() -> None:
    # Given the alarms at the default thresholds, and a CPU threshold lowered to 80 %
    existing = existing_of(APP_RUNNER, API)
    lower = AlarmThresholds(cpu_percent=80)
    # When the plan is made
    plan = plan_alarm_changes(desired_of(APP_RUNNER, API, thresholds=lower), existing, alarm_topic_arn=TOPIC)
    # Then exactly the two CPU alarms are rewritten, and the change is said
    assert sorted(update.spec.name for update in plan.update) == ["warden-api-cpu", "warden-consultation-app-cpu"]
    assert all("threshold: 90.0 -> 80.0" in update.changed for update in plan.update)
    assert (plan.create, plan.delete) == ((), ())
    assert len(plan.unchanged) == 8


def test_an_alarm_a_person_edited_is_put_back() -> None:
    # Given a managed alarm someone pointed at another topic
    existing = existing_of(APP_RUNNER)
    existing[2] = existing[2].model_copy(update={"alarm_actions": (OTHER_TOPIC,)})
    # When the plan is made / Then that alarm is rewritten as Warden keeps it
    plan = plan_alarm_changes(desired_of(APP_RUNNER), existing, alarm_topic_arn=TOPIC)
    assert [update.spec.name for update in plan.update] == [existing[2].name]


def test_a_service_no_longer_guarded_loses_its_managed_alarms() -> None:
    # Given both services' alarms, and only the App Runner one still guarded
    existing = existing_of(APP_RUNNER, API)
    # When the plan is made / Then the other service's alarms are deleted, the guarded one's kept
    plan = plan_alarm_changes(desired_of(APP_RUNNER), existing, alarm_topic_arn=TOPIC)
    assert plan.delete == tuple(sorted(f"warden-api-{suffix}" for suffix in SUFFIXES))
    assert len(plan.unchanged) == 5
    assert plan.writes == 1  # one DeleteAlarms for all five


@pytest.mark.parametrize(
    ("name", "tags", "actions", "why"),
    [
        ("warden-gone-cpu", None, (TOPIC,), "tags unknown"),
        ("warden-gone-cpu", {}, (TOPIC,), "no tag"),
        ("warden-gone-cpu", {MANAGED_TAG: "TRUE"}, (TOPIC,), "not exactly true"),
        ("warden-gone-cpu", {MANAGED_TAG: "false"}, (TOPIC,), "false"),
        ("warden-gone-cpu", {"warden:guard": "true"}, (TOPIC,), "another Warden tag"),
        ("prod-warden-gone-cpu", MANAGED, (TOPIC,), "outside the prefix"),
        ("Warden-gone-cpu", MANAGED, (TOPIC,), "another case"),
        ("warden-gone-cpu", MANAGED, (OTHER_TOPIC,), "another stack's topic"),
        ("warden-cpu", MANAGED, (TOPIC,), "the stack's own alarm (a stack named warden)"),
        ("warden-self-errors-on-alarm", MANAGED, (TOPIC,), "not a name Warden gives"),
        ("warden-gone-cpu-copy", MANAGED, (TOPIC,), "not a name Warden gives"),
    ],
)
def test_an_alarm_warden_cannot_prove_it_created_for_this_stack_is_never_deleted(
    name: str, tags: dict[str, str] | None, actions: tuple[str, ...], why: str
) -> None:
    # Given an alarm no guarded service wants, but lacking one of the marks of Warden's own
    alarm = described(desired_alarms(APP_RUNNER, DEFAULTS, TOPIC)[2], tags).model_copy(
        update={"name": name, "alarm_actions": actions, "ok_actions": actions}
    )
    # When the plan is made / Then it is not deleted
    plan = plan_alarm_changes(desired_of(ECS_ALONE), [alarm], alarm_topic_arn=TOPIC)
    assert plan.delete == (), why


def test_an_alarm_of_a_desired_name_that_warden_did_not_create_is_never_overwritten() -> None:
    # Given a person's own alarm named as Warden would name the service's CPU alarm, without the managed tag
    mine = described(desired_alarms(APP_RUNNER, AlarmThresholds(cpu_percent=50), TOPIC)[2], {"team": "web"})
    # When the plan is made
    plan = plan_alarm_changes(desired_of(APP_RUNNER), [mine], alarm_topic_arn=TOPIC)
    # Then it is left as it is and reported; the service's other alarms are created
    assert mine.name not in {spec.name for spec in plan.create} | {update.spec.name for update in plan.update}
    (conflict,) = plan.conflicts
    assert (conflict.name, conflict.service_arn) == (mine.name, APPRUNNER_ARN)
    assert "without the warden:managed=true tag" in conflict.reason
    assert len(plan.create) == 4


TWIN_A = owner("arn:aws:ecs:us-east-1:123456789012:service/a-cluster/web", target_group=TARGET_GROUP_ARN)
TWIN_B = owner(
    "arn:aws:ecs:us-east-1:123456789012:service/b-cluster/web",
    target_group=TARGET_GROUP_ARN.replace("73e2d6bc24d8a067", "0000000000000000"),
    load_balancer=LOAD_BALANCER_ARN,
)


@pytest.mark.parametrize("order", ["a first", "b first"])
def test_two_services_of_one_name_conflict_and_the_first_by_arn_keeps_the_names_on_every_run(order: str) -> None:
    # Given two guarded ECS services named "web" in two clusters, listed in either order
    owners = [TWIN_A, TWIN_B] if order == "a first" else [TWIN_B, TWIN_A]
    desired = desired_of(*owners)
    # When the plan is made on an empty account
    plan = plan_alarm_changes(desired, [], alarm_topic_arn=TOPIC)
    # Then the first by ARN (a-cluster) gets its alarms, the other none, each of its alarms reported
    assert [spec.service_arn for spec in plan.create] == [TWIN_A.service_arn] * 2
    assert {conflict.service_arn for conflict in plan.conflicts} == {TWIN_B.service_arn}
    assert len(plan.conflicts) == 5
    assert "comes first by ARN" in plan.conflicts[0].reason
    # And the next run changes nothing: the two never overwrite each other
    again = plan_alarm_changes(desired, existing_of(TWIN_A), alarm_topic_arn=TOPIC)
    assert again.writes == 0


def test_a_conflicting_services_other_alarms_are_kept_while_the_conflict_lasts() -> None:
    # Given the b-cluster "web" alone before (all five alarms), then a-cluster's "web" guarded too
    existing = existing_of(TWIN_B)
    # When the plan is made
    plan = plan_alarm_changes(desired_of(TWIN_A, TWIN_B), existing, alarm_topic_arn=TOPIC)
    # Then CPU and memory become a-cluster's (the first by ARN); b-cluster's load balancer alarms stay
    assert sorted(update.spec.name for update in plan.update) == ["warden-web-cpu", "warden-web-memory"]
    assert plan.delete == ()


def test_a_service_whose_alarms_could_not_all_be_decided_keeps_them() -> None:
    # Given a service's five alarms, and a run that could not read its target group tag
    existing = existing_of(ECS_BEHIND_LB)
    unsure = owner(ECS_ARN, complete=False)
    desired = desired_of(unsure)
    keep = {alarm_name(unsure.name, suffix) for suffix in SUFFIXES}
    # When the plan is made / Then nothing of it is deleted
    plan = plan_alarm_changes(desired, existing, keep=keep, alarm_topic_arn=TOPIC)
    assert plan.delete == ()
    assert len(plan.unchanged) == 2


# --- the use case ----------------------------------------------------------------------------------


@dataclass
class FakeCloudWatch:
    """CloudWatch's metric alarms in miniature: PutMetricAlarm's tags apply only to an alarm it creates (AWS ignores
    them on an update), DeleteAlarms takes 100 names. Failures can be injected per alarm."""

    alarms: dict[str, tuple[AlarmSpec, dict[str, str]]] = field(default_factory=dict)
    fail_list: bool = False
    fail_tags: set[str] = field(default_factory=set)
    fail_put: set[str] = field(default_factory=set)
    fail_delete: set[str] = field(default_factory=set)
    calls: int = 0
    writes: int = 0
    tag_reads: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def hold(self, spec: AlarmSpec, tags: dict[str, str]) -> None:
        stored = spec.model_copy(update={"tags": None, "service_arn": None, "arn": ACCOUNT_ALARMS + spec.name})
        self.alarms[spec.name] = (stored, dict(tags))

    def list_alarms(self, prefix: str) -> list[AlarmSpec]:
        self.calls += 1
        if self.fail_list:
            raise AwsUnavailable("cloudwatch DescribeAlarms failed after botocore's retries: Throttling")
        return [spec for name, (spec, _) in sorted(self.alarms.items()) if name.startswith(prefix)]

    def tags_of(self, alarms: Sequence[AlarmSpec]) -> TagsRead:
        tags: dict[str, dict[str, str]] = {}
        failures: dict[str, str] = {}
        for alarm in alarms:
            self.calls += 1
            self.tag_reads.append(alarm.name)
            if alarm.name in self.fail_tags:
                failures[alarm.name] = "ListTagsForResource: Throttling"
            else:
                tags[alarm.name] = dict(self.alarms[alarm.name][1])
        return TagsRead(tags=tags, failures=failures)

    def put_alarms(self, specs: Sequence[AlarmSpec]) -> dict[str, str]:
        failures: dict[str, str] = {}
        for spec in specs:
            self.calls += 1
            self.writes += 1
            if spec.name in self.fail_put:
                failures[spec.name] = "PutMetricAlarm: AccessDenied"
                continue
            self.written.append(spec.name)
            tags = self.alarms[spec.name][1] if spec.name in self.alarms else dict(spec.tags or {})
            self.hold(spec, tags)
        return failures

    def delete_alarms(self, names: Sequence[str]) -> dict[str, str]:
        failures: dict[str, str] = {}
        for start in range(0, len(names), 100):
            self.calls += 1
            self.writes += 1
            for name in names[start : start + 100]:
                if name in self.fail_delete:
                    failures[name] = "DeleteAlarms: AccessDenied"
                    continue
                self.deleted.append(name)
                self.alarms.pop(name, None)
        return failures


def test_a_run_over_unchanged_alarms_lists_them_and_does_nothing_else() -> None:
    # Given CloudWatch holding the alarms of the guarded services
    cloud = FakeCloudWatch()
    reconcile_alarms([APP_RUNNER, API], DEFAULTS, TOPIC, cloud)
    # When Warden reconciles again
    report = reconcile_alarms([APP_RUNNER, API], DEFAULTS, TOPIC, cloud)
    # Then one listing call, no tag read, no write
    assert (report.calls, report.writes) == (1, 0)
    assert len(report.unchanged) == 10
    assert report.complete


def test_one_failing_write_does_not_stop_the_others_and_is_reported() -> None:
    # Given CloudWatch refusing one alarm
    cloud = FakeCloudWatch(fail_put={"warden-consultation-app-memory"})
    # When the fleet's alarms are created
    report = reconcile_alarms([APP_RUNNER], DEFAULTS, TOPIC, cloud)
    # Then the four others exist, and the failure names the alarm
    assert len(report.created) == 4
    assert "warden-consultation-app-memory" not in report.created
    assert report.failures == ("warden-consultation-app-memory: PutMetricAlarm: AccessDenied",)
    assert report.writes == 5
    # And the next run tries it again
    cloud.fail_put.clear()
    assert reconcile_alarms([APP_RUNNER], DEFAULTS, TOPIC, cloud).created == ("warden-consultation-app-memory",)


@pytest.mark.parametrize("error", [AwsUnavailable("Throttling"), AlarmsRefused("AccessDenied")])
def test_alarms_that_cannot_be_listed_mean_no_write_at_all(error: Exception) -> None:
    # Given a listing that fails
    cloud = FakeCloudWatch()
    cloud.hold(desired_alarms(ECS_ALONE, DEFAULTS, TOPIC)[0], MANAGED)

    def refuse(prefix: str) -> list[AlarmSpec]:
        raise error

    cloud.list_alarms = refuse  # type: ignore[method-assign]
    # When Warden reconciles
    report = reconcile_alarms([APP_RUNNER], DEFAULTS, TOPIC, cloud)
    # Then it writes nothing (it could create over an alarm it did not see) and says why
    assert (report.writes, report.complete) == (0, False)
    (failure,) = report.failures
    assert failure.startswith("DescribeAlarms warden-*")


def test_an_alarm_whose_tags_cannot_be_read_is_neither_rewritten_nor_deleted() -> None:
    # Given the ECS service's alarms, now unguarded, and one whose tags cannot be read
    cloud = FakeCloudWatch(fail_tags={"warden-consultation-app-cpu"})
    for spec in desired_alarms(ECS_ALONE, DEFAULTS, TOPIC):
        cloud.hold(spec, MANAGED)
    # When Warden reconciles with no ECS service guarded
    report = reconcile_alarms([], DEFAULTS, TOPIC, cloud)
    # Then the other one is deleted, that one left and reported
    assert report.deleted == ("warden-consultation-app-memory",)
    assert "warden-consultation-app-cpu" in cloud.alarms
    assert report.failures == ("warden-consultation-app-cpu: ListTagsForResource: Throttling",)


def test_a_run_that_does_not_know_the_whole_fleet_deletes_nothing() -> None:
    # Given the alarms of two services, and a run whose discovery failed: only one service is known
    cloud = FakeCloudWatch()
    reconcile_alarms([APP_RUNNER, API], DEFAULTS, TOPIC, cloud)
    # When Warden reconciles what it knows
    report = reconcile_alarms([APP_RUNNER], DEFAULTS, TOPIC, cloud, membership_known=False)
    # Then the unknown service keeps its alarms, and no tag is read for a deletion that cannot happen
    assert report.deleted == ()
    assert (report.calls, report.writes) == (1, 0)
    assert len(cloud.alarms) == 10


# --- properties ------------------------------------------------------------------------------------

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
NAMES = ["webs", "apis", "xsvc"]  # App Runner names are 4 to 40 characters
CLUSTERS = ["a", "b"]
OTHER_NAMES = [
    "prod-warden-webs-cpu",
    "Warden-webs-cpu",
    "warden-xsvc-cpu",
    "warden-",
    "warden-cpu",
    "warden-self-errors-on-alarm",
    "warden-webs-cpu-copy",
    "other",
]


@st.composite
def owners(draw: st.DrawFn) -> list[AlarmOwner]:
    chosen: dict[str, AlarmOwner] = {}
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(NAMES))
        complete = draw(st.booleans())
        if draw(st.booleans()):
            arn = f"arn:aws:apprunner:us-east-1:123456789012:service/{name}/{'0' * 31}{len(chosen)}"
            found = owner(arn, complete=complete)
        else:
            cluster = draw(st.sampled_from(CLUSTERS))
            arn = f"arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{name}"
            group = draw(st.sampled_from([None, TARGET_GROUP_ARN]))
            balancer = draw(st.sampled_from([None, LOAD_BALANCER_ARN]))
            found = owner(arn, target_group=group, load_balancer=balancer, complete=complete)
        chosen.setdefault(found.service_arn, found)
    return list(chosen.values())


THRESHOLDS = st.builds(
    AlarmThresholds,
    cpu_percent=st.sampled_from([80.0, 90.0]),
    error_rate_percent=st.sampled_from([1.0, 5.0]),
)
TAGS = st.sampled_from([MANAGED, {}, {MANAGED_TAG: "TRUE"}, {"team": "web"}, {**MANAGED, "team": "web"}])


@st.composite
def cloud_alarms(draw: st.DrawFn) -> dict[str, tuple[AlarmSpec, dict[str, str]]]:
    """Whatever an account may hold: earlier Warden alarms of any service (any thresholds, any topic), people's
    alarms of any name, with or without the managed tag."""
    held: dict[str, tuple[AlarmSpec, dict[str, str]]] = {}
    for previous in draw(owners()):
        for spec in desired_alarms(previous, draw(THRESHOLDS), draw(st.sampled_from([TOPIC, OTHER_TOPIC]))):
            if draw(st.booleans()):
                held[spec.name] = (spec, draw(TAGS))
    base = desired_alarms(APP_RUNNER, DEFAULTS, TOPIC)[2]
    for name in draw(st.lists(st.sampled_from(OTHER_NAMES), max_size=4)):
        held[name] = (base.model_copy(update={"name": name}), draw(TAGS))
    return held


@given(existing=cloud_alarms(), fleet=owners(), thresholds=THRESHOLDS)
@settings(FAST, max_examples=400)
def test_nothing_without_the_managed_tag_or_the_prefix_is_ever_rewritten_or_deleted(
    existing: dict[str, tuple[AlarmSpec, dict[str, str]]], fleet: list[AlarmOwner], thresholds: AlarmThresholds
) -> None:
    # Given any account and any fleet, the tags of every alarm known
    desired = desired_of(*fleet, thresholds=thresholds)
    alarms = [described(spec, tags) for spec, tags in existing.values()]
    # When the plan is made
    plan = plan_alarm_changes(desired, alarms, alarm_topic_arn=TOPIC)
    # Then every deleted alarm starts with warden-, carries warden:managed=true, notifies this stack, is unwanted
    wanted = {spec.name for spec in desired}
    for name in plan.delete:
        spec, tags = existing[name]
        assert is_managed_name(name)
        assert tags.get(MANAGED_TAG) == "true"
        assert TOPIC in spec.alarm_actions
        assert name not in wanted
    # And every rewritten alarm carries the tag; nothing is written twice or both written and deleted
    for update in plan.update:
        assert existing[update.spec.name][1].get(MANAGED_TAG) == "true"
    written = [spec.name for spec in plan.create] + [update.spec.name for update in plan.update]
    assert len(written) == len(set(written))
    assert not set(written) & set(plan.delete)
    assert all(name.startswith(PREFIX) for name in written)


@given(existing=cloud_alarms(), fleet=owners(), thresholds=THRESHOLDS)
@settings(FAST, max_examples=300)
def test_reconciling_twice_makes_no_write_the_second_time(
    existing: dict[str, tuple[AlarmSpec, dict[str, str]]], fleet: list[AlarmOwner], thresholds: AlarmThresholds
) -> None:
    # Given any account and any fleet
    cloud = FakeCloudWatch()
    for spec, tags in existing.values():
        cloud.hold(spec, tags)
    before = {name: tags for name, (_, tags) in cloud.alarms.items()}
    # When Warden reconciles twice
    first = reconcile_alarms(fleet, thresholds, TOPIC, cloud)
    second = reconcile_alarms(fleet, thresholds, TOPIC, cloud)
    # Then the second run writes nothing, and what it reports is what the first left
    assert second.writes == 0, (first.summary(), second.summary())
    assert (second.created, second.updated, second.deleted) == ((), (), ())
    # And across both, nothing without the managed tag, or outside the prefix, was written over or deleted
    for name in cloud.deleted:
        assert name.startswith(PREFIX)
        assert before[name].get(MANAGED_TAG) == "true"
    for name in cloud.written:
        assert name.startswith(PREFIX)
        assert name not in before or before[name].get(MANAGED_TAG) == "true"
