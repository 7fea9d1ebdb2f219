"""The converge decision: given what the platform reports and what the claims want, what to call (DESIGN §4)."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import DesiredState
from warden.domain.service import ServiceSnapshot, ServiceStatus


class ConvergeAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    NOTHING = "nothing"
    DEFER = "defer"
    UNAVAILABLE = "unavailable"


class ConvergeDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: ConvergeAction
    reason: str
    deploy_after_resume: bool = False


def decide_convergence(
    snapshot: ServiceSnapshot, desired: DesiredState, *, image_changed_while_paused: bool = False
) -> ConvergeDecision:
    """One row of the DESIGN §4 table per status; `assert_never` makes a new status a type error here.

    A platform that accepts a pause or resume during an operation (ECS: a rollout, however long it is stuck) is
    decided by what it is apart from that operation, so a deployment never holds off a pause.
    """
    pause = desired is DesiredState.PAUSED
    status, platform = snapshot.status, snapshot.platform
    match status:
        case ServiceStatus.RUNNING:
            if pause:
                return ConvergeDecision(action=ConvergeAction.PAUSE, reason="service is RUNNING and should be paused")
            return ConvergeDecision(action=ConvergeAction.NOTHING, reason="service is RUNNING as it should be")
        case ServiceStatus.PAUSED:
            if pause:
                return ConvergeDecision(
                    action=ConvergeAction.NOTHING, reason="service is already PAUSED as it should be"
                )
            return ConvergeDecision(
                action=ConvergeAction.RESUME,
                reason="service is PAUSED and no claim holds it",
                deploy_after_resume=image_changed_while_paused,
            )
        case ServiceStatus.OPERATION_IN_PROGRESS if snapshot.changeable_as in _SETTLED:
            settled = decide_convergence(
                snapshot.model_copy(update={"status": snapshot.changeable_as, "changeable_as": None}),
                desired,
                image_changed_while_paused=image_changed_while_paused,
            )
            if settled.action in {ConvergeAction.PAUSE, ConvergeAction.RESUME}:
                during = f"mid-operation (OPERATION_IN_PROGRESS), which {platform} accepts a {settled.action} during"
            else:
                during = "an operation is in progress (OPERATION_IN_PROGRESS)"
            return settled.model_copy(update={"reason": f"{settled.reason}, {during}"})
        case ServiceStatus.OPERATION_IN_PROGRESS:
            return ConvergeDecision(
                action=ConvergeAction.DEFER,
                reason=f"{platform} is busy with another operation (OPERATION_IN_PROGRESS); "
                "the change is retried and the periodic reconcile finishes it",
            )
        case ServiceStatus.CREATE_FAILED | ServiceStatus.DELETE_FAILED | ServiceStatus.DELETED:
            return ConvergeDecision(
                action=ConvergeAction.UNAVAILABLE,
                reason=f"service is {status.value}: {platform} accepts no pause or resume in that state",
            )
        case _:
            assert_never(status)


_SETTLED = frozenset({ServiceStatus.RUNNING, ServiceStatus.PAUSED})
