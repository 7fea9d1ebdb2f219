"""Duplicates and ordering, against moto and the App Runner emulator.

SNS, EventBridge and Lambda's own retries all deliver at least once, and in no promised order. Each event
here is delivered three times and must end in the right state with one action and one notification (where
a repeated scheduled run legitimately reports again, the test name says so and asserts exactly that); pairs
delivered out of order must end in the state the newer event asks for.

Handlers are invoked as Lambda would (local.invoke). The scheduled jobs decide from the time they run, so
those tests call the handler's use case (`run_job`) with the real adapters at a fixed time instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.demo_images import SeededRepository, run_image
from local.demo_keys import add_user, clear_users
from local.deployment_events import record_deployed
from local.events import budget_message, sns_event
from local.faults import FaultPlan, Rule, fault_proxy
from local.invoke import LambdaContextStub, fresh_container, invoke, load_handler
from tests.robustness.scenarios import botocore_total_attempts
from warden.adapters.clients import client
from warden.adapters.dynamodb import StateTable
from warden.domain.claims import ClaimReason
from warden.errors import AwsUnavailable
from warden.settings import get_settings
from warden.usecases.operator import manual_resume
from warden.usecases.schedule import Job, JobResult, run_job
from warden.wiring import operator_deps, schedule_deps

pytestmark = pytest.mark.robustness

THREE = range(3)
TOTAL_ATTEMPTS = botocore_total_attempts()  # 6: the product's max_attempts 5 are retries after the first
FIRED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
PAUSE_ALARM = {"ALARM_ACTIONS": "warden-5xx-rate=pause"}
WORKING_HOURS = {"WORKING_HOURS_ENABLED": "true", "SCHEDULE_TIMEZONE": "UTC", "WORKING_DAYS": "MON-FRI"}
MONDAY_1800 = datetime(2026, 11, 23, 18, 0, 5, tzinfo=UTC)
TUESDAY_0800 = datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _warm_clients() -> Iterator[None]:
    """One warm Lambda container: clients are built once (every test here uses the same endpoints)."""
    client.cache_clear()
    yield
    client.cache_clear()


def deliver(
    account: LocalAccount, function: str, event: dict[str, Any], *, cold: bool = False, **env: str
) -> list[dict[str, Any]]:
    """Invokes the handler as Lambda would; `cold` builds new clients (needed when the endpoints change)."""
    environment = {**account.env(), **env}
    if cold:
        result: dict[str, Any] = invoke(function, event, environment)
    else:
        with fresh_container(environment, reuse_clients=True):
            result = load_handler(function).lambda_handler(event, LambdaContextStub(function_name=function))
    results: list[dict[str, Any]] = result.get("results", [result])
    return results


def outcomes(account: LocalAccount, function: str, event: dict[str, Any], times: int = 3, **env: str) -> list[str]:
    return [deliver(account, function, event, **env)[0]["outcome"] for _ in range(times)]


def mutations(account: LocalAccount) -> list[str]:
    return [
        call["operation"]
        for call in account.emulator.calls()
        if call["operation"] in {"PauseService", "ResumeService", "StartDeployment", "UpdateService"}
    ]


def events(account: LocalAccount) -> list[str]:
    """The `event` attribute of every notification in the operator's inbox (drained)."""
    return [received.attributes["event"] for received in account.inbox()]


def breach(account: LocalAccount, message_id: str = "0c8f3b1e-5d7a-4f2b-9e61-7a2c4d8e1f00") -> dict[str, Any]:
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    return sns_event(text, message_id=message_id, topic_arn=account.budget_topic_arn)


def job(account: LocalAccount, name: Job, now: datetime, **env: str) -> JobResult:
    """The scheduled job as run_schedule runs it (its use case, the real adapters) at `now`."""
    with fresh_container({**account.env(), **env}, reuse_clients=True):
        settings = get_settings()
        return run_job(name, schedule_deps(settings), settings, now)


# --- each event three times --------------------------------------------------------------------------


def test_a_budget_breach_delivered_three_times_pauses_once_and_notifies_once(account: LocalAccount) -> None:
    # Given a breach the Budgets API confirms
    account.set_budget(limit="10.00", actual="10.42")
    # When SNS delivers the same alert three times
    seen = outcomes(account, "on_budget_alert", breach(account))
    # Then it is handled once and the repeats are ignored as duplicates
    assert seen == ["paused", "duplicate", "duplicate"]
    assert mutations(account) == ["PauseService"]
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    assert events(account) == ["budget.paused"]


def test_an_alarm_delivered_three_times_pauses_once_and_its_ok_delivered_three_times_resumes_once(
    account: LocalAccount,
) -> None:
    # Given an alarm mapped to pause
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=account.service_arn, changed_at=FIRED)
    recovered = alarm_event(
        "sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20)
    )
    # When its ALARM arrives three times
    assert outcomes(account, "on_alarm", fired, **PAUSE_ALARM) == ["paused", "duplicate", "duplicate"]
    # Then one pause, one notification
    assert mutations(account) == ["PauseService"]
    assert events(account) == ["alarm.paused"]
    # When its OK arrives three times
    assert outcomes(account, "on_alarm", recovered, **PAUSE_ALARM) == ["recovered", "duplicate", "duplicate"]
    # Then one resume, one notification, and no claim is left
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert events(account) == ["alarm.recovered"]
    assert account.claims() == []


def test_one_alarm_state_change_over_sns_and_eventbridge_and_directly_is_acted_on_once(account: LocalAccount) -> None:
    # Given one state change of the 5xx alarm, delivered by the topic, an EventBridge rule and the alarm itself
    deliveries = [
        alarm_event(fixture, service_arn=account.service_arn, changed_at=FIRED)
        for fixture in ("sns-5xx-rate-alarm", "eventbridge-5xx-rate-alarm", "sns-5xx-rate-alarm")
    ]
    # When all three arrive
    seen = [deliver(account, "on_alarm", event, **PAUSE_ALARM)[0]["outcome"] for event in deliveries]
    # Then the first acts and the others are the same state change again
    assert seen == ["paused", "duplicate", "duplicate"]
    assert mutations(account) == ["PauseService"]
    assert events(account) == ["alarm.paused"]


def test_workday_end_delivered_three_times_pauses_once_and_notifies_once(account: LocalAccount) -> None:
    seen = [job(account, Job.WORKDAY_END, MONDAY_1800, **WORKING_HOURS).outcome for _ in THREE]
    assert seen == ["pause", "unchanged", "unchanged"]
    assert mutations(account) == ["PauseService"]
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#schedule"]
    assert events(account) == ["schedule.paused"]


def test_workday_start_delivered_three_times_resumes_once_and_notifies_once(account: LocalAccount) -> None:
    # Given the service paused for the night
    job(account, Job.WORKDAY_END, MONDAY_1800, **WORKING_HOURS)
    account.inbox()
    # When the morning's job is delivered three times
    seen = [job(account, Job.WORKDAY_START, TUESDAY_0800, **WORKING_HOURS).outcome for _ in THREE]
    # Then it resumes once and tells once
    assert seen == ["resume", "unchanged", "unchanged"]
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert account.claims() == []
    assert events(account) == ["schedule.resumed"]


def test_a_budget_period_check_delivered_three_times_resumes_once_and_notifies_once(account: LocalAccount) -> None:
    # Given a budget pause placed last period (its claim records that period)
    account.set_budget(limit="10.00", actual="10.42")
    deliver(account, "on_budget_alert", breach(account))
    _backdate_budget_claim(account, days=40)
    account.inbox()
    # When a new period shows spend under the threshold and the check is delivered three times
    account.set_budget(limit="10.00", actual="0.50")
    seen = [job(account, Job.BUDGET_PERIOD_CHECK, datetime.now(UTC)).outcome for _ in THREE]
    # Then the first clears the claim and resumes; the others find no claim
    assert seen == ["resume", "unchanged", "unchanged"]
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert events(account) == ["budget.period_resumed"]


def test_a_reconcile_delivered_three_times_makes_one_correction_and_notifies_once(account: LocalAccount) -> None:
    # Given a service someone paused in the console, with no claim holding it
    account.client("apprunner").pause_service(ServiceArn=account.service_arn)
    # When the reconcile runs three times
    seen = [deliver(account, "run_schedule", {"job": "reconcile"})[0]["outcome"] for _ in THREE]
    # Then it resumes once and tells once; the next runs find it converged and stay quiet
    assert seen == ["resumed", "converged", "converged"]
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert events(account) == ["service.reconciled"]


@pytest.fixture
def iam_account(account: LocalAccount) -> Iterator[LocalAccount]:
    clear_users()
    account.client("iam").generate_credential_report()
    yield account
    clear_users()


def test_a_repeated_key_audit_deactivates_once_and_sends_a_digest_on_each_run_while_the_finding_remains(
    iam_account: LocalAccount,
) -> None:
    # Given an overdue key (400 days) and deactivation after 180 days
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    env = {"KEY_DEACTIVATE_AFTER_DAYS": "180"}
    # When the weekly audit is delivered three times
    runs = [deliver(iam_account, "audit_access_keys", {"job": "audit-keys"}, **env)[0] for _ in THREE]
    # Then the key is deactivated exactly once: the later runs find it Inactive and have nothing to deactivate
    assert [[d["outcome"] for d in run["deactivations"]] for run in runs] == [["done"], [], []]
    keys = iam_account.client("iam").list_access_keys(UserName="deploy-bot")["AccessKeyMetadata"]
    assert {key["AccessKeyId"]: key["Status"] for key in keys} == {old: "Inactive", new: "Active"}
    # And each run sends its digest: an audit is a report of the account as it is, and the 400-day key
    # (now inactive, still to be deleted) is still a finding. Three runs, three digests, one deactivation.
    assert [run["outcome"] for run in runs] == ["reported", "reported", "reported"]
    assert events(iam_account) == ["keys.audit", "keys.audit", "keys.audit"]


def test_a_repeated_key_audit_of_a_healthy_account_sends_one_digest_a_week(iam_account: LocalAccount) -> None:
    add_user(iam_account, "dev-alice", [(12, 1)])
    seen = [deliver(iam_account, "audit_access_keys", {"job": "audit-keys"})[0]["outcome"] for _ in THREE]
    assert seen == ["healthy", "healthy_quiet", "healthy_quiet"]
    assert events(iam_account) == ["keys.audit"]


def test_a_repeated_daily_purge_deletes_once_and_sends_a_summary_on_each_run(account: LocalAccount) -> None:
    # Given a repository with three expired untagged images beside the running one, and delete mode
    repository = SeededRepository.fresh(account)
    repository.image("current", "latest", days=2)
    expired = {repository.image(f"old-{n}", days=60 + n) for n in range(3)}
    run_image(account, "latest")
    record_deployed(account)
    env = {"IMAGE_PURGE_MODE": "delete"}
    # When the daily run is delivered three times
    runs = [deliver(account, "purge_images", {"job": "purge-images"}, **env)[0] for _ in THREE]
    # Then the images are deleted once; the repeats find nothing to delete
    assert [(run["outcome"], run["deleted"]) for run in runs] == [("purged", 3), ("nothing", 0), ("nothing", 0)]
    assert not expired & repository.digests()
    # And, being the daily report, each run sends its summary (the repeats' say that nothing was left to delete)
    assert events(account) == ["images.purged", "images.purged", "images.purged"]


def test_an_ecr_push_delivered_three_times_purges_once_and_notifies_once(account: LocalAccount) -> None:
    repository = SeededRepository.fresh(account)
    repository.image("current", "latest", days=0)
    repository.image("old", days=60)
    run_image(account, "latest")
    record_deployed(account)
    push = {
        "source": "aws.ecr",
        "detail-type": "ECR Image Action",
        "detail": {"result": "SUCCESS", "repository-name": "consultation-app", "action-type": "PUSH", "image-tag": "x"},
    }
    runs = [deliver(account, "purge_images", push, IMAGE_PURGE_MODE="delete")[0] for _ in THREE]
    assert [run["deleted"] for run in runs] == [1, 0, 0]
    assert events(account) == ["images.purged"]


# --- pairs out of order ------------------------------------------------------------------------------


def test_an_alarms_ok_delivered_before_its_alarm_leaves_the_service_running(account: LocalAccount) -> None:
    # Given an alarm that went to ALARM at 10:00 and back to OK at 10:20, its two messages crossing in flight
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=account.service_arn, changed_at=FIRED)
    recovered = alarm_event(
        "sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20)
    )
    # When the OK arrives first, then the (older) ALARM
    first = deliver(account, "on_alarm", recovered, **PAUSE_ALARM)[0]
    late = deliver(account, "on_alarm", fired, **PAUSE_ALARM)[0]
    # Then the late ALARM is recognised as out of date: the alarm is OK now, so nothing is paused
    assert first["outcome"] == "recovered"
    assert late["outcome"] == "stale"
    assert late["reason"].startswith("ignored, because a newer state change")
    assert mutations(account) == []
    assert account.claims() == []
    assert account.service_status() == "RUNNING"
    # And the operator heard once, about the OK
    assert events(account) == ["alarm.recovered"]


def test_an_alarms_older_ok_delivered_after_a_newer_alarm_keeps_the_service_paused(account: LocalAccount) -> None:
    # Given OK at 10:00 and ALARM again at 10:20, the OK delivered last
    ok = alarm_event("sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED)
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20))
    assert deliver(account, "on_alarm", fired, **PAUSE_ALARM)[0]["outcome"] == "paused"
    assert deliver(account, "on_alarm", ok, **PAUSE_ALARM)[0]["outcome"] == "stale"
    # Then the alarm's claim still holds the service
    assert mutations(account) == ["PauseService"]
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#alarm#warden-5xx-rate"]
    assert events(account) == ["alarm.paused"]


def test_a_late_workday_end_run_after_the_next_workday_start_leaves_the_service_running(account: LocalAccount) -> None:
    # Given Monday evening's job delayed (retries) until after Tuesday morning's job
    assert job(account, Job.WORKDAY_START, TUESDAY_0800, **WORKING_HOURS).outcome == "unchanged"
    # When the late workday-end runs at 08:05 on Tuesday
    late = job(account, Job.WORKDAY_END, TUESDAY_0800 + timedelta(minutes=5), **WORKING_HOURS)
    # Then it decides from the time it runs (working hours): no claim, no pause
    assert late.outcome == "unchanged"
    assert mutations(account) == []
    assert account.claims() == []
    assert events(account) == []


def test_a_budget_alert_redelivered_after_the_operators_override_leaves_the_service_running(
    account: LocalAccount,
) -> None:
    # Given a breach that paused the service, and the operator's override
    account.set_budget(limit="10.00", actual="10.42")
    event = breach(account)
    assert deliver(account, "on_budget_alert", event)[0]["outcome"] == "paused"
    _override_budget(account)
    assert account.service_status() == "RUNNING"
    account.inbox()
    # When SNS delivers the old alert again
    again = deliver(account, "on_budget_alert", event)[0]
    # Then it is the same SNS message, already handled: the service stays resumed
    assert again["outcome"] == "duplicate"
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert account.service_status() == "RUNNING"
    assert events(account) == []


def test_a_retry_of_an_alert_that_paused_then_failed_does_not_pause_again_after_the_operators_override(
    account: LocalAccount,
) -> None:
    # Given a breach whose first attempt paused the service, then failed to notify (SNS down): Lambda retries later
    account.set_budget(limit="10.00", actual="10.42")
    event = breach(account)
    plan = FaultPlan(rules=[Rule("error", service="sns", operation="Publish", times=None)])
    with fault_proxy(account.moto_url, plan) as sns_down, pytest.raises(AwsUnavailable):
        deliver(account, "on_budget_alert", event, cold=True, AWS_ENDPOINT_URL=sns_down.url)
    assert len(plan.attempts("Publish")) == TOTAL_ATTEMPTS
    assert account.service_status() == "PAUSED"
    # And meanwhile the operator, seeing it paused, overrode the budget claim
    _override_budget(account)
    assert account.service_status() == "RUNNING"
    account.inbox()
    # When Lambda's retry of the alert runs
    retried = deliver(account, "on_budget_alert", event)[0]
    # Then the claim this alert placed was cleared by the operator: it is not placed again, nothing is paused
    assert account.service_status() == "RUNNING"
    assert mutations(account) == ["PauseService", "ResumeService"]
    assert account.claims() == []
    assert retried["outcome"] == "overridden"
    (notification,) = events(account)
    assert notification == "budget.overridden"


def test_a_breach_alert_delivered_after_the_budget_period_rolled_over_does_not_pause(account: LocalAccount) -> None:
    # Given last period's alert, delayed until the new period, where spend is low
    account.set_budget(limit="10.00", actual="0.50")
    # When it arrives
    late = deliver(account, "on_budget_alert", breach(account))[0]
    # Then the Budgets API does not confirm it: nothing is paused
    assert late["outcome"] == "not_confirmed"
    assert mutations(account) == []
    assert events(account) == ["budget.not_confirmed"]


# --- helpers -----------------------------------------------------------------------------------------


def _override_budget(account: LocalAccount) -> None:
    with fresh_container(account.env(), reuse_clients=True):
        settings = get_settings()
        manual_resume(
            operator_deps(settings), settings, who="alice", reason="launch day", override=ClaimReason.BUDGET, now=FIRED
        )


def _backdate_budget_claim(account: LocalAccount, *, days: int) -> None:
    table = StateTable(account.table_name, account.client("dynamodb"))
    (claim,) = table.list_claims(account.service_arn)
    start = (datetime.now(UTC) - timedelta(days=days)).date().replace(day=1)
    details = {**claim.details, "period_start": start.isoformat()}
    table.remove_claim(account.service_arn, claim.key)
    table.add_claim(account.service_arn, claim.model_copy(update={"details": details}))
