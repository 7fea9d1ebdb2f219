"""App Runner adapter: describe, pause, resume and deploy one service, and read its latest operations.

App Runner has no paginators and no waiters in botocore; Warden needs neither here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.deployments import OperationInfo
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
