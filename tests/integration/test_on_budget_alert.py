"""The real on_budget_alert handler against moto (SNS, SQS, DynamoDB, Budgets) and the App Runner emulator.

What reaches the inbox is asserted by its attributes (event, severity), the commands and the figures it must carry;
its words are tests/golden/test_budget_messages.py's golden files.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from local.account import LocalAccount
from local.invoke import invoke
from local.template import load_template, state_table_create_kwargs
from tests.events import budget_message, load_event, sns_event
from warden.errors import ServiceBusy, StateUnavailable
from warden.messages.budget import NOT_RECORDED

pytestmark = pytest.mark.integration


def deliver(account: LocalAccount, event: dict[str, Any], **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("on_budget_alert", event, {**account.env(), **env})
    return result


def breach_event(account: LocalAccount, message_id: str = "6f1c7b0e-0d7e-4c2a-9d61-3b2f9b1f0a10") -> dict[str, Any]:
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    return sns_event(text, message_id=message_id, topic_arn=account.budget_topic_arn)


def test_a_confirmed_breach_pauses_the_running_service_records_a_claim_and_notifies_once(
    account: LocalAccount,
) -> None:
    # Given a RUNNING service and a Budgets API reporting $10.42 of $10.00
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    # When the 100 % alert arrives over SNS
    result = deliver(account, breach_event(account))
    # Then App Runner paused it, a budget claim is stored, and the inbox holds one critical message
    assert result["results"][0]["outcome"] == "paused"
    assert account.service_status() == "PAUSED"
    assert account.emulator.calls("PauseService") != []
    claims = account.claims()
    assert [claim["SK"] for claim in claims] == ["CLAIM#budget"]
    assert claims[0]["reason"] == "budget"
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.paused", "severity": "critical"}
    assert "warden resume --override budget" in received.body
    assert "$10.42" in received.subject


def test_the_fixture_event_of_a_breach_pauses_the_service(account: LocalAccount) -> None:
    # Given the shared sam-local fixture and a budget named as in it
    event = load_event("on_budget_alert", "budget-actual-100-percent")
    account.budget_name = "consultation-app-monthly"
    account.set_budget(limit="10.00", actual="10.42")
    # When it is delivered, Then the service is paused
    assert deliver(account, event)["results"][0]["outcome"] == "paused"
    assert account.service_status() == "PAUSED"


def test_a_repeat_of_the_same_sns_message_is_ignored(account: LocalAccount) -> None:
    # Given a breach already handled
    account.set_budget(limit="10.00", actual="10.42")
    event = breach_event(account)
    deliver(account, event)
    # When SNS delivers the same message twice more
    repeats = [deliver(account, event)["results"][0]["outcome"] for _ in range(2)]
    # Then both are duplicates: one pause call, one claim, one notification in all
    assert repeats == ["duplicate", "duplicate"]
    assert len(account.emulator.calls("PauseService")) == 1
    assert len(account.claims()) == 1
    assert len(account.inbox()) == 1


def test_an_already_paused_service_gets_the_claim_without_a_pause_call(account: LocalAccount) -> None:
    # Given a service paused by hand
    account.set_budget(limit="10.00", actual="10.42")
    account.client("apprunner").pause_service(ServiceArn=account.service_arn)
    assert account.service_status() == "PAUSED"
    calls_before = len(account.emulator.calls("PauseService"))
    # When the breach is confirmed
    result = deliver(account, breach_event(account))
    # Then the claim is recorded, App Runner gets no pause call, and the message says it was already paused
    assert result["results"][0]["outcome"] == "already_paused"
    assert len(account.emulator.calls("PauseService")) == calls_before
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.already_paused", "severity": "critical"}


def test_a_busy_service_raises_a_retryable_error_and_the_retry_completes_the_pause(
    account: LocalAccount,
) -> None:
    # Given App Runner in OPERATION_IN_PROGRESS (a deployment running)
    account.set_budget(limit="10.00", actual="10.42")
    account.emulator.force_status(account.service_arn, "OPERATION_IN_PROGRESS")
    event = breach_event(account)
    # When the alert arrives, Then a retryable error escapes so Lambda retries
    with pytest.raises(ServiceBusy):
        deliver(account, event)
    # And the claim is kept, and nothing was told yet
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    assert account.inbox() == []
    # When the deployment finishes and Lambda retries the same event
    account.emulator.force_status(account.service_arn, "RUNNING")
    result = deliver(account, event)
    # Then the service is paused and the operator is told once
    assert result["results"][0]["outcome"] == "paused"
    assert account.service_status() == "PAUSED"
    assert len(account.inbox()) == 1


def test_spend_not_confirmed_by_the_budgets_api_leaves_the_service_running(account: LocalAccount) -> None:
    # Given the Budgets API reports $9.10 although the alert said $10.42
    account.set_budget(limit="10.00", actual="9.10")
    # When the alert arrives
    result = deliver(account, breach_event(account))
    # Then no pause, no claim, and the notification explains
    assert result["results"][0]["outcome"] == "not_confirmed"
    assert account.service_status() == "RUNNING"
    assert account.emulator.calls("PauseService") == []
    assert account.claims() == []
    (received,) = account.inbox()
    assert received.attributes["event"] == "budget.not_confirmed"
    assert "$9.10" in received.body  # the figure the Budgets API reported instead


@pytest.mark.parametrize(
    "event_name", ["malformed-budget", "unknown-message"], ids=["malformed budget text", "unknown message"]
)
def test_malformed_and_unknown_messages_are_forwarded_verbatim(account: LocalAccount, event_name: str) -> None:
    # Given a message Warden cannot parse
    event = load_event("on_budget_alert", event_name)
    original = event["Records"][0]["Sns"]["Message"]
    # When it arrives
    result = deliver(account, event)
    # Then it is forwarded word for word, nothing is paused, nothing crashes
    assert result["results"][0]["outcome"] == "forwarded"
    assert account.service_status() == "RUNNING"
    (received,) = account.inbox()
    assert original in received.body
    assert received.attributes == {"event": "alert.unparsed", "severity": "warning"}


def test_an_event_that_is_not_sns_at_all_is_forwarded_too(account: LocalAccount) -> None:
    # Given a direct invocation with a stray payload
    event = {"hello": "world", "Records": "not a list"}
    # When it arrives, Then the operator receives it as JSON with the reason
    result = deliver(account, event)
    assert result["results"][0]["outcome"] == "forwarded"
    (received,) = account.inbox()
    assert json.dumps("not a list") in received.body


def test_dry_run_mutates_nothing_and_the_notification_says_what_would_have_happened(
    account: LocalAccount,
) -> None:
    # Given DRY_RUN=true and a confirmed breach
    account.set_budget(limit="10.00", actual="10.42")
    # When the alert arrives
    result = deliver(account, breach_event(account), DRY_RUN="true")
    # Then the service runs on, no claim exists, App Runner saw no mutation
    assert result["results"][0]["outcome"] == "would_pause"
    assert account.service_status() == "RUNNING"
    assert account.claims() == []
    assert account.emulator.calls("PauseService") == []
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.dry_run", "severity": "critical"}


def test_an_eighty_percent_alert_warns_without_reading_or_pausing(account: LocalAccount) -> None:
    event = sns_event(budget_message(name=account.budget_name), topic_arn=account.budget_topic_arn)
    result = deliver(account, event)
    assert result["results"][0]["outcome"] == "warned"
    assert account.service_status() == "RUNNING"
    (received,) = account.inbox()
    assert received.attributes == {"event": "budget.warning", "severity": "warning"}


def test_a_confirmed_breach_pauses_with_the_state_table_deleted_and_the_reconcile_records_it_later(
    account: LocalAccount,
) -> None:
    # Given a RUNNING service, a Budgets API confirming $10.42 of $10.00, and the state table deleted
    account.set_budget(limit="10.00", actual="10.42")
    dynamodb = account.client("dynamodb")
    dynamodb.delete_table(TableName=account.table_name)
    # When the 100 % alert arrives, Then the invocation fails, so the error alarm and the failure queue see it
    with pytest.raises(StateUnavailable):
        deliver(account, breach_event(account))
    # And the service is PAUSED all the same
    assert account.service_status() == "PAUSED"
    assert len(account.emulator.calls("PauseService")) == 1
    # And one critical message says the pause is in effect but not recorded, quoting why
    (received,) = account.inbox()
    assert received.subject.startswith(NOT_RECORDED)
    assert received.attributes == {"event": "budget.paused", "severity": "critical"}
    assert "ResourceNotFoundException" in received.body
    # When the table is back (the stack recreates it, empty) and the reconcile runs
    dynamodb.create_table(**state_table_create_kwargs(load_template(), account.table_name))
    invoke("run_schedule", {"job": "reconcile"}, account.env())
    # Then the pause is recorded as the budget claim, and the service stays paused
    assert [claim["SK"] for claim in account.claims()] == ["CLAIM#budget"]
    assert account.service_status() == "PAUSED"
    assert len(account.emulator.calls("ResumeService")) == 0
    assert [message.attributes["event"] for message in account.inbox()] == ["budget.claim_recovered"]


def test_an_ecs_breach_pauses_with_the_state_table_deleted_and_logs_the_scale_to_restore(
    account: LocalAccount,
) -> None:
    # Given an ECS service of 3 tasks (auto scaling 2..5), a confirmed breach, and the state table deleted
    from local.ecs import ecs_state, seed_ecs_service

    ecs = dataclasses.replace(account, service_arn=seed_ecs_service(account, desired=3, scaling=(2, 5)))
    ecs.set_budget(limit="10.00", actual="10.42")
    ecs.client("dynamodb").delete_table(TableName=ecs.table_name)
    # When the alert arrives, Then the invocation fails
    with pytest.raises(StateUnavailable):
        deliver(ecs, breach_event(ecs))
    # And the service is scaled to zero with its scaling pinned, though the scale could not be stored
    state = ecs_state(ecs)
    assert (state.status, state.desired, state.scaling) == ("PAUSED", 0, (0, 0, True))
    # And the message says so, and what keeps billing
    (received,) = ecs.inbox()
    assert received.subject.startswith(NOT_RECORDED)
    assert received.attributes == {"event": "budget.paused", "severity": "critical"}
    assert "Fargate tasks: $0.00 a month" in received.body
