"""CloudWatch adapter: metric data for the spend guard. The only caller of GetMetricData.

All of a service's queries go in ONE GetMetricData request (up to 500 queries and 100,800 data points a page,
AWS-FACTS §9.6); botocore's paginator follows `NextToken` when the points do not fit one page, and the pages'
results are joined by query id. GetMetricData is billed per metric requested, not per request, so asking for
several metrics at once costs the same as asking separately and saves the round trips.

`cloudwatch:GetMetricData` has no resource-level permission: IAM grants it on `*` only (the Service Authorization
Reference lists no resource type for it), which the template says where it grants it.

`CloudWatchAlarms` keeps the alarms of a fleet's services (domain/managed_alarms.py): it lists the `warden-` metric
alarms (DescribeAlarms, paged), reads the tags of the few whose fate depends on them (ListTagsForResource), writes
(PutMetricAlarm, with the managed tag at creation) and deletes (DeleteAlarms, 100 names a call). A failure is
reported per alarm and never stops the others; the calls it made are counted. Its actions are ALARM_IAM_ACTIONS,
apart from IAM_ACTIONS because only the function that keeps a fleet's alarms is granted them, on
`arn:<partition>:cloudwatch:<region>:<account>:alarm:warden-*`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.managed_alarms import DELETE_BATCH, PREFIX, AlarmSpec, AlarmsRefused, TagsRead
from warden.domain.spend import CannotEstimate, MetricPoints, MetricSpec
from warden.errors import AwsUnavailable

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

IAM_ACTIONS = frozenset({"cloudwatch:GetMetricData"})
ALARM_IAM_ACTIONS = frozenset(
    {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm",
        # PutMetricAlarm with Tags also needs TagResource (PutMetricAlarm's API reference, on `Tags`).
        "cloudwatch:TagResource",
        "cloudwatch:DeleteAlarms",
    }
)
# DeleteAlarms deletes nothing when one name does not exist, and says so with this code.
_NOT_FOUND = "ResourceNotFound"


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


class CloudWatchAlarms:
    """The fleet's `warden-` alarms. `calls` counts every request (each page too), `writes` the PutMetricAlarm and
    DeleteAlarms among them. Refuses, without a call, to write or delete an alarm whose name lacks the prefix."""

    def __init__(self, cloudwatch: CloudWatchClient | None = None) -> None:
        self._client = cloudwatch
        self.calls = 0
        self.writes = 0

    @property
    def _cloudwatch(self) -> CloudWatchClient:
        if self._client is None:
            self._client = client("cloudwatch")
        return self._client

    def list_alarms(self, prefix: str = PREFIX) -> list[AlarmSpec]:
        """Every metric alarm whose name starts with `prefix`, tags not read. Raises AwsUnavailable when CloudWatch
        does not answer, AlarmsRefused when it refuses: a partial list must never be planned on."""
        alarms: list[AlarmSpec] = []
        try:
            pages = self._cloudwatch.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]
            )
            for page in pages:
                self.calls += 1
                alarms.extend(
                    AlarmSpec.from_described(alarm)
                    for alarm in page.get("MetricAlarms", [])
                    if str(alarm.get("AlarmName", "")).startswith(prefix)
                )
        except ClientError as error:
            if is_retryable(error):
                raise unavailable("cloudwatch", "DescribeAlarms", error) from error
            raise AlarmsRefused(f"CloudWatch refused DescribeAlarms ({error_code(error)})") from error
        except BotoCoreError as error:
            raise unavailable("cloudwatch", "DescribeAlarms", error) from error
        return alarms

    def tags_of(self, alarms: Sequence[AlarmSpec]) -> TagsRead:
        """Each alarm's tags (one ListTagsForResource each), by name; an alarm that could not be read is a failure."""
        tags: dict[str, dict[str, str]] = {}
        failures: dict[str, str] = {}
        for alarm in alarms:
            if not alarm.arn:
                failures[alarm.name] = "ListTagsForResource: DescribeAlarms gave no AlarmArn"
                continue
            try:
                self.calls += 1
                answer = self._cloudwatch.list_tags_for_resource(ResourceARN=alarm.arn)
            except (ClientError, BotoCoreError) as error:
                failures[alarm.name] = _failure("ListTagsForResource", error)
                continue
            tags[alarm.name] = {str(tag["Key"]): str(tag["Value"]) for tag in answer.get("Tags", [])}
        return TagsRead(tags=tags, failures=failures)

    def put_alarms(self, specs: Sequence[AlarmSpec]) -> dict[str, str]:
        """PutMetricAlarm for each (its tags apply only to an alarm it creates); the failures, by name."""
        failures: dict[str, str] = {}
        for spec in specs:
            if not spec.name.startswith(PREFIX):
                failures[spec.name] = f"PutMetricAlarm refused: the name does not start with {PREFIX}"
                continue
            try:
                self.calls += 1
                self.writes += 1
                self._cloudwatch.put_metric_alarm(**spec.request())
            except (ClientError, BotoCoreError) as error:
                failures[spec.name] = _failure("PutMetricAlarm", error)
        return failures

    def delete_alarms(self, names: Sequence[str]) -> dict[str, str]:
        """DeleteAlarms, 100 names a call. A batch CloudWatch refuses is retried name by name, so that one alarm
        (deleted meanwhile, say) does not keep the others; one already gone counts as deleted. The failures, by
        name."""
        failures: dict[str, str] = {}
        allowed = []
        for name in names:
            if name.startswith(PREFIX):
                allowed.append(name)
            else:
                failures[name] = f"DeleteAlarms refused: the name does not start with {PREFIX}"
        for start in range(0, len(allowed), DELETE_BATCH):
            batch = allowed[start : start + DELETE_BATCH]
            try:
                self._delete(batch)
            except (ClientError, BotoCoreError) as error:
                if len(batch) == 1:
                    failures.update(_delete_failure(batch[0], error))
                    continue
                for name in batch:
                    try:
                        self._delete([name])
                    except (ClientError, BotoCoreError) as single:
                        failures.update(_delete_failure(name, single))
        return failures

    def _delete(self, names: list[str]) -> None:
        self.calls += 1
        self.writes += 1
        self._cloudwatch.delete_alarms(AlarmNames=names)


def _delete_failure(name: str, error: Exception) -> dict[str, str]:
    """Nothing when the alarm is already gone (what the deletion wanted), else why it stays."""
    if isinstance(error, ClientError) and error_code(error) == _NOT_FOUND:
        return {}
    return {name: _failure("DeleteAlarms", error)}


def _failure(operation: str, error: Exception) -> str:
    detail = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return f"{operation}: {detail}"
