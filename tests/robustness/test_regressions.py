"""Regression tests for the bugs the fuzzer, the duplicate and the fault runs found (one test per fix).

Each is the smallest event that broke Warden before its fix, run through the deployed handler against moto
and the App Runner emulator (where the bug lived in an adapter) or through the in-memory fakes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.invoke import invoke
from tests.robustness.harness import Baselines, FakeBackend, MotoBackend, Observation, problems
from tests.robustness.strategies import Generated, envelope
from warden.domain.notification import Notification, Severity
from warden.domain.redaction import redact

pytestmark = pytest.mark.robustness


@pytest.fixture
def fakes() -> Iterator[FakeBackend]:
    with FakeBackend() as backend:
        yield backend


def on_moto(account: LocalAccount, function: str, *events: Any, **env: str) -> list[Observation]:
    with MotoBackend(account, env) as backend:
        return [backend.run(function, Generated("garbage:regression", event)) for event in events]


def test_a_lone_surrogate_in_a_notification_is_replaced_so_sns_can_take_it() -> None:
    # Given text decoded from a JSON "\ud800" escape (not encodable as UTF-8)
    notification = Notification(subject="x\ud800y", body="a\udfffb", event="e", severity=Severity.INFO)
    # Then subject and body are valid UTF-8, the surrogate shown as "?"
    assert notification.subject.encode("utf-8") == b"x?y"
    assert notification.body.encode("utf-8") == b"a?b"


def test_a_message_with_a_lone_surrogate_is_forwarded_not_crashed_on(account: LocalAccount) -> None:
    # Before the fix: pydantic refused the notification (ValidationError), the invocation failed for good
    (observation,) = on_moto(account, "on_budget_alert", envelope("budget at \ud800 100%", message_id="\udfff-id"))
    assert observation.verdict == "forwarded", observation.describe()
    assert observation.notifications == ["alert.unparsed"]


def test_a_forged_sns_message_id_too_long_for_a_dynamodb_key_is_forwarded_once_then_recognised(
    account: LocalAccount,
) -> None:
    # Given a MessageId of 5,000 characters (DynamoDB keys hold 2,048 bytes): before the fix, a
    # ValidationException that is no RetryableError, so Lambda retried it pointlessly
    event = envelope("not a budget alert", message_id="m" * 5000)
    # When it is delivered twice, Then it is forwarded once and recognised the second time
    outcomes = [invoke("on_budget_alert", event, account.env())["results"][0]["outcome"] for _ in range(2)]
    assert outcomes == ["forwarded", "duplicate"]


def test_an_alarm_name_longer_than_cloudwatch_allows_is_forwarded_and_not_acted_on(account: LocalAccount) -> None:
    # Given an ALARM whose name (300 characters) CloudWatch could not have sent, with every alarm set to pause;
    # before the fix its claim's key overflowed DynamoDB's sort key and the invocation failed for good
    event = alarm_event("sns-5xx-rate-alarm", service_arn=account.service_arn, alarm_name="a" * 300)
    (observation,) = on_moto(account, "on_alarm", event, ALARM_ACTIONS="*=pause")
    assert observation.verdict == "forwarded", observation.describe()
    assert observation.notifications == ["alert.unparsed"]
    assert observation.effects == []


def test_an_alarm_whose_metric_name_is_not_a_string_is_forwarded(fakes: FakeBackend) -> None:
    # Before the fix: pydantic's ValidationError from the metric query escaped the handler
    event = alarm_event("sns-5xx-rate-alarm")
    message = event["Records"][0]["Sns"]["Message"].replace('"MetricName": "Requests"', '"MetricName": []')
    event["Records"][0]["Sns"]["Message"] = message.replace('"MetricName":"Requests"', '"MetricName":[]')
    observation = fakes.run("on_alarm", Generated("fixture:sns-5xx-rate-alarm:regression", event))
    assert observation.verdict == "forwarded", observation.describe()
    assert observation.notifications == ["alert.unparsed"]
    assert problems(observation, Baselines(fakes.run)) == []


def test_a_purge_of_a_missing_repository_counts_its_notification(account: LocalAccount) -> None:
    # Before the fix the "repository not found" notification went out without the NotificationsSent metric
    (observation,) = on_moto(account, "purge_images", {"job": "purge-images"}, ECR_REPOSITORY="no-such-repository")
    assert observation.notifications == ["images.unavailable"]
    assert "NotificationsSent" in observation.metrics


def test_a_duplicate_alarm_delivery_is_logged_with_its_ignored_because_reason(fakes: FakeBackend) -> None:
    # The on_alarm duplicate's log line now carries the same "ignored, because ..." reason as its result
    event = alarm_event("sns-5xx-rate-alarm")
    fakes.run("on_alarm", Generated("fixture:sns-5xx-rate-alarm:first", event))
    again = fakes.run("on_alarm", Generated("fixture:sns-5xx-rate-alarm:again", event), fresh=False)
    assert again.verdict == "ignored", again.describe()
    assert any(reason.startswith("ignored, because this state change") for reason in again.reasons)
    assert again.metrics == ["DuplicateEvents"]


def test_redacting_a_long_hostile_message_takes_linear_time() -> None:
    # Given 60 KB of dotted words: redact() was quadratic on them (a 256 KB message would have taken hours, so
    # Lambda would time out, retry and dead-letter it); fixed in domain/redaction.py by its owner
    text = "a." * 30_000
    # When it is redacted, Then it takes milliseconds, as 60 KB of ordinary text does
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 0.5
