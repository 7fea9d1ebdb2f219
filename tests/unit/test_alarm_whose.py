"""Alarms act only on the guarded service (issue 13 §2).

An action (pause, rollback, resume) runs only for an alarm that provably concerns the guarded service: its
account and region, and every metric it reads with the identifying dimensions. A pattern in ALARM_ACTIONS acts
only on such alarms; an exact name is the operator naming that alarm, so it may act when Warden cannot tell
(a composite alarm), never on an alarm provably about another resource. A state change whose actions
CloudWatch suppressed acts on nothing. A notification about another resource names that resource, not the
guarded service, and gives no App Runner advice for it. The words are approved in tests/golden/texts/alarm.*.txt;
here the facts the use case returns are checked, and what no wording may ever do (blame the guarded service).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from tests.robustness.strategies import ARMED_PATTERNS, ForeignAlarm, foreign_alarms
from warden.domain.alarms import AlarmAction, AlarmTold, Fired, Notified, Recovered, Suppressed, Verdict
from warden.domain.claims import Claim, ClaimReason
from warden.domain.service import ServiceStatus
from warden.messages import alarm as words
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, AlarmResult, Outcome, claim_key, handle_event

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ALARM_COOLDOWN_MINUTES": "0",
}
APP_RUNNER_ADVICE = ("App Runner > Configuration", "App Runner console", "more vCPU")


class World:
    def __init__(self, *, status: ServiceStatus = ServiceStatus.RUNNING, **env: str) -> None:
        self.service = FakeService(arn=ARN, status=status)
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.rollback = FakeRollback(configured=True)
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = AlarmDeps(self.service, self.notifier, self.state, self.rollback)

    def deliver(self, event: dict[str, Any], now: datetime = FIRED + timedelta(seconds=5)) -> AlarmResult:
        (result,) = handle_event(event, self.deps, self.settings, now)
        return result

    def hold(self, alarm_name: str) -> Claim:
        """The service paused by this stack's own alarm of that name (us-east-1, the guarded account)."""
        claim = Claim.new(
            ClaimReason.ALARM,
            owner="on_alarm",
            evidence=f"alarm '{alarm_name}' in ALARM",
            now=FIRED - timedelta(hours=1),
            qualifier=alarm_name,
            details={"alarm": alarm_name, "alarm_arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm_name}"},
        )
        claim = claim.model_copy(update={"key": claim_key(alarm_name)})
        self.state.add_claim(ARN, claim)
        self.service.status = ServiceStatus.PAUSED
        return claim

    def claim_keys(self) -> list[str]:
        return [claim.key for claim in self.state.list_claims(ARN)]

    def told(self, result: AlarmResult) -> AlarmTold:
        """The facts the result carries, after checking that the last notification was written from them."""
        assert result.told is not None
        assert self.notifier.sent[-1] == words.notification(result.told, self.service.facts)
        return result.told


def refused(told: AlarmTold, action: AlarmAction) -> Notified:
    """The "nothing beyond this message" of an ALARM whose action ALARM_ACTIONS asked for and Warden refused."""
    assert isinstance(told, Fired)
    assert isinstance(told.did, Notified)
    assert told.did.permission is not None
    assert (told.did.permission.action, told.did.permission.refused) == (AlarmAction.NOTIFY, action)
    return told.did


# --- the class: no action for an alarm that is not provably the guarded service's ------------------


@given(alarm=foreign_alarms(), patterns=st.sampled_from(ARMED_PATTERNS), exact=st.booleans(), held=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_an_alarm_about_another_resource_account_or_region_or_suppressed_never_acts(
    alarm: ForeignAlarm, patterns: str, exact: bool, held: bool
) -> None:
    # Given every alarm armed to pause or roll back (by pattern, and maybe by its exact name), and maybe the
    # service already paused by this stack's own alarm of the same name
    actions = f"{alarm.alarm_name}=pause,{patterns}" if exact else patterns
    world = World(ALARM_ACTIONS=actions)
    before = world.hold(alarm.alarm_name).key if held else None
    # When a state change of an alarm about another resource (or suppressed by CloudWatch) arrives
    result = world.deliver(alarm.event)
    # Then nothing is paused, resumed, deployed or rolled back, and no claim is added or cleared
    assert world.service.targets == [], alarm.origin
    assert world.rollback.requests == [], alarm.origin
    assert world.claim_keys() == ([before] if before else []), alarm.origin
    # And the operator is told, in words that do not blame the guarded service for another resource's alarm
    (sent,) = world.notifier.sent
    if result.outcome is not Outcome.SUPPRESSED:
        for blamed in ("ALARM", "RECOVERED", "OK", "NO DATA", "PAUSED"):
            assert not sent.subject.startswith(f"[warden] {blamed} consultation-app:"), (alarm.origin, sent.subject)
        assert not [advice for advice in APP_RUNNER_ADVICE if advice in sent.body], alarm.origin


# --- the reported instances --------------------------------------------------------------------------


def test_the_readmes_cpu_pattern_does_not_pause_the_service_for_an_ec2_alarm_in_another_region() -> None:
    # Given the README's example ALARM_ACTIONS
    world = World(ALARM_ACTIONS="*-cpu=pause")
    # When the bastion host's CPU alarm (AWS/EC2, ap-northeast-2) fires
    result = world.deliver(load_event("on_alarm", "sns-ec2-cpu-other-region-alarm"))
    # Then the App Runner service is not paused, and the message is about the EC2 instance
    assert result.outcome is Outcome.OTHER_SERVICE
    assert world.service.targets == []
    assert world.claim_keys() == []
    told = world.told(result)
    refused(told, AlarmAction.PAUSE)
    assert told.alarm.concern.resource == "EC2 instance i-0abc1234def567890 in ap-northeast-2"
    # And nothing in it speaks of the guarded service: no status, no App Runner advice
    (sent,) = world.notifier.sent
    assert isinstance(told, Fired)
    assert told.status is None
    assert "more vCPU" not in sent.body
    assert "consultation-app" not in sent.subject


def test_the_readmes_cpu_pattern_does_not_pause_the_service_for_an_rds_alarm() -> None:
    world = World(ALARM_ACTIONS="*-cpu=pause")
    result = world.deliver(load_event("on_alarm", "sns-rds-cpu-alarm"))
    assert result.outcome is Outcome.OTHER_SERVICE
    assert world.service.targets == []
    told = world.told(result)
    assert told.alarm.concern.resource == "RDS orders-db"
    # And ALARM_ACTIONS' pattern is refused, with the reason
    did = refused(told, AlarmAction.PAUSE)
    assert did.permission is not None
    assert did.permission.reason.startswith("ALARM_ACTIONS pattern '*-cpu' maps it to pause, but the alarm watches")


def test_a_suppressed_composite_alarm_is_reported_as_suppressed_and_never_pauses() -> None:
    # Given the composite alarm named exactly in ALARM_ACTIONS
    world = World(ALARM_ACTIONS="consultation-app-unhealthy=pause")
    # When EventBridge reports it in ALARM with its actions suppressed (CloudWatch's suppressor WaitPeriod)
    result = world.deliver(load_event("on_alarm", "eventbridge-suppressed-composite-alarm"))
    # Then nothing is paused or claimed, and the message says CloudWatch suppressed it
    assert result.outcome is Outcome.SUPPRESSED
    assert world.service.targets == []
    assert world.claim_keys() == []
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity.value) == ("alarm.suppressed", "info")
    told = world.told(result)
    assert isinstance(told, Suppressed)
    assert told.alarm.change.actions_suppressed_by == "WaitPeriod"
    assert told.alarm.concern.verdict is Verdict.UNKNOWN
    assert told.claim_key is None


def test_a_suppressed_ok_leaves_the_alarms_own_claim_and_does_not_resume() -> None:
    # Given the 5xx-rate alarm paused the service
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    world.deliver(alarm_event("sns-5xx-rate-alarm", changed_at=FIRED, message_id=str(uuid.uuid4())))
    assert world.claim_keys() == ["alarm#warden-5xx-rate"]
    # When its OK arrives over EventBridge with the actions suppressed
    ok = load_event("on_alarm", "eventbridge-5xx-rate-alarm")
    ok["detail"]["state"].update(
        value="OK",
        timestamp="2026-11-27T10:25:41.102+0000",
        actionsSuppressedBy="ExtensionPeriod",
        actionsSuppressedReason="Actions suppressed by ExtensionPeriod",
    )
    result = world.deliver(ok, FIRED + timedelta(minutes=21))
    # Then resuming, an action, does not run: the claim stays, the message says how to resume by hand
    assert result.outcome is Outcome.SUPPRESSED
    assert world.claim_keys() == ["alarm#warden-5xx-rate"]
    assert world.service.targets == [("pause", ARN)]
    told = world.told(result)
    assert isinstance(told, Suppressed)
    assert told.claim_key == "alarm#warden-5xx-rate"
    assert "warden resume --override alarm" in " ".join(told.undo)


def test_the_ok_of_another_resources_alarm_is_not_announced_as_the_service_recovering() -> None:
    world = World()
    event = load_event("on_alarm", "sns-ec2-cpu-other-region-alarm")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(NewStateValue="OK", OldStateValue="ALARM", StateChangeTime="2026-11-27T10:25:12.402+0000")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    result = world.deliver(event)
    assert result.outcome is Outcome.OK
    told = world.told(result)
    assert isinstance(told, Recovered)
    assert told.alarm.concern.resource == "EC2 instance i-0abc1234def567890 in ap-northeast-2"
    (sent,) = world.notifier.sent
    assert "RECOVERED" not in sent.subject
    assert "consultation-app" not in sent.subject


def test_another_app_runner_services_alarm_is_about_that_service_with_no_app_runner_advice() -> None:
    world = World(ALARM_ACTIONS="*=pause")
    other = ARN.replace("0123456789abcdef" * 2, "f" * 32).replace("consultation-app", "billing-api")
    result = world.deliver(alarm_event("sns-cpu-alarm", service_arn=other))
    assert result.outcome is Outcome.OTHER_SERVICE
    told = world.told(result)
    refused(told, AlarmAction.PAUSE)
    assert told.alarm.concern.resource == f"App Runner service billing-api ({'f' * 32})"
    (sent,) = world.notifier.sent
    assert not [advice for advice in APP_RUNNER_ADVICE if advice in sent.body]


def test_an_exact_name_acts_on_a_composite_alarm_and_a_pattern_does_not() -> None:
    # Given a composite alarm, whose rule reads other alarms: Warden cannot tell which resource it is about
    fixture = "sns-composite-object-children"
    # When only a pattern matches it, Then it only notifies and says how to let it act
    by_pattern = World(ALARM_ACTIONS="consultation-app-*=pause")
    result = by_pattern.deliver(load_event("on_alarm", fixture))
    assert result.outcome is Outcome.NOTIFIED
    assert by_pattern.service.targets == []
    refused(by_pattern.told(result), AlarmAction.PAUSE)
    # When the operator names it exactly, Then it pauses
    by_name = World(ALARM_ACTIONS="consultation-app-unhealthy=pause")
    assert by_name.deliver(load_event("on_alarm", fixture)).outcome is Outcome.PAUSED
    assert by_name.service.targets == [("pause", ARN)]


def test_an_exact_name_never_acts_on_an_alarm_provably_about_another_resource() -> None:
    world = World(ALARM_ACTIONS="bastion-cpu=rollback")
    result = world.deliver(load_event("on_alarm", "sns-ec2-cpu-other-region-alarm"))
    assert result.outcome is Outcome.OTHER_SERVICE
    assert world.rollback.requests == []


def test_the_ok_of_a_same_named_alarm_in_another_account_never_clears_the_claim() -> None:
    # Given the service paused by this stack's warden-5xx-rate alarm
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    world.deliver(alarm_event("sns-5xx-rate-alarm", changed_at=FIRED, message_id=str(uuid.uuid4())))
    # When an alarm of the same name in another account returns to OK
    ok = alarm_event("sns-5xx-rate-ok", changed_at=FIRED + timedelta(minutes=20), message_id=str(uuid.uuid4()))
    ok["Records"][0]["Sns"]["Message"] = ok["Records"][0]["Sns"]["Message"].replace("123456789012", "210987654321")
    world.deliver(ok, FIRED + timedelta(minutes=21))
    # Then the claim stays and the service stays paused
    assert world.claim_keys() == ["alarm#warden-5xx-rate"]
    assert world.service.status is ServiceStatus.PAUSED
    assert world.service.targets == [("pause", ARN)]


def test_the_guarded_services_own_alarm_still_pauses_by_pattern() -> None:
    world = World(ALARM_ACTIONS="*-cpu=pause")
    assert world.deliver(alarm_event("sns-cpu-alarm")).outcome is Outcome.PAUSED
    assert world.service.targets == [("pause", ARN)]


def test_an_alarm_on_warden_itself_keeps_its_notify_only_message_under_the_services_name() -> None:
    # Given every alarm mapped to pause, When Warden's own errors alarm (AWS/Lambda, not the service) fires
    world = World(ALARM_ACTIONS="*=pause")
    result = world.deliver(load_event("on_alarm", "sns-self-errors-alarm"))
    # Then it only notifies, told as before: Warden failing is the guarded service's business
    assert result.outcome is Outcome.NOTIFIED
    assert world.service.targets == []
    told = world.told(result)
    assert told.alarm.self_watching
    assert told.alarm.told_as_the_services
    assert isinstance(told, Fired)
    assert told.did == Notified(permission=None)
