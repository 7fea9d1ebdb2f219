"""Budget enforcement in words: what a budget alert or a cost anomaly led to, the reasons the action log and the
claims keep, the pause the state table could not record, and the warning that enforcement is off.

The facts are in warden/domain/budget.py (`Assessment`, `Confirmation`, `Verification`, `Enforcement`,
`Recovery`, `BudgetGuard`...) and warden/domain/wiring.py (`Check`). What differs by platform comes from the
target's facts (`BudgetGuard.target`: its name, console, what a paused service does not do) and from the words the
shared modules write (the claim's line, the converge's summary, the undo commands), never from a branch on the
platform here. The approved text of each notification is under tests/golden/texts/budget.*.txt.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final, assert_never

from warden.domain.budget import (
    HELD,
    PAUSES,
    AlertOutcome,
    AnomalyAssessment,
    AnomalyBreach,
    Assessment,
    BudgetBreach,
    BudgetGuard,
    Confirmation,
    Enforcement,
    Figure,
    Recovery,
    UnrecordedPause,
    Verdict,
    Verification,
)
from warden.domain.costs import SECTION
from warden.domain.notification import Notification, Severity, render
from warden.domain.target import TargetFacts
from warden.domain.wiring import Check
from warden.messages.service import pause_effect, paused_cost_lines
from warden.models.budget import AlertType, BudgetAlert
from warden.models.money import Money
from warden.models.sns import SnsMessage

BUDGETS_CONSOLE: Final = "https://console.aws.amazon.com/costmanagement/home#/budgets"
# Where an unparseable message came in, in usecases/forward.py's sentence "... could not understand on <topic>".
TOPIC: Final = "the budget topic"
# The events of budget_wiring's warning: enforcement is off, or nobody hears Warden at all.
EVENT_OFF: Final = "budget.enforcement_off"
EVENT_UNHEARD: Final = "notify.unheard"
# What the subject of a notification sent without the state table starts with.
NOT_RECORDED: Final = "[warden] NOT RECORDED "
# The checks whose problem means that no breach is ever paused (the others mean that nobody is told).
BUDGET_CHECKS: Final = frozenset({"budget", "budget alert"})

# A pause's event, after "budget." or "anomaly.", and the word its subject starts with.
_ENFORCED: Final = {
    AlertOutcome.WOULD_PAUSE: ("dry_run", "DRY RUN would pause"),
    AlertOutcome.PAUSED: ("paused", "PAUSED"),
    AlertOutcome.UNAVAILABLE: ("unenforceable", "CANNOT PAUSE"),
    AlertOutcome.OVERRIDDEN: ("overridden", "NOT PAUSED"),
    AlertOutcome.ALREADY_PAUSED: ("already_paused", "BREACH, already paused"),
}
# How a decision names each figure of the Budgets API: in a reason, and in a subject.
_FIGURE: Final = {Figure.ACTUAL: "actual spend", Figure.FORECAST: "forecast"}
_SUBJECT_FIGURE: Final = {Figure.ACTUAL: "spend", Figure.FORECAST: "forecast"}


# --- the reasons: the action log, the claims' evidence, the results ----------------------------------------------


def assessment_reason(assessment: Assessment) -> str:
    """Why a budget alert only warns, or why it is verified with the Budgets API."""
    alert, policy = assessment.alert, assessment.policy
    threshold = policy.threshold_percent
    spent = f"{alert.alert_type.value.lower()} spend {alert.amount} is {alert.amount_percent}% of {alert.budgeted}"
    match assessment.verdict:
        case Verdict.OTHER_BUDGET:
            return f"Warden enforces the budget '{policy.budget_name}', not '{alert.budget_name}': notify only"
        case Verdict.WARN:
            return f"{spent}, below the enforce threshold of {threshold}%"
        case Verdict.FORECAST:
            return f"{spent}; forecasts never pause unless ENFORCE_ON_FORECAST is true"
        case Verdict.VERIFY:
            return f"{spent}, at or above the enforce threshold of {threshold}%: verifying with the Budgets API"
        case unreachable:
            assert_never(unreachable)


def anomaly_reason(assessment: AnomalyAssessment) -> str:
    """Why a cost anomaly only warns, or why it pauses."""
    impact, pause_at = f"${assessment.impact:,.2f}", assessment.pause_at
    if pause_at is None:
        return f"cost anomaly with {impact} impact; anomalies never pause unless ANOMALY_PAUSE_IMPACT_USD is set"
    if assessment.verdict is Verdict.VERIFY:
        return f"cost anomaly with {impact} impact, at or above ANOMALY_PAUSE_IMPACT_USD ${pause_at:,.2f}"
    return f"cost anomaly with {impact} impact, below ANOMALY_PAUSE_IMPACT_USD ${pause_at:,.2f}"


def confirmation_reason(confirmation: Confirmation) -> str:
    """What the Budgets API said about a breach the alert reported (the action log's reason when nothing is done)."""
    c = confirmation
    label = _FIGURE[c.figure]
    if c.measured is None or c.measured_percent is None:
        return f"the Budgets API reports no {label} for '{c.budget_name}' yet"
    figures = f"{label} {c.measured} of {c.limit} ({c.measured_percent}%)"
    enforce = f"the enforce point {c.enforce_point} ({c.threshold_percent}%)"
    if c.confirmed:
        return f"the Budgets API confirms {figures}, at or above {enforce}"
    return f"the alert said {c.alert_amount}, but the Budgets API now reports {figures}, below {enforce}"


def unrecorded_pause_reason(decision: UnrecordedPause) -> str:
    """Whether a paused service with no claim is a budget pause the state table did not record, and why."""
    d = decision
    start = f"{d.period_start:%Y-%m-%d}"
    if d.cleared_this_period:
        return f"a budget claim was cleared since this period started on {start}; that decision stands"
    figures = f"{d.measured} of {d.limit} ({d.measured_percent}%)"
    if d.confirmed:
        return (
            f"the service is paused with no claim, and the Budgets API shows {_FIGURE[d.figure]} {figures}, at or "
            f"above {d.threshold_percent}% in the period that started on {start}: a budget pause the state table "
            "did not record"
        )
    return (
        f"the Budgets API shows actual spend {figures}, under {d.threshold_percent}%: no budget breach holds the "
        "service"
    )


def breach_evidence(verification: Verification) -> str:
    """The budget claim's evidence (`warden status` shows it): the alert and what the Budgets API confirmed."""
    alert = verification.alert
    return (
        f"{alert.alert_type.value} alert {alert.amount} of {alert.budgeted}; "
        f"{confirmation_reason(verification.confirmation)}"
    )


def anomaly_evidence(breach: AnomalyBreach) -> str:
    """The budget claim's evidence when a cost anomaly placed it."""
    return f"cost anomaly {breach.anomaly.anomaly_id}: {anomaly_reason(breach.assessment)}"


def unverifiable_reason(missing: str) -> str:
    return f"cannot verify the spend: {missing}; the service was not paused"


def service_missing_reason(missing: str) -> str:
    return f"the guarded service does not exist: {missing}"


def duplicate_reason(message_id: str, handled_at: str) -> str:
    """Why a repeat of an SNS message was ignored (`handled_at` as usecases/once.py writes it)."""
    return f"ignored, because SNS message {message_id} was already handled at {handled_at}"


def sns_source(message_id: str) -> str:
    """How a forwarded message says where it came from ("source: ...")."""
    return f"SNS message {message_id}"


def forwarded_reason(why: str) -> str:
    return f"forwarded verbatim, because {why}"


def enforcement_reason(enforcement: Enforcement) -> str:
    """The result's reason of an alert that placed the budget claim."""
    return enforcement.claim_line if enforcement.undone_since else enforcement.summary


# --- a budget alert: warned, verified, not confirmed ------------------------------------------------------------


def notify_only(guard: BudgetGuard, assessment: Assessment) -> Notification:
    """An alert that cannot pause: below the threshold, a forecast Warden does not enforce, another budget."""
    alert, name = assessment.alert, guard.service_name
    match assessment.verdict:
        case Verdict.FORECAST:
            event = "budget.forecast"
            subject = f"[warden] FORECAST {name}: {alert.amount} of {alert.budgeted} expected this period"
            headline = f"AWS Budgets forecasts {alert.amount_percent}% of the budget for {name} this period."
        case Verdict.OTHER_BUDGET:
            event = "budget.other"
            subject = f"[warden] BUDGET ALERT '{alert.budget_name}': {alert.amount} of {alert.budgeted}"
            headline = f"AWS Budgets alert for '{alert.budget_name}' (not the budget Warden enforces)."
        case Verdict.WARN:
            event = "budget.warning"
            subject = f"[warden] WARNING {name}: budget at {alert.amount_percent}% ({alert.amount} of {alert.budgeted})"
            headline = f"{name} has used {alert.amount_percent}% of its budget."
        case Verdict.VERIFY:
            raise ValueError("an alert that is verified with the Budgets API is told by what that found")
        case unreachable:
            assert_never(unreachable)
    policy = guard.policy
    body = render(
        [
            ("What happened", [alert_line(alert)]),
            ("What Warden did", [f"Nothing yet: {assessment_reason(assessment)}."]),
            (
                "What happens next",
                [
                    f"At {policy.threshold_percent}% of '{policy.budget_name}' (actual spend, verified with the "
                    f"Budgets API), Warden pauses {name}.",
                    "DRY_RUN is on: Warden will only report what it would do." if guard.dry_run else "",
                ],
            ),
            ("Links", [f"Budgets: {BUDGETS_CONSOLE}", f"Service: {guard.target.console_url}"]),
        ],
        headline=headline,
    )
    return Notification(subject=subject, body=body, event=event, severity=Severity.WARNING)


def unverifiable(guard: BudgetGuard, alert: BudgetAlert, missing: str) -> Notification:
    """The budget Warden enforces is not there to verify the breach with: nothing was paused."""
    name = guard.service_name
    return Notification(
        subject=f"[warden] NOT PAUSED {name}: budget '{guard.policy.budget_name}' not found",
        body=render(
            [
                ("What happened", [alert_line(alert)]),
                (
                    "Why nothing was done",
                    [unverifiable_reason(missing), "Check BUDGET_NAME (stack parameter BudgetName)."],
                ),
                ("Links", [BUDGETS_CONSOLE]),
            ],
            headline=f"Warden could not verify a budget breach for {name}.",
        ),
        event="budget.unverifiable",
        severity=Severity.CRITICAL,
    )


def not_confirmed(guard: BudgetGuard, verification: Verification) -> Notification:
    """The Budgets API does not confirm the breach the alert reported: nothing was paused."""
    name = guard.service_name
    return Notification(
        subject=f"[warden] NOT PAUSED {name}: Budgets API shows {_measured(verification)}",
        body=render(
            [
                ("What happened", [alert_line(verification.alert)]),
                ("Evidence", [snapshot_line(verification)]),
                ("What Warden did", ["Nothing: " + confirmation_reason(verification.confirmation) + "."]),
                ("Links", [BUDGETS_CONSOLE]),
            ],
            headline=f"Warden did not pause {name}: the breach was not confirmed.",
        ),
        event="budget.not_confirmed",
        severity=Severity.WARNING,
    )


# --- a cost anomaly -----------------------------------------------------------------------------------------------


def anomaly_noticed(guard: BudgetGuard, breach: AnomalyBreach) -> Notification:
    """A cost anomaly that does not pause: what it is, its root causes, why nothing was done."""
    impact = f"${breach.anomaly.impact.total_impact:,.2f}"
    body = render(
        [
            ("What happened", _anomaly_lines(breach)),
            ("Root causes", _root_causes(breach)),
            ("What Warden did", [f"Nothing: {anomaly_reason(breach.assessment)}."]),
            ("Links", [breach.anomaly.details_link or "", f"Service: {guard.target.console_url}"]),
        ],
        headline=f"Cost anomaly: {impact} of unexpected spend.",
    )
    return Notification(
        subject=f"[warden] COST ANOMALY {impact} impact: {breach.anomaly.dimension_value or 'unexpected spend'}",
        body=body,
        event="anomaly.detected",
        severity=Severity.WARNING,
    )


# --- a pause: done, would be done, already in effect, impossible, overridden --------------------------------------


def enforced(guard: BudgetGuard, trigger: BudgetBreach | AnomalyBreach, enforcement: Enforcement) -> Notification:
    """What a confirmed breach (or an anomaly over ANOMALY_PAUSE_IMPACT_USD) led to, and how to undo it."""
    name, e = guard.service_name, enforcement
    prefix = "anomaly" if isinstance(trigger, AnomalyBreach) else "budget"
    what, evidence = _trigger_lines(trigger)
    links = [f"Service: {guard.target.console_url}", f"Budgets: {BUDGETS_CONSOLE}"]
    if e.undone_since:
        return Notification(
            subject=f"[warden] NOT PAUSED AGAIN {name}: {_trigger_figure(trigger)}",
            body=render(
                [
                    ("What happened", what),
                    ("Evidence", evidence),
                    ("What Warden did", [e.claim_line, e.summary]),
                    ("Links", links),
                ],
                headline=f"{name} is over budget, but its pause was undone since; Warden does not pause it again.",
            ),
            event=f"{prefix}.overridden",
            severity=Severity.WARNING,
        )
    suffix, tag = _ENFORCED[e.outcome]
    claim_line = e.claim_line
    if e.credited:
        claim_line += " The service was paused by an earlier attempt at handling this same alert."
    did = [claim_line, "" if e.credited else e.summary]
    if e.operation_id:
        did.append(
            f"{guard.target.platform} operation {e.operation_id}: compute goes to zero; config, domain and image stay."
        )
    body = render(
        [
            ("What happened", what),
            ("Evidence", evidence),
            ("What Warden did", did),
            ("What happens next", [_resumes_when(guard), guard.target.while_paused]),
            # A pause stops compute, not the whole bill (an ECS load balancer bills on): every pause says so.
            (SECTION, paused_cost_lines(e.before) if e.outcome in PAUSES else []),
            ("How to undo", list(e.undo)),
            ("Links", links),
        ],
        headline=_enforced_headline(name, e),
    )
    return Notification(
        subject=f"[warden] {tag} {name}: {_trigger_figure(trigger)}",
        body=body,
        event=f"{prefix}.{suffix}",
        severity=Severity.CRITICAL,
    )


def _enforced_headline(name: str, e: Enforcement) -> str:
    match e.outcome:
        case AlertOutcome.WOULD_PAUSE:
            return f"[dry run] Warden would have paused {name}; DRY_RUN is on, so nothing was changed."
        case AlertOutcome.PAUSED:
            return f"Warden paused {name}. {pause_effect(e.before)}"
        case AlertOutcome.UNAVAILABLE:
            return f"Warden could not pause {name}: {e.refusal}."
        case AlertOutcome.OVERRIDDEN:
            return f"{name} is over budget, but its pause claim was cleared meanwhile; Warden leaves it running."
        case AlertOutcome.ALREADY_PAUSED:
            return f"{name} is over budget and already paused; Warden keeps it paused."
        case _:
            raise ValueError(f"a pause does not end as {e.outcome.value}")


def service_missing(guard: BudgetGuard, message: SnsMessage, missing: str) -> Notification:
    """The guarded service does not exist: retrying cannot help, so the operator is told once."""
    body = render(
        [
            (
                "What happened",
                [f"A budget alert asked Warden to pause the service, but {guard.target.platform} does not know it."],
            ),
            (
                "Why nothing was done",
                [service_missing_reason(missing), "Check SERVICE_ARN (stack parameter ServiceArn)."],
            ),
            ("The alert", [message.message[:2000]]),
        ],
        headline=f"Warden could not act on {guard.service_arn}.",
    )
    return Notification(
        subject=f"[warden] CANNOT PAUSE {guard.service_name}: service not found",
        body=body,
        event="budget.unenforceable",
        severity=Severity.CRITICAL,
    )


# --- without the state table ------------------------------------------------------------------------------------


def unrecorded(notification: Notification, cause: str, outcome: AlertOutcome, target: TargetFacts) -> Notification:
    """`notification`, saying first that the state table is unavailable and what that leaves unrecorded."""
    if outcome in HELD:
        done = (
            "The pause is in effect, but it is not recorded: there is no pause claim yet, no action-log entry and "
            "no record of this alert."
        )
    elif outcome is AlertOutcome.WOULD_PAUSE:
        done = "DRY_RUN is on: nothing was changed, and nothing could have been recorded."
    else:
        done = "Nothing was recorded: the action log and the record of this alert are in the table."
    anomaly = notification.event.startswith("anomaly.")
    state = render(
        [
            (
                "State table unavailable",
                [
                    f"Cause: {cause}.",
                    "Without the table a repeat of this alert is not recognised: each delivery and each of Lambda's "
                    "retries pauses again (which changes nothing) and sends this message again.",
                ],
            ),
            (
                "What to do",
                _unrecorded_help(anomaly=anomaly, note=target.unrecorded_pause_note) if outcome in HELD else [],
            ),
        ],
        headline=done,
    )
    return Notification(
        subject=NOT_RECORDED + notification.subject.removeprefix("[warden] "),
        body=state + "\n" + notification.body,
        event=notification.event,
        severity=Severity.CRITICAL,
    )


def cannot_pause_without_table(guard: BudgetGuard, message: SnsMessage, cause: str, again: str) -> Notification:
    """The alert could not be handled at all: pausing the service needed the unavailable table too."""
    name = guard.service_name
    excerpt = f"SNS message {message.message_id}: " + " ".join(message.message.split())[:300]
    return Notification(
        subject=f"[warden] CANNOT PAUSE {name}: the state table is unavailable",
        body=render(
            [
                ("What happened", [excerpt]),
                ("Why nothing was done", [cause, f"Pausing needed the table too: {again}."]),
                ("What to do", [_BRING_THE_TABLE_BACK, f"Then check the service by hand: {guard.target.console_url}"]),
            ],
            headline=f"Warden could not handle a budget alert for {name}: its state table is unavailable.",
        ),
        event="budget.unenforceable",
        severity=Severity.CRITICAL,
    )


def claim_recovered(guard: BudgetGuard, recovery: Recovery) -> Notification:
    """The reconcile recorded the budget claim of a pause the state table could not record."""
    name, budget = guard.service_name, recovery.budget
    line = (
        "[dry run] Would have recorded the 'budget' pause claim; the service stays paused."
        if guard.dry_run
        else "Recorded the 'budget' pause claim; the service stays paused."
    )
    return Notification(
        subject=f"[warden] BUDGET CLAIM RECORDED {name}: paused, spend {budget.actual} of {budget.limit}",
        body=render(
            [
                (
                    "What happened",
                    [f"{name} is PAUSED and no pause claim held it.", unrecorded_pause_reason(recovery.decision) + "."],
                ),
                ("What Warden did", [line]),
                ("What happens next", [_resumes_when(guard)]),
                (SECTION, paused_cost_lines(recovery.service)),
                ("How to undo", list(recovery.undo)),
            ],
            headline=f"Warden recorded the budget pause of {name} that the state table could not record.",
        ),
        event="budget.claim_recovered",
        severity=Severity.WARNING,
    )


_BRING_THE_TABLE_BACK: Final = (
    "Bring the table back: a deleted table is recreated by deploying the stack again (sam deploy); a throttled one "
    "needs its capacity or the account's limits checked (DynamoDB console, the table's metrics)."
)


def _unrecorded_help(*, anomaly: bool, note: str) -> list[str]:
    recorded = (
        'Then keep it paused with `warden pause --reason "cost anomaly"`: a pause for a cost anomaly cannot be '
        "re-derived from the Budgets API, and the reconcile resumes a paused service that no claim holds."
        if anomaly
        else "Nothing else: once the table is back, the reconcile finds the service paused with no claim and records "
        "the budget claim while the Budgets API still shows the breach; the budget-period check resumes it later."
    )
    return [
        _BRING_THE_TABLE_BACK,
        recorded,
        "Until then `warden resume` and `warden status` fail. To resume by hand, use the platform's own command "
        "under 'How to undo' once Lambda's retries of this alert are over; the reconcile leaves a running service "
        "running.",
        *([note] if note else []),
    ]


# --- is enforcement wired at all (usecases/budget_wiring.py) -----------------------------------------------------


def budget_found(budget_name: str, actual: Money, limit: Money, threshold_percent: Decimal) -> str:
    """The budget check's detail when the budget exists (`warden doctor` prints it)."""
    return f"'{budget_name}': {actual} of {limit} spent; Warden pauses at {threshold_percent} %"


def unreadable_what(check_name: str, budget_name: str, topic_arn: str) -> str:
    """What a check could not read, after "cannot read "."""
    match check_name:
        case "budget":
            return f"the budget '{budget_name}'"
        case "budget alert":
            return f"the alerts of '{budget_name}'"
        case _:
            return f"the subscriptions of {topic_arn}"


def refused_detail(what: str, error: Exception) -> str:
    """A check's detail when reading failed in a way Warden did not expect (it cannot vouch for enforcement)."""
    return f"cannot read {what}: {type(error).__name__}: {error}"


def problems_summary(checks: Sequence[Check]) -> str:
    """The checks in one line: "budget alert: ...; notify topic: ..." (the result's reason, the daily memo)."""
    return "; ".join(f"{check.name}: {check.detail}" for check in checks)


WIRED: Final = "budget enforcement is wired"


def already_reported(at: str, summary: str) -> str:
    return f"already reported today at {at} UTC: {summary}"


def unpublished(error: Exception) -> str:
    """Why a person may not have heard: the warning could not be published."""
    return f"the notification could not be published ({type(error).__name__}: {error})"


def unheard(notification: Notification, why: Sequence[str]) -> str:
    """Why run_schedule fails on purpose: the warning may have reached nobody (its errors alarm tells instead)."""
    return f"{notification.subject}: nobody may have been told, because {'; '.join(why)}"


def enforcement_off(service_name: str, problems: Sequence[Check], table_problem: str | None) -> Notification:
    """Budget enforcement is broken (or nobody hears Warden): what is wrong, the exact fix, why it matters."""
    budget = [check for check in problems if check.name in BUDGET_CHECKS]
    if budget:
        event = EVENT_OFF
        headline = f"Budget enforcement is OFF: {budget[0].detail}."
        subject = f"[warden] budget enforcement is OFF for {service_name}: {budget[0].name}"
    else:
        event = EVENT_UNHEARD
        headline = f"Warden's notifications about {service_name} reach nobody: {problems[0].detail}."
        subject = f"[warden] NOBODY HEARS Warden for {service_name}: {problems[0].name}"
    sections: list[tuple[str, list[str]]] = [
        ("What is wrong", [f"{check.name}: {check.detail}" for check in problems]),
        ("How to fix it", [line for check in problems for line in check.fix]),
        (
            "Why it matters",
            [
                f"Warden pauses {service_name} only when AWS Budgets sends an alert to Warden's budget topic and the "
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
        subject=subject, body=render(sections, headline=headline), event=event, severity=Severity.CRITICAL
    )


# --- the lines the notifications share ------------------------------------------------------------------------------


def alert_line(alert: BudgetAlert) -> str:
    """The alert in one sentence: what AWS Budgets reported."""
    kind = "forecast" if alert.alert_type is AlertType.FORECASTED else "actual"
    sent = f", sent {alert.notified_on:%B %d, %Y}" if alert.notified_on else ""
    return (
        f"AWS Budgets: {kind} spend {alert.amount} of the {alert.budgeted} budget '{alert.budget_name}' "
        f"({alert.amount_percent}%; alert threshold {alert.comparison} {alert.threshold}{sent})."
    )


def snapshot_line(verification: Verification) -> str:
    """The budget as the Budgets API reports it now, with the period it covers."""
    snapshot = verification.snapshot
    start, end = verification.period
    parts = [f"Budgets API now: actual {snapshot.actual} of {snapshot.limit} ({snapshot.actual_percent}%)"]
    if snapshot.forecast is not None:
        parts.append(f"forecast {snapshot.forecast}")
    parts.append(f"{snapshot.time_unit.lower()} period {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    return ", ".join(parts) + "."


def _measured(verification: Verification) -> str:
    """The figure the alert is judged by, as a subject names it: "spend $10.42 of $10.00"."""
    c = verification.confirmation
    figure = c.measured if c.measured is not None else "not reported"
    return f"{_SUBJECT_FIGURE[c.figure]} {figure} of {c.limit}"


def _trigger_figure(trigger: BudgetBreach | AnomalyBreach) -> str:
    if isinstance(trigger, AnomalyBreach):
        return f"cost anomaly ${trigger.anomaly.impact.total_impact:,.2f}"
    return _measured(trigger.verification)


def _trigger_lines(trigger: BudgetBreach | AnomalyBreach) -> tuple[list[str], list[str]]:
    """A pause's "What happened" and "Evidence"."""
    if isinstance(trigger, AnomalyBreach):
        causes = "Root causes: " + "; ".join(_root_causes(trigger))
        return _anomaly_lines(trigger), [causes, anomaly_reason(trigger.assessment)]
    return [alert_line(trigger.verification.alert)], [
        snapshot_line(trigger.verification),
        f"Budget alert: SNS message {trigger.message_id} at {trigger.received_at:%Y-%m-%d %H:%M} UTC",
    ]


def _anomaly_lines(breach: AnomalyBreach) -> list[str]:
    anomaly = breach.anomaly
    impact = anomaly.impact
    return [
        f"Cost Anomaly Detection found unexpected spend on {anomaly.dimension_value or 'an AWS service'}"
        f" (monitor '{anomaly.monitor_name or 'unknown'}').",
        f"Impact ${impact.total_impact:,.2f}"
        + (f" ({impact.total_impact_percentage}% above expected)" if impact.total_impact_percentage is not None else "")
        + (
            f": actual ${impact.total_actual_spend:,.2f} vs expected ${impact.total_expected_spend:,.2f}"
            if impact.total_actual_spend is not None and impact.total_expected_spend is not None
            else ""
        ),
        f"Since {anomaly.anomaly_start:%Y-%m-%d}" if anomaly.anomaly_start else "",
    ]


def _root_causes(breach: AnomalyBreach) -> list[str]:
    return [
        " / ".join(
            part
            for part in (
                cause.service,
                cause.region,
                cause.usage_type,
                cause.linked_account_name or cause.linked_account,
            )
            if part
        )
        for cause in breach.anomaly.root_causes
    ] or ["none reported"]


def _resumes_when(guard: BudgetGuard) -> str:
    return (
        "Warden resumes the service when the next budget period starts and the Budgets API shows spend under "
        f"{guard.policy.threshold_percent}% of the budget, unless another pause claim holds it."
    )
