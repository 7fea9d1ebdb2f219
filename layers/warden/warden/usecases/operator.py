"""What the operator does from the CLI: pause, resume (with overrides), and read the service's state.

A manual pause is a `manual` claim like any other, so a new budget period never resumes a service a
person paused. Clearing another source's claim (`--override`) needs a reason, which is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason, DesiredState
from warden.domain.costs import SECTION, paused_cost_lines
from warden.domain.notification import Notification, Severity, render
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceSnapshot
from warden.errors import BudgetNotFound, WardenError
from warden.observability import count
from warden.settings import Settings
from warden.usecases.claims import ClaimChange, ClaimDeps, place_claim, release_claim
from warden.usecases.ports import BudgetPort, ImagePort, NotifierPort, StatePort
from warden.usecases.spend_guard import SpendStatus, spend_status
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines


@dataclass(frozen=True)
class OperatorDeps:
    service: Target
    state: StatePort
    notifier: NotifierPort
    budgets: BudgetPort
    images: ImagePort | None = None

    @property
    def claims(self) -> ClaimDeps:
        return ClaimDeps(self.service, self.state, self.images)


class StatusReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: ServiceSnapshot
    claims: list[Claim]
    budget: BudgetSnapshot | None
    budget_error: str | None
    actions: Sequence[ActionRecord]
    resume_restores: str | None = None  # ECS: the scale the pause remembered
    spend: SpendStatus | None = None  # the spend guard's last estimate, projection and accuracy


def status(deps: OperatorDeps, settings: Settings, *, actions: int = 10) -> StatusReport:
    snapshot = deps.service.describe(settings.service.arn)
    budget: BudgetSnapshot | None = None
    budget_error: str | None = None
    try:
        budget = deps.budgets.read_budget(settings.service.account_id, settings.budget_name)
    except (BudgetNotFound, WardenError) as error:
        budget_error = str(error)
    return StatusReport(
        service=snapshot,
        claims=deps.state.list_claims(settings.service.arn),
        budget=budget,
        budget_error=budget_error,
        actions=deps.state.list_actions(settings.service.arn, limit=actions),
        resume_restores=deps.service.remembered_scale(deps.state),
        spend=spend_status(deps.state, settings.service),
    )


def manual_pause(deps: OperatorDeps, settings: Settings, *, who: str, reason: str, now: datetime) -> ClaimChange:
    claim = Claim.new(ClaimReason.MANUAL, owner=who, evidence=reason, now=now)
    change = place_claim(deps.claims, settings.service.arn, claim, now=now, actor=who, dry_run=settings.dry_run)
    name = settings.service.name
    did = "Would pause" if settings.dry_run else ("Paused" if change.called == "pause" else "Manual claim on")
    headline = f"{name} was paused by hand."
    next_steps = [
        "The service stays paused until someone runs `warden resume`; "
        "budget roll-overs and working hours do not resume it."
    ]
    undo = undo_pause_lines(deps.service, settings, ClaimReason.MANUAL, claim.key, state=deps.state)
    if change.result.desire.state is not DesiredState.PAUSED:
        # A `warden resume` cleared the claim while this pause converged: the service runs, and says so.
        did, headline = "Manual claim cleared meanwhile on", f"{name} was paused by hand, and resumed meanwhile."
        next_steps, undo = ["The service runs: the manual claim was cleared while Warden paused it."], []
    _publish(
        deps,
        Notification(
            subject=f"[warden] {did.upper()} {name}: {reason}",
            body=render(
                [
                    ("What happened", [f"{who} paused {name} by hand: {reason}"]),
                    ("What Warden did", [change.line, change.result.summary]),
                    ("What happens next", next_steps),
                    (SECTION, pause_cost_lines(change)),
                    ("How to undo", undo),
                ],
                headline=headline,
            ),
            event="manual.paused",
            severity=Severity.WARNING,
        ),
    )
    return change


def manual_resume(
    deps: OperatorDeps,
    settings: Settings,
    *,
    who: str,
    reason: str,
    override: ClaimReason | None,
    now: datetime,
) -> list[ClaimChange]:
    """Clears the manual claim, or with `override` another source's claims (all `alarm#…` for alarms)."""
    arn = settings.service.arn
    target = override or ClaimReason.MANUAL
    keys = [claim.key for claim in deps.state.list_claims(arn) if claim.reason is target] or [target.value]
    why = f"{who}: {reason}" if override else f"{who} resumed by hand: {reason}"
    changes = [
        release_claim(deps.claims, arn, key, now=now, actor=who, reason=why, dry_run=settings.dry_run) for key in keys
    ]
    last = changes[-1]
    remaining = deps.state.list_claims(arn)
    name = settings.service.name
    resumed = any(change.called == "resume" for change in changes)
    headline = (
        f"{who} resumed {name}."
        if resumed
        else f"{who} cleared the {target.value} claim; {name} "
        + (
            "stays paused: " + ", ".join(claim.key for claim in remaining) + " still holds it."
            if remaining
            else "was not paused."
        )
    )
    _publish(
        deps,
        Notification(
            subject=f"[warden] {'RESUMED' if resumed else 'CLAIM CLEARED'} {name}: {reason}",
            body=render(
                [
                    ("What happened", [why + (f" (override of the {target.value} claim)" if override else "")]),
                    ("What Warden did", [*(change.line for change in changes), last.result.summary]),
                    ("Still holding the service", [f"{c.key}: {c.evidence} (by {c.owner})" for c in remaining]),
                    ("How to undo", ['warden pause --reason "<why>"']),
                ],
                headline=headline,
            ),
            event="override.resumed" if override else "manual.resumed",
            severity=Severity.WARNING if override else Severity.INFO,
        ),
    )
    return changes


def pause_cost_lines(change: ClaimChange) -> list[str]:
    """What keeps costing while the service is paused (none when the change left it running), for the
    notification and the CLI alike: a pause stops compute, not the whole bill."""
    if change.result.desire.state is not DesiredState.PAUSED:
        return []
    return paused_cost_lines(change.result.before)


def _publish(deps: OperatorDeps, notification: Notification) -> None:
    deps.notifier.publish(notification)
    count("NotificationsSent")
