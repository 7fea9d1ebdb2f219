"""CloudWatch adapter: metric data for the spend guard. The only caller of GetMetricData.

All of a service's queries go in ONE GetMetricData request (up to 500 queries and 100,800 data points a page,
AWS-FACTS §9.6); botocore's paginator follows `NextToken` when the points do not fit one page, and the pages'
results are joined by query id. GetMetricData is billed per metric requested, not per request, so asking for
several metrics at once costs the same as asking separately and saves the round trips.

`cloudwatch:GetMetricData` has no resource-level permission: IAM grants it on `*` only (the Service Authorization
Reference lists no resource type for it), which the template says where it grants it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.spend import CannotEstimate, MetricPoints, MetricSpec
from warden.errors import AwsUnavailable

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

IAM_ACTIONS = frozenset({"cloudwatch:GetMetricData"})


class CloudWatchMetrics:
    def __init__(self, cloudwatch: CloudWatchClient | None = None) -> None:
        self._client = cloudwatch

    @property
    def _cloudwatch(self) -> CloudWatchClient:
        if self._client is None:
            self._client = client("cloudwatch")
        return self._client

    def metric_data(
        self, queries: Mapping[str, MetricSpec], start: datetime, end: datetime, period_seconds: int
    ) -> dict[str, MetricPoints]:
        request: list[Any] = [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": spec.namespace,
                        "MetricName": spec.name,
                        "Dimensions": [{"Name": name, "Value": value} for name, value in spec.dimensions],
                    },
                    "Period": period_seconds,
                    "Stat": spec.stat,
                },
                "ReturnData": True,
            }
            for query_id, spec in queries.items()
        ]
        points: dict[str, list[tuple[datetime, Decimal]]] = {query_id: [] for query_id in queries}
        try:
            pages = self._cloudwatch.get_paginator("get_metric_data").paginate(
                MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
            )
            for page in pages:
                for result in page.get("MetricDataResults", []):
                    _check_status(result)
                    found = points.setdefault(str(result.get("Id", "")), [])
                    found.extend(
                        (moment, Decimal(str(value)))
                        for moment, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                    )
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("cloudwatch", "GetMetricData", error) from error
            raise CannotEstimate(f"CloudWatch refused GetMetricData ({error_code(error)})") from error
        except BotoCoreError as error:
            raise unavailable("cloudwatch", "GetMetricData", error) from error
        return {
            query_id: MetricPoints(period_seconds=period_seconds, points=tuple(found))
            for query_id, found in points.items()
            if query_id in queries
        }


def _check_status(result: Any) -> None:
    """`Complete` and `PartialData` (more on the next page, which the paginator fetches) carry data; `Forbidden`
    and `InternalError` carry none for that query: never read as "no usage"."""
    status = str(result.get("StatusCode", "Complete"))
    if status == "Forbidden":
        raise CannotEstimate(f"CloudWatch refused the metric data of query {result.get('Id')} (Forbidden)")
    if status == "InternalError":
        raise AwsUnavailable(f"cloudwatch GetMetricData: InternalError for query {result.get('Id')}")
