"""Pause claims: who wants the service paused, and why (DESIGN §4).

The service should be paused exactly when at least one claim is active. Every source adds or clears
only its own claim and then converges; nobody pauses or resumes directly, so the 08:00 working-hours
resume can never undo a budget pause and a budget roll-over never resumes a service a person paused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ClaimReason(StrEnum):
    BUDGET = "budget"
    ALARM = "alarm"
    MANUAL = "manual"
    SCHEDULE = "schedule"


class DesiredState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"


class Claim(BaseModel):
    """One reason to keep the service paused, with its evidence.

    `key` identifies the claim within the service: `budget`, `manual`, `schedule`, or
    `alarm#<alarm name>` (several alarms may each hold their own claim).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    reason: ClaimReason
    owner: str
    evidence: str
    created_at: datetime
    source_event: str | None = None
    details: dict[str, str] = {}

    @classmethod
    def new(
        cls,
        reason: ClaimReason,
        *,
        owner: str,
        evidence: str,
        now: datetime,
        qualifier: str | None = None,
        source_event: str | None = None,
        details: dict[str, str] | None = None,
    ) -> Claim:
        key = reason.value if qualifier is None else f"{reason.value}#{qualifier}"
        return cls(
            key=key,
            reason=reason,
            owner=owner,
            evidence=evidence,
            created_at=now,
            source_event=source_event,
            details=details or {},
        )


class Desire(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: DesiredState
    reason: str


def desired_state(claims: Iterable[Claim]) -> Desire:
    """Paused while any claim is active; the reason lists the claims so a person can see who holds it."""
    active = sorted(claims, key=lambda claim: claim.created_at)
    if not active:
        return Desire(state=DesiredState.RUNNING, reason="no pause claim is active")
    held = ", ".join(f"{claim.key} (since {claim.created_at:%Y-%m-%d %H:%M} UTC)" for claim in active)
    return Desire(state=DesiredState.PAUSED, reason=f"paused by {held}")
