"""SNS adapter for the chat topic: publishes Amazon Q Developer custom notifications (JSON) for the channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, is_retryable, unavailable

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# The chat topic is encrypted with the AWS managed aws/sns key like the notification topic: SNS uses KMS for the
# publisher, and decrypts before it delivers to Amazon Q.
IAM_ACTIONS = frozenset({"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"})


class ChatTopic:
    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = sns

    @property
    def _sns(self) -> SNSClient:
        if self._client is None:
            self._client = client("sns")
        return self._client

    def publish(self, message: str, *, event: str, severity: str) -> str:
        """Publishes `message` (the notification's JSON) with the same filterable attributes as the e-mail."""
        try:
            response = self._sns.publish(
                TopicArn=self._topic_arn,
                Message=message,
                MessageAttributes={
                    "event": {"DataType": "String", "StringValue": event},
                    "severity": {"DataType": "String", "StringValue": severity},
                },
            )
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("sns", "Publish", error) from error
            raise
        except BotoCoreError as error:
            raise unavailable("sns", "Publish", error) from error
        return response["MessageId"]
