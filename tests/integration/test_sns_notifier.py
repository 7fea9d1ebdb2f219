"""SnsNotifier against moto: the notify topic and, when CENTRAL_TOPIC_ARN is set, the central topic.

The central topic of a real fleet is in another account (its topic policy admits the organization); moto cannot
hold two accounts' topics for one caller, so here it is a second topic, in this region or another one. Each topic
has an SQS queue subscribed, which shows what SNS delivered: subject, text and the filterable attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from warden.adapters import clients
from warden.adapters.sns import SnsNotifier
from warden.domain.notification import Notification, Severity
from warden.observability import metrics

pytestmark = pytest.mark.integration

REGION = "us-east-1"
NOTIFICATION = Notification(
    subject="[warden] PAUSED consultation-app: spend $10.42 of $10.00",
    body="Warden paused consultation-app.\n\nUndo: warden resume --claim budget",
    event="budget.paused",
    severity=Severity.CRITICAL,
)


@dataclass(frozen=True)
class Topic:
    arn: str
    queue_url: str
    region: str

    def delivered(self) -> list[dict[str, Any]]:
        """The SNS envelopes SNS delivered to the topic's queue."""
        sqs = boto3.client("sqs", region_name=self.region)
        received = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in received.get("Messages", [])]


def make_topic(name: str, region: str = REGION) -> Topic:
    sns = boto3.client("sns", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-reader")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return Topic(arn, queue_url, region)


def attributes(envelope: dict[str, Any]) -> dict[str, str]:
    return {name: value["Value"] for name, value in envelope.get("MessageAttributes", {}).items()}


@pytest.fixture(autouse=True)
def moto() -> Iterator[None]:
    # Warden's client factory caches clients: none built outside moto may be reused inside it, nor the reverse.
    clients.client.cache_clear()
    metrics.clear_metrics()
    with mock_aws():
        yield
    clients.client.cache_clear()
    metrics.clear_metrics()


def test_each_notification_goes_to_the_notify_topic_and_the_central_topic_alike() -> None:
    # Given a notify topic and a central topic, each read through a queue
    notify, central = make_topic("warden-notify"), make_topic("org-warden-central")
    notifier = SnsNotifier(notify.arn, boto3.client("sns", region_name=REGION), central_topic_arn=central.arn)

    # When a notification is published
    message_id = notifier.publish(NOTIFICATION)

    # Then both topics delivered it once, with the same subject, text and attributes
    (mine,) = notify.delivered()
    (theirs,) = central.delivered()
    assert message_id == mine["MessageId"]
    for envelope in (mine, theirs):
        assert envelope["Subject"] == NOTIFICATION.subject
        assert envelope["Message"] == NOTIFICATION.body
        assert attributes(envelope) == {"event": "budget.paused", "severity": "critical"}
    assert theirs["TopicArn"] == central.arn
    assert "CentralNotificationsFailed" not in metrics.metric_set


def test_without_a_central_topic_only_the_notify_topic_is_published_to() -> None:
    # Given no central topic (CENTRAL_TOPIC_ARN empty), and another topic that must stay silent
    notify, other = make_topic("warden-notify"), make_topic("org-warden-central")
    notifier = SnsNotifier(notify.arn, boto3.client("sns", region_name=REGION), central_topic_arn="")

    # When a notification is published / Then only the notify topic has it
    notifier.publish(NOTIFICATION)
    assert len(notify.delivered()) == 1
    assert other.delivered() == []


def test_a_central_topic_that_refuses_is_counted_and_logged_and_the_invocation_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a central topic that does not exist (as a topic whose policy does not admit this account refuses)
    notify = make_topic("warden-notify")
    missing = f"arn:aws:sns:{REGION}:123456789012:org-warden-central-deleted"
    notifier = SnsNotifier(notify.arn, boto3.client("sns", region_name=REGION), central_topic_arn=missing)

    # When a notification is published / Then no error reaches the caller, and the notify topic has it
    notifier.publish(NOTIFICATION)
    assert len(notify.delivered()) == 1
    # And the failure is counted on the metric of its own, and logged with the topic and the event
    assert "CentralNotificationsFailed" in metrics.metric_set
    assert "NotificationsFailed" not in metrics.metric_set
    (record,) = [record for record in caplog.records if "central topic" in record.getMessage()]
    assert record.levelname == "ERROR"
    assert (record.topic, record.event) == (missing, "budget.paused")  # type: ignore[attr-defined]


def test_a_notify_topic_that_fails_still_fails_the_invocation_after_the_central_topic_had_its_copy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a central topic, and a notify topic deleted behind CloudFormation's back
    notify, central = make_topic("warden-notify"), make_topic("org-warden-central")
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_topic(TopicArn=notify.arn)
    notifier = SnsNotifier(notify.arn, sns, central_topic_arn=central.arn)

    # When a notification is published / Then the error reaches the caller as before (the -self-errors- alarm)
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        notifier.publish(NOTIFICATION)
    assert "NotificationsFailed" in metrics.metric_set
    assert any("notify topic failed" in record.getMessage() for record in caplog.records)
    # And the central topic got the notification all the same
    (theirs,) = central.delivered()
    assert theirs["Subject"] == NOTIFICATION.subject


def test_a_central_topic_in_another_region_is_published_to_in_its_own_region() -> None:
    # Given the notify topic here and the central topic in another region (SNS publishes only in a topic's region),
    # and no client injected for the central topic
    notify, central = make_topic("warden-notify"), make_topic("org-warden-central", region="eu-central-1")
    notifier = SnsNotifier(notify.arn, boto3.client("sns", region_name=REGION), central_topic_arn=central.arn)

    # When a notification is published
    notifier.publish(NOTIFICATION)

    # Then each topic delivered it, and the central one through a client of its region
    assert len(notify.delivered()) == 1
    assert len(central.delivered()) == 1
    assert "CentralNotificationsFailed" not in metrics.metric_set
