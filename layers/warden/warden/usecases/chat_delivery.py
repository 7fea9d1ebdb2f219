"""`deliver_chat`: every notification Warden e-mails also goes to chat, once per path.

The function is subscribed to the notification topic, next to the e-mail subscription: e-mail never depends on
it. Each SNS record (subject, body, `event` and `severity` attributes) becomes one `ChatMessage`
(domain/chat.py), with the same redaction as the e-mail, and goes to each configured path:
- Amazon Q Developer in chat applications: the custom-notification JSON, published to the chat topic that the
  Slack and Teams channel configurations read (CHAT_TOPIC_ARN);
- a webhook: the tool's own payload (Slack, Teams workflow or Discord), posted to the URL held by the secret
  CHAT_WEBHOOK_SECRET_ARN (read by the adapter, never logged).
SNS delivers at least once and Lambda retries a failed event, so each (path, SNS message id) is handled once
through the state table: a retry sends only what failed, and one notification is one chat message per path.
When a path fails, the other still gets its message, and then the invocation fails (ChatDeliveryFailed), so
that Lambda retries it and the function's Errors alarm and failed-events queue tell the operator by e-mail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from warden.domain.chat import ChatMessage, ChatTool, chat_message, q_notification, tool_payload
from warden.domain.notification import Severity
from warden.domain.records import EventStart
from warden.errors import RetryableError, UnparseableMessage
from warden.models.sns import SnsMessage, excerpt, parse_sns_event
from warden.observability import count, logger
from warden.settings import Settings, StackSettings
from warden.usecases.once import handle_once, handled_at
from warden.usecases.ports import StatePort

ACTOR = "deliver_chat"


class ChatTopicPort(Protocol):
    def publish(self, message: str, *, event: str, severity: str) -> str:
        """Publishes the custom-notification JSON; returns the SNS message id."""
        ...


class WebhookPort(Protocol):
    def tool(self) -> ChatTool:
        """Which tool the webhook belongs to (read from its secret)."""
        ...

    def post(self, payload: dict[str, Any]) -> int:
        """Posts the payload; raises WebhookFailed (never quoting the URL) once its retries are spent."""
        ...


@dataclass(frozen=True)
class ChatDeliveryDeps:
    state: StatePort
    chat_topic: ChatTopicPort | None = None
    webhook: WebhookPort | None = None
    known_secrets: frozenset[str] = frozenset()  # this environment's secret values, masked like the e-mail's


class ChatPath(StrEnum):
    AMAZON_Q = "amazon-q"
    WEBHOOK = "webhook"


class Outcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    IGNORED = "ignored"


class Delivery(BaseModel):
    """What happened to one notification on one path, and why."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    path: ChatPath | None
    outcome: Outcome
    reason: str


class ChatDeliveryFailed(RetryableError):
    """At least one path failed for at least one notification; the others were delivered."""


def deliver_event(event: object, deps: ChatDeliveryDeps, settings: StackSettings, now: datetime) -> list[Delivery]:
    """Delivers every notification of an SNS event to every configured chat path."""
    try:
        messages = parse_sns_event(event)
    except UnparseableMessage as error:
        count("ChatIgnored")
        reason = f"ignored, because {error.reason}"
        logger.warning(reason)
        return [Delivery(message_id="", path=None, outcome=Outcome.IGNORED, reason=reason)]
    deliveries = [delivery for message in messages for delivery in deliver_message(message, deps, settings, now)]
    outcomes = Counter(delivery.outcome.value for delivery in deliveries)
    logger.info("chat delivery finished", extra={"notifications": len(messages), "outcomes": dict(outcomes)})
    failed = [delivery for delivery in deliveries if delivery.outcome is Outcome.FAILED]
    if failed:
        raise ChatDeliveryFailed(
            "; ".join(f"{delivery.path} for message {delivery.message_id}: {delivery.reason}" for delivery in failed)
        )
    return deliveries


def deliver_message(
    message: SnsMessage, deps: ChatDeliveryDeps, settings: StackSettings, now: datetime
) -> list[Delivery]:
    senders = _senders(deps)
    if not senders:
        count("ChatIgnored")
        reason = "ignored, because no chat path is configured (CHAT_TOPIC_ARN and CHAT_WEBHOOK_SECRET_ARN are empty)"
        logger.warning(reason, extra={"message_id": message.message_id})
        return [Delivery(message_id=message.message_id, path=None, outcome=Outcome.IGNORED, reason=reason)]
    chat = chat_message(
        message.subject or "",
        message.message,
        event=message.attributes.get("event") or "notification",
        severity=_severity(message.attributes.get("severity")),
        # A keyword for the chat's search: the one service of a single-service stack (a fleet's messages name theirs).
        service_name=settings.service.name if isinstance(settings, Settings) else "",
        known_secrets=deps.known_secrets,
    )
    return [_deliver_once(message.message_id, path, send, chat, deps.state, now) for path, send in senders]


def _deliver_once(
    message_id: str, path: ChatPath, sender: _Sender, chat: ChatMessage, state: StatePort, now: datetime
) -> Delivery:
    def send() -> Delivery:
        return Delivery(message_id=message_id, path=path, outcome=Outcome.SENT, reason=sender(chat, message_id))

    def repeat(start: EventStart) -> Delivery:
        count("DuplicateEvents")
        reason = f"ignored, because this notification went to {path} at {handled_at(start)}"
        return Delivery(message_id=message_id, path=path, outcome=Outcome.DUPLICATE, reason=reason)

    try:
        delivery = handle_once(state, f"chat#{path}#{message_id}", now, send, repeat)
    except Exception as error:  # one path's failure must not keep the message from the other
        count("ChatDeliveryFailed")
        reason = f"{type(error).__name__}: {excerpt(str(error), 300)}"
        logger.error("chat delivery failed", extra={"path": path.value, "message_id": message_id, "reason": reason})
        return Delivery(message_id=message_id, path=path, outcome=Outcome.FAILED, reason=reason)
    if delivery.outcome is Outcome.SENT:
        count("ChatMessagesSent")
        logger.info("chat message sent", extra={"path": path.value, "message_id": message_id, "event": chat.event})
    return delivery


_Sender = Callable[[ChatMessage, str], str]  # (message, SNS message id) -> what was done, in words


def _senders(deps: ChatDeliveryDeps) -> list[tuple[ChatPath, _Sender]]:
    senders: list[tuple[ChatPath, _Sender]] = []
    if deps.chat_topic is not None:
        senders.append((ChatPath.AMAZON_Q, partial(_to_amazon_q, deps.chat_topic)))
    if deps.webhook is not None:
        senders.append((ChatPath.WEBHOOK, partial(_to_webhook, deps.webhook)))
    return senders


def _to_amazon_q(topic: ChatTopicPort, chat: ChatMessage, message_id: str) -> str:
    body = json.dumps(q_notification(chat, message_id=message_id), ensure_ascii=False)
    published = topic.publish(body, event=chat.event, severity=chat.severity.value)
    return f"published to the chat topic as SNS message {published}"


def _to_webhook(webhook: WebhookPort, chat: ChatMessage, message_id: str) -> str:
    tool = webhook.tool()
    status = webhook.post(tool_payload(chat, tool))
    return f"posted to the {tool.value} webhook (HTTP {status})"


def _severity(raw: str | None) -> Severity:
    try:
        return Severity((raw or "").lower())
    except ValueError:
        return Severity.INFO
