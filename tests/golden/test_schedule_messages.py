"""run_schedule's words (warden/messages/schedule.py) as approved golden files, tests/golden/texts/schedule.*.txt.

Each notification the working-hours jobs, the budget-period check and the reconcile can send is rendered from its
facts (`HoursChange`, `PeriodRelease`, `Reconciled`), and most are rendered again by `run_job` with the in-memory
fakes (tests/golden/worlds.py) against the same files: the jobs word nothing themselves. Where the platforms' words
differ (what keeps billing, the undo commands, the platform's name) there is a file for each. `UPDATE_GOLDEN=1`
rewrites the files after a wording change; review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.golden.golden import assert_golden_notification
from tests.golden.worlds import (
    DEPLOYED,
    IMAGE,
    MONDAY_0800,
    MONDAY_1800,
    NAME,
    PUSHED,
    World,
    changed,
    converged,
    seeded,
    service,
    settings,
    snapshot,
    target,
    undo,
)
from warden.domain.budget import EnforcePolicy, budget_claim_release
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification
from warden.domain.schedule import working_hours_decision
from warden.domain.service import APP_RUNNER, ServiceStatus
from warden.messages.schedule import period_release, reconciled, working_hours
from warden.usecases.claims import ClaimStep
from warden.usecases.converge import (
    PENDING_DEPLOY,
    DeployNote,
    DeployNoteKind,
    PendingDeploy,
    PendingOutcome,
    Refusal,
)
from warden.usecases.schedule import HoursChange, Job, PeriodRelease, Reconciled

TUESDAY_0800 = MONDAY_0800 + timedelta(days=1)
RUNNING, PAUSED = ServiceStatus.RUNNING, ServiceStatus.PAUSED
BUDGET_EVIDENCE = "actual spend $10.42 is 104.2% of $10.00"


# --- the facts ---------------------------------------------------------------------------------------------------


def hours_change(
    now: datetime,
    step: ClaimStep,
    *,
    platform: str = "apprunner",
    status: ServiceStatus = RUNNING,
    holding: tuple[Claim, ...] = (),
    called: str | None = None,
    dry_run: bool = False,
    note: DeployNote | None = None,
    from_tag: bool = False,
) -> HoursChange:
    """What a working-hours job did at `now`: `step` to the schedule claim, then converging to every claim."""
    hours = settings(platform).working_hours
    assert hours is not None
    decision = working_hours_decision(hours, now)
    mine = (
        () if decision.working else (seeded(ClaimReason.SCHEDULE, decision.reason, "run_schedule", ago=timedelta(0)),)
    )
    wanted = holding + (mine if step in {ClaimStep.RECORDED, ClaimStep.WOULD_RECORD} else ())
    result = converged(service(platform, status), wanted, called=called, dry_run=dry_run, note=note)
    return HoursChange(
        service=NAME,
        target=target(platform),
        decision=decision,
        change=changed("schedule", step, result, reason=decision.reason),
        held=holding,
        now=now,
        hours=hours,
        hours_from_tag=from_tag,
    )


def paused_in_the_evening(platform: str = "apprunner", *, from_tag: bool = False) -> HoursChange:
    return hours_change(MONDAY_1800, ClaimStep.RECORDED, platform=platform, called="pause", from_tag=from_tag)


def resumed_in_the_morning(note: DeployNote | None = None) -> HoursChange:
    return hours_change(TUESDAY_0800, ClaimStep.CLEARED, status=PAUSED, called="resume", note=note)


PUSH = DeployNote(kind=DeployNoteKind.PUSH_FOLLOWS, image=IMAGE, platform=APP_RUNNER, to=PUSHED, at_pause=DEPLOYED)
BUDGET_HOLDS = seeded(ClaimReason.BUDGET, BUDGET_EVIDENCE, "on_budget_alert", ago=timedelta(days=3))
ALICE_HOLDS = seeded(ClaimReason.MANUAL, "investigating a leak", "alice", ago=timedelta(hours=5))
ALICE_MIGRATES = seeded(ClaimReason.MANUAL, "migrating the database", "alice", ago=timedelta(hours=30))
LAST_MONTH = seeded(ClaimReason.BUDGET, BUDGET_EVIDENCE, "on_budget_alert", ago=timedelta(days=30))
NEW_PERIOD = budget_claim_release(
    date(2026, 10, 1),
    snapshot("0.50"),
    EnforcePolicy(budget_name="consultation-app-monthly", threshold_percent=Decimal(100)),
    MONDAY_0800,
).reason


def period(
    step: ClaimStep, *, holding: tuple[Claim, ...] = (), called: str | None = None, dry_run: bool = False
) -> PeriodRelease:
    result = converged(service(status=PAUSED), holding, called=called, dry_run=dry_run)
    return PeriodRelease(
        service=NAME,
        reason=NEW_PERIOD,
        change=changed("budget", step, result, reason=NEW_PERIOD),
        held=holding,
        now=MONDAY_0800,
    )


ALICE_PAUSES = seeded(ClaimReason.MANUAL, "investigating a leak", "alice", ago=timedelta(minutes=20))


def reconcile(
    *,
    platform: str = "apprunner",
    status: ServiceStatus = RUNNING,
    holding: tuple[Claim, ...] = (),
    called: str | None = None,
    pending: PendingDeploy | None = None,
    dry_run: bool = False,
) -> Reconciled:
    return Reconciled(
        service=NAME,
        result=converged(service(platform, status), holding, called=called, dry_run=dry_run),
        pending=pending,
        undo=undo(platform, ClaimReason.MANUAL) if called == "pause" else None,
    )


def pending(outcome: PendingOutcome, refusal: Refusal | None = None) -> PendingDeploy:
    return PendingDeploy(
        outcome=outcome,
        image=IMAGE,
        to=PUSHED,
        from_resume=True,
        operation_id="op-deploy" if outcome is PendingOutcome.STARTED else None,
        refusal=refusal,
    )


FROM_FACTS: dict[str, Callable[[], Notification]] = {
    # The evening pause, with what keeps billing on each platform.
    "schedule.working_hours.paused.apprunner": lambda: working_hours(paused_in_the_evening()),
    "schedule.working_hours.paused.ecs": lambda: working_hours(paused_in_the_evening("ecs")),
    # A service whose `warden:hours` tag sets its hours: the help line names the tag, not the stack's parameters.
    "schedule.working_hours.paused.hours_from_tag": lambda: working_hours(paused_in_the_evening(from_tag=True)),
    # The morning resume; after a push to the tracked tag while paused, the deployment that follows.
    "schedule.working_hours.resumed": lambda: working_hours(resumed_in_the_morning()),
    "schedule.working_hours.resumed_image_pushed": lambda: working_hours(resumed_in_the_morning(PUSH)),
    # The working day starts, but the budget still holds the service.
    "schedule.working_hours.held": lambda: working_hours(
        hours_change(MONDAY_0800, ClaimStep.CLEARED, status=PAUSED, holding=(BUDGET_HOLDS,))
    ),
    # The evening claim on a service a person paused: no call to the platform, named by its facts.
    "schedule.working_hours.claim.apprunner": lambda: working_hours(
        hours_change(MONDAY_1800, ClaimStep.RECORDED, status=PAUSED, holding=(ALICE_HOLDS,))
    ),
    "schedule.working_hours.claim.ecs": lambda: working_hours(
        hours_change(MONDAY_1800, ClaimStep.RECORDED, platform="ecs", status=PAUSED, holding=(ALICE_HOLDS,))
    ),
    # DRY_RUN: what the evening and the morning would have done.
    "schedule.working_hours.dry_run": lambda: working_hours(
        hours_change(MONDAY_1800, ClaimStep.WOULD_RECORD, dry_run=True)
    ),
    "schedule.working_hours.dry_run_resume": lambda: working_hours(
        hours_change(TUESDAY_0800, ClaimStep.WOULD_CLEAR, status=PAUSED, dry_run=True)
    ),
    # A new budget period: the service resumes, stays paused by a person's claim, or (DRY_RUN) would resume.
    "schedule.budget_period.resumed": lambda: period_release(period(ClaimStep.CLEARED, called="resume")),
    "schedule.budget_period.held": lambda: period_release(period(ClaimStep.CLEARED, holding=(ALICE_MIGRATES,))),
    "schedule.budget_period.dry_run": lambda: period_release(period(ClaimStep.WOULD_CLEAR, dry_run=True)),
    # The reconcile corrects a service out of step with its claims (each platform's costs and undo commands).
    "schedule.reconcile.paused.apprunner": lambda: reconciled(reconcile(holding=(ALICE_PAUSES,), called="pause")),
    "schedule.reconcile.paused.ecs": lambda: reconciled(
        reconcile(platform="ecs", holding=(ALICE_PAUSES,), called="pause")
    ),
    "schedule.reconcile.resumed": lambda: reconciled(reconcile(status=PAUSED, called="resume")),
    # The deployment a resume left pending: started, not started (auto-deploy off), or, in a dry run, would be.
    "schedule.reconcile.deployed": lambda: reconciled(reconcile(pending=pending(PendingOutcome.STARTED))),
    "schedule.reconcile.not_deployed": lambda: reconciled(
        reconcile(pending=pending(PendingOutcome.SKIPPED, Refusal.PUSHED_WHILE_PAUSED))
    ),
    "schedule.reconcile.dry_run_deploy": lambda: reconciled(
        reconcile(pending=pending(PendingOutcome.WOULD_START), dry_run=True)
    ),
}


@pytest.mark.parametrize("name", FROM_FACTS)
def test_each_schedule_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one job's outcome, When the renderer writes its notification, Then it is the approved text
    assert_golden_notification(name, FROM_FACTS[name]())


def test_the_hours_of_a_tagged_service_are_said_to_come_from_its_tag() -> None:
    # Given the evening pause of a service whose hours come from its `warden:hours` tag, and one whose come from the
    # stack, When each is told
    tagged, stack = (working_hours(paused_in_the_evening(from_tag=tag)).body for tag in (True, False))
    # Then only the help line differs: the tag, instead of the stack's parameters
    assert [line for line in tagged.splitlines() if line not in stack.splitlines()] == [
        "  Working hours: MON-FRI 08:00-18:00 Europe/Berlin (the service's tag warden:hours)."
    ]


# --- the same notifications, through run_job with fakes -------------------------------------------------------------


def evening_pause(platform: str = "apprunner", *, from_tag: bool = False) -> Notification:
    world = World(platform)
    world.settings = world.settings.model_copy(update={"hours_from_tag": from_tag})
    world.run(Job.WORKDAY_END, MONDAY_1800)
    return world.last()


def morning_resume(*, pushed: bool = False) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World()
        world.run(Job.WORKDAY_END, MONDAY_1800)
        if pushed:
            world.images.digest = PUSHED
        world.run(Job.WORKDAY_START, TUESDAY_0800)
        return world.last()

    return run


def held_by_the_budget() -> Notification:
    world = World(status=PAUSED)
    world.claim(ClaimReason.BUDGET, evidence=BUDGET_EVIDENCE, owner="on_budget_alert")
    world.claim(ClaimReason.SCHEDULE, evidence="Mon 19:00 Europe/Berlin is outside working hours", ago=timedelta(0))
    world.run(Job.WORKDAY_START)
    return world.last()


def claim_only(platform: str) -> Notification:
    world = World(platform, status=PAUSED)
    world.claim(ClaimReason.MANUAL, evidence="investigating a leak", owner="alice", ago=timedelta(hours=5))
    world.run(Job.WORKDAY_END, MONDAY_1800)
    return world.last()


def dry_run_evening() -> Notification:
    world = World(DRY_RUN="true")
    world.run(Job.WORKDAY_END, MONDAY_1800)
    return world.last()


def new_period(*, held: bool = False, dry_run: bool = False) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World(status=PAUSED, **({"DRY_RUN": "true"} if dry_run else {}))
        world.claim(
            ClaimReason.BUDGET,
            evidence=BUDGET_EVIDENCE,
            owner="on_budget_alert",
            period_start="2026-10-01",
            ago=timedelta(days=30),
        )
        if held:
            world.claim(ClaimReason.MANUAL, evidence="migrating the database", owner="alice", ago=timedelta(hours=30))
        world.run(Job.BUDGET_PERIOD_CHECK)
        return world.last()

    return run


def reconcile_pause(platform: str) -> Notification:
    world = World(platform)
    world.claim(ClaimReason.MANUAL, evidence="investigating a leak", owner="alice", ago=timedelta(minutes=20))
    world.run(Job.RECONCILE)
    return world.last()


def reconcile_resume() -> Notification:
    world = World(status=PAUSED)
    world.run(Job.RECONCILE)
    return world.last()


def reconcile_after_a_push(*, auto_deploy_switched_off: bool = False) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World()
        world.run(Job.WORKDAY_END, MONDAY_1800)
        world.images.digest = PUSHED
        world.run(Job.WORKDAY_START, TUESDAY_0800)
        assert world.state.get_memo(world.arn, PENDING_DEPLOY) is not None
        if auto_deploy_switched_off:
            world.service.auto_deploy = False
        world.run(Job.RECONCILE, TUESDAY_0800 + timedelta(minutes=15))
        return world.last()

    return run


THROUGH_THE_USE_CASE: dict[str, Callable[[], Notification]] = {
    "schedule.working_hours.paused.apprunner": evening_pause,
    "schedule.working_hours.paused.ecs": lambda: evening_pause("ecs"),
    "schedule.working_hours.paused.hours_from_tag": lambda: evening_pause(from_tag=True),
    "schedule.working_hours.resumed": morning_resume(),
    "schedule.working_hours.resumed_image_pushed": morning_resume(pushed=True),
    "schedule.working_hours.held": held_by_the_budget,
    "schedule.working_hours.claim.apprunner": lambda: claim_only("apprunner"),
    "schedule.working_hours.claim.ecs": lambda: claim_only("ecs"),
    "schedule.working_hours.dry_run": dry_run_evening,
    "schedule.budget_period.resumed": new_period(),
    "schedule.budget_period.held": new_period(held=True),
    "schedule.budget_period.dry_run": new_period(dry_run=True),
    "schedule.reconcile.paused.apprunner": lambda: reconcile_pause("apprunner"),
    "schedule.reconcile.paused.ecs": lambda: reconcile_pause("ecs"),
    "schedule.reconcile.resumed": reconcile_resume,
    "schedule.reconcile.deployed": reconcile_after_a_push(),
    "schedule.reconcile.not_deployed": reconcile_after_a_push(auto_deploy_switched_off=True),
}


@pytest.mark.parametrize("name", THROUGH_THE_USE_CASE)
def test_run_schedule_publishes_exactly_what_the_renderer_writes(name: str) -> None:
    # Given a service, its claims and its images in the fakes, When the job runs
    sent = THROUGH_THE_USE_CASE[name]()
    # Then the one notification it publishes is the approved text, the same the renderer writes from the facts
    assert_golden_notification(name, sent)
    assert sent == FROM_FACTS[name]()
