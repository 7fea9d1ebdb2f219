"""App Runner adapter: describe, pause, resume and deploy one service, and read its latest operations; and find
the fleet (every service of the region, with its tags).

App Runner has no paginators and no waiters in botocore: the fleet's listing follows NextToken itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.adapters.listing import Read, collect, read
from warden.domain.deployments import OperationInfo
from warden.domain.fleet import DiscoveredService, Discovery
from warden.domain.service import APP_RUNNER, ServiceSnapshot, ServiceStatus
from warden.domain.spend import MetricSpec, Pricing, UsageFacts, parse_memory_gb, parse_vcpu
from warden.errors import InvalidServiceState, ServiceNotFound

if TYPE_CHECKING:
    from mypy_boto3_apprunner import AppRunnerClient

# The IAM actions this adapter calls; the template grants exactly these (checked by a test).
IAM_ACTIONS = frozenset(
    {
        "apprunner:DescribeService",
        "apprunner:PauseService",
        "apprunner:ResumeService",
        "apprunner:StartDeployment",
        # The deployment watcher: how long the operation behind an event took, and how it ended.
        "apprunner:ListOperations",
        # The spend guard: the instances the service keeps warm (its auto scaling configuration's MinSize).
        "apprunner:DescribeAutoScalingConfiguration",
    }
)
# The fleet's discovery (AppRunnerDiscovery): read-only, on every service of the region. ListServices has no
# resource type, so it is granted on "*" (AWS-FACTS §9.8).
DISCOVERY_IAM_ACTIONS = frozenset({"apprunner:ListServices", "apprunner:ListTagsForResource"})

# Tag reads in flight at once. Below botocore's connection pool (max_pool_connections, 10 by default): more threads
# than sockets would only queue inside urllib3.
DISCOVERY_WORKERS = 8
# ListServices' largest page (the model's ServiceMaxResults is 1-20; App Runner refuses more).
_LIST_PAGE = 20
# Statuses in which App Runner accepts nothing but DeleteService: a service deleted, being given up on, or that
# never started has nothing to pause or resume, so it is no member of the fleet (and costs no tag read).
_NOT_GUARDED = frozenset({ServiceStatus.DELETED, ServiceStatus.DELETE_FAILED, ServiceStatus.CREATE_FAILED})


class AppRunnerServices:
    def __init__(self, apprunner: AppRunnerClient | None = None) -> None:
        self._client = apprunner

    @property
    def _apprunner(self) -> AppRunnerClient:
        if self._client is None:
            self._client = client("apprunner")
        return self._client

    def describe(self, service_arn: str) -> ServiceSnapshot:
        service = self._call(
            "DescribeService", service_arn, lambda: self._apprunner.describe_service(ServiceArn=service_arn)
        )
        return _snapshot(service["Service"])

    def pause(self, service_arn: str) -> str | None:
        response = self._call(
            "PauseService", service_arn, lambda: self._apprunner.pause_service(ServiceArn=service_arn)
        )
        return _operation_id(response)

    def resume(self, service_arn: str) -> str | None:
        response = self._call(
            "ResumeService", service_arn, lambda: self._apprunner.resume_service(ServiceArn=service_arn)
        )
        return _operation_id(response)

    def start_deployment(self, service_arn: str) -> str:
        response = self._call(
            "StartDeployment", service_arn, lambda: self._apprunner.start_deployment(ServiceArn=service_arn)
        )
        return str(response["OperationId"])

    def last_operation(self, service_arn: str, types: frozenset[str]) -> OperationInfo | None:
        """The newest operation of one of `types` among the service's 20 most recent (ListOperations is newest
        first; one page is enough for the operation an event just reported)."""
        response = self._call(
            "ListOperations",
            service_arn,
            lambda: self._apprunner.list_operations(ServiceArn=service_arn, MaxResults=20),
        )
        for summary in response.get("OperationSummaryList", []):
            if summary.get("Type") in types:
                return OperationInfo(
                    id=str(summary.get("Id", "")),
                    type=str(summary["Type"]),
                    status=str(summary.get("Status", "")),
                    started_at=summary.get("StartedAt"),
                    ended_at=summary.get("EndedAt"),
                )
        return None

    def usage_facts(self, service_arn: str) -> UsageFacts:
        """UsageFactsPort: the instance size (DescribeService) and the instances kept warm (MinSize of the service's
        auto scaling configuration, DescribeAutoScalingConfiguration)."""
        service = self._call(
            "DescribeService", service_arn, lambda: self._apprunner.describe_service(ServiceArn=service_arn)
        )["Service"]
        summary = service.get("AutoScalingConfigurationSummary") or {}
        scaling_arn = str(summary.get("AutoScalingConfigurationArn") or "")
        scaling = self._call(
            "DescribeAutoScalingConfiguration",
            service_arn,
            lambda: self._apprunner.describe_auto_scaling_configuration(AutoScalingConfigurationArn=scaling_arn),
        )["AutoScalingConfiguration"]
        instance = service.get("InstanceConfiguration") or {}
        vcpu, memory = parse_vcpu(instance.get("Cpu")), parse_memory_gb(instance.get("Memory"))
        # App Runner's default is 1 (AutoScalingConfiguration MinSize); 0 would count no warm instance at all.
        minimum = int(scaling.get("MinSize") or 1)
        running = service["Status"] in {ServiceStatus.RUNNING.value, ServiceStatus.OPERATION_IN_PROGRESS.value}
        return UsageFacts(
            pricing=Pricing.APP_RUNNER,
            region=service_arn.split(":")[3],
            vcpu=vcpu,
            memory_gb=memory,
            warm_minimum=minimum,
            running=running,
            units_now=Decimal(minimum if running else 0),
            metric=MetricSpec(
                namespace="AWS/AppRunner",
                name="ActiveInstances",
                # App Runner publishes its service metrics with both dimensions (AWS-FACTS §4.6).
                dimensions=(("ServiceName", str(service["ServiceName"])), ("ServiceID", str(service["ServiceId"]))),
            ),
            described=f"{vcpu} vCPU / {memory} GB per instance, {minimum} kept warm"
            + ("" if running else f", {service['Status'].lower()}"),
        )

    @staticmethod
    def _call(operation: str, service_arn: str, call: Any) -> Any:
        try:
            return call()
        except ClientError as error:
            code = error_code(error)
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code == "ResourceNotFoundException":
                raise ServiceNotFound(f"{service_arn}: {message or code}") from error
            if code == "InvalidStateException":
                raise InvalidServiceState(f"{operation}: {message or code}") from error
            if is_retryable(error):
                raise unavailable("apprunner", operation, error) from error
            raise
        except BotoCoreError as error:
            raise unavailable("apprunner", operation, error) from error


class AppRunnerDiscovery:
    """DiscoveryPort for App Runner: every service of the region (ListServices, 20 a page) with its tags.

    ListServices returns no tags, so each service costs one ListTagsForResource: the least this can cost is
    ceil(services / 20) pages (at least 1) plus one tag read per service listed in a guardable status. The tag
    reads run `workers` at a time on the one client (boto3 clients are thread-safe), and botocore's retry
    configuration (adapters/clients.py) retries a throttled read before it counts as unreadable."""

    def __init__(self, apprunner: AppRunnerClient | None = None, *, workers: int = DISCOVERY_WORKERS) -> None:
        self._client = apprunner
        self._workers = workers

    @property
    def _apprunner(self) -> AppRunnerClient:
        if self._client is None:
            self._client = client("apprunner")
        return self._client

    def discover(self) -> Discovery:
        listing = collect(self._service_pages(), "ServiceSummaryList", "ListServices", "")
        arns = [str(summary["ServiceArn"]) for summary in listing.items if summary.get("Status") not in _NOT_GUARDED]
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            reads = list(pool.map(self._read_tags, arns))
        return Discovery(
            platform=APP_RUNNER,
            services=tuple(
                DiscoveredService(arn=arn, tags=_tags(tags.answer))
                for arn, tags in zip(arns, reads, strict=True)
                if tags.answer is not None
            ),
            complete=listing.failure is None,
            failures=tuple(line for line in (listing.failure, *(tags.failure for tags in reads)) if line),
            calls=listing.requests + sum(tags.requests for tags in reads),
            unreadable=tuple(arn for arn, tags in zip(arns, reads, strict=True) if tags.answer is None),
        )

    def _service_pages(self) -> Iterator[Any]:
        """ListServices' pages, NextToken followed (App Runner has no botocore paginator)."""
        token: str | None = None
        while True:
            page = (
                self._apprunner.list_services(MaxResults=_LIST_PAGE, NextToken=token)
                if token
                else self._apprunner.list_services(MaxResults=_LIST_PAGE)
            )
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _read_tags(self, service_arn: str) -> Read:
        return read(
            "ListTagsForResource",
            service_arn,
            lambda: self._apprunner.list_tags_for_resource(ResourceArn=service_arn),
        )


def _tags(answer: Any) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in answer.get("Tags") or [] if "Key" in tag}


def _operation_id(response: Any) -> str | None:
    value = response.get("OperationId")
    return None if value is None else str(value)


def _snapshot(service: Any) -> ServiceSnapshot:
    source = service.get("SourceConfiguration", {})
    image = source.get("ImageRepository", {}).get("ImageIdentifier")
    url = service.get("ServiceUrl")
    return ServiceSnapshot(
        arn=service["ServiceArn"],
        name=service["ServiceName"],
        status=ServiceStatus(service["Status"]),
        platform=APP_RUNNER,
        image_identifier=image,
        auto_deploy=source.get("AutoDeploymentsEnabled"),
        url=f"https://{url}" if url else None,
    )
