"""Warden watches itself: an alarm on every function's errors and on the failed-events queue, to the operator."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.template import function_statements, resources_of_type
from warden.domain.alarms import is_self_watching

pytestmark = pytest.mark.template

ALARM_TYPE = "AWS::CloudWatch::Alarm"
FUNCTION_TYPE = "AWS::Serverless::Function"
TO_THE_OPERATOR = [{"Ref": "AlarmTopic"}]
STACK = "warden-prod"


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {logical_id: alarm["Properties"] for logical_id, alarm in resources_of_type(template, ALARM_TYPE).items()}


def deployed_name(alarm: dict[str, Any]) -> str:
    """The alarm's name in a stack called warden-prod (`!Sub ${AWS::StackName}-...`)."""
    return str(alarm["AlarmName"]["Fn::Sub"]).replace("${AWS::StackName}", STACK)


def errors_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Lambda Errors alarms, by the function they watch (its logical id)."""
    found: dict[str, dict[str, Any]] = {}
    for alarm in alarms(template).values():
        if (alarm.get("Namespace"), alarm.get("MetricName")) == ("AWS/Lambda", "Errors"):
            (dimension,) = alarm["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            found[dimension["Value"]["Ref"]] = alarm
    return found


def test_every_function_has_an_alarm_on_its_own_lambda_errors(template: dict[str, Any]) -> None:
    # Given every function of the stack and the Lambda Errors alarms
    functions = set(resources_of_type(template, FUNCTION_TYPE))
    watched = errors_alarms(template)

    # Then each function is watched by exactly one of them
    missing = functions - set(watched)
    assert not missing, (
        f"add an AWS/Lambda Errors alarm for {sorted(missing)} to template.yaml's self-watching alarms (copy "
        "OnBudgetAlertErrorsAlarm: AlarmName ${AWS::StackName}-self-errors-<function>, Dimensions FunctionName "
        "!Ref <Function>)"
    )
    assert set(watched) <= functions


@pytest.mark.parametrize("kind", ["errors", "queue"])
def test_each_self_watching_alarm_fires_on_the_first_failure_and_notifies_the_operator_on_alarm_and_ok(
    template: dict[str, Any], kind: str
) -> None:
    # Given the self-watching alarms of one kind
    chosen = list(errors_alarms(template).values()) if kind == "errors" else [failed_events_alarm(template)]
    assert chosen
    for alarm in chosen:
        # Then any error (or any waiting message) in five minutes trips it, and no data is no failure
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 1, 1)
        assert alarm["TreatMissingData"] == "notBreaching"
        # And ALARM and OK go to AlarmTopic, where on_alarm words them for the operator
        assert alarm["AlarmActions"] == TO_THE_OPERATOR
        assert alarm["OKActions"] == TO_THE_OPERATOR
        assert "InsufficientDataActions" not in alarm
        # And on_alarm recognises it by its name, and its description says that Warden failed
        assert is_self_watching(deployed_name(alarm)), deployed_name(alarm)
        assert str(alarm["AlarmDescription"]).startswith("Warden itself failed")


def failed_events_alarm(template: dict[str, Any]) -> dict[str, Any]:
    (alarm,) = (
        alarm
        for alarm in alarms(template).values()
        if (alarm.get("Namespace"), alarm.get("MetricName")) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    )
    return alarm


def test_the_failed_events_queue_alarms_as_soon_as_a_message_waits_in_it(template: dict[str, Any]) -> None:
    # Given the queue-depth alarm / Then it watches the on-failure destination of every function, by its name
    alarm = failed_events_alarm(template)
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]}}]
    assert alarm["Statistic"] == "Maximum"
    assert deployed_name(alarm) == f"{STACK}-self-failed-events"
    destinations = {
        str(function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"])
        for function in resources_of_type(template, FUNCTION_TYPE).values()
    }
    assert destinations == {str({"Fn::GetAtt": ["FailedEventsQueue", "Arn"]})}


def test_the_errors_alarms_are_named_after_the_stack_and_the_function(template: dict[str, Any]) -> None:
    names = {logical_id: deployed_name(alarm) for logical_id, alarm in errors_alarms(template).items()}
    assert names["OnBudgetAlertFunction"] == f"{STACK}-self-errors-on-budget-alert"
    assert len(set(names.values())) == len(names)
    assert all(name.startswith(f"{STACK}-self-errors-") for name in names.values())


def test_only_the_self_watching_alarms_read_as_warden_failing(template: dict[str, Any]) -> None:
    # Given every alarm of the stack / When its deployed name is checked
    for logical_id, alarm in alarms(template).items():
        own = alarm.get("Namespace") in {"AWS/Lambda", "AWS/SQS"}
        # Then exactly Warden's own alarms carry the self-watching name (the service's health alarms do not)
        assert is_self_watching(deployed_name(alarm)) is own, logical_id


def test_the_alarm_topic_reaches_the_function_that_explains_alarms(template: dict[str, Any]) -> None:
    events = template["Resources"]["OnAlarmFunction"]["Properties"]["Events"].values()
    assert {"Ref": "AlarmTopic"} in [event["Properties"].get("Topic") for event in events if event["Type"] == "SNS"]


# --- the second path: a failure that turns a guarantee off reaches a person without Warden's own parts ------


def refs(node: Any) -> set[str]:
    """Every logical id a template fragment names (Ref, GetAtt, and ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", str(text)))
                if isinstance(value, list):
                    found.update(refs(value[1]))
            else:
                found.update(refs(value))
    elif isinstance(node, list):
        for item in node:
            found.update(refs(item))
    return found


def email_on_alarm_topic(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = (
        (logical_id, subscription)
        for logical_id, subscription in resources_of_type(template, "AWS::SNS::Subscription").items()
        if subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    )
    return found


def self_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm for logical_id, alarm in alarms(template).items() if is_self_watching(deployed_name(alarm))
    }


def test_the_alert_email_is_subscribed_straight_to_the_topic_of_wardens_own_alarms(template: dict[str, Any]) -> None:
    # Given the stack's subscriptions / Then AlertEmail receives the alarm topic directly (no function between)
    logical_id, subscription = email_on_alarm_topic(template)
    properties = subscription["Properties"]
    assert subscription.get("Condition") == "HasAlertEmail"
    assert (properties["Protocol"], properties["Endpoint"]) == ("email", {"Ref": "AlertEmail"})
    # And it is filtered on the alarm's name in its JSON body, to Warden's own alarms
    assert properties["FilterPolicyScope"] == "MessageBody"
    ((prefix,),) = [[rule["prefix"] for rule in rules] for rules in properties["FilterPolicy"].values()]
    assert list(properties["FilterPolicy"]) == ["AlarmName"]
    deployed_prefix = str(prefix["Fn::Sub"]).replace("${AWS::StackName}", STACK)
    # And every self-watching alarm passes the filter, and no health alarm of the service does
    for alarm in alarms(template).values():
        assert deployed_name(alarm).startswith(deployed_prefix) is is_self_watching(deployed_name(alarm)), logical_id


def test_the_second_path_depends_on_neither_the_notify_topic_nor_the_state_table_nor_a_function(
    template: dict[str, Any],
) -> None:
    # Given the path a self-watching alarm takes to a person: the alarm, the alarm topic, its policy, the e-mail
    resources = template["Resources"]
    chosen = self_alarms(template)
    assert len(chosen) == len(resources_of_type(template, FUNCTION_TYPE)) + 1  # one per function, plus the queue's
    _, subscription = email_on_alarm_topic(template)
    path_parts = [resources["AlarmTopic"], resources["AlarmTopicPolicy"], subscription]
    # Then no part of it names the notify topic, the state table or a function (beyond the metric it watches)
    for part in path_parts:
        assert refs(part) & {"NotifyTopic", "StateTable"} == set()
        assert not any(name.endswith("Function") for name in refs(part))
    for logical_id, alarm in chosen.items():
        assert refs(alarm["AlarmActions"]) | refs(alarm["OKActions"]) == {"AlarmTopic"}, logical_id
        assert refs(alarm) & {"NotifyTopic", "StateTable"} == set(), logical_id


def test_the_failed_events_queue_itself_is_watched_so_that_a_function_failing_for_good_is_seen(
    template: dict[str, Any],
) -> None:
    # Given every function's on-failure destination and the queue-depth alarm
    alarm = failed_events_alarm(template)
    # Then that alarm is among the ones e-mailed straight to the operator
    assert is_self_watching(deployed_name(alarm))
    assert alarm["AlarmActions"] == TO_THE_OPERATOR


def test_run_schedule_may_read_the_notify_topics_subscriptions_and_knows_the_budget_topic(
    template: dict[str, Any],
) -> None:
    function = template["Resources"]["RunScheduleFunction"]["Properties"]
    assert function["Environment"]["Variables"]["BUDGET_TOPIC_ARN"] == {"Ref": "BudgetAlertTopic"}
    statements = {
        statement.get("Sid"): statement
        for statement in function_statements(template, "RunScheduleFunction")
        if "Sid" in statement
    }
    assert statements["ReadNotifySubscriptions"] == {
        "Sid": "ReadNotifySubscriptions",
        "Effect": "Allow",
        "Action": "sns:ListSubscriptionsByTopic",
        "Resource": {"Ref": "NotifyTopic"},
    }
