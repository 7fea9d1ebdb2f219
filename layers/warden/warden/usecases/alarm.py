"""`on_alarm`: a CloudWatch alarm changed state. Explain it, act as configured, record, notify.

Deliveries: the alarm topic (SNS), an EventBridge "CloudWatch Alarm State Change" rule, or the alarm
invoking the function directly. All three are read into one `AlarmStateChange`, and the same state
change is handled once whichever way (or however often) it arrives: the idempotency key is the alarm
name, the new state and the state-change time.

- ALARM: a notification saying what is wrong in plain words, the observed value against the threshold,
  since when, a console link and what to check; then the alarm's action from ALARM_ACTIONS:
  `notify` (nothing more), `pause` (an `alarm#<name>` pause claim, then converge) or `rollback`
  (handed to the RollbackPort). Pause and rollback happen at most once per alarm per cool-down
  window. A "no active instances" alarm while pause claims hold the service is expected: it is
  reported as such and nothing is done.
- OK: "recovered", with how long the incident lasted (from the incident recorded at ALARM), and the
  alarm's own pause claim cleared (the service resumes only if no other claim holds it).
- INSUFFICIENT_DATA: an information message, no action.
Anything Warden cannot read is forwarded verbatim.

Whose alarm (domain/alarms.py `concerns`): a pause or rollback runs only for an alarm that provably concerns
the guarded service (its account, region and every metric's identifying dimensions), or that ALARM_ACTIONS
names exactly when Warden cannot tell; never for an alarm about another resource. Such alarms are told as
being about their resource ("EC2 instance i-0abc in ap-northeast-2"), never as the guarded service's. A state
change whose actions CloudWatch suppressed is reported as suppressed and acts on nothing.

Ordering: per alarm, the newest state change wins. Before acting, a state change moves the alarm's state
memo forward with a conditional write (`StatePort.advance_memo`, ordered by the state-change time); an older
one fails that write and is ignored as out of date, so a late ALARM never places a claim after its OK. An
ALARM whose OK arrives while it is being handled withdraws the claim it just placed.

Facts apart from words: this module decides, acts and returns what happened as facts (`Fired`, `Expected`,
`Recovered`, `NoData`, `Suppressed` in domain/alarms.py, kept in `AlarmResult.told`); every sentence a person reads,
in the notification, the result's `reason`, the action log or a claim's evidence, is written by
warden/messages/alarm.py, called only where a text leaves the use case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from warden.domain.alarms import (
    AlarmAction,
    AlarmFacts,
    AlarmOutcome,
    AlarmTold,
    ClaimFate,
    CooledDown,
    Expected,
    Fired,
    Guarded,
    MetricKind,
    NoData,
    Notified,
    OkClaim,
    PauseFailed,
    PauseTaken,
    Recovered,
    RollbackTaken,
    ServiceNow,
    Suppressed,
    Verdict,
    alarm_key,
    concerns,
    decide_cooldown,
    is_below_alarm,
    load_balancer_dimension,
    observed_value,
    permitted,
    target_group_dimension,
)
from warden.domain.claims import Claim, ClaimReason, DesiredState, desired_state
from warden.domain.converge import ConvergeAction
from warden.domain.records import EventStart
from warden.domain.target import TargetFacts
from warden.errors import RollbackDeclined, RollbackFailed, ServiceNotFound, UnparseableMessage
from warden.messages import alarm as words
from warden.models.alarm import (
    AlarmState,
    AlarmStateChange,
    is_direct_alarm,
    is_eventbridge_alarm,
    parse_alarm_message,
    parse_direct_alarm,
    parse_eventbridge_alarm,
)
from warden.models.sns import SnsMessage, parse_sns_event
from warden.observability import count, logger
from warden.settings import ServiceRef, Settings
from warden.usecases.claims import ClaimChange, ClaimDeps, place_claim, release_claim
from warden.usecases.converge import record_action
from warden.usecases.forward import EVENT as FORWARDED_EVENT
from warden.usecases.forward import forward_unparseable
from warden.usecases.once import handle_once, handled_at
from warden.usecases.ports import ImagePort, NotifierPort, RollbackPort, StatePort
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines

ACTOR = "on_alarm"
Outcome = AlarmOutcome


@dataclass(frozen=True)
class AlarmDeps:
    service: Target
    notifier: NotifierPort
    state: StatePort
    rollback: RollbackPort
    images: ImagePort | None = None  # lets a resume notice an image pushed while paused


class RollbackNotConfigured:
    """The RollbackPort until the release pipeline provides one: it starts nothing and says so."""

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        return None


class AlarmResult(BaseModel):
    """What became of one delivery. `reason` is warden.messages.alarm's words for `told`, the facts the
    notification was written from (None when nothing was told: a repeat, an out-of-date or forwarded delivery)."""

    model_config = ConfigDict(frozen=True)

    alarm: str | None
    state: str | None
    outcome: Outcome
    reason: str
    notification_event: str | None = None
    told: AlarmTold | None = Field(default=None, exclude=True)


def claim_key(alarm_name: str) -> str:
    """The pause claim an alarm holds: each alarm its own, so one alarm's OK never clears another's pause.
    A name too long for a DynamoDB key in bytes is hashed (`alarm_key`); others keep their keys."""
    return f"{ClaimReason.ALARM.value}#{alarm_key(alarm_name)}"


def incident_memo(alarm_name: str) -> str:
    """The memo that remembers an alarm's open incident and its last action (for the cool-down)."""
    return f"alarm#{alarm_key(alarm_name)}"


def guarded_of(settings: Settings, facts: TargetFacts) -> Guarded:
    """The guarded service as `concerns` reads it: its ARN's account and region, the dimensions its target says
    name it, and the configured target group's (for a service behind a load balancer)."""
    service = settings.service
    load_balancer, target_group = settings.load_balancer_arn, settings.target_group_arn
    return Guarded(
        partition=service.partition,
        account_id=service.account_id,
        region=service.region,
        described=facts.described,
        metrics=facts.alarm_metrics,
        behind_load_balancer=facts.behind_load_balancer,
        load_balancer=load_balancer_dimension(load_balancer) if load_balancer else None,
        target_group=target_group_dimension(target_group) if target_group else None,
    )


# --- entry points ----------------------------------------------------------------------------------


def handle_event(event: object, deps: AlarmDeps, settings: Settings, now: datetime) -> list[AlarmResult]:
    """Any invocation of `on_alarm`: SNS records, an EventBridge event or a direct alarm action."""
    try:
        delivery = read_delivery(event)
    except UnparseableMessage as error:
        raw = json.dumps(event, default=str, indent=2) if isinstance(event, dict | list) else str(event)
        _forward(raw, error.reason, None, words.INVOCATION, deps, settings)
        return [_forwarded(error.reason)]
    if isinstance(delivery, AlarmStateChange):
        return [handle_change(delivery, deps, settings, now)]
    return [handle_sns_message(message, deps, settings, now) for message in delivery]


def read_delivery(event: object) -> AlarmStateChange | list[SnsMessage]:
    if is_eventbridge_alarm(event) and isinstance(event, Mapping):
        return parse_eventbridge_alarm(event)
    if is_direct_alarm(event) and isinstance(event, Mapping):
        return parse_direct_alarm(event)
    try:
        return parse_sns_event(event)
    except UnparseableMessage as error:
        raise UnparseableMessage(
            f"the invocation is no SNS delivery, EventBridge alarm state change or direct alarm action ({error.reason})"
        ) from None


def handle_sns_message(message: SnsMessage, deps: AlarmDeps, settings: Settings, now: datetime) -> AlarmResult:
    try:
        change = parse_alarm_message(message.message)
    except UnparseableMessage as error:
        # Forwarded once per SNS message, whatever SNS redelivers.
        why = error.reason

        def forward_it() -> AlarmResult:
            _forward(message.message, why, message.subject, words.sns_source(message.message_id), deps, settings)
            return _forwarded(why)

        return handle_once(
            deps.state,
            f"sns#{message.message_id}",
            now,
            forward_it,
            lambda _: _duplicate(None, None, words.already_forwarded(message.message_id)),
        )
    return handle_change(change, deps, settings, now)


def handle_change(change: AlarmStateChange, deps: AlarmDeps, settings: Settings, now: datetime) -> AlarmResult:
    """Handles one state change once; another delivery of it is logged, counted and ignored.

    Deliveries can cross: a state change older than one already handled (an ALARM arriving after the OK
    that ended it) is out of date, and is logged, counted and ignored too.
    """
    event_key = change.delivery_key

    def duplicate(start: EventStart) -> AlarmResult:
        return _duplicate(change.name, change.new_state.value, words.duplicate(change, handled_at(start)))

    def act() -> AlarmResult:
        # The newest state is claimed before anything is done, in one conditional write: an older state change
        # (an ALARM delivered after its OK) fails it and acts on nothing. Lambda's retry of this same change
        # writes the same order and token, so it passes and finishes what the failed attempt started.
        if not _advance(change, event_key, deps, settings):
            return _stale(change, deps.state.get_memo(settings.service.arn, state_memo(change.name)) or {})
        return _handle(change, event_key, deps, settings, now)

    return handle_once(deps.state, event_key, now, act, duplicate)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def state_memo(alarm_name: str) -> str:
    """The memo that remembers the newest state change of an alarm Warden handled (moved forward only)."""
    return f"alarm-state#{alarm_key(alarm_name)}"


def state_order(changed_at: datetime) -> int:
    """The order of a state change among its alarm's: its state-change time in microseconds since the epoch."""
    return (changed_at - _EPOCH) // timedelta(microseconds=1)  # integer arithmetic: no float rounding


def _advance(change: AlarmStateChange, event_key: str, deps: AlarmDeps, settings: Settings) -> bool:
    values = {"state": change.new_state.value, "changed_at": change.changed_at.isoformat(), "event": event_key}
    return deps.state.advance_memo(
        settings.service.arn, state_memo(change.name), values, order=state_order(change.changed_at), token=event_key
    )


def _superseded(context: _Context) -> bool:
    """Whether a later state change of this alarm moved its state memo on while this one was being handled."""
    memo = context.deps.state.get_memo(context.service_arn, state_memo(context.change.name)) or {}
    if memo.get("event"):
        return memo["event"] != context.event_key
    stamp = memo.get("changed_at")
    return bool(stamp) and datetime.fromisoformat(stamp or "") > context.change.changed_at


def _stale(change: AlarmStateChange, newer: dict[str, str]) -> AlarmResult:
    stamp = newer.get("changed_at")
    reason = words.stale(change, newer.get("state"), datetime.fromisoformat(stamp) if stamp else None)
    logger.info("out-of-date state change ignored", extra={"alarm": change.name, "reason": reason})
    count("StaleEvents")
    return AlarmResult(alarm=change.name, state=change.new_state.value, outcome=Outcome.STALE, reason=reason)


# --- the three states ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    alarm: AlarmFacts
    event_key: str
    deps: AlarmDeps
    settings: Settings
    now: datetime

    @property
    def change(self) -> AlarmStateChange:
        return self.alarm.change

    @property
    def service_arn(self) -> str:
        return self.settings.service.arn


def _handle(
    change: AlarmStateChange, event_key: str, deps: AlarmDeps, settings: Settings, now: datetime
) -> AlarmResult:
    count("AlertsParsed")
    alarm = AlarmFacts(
        change=change,
        observation=observed_value(change.reason, change.reason_data),
        concern=concerns(change, guarded_of(settings, deps.service.facts)),
        service_name=settings.service.name,
    )
    logger.info(
        "alarm state change",
        extra={
            "alarm": change.name,
            "state": change.new_state.value,
            "kind": alarm.kind.value,
            "delivery": change.source.value,
            "concern": alarm.concern.verdict.value,
        },
    )
    context = _Context(alarm, event_key, deps, settings, now)
    if change.is_suppressed:
        return _suppressed(context)
    match change.new_state:
        case AlarmState.ALARM:
            return _on_alarm(context)
        case AlarmState.OK:
            return _on_ok(context)
        case AlarmState.INSUFFICIENT_DATA:
            return _on_insufficient_data(context)
        case _:
            assert_never(change.new_state)


def _on_alarm(context: _Context) -> AlarmResult:
    alarm, change, deps, settings = context.alarm, context.change, context.deps, context.settings
    memo = deps.state.get_memo(context.service_arn, incident_memo(change.name)) or {}
    if "opened_at" not in memo:
        memo = {**memo, "opened_at": change.changed_at.isoformat(), "opened_event": context.event_key}
        deps.state.put_memo(context.service_arn, incident_memo(change.name), memo)
    claims = deps.state.list_claims(context.service_arn)
    others = [claim for claim in claims if claim.key != claim_key(change.name)]
    choice = permitted(settings.alarm_actions.resolve(change.name), alarm.concern)
    desire = desired_state(others)

    if alarm.self_watching:
        # Warden failing is no reason to pause or roll back the app, whatever ALARM_ACTIONS patterns match.
        status = _status(deps, settings.service)
        return _tell(
            context, Fired(alarm=alarm, outcome=Outcome.NOTIFIED, did=Notified(permission=None), status=status)
        )
    if alarm.concern.verdict is Verdict.OTHER_RESOURCE:
        # Another resource's alarm says nothing about the guarded service: no status that would blame it.
        return _tell(context, Fired(alarm=alarm, outcome=Outcome.OTHER_SERVICE, did=Notified(permission=choice)))
    status = _status(deps, settings.service)
    # A paused service has no instances: that alarm is expected while any (other) claim holds the pause.
    no_instances = alarm.kind is MetricKind.INSTANCES and is_below_alarm(change)
    if alarm.guarded and no_instances and desire.state is DesiredState.PAUSED:
        return _tell(context, Expected(alarm=alarm, status=status, paused_by=desire.reason))
    match choice.action:
        case AlarmAction.NOTIFY:
            return _tell(
                context, Fired(alarm=alarm, outcome=Outcome.NOTIFIED, did=Notified(permission=choice), status=status)
            )
        case AlarmAction.PAUSE:
            return _pause(context, memo, choice.reason, status)
        case AlarmAction.ROLLBACK:
            return _rollback(context, memo, choice.reason, status)
        case _:
            assert_never(choice.action)


def _pause(context: _Context, memo: dict[str, str], why: str, status: ServiceNow) -> AlarmResult:
    alarm, change, deps, settings = context.alarm, context.change, context.deps, context.settings
    key = claim_key(change.name)
    if deps.state.get_claim(context.service_arn, key) is None:
        blocked = _cooldown(context, memo, AlarmAction.PAUSE, status)
        if blocked is not None:
            return blocked
    claim = Claim.new(
        ClaimReason.ALARM,
        owner=ACTOR,
        evidence=words.claim_evidence(alarm),
        now=context.now,
        qualifier=alarm_key(change.name),  # the same key `claim_key` finds it by
        source_event=context.event_key,
        details={"alarm": change.name, "alarm_arn": change.arn, "state_changed_at": change.changed_at.isoformat()},
    )
    try:
        placed = place_claim(
            ClaimDeps(deps.service, deps.state, deps.images),
            context.service_arn,
            claim,
            now=context.now,
            actor=ACTOR,
            dry_run=settings.dry_run,
            source_event=context.event_key,
        )
    except ServiceNotFound as missing:
        failed = PauseFailed(missing=str(missing))
        return _tell(context, Fired(alarm=alarm, outcome=Outcome.UNAVAILABLE, did=failed, status=status))
    if placed.changed and not settings.dry_run and _superseded(context):
        return _withdraw(context)
    result = placed.result
    action = ConvergeAction.PAUSE if result.called == "pause" else result.decision.action
    if action is ConvergeAction.PAUSE and result.dry_run:
        outcome = Outcome.WOULD_PAUSE
    elif action is ConvergeAction.PAUSE:
        outcome = Outcome.PAUSED
    elif action is ConvergeAction.UNAVAILABLE:
        outcome = Outcome.UNAVAILABLE
    else:
        outcome = Outcome.ALREADY_PAUSED
    if placed.changed and not settings.dry_run:
        _remember_action(context, memo, AlarmAction.PAUSE)
    undo = (
        undo_pause_lines(deps.service, settings, ClaimReason.ALARM, key, state=deps.state)
        if placed.changed or placed.existing
        else []
    )
    did = PauseTaken(
        reason=why,
        claim_key=key,
        claim_lines=_claim_lines(placed),
        undo=tuple(undo),
        before=None if outcome is Outcome.UNAVAILABLE else result.before,
    )
    return _tell(context, Fired(alarm=alarm, outcome=outcome, did=did, status=status))


def _rollback(context: _Context, memo: dict[str, str], why: str, status: ServiceNow) -> AlarmResult:
    alarm, deps, settings = context.alarm, context.deps, context.settings
    blocked = _cooldown(context, memo, AlarmAction.ROLLBACK, status)
    if blocked is not None:
        return blocked
    if _superseded(context):
        return _late(context, words.NO_ROLLBACK_STARTED)

    def rolled(outcome: Outcome, detail: str | None = None) -> AlarmResult:
        did = RollbackTaken(reason=why, detail=detail)
        return _tell(context, Fired(alarm=alarm, outcome=outcome, did=did, status=status))

    request = words.rollback_request(alarm)
    if settings.dry_run:
        _record(context, "rollback", "would", request, dry_run=True)
        return rolled(Outcome.WOULD_ROLLBACK)
    try:
        started = deps.rollback.roll_back(context.service_arn, reason=request)
    except RollbackFailed as failed:
        # The port recorded the attempt: it is not tried again for this deployment, whatever is redelivered.
        _record(context, "rollback", "failed", failed.reason)
        _remember_action(context, memo, AlarmAction.ROLLBACK)
        return rolled(Outcome.ROLLBACK_FAILED, failed.reason)
    except RollbackDeclined as declined:
        _record(context, "rollback", "skipped", declined.reason)
        return rolled(Outcome.ROLLBACK_DECLINED, declined.reason)
    if started is None:
        _record(context, "rollback", "skipped", words.NOT_CONFIGURED_RECORD)
        return rolled(Outcome.ROLLBACK_NOT_CONFIGURED)
    _record(context, "rollback", "done", started)
    _remember_action(context, memo, AlarmAction.ROLLBACK)
    count("ActionsTaken")
    return rolled(Outcome.ROLLBACK, started)


def _withdraw(context: _Context) -> AlarmResult:
    """A later state change of this alarm (its OK) was handled while this ALARM placed its claim: that OK may
    have found no claim to clear, so this ALARM clears its own, and the service resumes unless another holds it."""
    change, deps = context.change, context.deps
    withdrawn = release_claim(
        ClaimDeps(deps.service, deps.state, deps.images),
        context.service_arn,
        claim_key(change.name),
        now=context.now,
        actor=ACTOR,
        reason=words.withdrawn(change.name),
        dry_run=context.settings.dry_run,
        source_event=context.event_key,
    )
    return _late(context, withdrawn.line)


def _late(context: _Context, what: str) -> AlarmResult:
    change = context.change
    reason = words.late(change, what)
    logger.info("state change superseded while handled", extra={"alarm": change.name, "reason": reason})
    count("StaleEvents")
    return AlarmResult(alarm=change.name, state=change.new_state.value, outcome=Outcome.STALE, reason=reason)


def _cooldown(context: _Context, memo: dict[str, str], action: AlarmAction, status: ServiceNow) -> AlarmResult | None:
    acted = memo.get("acted_at")
    window = timedelta(minutes=context.settings.alarm_cooldown_minutes)
    decision = decide_cooldown(datetime.fromisoformat(acted) if acted else None, context.now, window)
    if decision.allowed:
        return None
    _record(context, action.value, "skipped", decision.reason)
    did = CooledDown(action=action, decision=decision)
    return _tell(context, Fired(alarm=context.alarm, outcome=Outcome.COOLDOWN, did=did, status=status))


def _on_ok(context: _Context) -> AlarmResult:
    alarm, change, deps, settings = context.alarm, context.change, context.deps, context.settings
    memo = deps.state.get_memo(context.service_arn, incident_memo(change.name)) or {}
    opened = memo.get("opened_at")
    key = claim_key(change.name)
    held = deps.state.get_claim(context.service_arn, key)
    placed_by = held.details.get("alarm_arn") if held is not None else None
    if held is not None and alarm.concern.verdict is Verdict.OTHER_RESOURCE:
        # Resuming is an action: an OK about another resource says nothing about the guarded service's health.
        claim = OkClaim(fate=ClaimFate.KEPT_OTHER_RESOURCE, claim_key=key)
    elif held is not None and placed_by and placed_by != change.arn:
        # Resuming is an action too: an alarm of the same name elsewhere (another account or region) does not
        # clear the claim this stack's alarm placed.
        claim = OkClaim(fate=ClaimFate.KEPT_OTHER_ALARM, claim_key=key, placed_by=placed_by)
    # An earlier attempt at this same OK may have cleared the claim and then failed (App Runner throttled
    # the resume): Lambda's retry must still converge, or the service stays paused with no claim holding it.
    elif held is not None or _cleared_by_earlier_attempt(context):
        try:
            cleared = release_claim(
                ClaimDeps(deps.service, deps.state, deps.images),
                context.service_arn,
                key,
                now=context.now,
                actor=ACTOR,
                reason=words.returned_to_ok(change.name),
                dry_run=settings.dry_run,
                source_event=context.event_key,
            )
            claim = OkClaim(fate=ClaimFate.CLEARED, claim_key=key, lines=_claim_lines(cleared))
        except ServiceNotFound as missing:
            claim = OkClaim(fate=ClaimFate.SERVICE_MISSING, claim_key=key, missing=str(missing))
    else:
        claim = OkClaim(fate=ClaimFate.NONE_HELD, claim_key=key)
    remaining = {k: v for k, v in memo.items() if k not in {"opened_at", "opened_event"}}
    if remaining != memo:
        if remaining:
            deps.state.put_memo(context.service_arn, incident_memo(change.name), remaining)
        else:
            deps.state.delete_memo(context.service_arn, incident_memo(change.name))
    opened_at = datetime.fromisoformat(opened) if opened is not None else None
    incident = opened_at is not None or change.old_state is AlarmState.ALARM
    # Not "recovered" for another resource's alarm: the guarded service is not what recovered.
    outcome = Outcome.RECOVERED if incident and alarm.guarded else Outcome.OK
    return _tell(context, Recovered(alarm=alarm, outcome=outcome, opened_at=opened_at, claim=claim))


def _on_insufficient_data(context: _Context) -> AlarmResult:
    alarm, deps, key = context.alarm, context.deps, claim_key(context.change.name)
    held = deps.state.get_claim(context.service_arn, key) is not None
    paused = desired_state(deps.state.list_claims(context.service_arn))
    # A paused service publishes no metrics: its own alarms' missing data is explained by the pause.
    paused_by = paused.reason if alarm.guarded and paused.state is DesiredState.PAUSED else None
    return _tell(context, NoData(alarm=alarm, claim_key=key if held else None, paused_by=paused_by))


def _suppressed(context: _Context) -> AlarmResult:
    """CloudWatch suppressed this state change's actions (a composite alarm's actions suppressor): over SNS it
    would not have arrived at all. Told, never acted on: no claim, no rollback, and no resume either: resuming
    is an action, so an OK whose actions were suppressed leaves the alarm's own claim in place (the operator
    resumes by hand, or the alarm's next unsuppressed OK clears it)."""
    deps, settings, key = context.deps, context.settings, claim_key(context.change.name)
    held = deps.state.get_claim(context.service_arn, key) is not None
    undo = undo_pause_lines(deps.service, settings, ClaimReason.ALARM, key, state=deps.state) if held else []
    told = Suppressed(alarm=context.alarm, claim_key=key if held else None, undo=tuple(undo))
    _record(context, "alarm.action", "skipped", words.suppressed_record(told))
    return _tell(context, told)


# --- helpers ---------------------------------------------------------------------------------------


def _status(deps: AlarmDeps, service: ServiceRef) -> ServiceNow:
    """The service as its platform and the claims see it now, for the evidence."""
    try:
        snapshot = deps.service.describe(service.arn)
    except ServiceNotFound:
        return ServiceNow(arn=service.arn, status=None)
    claims = deps.state.list_claims(service.arn)
    return ServiceNow(arn=service.arn, status=snapshot.status, claims=tuple(claim.key for claim in claims))


def _cleared_by_earlier_attempt(context: _Context) -> bool:
    return any(
        record.action == "claim.clear" and record.outcome == "done" and record.source_event == context.event_key
        for record in context.deps.state.list_actions(context.service_arn, limit=20)
    )


def _claim_lines(change: ClaimChange) -> tuple[str, ...]:
    """What placing or clearing the claim did, then what converging did (unless an earlier attempt did it)."""
    result = change.result
    return tuple(line for line in (change.line, "" if result.credited else result.summary) if line)


def _remember_action(context: _Context, memo: dict[str, str], action: AlarmAction) -> None:
    memo.update({"acted_at": context.now.isoformat(), "action": action.value})
    context.deps.state.put_memo(context.service_arn, incident_memo(context.change.name), memo)


def _record(context: _Context, action: str, outcome: str, reason: str, *, dry_run: bool = False) -> None:
    record_action(
        context.deps.state,
        context.service_arn,
        now=context.now,
        actor=ACTOR,
        action=action,
        outcome=outcome,
        reason=reason,
        dry_run=dry_run,
        source_event=context.event_key,
    )


def _tell(context: _Context, told: AlarmTold) -> AlarmResult:
    """Publishes the notification warden.messages.alarm writes from the facts; the result carries both."""
    target: TargetFacts = context.deps.service.facts
    notification = words.notification(told, target)
    context.deps.notifier.publish(notification)
    count("NotificationsSent")
    return AlarmResult(
        alarm=context.change.name,
        state=context.change.new_state.value,
        outcome=told.outcome,
        reason=words.summary(told, target),
        notification_event=notification.event,
        told=told,
    )


def _forward(raw: str, why: str, subject: str | None, source: str, deps: AlarmDeps, settings: Settings) -> None:
    forward_unparseable(
        raw,
        why,
        subject=subject,
        source=source,
        topic=words.TOPIC,
        service_name=settings.service.name,
        notifier=deps.notifier,
    )


def _forwarded(why: str) -> AlarmResult:
    return AlarmResult(
        alarm=None,
        state=None,
        outcome=Outcome.FORWARDED,
        reason=words.forwarded(why),
        notification_event=FORWARDED_EVENT,
    )


def _duplicate(alarm: str | None, state: str | None, reason: str) -> AlarmResult:
    logger.info("duplicate delivery ignored", extra={"alarm": alarm, "reason": reason})
    count("DuplicateEvents")
    return AlarmResult(alarm=alarm, state=state, outcome=Outcome.DUPLICATE, reason=reason)
