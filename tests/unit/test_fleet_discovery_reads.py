"""The reads behind the fleet's discovery (adapters/listing.py) and ECS's paging, without a network: an AWS error
is a value with a reason, retries are counted, and every page is followed (botocore's Stubber stands in for ECS,
whose paging moto does not implement)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from warden.adapters.ecs import EcsDiscovery
from warden.adapters.listing import Listing, Read, collect, read, requests_behind

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/{}"
SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/{}/app-{:03d}"


def throttled(retries: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": retries},
        },
        "ListTagsForResource",
    )


def fail(error: Exception) -> Any:
    raise error


def test_a_read_returns_the_answer_and_counts_botocores_retries() -> None:
    # Given an answer that took two retries / When it is read / Then 3 requests, no failure
    assert read("ListTagsForResource", "arn", lambda: {"Tags": [], "ResponseMetadata": {"RetryAttempts": 2}}) == Read(
        {"Tags": [], "ResponseMetadata": {"RetryAttempts": 2}}, 3, None
    )


@pytest.mark.parametrize(
    ("error", "requests", "line"),
    [
        (throttled(retries=4), 5, "ListTagsForResource arn:x: ThrottlingException"),
        (
            EndpointConnectionError(endpoint_url="https://apprunner"),
            1,
            "ListTagsForResource arn:x: EndpointConnectionError",
        ),
    ],
)
def test_a_read_that_aws_refuses_is_a_failure_line_not_an_exception(error: Exception, requests: int, line: str) -> None:
    # Given a call that ends in an AWS error (after botocore's retries) / When it is read
    result = read("ListTagsForResource", "arn:x", lambda: fail(error))
    # Then there is no answer, the requests botocore made are counted, and the line names what and why
    assert result == Read(None, requests, line)


def test_a_read_lets_a_programming_error_through() -> None:
    # Given a call that fails with something other than an AWS error / When it is read / Then it is raised
    with pytest.raises(KeyError):
        read("ListTagsForResource", "arn:x", lambda: {}["missing"])


def test_requests_behind_an_answer_without_metadata_is_one() -> None:
    assert requests_behind({}) == 1
    assert requests_behind({"ResponseMetadata": {}}) == 1


def pages(*answers: Any) -> Iterator[Any]:
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
        yield answer


def test_collect_gathers_every_page_and_counts_each_request() -> None:
    # Given three pages, the second retried once / When they are collected / Then every item, 4 requests
    listing = collect(
        pages({"arns": ["a", "b"]}, {"arns": ["c"], "ResponseMetadata": {"RetryAttempts": 1}}, {"arns": []}),
        "arns",
        "ListServices",
        "cluster/blue",
    )
    assert listing == Listing(("a", "b", "c"), 4, None)


def test_collect_keeps_the_pages_before_a_failed_one_and_names_the_page() -> None:
    # Given a first page, then a page throttled past botocore's 4 retries / When they are collected
    listing = collect(pages({"arns": ["a"]}, throttled(retries=4)), "arns", "ListServices", "cluster/blue")
    # Then the first page's items are kept, the 1 + 5 requests counted, and the failure names the second page
    assert listing == Listing(("a",), 6, "ListServices cluster/blue (page 2): ThrottlingException")


def test_collect_without_a_subject_names_only_the_operation_and_page() -> None:
    assert collect(pages(throttled(retries=0)), "arns", "ListClusters", "").failure == (
        "ListClusters (page 1): ThrottlingException"
    )


def test_ecs_discovery_follows_every_page_at_the_largest_page_sizes() -> None:
    # Given 2 cluster pages (a, then b), cluster a's 105 services over 2 pages of 100 and 5, cluster b empty
    client = boto3.client("ecs", region_name="us-east-1")
    stubber = Stubber(client)
    a, b = CLUSTER.format("a"), CLUSTER.format("b")
    services = [SERVICE.format("a", index) for index in range(105)]
    stubber.add_response("list_clusters", {"clusterArns": [a], "nextToken": "c2"}, {"maxResults": 100})
    stubber.add_response("list_clusters", {"clusterArns": [b]}, {"maxResults": 100, "nextToken": "c2"})
    stubber.add_response(
        "list_services", {"serviceArns": services[:100], "nextToken": "s2"}, {"cluster": a, "maxResults": 100}
    )
    stubber.add_response(
        "list_services", {"serviceArns": services[100:]}, {"cluster": a, "maxResults": 100, "nextToken": "s2"}
    )
    stubber.add_response("list_services", {"serviceArns": []}, {"cluster": b, "maxResults": 100})
    for start in range(0, 105, 10):
        batch = services[start : start + 10]
        described = [
            {"serviceArn": arn, "status": "ACTIVE", "tags": [{"key": "warden:guard", "value": "true"}]} for arn in batch
        ]
        stubber.add_response(
            "describe_services",
            {"services": described, "failures": []},
            {"cluster": a, "services": batch, "include": ["TAGS"]},
        )
    # When the fleet is discovered (one worker: the Stubber answers in the order the calls arrive)
    with stubber:
        discovery = EcsDiscovery(client, workers=1).discover()
        stubber.assert_no_pending_responses()
    # Then all 105 services are found, for 2 cluster pages + 3 service pages + ceil(105 / 10) descriptions
    assert [service.arn for service in discovery.services] == services
    assert all(service.guard_tagged for service in discovery.services)
    assert (discovery.complete, discovery.failures, discovery.unreadable) == (True, (), ())
    assert discovery.calls == 2 + 3 + 11


def test_ecs_services_named_in_describe_failures_or_left_out_are_unreadable() -> None:
    # Given one cluster of 3 services: ECS describes one, reports one MISSING and says nothing of the third
    client = boto3.client("ecs", region_name="us-east-1")
    stubber = Stubber(client)
    cluster = CLUSTER.format("a")
    described, missing, silent = (SERVICE.format("a", index) for index in range(3))
    stubber.add_response("list_clusters", {"clusterArns": [cluster]})
    stubber.add_response("list_services", {"serviceArns": [described, missing, silent]})
    stubber.add_response(
        "describe_services",
        {
            "services": [{"serviceArn": described, "status": "ACTIVE"}],
            "failures": [{"arn": missing, "reason": "MISSING"}],
        },
    )
    # When the fleet is discovered
    with stubber:
        discovery = EcsDiscovery(client, workers=1).discover()
    # Then the described one is a member without tags, and the other two are unreadable, each with its reason
    assert [(service.arn, service.tags) for service in discovery.services] == [(described, {})]
    assert discovery.unreadable == (missing, silent)
    assert discovery.failures == (f"DescribeServices {missing}: MISSING", f"DescribeServices {silent}: not described")
    assert discovery.complete
