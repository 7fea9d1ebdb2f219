"""The one place boto3 clients are built, with the one botocore configuration.

Endpoints are never chosen here: botocore reads `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
itself, which is how the local demo and the tests point Warden at moto and the App Runner emulator.
Retries come from botocore's standard mode (throttling and 5xx with jittered backoff), never from
hand-written loops.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from warden import __version__
from warden.errors import AwsUnavailable

CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra=f"warden/{__version__}",
)

# For a capability probe (is this an Express service?): one attempt, since any refusal already answers "no".
PROBE_CONFIG = CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))

# Codes that mean "not now" rather than "never": botocore has already retried them.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "Throttled",  # SNS's ThrottledException answers with this code (HTTP 429)
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "InternalServiceErrorException",
        "InternalErrorException",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceFailure",
    }
)


@cache
def client(service_name: str, region_name: str | None = None) -> Any:
    """A client per service and region, built on first use and reused by the warm container."""
    # Typed per service by the adapters (mypy_boto3_*); the factory itself is service-agnostic.
    session: Any = boto3.session.Session()
    return session.client(service_name, region_name=region_name, config=CONFIG)


@cache
def probe_client(service_name: str, region_name: str | None = None) -> Any:
    session: Any = boto3.session.Session()
    return session.client(service_name, region_name=region_name, config=PROBE_CONFIG)


def region_configured() -> bool:
    """Whether botocore finds a region (environment, profile or config file), as every client would."""
    session: Any = boto3.session.Session()
    return bool(session.region_name)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_retryable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in RETRYABLE_CODES or int(status) >= 500
    return isinstance(error, BotoCoreError)


def unavailable(service_name: str, operation: str, error: Exception) -> AwsUnavailable:
    detail = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return AwsUnavailable(f"{service_name} {operation} failed after botocore's retries: {detail}")
