"""`warden doctor` and the 6-hourly budget wiring check, against moto's server and the App Runner emulator.

moto lacks DescribeSubscribersForNotification: local/moto_budgets.py serves it from the subscribers moto stored
with each notification. moto shows every subscription as confirmed, so "pending confirmation" is tested with
botocore's Stubber (tests/unit/test_budget_wiring_adapters.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.account import ACCOUNT_ID, LocalAccount
from local.invoke import invoke
from tests.events import load_event

pytestmark = pytest.mark.integration

AT_100 = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 100.0,
    "ThresholdType": "PERCENTAGE",
}
CONSOLE_SCRIPT = Path(sys.executable).with_name("warden")


def doctor(account: LocalAccount, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return account.warden("doctor", "--budget-topic-arn", account.budget_topic_arn, *args, **env)


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The first line of each check, by its name: "ok", "problem" or "unknown", then what was found."""
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        status, _, rest = line.partition(" ")
        if status in {"ok", "problem", "unknown"}:
            name = rest.strip().split("  ")[0]
            found[name] = f"{status} {rest.strip()[len(name) :].strip()}"
    return found


def alert_by_email_only(account: LocalAccount) -> None:
    budgets = account.client("budgets")
    budgets.delete_notification(AccountId=ACCOUNT_ID, BudgetName=account.budget_name, Notification=AT_100)
    budgets.create_notification(
        AccountId=ACCOUNT_ID,
        BudgetName=account.budget_name,
        Notification=AT_100,
        Subscribers=[{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
    )


def test_a_well_wired_stack_passes_every_check(account: LocalAccount) -> None:
    # Given the seeded account: the budget alerts at 80 % and 100 % to Warden's budget topic, the inbox subscribed
    # When the operator runs the doctor
    result = doctor(account)
    # Then every check is ok, one line each, and the exit status is 0
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines(result)
    assert list(checks) == [
        "credentials",
        "region",
        "service",
        "budget",
        "budget alert",
        "notify topic",
        "state table",
    ]
    assert all(line.startswith("ok ") for line in checks.values()), checks
    assert f"account {ACCOUNT_ID}" in checks["credentials"]
    assert "consultation-app is RUNNING" in checks["service"]
    assert account.budget_topic_arn in checks["budget alert"]


def test_a_budget_alerting_by_email_only_is_a_problem_with_the_command_that_fixes_it(account: LocalAccount) -> None:
    # Given the 100 % alert sends e-mail only (the console step that points it at Warden was skipped)
    alert_by_email_only(account)
    # When the doctor runs / Then it exits 1, and says which command adds Warden's topic to that alert
    result = doctor(account)
    assert result.returncode == 1
    assert lines(result)["budget alert"].startswith("problem ")
    assert (
        f"aws budgets create-subscriber --account-id {ACCOUNT_ID} --budget-name {account.budget_name} "
        "--notification NotificationType=ACTUAL,ComparisonOperator=GREATER_THAN,Threshold=100,"
        f"ThresholdType=PERCENTAGE --subscriber SubscriptionType=SNS,Address={account.budget_topic_arn}"
    ) in result.stdout
    assert "1 of 7 checks need attention." in result.stdout


def test_a_missing_budget_an_unread_topic_and_a_deleted_table_are_each_named(account: LocalAccount) -> None:
    # Given no budget of that name, nobody subscribed to the notify topic, and the state table deleted
    sns = account.client("sns")
    for subscription in sns.list_subscriptions_by_topic(TopicArn=account.notify_topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    account.client("dynamodb").delete_table(TableName=account.table_name)
    # When the doctor runs (with the console script this time)
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "doctor"],
        env={**account.env(), "PATH": "/usr/bin:/bin", "BUDGET_NAME": "no-such-budget"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then each problem has its line, and the run exits 1
    assert result.returncode == 1, result.stderr
    checks = lines(result)
    assert checks["budget"].startswith("problem ")
    assert "no-such-budget" in checks["budget"]
    assert checks["notify topic"].startswith("problem ")
    assert "nobody is subscribed" in checks["notify topic"]
    assert checks["state table"].startswith("problem ")
    assert "aws dynamodb create-table --table-name" in result.stdout
    assert checks["service"].startswith("ok ")


def test_credentials_of_another_region_are_named(account: LocalAccount) -> None:
    result = doctor(account, AWS_DEFAULT_REGION="eu-west-1", AWS_REGION="eu-west-1")
    assert result.returncode == 1
    assert lines(result)["region"].startswith("problem calls go to eu-west-1, but the service is in us-east-1")
    assert "export AWS_REGION=us-east-1" in result.stdout


def budget_period_check(account: LocalAccount) -> dict[str, Any]:
    event = load_event("run_schedule", "budget-period-check")
    result: dict[str, Any] = invoke(
        "run_schedule", event, {**account.env(), "BUDGET_TOPIC_ARN": account.budget_topic_arn}
    )
    return result


def test_the_six_hourly_check_sends_enforcement_off_once_a_day_through_the_real_apis(account: LocalAccount) -> None:
    # Given a well-wired account / When the budget-period check runs / Then it says so and sends nothing
    assert budget_period_check(account)["wiring"] == "ok: budget enforcement is wired"
    assert account.inbox() == []
    # Given the 100 % alert then reaches e-mail only
    alert_by_email_only(account)
    # When the check runs twice the same day
    first = budget_period_check(account)
    second = budget_period_check(account)
    # Then one critical "budget enforcement is OFF" notification names the fix with the real budget topic
    assert first["wiring"].startswith("reported: budget alert:")
    assert second["wiring"].startswith("already_reported")
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.enforcement_off", "severity": "critical"}
    assert f"--subscriber SubscriptionType=SNS,Address={account.budget_topic_arn}" in received.body
