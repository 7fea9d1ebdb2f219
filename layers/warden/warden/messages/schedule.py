"""run_schedule in words: working hours starting and ending, a new budget period, and the reconcile that found the
service out of step with its claims or deployed what a resume left pending.

The facts are usecases/schedule.py's (`HoursChange`, `PeriodRelease`, `Reconciled`); the claim's and the
converge's own sentences, the costs while paused and the undo commands are warden/messages/service.py's. The
platform's name comes from the target's facts. The approved text of each notification is under
tests/golden/texts/schedule.*.txt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, assert_never

from warden.domain.converge import ConvergeAction
from warden.domain.costs import SECTION
from warden.domain.fleet import HOURS_TAG
from warden.domain.notification import Notification, Severity, render
from warden.domain.schedule import WorkingHours
from warden.errors import BudgetNotFound
from warden.messages.service import (
    PAUSE_AGAIN,
    held_line,
    holders,
    paused_cost_lines,
    service_option,
    undo_lines,
)
from warden.usecases.converge import PendingOutcome

if TYPE_CHECKING:
    from warden.usecases.schedule import HoursChange, PeriodRelease, Reconciled

# The reasons of the jobs that tell nobody (JobResult.reason; the log says them too).
WORKING_HOURS_OFF: Final = "ignored, because working hours are off (WORKING_HOURS_ENABLED is not true)"
NO_BUDGET_CLAIM: Final = "no budget claim is active"
SPEND_GUARD_NOT_WIRED: Final = "ignored, because the spend guard is not wired (no usage facts or metrics port)"
_DRY_RUN: Final = "DRY_RUN is on, so nothing was changed."


def budget_unreadable(missing: BudgetNotFound) -> str:
    return f"kept the budget claim: cannot read the budget ({missing})"


# --- working hours ------------------------------------------------------------------------------------------------


def working_hours(facts: HoursChange) -> Notification:
    """`workday-start` or `workday-end` changed the schedule claim: the resume, the pause, or who still holds it."""
    name, change, decision = facts.service, facts.change, facts.decision
    would = change.result.decision.action if change.result.dry_run else None
    if change.called == "resume":
        tag, event, severity = "RESUMED", "schedule.resumed", Severity.INFO
        headline = f"Working hours started: Warden resumed {name}."
    elif change.called == "pause":
        tag, event, severity = "PAUSED", "schedule.paused", Severity.INFO
        headline = f"Working hours ended: Warden paused {name} until the next working day."
    elif decision.working and facts.held:
        tag, event, severity = "STAYS PAUSED", "schedule.held", Severity.WARNING
        headline = f"Working hours started, but {name} stays paused: {holders(facts.held)} still holds it."
    elif would is ConvergeAction.PAUSE:
        tag, event, severity = "DRY RUN would pause", "schedule.claim", Severity.INFO
        headline = f"[dry run] Working hours ended: Warden would have paused {name} until the next working day. "
        headline += _DRY_RUN
    elif would is ConvergeAction.RESUME:
        tag, event, severity = "DRY RUN would resume", "schedule.claim", Severity.INFO
        headline = f"[dry run] Working hours started: Warden would have resumed {name}. {_DRY_RUN}"
    else:
        tag, event, severity = "SCHEDULE", "schedule.claim", Severity.INFO
        headline = f"Working-hours claim updated for {name}; no {facts.target.platform} call was needed."
    body = render(
        [
            ("Why", [decision.reason]),
            ("What Warden did", [change.line, change.result.summary]),
            ("Still holding the service", [held_line(claim, facts.now) for claim in facts.held]),
            (SECTION, paused_cost_lines(change.result.before) if change.called == "pause" else []),
            (
                "How to change it",
                _schedule_help(
                    facts.hours, working=decision.working, from_tag=facts.hours_from_tag, name=facts.service
                ),
            ),
        ],
        headline=headline,
    )
    subject = f"[warden] {tag} {name}: {decision.reason.split(' (')[0]}"
    return Notification(subject=subject, body=body, event=event, severity=severity)


def _schedule_help(hours: WorkingHours | None, *, working: bool, from_tag: bool, name: str) -> list[str]:
    where = f"the service's tag {HOURS_TAG}" if from_tag else "stack parameters WorkingHours*, ScheduleTimezone"
    lines = [f"Working hours: {hours.describe()} ({where})."] if hours else []
    if not working:
        lines.append(f'Work late: warden resume --override schedule --reason "<why>"{service_option(name)}')
    return lines


# --- a new budget period ------------------------------------------------------------------------------------------


def period_release(facts: PeriodRelease) -> Notification:
    """`budget-period-check` cleared the last period's budget claim: the service resumed, or stays paused by another
    source's claim."""
    name, change = facts.service, facts.change
    if change.result.dry_run and change.result.decision.action is ConvergeAction.RESUME:
        tag, event, severity = "DRY RUN would resume", "budget.period_resumed", Severity.INFO
        headline = f"[dry run] A new budget period started: Warden would have resumed {name}. {_DRY_RUN}"
    elif change.called == "resume":
        tag, event, severity = "RESUMED", "budget.period_resumed", Severity.INFO
        headline = f"A new budget period started: Warden resumed {name}."
    else:
        tag, event, severity = "BUDGET CLEARED", "budget.period_held", Severity.WARNING
        holding = holders(facts.held) or "its current state"
        headline = f"A new budget period started; {name} stays paused by {holding}."
    body = render(
        [
            ("Why", [facts.reason]),
            ("What Warden did", [change.line, change.result.summary]),
            ("Still holding the service", [held_line(claim, facts.now) for claim in facts.held]),
            ("How to undo", [f"{PAUSE_AGAIN}   (pauses again with a manual claim)"]),
        ],
        headline=headline,
    )
    return Notification(subject=f"[warden] {tag} {name}: new budget period", body=body, event=event, severity=severity)


# --- the reconcile ------------------------------------------------------------------------------------------------


def reconciled(facts: Reconciled) -> Notification:
    """The reconcile paused or resumed a service out of step with its claims, or settled a pending deployment."""
    name, result, pending = facts.service, facts.result, facts.pending
    dry = pending is not None and pending.outcome in {PendingOutcome.WOULD_START, PendingOutcome.WOULD_SKIP}
    outcome = facts.outcome
    match outcome:
        case "deployed":
            tag, event = ("DRY RUN would deploy" if dry else "DEPLOYED"), "service.deploy_after_resume"
            headline = f"Warden started the deployment {name} missed while paused."
            if dry:
                headline = f"[dry run] Warden would have started the deployment {name} missed while paused. {_DRY_RUN}"
        case "not_deployed":
            # With auto-deploy off, Warden deploys only what a person released or rolled back to.
            tag, event = "NOT DEPLOYED", "service.deploy_skipped"
            headline = f"Warden did not deploy {name}'s pending image: automatic deployments are off."
            if dry:
                headline = f"[dry run] Warden would not deploy {name}'s pending image: automatic deployments are off."
        case "paused" | "resumed":
            tag, event = outcome.upper(), "service.reconciled"
            headline = f"Warden found {name} out of step with its pause claims and corrected it."
        case unreachable:
            assert_never(unreachable)
    body = render(
        [
            ("Why", [result.desire.reason]),
            (
                "What Warden did",
                [result.summary if result.called or result.dry_run else "", pending.line if pending else ""],
            ),
            (SECTION, paused_cost_lines(result.before) if result.called == "pause" else []),
            ("How to undo", undo_lines(facts.undo) if facts.undo is not None else []),
        ],
        headline=headline,
    )
    return Notification(subject=f"[warden] {tag} {name}: reconcile", body=body, event=event, severity=Severity.WARNING)
