"""An ECS service in moto for the demo and the tests: a Fargate service with an auto-scaling target.

moto settles a deployment only when it is created (`MOTO_ECS_SERVICE_RUNNING` tasks are "running" at
that moment), and never later: `settle` marks the service's deployments COMPLETED, as ECS does once the
tasks are up, so that a test can move from "deploying" to "running" on purpose.
"""

from __future__ import annotations

import contextlib
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
