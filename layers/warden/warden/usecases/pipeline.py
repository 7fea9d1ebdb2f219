"""What release and rollback share: the app's repository, the tag the service follows, and getting a moved tag
deployed (now, by App Runner itself, or after a resume through the PENDING_DEPLOY memo the reconcile consumes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.images import short_digest
from warden.domain.pipeline import DeployAction, DeployDecision, Tracked, decide_deployment, tracked_tag
from warden.domain.service import ServiceSnapshot
from warden.errors import InvalidServiceState, SettingsError
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import PENDING_DEPLOY
from warden.usecases.ports import ServicePort, StatePort


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


class Delivery(BaseModel):
    """How the moved tag reaches the service: what was decided, what was done, in a sentence."""

    model_config = ConfigDict(frozen=True)

    decision: DeployDecision
    operation_id: str | None = None
    line: str


def deliver(
    service: ServicePort,
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
                decision = DeployDecision(
                    action=DeployAction.DEFERRED,
                    reason=f"App Runner refused the deployment just now ({race}), so Warden deploys once the "
                    "service is RUNNING again",
                )
                _remember(state, snapshot, tracked, from_digest, to_digest, now)
                return Delivery(decision=decision, line=_pending_line(decision))
            count("ActionsTaken")
            return Delivery(
                decision=decision,
                operation_id=operation_id,
                line=f"Started deployment {operation_id} ({decision.reason}).",
            )
        case DeployAction.AUTOMATIC:
            return Delivery(
                decision=decision,
                line=f"No StartDeployment call: {decision.reason}; on_deployment reports how it goes.",
            )
        case DeployAction.AFTER_RESUME | DeployAction.DEFERRED:
            _remember(state, snapshot, tracked, from_digest, to_digest, now)
            return Delivery(decision=decision, line=_pending_line(decision))
        case DeployAction.UNAVAILABLE:
            return Delivery(decision=decision, line=f"Nothing deployed: {decision.reason}.")
        case _:
            assert_never(decision.action)


def _pending_line(decision: DeployDecision) -> str:
    return (
        f"Not deployed yet: {decision.reason}. Warden remembers it (the {PENDING_DEPLOY} memo) and its reconcile, "
        "every 15 minutes, starts the deployment once the service is RUNNING."
    )


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


def describe_move(tags: Sequence[str], moved: Sequence[str], from_label: str, to_label: str) -> str:
    names = " and ".join(tags)
    if not moved:
        return f"{names} already pointed at {to_label}: nothing to move in ECR."
    return f"Moved {names} from {from_label} to {to_label} in ECR (the exact manifest and media type)."


def label(digest: str | None, tag: str | None) -> str:
    if not digest:
        return "no image"
    return f"{tag} ({short_digest(digest)})" if tag else short_digest(digest)
