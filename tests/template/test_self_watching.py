"""Warden watches itself: an alarm on every function's errors and on the failed-events queue, to the operator."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import resources_of_type
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
        f"add an AWS/Lambda Errors alarm for {sorted(missing)} (copy OnBudgetAlertErrorsAlarm: "
        "AlarmName ${AWS::StackName}-self-errors-<function>, Dimensions FunctionName !Ref <Function>)"
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
