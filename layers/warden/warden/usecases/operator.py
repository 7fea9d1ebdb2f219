"""What the operator does from the CLI: pause, resume (with overrides), and read the service's state.

A manual pause is a `manual` claim like any other, so a new budget period never resumes a service a
person paused. Clearing another source's claim (`--override`) needs a reason, which is recorded.
The notifications are written by warden/messages/service.py from the facts (`ManualPause`, `ManualResume`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceSnapshot
from warden.errors import BudgetNotFound, WardenError
from warden.messages import service as words
from warden.observability import count
from warden.settings import Settings
from warden.usecases.claims import ClaimChange, ClaimDeps, place_claim, release_claim
from warden.usecases.ports import BudgetPort, ImagePort, NotifierPort, StatePort
from warden.usecases.spend_guard import SpendStatus, spend_status
from warden.usecases.target import Target
from warden.usecases.undo import UndoFacts, undo_facts


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


class ManualPause(BaseModel):
    """What `warden pause` did: the manual claim and the converge (in ClaimChange), and how to undo it."""

    model_config = ConfigDict(frozen=True)

    service: str
    who: str
    reason: str
    change: ClaimChange
    undo: UndoFacts | None
    dry_run: bool = False


class ManualResume(BaseModel):
    """What `warden resume` did: the claims it cleared (`target`'s), and the claims that still hold the service."""

    model_config = ConfigDict(frozen=True)

    service: str
    who: str
    reason: str
    target: ClaimReason
    override: ClaimReason | None
    changes: tuple[ClaimChange, ...]
    remaining: tuple[Claim, ...]


def manual_pause(deps: OperatorDeps, settings: Settings, *, who: str, reason: str, now: datetime) -> ClaimChange:
    claim = Claim.new(ClaimReason.MANUAL, owner=who, evidence=reason, now=now)
    change = place_claim(deps.claims, settings.service.arn, claim, now=now, actor=who, dry_run=settings.dry_run)
    pause = ManualPause(
        service=settings.service.name,
        who=who,
        reason=reason,
        change=change,
        # Read after the pause: a platform that remembers what to restore (ECS) quotes it.
        undo=undo_facts(deps.service, settings, ClaimReason.MANUAL, claim.key, state=deps.state),
        dry_run=settings.dry_run,
    )
    _publish(deps, words.manual_paused(pause))
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
    why = words.resume_reason(who, reason, override=override is not None)
    changes = [
        release_claim(deps.claims, arn, key, now=now, actor=who, reason=why, dry_run=settings.dry_run) for key in keys
    ]
    resume = ManualResume(
        service=settings.service.name,
        who=who,
        reason=reason,
        target=target,
        override=override,
        changes=tuple(changes),
        remaining=tuple(deps.state.list_claims(arn)),
    )
    _publish(deps, words.manual_resumed(resume))
    return changes


def pause_cost_lines(change: ClaimChange) -> list[str]:
    """What keeps costing while the service is paused (none when the change left it running), for the
    notification and the CLI alike: a pause stops compute, not the whole bill."""
    return words.pause_cost_lines(change)


def _publish(deps: OperatorDeps, notification: Notification) -> None:
    deps.notifier.publish(notification)
    count("NotificationsSent")
