"""Application Auto Scaling adapter: read and set an ECS service's scalable target (min, max, suspension).

Pausing an ECS service must pin its scalable target to 0/0 with dynamic scaling suspended, or the
scaling policy would start tasks again; resuming restores exactly what was there before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from warden.adapters.clients import client, is_retryable, unavailable

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient

IAM_ACTIONS = frozenset(
    {"application-autoscaling:DescribeScalableTargets", "application-autoscaling:RegisterScalableTarget"}
)
DIMENSION: Final = "ecs:service:DesiredCount"


class ScalableTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    minimum: int
    maximum: int
    scaling_in_suspended: bool = False
    scaling_out_suspended: bool = False
    scheduled_suspended: bool = False


class EcsScaling:
    def __init__(self, autoscaling: ApplicationAutoScalingClient | None = None) -> None:
        self._client = autoscaling

    @property
    def _aas(self) -> ApplicationAutoScalingClient:
        if self._client is None:
            self._client = client("application-autoscaling")
        return self._client

    def read(self, cluster: str, service: str) -> ScalableTarget | None:
        """The service's scalable target, or None when the service does not auto-scale."""
        try:
            targets = self._aas.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[_resource_id(cluster, service)], ScalableDimension=DIMENSION
            )["ScalableTargets"]
        except ClientError as error:
            raise _translate("DescribeScalableTargets", error) from error
        except BotoCoreError as error:
            raise unavailable("application-autoscaling", "DescribeScalableTargets", error) from error
        if not targets:
            return None
        target: Any = targets[0]
        suspended = target.get("SuspendedState") or {}
        return ScalableTarget(
            minimum=int(target["MinCapacity"]),
            maximum=int(target["MaxCapacity"]),
            scaling_in_suspended=bool(suspended.get("DynamicScalingInSuspended", False)),
            scaling_out_suspended=bool(suspended.get("DynamicScalingOutSuspended", False)),
            scheduled_suspended=bool(suspended.get("ScheduledScalingSuspended", False)),
        )

    def write(self, cluster: str, service: str, target: ScalableTarget) -> None:
        try:
            self._aas.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=_resource_id(cluster, service),
                ScalableDimension=DIMENSION,
                MinCapacity=target.minimum,
                MaxCapacity=target.maximum,
                SuspendedState={
                    "DynamicScalingInSuspended": target.scaling_in_suspended,
                    "DynamicScalingOutSuspended": target.scaling_out_suspended,
                    "ScheduledScalingSuspended": target.scheduled_suspended,
                },
            )
        except ClientError as error:
            raise _translate("RegisterScalableTarget", error) from error
        except BotoCoreError as error:
            raise unavailable("application-autoscaling", "RegisterScalableTarget", error) from error


def _resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def _translate(operation: str, error: ClientError) -> Exception:
    return unavailable("application-autoscaling", operation, error) if is_retryable(error) else error
