"""The stack's health alarms, their topic, the direct-invocation permission and the dashboard.

The service's alarms exist in two sets with the same names, both in template.yaml (released resources never move:
tests/template/test_upgrade_safety.py): App Runner's (for an App Runner ServiceArn) and ECS's (for an ECS one; the
load balancer's three only with LoadBalancerArn and TargetGroupArn). The tests read the stack as deployed
(`local.template.load_stack`) and ask which resources a set of parameters deploys.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.events import load_event
from local.template import resources_of_type
from tests.template.deployment import APPRUNNER_ARN, Stack
from warden.domain.alarms import AlarmActionMap, MetricKind, classify, observed_value
from warden.messages.alarm import describe
from warden.models.alarm import parse_alarm_message

pytestmark = pytest.mark.template

SERVICE_NAME = {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "ServiceArn"}]}]}
SERVICE_ID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "ServiceArn"}]}]}
APP_RUNNER_DIMENSIONS = [{"Name": "ServiceName", "Value": SERVICE_NAME}, {"Name": "ServiceID", "Value": SERVICE_ID}]
# An ECS service ARN is arn:...:service/<cluster>/<name>: the same split gives the cluster first.
ECS_DIMENSIONS = [{"Name": "ClusterName", "Value": SERVICE_NAME}, {"Name": "ServiceName", "Value": SERVICE_ID}]
LOAD_BALANCER = {"Fn::Select": [1, {"Fn::Split": [":loadbalancer/", {"Ref": "LoadBalancerArn"}]}]}
TARGET_GROUP = {"Fn::Select": [5, {"Fn::Split": [":", {"Ref": "TargetGroupArn"}]}]}
TARGET_GROUP_DIMENSIONS = [
    {"Name": "TargetGroup", "Value": TARGET_GROUP},
    {"Name": "LoadBalancer", "Value": LOAD_BALANCER},
]
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
LOAD_BALANCER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/50dc6c495c0c9188"
)
TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/73e2d6bc24d8a067"
ALARM_ARNS = {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"}
SELF_WATCHING = {"AWS/Lambda", "AWS/SQS"}
# logical id -> (name suffix, threshold parameter or literal, parameter default)
ALARMS = {
    "ErrorRateAlarm": ("5xx-rate", {"Ref": "ErrorRateThresholdPercent"}, 5),
    "LatencyAlarm": ("p99-latency", {"Ref": "LatencyP99ThresholdMs"}, 5000),
    "CpuAlarm": ("cpu", {"Ref": "CpuThresholdPercent"}, 90),
    "MemoryAlarm": ("memory", {"Ref": "MemoryThresholdPercent"}, 95),
    "NoInstancesAlarm": ("no-instances", 1, None),
    "BillingAlarm": ("billing", {"Ref": "BillingAlarmThreshold"}, ""),
    "EcsErrorRateAlarm": ("5xx-rate", {"Ref": "ErrorRateThresholdPercent"}, 5),
    "EcsLatencyAlarm": ("p99-latency", {"Ref": "LatencyP99ThresholdMs"}, 5000),
    "EcsCpuAlarm": ("cpu", {"Ref": "CpuThresholdPercent"}, 90),
    "EcsMemoryAlarm": ("memory", {"Ref": "MemoryThresholdPercent"}, 95),
    "EcsNoHealthyTargetsAlarm": ("no-instances", 1, None),
}
APP_RUNNER_ALARMS = ["ErrorRateAlarm", "LatencyAlarm", "CpuAlarm", "MemoryAlarm", "NoInstancesAlarm"]
# ECS alarm -> its App Runner twin (the alarm of the same name)
ECS_ALARMS = {
    "EcsCpuAlarm": "CpuAlarm",
    "EcsMemoryAlarm": "MemoryAlarm",
    "EcsErrorRateAlarm": "ErrorRateAlarm",
    "EcsLatencyAlarm": "LatencyAlarm",
    "EcsNoHealthyTargetsAlarm": "NoInstancesAlarm",
}


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return found


def app_runner_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every App Runner metric an alarm reads: its own, or those of its metric-math queries."""
    if "MetricName" in alarm:
        return [alarm]
    return [query["MetricStat"]["Metric"] for query in alarm.get("Metrics", []) if "MetricStat" in query]


def test_the_template_has_exactly_the_stacks_alarms(template: dict[str, Any]) -> None:
    # Warden's alarms on itself (AWS/Lambda errors, the failed-events queue) are tested in test_self_watching.py.
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    health = {name for name, alarm in alarms.items() if alarm["Properties"].get("Namespace") not in SELF_WATCHING}
    assert health == set(ALARMS)


@pytest.mark.parametrize("logical_id", sorted(ALARMS))
def test_each_alarm_is_named_after_the_stack_and_notifies_the_alarm_topic_on_alarm_and_ok(
    template: dict[str, Any], logical_id: str
) -> None:
    # Given an alarm / When its name and actions are read
    alarm = properties(template, logical_id)
    suffix, threshold, default = ALARMS[logical_id]
    # Then the name is <stack>-<suffix> (what ALARM_ACTIONS refers to), and ALARM and OK go to AlarmTopic
    assert alarm["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert "InsufficientDataActions" not in alarm
    # And the threshold is the parameter (with its sensible default)
    assert alarm["Threshold"] == threshold
    if isinstance(threshold, dict):
        assert template["Parameters"][threshold["Ref"]]["Default"] == default


@pytest.mark.parametrize("logical_id", APP_RUNNER_ALARMS)
def test_every_app_runner_alarm_names_both_dimensions_split_from_the_service_arn(
    template: dict[str, Any], logical_id: str
) -> None:
    # Given an alarm on the service / When the metrics it reads are listed
    metrics = app_runner_metrics(properties(template, logical_id))
    # Then each is an AWS/AppRunner metric with ServiceName AND ServiceID, taken from ServiceArn
    assert metrics
    for metric in metrics:
        assert metric["Namespace"] == "AWS/AppRunner"
        assert metric["Dimensions"] == APP_RUNNER_DIMENSIONS


def test_the_5xx_rate_is_metric_math_over_5xx_and_requests_without_dividing_by_zero(template: dict[str, Any]) -> None:
    alarm = properties(template, "ErrorRateAlarm")
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    assert {query["MetricStat"]["Metric"]["MetricName"] for query in queries.values() if "MetricStat" in query} == {
        "5xxStatusResponses",
        "Requests",
    }
    assert all(query["MetricStat"]["Stat"] == "Sum" for query in queries.values() if "MetricStat" in query)
    returned = [query for query in queries.values() if query["ReturnData"]]
    (rate,) = returned
    expression = rate["Expression"]
    assert "100 *" in expression
    assert "FILL(requests, 0)" in expression
    assert expression.startswith("IF(FILL(requests, 0) > 0,")
    assert "Period" not in alarm  # a metric-math alarm sets the period per query
    assert (alarm["ComparisonOperator"], alarm["TreatMissingData"]) == ("GreaterThanThreshold", "notBreaching")


def test_latency_cpu_memory_and_no_instances_watch_the_right_statistic_over_the_right_periods(
    template: dict[str, Any],
) -> None:
    latency = properties(template, "LatencyAlarm")
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("RequestLatency", "p99")
    assert "Statistic" not in latency
    for logical_id, metric in (("CpuAlarm", "CPUUtilization"), ("MemoryAlarm", "MemoryUtilization")):
        alarm = properties(template, logical_id)
        assert (alarm["MetricName"], alarm["Statistic"]) == (metric, "Average")
        # Sustained: 3 of 3 periods of 5 minutes
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 3)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    instances = properties(template, "NoInstancesAlarm")
    assert (instances["MetricName"], instances["ComparisonOperator"], instances["Threshold"]) == (
        "ActiveInstances",
        "LessThanThreshold",
        1,
    )


def test_the_billing_alarm_exists_only_on_request_and_only_in_us_east_1(template: dict[str, Any]) -> None:
    # Given the billing alarm and its condition
    resource = template["Resources"]["BillingAlarm"]
    condition = template["Conditions"][resource["Condition"]]
    # Then it needs a non-empty threshold AND the us-east-1 region, and watches estimated charges in USD
    assert condition == {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "BillingAlarmThreshold"}, ""]}]},
            {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        ]
    }
    alarm = resource["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Billing", "EstimatedCharges")
    assert alarm["Dimensions"] == [{"Name": "Currency", "Value": "USD"}]


def test_the_alarm_topic_admits_only_this_accounts_alarms_and_is_unencrypted_for_cloudwatch(
    template: dict[str, Any],
) -> None:
    # Given the alarm topic and its policy
    topic = properties(template, "AlarmTopic")
    policy = properties(template, "AlarmTopicPolicy")
    (statement,) = policy["PolicyDocument"]["Statement"]
    # Then CloudWatch may publish only for this account's alarms, and no aws/sns key blocks it
    assert "KmsMasterKeyId" not in topic
    assert policy["Topics"] == [{"Ref": "AlarmTopic"}]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow",
        "SNS:Publish",
        {"Ref": "AlarmTopic"},
    )
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": ALARM_ARNS},
    }


def test_alarms_of_this_account_may_invoke_on_alarm_directly(template: dict[str, Any]) -> None:
    permissions = resources_of_type(template, "AWS::Lambda::Permission").values()
    on_alarm = {"Fn::GetAtt": ["OnAlarmFunction", "Arn"]}
    (permission,) = [permission for permission in permissions if permission["Properties"]["FunctionName"] == on_alarm]
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": on_alarm,
        "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": ALARM_ARNS,
    }


def test_on_alarm_is_subscribed_to_the_alarm_topic_and_reads_its_settings(template: dict[str, Any]) -> None:
    function = properties(template, "OnAlarmFunction")
    events = function["Events"].values()
    assert [event["Properties"]["Topic"] for event in events if event["Type"] == "SNS"] == [{"Ref": "AlarmTopic"}]
    assert function["Environment"]["Variables"] == {
        "ALARM_ACTIONS": {"Ref": "AlarmActions"},
        "ALARM_COOLDOWN_MINUTES": {"Ref": "AlarmCooldownMinutes"},
        "LOAD_BALANCER_ARN": {"Ref": "LoadBalancerArn"},
        "TARGET_GROUP_ARN": {"Ref": "TargetGroupArn"},
    }
    assert template["Resources"]["OnAlarmLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${OnAlarmFunction}"
    }


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("warden-5xx-rate=rollback,warden-no-instances=notify,*-cpu=pause", True),
        ("warden-5xx-rate=rollback, *-cpu=pause", True),
        ("warden-cpu=reboot", False),
        ("warden-cpu", False),
        ("=pause", False),
    ],
)
def test_the_alarm_actions_parameter_and_the_setting_agree_on_what_is_valid(
    template: dict[str, Any], value: str, accepted: bool
) -> None:
    # Given the parameter's AllowedPattern (checked by CloudFormation) and the settings parser (in Lambda)
    pattern = re.compile(template["Parameters"]["AlarmActions"]["AllowedPattern"])
    # When a value is checked by both / Then both accept or both refuse it
    assert bool(pattern.fullmatch(value)) is accepted
    try:
        AlarmActionMap.parse(value)
        parsed = True
    except ValueError:
        parsed = False
    assert parsed is accepted


# --- the ECS alarms ----------------------------------------------------------------------------------


def evaluate(node: Any, parameters: dict[str, Any]) -> Any:
    """A Ref / Fn::Split / Fn::Select tree's value for these parameter values, as CloudFormation computes it."""
    if isinstance(node, dict) and "Ref" in node:
        return parameters[node["Ref"]]
    if isinstance(node, dict) and "Fn::Split" in node:
        separator, text = node["Fn::Split"]
        return str(evaluate(text, parameters)).split(separator)
    if isinstance(node, dict) and "Fn::Select" in node:
        index, items = node["Fn::Select"]
        return evaluate(items, parameters)[index]
    return node


ECS_PARAMETERS = {"ServiceArn": ECS_ARN, "LoadBalancerArn": LOAD_BALANCER_ARN, "TargetGroupArn": TARGET_GROUP_ARN}


# Which health alarms each kind of service gets (the billing alarm is the account's, not the service's).
DEPLOYMENTS: dict[str, tuple[dict[str, str], set[str]]] = {
    "app-runner": ({"ServiceArn": APPRUNNER_ARN}, set(APP_RUNNER_ALARMS)),
    "ecs": ({"ServiceArn": ECS_ARN}, {"EcsCpuAlarm", "EcsMemoryAlarm"}),
    # The template's rule refuses a load balancer without its target group; the alarms need both anyway.
    "ecs-half-load-balancer": (
        {"ServiceArn": ECS_ARN, "LoadBalancerArn": LOAD_BALANCER_ARN},
        {"EcsCpuAlarm", "EcsMemoryAlarm"},
    ),
    "ecs-with-load-balancer": (
        {"ServiceArn": ECS_ARN, "LoadBalancerArn": LOAD_BALANCER_ARN, "TargetGroupArn": TARGET_GROUP_ARN},
        set(ECS_ALARMS),
    ),
}


@pytest.mark.parametrize("kind", sorted(DEPLOYMENTS))
def test_each_kind_of_service_gets_exactly_its_own_health_alarms_one_per_name(
    template: dict[str, Any], kind: str
) -> None:
    # Given the parameters of a stack guarding this kind of service
    parameters, expected = DEPLOYMENTS[kind]
    # When the template's conditions are evaluated for them
    deployed = Stack(template, **parameters).resources() & set(ALARMS)
    # Then exactly that kind's health alarms exist, and no two of them share a name
    assert deployed - {"BillingAlarm"} == expected
    names = [str(properties(template, name)["AlarmName"]) for name in deployed]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("logical_id", sorted(ECS_ALARMS))
def test_each_ecs_alarm_keeps_its_app_runner_twins_name_threshold_and_evaluation(
    template: dict[str, Any], logical_id: str
) -> None:
    # Given an ECS alarm and its App Runner twin
    ecs = properties(template, logical_id)
    twin = properties(template, ECS_ALARMS[logical_id])
    # Then the name (what AlarmActions such as *-cpu=pause refer to) and how it judges are the same
    same = (
        "AlarmName",
        "Threshold",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "ComparisonOperator",
        "TreatMissingData",
    )
    assert {key: ecs.get(key) for key in same} == {key: twin.get(key) for key in same}
    assert periods(ecs) == periods(twin) == {300}


def periods(alarm: dict[str, Any]) -> set[int]:
    """The period of a metric alarm, or the periods of a metric-math alarm's metrics."""
    if "Period" in alarm:
        return {alarm["Period"]}
    return {query["MetricStat"]["Period"] for query in alarm["Metrics"] if "MetricStat" in query}


@pytest.mark.parametrize(
    ("logical_id", "metric"), [("EcsCpuAlarm", "CPUUtilization"), ("EcsMemoryAlarm", "MemoryUtilization")]
)
def test_the_ecs_cpu_and_memory_alarms_watch_aws_ecs_by_cluster_and_service(
    template: dict[str, Any], logical_id: str, metric: str
) -> None:
    alarm = properties(template, logical_id)
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/ECS", metric, "Average")
    assert alarm["Dimensions"] == ECS_DIMENSIONS
    # And for prod/consultation-app the dimensions are exactly what ECS publishes
    values = {dimension["Name"]: evaluate(dimension["Value"], ECS_PARAMETERS) for dimension in alarm["Dimensions"]}
    assert values == {"ClusterName": "prod", "ServiceName": "consultation-app"}


@pytest.mark.parametrize("logical_id", ["EcsErrorRateAlarm", "EcsLatencyAlarm"])
def test_the_load_balancer_alarms_read_the_target_group_by_the_ends_of_the_arns(
    template: dict[str, Any], logical_id: str
) -> None:
    # Given a load balancer alarm / When the metrics it reads are listed
    metrics = app_runner_metrics(properties(template, logical_id))
    # Then each is an AWS/ApplicationELB metric of the target group, whose values are the ARNs' suffixes
    assert metrics
    for metric in metrics:
        assert metric["Namespace"] == "AWS/ApplicationELB"
        assert metric["Dimensions"] == TARGET_GROUP_DIMENSIONS
        values = {dimension["Name"]: evaluate(dimension["Value"], ECS_PARAMETERS) for dimension in metric["Dimensions"]}
        assert values == {
            "TargetGroup": "targetgroup/consultation-app/73e2d6bc24d8a067",
            "LoadBalancer": "app/consultation-app/50dc6c495c0c9188",
        }


def test_the_ecs_5xx_rate_is_the_same_expression_over_the_targets_5xx_and_the_requests(
    template: dict[str, Any],
) -> None:
    alarm = properties(template, "EcsErrorRateAlarm")
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    read = {query["MetricStat"]["Metric"]["MetricName"] for query in queries.values() if "MetricStat" in query}
    assert read == {"HTTPCode_Target_5XX_Count", "RequestCount"}
    assert all(query["MetricStat"]["Stat"] == "Sum" for query in queries.values() if "MetricStat" in query)
    assert all(query["MetricStat"]["Period"] == 300 for query in queries.values() if "MetricStat" in query)
    (rate,) = (query for query in queries.values() if query["ReturnData"])
    (app_runner_rate,) = (query for query in properties(template, "ErrorRateAlarm")["Metrics"] if query["ReturnData"])
    assert (rate["Expression"], rate["Label"]) == (app_runner_rate["Expression"], app_runner_rate["Label"])
    assert {"errors", "requests"} <= set(queries)


def test_the_ecs_latency_alarm_turns_the_seconds_of_target_response_time_into_milliseconds(
    template: dict[str, Any],
) -> None:
    # Given the ECS latency alarm
    alarm = properties(template, "EcsLatencyAlarm")
    (metric,) = (query for query in alarm["Metrics"] if "MetricStat" in query)
    (expression,) = (query for query in alarm["Metrics"] if query["ReturnData"])
    # Then it reads the p99 of TargetResponseTime (seconds) and returns 1000 times it, labelled in ms
    assert (metric["MetricStat"]["Metric"]["MetricName"], metric["MetricStat"]["Stat"]) == ("TargetResponseTime", "p99")
    assert metric["ReturnData"] is False
    assert re.fullmatch(rf"1000 \* {metric['Id']}", expression["Expression"])
    assert "(ms)" in expression["Label"]
    # And the threshold is the millisecond parameter: 7.2 s is 7200, above the default 5000
    assert alarm["Threshold"] == {"Ref": "LatencyP99ThresholdMs"}
    assert template["Parameters"]["LatencyP99ThresholdMs"]["Default"] < 1000 * 7.2


def sns_message(template: dict[str, Any], logical_id: str, value: float) -> str:
    """The SNS message CloudWatch sends when the template's alarm fires with `value` (prod/consultation-app)."""
    alarm = properties(template, logical_id)
    parameters = {
        **ECS_PARAMETERS,
        "LatencyP99ThresholdMs": 5000,
        "ErrorRateThresholdPercent": 5,
        "CpuThresholdPercent": 90,
    }
    threshold = float(evaluate(alarm["Threshold"], parameters))

    def dimensions(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{"name": item["Name"], "value": evaluate(item["Value"], parameters)} for item in raw]

    trigger: dict[str, Any] = {
        key: alarm[key] for key in ("EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "TreatMissingData")
    }
    trigger["Threshold"] = threshold
    if "Metrics" in alarm:
        trigger["Metrics"] = [
            {
                **query,
                "MetricStat": {
                    **query["MetricStat"],
                    "Metric": {
                        **query["MetricStat"]["Metric"],
                        "Dimensions": dimensions(query["MetricStat"]["Metric"]["Dimensions"]),
                    },
                },
            }
            if "MetricStat" in query
            else query
            for query in alarm["Metrics"]
        ]
    else:
        trigger.update(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Statistic=alarm["Statistic"].upper(),
            Period=alarm["Period"],
            Dimensions=dimensions(alarm["Dimensions"]),
        )
    return json.dumps(
        {
            "AlarmName": "warden-prod-x",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:warden-prod-x",
            "NewStateValue": "ALARM",
            "OldStateValue": "OK",
            "NewStateReason": f"Threshold Crossed: 1 datapoint [{value} (27/11/26 10:00:00)] was greater than the "
            f"threshold ({threshold}).",
            "StateChangeTime": "2026-11-27T10:05:37.811+0000",
            "Trigger": trigger,
        }
    )


@pytest.mark.parametrize(
    ("logical_id", "value", "kind", "sentence"),
    [
        ("EcsCpuAlarm", 96.4, MetricKind.CPU, "CPU utilisation is 96.4 %, above 90 %."),
        ("EcsErrorRateAlarm", 12.5, MetricKind.ERROR_RATE, "The 5xx error rate is 12.5 %, above 5 %."),
        ("EcsLatencyAlarm", 7200.0, MetricKind.LATENCY, "The p99 response time is 7.2 s, above 5 s."),
    ],
)
def test_on_alarm_reads_the_templates_ecs_alarms_in_their_units(
    template: dict[str, Any], logical_id: str, value: float, kind: MetricKind, sentence: str
) -> None:
    # Given the message CloudWatch sends when the stack's ECS alarm fires (the latency one's datapoint is 1000 x s)
    change = parse_alarm_message(sns_message(template, logical_id, value))
    # When on_alarm's domain reads it / Then it knows the metric and words it in the right unit
    assert classify(change) is kind
    assert describe(change, observed_value(change.reason)).sentence == sentence


@pytest.mark.parametrize(
    ("fixture", "logical_id"),
    [
        ("sns-ecs-cpu-alarm", "EcsCpuAlarm"),
        ("sns-alb-5xx-rate-alarm", "EcsErrorRateAlarm"),
        ("sns-alb-p99-latency-alarm", "EcsLatencyAlarm"),
    ],
)
def test_the_ecs_alarm_fixtures_carry_the_dimensions_the_template_gives(
    template: dict[str, Any], fixture: str, logical_id: str
) -> None:
    # Given an events/on_alarm fixture and the template alarm it stands for
    message = json.loads(load_event("on_alarm", fixture)["Records"][0]["Sns"]["Message"])
    alarm = properties(template, logical_id)
    raw = (
        [alarm]
        if "MetricName" in alarm
        else [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]
    )
    fixture_raw = (
        [message["Trigger"]]
        if "MetricName" in message["Trigger"]
        else [query["MetricStat"]["Metric"] for query in message["Trigger"]["Metrics"] if "MetricStat" in query]
    )
    # Then the fixture's metrics and dimensions are those the template's alarm reads for prod/consultation-app
    expected = sorted(
        (
            metric["MetricName"],
            tuple(sorted((d["Name"], evaluate(d["Value"], ECS_PARAMETERS)) for d in metric["Dimensions"])),
        )
        for metric in raw
    )
    found = sorted(
        (metric["MetricName"], tuple(sorted((d["name"], d["value"]) for d in metric["Dimensions"])))
        for metric in fixture_raw
    )
    assert found == expected


@pytest.mark.parametrize(
    ("parameter", "value", "accepted"),
    [
        ("LoadBalancerArn", "", True),
        ("LoadBalancerArn", LOAD_BALANCER_ARN, True),
        ("LoadBalancerArn", LOAD_BALANCER_ARN.replace("/app/", "/net/"), False),
        ("LoadBalancerArn", TARGET_GROUP_ARN, False),
        ("LoadBalancerArn", "app/consultation-app/50dc6c495c0c9188", False),
        ("TargetGroupArn", "", True),
        ("TargetGroupArn", TARGET_GROUP_ARN, True),
        ("TargetGroupArn", TARGET_GROUP_ARN.replace("123456789012", "1234"), False),
        ("TargetGroupArn", LOAD_BALANCER_ARN, False),
    ],
)
def test_the_load_balancer_parameters_take_an_application_load_balancer_and_a_target_group_arn(
    template: dict[str, Any], parameter: str, value: str, accepted: bool
) -> None:
    declared = template["Parameters"][parameter]
    assert declared["Default"] == ""
    assert declared["ConstraintDescription"]
    assert (re.fullmatch(declared["AllowedPattern"], value) is not None) is accepted


def test_a_load_balancer_without_its_target_group_is_refused_at_deploy_time(template: dict[str, Any]) -> None:
    # Given the template's rule on the two load balancer parameters
    (assertion,) = template["Rules"]["LoadBalancerAlarmsNeedBothArns"]["Assertions"]
    empty = {name: {"Fn::Equals": [{"Ref": name}, ""]} for name in ("LoadBalancerArn", "TargetGroupArn")}
    # Then it holds when both are empty or both are set, never for one alone
    assert assertion["Assert"] == {
        "Fn::Or": [
            {"Fn::And": [empty["LoadBalancerArn"], empty["TargetGroupArn"]]},
            {"Fn::And": [{"Fn::Not": [empty["LoadBalancerArn"]]}, {"Fn::Not": [empty["TargetGroupArn"]]}]},
        ]
    }
    assert "together" in assertion["AssertDescription"]


def test_the_alarm_actions_parameter_lists_every_alarm_name_and_what_ecs_needs_a_load_balancer_for(
    template: dict[str, Any],
) -> None:
    description = " ".join(template["Parameters"]["AlarmActions"]["Description"].split())
    for suffix, _, _ in ALARMS.values():
        assert f"-{suffix}" in description
    assert "same names for an App Runner and an ECS service" in description
    assert "-no-instances (no healthy target) only with LoadBalancerArn and TargetGroupArn" in description


# --- the dashboard ----------------------------------------------------------------------------------

SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
KINDS = {kind: parameters for kind, (parameters, _) in DEPLOYMENTS.items() if kind != "ecs-half-load-balancer"}


class Dashboard:
    """The dashboard body of a stack deployed with `parameters`: each Fn::If chosen, each Fn::Sub filled in
    (parameters and resources as <Name>, number parameters as 1), with what it used and could not resolve."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.stack = Stack(template, **parameters)
        self.numbers = {name for name, parameter in template["Parameters"].items() if parameter["Type"] == "Number"}
        self.variables: dict[str, Any] = {}  # the Sub variables computed from intrinsics (Select/Split)
        self.resources: set[str] = set()
        self.unresolved: set[str] = set()
        text = self.resolve(properties(template, "HealthDashboard")["DashboardBody"])
        self.body: dict[str, Any] = json.loads(text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict) and "Fn::If" in node:
            condition, chosen, other = node["Fn::If"]
            return self.resolve(chosen if self.stack.condition(condition) else other)
        if isinstance(node, dict) and "Fn::Sub" in node:
            body, variables = node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})
            values = {name: self.resolve(value) for name, value in variables.items()}
            for name, value in values.items():
                if not isinstance(value, str):
                    self.variables[name] = value
            return SUB_VARIABLE.sub(lambda match: self.fill(match.group(1), values), body)
        return node

    def fill(self, name: str, values: dict[str, Any]) -> str:
        if name in values:
            value = values[name]
            return value if isinstance(value, str) else f"<{name}>"
        if name in self.numbers:
            return "1"
        resource = name.split(".")[0]
        if resource in self.template["Resources"]:
            self.resources.add(resource)
        elif name not in self.template["Parameters"] and name != "AWS::Region":
            self.unresolved.add(name)
        return f"<{name}>"

    def metrics(self) -> list[list[Any]]:
        return [
            metric
            for widget in self.body["widgets"]
            if widget["type"] == "metric"
            for metric in widget["properties"]["metrics"]
            if isinstance(metric[0], str)
        ]

    def expressions(self) -> list[str]:
        return [
            metric[0]["expression"]
            for widget in self.body["widgets"]
            if widget["type"] == "metric"
            for metric in widget["properties"]["metrics"]
            if isinstance(metric[0], dict)
        ]

    def alarms(self) -> list[str]:
        return [
            alarm
            for widget in self.body["widgets"]
            if widget["type"] == "alarm"
            for alarm in widget["properties"]["alarms"]
        ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_dashboard_body_is_json_and_names_only_what_exists_for_this_kind_of_service(
    template: dict[str, Any], kind: str
) -> None:
    # Given the dashboard of a stack guarding this kind of service
    dashboard = Dashboard(template, KINDS[kind])
    # Then every ${...} resolves, and every resource it names exists in that stack
    assert not dashboard.unresolved
    deployed = dashboard.stack.resources()
    for resource in dashboard.resources:
        assert resource in deployed, f"{resource} is not created for {kind}"
    # And the widgets do not overlap
    cells = [
        (widget["x"] + dx, widget["y"] + dy)
        for widget in dashboard.body["widgets"]
        for dx in range(widget["width"])
        for dy in range(widget["height"])
    ]
    assert len(cells) == len(set(cells))


def test_the_dashboard_shows_the_app_runner_services_health(template: dict[str, Any]) -> None:
    # Given the dashboard of an App Runner service
    dashboard = Dashboard(template, KINDS["app-runner"])
    assert dashboard.variables == {"ServiceName": SERVICE_NAME, "ServiceId": SERVICE_ID}
    # Then every App Runner metric of the service is on it, with both dimensions of this service
    app_runner = {metric[1] for metric in dashboard.metrics() if metric[0] == "AWS/AppRunner"}
    assert app_runner >= {
        "Requests",
        "5xxStatusResponses",
        "RequestLatency",
        "CPUUtilization",
        "MemoryUtilization",
        "ActiveInstances",
    }
    for metric in dashboard.metrics():
        assert metric[0] in {"AWS/AppRunner", "Warden", "AWS/Lambda"}
        if metric[0] == "AWS/AppRunner":
            assert metric[2:6] == ["ServiceName", "<ServiceName>", "ServiceID", "<ServiceId>"]
    # And the 5xx rate is the alarm's expression, and the alarms widget shows the App Runner alarms
    rate = next(query for query in properties(template, "ErrorRateAlarm")["Metrics"] if query["ReturnData"])
    assert dashboard.expressions() == [rate["Expression"]]
    assert dashboard.alarms() == [f"<{name}.Arn>" for name in APP_RUNNER_ALARMS]


@pytest.mark.parametrize("kind", ["ecs", "ecs-with-load-balancer"])
def test_the_dashboard_shows_the_ecs_services_health_and_its_load_balancers_when_given(
    template: dict[str, Any], kind: str
) -> None:
    # Given the dashboard of an ECS service, with or without a load balancer
    with_load_balancer = kind == "ecs-with-load-balancer"
    dashboard = Dashboard(template, KINDS[kind])
    # Then its CPU and memory are AWS/ECS metrics of this cluster and service, as the alarms read them
    ecs = {metric[1]: metric[2:6] for metric in dashboard.metrics() if metric[0] == "AWS/ECS"}
    assert set(ecs) == {"CPUUtilization", "MemoryUtilization"}
    assert all(
        dimensions == ["ClusterName", "<ClusterName>", "ServiceName", "<ServiceName>"] for dimensions in ecs.values()
    )
    assert {"ClusterName": SERVICE_NAME, "ServiceName": SERVICE_ID}.items() <= dashboard.variables.items()
    assert not [metric for metric in dashboard.metrics() if metric[0] == "AWS/AppRunner"]
    # And the load balancer's requests, 5xx rate and response time (in ms, as the alarm) only with one
    load_balancer = {metric[1] for metric in dashboard.metrics() if metric[0] == "AWS/ApplicationELB"}
    alarms = ["<EcsCpuAlarm.Arn>", "<EcsMemoryAlarm.Arn>"]
    if with_load_balancer:
        assert load_balancer >= {"RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "HealthyHostCount"}
        for metric in dashboard.metrics():
            if metric[0] == "AWS/ApplicationELB" and "TargetGroup" in metric:
                assert metric[2:6] == ["TargetGroup", "<TargetGroup>", "LoadBalancer", "<LoadBalancer>"]
        assert {"TargetGroup": TARGET_GROUP, "LoadBalancer": LOAD_BALANCER}.items() <= dashboard.variables.items()
        returned = [
            next(query for query in properties(template, name)["Metrics"] if query["ReturnData"])["Expression"]
            for name in ("EcsErrorRateAlarm", "EcsLatencyAlarm")
        ]
        assert dashboard.expressions() == returned
        alarms += ["<EcsErrorRateAlarm.Arn>", "<EcsLatencyAlarm.Arn>", "<EcsNoHealthyTargetsAlarm.Arn>"]
    else:
        assert load_balancer == set()
        assert dashboard.expressions() == []
    assert dashboard.alarms() == alarms


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_dashboard_shows_wardens_own_metrics_and_every_functions_errors(
    template: dict[str, Any], kind: str
) -> None:
    metrics = Dashboard(template, KINDS[kind]).metrics()
    warden = {metric[1] for metric in metrics if metric[0] == "Warden" and metric[2:4] == ["service", "warden"]}
    assert warden == {"ActionsTaken", "AlertsParsed", "AlertsUnparsed", "DuplicateEvents", "NotificationsSent"}
    errors = {metric[3].strip("<>") for metric in metrics if metric[:3] == ["AWS/Lambda", "Errors", "FunctionName"]}
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    missing = functions - errors
    assert not missing, (
        f"add the Lambda Errors of {sorted(missing)} to the 'Warden function errors' widget of "
        'HealthDashboard in template.yaml: ["AWS/Lambda", "Errors", "FunctionName", "${<Function>}"]'
    )
