"""on_alarm's use case with in-memory fakes: every action, the cool-down and idempotency, no sockets.

The assertions are on what happened: the outcome, the facts the use case returns (`AlarmResult.told`), the service,
the claims and the records. The words of each notification are approved once, in tests/golden/texts/alarm.*.txt
(tests/golden/test_alarm_messages.py, which also runs several of these stories through the use case).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.alarms import (
    AlarmAction,
    AlarmTold,
    ClaimFate,
    CooledDown,
    Expected,
    Fired,
    MetricKind,
    NoData,
    Notified,
    PauseTaken,
    Recovered,
    RollbackTaken,
    ServiceNow,
    Verdict,
)
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Notification, Severity
from warden.domain.service import ServiceStatus
from warden.errors import ServiceBusy
from warden.messages import alarm as words
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, AlarmResult, Outcome, handle_event

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}


class World:
    def __init__(self, *, status: ServiceStatus = ServiceStatus.RUNNING, rollback: bool = False, **env: str) -> None:
        self.service = FakeService(arn=ARN, status=status)
        self.notifier = FakeNotifier()
        self.state = FakeState()
        self.rollback = FakeRollback(configured=rollback)
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = AlarmDeps(self.service, self.notifier, self.state, self.rollback)

    def deliver(self, event: dict[str, Any], now: datetime) -> AlarmResult:
        (result,) = handle_event(event, self.deps, self.settings, now)
        return result

    def fire(
        self, fixture: str = "sns-5xx-rate-alarm", *, at: datetime = FIRED, name: str | None = None
    ) -> AlarmResult:
        """A new state change (a new SNS message) of the alarm at `at`, handled a few seconds later."""
        event = alarm_event(fixture, changed_at=at, message_id=str(uuid.uuid4()), alarm_name=name)
        return self.deliver(event, at + timedelta(seconds=5))

    def recover(self, *, at: datetime, name: str | None = None) -> AlarmResult:
        return self.fire("sns-5xx-rate-ok", at=at, name=name)

    @property
    def last(self) -> Notification:
        return self.notifier.sent[-1]

    def told(self, result: AlarmResult) -> AlarmTold:
        """The facts the result carries, after checking that the last notification was written from them."""
        assert result.told is not None
        assert self.last == words.notification(result.told, self.service.facts)
        return result.told

    def claim_keys(self) -> list[str]:
        return [claim.key for claim in self.state.list_claims(ARN)]


def budget_claim(now: datetime) -> Claim:
    return Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence="spend $10.42 of $10.00", now=now)


# --- notify -----------------------------------------------------------------------------------------


def test_by_default_an_alarm_only_notifies_with_the_whole_story() -> None:
    # Given no ALARM_ACTIONS, When the 5xx-rate alarm fires
    world = World()
    result = world.fire()
    # Then one critical message explains it, and nothing is changed
    assert result.outcome is Outcome.NOTIFIED
    assert world.service.mutations == []
    assert world.claim_keys() == []
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("alarm.fired", Severity.CRITICAL)
    # And it is told from the whole story: the guarded service's 5xx rate at 12.5 %, its status now, and that no
    # ALARM_ACTIONS rule asked for more (the words: tests/golden/texts/alarm.fired.apprunner.txt)
    told = world.told(result)
    assert isinstance(told, Fired)
    assert (told.alarm.kind, told.alarm.concern.verdict) == (MetricKind.ERROR_RATE, Verdict.GUARDED)
    assert told.alarm.observation is not None
    assert told.alarm.observation.value == 12.5
    assert told.status == ServiceNow(arn=ARN, status=ServiceStatus.RUNNING)
    assert isinstance(told.did, Notified)
    assert told.did.permission is not None
    assert told.did.permission.action is AlarmAction.NOTIFY


# --- pause and clear --------------------------------------------------------------------------------


def test_a_pause_alarm_adds_its_own_claim_and_pauses() -> None:
    # Given the 5xx-rate alarm mapped to pause
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    # When it fires
    result = world.fire()
    # Then an alarm#<name> claim holds the service paused and the message says how to undo it
    assert result.outcome is Outcome.PAUSED
    assert world.claim_keys() == ["alarm#warden-5xx-rate"]
    assert world.service.mutations == ["pause"]
    assert world.last.event == "alarm.paused"
    told = world.told(result)
    assert isinstance(told, Fired)
    assert isinstance(told.did, PauseTaken)
    assert told.did.claim_key == "alarm#warden-5xx-rate"
    assert "warden resume --override alarm" in " ".join(told.did.undo)
    assert '"SK":{"S":"CLAIM#alarm#warden-5xx-rate"}' in " ".join(told.did.undo)


def test_the_alarms_return_to_ok_clears_its_claim_resumes_and_says_how_long_it_lasted() -> None:
    # Given a service paused by the 5xx-rate alarm
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    world.fire()
    # When the alarm returns to OK 20 minutes later
    result = world.recover(at=FIRED + timedelta(minutes=20))
    # Then the claim is gone, the service resumed, and the message is a "recovered" with the duration
    assert result.outcome is Outcome.RECOVERED
    assert world.claim_keys() == []
    assert world.service.mutations == ["pause", "resume"]
    assert (world.last.event, world.last.severity) == ("alarm.recovered", Severity.INFO)
    told = world.told(result)
    assert isinstance(told, Recovered)
    assert told.opened_at == FIRED
    assert told.alarm.change.changed_at - told.opened_at == timedelta(minutes=20)
    assert (told.claim.fate, told.claim.claim_key) == (ClaimFate.CLEARED, "alarm#warden-5xx-rate")


def test_clearing_the_alarm_claim_does_not_resume_a_service_another_claim_holds() -> None:
    # Given a service paused by the alarm and also by a budget claim
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    world.fire()
    world.state.add_claim(ARN, budget_claim(FIRED))
    # When the alarm returns to OK
    world.recover(at=FIRED + timedelta(minutes=20))
    # Then only the alarm's claim is cleared and the service stays paused
    assert world.claim_keys() == ["budget"]
    assert world.service.status is ServiceStatus.PAUSED
    assert world.service.mutations == ["pause"]


def test_the_pause_claim_of_alarm_a_is_not_cleared_by_the_ok_of_alarm_b() -> None:
    # Given alarm A paused the service
    world = World(ALARM_ACTIONS="*=pause")
    world.fire(name="alarm-a")
    # When alarm B (which never fired) returns to OK
    result = world.recover(at=FIRED + timedelta(minutes=3), name="alarm-b")
    # Then A's claim stays and the service stays paused
    assert world.claim_keys() == ["alarm#alarm-a"]
    assert world.service.status is ServiceStatus.PAUSED
    told = world.told(result)
    assert isinstance(told, Recovered)
    assert told.claim.fate is ClaimFate.NONE_HELD


def test_an_ok_without_a_recorded_alarm_says_duration_unknown() -> None:
    world = World()
    result = world.recover(at=FIRED)
    assert result.outcome is Outcome.RECOVERED
    told = world.told(result)
    assert isinstance(told, Recovered)
    assert told.opened_at is None
    assert told.after_incident


def test_an_ok_after_insufficient_data_with_no_incident_is_a_plain_ok() -> None:
    world = World()
    event = alarm_event("sns-5xx-rate-ok", changed_at=FIRED)
    event["Records"][0]["Sns"]["Message"] = event["Records"][0]["Sns"]["Message"].replace(
        '"OldStateValue":"ALARM"', '"OldStateValue":"INSUFFICIENT_DATA"'
    )
    result = world.deliver(event, FIRED)
    assert result.outcome is Outcome.OK
    assert (world.last.event, world.last.severity) == ("alarm.ok", Severity.INFO)
    told = world.told(result)
    assert isinstance(told, Recovered)
    assert not told.after_incident


# --- the cool-down ----------------------------------------------------------------------------------


def test_an_alarm_that_flaps_within_the_cool_down_does_not_pause_again_but_still_notifies() -> None:
    # Given the alarm paused at 10:05 and recovered at 10:10 (claim cleared, service resumed)
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause", ALARM_COOLDOWN_MINUTES="30")
    world.fire()
    world.recover(at=FIRED + timedelta(minutes=5))
    # When it fires again at 10:15
    result = world.fire(at=FIRED + timedelta(minutes=10))
    # Then the pause is skipped, and the message says why and when the cool-down ends
    assert result.outcome is Outcome.COOLDOWN
    assert world.service.mutations == ["pause", "resume"]
    assert world.claim_keys() == []
    assert world.last.event == "alarm.cooldown"
    told = world.told(result)
    assert isinstance(told, Fired)
    assert isinstance(told.did, CooledDown)
    assert told.did.action is AlarmAction.PAUSE
    assert told.did.decision.ends_at == FIRED + timedelta(seconds=5) + timedelta(minutes=30)
    skipped = [record for _, record in world.state.actions if record.outcome == "skipped"]
    assert [record.action for record in skipped] == ["pause"]
    # When it fires again after the cool-down, Then it pauses again
    assert world.fire(at=FIRED + timedelta(minutes=40)).outcome is Outcome.PAUSED
    assert world.service.mutations == ["pause", "resume", "pause"]


def test_a_zero_cool_down_lets_every_alarm_act() -> None:
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause", ALARM_COOLDOWN_MINUTES="0")
    world.fire()
    world.recover(at=FIRED + timedelta(minutes=1))
    assert world.fire(at=FIRED + timedelta(minutes=2)).outcome is Outcome.PAUSED


# --- idempotency ------------------------------------------------------------------------------------


def test_repeated_deliveries_of_one_state_change_act_once_and_notify_once() -> None:
    # Given the alarm mapped to pause, delivered three times by SNS and once by EventBridge
    world = World(ALARM_ACTIONS="warden-5xx-rate=pause")
    sns = alarm_event("sns-5xx-rate-alarm")
    outcomes = [world.deliver(sns, FIRED + timedelta(seconds=5 + n)).outcome for n in range(3)]
    twin = world.deliver(load_event("on_alarm", "eventbridge-5xx-rate-alarm"), FIRED + timedelta(seconds=9))
    # Then one pause, one claim, one notification
    assert outcomes == [Outcome.PAUSED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert twin.outcome is Outcome.DUPLICATE
    assert world.service.mutations == ["pause"]
    assert world.claim_keys() == ["alarm#warden-5xx-rate"]
    assert len(world.notifier.sent) == 1


def test_a_busy_service_defers_with_a_retryable_error_and_the_retry_pauses_and_notifies_once() -> None:
    # Given App Runner busy with a deployment
    world = World(status=ServiceStatus.OPERATION_IN_PROGRESS, ALARM_ACTIONS="warden-5xx-rate=pause")
    event = alarm_event("sns-5xx-rate-alarm")
    # When the alarm arrives, Then a retryable error escapes and nothing is told yet
    with pytest.raises(ServiceBusy):
        world.deliver(event, FIRED)
    assert world.notifier.sent == []
    # When Lambda retries after the deployment, Then the pause happens and is told once
    world.service.status = ServiceStatus.RUNNING
    assert world.deliver(event, FIRED + timedelta(minutes=1)).outcome is Outcome.PAUSED
    assert world.service.mutations == ["pause"]
    assert len(world.notifier.sent) == 1


# --- rollback ---------------------------------------------------------------------------------------


def test_a_rollback_alarm_without_a_configured_rollback_says_to_run_it_by_hand() -> None:
    # Given the 5xx-rate alarm mapped to rollback and no rollback in this stack
    world = World(ALARM_ACTIONS="warden-5xx-rate=rollback")
    # When it fires
    result = world.fire()
    # Then nothing is changed and the operator is told to roll back by hand
    assert result.outcome is Outcome.ROLLBACK_NOT_CONFIGURED
    assert world.service.mutations == []
    assert world.rollback.requests == []
    assert world.last.event == "alarm.rollback_unconfigured"
    told = world.told(result)
    assert isinstance(told, Fired)
    assert isinstance(told.did, RollbackTaken)
    assert told.did.detail is None


def test_a_configured_rollback_is_requested_once_per_cool_down() -> None:
    world = World(rollback=True, ALARM_ACTIONS="warden-5xx-rate=rollback")
    result = world.fire()
    assert result.outcome is Outcome.ROLLBACK
    told = world.told(result)
    assert isinstance(told, Fired)
    assert isinstance(told.did, RollbackTaken)
    assert told.did.detail == "Started rolling back to the previous release (request 1)."
    assert world.fire(at=FIRED + timedelta(minutes=10)).outcome is Outcome.COOLDOWN
    assert len(world.rollback.requests) == 1
    assert "warden-5xx-rate" in world.rollback.requests[0]


# --- no instances, other services, missing data, dry run --------------------------------------------


def test_no_active_instances_while_a_claim_holds_the_service_paused_is_expected_and_not_acted_on() -> None:
    # Given a service paused by a budget claim, and the no-instances alarm mapped to pause
    world = World(status=ServiceStatus.PAUSED, ALARM_ACTIONS="warden-no-instances=pause")
    world.state.add_claim(ARN, budget_claim(FIRED - timedelta(hours=2)))
    # When the no-instances alarm fires
    result = world.fire("sns-no-instances-alarm")
    # Then it is reported as expected, at info level, with who holds the pause; nothing is done
    assert result.outcome is Outcome.EXPECTED
    assert world.claim_keys() == ["budget"]
    assert world.service.mutations == []
    assert (world.last.event, world.last.severity) == ("alarm.expected", Severity.INFO)
    told = world.told(result)
    assert isinstance(told, Expected)
    assert told.paused_by == "paused by budget (since 2026-11-27 08:05 UTC)"
    assert told.status.claims == ("budget",)


def test_no_active_instances_while_the_service_should_run_is_an_alarm() -> None:
    world = World(ALARM_ACTIONS="warden-no-instances=pause")
    result = world.fire("sns-no-instances-alarm")
    assert result.outcome is Outcome.PAUSED
    told = world.told(result)
    assert isinstance(told, Fired)
    assert told.alarm.kind is MetricKind.INSTANCES
    assert told.alarm.observation is not None
    assert told.alarm.observation.value == 0


def test_an_alarm_on_another_app_runner_service_never_acts_on_the_guarded_one() -> None:
    world = World(ALARM_ACTIONS="*=pause")
    event = alarm_event("sns-cpu-alarm", service_arn=ARN.replace("0123456789abcdef" * 2, "f" * 32))
    result = world.deliver(event, FIRED)
    assert result.outcome is Outcome.OTHER_SERVICE
    assert world.service.mutations == []
    # And the message is about that other service, not the guarded one, and tells no status of the guarded one
    told = world.told(result)
    assert isinstance(told, Fired)
    assert told.status is None
    assert told.alarm.concern.resource == f"App Runner service consultation-app ({'f' * 32})"
    assert world.last.subject.startswith(f"[warden] ALARM {told.alarm.concern.resource}:")
    assert "0123456789abcdef" * 2 in told.alarm.concern.reason  # the guarded service, named as not the one watched


def test_insufficient_data_is_told_once_as_information_and_never_acted_on() -> None:
    world = World(ALARM_ACTIONS="*=pause")
    event = alarm_event("sns-cpu-alarm")
    event["Records"][0]["Sns"]["Message"] = event["Records"][0]["Sns"]["Message"].replace(
        '"NewStateValue":"ALARM"', '"NewStateValue":"INSUFFICIENT_DATA"'
    )
    results = [world.deliver(event, FIRED) for _ in range(2)]
    assert [result.outcome for result in results] == [Outcome.INSUFFICIENT_DATA, Outcome.DUPLICATE]
    assert world.service.mutations == []
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("alarm.insufficient_data", Severity.INFO)
    assert isinstance(world.told(results[0]), NoData)
    assert results[1].told is None


def test_dry_run_pauses_nothing_and_says_what_would_have_happened() -> None:
    world = World(DRY_RUN="true", ALARM_ACTIONS="warden-5xx-rate=pause")
    result = world.fire()
    assert result.outcome is Outcome.WOULD_PAUSE
    assert world.service.mutations == []
    assert world.claim_keys() == []
    assert world.last.event == "alarm.dry_run"
    told = world.told(result)
    assert isinstance(told, Fired)
    assert isinstance(told.did, PauseTaken)
    assert all(line.startswith("[dry run]") for line in told.did.claim_lines)


def test_a_direct_alarm_invocation_is_handled_like_an_sns_delivery() -> None:
    world = World()
    result = world.deliver(load_event("on_alarm", "direct-memory-alarm"), FIRED)
    assert result.outcome is Outcome.NOTIFIED
    told = world.told(result)
    assert (told.alarm.kind, told.alarm.concern.verdict) == (MetricKind.MEMORY, Verdict.GUARDED)
    assert told.alarm.observation is not None
    assert told.alarm.observation.value == 97.6


def test_a_composite_alarm_names_its_triggering_children() -> None:
    world = World()
    told = world.told(world.deliver(load_event("on_alarm", "sns-composite-string-children"), FIRED))
    assert told.alarm.kind is MetricKind.COMPOSITE
    assert [child.name for child in told.alarm.change.triggering_children] == ["warden-5xx-rate"]
    assert "warden-5xx-rate" in world.last.body


# --- what Warden cannot read ------------------------------------------------------------------------


def test_an_unparseable_message_is_forwarded_verbatim_once() -> None:
    # Given a message on the alarm topic that is no alarm, delivered twice
    world = World()
    event = load_event("on_alarm", "unparseable-message")
    outcomes = [world.deliver(event, FIRED).outcome for _ in range(2)]
    # Then it is forwarded once, verbatim, with the reason
    assert outcomes == [Outcome.FORWARDED, Outcome.DUPLICATE]
    (sent,) = world.notifier.sent
    assert sent.event == "alert.unparsed"
    assert '{"AlarmName": "warden-5xx-rate", "note": "hand-published test message"}' in sent.body


def test_an_invocation_that_is_neither_sns_nor_an_alarm_is_forwarded() -> None:
    world = World()
    (result,) = handle_event({"hello": "world"}, world.deps, world.settings, FIRED)
    assert result.outcome is Outcome.FORWARDED
    assert '"hello": "world"' in world.last.body
