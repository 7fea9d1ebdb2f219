"""The exact commands an operator runs to undo what Warden did; every notification ends with them.

Clearing the pause claim is the same everywhere (Warden's CLI, or the state table by hand); resuming the service
by hand is the platform's: its target gives those commands. A platform whose pause Warden emulates (ECS: the
desired count and Auto Scaling target) quotes what it remembered when `state` is given, right after the pause;
otherwise (a dry run, an older pause) it shows where to read it. warden/messages/service.py writes the lines.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import ClaimReason
from warden.messages.service import undo_lines
from warden.settings import Settings
from warden.usecases.ports import StatePort
from warden.usecases.target import Target


class UndoFacts(BaseModel):
    """What undoing one claim's pause takes: the claim's item in the state table, and the platform's resume."""

    model_config = ConfigDict(frozen=True)

    service_arn: str
    state_table: str
    reason: ClaimReason
    claim_key: str
    resume_commands: tuple[str, ...]  # the target's, indented two spaces
    # The service's name for `warden --service`: a stack may guard a fleet, and a copied command must name it.
    service_name: str = ""


def undo_facts(
    target: Target, settings: Settings, reason: ClaimReason, claim_key: str, *, state: StatePort | None = None
) -> UndoFacts:
    """Read now: a platform that remembers what a pause changed (ECS) quotes it from the state table."""
    return UndoFacts(
        service_arn=settings.service.arn,
        state_table=settings.state_table,
        reason=reason,
        claim_key=claim_key,
        resume_commands=tuple(target.resume_commands(state, settings.state_table)),
        service_name=settings.service.name,
    )


def undo_pause_lines(
    target: Target, settings: Settings, reason: ClaimReason, claim_key: str, *, state: StatePort | None = None
) -> list[str]:
    return undo_lines(undo_facts(target, settings, reason, claim_key, state=state))
