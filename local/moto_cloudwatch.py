"""What moto 5.2.5's CloudWatch GetMetricData lacks and the spend guard relies on, added to the local server.

- **Pages.** moto answers every GetMetricData in one page, whatever `MaxDatapoints` says. CloudWatch returns at most
  100,800 data points a page (or `MaxDatapoints`, if smaller), marks a query cut short `PartialData` and gives a
  `NextToken` for the rest (AWS-FACTS §9.6). Here the points moto computes are cut the same way, at `page_points`
  (100,800 unless a test lowers it), so that the adapter's pagination is exercised against a server.
- **A record of the requests**, so that a test can count GetMetricData requests (one per service per check).

moto's own aggregation (statistics per period, dimension matching) is kept as it is: only the paging is added.
The server runs in this process (ThreadedMotoServer), so patching the response class changes what it serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

AWS_PAGE_POINTS = 100_800
_TOKEN_PREFIX = "warden-moto-page-"


@dataclass
class Requests:
    """Every GetMetricData request the server answered: (query ids, NextToken given) in order."""

    made: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
    page_points: int = AWS_PAGE_POINTS

    def clear(self) -> None:
        self.made.clear()
        self.page_points = AWS_PAGE_POINTS


REQUESTS = Requests()


def get_metric_data(self: CloudWatchResponse) -> ActionResult:
    params = self._get_params()
    queries = params.get("MetricDataQueries", [])
    token = params.get("NextToken")
    REQUESTS.made.append((tuple(str(query.get("Id")) for query in queries), token))
    for query in queries:
        if "MetricStat" not in query and "Expression" not in query:
            raise ValidationError("The parameter MetricDataQueries.member.1.MetricStat is required.\n")
    results = self.cloudwatch_backend.get_metric_data(
        start_time=params["StartTime"],
        end_time=params["EndTime"],
        queries=queries,
        scan_by=params.get("ScanBy") or "TimestampDescending",
    )
    offset = 0
    if token:
        if not str(token).startswith(_TOKEN_PREFIX):
            raise ValidationError("The NextToken is not valid.")
        offset = int(str(token).removeprefix(_TOKEN_PREFIX))
    page = min(int(params.get("MaxDatapoints") or AWS_PAGE_POINTS), REQUESTS.page_points)
    answer: dict[str, Any] = {"MetricDataResults": _page(results, offset, page)}
    total = sum(len(result["values"]) for result in results)
    if offset + page < total:
        answer["NextToken"] = f"{_TOKEN_PREFIX}{offset + page}"
    return ActionResult(answer)


def _page(results: list[dict[str, Any]], offset: int, size: int) -> list[dict[str, Any]]:
    """The points [offset, offset + size) of the queries' points taken in order, each query's share of them."""
    paged: list[dict[str, Any]] = []
    seen = 0
    for result in results:
        count = len(result["values"])
        first, last = max(offset - seen, 0), min(offset + size - seen, count)
        share = slice(first, max(first, last))
        paged.append(
            {
                **result,
                "values": result["values"][share],
                "timestamps": result["timestamps"][share],
                "status_code": "PartialData" if last < count else "Complete",
            }
        )
        seen += count
    return paged


def install() -> None:
    """Idempotent: patches moto's CloudWatch GetMetricData in this process."""
    setattr(CloudWatchResponse, "get_metric_data", get_metric_data)  # noqa: B010
