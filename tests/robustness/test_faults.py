"""Faults between Warden and AWS: throttling, connection resets, 500s, timeouts and lost answers.

Every use case runs through fault proxies (local/faults.py) in front of moto and the App Runner emulator.
The proxy decides before forwarding, so a failed attempt never reached the upstream, and its log shows every
attempt botocore made. The invariants:
- every job completes through botocore's retries, or fails cleanly with a RetryableError (which Lambda
  retries; here the same invocation runs again once the fault is gone) and then completes;
- nothing is done twice: one pause for one breach, one deactivation, one deletion of each image, even when
  the upstream applied a call whose answer was lost;
- nothing is lost: the event completes or its error propagates;
- the retries are botocore's: after each failed attempt comes the same call again, up to the total its
  standard mode allows for the product's one Config, and each retry asked botocore's backoff for its delay.

botocore's backoff sleeps (up to seconds per throttled attempt) are skipped here: the delay is computed by
botocore, recorded, and not slept. Which errors are retried, and how often, is left to botocore.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.retries import standard

from local.account import LocalAccount, LocalServers
from local.faults import Call, FaultPlan, FaultProxy, Rule
from tests.robustness.scenarios import USE_CASES, Outcome, UseCase, botocore_total_attempts, run_use_case
from warden.adapters import clients

pytestmark = pytest.mark.robustness

TOTAL_ATTEMPTS = botocore_total_attempts()  # 6: the product's max_attempts 5 are retries after the first
CASES = list(USE_CASES)


@pytest.fixture(scope="module")
def backoffs() -> Iterator[list[float]]:
    """Every delay botocore's standard-mode backoff computed (and the tests did not sleep)."""
    computed: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def delay_amount(self: standard.ExponentialBackoff, context: Any) -> float:
        computed.append(original(self, context))
        return 0.0

    standard.ExponentialBackoff.delay_amount = delay_amount  # type: ignore[method-assign]
    yield computed
    standard.ExponentialBackoff.delay_amount = original  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def proxies(robustness_servers: LocalServers, backoffs: list[float]) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    """A proxy in front of moto and one in front of the emulator; Warden's clients are built against them."""
    moto = FaultProxy(robustness_servers.moto_url, FaultPlan()).start()
    apprunner = FaultProxy(robustness_servers.apprunner_url, FaultPlan()).start()
    clients.client.cache_clear()
    yield moto, apprunner
    clients.client.cache_clear()
    moto.stop()
    apprunner.stop()


def run(case: str, account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy], plan: FaultPlan) -> Outcome:
    return run_use_case(USE_CASES[case], account, proxies, plan)


def botocore_retries(calls: list[Call]) -> list[list[Call]]:
    """The attempts grouped into logical calls: a failed attempt is followed by the same call again."""
    groups: list[list[Call]] = []
    for call in calls:
        last = groups[-1][-1] if groups else None
        retry = (
            last is not None
            and last.fault != "pass"
            and (last.service, last.operation)
            == (
                call.service,
                call.operation,
            )
        )
        if retry and len(groups[-1]) < TOTAL_ATTEMPTS:
            groups[-1].append(call)
        else:
            groups.append([call])
    return groups


# The ECS controller's Express Mode probe makes one attempt by design (adapters/ecs.py): a failed probe means
# "the plain ECS path this time", never a failed invocation.
ONE_ATTEMPT = frozenset({"DescribeExpressGatewayService"})


def assert_retried_by_botocore(outcome: Outcome) -> None:
    for attempts in botocore_retries(outcome.calls):
        # Every attempt but the last failed; a logical call that never passed used all of botocore's attempts.
        assert all(attempt.fault != "pass" for attempt in attempts[:-1])
        if attempts[-1].fault != "pass":
            expected = 1 if attempts[-1].operation in ONE_ATTEMPT else TOTAL_ATTEMPTS
            assert len(attempts) == expected, attempts


FAULT_MODES = {
    "throttling on a third of the calls": lambda case: FaultPlan(every=3, every_fault="throttle"),
    "a connection reset on the mutating call": lambda case: FaultPlan(rules=[Rule("reset", operation=case.mutating)]),
    "a 500 on the mutating call": lambda case: FaultPlan(rules=[Rule("error", operation=case.mutating)]),
}


@pytest.mark.parametrize("mode", list(FAULT_MODES))
@pytest.mark.parametrize("case", CASES)
def test_each_use_case_completes_through_botocores_retries_and_acts_once(
    case: str, mode: str, account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    # Given the use case's calls failing as the mode says
    use_case: UseCase = USE_CASES[case]
    plan = FAULT_MODES[mode](use_case)
    # When it runs
    outcome = run(case, account, proxies, plan)
    # Then botocore's retries alone carried it through: no invocation failed
    assert outcome.retried == []
    assert plan.faulted(), "no fault was injected"
    assert_retried_by_botocore(outcome)
    # And every effect happened exactly as without faults, the mutating call reaching AWS once
    assert outcome.effects == use_case.expected
    assert outcome.reached(use_case.mutating) == use_case.mutating_calls


# The event-driven use cases fail cleanly and Lambda's retry completes them; the two batch jobs turn a failed
# item into a result (the digest or the summary says so) and leave it to their next run.
PER_ITEM = {"key audit": "reported", "image purge": "partial"}
EXHAUSTED = [(case, USE_CASES[case].mutating) for case in CASES] + [("alarm and recovery", "ResumeService")]


@pytest.mark.parametrize(("case", "operation"), EXHAUSTED)
def test_a_call_failing_all_of_botocores_attempts_fails_cleanly_and_is_done_once_on_the_retry(
    case: str, operation: str, account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy], backoffs: list[float]
) -> None:
    # Given the call throttled on every attempt botocore makes
    plan = FaultPlan(rules=[Rule("throttle", operation=operation, times=TOTAL_ATTEMPTS)])
    before = len(backoffs)
    # When the use case runs
    outcome = run(case, account, proxies, plan)
    # Then botocore made all its attempts, each retry waiting the delay its standard backoff computed (within its
    # throttling bounds, 1 s x 2^(attempt - 1) jittered), and none of them reached AWS
    attempts = [call.fault for call in outcome.calls if call.operation == operation]
    assert attempts[:TOTAL_ATTEMPTS] == ["throttle"] * TOTAL_ATTEMPTS
    assert_retried_by_botocore(outcome)
    delays = backoffs[before : before + TOTAL_ATTEMPTS - 1]
    assert len(delays) == TOTAL_ATTEMPTS - 1
    assert all(0 <= delay <= 2**attempt for attempt, delay in enumerate(delays))
    if case in PER_ITEM:
        # And the batch job reported the failed item and did nothing twice
        assert outcome.retried == []
        assert outcome.results == [PER_ITEM[case]]
        assert outcome.reached(operation) == 0
        assert outcome.effects["notifications"] == 1
    else:
        # And the invocation failed with a RetryableError; Lambda's retry did it once, and told once
        (error,) = outcome.retried
        service = "ecs" if case.startswith("ECS") else "apprunner"
        assert error.startswith(f"AwsUnavailable: {service} {operation} failed after botocore's retries")
        assert outcome.reached(operation) == (
            USE_CASES[case].mutating_calls if operation == USE_CASES[case].mutating else 1
        )
        assert outcome.effects == USE_CASES[case].expected


def test_a_notification_that_cannot_be_sent_fails_the_invocation_and_the_retry_does_not_pause_again(
    account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    # Given SNS failing with 500s on every attempt of the first Publish
    plan = FaultPlan(rules=[Rule("error", service="sns", operation="Publish", times=TOTAL_ATTEMPTS)])
    outcome = run("budget breach", account, proxies, plan)
    # Then the invocation failed after pausing; Lambda's retry told the operator, and paused nothing again
    (error,) = outcome.retried
    assert error.startswith("AwsUnavailable: sns Publish")
    assert outcome.results == ["paused"]
    assert outcome.reached("PauseService") == 1
    assert outcome.effects == USE_CASES["budget breach"].expected


@pytest.mark.parametrize("case", CASES)
def test_a_mutating_call_applied_upstream_whose_answer_was_lost_is_not_applied_twice(
    case: str, account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    # Given the mutating call applied by AWS, its answer lost on the way back
    use_case = USE_CASES[case]
    plan = FaultPlan(rules=[Rule("lost", operation=use_case.mutating)])
    # When the use case runs
    outcome = run(case, account, proxies, plan)
    # Then botocore sent it again (AWS saw it twice) and Warden converged on the first one's effect
    assert outcome.reached(use_case.mutating) == use_case.mutating_calls + 1
    assert outcome.retried == []
    assert outcome.effects == use_case.expected


def test_a_lost_answer_to_the_event_lock_does_not_lock_the_event_out(
    account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    # Given the first DynamoDB write (the handled-event lock) applied, its answer lost
    plan = FaultPlan(rules=[Rule("lost", service="dynamodb", operation="PutItem")])
    outcome = run("budget breach", account, proxies, plan)
    # Then botocore's retry finds its own lock and the event is handled at once, not refused as "in progress"
    assert outcome.retried == []
    assert outcome.results == ["paused"]
    assert outcome.effects == USE_CASES["budget breach"].expected


def test_a_lost_answer_to_sns_publish_is_the_one_repeat_left_the_operator_receives_that_notification_twice(
    account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    # Given the notification published by SNS, its answer lost: botocore publishes again. SNS standard topics
    # have no deduplication, so this is a known, harmless repeat (AWS says the same of its own retries).
    plan = FaultPlan(rules=[Rule("lost", service="sns", operation="Publish")])
    outcome = run("budget breach", account, proxies, plan)
    assert outcome.results == ["paused"]
    assert outcome.reached("PauseService") == 1
    assert outcome.effects == {**USE_CASES["budget breach"].expected, "notifications": 2}


def test_a_read_timeout_is_retried_by_botocore_and_the_timed_out_attempt_never_reached_app_runner(
    account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the product's Config with a 1-second read timeout (15 s in production: too slow for a test), and
    # the proxy holding PauseService's first attempt for 2 s before closing the connection unanswered
    monkeypatch.setattr(clients, "CONFIG", clients.CONFIG.merge(Config(read_timeout=1)))
    clients.client.cache_clear()
    _, apprunner = proxies
    monkeypatch.setattr(apprunner, "hang_seconds", 2.0)
    plan = FaultPlan(rules=[Rule("timeout", operation="PauseService")])
    try:
        outcome = run("budget breach", account, proxies, plan)
    finally:
        clients.client.cache_clear()
    # Then botocore timed out, retried once, and App Runner saw one PauseService
    assert [call.fault for call in outcome.calls if call.operation == "PauseService"] == ["timeout", "pass"]
    assert outcome.reached("PauseService") == 1
    assert outcome.retried == []
    assert outcome.effects == USE_CASES["budget breach"].expected
