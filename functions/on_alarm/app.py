"""CloudWatch alarm state changes: explain them, run the alarm's action (notify, pause, rollback), record.

Thin on purpose: the fleet routes each alarm to the guarded service it provably concerns (usecases/fleet_events.py),
and that service's use case reads whichever delivery this is (the alarm topic's SNS records, an
EventBridge "CloudWatch Alarm State Change" event, or the alarm invoking the function directly).
A RetryableError propagates so that Lambda retries and, in the end, the on-failure queue keeps the event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.observability import logger, metrics, tracer
from warden.settings import get_stack_settings
from warden.usecases.fleet import guarded_now
from warden.usecases.fleet_events import handle_alarm_event
from warden.wiring import alarm_deps, fleet_store, notifier, target_facts


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stack = get_stack_settings()
    members = guarded_now(stack, fleet_store(stack))
    results = handle_alarm_event(
        event,
        members,
        lambda member: alarm_deps(member.settings),
        lambda member: target_facts(member.settings.service),
        notifier(stack),
        datetime.now(UTC),
    )
    return {"results": [result.model_dump(mode="json") for result in results]}
