"""on_alarm's words (warden/messages/alarm.py) as approved golden files, tests/golden/texts/alarm.*.txt.

Each notification an alarm state change can bring is rendered from its facts (`Fired`, `Expected`, `Recovered`,
`NoData`, `Suppressed` of domain/alarms.py) and the guarded service's `TargetFacts`; where the platforms' words
differ (the status line, the runbook, what a pause means, what a paused service has none of, the console) there
is a file for each. Several run again through the use case with in-memory fakes and must match the same files,
the facts it returns and the renderer: on_alarm words nothing itself. `alarm.metrics` holds the metric in plain
words for every kind of alarm and unit, `alarm.reasons` the one-line reasons its results and records give.
`UPDATE_GOLDEN=1` rewrites the files after a wording change; review the diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState, platform_target
from tests.golden.golden import assert_golden, assert_golden_notification
from warden.domain.alarms import (
    ActionPermission,
    AlarmAction,
    AlarmActionMap,
    AlarmFacts,
    AlarmOutcome,
    AlarmTold,
    ClaimFate,
    CooledDown,
    Expected,
    Fired,
    NoData,
    Notified,
    OkClaim,
    PauseFailed,
    PauseTaken,
    Recovered,
    RollbackTaken,
    ServiceNow,
    Suppressed,
    concerns,
    decide_cooldown,
    metric_unit,
    observed_value,
    permitted,
)
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification
from warden.domain.service import APP_RUNNER, ECS, ServiceSnapshot, ServiceStatus
from warden.domain.target import TargetFacts
from warden.messages import alarm as words
from warden.models.alarm import AlarmStateChange, parse_alarm_message
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, AlarmResult, claim_key, guarded_of, handle_event, read_delivery
from warden.usecases.undo import undo_pause_lines

NAME = "consultation-app"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
ARNS = {
    "apprunner": f"arn:aws:apprunner:us-east-1:123456789012:service/{NAME}/0123456789abcdef0123456789abcdef",
    "ecs": f"arn:aws:ecs:us-east-1:123456789012:service/prod/{NAME}",
}
PLATFORMS = {"apprunner": APP_RUNNER, "ecs": ECS}
ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
# The ECS service sits behind the stack's load balancer: its target group's alarms are the service's.
LOAD_BALANCED = {
    "LOAD_BALANCER_ARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/"
    "50dc6c495c0c9188",
    "TARGET_GROUP_ARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/"
    "73e2d6bc24d8a067",
}
OTHER_SERVICE = ARNS["apprunner"].replace("0123456789abcdef" * 2, "f" * 32).replace(NAME, "billing-api")
BUDGET_HOLDS = "paused by budget (since 2026-11-27 08:05 UTC)"


# -- the facts: the state change as Warden reads it, the service, the platform ----------------------------------


def settings(platform: str = "apprunner", **env: str) -> Settings:
    balanced = LOAD_BALANCED if platform == "ecs" else {}
    return Settings.from_env({**ENV, "SERVICE_ARN": ARNS[platform], **balanced, **env})


def target(platform: str = "apprunner") -> TargetFacts:
    facts: TargetFacts = platform_target(ARNS[platform], FakeService(arn=ARNS[platform])).facts
    return facts


def read(event: Any, *, trigger: dict[str, Any] | None = None, **edits: Any) -> AlarmStateChange:
    """The state change a delivery carries; `edits` replace fields of an SNS alarm message, `trigger` its Trigger's."""
    delivery = read_delivery(event)
    if isinstance(delivery, AlarmStateChange):
        return delivery
    (message,) = delivery
    document = json.loads(message.message)
    document.update(edits)
    document["Trigger"] = {**document.get("Trigger", {}), **(trigger or {})}
    return parse_alarm_message(json.dumps(document))


def event(fixture: str, *, at: datetime = FIRED, **retarget: Any) -> dict[str, Any]:
    """The fixture as on_alarm receives it, at `at` (the same event the use-case runs below deliver)."""
    return alarm_event(fixture, changed_at=at, message_id="golden", **retarget)


def alarm(change: AlarmStateChange, platform: str = "apprunner") -> AlarmFacts:
    """What the use case makes of a state change: its datapoint and whose alarm it is."""
    return AlarmFacts(
        change=change,
        observation=observed_value(change.reason, change.reason_data),
        concern=concerns(change, guarded_of(settings(platform), target(platform))),
        service_name=NAME,
    )


def seen(fixture: str, platform: str = "apprunner", *, at: datetime = FIRED, **retarget: Any) -> AlarmFacts:
    return alarm(read(event(fixture, at=at, **retarget)), platform)


def allowed(facts: AlarmFacts, actions: str = "") -> ActionPermission:
    return permitted(AlarmActionMap.parse(actions).resolve(facts.change.name), facts.concern)


def now(platform: str = "apprunner", status: ServiceStatus | None = ServiceStatus.RUNNING, *held: str) -> ServiceNow:
    return ServiceNow(arn=ARNS[platform], status=status, claims=held)


def pause_lines(outcome: AlarmOutcome, key: str) -> tuple[str, ...]:
    """What placing the claim and converging say (usecases/claims.py and converge), per outcome."""
    match outcome:
        case AlarmOutcome.PAUSED:
            return f"Recorded the '{key}' pause claim.", f"Paused {NAME} (it was RUNNING)."
        case AlarmOutcome.WOULD_PAUSE:
            return (
                f"[dry run] Would have recorded the '{key}' pause claim.",
                f"[dry run] Would have paused {NAME} (it is RUNNING); nothing was changed.",
            )
        case AlarmOutcome.ALREADY_PAUSED:
            return (
                f"The '{key}' pause claim was already active (since 2026-11-27 10:05 UTC, from on_alarm); it stays "
                "as it was.",
                "Left as it is: service is already PAUSED as it should be.",
            )
        case _:
            raise AssertionError(outcome)


def paused(facts: AlarmFacts, platform: str, outcome: AlarmOutcome, actions: str = "*=pause", *held: str) -> Fired:
    """The alarm's pause claim placed (or found), as the use case tells it."""
    key = claim_key(facts.change.name)
    arn = ARNS[platform]
    undo = undo_pause_lines(platform_target(arn, FakeService(arn=arn)), settings(platform), ClaimReason.ALARM, key)
    before = ServiceSnapshot(arn=arn, name=NAME, status=ServiceStatus.RUNNING, platform=PLATFORMS[platform])
    if platform == "ecs":
        before = before.model_copy(update={"load_balanced": True})
    did = PauseTaken(
        reason=allowed(facts, actions).reason,
        claim_key=key,
        claim_lines=pause_lines(outcome, key),
        undo=tuple(undo),
        before=before,
    )
    status = now(platform, ServiceStatus.PAUSED if held else ServiceStatus.RUNNING, *held)
    return Fired(alarm=facts, outcome=outcome, did=did, status=status)


def fired(facts: AlarmFacts, outcome: AlarmOutcome, did: Any, platform: str = "apprunner") -> Fired:
    # Another resource's alarm carries no status of the guarded service: nothing in it may blame the service.
    status = None if outcome is AlarmOutcome.OTHER_SERVICE else now(platform)
    return Fired(alarm=facts, outcome=outcome, did=did, status=status)


def notified(facts: AlarmFacts, platform: str = "apprunner", actions: str = "") -> Fired:
    return fired(facts, AlarmOutcome.NOTIFIED, Notified(permission=allowed(facts, actions)), platform)


def refused(facts: AlarmFacts, actions: str) -> Fired:
    return fired(facts, AlarmOutcome.OTHER_SERVICE, Notified(permission=allowed(facts, actions)))


def rolled(outcome: AlarmOutcome, detail: str | None = None) -> Fired:
    facts = seen("sns-5xx-rate-alarm")
    did = RollbackTaken(reason=allowed(facts, "warden-5xx-rate=rollback").reason, detail=detail)
    return fired(facts, outcome, did)


def ok(fixture: str = "sns-5xx-rate-ok", platform: str = "apprunner", **edits: Any) -> AlarmFacts:
    return alarm(read(event(fixture, at=FIRED + timedelta(minutes=20)), **edits), platform)


def cleared(key: str) -> OkClaim:
    lines = (f"Cleared the '{key}' pause claim (alarm '{key.removeprefix('alarm#')}' returned to OK).",)
    return OkClaim(fate=ClaimFate.CLEARED, claim_key=key, lines=(*lines, f"Resumed {NAME} (it was PAUSED)."))


def no_data(fixture: str, platform: str = "apprunner") -> AlarmFacts:
    return alarm(read(event(fixture), NewStateValue="INSUFFICIENT_DATA", OldStateValue="OK"), platform)


def suppressed_ok() -> AlarmFacts:
    bridge = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    bridge["detail"]["state"].update(
        value="OK",
        timestamp="2026-11-27T10:25:41.102+0000",
        actionsSuppressedBy="ExtensionPeriod",
        actionsSuppressedReason="Actions suppressed by ExtensionPeriod",
    )
    return alarm(read(bridge))


def billing() -> AlarmFacts:
    return alarm(
        read(
            event("sns-cpu-alarm"),
            AlarmName="account-estimated-charges",
            NewStateReason="Threshold Crossed: 1 datapoint [12.34 (27/11/26 04:00:00)] was greater than the "
            "threshold (10.0).",
            trigger={
                "Namespace": "AWS/Billing",
                "MetricName": "EstimatedCharges",
                "Statistic": "MAXIMUM",
                "Dimensions": [{"name": "Currency", "value": "USD"}],
                "Threshold": 10.0,
            },
        )
    )


# -- every notification, from facts ------------------------------------------------------------------------------

# What Warden did about each kind of state change; a name ending in .ecs is told of the ECS service.
TOLD: dict[str, Callable[[], AlarmTold]] = {
    # The guarded service's alarm, with no ALARM_ACTIONS: the whole story, nothing done.
    "alarm.fired.apprunner": lambda: notified(seen("sns-5xx-rate-alarm")),
    "alarm.fired.ecs": lambda: notified(seen("sns-ecs-cpu-alarm", "ecs"), "ecs"),
    # Paused: the claim, what the pause means on the platform, what keeps billing, how to undo.
    "alarm.paused.apprunner": lambda: paused(
        seen("sns-5xx-rate-alarm"), "apprunner", AlarmOutcome.PAUSED, "warden-5xx-rate=pause"
    ),
    "alarm.paused.ecs": lambda: paused(seen("sns-ecs-cpu-alarm", "ecs"), "ecs", AlarmOutcome.PAUSED),
    "alarm.dry_run_pause.apprunner": lambda: paused(seen("sns-cpu-alarm"), "apprunner", AlarmOutcome.WOULD_PAUSE),
    "alarm.dry_run_pause.ecs": lambda: paused(seen("sns-ecs-cpu-alarm", "ecs"), "ecs", AlarmOutcome.WOULD_PAUSE),
    # Fired again while its own claim holds the service.
    "alarm.already_paused": lambda: paused(
        seen("sns-cpu-alarm", at=FIRED + timedelta(minutes=2)),
        "apprunner",
        AlarmOutcome.ALREADY_PAUSED,
        "*=pause",
        "alarm#warden-cpu",
    ),
    # SERVICE_ARN names no service the platform knows.
    "alarm.unavailable": lambda: Fired(
        alarm=seen("sns-cpu-alarm"),
        outcome=AlarmOutcome.UNAVAILABLE,
        did=PauseFailed(missing=ARNS["apprunner"]),
        status=now("apprunner", None),
    ),
    # The alarm acted 10 minutes ago: its action waits for the end of the cool-down.
    "alarm.cooldown": lambda: fired(
        seen("sns-5xx-rate-alarm", at=FIRED + timedelta(minutes=10)),
        AlarmOutcome.COOLDOWN,
        CooledDown(
            action=AlarmAction.PAUSE,
            decision=decide_cooldown(
                FIRED + timedelta(seconds=5), FIRED + timedelta(minutes=10, seconds=5), timedelta(minutes=30)
            ),
        ),
    ),
    # Rollback: started, in a dry run, not configured, declined, failed.
    "alarm.rollback.started": lambda: rolled(
        AlarmOutcome.ROLLBACK, "Started rolling back to the previous release (request 1)."
    ),
    "alarm.rollback.dry_run": lambda: rolled(AlarmOutcome.WOULD_ROLLBACK),
    "alarm.rollback.not_configured": lambda: rolled(AlarmOutcome.ROLLBACK_NOT_CONFIGURED),
    "alarm.rollback.declined": lambda: rolled(
        AlarmOutcome.ROLLBACK_DECLINED, "the deployment that runs now is the one Warden rolled back to"
    ),
    "alarm.rollback.failed": lambda: rolled(
        AlarmOutcome.ROLLBACK_FAILED, "StartDeployment refused (InvalidStateException)"
    ),
    # About another resource: named after it, the pattern's action refused, no advice for the guarded platform.
    "alarm.other_resource": lambda: refused(seen("sns-ec2-cpu-other-region-alarm"), "*-cpu=pause"),
    "alarm.other_service": lambda: refused(seen("sns-cpu-alarm", service_arn=OTHER_SERVICE), "*=pause"),
    # Warden cannot tell whose a composite alarm is: a pattern does not act on it.
    "alarm.unknown": lambda: notified(seen("sns-composite-object-children"), actions="consultation-app-*=pause"),
    # No instances while a budget claim holds the service paused: expected.
    "alarm.expected.apprunner": lambda: Expected(
        alarm=seen("sns-no-instances-alarm"),
        status=now("apprunner", ServiceStatus.PAUSED, "budget"),
        paused_by=BUDGET_HOLDS,
    ),
    "alarm.expected.ecs": lambda: Expected(
        alarm=seen("sns-alb-no-healthy-targets-alarm", "ecs"),
        status=now("ecs", ServiceStatus.PAUSED, "budget"),
        paused_by=BUDGET_HOLDS,
    ),
    # Back to OK: recovered after 20 minutes, or with no record of when it fired; a plain OK after missing data.
    "alarm.recovered.apprunner": lambda: Recovered(
        alarm=ok(), outcome=AlarmOutcome.RECOVERED, opened_at=FIRED, claim=cleared("alarm#warden-5xx-rate")
    ),
    "alarm.recovered.ecs": lambda: Recovered(
        alarm=ok("sns-ecs-cpu-ok", "ecs"),
        outcome=AlarmOutcome.RECOVERED,
        opened_at=FIRED,
        claim=cleared("alarm#warden-cpu"),
    ),
    "alarm.recovered.duration_unknown": lambda: Recovered(
        alarm=ok(),
        outcome=AlarmOutcome.RECOVERED,
        opened_at=None,
        claim=OkClaim(fate=ClaimFate.NONE_HELD, claim_key="alarm#warden-5xx-rate"),
    ),
    "alarm.ok": lambda: Recovered(
        alarm=ok(OldStateValue="INSUFFICIENT_DATA"),
        outcome=AlarmOutcome.OK,
        opened_at=None,
        claim=OkClaim(fate=ClaimFate.NONE_HELD, claim_key="alarm#warden-5xx-rate"),
    ),
    # Another resource's OK: not "recovered", and the claim of this stack's alarm of that name stays.
    "alarm.ok.other_resource": lambda: Recovered(
        alarm=ok(
            "sns-ec2-cpu-other-region-alarm",
            NewStateValue="OK",
            OldStateValue="ALARM",
            NewStateReason="Threshold Crossed: 1 out of the last 1 datapoints [12.1 (27/11/26 10:20:00)] was not "
            "greater than the threshold (90.0) (minimum 1 datapoint for ALARM -> OK transition).",
        ),
        outcome=AlarmOutcome.OK,
        opened_at=FIRED,
        claim=OkClaim(fate=ClaimFate.KEPT_OTHER_RESOURCE, claim_key="alarm#bastion-cpu"),
    ),
    # The claim was placed by another alarm of the same name (another partition): its OK does not clear it.
    "alarm.ok.other_alarm": lambda: Recovered(
        alarm=ok(),
        outcome=AlarmOutcome.RECOVERED,
        opened_at=FIRED,
        claim=OkClaim(
            fate=ClaimFate.KEPT_OTHER_ALARM,
            claim_key="alarm#warden-5xx-rate",
            placed_by="arn:aws-us-gov:cloudwatch:us-east-1:123456789012:alarm:warden-5xx-rate",
        ),
    ),
    # Insufficient data: information only; while paused, the pause explains it.
    "alarm.no_data": lambda: NoData(alarm=no_data("sns-cpu-alarm")),
    "alarm.no_data.paused": lambda: NoData(
        alarm=no_data("sns-cpu-alarm"),
        claim_key="alarm#warden-cpu",
        paused_by="paused by alarm#warden-cpu (since 2026-11-27 10:05 UTC)",
    ),
    # CloudWatch suppressed the actions: told, never acted on; a claim this alarm holds stays.
    "alarm.suppressed": lambda: Suppressed(
        alarm=alarm(read(load_event("on_alarm", "eventbridge-suppressed-composite-alarm")))
    ),
    "alarm.suppressed.ok_with_claim": lambda: Suppressed(
        alarm=suppressed_ok(),
        claim_key="alarm#warden-5xx-rate",
        undo=tuple(
            undo_pause_lines(
                platform_target(ARNS["apprunner"], FakeService(arn=ARNS["apprunner"])),
                settings(),
                ClaimReason.ALARM,
                "alarm#warden-5xx-rate",
            )
        ),
    ),
    # Warden's own alarms: "Warden itself failed", under the guarded service's name, only ever notified.
    "alarm.self.errors": lambda: fired(seen("sns-self-errors-alarm"), AlarmOutcome.NOTIFIED, Notified(permission=None)),
    "alarm.self.failed_events": lambda: fired(
        seen("sns-self-failed-events-alarm"), AlarmOutcome.NOTIFIED, Notified(permission=None)
    ),
    # The account's estimated charges: a warning, in dollars, with Cost Explorer.
    "alarm.billing": lambda: notified(billing()),
    # An anomaly-detection alarm: the band and its bounds.
    "alarm.anomaly": lambda: notified(seen("sns-latency-anomaly-alarm")),
}


def platform_of(name: str) -> str:
    return "ecs" if name.endswith(".ecs") else "apprunner"


def rendered(name: str) -> Notification:
    return words.notification(TOLD[name](), target(platform_of(name)))


@pytest.mark.parametrize("name", TOLD)
def test_each_alarm_notification_reads_as_approved(name: str) -> None:
    # Given the facts of one kind of state change and what Warden did, When the renderer writes its notification
    notification = rendered(name)
    # Then it is the approved text
    assert_golden_notification(name, notification)


# -- the metric in plain words, for every kind and unit ------------------------------------------------------------

SNS_FIXTURES = [
    "sns-5xx-rate-alarm",
    "sns-5xx-rate-ok",
    "sns-alb-5xx-rate-alarm",
    "sns-alb-no-healthy-targets-alarm",
    "sns-alb-p99-latency-alarm",
    "sns-composite-object-children",
    "sns-composite-string-children",
    "sns-cpu-alarm",
    "sns-ec2-cpu-other-region-alarm",
    "sns-ecs-cpu-alarm",
    "sns-ecs-cpu-ok",
    "sns-latency-anomaly-alarm",
    "sns-latency-p99-alarm",
    "sns-no-instances-alarm",
    "sns-rds-cpu-alarm",
    "sns-self-errors-alarm",
    "sns-self-failed-events-alarm",
]
TARGET_GROUP = [
    {"name": "TargetGroup", "value": "targetgroup/consultation-app/73e2d6bc24d8a067"},
    {"name": "LoadBalancer", "value": "app/consultation-app/50dc6c495c0c9188"},
]


def crossed(value: str, threshold: str, word: str = "greater") -> str:
    return f"Threshold Crossed: 1 datapoint [{value} (27/11/26 10:00:00)] was {word} than the threshold ({threshold})."


def metric(fixture: str, value: str, threshold: float, word: str = "greater", **trigger: Any) -> AlarmStateChange:
    """The fixture's alarm on another single metric, with its datapoint and threshold."""
    return read(
        event(fixture),
        NewStateReason=crossed(value, str(threshold), word),
        trigger={"Threshold": threshold, **trigger},
    )


EDITED: dict[str, Callable[[], AlarmStateChange]] = {
    "direct memory alarm": lambda: read(load_event("on_alarm", "direct-memory-alarm")),
    "eventbridge 5xx rate": lambda: read(load_event("on_alarm", "eventbridge-5xx-rate-alarm")),
    "billing": lambda: billing().change,
    "no datapoint": lambda: read(
        event("sns-cpu-alarm"), NewStateReason="Threshold Crossed: no datapoints were received."
    ),
    "insufficient data": lambda: read(
        event("sns-cpu-alarm"),
        NewStateValue="INSUFFICIENT_DATA",
        NewStateReason="Insufficient Data: 1 datapoint was unknown.",
    ),
    "unknown metric": lambda: read(
        event("sns-cpu-alarm"),
        trigger={"Namespace": "AWS/RDS", "MetricName": "DatabaseConnections", "Statistic": "SUM"},
    ),
    "ecs memory": lambda: metric("sns-ecs-cpu-alarm", "97.6", 95.0, MetricName="MemoryUtilization"),
    "target response time in seconds": lambda: metric(
        "sns-ecs-cpu-alarm",
        "7.2",
        5.0,
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        StatisticType="ExtendedStatistic",
        ExtendedStatistic="p99",
        Dimensions=TARGET_GROUP,
    ),
    "target response time under a second": lambda: metric(
        "sns-ecs-cpu-alarm",
        "0.35",
        0.25,
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        StatisticType="ExtendedStatistic",
        ExtendedStatistic="p99",
        Dimensions=TARGET_GROUP,
    ),
    "load balancer 5xx count": lambda: metric(
        "sns-ecs-cpu-alarm",
        "42.0",
        10.0,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="SUM",
        Dimensions=TARGET_GROUP,
    ),
    "running tasks": lambda: metric(
        "sns-ecs-cpu-alarm",
        "0.0",
        1.0,
        "less",
        Namespace="ECS/ContainerInsights",
        MetricName="RunningTaskCount",
        Statistic="MINIMUM",
        ComparisonOperator="LessThanThreshold",
    ),
    "one error of warden": lambda: read(
        event("sns-self-errors-alarm"),
        NewStateReason="Threshold Crossed: 1 out of the last 1 datapoints [1.0 (27/11/26 10:00:00)] was greater than "
        "the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
    ),
    "warden errors back to ok": lambda: read(
        event("sns-self-errors-alarm"),
        NewStateValue="OK",
        OldStateValue="ALARM",
        NewStateReason="Threshold Crossed: 1 out of the last 1 datapoints [0.0 (27/11/26 10:10:00)] was not greater "
        "than the threshold (0.0) (minimum 1 datapoint for ALARM -> OK transition).",
    ),
    "another function's errors": lambda: read(event("sns-self-errors-alarm"), AlarmName="billing-api-errors"),
    "another queue's depth": lambda: read(event("sns-self-failed-events-alarm"), AlarmName="orders-backlog"),
    "a huge threshold and datapoint": lambda: metric("sns-cpu-alarm", "1e300", 1e300),
}


def metric_words(label: str, change: AlarmStateChange) -> list[str]:
    found = words.describe(change, observed_value(change.reason, change.reason_data))
    return [
        f"== {label}",
        f"kind: {found.kind.value}; unit: {metric_unit(found.kind, change.metric).value or '(none)'}",
        f"sentence: {found.sentence}",
        f"subject: {found.subject}",
        f"observed: {found.observed}",
        f"threshold: {found.threshold}",
        f"metric: {found.metric}",
        "",
    ]


def test_every_kind_of_metric_reads_in_plain_words_in_its_unit_as_approved() -> None:
    # Given every alarm fixture, and alarms on each other metric and unit Warden words
    changes = {fixture: read(event(fixture)) for fixture in SNS_FIXTURES} | {
        label: make() for label, make in EDITED.items()
    }
    # When each is described / Then the sentence, subject and evidence are the approved words
    text = [line for label, change in changes.items() for line in metric_words(label, change)]
    assert_golden("alarm.metrics", "\n".join(text))


# -- the reasons results and records give --------------------------------------------------------------------------


def test_the_reasons_of_results_and_records_read_as_approved() -> None:
    # Given what happened to each kind of state change, and the deliveries Warden ignores or forwards
    change = read(event("sns-5xx-rate-alarm"))
    later = FIRED + timedelta(minutes=20)
    facts = seen("sns-5xx-rate-alarm")
    lines = [f"{name}: {words.summary(make(), target(platform_of(name)))}" for name, make in TOLD.items()]
    lines += [
        f"duplicate: {words.duplicate(change, '2026-11-27 10:05:42 UTC')}",
        f"already forwarded: {words.already_forwarded('0b7f7b5e-2c55-5d3a-9a7e-1f2e3d4c5b6a')}",
        f"forwarded: {words.forwarded('not a CloudWatch alarm state change: AlarmArn is missing')}",
        f"stale: {words.stale(change, 'OK', later)}",
        f"stale, same moment: {words.stale(change, 'OK', FIRED)}",
        f"stale, unknown: {words.stale(change, None, None)}",
        f"late: {words.late(change, words.NO_ROLLBACK_STARTED)}",
        f"claim evidence: {words.claim_evidence(facts)}",
        f"rollback request: {words.rollback_request(facts)}",
        f"rollback not configured (action log): {words.NOT_CONFIGURED_RECORD}",
        f"suppressed (action log): {words.suppressed_record(Suppressed(alarm=suppressed_ok()))}",
        f"claim cleared by its OK: {words.returned_to_ok(change.name)}",
        f"claim withdrawn: {words.withdrawn(change.name)}",
    ]
    # When they are worded / Then each is the approved line
    assert_golden("alarm.reasons", "\n".join(lines) + "\n")


# -- the same notifications, through the use case with fakes --------------------------------------------------------


class World:
    """on_alarm's use case over in-memory fakes, as its function wires it for one guarded service."""

    def __init__(
        self,
        platform: str = "apprunner",
        *,
        status: ServiceStatus = ServiceStatus.RUNNING,
        rollback: FakeRollback | None = None,
        **env: str,
    ) -> None:
        self.arn = ARNS[platform]
        self.service = FakeService(arn=self.arn, status=status)
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.settings = settings(platform, **env)
        self.deps = AlarmDeps(self.service, self.notifier, self.state, rollback or FakeRollback(configured=False))

    def deliver(self, delivered: dict[str, Any], at: datetime = FIRED) -> AlarmResult:
        (result,) = handle_event(delivered, self.deps, self.settings, at + timedelta(seconds=5))
        return result

    def budget_holds(self) -> World:
        self.state.add_claim(
            self.arn,
            Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="spend", now=FIRED - timedelta(hours=2)),
        )
        return self


def cooled_down() -> tuple[World, AlarmResult]:
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause", ALARM_COOLDOWN_MINUTES="30")
    world.deliver(event("sns-5xx-rate-alarm"))
    world.deliver(event("sns-5xx-rate-ok", at=FIRED + timedelta(minutes=5)), FIRED + timedelta(minutes=5))
    at = FIRED + timedelta(minutes=10)
    return world, world.deliver(event("sns-5xx-rate-alarm", at=at), at)


def recovered() -> tuple[World, AlarmResult]:
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    world.deliver(event("sns-5xx-rate-alarm"))
    at = FIRED + timedelta(minutes=20)
    return world, world.deliver(event("sns-5xx-rate-ok", at=at), at)


def once(world: World, delivered: dict[str, Any]) -> tuple[World, AlarmResult]:
    return world, world.deliver(delivered)


USE_CASE_RUNS: dict[str, Callable[[], tuple[World, AlarmResult]]] = {
    "alarm.fired.apprunner": lambda: once(World(), event("sns-5xx-rate-alarm")),
    "alarm.fired.ecs": lambda: once(World("ecs"), event("sns-ecs-cpu-alarm")),
    "alarm.paused.apprunner": lambda: once(World(ALARM_ACTIONS="warden-5xx-rate=pause"), event("sns-5xx-rate-alarm")),
    "alarm.cooldown": cooled_down,
    "alarm.rollback.started": lambda: once(
        World(rollback=FakeRollback(), ALARM_ACTIONS="warden-5xx-rate=rollback"), event("sns-5xx-rate-alarm")
    ),
    "alarm.other_resource": lambda: once(World(ALARM_ACTIONS="*-cpu=pause"), event("sns-ec2-cpu-other-region-alarm")),
    "alarm.expected.ecs": lambda: once(
        World("ecs", status=ServiceStatus.PAUSED, ALARM_ACTIONS="*=pause").budget_holds(),
        event("sns-alb-no-healthy-targets-alarm"),
    ),
    "alarm.recovered.apprunner": recovered,
    "alarm.suppressed": lambda: once(
        World(ALARM_ACTIONS="consultation-app-unhealthy=pause"),
        load_event("on_alarm", "eventbridge-suppressed-composite-alarm"),
    ),
    "alarm.self.errors": lambda: once(World(ALARM_ACTIONS="*=pause"), event("sns-self-errors-alarm")),
}


@pytest.mark.parametrize("name", USE_CASE_RUNS)
def test_on_alarm_publishes_exactly_what_the_renderer_writes_from_the_facts_it_returns(name: str) -> None:
    # Given a guarded service (fakes) and the state changes of one story, When on_alarm handles the last one
    world, result = USE_CASE_RUNS[name]()
    # Then the notification it published is the approved text, the same the renderer writes from the facts
    sent = world.notifier.sent[-1]
    assert_golden_notification(name, sent)
    assert sent == rendered(name)
    # And the facts it returned are what that notification and its reason were written from
    assert result.told is not None
    facts = world.service.facts
    assert words.notification(result.told, facts) == sent
    assert result.reason == words.summary(result.told, facts)
    assert (result.outcome, result.notification_event) == (result.told.outcome, sent.event)


@pytest.mark.parametrize(
    ("name", "delivered"),
    [
        ("alarm.forwarded", lambda: load_event("on_alarm", "unparseable-message")),
        ("alarm.forwarded.invocation", lambda: {"hello": "world"}),
    ],
)
def test_what_is_no_alarm_is_forwarded_verbatim_as_approved(name: str, delivered: Callable[[], Any]) -> None:
    # Given a message on the alarm topic that is no alarm, or an invocation that is no delivery at all
    world = World()
    # When on_alarm handles it
    result = world.deliver(delivered())
    # Then it is forwarded verbatim with the reason, in the approved words, and nothing is told as an alarm
    (sent,) = world.notifier.sent
    assert_golden_notification(name, sent)
    assert (result.outcome, result.told) == (AlarmOutcome.FORWARDED, None)
