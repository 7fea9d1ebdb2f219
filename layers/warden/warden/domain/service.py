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


class ServiceSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    arn: str
    name: str
    status: ServiceStatus
    image_identifier: str | None = None
    auto_deploy: bool | None = None
    url: str | None = None
