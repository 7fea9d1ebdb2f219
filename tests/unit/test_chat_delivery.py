"""deliver_chat's use case with in-memory fakes: one chat message per notification and path, whatever SNS and
Lambda repeat; a failing path never keeps the message from the other one, and is the only one sent again."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeState
from tests.unit.notification_corpus import settings as corpus_settings
from tests.unit.notification_corpus import sns_record_of
from warden.domain.chat import ChatTool, WebhookFailed
from warden.domain.notification import Notification, Severity, render
from warden.errors import SettingsError
from warden.settings import Settings
from warden.usecases.chat_delivery import (
    ChatDeliveryDeps,
    ChatDeliveryFailed,
    ChatPath,
    Delivery,
    Outcome,
    deliver_event,
)

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
PAUSED = Notification(
    subject="[warden] PAUSED consultation-app: spend $10.42 of $10.00",
    body=render(
        [
            ("Evidence", ["spend $10.42 of $10.00"]),
            ("How to undo", ['warden resume --override budget --reason "<why>"']),
        ],
        headline="consultation-app is paused: the budget is spent.",
    ),
    event="budget.paused",
    severity=Severity.CRITICAL,
)


@dataclass
class FakeChatTopic:
    published: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0

    def publish(self, message: str, *, event: str, severity: str) -> str:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("SNS is down")
        self.published.append(json.loads(message))
        self.attributes.append((event, severity))
        return f"chat-{len(self.published)}"


@dataclass
class FakeWebhook:
    kind: ChatTool = ChatTool.SLACK
    posted: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0

    def tool(self) -> ChatTool:
        return self.kind

    def post(self, payload: dict[str, Any]) -> int:
        if self.failures:
            self.failures -= 1
            raise WebhookFailed("slack webhook post failed after 3 attempt(s): HTTP 500")
        self.posted.append(payload)
        return 200


class World:
    def __init__(self, *, topic: bool = True, webhook: bool = True) -> None:
        self.state = FakeState()
        self.topic = FakeChatTopic()
        self.webhook = FakeWebhook()
        self.deps = ChatDeliveryDeps(
            state=self.state, chat_topic=self.topic if topic else None, webhook=self.webhook if webhook else None
        )
        self.settings = corpus_settings()

    def deliver(self, event: dict[str, Any]) -> list[Delivery]:
        return deliver_event(event, self.deps, self.settings, NOW)


def test_a_notification_goes_to_amazon_q_and_the_webhook_with_its_event_and_severity() -> None:
    # Given both paths / When a notification arrives
    world = World()
    deliveries = world.deliver(sns_record_of(PAUSED))
    # Then Q got the custom notification (with the filterable attributes) and the webhook the tool's payload
    assert [(d.path, d.outcome) for d in deliveries] == [
        (ChatPath.AMAZON_Q, Outcome.SENT),
        (ChatPath.WEBHOOK, Outcome.SENT),
    ]
    (published,) = world.topic.published
    assert (published["version"], published["source"]) == ("1.0", "custom")
    assert world.topic.attributes == [("budget.paused", "critical")]
    (posted,) = world.webhook.posted
    assert posted["blocks"][0]["text"]["type"] == "mrkdwn"


def test_the_same_sns_message_twice_is_one_chat_message_per_path() -> None:
    # Given a notification delivered once
    world = World()
    event = sns_record_of(PAUSED)
    world.deliver(event)
    # When SNS delivers the same message again
    again = world.deliver(event)
    # Then nothing more is sent, and each path says why
    assert [d.outcome for d in again] == [Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert all(d.reason.startswith("ignored, because") for d in again)
    assert (len(world.topic.published), len(world.webhook.posted)) == (1, 1)


def test_a_failing_webhook_does_not_keep_the_message_from_amazon_q_and_only_it_is_retried() -> None:
    # Given a webhook that fails once
    world = World()
    world.webhook.failures = 1
    event = sns_record_of(PAUSED)
    # When the notification arrives / Then Q has it, and the invocation fails naming the webhook, without its URL
    with pytest.raises(ChatDeliveryFailed, match=r"webhook for message .*HTTP 500"):
        world.deliver(event)
    assert len(world.topic.published) == 1
    assert world.webhook.posted == []
    # When Lambda retries the event / Then only the webhook is sent, and Q is not repeated
    retried = world.deliver(event)
    assert [(d.path, d.outcome) for d in retried] == [
        (ChatPath.AMAZON_Q, Outcome.DUPLICATE),
        (ChatPath.WEBHOOK, Outcome.SENT),
    ]
    assert (len(world.topic.published), len(world.webhook.posted)) == (1, 1)


def test_without_a_chat_path_a_notification_is_ignored_with_the_reason() -> None:
    world = World(topic=False, webhook=False)
    (delivery,) = world.deliver(sns_record_of(PAUSED))
    assert delivery.outcome is Outcome.IGNORED
    assert "CHAT_TOPIC_ARN" in delivery.reason


def test_an_event_that_is_not_an_sns_delivery_is_ignored_with_the_reason() -> None:
    (delivery,) = World().deliver({"detail-type": "Scheduled Event"})
    assert delivery.outcome is Outcome.IGNORED
    assert delivery.reason.startswith("ignored, because not an SNS event")


@settings(max_examples=100, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.booleans()),  # (message, Q fails, webhook fails)
        min_size=1,
        max_size=12,
    )
)
def test_whatever_is_repeated_or_fails_each_path_sends_each_notification_at_most_once(
    plan: list[tuple[int, bool, bool]],
) -> None:
    # Given deliveries of four notifications, repeated and with failures of either path, in any order
    world = World()
    events = {n: sns_record_of(PAUSED.model_copy(update={"subject": f"[warden] n{n}"})) for n in range(4)}
    succeeded: dict[str, set[int]] = {"q": set(), "webhook": set()}
    for n, q_fails, webhook_fails in plan:
        world.topic.failures, world.webhook.failures = int(q_fails), int(webhook_fails)
        with contextlib.suppress(ChatDeliveryFailed):
            world.deliver(events[n])
        if not q_fails:
            succeeded["q"].add(n)
        if not webhook_fails:
            succeeded["webhook"].add(n)
    # Then each path sent each notification exactly once if any attempt of it succeeded, and never twice
    q_titles = sorted(message["content"]["title"] for message in world.topic.published)
    posted = sorted(payload["text"] for payload in world.webhook.posted)
    assert len(q_titles) == len(set(q_titles)) == len(succeeded["q"])
    assert len(posted) == len(set(posted)) == len(succeeded["webhook"])


# --- the settings ------------------------------------------------------------------------------------------

BASE = {
    "SERVICE_ARN": "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef",
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/chat-webhook-AbC123"


def test_chat_settings_are_off_by_default_and_empty_means_off() -> None:
    for env in (BASE, {**BASE, "CHAT_TOPIC_ARN": "", "CHAT_WEBHOOK_SECRET_ARN": ""}):
        chosen = Settings.from_env(env)
        assert (chosen.chat_topic_arn, chosen.chat_webhook_secret_arn) == (None, None)


def test_chat_settings_read_a_topic_and_a_complete_secret_arn() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:warden-chat"
    chosen = Settings.from_env({**BASE, "CHAT_TOPIC_ARN": topic, "CHAT_WEBHOOK_SECRET_ARN": SECRET})
    assert (chosen.chat_topic_arn, chosen.chat_webhook_secret_arn) == (topic, SECRET)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHAT_TOPIC_ARN", "warden-chat"),
        ("CHAT_WEBHOOK_SECRET_ARN", SECRET.removesuffix("-AbC123")),  # IAM grants only the complete ARN
        ("CHAT_WEBHOOK_SECRET_ARN", "https://hooks.slack.com/services/T0/B0/x"),  # the URL itself, by mistake
    ],
)
def test_a_malformed_chat_setting_fails_fast_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name) as failure:
        Settings.from_env({**BASE, name: value})
    assert "hooks.slack.com" not in str(failure.value)
