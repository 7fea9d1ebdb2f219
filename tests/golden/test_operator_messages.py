"""The operator's words and the service's own story (warden/messages/service.py) as approved golden files,
tests/golden/texts/operator.*.txt.

`warden pause`, `warden resume` (and `--override`) and `warden move` are rendered from their facts (`ManualPause`,
`ManualResume`, `Moved`) and again through the use cases with the in-memory fakes against the same files. The
sentences every pause or resume notification shares are approved once here: what happened to a claim, what
converging did, the deployment a resume left pending, what keeps billing while paused, and the undo commands, each
for every case the facts can be in. `UPDATE_GOLDEN=1` rewrites the files after a wording change; review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import product

import pytest

from tests.golden.golden import assert_golden, assert_golden_notification
from tests.golden.worlds import (
    APPRUNNER_ARN,
    DEPLOYED,
    IMAGE,
    MONDAY_0800,
    NAME,
    PUSHED,
    World,
    changed,
    converged,
    seeded,
    service,
    target,
    undo,
)
from warden.domain.claims import Claim, ClaimReason, Desire, DesiredState
from warden.domain.notification import Notification
from warden.domain.service import APP_RUNNER, ECS, ServiceSnapshot, ServiceStatus
from warden.messages.service import (
    claim_line,
    converge_summary,
    manual_paused,
    manual_resumed,
    moved,
    paused_cost_lines,
    pending_deploy_line,
    pending_deploy_reason,
    resume_reason,
    undo_lines,
)
from warden.usecases.claims import ClaimStep, Cleared
from warden.usecases.converge import (
    DeployNote,
    DeployNoteKind,
    EarlierRound,
    PendingDeploy,
    PendingOutcome,
    Refusal,
)
from warden.usecases.move import Moved, MoveResult, move_from
from warden.usecases.operator import ManualPause, ManualResume, manual_pause, manual_resume
from warden.wiring import target_facts

RUNNING, PAUSED = ServiceStatus.RUNNING, ServiceStatus.PAUSED
BUDGET_EVIDENCE = "actual spend $10.42 is 104.2% of $10.00"
LEAK = "investigating a leak"
DONE = "load test done"


# --- warden pause ---------------------------------------------------------------------------------------------------


def pause(
    platform: str = "apprunner",
    *,
    holding: tuple[Claim, ...] = (),
    dry_run: bool = False,
    resumed_meanwhile: bool = False,
) -> ManualPause:
    """alice's `warden pause`, on a service `holding` claims keep paused already (or running)."""
    mine = seeded(ClaimReason.MANUAL, LEAK, "alice", ago=timedelta(0))
    before = service(platform, PAUSED if holding else RUNNING)
    if resumed_meanwhile:
        # `warden resume` cleared the manual claim while this pause converged: converging left it running.
        result = converged(before)
    else:
        called = None if holding or dry_run else "pause"
        result = converged(before, (*holding, mine), called=called, dry_run=dry_run)
    step = ClaimStep.WOULD_RECORD if dry_run else ClaimStep.RECORDED
    return ManualPause(
        service=NAME,
        who="alice",
        reason=LEAK,
        change=changed("manual", step, result),
        undo=undo(platform, ClaimReason.MANUAL),
        dry_run=dry_run,
    )


BUDGET_HOLDS = seeded(ClaimReason.BUDGET, BUDGET_EVIDENCE, "on_budget_alert", ago=timedelta(days=3))


def resume(*holders: ClaimReason, override: ClaimReason | None = None, cleared: bool = True) -> ManualResume:
    """bob's `warden resume` (with `override`, of another source's claim) on a service those claims held."""
    target_reason = override or ClaimReason.MANUAL
    claims = {reason: seeded(reason, f"seeded {reason.value}", "seed", ago=timedelta(days=3)) for reason in holders}
    remaining = tuple(claim for reason, claim in claims.items() if reason is not target_reason)
    before = service(status=PAUSED if holders else RUNNING)
    result = converged(before, remaining, called="resume" if holders and not remaining else None)
    why = resume_reason("bob", DONE, override=override is not None)
    step = ClaimStep.CLEARED if cleared and target_reason in claims else ClaimStep.NONE_ACTIVE
    return ManualResume(
        service=NAME,
        who="bob",
        reason=DONE,
        target=target_reason,
        override=override,
        changes=(changed(target_reason.value, step, result, reason=why),),
        remaining=remaining,
    )


# --- warden move ------------------------------------------------------------------------------------------------------


def move(*, paused: bool = True, dry_run: bool = False, evening: bool = False) -> Moved:
    """alice moves Warden from the App Runner service to the ECS one, with two deployment records, and the budget
    claim (and with `evening`, the schedule's too) that held the old service."""
    old, new = target("apprunner"), target("ecs")
    held = [(ClaimReason.BUDGET, BUDGET_EVIDENCE, "on_budget_alert", 2)]
    if evening:
        held.append((ClaimReason.SCHEDULE, "Sun 19:00 Europe/Berlin is not a working day", "run_schedule", 1))
    carried = tuple(
        seeded(reason, f"{evidence} (carried over from {old.service_noun} {NAME})", owner, ago=timedelta(days=days))
        for reason, evidence, owner, days in (held if paused else [])
    )
    step = ClaimStep.WOULD_RECORD if dry_run else ClaimStep.RECORDED
    changes = tuple(
        changed(
            claim.key,
            step,
            converged(
                service("ecs", PAUSED if n and not dry_run else RUNNING),
                carried[: n + 1],
                called=None if dry_run or n else "pause",
                dry_run=dry_run,
            ),
        )
        for n, claim in enumerate(carried)
    )
    holding = () if dry_run else carried
    return Moved(
        result=MoveResult(
            claims=changes,
            deployments_copied=2,
            deployments_known=0,
            who="alice",
            old_name=NAME,
            old_noun=old.service_noun,
            new_name=NAME,
            new_noun=new.service_noun,
            dry_run=dry_run,
        ),
        old_arn=APPRUNNER_ARN,
        converged=changes[-1].result if changes else converged(service("ecs")),
        holding=holding,
        undo=tuple(undo("ecs", claim.reason) for claim in holding),
        console_url=new.console_url,
    )


FROM_FACTS: dict[str, Callable[[], Notification]] = {
    # `warden pause` on each platform: the pause, what keeps billing, the undo commands.
    "operator.pause.apprunner": lambda: manual_paused(pause()),
    "operator.pause.ecs": lambda: manual_paused(pause("ecs")),
    # On a service the budget holds paused already: the manual claim is added, no call.
    "operator.pause.held": lambda: manual_paused(pause(holding=(BUDGET_HOLDS,))),
    "operator.pause.dry_run": lambda: manual_paused(pause(dry_run=True)),
    # A `warden resume` cleared the claim while the pause converged: the service runs, and the message says so.
    "operator.pause.resumed_meanwhile": lambda: manual_paused(pause(resumed_meanwhile=True)),
    # `warden resume`: resumed; cleared while another claim holds; nothing to clear.
    "operator.resume.resumed": lambda: manual_resumed(resume(ClaimReason.MANUAL)),
    "operator.resume.held": lambda: manual_resumed(resume(ClaimReason.MANUAL, ClaimReason.BUDGET)),
    "operator.resume.not_paused": lambda: manual_resumed(resume()),
    # `warden resume --override budget`: resumed, or still held by the schedule.
    "operator.override": lambda: manual_resumed(resume(ClaimReason.BUDGET, override=ClaimReason.BUDGET)),
    "operator.override.held": lambda: manual_resumed(
        resume(ClaimReason.BUDGET, ClaimReason.SCHEDULE, override=ClaimReason.BUDGET)
    ),
    # `warden move` from App Runner to ECS: a budget pause carried over, none, and a dry run.
    "operator.move.paused": lambda: moved(move()),
    "operator.move.running": lambda: moved(move(paused=False)),
    "operator.move.dry_run": lambda: moved(move(dry_run=True)),
    # Two claims carried over: each one's undo commands whole.
    "operator.move.two_claims": lambda: moved(move(evening=True)),
}


@pytest.mark.parametrize("name", FROM_FACTS)
def test_each_operator_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one command, When the renderer writes its notification, Then it is the approved text
    assert_golden_notification(name, FROM_FACTS[name]())


# --- the sentences every pause and resume shares ------------------------------------------------------------------


def test_what_happened_to_a_claim_reads_as_approved_for_every_step() -> None:
    # Given each thing that can happen to a claim (placed, already there, cleared, ...)
    result = converged(service())
    existing = seeded(ClaimReason.MANUAL, LEAK, "alice", ago=timedelta(days=1))
    by_bob = Cleared(actor="bob", at=MONDAY_0800, why="bob: raised it")
    cases = [
        ("recorded", changed("budget", ClaimStep.RECORDED, result)),
        ("would record", changed("budget", ClaimStep.WOULD_RECORD, result)),
        ("already active", changed("budget", ClaimStep.ALREADY_ACTIVE, result, existing=existing)),
        # Found active, but not read back (cleared again in between)
        ("already active, unread", changed("budget", ClaimStep.ALREADY_ACTIVE, result)),
        ("not again", changed("budget", ClaimStep.NOT_AGAIN, result, cleared=by_bob)),
        ("not again, nobody recorded the clear", changed("budget", ClaimStep.NOT_AGAIN, result, cleared=Cleared())),
        ("cleared", changed("budget", ClaimStep.CLEARED, result, reason="a new period")),
        ("would clear", changed("budget", ClaimStep.WOULD_CLEAR, result, reason="a new period")),
        ("none active", changed("budget", ClaimStep.NONE_ACTIVE, result)),
    ]
    # When each is told, Then it is the approved sentence
    assert {change.step for _, change in cases} == set(ClaimStep)
    assert_golden("operator.claim_lines", "".join(f"{case}: {claim_line(change)}\n" for case, change in cases))


def _snapshot(status: ServiceStatus, platform: str = APP_RUNNER) -> ServiceSnapshot:
    return ServiceSnapshot(arn=APPRUNNER_ARN, name=NAME, status=status, platform=platform, image_identifier=IMAGE)


def test_what_converging_did_reads_as_approved_for_every_status_and_every_resume() -> None:
    # Given every status the service can be in, wanted paused or running, for real and in a dry run
    manual = seeded(ClaimReason.MANUAL, LEAK, "alice", ago=timedelta(hours=2))
    lines = []
    for status, pause, dry_run in product(ServiceStatus, (True, False), (False, True)):
        result = converged(_snapshot(status), (manual,) if pause else (), dry_run=dry_run)
        lines.append(f"{status.value}, {'paused' if pause else 'running'}{', dry run' if dry_run else ''}: ")
        lines[-1] += converge_summary(result)
    # And an ECS service mid-rollout, which takes a pause
    rolling = _snapshot(ServiceStatus.OPERATION_IN_PROGRESS, ECS).model_copy(update={"changeable_as": RUNNING})
    lines.append("ECS mid-rollout: " + converge_summary(converged(rolling, (manual,), called="pause")))
    # And a converge whose claims changed between its call and its re-read
    earlier = EarlierRound(
        desire=Desire(state=DesiredState.PAUSED, reason="paused by manual"), status=RUNNING, called="pause"
    )
    lines.append(
        "converged again: " + converge_summary(converged(_snapshot(PAUSED), called="resume", earlier=(earlier,)))
    )
    # And each resume after the tracked tag moved, or with a release or rollback pending
    notes = {
        DeployNoteKind.PUSH_FOLLOWS: {"to": PUSHED, "at_pause": DEPLOYED},
        DeployNoteKind.PUSH_KEPT: {"to": PUSHED, "at_pause": DEPLOYED, "resumed": DEPLOYED},
        DeployNoteKind.RELEASE_FOLLOWS: {"to": "sha256:" + "3" * 64},
        DeployNoteKind.RELEASE_BLOCKED: {"to": "sha256:" + "3" * 64, "moved_to": PUSHED},
    }
    for kind, digests in notes.items():
        note = DeployNote(kind=kind, image=IMAGE, platform=APP_RUNNER, **digests)
        lines.append(
            f"resumed, {kind.value}: " + converge_summary(converged(_snapshot(PAUSED), called="resume", note=note))
        )
    # When each is told, Then it is the approved sentence
    assert len(notes) == len(DeployNoteKind)
    assert_golden("operator.converge_summaries", "\n".join(lines) + "\n")


def test_the_deployment_a_resume_left_pending_reads_as_approved_for_every_outcome() -> None:
    # Given a pending deployment from a push while paused, or from a release, started or not, for real or dry
    lines = []
    for from_resume, outcome in product((True, False), PendingOutcome):
        refusals = [None] if outcome in {PendingOutcome.STARTED, PendingOutcome.WOULD_START} else list(Refusal)
        for refusal in refusals:
            pending = PendingDeploy(
                outcome=outcome,
                image=IMAGE,
                to="sha256:" + "3" * 64,
                from_resume=from_resume,
                operation_id="op-deploy" if outcome is PendingOutcome.STARTED else None,
                refusal=refusal,
                now_at=PUSHED if refusal is Refusal.TAG_MOVED_ON else None,
            )
            case = f"{'push' if from_resume else 'release'}, {outcome.value}{f', {refusal.value}' if refusal else ''}"
            lines += [f"{case}: {pending_deploy_line(pending)}", f"  action log: {pending_deploy_reason(pending)}"]
    # When each is told, Then the notification's line and the action log's reason are the approved ones
    assert_golden("operator.pending_deploys", "\n".join(lines) + "\n")


def test_what_keeps_billing_while_paused_reads_as_approved_for_every_kind_of_service() -> None:
    # Given App Runner with automatic deployments on, off or unknown, and ECS with a load balancer, Express Mode,
    # none, or unknown
    services = {
        "App Runner, auto-deploy on": {"auto_deploy": True},
        "App Runner, auto-deploy off": {"auto_deploy": False},
        "App Runner, auto-deploy unknown": {},
        "ECS, load balancer": {"platform": ECS, "load_balanced": True, "express": False},
        "ECS Express": {"platform": ECS, "load_balanced": True, "express": True},
        "ECS, no load balancer": {"platform": ECS, "load_balanced": False, "express": False},
        "ECS, load balancer unknown": {"platform": ECS},
    }
    text = ""
    for case, reported in services.items():
        lines = paused_cost_lines(_snapshot(PAUSED).model_copy(update=reported))
        text += f"{case}:\n" + "".join(f"  {line}\n" for line in lines)
    # When what keeps billing is told, Then it is the approved lines
    assert_golden("operator.costs", text)


@pytest.mark.parametrize(
    ("name", "platform", "reason", "remembered"),
    [
        ("operator.undo.apprunner", "apprunner", ClaimReason.BUDGET, True),
        ("operator.undo.ecs", "ecs", ClaimReason.MANUAL, True),
        ("operator.undo.ecs_not_remembered", "ecs", ClaimReason.ALARM, False),
    ],
)
def test_the_undo_commands_read_as_approved(name: str, platform: str, reason: ClaimReason, remembered: bool) -> None:
    # Given a pause on the platform (ECS: with the scale it remembered, or, after a dry run, without)
    key = "alarm#warden-5xx-rate" if reason is ClaimReason.ALARM else None
    # When its undo commands are written, Then they are the approved lines
    assert_golden(name, "\n".join(undo_lines(undo(platform, reason, key, remembered=remembered))) + "\n")


# --- the same notifications, through the use cases with fakes ------------------------------------------------------


def pause_through(platform: str = "apprunner", *, held: bool = False, **env: str) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World(platform, status=PAUSED if held else RUNNING, **env)
        if held:
            world.claim(ClaimReason.BUDGET, evidence=BUDGET_EVIDENCE, owner="on_budget_alert")
        manual_pause(world.operator, world.settings, who="alice", reason=LEAK, now=MONDAY_0800)
        return world.last()

    return run


def resume_through(*holders: ClaimReason, override: ClaimReason | None = None) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World(status=PAUSED if holders else RUNNING)
        for reason in holders:
            world.claim(reason, evidence=f"seeded {reason.value}", owner="seed")
        manual_resume(world.operator, world.settings, who="bob", reason=DONE, override=override, now=MONDAY_0800)
        return world.last()

    return run


def move_through(*, paused: bool = True, **env: str) -> Callable[[], Notification]:
    def run() -> Notification:
        world = World("ecs", **env)
        if paused:
            claim = Claim.new(
                ClaimReason.BUDGET,
                owner="on_budget_alert",
                evidence=BUDGET_EVIDENCE,
                now=MONDAY_0800 - timedelta(days=2),
            )
            world.state.add_claim(APPRUNNER_ARN, claim)
        for days, tag in ((40, "v1.1.0"), (10, "v1.2.0")):
            world.state.record_deployment(
                APPRUNNER_ARN, f"sha256:{tag}", tag, MONDAY_0800 - timedelta(days=days), "warden release"
            )
        move_from(
            world.operator, world.settings, old_arn=APPRUNNER_ARN, who="alice", now=MONDAY_0800, facts_of=target_facts
        )
        return world.last()

    return run


THROUGH_THE_USE_CASE: dict[str, Callable[[], Notification]] = {
    "operator.pause.apprunner": pause_through(),
    "operator.pause.ecs": pause_through("ecs"),
    "operator.pause.held": pause_through(held=True),
    "operator.pause.dry_run": pause_through(DRY_RUN="true"),
    "operator.resume.resumed": resume_through(ClaimReason.MANUAL),
    "operator.resume.held": resume_through(ClaimReason.MANUAL, ClaimReason.BUDGET),
    "operator.resume.not_paused": resume_through(),
    "operator.override": resume_through(ClaimReason.BUDGET, override=ClaimReason.BUDGET),
    "operator.override.held": resume_through(ClaimReason.BUDGET, ClaimReason.SCHEDULE, override=ClaimReason.BUDGET),
    "operator.move.paused": move_through(),
    "operator.move.running": move_through(paused=False),
    "operator.move.dry_run": move_through(DRY_RUN="true"),
}


@pytest.mark.parametrize("name", THROUGH_THE_USE_CASE)
def test_the_operators_commands_publish_exactly_what_the_renderer_writes(name: str) -> None:
    # Given a service and its claims in the fakes, When the operator's command runs
    sent = THROUGH_THE_USE_CASE[name]()
    # Then the notification it publishes is the approved text, the same the renderer writes from the facts
    assert_golden_notification(name, sent)
    assert sent == FROM_FACTS[name]()
