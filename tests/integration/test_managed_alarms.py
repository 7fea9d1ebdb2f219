"""The fleet's alarms against moto's CloudWatch (mock_aws): created, left alone, updated, deleted, never someone else's.

Every CloudWatch request is counted by a botocore hook on the client, apart from the adapter's own counters, so that
"no write" means no PutMetricAlarm and no DeleteAlarms left the client. moto 5.2.5 accepts metric-math alarms
(`Metrics`) and returns them from DescribeAlarms; it ignores DescribeAlarms' MaxRecords (one page whatever the
number), does not fail DeleteAlarms for a name that does not exist, and, unlike AWS, applies the Tags of a
PutMetricAlarm that updates an alarm: the batch fallback is therefore tested with botocore's Stubber.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from warden.adapters.cloudwatch import ALARM_IAM_ACTIONS, CloudWatchAlarms
from warden.domain.fleet import MANAGED_TAG
from warden.domain.managed_alarms import SUFFIXES, AlarmOwner, AlarmSpec, AlarmThresholds, desired_alarms
from warden.usecases.managed_alarms import reconcile_alarms

pytestmark = pytest.mark.integration

REGION = "us-east-1"
LOAD_BALANCER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
WEB = AlarmOwner(
    service_arn="arn:aws:apprunner:us-east-1:123456789012:service/web-app/0123456789abcdef0123456789abcdef",
    name="web-app",
    platform="apprunner",
    service_id="0123456789abcdef0123456789abcdef",
)
API = AlarmOwner(
    service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/api",
    name="api",
    platform="ecs",
    cluster="prod",
    target_group_arn=TARGET_GROUP_ARN,
    load_balancer_arn=LOAD_BALANCER_ARN,
)
DEFAULTS = AlarmThresholds()
WRITES = {"PutMetricAlarm", "DeleteAlarms"}


class CloudWatch:
    """moto's CloudWatch, the adapter over it, and every request the adapter's client sent, by operation. The test
    looks and seeds through a client of its own (`client`), which is not counted."""

    def __init__(self) -> None:
        self.client: Any = boto3.client("cloudwatch", region_name=REGION)
        self.counted: Any = boto3.client("cloudwatch", region_name=REGION)
        self.topic = boto3.client("sns", region_name=REGION).create_topic(Name="warden-AlarmTopic")["TopicArn"]
        self.sent: Counter[str] = Counter()
        self.counted.meta.events.register("before-call.monitoring.*", self._count)
        self.alarms = CloudWatchAlarms(self.counted)

    def _count(self, model: Any, **_: Any) -> None:
        self.sent[model.name] += 1

    def reconcile(self, *owners: AlarmOwner, thresholds: AlarmThresholds = DEFAULTS) -> Any:
        self.sent.clear()
        return reconcile_alarms(list(owners), thresholds, self.topic, self.alarms)

    def described(self) -> dict[str, dict[str, Any]]:
        pages = self.client.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
        return {alarm["AlarmName"]: alarm for page in pages for alarm in page["MetricAlarms"]}

    def tags(self, name: str) -> dict[str, str]:
        arn = self.described()[name]["AlarmArn"]
        return {tag["Key"]: tag["Value"] for tag in self.client.list_tags_for_resource(ResourceARN=arn)["Tags"]}

    def writes(self) -> int:
        return sum(self.sent[operation] for operation in WRITES)


@pytest.fixture
def cloudwatch() -> Iterator[CloudWatch]:
    with mock_aws():
        yield CloudWatch()


def test_the_first_run_creates_every_alarm_tagged_and_notifying_the_alarm_topic(cloudwatch: CloudWatch) -> None:
    # Given an App Runner service and an ECS service behind a load balancer, and no alarm yet
    # When Warden reconciles
    report = cloudwatch.reconcile(WEB, API)
    # Then ten alarms exist, each with the managed tag, notifying the alarm topic on ALARM and OK
    alarms = cloudwatch.described()
    assert sorted(alarms) == sorted(report.created)
    assert len(alarms) == 10
    for name, alarm in alarms.items():
        assert cloudwatch.tags(name) == {MANAGED_TAG: "true"}
        assert alarm["AlarmActions"] == [cloudwatch.topic]
        assert alarm["OKActions"] == [cloudwatch.topic]
    # And the metric-math alarms came back as written: what DescribeAlarms returns compares equal to the desired
    assert alarms["warden-api-5xx-rate"]["Metrics"]
    for spec in desired_alarms(WEB, DEFAULTS, cloudwatch.topic) + desired_alarms(API, DEFAULTS, cloudwatch.topic):
        assert AlarmSpec.from_described(alarms[spec.name]).configuration() == spec.configuration(), spec.name
    # And exactly ten PutMetricAlarm went out, after one DescribeAlarms and no tag read
    assert cloudwatch.sent == Counter({"DescribeAlarms": 1, "PutMetricAlarm": 10})
    assert (report.writes, report.calls) == (10, 11)


def test_a_second_run_with_nothing_changed_sends_no_write(cloudwatch: CloudWatch) -> None:
    # Given the fleet's alarms in place
    cloudwatch.reconcile(WEB, API)
    # When Warden reconciles again
    report = cloudwatch.reconcile(WEB, API)
    # Then the only request is the listing: no PutMetricAlarm, no DeleteAlarms, not even a tag read
    assert cloudwatch.sent == Counter({"DescribeAlarms": 1})
    assert cloudwatch.writes() == 0
    assert (report.writes, len(report.unchanged)) == (0, 10)


def test_a_threshold_change_updates_those_alarms_only(cloudwatch: CloudWatch) -> None:
    # Given the fleet's alarms at the default thresholds
    cloudwatch.reconcile(WEB, API)
    # When the CPU threshold is lowered to 75 %
    report = cloudwatch.reconcile(WEB, API, thresholds=AlarmThresholds(cpu_percent=75))
    # Then the two CPU alarms are rewritten (their tags read first, to prove they are Warden's), nothing else
    assert sorted(report.updated) == ["warden-api-cpu", "warden-web-app-cpu"]
    assert cloudwatch.sent == Counter({"DescribeAlarms": 1, "ListTagsForResource": 2, "PutMetricAlarm": 2})
    alarms = cloudwatch.described()
    assert alarms["warden-api-cpu"]["Threshold"] == 75.0
    assert alarms["warden-web-app-memory"]["Threshold"] == 95.0
    assert cloudwatch.tags("warden-api-cpu") == {MANAGED_TAG: "true"}


def test_a_service_no_longer_guarded_has_its_alarms_deleted(cloudwatch: CloudWatch) -> None:
    # Given both services' alarms
    cloudwatch.reconcile(WEB, API)
    # When the ECS service stops being guarded
    report = cloudwatch.reconcile(WEB)
    # Then its five alarms are deleted in one DeleteAlarms, the App Runner service's left as they are
    assert sorted(report.deleted) == sorted(f"warden-api-{suffix}" for suffix in SUFFIXES)
    assert cloudwatch.sent["DeleteAlarms"] == 1
    assert cloudwatch.sent["PutMetricAlarm"] == 0
    assert sorted(cloudwatch.described()) == sorted(f"warden-web-app-{suffix}" for suffix in SUFFIXES)


def test_an_alarm_without_the_managed_tag_is_never_deleted_nor_overwritten(cloudwatch: CloudWatch) -> None:
    # Given a person's alarm warden-x-cpu, notifying the alarm topic but without the managed tag, and a person's alarm
    # with the very name Warden gives the App Runner service's CPU alarm
    mine = desired_alarms(WEB, AlarmThresholds(cpu_percent=50), cloudwatch.topic)[2]
    for name in ("warden-x-cpu", mine.name):
        request = mine.model_copy(update={"name": name, "tags": {"team": "web"}}).request()
        cloudwatch.client.put_metric_alarm(**request)
    # When Warden reconciles the App Runner service, twice
    first = cloudwatch.reconcile(WEB)
    second = cloudwatch.reconcile(WEB)
    # Then neither alarm is deleted or rewritten: warden-x-cpu is still there, the other keeps the person's threshold
    alarms = cloudwatch.described()
    assert "warden-x-cpu" in alarms
    assert alarms[mine.name]["Threshold"] == 50.0
    assert cloudwatch.tags(mine.name) == {"team": "web"}
    for report in (first, second):
        assert "warden-x-cpu" not in report.deleted
        assert mine.name not in report.updated
        assert [conflict.name for conflict in report.conflicts] == [mine.name]
    # And the service's four other alarms were created once
    assert len(first.created) == 4
    assert second.writes == 0


def test_more_than_a_hundred_alarms_to_delete_take_one_delete_alarms_per_hundred(cloudwatch: CloudWatch) -> None:
    # Given 30 ECS services' alarms (150), none of them guarded any more
    services = [
        AlarmOwner(
            service_arn=f"arn:aws:ecs:us-east-1:123456789012:service/prod/s{n}",
            name=f"s{n}",
            platform="ecs",
            cluster="prod",
            target_group_arn=TARGET_GROUP_ARN,
            load_balancer_arn=LOAD_BALANCER_ARN,
        )
        for n in range(30)
    ]
    cloudwatch.reconcile(*services)
    # When Warden reconciles an empty fleet
    report = cloudwatch.reconcile()
    # Then all 150 are deleted in two DeleteAlarms (100 + 50), after reading each one's tags
    assert len(report.deleted) == 150
    assert cloudwatch.sent == Counter({"DescribeAlarms": 1, "ListTagsForResource": 150, "DeleteAlarms": 2})
    assert cloudwatch.described() == {}


def test_a_refused_batch_is_deleted_name_by_name_and_an_alarm_already_gone_counts_as_deleted() -> None:
    # Given CloudWatch refusing a batch because one alarm was deleted meanwhile, then answering name by name
    client: Any = boto3.client("cloudwatch", region_name=REGION)
    alarms = CloudWatchAlarms(client)
    with Stubber(client) as stub:
        stub.add_client_error("delete_alarms", "ResourceNotFound", http_status_code=404)
        stub.add_response("delete_alarms", {}, {"AlarmNames": ["warden-a-cpu"]})
        stub.add_client_error("delete_alarms", "ResourceNotFound", http_status_code=404)
        stub.add_client_error("delete_alarms", "AccessDenied", http_status_code=403)
        # When three alarms are deleted
        failures = alarms.delete_alarms(["warden-a-cpu", "warden-b-cpu", "warden-c-cpu"])
        stub.assert_no_pending_responses()
    # Then the gone one counts as deleted, the refused one is reported, and four requests were sent
    assert failures == {"warden-c-cpu": "DeleteAlarms: AccessDenied"}
    assert (alarms.calls, alarms.writes) == (4, 4)


def test_a_single_alarm_already_gone_is_deleted_with_one_request() -> None:
    client: Any = boto3.client("cloudwatch", region_name=REGION)
    alarms = CloudWatchAlarms(client)
    with Stubber(client) as stub:
        stub.add_client_error("delete_alarms", "ResourceNotFound", http_status_code=404)
        assert alarms.delete_alarms(["warden-a-cpu"]) == {}
        stub.assert_no_pending_responses()
    assert alarms.calls == 1


def test_the_adapter_never_writes_or_deletes_an_alarm_outside_the_prefix() -> None:
    client: Any = boto3.client("cloudwatch", region_name=REGION)
    alarms = CloudWatchAlarms(client)
    spec = desired_alarms(WEB, DEFAULTS, "arn:aws:sns:us-east-1:123456789012:t")[0].model_copy(update={"name": "prod"})
    with Stubber(client) as stub:  # no response queued: any request would fail the test
        assert set(alarms.put_alarms([spec])) == {"prod"}
        assert set(alarms.delete_alarms(["prod-cpu"])) == {"prod-cpu"}
        stub.assert_no_pending_responses()
    assert alarms.calls == 0


def test_the_declared_actions_are_what_the_alarms_adapter_calls() -> None:
    # PutMetricAlarm with Tags needs TagResource as well (PutMetricAlarm's API reference)
    assert (
        frozenset(
            {
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:DeleteAlarms",
            }
        )
        == ALARM_IAM_ACTIONS
    )
