"""The real on_alarm handler against moto (SNS, SQS, DynamoDB) and the App Runner emulator.

What the service, the claims, the table and the notifications' attributes become; the notifications' words are
approved in tests/golden/texts/alarm.*.txt (tests/golden/test_alarm_messages.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.invoke import invoke
from tests.events import budget_message, load_event, sns_event
from warden.adapters.dynamodb import StateTable
from warden.errors import SettingsError

pytestmark = pytest.mark.integration

FIRED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


def deliver(account: LocalAccount, event: dict[str, Any], **env: str) -> dict[str, Any]:
    (result,) = invoke("on_alarm", event, {**account.env(), **env})["results"]
    outcome: dict[str, Any] = result
    return outcome


def fired(account: LocalAccount, fixture: str = "sns-5xx-rate-alarm", **changes: Any) -> dict[str, Any]:
    return alarm_event(fixture, service_arn=account.service_arn, changed_at=FIRED, **changes)


def test_a_pause_alarm_pauses_the_service_and_its_recovery_resumes_it(account: LocalAccount) -> None:
    # Given the 5xx-rate alarm mapped to pause and a RUNNING service
    env = {"ALARM_ACTIONS": "warden-5xx-rate=pause"}
    # When the alarm fires over SNS
    result = deliver(account, fired(account), **env)
    # Then App Runner paused it, the alarm's claim is stored, and one critical message arrived
    assert result["outcome"] == "paused"
    assert account.service_status() == "PAUSED"
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#alarm#warden-5xx-rate"]
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.paused", "severity": "critical"}
    # When the alarm returns to OK 20 minutes later
    ok = alarm_event("sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20))
    result = deliver(account, ok, **env)
    # Then the claim is cleared, the service resumed, and the operator hears how long it lasted (the incident's
    # start came back from the table)
    assert result["outcome"] == "recovered"
    assert account.claims() == []
    assert account.service_status() == "RUNNING"
    assert account.emulator.calls("ResumeService") != []
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.recovered", "severity": "info"}
    assert "20 minutes" in received.subject


def test_by_default_the_fixture_alarm_is_explained_and_nothing_changes(account: LocalAccount) -> None:
    result = deliver(account, fired(account, "sns-latency-p99-alarm"))
    assert result["outcome"] == "notified"
    assert account.service_status() == "RUNNING"
    assert account.emulator.calls("PauseService") == []
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.fired", "severity": "critical"}


def test_one_state_change_over_sns_twice_and_eventbridge_pauses_once_and_notifies_once(account: LocalAccount) -> None:
    # Given the alarm mapped to pause, wired to both the topic and an EventBridge rule
    env = {"ALARM_ACTIONS": "warden-*=pause"}
    sns = fired(account)
    bridge = fired(account, "eventbridge-5xx-rate-alarm")
    # When SNS delivers it twice and EventBridge once
    outcomes = [deliver(account, event, **env)["outcome"] for event in (sns, sns, bridge)]
    # Then it acted once and told once
    assert outcomes == ["paused", "duplicate", "duplicate"]
    assert len(account.emulator.calls("PauseService")) == 1
    assert len(account.inbox()) == 1


def test_a_direct_alarm_invocation_is_handled(account: LocalAccount) -> None:
    result = deliver(account, fired(account, "direct-memory-alarm"))
    assert result["outcome"] == "notified"
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.fired", "severity": "critical"}
    assert "97.6 %" in received.subject


def test_no_instances_while_the_budget_holds_the_service_paused_is_expected(account: LocalAccount) -> None:
    # Given the budget paused the service (a real on_budget_alert delivery)
    account.set_budget(limit="10.00", actual="10.42")
    breach = sns_event(
        budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"),
        topic_arn=account.budget_topic_arn,
    )
    invoke("on_budget_alert", breach, account.env())
    account.inbox()
    assert account.service_status() == "PAUSED"
    # When the no-instances alarm fires, mapped to pause
    result = deliver(account, fired(account, "sns-no-instances-alarm"), ALARM_ACTIONS="*-no-instances=pause")
    # Then it is expected, nothing is added, and the message names the budget claim
    assert result["outcome"] == "expected"
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.expected", "severity": "info"}


def test_a_message_that_is_no_alarm_is_forwarded_verbatim(account: LocalAccount) -> None:
    result = deliver(account, alarm_event("unparseable-message"))
    assert result["outcome"] == "forwarded"
    (received,) = account.inbox()
    assert received.attributes == {"event": "alert.unparsed", "severity": "warning"}
    assert "hand-published test message" in received.body


def test_a_bad_alarm_actions_setting_fails_naming_the_variable(account: LocalAccount) -> None:
    with pytest.raises(SettingsError, match="ALARM_ACTIONS"):
        deliver(account, fired(account), ALARM_ACTIONS="warden-5xx-rate=reboot")


def test_an_alarm_named_with_255_four_byte_characters_pauses_and_recovers_through_dynamodb(
    account: LocalAccount,
) -> None:
    # Given an alarm whose name is 255 four-byte characters (1,020 bytes), every alarm mapped to pause
    name = "🔥" * 255
    env = {"ALARM_ACTIONS": "*=pause"}
    # When it fires and returns to OK
    fired_result = deliver(account, fired(account, alarm_name=name), **env)
    ok = alarm_event(
        "sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20), alarm_name=name
    )
    (claim,) = account.claims()
    ok_result = deliver(account, ok, **env)
    # Then DynamoDB took every key (no ValidationException): the claim was stored under a hashed key that
    # fits a sort key, found again by the OK, and cleared
    assert (fired_result["outcome"], ok_result["outcome"]) == ("paused", "recovered")
    assert len(claim["SK"].encode("utf-8")) <= 1024
    assert claim["SK"].startswith("CLAIM#alarm#🔥")
    assert account.claims() == []
    assert account.service_status() == "RUNNING"


def test_the_state_memo_moves_only_forward_in_one_conditional_write(account: LocalAccount) -> None:
    # Given the OK of 10:25 remembered as the alarm's newest state
    table = StateTable(account.table_name, account.client("dynamodb"))
    arn, memo = account.service_arn, "alarm-state#warden-5xx-rate"
    assert table.advance_memo(arn, memo, {"state": "OK"}, order=1025, token="ok")
    # When the ALARM of 10:05 tries to write, Then DynamoDB refuses it and the OK stays
    assert not table.advance_memo(arn, memo, {"state": "ALARM"}, order=1005, token="alarm")
    # And another change of the same moment is refused too; a retry of the OK itself passes
    assert not table.advance_memo(arn, memo, {"state": "ALARM"}, order=1025, token="alarm")
    assert table.advance_memo(arn, memo, {"state": "OK"}, order=1025, token="ok")
    assert table.get_memo(arn, memo) == {"state": "OK"}
    # When a later change arrives, Then it moves the memo on
    assert table.advance_memo(arn, memo, {"state": "ALARM"}, order=1105, token="later")
    assert table.get_memo(arn, memo) == {"state": "ALARM"}


def test_the_readmes_cpu_pattern_leaves_the_service_running_for_an_ec2_alarm(account: LocalAccount) -> None:
    result = deliver(account, load_event("on_alarm", "sns-ec2-cpu-other-region-alarm"), ALARM_ACTIONS="*-cpu=pause")
    assert result["outcome"] == "other_service"
    assert account.emulator.calls("PauseService") == []
    assert account.claims() == []
    (received,) = account.inbox()
    assert received.attributes == {"event": "alarm.other_service", "severity": "critical"}
    # About the EC2 instance, never the guarded service
    assert "i-0abc1234def567890" in received.subject
    assert "consultation-app" not in received.subject
