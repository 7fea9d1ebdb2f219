"""ECS adapter: the service controller for an Amazon ECS service (Fargate, or Express Mode).

ECS has no "pause". Warden's pause remembers, in the state table, the service's desired count and its
Application Auto Scaling target (minimum, maximum, suspended state), pins the target to 0/0 with
dynamic scaling suspended (or a scaling policy would start tasks again) and sets the desired count to
0. Resuming restores exactly what was remembered. ECS states map onto Warden's ServiceStatus as:

| ECS                                                   | ServiceStatus          | changeable_as |
|-------------------------------------------------------|------------------------|---------------|
| ACTIVE, a deployment with rolloutState IN_PROGRESS    | OPERATION_IN_PROGRESS  | by the count  |
| ACTIVE, desired count 0                               | PAUSED                 |               |
| ACTIVE, desired count > 0                             | RUNNING                |               |
| DRAINING, INACTIVE, or not found                      | DELETED / not found    |               |

Unlike App Runner, ECS accepts a desired-count change while a deployment rolls out (AWS-FACTS §9.7), and a
stuck or crash-looping rollout can stay IN_PROGRESS for hours: so the snapshot says what the service is by its
desired count (`changeable_as`, PAUSED at 0, else RUNNING), and the pause and resume act mid-rollout. A rollout
in progress stays visible as OPERATION_IN_PROGRESS for what must wait for it (the image purge).

Pausing a paused service or resuming a running one raises InvalidServiceState, as App Runner's
InvalidStateException does, so the converge logic is the same for both targets.

Express Mode: an Express service is detected once with `describe_express_gateway_service`. Its pause
first asks the Express API for a scaling target of 0/0; whether Express accepts a minimum of 0 is not
documented, so when it refuses, Warden falls back to the underlying ECS service and its scalable
target, and remembers which path it used so that the resume takes the same one.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.autoscaling import EcsScaling, ScalableTarget
from warden.adapters.clients import client, error_code, is_retryable, probe_client, unavailable
from warden.adapters.listing import Listing, collect, read
from warden.domain.deployments import EcsDeployment, EcsServiceState
from warden.domain.fleet import DiscoveredService, Discovery
from warden.domain.pipeline import TaskRevision, app_image
from warden.domain.retention import ContainerImage, TaskDefinitionImages
from warden.domain.service import ECS, ECS_PAUSE_MEMO, ServiceSnapshot, ServiceStatus
from warden.domain.spend import Architecture, MetricSpec, Pricing, UsageFacts, parse_memory_gb, parse_vcpu
from warden.errors import InvalidServiceState, ServiceNotFound
from warden.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

IAM_ACTIONS = frozenset(
    {
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:UpdateService",
        "ecs:DescribeExpressGatewayService",
        "ecs:UpdateExpressGatewayService",
    }
)
# The fleet's discovery (EcsDiscovery): read-only, on every cluster and service of the region. ListClusters has no
# resource type (Resource "*"); ListServices and DescribeServices here reach every service, not only SERVICE_ARN's.
DISCOVERY_IAM_ACTIONS = frozenset({"ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"})
# Calls in flight at once (clusters' listings, then description batches). Below botocore's connection pool
# (max_pool_connections, 10 by default): more threads than sockets would only queue inside urllib3.
DISCOVERY_WORKERS = 8
_LIST_PAGE = 100  # ListClusters' and ListServices' largest maxResults
_DESCRIBE_BATCH = 10  # DescribeServices describes at most 10 services a call
# DRAINING: being deleted; INACTIVE: deleted (DescribeServices still answers for it a while). Neither is guarded.
_GONE = frozenset({"DRAINING", "INACTIVE"})
PAUSE_MEMO = ECS_PAUSE_MEMO
# A paused service's Auto Scaling target: no task, and no scaling policy or schedule that would start one.
PINNED = ScalableTarget(
    minimum=0, maximum=0, scaling_in_suspended=True, scaling_out_suspended=True, scheduled_suspended=True
)
_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/(?P<cluster>[^/]+)/(?P<service>[^/]+)$")


class Memos(Protocol):
    """Where the controller remembers a paused service's scale (the state table, through its adapter)."""

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None: ...

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None: ...

    def delete_memo(self, service_arn: str, name: str) -> None: ...


class EcsServices:
    def __init__(
        self,
        memos: Memos,
        ecs: ECSClient | None = None,
        scaling: EcsScaling | None = None,
        express_probe: ECSClient | None = None,
        *,
        repository: str | None = None,
    ) -> None:
        """`repository` (ECR_REPOSITORY) picks the app's container when a task definition also has sidecars."""
        self._memos = memos
        self._client = ecs
        self._scaling = scaling or EcsScaling()
        self._probe = express_probe
        self._repository = repository
        self._express: dict[str, bool] = {}

    @property
    def _ecs(self) -> ECSClient:
        if self._client is None:
            self._client = client("ecs")
        return self._client

    # -- ServicePort --------------------------------------------------------------------------------
    def describe(self, service_arn: str) -> ServiceSnapshot:
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        deployments = service.get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), deployments[0] if deployments else {})
        status = ecs_status(service)
        return ServiceSnapshot(
            arn=service_arn,
            name=name,
            status=status,
            platform=ECS,
            changeable_as=_scale_status(service) if status is ServiceStatus.OPERATION_IN_PROGRESS else None,
            image_identifier=self._image(primary.get("taskDefinition") or service.get("taskDefinition")),
            auto_deploy=False,
            url=None,
            load_balanced=bool(service.get("loadBalancers")) if "loadBalancers" in service else None,
            express=_express_service(service, self._express.get(service_arn)),
        )

    def pause(self, service_arn: str) -> str | None:
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        # By the desired count, not the rollout: ECS takes the change mid-deployment, and a stuck one must not
        # hold off a pause.
        status = _scale_status(service)
        if status is not ServiceStatus.RUNNING:
            raise InvalidServiceState(f"cannot pause the ECS service {name}: it is {_in_ecs_terms(status)}")
        remembered: dict[str, str] = {"desired_count": str(service.get("desiredCount", 0)), "path": "ecs"}
        if self._is_express(service_arn) and self._pause_express(service_arn, remembered):
            self._memos.put_memo(service_arn, PAUSE_MEMO, remembered)
            return None
        target = self._scaling.read(cluster, name)
        earlier = self._memos.get_memo(service_arn, PAUSE_MEMO) or {}
        if target == PINNED and earlier.get("scalable_target"):
            # An earlier attempt pinned the target and failed before the desired count: what it remembered is
            # the target from before the pause; the pinned one read now is Warden's own.
            remembered["scalable_target"] = earlier["scalable_target"]
        elif target is not None:
            remembered["scalable_target"] = target.model_dump_json()
        # Remember first: if a call below fails, the retry (or the reconcile) still knows what to restore.
        self._memos.put_memo(service_arn, PAUSE_MEMO, remembered)
        if target is not None:
            self._scaling.write(cluster, name, PINNED)
        self._update(cluster, name, desiredCount=0)
        return None

    def resume(self, service_arn: str) -> str | None:
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        status = _scale_status(service)
        if status is not ServiceStatus.PAUSED:
            raise InvalidServiceState(f"cannot resume the ECS service {name}: it is {_in_ecs_terms(status)}")
        memo = self._memos.get_memo(service_arn, PAUSE_MEMO) or {}
        if memo.get("path") == "express":
            self._resume_express(service_arn, memo)
            self._memos.delete_memo(service_arn, PAUSE_MEMO)
            return None
        # Scaled to zero outside Warden, nothing remembered: one task is the least that serves traffic.
        desired = int(memo.get("desired_count") or 1) or 1
        if memo.get("scalable_target"):
            target = ScalableTarget.model_validate_json(memo["scalable_target"])
            self._scaling.write(cluster, name, target)
            desired = min(max(desired, target.minimum), target.maximum) if target.maximum else desired
        self._update(cluster, name, desiredCount=desired)
        self._memos.delete_memo(service_arn, PAUSE_MEMO)
        return None

    def start_deployment(self, service_arn: str) -> str:
        cluster, name = split_arn(service_arn)
        service = self._update(cluster, name, forceNewDeployment=True)
        deployments = service.get("deployments") or [{}]
        return str(deployments[0].get("id", "ecs-deployment"))

    # -- ECS-specific, for rollback and the purge ----------------------------------------------------
    def task_definition(self, service_arn: str) -> str:
        cluster, name = split_arn(service_arn)
        return str(self._service(cluster, name, service_arn)["taskDefinition"])

    def task_definition_images(self, task_definition: str) -> list[str]:
        try:
            definition = self._ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
        except ClientError as error:
            raise _translate("DescribeTaskDefinition", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "DescribeTaskDefinition", error) from error
        return [str(container["image"]) for container in definition.get("containerDefinitions", [])]

    def deploy_task_definition(self, service_arn: str, task_definition: str) -> str:
        cluster, name = split_arn(service_arn)
        service = self._update(cluster, name, taskDefinition=task_definition)
        deployments = service.get("deployments") or [{}]
        return str(deployments[0].get("id", "ecs-deployment"))

    # -- TaskDefinitionsPort, for the image purge: what runs now and what a rollback goes back to -------
    def task_definition_history(self, service_arn: str, previous: int) -> list[TaskDefinitionImages]:
        """See TaskDefinitionsPort: the deployments' task definitions, then the family's earlier ACTIVE revisions."""
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        deployments = sorted(service.get("deployments") or [], key=lambda d: d.get("status") != "PRIMARY")
        named = [*(d.get("taskDefinition") for d in deployments), service.get("taskDefinition")]
        current = list(dict.fromkeys(str(arn) for arn in named if arn))
        if not current:
            return []
        family, revision = _family_revision(current[0])
        running = {_family_revision(arn) for arn in current}
        earlier = self._earlier_revisions(family, revision, previous, running) if previous > 0 else []
        return [
            *(self._task_definition_images(arn, current=True) for arn in current),
            *(self._task_definition_images(arn, current=False) for arn in earlier),
        ]

    def _earlier_revisions(self, family: str, revision: int, count: int, running: set[tuple[str, int]]) -> list[str]:
        """The newest `count` ACTIVE revisions of `family` below `revision`, newest first."""
        found: dict[int, str] = {}
        pages = self._ecs.get_paginator("list_task_definitions").paginate(
            familyPrefix=family, status="ACTIVE", sort="DESC", PaginationConfig={"PageSize": 100}
        )
        try:
            for number, page in enumerate(pages, start=1):
                for arn in page.get("taskDefinitionArns", []):
                    # familyPrefix is a prefix: "consultation-app" also lists "consultation-app-worker".
                    other, found_revision = _family_revision(arn)
                    if other == family and found_revision < revision and (other, found_revision) not in running:
                        found[found_revision] = arn
                # Sorted DESC, a family's revisions come newest first: later pages only hold older ones.
                if len(found) >= count or number >= _MAX_LIST_PAGES:
                    break
        except ClientError as error:
            raise _translate("ListTaskDefinitions", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "ListTaskDefinitions", error) from error
        return [found[number] for number in sorted(found, reverse=True)[:count]]

    def _task_definition_images(self, arn: str, *, current: bool) -> TaskDefinitionImages:
        short = arn.rsplit("/", 1)[-1]
        try:
            definition = self._ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("ecs", "DescribeTaskDefinition", error) from error
            # Deleted since it was listed, or INACTIVE with nothing referencing it: ECS no longer describes it.
            return TaskDefinitionImages(task_definition=short, current=current, unreadable=str(error))
        except BotoCoreError as error:
            raise unavailable("ecs", "DescribeTaskDefinition", error) from error
        containers = tuple(
            ContainerImage(container=str(container.get("name", "")), image=str(container["image"]))
            for container in definition.get("containerDefinitions", [])
            if container.get("image")
        )
        return TaskDefinitionImages(task_definition=short, containers=containers, current=current)

    # -- UsageFactsPort, for the spend guard ---------------------------------------------------------------
    def usage_facts(self, service_arn: str) -> UsageFacts:
        """The task size and architecture (DescribeTaskDefinition) and the desired count (DescribeServices).

        Only Fargate is priced per task: a service on EC2 capacity bills its instances whatever the tasks do, and
        Windows tasks carry a licence fee the price table does not hold; both are `unsupported`, never zero."""
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        try:
            definition = self._ecs.describe_task_definition(taskDefinition=str(service["taskDefinition"]))[
                "taskDefinition"
            ]
        except ClientError as error:
            raise _translate("DescribeTaskDefinition", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "DescribeTaskDefinition", error) from error
        platform = definition.get("runtimePlatform") or {}
        architecture = (
            Architecture.ARM64 if str(platform.get("cpuArchitecture", "")).upper() == "ARM64" else Architecture.X86_64
        )
        desired = int(service.get("desiredCount", 0))
        return UsageFacts(
            pricing=Pricing.FARGATE,
            region=service_arn.split(":")[3],
            vcpu=parse_vcpu(definition.get("cpu")),
            memory_gb=parse_memory_gb(definition.get("memory")),
            architecture=architecture,
            running=desired > 0,
            units_now=Decimal(desired),
            metric=MetricSpec(
                namespace="ECS/ContainerInsights",
                name="RunningTaskCount",
                dimensions=(("ClusterName", cluster), ("ServiceName", name)),
            ),
            described=f"{parse_vcpu(definition.get('cpu'))} vCPU / {parse_memory_gb(definition.get('memory'))} GB "
            f"per task ({architecture.value}), desired count {desired}",
            unsupported=_not_fargate(service, platform),
        )

    # -- EcsRevisionsPort, for the rollback and the deployment watcher on ECS ------------------------------
    def service_state(self, service_arn: str) -> EcsServiceState:
        cluster, name = split_arn(service_arn)
        service = self._service(cluster, name, service_arn)
        breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
        return EcsServiceState(
            arn=service_arn,
            task_definition=str(service.get("taskDefinition") or ""),
            desired_count=int(service.get("desiredCount", 0)),
            deployments=tuple(
                EcsDeployment(
                    id=str(deployment.get("id", "")),
                    task_definition=str(deployment.get("taskDefinition") or ""),
                    status=str(deployment.get("status", "")),
                    rollout_state=deployment.get("rolloutState"),
                    rollout_reason=deployment.get("rolloutStateReason"),
                    created_at=_utc(deployment.get("createdAt")),
                    updated_at=_utc(deployment.get("updatedAt")),
                )
                for deployment in service.get("deployments") or []
            ),
            # Absent: ECS did not say (None). Present: the rollback flag counts only with the breaker enabled.
            circuit_breaker_rollback=None
            if breaker is None
            else bool(breaker.get("enable") and breaker.get("rollback")),
        )

    def list_revisions(self, family: str, limit: int) -> list[str]:
        """The family's newest ACTIVE revisions, newest first (the purge's paginated ListTaskDefinitions)."""
        return self._earlier_revisions(family, _ABOVE_EVERY_REVISION, limit, set())

    def describe_revision(self, task_definition: str, repository: str | None) -> TaskRevision | None:
        try:
            definition = self._ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
        except ClientError as error:
            # ECS answers an unknown family or revision with ClientException "Unable to describe task definition".
            if error_code(error) in {"ClientException", "InvalidParameterException"}:
                return None
            raise _translate("DescribeTaskDefinition", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "DescribeTaskDefinition", error) from error
        containers = definition.get("containerDefinitions", [])
        images = [str(container["image"]) for container in containers if container.get("image")]
        family, revision = _family_revision(str(definition["taskDefinitionArn"]))
        return TaskRevision(
            arn=str(definition["taskDefinitionArn"]),
            family=str(definition.get("family") or family),
            revision=int(definition.get("revision") or revision),
            image=app_image(images, repository),
        )

    # -- plumbing -------------------------------------------------------------------------------------
    def _service(self, cluster: str, name: str, service_arn: str) -> Any:
        try:
            response = self._ecs.describe_services(cluster=cluster, services=[name])
        except ClientError as error:
            if error_code(error) == "ClusterNotFoundException":
                raise ServiceNotFound(f"{service_arn}: cluster {cluster} not found") from error
            raise _translate("DescribeServices", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "DescribeServices", error) from error
        services = response.get("services") or []
        if not services:
            raise ServiceNotFound(f"{service_arn}: no such ECS service")
        return services[0]

    def _image(self, task_definition: str | None) -> str | None:
        if not task_definition:
            return None
        return app_image(self.task_definition_images(task_definition), self._repository)

    def _update(self, cluster: str, name: str, **changes: Any) -> Any:
        try:
            return self._ecs.update_service(cluster=cluster, service=name, **changes)["service"]
        except ClientError as error:
            if error_code(error) in {"ServiceNotActiveException", "ServiceNotFoundException"}:
                raise InvalidServiceState(f"UpdateService: {error}") from error
            raise _translate("UpdateService", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "UpdateService", error) from error

    def _is_express(self, service_arn: str) -> bool:
        """Asked once per container. Any refusal (not an Express service, an API this endpoint lacks,
        AccessDenied) means "plain ECS": the probe client makes one attempt, no retries. A throttle or a server
        error answers nothing: this call takes the plain ECS path (which an Express service's underlying
        service also accepts), and the next call asks again."""
        if service_arn not in self._express:
            probe = self._probe or probe_client("ecs")
            try:
                probe.describe_express_gateway_service(serviceArn=service_arn)
                self._express[service_arn] = True
            except (ClientError, BotoCoreError) as error:
                transient = isinstance(error, BotoCoreError) or (is_retryable(error) and not _unknown_operation(error))
                logger.info(
                    "not an Express service" if not transient else "Express probe failed; plain ECS this time",
                    extra={"service_arn": service_arn, "probe": repr(error)[:200]},
                )
                if transient:
                    return False
                self._express[service_arn] = False
        return self._express[service_arn]

    def _pause_express(self, service_arn: str, remembered: dict[str, str]) -> bool:
        probe = self._probe or probe_client("ecs")
        try:
            current = probe.describe_express_gateway_service(serviceArn=service_arn)["service"]
            configurations = current.get("activeConfigurations") or [{}]
            scaling = configurations[0].get("scalingTarget") or {}
            self._ecs.update_express_gateway_service(
                serviceArn=service_arn, scalingTarget={"minTaskCount": 0, "maxTaskCount": 0}
            )
        except ClientError as error:
            if is_retryable(error):
                raise _translate("UpdateExpressGatewayService", error) from error
            logger.warning(
                "Express refused a 0/0 scaling target; pausing the underlying ECS service instead",
                extra={"service_arn": service_arn, "error": error_code(error)},
            )
            return False
        remembered.update(path="express", express_scaling=json.dumps(scaling, default=str))
        return True

    def _resume_express(self, service_arn: str, memo: dict[str, str]) -> None:
        scaling = json.loads(memo.get("express_scaling") or "{}")
        # Nothing remembered (an older pause): one task is the least that serves traffic.
        minimum = int(scaling.get("minTaskCount", 1))
        maximum = int(scaling.get("maxTaskCount", max(minimum, 1)))
        try:
            self._ecs.update_express_gateway_service(
                serviceArn=service_arn, scalingTarget={"minTaskCount": minimum, "maxTaskCount": maximum}
            )
        except ClientError as error:
            raise _translate("UpdateExpressGatewayService", error) from error
        except BotoCoreError as error:
            raise unavailable("ecs", "UpdateExpressGatewayService", error) from error


class EcsDiscovery:
    """DiscoveryPort for ECS: every service of every cluster of the region, with its tags.

    DescribeServices with include=TAGS returns the tags with the descriptions, so the least this can cost is
    ceil(clusters / 100) ListClusters pages (at least 1) plus, for each cluster, its ListServices pages
    (ceil(services / 100), at least 1) and ceil(services / 10) DescribeServices calls. The clusters' listings, then
    the description batches, run `workers` at a time on the one client (boto3 clients are thread-safe); botocore's
    retry configuration (adapters/clients.py) retries a throttled call before it counts as failed."""

    def __init__(self, ecs: ECSClient | None = None, *, workers: int = DISCOVERY_WORKERS) -> None:
        self._client = ecs
        self._workers = workers

    @property
    def _ecs(self) -> ECSClient:
        if self._client is None:
            self._client = client("ecs")
        return self._client

    def discover(self) -> Discovery:
        clusters = collect(
            self._ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": _LIST_PAGE}),
            "clusterArns",
            "ListClusters",
            "",
        )
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            listings = list(pool.map(self._cluster_services, clusters.items))
            batches = [
                (str(cluster), tuple(str(arn) for arn in listing.items[start : start + _DESCRIBE_BATCH]))
                for cluster, listing in zip(clusters.items, listings, strict=True)
                for start in range(0, len(listing.items), _DESCRIBE_BATCH)
            ]
            described = list(pool.map(self._describe, batches))
        lists = [clusters, *listings]
        list_failures = [listing.failure for listing in lists if listing.failure]
        return Discovery(
            platform=ECS,
            services=tuple(service for batch in described for service in batch.services),
            complete=not list_failures,
            failures=(*list_failures, *(line for batch in described for line in batch.failures)),
            calls=sum(listing.requests for listing in lists) + sum(batch.requests for batch in described),
            unreadable=tuple(arn for batch in described for arn in batch.unreadable),
        )

    def _cluster_services(self, cluster: str) -> Listing:
        pages = self._ecs.get_paginator("list_services").paginate(
            cluster=cluster, PaginationConfig={"PageSize": _LIST_PAGE}
        )
        return collect(pages, "serviceArns", "ListServices", cluster)

    def _describe(self, batch: tuple[str, tuple[str, ...]]) -> _Described:
        cluster, arns = batch
        result = read(
            "DescribeServices",
            f"{len(arns)} services of {cluster}",
            lambda: self._ecs.describe_services(cluster=cluster, services=list(arns), include=["TAGS"]),
        )
        if result.answer is None:
            return _Described(requests=result.requests, unreadable=arns, failures=(str(result.failure),))
        returned = {str(service["serviceArn"]): service for service in result.answer.get("services") or []}
        # A service ECS names in `failures` (MISSING: deleted since it was listed) or leaves out altogether is
        # unreadable, not absent: its membership stays as it was for one run, and the next listing settles it.
        reasons = {
            str(failure.get("arn")): str(failure.get("reason")) for failure in result.answer.get("failures") or []
        }
        missing = tuple(arn for arn in arns if arn not in returned)
        return _Described(
            requests=result.requests,
            services=tuple(
                DiscoveredService(arn=arn, tags=_ecs_tags(service))
                for arn, service in returned.items()
                if service.get("status") not in _GONE
            ),
            unreadable=missing,
            failures=tuple(f"DescribeServices {arn}: {reasons.get(arn, 'not described')}" for arn in missing),
        )


class _Described(NamedTuple):
    requests: int
    services: tuple[DiscoveredService, ...] = ()
    unreadable: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


def _ecs_tags(service: Any) -> dict[str, str]:
    """ECS spells its tags in lower case (`key`, `value`), unlike App Runner."""
    return {str(tag["key"]): str(tag.get("value", "")) for tag in service.get("tags") or [] if "key" in tag}


def split_arn(service_arn: str) -> tuple[str, str]:
    match = _ARN.match(service_arn)
    if match is None:
        raise ServiceNotFound(
            f"{service_arn}: not an ECS service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>)"
        )
    return match["cluster"], match["service"]


_MAX_LIST_PAGES = 20  # 2,000 task definitions: a family with more earlier revisions keeps what was found


def _family_revision(task_definition_arn: str) -> tuple[str, int]:
    """`arn:...:task-definition/consultation-app:41` -> ("consultation-app", 41)."""
    family, _, revision = task_definition_arn.rsplit("/", 1)[-1].rpartition(":")
    return (family, int(revision)) if family and revision.isdigit() else (task_definition_arn, 0)


_ABOVE_EVERY_REVISION = 2**31  # list_revisions lists every revision: "earlier than" one no family reaches


def _utc(moment: Any) -> datetime | None:
    return moment.astimezone(UTC) if isinstance(moment, datetime) else None


def ecs_status(service: Any) -> ServiceStatus:
    """Warden's status of an ECS service description (see the module's table)."""
    status = _scale_status(service)
    if status is not ServiceStatus.DELETED and any(
        d.get("rolloutState") == "IN_PROGRESS" for d in service.get("deployments") or []
    ):
        return ServiceStatus.OPERATION_IN_PROGRESS
    return status


def _scale_status(service: Any) -> ServiceStatus:
    """What the service is by its desired count, whatever its deployments are doing."""
    if service.get("status") in {"DRAINING", "INACTIVE"}:
        return ServiceStatus.DELETED
    if int(service.get("desiredCount", 0)) == 0:
        return ServiceStatus.PAUSED
    return ServiceStatus.RUNNING


def _in_ecs_terms(status: ServiceStatus) -> str:
    return {
        ServiceStatus.RUNNING: "running (desired count above 0)",
        ServiceStatus.PAUSED: "scaled to zero (desired count 0)",
    }.get(status, "draining or inactive")


def _express_service(service: Any, probed: bool | None) -> bool | None:
    """Whether the service is an Express service: ECS says so in `resourceManagementType` (`ECS` for Express,
    `CUSTOMER` otherwise); where it does not, what the Express probe found, if it ran."""
    managed = service.get("resourceManagementType")
    return probed if managed not in {"ECS", "CUSTOMER"} else managed == "ECS"


def _not_fargate(service: Any, platform: Any) -> str | None:
    """Why the service's tasks are not priced as Fargate Linux tasks; None when they are."""
    strategy = [str(item.get("capacityProvider", "")) for item in service.get("capacityProviderStrategy") or []]
    launch = service.get("launchType")
    fargate = launch == "FARGATE" or (not launch and bool(strategy) and all(p.startswith("FARGATE") for p in strategy))
    if not fargate:
        on = f"launch type {launch}" if launch else f"capacity providers {', '.join(strategy) or 'unknown'}"
        return f"the service runs on EC2 capacity ({on}): its instances are billed per instance, not per task"
    family = str(platform.get("operatingSystemFamily") or "LINUX")
    if family.upper() != "LINUX":
        return f"Fargate {family} tasks carry an operating-system licence fee the price table does not hold"
    return None


def _unknown_operation(error: ClientError) -> bool:
    """An endpoint without the Express API (an emulator, an older partition) answers a bare 500 or 501 with no
    error code: that is a lasting "no", unlike a throttle or a coded server error."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in {500, 501} and error_code(error) in {"", "500", "501"}


def _translate(operation: str, error: ClientError) -> Exception:
    return unavailable("ecs", operation, error) if is_retryable(error) else error
