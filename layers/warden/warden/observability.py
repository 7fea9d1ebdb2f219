"""The one Logger, Metrics and Tracer of every Warden function (and the CLI).

Tracing is opt-in (the stack's `Tracing` parameter sets WARDEN_TRACING). Powertools' `Tracer` imports the
X-Ray SDK, which builds botocore clients at import: about 0.5 s of every cold start (AWS-FACTS §8). So
unless WARDEN_TRACING is true AND the X-Ray SDK is installed, `tracer` is a no-op whose decorator returns
the handler unchanged, and neither the SDK nor Powertools' Tracer is ever imported. The layer ships no
X-Ray SDK: with Tracing=true, Lambda's Active tracing still records every invocation (its Init,
Invocation and Overhead phases) without one; adding `aws-xray-sdk` to layers/warden/requirements.txt
adds Powertools' subsegments per AWS call on top.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from warden.domain.redaction import redact, secret_values

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "warden")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Warden")

Handler = TypeVar("Handler", bound=Callable[..., Any])


class HandlerTracer(Protocol):
    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler: ...


class NoTracing:
    """Tracing off: the handler is returned as it is."""

    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler:
        return lambda_handler


class PowertoolsTracing:
    """Powertools' Tracer (X-Ray subsegments, cold-start annotation); imported only when it is used."""

    def __init__(self, service: str) -> None:
        from aws_lambda_powertools.tracing import Tracer

        self.tracer = Tracer(service=service)

    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler:
        return cast(Handler, self.tracer.capture_lambda_handler(lambda_handler))


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """WARDEN_TRACING is true and the X-Ray SDK (which Powertools' Tracer needs) is importable."""
    env = os.environ if environ is None else environ
    wanted = env.get("WARDEN_TRACING", "false").strip().lower() in {"true", "1", "yes", "on"}
    return wanted and importlib.util.find_spec("aws_xray_sdk") is not None


def make_tracer(environ: Mapping[str, str] | None = None) -> HandlerTracer:
    return PowertoolsTracing(SERVICE) if tracing_enabled(environ) else NoTracing()


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log lines with every secret-looking string masked (warden/domain/redaction.py): the
    message, the extra keys and the traceback alike. The values of this environment's secret variables
    (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, anything named *SECRET*, *TOKEN*, *API_KEY*...) are masked too."""

    known = secret_values(os.environ)

    def serialize(self, log: Any) -> str:
        return redact(super().serialize(log), self.known)


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = make_tracer()


def count(name: str, value: int = 1) -> None:
    """Adds to a Warden metric (flushed as EMF by the handler's `log_metrics` decorator)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
