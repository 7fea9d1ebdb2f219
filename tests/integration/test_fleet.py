"""A fleet on the local account: tagged App Runner services join at the next reconcile with their own budget,
hours and alarm actions; a budget alert pauses every service on that budget with one message; a removed tag
releases the service; a malformed tag is reported once; a throttled tag read never un-guards a service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from local.account import IMAGE, LocalAccount
from local.alarm_events import alarm_event
from local.events import budget_message
from local.invoke import invoke
from tests.events import sns_event
from warden.domain.fleet import FleetRecord
from warden.errors import AwsUnavailable

HOURS = "MON-FRI 08:00-18:00 Europe/Berlin"


def reconcile(account: LocalAccount, **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("run_schedule", {"job": "reconcile"}, {**account.env(), **env})
    return result


def status(account: LocalAccount, arn: str) -> str:
    return str(account.client("apprunner").describe_service(ServiceArn=arn)["Service"]["Status"])


def stored(account: LocalAccount) -> FleetRecord:
    item = account.client("dynamodb").get_item(
        TableName=account.table_name, Key={"PK": {"S": "FLEET"}, "SK": {"S": "MEMBERS"}}
    )["Item"]
    return FleetRecord.model_validate_json(item["record"]["S"])


def fleet(account: LocalAccount) -> tuple[str, str]:
    """Given the account's own service (SERVICE_ARN), a tagged back office on the same budget, and a tagged
    staging service with its own budget and Berlin hours."""
    emulator = account.emulator
    back = emulator.seed_service(
        "back-office", IMAGE, tags={"warden:guard": "true", "warden:budget": account.budget_name}
    )
    staging = emulator.seed_service(
        "staging-app",
        IMAGE,
        tags={
            "warden:guard": "true",
            "warden:budget": "staging-monthly",
            "warden:hours": HOURS,
            "warden:alarm-actions": "*-cpu=pause",
        },
    )
    emulator.seed_service("untagged-app", IMAGE)
    return back, staging


def test_tagged_services_join_at_the_next_reconcile_and_are_announced_once(account: LocalAccount) -> None:
    back, staging = fleet(account)
    # When the reconcile runs (a weekday at 10:00 in Berlin)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        result = reconcile(account)
        again = reconcile(account)
    # Then the fleet is the listed service and the two tagged ones, stored with their tags
    assert [m.arn for m in stored(account).members] == [account.service_arn, back, staging]
    assert set(result["joined"]) == {back, staging}
    assert again["joined"] == []
    joined = [m for m in account.inbox() if m.attributes.get("event") == "fleet.joined"]
    assert len(joined) == 1
    assert "back-office" in joined[0].subject
    assert "staging-app" in joined[0].subject
    assert "untagged-app" not in joined[0].body


def test_a_budget_alert_pauses_every_service_on_that_budget_with_one_message(account: LocalAccount) -> None:
    # Given the fleet, known to Warden, and the shared budget over its limit
    back, staging = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.inbox()
    account.set_budget(limit="10.00", actual="10.42")
    # When the shared budget's 100 % alert arrives
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    alert = sns_event(text, topic_arn=account.budget_topic_arn)
    result = invoke("on_budget_alert", alert, account.env())
    # Then the two services on that budget are paused, each with its own budget claim; staging is not
    assert [r["outcome"] for r in result["results"]] == ["paused", "paused"]
    assert status(account, account.service_arn) == "PAUSED"
    assert status(account, back) == "PAUSED"
    assert status(account, staging) == "RUNNING"
    # And one notification lists both
    messages = account.inbox()
    assert len(messages) == 1
    assert "2 services" in messages[0].subject
    assert "back-office" in messages[0].body
    assert "consultation-app" in messages[0].body
    # And a second delivery of the same alert changes nothing and sends nothing
    again = invoke("on_budget_alert", alert, account.env())
    assert {r["outcome"] for r in again["results"]} == {"duplicate"}
    assert account.inbox() == []


def test_a_service_whose_tag_is_removed_is_released_and_resumed_because_warden_paused_it(account: LocalAccount) -> None:
    back, _ = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.set_budget(limit="10.00", actual="10.42")
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    invoke("on_budget_alert", sns_event(text, topic_arn=account.budget_topic_arn), account.env())
    account.inbox()
    # When its guard tag is removed and the reconcile runs
    account.client("apprunner").untag_resource(ResourceArn=back, TagKeys=["warden:guard"])
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        result = reconcile(account)
    # Then it left the fleet, its budget claim is gone and it runs again; the listed service stays paused
    assert result["left"] == [back]
    assert back not in [m.arn for m in stored(account).members]
    assert status(account, back) == "RUNNING"
    assert status(account, account.service_arn) == "PAUSED"
    left = [m for m in account.inbox() if m.attributes.get("event") == "fleet.left"]
    assert len(left) == 1
    assert "resumed it" in left[0].body


def test_a_service_warden_never_paused_is_not_resumed_when_it_leaves(account: LocalAccount) -> None:
    back, _ = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    # Given someone paused it by hand, outside Warden
    account.client("apprunner").pause_service(ServiceArn=back)
    account.client("apprunner").untag_resource(ResourceArn=back, TagKeys=["warden:guard"])
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        reconcile(account)
    # Then Warden leaves it paused
    assert status(account, back) == "PAUSED"
    assert account.emulator.calls("ResumeService") == []


def test_each_service_keeps_its_own_working_hours(account: LocalAccount) -> None:
    _, staging = fleet(account)
    # When a reconcile runs on Saturday
    with time_machine.travel(datetime(2026, 12, 12, 10, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    # Then staging (Berlin office hours by tag) is paused; the others (no stack hours) run
    assert status(account, staging) == "PAUSED"
    assert status(account, account.service_arn) == "RUNNING"
    # When Monday 08:00 in Berlin (07:00 UTC) has passed
    with time_machine.travel(datetime(2026, 12, 14, 7, 5, tzinfo=UTC), tick=False):
        reconcile(account)
    # Then staging runs again
    assert status(account, staging) == "RUNNING"


def test_a_malformed_tag_is_reported_once_and_that_service_falls_back_to_the_stack(account: LocalAccount) -> None:
    _, staging = fleet(account)
    account.client("apprunner").tag_resource(
        ResourceArn=staging, Tags=[{"Key": "warden:hours", "Value": "weekdays nine to five"}]
    )
    with time_machine.travel(datetime(2026, 12, 12, 10, 0, tzinfo=UTC), tick=False):
        reconcile(account)
        reconcile(account)
    problems = [m for m in account.inbox() if m.attributes.get("event") == "fleet.tag_ignored"]
    assert len(problems) == 1
    assert "warden:hours" in problems[0].subject
    # And the stack has no working hours, so staging is not paused on a Saturday
    assert status(account, staging) == "RUNNING"


def test_a_throttled_tag_read_keeps_the_service_guarded_and_is_reported(account: LocalAccount) -> None:
    _, staging = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.inbox()
    # When every tag read is throttled beyond botocore's retries
    account.emulator.inject_error("ListTagsForResource", "ThrottlingException", status=400, times=100)
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        result = reconcile(account)
    # Then nobody left the fleet, and the failure was reported
    assert result["left"] == []
    assert staging in [m.arn for m in stored(account).members]
    events = [m.attributes.get("event") for m in account.inbox()]
    assert "fleet.discovery_failed" in events


def test_an_alarm_acts_on_the_service_it_names_with_that_services_actions(account: LocalAccount) -> None:
    back, staging = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    # When a CPU alarm about staging (tagged *-cpu=pause) goes off
    event = alarm_event("sns-cpu-alarm", service_arn=staging, alarm_name="warden-staging-app-cpu")
    result = invoke("on_alarm", event, account.env())
    # Then staging alone is paused
    assert result["results"][0]["outcome"] == "paused"
    assert status(account, staging) == "PAUSED"
    assert status(account, back) == "RUNNING"
    assert status(account, account.service_arn) == "RUNNING"
    # And the same alarm about the listed service (stack actions: notify only) pauses nothing
    event = alarm_event("sns-cpu-alarm", service_arn=account.service_arn, alarm_name="warden-consultation-app-cpu")
    other = invoke("on_alarm", event, account.env())
    assert other["results"][0]["outcome"] != "paused"
    assert status(account, account.service_arn) == "RUNNING"


def test_a_service_tagged_between_reconciles_joins_at_the_next_one(account: LocalAccount) -> None:
    # Given a reconciled fleet of one, and then a service tagged afterwards
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        first = reconcile(account)
    later = account.emulator.seed_service("late-app", IMAGE)
    account.client("apprunner").tag_resource(ResourceArn=later, Tags=[{"Key": "warden:guard", "Value": "true"}])
    # When the next reconcile runs, Then it joins, with no redeploy
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        second = reconcile(account)
    assert first["joined"] == []
    assert second["joined"] == [later]


def test_stack_hours_and_a_services_own_hours_in_another_zone_apply_side_by_side(account: LocalAccount) -> None:
    # Given stack hours 08-18 UTC for the listed service, and staging on Berlin hours by tag
    _, staging = fleet(account)
    hours = {
        "WORKING_HOURS_ENABLED": "true",
        "SCHEDULE_TIMEZONE": "UTC",
        "WORKDAY_START": "08:00",
        "WORKDAY_END": "18:00",
    }
    # When it is Monday 17:30 UTC (18:30 in Berlin): the stack's end job has not fired; the reconcile runs
    with time_machine.travel(datetime(2026, 12, 7, 17, 30, tzinfo=UTC)):
        reconcile(account, **hours)
        # Then staging (its day ended at 17:00 UTC) is paused, the listed service still runs
        assert status(account, staging) == "PAUSED"
        assert status(account, account.service_arn) == "RUNNING"
    # When the stack's own end-of-day job fires at 18:00 UTC
    with time_machine.travel(datetime(2026, 12, 7, 18, 0, tzinfo=UTC)):
        ended = invoke("run_schedule", {"job": "workday-end"}, {**account.env(), **hours})
        # Then the listed service is paused, and staging (own hours) was left to its own schedule
        assert status(account, account.service_arn) == "PAUSED"
    outcomes = {run["service"]: run["outcome"] for run in ended["services"]}
    assert outcomes["staging-app"] == "ignored"


def test_one_services_failing_pause_never_stops_the_others_and_fails_the_invocation(account: LocalAccount) -> None:
    back, _ = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.set_budget(limit="10.00", actual="10.42")
    # Given App Runner refuses the first service's PauseService on every one of botocore's 6 attempts
    account.emulator.inject_error("PauseService", "InternalServiceErrorException", status=500, times=6)
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    alert = sns_event(text, topic_arn=account.budget_topic_arn)
    # When the shared budget's alert arrives, Then the invocation fails (so Lambda retries it)
    with pytest.raises(AwsUnavailable):
        invoke("on_budget_alert", alert, account.env())
    # And the other service on that budget was paused all the same
    assert status(account, back) == "PAUSED"
    assert status(account, account.service_arn) == "RUNNING"
    # When Lambda retries, Then the failed one is paused too, and the paused one is not paused twice
    invoke("on_budget_alert", alert, account.env())
    assert status(account, account.service_arn) == "PAUSED"
    assert len([c for c in account.emulator.calls("PauseService") if c["params"].get("ServiceArn") == back]) <= 1


def test_the_alarms_of_each_tagged_service_are_created_updated_and_deleted(account: LocalAccount) -> None:
    back, _ = fleet(account)
    topic = account.client("sns").create_topic(Name=f"warden-alarms-{account.table_name}")["TopicArn"]
    cloudwatch = account.client("cloudwatch")

    def alarms(name: str) -> dict[str, Any]:
        found = cloudwatch.describe_alarms(AlarmNamePrefix=f"warden-{name}-")["MetricAlarms"]
        return {alarm["AlarmName"]: alarm for alarm in found}

    # When the reconcile runs with the stack's alarm topic
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        created = reconcile(account, ALARM_TOPIC_ARN=topic)
    # Then each tagged service has the standard alarms (not the listed one: the template holds its own)
    assert sorted(alarms("back-office")) == sorted(
        f"warden-back-office-{suffix}" for suffix in ("5xx-rate", "p99-latency", "cpu", "memory", "no-instances")
    )
    assert alarms("consultation-app") == {}
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms("back-office").values())
    assert "10 created" in created["alarms"]
    # When nothing changed, Then the next reconcile writes nothing
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        unchanged = reconcile(account, ALARM_TOPIC_ARN=topic)
    assert "(0 writes" in unchanged["alarms"]
    # When the CPU threshold changes, Then the CPU alarms are updated
    with time_machine.travel(datetime(2026, 12, 8, 9, 30, tzinfo=UTC), tick=False):
        updated = reconcile(account, ALARM_TOPIC_ARN=topic, CPU_THRESHOLD_PERCENT="80")
    assert "2 updated" in updated["alarms"]
    assert alarms("back-office")["warden-back-office-cpu"]["Threshold"] == 80
    # When back-office is no longer guarded, Then its alarms are deleted
    account.client("apprunner").untag_resource(ResourceArn=back, TagKeys=["warden:guard"])
    with time_machine.travel(datetime(2026, 12, 8, 9, 45, tzinfo=UTC), tick=False):
        reconcile(account, ALARM_TOPIC_ARN=topic, CPU_THRESHOLD_PERCENT="80")
    assert alarms("back-office") == {}


def test_a_leaving_service_warden_may_no_longer_resume_gets_its_claims_dropped_and_the_command(
    account: LocalAccount,
) -> None:
    back, _ = fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.set_budget(limit="10.00", actual="10.42")
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    invoke("on_budget_alert", sns_event(text, topic_arn=account.budget_topic_arn), account.env())
    account.inbox()
    # Given its tag is removed, and IAM (scoped to tagged services) now refuses Warden's resume
    account.client("apprunner").untag_resource(ResourceArn=back, TagKeys=["warden:guard"])
    account.emulator.inject_error("ResumeService", "AccessDeniedException", status=400, times=1)
    with time_machine.travel(datetime(2026, 12, 8, 9, 15, tzinfo=UTC), tick=False):
        result = reconcile(account)
    # Then it left, its claims are gone, it stays paused, and the message says how to resume it by hand
    assert result["left"] == [back]
    assert status(account, back) == "PAUSED"
    left = next(m for m in account.inbox() if m.attributes.get("event") == "fleet.left")
    assert "could not resume it" in left.body
    assert "resume-service" in left.body
    claims = account.client("dynamodb").query(
        TableName=account.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SERVICE#{back}"}},
    )["Items"]
    assert [item for item in claims if item["SK"]["S"].startswith("CLAIM#")] == []


def test_a_cost_anomaly_in_a_fleet_is_reported_and_pauses_nothing(account: LocalAccount) -> None:
    from tests.events import load_event

    fleet(account)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False):
        reconcile(account)
    account.inbox()
    # Given the stack would pause a single service on any anomaly (impact threshold $0)
    event = load_event("on_budget_alert", "cost-anomaly")
    # When an anomaly alert arrives for a fleet of three
    result = invoke("on_budget_alert", event, {**account.env(), "ANOMALY_PAUSE_IMPACT_USD": "0"})
    # Then it is reported, and no service of the fleet is paused
    assert [r["outcome"] for r in result["results"]] == ["anomaly"]
    assert account.emulator.calls("PauseService") == []
    assert len(account.inbox()) == 1
