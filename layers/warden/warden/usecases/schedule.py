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
source's claim, so the 08:00 resume can never undo a budget pause. The notifications are written by
warden/messages/schedule.py from the facts (`HoursChange`, `PeriodRelease`, `Reconciled`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from warden.domain.budget import EnforcePolicy, budget_claim_release
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification
from warden.domain.schedule import ScheduleDecision, WorkingHours, working_hours_decision
from warden.domain.target import TargetFacts
from warden.errors import BudgetNotFound, ServiceBusy
from warden.messages import schedule as words
from warden.messages.spend import accuracy_line
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.budget_wiring import EnforcementOffUnheard, WiringDeps, check_budget_wiring, report_if_off
from warden.usecases.claims import ClaimChange, ClaimDeps, place_claim, release_claim
from warden.usecases.converge import ConvergeResult, PendingDeploy, converge, settle_pending_deploy
from warden.usecases.ports import BudgetPort, ImagePort, MetricsPort, NotifierPort, StatePort, UsageFactsPort
from warden.usecases.spend_guard import SpendDeps, record_accuracy, run_spend_checks
from warden.usecases.target import Target
from warden.usecases.undo import UndoFacts, undo_facts
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


class HoursChange(BaseModel):
    """What `workday-start` or `workday-end` did: the schedule claim and the converge, and who else holds it."""

    model_config = ConfigDict(frozen=True)

    service: str
    target: TargetFacts
    decision: ScheduleDecision
    change: ClaimChange
    held: tuple[Claim, ...]  # the other sources' claims, which keep the service paused
    now: datetime
    hours: WorkingHours | None
    hours_from_tag: bool = False  # the service's `warden:hours` tag set them, not the stack's parameters


class PeriodRelease(BaseModel):
    """What `budget-period-check` did with the budget claim of a period that ended."""

    model_config = ConfigDict(frozen=True)

    service: str
    reason: str  # why the claim goes (domain/budget.py's reason)
    change: ClaimChange
    held: tuple[Claim, ...]
    now: datetime


# What a reconcile that told somebody did: the outcome of its JobResult, and its notification.
ReconcileOutcome = Literal["deployed", "not_deployed", "paused", "resumed"]


class Reconciled(BaseModel):
    """A reconcile that found the service out of step with its claims, or a deployment a resume left pending."""

    model_config = ConfigDict(frozen=True)

    service: str
    result: ConvergeResult
    pending: PendingDeploy | None
    undo: UndoFacts | None  # after a pause: how to undo the first claim's

    @property
    def outcome(self) -> ReconcileOutcome:
        if self.pending is not None and self.result.called is None:
            return "deployed" if self.pending.deployed else "not_deployed"
        return "paused" if self.result.called == "pause" else "resumed"


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
        reason = words.WORKING_HOURS_OFF
        logger.info(reason, extra={"job": job.value})
        count("JobsIgnored")
        return JobResult(job=job.value, outcome="ignored", reason=reason)
    decision = working_hours_decision(hours, now)
    arn = settings.service.arn
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
    told = words.working_hours(
        HoursChange(
            service=settings.service.name,
            target=deps.service.facts,
            decision=decision,
            change=change,
            held=_held_by_others(deps, settings, ClaimReason.SCHEDULE),
            now=now,
            hours=hours,
            hours_from_tag=settings.hours_from_tag,
        )
    )
    _publish(deps, told)
    return JobResult(
        job=job.value, outcome=change.called or "claim", reason=decision.reason, notification_event=told.event
    )


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
    arn = settings.service.arn
    claim = deps.state.get_claim(arn, ClaimReason.BUDGET.value)
    if claim is None:
        return JobResult(job=job, outcome="unchanged", reason=words.NO_BUDGET_CLAIM)
    try:
        snapshot = deps.budgets.read_budget(settings.service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        reason = words.budget_unreadable(missing)
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
    told = words.period_release(
        PeriodRelease(
            service=settings.service.name,
            reason=check.reason,
            change=change,
            held=_held_by_others(deps, settings, ClaimReason.BUDGET),
            now=now,
        )
    )
    _publish(deps, told)
    return JobResult(job=job, outcome=change.called or "cleared", reason=check.reason, notification_event=told.event)


def _reconcile(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    job = Job.RECONCILE.value
    arn = settings.service.arn
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
    if result.called is None and pending is None:
        return JobResult(job=job, outcome="converged", reason=result.decision.reason)
    reconciled = Reconciled(
        service=settings.service.name,
        result=result,
        pending=pending,
        # Read after the pause: a platform that remembers what to restore (ECS) quotes it.
        undo=undo_facts(deps.service, settings, claims[0].reason, claims[0].key, state=deps.state)
        if claims and result.called == "pause"
        else None,
    )
    told = words.reconciled(reconciled)
    _publish(deps, told)
    return JobResult(job=job, outcome=reconciled.outcome, reason=result.desire.reason, notification_event=told.event)


def _spend_check(deps: ScheduleDeps, settings: Settings, now: datetime) -> JobResult:
    job = Job.SPEND_CHECK.value
    if deps.usage is None or deps.metrics is None:
        reason = words.SPEND_GUARD_NOT_WIRED
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
    return accuracy_line(comparison) if comparison is not None else None


def _held_by_others(deps: ScheduleDeps, settings: Settings, mine: ClaimReason) -> tuple[Claim, ...]:
    return tuple(claim for claim in deps.state.list_claims(settings.service.arn) if claim.reason is not mine)


def _claim_period_start(claim: Claim) -> date:
    recorded = claim.details.get("period_start", "")
    try:
        return date.fromisoformat(recorded[:10])
    except ValueError:
        # An older or hand-made claim without a readable period: the day it was placed is in that period.
        return claim.created_at.date()


def _publish(deps: ScheduleDeps, notification: Notification) -> None:
    deps.notifier.publish(notification)
    count("NotificationsSent")
