"""App Runner "Service Operation Status Change" events: report each deployment; roll back a failed one if enabled.

Thin on purpose: the use case reads the event (both key casings), ignores what is not a deployment of the
guarded service with a logged reason, and handles each event id once. A RetryableError propagates so that
Lambda retries and, in the end, the on-failure queue keeps the event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.messages.fleet import NO_FLEET
from warden.observability import logger, metrics, tracer
from warden.settings import get_stack_settings
from warden.usecases.deployment import handle_event
from warden.usecases.fleet import guarded_now
from warden.usecases.fleet_events import deployment_member
from warden.wiring import deployment_deps, fleet_store


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stack = get_stack_settings()
    member = deployment_member(event, guarded_now(stack, fleet_store(stack)))
    if member is None:
        reason = f"ignored, because {NO_FLEET}"
        logger.warning(reason)
        return {"results": [{"outcome": "ignored", "reason": reason}]}
    settings = member.settings
    result = handle_event(event, deployment_deps(settings), settings, datetime.now(UTC))
    return {"results": [result.model_dump(mode="json")]}
