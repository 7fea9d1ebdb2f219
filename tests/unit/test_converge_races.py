"""Converging is race-free against concurrent claim changes (issue 13 §3).

Two claim operations run through their production use cases over the in-memory fakes, on two threads. A gate
parks the first at a chosen call to a port (a claim read, a describe, a pause or resume, ...) while the second
runs to its end, then lets the first go on: every interleaving is played on purpose, none by luck. The invariant
afterwards, with no reconcile: the service is in the state its claims ask for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgets, FakeNotifier, FakeService, FakeState
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason, DesiredState, desired_state
from warden.domain.records import ActionRecord
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import InvalidServiceState, ServiceBusy
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.budget_alert import BudgetAlertDeps, handle_message
from warden.usecases.claims import ClaimDeps, place_claim, release_claim
from warden.usecases.converge import converge
from warden.usecases.operator import OperatorDeps, manual_pause, manual_resume
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MONDAY_1800 = MONDAY_0800.replace(hour=18)
ALARM = "alarm#warden-5xx-rate"
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
}


# -- the gate ----------------------------------------------------------------------------------------------
@dataclass
class Gate:
    """Parks the thread `parked` just before its `occurrence`-th call (from 0) named `call` until `go` is set."""

    parked: int | None = None
    call: str = ""
    occurrence: int = 0
    seen: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)  # parked, or finished without parking
    go: threading.Event = field(default_factory=threading.Event)
    held: bool = False

    def tick(self, call: str) -> None:
        if threading.get_ident() != self.parked or call != self.call:
            return
        if self.seen == self.occurrence:
            self.held = True
            self.stopped.set()
            assert self.go.wait(timeout=30), "the gate was never opened"
        self.seen += 1


@dataclass
class GatedState(FakeState):
    gate: Gate = field(default_factory=Gate)

    def list_claims(self, service_arn: str) -> list[Claim]:
        self.gate.tick("list_claims")
        return super().list_claims(service_arn)

    def add_claim(self, service_arn: str, claim: Claim) -> bool:
        self.gate.tick("add_claim")
        return super().add_claim(service_arn, claim)

    def get_claim(self, service_arn: str, key: str) -> Claim | None:
        self.gate.tick("get_claim")
        return super().get_claim(service_arn, key)

    def remove_claim(self, service_arn: str, key: str) -> bool:
        self.gate.tick("remove_claim")
        return super().remove_claim(service_arn, key)

    def record_action(self, service_arn: str, record: ActionRecord) -> None:
        self.gate.tick("record_action")
        super().record_action(service_arn, record)

    def list_actions(self, service_arn: str, limit: int = 50) -> Sequence[ActionRecord]:
        self.gate.tick("list_actions")
        return super().list_actions(service_arn, limit)


@dataclass
class GatedService(FakeService):
    """FakeService (a pause or resume takes effect at once), with each call passing the gate."""

    gate: Gate = field(default_factory=Gate)

    def describe(self, service_arn: str) -> ServiceSnapshot:
        self.gate.tick("describe")
        return super().describe(service_arn)

    def pause(self, service_arn: str) -> str | None:
        self.gate.tick("pause")
        return super().pause(service_arn)

    def resume(self, service_arn: str) -> str | None:
        self.gate.tick("resume")
        return super().resume(service_arn)


@dataclass
class SlowGatedService(GatedService):
    """App Runner's timing: a pause or resume leaves the service OPERATION_IN_PROGRESS until `settle`."""

    heading_to: ServiceStatus | None = None

    def _change(self, call: str, required: ServiceStatus, target: ServiceStatus) -> str:
        self.calls.append(call)
        if self.status is not required:
            raise InvalidServiceState(f"{call}: service is {self.status.value}")
        self.status, self.heading_to = ServiceStatus.OPERATION_IN_PROGRESS, target
        return f"op-{call}"

    def settle(self) -> None:
        if self.heading_to is not None:
            self.status, self.heading_to = self.heading_to, None


# -- the world and the operations --------------------------------------------------------------------------
def _budget(actual: str) -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly", limit=Money(amount=Decimal("10.00")), actual=Money(amount=Decimal(actual))
    )


class World:
    """A service converged with `claims` (budget claims from last month, so a roll-over would clear them)."""

    def __init__(self, claims: frozenset[str], *, slow: bool = False) -> None:
        self.gate = Gate()
        self.state = GatedState(gate=self.gate)
        status = ServiceStatus.PAUSED if claims else ServiceStatus.RUNNING
        service_type = SlowGatedService if slow else GatedService
        self.service = service_type(arn=ARN, status=status, gate=self.gate)
        self.notifier = FakeNotifier()
        self.settings = Settings.from_env(ENV)
        self.operator = OperatorDeps(self.service, self.state, self.notifier, FakeBudgets(_budget("10.42")))
        self.breach = BudgetAlertDeps(self.service, FakeBudgets(_budget("10.42")), self.notifier, self.state)
        self.schedule = ScheduleDeps(self.service, self.state, self.notifier, FakeBudgets(_budget("0.50")))
        self.alerts = 0
        for key in sorted(claims):
            reason, _, qualifier = key.partition("#")
            claim = Claim.new(
                ClaimReason(reason),
                owner="seed",
                evidence=f"seeded {key}",
                now=MONDAY_0800 - timedelta(days=30),
                qualifier=qualifier or None,
                details={"period_start": "2026-10-01"} if reason == "budget" else None,
            )
            self.state.claims[(ARN, key)] = claim

    @property
    def paused(self) -> bool:
        return self.service.status is ServiceStatus.PAUSED

    def wanted(self) -> DesiredState:
        return desired_state(self.state.list_claims(ARN)).state


Operation = Callable[[World], Any]


def budget_breach(world: World) -> Any:
    # Two alerts racing are two SNS messages (the same one twice is held off by the event lock, on purpose).
    world.alerts += 1
    text = budget_message(threshold="$10.00", amount="$10.42")
    (message,) = parse_sns_event(sns_event(text, message_id=f"11111111-2222-3333-4444-{world.alerts:012d}"))
    return handle_message(message, world.breach, world.settings, MONDAY_0800)


def manual_resume_op(world: World) -> Any:
    return manual_resume(world.operator, world.settings, who="alice", reason="done", override=None, now=MONDAY_0800)


def override_budget(world: World) -> Any:
    return manual_resume(
        world.operator, world.settings, who="bob", reason="raised", override=ClaimReason.BUDGET, now=MONDAY_0800
    )


def manual_pause_op(world: World) -> Any:
    return manual_pause(world.operator, world.settings, who="alice", reason="maintenance", now=MONDAY_0800)


def alarm(world: World) -> Any:
    claim = Claim.new(ClaimReason.ALARM, owner="on_alarm", evidence="5xx", now=MONDAY_0800, qualifier="warden-5xx-rate")
    deps = ClaimDeps(world.service, world.state)
    return place_claim(deps, ARN, claim, now=MONDAY_0800, actor="on_alarm", dry_run=False, source_event="alarm-1")


def alarm_ok(world: World) -> Any:
    deps = ClaimDeps(world.service, world.state)
    return release_claim(deps, ARN, ALARM, now=MONDAY_0800, actor="on_alarm", reason="OK", dry_run=False)


OPERATIONS: dict[str, Operation] = {
    "budget breach": budget_breach,
    "period roll-over": lambda world: run_job(Job.BUDGET_PERIOD_CHECK, world.schedule, world.settings, MONDAY_0800),
    "schedule end": lambda world: run_job(Job.WORKDAY_END, world.schedule, world.settings, MONDAY_1800),
    "schedule start": lambda world: run_job(Job.WORKDAY_START, world.schedule, world.settings, MONDAY_0800),
    "manual pause": manual_pause_op,
    "manual resume": manual_resume_op,
    "override budget": override_budget,
    "alarm": alarm,
    "alarm OK": alarm_ok,
}


@dataclass
class Played:
    first: Any
    second: Any
    held: bool  # the first operation was parked; False: it ran to its end before the second started


def interleave(world: World, first: Operation, second: Operation, call: str, occurrence: int = 0) -> Played:
    """Runs `first` on a thread parked before its `occurrence`-th port call named `call`, `second` to its end
    meanwhile, then the rest of `first`. Each operation's result is its return value, or the exception it raised."""
    outcome: dict[str, Any] = {}

    def run_first() -> None:
        world.gate.parked = threading.get_ident()
        try:
            outcome["first"] = first(world)
        except Exception as error:  # reported as the outcome, and checked by the test
            outcome["first"] = error
        finally:
            world.gate.parked = None
            world.gate.stopped.set()

    thread = threading.Thread(target=run_first)
    world.gate.call, world.gate.occurrence = call, occurrence
    thread.start()
    assert world.gate.stopped.wait(timeout=30), "the first operation neither parked nor finished"
    held = world.gate.held
    try:
        second_outcome: Any = second(world)
    except Exception as error:
        second_outcome = error
    world.gate.go.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return Played(first=outcome["first"], second=second_outcome, held=held)


def _raised(played: Played) -> list[BaseException]:
    return [result for result in (played.first, played.second) if isinstance(result, BaseException)]


# -- the instances the issue names ---------------------------------------------------------------------------
def test_a_budget_pause_racing_warden_resume_leaves_the_service_paused_and_says_so() -> None:
    # Given a service paused by hand, and the operator's `warden resume` that has read the claims (none left)
    world = World(frozenset({"manual"}))
    # When a confirmed budget breach places the budget claim before the resume reaches App Runner
    played = interleave(world, manual_resume_op, budget_breach, "resume")
    # Then the service ends paused, as the budget claim wants, with no reconcile
    assert played.held
    assert _raised(played) == []
    assert [claim.key for claim in world.state.list_claims(ARN)] == ["budget"]
    assert world.paused
    # And the last word the operator got does not say the service was resumed
    assert "RESUMED" not in world.notifier.sent[-1].subject


def test_warden_resume_override_budget_racing_a_budget_pause_leaves_the_service_running() -> None:
    # Given a running service and a budget breach that has placed its claim and read the claims
    world = World(frozenset())
    # When the operator overrides the budget before the pause reaches App Runner
    played = interleave(world, budget_breach, override_budget, "pause")
    # Then the service runs, as no claim holds it, and the budget alert does not claim it paused it
    assert played.held
    assert _raised(played) == []
    assert world.state.list_claims(ARN) == []
    assert world.service.status is ServiceStatus.RUNNING
    budget_notice = next(sent for sent in world.notifier.sent if sent.event.startswith("budget."))
    assert budget_notice.event not in {"budget.paused", "budget.already_paused"}


def test_the_morning_resume_racing_an_alarm_pause_leaves_the_service_paused() -> None:
    # Given a service paused by the evening schedule, and the 08:00 job that has cleared its claim and read none
    world = World(frozenset({"schedule"}))
    # When an alarm places its claim before the resume reaches App Runner
    played = interleave(world, OPERATIONS["schedule start"], alarm, "resume")
    # Then the alarm's claim keeps the service paused
    assert played.held
    assert _raised(played) == []
    assert [claim.key for claim in world.state.list_claims(ARN)] == [ALARM]
    assert world.paused


def test_an_alarm_pause_racing_the_morning_resume_leaves_the_service_paused() -> None:
    # Given a service paused by the schedule and an alarm whose claim is placed and whose converge has read it
    world = World(frozenset({"schedule"}))
    # When the 08:00 job clears the schedule claim meanwhile
    played = interleave(world, alarm, OPERATIONS["schedule start"], "describe")
    # Then the alarm's claim keeps the service paused
    assert _raised(played) == []
    assert [claim.key for claim in world.state.list_claims(ARN)] == [ALARM]
    assert world.paused


def test_a_manual_pause_racing_warden_resume_does_not_tell_of_a_pause() -> None:
    # Given `warden pause` that has placed its claim and read the claims, on a running service
    world = World(frozenset())
    # When `warden resume` clears that claim before the pause reaches App Runner
    played = interleave(world, manual_pause_op, manual_resume_op, "pause")
    # Then the service runs, as no claim holds it, and the pause's own notification does not say it paused
    assert played.held
    assert _raised(played) == []
    assert world.state.list_claims(ARN) == []
    assert world.service.status is ServiceStatus.RUNNING
    assert "PAUSED" not in world.notifier.sent[-1].subject


@dataclass
class FlappingState(FakeState):
    """Claims that another source places and clears again on every read: they never settle."""

    reads: int = 0

    def list_claims(self, service_arn: str) -> list[Claim]:
        self.reads += 1
        if self.reads % 2:
            return [Claim.new(ClaimReason.ALARM, owner="on_alarm", evidence="flapping", now=MONDAY_0800)]
        return []


def test_claims_that_never_settle_end_in_a_retryable_error_not_a_loop() -> None:
    # Given claims that change on every read
    service, state = FakeService(arn=ARN), FlappingState()
    # When Warden converges
    with pytest.raises(ServiceBusy, match="kept changing"):
        converge(service, state, ARN, state.list_claims(ARN), now=MONDAY_0800, actor="test", dry_run=False)
    # Then it gave up after a bounded number of rounds, with a retryable error (Lambda retries; the reconcile
    # finishes it), and every call it made is in the action log
    assert state.reads <= 10
    assert [record.action for _, record in state.actions] == service.mutations


# -- every interleaving of two operations, at every port call -------------------------------------------------
CLAIM_KEYS = ("budget", "schedule", "manual", ALARM)
# Where a race can bite: between reading the claims and calling the service. Parking elsewhere (before a claim
# write, or the action log) runs the two one after the other, which the pause-ownership tests cover. With more
# than two claims held no single change flips what they want.
PORT_CALLS = ("list_claims", "describe", "pause", "resume")
races = given(
    claims=st.frozensets(st.sampled_from(CLAIM_KEYS), max_size=2),
    first=st.sampled_from(sorted(OPERATIONS)),
    second=st.sampled_from(sorted(OPERATIONS)),
    call=st.sampled_from(PORT_CALLS),
    occurrence=st.integers(min_value=0, max_value=2),
)


@settings(max_examples=600, deadline=None)
@races
def test_after_any_two_racing_claim_changes_the_service_is_in_the_state_its_claims_want(
    claims: frozenset[str], first: str, second: str, call: str, occurrence: int
) -> None:
    # Given a service converged with `claims`
    world = World(claims)
    # When two claim operations interleave at any port call of the first
    played = interleave(world, OPERATIONS[first], OPERATIONS[second], call, occurrence)
    # Then neither failed, and the service is paused exactly when a claim is left: no reconcile needed
    assert _raised(played) == []
    assert world.paused == (world.wanted() is DesiredState.PAUSED)


@settings(max_examples=600, deadline=None)
@races
def test_with_app_runner_timing_a_race_is_never_left_out_of_step_silently(
    claims: frozenset[str], first: str, second: str, call: str, occurrence: int
) -> None:
    # Given App Runner's timing: a pause or resume keeps the service OPERATION_IN_PROGRESS until it settles
    world = World(claims, slow=True)
    # When two claim operations interleave at any port call of the first
    played = interleave(world, OPERATIONS[first], OPERATIONS[second], call, occurrence)
    assert isinstance(world.service, SlowGatedService)
    world.service.settle()
    # Then either the service settles in the state its claims want, or an operation said it could not finish now
    # (ServiceBusy: Lambda retries it, and the reconcile finishes it)
    raised = _raised(played)
    assert all(isinstance(error, ServiceBusy) for error in raised), raised
    if not raised:
        assert world.paused == (world.wanted() is DesiredState.PAUSED)


@pytest.mark.parametrize("first", sorted(OPERATIONS))
def test_an_operation_left_to_run_first_is_the_same_as_running_both_in_turn(first: str) -> None:
    # Given a gate placed beyond the operation's last port call, When both run, Then they ran one after the other
    world = World(frozenset({"manual"}))
    played = interleave(world, OPERATIONS[first], OPERATIONS["manual resume"], "describe", occurrence=10_000)
    assert not played.held
    assert world.paused == (world.wanted() is DesiredState.PAUSED)
