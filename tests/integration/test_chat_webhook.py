"""The webhook adapter against a real local HTTP server: Slack, Teams and Discord payloads as they arrive, throttling
answered after Retry-After, server errors retried then reported, and the URL (the credential) in no error or log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.chat_server import ChatServer, chat_server
from warden.adapters.webhook import WebhookPoster
from warden.domain.chat import ChatTool, WebhookFailed, WebhookTarget, chat_message, parse_webhook_secret, tool_payload
from warden.domain.notification import Severity, render

pytestmark = pytest.mark.integration

TOKEN = "T0SECRET/B0SECRET/xyzTOKENxyz"  # the part of a webhook URL that is its credential


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server() as running:
        yield running


@dataclass
class StaticSource:
    target_: WebhookTarget
    forgotten: int = 0

    def target(self) -> WebhookTarget:
        return self.target_

    def forget(self) -> None:
        self.forgotten += 1


def poster(url: str, tool: ChatTool, sleeps: list[float]) -> tuple[WebhookPoster, StaticSource]:
    source = StaticSource(parse_webhook_secret(json.dumps({"url": url, "kind": tool.value})))
    return WebhookPoster(source, sleep=sleeps.append, timeout_seconds=5), source


def paused_message() -> Any:
    body = render(
        [
            ("Evidence", ["alarm *cpu* <!here> spend $10.42 of $10.00"]),
            ("How to undo", ['warden resume --override budget --reason "<why>"']),
        ],
        headline="consultation-app is paused.",
    )
    return chat_message(
        "[warden] PAUSED consultation-app", body, event="budget.paused", severity=Severity.CRITICAL, service_name="app"
    )


@pytest.mark.parametrize("tool", list(ChatTool))
def test_each_tool_receives_its_own_payload_as_json(server: ChatServer, tool: ChatTool) -> None:
    # Given a webhook of the tool on a local server
    sleeps: list[float] = []
    webhook, _ = poster(server.url(f"{tool.value}/{TOKEN}"), tool, sleeps)
    payload = tool_payload(paused_message(), tool)
    # When the chat message is posted
    status = webhook.post(payload)
    # Then the server received exactly the tool's payload, once, as UTF-8 JSON, without a retry
    assert status == 200
    (received,) = server.received
    assert received.body == payload
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert sleeps == []
    if tool is ChatTool.SLACK:
        assert [block["type"] for block in received.body["blocks"]] == ["section", "section", "section", "context"]
    elif tool is ChatTool.DISCORD:
        assert received.body["allowed_mentions"] == {"parse": []}
    else:
        assert received.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_a_throttled_post_is_sent_again_after_the_retry_after_the_tool_asked_for(server: ChatServer) -> None:
    # Given a webhook that answers 429 with Retry-After: 7, then 200
    server.script = [(429, {"Retry-After": "7"})]
    sleeps: list[float] = []
    webhook, _ = poster(server.url(f"slack/{TOKEN}"), ChatTool.SLACK, sleeps)
    # When a message is posted / Then it arrived on the second attempt, after the 7 s asked for
    assert webhook.post({"text": "hello"}) == 200
    assert len(server.received) == 2
    assert sleeps == [7.0]


def test_a_wait_longer_than_allowed_is_left_to_lambdas_retry_of_the_event(server: ChatServer) -> None:
    server.script = [(429, {"Retry-After": "120"})]
    sleeps: list[float] = []
    webhook, _ = poster(server.url(f"discord/{TOKEN}"), ChatTool.DISCORD, sleeps)
    with pytest.raises(WebhookFailed, match=r"HTTP 429.*asked to wait 120 s"):
        webhook.post({"content": "hello"})
    assert (len(server.received), sleeps) == (1, [])


def test_a_server_error_forever_fails_after_the_retries_without_the_url_anywhere(
    server: ChatServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a webhook that always answers 500 (and echoes the URL's path in its answer)
    server.script = [(500, {})] * 10
    sleeps: list[float] = []
    url = server.url(f"teams/{TOKEN}")
    webhook, _ = poster(url, ChatTool.TEAMS, sleeps)
    caplog.set_level(logging.DEBUG)
    # When a message is posted
    with pytest.raises(WebhookFailed) as failed:
        webhook.post({"type": "message", "attachments": []})
    # Then it was tried three times with a growing pause, and the error says what happened
    assert len(server.received) == 3
    assert sleeps == [1.0, 2.0]
    assert "teams webhook post failed after 3 attempt(s): HTTP 500" in str(failed.value)
    # And neither the URL nor its token is in the error, its chain, or any log line or output
    captured = capsys.readouterr()
    texts = [str(failed.value), repr(failed.value), caplog.text, captured.out, captured.err]
    assert failed.value.__cause__ is None
    assert failed.value.__context__ is None
    for text in texts:
        assert "xyzTOKENxyz" not in text
        assert url not in text


def test_a_redirect_is_not_followed(server: ChatServer) -> None:
    # Given a webhook answering with a redirect elsewhere
    server.script = [(302, {"Location": "http://127.0.0.1:9/elsewhere"})]
    webhook, _ = poster(server.url(f"slack/{TOKEN}"), ChatTool.SLACK, [])
    # When a message is posted / Then the redirect is reported, not followed, and not retried
    with pytest.raises(WebhookFailed, match="HTTP 302"):
        webhook.post({"text": "hello"})
    assert len(server.received) == 1


def test_a_url_that_is_gone_makes_the_secret_be_read_again(server: ChatServer) -> None:
    # Given a webhook URL that answers 404 once (a rotated or deleted webhook), then 200
    server.script = [(404, {})]
    webhook, source = poster(server.url(f"slack/{TOKEN}"), ChatTool.SLACK, [])
    # When a message is posted / Then the cached URL was forgotten before the next attempt, which arrived
    assert webhook.post({"text": "hello"}) == 200
    assert source.forgotten == 1
    assert len(server.received) == 2


def test_nothing_listening_is_a_network_error_without_the_url(server: ChatServer) -> None:
    url = f"http://127.0.0.1:9/slack/{TOKEN}"  # the discard port: nothing answers there
    sleeps: list[float] = []
    webhook, _ = poster(url, ChatTool.SLACK, sleeps)
    with pytest.raises(WebhookFailed, match="network error") as failed:
        webhook.post({"text": "hello"})
    assert sleeps == [1.0, 2.0]
    assert "xyzTOKENxyz" not in str(failed.value)
