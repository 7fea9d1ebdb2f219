"""on_alarm in words: every notification an alarm state change brings, and the reasons its results and the action
log give, written from the facts (warden/domain/alarms.py).

The facts are `Fired` (an ALARM and what Warden did: notified, paused, rolled back, held by the cool-down, refused
for another resource's alarm), `Expected`, `Recovered`, `NoData` and `Suppressed`, each carrying the `AlarmFacts`
of the state change. What differs by platform (its name, what runs, its console, its runbook lines, what a pause
means there) comes from the guarded service's `TargetFacts`, never from a branch on the platform here. The approved
text of each notification is under tests/golden/texts/alarm.*.txt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, assert_never

from pydantic import BaseModel, ConfigDict

from warden.domain.alarms import (
    ALB,
    CONTAINER_INSIGHTS,
    SELF_WATCHING,
    SERVICE_METRICS,
    ActionPermission,
    AlarmFacts,
    AlarmOutcome,
    AlarmTold,
    ClaimFate,
    CooledDown,
    Expected,
    Fired,
    MetricKind,
    NoData,
    Notified,
    Observation,
    PauseFailed,
    PauseTaken,
    Recovered,
    RollbackTaken,
    ServiceNow,
    Suppressed,
    Unit,
    Verdict,
    alarm_console_url,
    anomaly_band_limits,
    classify,
    format_duration,
    is_below_alarm,
    metric_statistic,
    metric_unit,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.target import TargetFacts
from warden.messages.service import paused_cost_note
from warden.models.alarm import AlarmMetric, AlarmState, AlarmStateChange

COST_EXPLORER: Final = "https://console.aws.amazon.com/cost-management/home#/cost-explorer"

# Where an unparseable message arrived, and how, for warden/usecases/forward.py.
TOPIC: Final = "the alarm topic"
INVOCATION: Final = "Lambda invocation"

# The subject's tag and the notification's event, per outcome of an ALARM.
_TAGS: Final = {
    AlarmOutcome.NOTIFIED: ("ALARM", "alarm.fired"),
    AlarmOutcome.PAUSED: ("PAUSED", "alarm.paused"),
    AlarmOutcome.WOULD_PAUSE: ("DRY RUN would pause", "alarm.dry_run"),
    AlarmOutcome.ALREADY_PAUSED: ("ALARM, already paused", "alarm.already_paused"),
    AlarmOutcome.ROLLBACK: ("ROLLING BACK", "alarm.rollback"),
    AlarmOutcome.WOULD_ROLLBACK: ("DRY RUN would roll back", "alarm.dry_run"),
    AlarmOutcome.ROLLBACK_NOT_CONFIGURED: ("ALARM", "alarm.rollback_unconfigured"),
    AlarmOutcome.ROLLBACK_DECLINED: ("ALARM, not rolled back", "alarm.rollback_declined"),
    AlarmOutcome.ROLLBACK_FAILED: ("ROLLBACK FAILED", "alarm.rollback_failed"),
    AlarmOutcome.COOLDOWN: ("ALARM", "alarm.cooldown"),
    AlarmOutcome.OTHER_SERVICE: ("ALARM", "alarm.other_service"),
    AlarmOutcome.UNAVAILABLE: ("ALARM", "alarm.unenforceable"),
}
# Outcomes where Warden acted (or meant to) on the guarded service: told under its name, whoever's the alarm is.
_ACTED: Final = frozenset(_TAGS) - {AlarmOutcome.NOTIFIED, AlarmOutcome.OTHER_SERVICE}
# Advice that does not depend on the guarded platform (the others speak of its console, its scaling).
_GENERAL_ADVICE: Final = frozenset(
    {
        MetricKind.COMPOSITE,
        MetricKind.BILLING,
        MetricKind.OTHER,
        MetricKind.LAMBDA_ERRORS,
        MetricKind.QUEUE_DEPTH,
        *SELF_WATCHING,
    }
)


# --- the notifications ----------------------------------------------------------------------------------------


def notification(told: AlarmTold, target: TargetFacts) -> Notification:
    """The notification of any state change Warden tells; `target` is the guarded service's platform."""
    match told:
        case Fired():
            return fired(told, target)
        case Expected():
            return expected(told, target)
        case Recovered():
            return recovered(told, target)
        case NoData():
            return no_data(told, target)
        case Suppressed():
            return suppressed(told, target)
        case unreachable:
            assert_never(unreachable)


def fired(facts: Fired, target: TargetFacts) -> Notification:
    """An ALARM: what is wrong in plain words, the evidence, what Warden did, what to check, how to undo."""
    alarm, change = facts.alarm, facts.alarm.change
    found = finding(alarm)
    # What Warden did to the guarded service is told under its name; an alarm it did nothing for, under the name
    # of what that alarm is about.
    name = alarm.service_name if facts.outcome in _ACTED else _about(alarm)
    tag, event = _TAGS[facts.outcome]
    body = render(
        [
            (
                "What happened",
                [
                    _happened(change),
                    found.sentence,
                    _whose(alarm),
                    f"Alarm description: {change.description}" if change.description else "",
                ],
            ),
            (
                "Evidence",
                [
                    f"Observed: {found.observed}",
                    f"Threshold: {found.threshold}",
                    f"Metric: {found.metric}",
                    _cloudwatch_reason(change),
                    status_line(facts.status, target) if facts.status is not None else "",
                ],
            ),
            ("What Warden did", did_lines(facts, target)),
            ("What happens next", _next_steps(facts)),
            ("What to check", advice(alarm, target)),
            ("How to undo", list(facts.did.undo) if isinstance(facts.did, PauseTaken) else []),
            ("Links", _links(alarm, target)),
        ],
        headline=f"{name}: {_lower_the(found.sentence)}",
    )
    severity = Severity.WARNING if alarm.kind is MetricKind.BILLING else Severity.CRITICAL
    return Notification(subject=f"[warden] {tag} {name}: {found.subject}", body=body, event=event, severity=severity)


def expected(facts: Expected, target: TargetFacts) -> Notification:
    """A "no instances" alarm while pause claims hold the service: expected, nothing done."""
    alarm, name = facts.alarm, facts.alarm.service_name
    found = finding(alarm)
    # "no active instances" (App Runner), "no running tasks" (ECS), "no healthy targets" (its load balancer)
    none_left = found.subject
    body = render(
        [
            ("What happened", [_happened(alarm.change), found.sentence]),
            (
                "Why this is expected",
                [f"Expected: the service is {facts.paused_by}.", status_line(facts.status, target)],
            ),
            (
                "What Warden did",
                [f"Nothing: a paused service has no {target.runs_on}; the alarm's action does not run."],
            ),
            ("Links", _links(alarm, target)),
        ],
        headline=f"{name} has {none_left}, as expected while it is paused.",
    )
    return Notification(
        subject=f"[warden] EXPECTED {name}: {none_left} while paused",
        body=body,
        event="alarm.expected",
        severity=Severity.INFO,
    )


def recovered(facts: Recovered, target: TargetFacts) -> Notification:
    """Back to OK: "recovered" with how long the incident lasted for the guarded service's alarm, "back to OK"
    for another's, a plain "is OK" when there was no incident; and what became of the alarm's pause claim."""
    alarm, change = facts.alarm, facts.alarm.change
    name, did = _about(alarm), ok_lines(facts)
    found = finding(alarm)
    if not facts.after_incident:
        body = render(
            [
                ("What happened", [_happened(change), found.sentence, _whose(alarm)]),
                ("What Warden did", did),
                ("Links", _links(alarm, target)),
            ],
            headline=f"{name}: alarm '{change.name}' is OK.",
        )
        return Notification(
            subject=f"[warden] OK {name}: {change.name}", body=body, event="alarm.ok", severity=Severity.INFO
        )
    _, lasted, subject_tail = _incident(facts)
    # Not "RECOVERED <service>" for another resource's alarm: the guarded service is not what recovered.
    if facts.outcome is AlarmOutcome.RECOVERED:
        tag, event, whose = "RECOVERED", "alarm.recovered", []
        headline = f"{name} recovered: alarm '{change.name}' is back to OK."
    else:
        tag, event, whose = "OK", "alarm.ok", [_whose(alarm)]
        headline = f"{name}: alarm '{change.name}' is back to OK."
    body = render(
        [
            ("What happened", [_happened(change), found.sentence, *whose, lasted]),
            ("What Warden did", did),
            ("Links", _links(alarm, target)),
        ],
        headline=headline,
    )
    return Notification(
        subject=f"[warden] {tag} {name}: {change.name} OK {subject_tail}",
        body=body,
        event=event,
        severity=Severity.INFO,
    )


def no_data(facts: NoData, target: TargetFacts) -> Notification:
    """INSUFFICIENT_DATA: information, never an action."""
    alarm, change = facts.alarm, facts.alarm.change
    name = _about(alarm)
    body = render(
        [
            ("What happened", [_happened(change), finding(alarm).sentence, _whose(alarm)]),
            ("Evidence", [_cloudwatch_reason(change)]),
            ("What Warden did", no_data_lines(facts)),
            ("Links", _links(alarm, target)),
        ],
        headline=f"{name}: alarm '{change.name}' has insufficient data.",
    )
    return Notification(
        subject=f"[warden] NO DATA {name}: {change.name}",
        body=body,
        event="alarm.insufficient_data",
        severity=Severity.INFO,
    )


def suppressed(facts: Suppressed, target: TargetFacts) -> Notification:
    """A state change whose actions CloudWatch suppressed: told, never acted on."""
    alarm, change = facts.alarm, facts.alarm.change
    name, state = _about(alarm), change.new_state.value
    body = render(
        [
            ("What happened", [_happened(change), finding(alarm).sentence, _whose(alarm)]),
            ("Evidence", [_cloudwatch_reason(change)]),
            ("What Warden did", suppressed_lines(facts)),
            ("How to resume by hand", list(facts.undo)),
            ("Links", _links(alarm, target)),
        ],
        headline=f"{name}: alarm '{change.name}' is {state}, its actions suppressed by CloudWatch.",
    )
    return Notification(
        subject=f"[warden] SUPPRESSED {name}: {change.name} {state}",
        body=body,
        event="alarm.suppressed",
        severity=Severity.INFO,
    )


# --- what Warden did, in lines ----------------------------------------------------------------------------------


def did_lines(facts: Fired, target: TargetFacts) -> list[str]:
    """The "What Warden did" of an ALARM; the result's reason is the same lines in one."""
    did = facts.did
    match did:
        case Notified():
            return [_notified_line(facts.outcome, did.permission)]
        case PauseTaken():
            # A platform without a pause of its own (ECS): what Warden's pause did to it instead.
            means = {AlarmOutcome.PAUSED: target.pause_means, AlarmOutcome.WOULD_PAUSE: target.would_pause_means}
            return [
                f"The action for this alarm is pause: {did.reason}.",
                *did.claim_lines,
                *[line for line in [means.get(facts.outcome, "")] if line],
            ]
        case PauseFailed():
            return [f"Could not pause: {did.missing}."]
        case CooledDown():
            return [
                f"Did not {did.action}: {did.decision.reason}. The action runs again if the alarm fires after that."
            ]
        case RollbackTaken():
            return [f"The action for this alarm is rollback: {did.reason}.", *_rollback_lines(facts, did)]
        case unreachable:
            assert_never(unreachable)


def _notified_line(outcome: AlarmOutcome, permission: ActionPermission | None) -> str:
    if permission is None:
        return "Nothing beyond this message: an alarm on Warden itself only notifies, whatever ALARM_ACTIONS says."
    if outcome is AlarmOutcome.OTHER_SERVICE:
        return f"Nothing: {permission.reason}."
    return f"Nothing beyond this message: {permission.reason}."


def _rollback_lines(facts: Fired, did: RollbackTaken) -> list[str]:
    match facts.outcome:
        case AlarmOutcome.ROLLBACK:
            return [did.detail or ""]
        case AlarmOutcome.WOULD_ROLLBACK:
            name = facts.alarm.service_name
            return [f"[dry run] Would have rolled {name} back to its previous release; nothing was changed."]
        case AlarmOutcome.ROLLBACK_FAILED:
            return [
                f"The rollback FAILED: {did.detail}.",
                "Roll back by hand: `warden rollback --plan`, then `warden rollback` (or name the VERSION).",
            ]
        case AlarmOutcome.ROLLBACK_DECLINED:
            return [f"Did not roll back: {did.detail}."]
        case AlarmOutcome.ROLLBACK_NOT_CONFIGURED:
            return [
                "Rollback is not configured in this stack (EcrRepository is empty, so there is no image to re-tag); "
                "run `warden rollback` by hand to go back to the previous release."
            ]
        case _:
            raise ValueError(f"{facts.outcome.value} is no rollback outcome")


def _next_steps(facts: Fired) -> list[str]:
    did = facts.did
    if not isinstance(did, PauseTaken):
        return []
    name = facts.alarm.change.name
    # A pause stops compute, not the whole bill (an ECS load balancer bills on): say what keeps costing.
    return [
        f"When '{name}' returns to OK, Warden clears the '{did.claim_key}' claim and resumes the service, "
        "unless another pause claim holds it.",
        *(paused_cost_note(did.before) if did.before is not None else []),
    ]


def ok_lines(facts: Recovered) -> list[str]:
    """What an OK did about its alarm's pause claim."""
    claim, key = facts.claim, facts.claim.claim_key
    match claim.fate:
        case ClaimFate.KEPT_OTHER_RESOURCE:
            return [
                f"Did not clear the '{key}' pause claim: {facts.alarm.concern.reason}, so its OK says nothing about "
                "the guarded service. Resume by hand if it should run."
            ]
        case ClaimFate.KEPT_OTHER_ALARM:
            return [
                f"Did not clear the '{key}' pause claim: it was placed by alarm {claim.placed_by}, and this OK is of "
                f"{facts.alarm.change.arn}, another alarm of the same name."
            ]
        case ClaimFate.CLEARED:
            return list(claim.lines)
        case ClaimFate.SERVICE_MISSING:
            return [f"Cleared nothing: {claim.missing}."]
        case ClaimFate.NONE_HELD:
            return ["Nothing to undo: this alarm held no pause claim."]
        case unreachable:
            assert_never(unreachable)


def no_data_lines(facts: NoData) -> list[str]:
    lines = ["Nothing: missing data is not a failure by itself, so no action runs."]
    if facts.claim_key is not None:
        lines.append(f"The '{facts.claim_key}' pause claim stays until the alarm returns to OK.")
    if facts.paused_by is not None:
        lines.append(f"The service is {facts.paused_by}: a paused service publishes no metrics, which explains this.")
    return lines


def suppressed_lines(facts: Suppressed) -> list[str]:
    change = facts.alarm.change
    by = change.actions_suppressed_by or "?"
    why = f" ({change.actions_suppressed_reason})" if change.actions_suppressed_reason else ""
    lines = [
        f"Nothing: CloudWatch suppressed this alarm's actions (actionsSuppressedBy {by}{why}), so Warden does not "
        "act on it either: no pause claim, no rollback, no resume."
    ]
    if facts.claim_key is not None:
        lines.append(
            f"The '{facts.claim_key}' pause claim this alarm placed earlier stays until an OK that is not suppressed."
        )
    return lines


def summary(told: AlarmTold, target: TargetFacts) -> str:
    """The result's reason: what Warden did about the state change, in one line."""
    match told:
        case Fired():
            return " ".join(did_lines(told, target))
        case Expected():
            return f"expected: the service is {told.paused_by}"
        case Recovered():
            did = " ".join(ok_lines(told))
            if not told.after_incident:
                return did
            verb = "recovered" if told.outcome is AlarmOutcome.RECOVERED else "back to OK"
            return f"{verb} ({_incident(told)[0]}); {did}"
        case NoData():
            return no_data_lines(told)[0]
        case Suppressed():
            return suppressed_lines(told)[0]
        case unreachable:
            assert_never(unreachable)


def status_line(status: ServiceNow, target: TargetFacts) -> str:
    """The service as its platform and the claims see it now, for the evidence."""
    platform = target.platform
    if status.status is None:
        return f"{platform} does not know the guarded service {status.arn} (check SERVICE_ARN)."
    held = ", ".join(status.claims) or "none"
    shown = status.status.value
    if status.status in target.status_meanings:
        shown += f" ({target.status_meanings[status.status]})"
    return f"{platform} status now: {shown}; pause claims: {held}."


# --- the action log, the claims, the rollback: reasons a person reads later ---------------------------------------


def claim_evidence(alarm: AlarmFacts) -> str:
    """Why the alarm's pause claim holds the service (`warden status` shows it)."""
    change = alarm.change
    return f"alarm '{change.name}' in ALARM since {change.changed_at:%Y-%m-%d %H:%M} UTC: {finding(alarm).sentence}"


def rollback_request(alarm: AlarmFacts) -> str:
    """The reason a rollback is asked for (the rollback's records and notification carry it)."""
    return f"alarm '{alarm.change.name}': {finding(alarm).sentence}"


NOT_CONFIGURED_RECORD: Final = "rollback is not configured in this stack"


def suppressed_record(facts: Suppressed) -> str:
    change = facts.alarm.change
    return f"alarm '{change.name}' {change.new_state.value}: {suppressed_lines(facts)[0]}"


def returned_to_ok(alarm_name: str) -> str:
    """Why the OK cleared its alarm's pause claim."""
    return f"alarm '{alarm_name}' returned to OK"


def withdrawn(alarm_name: str) -> str:
    """Why an ALARM cleared the claim it had just placed."""
    return f"a later state change of alarm '{alarm_name}' arrived while its ALARM was being handled"


# --- deliveries Warden ignored or forwarded ---------------------------------------------------------------------

NO_ROLLBACK_STARTED: Final = "no rollback was started"


def duplicate(change: AlarmStateChange, handled_at: str) -> str:
    return (
        f"ignored, because this state change ({change.new_state.value} at {change.changed_at:%Y-%m-%d %H:%M:%S} UTC) "
        f"was already handled at {handled_at}"
    )


def already_forwarded(message_id: str) -> str:
    return f"ignored, because {sns_source(message_id)} was already forwarded"


def forwarded(why: str) -> str:
    return f"forwarded verbatim, because {why}"


def sns_source(message_id: str) -> str:
    return f"SNS message {message_id}"


def stale(change: AlarmStateChange, newer_state: str | None, newer_at: datetime | None) -> str:
    """An older state change than one already handled (an ALARM delivered after its OK)."""
    when = f"{newer_at:%Y-%m-%d %H:%M:%S} UTC" if newer_at else "an unknown time"
    which = "another state change of the same moment" if newer_at == change.changed_at else "a newer state change"
    return (
        f"ignored, because {which} of '{change.name}' ({newer_state or '?'} at {when}) was already handled; "
        f"this {change.new_state.value} of {change.changed_at:%Y-%m-%d %H:%M:%S} UTC is out of date"
    )


def late(change: AlarmStateChange, what: str) -> str:
    """A later state change of the alarm was handled while this one was: `what` says what became of this one."""
    return (
        f"ignored, because a later state change of '{change.name}' was handled while this "
        f"{change.new_state.value} of {change.changed_at:%Y-%m-%d %H:%M:%S} UTC was being handled: {what}"
    )


# --- the parts every notification shares --------------------------------------------------------------------------


def _about(alarm: AlarmFacts) -> str:
    """Who the message is about: the guarded service's name, or the resource another alarm watches."""
    return alarm.service_name if alarm.told_as_the_services else alarm.concern.resource


def _whose(alarm: AlarmFacts) -> str:
    """The line that says whose alarm this is, when it is not provably the guarded service's."""
    if alarm.told_as_the_services:
        return ""
    if alarm.concern.verdict is Verdict.OTHER_RESOURCE:
        return f"Not the guarded service's alarm: {alarm.concern.reason}."
    return (
        f"Warden cannot tell whether this alarm is about the guarded service {alarm.service_name}: "
        f"{alarm.concern.reason}."
    )


def _happened(change: AlarmStateChange) -> str:
    before = change.old_state.value if change.old_state else "an unknown state"
    return (
        f"CloudWatch alarm '{change.name}' went from {before} to {change.new_state.value} "
        f"at {change.changed_at:%Y-%m-%d %H:%M} UTC."
    )


def _cloudwatch_reason(change: AlarmStateChange) -> str:
    return f"CloudWatch's reason: {change.reason}" if change.reason else ""


def _links(alarm: AlarmFacts, target: TargetFacts) -> list[str]:
    link = f"Alarm: {alarm_console_url(alarm.change.region, alarm.change.name)}"
    if not alarm.told_as_the_services and alarm.concern.verdict is Verdict.OTHER_RESOURCE:
        return [link]
    return [link, f"Service: {target.console_url}"]


def _incident(facts: Recovered) -> tuple[str, str, str]:
    """How long the incident lasted: (the duration, the sentence, the subject's tail)."""
    if facts.opened_at is None:
        return (
            "duration unknown",
            "Duration unknown: Warden has no record of when this alarm went to ALARM (it fired before Warden "
            "was watching, or that message did not reach Warden).",
            "(duration unknown)",
        )
    since = facts.opened_at
    duration = format_duration(facts.alarm.change.changed_at - since)
    return (
        duration,
        f"The incident lasted {duration} (ALARM since {since:%Y-%m-%d %H:%M} UTC).",
        f"after {duration}",
    )


def _lower_the(sentence: str) -> str:
    """ "The 5xx error rate is ..." reads "consultation-app: the 5xx error rate is ..." after the name."""
    return "the" + sentence[3:] if sentence.startswith("The ") else sentence


# --- what to check ------------------------------------------------------------------------------------------------


def advice(alarm: AlarmFacts, target: TargetFacts) -> list[str]:
    """What to check: the runbook for the guarded service's metrics; for an alarm that is not provably about it,
    only advice that holds whatever the resource (no "give the service more vCPU" for an EC2 instance)."""
    kind = alarm.kind
    if alarm.guarded or kind in _GENERAL_ADVICE:
        return runbook(kind, target.runbook)
    return [
        "Warden's advice covers the guarded service's own metrics only: open the alarm in the CloudWatch console "
        "(link below) and check the resource it watches."
    ]


def runbook(kind: MetricKind, service_advice: Mapping[MetricKind, Sequence[str]] | None = None) -> list[str]:
    """What to check first, per metric; `service_advice` is the guarded service's target's lines for its own
    metrics (its console, task definition or instance configuration)."""
    lines = (service_advice or {}).get(kind) if kind in SERVICE_METRICS else None
    if lines:
        return list(lines)
    match kind:
        case (
            MetricKind.ERROR_RATE
            | MetricKind.ERRORS_5XX
            | MetricKind.LATENCY
            | MetricKind.CPU
            | MetricKind.MEMORY
            | MetricKind.INSTANCES
        ):
            return [
                "Open the alarm in the CloudWatch console (link below) and the service in its console: the metric's "
                "graph and the service's recent events and deployments."
            ]
        case MetricKind.ERRORS_4XX:
            return [
                "4xx are client errors: look for a broken client release, a changed route or expired auth tokens.",
                "A spike from one address can be a scan; check the request logs.",
            ]
        case MetricKind.REQUESTS:
            return ["A traffic change: check the app's traffic sources and, for a drop, the health check and DNS."]
        case MetricKind.BILLING:
            return [f"Open Cost Explorer to see which service is spending: {COST_EXPLORER}"]
        case MetricKind.WARDEN_ERRORS:
            return [
                "Read the function's logs (CloudWatch Logs group /aws/lambda/<the function named above>): the error "
                "and its traceback are there.",
                "Lambda retries a failed event twice; an event that fails every retry goes to Warden's failed-events "
                "queue (stack output FailedEventsQueueUrl) with the error, and its own alarm tells you.",
                "Common causes: a setting the stack passes (the error names it), a missing IAM permission "
                "(AccessDenied), AWS throttling that outlasted the retries.",
                "Until it is fixed Warden may miss budget alerts, alarms or schedules: `warden status` shows what it "
                "holds.",
            ]
        case MetricKind.WARDEN_FAILED_EVENTS:
            return [
                "Each message is an event a Warden function gave up on after its retries: `aws sqs receive-message "
                "--queue-url <FailedEventsQueueUrl>` shows the original event (requestPayload), the function "
                "(requestContext.functionArn) and the error (responsePayload).",
                "Read that function's logs for the cause and fix it.",
                "Then invoke the function again with the requestPayload (`aws lambda invoke --payload ...`) and "
                "delete the message; the alarm returns to OK once the queue is empty.",
            ]
        case MetricKind.LAMBDA_ERRORS:
            return ["Read the function's logs (CloudWatch Logs group /aws/lambda/<function>) for the error."]
        case MetricKind.QUEUE_DEPTH:
            return ["Messages are waiting: check that the queue's consumer runs, and read one to see what it holds."]
        case MetricKind.COMPOSITE:
            return ["Open the triggering child alarms (listed above) to see which metric is off."]
        case MetricKind.OTHER:
            return ["Open the alarm in the CloudWatch console (link below) to see the metric's graph."]
        case _:
            assert_never(kind)


# --- the metric in plain words --------------------------------------------------------------------------------------


class Finding(BaseModel):
    """What is wrong, in words: one sentence for the body, a short phrase for the subject, and the evidence's
    observed value, threshold and metric."""

    model_config = ConfigDict(frozen=True)

    kind: MetricKind
    sentence: str
    subject: str
    observed: str
    threshold: str
    metric: str


def finding(alarm: AlarmFacts) -> Finding:
    return describe(alarm.change, alarm.observation)


_COMPARISONS: Final = {
    # operator: (symbol, words when breaching, words when not)
    "GreaterThanThreshold": (">", "above", "not above"),
    "GreaterThanOrEqualToThreshold": (">=", "at or above", "below"),
    "LessThanThreshold": ("<", "below", "not below"),
    "LessThanOrEqualToThreshold": ("<=", "at or below", "above"),
    "LessThanLowerOrGreaterThanUpperThreshold": ("outside", "outside the expected band", "inside the expected band"),
    "GreaterThanUpperThreshold": ("above", "above the expected band", "not above the expected band"),
    "LessThanLowerThreshold": ("below", "below the expected band", "not below the expected band"),
}
_FAILURE_KINDS: Final = frozenset(
    {MetricKind.LAMBDA_ERRORS, MetricKind.QUEUE_DEPTH, MetricKind.WARDEN_ERRORS, MetricKind.WARDEN_FAILED_EVENTS}
)
# Beyond this a number reads in exponent form: a message may carry any double (1e308 has 309 digits).
_PLAIN_BELOW: Final = 1e15


def describe(change: AlarmStateChange, observation: Observation | None) -> Finding:
    """The alarm's meaning for this service, worded for its new state."""
    kind = classify(change)
    if kind is MetricKind.COMPOSITE:
        return _describe_composite(change)
    unit = metric_unit(kind, change.metric)
    label = _label(kind, change.metric)
    symbol, breaching, calm = _COMPARISONS.get(change.comparison or "", ("vs", "beyond", "within"))
    words = calm if change.new_state is AlarmState.OK else breaching
    limit = "" if change.threshold is None else _format(change.threshold, unit)
    observed = _format(observation.value, unit) if observation else None

    if change.metric is not None and change.metric.anomaly_band is not None:
        threshold = f"the anomaly detection band {change.metric.anomaly_band}"
        band = anomaly_band_limits(change)
        if band is not None:
            threshold += f" (expected {_format(band[0], unit)} to {_format(band[1], unit)})"
    elif change.threshold is None:
        threshold = "not given in the alarm message"
    else:
        threshold = f"{symbol} {limit}"
    if kind is MetricKind.INSTANCES and is_below_alarm(change) and change.new_state is AlarmState.ALARM:
        count = f" ({observed}, {words} {limit})" if observed is not None else f" ({words} {limit})"
        noun = _instances_noun(change.metric)
        sentence = f"The service has no {noun}{count}."
        subject = f"no {noun}"
    elif kind in _FAILURE_KINDS and change.new_state is not AlarmState.INSUFFICIENT_DATA:
        sentence, subject = _failure_words(kind, change, observation, f"{words} {limit}".strip())
    elif change.new_state is AlarmState.INSUFFICIENT_DATA:
        sentence = f"CloudWatch has too little data to judge {label} (threshold {threshold})."
        subject = f"{_short(label)}: insufficient data"
    else:
        against = limit if change.metric is None or change.metric.anomaly_band is None else ""
        against = f" {against}" if against else ""
        if observed is not None:
            sentence = f"{_capital(label)} is {observed}, {words}{against}."
            subject = f"{_short(label)} {observed} ({words}{against})"
        else:
            sentence = f"{_capital(label)} is {words}{against} (the alarm message gave no datapoint value)."
            subject = f"{_short(label)} {words}{against}"
    if observation is None:
        observed_text = "not given: CloudWatch's reason lists no datapoint value"
    else:
        # CloudWatch prints the datapoints of its reason in UTC ("27/11/26 10:00:00").
        zone = " UTC" if observation.source == "reason" else ""
        at = f" (datapoint of {observation.at}{zone})" if observation.at else ""
        observed_text = f"{observed}{at}"
    return Finding(
        kind=kind,
        sentence=sentence,
        subject=subject,
        observed=observed_text,
        threshold=threshold + _evaluation(change),
        metric=_metric_text(change.metric),
    )


def _failure_words(
    kind: MetricKind, change: AlarmStateChange, observation: Observation | None, versus: str
) -> tuple[str, str]:
    """A failing function or a filling queue, counted in words: ("Warden itself failed: 3 errors in function
    X, above 0.", "Warden itself failed: 3 errors in X")."""
    dimensions = change.metric.dimensions if change.metric is not None else {}
    whole = observation is not None and observation.value.is_integer() and abs(observation.value) < _PLAIN_BELOW
    how_many = int(observation.value) if observation is not None and whole else None
    if kind in (MetricKind.LAMBDA_ERRORS, MetricKind.WARDEN_ERRORS):
        where = dimensions.get("FunctionName", "(the alarm names no FunctionName)")
        counted = "errors" if how_many is None else _plural(how_many, "error")
        failing = change.new_state is AlarmState.ALARM
        if kind is MetricKind.WARDEN_ERRORS:
            if failing:
                return (
                    f"Warden itself failed: {counted} in its function {where}, {versus}.",
                    f"Warden itself failed: {counted} in {where}",
                )
            return f"Warden's function {where} had {counted}, {versus}.", f"{where}: {counted}"
        return f"Lambda function {where} had {counted}, {versus}.", f"{where}: {counted}"
    queue = dimensions.get("QueueName", "(the alarm names no QueueName)")
    waiting = "messages" if how_many is None else _plural(how_many, "message")
    if kind is MetricKind.WARDEN_FAILED_EVENTS:
        if change.new_state is AlarmState.ALARM:
            return (
                f"Warden itself failed: {waiting} wait in its failed-events queue {queue}, {versus}: events that "
                "failed every retry.",
                f"Warden itself failed: {waiting} in the failed-events queue",
            )
        return f"Warden's failed-events queue {queue} holds {waiting}, {versus}.", f"failed-events queue: {waiting}"
    return f"SQS queue {queue} holds {waiting} waiting, {versus}.", f"{queue}: {waiting} waiting"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _describe_composite(change: AlarmStateChange) -> Finding:
    names = ", ".join(
        child.name + (f" ({child.state.value})" if child.state else "") for child in change.triggering_children
    )
    rule = change.composite_rule or ""
    match change.new_state:
        case AlarmState.ALARM:
            sentence = f"The composite rule {rule} is true" + (f", triggered by {names}." if names else ".")
            subject = f"composite alarm: {names or rule}"
        case AlarmState.OK:
            sentence = f"The composite rule {rule} is no longer true."
            subject = "composite alarm back to OK"
        case AlarmState.INSUFFICIENT_DATA:
            sentence = f"The composite rule {rule} cannot be judged: its children lack data."
            subject = "composite alarm: insufficient data"
        case _:
            assert_never(change.new_state)
    return Finding(
        kind=MetricKind.COMPOSITE,
        sentence=sentence,
        subject=subject,
        observed=f"triggering children: {names or 'none listed'}",
        threshold=f"rule {rule}",
        metric="composite alarm over other alarms",
    )


def _label(kind: MetricKind, metric: AlarmMetric | None) -> str:
    """The metric's name in words: "the 5xx error rate", "the p99 response time", "CPU utilisation"."""
    statistic = metric_statistic(metric)
    match kind:
        case MetricKind.ERROR_RATE:
            return "the 5xx error rate"
        case MetricKind.ERRORS_5XX:
            return "the number of 5xx responses"
        case MetricKind.ERRORS_4XX:
            return "the number of 4xx responses"
        case MetricKind.LATENCY:
            if statistic is None:
                return "the response time"
            # p99 stays p99; Average reads "the average response time".
            return f"the {statistic if statistic[0].islower() else statistic.lower()} response time"
        case MetricKind.CPU:
            return "CPU utilisation"
        case MetricKind.MEMORY:
            return "memory utilisation"
        case MetricKind.INSTANCES:
            return f"the number of {_instances_noun(metric)}"
        case MetricKind.REQUESTS:
            return "the number of requests"
        case MetricKind.BILLING:
            return "the estimated AWS charge for this month"
        case MetricKind.LAMBDA_ERRORS | MetricKind.WARDEN_ERRORS:
            function = metric.dimensions.get("FunctionName", "?") if metric is not None else "?"
            return f"the errors of function {function}"
        case MetricKind.QUEUE_DEPTH | MetricKind.WARDEN_FAILED_EVENTS:
            queue = metric.dimensions.get("QueueName", "?") if metric is not None else "?"
            return f"the messages waiting in queue {queue}"
        case MetricKind.COMPOSITE | MetricKind.OTHER:
            if metric is None:
                return "the alarm's metric"
            if metric.shape == "math":
                return f"the expression {metric.label or metric.expression}"
            name = f"{metric.namespace} {metric.metric_name}" if metric.namespace else str(metric.metric_name)
            return f"{name} ({statistic})" if statistic else name
        case _:
            assert_never(kind)


def _instances_noun(metric: AlarmMetric | None) -> str:
    """What an "instances" alarm counts, by the metric it reads: App Runner's active instances, ECS's running tasks
    or the load balancer's healthy targets."""
    read = {namespace for namespace, _, _ in metric.metrics()} if metric is not None else set()
    if CONTAINER_INSIGHTS in read:
        return "running tasks"
    if ALB in read:
        return "healthy targets"
    return "active instances"


def _format(value: float, unit: Unit) -> str:
    match unit:
        case Unit.USD:
            return f"${value:,.2f}" if abs(value) < _PLAIN_BELOW else f"${_number(value)}"
        case Unit.SECONDS:
            # Rounded so that 7.2 s reads "7.2 s", not the float noise of 7.2 * 1000.
            return _format(round(value * 1000, 6), Unit.MILLISECONDS)
        case Unit.MILLISECONDS:
            return f"{_number(value / 1000)} s" if abs(value) >= 1000 else f"{_number(value)} ms"
        case Unit.PERCENT:
            return f"{_number(value)} %"
        case Unit.COUNT | Unit.NONE:
            return _number(value)
        case _:
            assert_never(unit)


def _number(value: float) -> str:
    if not abs(value) < _PLAIN_BELOW:  # NaN and infinities too
        return f"{value:.6g}"
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _short(label: str) -> str:
    """A label for a subject line: "the 5xx error rate" -> "5xx error rate"."""
    return label.removeprefix("the ")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _evaluation(change: AlarmStateChange) -> str:
    if not change.period or not change.evaluation_periods:
        return ""
    minutes = change.period / 60
    if change.period >= 60:
        size = f"{_number(minutes)} minute" + ("" if minutes == 1 else "s")
    else:
        size = f"{change.period} seconds"
    of = change.datapoints_to_alarm or change.evaluation_periods
    return f", in {of} of {change.evaluation_periods} periods of {size}"


def _metric_text(metric: AlarmMetric | None) -> str:
    if metric is None:
        return "none given in the alarm message"
    dims = ", ".join(f"{name}={value}" for name, value in sorted(metric.dimensions.items()))
    base = f"{metric.namespace} {metric.metric_name}" + (f" ({metric.statistic})" if metric.statistic else "")
    base += f" [{dims}]" if dims else ""
    match metric.shape:
        case "anomaly":
            return f"{base}, anomaly band {metric.anomaly_band}"
        case "math":
            read = "; ".join(
                f"{query.id} = {query.namespace} {query.metric_name} ({query.statistic})"
                for query in metric.queries
                if query.metric_name
            )
            return f"metric math {metric.expression}" + (f" where {read}" if read else "")
        case _:
            return base
