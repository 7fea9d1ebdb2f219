"""SNS adapter: publish Warden's notifications with filterable attributes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, is_retryable, unavailable
from warden.domain.notification import Notification, clean_subject
from warden.domain.redaction import redact, secret_values

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# The notification topic is encrypted with the AWS-managed SNS key, so publishing uses KMS through SNS.
IAM_ACTIONS = frozenset({"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"})


class SnsNotifier:
    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = sns

    @property
    def _sns(self) -> SNSClient:
        if self._client is None:
            self._client = client("sns")
        return self._client

    def publish(self, notification: Notification) -> str:
        try:
            response = self._sns.publish(
                TopicArn=self._topic_arn,
                # The Notification masked secret-looking strings; this also masks this environment's secret values.
                Subject=clean_subject(redact(notification.subject, secret_values(os.environ))),
                Message=redact(notification.body, secret_values(os.environ)),
                MessageAttributes={
                    "event": {"DataType": "String", "StringValue": notification.event},
                    "severity": {"DataType": "String", "StringValue": notification.severity.value},
                },
            )
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("sns", "Publish", error) from error
            raise
        except BotoCoreError as error:
            raise unavailable("sns", "Publish", error) from error
        return response["MessageId"]
