"""Chat delivery: each notification on the notification topic goes to Amazon Q Developer and/or a webhook.

Thin on purpose: the use case turns each SNS record into the chat message and sends it once per path. A
ChatDeliveryFailed (a path that failed after its retries) propagates so that Lambda retries the event (only the
failed path is sent again) and, in the end, the on-failure queue keeps it. E-mail is a separate subscription of
the same topic: it never waits for or depends on this function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.observability import logger, metrics, tracer
from warden.settings import get_stack_settings
from warden.usecases.chat_delivery import deliver_event
from warden.wiring import chat_delivery_deps


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_stack_settings()
    deliveries = deliver_event(event, chat_delivery_deps(settings), settings, datetime.now(UTC))
    return {"deliveries": [delivery.model_dump(mode="json") for delivery in deliveries]}
