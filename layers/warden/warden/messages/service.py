"""The guarded service's own story in words: what happened to a pause claim, what converging did, the deployment a
resume left pending, what keeps billing while paused, the undo commands, and the operator's pause, resume and move.

The facts are usecases/claims.py (`ClaimChange`), usecases/converge.py (`ConvergeResult`, `DeployNote`,
`PendingDeploy`), domain/costs.py (`CostLine`), usecases/undo.py (`UndoFacts`), usecases/operator.py
(`ManualPause`, `ManualResume`) and usecases/move.py (`MoveResult`, `Moved`). The sentences here end up in every
notification that pauses or resumes (budget, alarm, schedule, spend guard, operator), in `warden pause|resume|move`
and in the action log. What differs by platform comes from the facts (the snapshot's platform, the target's
nouns, console and resume commands), never from a branch on the platform. The approved texts are under
tests/golden/texts/operator.*.txt (and the schedule, spend and budget files that quote these lines).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final, assert_never

from warden.domain.claims import Claim, ClaimReason, DesiredState, desired_state
from warden.domain.converge import ConvergeAction
from warden.domain.costs import (
    ALB_HOURLY_USD,
    ALB_LCU_HOURLY_USD,
    ECR_GB_MONTH_USD,
    EXPRESS_SERVICES_PER_ALB,
    SECTION,
    CostItem,
    CostLine,
    costs_while_paused,
    still_billed_monthly,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.records import claim_sort_key, service_partition
from warden.domain.service import ServiceSnapshot
from warden.usecases.claims import ClaimChange, ClaimStep, Cleared
from warden.usecases.converge import (
    ConvergeResult,
    DeployNote,
    DeployNoteKind,
    EarlierRound,
    PendingDeploy,
    PendingOutcome,
    Refusal,
)

if TYPE_CHECKING:
    from warden.usecases.move import Moved, MoveResult
    from warden.usecases.operator import ManualPause, ManualResume
    from warden.usecases.undo import UndoFacts

# How to go another way than the deployment Warden did (or did not) start after a resume.
DEPLOY_ADVICE: Final = "To deploy another version: warden release VERSION, or warden rollback VERSION."
PAUSE_AGAIN: Final = 'warden pause --reason "<why>"'


def _digest(digest: str | None) -> str:
    """A digest as messages show it: "sha256:" and its first 12 hex digits."""
    return (digest or "")[:19]


# --- a pause claim ---------------------------------------------------------------------------------------------


def claim_line(change: ClaimChange) -> str:
    """What happened to the claim itself, in one sentence: "Recorded the 'budget' pause claim."."""
    key = change.claim_key
    match change.step:
        case ClaimStep.RECORDED:
            return f"Recorded the '{key}' pause claim."
        case ClaimStep.WOULD_RECORD:
            return f"[dry run] Would have recorded the '{key}' pause claim."
        case ClaimStep.ALREADY_ACTIVE:
            existing = change.existing
            if existing is None:
                return f"The '{key}' pause claim was already active; it stays as it was."
            return (
                f"The '{key}' pause claim was already active (since {existing.created_at:%Y-%m-%d %H:%M} UTC, "
                f"from {existing.owner}); it stays as it was."
            )
        case ClaimStep.NOT_AGAIN:
            return (
                f"Did not record the '{key}' pause claim again: an earlier attempt at this same event recorded it, "
                f"and it was cleared since ({cleared_by(change.cleared or Cleared())})."
            )
        case ClaimStep.CLEARED:
            return f"Cleared the '{key}' pause claim ({change.reason})."
        case ClaimStep.WOULD_CLEAR:
            return f"[dry run] Would have cleared the '{key}' pause claim ({change.reason})."
        case ClaimStep.NONE_ACTIVE:
            return f"No '{key}' pause claim was active."
        case unreachable:
            assert_never(unreachable)


def cleared_by(cleared: Cleared) -> str:
    """Who cleared a claim by hand: "by alice at 2026-03-14 11:00 UTC: launch day"."""
    if cleared.actor is None or cleared.at is None:
        return "no record says by whom"
    return f"by {cleared.actor} at {cleared.at:%Y-%m-%d %H:%M} UTC: {cleared.why}"


def holding_line(claim: Claim) -> str:
    """A claim that holds the service: "budget: actual spend $10.42 ... (by on_budget_alert)"."""
    return f"{claim.key}: {claim.evidence} (by {claim.owner})"


def held_line(claim: Claim, now: datetime) -> str:
    """The same with the claim's age: "budget: ... (by on_budget_alert, 3d 0h ago)"."""
    hours = max(0, int((now - claim.created_at).total_seconds() // 3600))
    age = f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"
    return f"{claim.key}: {claim.evidence} (by {claim.owner}, {age} ago)"


def holders(claims: Sequence[Claim]) -> str:
    """Who holds the service, as the claims' own reason says it: "budget (since 2026-11-20 08:00 UTC)"."""
    return desired_state(claims).reason.removeprefix("paused by ") if claims else ""


# --- converging ------------------------------------------------------------------------------------------------


def converge_summary(result: ConvergeResult) -> str:
    """What converging did: "Paused consultation-app (it was RUNNING).", after the calls of any earlier rounds."""
    return earlier_rounds(result.before.name, result.earlier) + _last_round(result)


def earlier_rounds(name: str, earlier: Iterable[EarlierRound]) -> str:
    """The calls a converge made on claims that changed meanwhile, one sentence each (empty when none)."""
    return "".join(
        f"{'Paused' if past.called == 'pause' else 'Resumed'} {name} (it was {past.status.value}) as the pause "
        f"claims then wanted ({past.desire.reason}), but they changed meanwhile, so Warden converged again. "
        for past in earlier
    )


def _last_round(result: ConvergeResult) -> str:
    name, status, decision = result.before.name, result.before.status.value, result.decision
    match decision.action:
        case ConvergeAction.PAUSE | ConvergeAction.RESUME:
            verb = "Paused" if decision.action is ConvergeAction.PAUSE else "Resumed"
            if result.dry_run:
                return f"[dry run] Would have {verb.lower()} {name} (it is {status}); nothing was changed."
            if result.deploy_pending is not None:
                return f"{verb} {name} (it was {status}). {deploy_note(result.deploy_pending)}"
            return f"{verb} {name} (it was {status})."
        case ConvergeAction.NOTHING:
            return f"Left as it is: {decision.reason}."
        case ConvergeAction.DEFER:
            return f"Deferred: {decision.reason}."
        case ConvergeAction.UNAVAILABLE:
            return f"Not changed: {decision.reason}."
        case unreachable:
            assert_never(unreachable)


def deploy_note(note: DeployNote) -> str:
    """After "Resumed ...": what the resume means for the version the service runs, and what follows."""
    platform, to = note.platform, _digest(note.to)
    match note.kind:
        case DeployNoteKind.PUSH_FOLLOWS:
            return (
                f"{_moved(note)}. {platform} resumes the version deployed before the pause, so Warden starts a "
                "deployment once the resume completes."
            )
        case DeployNoteKind.PUSH_KEPT:
            return f"{kept_reason(note)}. {DEPLOY_ADVICE}"
        case DeployNoteKind.RELEASE_FOLLOWS:
            return (
                f"A deployment of {to} that Warden has pending (a release or rollback) follows: {platform} resumes "
                "the version deployed before the pause, so Warden starts it once the resume completes."
            )
        case DeployNoteKind.RELEASE_BLOCKED:
            return (
                f"Warden's pending deployment of {to} (a release or rollback) will not start: {note.image} has moved "
                f"on to {_digest(note.moved_to)}, which nobody released, and automatic deployments are off. "
                f"{platform} resumes the version deployed before the pause. {DEPLOY_ADVICE}"
            )
        case unreachable:
            assert_never(unreachable)


def kept_reason(note: DeployNote) -> str:
    """Why no deployment follows a resume after a push, with automatic deployments off (the action log's reason)."""
    resumed = f" ({_digest(note.resumed)})" if note.resumed else ""
    return (
        f"{_moved(note)}, but automatic deployments are off: {note.platform} resumes the version deployed before "
        f"the pause{resumed}, and Warden deploys only what a person releases or rolls back to"
    )


def _moved(note: DeployNote) -> str:
    return f"The image {note.image} changed while paused ({_digest(note.at_pause)} -> {_digest(note.to)})"


def pending_deploy_reason(pending: PendingDeploy) -> str:
    """The action log's reason for the deployment the reconcile started or did not start."""
    if pending.refusal is not None:
        return f"not deployed: {_refusal(pending)}"
    if pending.from_resume:
        return f"the tracked image {pending.image} changed while the service was paused ({_digest(pending.to)})"
    return f"Warden's pending deployment of {_digest(pending.to)} ({pending.image})"


def pending_deploy_line(pending: PendingDeploy) -> str:
    """What the reconcile did about a pending deployment, for its notification."""
    match pending.outcome:
        case PendingOutcome.STARTED:
            return f"Started deployment {pending.operation_id}: {pending_deploy_reason(pending)}."
        case PendingOutcome.WOULD_START:
            return f"[dry run] Would have started a deployment: {pending_deploy_reason(pending)}."
        case PendingOutcome.SKIPPED:
            return f"Not deployed: {_refusal(pending)}. {DEPLOY_ADVICE}"
        case PendingOutcome.WOULD_SKIP:
            return f"[dry run] Would not deploy: {_refusal(pending)}. {DEPLOY_ADVICE}"
        case unreachable:
            assert_never(unreachable)


def _refusal(pending: PendingDeploy) -> str:
    to, image = _digest(pending.to), pending.image
    match pending.refusal:
        case Refusal.PUSHED_WHILE_PAUSED:
            return (
                f"automatic deployments are off, and {to} is a push to {image} made while the service was paused, "
                "which nobody released"
            )
        case Refusal.TAG_MOVED_ON:
            return (
                f"automatic deployments are off, and {image} has moved on to {_digest(pending.now_at or 'no image')} "
                f"since {to} was released or rolled back to, so a deployment now would deploy a push nobody released"
            )
        case None:
            raise ValueError("a pending deployment Warden did not start says why")
        case unreachable:
            assert_never(unreachable)


# --- what keeps billing while paused ----------------------------------------------------------------------------

_LCU: Final = f"plus ${ALB_LCU_HOURLY_USD} per LCU-hour of traffic, at ${ALB_HOURLY_USD} an hour list price"
# Each thing that bills while paused: its name, and what a reader needs to know about its figure.
_COSTS: Final = {
    CostItem.APP_RUNNER_COMPUTE: ("App Runner compute", "a paused service has no provisioned or active instances"),
    CostItem.APP_RUNNER_AUTO_DEPLOY: ("App Runner automatic deployment", "per application, paused or not"),
    CostItem.FARGATE_TASKS: ("Fargate tasks", "no task runs while paused"),
    CostItem.EXPRESS_LOAD_BALANCER: (
        "The Express service's Application Load Balancer",
        f"{_LCU}; Express Mode keeps it, and it may be shared by up to {EXPRESS_SERVICES_PER_ALB} Express services",
    ),
    CostItem.LOAD_BALANCER: (
        "The load balancer in front of the service",
        f"if it is an Application Load Balancer: {_LCU}; it bills whatever runs behind it",
    ),
    CostItem.MAYBE_LOAD_BALANCER: (
        "A load balancer, if one is in front of the service",
        f"Warden could not tell whether there is one; an Application Load Balancer costs this, {_LCU}",
    ),
    CostItem.SHARED: (
        "NAT gateways, logs, image storage and anything else the app uses that the service does not own",
        f"the pause does not stop them; ECR storage is ${ECR_GB_MONTH_USD} per GB-month",
    ),
}


def cost_line(line: CostLine) -> str:
    """One thing that bills while paused: "Fargate tasks: $0.00 a month (no task runs while paused)."."""
    item, note = _COSTS[line.item]
    if line.item is CostItem.APP_RUNNER_AUTO_DEPLOY and not line.certain:
        note += "; only if automatic deployment is on"
    if line.monthly_usd is None:
        figure = "monthly figure unknown"
    elif line.monthly_usd.is_zero():
        figure = "$0.00 a month"
    else:
        figure = f"about ${line.monthly_usd:,.2f} a month"
    return f"{item}: {figure} ({note})."


def paused_cost_lines(service: ServiceSnapshot) -> list[str]:
    """The section `SECTION` of a pause message: one sentence per thing that bills while `service` is paused."""
    return [cost_line(line) for line in costs_while_paused(service)]


def pause_effect(service: ServiceSnapshot) -> str:
    """One sentence for a pause message's headline: what the pause stops, and what it does not."""
    lines = costs_while_paused(service)
    stopped, known = _COSTS[lines[0].item][0], still_billed_monthly(lines[1:])
    if known.is_zero():
        return f"Billing for {stopped} stops; see '{SECTION}' for what the pause does not stop."
    return f"Billing for {stopped} stops, but about ${known:,.2f} a month keeps billing while paused (see '{SECTION}')."


def paused_cost_note(service: ServiceSnapshot) -> list[str]:
    """The same lines under a heading, for a message that has no section of its own for them."""
    return [f"{SECTION}:", *(f"- {line}" for line in paused_cost_lines(service))]


def pause_cost_lines(change: ClaimChange) -> list[str]:
    """What keeps costing after a change that leaves the service paused (none when it runs)."""
    if change.result.desire.state is not DesiredState.PAUSED:
        return []
    return paused_cost_lines(change.result.before)


def service_option(name: str) -> str:
    """` --service <name>` for a command copied from a message: it works whether the stack guards one service or a
    fleet (where a command about one service must name it)."""
    return f" --service {shlex.quote(name)}" if name else ""


# --- how to undo a pause ------------------------------------------------------------------------------------------


def undo_lines(undo: UndoFacts) -> list[str]:
    """The commands that undo one claim's pause: Warden's CLI, or the state table and the platform by hand."""
    key = json.dumps(
        {"PK": {"S": service_partition(undo.service_arn)}, "SK": {"S": claim_sort_key(undo.claim_key)}},
        separators=(",", ":"),
    )
    override = "" if undo.reason is ClaimReason.MANUAL else f" --override {undo.reason.value}"
    return [
        "With the Warden CLI (records who resumed and why):",
        f'  warden resume{override} --reason "<why>"{service_option(undo.service_name)}',
        "With the AWS CLI (clear the claim first, or Warden pauses the service again):",
        f"  aws dynamodb delete-item --table-name {shlex.quote(undo.state_table)} --key {shlex.quote(key)}",
        *undo.resume_commands,
    ]


# --- the operator: warden pause, warden resume ---------------------------------------------------------------------


def resume_reason(who: str, reason: str, *, override: bool) -> str:
    """The reason a `warden resume` records for each claim it clears (the action log, the claim's story)."""
    return f"{who}: {reason}" if override else f"{who} resumed by hand: {reason}"


def manual_paused(pause: ManualPause) -> Notification:
    """`warden pause`: the manual claim, what converging did, what keeps billing, and how to undo it."""
    change, name = pause.change, pause.service
    if change.result.desire.state is not DesiredState.PAUSED:
        # A `warden resume` cleared the claim while this pause converged: the service runs, and says so.
        did, headline = "Manual claim cleared meanwhile on", f"{name} was paused by hand, and resumed meanwhile."
        next_steps, undo = ["The service runs: the manual claim was cleared while Warden paused it."], []
    else:
        next_steps = [
            "The service stays paused until someone runs `warden resume`; "
            "budget roll-overs and working hours do not resume it."
        ]
        undo = undo_lines(pause.undo) if pause.undo is not None else []
        if pause.dry_run:
            did, headline = "Would pause", f"[dry run] {name} would have been paused by hand. {_DRY_RUN}"
        elif change.called == "pause":
            did, headline = "Paused", f"{name} was paused by hand."
        else:
            did, headline = "Manual claim on", f"{name} was paused by hand."
    return Notification(
        subject=f"[warden] {did.upper()} {name}: {pause.reason}",
        body=render(
            [
                ("What happened", [f"{pause.who} paused {name} by hand: {pause.reason}"]),
                ("What Warden did", [change.line, change.result.summary]),
                ("What happens next", next_steps),
                (SECTION, pause_cost_lines(change)),
                ("How to undo", undo),
            ],
            headline=headline,
        ),
        event="manual.paused",
        severity=Severity.WARNING,
    )


_DRY_RUN: Final = "DRY_RUN is on, so nothing was changed."


def manual_resumed(resume: ManualResume) -> Notification:
    """`warden resume` (with `--override`, another source's claims): what was cleared, and what still holds."""
    name, who, target = resume.service, resume.who, resume.target.value
    changes, remaining = resume.changes, resume.remaining
    still = f"stays paused: {', '.join(claim.key for claim in remaining)} still holds it." if remaining else ""
    if any(change.called == "resume" for change in changes):
        tag, headline = "RESUMED", f"{who} resumed {name}."
    elif any(change.changed for change in changes):
        tag, headline = "CLAIM CLEARED", f"{who} cleared the {target} claim; {name} {still or 'was not paused.'}"
    else:
        tag, headline = "NOTHING TO CLEAR", f"No {target} claim was active; {name} {still or 'was not paused.'}"
    why = resume_reason(who, resume.reason, override=resume.override is not None)
    return Notification(
        subject=f"[warden] {tag} {name}: {resume.reason}",
        body=render(
            [
                ("What happened", [why + (f" (override of the {target} claim)" if resume.override else "")]),
                ("What Warden did", [*(change.line for change in changes), changes[-1].result.summary]),
                ("Still holding the service", [holding_line(claim) for claim in remaining]),
                ("How to undo", [PAUSE_AGAIN]),
            ],
            headline=headline,
        ),
        event="override.resumed" if resume.override else "manual.resumed",
        severity=Severity.WARNING if resume.override else Severity.INFO,
    )


# --- the operator: warden move ------------------------------------------------------------------------------------


def carried_evidence(evidence: str, noun: str, name: str) -> str:
    """A claim's evidence after `warden move` carried it over from another service."""
    return f"{evidence} (carried over from {noun} {name})"


def move_summary(result: MoveResult) -> str:
    """What `warden move` carried over, in one sentence (without the final period: the CLI adds one)."""
    carried, copied = len(result.claims), result.deployments_copied
    return (
        f"{result.who} moved Warden from {result.old_noun} {result.old_name} to {result.new_noun} {result.new_name}: "
        f"{'would carry' if result.dry_run else 'carried'} over {carried} pause claim{'s' if carried != 1 else ''} "
        f"and {copied} deployment record{'s' if copied != 1 else ''} ({result.deployments_known} were already there)"
    )


def move_action_reason(result: MoveResult, old_arn: str) -> str:
    """The action log's reason for a move."""
    return f"{move_summary(result)}; from {old_arn}"


def moved(move: Moved) -> Notification:
    result, holding = move.result, move.holding
    paused = bool(holding)
    # Every claim's commands whole: cut short, they would leave out the platform's resume (ECS's desired count).
    undo = (
        [line for facts in move.undo for line in undo_lines(facts)]
        if paused
        else ["Nothing to undo on the service: no claim holds it."]
    )
    new, old = result.new_name, result.old_name
    return Notification(
        subject=f"[warden] MOVED {old} -> {new}" + (" (paused: a claim carried over)" if paused else ""),
        body=render(
            [
                ("What happened", [move_summary(result) + "."]),
                ("What Warden did", [*(change.line for change in result.claims), move.converged.summary]),
                (
                    "Holding the service now",
                    [holding_line(claim) for claim in holding] or [f"No pause claim: {desired_state(holding).reason}."],
                ),
                (
                    "What happens next",
                    [
                        f"Warden guards {result.new_noun} {new} from now on; the old service's records stay as its "
                        f"history (`warden history` with SERVICE_ARN={move.old_arn}).",
                    ],
                ),
                ("How to undo", undo),
                ("Links", [f"Service: {move.console_url}"]),
            ],
            headline=f"Warden now guards {new} ({result.new_noun}) with what it knew about {old}.",
        ),
        event="service.moved",
        severity=Severity.WARNING if paused else Severity.INFO,
    )
