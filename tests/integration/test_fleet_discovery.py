"""The fleet's discovery against the App Runner emulator and moto's ECS: every service with its tags, for exactly
the calls the APIs make necessary, and every AWS refusal a value (never an exception).

Lower bounds checked here (adapters/apprunner.py, adapters/ecs.py):
- App Runner: ceil(listed / 20) ListServices pages (at least 1) + one ListTagsForResource per guardable service.
- ECS: ceil(clusters / 100) ListClusters pages (at least 1) + per cluster ceil(services / 100) ListServices pages
  (at least 1) + per cluster ceil(services / 10) DescribeServices.
The adapters' own `calls` is compared with what the servers (or botocore, request by request) saw.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto.ecs.models import ecs_backends

from local.account import ACCOUNT_ID, IMAGE, LocalServers
from local.apprunner_emulator import AppRunnerEmulator
from warden.adapters.apprunner import AppRunnerDiscovery
from warden.adapters.clients import CONFIG
from warden.adapters.ecs import EcsDiscovery
from warden.domain.fleet import GUARD_TAG, DiscoveredService

pytestmark = pytest.mark.integration

# botocore after its retries have run out: one attempt, so an injected error is final.
GIVEN_UP = CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
# A region no other test uses: moto's server is shared by the session, and its ECS state there is this file's.
FLEET_REGION = "eu-north-1"


# --- App Runner --------------------------------------------------------------------------------------


@pytest.fixture
def emulator(servers: LocalServers) -> AppRunnerEmulator:
    servers.emulator.reset()
    servers.emulator.operation_seconds = 0.0
    return servers.emulator


def apprunner(emulator: AppRunnerEmulator, config: Config = CONFIG) -> Any:
    return boto3.client("apprunner", endpoint_url=emulator.url, region_name="us-east-1", config=config)


def tags_of(index: int) -> dict[str, str]:
    """A third guard-tagged, a third tagged `false`, a third with other tags only."""
    return [
        {GUARD_TAG: "true", "team": f"team-{index}"},
        {GUARD_TAG: "false"},
        {"warden:budget": "30", "owner": "ops"},
    ][index % 3]


def seed_fleet(emulator: AppRunnerEmulator, count: int) -> dict[str, dict[str, str]]:
    return {
        emulator.seed_service(f"fleet-app-{index:02d}", IMAGE, tags=tags_of(index)): tags_of(index)
        for index in range(count)
    }


def test_forty_five_app_runner_services_are_found_over_three_pages_with_one_tag_read_each(
    emulator: AppRunnerEmulator,
) -> None:
    # Given 45 App Runner services with mixed tags
    fleet = seed_fleet(emulator, 45)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(apprunner(emulator)).discover()
    # Then every service is there, in listing order, with every one of its tags
    assert discovery.services == tuple(DiscoveredService(arn=arn, tags=tags) for arn, tags in fleet.items())
    assert sum(service.guard_tagged for service in discovery.services) == 15
    assert (discovery.platform, discovery.complete, discovery.failures, discovery.unreadable) == (
        "App Runner",
        True,
        (),
        (),
    )
    # And it took the lower bound: 3 pages of at most 20 (App Runner's largest), and one tag read per service
    assert discovery.calls == 3 + 45 == len(emulator.calls())
    pages = [call["params"] for call in emulator.calls("ListServices")]
    assert [page["MaxResults"] for page in pages] == [20, 20, 20]
    assert ["NextToken" in page for page in pages] == [False, True, True]
    assert sorted(call["params"]["ResourceArn"] for call in emulator.calls("ListTagsForResource")) == sorted(fleet)


def test_app_runner_tag_reads_run_concurrently(emulator: AppRunnerEmulator) -> None:
    # Given 5 services, and a client on which the first two tag reads each wait until the other one has started
    seed_fleet(emulator, 5)
    client = apprunner(emulator)
    both_in_flight = threading.Barrier(2, timeout=10)
    arriving = itertools.count()

    def wait_for_the_other(**_: Any) -> None:
        if next(arriving) < 2:
            both_in_flight.wait()  # read one after the other, the first would wait alone and break the barrier

    client.meta.events.register("before-call.apprunner.ListTagsForResource", wait_for_the_other)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(client).discover()
    # Then both met: two reads were in flight at once, and every service was read
    assert len(discovery.services) == 5
    assert not both_in_flight.broken


def test_deleted_and_failed_app_runner_services_are_left_out_without_a_tag_read(emulator: AppRunnerEmulator) -> None:
    # Given guard-tagged services in every status
    guarded = {GUARD_TAG: "true"}
    kept = [
        emulator.seed_service(f"svc-{status.lower().replace('_', '-')}", IMAGE, status=status, tags=guarded)
        for status in ("RUNNING", "PAUSED", "OPERATION_IN_PROGRESS")
    ]
    for status in ("CREATE_FAILED", "DELETE_FAILED", "DELETED"):
        emulator.seed_service(f"svc-{status.lower().replace('_', '-')}", IMAGE, status=status, tags=guarded)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(apprunner(emulator)).discover()
    # Then only the services that can still be paused or resumed are members, and only their tags were read
    assert [service.arn for service in discovery.services] == kept
    assert sorted(call["params"]["ResourceArn"] for call in emulator.calls("ListTagsForResource")) == sorted(kept)
    assert discovery.calls == 1 + 3
    assert discovery.complete


def test_a_throttled_tag_read_leaves_that_service_unreadable_and_the_others_read(emulator: AppRunnerEmulator) -> None:
    # Given 45 services, and one tag read throttled past botocore's retries
    fleet = seed_fleet(emulator, 45)
    emulator.inject_error("ListTagsForResource", "ThrottlingException", status=400)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(apprunner(emulator, GIVEN_UP)).discover()
    # Then exactly one service is unreadable, named in a failure line, and the other 44 are there with their tags
    (unreadable,) = discovery.unreadable
    assert discovery.failures == (f"ListTagsForResource {unreadable}: ThrottlingException",)
    assert discovery.services == tuple(
        DiscoveredService(arn=arn, tags=tags) for arn, tags in fleet.items() if arn != unreadable
    )
    # And the listing itself succeeded: the discovery is complete, for the same calls
    assert discovery.complete
    assert discovery.calls == 3 + 45 == len(emulator.calls())


def test_a_throttle_that_botocore_retries_costs_one_more_call_and_nothing_else(emulator: AppRunnerEmulator) -> None:
    # Given 45 services, one tag read throttled once, and the product's retry configuration
    fleet = seed_fleet(emulator, 45)
    emulator.inject_error("ListTagsForResource", "ThrottlingException", status=400)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(apprunner(emulator, CONFIG)).discover()
    # Then every service is read, and the retry is counted: the calls are what the emulator received
    assert {service.arn: service.tags for service in discovery.services} == fleet
    assert (discovery.unreadable, discovery.failures) == ((), ())
    assert discovery.calls == 3 + 45 + 1 == len(emulator.calls())


def test_a_failed_list_services_page_makes_the_discovery_incomplete(emulator: AppRunnerEmulator) -> None:
    # Given 45 services, and the second ListServices page failing past botocore's retries
    fleet = seed_fleet(emulator, 45)
    client = apprunner(emulator, GIVEN_UP)
    arriving = itertools.count(1)

    def fail_the_second_page(**_: Any) -> None:
        if next(arriving) == 2:
            emulator.inject_error("ListServices", "InternalServiceErrorException")

    client.meta.events.register("before-call.apprunner.ListServices", fail_the_second_page)
    # When the fleet is discovered
    discovery = AppRunnerDiscovery(client).discover()
    # Then it is incomplete, says which page failed, and still reads the 20 services of the first page
    assert not discovery.complete
    assert discovery.failures == ("ListServices (page 2): InternalServiceErrorException",)
    assert discovery.services == tuple(DiscoveredService(arn=arn, tags=tags) for arn, tags in list(fleet.items())[:20])
    assert discovery.calls == 2 + 20 == len(emulator.calls())


# --- ECS ----------------------------------------------------------------------------------------------


class CountedEcs:
    """An ECS client on moto's server in FLEET_REGION that counts every HTTP request botocore makes (retries too),
    and can answer chosen calls with an error instead, as botocore does once its retries have run out."""

    def __init__(self, moto_url: str) -> None:
        self.client: Any = boto3.client("ecs", endpoint_url=moto_url, region_name=FLEET_REGION, config=CONFIG)
        self.requests = 0
        self.refused = 0
        self._lock = threading.Lock()
        self.client.meta.events.register("request-created.ecs", self._count)

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.requests += 1

    def refuse(self, operation: str, code: str, when: Callable[[dict[str, Any]], bool]) -> None:
        def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if not when(json.loads(params["body"] or b"{}")):
                return None
            with self._lock:
                self.refused += 1
            error = {"Error": {"Code": code, "Message": f"{code} (injected)"}, "ResponseMetadata": {}}
            return AWSResponse("https://ecs.invalid", 400, {}, None), error

        self.client.meta.events.register(f"before-call.ecs.{operation}", answer)


@pytest.fixture
def ecs(servers: LocalServers) -> CountedEcs:
    ecs_backends[ACCOUNT_ID][FLEET_REGION].reset()
    return CountedEcs(servers.moto_url)


def seed_ecs_fleet(ecs: CountedEcs, counts: dict[str, int]) -> dict[str, dict[str, str]]:
    """`counts` services per cluster, a third of them guard-tagged; returns every service's tags by ARN."""
    client = boto3.client("ecs", endpoint_url=ecs.client.meta.endpoint_url, region_name=FLEET_REGION)
    definition = client.register_task_definition(
        family="fleet-app", containerDefinitions=[{"name": "web", "image": IMAGE, "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    fleet: dict[str, dict[str, str]] = {}
    for cluster, count in counts.items():
        client.create_cluster(clusterName=cluster)
        for index in range(count):
            tags = tags_of(index)
            service = client.create_service(
                cluster=cluster,
                serviceName=f"{cluster}-app-{index:02d}",
                taskDefinition=definition,
                desiredCount=1,
                tags=[{"key": key, "value": value} for key, value in tags.items()],
            )["service"]
            fleet[service["serviceArn"]] = tags
    return fleet


def cluster_arn(name: str) -> str:
    return f"arn:aws:ecs:{FLEET_REGION}:{ACCOUNT_ID}:cluster/{name}"


def set_status(cluster: str, name: str, status: str) -> None:
    ecs_backends[ACCOUNT_ID][FLEET_REGION].services[f"{cluster}:{name}"].status = status


def test_two_ecs_clusters_of_25_services_are_found_with_their_tags_in_the_fewest_calls(ecs: CountedEcs) -> None:
    # Given 2 clusters holding 15 and 10 services, a third of them guard-tagged
    fleet = seed_ecs_fleet(ecs, {"blue": 15, "green": 10})
    # When the fleet is discovered
    discovery = EcsDiscovery(ecs.client).discover()
    # Then every service is there once, with every one of its tags
    assert {service.arn: service.tags for service in discovery.services} == fleet
    assert len(discovery.services) == 25
    assert sum(service.guard_tagged for service in discovery.services) == 5 + 4
    assert (discovery.platform, discovery.complete, discovery.failures, discovery.unreadable) == ("ECS", True, (), ())
    # And it took the lower bound: 1 cluster page, 1 service page per cluster, ceil(15/10) + ceil(10/10) descriptions
    assert discovery.calls == 1 + 2 + (2 + 1) == ecs.requests


def test_inactive_and_draining_ecs_services_are_left_out(ecs: CountedEcs) -> None:
    # Given 2 clusters in which one service is deleted (INACTIVE, which moto still lists) and one is being deleted
    fleet = seed_ecs_fleet(ecs, {"blue": 4, "green": 3})
    ecs.client.update_service(cluster="blue", service="blue-app-00", desiredCount=0)
    ecs.client.delete_service(cluster="blue", service="blue-app-00")
    set_status("green", "green-app-02", "DRAINING")
    ecs.requests = 0
    # When the fleet is discovered
    discovery = EcsDiscovery(ecs.client).discover()
    # Then neither is a member, and neither is unreadable: they are gone, not unknown
    gone = {arn for arn in fleet if arn.endswith(("/blue-app-00", "/green-app-02"))}
    assert {service.arn for service in discovery.services} == set(fleet) - gone
    assert (discovery.complete, discovery.unreadable) == (True, ())
    assert discovery.calls == 1 + 2 + 2 == ecs.requests


def test_a_failed_describe_services_batch_leaves_its_services_unreadable_and_the_others_read(ecs: CountedEcs) -> None:
    # Given 2 clusters, and DescribeServices refused (past botocore's retries) for the green one's only batch
    fleet = seed_ecs_fleet(ecs, {"blue": 15, "green": 10})
    green = {arn for arn in fleet if "/green/" in arn}
    ecs.refuse("DescribeServices", "ThrottlingException", lambda body: body["cluster"].endswith("/green"))
    # When the fleet is discovered
    discovery = EcsDiscovery(ecs.client).discover()
    # Then green's 10 services are unreadable, in one failure line, and blue's 15 are read
    assert set(discovery.unreadable) == green
    assert discovery.failures == (f"DescribeServices 10 services of {cluster_arn('green')}: ThrottlingException",)
    assert {service.arn: service.tags for service in discovery.services} == {
        arn: tags for arn, tags in fleet.items() if arn not in green
    }
    # And no list call failed: the discovery is complete, for the same number of calls
    assert discovery.complete
    assert discovery.calls == 1 + 2 + 3 == ecs.requests + ecs.refused


def test_a_failed_cluster_listing_makes_the_ecs_discovery_incomplete(ecs: CountedEcs) -> None:
    # Given 2 clusters, and ListServices refused for the blue one
    fleet = seed_ecs_fleet(ecs, {"blue": 15, "green": 10})
    ecs.refuse("ListServices", "AccessDeniedException", lambda body: body["cluster"].endswith("/blue"))
    # When the fleet is discovered
    discovery = EcsDiscovery(ecs.client).discover()
    # Then it is incomplete, names the cluster, and still reads the green cluster's services
    assert not discovery.complete
    assert discovery.failures == (f"ListServices {cluster_arn('blue')} (page 1): AccessDeniedException",)
    assert {service.arn for service in discovery.services} == {arn for arn in fleet if "/green/" in arn}
    assert discovery.calls == 1 + 2 + 1 == ecs.requests + ecs.refused


def test_a_failed_list_clusters_finds_nothing_and_says_so(ecs: CountedEcs) -> None:
    # Given clusters with services, and ListClusters refused
    seed_ecs_fleet(ecs, {"blue": 3})
    ecs.refuse("ListClusters", "ServerException", lambda body: True)
    # When the fleet is discovered
    discovery = EcsDiscovery(ecs.client).discover()
    # Then nothing is found, and the discovery says it is incomplete rather than empty
    assert (discovery.services, discovery.complete, discovery.calls) == ((), False, 1)
    assert discovery.failures == ("ListClusters (page 1): ServerException",)
