"""Events in a fleet: which guarded service a budget alert, an alarm or a deployment event is for.

Each event goes to the single-service use case of the service it concerns, with that service's settings, so
every guarantee of one service holds per service. What concerns no guarded service is still reported (never
dropped): through the first member's use case, which explains it without acting, or forwarded verbatim when the
fleet is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from warden.domain.alarms import AlarmActionMap, concerns
from warden.domain.notification import Notification, Severity, render
from warden.domain.target import TargetFacts
from warden.errors import UnparseableMessage
from warden.messages import fleet as words
from warden.models.alarm import AlarmStateChange, parse_alarm_message
from warden.models.budget import looks_like_budget_notification, parse_budget_notification
from warden.models.sns import SnsMessage
from warden.observability import count, logger
from warden.usecases.alarm import AlarmDeps, AlarmResult, guarded_of, handle_change, handle_sns_message, read_delivery
from warden.usecases.budget_alert import AlertResult, BudgetAlertDeps, Outcome, handle_message
from warden.usecases.fleet import Member
from warden.usecases.ports import NotifierPort

NO_FLEET = words.NO_FLEET


class CollectingNotifier:
    """Holds a use case's notifications so that one budget alert about several services sends one message."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def publish(self, notification: Notification) -> str:
        self.sent.append(notification)
        return f"held-{len(self.sent)}"


def forward_unguarded(text: str, source: str, notifier: NotifierPort) -> None:
    """What arrives while the fleet is empty is forwarded verbatim (nothing Warden receives is lost)."""
    logger.warning(f"ignored, because {NO_FLEET}", extra={"source": source})
    count("EventsIgnored")
    notifier.publish(
        Notification(
            subject=f"[warden] NOT HANDLED: {NO_FLEET[:60]}",
            body=render(
                [("Why nothing was done", [f"{NO_FLEET}."]), ("The message, verbatim", text.splitlines())],
                headline=f"Warden received a message ({source}) but guards no service yet.",
            ),
            event="fleet.empty",
            severity=Severity.WARNING,
        )
    )


# --- budget alerts ------------------------------------------------------------------------------------------


def budget_of(message: SnsMessage) -> str | None:
    """The budget an AWS Budgets notification is about, or None for anything else (anomalies, unparseable)."""
    if not looks_like_budget_notification(message.message):
        return None
    try:
        return parse_budget_notification(message.message).budget_name
    except UnparseableMessage:
        return None


def handle_budget_message(
    message: SnsMessage,
    members: Sequence[Member],
    deps_for: Callable[[Member], BudgetAlertDeps],
    notifier: NotifierPort,
    now: datetime,
) -> list[AlertResult]:
    """A budget alert pauses (or warns about) every service that follows that budget (tag warden:budget, else
    BUDGET_NAME): one `budget` claim each, one notification listing them. Anything else (another budget, an
    anomaly, an unparseable message) goes to the first service's use case, which reports it once."""
    if not members:
        forward_unguarded(message.message, f"SNS message {message.message_id}", notifier)
        return [AlertResult(message_id=message.message_id, outcome=Outcome.FORWARDED, reason=f"forwarded: {NO_FLEET}")]
    budget = budget_of(message)
    following = [member for member in members if budget is not None and member.settings.budget_name == budget]
    if len(following) <= 1:
        chosen = following[0] if following else members[0]
        settings = chosen.settings
        if budget is None and len(members) > 1:
            # A cost anomaly names an AWS service and an account, not one of the fleet's services: it is reported,
            # never paused on (ANOMALY_PAUSE_IMPACT_USD acts only for a stack guarding one service).
            settings = settings.model_copy(update={"anomaly_pause_impact_usd": None})
        return [handle_message(message, deps_for(chosen), settings, now)]
    held: list[tuple[str, Notification]] = []
    results: list[AlertResult] = []
    failure: Exception | None = None
    for member in following:
        collector = CollectingNotifier()
        try:
            results.append(handle_message(message, replace(deps_for(member), notifier=collector), member.settings, now))
        except Exception as error:  # the others are still paused; raised after the notification went out
            logger.exception(
                "a fleet service's budget alert failed", extra={"service_arn": member.settings.service.arn}
            )
            failure = failure or error
        held += [(member.settings.service.name, notification) for notification in collector.sent]
    if len(held) == 1:
        notifier.publish(held[0][1])
    elif held:
        notifier.publish(words.combined(budget or "", held))
    if failure is not None:
        raise failure
    return results


# --- alarms -------------------------------------------------------------------------------------------------


def owner_of(
    change: AlarmStateChange, members: Sequence[Member], facts: Callable[[Member], TargetFacts]
) -> Member | None:
    """The one member the alarm provably concerns, else None (no member, or more than one)."""
    owners = [member for member in members if concerns(change, guarded_of(member.settings, facts(member))).is_guarded]
    return owners[0] if len(owners) == 1 else None


def _explainer(change: AlarmStateChange, members: Sequence[Member]) -> Member:
    """Who explains an alarm no member provably owns. An exact-name rule may act on an alarm Warden cannot read
    (a composite alarm): only the one member whose own rules name it exactly keeps its rules; any other member
    explains it with its rules cleared, so it only notifies."""
    named = [member for member in members if member.settings.alarm_actions.resolve(change.name).exact]
    if len(named) == 1:
        return named[0]
    first = members[0]
    quiet = first.settings.model_copy(update={"alarm_actions": AlarmActionMap()})
    return Member(settings=quiet, problems=first.problems, listed=first.listed)


def handle_alarm_event(
    event: object,
    members: Sequence[Member],
    deps_for: Callable[[Member], AlarmDeps],
    facts: Callable[[Member], TargetFacts],
    notifier: NotifierPort,
    now: datetime,
) -> list[AlarmResult]:
    if not members:
        forward_unguarded(str(event)[:20000], "an alarm state change", notifier)
        return []
    try:
        delivery = read_delivery(event)
    except UnparseableMessage:
        first = members[0]
        from warden.usecases.alarm import handle_event

        return handle_event(event, deps_for(first), first.settings, now)
    if isinstance(delivery, AlarmStateChange):
        return [_one_change(delivery, members, deps_for, facts, now)]
    results: list[AlarmResult] = []
    for message in delivery:
        try:
            change = parse_alarm_message(message.message)
        except UnparseableMessage:
            first = members[0]
            results.append(handle_sns_message(message, deps_for(first), first.settings, now))
            continue
        results.append(_one_change(change, members, deps_for, facts, now))
    return results


def _one_change(
    change: AlarmStateChange,
    members: Sequence[Member],
    deps_for: Callable[[Member], AlarmDeps],
    facts: Callable[[Member], TargetFacts],
    now: datetime,
) -> AlarmResult:
    member = owner_of(change, members, facts) or _explainer(change, members)
    return handle_change(change, deps_for(member), member.settings, now)


# --- deployment events ---------------------------------------------------------------------------------------


def deployment_member(event: object, members: Sequence[Member]) -> Member | None:
    """The member an EventBridge deployment event names in `resources` (App Runner operations and ECS deployment
    state changes both list the service ARN there); else the first member, whose watcher ignores it with a reason."""
    if not members:
        return None
    resources = event.get("resources") if isinstance(event, Mapping) else None
    named = set(resources) if isinstance(resources, list) else set()
    return next((member for member in members if member.settings.service.arn in named), members[0])
