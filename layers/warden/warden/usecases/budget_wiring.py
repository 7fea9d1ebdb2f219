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

The words (the notification, the details of the checks this module makes, the reasons) are warden/messages/budget.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

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
from warden.messages import budget as words
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.ports import BudgetNoticesPort, NotifierPort, StatePort, TopicsPort

MEMO = "budget.enforcement_off"
BUDGET_CHECK = "budget"
ALERT_CHECK = "budget alert"
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
        return [unknown(BUDGET_CHECK, str(error))]
    except Exception as error:  # an AccessDenied (or anything else) means the check cannot vouch for enforcement
        return [_refused(BUDGET_CHECK, error, settings)]
    found = Check(
        name=BUDGET_CHECK,
        status=CheckStatus.OK,
        detail=words.budget_found(name, snapshot.actual, snapshot.limit, settings.enforce_threshold_percent),
    )
    try:
        notices = deps.budgets.budget_notices(account, name)
    except BudgetNotFound as missing:
        return [missing_budget(account, name, str(missing))]
    except AwsUnavailable as error:
        return [found, unknown(ALERT_CHECK, str(error))]
    except Exception as error:
        return [found, _refused(ALERT_CHECK, error, settings)]
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
        return _refused(NOTIFY_CHECK, error, settings)


def _refused(name: str, error: Exception, settings: Settings) -> Check:
    what = words.unreadable_what(name, settings.budget_name, settings.notify_topic_arn)
    if isinstance(error, WiringUnreadable):
        permission = "sns:ListSubscriptionsByTopic" if name == NOTIFY_CHECK else "budgets:ViewBudget"
        return unreadable(name, what, error, permission)
    return Check(name=name, status=CheckStatus.PROBLEM, detail=words.refused_detail(what, error))


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
        reason = words.problems_summary(unchecked) or words.WIRED
        logger.info("budget wiring checked", extra={"status": status.value, "reason": reason})
        return WiringOutcome(status=status, reason=reason, checks=list(checks))
    arn, today = settings.service.arn, now.date().isoformat()
    summary = words.problems_summary(problems)
    logger.warning("budget enforcement is OFF", extra={"problems": summary})
    table_problem: str | None = None
    try:
        memo = state.get_memo(arn, MEMO) or {}
    except Exception as error:  # the table itself may be what is broken: send all the same
        memo, table_problem = {}, f"{type(error).__name__}: {error}"
    if memo.get("day") == today:
        reason = words.already_reported(memo.get("at", "?"), summary)
        return WiringOutcome(status=WiringStatus.ALREADY_REPORTED, reason=reason, checks=list(checks))
    notification = words.enforcement_off(settings.service.name, problems, table_problem)
    escalate: list[str] = []
    try:
        notifier.publish(notification)
        count("NotificationsSent")
    except Exception as error:
        escalate.append(words.unpublished(error))
    notify = next((check for check in checks if check.name == NOTIFY_CHECK), None)
    if notify is not None and notify.status is CheckStatus.PROBLEM:
        escalate.append(notify.detail)
    # Written even when escalating: Lambda's retry of this invocation then stays quiet, so the errors alarm
    # fires once a day, not three times every 6 hours. Without the table, every check reports again.
    try:
        state.put_memo(arn, MEMO, {"day": today, "at": f"{now:%H:%M}", "problems": summary[:1000]})
    except Exception as error:
        logger.warning("budget wiring memo not written", extra={"error": str(error)})
    return WiringOutcome(
        status=WiringStatus.REPORTED,
        reason=summary,
        checks=list(checks),
        escalate=words.unheard(notification, escalate) if escalate else None,
        notification_event=notification.event,
    )
