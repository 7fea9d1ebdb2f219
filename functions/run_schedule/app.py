"""EventBridge Scheduler jobs: working hours, the budget-period check and the periodic reconcile.

Each job runs for every guarded service with that service's settings (usecases/fleet.py); the reconcile
also discovers the tagged services first. The schedule's Input in template.yaml names the job
({"job": "workday-start"}), so what a schedule does is visible in the template. An unknown or missing job
is logged and counted, never guessed at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from warden.observability import count, logger, metrics, tracer
from warden.settings import get_stack_settings
from warden.usecases.fleet import run_fleet_job
from warden.usecases.schedule import Job
from warden.wiring import fleet_deps, schedule_deps


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raw = event.get("job") if isinstance(event, dict) else None
    try:
        job = Job(raw)
    except ValueError:
        reason = f"ignored, because {raw!r} is not a job ({', '.join(job.value for job in Job)})"
        logger.warning(reason)
        count("JobsIgnored")
        return {"job": raw, "outcome": "ignored", "reason": reason}
    stack = get_stack_settings()
    result = run_fleet_job(job, stack, fleet_deps(stack), schedule_deps, datetime.now(UTC))
    logger.info("job done", extra=result.model_dump())
    return result.model_dump(mode="json")
