"""`run_schedule`: the jobs EventBridge Scheduler starts, named by the schedule's Input in template.yaml.

- `workday-start` / `workday-end`: clear or add the `schedule` claim, as working hours at `now` say;
- `budget-period-check`: clear the `budget` claim once a new period has started and spend is under the threshold;
  and, every time, check that budget enforcement is wired at all (usecases/budget_wiring.py): a critical
  notification at most once a day when it is not, and a failed invocation when that notification may reach nobody;
- `reconcile`: converge the service to its claims and start a deployment a resume left pending;
- `spend-check` (every 15 minutes): the spend guard (usecases/spend_guard.py) estimates the period's spend ahead of
  AWS Budgets and warns, notifies or pauses per SPEND_GUARD; `budget-period-check` also records how its estimates
  compared with Budgets' later figures.

Each job decides from `now`, so a late or repeated delivery does the right thing; none touches another
source's claim, so the 08:00 resume can never undo a budget pause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import EnforcePolicy, budget_claim_release
from warden.domain.claims import Claim, ClaimReason, desired_state
from warden.domain.converge import ConvergeAction
from warden.domain.costs import SECTION, paused_cost_lines
from warden.domain.notification import Notification, Severity, render
from warden.domain.schedule import working_hours_decision
from warden.errors import BudgetNotFound, ServiceBusy
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.budget_wiring import EnforcementOffUnheard, WiringDeps, check_budget_wiring, report_if_off
from warden.usecases.claims import ClaimDeps, place_claim, release_claim
from warden.usecases.converge import converge, settle_pending_deploy
from warden.usecases.ports import BudgetPort, ImagePort, MetricsPort, NotifierPort, StatePort, UsageFactsPort
from warden.usecases.spend_guard import SpendDeps, record_accuracy, run_spend_checks
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines
from warden.usecases.unrecorded import recover_budget_claim

ACTOR = "run_schedule"


class Job(StrEnum):
    WORKDAY_START = "workday-start"
    WORKDAY_END = "workday-end"
    BUDGET_PERIOD_CHECK = "budget-period-check"
    RECONCILE = "reconcile"
    SPEND_CHECK = "spend-check"


@dataclass(frozen=True)
class ScheduleDeps:
    service: Target
    state: StatePort
    notifier: NotifierPort
    budgets: BudgetPort
    images: ImagePort | None = None
    # The budget wiring check of `budget-period-check`; None leaves it out (tests of the other jobs).
    wiring: WiringDeps | None = None
    # The spend guard's ports (`spend-check`): the service's billed configuration and its metrics. None: not wired.
    usage: UsageFactsPort | None = None
    metrics: MetricsPort | None = None

    @property
    def claims(self) -> ClaimDeps:
        return ClaimDeps(self.service, self.state, self.images)


class JobResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    job: str
    outcome: str
    reason: str
    notification_event: str | None = None
    # budget-period-check: what the budget wiring check found ("ok", "reported: ...", ...).
    wiring: str | None = None
    # budget-period-check: the spend guard's estimate against Budgets' latest figure, when there was a new one.
    accuracy: str | None = None


def run_job(job: Job, deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    match job:
        case Job.WORKDAY_START | Job.WORKDAY_END:
            return _working_hours(job, deps, settings, now)
        case Job.BUDGET_PERIOD_CHECK:
            return _budget_period(deps, settings, now)
        case Job.RECONCILE:
            return _reconcile(deps, settings, now)
        case Job.SPEND_CHECK:
            return _spend_check(deps, settings, now)


def _working_hours(job: Job, deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    hours = settings.working_hours
    if hours is None:
        reason = "ignored, because working hours are off (WORKING_HOURS_ENABLED is not true)"
        logger.info(reason, extra={"job": job.value})
        count("JobsIgnored")
        return JobResult(job=job.value, outcome="ignored", reason=reason)
    decision = working_hours_decision(hours, now)
    arn, name = settings.service.arn, settings.service.name
    if decision.working:
        change = release_claim(
            deps.claims,
            arn,
            ClaimReason.SCHEDULE.value,
            now=now,
            actor=ACTOR,
            reason=decision.reason,
            dry_run=settings.dry_run,
        )
    else:
        claim = Claim.new(ClaimReason.SCHEDULE, owner=ACTOR, evidence=decision.reason, now=now)
        change = place_claim(deps.claims, arn, claim, now=now, actor=ACTOR, dry_run=settings.dry_run)
    if not change.changed and change.called is None:
        return JobResult(job=job.value, outcome="unchanged", reason=decision.reason)
    held = _held_by_others(deps, settings, ClaimReason.SCHEDULE)
    if change.called == "resume":
        tag, event, severity = "RESUMED", "schedule.resumed", Severity.INFO
        headline = f"Working hours started: Warden resumed {name}."
    elif change.called == "pause":
        tag, event, severity = "PAUSED", "schedule.paused", Severity.INFO
        headline = f"Working hours ended: Warden paused {name} until the next working day."
    elif decision.working and held:
        tag, event, severity = "STAYS PAUSED", "schedule.held", Severity.WARNING
        headline = f"Working hours started, but {name} stays paused: {_holders(held)} still holds it."
    else:
        tag, event, severity = "SCHEDULE", "schedule.claim", Severity.INFO
        headline = f"Working-hours claim updated for {name}; no {deps.service.facts.platform} call was needed."
    sections = [
        ("Why", [decision.reason]),
        ("What Warden did", [change.line, change.result.summary]),
        ("Still holding the service", [_claim_line(claim, now) for claim in held] if held else []),
        (SECTION, paused_cost_lines(change.result.before) if change.called == "pause" else []),
        ("How to change it", _schedule_help(settings, decision.working)),
    ]
    _publish(deps, f"[warden] {tag} {name}: {decision.reason.split(' (')[0]}", headline, sections, event, severity)
    return JobResult(job=job.value, outcome=change.called or "claim", reason=decision.reason, notification_event=event)


def _budget_period(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    """The budget claim's release, then the wiring check, whatever became of the release: a failure to read
    the claim (the state table gone) must not also silence the check that says enforcement is off."""
    failure: Exception | None = None
    result = JobResult(job=Job.BUDGET_PERIOD_CHECK.value, outcome="failed", reason="")
    try:
        result = _budget_claim(deps, settings, now)
    except Exception as error:  # raised below, after the wiring check
        failure = error
    result = result.model_copy(update={"accuracy": _spend_accuracy(deps, settings)})
    if deps.wiring is None:
        if failure is not None:
            raise failure
        return result
    outcome = report_if_off(
        check_budget_wiring(deps.wiring, settings), state=deps.state, notifier=deps.notifier, settings=settings, now=now
    )
    if failure is not None:
        raise failure
    if outcome.escalate:
        # Fails the invocation on purpose: run_schedule's errors alarm reaches the operator by the alarm topic.
        raise EnforcementOffUnheard(outcome.escalate)
    return result.model_copy(update={"wiring": f"{outcome.status.value}: {outcome.reason}"})


def _budget_claim(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    job = Job.BUDGET_PERIOD_CHECK.value
    arn, name = settings.service.arn, settings.service.name
    claim = deps.state.get_claim(arn, ClaimReason.BUDGET.value)
    if claim is None:
        return JobResult(job=job, outcome="unchanged", reason="no budget claim is active")
    try:
        snapshot = deps.budgets.read_budget(settings.service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        reason = f"kept the budget claim: cannot read the budget ({missing})"
        logger.warning(reason)
        return JobResult(job=job, outcome="kept", reason=reason)
    policy = EnforcePolicy(budget_name=settings.budget_name, threshold_percent=settings.enforce_threshold_percent)
    check = budget_claim_release(_claim_period_start(claim), snapshot, policy, now)
    logger.info("budget period check", extra={"release": check.release, "reason": check.reason})
    if not check.release:
        return JobResult(job=job, outcome="kept", reason=check.reason)
    change = release_claim(
        deps.claims, arn, ClaimReason.BUDGET.value, now=now, actor=ACTOR, reason=check.reason, dry_run=settings.dry_run
    )
    held = _held_by_others(deps, settings, ClaimReason.BUDGET)
    if change.called == "resume" or (settings.dry_run and change.result.decision.action is ConvergeAction.RESUME):
        tag, event, severity = "RESUMED", "budget.period_resumed", Severity.INFO
        headline = f"A new budget period started: Warden resumed {name}."
    else:
        tag, event, severity = "BUDGET CLEARED", "budget.period_held", Severity.WARNING
        headline = f"A new budget period started; {name} stays paused by {_holders(held) or 'its current state'}."
    sections = [
        ("Why", [check.reason]),
        ("What Warden did", [change.line, change.result.summary]),
        ("Still holding the service", [_claim_line(other, now) for other in held] if held else []),
        ("How to undo", ['warden pause --reason "<why>"   (pauses again with a manual claim)']),
    ]
    _publish(deps, f"[warden] {tag} {name}: new budget period", headline, sections, event, severity)
    return JobResult(job=job, outcome=change.called or "cleared", reason=check.reason, notification_event=event)


def _reconcile(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    job = Job.RECONCILE.value
    arn, name = settings.service.arn, settings.service.name
    claims = deps.state.list_claims(arn)
    if not claims:
        # A budget pause made while the state table was unavailable has no claim: record it, never resume it.
        recovered = recover_budget_claim(
            deps.service, deps.state, deps.budgets, deps.notifier, settings, now, actor=ACTOR
        )
        claims = [recovered] if recovered is not None else claims
    try:
        result = converge(
            deps.service, deps.state, arn, claims, now=now, actor=ACTOR, dry_run=settings.dry_run, images=deps.images
        )
    except ServiceBusy as busy:
        # The next run, a quarter of an hour later, finishes it: no need for Lambda to retry.
        return JobResult(job=job, outcome="deferred", reason=str(busy))
    pending = settle_pending_deploy(
        deps.service, deps.state, arn, now=now, actor=ACTOR, dry_run=settings.dry_run, images=deps.images
    )
    deployed = pending.line if pending is not None else None
    if result.called is None and pending is None:
        return JobResult(job=job, outcome="converged", reason=result.decision.reason)
    if pending is not None and pending.deployed and result.called is None:
        tag, event = "DEPLOYED", "service.deploy_after_resume"
        headline = f"Warden started the deployment {name} missed while paused."
    elif pending is not None and result.called is None:
        # With auto-deploy off, Warden deploys only what a person released or rolled back to.
        tag, event = "NOT DEPLOYED", "service.deploy_skipped"
        headline = f"Warden did not deploy {name}'s pending image: automatic deployments are off."
    else:
        tag, event = ("PAUSED" if result.called == "pause" else "RESUMED"), "service.reconciled"
        headline = f"Warden found {name} out of step with its pause claims and corrected it."
    sections = [
        ("Why", [result.desire.reason]),
        ("What Warden did", [result.summary if result.called or result.dry_run else "", deployed or ""]),
        (SECTION, paused_cost_lines(result.before) if result.called == "pause" else []),
        (
            "How to undo",
            undo_pause_lines(deps.service, settings, claims[0].reason, claims[0].key, state=deps.state)
            if claims and result.called == "pause"
            else [],
        ),
    ]
    _publish(deps, f"[warden] {tag} {name}: reconcile", headline, sections, event, Severity.WARNING)
    outcome = tag.lower().replace(" ", "_")
    return JobResult(job=job, outcome=outcome, reason=result.desire.reason, notification_event=event)


def _spend_check(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    job = Job.SPEND_CHECK.value
    if deps.usage is None or deps.metrics is None:
        reason = "ignored, because the spend guard is not wired (no usage facts or metrics port)"
        logger.warning(reason)
        count("JobsIgnored")
        return JobResult(job=job, outcome="ignored", reason=reason)
    spend = SpendDeps(
        service=deps.service,
        state=deps.state,
        notifier=deps.notifier,
        budgets=deps.budgets,
        usage=deps.usage,
        metrics=deps.metrics,
        images=deps.images,
    )
    results = run_spend_checks(spend, settings, now)
    events = [result.notification_event for result in results if result.notification_event]
    return JobResult(
        job=job,
        outcome=", ".join(result.outcome.value for result in results),
        reason="; ".join(result.reason for result in results),
        notification_event=events[0] if events else None,
    )


def _spend_accuracy(deps: ScheduleDeps, settings: Settings) -> str | None:
    """The spend guard's estimate against Budgets' latest figure; a failure here never stops the period check."""
    try:
        comparison = record_accuracy(deps.state, settings.service)
    except Exception:
        logger.exception("spend accuracy not recorded")
        return None
    return comparison.line() if comparison is not None else None


def _held_by_others(deps: ScheduleDeps, settings: Settings, mine: ClaimReason) -> list[Claim]:
    return [claim for claim in deps.state.list_claims(settings.service.arn) if claim.reason is not mine]


def _holders(claims: list[Claim]) -> str:
    return desired_state(claims).reason.removeprefix("paused by ") if claims else ""


def _claim_line(claim: Claim, now: datetime) -> str:
    hours = max(0, int((now - claim.created_at).total_seconds() // 3600))
    age = f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"
    return f"{claim.key}: {claim.evidence} (by {claim.owner}, {age} ago)"


def _claim_period_start(claim: Claim) -> date:
    recorded = claim.details.get("period_start", "")
    try:
        return date.fromisoformat(recorded[:10])
    except ValueError:
        # An older or hand-made claim without a readable period: the day it was placed is in that period.
        return claim.created_at.date()


def _schedule_help(settings: Settings, working: bool) -> list[str]:
    hours = settings.working_hours
    lines = [f"Working hours: {hours.describe()} (stack parameters WorkingHours*, ScheduleTimezone)."] if hours else []
    if not working:
        lines.append('Work late: warden resume --override schedule --reason "<why>"')
    return lines


def _publish(
    deps: ScheduleDeps,
    subject: str,
    headline: str,
    sections: list[tuple[str, list[str]]],
    event: str,
    severity: Severity,
) -> None:
    deps.notifier.publish(
        Notification(subject=subject, body=render(sections, headline=headline), event=event, severity=severity)
    )
    count("NotificationsSent")
