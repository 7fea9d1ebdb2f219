"""Budget enforcement must not be silently off: check its wiring, and tell a person when it is broken.

run_schedule's `budget-period-check` (every 6 hours) and `warden doctor` call `check_budget_wiring`, which
verifies from the Budgets and SNS APIs that
- BUDGET_NAME exists,
- an ACTUAL notification at the enforce threshold sends to Warden's budget topic (domain/wiring.py says why
  exactly at the threshold), and
- the notify topic has at least one confirmed subscription.

`report_if_off` turns problems into ONE critical notification ("budget enforcement is OFF: ...") with the exact
fix, at most once per UTC day (a memo in the state table). When the state table cannot be read it still
sends, and says so. When that notification can reach nobody (no confirmed subscription, the topic gone,
the publish failing), it returns `escalate`: run_schedule then fails the invocation on purpose, so that its
`-self-errors-run-schedule` alarm reaches the operator through the alarm topic's own e-mail subscription,
a path that depends neither on the notify topic nor on the state table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from warden.domain.notification import Notification, Severity, render
from warden.domain.wiring import (
    Check,
    CheckStatus,
    TopicNotFound,
    WiringUnreadable,
    assess_budget_alerts,
    assess_subscriptions,
    missing_budget,
    missing_topic,
    unknown,
    unreadable,
)
from warden.errors import AwsUnavailable, BudgetNotFound, WardenError
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.ports import BudgetNoticesPort, NotifierPort, StatePort, TopicsPort

MEMO = "budget.enforcement_off"
EVENT_OFF = "budget.enforcement_off"
EVENT_UNHEARD = "notify.unheard"
BUDGET_CHECKS = frozenset({"budget", "budget alert"})
NOTIFY_CHECK = "notify topic"


class EnforcementOffUnheard(WardenError):
    """Budget enforcement (or Warden's notify path) is broken and the notify topic cannot tell anyone: the
    invocation fails on purpose so that the function's errors alarm tells the operator another way."""


@dataclass(frozen=True)
class WiringDeps:
    budgets: BudgetNoticesPort
    topics: TopicsPort


class WiringStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # something could not be checked now; nothing is sent
    REPORTED = "reported"  # problems found; the notification went out now
    ALREADY_REPORTED = "already_reported"  # problems found; a notification went out earlier today


class WiringOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: WiringStatus
    reason: str
    checks: list[Check]
    # Why a person may not have been told through the notify topic (then the caller fails the invocation).
    escalate: str | None = None
    notification_event: str | None = None


def check_budget_wiring(deps: WiringDeps, settings: Settings) -> list[Check]:
    """The budget, its enforcing alert and the notify topic's subscriptions, each a Check. Never raises."""
    return [*_budget_checks(deps, settings), _notify_check(deps, settings)]


def _budget_checks(deps: WiringDeps, settings: Settings) -> list[Check]:
    account, name = settings.service.account_id, settings.budget_name
    try:
        snapshot = deps.budgets.read_budget(account, name)
    except BudgetNotFound as missing:
        return [missing_budget(account, name, str(missing))]
    except AwsUnavailable as error:
        return [unknown("budget", str(error))]
    except Exception as error:  # an AccessDenied (or anything else) means the check cannot vouch for enforcement
        return [_refused("budget", f"the budget '{name}'", error)]
    found = Check(
        name="budget",
        status=CheckStatus.OK,
        detail=f"'{name}': {snapshot.actual} of {snapshot.limit} spent; Warden pauses at "
        f"{settings.enforce_threshold_percent} %",
    )
    try:
        notices = deps.budgets.budget_notices(account, name)
    except BudgetNotFound as missing:
        return [missing_budget(account, name, str(missing))]
    except AwsUnavailable as error:
        return [found, unknown("budget alert", str(error))]
    except Exception as error:
        return [found, _refused("budget alert", f"the alerts of '{name}'", error)]
    alerts = assess_budget_alerts(
        notices,
        account_id=account,
        budget_name=name,
        limit=snapshot.limit.amount,
        enforce_percent=settings.enforce_threshold_percent,
        budget_topic_arn=settings.budget_topic_arn,
    )
    return [found, alerts]


def _notify_check(deps: WiringDeps, settings: Settings) -> Check:
    topic = settings.notify_topic_arn
    try:
        return assess_subscriptions(topic, deps.topics.subscriptions(topic))
    except TopicNotFound:
        return missing_topic(topic)
    except AwsUnavailable as error:
        return unknown(NOTIFY_CHECK, str(error))
    except Exception as error:
        return _refused(NOTIFY_CHECK, f"the subscriptions of {topic}", error)


def _refused(name: str, what: str, error: Exception) -> Check:
    if isinstance(error, WiringUnreadable):
        permission = "sns:ListSubscriptionsByTopic" if name == NOTIFY_CHECK else "budgets:ViewBudget"
        return unreadable(name, what, error, permission)
    return Check(name=name, status=CheckStatus.PROBLEM, detail=f"cannot read {what}: {type(error).__name__}: {error}")


def report_if_off(
    checks: Sequence[Check],
    *,
    state: StatePort,
    notifier: NotifierPort,
    settings: Settings,
    now: datetime,
) -> WiringOutcome:
    """At most one critical notification a UTC day while a check fails; `escalate` when it may reach nobody."""
    problems = [check for check in checks if check.status is CheckStatus.PROBLEM]
    count("BudgetWiringProblems", len(problems))
    if not problems:
        unchecked = [check for check in checks if check.status is CheckStatus.UNKNOWN]
        status = WiringStatus.UNKNOWN if unchecked else WiringStatus.OK
        reason = "; ".join(f"{check.name}: {check.detail}" for check in unchecked) or "budget enforcement is wired"
        logger.info("budget wiring checked", extra={"status": status.value, "reason": reason})
        return WiringOutcome(status=status, reason=reason, checks=list(checks))
    arn, today = settings.service.arn, now.date().isoformat()
    summary = "; ".join(f"{check.name}: {check.detail}" for check in problems)
    logger.warning("budget enforcement is OFF", extra={"problems": summary})
    table_problem: str | None = None
    try:
        memo = state.get_memo(arn, MEMO) or {}
    except Exception as error:  # the table itself may be what is broken: send all the same
        memo, table_problem = {}, f"{type(error).__name__}: {error}"
    if memo.get("day") == today:
        reason = f"already reported today at {memo.get('at', '?')} UTC: {summary}"
        return WiringOutcome(status=WiringStatus.ALREADY_REPORTED, reason=reason, checks=list(checks))
    notification = enforcement_off_notification(settings, problems, table_problem)
    escalate: list[str] = []
    try:
        notifier.publish(notification)
        count("NotificationsSent")
    except Exception as error:
        escalate.append(f"the notification could not be published ({type(error).__name__}: {error})")
    notify = next((check for check in checks if check.name == NOTIFY_CHECK), None)
    if notify is not None and notify.status is CheckStatus.PROBLEM:
        escalate.append(notify.detail)
    # Written even when escalating: Lambda's retry of this invocation then stays quiet, so the errors alarm
    # fires once a day, not three times every 6 hours. Without the table, every check reports again.
    try:
        state.put_memo(arn, MEMO, {"day": today, "at": f"{now:%H:%M}", "problems": summary[:1000]})
    except Exception as error:
        logger.warning("budget wiring memo not written", extra={"error": str(error)})
    why = "; ".join(escalate) or None
    return WiringOutcome(
        status=WiringStatus.REPORTED,
        reason=summary,
        checks=list(checks),
        escalate=f"{notification.subject}: nobody may have been told, because {why}" if why else None,
        notification_event=notification.event,
    )


def enforcement_off_notification(
    settings: Settings, problems: Sequence[Check], table_problem: str | None
) -> Notification:
    name = settings.service.name
    budget = [check for check in problems if check.name in BUDGET_CHECKS]
    if budget:
        event = EVENT_OFF
        headline = f"budget enforcement is OFF: {budget[0].detail}."
        subject = f"[warden] budget enforcement is OFF for {name}: {budget[0].name}"
    else:
        event = EVENT_UNHEARD
        headline = f"Warden's notifications about {name} reach nobody: {problems[0].detail}."
        subject = f"[warden] NOBODY HEARS Warden for {name}: {problems[0].name}"
    sections: list[tuple[str, list[str]]] = [
        ("What is wrong", [f"{check.name}: {check.detail}" for check in problems]),
        ("How to fix it", [line for check in problems for line in check.fix]),
        (
            "Why it matters",
            [
                f"Warden pauses {name} only when AWS Budgets sends an alert to Warden's budget topic and the "
                "Budgets API confirms the spend; whoever must be told reads the notify topic.",
                "Check again after fixing: warden doctor",
            ],
        ),
        (
            "Warden's state table",
            [
                f"could not be read ({table_problem}), so this message may come at every check (every 6 hours) "
                "until both are fixed"
            ]
            if table_problem
            else [],
        ),
    ]
    return Notification(
        subject=subject,
        body=render(sections, headline=headline[:1].upper() + headline[1:]),
        event=event,
        severity=Severity.CRITICAL,
    )
