"""The spend guard on the local account: moto's CloudWatch, Budgets and ECS, and the App Runner emulator.

The checks run the real `spend-check` job with the real adapters (wiring.schedule_deps) at simulated quarter hours;
the metric data is put into moto with PutMetricData, and Budgets' figure and LastUpdatedTime are set in moto's
backend as a Budgets refresh would leave them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from moto.budgets.models import budgets_backends

from local import moto_cloudwatch
from local.account import ACCOUNT_ID, LocalAccount
from local.ecs import CLUSTER, seed_ecs_service
from local.invoke import fresh_container
from warden.domain.spend import Gap, GapKind
from warden.messages.spend import gap_line
from warden.settings import get_settings
from warden.usecases.schedule import Job, JobResult, run_job
from warden.usecases.spend_guard import LAST_MEMO
from warden.wiring import schedule_deps

MORNING = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


@pytest.fixture(autouse=True)
def _metric_requests() -> Iterator[None]:
    moto_cloudwatch.REQUESTS.clear()
    yield
    moto_cloudwatch.REQUESTS.clear()


def budgets_report(account: LocalAccount, amount: str, *, last_updated: datetime) -> None:
    """What Budgets shows after a refresh: the figure, and a LastUpdatedTime Warden must not take for the refresh
    time (it is the budget's configuration time, AWS-FACTS §9.4)."""
    budget = budgets_backends[ACCOUNT_ID]["aws"].budgets[ACCOUNT_ID][account.budget_name].budget
    budget["CalculatedSpend"]["ActualSpend"]["Amount"] = amount
    budget["LastUpdatedTime"] = last_updated.timestamp()


def put_minutes(
    account: LocalAccount,
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    value: float,
    start: datetime,
    end: datetime,
) -> None:
    data: list[Any] = []
    minute = start
    while minute < end:
        data.append(
            {
                "MetricName": name,
                "Dimensions": [{"Name": key, "Value": text} for key, text in dimensions.items()],
                "Timestamp": minute,
                "Value": value,
            }
        )
        minute += timedelta(minutes=1)
    cloudwatch = account.client("cloudwatch")
    for first in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[first : first + 1000])


def active_instances(account: LocalAccount, count: float, start: datetime, end: datetime) -> None:
    service = account.client("apprunner").describe_service(ServiceArn=account.service_arn)["Service"]
    dimensions = {"ServiceName": service["ServiceName"], "ServiceID": service["ServiceId"]}
    put_minutes(account, "AWS/AppRunner", "ActiveInstances", dimensions, count, start, end)


def checks(account: LocalAccount, start: datetime, end: datetime, **env: str) -> list[JobResult]:
    """The spend-check job every quarter of an hour over [start, end), with the real adapters."""
    results = []
    with fresh_container({**account.env(), **env}):
        settings = get_settings()
        deps = schedule_deps(settings)
        now = start
        while now < end:
            results.append(run_job(Job.SPEND_CHECK, deps, settings, now))
            now += QUARTER
    return results


def last_estimate(account: LocalAccount) -> dict[str, str]:
    item = account.client("dynamodb").get_item(
        TableName=account.table_name,
        Key={"PK": {"S": f"SERVICE#{account.service_arn}"}, "SK": {"S": f"MEMO#{LAST_MEMO}"}},
    )["Item"]
    return {key: value["S"] for key, value in item["values"]["M"].items()}


def test_an_app_runner_spike_is_paused_before_budgets_with_one_get_metric_data_request_per_check(
    account: LocalAccount,
) -> None:
    # Given the service at 1 vCPU / 2 GB (MinSize 1, App Runner's default configuration), Budgets at $6.00 at 06:00
    account.client("apprunner").update_service(
        ServiceArn=account.service_arn, InstanceConfiguration={"Cpu": "1 vCPU", "Memory": "2 GB"}
    )
    budgets_report(account, "6.00", last_updated=MORNING - timedelta(days=40))
    active_instances(account, 0, MORNING - timedelta(hours=1), MORNING + timedelta(minutes=30))
    active_instances(account, 25, MORNING + timedelta(minutes=30), MORNING + timedelta(hours=4))
    checks(account, MORNING, MORNING + QUARTER, SPEND_GUARD="pause")
    # And Budgets refreshes between 06:00 and 06:15 to $6.10, with a LastUpdatedTime that says "just now"
    budgets_report(account, "6.10", last_updated=MORNING + timedelta(minutes=14))
    # When the guard checks every quarter of an hour from 06:15 (25 instances from 06:30: $1.95 an hour)
    results = checks(account, MORNING + QUARTER, MORNING + timedelta(hours=3), SPEND_GUARD="pause")
    # Then it warns at the first check that sees the spike, and pauses at 08:30, when 6.10 + 0.007 + 2 h x 1.95
    # (= 10.007) first reaches $10.00: counted from 06:00 (the last check before the refresh), not LastUpdatedTime
    outcomes = [result.outcome for result in results]
    assert outcomes[:2] == ["ok", "ok"]
    assert outcomes[2] == "warned"  # 06:45: a quarter hour of the spike projects $10.00 within the day
    assert outcomes.index("paused") == 9  # 08:30
    assert outcomes[outcomes.index("paused") + 1 :] == ["held"] * (len(outcomes) - outcomes.index("paused") - 1)
    assert len(account.emulator.calls("PauseService")) == 1
    assert account.service_status() in {"OPERATION_IN_PROGRESS", "PAUSED"}
    # And each check made exactly one GetMetricData request
    assert len(moto_cloudwatch.REQUESTS.made) == 1 + len(results)
    assert {queries for queries, _ in moto_cloudwatch.REQUESTS.made} == {("usage",)}
    # And the budget claim says it is an estimate, with its parts
    (claim,) = account.claims()
    assert claim["owner"] == "spend_guard"
    assert claim["evidence"].startswith("estimated, not yet confirmed by AWS Budgets")
    events = [received.attributes["event"] for received in account.inbox()]
    assert events == ["spend.projected", "spend.paused"]


def test_get_metric_data_pages_are_followed_and_no_point_is_lost(account: LocalAccount) -> None:
    # Given a day of 3 active instances of 0.25 vCPU / 0.5 GB, and a server that pages every 500 points
    active_instances(account, 3, MORNING - timedelta(days=1), MORNING)
    moto_cloudwatch.REQUESTS.page_points = 500
    # When the guard first looks (Budgets' figure of unknown age: the last 24 hours are counted)
    (result,) = checks(account, MORNING, MORNING + QUARTER)
    # Then it followed the pages (1,440 points: three of them) within one paginated call
    assert [token is None for _, token in moto_cloudwatch.REQUESTS.made] == [True, False, False]
    # And every minute is counted: 24 h x 3 x (0.25 x 0.064 + 0.5 x 0.007) = $1.404 on top of Budgets' $8.13
    estimate = last_estimate(account)
    assert Decimal(estimate["usage_since"]) == Decimal("1.404")
    assert Decimal(estimate["estimate"]) == Decimal("9.534")
    assert result.outcome == "warned"


def test_a_paused_app_runner_service_adds_nothing_and_says_nothing(account: LocalAccount) -> None:
    # Given the service paused, with no metric data, and Budgets' $8.13
    account.client("apprunner").pause_service(ServiceArn=account.service_arn)
    results = checks(account, MORNING, MORNING + timedelta(hours=2))
    # Then the estimate is Budgets' figure, there is no projection, and no message
    assert {result.outcome for result in results} == {"ok"}
    assert Decimal(last_estimate(account)["estimate"]) == Decimal("8.13")
    assert last_estimate(account)["reach_at"] == ""
    assert account.inbox() == []


def test_an_ecs_service_scaling_out_without_container_insights_is_estimated_from_wardens_records(
    account: LocalAccount,
) -> None:
    # Given an ECS Fargate service of 2 tasks of 0.25 vCPU / 0.5 GB, no Container Insights, Budgets at $1.00
    ecs = dataclasses.replace(account, service_arn=seed_ecs_service(account, desired=2, scaling=None))
    budgets_report(ecs, "1.00", last_updated=MORNING)
    checks(ecs, MORNING, MORNING + QUARTER)
    budgets_report(ecs, "1.20", last_updated=MORNING)  # refreshed between 06:00 and 06:15
    checks(ecs, MORNING + QUARTER, MORNING + 2 * QUARTER)
    # When it scales out to 10 tasks before the 06:30 check, and the guard checks until 07:00
    ecs.client("ecs").update_service(cluster=CLUSTER, service="consultation-app", desiredCount=10)
    checks(ecs, MORNING + 2 * QUARTER, MORNING + timedelta(hours=1, minutes=15))
    # Then at 07:00: 0.5 h x 2 tasks + 0.5 h x 10 tasks = 6 task-hours x $0.0123425 on top of Budgets' $1.20
    estimate = last_estimate(ecs)
    assert Decimal(estimate["usage_since"]) == Decimal("0.074055")
    assert Decimal(estimate["estimate"]) == Decimal("1.274055")
    # And the evidence says the tasks were counted from Warden's records (golden spend.parts words it)
    counted = gap_line(Gap(kind=GapKind.NO_DATA_FROM_RECORDS, metric="RunningTaskCount"))
    assert counted in estimate["parts"].splitlines()


def test_warden_status_shows_the_guards_estimate_projection_and_accuracy(account: LocalAccount) -> None:
    # Given one active instance all morning, Budgets refreshing from $8.13 to $8.20 between 06:00 and 06:15
    active_instances(account, 1, MORNING - timedelta(days=1), MORNING + timedelta(hours=3))
    checks(account, MORNING, MORNING + QUARTER)
    budgets_report(account, "8.20", last_updated=MORNING)
    checks(account, MORNING + QUARTER, MORNING + timedelta(hours=1))
    # And the budget-period check compares the 06:00 estimate with the $8.20 Budgets then reported
    with fresh_container(account.env()):
        settings = get_settings()
        period_check = run_job(Job.BUDGET_PERIOD_CHECK, schedule_deps(settings), settings, MORNING + timedelta(hours=1))
    assert period_check.accuracy is not None
    # When the operator asks for the status
    shown = account.warden("status")
    # Then it shows the last estimate with its parts and projection, and the comparison the period check made
    assert shown.returncode == 0, shown.stderr
    assert "Spend     guard (SPEND_GUARD=notify): estimate $8.2" in shown.stdout
    last = last_estimate(account)
    assert last["projection"] in shown.stdout
    for part in last["parts"].splitlines()[1:]:  # Budgets' figure and when it was refreshed, the usage, the prices
        assert part[:100] in shown.stdout  # the CLI cuts long lines
    assert "Accuracy  the last 1 estimates against Budgets' next figure" in shown.stdout
    assert period_check.accuracy in shown.stdout
