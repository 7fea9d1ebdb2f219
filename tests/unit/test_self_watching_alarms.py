"""Warden's alarms on itself (its functions' Lambda Errors, its failed-events queue) read as Warden failing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.alarms import (
    SELF_WATCHING,
    MetricKind,
    classify,
    describe,
    is_self_watching,
    observed_value,
    runbook,
)
from warden.domain.service import ServiceStatus
from warden.models.alarm import AlarmStateChange, parse_alarm_message
from warden.models.sns import parse_sns_event
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, Outcome, handle_event

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
FUNCTION = "warden-OnBudgetAlertFunction-Q1w2E3r4T5y6"
QUEUE = "warden-FailedEventsQueue-AbCdEf123456"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}


def message(fixture: str) -> dict[str, Any]:
    (sns,) = parse_sns_event(load_event("on_alarm", fixture))
    parsed: dict[str, Any] = json.loads(sns.message)
    return parsed


def change(fixture: str, **edits: Any) -> AlarmStateChange:
    return parse_alarm_message(json.dumps({**message(fixture), **edits}))


def words(alarm: AlarmStateChange) -> tuple[str, str]:
    finding = describe(alarm, observed_value(alarm.reason, alarm.reason_data))
    return finding.sentence, finding.subject


@pytest.mark.parametrize(
    ("name", "own"),
    [
        ("warden-self-errors-on-budget-alert", True),
        ("warden-prod-self-errors-on-deployment", True),
        ("warden-self-failed-events", True),
        ("warden-5xx-rate", False),
        ("my-lambda-errors", False),
        ("self-errors-on-alarm", False),
        ("warden-self-errors-", False),
    ],
)
def test_the_stacks_own_alarms_are_recognised_by_the_names_the_template_gives_them(name: str, own: bool) -> None:
    assert is_self_watching(name) is own


def test_an_error_of_a_warden_function_reads_warden_itself_failed_with_the_function_and_the_count() -> None:
    # Given the <stack>-self-errors-on-budget-alert alarm (AWS/Lambda Errors, Sum 3 > 0) in ALARM
    alarm = change("sns-self-errors-alarm")
    # When it is classified and described
    sentence, subject = words(alarm)
    # Then it is Warden's own failure, with the function and the number of errors
    assert classify(alarm) is MetricKind.WARDEN_ERRORS
    assert sentence == f"Warden itself failed: 3 errors in its function {FUNCTION}, above 0."
    assert subject == f"Warden itself failed: 3 errors in {FUNCTION}"
    # And the runbook points at the function's logs and the failed-events queue
    steps = " ".join(runbook(MetricKind.WARDEN_ERRORS))
    assert "/aws/lambda/" in steps
    assert "failed-events queue" in steps
    assert "FailedEventsQueueUrl" in steps


def test_events_in_the_failed_events_queue_read_warden_itself_failed_with_the_queue_and_what_to_do() -> None:
    alarm = change("sns-self-failed-events-alarm")
    sentence, subject = words(alarm)
    assert classify(alarm) is MetricKind.WARDEN_FAILED_EVENTS
    assert sentence == (
        f"Warden itself failed: 2 messages wait in its failed-events queue {QUEUE}, above 0: events that failed "
        "every retry."
    )
    assert subject == "Warden itself failed: 2 messages in the failed-events queue"
    steps = " ".join(runbook(MetricKind.WARDEN_FAILED_EVENTS))
    for expected in ("aws sqs receive-message", "requestPayload", "responsePayload", "aws lambda invoke"):
        assert expected in steps


def test_one_error_is_singular_and_recovery_reads_as_no_errors() -> None:
    one = change(
        "sns-self-errors-alarm",
        NewStateReason="Threshold Crossed: 1 out of the last 1 datapoints [1.0 (27/11/26 10:00:00)] was greater "
        "than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
    )
    assert words(one)[0] == f"Warden itself failed: 1 error in its function {FUNCTION}, above 0."
    ok = change(
        "sns-self-errors-alarm",
        NewStateValue="OK",
        OldStateValue="ALARM",
        NewStateReason="Threshold Crossed: 1 out of the last 1 datapoints [0.0 (27/11/26 10:10:00)] was not greater "
        "than the threshold (0.0) (minimum 1 datapoint for ALARM -> OK transition).",
    )
    assert words(ok)[0] == f"Warden's function {FUNCTION} had 0 errors, not above 0."


def test_the_same_metrics_on_alarms_that_are_not_wardens_own_are_described_without_blaming_warden() -> None:
    # Given alarms on another Lambda function's Errors and another queue's depth, routed to the alarm topic
    other_errors = change("sns-self-errors-alarm", AlarmName="billing-api-errors")
    other_queue = change("sns-self-failed-events-alarm", AlarmName="orders-backlog")
    # Then the metric is named plainly, and neither says Warden failed
    assert classify(other_errors) is MetricKind.LAMBDA_ERRORS
    assert classify(other_queue) is MetricKind.QUEUE_DEPTH
    assert words(other_errors)[0] == f"Lambda function {FUNCTION} had 3 errors, above 0."
    assert words(other_queue)[0] == f"SQS queue {QUEUE} holds 2 messages waiting, above 0."
    assert runbook(MetricKind.LAMBDA_ERRORS)
    assert runbook(MetricKind.QUEUE_DEPTH)
    assert not SELF_WATCHING & {classify(other_errors), classify(other_queue)}


@pytest.mark.parametrize("fixture", ["sns-self-errors-alarm", "sns-self-failed-events-alarm"])
def test_an_alarm_on_warden_itself_only_notifies_even_when_alarm_actions_would_pause_everything(fixture: str) -> None:
    # Given ALARM_ACTIONS that pause on every alarm, and a running service
    service = FakeService(arn=ARN, status=ServiceStatus.RUNNING)
    notifier, state = FakeNotifier(), FakeState()
    deps = AlarmDeps(service, notifier, state, FakeRollback(configured=True))
    settings = Settings.from_env({**ENV, "ALARM_ACTIONS": "*=pause"})
    event = alarm_event(fixture, changed_at=FIRED, message_id=str(uuid.uuid4()))

    # When Warden's own alarm fires
    (result,) = handle_event(event, deps, settings, FIRED + timedelta(seconds=5))

    # Then the operator is told that Warden failed, with what to check, and the service is left alone
    assert result.outcome is Outcome.NOTIFIED
    assert service.mutations == []
    assert state.list_claims(ARN) == []
    (sent,) = notifier.sent
    assert "Warden itself failed" in sent.subject
    assert "Warden itself failed" in sent.body
    assert "an alarm on Warden itself only notifies" in sent.body
    assert "What to check" in sent.body
