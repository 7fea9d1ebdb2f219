"""Converge the service to what its claims want: the only place that pauses or resumes (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import Claim, Desire, desired_state
from warden.domain.converge import ConvergeAction, ConvergeDecision, decide_convergence
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import InvalidServiceState, ServiceBusy, WardenError
from warden.observability import count, logger
from warden.usecases.ports import ImagePort, ServicePort, StatePort


class ConvergeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: ServiceSnapshot
    desire: Desire
    decision: ConvergeDecision
    called: str | None = None  # the call made to the service ("pause", "resume"), None when none was made
    # The call was made by an earlier attempt at the same event (Lambda's retry after a failure), not this one.
    credited: bool = False
    dry_run: bool = False
    operation_id: str | None = None
    # The tracked image changed while the service was paused: App Runner resumes the old version, so a
    # deployment must follow once the resume completes (AWS-FACTS §4.4). The reconcile starts it.
    deploy_pending: str | None = None

    @property
    def summary(self) -> str:
        name, status = self.before.name, self.before.status.value
        match self.decision.action:
            case ConvergeAction.PAUSE | ConvergeAction.RESUME:
                verb = "Paused" if self.decision.action is ConvergeAction.PAUSE else "Resumed"
                if self.dry_run:
                    return f"[dry run] Would have {verb.lower()} {name} (it is {status}); nothing was changed."
                if self.deploy_pending:
                    return (
                        f"{verb} {name} (it was {status}). {self.deploy_pending} App Runner resumes the version "
                        "deployed before the pause, so Warden starts a deployment once the resume completes."
                    )
                return f"{verb} {name} (it was {status})."
            case ConvergeAction.NOTHING:
                return f"Left as it is: {self.decision.reason}."
            case ConvergeAction.DEFER:
                return f"Deferred: {self.decision.reason}."
            case ConvergeAction.UNAVAILABLE:
                return f"Not changed: {self.decision.reason}."
            case _:
                assert_never(self.decision.action)


# A race (someone else paused between our describe and our call) is answered by describing again;
# two rounds are enough for any single competing change to settle into a state we can read.
_MAX_ROUNDS = 3


def converge(
    service: ServicePort,
    state: StatePort,
    service_arn: str,
    claims: Sequence[Claim],
    *,
    now: datetime,
    actor: str,
    dry_run: bool,
    source_event: str | None = None,
    images: ImagePort | None = None,
) -> ConvergeResult:
    """Makes one App Runner call at most, records it, and raises ServiceBusy when App Runner is busy.

    `claims` is passed in rather than read so that a dry run can converge on the claims it *would* hold.
    """
    desire = desired_state(claims)
    for _ in range(_MAX_ROUNDS):
        snapshot = service.describe(service_arn)
        decision = decide_convergence(snapshot.status, desire.state)
        log = {"service": snapshot.name, "status": snapshot.status.value, "action": decision.action.value}
        match decision.action:
            case ConvergeAction.NOTHING | ConvergeAction.UNAVAILABLE:
                logger.info("converge: no call", extra={**log, "reason": decision.reason})
                return ConvergeResult(before=snapshot, desire=desire, decision=decision, dry_run=dry_run)
            case ConvergeAction.DEFER:
                record_action(
                    state,
                    service_arn,
                    now,
                    actor,
                    "converge",
                    "deferred",
                    decision.reason,
                    dry_run,
                    source_event,
                )
                logger.warning("converge: deferred", extra={**log, "reason": decision.reason})
                raise ServiceBusy(f"{snapshot.name}: {decision.reason}")
            case ConvergeAction.PAUSE | ConvergeAction.RESUME:
                verb = decision.action.value
                reason = f"{decision.reason}; {desire.reason}"
                if dry_run:
                    record_action(state, service_arn, now, actor, verb, "would", reason, True, source_event)
                    logger.info("converge: dry run", extra={**log, "reason": reason})
                    return ConvergeResult(before=snapshot, desire=desire, decision=decision, dry_run=True)
                try:
                    call = service.pause if decision.action is ConvergeAction.PAUSE else service.resume
                    operation_id = call(service_arn)
                except InvalidServiceState as race:
                    logger.warning(
                        "converge: App Runner refused the call; describing again",
                        extra={**log, "error": str(race)},
                    )
                    continue
                record_action(state, service_arn, now, actor, verb, "done", reason, False, source_event)
                count("ActionsTaken")
                pending = _track_image(images, state, snapshot, decision.action, now)
                logger.info(
                    "converge: called App Runner",
                    extra={**log, "reason": reason, "operation_id": operation_id},
                )
                return ConvergeResult(
                    before=snapshot,
                    desire=desire,
                    decision=decision,
                    called=verb,
                    operation_id=operation_id,
                    deploy_pending=pending,
                )
            case _:
                assert_never(decision.action)
    raise ServiceBusy(f"{service_arn}: the service kept changing state while Warden tried to converge it")


PAUSED_IMAGE = "paused_image"
PENDING_DEPLOY = "pending_deploy"


def _track_image(
    images: ImagePort | None, state: StatePort, snapshot: ServiceSnapshot, action: ConvergeAction, now: datetime
) -> str | None:
    """Remembers the image's digest at pause; at resume, notes a pending deployment if it changed meanwhile.

    Returns a sentence for the notification when a deployment is pending.
    """
    if images is None or not snapshot.image_identifier:
        return None
    try:
        digest = images.resolve(snapshot.image_identifier)
    except WardenError as error:
        # The pause or resume already happened; not knowing the digest only costs the follow-up deployment.
        logger.warning(
            "could not resolve the tracked image", extra={"image": snapshot.image_identifier, "error": str(error)}
        )
        return None
    if action is ConvergeAction.PAUSE:
        state.put_memo(snapshot.arn, PAUSED_IMAGE, {"image": snapshot.image_identifier, "digest": digest or ""})
        return None
    before = state.get_memo(snapshot.arn, PAUSED_IMAGE)
    state.delete_memo(snapshot.arn, PAUSED_IMAGE)
    if before is None or not before.get("digest") or not digest or digest == before["digest"]:
        return None
    state.put_memo(
        snapshot.arn,
        PENDING_DEPLOY,
        {"image": snapshot.image_identifier, "from": before["digest"], "to": digest, "since": now.isoformat()},
    )
    return f"The image {snapshot.image_identifier} changed while paused ({before['digest'][:19]} -> {digest[:19]})."


def finish_pending_deploy(
    service: ServicePort, state: StatePort, service_arn: str, *, now: datetime, actor: str, dry_run: bool
) -> str | None:
    """Starts the deployment a resume left pending, once the service is RUNNING again.

    Returns a sentence saying what was (or would have been) done, or None when nothing was pending or due.
    """
    pending = state.get_memo(service_arn, PENDING_DEPLOY)
    if pending is None:
        return None
    snapshot = service.describe(service_arn)
    if snapshot.status is not ServiceStatus.RUNNING:
        logger.info("pending deployment waits", extra={"status": snapshot.status.value})
        return None
    reason = f"the tracked image {pending['image']} changed while the service was paused ({pending['to'][:19]})"
    if dry_run:
        record_action(state, service_arn, now, actor, "deploy", "would", reason, True, None)
        return f"[dry run] Would have started a deployment: {reason}."
    operation_id = service.start_deployment(service_arn)
    state.delete_memo(service_arn, PENDING_DEPLOY)
    record_action(state, service_arn, now, actor, "deploy", "done", reason, False, None)
    count("ActionsTaken")
    return f"Started deployment {operation_id}: {reason}."


def record_action(
    state: StatePort,
    service_arn: str,
    now: datetime,
    actor: str,
    action: str,
    outcome: str,
    reason: str,
    dry_run: bool = False,
    source_event: str | None = None,
) -> None:
    """One entry of the action log (`warden history`); every use case writes its actions through this."""
    state.record_action(
        service_arn,
        ActionRecord(
            at=now,
            action=action,
            outcome=outcome,
            reason=reason,
            actor=actor,
            dry_run=dry_run,
            source_event=source_event,
        ),
    )
