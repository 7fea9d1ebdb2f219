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
from warden.settings import get_stack_settings
from warden.usecases.budget_alert import forward_unparseable
from warden.usecases.fleet import guarded_now
from warden.usecases.fleet_events import forward_unguarded, handle_budget_message
from warden.wiring import budget_alert_deps, fleet_store, notifier


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stack = get_stack_settings()
    members = guarded_now(stack, fleet_store(stack))
    try:
        messages = parse_sns_event(event)
    except UnparseableMessage as error:
        raw = json.dumps(event, default=str, indent=2) if isinstance(event, dict | list) else str(event)
        if not members:
            forward_unguarded(raw, "Lambda invocation", notifier(stack))
        else:
            first = members[0].settings
            deps = budget_alert_deps(first)
            forward_unparseable(raw, error.reason, subject=None, source="Lambda invocation", deps=deps, settings=first)
        return {"results": [{"outcome": "forwarded", "reason": error.reason}]}
    now = datetime.now(UTC)
    results = [
        result
        for message in messages
        for result in handle_budget_message(
            message, members, lambda member: budget_alert_deps(member.settings), notifier(stack), now
        )
    ]
    return {"results": [result.model_dump(mode="json") for result in results]}
