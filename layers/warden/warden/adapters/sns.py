"""SNS adapter: publish Warden's notifications with filterable attributes; read a topic's subscriptions.

A publish that fails is counted (metric `NotificationsFailed`) and logged before the error goes on to the
caller: the invocation then fails, and the function's `-self-errors-` alarm tells the operator through the
alarm topic, whose e-mail subscription does not depend on the notify topic.
"""

from __future__ import annotations

import os
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
    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        super().__init__(sns)
        self._topic_arn = topic_arn

    def publish(self, notification: Notification) -> str:
        try:
            return self._publish(notification)
        except Exception as error:
            count("NotificationsFailed")
            logger.error(
                "notification NOT delivered: publishing to the notify topic failed",
                extra={"topic": self._topic_arn, "event": notification.event, "error": str(error)},
            )
            raise

    def _publish(self, notification: Notification) -> str:
        # The Notification masked secret-looking strings; this also masks this environment's secret values.
        secrets = secret_values(os.environ)
        return publish(
            self._sns,
            self._topic_arn,
            redact(notification.body, secrets),
            subject=clean_subject(redact(notification.subject, secrets)),
            event=notification.event,
            severity=notification.severity.value,
        )


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
