"""template.yaml's health alarms, their topic, the direct-invocation permission and the dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.template import resources_of_type
from warden.domain.alarms import AlarmActionMap

pytestmark = pytest.mark.template

SERVICE_NAME = {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "ServiceArn"}]}]}
SERVICE_ID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "ServiceArn"}]}]}
APP_RUNNER_DIMENSIONS = [{"Name": "ServiceName", "Value": SERVICE_NAME}, {"Name": "ServiceID", "Value": SERVICE_ID}]
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


@pytest.mark.parametrize(
    "logical_id", ["ErrorRateAlarm", "LatencyAlarm", "CpuAlarm", "MemoryAlarm", "NoInstancesAlarm"]
)
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
    (permission,) = resources_of_type(template, "AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": ["OnAlarmFunction", "Arn"]},
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


# --- the dashboard ----------------------------------------------------------------------------------

SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def dashboard(template: dict[str, Any]) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    """The dashboard body as JSON (variables replaced by placeholders), the variables it uses, and its map."""
    body, variables = properties(template, "HealthDashboard")["DashboardBody"]["Fn::Sub"]
    used = set(SUB_VARIABLE.findall(body))
    numbers = {name for name, parameter in template["Parameters"].items() if parameter["Type"] == "Number"}
    text = SUB_VARIABLE.sub(lambda match: "1" if match.group(1) in numbers else f"<{match.group(1)}>", body)
    parsed: dict[str, Any] = json.loads(text)
    return parsed, used, variables


def test_the_dashboard_body_is_json_and_every_variable_it_uses_resolves(template: dict[str, Any]) -> None:
    # Given the dashboard's !Sub body and variable map
    _, used, variables = dashboard(template)
    known = set(template["Parameters"]) | set(template["Resources"]) | set(variables) | {"AWS::Region"}
    # Then each ${...} names a parameter, a resource (or its attribute), a map variable or the region
    assert {name.split(".")[0] for name in used} <= known
    assert variables == {"ServiceName": SERVICE_NAME, "ServiceId": SERVICE_ID}


def test_the_dashboard_shows_the_services_health_for_this_service(template: dict[str, Any]) -> None:
    # Given the parsed dashboard
    body, _, _ = dashboard(template)
    metric_lists = [
        metric
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], str)
    ]
    # Then every App Runner metric of the service is on it, with both dimensions of this service
    app_runner = {metric[1] for metric in metric_lists if metric[0] == "AWS/AppRunner"}
    assert app_runner >= {
        "Requests",
        "5xxStatusResponses",
        "RequestLatency",
        "CPUUtilization",
        "MemoryUtilization",
        "ActiveInstances",
    }
    for metric in metric_lists:
        if metric[0] == "AWS/AppRunner":
            assert metric[2:6] == ["ServiceName", "<ServiceName>", "ServiceID", "<ServiceId>"]
    # And the 5xx rate is the alarm's expression
    expressions = [
        metric[0]["expression"]
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], dict)
    ]
    rate = next(query for query in properties(template, "ErrorRateAlarm")["Metrics"] if query["ReturnData"])
    assert expressions == [rate["Expression"]]


def test_the_dashboard_shows_wardens_own_metrics_and_every_functions_errors(template: dict[str, Any]) -> None:
    body, _, _ = dashboard(template)
    metrics = [
        metric
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[0], str)
    ]
    warden = {metric[1] for metric in metrics if metric[0] == "Warden" and metric[2:4] == ["service", "warden"]}
    assert warden == {"ActionsTaken", "AlertsParsed", "AlertsUnparsed", "DuplicateEvents", "NotificationsSent"}
    errors = {metric[3].strip("<>") for metric in metrics if metric[:3] == ["AWS/Lambda", "Errors", "FunctionName"]}
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    missing = functions - errors
    assert not missing, (
        f"add the Lambda Errors of {sorted(missing)} to HealthDashboard's 'Warden function errors' widget: "
        '["AWS/Lambda", "Errors", "FunctionName", "${<Function>}"]'
    )
