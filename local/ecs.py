"""An ECS service in moto for the demo and the tests: a Fargate service with an auto-scaling target.

moto settles a deployment only when it is created (`MOTO_ECS_SERVICE_RUNNING` tasks are "running" at
that moment), and never later: `settle` marks the service's deployments COMPLETED, as ECS does once the
tasks are up, so that a test can move from "deploying" to "running" on purpose.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from moto.ecs.models import ecs_backends

from local.account import ACCOUNT_ID, IMAGE, REGION, LocalAccount, patched_environ

CLUSTER = "prod"


def seed_ecs_service(
    account: LocalAccount,
    name: str = "consultation-app",
    *,
    desired: int = 2,
    scaling: tuple[int, int] | None = (1, 4),
    image: str = IMAGE,
) -> str:
    """Creates (or re-creates) the service; returns its ARN. `scaling` is the (min, max) scalable target."""
    ecs, aas = account.client("ecs"), account.client("application-autoscaling")
    ecs.create_cluster(clusterName=CLUSTER)
    with contextlib.suppress(ecs.exceptions.ServiceNotFoundException, ecs.exceptions.ClientException):
        ecs.delete_service(cluster=CLUSTER, service=name, force=True)
    definition = ecs.register_task_definition(
        family=name,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "web", "image": image, "essential": True, "portMappings": [{"containerPort": 8000}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    with patched_environ({"MOTO_ECS_SERVICE_RUNNING": str(max(desired, 1))}):
        arn = str(
            ecs.create_service(
                cluster=CLUSTER, serviceName=name, taskDefinition=definition, desiredCount=desired, launchType="FARGATE"
            )["service"]["serviceArn"]
        )
    if scaling is not None:
        aas.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{CLUSTER}/{name}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=scaling[0],
            MaxCapacity=scaling[1],
            # Explicit: re-registering keeps a previous suspension otherwise (a test before may have paused it).
            SuspendedState={
                "DynamicScalingInSuspended": False,
                "DynamicScalingOutSuspended": False,
                "ScheduledScalingSuspended": False,
            },
        )
    return arn


def _service(name: str) -> Any:
    return ecs_backends[ACCOUNT_ID][REGION].services[f"{CLUSTER}:{name}"]


def settle(name: str = "consultation-app") -> None:
    """Every deployment of the service has finished rolling out."""
    for deployment in _service(name).deployments:
        deployment["rolloutState"] = "COMPLETED"


@contextlib.contextmanager
def deploying(name: str = "consultation-app") -> Iterator[None]:
    """The service is mid-deployment (rolloutState IN_PROGRESS) inside the block, settled after it."""
    for deployment in _service(name).deployments:
        deployment["rolloutState"] = "IN_PROGRESS"
    try:
        yield
    finally:
        settle(name)


def register_revision(account: LocalAccount, image: str, *sidecars: str, name: str = "consultation-app") -> str:
    """Registers one more revision of the service's task-definition family (`image` as its `web` container, each
    sidecar as `sidecar1`, `sidecar2`, ...); returns its ARN. The service runs it only after `run_revision`."""
    containers = [{"name": "web", "image": image, "essential": True, "portMappings": [{"containerPort": 8000}]}]
    containers += [{"name": f"sidecar{n}", "image": ref, "essential": False} for n, ref in enumerate(sidecars, 1)]
    return str(
        account.client("ecs").register_task_definition(
            family=name,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=containers,
        )["taskDefinition"]["taskDefinitionArn"]
    )


def run_revision(task_definition: str, name: str = "consultation-app") -> None:
    """The service runs `task_definition`, its rollout finished: one PRIMARY deployment of it, as ECS shows once an
    UpdateService has settled (moto's UpdateService changes the service's task definition, not its deployment)."""
    service = _service(name)
    service.task_definition = task_definition
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["taskDefinition"] = task_definition
    settle(name)


# --- what the demo shows and checks ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EcsState:
    status: str  # in App Runner's words, as Warden's ECS controller maps them
    desired: int
    scaling: tuple[int, int, bool] | None  # min, max, dynamic scaling suspended

    def describe(self) -> str:
        tasks = f"{self.desired} task{'s' if self.desired != 1 else ''} desired"
        if self.scaling is None:
            return f"{self.status} ({tasks}; no auto scaling target)"
        low, high, suspended = self.scaling
        return f"{self.status} ({tasks}; auto scaling {low}..{high}{', suspended' if suspended else ''})"


def ecs_state(account: LocalAccount) -> EcsState:
    from warden.adapters.ecs import ecs_status, split_arn

    cluster, name = split_arn(account.service_arn)
    (service,) = account.client("ecs").describe_services(cluster=cluster, services=[name])["services"]
    targets = account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/{name}"]
    )["ScalableTargets"]
    scaling = None
    if targets:
        target = targets[0]
        suspended = target.get("SuspendedState", {})
        scaling = (
            int(target["MinCapacity"]),
            int(target["MaxCapacity"]),
            bool(suspended.get("DynamicScalingInSuspended") and suspended.get("DynamicScalingOutSuspended")),
        )
    return EcsState(status=ecs_status(service).value, desired=int(service["desiredCount"]), scaling=scaling)


_UPDATES: list[dict[str, Any]] = []


def update_calls() -> list[dict[str, Any]]:
    """Every UpdateService moto served in this process, oldest first, its parameters in moto's snake_case
    (moto keeps no call log of its own)."""
    return list(_UPDATES)


def _record_updates() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.update_service
    if getattr(original, "_warden_recorded", False):
        return

    def recorded(self: Any, service_properties: dict[str, Any]) -> Any:
        _UPDATES.append(dict(service_properties))
        return original(self, service_properties)

    recorded._warden_recorded = True  # type: ignore[attr-defined]
    EC2ContainerServiceBackend.update_service = recorded  # type: ignore[method-assign]


_record_updates()
