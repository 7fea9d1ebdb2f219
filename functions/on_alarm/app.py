"""CloudWatch alarm state changes: explain them, run the alarm's action (notify, pause, rollback), record.

Thin on purpose: the use case reads whichever delivery this is (the alarm topic's SNS records, an
EventBridge "CloudWatch Alarm State Change" event, or the alarm invoking the function directly).
A RetryableError propagates so that Lambda retries and, in the end, the on-failure queue keeps the event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.observability import logger, metrics, tracer
from warden.settings import get_settings
from warden.usecases.alarm import handle_event
from warden.wiring import alarm_deps


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    results = handle_event(event, alarm_deps(settings), settings, datetime.now(UTC))
    return {"results": [result.model_dump(mode="json") for result in results]}
