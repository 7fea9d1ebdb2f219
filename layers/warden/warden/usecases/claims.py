"""Adding and clearing pause claims, then converging: the one way any part of Warden pauses or resumes.

Budget alerts, the working-hours schedule, alarms and the operator all go through `place_claim` and
`release_claim`. Each touches only its own claim, so none can undo another's pause (DESIGN §4).
Both are safe to repeat: placing an active claim or clearing an absent one changes nothing, and the
converge that follows makes no call when the service already is as its claims want.

Two sources may change their claims at the same moment, each converging on the claims it read. `converge`
reads the claims again before its call and after it, and converges again when they changed, so the service
ends as all the claims want, without waiting for the reconcile (issue 13 §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import Claim, DesiredState
from warden.usecases.converge import ConvergeResult, converge, record_action
from warden.usecases.ports import ImagePort, ServicePort, StatePort


@dataclass(frozen=True)
class ClaimDeps:
    service: ServicePort
    state: StatePort
    images: ImagePort | None = None  # lets a resume notice an image pushed while paused


class ClaimStep(StrEnum):
    """What happened to the claim itself."""

    RECORDED = "recorded"
    WOULD_RECORD = "would_record"  # a dry run
    ALREADY_ACTIVE = "already_active"  # it stays as it was
    NOT_AGAIN = "not_again"  # an earlier attempt at this same event recorded it, and it was cleared since
    CLEARED = "cleared"
    WOULD_CLEAR = "would_clear"
    NONE_ACTIVE = "none_active"  # nothing to clear


class Cleared(BaseModel):
    """Who cleared a claim by hand, when, and why, as the action log says (`actor` None: no record says)."""

    model_config = ConfigDict(frozen=True)

    actor: str | None = None
    at: datetime | None = None
    why: str = ""


class ClaimChange(BaseModel):
    """What happened to one claim, and what converging did about it."""

    model_config = ConfigDict(frozen=True)

    claim_key: str
    changed: bool  # this call added or cleared the claim (in a dry run: would have)
    step: ClaimStep
    reason: str = ""  # why it was cleared (CLEARED, WOULD_CLEAR)
    result: ConvergeResult
    existing: Claim | None = None  # the claim that was already active, when placing found one
    # When an earlier attempt at this same event placed the claim and someone cleared it since (an operator's
    # override, say): who and when. The claim is then not placed again.
    cleared: Cleared | None = None

    @property
    def called(self) -> str | None:
        return self.result.called

    @property
    def line(self) -> str:
        """The claim's story in one sentence, for notifications; warden/messages/service.py writes it."""
        from warden.messages.service import claim_line  # imported when used: the messages import these facts

        return claim_line(self)


def place_claim(
    deps: ClaimDeps,
    service_arn: str,
    claim: Claim,
    *,
    now: datetime,
    actor: str,
    dry_run: bool,
    source_event: str | None = None,
) -> ClaimChange:
    """Adds `claim` unless one with its key is active, then converges (raises ServiceBusy when deferred)."""
    state = deps.state
    existing = state.get_claim(service_arn, claim.key)
    cleared: Cleared | None = None
    if dry_run:
        claims = state.list_claims(service_arn)
        changed = existing is None
        step = ClaimStep.WOULD_RECORD if changed else ClaimStep.ALREADY_ACTIVE
        if changed:
            claims = [*claims, claim]
        record_action(
            state,
            service_arn,
            now,
            actor,
            "claim.add",
            "would" if changed else "skipped",
            claim.evidence,
            True,
            source_event,
        )
    else:
        cleared = _cleared_since(state, service_arn, claim.key, source_event) if existing is None else None
        if cleared is not None:
            changed, step = False, ClaimStep.NOT_AGAIN
        elif existing is None and state.add_claim(service_arn, claim):
            changed, step = True, ClaimStep.RECORDED
        else:
            existing = existing or state.get_claim(service_arn, claim.key)
            # A retry of the event that placed the claim is that same placement, not a second one.
            mine = existing is not None and source_event is not None and existing.source_event == source_event
            changed = mine or existing is None
            step = ClaimStep.RECORDED if changed else ClaimStep.ALREADY_ACTIVE
        record_action(
            state,
            service_arn,
            now,
            actor,
            "claim.add",
            "done" if changed else "skipped",
            claim.evidence,
            False,
            source_event,
        )
        claims = state.list_claims(service_arn)
    result = converge(
        deps.service,
        state,
        service_arn,
        claims,
        now=now,
        actor=actor,
        dry_run=dry_run,
        source_event=source_event,
        images=deps.images,
    )
    return ClaimChange(
        claim_key=claim.key,
        changed=changed,
        step=step,
        result=_credit_earlier_attempt(state, service_arn, result, source_event),
        existing=existing,
        cleared=cleared,
    )


def release_claim(
    deps: ClaimDeps,
    service_arn: str,
    key: str,
    *,
    now: datetime,
    actor: str,
    reason: str,
    dry_run: bool,
    source_event: str | None = None,
) -> ClaimChange:
    """Clears the claim `key` if active, then converges: the service resumes only if no claim is left."""
    state = deps.state
    existing = state.get_claim(service_arn, key)
    claims = [claim for claim in state.list_claims(service_arn) if claim.key != key]
    if existing is None:
        changed, step = False, ClaimStep.NONE_ACTIVE
    elif dry_run:
        changed, step = True, ClaimStep.WOULD_CLEAR
    else:
        changed = state.remove_claim(service_arn, key)
        step = ClaimStep.CLEARED if changed else ClaimStep.NONE_ACTIVE
    if changed:
        outcome = "would" if dry_run else "done"
        record_action(state, service_arn, now, actor, "claim.clear", outcome, f"{key}: {reason}", dry_run, source_event)
    result = converge(
        deps.service,
        state,
        service_arn,
        claims if dry_run else state.list_claims(service_arn),
        now=now,
        actor=actor,
        dry_run=dry_run,
        source_event=source_event,
        images=deps.images,
    )
    return ClaimChange(
        claim_key=key,
        changed=changed,
        step=step,
        reason=reason,
        result=_credit_earlier_attempt(state, service_arn, result, source_event),
        existing=existing,
    )


def _cleared_since(state: StatePort, service_arn: str, key: str, source_event: str | None) -> Cleared | None:
    """Who cleared, and when, the claim `key` that an earlier attempt at `source_event` recorded; None when no
    attempt at that event recorded it (Lambda retries an event that failed after pausing, minutes later)."""
    if source_event is None:
        return None
    cleared: Cleared | None = None
    for record in state.list_actions(service_arn, limit=50):  # newest first
        if record.action == "claim.clear" and record.outcome == "done" and record.reason.startswith(f"{key}: "):
            cleared = cleared or Cleared(actor=record.actor, at=record.at, why=record.reason.removeprefix(f"{key}: "))
        if record.action == "claim.add" and record.outcome == "done" and record.source_event == source_event:
            return cleared or Cleared()
    return None


def _credit_earlier_attempt(
    state: StatePort, service_arn: str, result: ConvergeResult, source_event: str | None
) -> ConvergeResult:
    """When an earlier attempt at this same event already paused or resumed (and then failed before it
    could notify), report that call as this event's, so the operator hears "PAUSED", not "already paused".

    Only a call that agrees with what the claims want now is credited, and only when this attempt made none:
    a call undone since (another source's claim changed meanwhile) is not what the service is now."""
    if result.called is not None or result.earlier or source_event is None or result.dry_run:
        return result
    wanted = "pause" if result.desire.state is DesiredState.PAUSED else "resume"
    for record in state.list_actions(service_arn, limit=20):
        if record.source_event == source_event and record.outcome == "done" and record.action in {"pause", "resume"}:
            if record.action != wanted:
                return result
            return result.model_copy(update={"called": record.action, "credited": True})
    return result
