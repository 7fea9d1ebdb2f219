"""The weekly access-key audit: one credential report, findings, optional deactivation, one digest.

Thin on purpose: the schedule's Input in template.yaml names the job ({"job": "audit-keys"}); anything
else is logged and counted, never guessed at. A RetryableError (no credential report yet, AWS
unavailable) propagates so that Lambda retries and, in the end, the on-failure queue keeps the event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.observability import count, logger, metrics, tracer
from warden.settings import get_stack_settings
from warden.usecases.audit_keys import audit_access_keys
from warden.usecases.fleet import guarded_now
from warden.wiring import audit_keys_deps, fleet_store

JOB = "audit-keys"


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = event.get("job") if isinstance(event, dict) else None
    if job != JOB:
        reason = f"ignored, because {job!r} is not a job of this function (it runs {JOB!r})"
        logger.warning(reason)
        count("JobsIgnored")
        return {"results": [{"job": job, "outcome": "ignored", "reason": reason}]}
    stack = get_stack_settings()
    members = guarded_now(stack, fleet_store(stack))
    if not members:
        # The audit is account-wide, but its records and messages are kept with the stack's first service.
        reason = "ignored, because no service is guarded yet (the audit runs once one is)"
        logger.warning(reason)
        count("JobsIgnored")
        return {"results": [{"job": job, "outcome": "ignored", "reason": reason}]}
    settings = members[0].settings
    result = audit_access_keys(audit_keys_deps(settings), settings, datetime.now(UTC))
    # The findings stay out of the return value (it can be logged); counts and deactivations say enough.
    return {"results": [{"job": job, **result.model_dump(mode="json", exclude={"findings"})}]}
