"""Pausing without the state table, and recording that pause once the table is back.

The state table holds the pause claims, the action log and the handled-event records. When it is deleted or
throttled for good, a confirmed budget breach must still pause: the pause is the safety action, the record is
not. `on_budget_alert` then handles the alert on an `UnrecordedState` (this process's memory, nothing durable),
pauses through the ServicePort, says in its notification that the pause is not recorded, counts the metric
`StateUnavailable` and fails the invocation so that Lambda's error alarm fires and the failure queue keeps the
alert.

Once the table is back, the reconcile would find the service PAUSED with no claim and resume it. So before it
converges, `recover_budget_claim` asks the Budgets API: while the enforced figure is still at or above the
threshold in this period (and nobody cleared a budget claim in it), the pause is a budget pause the table did
not record, and the budget claim is recorded then. The budget-period check later clears it like any other.
Its notification, and the claim's evidence, are written by warden/messages/budget.py from the facts (`Recovery`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from warden.domain.budget import BudgetGuard, EnforcePolicy, Recovery, unrecorded_budget_pause
from warden.domain.claims import Claim, ClaimReason
from warden.domain.records import ActionRecord, DeploymentRecord, EventStart, EventStatus
from warden.domain.service import ServiceStatus
from warden.errors import BudgetNotFound
from warden.messages import budget as words
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.ports import BudgetPort, NotifierPort, StatePort
from warden.usecases.target import Target
from warden.usecases.undo import undo_pause_lines

METRIC = "StateUnavailable"


class UnrecordedState:
    """A StatePort in this process's memory: what a use case writes is kept for this invocation only.

    Used while the state table is unavailable, so that the one decision path that must not depend on it (pausing
    a confirmed breach) runs unchanged. Nothing written here survives the invocation.
    """

    def __init__(self, cause: str) -> None:
        self.cause = cause  # why the table is unavailable, for the notification
        self._claims: dict[tuple[str, str], Claim] = {}
        self._actions: list[tuple[str, ActionRecord]] = []
        self._memos: dict[tuple[str, str], dict[str, str]] = {}
        self._orders: dict[tuple[str, str], int] = {}
        self._deployments: list[tuple[str, DeploymentRecord]] = []

    def list_claims(self, service_arn: str) -> list[Claim]:
        mine = [claim for (arn, _), claim in self._claims.items() if arn == service_arn]
        return sorted(mine, key=lambda claim: claim.created_at)

    def add_claim(self, service_arn: str, claim: Claim) -> bool:
        if (service_arn, claim.key) in self._claims:
            return False
        self._claims[(service_arn, claim.key)] = claim
        return True

    def get_claim(self, service_arn: str, key: str) -> Claim | None:
        return self._claims.get((service_arn, key))

    def remove_claim(self, service_arn: str, key: str) -> bool:
        return self._claims.pop((service_arn, key), None) is not None

    def record_action(self, service_arn: str, record: ActionRecord) -> None:
        # The log line is the only trace of the action while the table is down.
        logger.warning(
            "action not recorded: the state table is unavailable",
            extra={"action": record.action, "outcome": record.outcome, "reason": record.reason, "actor": record.actor},
        )
        self._actions.append((service_arn, record))

    def list_actions(self, service_arn: str, limit: int = 50) -> Sequence[ActionRecord]:
        return [record for arn, record in reversed(self._actions) if arn == service_arn][:limit]

    def begin_event(self, event_key: str, now: datetime, *, lock_seconds: int = 300) -> EventStart:
        return EventStart(status=EventStatus.NEW)

    def complete_event(self, event_key: str, now: datetime, summary: str) -> None:
        return None

    def release_event(self, event_key: str) -> None:
        return None

    def record_deployment(self, service_arn: str, digest: str, tag: str | None, at: datetime, source: str) -> None:
        self._deployments.append((service_arn, DeploymentRecord(digest=digest, tag=tag, at=at, source=source)))

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        mine = [record for arn, record in self._deployments if arn == service_arn]
        return sorted(mine, key=lambda record: record.at, reverse=True)[:limit]

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        self._memos[(service_arn, name)] = dict(values)

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        return self._memos.get((service_arn, name))

    def advance_memo(self, service_arn: str, name: str, values: dict[str, str], *, order: int, token: str) -> bool:
        if self._orders.get((service_arn, name), order) > order:
            return False
        self._memos[(service_arn, name)] = dict(values)
        self._orders[(service_arn, name)] = order
        return True

    def delete_memo(self, service_arn: str, name: str) -> None:
        self._memos.pop((service_arn, name), None)
        self._orders.pop((service_arn, name), None)


def recover_budget_claim(
    service: Target,
    state: StatePort,
    budgets: BudgetPort,
    notifier: NotifierPort,
    settings: Settings,
    now: datetime,
    *,
    actor: str,
) -> Claim | None:
    """Records the budget claim of a pause the state table missed; the claim, or None when there is none to record.

    Call it when no claim is active, before converging: it reads the service (and, only when it is PAUSED, the
    Budgets API) and tells the operator when it records the claim. In a dry run the claim is returned, not stored.
    """
    arn = settings.service.arn
    snapshot = service.describe(arn)
    if snapshot.status is not ServiceStatus.PAUSED:
        return None
    try:
        budget = budgets.read_budget(settings.service.account_id, settings.budget_name)
    except BudgetNotFound as missing:
        logger.warning("cannot check for an unrecorded budget pause", extra={"error": str(missing)})
        return None
    start, end = budget.period(now)
    cleared = any(
        record.action == "claim.clear"
        and record.outcome == "done"
        and record.reason.startswith(f"{ClaimReason.BUDGET.value}: ")
        and record.at.date() >= start
        for record in state.list_actions(arn, limit=50)
    )
    policy = EnforcePolicy(
        budget_name=settings.budget_name,
        threshold_percent=settings.enforce_threshold_percent,
        enforce_on_forecast=settings.enforce_on_forecast,
    )
    decision = unrecorded_budget_pause(budget, policy, now, cleared_this_period=cleared)
    reason = words.unrecorded_pause_reason(decision)
    logger.info("unrecorded budget pause check", extra={"recover": decision.confirmed, "reason": reason})
    if not decision.confirmed:
        return None
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner=actor,
        evidence=reason,
        now=now,
        details={
            "actual": str(budget.actual),
            "limit": str(budget.limit),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "recovered": "true",
        },
    )
    if settings.dry_run:
        record_action(state, arn, now, actor, "claim.add", "would", reason, True)
    elif state.add_claim(arn, claim):
        record_action(state, arn, now, actor, "claim.add", "done", reason, False)
        count("ClaimsRecovered")
    else:
        # Recorded meanwhile (the alert's retry, say): nothing to tell.
        return state.get_claim(arn, claim.key) or claim
    guard = BudgetGuard(
        service_name=settings.service.name,
        service_arn=arn,
        target=service.facts,
        policy=policy,
        dry_run=settings.dry_run,
    )
    undo = undo_pause_lines(service, settings, ClaimReason.BUDGET, claim.key, state=state)
    recovery = Recovery(decision=decision, budget=budget, service=snapshot, undo=tuple(undo))
    notifier.publish(words.claim_recovered(guard, recovery))
    count("NotificationsSent")
    return claim
