"""Pause ownership, exhaustively: every set of active claims × every event, against moto and the emulator.

For each case the service starts converged with its claims (PAUSED when any is active), one event
arrives through the use case that handles it in production, and the test checks the claims left, the
state App Runner ends in and the exact App Runner calls made.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from local.account import IMAGE, LocalAccount, LocalServers, seed_account
from local.ecs import CLUSTER, seed_ecs_service
from local.events import budget_message, sns_event
from local.invoke import fresh_container
from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.clients import client
from warden.domain.claims import Claim, ClaimReason
from warden.errors import InvalidServiceState
from warden.models.sns import parse_sns_event
from warden.settings import get_settings
from warden.usecases.budget_alert import handle_message
from warden.usecases.claims import ClaimDeps, place_claim, release_claim
from warden.usecases.operator import manual_pause, manual_resume
from warden.usecases.schedule import Job, run_job
from warden.wiring import budget_alert_deps, operator_deps, schedule_deps, service_controller

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shared(servers: LocalServers) -> LocalAccount:
    servers.emulator.reset()
    return seed_account(servers)


class AppRunnerTarget:
    """A fresh App Runner service in the emulator; App Runner's own calls are counted there."""

    kind = "apprunner"

    def new(self, shared: LocalAccount) -> LocalAccount:
        arn = shared.emulator.seed_service(f"case-{uuid.uuid4().hex[:12]}", IMAGE)
        return dataclasses.replace(shared, service_arn=arn)

    def pause(self, account: LocalAccount) -> None:
        account.client("apprunner").pause_service(ServiceArn=account.service_arn)

    def calls(self, account: LocalAccount) -> tuple[int, int]:
        def count(operation: str) -> int:
            return sum(
                1
                for call in account.emulator.calls(operation)
                if call["params"].get("ServiceArn") == account.service_arn
            )

        return count("PauseService"), count("ResumeService")

    def status(self, account: LocalAccount) -> str:
        return account.service_status()


class EcsTarget:
    """A fresh ECS service with an auto-scaling target in moto; the UpdateService calls Warden makes are
    counted on the client Warden itself uses (a warm container: the cached client of warden.adapters.clients)."""

    kind = "ecs"

    def __init__(self) -> None:
        self.updates: list[dict[str, object]] = []
        self._hooked: set[int] = set()

    def new(self, shared: LocalAccount) -> LocalAccount:
        arn = seed_ecs_service(shared, f"case-{uuid.uuid4().hex[:12]}", desired=2, scaling=(1, 3))
        return dataclasses.replace(shared, service_arn=arn)

    def pause(self, account: LocalAccount) -> None:
        service_controller(get_settings()).pause(account.service_arn)

    def calls(self, account: LocalAccount) -> tuple[int, int]:
        ecs = client("ecs")
        if id(ecs) not in self._hooked:
            ecs.meta.events.register("provide-client-params.ecs.UpdateService", self._record)
            self._hooked.add(id(ecs))
        name = account.service_arn.rsplit("/", 1)[-1]
        mine = [update for update in self.updates if update.get("service") == name and "desiredCount" in update]
        return sum(1 for u in mine if u["desiredCount"] == 0), sum(1 for u in mine if u["desiredCount"] != 0)

    def _record(self, params: dict[str, object], **_: object) -> None:
        self.updates.append(dict(params))

    def status(self, account: LocalAccount) -> str:
        name = account.service_arn.rsplit("/", 1)[-1]
        service = account.client("ecs").describe_services(cluster=CLUSTER, services=[name])["services"][0]
        return "PAUSED" if service["desiredCount"] == 0 else "RUNNING"


TARGETS = {"apprunner": AppRunnerTarget(), "ecs": EcsTarget()}


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest) -> AppRunnerTarget | EcsTarget:
    return TARGETS[request.param]


@pytest.fixture
def account(shared: LocalAccount) -> LocalAccount:
    """The module's account with an App Runner service of its own (claims are keyed by service)."""
    return TARGETS["apprunner"].new(shared)


MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MONDAY_1800 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
ALARM = "alarm#warden-5xx-rate"
CLAIM_KEYS = ("budget", "schedule", "manual", ALARM)
SCHEDULE_ENV = {"WORKING_HOURS_ENABLED": "true", "SCHEDULE_TIMEZONE": "UTC", "WORKING_DAYS": "MON-FRI"}


def _budget_breach(account: LocalAccount) -> None:
    account.set_budget(limit="10.00", actual="10.42")
    event = sns_event(budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"))
    settings = get_settings()
    for message in parse_sns_event(event):
        handle_message(message, budget_alert_deps(settings), settings, MONDAY_0800)


def _period_rollover(account: LocalAccount) -> None:
    account.set_budget(limit="10.00", actual="0.50")
    settings = get_settings()
    run_job(Job.BUDGET_PERIOD_CHECK, schedule_deps(settings), settings, MONDAY_0800)


def _schedule(job: Job, now: datetime) -> Callable[[LocalAccount], None]:
    def run(account: LocalAccount) -> None:
        settings = get_settings()
        run_job(job, schedule_deps(settings), settings, now)

    return run


def _manual_pause(account: LocalAccount) -> None:
    settings = get_settings()
    manual_pause(operator_deps(settings), settings, who="alice", reason="maintenance", now=MONDAY_0800)


def _manual_resume(account: LocalAccount) -> None:
    settings = get_settings()
    manual_resume(operator_deps(settings), settings, who="alice", reason="done", override=None, now=MONDAY_0800)


def _override(reason: ClaimReason) -> Callable[[LocalAccount], None]:
    def run(account: LocalAccount) -> None:
        settings = get_settings()
        manual_resume(operator_deps(settings), settings, who="bob", reason="ok", override=reason, now=MONDAY_0800)

    return run


def _alarm(fired: bool) -> Callable[[LocalAccount], None]:
    def run(account: LocalAccount) -> None:
        settings = get_settings()
        deps = ClaimDeps(service_controller(settings), operator_deps(settings).state)
        if fired:
            claim = Claim.new(
                ClaimReason.ALARM, owner="on_alarm", evidence="5xx", now=MONDAY_0800, qualifier="warden-5xx-rate"
            )
            place_claim(deps, settings.service.arn, claim, now=MONDAY_0800, actor="on_alarm", dry_run=False)
        else:
            release_claim(
                deps, settings.service.arn, ALARM, now=MONDAY_0800, actor="on_alarm", reason="OK", dry_run=False
            )

    return run


# event name -> (how it arrives, the claim key it adds, the claim key it clears)
EVENTS: dict[str, tuple[Callable[[LocalAccount], None], str | None, str | None]] = {
    "budget breach": (_budget_breach, "budget", None),
    "period roll-over": (_period_rollover, None, "budget"),
    "schedule end": (_schedule(Job.WORKDAY_END, MONDAY_1800), "schedule", None),
    "schedule start": (_schedule(Job.WORKDAY_START, MONDAY_0800), None, "schedule"),
    "manual pause": (_manual_pause, "manual", None),
    "manual resume": (_manual_resume, None, "manual"),
    "alarm": (_alarm(True), ALARM, None),
    "alarm OK": (_alarm(False), None, ALARM),
    "override budget": (_override(ClaimReason.BUDGET), None, "budget"),
    "override alarm": (_override(ClaimReason.ALARM), None, ALARM),
}
CLAIM_SETS = [
    frozenset(combo) for size in range(len(CLAIM_KEYS) + 1) for combo in itertools.combinations(CLAIM_KEYS, size)
]


def _seed_claims(account: LocalAccount, target: AppRunnerTarget | EcsTarget, keys: frozenset[str]) -> None:
    state = operator_deps(get_settings()).state
    last_month = (MONDAY_0800.replace(day=1) - timedelta(days=1)).replace(day=1)
    for key in keys:
        reason, _, qualifier = key.partition("#")
        claim = Claim.new(
            ClaimReason(reason),
            owner="seed",
            evidence=f"seeded {key}",
            now=MONDAY_0800 - timedelta(days=3),
            qualifier=qualifier or None,
            details={"period_start": last_month.date().isoformat()} if reason == "budget" else None,
        )
        assert state.add_claim(account.service_arn, claim)
    if keys:
        target.pause(account)


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("claims", CLAIM_SETS, ids=lambda keys: "+".join(sorted(keys)) or "no claims")
def test_each_event_changes_only_its_own_claim_and_the_service_follows_the_claims(
    shared: LocalAccount, target: AppRunnerTarget | EcsTarget, claims: frozenset[str], event: str
) -> None:
    arrive, adds, clears = EVENTS[event]
    account = target.new(shared)
    with fresh_container({**account.env(), **SCHEDULE_ENV}, reuse_clients=True):
        # Given a service converged with these claims
        _seed_claims(account, target, claims)
        before_paused = bool(claims)
        pauses_before, resumes_before = target.calls(account)
        # When the event arrives through its production use case
        arrive(account)
        # Then only its own claim changed
        expected = (claims | {adds}) - {clears} if adds else claims - {clears}
        left = {item["SK"].removeprefix("CLAIM#") for item in account.claims()}
        assert left == expected
        # And the service was paused or resumed exactly when the desired state flipped
        after_paused = bool(expected)
        pauses, resumes = target.calls(account)
        assert (pauses - pauses_before, resumes - resumes_before) == (
            int(after_paused and not before_paused),
            int(before_paused and not after_paused),
        )
        assert target.status(account) == ("PAUSED" if after_paused else "RUNNING")


class RacingServices(AppRunnerServices):
    """Someone else pauses the service between Warden's describe and its PauseService call."""

    def __init__(self, account: LocalAccount) -> None:
        super().__init__()
        self._account = account
        self.raced = False

    def pause(self, service_arn: str) -> str | None:
        if not self.raced:
            self.raced = True
            self._account.client("apprunner").pause_service(ServiceArn=service_arn)
        return super().pause(service_arn)


def test_a_race_between_describe_and_pause_ends_converged_not_crashed(account: LocalAccount) -> None:
    with fresh_container(account.env()):
        # Given a RUNNING service and another actor that pauses it just before Warden does
        services = RacingServices(account)
        deps = ClaimDeps(services, operator_deps(get_settings()).state)
        claim = Claim.new(ClaimReason.MANUAL, owner="alice", evidence="race", now=MONDAY_0800)
        # When Warden places a claim and converges
        change = place_claim(deps, account.service_arn, claim, now=MONDAY_0800, actor="test", dry_run=False)
        # Then App Runner refused Warden's pause (InvalidStateException), Warden described again and found it done
        assert services.raced
        assert TARGETS["apprunner"].calls(account)[0] == 2
        assert change.result.called is None
        assert account.service_status() == "PAUSED"


def test_the_adapter_reports_invalid_state_for_pausing_a_paused_service(account: LocalAccount) -> None:
    with fresh_container(account.env()):
        services = AppRunnerServices()
        services.pause(account.service_arn)
        with pytest.raises(InvalidServiceState):
            services.pause(account.service_arn)
