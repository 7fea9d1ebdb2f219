"""The one Logger, Metrics and Tracer of every Warden function (and the CLI)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "warden")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Warden")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def count(name: str, value: int = 1) -> None:
    """Adds to a Warden metric (flushed as EMF by the handler's `log_metrics` decorator)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
