"""Image purge: the daily schedule (`{"job": "purge-images"}`) and ECR pushes to the app's repository.

Thin on purpose: group the fleet's services by repository, classify the invocation for each, run the use case
once per repository over every service whose images are in it. Anything else
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
from warden.settings import Settings, get_stack_settings
from warden.usecases.fleet import guarded_now
from warden.usecases.purge_images import purge_repository
from warden.wiring import fleet_store, repository_purge


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stack = get_stack_settings()
    groups: dict[str, list[Settings]] = {}
    for member in guarded_now(stack, fleet_store(stack)):
        if member.settings.ecr_repository:
            groups.setdefault(member.settings.ecr_repository, []).append(member.settings)
    if not groups:
        reason = "ignored, because ECR_REPOSITORY is not set and no guarded service is tagged warden:repository"
        logger.info(reason)
        count("PurgeEventsIgnored")
        return {"results": [{"outcome": "ignored", "reason": reason}]}
    results: list[dict[str, Any]] = []
    failure: Exception | None = None
    ignored: list[str] = []
    for repository, group in groups.items():
        # Each repository once, over every guarded service whose images are in it: nothing one of them needs goes.
        invocation = classify_invocation(event if isinstance(event, dict) else {}, repository)
        if invocation.trigger is None:
            ignored.append(invocation.reason)
            continue
        logger.info("image purge started", extra={"repository": repository, "trigger": invocation.trigger.value})
        services, deps = repository_purge(stack, group)
        try:
            result = purge_repository(repository, services, deps, datetime.now(UTC), trigger=invocation.trigger)
        except Exception as error:  # the other repositories are purged; raised below so that Lambda retries
            logger.exception("image purge failed", extra={"repository": repository})
            failure = failure or error
            continue
        results.append(result.model_dump(mode="json"))
    if failure is not None:
        raise failure
    if not results:
        reason = ignored[0] if len(ignored) == 1 else "ignored, because " + "; ".join(ignored)
        logger.info(reason)
        count("PurgeEventsIgnored")
        return {"results": [{"outcome": "ignored", "reason": reason}]}
    return {"results": results}
