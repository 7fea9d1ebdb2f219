"""Test-wide environment: no real AWS, no X-Ray, deterministic Powertools."""

from __future__ import annotations

import os

# Set before anything imports warden.observability or boto3: tests must never reach real AWS.
for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Warden",
    "POWERTOOLS_SERVICE_NAME": "warden",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[name] = value
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)
