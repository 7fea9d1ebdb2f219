"""What converging does on each platform (issue 13 §4): a rollout never holds off an ECS pause, and every word
Warden says about an ECS service speaks of ECS.

ECS accepts a desired-count change while a deployment rolls out (AWS-FACTS §9.7), and a stuck or crash-looping
rollout can stay IN_PROGRESS for hours; App Runner refuses a pause or resume while it is busy. The platform's
snapshot says which (`changeable_as`), so no use case asks which platform it runs on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.events import budget_message, sns_event
from tests.fakes import FakeBudgets, FakeNotifier, FakeState, platform_target
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason, Desire, DesiredState
from warden.domain.converge import ConvergeAction, decide_convergence
from warden.domain.service import APP_RUNNER, ECS, ServiceSnapshot, ServiceStatus
from warden.errors import InvalidServiceState, ServiceNotFound, WardenError
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.budget_alert import BudgetAlertDeps, Outcome, handle_message
from warden.usecases.converge import ConvergeResult, DeployNote, DeployNoteKind, EarlierRound, converge
from warden.usecases.operator import OperatorDeps, manual_pause, manual_resume
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ECS_ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
}
SETTLED = (ServiceStatus.RUNNING, ServiceStatus.PAUSED)


@dataclass
class EcsService:
    """An ECS service as Warden's controller reports it: the desired count says RUNNING or PAUSED, a rollout in
    progress shows as OPERATION_IN_PROGRESS and does not stop a pause or resume; DRAINING or INACTIVE is DELETED."""

    arn: str = ECS_ARN
    scale: ServiceStatus = ServiceStatus.RUNNING  # RUNNING, PAUSED or DELETED
    rolling_out: bool = False
    missing: bool = False
    calls: list[str] = field(default_factory=list)

    def describe(self, service_arn: str) -> ServiceSnapshot:
        if self.missing:
            raise ServiceNotFound(f"{service_arn}: no such ECS service")
        busy = self.rolling_out and self.scale is not ServiceStatus.DELETED
        return ServiceSnapshot(
            arn=self.arn,
            name="consultation-app",
            status=ServiceStatus.OPERATION_IN_PROGRESS if busy else self.scale,
            platform=ECS,
            changeable_as=self.scale if busy else None,
        )

    def pause(self, service_arn: str) -> str | None:
        self._scale("pause", ServiceStatus.RUNNING, ServiceStatus.PAUSED)
        return None  # ECS has no operation id

    def resume(self, service_arn: str) -> str | None:
        self._scale("resume", ServiceStatus.PAUSED, ServiceStatus.RUNNING)
        return None

    def start_deployment(self, service_arn: str) -> str:
        self.calls.append("start_deployment")
        return "ecs-deployment"

    def _scale(self, call: str, required: ServiceStatus, target: ServiceStatus) -> None:
        self.calls.append(call)
        if self.scale is not required:
            raise InvalidServiceState(f"cannot {call} the ECS service consultation-app: it is {self.scale.value}")
        self.scale = target


def _budget(actual: str) -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly", limit=Money(amount=Decimal("10.00")), actual=Money(amount=Decimal(actual))
    )


def _claim(reason: ClaimReason) -> Claim:
    return Claim.new(reason, owner="seed", evidence="seeded", now=NOW - timedelta(days=3))


# -- the decision, as a class -------------------------------------------------------------------------------
snapshots = st.builds(
    ServiceSnapshot,
    arn=st.just(ECS_ARN),
    name=st.just("consultation-app"),
    status=st.sampled_from(ServiceStatus),
    platform=st.sampled_from([ECS, APP_RUNNER]),
    changeable_as=st.none() | st.sampled_from(SETTLED),
)


@given(snapshot=snapshots, desired=st.sampled_from(DesiredState))
def test_a_platform_that_accepts_changes_mid_operation_is_never_deferred_by_one(
    snapshot: ServiceSnapshot, desired: DesiredState
) -> None:
    # Given any service status, on a platform that does or does not accept a change during an operation
    # When Warden decides
    decision = decide_convergence(snapshot, desired)
    busy = snapshot.status is ServiceStatus.OPERATION_IN_PROGRESS
    # Then it defers exactly when the service is busy and its platform refuses changes meanwhile
    assert (decision.action is ConvergeAction.DEFER) == (busy and snapshot.changeable_as is None)
    # And mid-operation on a platform that accepts it, it decides as for the service apart from the operation
    if busy and snapshot.changeable_as is not None:
        settled = snapshot.model_copy(update={"status": snapshot.changeable_as, "changeable_as": None})
        assert decision.action is decide_convergence(settled, desired).action
    # And its reason names the platform it is about, never the other one
    other = APP_RUNNER if snapshot.platform == ECS else ECS
    assert other not in decision.reason


@pytest.mark.parametrize("scale", SETTLED)
@pytest.mark.parametrize("desired", list(DesiredState))
def test_converging_an_ecs_service_mid_rollout_makes_the_call_its_claims_want(
    scale: ServiceStatus, desired: DesiredState
) -> None:
    # Given an ECS service whose rollout is stuck IN_PROGRESS, and claims that want it `desired`
    service = EcsService(scale=scale, rolling_out=True)
    state = FakeState()
    claims = [_claim(ClaimReason.BUDGET)] if desired is DesiredState.PAUSED else []
    for claim in claims:
        state.add_claim(ECS_ARN, claim)
    # When Warden converges
    result = converge(service, state, ECS_ARN, claims, now=NOW, actor="test", dry_run=False)
    # Then the rollout did not defer it: the service is scaled as the claims want
    want = ServiceStatus.PAUSED if desired is DesiredState.PAUSED else ServiceStatus.RUNNING
    assert service.scale is want
    assert result.called == (None if scale is want else ("pause" if want is ServiceStatus.PAUSED else "resume"))


def test_a_stuck_ecs_rollout_does_not_hold_off_a_confirmed_budget_breach() -> None:
    # Given an ECS service with 3 tasks whose deployment has been crash-looping IN_PROGRESS for hours
    service = EcsService(scale=ServiceStatus.RUNNING, rolling_out=True)
    notifier, state = FakeNotifier(), FakeState()
    deps = BudgetAlertDeps(platform_target(ECS_ARN, service), FakeBudgets(_budget("10.42")), notifier, state)
    (message,) = parse_sns_event(sns_event(budget_message(threshold="$10.00", amount="$10.42")))
    # When a confirmed breach arrives
    result = handle_message(message, deps, Settings.from_env(ENV), NOW)
    # Then the service is paused now, not deferred as "busy"
    assert result.outcome is Outcome.PAUSED
    assert service.calls == ["pause"]
    assert service.scale is ServiceStatus.PAUSED
    assert notifier.sent[-1].event == "budget.paused"


def test_app_runner_busy_still_defers() -> None:
    # Given App Runner busy with an operation, When a pause is wanted, Then it is deferred, naming App Runner
    busy = ServiceSnapshot(arn="arn", name="consultation-app", status=ServiceStatus.OPERATION_IN_PROGRESS)
    decision = decide_convergence(busy, DesiredState.PAUSED)
    assert decision.action is ConvergeAction.DEFER
    assert decision.reason.startswith("App Runner is busy")


# -- every word about an ECS service speaks of ECS --------------------------------------------------------
ECS_STATES = [(scale, rolling_out) for scale in (*SETTLED, ServiceStatus.DELETED) for rolling_out in (False, True)]


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("desired", list(DesiredState))
@pytest.mark.parametrize(("scale", "rolling_out"), ECS_STATES)
def test_every_converge_summary_and_error_about_an_ecs_service_speaks_of_ecs(
    scale: ServiceStatus, rolling_out: bool, desired: DesiredState, dry_run: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an ECS service in each state, with claims that want it `desired`
    service = EcsService(scale=scale, rolling_out=rolling_out)
    state = FakeState()
    claims = [_claim(ClaimReason.MANUAL)] if desired is DesiredState.PAUSED else []
    for claim in claims:
        state.add_claim(ECS_ARN, claim)
    # When Warden converges it
    words: list[str] = []
    with caplog.at_level(logging.DEBUG):
        try:
            result = converge(service, state, ECS_ARN, claims, now=NOW, actor="test", dry_run=dry_run)
            words += [result.summary, result.decision.reason]
        except WardenError as error:
            words.append(str(error))
    words += [record.getMessage() for record in caplog.records]
    words += [record.reason for _, record in state.actions]
    # Then no summary, reason, error or log line about it says "App Runner"
    assert words
    assert not [line for line in words if APP_RUNNER in line]


@given(
    status=st.sampled_from(ServiceStatus),
    changeable_as=st.none() | st.sampled_from(SETTLED),
    desired=st.sampled_from(DesiredState),
    called=st.none() | st.sampled_from(["pause", "resume"]),
    dry_run=st.booleans(),
    deploy_pending=st.none()
    | st.builds(
        DeployNote,
        kind=st.sampled_from(DeployNoteKind),
        image=st.just("123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app:latest"),
        platform=st.just(ECS),
        to=st.just("sha256:" + "2" * 64),
        at_pause=st.just("sha256:" + "1" * 64),
        moved_to=st.just("sha256:" + "3" * 64),
        resumed=st.sampled_from(["", "sha256:" + "1" * 64]),
    ),
    earlier=st.lists(st.sampled_from(["pause", "resume"]), max_size=2),
)
def test_every_converge_result_summary_for_an_ecs_snapshot_speaks_of_ecs(
    status: ServiceStatus,
    changeable_as: ServiceStatus | None,
    desired: DesiredState,
    called: str | None,
    dry_run: bool,
    deploy_pending: DeployNote | None,
    earlier: list[str],
) -> None:
    # Given any result of converging an ECS service
    before = ServiceSnapshot(
        arn=ECS_ARN, name="consultation-app", status=status, platform=ECS, changeable_as=changeable_as
    )
    desire = Desire(state=desired, reason="paused by manual" if desired is DesiredState.PAUSED else "no claim")
    result = ConvergeResult(
        before=before,
        desire=desire,
        decision=decide_convergence(before, desired),
        called=called,
        dry_run=dry_run,
        deploy_pending=deploy_pending,
        earlier=tuple(EarlierRound(desire=desire, status=status, called=call) for call in earlier),
    )
    # When it is told, Then it does not speak of App Runner
    assert APP_RUNNER not in result.summary


def _ecs_words(service: EcsService, run: str) -> list[str]:
    """Every notification subject and body, and every error, that one use case produces for the ECS service."""
    state, notifier = FakeState(), FakeNotifier()
    settings = Settings.from_env(ENV)
    if service.scale is ServiceStatus.PAUSED:
        state.add_claim(ECS_ARN, _claim(ClaimReason.SCHEDULE))
    words: list[str] = []
    target = platform_target(ECS_ARN, service)  # the ECS target over this controller
    try:
        match run:
            case "budget breach":
                deps = BudgetAlertDeps(target, FakeBudgets(_budget("10.42")), notifier, state)
                (message,) = parse_sns_event(sns_event(budget_message(threshold="$10.00", amount="$10.42")))
                handle_message(message, deps, settings, NOW)
            case "manual pause" | "manual resume":
                operator = OperatorDeps(target, state, notifier, FakeBudgets(_budget("1.00")))
                if run == "manual pause":
                    manual_pause(operator, settings, who="alice", reason="maintenance", now=NOW)
                else:
                    manual_resume(
                        operator, settings, who="alice", reason="done", override=ClaimReason.SCHEDULE, now=NOW
                    )
            case _:
                schedule = ScheduleDeps(target, state, notifier, FakeBudgets(_budget("1.00")))
                job = Job(run)
                run_job(job, schedule, settings, NOW.replace(hour=18) if job is Job.WORKDAY_END else NOW)
    except WardenError as error:
        words.append(str(error))
    return words + [f"{sent.subject}\n{sent.body}" for sent in notifier.sent]


@pytest.mark.parametrize(
    "run", ["budget breach", "manual pause", "manual resume", "workday-start", "workday-end", "reconcile"]
)
@pytest.mark.parametrize(("scale", "rolling_out"), [*ECS_STATES, (None, False)])
def test_every_notification_about_an_ecs_service_speaks_of_ecs(
    scale: ServiceStatus | None, rolling_out: bool, run: str
) -> None:
    # Given an ECS service in each state (None: ECS does not know it)
    service = EcsService(scale=scale or ServiceStatus.RUNNING, rolling_out=rolling_out, missing=scale is None)
    # When each use case that converges it runs
    words = _ecs_words(service, run)
    # Then nothing it tells the operator speaks of App Runner
    assert not [text for text in words if APP_RUNNER in text]
