"""The worlds the schedule, spend-guard and operator golden tests run the use cases in, and the facts they render.

The worlds: in-memory fakes of an App Runner or ECS service (tests/fakes.py), its state table, budget, metrics and
notification topic. An ECS service reports what the ECS controller reports (the platform, a load balancer in front
of it) and, like the controller, remembers its desired count and Auto Scaling target when it pauses, so the undo
commands quote them. Everything else is the fakes' own behaviour.

The facts: what a claim change, a converge and the undo commands are, built by hand (`snapshot`, `converged`,
`changed`, `undo`), for the renderers of warden/messages/ to write from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes import (
    FakeBudgets,
    FakeImages,
    FakeMetrics,
    FakeNotifier,
    FakeService,
    FakeState,
    FakeUsage,
    platform_target,
)
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason, desired_state
from warden.domain.converge import decide_convergence
from warden.domain.notification import Notification
from warden.domain.service import APP_RUNNER, ECS, ECS_PAUSE_MEMO, ServiceSnapshot, ServiceStatus
from warden.domain.spend import Architecture, MetricSpec, Pricing, UsageFacts
from warden.domain.target import TargetFacts
from warden.models.money import Money
from warden.settings import Settings
from warden.usecases.claims import ClaimChange, ClaimStep, Cleared
from warden.usecases.converge import ConvergeResult, DeployNote, EarlierRound
from warden.usecases.operator import OperatorDeps
from warden.usecases.schedule import Job, JobResult, ScheduleDeps, run_job
from warden.usecases.undo import UndoFacts

NAME = "consultation-app"
APPRUNNER_ARN = f"arn:aws:apprunner:us-east-1:123456789012:service/{NAME}/0123456789abcdef0123456789abcdef"
ECS_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/prod/{NAME}"
ARNS = {"apprunner": APPRUNNER_ARN, "ecs": ECS_ARN}
# Monday 23 November 2026, 08:00 UTC: the working day starts.
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MONDAY_1800 = MONDAY_0800.replace(hour=18)
ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "Europe/Berlin",
}
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{NAME}:latest"
DEPLOYED = "sha256:" + "1" * 64
PUSHED = "sha256:" + "2" * 64
# What the ECS controller remembers at a pause: 3 tasks, an Auto Scaling target of 2..6.
ECS_MEMO = {
    "desired_count": "3",
    "path": "ecs",
    "scalable_target": '{"minimum":2,"maximum":6,"scaling_in_suspended":false,"scaling_out_suspended":false,'
    '"scheduled_suspended":false}',
}


@dataclass
class PlatformService(FakeService):
    """The fake service, reporting what the platform's controller reports beside the status."""

    reported: dict[str, Any] = field(default_factory=dict)
    state: FakeState | None = None

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return super().describe(service_arn).model_copy(update=self.reported)

    def pause(self, service_arn: str) -> str | None:
        done = super().pause(service_arn)
        if self.reported.get("platform") == ECS and self.state is not None:
            self.state.put_memo(service_arn, ECS_PAUSE_MEMO, dict(ECS_MEMO))
        return None if self.reported.get("platform") == ECS else done


def snapshot(actual: str, limit: str = "10.00") -> BudgetSnapshot:
    return BudgetSnapshot(
        name="consultation-app-monthly", limit=Money(amount=Decimal(limit)), actual=Money(amount=Decimal(actual))
    )


def usage_facts(platform: str, *, region: str = "us-east-1") -> UsageFacts:
    """1 vCPU / 2 GB instances (App Runner, one kept warm) or tasks (Fargate x86)."""
    if platform == "ecs":
        return UsageFacts(
            pricing=Pricing.FARGATE,
            region=region,
            vcpu=Decimal(1),
            memory_gb=Decimal(2),
            architecture=Architecture.X86_64,
            running=True,
            units_now=Decimal(1),
            metric=MetricSpec(
                namespace="ECS/ContainerInsights",
                name="RunningTaskCount",
                dimensions=(("ClusterName", "prod"), ("ServiceName", NAME)),
            ),
            described="1 vCPU / 2 GB per task (x86_64), desired count 1",
        )
    return UsageFacts(
        pricing=Pricing.APP_RUNNER,
        region=region,
        vcpu=Decimal(1),
        memory_gb=Decimal(2),
        warm_minimum=1,
        running=True,
        units_now=Decimal(1),
        metric=MetricSpec(
            namespace="AWS/AppRunner", name="ActiveInstances", dimensions=(("ServiceName", NAME), ("ServiceID", "x"))
        ),
        described="1 vCPU / 2 GB per instance, 1 kept warm",
    )


class World:
    """One guarded service (`platform`: "apprunner" or "ecs") and Warden's ports, all in memory."""

    def __init__(
        self,
        platform: str = "apprunner",
        *,
        status: ServiceStatus = ServiceStatus.RUNNING,
        actual: str = "0.50",
        **env: str,
    ) -> None:
        self.platform = platform
        self.arn = ARNS[platform]
        self.state = FakeState()
        reported = {"platform": ECS, "load_balanced": True, "express": False} if platform == "ecs" else {}
        self.service = PlatformService(arn=self.arn, status=status, reported=reported, state=self.state)
        self.notifier = FakeNotifier()
        self.budgets = FakeBudgets(snapshot(actual))
        self.images = FakeImages()
        self.usage = FakeUsage(usage_facts(platform))
        self.metrics = FakeMetrics()
        self.settings = Settings.from_env({**ENV, "SERVICE_ARN": self.arn, **env})

    @property
    def schedule(self) -> ScheduleDeps:
        return ScheduleDeps(
            self.service,
            self.state,
            self.notifier,
            self.budgets,
            self.images,
            usage=self.usage,
            metrics=self.metrics,
        )

    @property
    def operator(self) -> OperatorDeps:
        return OperatorDeps(self.service, self.state, self.notifier, self.budgets, self.images)

    def claim(
        self,
        reason: ClaimReason,
        *,
        evidence: str = "seeded",
        owner: str = "seed",
        ago: timedelta = timedelta(days=3),
        now: datetime = MONDAY_0800,
        period_start: str | None = None,
        qualifier: str | None = None,
    ) -> Claim:
        details = {"period_start": period_start} if period_start else None
        claim = Claim.new(reason, owner=owner, evidence=evidence, now=now - ago, details=details, qualifier=qualifier)
        assert self.state.add_claim(self.arn, claim)
        if self.platform == "ecs" and self.service.status is ServiceStatus.PAUSED:
            self.state.put_memo(self.arn, ECS_PAUSE_MEMO, dict(ECS_MEMO))
        return claim

    def run(self, job: Job, now: datetime = MONDAY_0800) -> JobResult:
        return run_job(job, self.schedule, self.settings, now)

    def last(self) -> Notification:
        return self.notifier.sent[-1]


# --- the facts, by hand --------------------------------------------------------------------------------------------


def target(platform: str) -> TargetFacts:
    """The real target's facts for the platform (its nouns, console, what a paused service does not do)."""
    facts: TargetFacts = platform_target(ARNS[platform], FakeService(arn=ARNS[platform])).facts
    return facts


def settings(platform: str = "apprunner", **env: str) -> Settings:
    return Settings.from_env({**ENV, "SERVICE_ARN": ARNS[platform], **env})


def service(platform: str = "apprunner", status: ServiceStatus = ServiceStatus.RUNNING) -> ServiceSnapshot:
    """The service as its controller describes it (the worlds' PlatformService)."""
    ecs = platform == "ecs"
    return ServiceSnapshot(
        arn=ARNS[platform],
        name=NAME,
        status=status,
        platform=ECS if ecs else APP_RUNNER,
        image_identifier=IMAGE,
        load_balanced=True if ecs else None,
        express=False if ecs else None,
    )


def seeded(
    reason: ClaimReason,
    evidence: str,
    owner: str,
    *,
    ago: timedelta,
    now: datetime = MONDAY_0800,
) -> Claim:
    return Claim.new(reason, owner=owner, evidence=evidence, now=now - ago)


def converged(
    before: ServiceSnapshot,
    claims: tuple[Claim, ...] = (),
    *,
    called: str | None = None,
    dry_run: bool = False,
    note: DeployNote | None = None,
    earlier: tuple[EarlierRound, ...] = (),
) -> ConvergeResult:
    """Converging `before` to what `claims` want: the decision is the domain's, the call the one given."""
    desire = desired_state(claims)
    return ConvergeResult(
        before=before,
        desire=desire,
        decision=decide_convergence(before, desire.state),
        called=called,
        dry_run=dry_run,
        operation_id=f"op-{called}" if called and before.platform == APP_RUNNER else None,
        deploy_pending=note,
        earlier=earlier,
    )


def changed(
    key: str,
    step: ClaimStep,
    result: ConvergeResult,
    *,
    reason: str = "",
    existing: Claim | None = None,
    cleared: Cleared | None = None,
) -> ClaimChange:
    return ClaimChange(
        claim_key=key,
        changed=step in {ClaimStep.RECORDED, ClaimStep.WOULD_RECORD, ClaimStep.CLEARED, ClaimStep.WOULD_CLEAR},
        step=step,
        reason=reason,
        result=result,
        existing=existing,
        cleared=cleared,
    )


def undo(platform: str, reason: ClaimReason, key: str | None = None, *, remembered: bool = True) -> UndoFacts:
    """How to undo a pause of the platform's service; ECS quotes the scale it remembered at the pause."""
    state = FakeState()
    if remembered:
        state.put_memo(ARNS[platform], ECS_PAUSE_MEMO, dict(ECS_MEMO))
    commands = platform_target(ARNS[platform], FakeService(arn=ARNS[platform])).resume_commands(state, "warden-state")
    return UndoFacts(
        service_arn=ARNS[platform],
        state_table="warden-state",
        reason=reason,
        claim_key=key or reason.value,
        resume_commands=tuple(commands),
        service_name=ARNS[platform].rsplit("/", 2)[1]
        if ":apprunner:" in ARNS[platform]
        else ARNS[platform].rsplit("/", 1)[1],
    )
