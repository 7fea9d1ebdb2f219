"""What release and rollback share: the app's repository, the tag the service follows, and getting a moved tag
deployed (now, by App Runner itself, or after a resume through the PENDING_DEPLOY memo the reconcile consumes).
What happened is a `Delivery`; messages/pipeline.py words it.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from warden.domain.pipeline import (
    Delivered,
    DeployAction,
    Tracked,
    decide_deployment,
    defer_after_refusal,
    tracked_tag,
)
from warden.domain.service import ServiceSnapshot
from warden.errors import InvalidServiceState, SettingsError
from warden.messages.pipeline import delivery_line
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import PENDING_DEPLOY
from warden.usecases.ports import StatePort
from warden.usecases.target import Target


def require_repository(settings: Settings, command: str) -> str:
    if not settings.ecr_repository:
        raise SettingsError(
            f"ECR_REPOSITORY is not set: {command} needs the name of the app's repository "
            "(stack parameter EcrRepository, or export ECR_REPOSITORY=consultation-app)"
        )
    return settings.ecr_repository


def follow(snapshot: ServiceSnapshot, settings: Settings, repository: str) -> Tracked:
    """The tag the service follows in the app's repository (raises UntrackedService saying why not)."""
    return tracked_tag(
        snapshot.image_identifier,
        account_id=settings.service.account_id,
        region=settings.service.region,
        repository=repository,
    )


class Delivery(Delivered):
    """How the moved tag reaches the service: what was decided and what was done."""

    @property
    def line(self) -> str:
        """The same in a sentence (the terminal's "Deploy" line)."""
        return delivery_line(self)


def deliver(
    service: Target,
    state: StatePort,
    service_arn: str,
    tracked: Tracked,
    *,
    from_digest: str | None,
    to_digest: str,
    now: datetime,
) -> Delivery:
    """Starts the deployment, leaves it to the platform, or remembers it for after the resume; never fails silently.
    Reads the service first: the ECR step before it took time, and the service may have changed meanwhile."""
    snapshot = service.describe(service_arn)
    decision = decide_deployment(snapshot.status, snapshot.auto_deploy)
    match decision.action:
        case DeployAction.START:
            try:
                operation_id = service.start_deployment(snapshot.arn)
            except InvalidServiceState as race:
                # Someone else started an operation between our describe and our call: deploy once it settles.
                logger.warning("start deployment refused; deferred", extra={"error": str(race)})
                _remember(state, snapshot, tracked, from_digest, to_digest, now)
                return Delivery(
                    decision=defer_after_refusal(service.facts.platform, str(race)), remembered=PENDING_DEPLOY
                )
            count("ActionsTaken")
            return Delivery(decision=decision, operation_id=operation_id)
        case DeployAction.AUTOMATIC:
            return Delivery(decision=decision)
        case DeployAction.AFTER_RESUME | DeployAction.DEFERRED:
            _remember(state, snapshot, tracked, from_digest, to_digest, now)
            return Delivery(decision=decision, remembered=PENDING_DEPLOY)
        case DeployAction.UNAVAILABLE:
            return Delivery(decision=decision)
        case _:
            assert_never(decision.action)


def _remember(
    state: StatePort,
    snapshot: ServiceSnapshot,
    tracked: Tracked,
    from_digest: str | None,
    to_digest: str,
    now: datetime,
) -> None:
    """The memo converge.settle_pending_deploy consumes (the same one a resume writes after a push while paused)."""
    state.put_memo(
        snapshot.arn,
        PENDING_DEPLOY,
        {"image": tracked.identifier, "from": from_digest or "", "to": to_digest, "since": now.isoformat()},
    )
