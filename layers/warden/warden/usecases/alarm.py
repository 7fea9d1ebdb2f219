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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.alarms import (
    SELF_WATCHING,
    AlarmAction,
    Concern,
    Finding,
    Guarded,
    MetricKind,
    Verdict,
    alarm_console_url,
    alarm_key,
    concerns,
    decide_cooldown,
    describe,
    format_duration,
    is_below_alarm,
    load_balancer_dimension,
    observed_value,
    permitted,
    runbook,
    target_group_dimension,
)
from warden.domain.claims import Claim, ClaimReason, DesiredState, desired_state
from warden.domain.converge import ConvergeAction
from warden.domain.costs import paused_cost_note
from warden.domain.notification import Notification, Severity, render
from warden.domain.records import EventStart
from warden.domain.target import TargetFacts
from warden.errors import RollbackDeclined, RollbackFailed, ServiceNotFound, UnparseableMessage
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
from warden.usecases.forward import forward_unparseable
from warden.usecases.once import handle_once, handled_at
from warden.usecases.ports import ImagePort, NotifierPort, RollbackPort, StatePort
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines

ACTOR = "on_alarm"
TOPIC = "the alarm topic"


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


class Outcome(StrEnum):
    NOTIFIED = "notified"
    PAUSED = "paused"
    WOULD_PAUSE = "would_pause"
    ALREADY_PAUSED = "already_paused"
    ROLLBACK = "rollback"
    WOULD_ROLLBACK = "would_rollback"
    ROLLBACK_NOT_CONFIGURED = "rollback_not_configured"
    ROLLBACK_DECLINED = "rollback_declined"
    ROLLBACK_FAILED = "rollback_failed"
    COOLDOWN = "cooldown"
    EXPECTED = "expected"
    OTHER_SERVICE = "other_service"
    UNAVAILABLE = "unavailable"
    RECOVERED = "recovered"
    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    FORWARDED = "forwarded"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SUPPRESSED = "suppressed"


class AlarmResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    alarm: str | None
    state: str | None
    outcome: Outcome
    reason: str
    notification_event: str | None = None


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
        _forward(raw, error.reason, None, "Lambda invocation", deps, settings)
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
            source = f"SNS message {message.message_id}"
            _forward(message.message, why, message.subject, source, deps, settings)
            return _forwarded(why)

        return handle_once(
            deps.state,
            f"sns#{message.message_id}",
            now,
            forward_it,
            lambda _: _duplicate(None, None, f"SNS message {message.message_id} was already forwarded"),
        )
    return handle_change(change, deps, settings, now)


def handle_change(change: AlarmStateChange, deps: AlarmDeps, settings: Settings, now: datetime) -> AlarmResult:
    """Handles one state change once; another delivery of it is logged, counted and ignored.

    Deliveries can cross: a state change older than one already handled (an ALARM arriving after the OK
    that ended it) is out of date, and is logged, counted and ignored too.
    """
    event_key = change.delivery_key

    def duplicate(start: EventStart) -> AlarmResult:
        return _duplicate(
            change.name,
            change.new_state.value,
            f"this state change ({change.new_state.value} at {change.changed_at:%Y-%m-%d %H:%M:%S} UTC) "
            f"was already handled at {handled_at(start)}",
        )

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
    moment = datetime.fromisoformat(stamp) if stamp else None
    when = f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "an unknown time"
    which = "another state change of the same moment" if moment == change.changed_at else "a newer state change"
    reason = (
        f"ignored, because {which} of '{change.name}' ({newer.get('state', '?')} at {when}) was already handled; "
        f"this {change.new_state.value} of {change.changed_at:%Y-%m-%d %H:%M:%S} UTC is out of date"
    )
    logger.info(reason, extra={"alarm": change.name, "state": change.new_state.value})
    count("StaleEvents")
    return AlarmResult(alarm=change.name, state=change.new_state.value, outcome=Outcome.STALE, reason=reason)


# --- the three states ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    change: AlarmStateChange
    event_key: str
    finding: Finding
    deps: AlarmDeps
    settings: Settings
    now: datetime
    concern: Concern

    @property
    def service_arn(self) -> str:
        return self.settings.service.arn

    @property
    def guarded(self) -> bool:
        return self.concern.verdict is Verdict.GUARDED

    @property
    def told_as_the_services(self) -> bool:
        """The guarded service's alarm, or one of Warden's alarms on itself (told under the service's name, as
        ever: Warden failing is the guarded service's business)."""
        return self.guarded or self.finding.kind in SELF_WATCHING

    @property
    def about(self) -> str:
        """Who the message is about: the guarded service's name, or the resource another alarm watches."""
        return self.settings.service.name if self.told_as_the_services else self.concern.resource

    @property
    def links(self) -> list[str]:
        alarm = f"Alarm: {alarm_console_url(self.change.region, self.change.name)}"
        if not self.told_as_the_services and self.concern.verdict is Verdict.OTHER_RESOURCE:
            return [alarm]
        return [alarm, f"Service: {self.deps.service.facts.console_url}"]

    def whose(self) -> str:
        """The line that says whose alarm this is, when it is not provably the guarded service's."""
        if self.told_as_the_services:
            return ""
        service = self.settings.service.name
        if self.concern.verdict is Verdict.OTHER_RESOURCE:
            return f"Not the guarded service's alarm: {self.concern.reason}."
        return f"Warden cannot tell whether this alarm is about the guarded service {service}: {self.concern.reason}."

    def happened(self) -> str:
        before = self.change.old_state.value if self.change.old_state else "an unknown state"
        return (
            f"CloudWatch alarm '{self.change.name}' went from {before} to {self.change.new_state.value} "
            f"at {self.change.changed_at:%Y-%m-%d %H:%M} UTC."
        )


def _handle(
    change: AlarmStateChange, event_key: str, deps: AlarmDeps, settings: Settings, now: datetime
) -> AlarmResult:
    count("AlertsParsed")
    finding = describe(change, observed_value(change.reason, change.reason_data))
    concern = concerns(change, guarded_of(settings, deps.service.facts))
    logger.info(
        "alarm state change",
        extra={
            "alarm": change.name,
            "state": change.new_state.value,
            "kind": finding.kind.value,
            "delivery": change.source.value,
            "concern": concern.verdict.value,
        },
    )
    context = _Context(change, event_key, finding, deps, settings, now, concern)
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
    change, deps, settings = context.change, context.deps, context.settings
    memo = deps.state.get_memo(context.service_arn, incident_memo(change.name)) or {}
    if "opened_at" not in memo:
        memo = {**memo, "opened_at": change.changed_at.isoformat(), "opened_event": context.event_key}
        deps.state.put_memo(context.service_arn, incident_memo(change.name), memo)
    # Another resource's alarm says nothing about the guarded service: no status line that would blame it.
    other = context.concern.verdict is Verdict.OTHER_RESOURCE
    status_line = "" if other else _status(deps, settings.service)
    claims = deps.state.list_claims(context.service_arn)
    others = [claim for claim in claims if claim.key != claim_key(change.name)]
    choice = permitted(settings.alarm_actions.resolve(change.name), context.concern)
    desire = desired_state(others)

    if context.finding.kind in SELF_WATCHING:
        status_line = _status(deps, settings.service)
        # Warden failing is no reason to pause or roll back the app, whatever ALARM_ACTIONS patterns match.
        did = "Nothing beyond this message: an alarm on Warden itself only notifies, whatever ALARM_ACTIONS says."
        return _fired(context, Outcome.NOTIFIED, did, status_line)
    if other:
        return _fired(context, Outcome.OTHER_SERVICE, f"Nothing: {choice.reason}.", status_line)
    # A paused service has no instances: that alarm is expected while any (other) claim holds the pause.
    no_instances = context.finding.kind is MetricKind.INSTANCES and is_below_alarm(change)
    if context.guarded and no_instances and desire.state is DesiredState.PAUSED:
        return _expected(context, desire.reason, status_line)
    match choice.action:
        case AlarmAction.NOTIFY:
            return _fired(context, Outcome.NOTIFIED, f"Nothing beyond this message: {choice.reason}.", status_line)
        case AlarmAction.PAUSE:
            return _pause(context, memo, choice.reason, status_line)
        case AlarmAction.ROLLBACK:
            return _rollback(context, memo, choice.reason, status_line)
        case _:
            assert_never(choice.action)


def _pause(context: _Context, memo: dict[str, str], why: str, status_line: str) -> AlarmResult:
    change, deps, settings = context.change, context.deps, context.settings
    key = claim_key(change.name)
    if deps.state.get_claim(context.service_arn, key) is None:
        blocked = _cooldown(context, memo, "pause", status_line)
        if blocked is not None:
            return blocked
    claim = Claim.new(
        ClaimReason.ALARM,
        owner=ACTOR,
        evidence=f"alarm '{change.name}' in ALARM since {change.changed_at:%Y-%m-%d %H:%M} UTC: "
        f"{context.finding.sentence}",
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
        return _fired(context, Outcome.UNAVAILABLE, f"Could not pause: {missing}.", status_line)
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
        _remember_action(context, memo, "pause")
    did = [f"The action for this alarm is pause: {why}.", *_claim_lines(placed)]
    # A platform without a pause of its own (ECS): say what Warden's pause did to it instead.
    facts = deps.service.facts
    means = {Outcome.PAUSED: facts.pause_means, Outcome.WOULD_PAUSE: facts.would_pause_means}.get(outcome)
    did += [means] if means else []
    undo = (
        undo_pause_lines(deps.service, settings, ClaimReason.ALARM, key, state=deps.state)
        if placed.changed or placed.existing
        else []
    )
    next_steps = [
        f"When '{change.name}' returns to OK, Warden clears the '{key}' claim and resumes the service, "
        "unless another pause claim holds it."
    ]
    # A pause stops compute, not the whole bill (an ECS load balancer bills on): say what keeps costing.
    next_steps += paused_cost_note(result.before) if outcome is not Outcome.UNAVAILABLE else []
    return _fired(context, outcome, did, status_line, undo=undo, next_steps=next_steps)


def _rollback(context: _Context, memo: dict[str, str], why: str, status_line: str) -> AlarmResult:
    change, deps, settings = context.change, context.deps, context.settings
    name = settings.service.name
    blocked = _cooldown(context, memo, "rollback", status_line)
    if blocked is not None:
        return blocked
    intro = f"The action for this alarm is rollback: {why}."
    if _superseded(context):
        return _late(context, "no rollback was started")
    if settings.dry_run:
        _record(context, "rollback", "would", f"alarm '{change.name}': {context.finding.sentence}", dry_run=True)
        return _fired(
            context,
            Outcome.WOULD_ROLLBACK,
            [intro, f"[dry run] Would have rolled {name} back to its previous release; nothing was changed."],
            status_line,
        )
    try:
        started = deps.rollback.roll_back(
            context.service_arn, reason=f"alarm '{change.name}': {context.finding.sentence}"
        )
    except RollbackFailed as failed:
        # The port recorded the attempt: it is not tried again for this deployment, whatever is redelivered.
        _record(context, "rollback", "failed", failed.reason)
        _remember_action(context, memo, "rollback")
        by_hand = "Roll back by hand: `warden rollback --plan`, then `warden rollback` (or name the VERSION)."
        return _fired(
            context, Outcome.ROLLBACK_FAILED, [intro, f"The rollback FAILED: {failed.reason}.", by_hand], status_line
        )
    except RollbackDeclined as declined:
        _record(context, "rollback", "skipped", declined.reason)
        did = [intro, f"Did not roll back: {declined.reason}."]
        return _fired(context, Outcome.ROLLBACK_DECLINED, did, status_line)
    if started is None:
        _record(context, "rollback", "skipped", "rollback is not configured in this stack")
        return _fired(
            context,
            Outcome.ROLLBACK_NOT_CONFIGURED,
            [
                intro,
                "Rollback is not configured in this stack (EcrRepository is empty, so there is no image to "
                "re-tag); run `warden rollback` by hand to go back to the previous release.",
            ],
            status_line,
        )
    _record(context, "rollback", "done", started)
    _remember_action(context, memo, "rollback")
    count("ActionsTaken")
    return _fired(context, Outcome.ROLLBACK, [intro, started], status_line)


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
        reason=f"a later state change of alarm '{change.name}' arrived while its ALARM was being handled",
        dry_run=context.settings.dry_run,
        source_event=context.event_key,
    )
    return _late(context, withdrawn.line)


def _late(context: _Context, what: str) -> AlarmResult:
    change = context.change
    reason = (
        f"ignored, because a later state change of '{change.name}' was handled while this "
        f"{change.new_state.value} of {change.changed_at:%Y-%m-%d %H:%M:%S} UTC was being handled: {what}"
    )
    logger.info(reason, extra={"alarm": change.name, "state": change.new_state.value})
    count("StaleEvents")
    return AlarmResult(alarm=change.name, state=change.new_state.value, outcome=Outcome.STALE, reason=reason)


def _cooldown(context: _Context, memo: dict[str, str], verb: str, status_line: str) -> AlarmResult | None:
    acted = memo.get("acted_at")
    window = timedelta(minutes=context.settings.alarm_cooldown_minutes)
    decision = decide_cooldown(datetime.fromisoformat(acted) if acted else None, context.now, window)
    if decision.allowed:
        return None
    _record(context, verb, "skipped", decision.reason)
    did = [f"Did not {verb}: {decision.reason}. The action runs again if the alarm fires after that."]
    return _fired(context, Outcome.COOLDOWN, did, status_line)


def _expected(context: _Context, paused_by: str, status_line: str) -> AlarmResult:
    name = context.settings.service.name
    # "no active instances" (App Runner), "no running tasks" (ECS), "no healthy targets" (its load balancer)
    none_left = context.finding.subject
    runs = context.deps.service.facts.runs_on
    body = render(
        [
            ("What happened", [context.happened(), context.finding.sentence]),
            ("Why this is expected", [f"Expected: the service is {paused_by}.", status_line]),
            ("What Warden did", [f"Nothing: a paused service has no {runs}; the alarm's action does not run."]),
            ("Links", context.links),
        ],
        headline=f"{name} has {none_left}, as expected while it is paused.",
    )
    reason = f"expected: the service is {paused_by}"
    return _send(
        context,
        Outcome.EXPECTED,
        reason,
        Notification(
            subject=f"[warden] EXPECTED {name}: {none_left} while paused",
            body=body,
            event="alarm.expected",
            severity=Severity.INFO,
        ),
    )


_TAGS = {
    Outcome.NOTIFIED: ("ALARM", "alarm.fired"),
    Outcome.PAUSED: ("PAUSED", "alarm.paused"),
    Outcome.WOULD_PAUSE: ("DRY RUN would pause", "alarm.dry_run"),
    Outcome.ALREADY_PAUSED: ("ALARM, already paused", "alarm.already_paused"),
    Outcome.ROLLBACK: ("ROLLING BACK", "alarm.rollback"),
    Outcome.WOULD_ROLLBACK: ("DRY RUN would roll back", "alarm.dry_run"),
    Outcome.ROLLBACK_NOT_CONFIGURED: ("ALARM", "alarm.rollback_unconfigured"),
    Outcome.ROLLBACK_DECLINED: ("ALARM, not rolled back", "alarm.rollback_declined"),
    Outcome.ROLLBACK_FAILED: ("ROLLBACK FAILED", "alarm.rollback_failed"),
    Outcome.COOLDOWN: ("ALARM", "alarm.cooldown"),
    Outcome.OTHER_SERVICE: ("ALARM", "alarm.other_service"),
    Outcome.UNAVAILABLE: ("ALARM", "alarm.unenforceable"),
}


_ACTED = frozenset(
    {
        Outcome.PAUSED,
        Outcome.WOULD_PAUSE,
        Outcome.ALREADY_PAUSED,
        Outcome.ROLLBACK,
        Outcome.WOULD_ROLLBACK,
        Outcome.ROLLBACK_NOT_CONFIGURED,
        Outcome.ROLLBACK_DECLINED,
        Outcome.ROLLBACK_FAILED,
        Outcome.COOLDOWN,
        Outcome.UNAVAILABLE,
    }
)


def _fired(
    context: _Context,
    outcome: Outcome,
    did: str | list[str],
    status_line: str,
    *,
    undo: list[str] | None = None,
    next_steps: list[str] | None = None,
) -> AlarmResult:
    change, finding = context.change, context.finding
    # What Warden did to the guarded service is told under its name; an alarm it did nothing for, under the
    # name of what that alarm is about.
    name = context.settings.service.name if outcome in _ACTED else context.about
    did_lines = [did] if isinstance(did, str) else did
    tag, event = _TAGS[outcome]
    what = [
        context.happened(),
        finding.sentence,
        context.whose(),
        f"Alarm description: {change.description}" if change.description else "",
    ]
    evidence = [
        f"Observed: {finding.observed}",
        f"Threshold: {finding.threshold}",
        f"Metric: {finding.metric}",
        f"CloudWatch's reason: {change.reason}" if change.reason else "",
        status_line,
    ]
    body = render(
        [
            ("What happened", what),
            ("Evidence", evidence),
            ("What Warden did", did_lines),
            ("What happens next", next_steps or []),
            ("What to check", _advice(context)),
            ("How to undo", undo or []),
            ("Links", context.links),
        ],
        headline=f"{name}: {_lower_the(finding.sentence)}",
    )
    severity = Severity.WARNING if finding.kind is MetricKind.BILLING else Severity.CRITICAL
    notification = Notification(
        subject=f"[warden] {tag} {name}: {finding.subject}", body=body, event=event, severity=severity
    )
    return _send(context, outcome, " ".join(did_lines), notification)


def _on_ok(context: _Context) -> AlarmResult:
    change, deps, settings = context.change, context.deps, context.settings
    name = context.about
    memo = deps.state.get_memo(context.service_arn, incident_memo(change.name)) or {}
    opened = memo.get("opened_at")
    did: list[str] = []
    key = claim_key(change.name)
    held = deps.state.get_claim(context.service_arn, key)
    placed_by = held.details.get("alarm_arn") if held is not None else None
    if held is not None and context.concern.verdict is Verdict.OTHER_RESOURCE:
        # Resuming is an action: an OK about another resource says nothing about the guarded service's health.
        did.append(
            f"Did not clear the '{key}' pause claim: {context.concern.reason}, so its OK says nothing about the "
            "guarded service. Resume by hand if it should run."
        )
    elif held is not None and placed_by and placed_by != change.arn:
        # Resuming is an action too: an alarm of the same name elsewhere (another account or region) does not
        # clear the claim this stack's alarm placed.
        did.append(
            f"Did not clear the '{key}' pause claim: it was placed by alarm {placed_by}, and this OK is of "
            f"{change.arn}, another alarm of the same name."
        )
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
                reason=f"alarm '{change.name}' returned to OK",
                dry_run=settings.dry_run,
                source_event=context.event_key,
            )
            did += _claim_lines(cleared)
        except ServiceNotFound as missing:
            did.append(f"Cleared nothing: {missing}.")
    else:
        did.append("Nothing to undo: this alarm held no pause claim.")
    remaining = {k: v for k, v in memo.items() if k not in {"opened_at", "opened_event"}}
    if remaining != memo:
        if remaining:
            deps.state.put_memo(context.service_arn, incident_memo(change.name), remaining)
        else:
            deps.state.delete_memo(context.service_arn, incident_memo(change.name))

    if opened is None and change.old_state is not AlarmState.ALARM:
        body = render(
            [
                ("What happened", [context.happened(), context.finding.sentence, context.whose()]),
                ("What Warden did", did),
                ("Links", context.links),
            ],
            headline=f"{name}: alarm '{change.name}' is OK.",
        )
        return _send(
            context,
            Outcome.OK,
            " ".join(did),
            Notification(
                subject=f"[warden] OK {name}: {change.name}", body=body, event="alarm.ok", severity=Severity.INFO
            ),
        )
    if opened is not None:
        since = datetime.fromisoformat(opened)
        duration = format_duration(change.changed_at - since)
        lasted = f"The incident lasted {duration} (ALARM since {since:%Y-%m-%d %H:%M} UTC)."
        subject_tail = f"after {duration}"
    else:
        duration = "duration unknown"
        lasted = (
            "Duration unknown: Warden has no record of when this alarm went to ALARM (it fired before Warden "
            "was watching, or that message did not reach Warden)."
        )
        subject_tail = "(duration unknown)"
    # Not "RECOVERED <service>" for another resource's alarm: the guarded service is not what recovered.
    guarded = context.guarded
    outcome, tag, event, verb = (
        (Outcome.RECOVERED, "RECOVERED", "alarm.recovered", "recovered")
        if guarded
        else (Outcome.OK, "OK", "alarm.ok", "back to OK")
    )
    whose = [] if guarded else [context.whose()]
    body = render(
        [
            ("What happened", [context.happened(), context.finding.sentence, *whose, lasted]),
            ("What Warden did", did),
            ("Links", context.links),
        ],
        headline=f"{name} recovered: alarm '{change.name}' is back to OK."
        if guarded
        else f"{name}: alarm '{change.name}' is back to OK.",
    )
    return _send(
        context,
        outcome,
        f"{verb} ({duration}); " + " ".join(did),
        Notification(
            subject=f"[warden] {tag} {name}: {change.name} OK {subject_tail}",
            body=body,
            event=event,
            severity=Severity.INFO,
        ),
    )


def _on_insufficient_data(context: _Context) -> AlarmResult:
    change, deps, name = context.change, context.deps, context.about
    lines = ["Nothing: missing data is not a failure by itself, so no action runs."]
    if deps.state.get_claim(context.service_arn, claim_key(change.name)) is not None:
        lines.append(f"The '{claim_key(change.name)}' pause claim stays until the alarm returns to OK.")
    paused = desired_state(deps.state.list_claims(context.service_arn))
    if context.guarded and paused.state is DesiredState.PAUSED:
        lines.append(f"The service is {paused.reason}: a paused service publishes no metrics, which explains this.")
    body = render(
        [
            ("What happened", [context.happened(), context.finding.sentence, context.whose()]),
            ("Evidence", [f"CloudWatch's reason: {change.reason}" if change.reason else ""]),
            ("What Warden did", lines),
            ("Links", context.links),
        ],
        headline=f"{name}: alarm '{change.name}' has insufficient data.",
    )
    return _send(
        context,
        Outcome.INSUFFICIENT_DATA,
        lines[0],
        Notification(
            subject=f"[warden] NO DATA {name}: {change.name}",
            body=body,
            event="alarm.insufficient_data",
            severity=Severity.INFO,
        ),
    )


def _suppressed(context: _Context) -> AlarmResult:
    """CloudWatch suppressed this state change's actions (a composite alarm's actions suppressor): over SNS it
    would not have arrived at all. Told, never acted on: no claim, no rollback, and no resume either: resuming
    is an action, so an OK whose actions were suppressed leaves the alarm's own claim in place (the operator
    resumes by hand, or the alarm's next unsuppressed OK clears it)."""
    change, deps, settings, name = context.change, context.deps, context.settings, context.about
    by = change.actions_suppressed_by or "?"
    why = f" ({change.actions_suppressed_reason})" if change.actions_suppressed_reason else ""
    lines = [
        f"Nothing: CloudWatch suppressed this alarm's actions (actionsSuppressedBy {by}{why}), so Warden does not "
        "act on it either: no pause claim, no rollback, no resume."
    ]
    key = claim_key(change.name)
    undo: list[str] = []
    if deps.state.get_claim(context.service_arn, key) is not None:
        lines.append(f"The '{key}' pause claim this alarm placed earlier stays until an OK that is not suppressed.")
        undo = undo_pause_lines(deps.service, settings, ClaimReason.ALARM, key, state=deps.state)
    _record(context, "alarm.action", "skipped", f"alarm '{change.name}' {change.new_state.value}: {lines[0]}")
    body = render(
        [
            ("What happened", [context.happened(), context.finding.sentence, context.whose()]),
            ("Evidence", [f"CloudWatch's reason: {change.reason}" if change.reason else ""]),
            ("What Warden did", lines),
            ("How to resume by hand", undo),
            ("Links", context.links),
        ],
        headline=f"{name}: alarm '{change.name}' is {change.new_state.value}, its actions suppressed by CloudWatch.",
    )
    return _send(
        context,
        Outcome.SUPPRESSED,
        lines[0],
        Notification(
            subject=f"[warden] SUPPRESSED {name}: {change.name} {change.new_state.value}",
            body=body,
            event="alarm.suppressed",
            severity=Severity.INFO,
        ),
    )


# Advice that does not depend on the guarded platform (the others speak of App Runner's or ECS's console).
_GENERAL_ADVICE = frozenset(
    {
        MetricKind.COMPOSITE,
        MetricKind.BILLING,
        MetricKind.OTHER,
        MetricKind.LAMBDA_ERRORS,
        MetricKind.QUEUE_DEPTH,
        *SELF_WATCHING,
    }
)


def _advice(context: _Context) -> list[str]:
    """What to check: the runbook for the guarded service's metrics; for an alarm that is not provably about it,
    only advice that holds whatever the resource (no "give the service more vCPU" for an EC2 instance)."""
    kind = context.finding.kind
    if context.guarded or kind in _GENERAL_ADVICE:
        return runbook(kind, context.deps.service.facts.runbook)
    return [
        "Warden's advice covers the guarded service's own metrics only: open the alarm in the CloudWatch console "
        "(link below) and check the resource it watches."
    ]


# --- helpers ---------------------------------------------------------------------------------------


def _status(deps: AlarmDeps, service: ServiceRef) -> str:
    """The service as its platform and the claims see it now, for the evidence."""
    facts = deps.service.facts
    platform = facts.platform
    try:
        snapshot = deps.service.describe(service.arn)
    except ServiceNotFound:
        return f"{platform} does not know the guarded service {service.arn} (check SERVICE_ARN)."
    claims = deps.state.list_claims(service.arn)
    held = ", ".join(claim.key for claim in claims) or "none"
    status = snapshot.status.value
    if snapshot.status in facts.status_meanings:
        status += f" ({facts.status_meanings[snapshot.status]})"
    return f"{platform} status now: {status}; pause claims: {held}."


def _cleared_by_earlier_attempt(context: _Context) -> bool:
    return any(
        record.action == "claim.clear" and record.outcome == "done" and record.source_event == context.event_key
        for record in context.deps.state.list_actions(context.service_arn, limit=20)
    )


def _lower_the(sentence: str) -> str:
    """ "The 5xx error rate is ..." reads "consultation-app: the 5xx error rate is ..." after the name."""
    return "the" + sentence[3:] if sentence.startswith("The ") else sentence


def _claim_lines(change: ClaimChange) -> list[str]:
    result = change.result
    summary = "" if result.credited else result.summary
    return [change.line, summary]


def _remember_action(context: _Context, memo: dict[str, str], verb: str) -> None:
    memo.update({"acted_at": context.now.isoformat(), "action": verb})
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


def _send(context: _Context, outcome: Outcome, reason: str, notification: Notification) -> AlarmResult:
    context.deps.notifier.publish(notification)
    count("NotificationsSent")
    return AlarmResult(
        alarm=context.change.name,
        state=context.change.new_state.value,
        outcome=outcome,
        reason=reason,
        notification_event=notification.event,
    )


def _forward(raw: str, why: str, subject: str | None, source: str, deps: AlarmDeps, settings: Settings) -> None:
    forward_unparseable(
        raw,
        why,
        subject=subject,
        source=source,
        topic=TOPIC,
        service_name=settings.service.name,
        notifier=deps.notifier,
    )


def _forwarded(why: str) -> AlarmResult:
    return AlarmResult(
        alarm=None,
        state=None,
        outcome=Outcome.FORWARDED,
        reason=f"forwarded verbatim, because {why}",
        notification_event="alert.unparsed",
    )


def _duplicate(alarm: str | None, state: str | None, why: str) -> AlarmResult:
    reason = f"ignored, because {why}"
    logger.info("duplicate delivery ignored", extra={"alarm": alarm, "reason": reason})
    count("DuplicateEvents")
    return AlarmResult(alarm=alarm, state=state, outcome=Outcome.DUPLICATE, reason=reason)
