"""With the notify topic or the state table DELETED, a failure still reaches a person: by the second path.

What runs here, against moto's server and the App Runner emulator:
- the real handlers fail the invocation (Lambda's `Errors` metric, which each function's `-self-errors-` alarm
  watches) when the notify topic is gone, and count `NotificationsFailed` in their EMF output;
- the budget alert still pauses the service before that failure;
- the alarm topic's e-mail filter of template.yaml, as SNS (moto) applies it, lets Warden's own alarms through
  and keeps the service's health alarms out.
What only the template guarantees (tests/template/test_self_watching.py), since neither CloudWatch alarms nor
e-mail exist locally: that those alarms fire on the first error, publish to the alarm topic, and that
AlertEmail is subscribed to that topic directly, naming neither the notify topic nor the state table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.account import LocalAccount
from local.invoke import invoke
from local.template import load_template
from tests.events import budget_message, load_event, sns_event
from warden.domain.alarms import is_self_watching

pytestmark = pytest.mark.integration

STACK = "warden-prod"


def breach(account: LocalAccount) -> dict[str, Any]:
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    return sns_event(text, message_id="0b7e3a52-5d0e-4f43-b1a5-6c1e9b2f7d11", topic_arn=account.budget_topic_arn)


def emf_counts(stdout: str, metric: str) -> int:
    """The sum of `metric` over the EMF documents Powertools printed (what CloudWatch would record)."""
    total = 0
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            total += int(sum(document[metric]) if isinstance(document.get(metric), list) else document.get(metric, 0))
    return total


def delete_notify_topic(account: LocalAccount) -> None:
    account.client("sns").delete_topic(TopicArn=account.notify_topic_arn)


def delete_state_table(account: LocalAccount) -> None:
    account.client("dynamodb").delete_table(TableName=account.table_name)


def test_a_budget_breach_with_the_notify_topic_deleted_pauses_and_fails_loudly(
    account: LocalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a confirmed breach, and the notify topic deleted behind CloudFormation's back
    account.set_budget(limit="10.00", actual="10.42")
    delete_notify_topic(account)
    capsys.readouterr()
    # When the 100 % alert arrives / Then the invocation fails (Lambda Errors: the -self-errors- alarm's metric)
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        invoke("on_budget_alert", breach(account), account.env())
    # And the service is paused all the same, and the failed publish was counted
    assert account.service_status() == "PAUSED"
    assert emf_counts(capsys.readouterr().out, "NotificationsFailed") >= 1


def test_the_budget_period_check_with_the_notify_topic_deleted_fails_the_invocation(
    account: LocalAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    delete_notify_topic(account)
    capsys.readouterr()
    with pytest.raises(Exception, match="does not exist"):
        invoke("run_schedule", load_event("run_schedule", "budget-period-check"), account.env())
    assert emf_counts(capsys.readouterr().out, "NotificationsFailed") >= 1


@pytest.mark.parametrize("removed", ["table", "table and topic"])
def test_with_the_state_table_deleted_a_person_still_hears_or_the_invocation_fails(
    account: LocalAccount, removed: str
) -> None:
    # Given the state table deleted (and, in the worst case, the notify topic too), and a budget that alerts
    # nobody at the enforce threshold
    account.client("budgets").delete_notification(
        AccountId="123456789012",
        BudgetName=account.budget_name,
        Notification={
            "NotificationType": "ACTUAL",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 100.0,
            "ThresholdType": "PERCENTAGE",
        },
    )
    delete_state_table(account)
    if "topic" in removed:
        delete_notify_topic(account)
    # When the 6-hourly check runs / Then the invocation fails (the errors alarm's path) ...
    with pytest.raises(Exception, match=r"ResourceNotFound|not found|does not exist"):
        invoke("run_schedule", load_event("run_schedule", "budget-period-check"), account.env())
    # ... and where the notify topic still exists, the "budget enforcement is OFF" message went out first,
    # quoting why the state table could not be read
    if "topic" not in removed:
        (received,) = account.inbox()
        assert received.attributes == {"event": "budget.enforcement_off", "severity": "critical"}
        assert "ResourceNotFound" in received.body


def alarm_message(name: str, namespace: str, metric: str) -> str:
    return json.dumps(
        {
            "AlarmName": name,
            "NewStateValue": "ALARM",
            "OldStateValue": "OK",
            "NewStateReason": "Threshold Crossed",
            "StateChangeTime": "2026-11-23T06:20:00.000+0000",
            "Trigger": {"Namespace": namespace, "MetricName": metric, "Dimensions": []},
        }
    )


def test_the_alarm_topics_email_filter_lets_wardens_own_alarms_through_and_nothing_else(account: LocalAccount) -> None:
    # Given an alarm topic and an inbox subscribed with the template's filter, as stack warden-prod deploys it
    properties = load_template()["Resources"]["AlarmEmailSubscription"]["Properties"]
    ((key, rules),) = properties["FilterPolicy"].items()
    policy = {key: [{"prefix": rules[0]["prefix"]["Fn::Sub"].replace("${AWS::StackName}", STACK)}]}
    sns, sqs = account.client("sns"), account.client("sqs")
    topic = sns.create_topic(Name="warden-prod-AlarmTopic")["TopicArn"]
    inbox = sqs.create_queue(QueueName="alarm-email-stand-in")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=inbox_arn,
        Attributes={
            "FilterPolicyScope": properties["FilterPolicyScope"],
            "FilterPolicy": json.dumps(policy),
            "RawMessageDelivery": "true",
        },
    )
    # When CloudWatch publishes Warden's own alarms and the service's health alarms
    published = {
        f"{STACK}-self-errors-run-schedule": ("AWS/Lambda", "Errors"),
        f"{STACK}-self-failed-events": ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        f"{STACK}-5xx-rate": ("AWS/AppRunner", "5xxStatusResponses"),
        f"{STACK}-cpu": ("AWS/AppRunner", "CPUUtilization"),
    }
    for name, (namespace, metric) in published.items():
        sns.publish(TopicArn=topic, Message=alarm_message(name, namespace, metric))
    # Then exactly Warden's own alarms arrive
    received = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    names = {json.loads(message["Body"])["AlarmName"] for message in received}
    assert names == {name for name in published if is_self_watching(name)}
