"""What Warden knows about the guarded service, independent of the AWS API that reports it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

# Where the ECS controller remembers a paused service's desired count and scaling target (a state-table
# memo): the adapter writes it, and the notifications read it to print the exact commands that undo a pause.
ECS_PAUSE_MEMO = "ecs_pause"


class ServiceStatus(StrEnum):
    """App Runner's `ServiceStatus` enum, exactly."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    OPERATION_IN_PROGRESS = "OPERATION_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    DELETE_FAILED = "DELETE_FAILED"
    DELETED = "DELETED"


# The platforms' names, as every message about the service speaks of them.
APP_RUNNER = "App Runner"
ECS = "ECS"


class ServiceSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    arn: str
    name: str
    status: ServiceStatus
    platform: str = APP_RUNNER
    # While `status` is OPERATION_IN_PROGRESS on a platform that accepts a pause or resume during that operation
    # (ECS takes a desired-count change mid-rollout, AWS-FACTS §9.7), what the service is apart from it: RUNNING
    # or PAUSED. None where the platform refuses both while busy (App Runner), so converging waits for it.
    changeable_as: ServiceStatus | None = None
    image_identifier: str | None = None
    auto_deploy: bool | None = None
    url: str | None = None
    # What keeps billing while the service is paused (domain/costs.py): a load balancer in front of it (ECS
    # `loadBalancers`), and whether it is an ECS Express service, whose ALB may be shared. None: not known.
    load_balanced: bool | None = None
    express: bool | None = None
