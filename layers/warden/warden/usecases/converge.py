"""Converge the service to what its claims want: the only place that pauses or resumes (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.claims import Claim, Desire, desired_state
from warden.domain.converge import ConvergeAction, ConvergeDecision, decide_convergence
from warden.domain.images import parse_image_identifier
from warden.domain.records import ActionRecord, newest_deployed
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import InvalidServiceState, ServiceBusy, WardenError
from warden.observability import count, logger
from warden.usecases.ports import ImagePort, ServicePort, StatePort


class EarlierRound(BaseModel):
    """A call made on claims that another source changed while Warden converged on them (issue 13 §3)."""

    model_config = ConfigDict(frozen=True)

    desire: Desire  # what the claims wanted when that round read them
    status: ServiceStatus  # the service's status before the call
    called: str  # "pause" or "resume"


class DeployNoteKind(StrEnum):
    """What a resume means for the version the service runs, where the resume brings back the version from before
    the pause (App Runner, AWS-FACTS §4.4)."""

    PUSH_FOLLOWS = "push_follows"  # the tag moved while paused: a deployment of it follows the resume
    PUSH_KEPT = "push_kept"  # the tag moved while paused, but automatic deployments are off: none follows
    RELEASE_FOLLOWS = "release_follows"  # a release or rollback is pending: it follows the resume
    RELEASE_BLOCKED = "release_blocked"  # ... but the tag has moved on from it, with auto-deploy off: it will not


class DeployNote(BaseModel):
    """The tracked image at a resume: what moved while the service was paused, and what follows."""

    model_config = ConfigDict(frozen=True)

    kind: DeployNoteKind
    image: str  # the tracked image identifier (repository:tag)
    platform: str
    to: str = ""  # the pending deployment's digest, or where the tag points now
    at_pause: str = ""  # where the tag pointed at the pause (PUSH_*)
    moved_to: str = ""  # where the tag points now, moved on from the pending deployment (RELEASE_BLOCKED)
    resumed: str = ""  # what the service runs after the resume, where Warden knows it (PUSH_KEPT)


class ConvergeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: ServiceSnapshot
    desire: Desire
    decision: ConvergeDecision
    called: str | None = None  # the call made to the service ("pause", "resume"), None when none was made
    # The call was made by an earlier attempt at the same event (Lambda's retry after a failure), not this one.
    credited: bool = False
    dry_run: bool = False
    operation_id: str | None = None
    # The tracked image changed while the service was paused: App Runner resumes the old version, so a
    # deployment follows once the resume completes (AWS-FACTS §4.4; the reconcile starts it), or, with
    # auto-deploy off, none does. The note says which.
    deploy_pending: DeployNote | None = None
    # Calls this converge made before its last round, oldest first: the claims changed while it ran (another
    # source placed or cleared one), so it converged again. The fields above are the last round's: `desire` is
    # what the claims want as they stood at its end, and the service is left as that round decided.
    earlier: tuple[EarlierRound, ...] = ()

    @property
    def summary(self) -> str:
        """What converging did, in a sentence or two; warden/messages/service.py writes it."""
        from warden.messages.service import converge_summary  # imported when used: the messages import these facts

        return converge_summary(self)


# A race with another change is answered by reading again: the service (someone else paused it between our
# describe and our call) or the claims (another source placed or cleared one while we converged). Each round
# settles one competing change; four are enough for any two that overlap. Past that, ServiceBusy: Lambda's
# retry, or the periodic reconcile, finishes the job.
_MAX_ROUNDS = 4


def converge(
    service: ServicePort,
    state: StatePort,
    service_arn: str,
    claims: Sequence[Claim],
    *,
    now: datetime,
    actor: str,
    dry_run: bool,
    source_event: str | None = None,
    images: ImagePort | None = None,
) -> ConvergeResult:
    """Converges the service to its claims, records each call, and raises ServiceBusy when the platform is busy.

    `claims` is passed in rather than read so that a dry run can converge on the claims it *would* hold. A real
    run reads the claims again right before a call and once more at the end, and converges again when what they
    want has changed: a claim placed or cleared meanwhile by another source, whose own converge works on the
    claims it read, is never undone by a call made on older claims. So whichever of two racing changes converges
    last leaves the service as the claims, both changes included, want (issue 13 §3).
    """
    desire = desired_state(claims)
    earlier: list[EarlierRound] = []
    for _ in range(_MAX_ROUNDS):
        snapshot = service.describe(service_arn)
        decision = decide_convergence(snapshot, desire.state)
        log = {
            "service": snapshot.name,
            "platform": snapshot.platform,
            "status": snapshot.status.value,
            "action": decision.action.value,
        }
        called: str | None = None
        operation_id: str | None = None
        pending: DeployNote | None = None
        match decision.action:
            case ConvergeAction.NOTHING | ConvergeAction.UNAVAILABLE:
                logger.info("converge: no call", extra={**log, "reason": decision.reason})
            case ConvergeAction.DEFER:
                record_action(
                    state,
                    service_arn,
                    now,
                    actor,
                    "converge",
                    "deferred",
                    decision.reason,
                    dry_run,
                    source_event,
                )
                logger.warning("converge: deferred", extra={**log, "reason": decision.reason})
                raise ServiceBusy(_busy(snapshot.name, earlier, decision.reason))
            case ConvergeAction.PAUSE | ConvergeAction.RESUME:
                verb = decision.action.value
                reason = f"{decision.reason}; {desire.reason}"
                if dry_run:
                    record_action(state, service_arn, now, actor, verb, "would", reason, True, source_event)
                    logger.info("converge: dry run", extra={**log, "reason": reason})
                    return ConvergeResult(before=snapshot, desire=desire, decision=decision, dry_run=True)
                wanted = desired_state(state.list_claims(service_arn))
                if wanted.state is not desire.state:
                    # Another source placed or cleared a claim since these were read: this call would undo it.
                    logger.info("converge: the claims changed before the call; converging on them", extra=log)
                    desire = wanted
                    continue
                try:
                    call = service.pause if decision.action is ConvergeAction.PAUSE else service.resume
                    operation_id = call(service_arn)
                except InvalidServiceState as race:
                    logger.warning(
                        f"converge: {snapshot.platform} refused the call; describing again",
                        extra={**log, "error": str(race)},
                    )
                    continue
                record_action(state, service_arn, now, actor, verb, "done", reason, False, source_event)
                count("ActionsTaken")
                pending = _track_image(images, state, snapshot, decision.action, now)
                logger.info(
                    f"converge: called {snapshot.platform}",
                    extra={**log, "reason": reason, "operation_id": operation_id},
                )
                called = verb
            case _:
                assert_never(decision.action)
        if dry_run:
            return ConvergeResult(before=snapshot, desire=desire, decision=decision, dry_run=True)
        # Read once more: a claim placed or cleared while this round ran was converged on by its own source with
        # the claims it read, which may be older than this call. Converging again settles both.
        after = desired_state(state.list_claims(service_arn))
        if after.state is desire.state:
            return ConvergeResult(
                before=snapshot,
                desire=after,
                decision=decision,
                called=called,
                operation_id=operation_id,
                deploy_pending=pending,
                earlier=tuple(earlier),
            )
        logger.warning("converge: the claims changed while converging; converging again", extra=log)
        if called is not None:
            earlier.append(EarlierRound(desire=desire, status=snapshot.status, called=called))
        desire = after
    raise ServiceBusy(
        f"{service_arn}: the service or its pause claims kept changing while Warden converged it; "
        "the change is retried and the periodic reconcile finishes it"
    )


def _busy(name: str, earlier: Sequence[EarlierRound], reason: str) -> str:
    """ServiceBusy's text: the calls this converge made before the platform turned busy, then why it is."""
    from warden.messages.service import earlier_rounds  # imported when used: the messages import these facts

    return f"{name}: {earlier_rounds(name, earlier)}{reason}"


PAUSED_IMAGE = "paused_image"
PENDING_DEPLOY = "pending_deploy"
# The `source` of a pending deployment a resume left (a push while paused, with auto-deploy on).
RESUME_SOURCE = "resume"
# DeploymentRecord.source of the version a service kept running when Warden did not start a pending deployment
# (after a resume: the version it resumed to): the history's newest record, the release or rollback that never
# deployed, would say otherwise.
KEPT_SOURCE = "kept running"
_WARDEN = "converge"  # the actor of a decision converge makes on its own: not deploying after a resume


class PendingOutcome(StrEnum):
    STARTED = "started"
    WOULD_START = "would_start"  # a dry run
    SKIPPED = "skipped"  # with auto-deploy off, Warden deploys only what a person released or rolled back to
    WOULD_SKIP = "would_skip"


class Refusal(StrEnum):
    """Why the reconcile does not start a pending deployment, with automatic deployments off."""

    PUSHED_WHILE_PAUSED = "pushed_while_paused"  # a resume's: a push nobody released
    TAG_MOVED_ON = "tag_moved_on"  # a release's or rollback's, but its tag has moved on to a push since


class PendingDeploy(BaseModel):
    """What the reconcile did about the deployment a resume, release or rollback left pending."""

    model_config = ConfigDict(frozen=True)

    outcome: PendingOutcome
    image: str  # the tracked image identifier
    to: str  # the digest pending
    from_resume: bool  # a push while paused, noticed at the resume (else a release or rollback)
    operation_id: str | None = None  # STARTED: the platform's deployment
    refusal: Refusal | None = None  # SKIPPED, WOULD_SKIP
    now_at: str | None = None  # TAG_MOVED_ON: where the tag points now (None: no image)

    @property
    def deployed(self) -> bool:
        """A deployment was started (in a dry run: would have been); False: Warden decided against it."""
        return self.outcome in {PendingOutcome.STARTED, PendingOutcome.WOULD_START}

    @property
    def line(self) -> str:
        """What was done and why, in a sentence or two; warden/messages/service.py writes it."""
        from warden.messages.service import pending_deploy_line  # imported when used: the messages import these

        return pending_deploy_line(self)


def _track_image(
    images: ImagePort | None, state: StatePort, snapshot: ServiceSnapshot, action: ConvergeAction, now: datetime
) -> DeployNote | None:
    """At pause, remembers what the service runs (the version a resume brings back, AWS-FACTS §4.4) and what its
    tag points at; at resume, when the tag moved meanwhile, leaves a deployment of it pending for the reconcile,
    but only with auto-deploy on: with it off, Warden deploys only what a person released or rolled back to.

    The memos: `paused_image` {image, digest: what the service runs, tag_digest: what the tag pointed at};
    `pending_deploy` {image, from, to, since, and from a resume: source, resumed: what the service runs until the
    deployment starts}. Returns the note for the notification when the tag moved while paused.
    """
    if images is None or not snapshot.image_identifier:
        return None
    identifier = snapshot.image_identifier
    try:
        tag_digest = images.resolve(identifier)
    except WardenError as error:
        # The pause or resume already happened; not knowing the digest only costs the follow-up deployment.
        logger.warning("could not resolve the tracked image", extra={"image": identifier, "error": str(error)})
        return None
    arn = snapshot.arn
    if action is ConvergeAction.PAUSE:
        runs = _runs(state, snapshot, tag_digest)
        state.put_memo(arn, PAUSED_IMAGE, {"image": identifier, "digest": runs or "", "tag_digest": tag_digest or ""})
        return None
    before = state.get_memo(arn, PAUSED_IMAGE)
    state.delete_memo(arn, PAUSED_IMAGE)
    if before is None:
        return None
    resumed = before.get("digest", "")
    at_pause = before.get("tag_digest") or resumed  # a memo written before tag_digest existed: its digest was that
    pending = state.get_memo(arn, PENDING_DEPLOY)
    note = DeployNote(kind=DeployNoteKind.PUSH_FOLLOWS, image=identifier, platform=snapshot.platform)
    if pending is not None:
        # A release or rollback made while paused (or deferred before): it deploys once the service runs, which
        # until then runs what it resumed to.
        if resumed:
            state.put_memo(arn, PENDING_DEPLOY, {**pending, "resumed": resumed})
        to = pending.get("to", "")
        if snapshot.auto_deploy is False and tag_digest and tag_digest != to:
            # settle_pending_deploy will not start it: a deployment now would deploy the push, not the release.
            return note.model_copy(update={"kind": DeployNoteKind.RELEASE_BLOCKED, "to": to, "moved_to": tag_digest})
        return note.model_copy(update={"kind": DeployNoteKind.RELEASE_FOLLOWS, "to": to})
    if not at_pause or not tag_digest or tag_digest == at_pause:
        return None
    note = note.model_copy(update={"to": tag_digest, "at_pause": at_pause, "resumed": resumed})
    if snapshot.auto_deploy is False:
        note = note.model_copy(update={"kind": DeployNoteKind.PUSH_KEPT})
        from warden.messages.service import kept_reason  # imported when used: the messages import these facts

        record_action(state, arn, now, _WARDEN, "deploy", "skipped", kept_reason(note))
        return note
    state.put_memo(
        arn,
        PENDING_DEPLOY,
        {
            "image": identifier,
            "from": resumed or at_pause,
            "to": tag_digest,
            "since": now.isoformat(),
            "source": RESUME_SOURCE,
            "resumed": resumed,
        },
    )
    return note


def _runs(state: StatePort, snapshot: ServiceSnapshot, tag_digest: str | None) -> str | None:
    """What the service runs: the digest its ImageIdentifier pins, else its newest deployment that has happened;
    the tag's digest only when no deployment is on record (a push deploys nothing with auto-deploy off)."""
    try:
        pinned = parse_image_identifier(snapshot.image_identifier or "").digest
    except ValueError:
        pinned = None
    if pinned:
        return pinned
    pending = state.get_memo(snapshot.arn, PENDING_DEPLOY) or {}
    newest = newest_deployed(state.list_deployments(snapshot.arn, limit=5), pending.get("to"))
    return newest.digest if newest is not None else pending.get("resumed") or tag_digest


def settle_pending_deploy(
    service: ServicePort,
    state: StatePort,
    service_arn: str,
    *,
    now: datetime,
    actor: str,
    dry_run: bool,
    images: ImagePort | None = None,
) -> PendingDeploy | None:
    """Starts the deployment a resume, release or rollback left pending, once the service is RUNNING again.

    With auto-deploy off it starts only what a person released or rolled back to: not a resume's (the tag moved
    by a push while auto-deploy was on, and it has been switched off since), and not once the tag has moved on
    from the released image (StartDeployment deploys whatever the tag points at). Then the memo goes, and the
    version the service keeps running is recorded as its newest deployment. None when nothing was pending or due.
    """
    pending = state.get_memo(service_arn, PENDING_DEPLOY)
    if pending is None:
        return None
    snapshot = service.describe(service_arn)
    if snapshot.status is not ServiceStatus.RUNNING:
        logger.info("pending deployment waits", extra={"status": snapshot.status.value})
        return None
    facts = PendingDeploy(
        outcome=PendingOutcome.WOULD_START if dry_run else PendingOutcome.STARTED,
        image=pending.get("image", ""),
        to=pending.get("to", ""),
        from_resume=pending.get("source") == RESUME_SOURCE,
    )
    if snapshot.auto_deploy is False:
        try:
            refusal = _unreleased(facts, images)
        except WardenError as error:
            # Whether the tag still points at the released image is unknown: the next reconcile asks again.
            logger.warning("pending deployment waits: tag unreadable", extra={"error": str(error)})
            return None
        if refusal is not None:
            return _skip(state, service_arn, pending, refusal, now=now, actor=actor, dry_run=dry_run)
    from warden.messages.service import pending_deploy_reason  # imported when used: the messages import these facts

    if dry_run:
        record_action(state, service_arn, now, actor, "deploy", "would", pending_deploy_reason(facts), True)
        return facts
    facts = facts.model_copy(update={"operation_id": service.start_deployment(service_arn)})
    state.delete_memo(service_arn, PENDING_DEPLOY)
    record_action(state, service_arn, now, actor, "deploy", "done", pending_deploy_reason(facts), False)
    count("ActionsTaken")
    return facts


def _unreleased(facts: PendingDeploy, images: ImagePort | None) -> PendingDeploy | None:
    """The pending deployment refused, when it would deploy what no person released with auto-deploy off; None
    when it would not."""
    outcome = PendingOutcome.WOULD_SKIP if facts.outcome is PendingOutcome.WOULD_START else PendingOutcome.SKIPPED
    if facts.from_resume:
        return facts.model_copy(update={"outcome": outcome, "refusal": Refusal.PUSHED_WHILE_PAUSED})
    if images is None:
        return None
    now_at = images.resolve(facts.image)
    if now_at != facts.to:
        return facts.model_copy(update={"outcome": outcome, "refusal": Refusal.TAG_MOVED_ON, "now_at": now_at})
    return None


def _skip(
    state: StatePort,
    service_arn: str,
    pending: dict[str, str],
    refused: PendingDeploy,
    *,
    now: datetime,
    actor: str,
    dry_run: bool,
) -> PendingDeploy:
    from warden.messages.service import pending_deploy_reason  # imported when used: the messages import these facts

    reason = pending_deploy_reason(refused)
    if dry_run:
        record_action(state, service_arn, now, actor, "deploy", "skipped", reason, True, None)
        return refused
    history = state.list_deployments(service_arn, limit=5)
    before = newest_deployed(history, pending.get("to"))
    runs = pending.get("resumed") or (before.digest if before is not None else None)
    if runs and (not history or history[0].digest != runs):
        # The history's newest record is the release or rollback that now never deploys: the service keeps
        # running the version before it (after a resume: the one it resumed to), and the history must say so,
        # since the purge and the next rollback read it.
        state.record_deployment(service_arn, runs, None, now, KEPT_SOURCE)
    state.delete_memo(service_arn, PENDING_DEPLOY)
    record_action(state, service_arn, now, actor, "deploy", "skipped", reason, False, None)
    logger.info("pending deployment not started", extra={"reason": reason})
    return refused


def record_action(
    state: StatePort,
    service_arn: str,
    now: datetime,
    actor: str,
    action: str,
    outcome: str,
    reason: str,
    dry_run: bool = False,
    source_event: str | None = None,
) -> None:
    """One entry of the action log (`warden history`); every use case writes its actions through this."""
    state.record_action(
        service_arn,
        ActionRecord(
            at=now,
            action=action,
            outcome=outcome,
            reason=reason,
            actor=actor,
            dry_run=dry_run,
            source_event=source_event,
        ),
    )
