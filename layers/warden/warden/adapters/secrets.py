"""Secrets Manager adapter: the chat webhook's URL, read from its secret and kept for a few minutes per container.

A warm container reads the secret once per `TTL_SECONDS`, not once per notification; a rotated URL is picked up
when that time is over, or at once after the webhook answered that the URL is wrong (`forget`). The secret's
value never appears in an error, a log line or a notification: errors name the AWS error code only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.chat import WebhookSecretInvalid, WebhookTarget, parse_webhook_secret

IAM_ACTIONS = frozenset({"secretsmanager:GetSecretValue"})
TTL_SECONDS: Final = 300.0

# Per container: secret ARN -> (read at, by the monotonic clock; the secret string).
_CACHE: dict[str, tuple[float, str]] = {}


class SecretsReader:
    def __init__(
        self,
        secretsmanager: Any | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = TTL_SECONDS,
    ) -> None:
        self._client = secretsmanager
        self._clock = clock
        self._ttl = ttl_seconds

    @property
    def _secretsmanager(self) -> Any:
        if self._client is None:
            self._client = client("secretsmanager")
        return self._client

    def secret_string(self, secret_arn: str) -> str:
        """The secret's current string, from this container's cache while it is younger than the TTL."""
        cached = _CACHE.get(secret_arn)
        now = self._clock()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = self._secretsmanager.get_secret_value(SecretId=secret_arn)
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("secretsmanager", "GetSecretValue", error) from None
            raise WebhookSecretInvalid(
                f"Secrets Manager refused to read the webhook secret: {error_code(error)}"
            ) from None
        except BotoCoreError as error:
            raise unavailable("secretsmanager", "GetSecretValue", error) from None
        value = response.get("SecretString")
        if not isinstance(value, str) or not value.strip():
            raise WebhookSecretInvalid("the webhook secret has no text value (SecretString)")
        _CACHE[secret_arn] = (now, value)
        return value

    def forget(self, secret_arn: str) -> None:
        _CACHE.pop(secret_arn, None)


class WebhookSecret:
    """The webhook named by one secret, for the poster (adapters/webhook.py)."""

    def __init__(self, secret_arn: str, reader: SecretsReader | None = None) -> None:
        self._arn = secret_arn
        self._reader = reader or SecretsReader()

    def target(self) -> WebhookTarget:
        return parse_webhook_secret(self._reader.secret_string(self._arn))

    def forget(self) -> None:
        self._reader.forget(self._arn)
