"""What keeps costing while the service is paused: every pause message says it, with the monthly figure where
Warden knows it, so that nobody reads "paused" as "the bill stops".

A pause stops compute only. On App Runner that is the whole instance charge (AWS-FACTS §4.7: a paused service
has no provisioned or active instances). On ECS it stops the Fargate tasks, but a load balancer in front of the
service bills by the hour whatever runs behind it: about $16.43 a month at list price, more than the tutorial's
whole $10 budget (AWS-FACTS §9.5, §9.7; an Express Mode service always has one, possibly shared). NAT gateways,
logs, image storage and whatever else the app uses but the service does not own keep billing on either platform;
Warden cannot see them, so it says so rather than guessing a figure.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.domain.service import ECS, ServiceSnapshot

SECTION: Final = "Still billed while paused"
HOURS_PER_MONTH: Final = Decimal(730)
# us-east-1 list prices (AWS-FACTS §9.5, read 2026-12).
ALB_HOURLY_USD: Final = Decimal("0.0225")
ALB_LCU_HOURLY_USD: Final = Decimal("0.008")
APPRUNNER_AUTO_DEPLOY_MONTHLY_USD: Final = Decimal("1.00")
ECR_GB_MONTH_USD: Final = Decimal("0.10")
EXPRESS_SERVICES_PER_ALB: Final = 25  # AWS-FACTS §9.7 [third-party]


class CostItem(StrEnum):
    """What may bill while the service is paused; warden/messages/service.py names each."""

    APP_RUNNER_COMPUTE = "app_runner_compute"
    APP_RUNNER_AUTO_DEPLOY = "app_runner_auto_deploy"
    FARGATE_TASKS = "fargate_tasks"
    EXPRESS_LOAD_BALANCER = "express_load_balancer"  # an Express service's ALB, which may be shared
    LOAD_BALANCER = "load_balancer"  # the load balancer in front of the service
    MAYBE_LOAD_BALANCER = "maybe_load_balancer"  # Warden could not tell whether there is one
    SHARED = "shared"  # NAT gateways, logs, image storage...: Warden cannot see them


class CostLine(BaseModel):
    """One thing that bills while the service is paused; `monthly_usd` None when Warden cannot know the figure."""

    model_config = ConfigDict(frozen=True)

    item: CostItem
    monthly_usd: Decimal | None
    certain: bool = True
    """False when Warden does not know whether the item applies (App Runner's automatic deployment, unreported)."""


def monthly(hourly: Decimal) -> Decimal:
    return (hourly * HOURS_PER_MONTH).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


ALB_MONTHLY_USD: Final = monthly(ALB_HOURLY_USD)


def costs_while_paused(service: ServiceSnapshot) -> list[CostLine]:
    """What bills while `service` is paused, most certain first. The first line is the compute the pause stops."""
    if service.platform == ECS:
        return _ecs(service)
    return _app_runner(service)


def _app_runner(service: ServiceSnapshot) -> list[CostLine]:
    lines = [CostLine(item=CostItem.APP_RUNNER_COMPUTE, monthly_usd=Decimal(0))]
    if service.auto_deploy is not False:
        lines.append(
            CostLine(
                item=CostItem.APP_RUNNER_AUTO_DEPLOY,
                monthly_usd=APPRUNNER_AUTO_DEPLOY_MONTHLY_USD,
                certain=bool(service.auto_deploy),
            )
        )
    lines.append(_shared_costs())
    return lines


def _ecs(service: ServiceSnapshot) -> list[CostLine]:
    lines = [CostLine(item=CostItem.FARGATE_TASKS, monthly_usd=Decimal(0))]
    if service.express:
        lines.append(CostLine(item=CostItem.EXPRESS_LOAD_BALANCER, monthly_usd=ALB_MONTHLY_USD))
    elif service.load_balanced:
        lines.append(CostLine(item=CostItem.LOAD_BALANCER, monthly_usd=ALB_MONTHLY_USD))
    elif service.load_balanced is None:
        lines.append(CostLine(item=CostItem.MAYBE_LOAD_BALANCER, monthly_usd=ALB_MONTHLY_USD, certain=False))
    lines.append(_shared_costs())
    return lines


def _shared_costs() -> CostLine:
    return CostLine(item=CostItem.SHARED, monthly_usd=None)


def still_billed_monthly(lines: list[CostLine]) -> Decimal:
    """The known monthly figure of what keeps billing (the unknown lines add nothing)."""
    return sum((line.monthly_usd for line in lines if line.monthly_usd is not None), Decimal(0))
