"""`warden move --from <old service ARN>`: after the app moved (App Runner to ECS, or one service to another),
the service Warden guards now takes over what Warden knew about the old one.

Warden keeps its state per service ARN, so a stack updated to a new `ServiceArn` starts with an empty slate:
a budget pause from this month would be forgotten (Budgets alerts once per threshold and period, so no new
alert comes), and the image purge would no longer count the old service's deployments as rollback targets.
The move carries over:
- every active pause claim, with its owner, time and evidence, then converges the new service to them (a
  budget claim that held the old service pauses the new one, and the new month's check lifts it as before);
- the deployment history (the purge keeps the last deployments' images; rollback reads the history).
The old service's records stay where they are, as its history. Running the move twice changes nothing more.
Its notification and its sentences are written by warden/messages/service.py from the facts (`MoveResult`, `Moved`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import Claim
from warden.domain.target import TargetFacts
from warden.errors import SettingsError, WardenError
from warden.messages import service as words
from warden.observability import count
from warden.settings import ServiceRef, Settings
from warden.usecases.claims import ClaimChange, place_claim
from warden.usecases.converge import ConvergeResult, converge, record_action
from warden.usecases.operator import OperatorDeps
from warden.usecases.undo import UndoFacts, undo_facts

HISTORY_LIMIT = 200  # more than any retention setting keeps (IMAGE_KEEP_DEPLOYED is small)


class MoveResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    claims: tuple[ClaimChange, ...]
    deployments_copied: int
    deployments_known: int
    who: str
    old_name: str
    old_noun: str  # the old service's platform noun ("App Runner service")
    new_name: str
    new_noun: str
    dry_run: bool = False

    @property
    def summary(self) -> str:
        """What was carried over, in one sentence (for the CLI, the action log and the notification)."""
        return words.move_summary(self)


class Moved(BaseModel):
    """The move's notification: what was carried over, and what holds the new service now."""

    model_config = ConfigDict(frozen=True)

    result: MoveResult
    old_arn: str
    converged: ConvergeResult  # the new service's last converge
    holding: tuple[Claim, ...]  # the claims that hold the new service now
    undo: tuple[UndoFacts, ...]  # for each of them
    console_url: str


class SameService(WardenError):
    """The old ARN is the service Warden guards already."""


def move_from(
    deps: OperatorDeps,
    settings: Settings,
    *,
    old_arn: str,
    who: str,
    now: datetime,
    facts_of: Callable[[ServiceRef], TargetFacts],
) -> MoveResult:
    """`facts_of` gives the old service's platform facts (wiring's `target_facts`): it may be another platform's."""
    new = settings.service
    try:
        old = ServiceRef.parse(old_arn)
    except ValueError as error:
        raise SettingsError(f"--from: {error}") from error
    if old.arn == new.arn:
        raise SameService(f"{old_arn} is the service Warden guards already (SERVICE_ARN): nothing to move")
    dry = settings.dry_run
    was = facts_of(old).service_noun
    copied, known = _copy_history(deps, old.arn, new.arn, dry_run=dry)
    changes: list[ClaimChange] = []
    for claim in sorted(deps.state.list_claims(old.arn), key=lambda held: held.created_at):
        carried = claim.model_copy(
            update={"evidence": words.carried_evidence(claim.evidence, was, old.name), "source_event": None}
        )
        changes.append(place_claim(deps.claims, new.arn, carried, now=now, actor=who, dry_run=dry))
    if changes:
        converged = changes[-1].result
    else:
        # No claim moved: the new service still gets converged to its own claims (say, one placed before the move).
        converged = converge(
            deps.service, deps.state, new.arn, deps.state.list_claims(new.arn), now=now, actor=who, dry_run=dry
        )
    result = MoveResult(
        claims=tuple(changes),
        deployments_copied=copied,
        deployments_known=known,
        who=who,
        old_name=old.name,
        old_noun=was,
        new_name=new.name,
        new_noun=deps.service.facts.service_noun,
        dry_run=dry,
    )
    record_action(
        deps.state,
        new.arn,
        now,
        who,
        "move",
        "would" if dry else "done",
        words.move_action_reason(result, old.arn),
        dry,
    )
    if not dry:
        count("ActionsTaken")
    holding = tuple(deps.state.list_claims(new.arn))
    deps.notifier.publish(
        words.moved(
            Moved(
                result=result,
                old_arn=old.arn,
                converged=converged,
                holding=holding,
                # Read after the pause: a platform that remembers what to restore (ECS) quotes it.
                undo=tuple(
                    undo_facts(deps.service, settings, claim.reason, claim.key, state=deps.state) for claim in holding
                ),
                console_url=deps.service.facts.console_url,
            )
        )
    )
    return result


def _copy_history(deps: OperatorDeps, old_arn: str, new_arn: str, *, dry_run: bool) -> tuple[int, int]:
    present = {(record.digest, record.at) for record in deps.state.list_deployments(new_arn, HISTORY_LIMIT)}
    history = deps.state.list_deployments(old_arn, HISTORY_LIMIT)
    missing = [record for record in history if (record.digest, record.at) not in present]
    if not dry_run:
        for record in reversed(missing):  # oldest first, as they happened
            deps.state.record_deployment(new_arn, record.digest, record.tag, record.at, record.source)
    return len(missing), len(history) - len(missing)
