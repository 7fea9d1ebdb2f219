"""Image purge: the daily schedule (`{"job": "purge-images"}`) and ECR pushes to the app's repository.

Thin on purpose: classify the invocation, build the adapters, run the use case once. Anything else
(another job, a push to another repository, a DELETE action, a failed push) is ignored with a logged
reason and a metric. A RetryableError propagates so that Lambda retries and, in the end, the
on-failure queue keeps the event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.domain.images import classify_invocation
from warden.observability import count, logger, metrics, tracer
from warden.settings import get_settings
from warden.usecases.purge_images import purge_images
from warden.wiring import purge_images_deps


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    invocation = classify_invocation(event if isinstance(event, dict) else {}, settings.ecr_repository)
    if invocation.trigger is None:
        logger.info(invocation.reason, extra={"repository": settings.ecr_repository})
        count("PurgeEventsIgnored")
        return {"results": [{"outcome": "ignored", "reason": invocation.reason}]}
    logger.info("image purge started", extra={"trigger": invocation.trigger.value, "why": invocation.reason})
    result = purge_images(purge_images_deps(settings), settings, datetime.now(UTC), trigger=invocation.trigger)
    return {"results": [result.model_dump(mode="json")]}
