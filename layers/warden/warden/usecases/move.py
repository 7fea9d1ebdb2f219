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
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import desired_state
from warden.domain.notification import Notification, Severity, render
from warden.domain.target import TargetFacts
from warden.errors import SettingsError, WardenError
from warden.observability import count
from warden.settings import ServiceRef, Settings
from warden.usecases.claims import ClaimChange, place_claim
from warden.usecases.converge import converge, record_action
from warden.usecases.operator import OperatorDeps
from warden.usecases.undo import undo_pause_lines

HISTORY_LIMIT = 200  # more than any retention setting keeps (IMAGE_KEEP_DEPLOYED is small)


class MoveResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    claims: tuple[ClaimChange, ...]
    deployments_copied: int
    deployments_known: int
    summary: str


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
    was, now_is = facts_of(old).service_noun, deps.service.facts.service_noun
    copied, known = _copy_history(deps, old.arn, new.arn, dry_run=dry)
    changes: list[ClaimChange] = []
    for claim in sorted(deps.state.list_claims(old.arn), key=lambda held: held.created_at):
        carried = claim.model_copy(
            update={"evidence": f"{claim.evidence} (carried over from {was} {old.name})", "source_event": None}
        )
        changes.append(place_claim(deps.claims, new.arn, carried, now=now, actor=who, dry_run=dry))
    if not changes:
        # No claim moved: the new service still gets converged to its own claims (say, one placed before the move).
        result = converge(
            deps.service, deps.state, new.arn, deps.state.list_claims(new.arn), now=now, actor=who, dry_run=dry
        )
        service_line = result.summary
    else:
        service_line = changes[-1].result.summary
    verb = "would carry" if dry else "carried"
    summary = (
        f"{who} moved Warden from {was} {old.name} to {now_is} {new.name}: {verb} over "
        f"{len(changes)} pause claim{'s' if len(changes) != 1 else ''} and {copied} deployment record"
        f"{'s' if copied != 1 else ''} ({known} were already there)"
    )
    record_action(
        deps.state, new.arn, now, who, "move", "would" if dry else "done", f"{summary}; from {old.arn}", dry, None
    )
    if not dry:
        count("ActionsTaken")
    _notify(deps, settings, old, changes, copied, summary, service_line)
    return MoveResult(claims=tuple(changes), deployments_copied=copied, deployments_known=known, summary=summary)


def _copy_history(deps: OperatorDeps, old_arn: str, new_arn: str, *, dry_run: bool) -> tuple[int, int]:
    present = {(record.digest, record.at) for record in deps.state.list_deployments(new_arn, HISTORY_LIMIT)}
    history = deps.state.list_deployments(old_arn, HISTORY_LIMIT)
    missing = [record for record in history if (record.digest, record.at) not in present]
    if not dry_run:
        for record in reversed(missing):  # oldest first, as they happened
            deps.state.record_deployment(new_arn, record.digest, record.tag, record.at, record.source)
    return len(missing), len(history) - len(missing)


def _notify(
    deps: OperatorDeps,
    settings: Settings,
    old: ServiceRef,
    changes: list[ClaimChange],
    copied: int,
    summary: str,
    service_line: str,
) -> None:
    new = settings.service
    claims = deps.state.list_claims(new.arn)
    desire = desired_state(claims)
    paused = bool(claims)
    held = [f"{claim.key}: {claim.evidence} (by {claim.owner})" for claim in claims]
    undo = (
        [
            line
            for claim in claims
            for line in undo_pause_lines(deps.service, settings, claim.reason, claim.key, state=deps.state)
        ][:6]
        if paused
        else ["Nothing to undo on the service: no claim holds it."]
    )
    deps.notifier.publish(
        Notification(
            subject=f"[warden] MOVED {old.name} -> {new.name}" + (" (paused: a claim carried over)" if paused else ""),
            body=render(
                [
                    ("What happened", [summary + "."]),
                    ("What Warden did", [*(change.line for change in changes), service_line]),
                    ("Holding the service now", held or [f"No pause claim: {desire.reason}."]),
                    (
                        "What happens next",
                        [
                            f"Warden guards {deps.service.facts.service_noun} {new.name} from now on; the old "
                            f"service's records stay as its history (`warden history` with SERVICE_ARN={old.arn}).",
                        ],
                    ),
                    ("How to undo", undo),
                    ("Links", [f"Service: {deps.service.facts.console_url}"]),
                ],
                headline=f"Warden now guards {new.name} ({deps.service.facts.service_noun}) with what it knew about "
                f"{old.name}.",
            ),
            event="service.moved",
            severity=Severity.WARNING if paused else Severity.INFO,
        )
    )
