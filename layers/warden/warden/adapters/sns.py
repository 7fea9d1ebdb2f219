"""SNS adapter: publish Warden's notifications with filterable attributes; read a topic's subscriptions.

A publish to the notify topic that fails is counted (metric `NotificationsFailed`) and logged before the error
goes on to the caller: the invocation then fails, and the function's `-self-errors-` alarm tells the operator
through the alarm topic, whose e-mail subscription does not depend on the notify topic.

With a central topic (CENTRAL_TOPIC_ARN, usually another account's) every notification is also published there,
with the same subject, text and attributes. A failed publish there is counted (`CentralNotificationsFailed`) and
logged, and never fails the invocation: the account's own topic has the notification, and a retry would send it
there a second time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.notification import Notification, clean_subject
from warden.domain.redaction import redact, secret_values
from warden.domain.wiring import TopicNotFound, TopicSubscription, WiringUnreadable
from warden.observability import count, logger

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# The notification topic is encrypted with the AWS-managed SNS key, so publishing uses KMS through SNS.
PUBLISH_ACTIONS = frozenset({"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"})
# Only the budget wiring check (run_schedule, `warden doctor`) reads the notify topic's subscriptions.
IAM_ACTIONS = PUBLISH_ACTIONS | {"sns:ListSubscriptionsByTopic"}
# What SNS puts in SubscriptionArn until the endpoint's owner confirms the subscription.
PENDING = "PendingConfirmation"


class _SnsUser:
    """Builds the SNS client on first use (a cold start that never publishes never pays for it)."""

    def __init__(self, sns: SNSClient | None = None) -> None:
        self._client = sns

    @property
    def _sns(self) -> SNSClient:
        if self._client is None:
            self._client = client("sns")
        return self._client


class SnsNotifier(_SnsUser):
    """Publishes each notification to the notify topic and, when one is set, to the central topic as well.

    `central_sns` is the client for the central topic; by default the notify topic's client when both topics are
    in the same region, else one built for the central topic's region (SNS publishes only in the topic's region,
    and a StackSets instance may run in any region while the central topic lives in one)."""

    def __init__(
        self,
        topic_arn: str,
        sns: SNSClient | None = None,
        *,
        central_topic_arn: str | None = None,
        central_sns: SNSClient | None = None,
    ) -> None:
        super().__init__(sns)
        self._topic_arn = topic_arn
        self._central_topic_arn = central_topic_arn or None
        self._central_client = central_sns

    def publish(self, notification: Notification) -> str:
        """The notify topic's message id. Raises what its publish raised, after the central topic was tried too."""
        message = _Message.of(notification)
        try:
            message_id = message.publish(self._sns, self._topic_arn)
        except Exception as error:
            count("NotificationsFailed")
            logger.error(
                "notification NOT delivered: publishing to the notify topic failed",
                extra={"topic": self._topic_arn, "event": notification.event, "error": str(error)},
            )
            # The central topic may still reach a person while this account's topic cannot.
            self._publish_central(message)
            raise
        self._publish_central(message)
        return message_id

    def _publish_central(self, message: _Message) -> None:
        if self._central_topic_arn is None:
            return
        try:
            message.publish(self._central_sns, self._central_topic_arn)
        except Exception as error:
            count("CentralNotificationsFailed")
            logger.error(
                "notification not delivered to the central topic (the notify topic has it)",
                extra={"topic": self._central_topic_arn, "event": message.event, "error": str(error)},
            )

    @property
    def _central_sns(self) -> SNSClient:
        if self._central_client is None:
            region = _region_of(self._central_topic_arn or "")
            same_region = region is None or region == _region_of(self._topic_arn)
            self._central_client = self._sns if same_region else client("sns", region_name=region)
        return self._central_client


@dataclass(frozen=True)
class _Message:
    """A notification as published: redacted once, then sent to each topic alike."""

    body: str
    subject: str
    event: str
    severity: str

    @classmethod
    def of(cls, notification: Notification) -> _Message:
        # The Notification masked secret-looking strings; this also masks this environment's secret values.
        secrets = secret_values(os.environ)
        return cls(
            body=redact(notification.body, secrets),
            subject=clean_subject(redact(notification.subject, secrets)),
            event=notification.event,
            severity=notification.severity.value,
        )

    def publish(self, sns: SNSClient, topic_arn: str) -> str:
        return publish(sns, topic_arn, self.body, subject=self.subject, event=self.event, severity=self.severity)


def _region_of(topic_arn: str) -> str | None:
    """The region field of a topic ARN (arn:<partition>:sns:<region>:<account>:<name>), None if it has none."""
    parts = topic_arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


class ChatTopic(_SnsUser):
    """The chat topic: Amazon Q Developer custom notifications (JSON) for the channels subscribed to it.

    Encrypted with the AWS managed aws/sns key like the notification topic, so publishing needs the same KMS
    actions (PUBLISH_ACTIONS)."""

    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        super().__init__(sns)
        self._topic_arn = topic_arn

    def publish(self, message: str, *, event: str, severity: str) -> str:
        """Publishes `message` (the notification's JSON) with the same filterable attributes as the e-mail."""
        return publish(self._sns, self._topic_arn, message, subject=None, event=event, severity=severity)


def publish(sns: SNSClient, topic_arn: str, message: str, *, subject: str | None, event: str, severity: str) -> str:
    """One Publish with the `event` and `severity` attributes subscribers filter on; the message id."""
    request: dict[str, object] = {
        "TopicArn": topic_arn,
        "Message": message,
        "MessageAttributes": {
            "event": {"DataType": "String", "StringValue": event},
            "severity": {"DataType": "String", "StringValue": severity},
        },
    }
    if subject is not None:
        request["Subject"] = subject
    try:
        response = sns.publish(**request)  # type: ignore[arg-type]
    except ClientError as error:
        if is_retryable(error):
            raise unavailable("sns", "Publish", error) from error
        raise
    except BotoCoreError as error:
        raise unavailable("sns", "Publish", error) from error
    return response["MessageId"]


class SnsTopics(_SnsUser):
    """Reads a topic's subscriptions, to tell whether anybody receives what is published there."""

    def subscriptions(self, topic_arn: str) -> list[TopicSubscription]:
        """Raises TopicNotFound, WiringUnreadable (AuthorizationError...) or AwsUnavailable."""
        found: list[TopicSubscription] = []
        try:
            for page in self._sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
                found.extend(
                    TopicSubscription(
                        protocol=str(item.get("Protocol", "")),
                        endpoint=str(item.get("Endpoint", "")),
                        confirmed=str(item.get("SubscriptionArn", PENDING)).startswith("arn:"),
                    )
                    for item in page.get("Subscriptions", [])
                )
        except ClientError as error:
            code = error_code(error)
            if code == "NotFound":
                raise TopicNotFound(f"the SNS topic {topic_arn} does not exist") from error
            if is_retryable(error):
                raise unavailable("sns", "ListSubscriptionsByTopic", error) from error
            raise WiringUnreadable(f"SNS ListSubscriptionsByTopic: {code}", code) from error
        except BotoCoreError as error:
            raise unavailable("sns", "ListSubscriptionsByTopic", error) from error
        return found
