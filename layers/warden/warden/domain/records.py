"""What Warden writes down: every action with its reason, and which events it has already handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from warden.domain.redaction import redact


class ActionRecord(BaseModel):
    """One entry of the action log (`warden history`)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    action: str  # e.g. "pause", "claim.add", "notify"
    outcome: str  # e.g. "done", "skipped", "would", "deferred", "failed"
    reason: str
    actor: str  # the function or person that acted
    dry_run: bool = False
    source_event: str | None = None

    @field_validator("reason")
    @classmethod
    def _no_secrets(cls, value: str) -> str:
        # `warden history` prints reasons; they may quote a user name or a message (domain/redaction.py).
        return redact(value)


class DeploymentRecord(BaseModel):
    """One deployment of an image to the service (the image purge keeps the last few: rollback targets)."""

    model_config = ConfigDict(frozen=True)

    digest: str
    tag: str | None
    at: datetime
    source: str  # who saw or made it, e.g. "observed by purge_images", "warden release"


def newest_deployed(history: Sequence[DeploymentRecord], pending_to: str | None = None) -> DeploymentRecord | None:
    """The newest deployment of `history` (newest first) that has happened: release and rollback record theirs
    when they move the tag, so while their deployment is still pending (`pending_to`, the image of Warden's
    pending deployment) the service runs the one before it."""
    return next((record for record in history if record.digest != pending_to), None)


class EventStatus(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"


class EventStart(BaseModel):
    """The answer to "may I handle this event?": yes (NEW), or no, it was handled already."""

    model_config = ConfigDict(frozen=True)

    status: EventStatus
    handled_at: datetime | None = None
    summary: str | None = None


def service_partition(service_arn: str) -> str:
    """The state table's partition key for a service: its claims and its action log live under it.

    Part of the operator contract: notifications print `aws dynamodb` commands built from it.
    """
    return f"SERVICE#{service_arn}"


def claim_sort_key(claim_key: str) -> str:
    return f"CLAIM#{claim_key}"
