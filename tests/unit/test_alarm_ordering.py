"""Per-alarm state is monotonic in the state-change time (issue 13 §3, first bullet).

Deliveries cross: the OK of 10:25 and the ALARM of 10:05 it ended can be handled at the same time, or the
ALARM after the OK. Whatever the interleaving, the newest state wins: a stale ALARM never leaves a pause
claim behind, the state memo is never moved back to an older state, and the service ends running.

The interleavings are run deterministically, not by luck: two threads share the state, one at a time. The
first handler stops right before its n-th call to the state table, the second runs to its end there, then
the first goes on. Every n is tried, from before its first call to after its last.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.service import ServiceStatus
from warden.errors import ServiceBusy
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, AlarmResult, Outcome, claim_key, handle_event, state_memo

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
RECOVERED = FIRED + timedelta(minutes=20)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ALARM_ACTIONS": "warden-5xx-rate=pause",
    "ALARM_COOLDOWN_MINUTES": "0",
}
WAIT = 10.0  # seconds a thread may take to reach its stop; a guard against a hang, not a timing assertion


class Stopping:
    """The state port: calls from `stopper`'s thread stop before the n-th one until `go` is set."""

    def __init__(self, inner: FakeState, stop_at: int | None) -> None:
        self._inner = inner
        self._stop_at = stop_at
        self.stopper: int | None = None
        self.calls = 0
        self.reached = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self._inner, method)

        def stopping(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self.stopper:
                if self.calls == self._stop_at:
                    self.reached.set()
                    assert self.go.wait(WAIT), "the other handler never finished"
                self.calls += 1
            return call(*args, **kwargs)

        return stopping


class World:
    def __init__(self, stop_at: int | None = None) -> None:
        self.service = FakeService(arn=ARN, status=ServiceStatus.RUNNING)
        self.inner = FakeState()
        self.state = Stopping(self.inner, stop_at)
        self.settings = Settings.from_env(ENV)
        self.deps = AlarmDeps(self.service, FakeNotifier(), self.state, FakeRollback(configured=False))  # type: ignore[arg-type]

    def handle(self, event: dict[str, Any], now: datetime) -> AlarmResult:
        (result,) = handle_event(event, self.deps, self.settings, now)
        return result

    def interleave(self, first: dict[str, Any], second: dict[str, Any]) -> tuple[list[AlarmResult], AlarmResult]:
        """`first` in a thread that stops before its n-th state call; `second` runs to its end meanwhile."""
        results: list[AlarmResult] = []
        errors: list[BaseException] = []

        def run_first() -> None:
            self.state.stopper = threading.get_ident()
            try:
                results.append(self.handle(first, RECOVERED + timedelta(seconds=30)))
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        thread = threading.Thread(target=run_first)
        thread.start()
        while not self.state.reached.wait(0.01) and thread.is_alive():
            pass
        second_result = self.handle(second, RECOVERED + timedelta(seconds=31))
        self.state.go.set()
        thread.join(WAIT)
        assert not thread.is_alive()
        if errors:
            raise errors[0]
        return results, second_result

    def claim_keys(self) -> list[str]:
        return [claim.key for claim in self.inner.list_claims(ARN)]

    def newest(self) -> str | None:
        memo = self.inner.get_memo(ARN, state_memo("warden-5xx-rate")) or {}
        return memo.get("state")


def fired() -> dict[str, Any]:
    return alarm_event("sns-5xx-rate-alarm", changed_at=FIRED, message_id=str(uuid.uuid4()))


def ok() -> dict[str, Any]:
    return alarm_event("sns-5xx-rate-ok", changed_at=RECOVERED, message_id=str(uuid.uuid4()))


def state_calls(event: dict[str, Any]) -> int:
    """How many state-table calls handling `event` alone makes (every stop point of the interleavings)."""
    world = World()
    world.state.stopper = threading.get_ident()
    world.handle(event, RECOVERED)
    return world.state.calls


def test_an_ok_handled_while_its_older_alarm_is_handled_leaves_no_claim_whatever_the_interleaving() -> None:
    # Given the 5xx-rate alarm mapped to pause
    for stop_at in range(state_calls(fired()) + 1):
        world = World(stop_at)
        # When its ALARM (10:05) stops before its n-th state call and its OK (10:25) is handled meanwhile
        world.interleave(fired(), ok())
        # Then no claim holds the service, it runs, and the newest state remembered is the OK
        assert world.claim_keys() == [], f"stopped before state call {stop_at}"
        assert world.service.status is ServiceStatus.RUNNING, f"stopped before state call {stop_at}"
        assert world.newest() == "OK", f"stopped before state call {stop_at}"


def test_an_older_alarm_handled_while_the_ok_is_handled_leaves_no_claim_whatever_the_interleaving() -> None:
    for stop_at in range(state_calls(ok()) + 1):
        world = World(stop_at)
        # When the OK (10:25) stops before its n-th state call and the late ALARM (10:05) is handled meanwhile
        world.interleave(ok(), fired())
        # Then whatever the ALARM did is undone by the OK, or it did nothing: no claim, running, OK remembered
        assert world.claim_keys() == [], f"stopped before state call {stop_at}"
        assert world.service.status is ServiceStatus.RUNNING, f"stopped before state call {stop_at}"
        assert world.newest() == "OK", f"stopped before state call {stop_at}"


def test_the_reported_order_ok_then_the_older_alarm_places_no_claim_and_a_redelivered_ok_changes_nothing() -> None:
    # Given the OK of 10:25 handled
    world = World()
    recovered = ok()
    assert world.handle(recovered, RECOVERED).outcome is Outcome.RECOVERED
    # When the ALARM of 10:05 arrives late
    result = world.handle(fired(), RECOVERED + timedelta(minutes=1))
    # Then it is out of date: no claim, no pause, the OK stays the newest state
    assert result.outcome is Outcome.STALE
    assert result.told is None  # nothing told (its reason's words: tests/golden/texts/alarm.reasons.txt)
    assert world.claim_keys() == []
    assert world.service.mutations == []
    assert world.newest() == "OK"
    # And the OK delivered again is a duplicate that needs nothing
    assert world.handle(recovered, RECOVERED + timedelta(minutes=2)).outcome is Outcome.DUPLICATE
    assert world.service.status is ServiceStatus.RUNNING


def test_a_retry_of_the_same_alarm_finishes_what_its_failed_attempt_started() -> None:
    # Given App Runner busy: the first attempt claims the state, places the claim, and defers
    world = World()
    world.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    event = fired()
    with pytest.raises(ServiceBusy):
        world.handle(event, FIRED + timedelta(seconds=5))
    # When Lambda retries the same delivery once App Runner is done
    world.service.status = ServiceStatus.RUNNING
    result = world.handle(event, FIRED + timedelta(minutes=1))
    # Then the retry is no stale change of itself: it pauses
    assert result.outcome is Outcome.PAUSED
    assert world.claim_keys() == [claim_key("warden-5xx-rate")]


def test_a_retry_of_an_alarm_after_its_ok_was_handled_is_stale_and_leaves_no_claim() -> None:
    # Given the ALARM's first attempt deferred with its claim placed, and then the OK handled
    world = World()
    world.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    event = fired()
    with pytest.raises(ServiceBusy):
        world.handle(event, FIRED + timedelta(seconds=5))
    world.service.status = ServiceStatus.RUNNING
    assert world.handle(ok(), RECOVERED).outcome is Outcome.RECOVERED
    # When Lambda retries the ALARM
    result = world.handle(event, RECOVERED + timedelta(minutes=1))
    # Then it is out of date, and no claim is left
    assert result.outcome is Outcome.STALE
    assert world.claim_keys() == []
    assert world.service.status is ServiceStatus.RUNNING
