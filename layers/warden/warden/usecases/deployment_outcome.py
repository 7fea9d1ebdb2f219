"""What on_deployment answers for one event, whatever the target (App Runner or ECS)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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
