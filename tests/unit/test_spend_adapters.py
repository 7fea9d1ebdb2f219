"""The spend guard's adapters over botocore's Stubber: GetMetricData pages and statuses, the platforms' facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.cloudwatch import CloudWatchMetrics
from warden.adapters.ecs import EcsServices
from warden.domain.spend import Architecture, CannotEstimate, MetricSpec
from warden.errors import AwsUnavailable

NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
SPEC = MetricSpec(namespace="AWS/AppRunner", name="ActiveInstances", dimensions=(("ServiceName", "web"),))
SCALING_ARN = "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/warm/1"
APP_RUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/webapp/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]
    return client, Stubber(client)


def result(status: str, *minutes: int, value: float = 2.0) -> dict[str, Any]:
    return {
        "Id": "usage",
        "Label": "ActiveInstances",
        "Timestamps": [NOW - timedelta(minutes=minute) for minute in minutes],
        "Values": [value] * len(minutes),
        "StatusCode": status,
    }


def test_the_pages_of_one_get_metric_data_call_are_joined_by_query() -> None:
    # Given CloudWatch answering in two pages: the first PartialData with a NextToken
    client, stub = stubbed("cloudwatch")
    stub.add_response("get_metric_data", {"MetricDataResults": [result("PartialData", 3, 2)], "NextToken": "t1"})
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result("Complete", 1)]},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "t1"},
    )
    # When the adapter reads the metric
    with stub:
        points = CloudWatchMetrics(client).metric_data({"usage": SPEC}, NOW - timedelta(hours=1), NOW, 60)
    # Then all three points are there, from both pages
    assert [moment for moment, _ in points["usage"].points] == [NOW - timedelta(minutes=m) for m in (3, 2, 1)]
    assert points["usage"].period_seconds == 60
    stub.assert_no_pending_responses()


def test_a_forbidden_query_is_no_estimate_rather_than_no_usage() -> None:
    client, stub = stubbed("cloudwatch")
    stub.add_response("get_metric_data", {"MetricDataResults": [result("Forbidden")]})
    with stub, pytest.raises(CannotEstimate, match="Forbidden"):
        CloudWatchMetrics(client).metric_data({"usage": SPEC}, NOW - timedelta(hours=1), NOW, 60)


@pytest.mark.parametrize(("code", "raised"), [("AccessDenied", CannotEstimate), ("Throttling", AwsUnavailable)])
def test_cloudwatch_refusing_is_no_estimate_and_throttling_is_retried_later(code: str, raised: type) -> None:
    client, stub = stubbed("cloudwatch")
    stub.add_client_error("get_metric_data", service_error_code=code, http_status_code=400)
    with stub, pytest.raises(raised):
        CloudWatchMetrics(client).metric_data({"usage": SPEC}, NOW - timedelta(hours=1), NOW, 60)


def describe_service(status: str = "RUNNING", cpu: str = "1024", memory: str = "2048") -> dict[str, Any]:
    return {
        "Service": {
            "ServiceName": "webapp",
            "ServiceId": "0123456789abcdef0123456789abcdef",
            "ServiceArn": APP_RUNNER_ARN,
            "CreatedAt": NOW,
            "UpdatedAt": NOW,
            "Status": status,
            "SourceConfiguration": {},
            "InstanceConfiguration": {"Cpu": cpu, "Memory": memory},
            "AutoScalingConfigurationSummary": {"AutoScalingConfigurationArn": SCALING_ARN},
            "NetworkConfiguration": {},
        }
    }


@pytest.mark.parametrize(("status", "running", "units"), [("RUNNING", True, 3), ("PAUSED", False, 0)])
def test_app_runner_facts_read_the_size_and_the_warm_minimum(status: str, running: bool, units: int) -> None:
    client, stub = stubbed("apprunner")
    stub.add_response("describe_service", describe_service(status), {"ServiceArn": APP_RUNNER_ARN})
    stub.add_response(
        "describe_auto_scaling_configuration",
        {"AutoScalingConfiguration": {"MinSize": 3, "MaxSize": 25}},
        {"AutoScalingConfigurationArn": SCALING_ARN},
    )
    with stub:
        facts = AppRunnerServices(client).usage_facts(APP_RUNNER_ARN)
    assert (facts.vcpu, facts.memory_gb, facts.warm_minimum) == (1, 2, 3)
    assert (facts.running, facts.units_now) == (running, Decimal(units))
    assert dict(facts.metric.dimensions) == {"ServiceName": "webapp", "ServiceID": "0123456789abcdef0123456789abcdef"}


class Memos:
    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None: ...

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        return None

    def delete_memo(self, service_arn: str, name: str) -> None: ...


def ecs_facts(service: dict[str, Any], definition: dict[str, Any]) -> Any:
    client, stub = stubbed("ecs")
    stub.add_response("describe_services", {"services": [{"desiredCount": 4, "taskDefinition": "web:7", **service}]})
    stub.add_response("describe_task_definition", {"taskDefinition": {"cpu": "512", "memory": "1024", **definition}})
    with stub:
        return EcsServices(Memos(), client).usage_facts(ECS_ARN)


def test_a_fargate_task_on_graviton_is_priced_as_arm() -> None:
    facts = ecs_facts({"launchType": "FARGATE"}, {"runtimePlatform": {"cpuArchitecture": "ARM64"}})
    assert facts.architecture is Architecture.ARM64
    assert (facts.vcpu, facts.memory_gb, facts.units_now, facts.unsupported) == (
        Decimal("0.5"),
        1,
        4,
        None,
    )
    assert dict(facts.metric.dimensions) == {"ClusterName": "prod", "ServiceName": "web"}


@pytest.mark.parametrize(
    ("service", "definition", "why"),
    [
        ({"launchType": "EC2"}, {}, "EC2"),
        ({"capacityProviderStrategy": [{"capacityProvider": "my-asg"}]}, {}, "EC2"),
        (
            {"launchType": "FARGATE"},
            {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}},
            "licence",
        ),
    ],
)
def test_tasks_not_billed_as_fargate_linux_cannot_be_priced(
    service: dict[str, Any], definition: dict[str, Any], why: str
) -> None:
    facts = ecs_facts(service, definition)
    assert facts.unsupported is not None
    assert why in facts.unsupported
