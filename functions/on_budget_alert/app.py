"""AWS Budgets (and Cost Anomaly Detection) alerts over SNS: warn, or verify the spend and pause.

Thin on purpose: parse the envelope, build the adapters, hand each message to the use case.
A RetryableError propagates so that Lambda retries and, in the end, the on-failure queue keeps the event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.errors import UnparseableMessage
from warden.models.sns import parse_sns_event
from warden.observability import logger, metrics, tracer
from warden.settings import get_settings
from warden.usecases.budget_alert import forward_unparseable, handle_message
from warden.wiring import budget_alert_deps


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    deps = budget_alert_deps(settings)
    try:
        messages = parse_sns_event(event)
    except UnparseableMessage as error:
        raw = json.dumps(event, default=str, indent=2) if isinstance(event, dict | list) else str(event)
        forward_unparseable(raw, error.reason, subject=None, source="Lambda invocation", deps=deps, settings=settings)
        return {"results": [{"outcome": "forwarded", "reason": error.reason}]}
    now = datetime.now(UTC)
    results = [handle_message(message, deps, settings, now) for message in messages]
    return {"results": [result.model_dump(mode="json") for result in results]}
