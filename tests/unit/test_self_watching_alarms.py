"""Warden's alarms on itself (its functions' Lambda Errors, its failed-events queue) read as Warden failing.

Their words ("Warden itself failed: 3 errors in its function ...", and where to look) are approved in
tests/golden/texts/alarm.self.*.txt and alarm.metrics.txt; here, how they are recognised and what Warden does."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.alarm_events import alarm_event
from tests.events import load_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.domain.alarms import SELF_WATCHING, Fired, MetricKind, Notified, classify, is_self_watching
from warden.domain.service import ServiceStatus
from warden.messages import alarm as words
from warden.messages.alarm import runbook
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


@pytest.mark.parametrize(
    ("fixture", "kind", "dimension", "resource"),
    [
        ("sns-self-errors-alarm", MetricKind.WARDEN_ERRORS, "FunctionName", FUNCTION),
        ("sns-self-failed-events-alarm", MetricKind.WARDEN_FAILED_EVENTS, "QueueName", QUEUE),
    ],
)
def test_the_stacks_own_alarms_are_warden_failing_with_the_function_or_the_queue(
    fixture: str, kind: MetricKind, dimension: str, resource: str
) -> None:
    # Given the <stack>-self-errors-on-budget-alert alarm (AWS/Lambda Errors) or the failed-events queue's alarm
    alarm = change(fixture)
    # When it is classified / Then it is Warden's own failure, of the function or queue the alarm names
    assert classify(alarm) is kind
    assert kind in SELF_WATCHING
    assert alarm.metric is not None
    assert alarm.metric.dimensions[dimension] == resource
    # And there is somewhere to look first
    assert runbook(kind)


def test_the_same_metrics_on_alarms_that_are_not_wardens_own_are_not_warden_failing() -> None:
    # Given alarms on another Lambda function's Errors and another queue's depth, routed to the alarm topic
    other_errors = change("sns-self-errors-alarm", AlarmName="billing-api-errors")
    other_queue = change("sns-self-failed-events-alarm", AlarmName="orders-backlog")
    # Then the metric is known plainly, and neither is Warden failing
    assert classify(other_errors) is MetricKind.LAMBDA_ERRORS
    assert classify(other_queue) is MetricKind.QUEUE_DEPTH
    assert runbook(MetricKind.LAMBDA_ERRORS)
    assert runbook(MetricKind.QUEUE_DEPTH)
    assert not SELF_WATCHING & {classify(other_errors), classify(other_queue)}
    # And their words never say it did
    for other in (other_errors, other_queue):
        found = words.describe(other, None)
        assert "Warden" not in found.sentence + found.subject


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
    told = result.told
    assert isinstance(told, Fired)
    assert told.alarm.self_watching
    assert told.did == Notified(permission=None)
    (sent,) = notifier.sent
    assert sent == words.notification(told, service.facts)
