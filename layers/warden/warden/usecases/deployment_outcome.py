"""What on_deployment answers for one event, and what a failed deployment's automatic rollback came to, whatever
the target (App Runner or ECS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from warden.domain.notification import Notification, Severity
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
    """What the automatic rollback of a failed deployment came to, in the words of its notification."""

    outcome: Outcome
    did: list[str]
    severity: Severity
    tail: str  # the subject's end; the caller words a successful rollback's own
    result: Attempted | None = None


ACTOR = "on_deployment"


def rollback_verdict(
    attempt: Callable[[], Attempted], state: StatePort, service_arn: str, *, now: datetime, source_event: str
) -> RollbackVerdict[Attempted]:
    """Runs the attempt; a refusal or a failure is recorded in the action log and worded, never raised."""

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
        return RollbackVerdict(
            outcome=Outcome.ROLLBACK_FAILED,
            did=[
                f"Automatic rollback FAILED: {failed.reason}.",
                "Warden does not try again for this deployment: roll back by hand (below) and check the service.",
            ],
            severity=Severity.CRITICAL,
            tail="automatic rollback failed",
        )
    except RollbackDeclined as declined:
        record("skipped", declined.reason)
        return RollbackVerdict(
            outcome=Outcome.ROLLBACK_DECLINED,
            did=[f"No automatic rollback: {declined.reason}."],
            severity=Severity.WARNING,
            tail="not rolled back",
        )
    if result.outcome is RollbackOutcome.WOULD_ROLL_BACK:
        return RollbackVerdict(Outcome.WOULD_ROLL_BACK, [result.summary], Severity.WARNING, "dry run", result)
    return RollbackVerdict(
        outcome=Outcome.ROLLED_BACK,
        did=[f"Automatic rollback (AUTO_ROLLBACK=true), once for this deployment: {result.summary}"],
        severity=Severity.WARNING,
        tail="rolled back",
        result=result,
    )


def failed_notification(
    name: str, short: str, verdict_tail: str, outcome: Outcome, severity: Severity, body: str
) -> Notification:
    """The message of a failed deployment, whatever the target: the subject ends in what Warden did about it."""
    return Notification(
        subject=f"[warden] DEPLOYMENT FAILED {name} {short}: {verdict_tail}",
        body=body,
        event=f"deployment.{outcome.value}" if outcome is not Outcome.FAILED else "deployment.failed",
        severity=severity,
    )
