"""What on_deployment answers for one event, and what a failed deployment's automatic rollback came to, whatever
the target (App Runner or ECS). Facts only: messages/pipeline.py words them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from warden.domain.pipeline import AfterFailure, DeploymentEnded
from warden.errors import RollbackDeclined, RollbackFailed
from warden.observability import count
from warden.usecases.converge import record_action
from warden.usecases.ports import StatePort


class RollbackOutcome(StrEnum):
    ROLLED_BACK = "rolled_back"
    WOULD_ROLL_BACK = "would_roll_back"


class Outcome(StrEnum):
    DEPLOYED = "deployed"
    UPDATED = "updated"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    WOULD_ROLL_BACK = "would_roll_back"
    ROLLBACK_DECLINED = "rollback_declined"
    ROLLBACK_FAILED = "rollback_failed"
    STARTED = "started"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


class DeploymentResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str | None
    outcome: Outcome
    reason: str
    notification_event: str | None = None
    ended: DeploymentEnded | None = Field(default=None, exclude=True)
    """What the report said, as facts (for the tests and the caller; not part of the Lambda's answer)."""


def duplicate(status: str | None, event_id: str) -> DeploymentResult:
    """The answer to an event delivered again (EventBridge delivers at least once): nothing is done twice."""
    count("DuplicateEvents")
    return DeploymentResult(
        status=status, outcome=Outcome.DUPLICATE, reason=f"ignored, because event {event_id} was already handled"
    )


class _Attempted(Protocol):
    @property
    def outcome(self) -> RollbackOutcome: ...

    @property
    def summary(self) -> str: ...


Attempted = TypeVar("Attempted", bound=_Attempted)


@dataclass(frozen=True)
class RollbackVerdict(Generic[Attempted]):
    """What the automatic rollback of a failed deployment came to: the rollback's result, or why there was none."""

    after: AfterFailure
    why: str = ""  # declined or failed: the reason
    result: Attempted | None = None


# on_deployment's answer for a failed deployment, by what became of its automatic rollback.
OUTCOMES = {
    AfterFailure.NOT_TRIED: Outcome.FAILED,
    AfterFailure.ROLLED_BACK: Outcome.ROLLED_BACK,
    AfterFailure.WOULD_ROLL_BACK: Outcome.WOULD_ROLL_BACK,
    AfterFailure.DECLINED: Outcome.ROLLBACK_DECLINED,
    AfterFailure.FAILED: Outcome.ROLLBACK_FAILED,
}
ACTOR = "on_deployment"


def rollback_verdict(
    attempt: Callable[[], Attempted], state: StatePort, service_arn: str, *, now: datetime, source_event: str
) -> RollbackVerdict[Attempted]:
    """Runs the attempt; a refusal or a failure is recorded in the action log and returned, never raised."""

    def record(outcome: str, reason: str) -> None:
        record_action(
            state,
            service_arn,
            now=now,
            actor=ACTOR,
            action="rollback",
            outcome=outcome,
            reason=reason,
            source_event=source_event,
        )

    try:
        result = attempt()
    except RollbackFailed as failed:
        record("failed", failed.reason)
        return RollbackVerdict(AfterFailure.FAILED, why=failed.reason)
    except RollbackDeclined as declined:
        record("skipped", declined.reason)
        return RollbackVerdict(AfterFailure.DECLINED, why=declined.reason)
    if result.outcome is RollbackOutcome.WOULD_ROLL_BACK:
        return RollbackVerdict(AfterFailure.WOULD_ROLL_BACK, result=result)
    return RollbackVerdict(AfterFailure.ROLLED_BACK, result=result)
