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


class CostLine(BaseModel):
    """One thing that bills while the service is paused; `monthly_usd` None when Warden cannot know the figure."""

    model_config = ConfigDict(frozen=True)

    item: str
    monthly_usd: Decimal | None
    note: str = ""

    def render(self) -> str:
        if self.monthly_usd is None:
            figure = "monthly figure unknown"
        elif self.monthly_usd.is_zero():
            figure = "$0.00 a month"
        else:
            figure = f"about ${self.monthly_usd:,.2f} a month"
        return f"{self.item}: {figure}" + (f" ({self.note})" if self.note else "") + "."


def monthly(hourly: Decimal) -> Decimal:
    return (hourly * HOURS_PER_MONTH).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


ALB_MONTHLY_USD: Final = monthly(ALB_HOURLY_USD)


def costs_while_paused(service: ServiceSnapshot) -> list[CostLine]:
    """What bills while `service` is paused, most certain first. The first line is the compute the pause stops."""
    if service.platform == ECS:
        return _ecs(service)
    return _app_runner(service)


def _app_runner(service: ServiceSnapshot) -> list[CostLine]:
    lines = [
        CostLine(
            item="App Runner compute",
            monthly_usd=Decimal(0),
            note="a paused service has no provisioned or active instances",
        )
    ]
    if service.auto_deploy is not False:
        lines.append(
            CostLine(
                item="App Runner automatic deployment",
                monthly_usd=APPRUNNER_AUTO_DEPLOY_MONTHLY_USD,
                note="per application, paused or not"
                + ("" if service.auto_deploy else "; only if automatic deployment is on"),
            )
        )
    lines.append(_shared_costs())
    return lines


def _ecs(service: ServiceSnapshot) -> list[CostLine]:
    lines = [CostLine(item="Fargate tasks", monthly_usd=Decimal(0), note="no task runs while paused")]
    lcu = f"plus ${ALB_LCU_HOURLY_USD} per LCU-hour of traffic, at ${ALB_HOURLY_USD} an hour list price"
    if service.express:
        lines.append(
            CostLine(
                item="The Express service's Application Load Balancer",
                monthly_usd=ALB_MONTHLY_USD,
                note=f"{lcu}; Express Mode keeps it, and it may be shared by up to {EXPRESS_SERVICES_PER_ALB} "
                "Express services",
            )
        )
    elif service.load_balanced:
        lines.append(
            CostLine(
                item="The load balancer in front of the service",
                monthly_usd=ALB_MONTHLY_USD,
                note=f"if it is an Application Load Balancer: {lcu}; it bills whatever runs behind it",
            )
        )
    elif service.load_balanced is None:
        lines.append(
            CostLine(
                item="A load balancer, if one is in front of the service",
                monthly_usd=ALB_MONTHLY_USD,
                note=f"Warden could not tell whether there is one; an Application Load Balancer costs this, {lcu}",
            )
        )
    lines.append(_shared_costs())
    return lines


def _shared_costs() -> CostLine:
    return CostLine(
        item="NAT gateways, logs, image storage and anything else the app uses that the service does not own",
        monthly_usd=None,
        note=f"the pause does not stop them; ECR storage is ${ECR_GB_MONTH_USD} per GB-month",
    )


def still_billed_monthly(lines: list[CostLine]) -> Decimal:
    """The known monthly figure of what keeps billing (the unknown lines add nothing)."""
    return sum((line.monthly_usd for line in lines if line.monthly_usd is not None), Decimal(0))


def paused_cost_lines(service: ServiceSnapshot) -> list[str]:
    """The section `SECTION` of a pause message: one sentence per line of `costs_while_paused`."""
    return [line.render() for line in costs_while_paused(service)]


def pause_effect(service: ServiceSnapshot) -> str:
    """One sentence for a pause message's headline: what the pause stops, and what it does not."""
    lines = costs_while_paused(service)
    stopped, kept = lines[0], lines[1:]
    known = still_billed_monthly(kept)
    if known.is_zero():
        return f"Billing for {stopped.item} stops; see '{SECTION}' for what the pause does not stop."
    return (
        f"Billing for {stopped.item} stops, but about ${known:,.2f} a month keeps billing while paused "
        f"(see '{SECTION}')."
    )


def paused_cost_note(service: ServiceSnapshot) -> list[str]:
    """The same lines under a heading, for a message that has no section of its own for them."""
    return [f"{SECTION}:", *(f"- {line}" for line in paused_cost_lines(service))]
