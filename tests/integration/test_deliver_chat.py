"""The real deliver_chat handler against moto (SNS, SQS, DynamoDB, Secrets Manager) and a local webhook: a
notification Warden e-mailed reaches the chat topic as Amazon Q's custom notification, and the webhook in its
tool's format, once each; the webhook's URL is read from its secret and never logged."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.account import LocalAccount
from local.invoke import invoke
from tests.events import budget_message, sns_event
from tests.integration.chat_server import ChatServer, chat_server
from warden.usecases.chat_delivery import ChatDeliveryFailed

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server() as running:
        yield running


def chat_inbox(account: LocalAccount) -> tuple[str, str]:
    """A chat topic with a queue subscribed (standing in for Amazon Q's channel): (topic ARN, queue URL)."""
    suffix = uuid.uuid4().hex[:6]
    sns, sqs = account.client("sns"), account.client("sqs")
    topic = sns.create_topic(Name=f"warden-chat-{suffix}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"chat-channel-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def drain(account: LocalAccount, queue: str) -> list[dict[str, Any]]:
    sqs = account.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def webhook_secret(account: LocalAccount, url: str, kind: str) -> str:
    secrets = account.client("secretsmanager")
    created = secrets.create_secret(
        Name=f"warden/chat-{uuid.uuid4().hex[:6]}", SecretString=json.dumps({"url": url, "kind": kind})
    )
    arn: str = created["ARN"]
    return arn


def paused_notification(account: LocalAccount) -> dict[str, Any]:
    """The budget pause Warden e-mails, taken from the operator's inbox, as the notify topic delivers it to Lambda."""
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    breach = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    invoke("on_budget_alert", sns_event(breach, topic_arn=account.budget_topic_arn), account.env())
    (received,) = account.inbox()
    event = sns_event(received.body, subject=received.subject, topic_arn=account.notify_topic_arn)
    event["Records"][0]["Sns"]["MessageAttributes"] = {
        name: {"Type": "String", "Value": value} for name, value in received.attributes.items()
    }
    return event


def test_the_emailed_pause_reaches_the_chat_topic_once_as_an_amazon_q_custom_notification(
    account: LocalAccount,
) -> None:
    # Given the pause notification Warden e-mailed, and a chat topic
    topic, queue = chat_inbox(account)
    event = paused_notification(account)
    env = {**account.env(), "CHAT_TOPIC_ARN": topic}
    # When deliver_chat gets it, twice (SNS delivers at least once)
    first = invoke("deliver_chat", event, env)["deliveries"]
    second = invoke("deliver_chat", event, env)["deliveries"]
    # Then the chat topic got one custom notification, with the e-mail's event and severity to filter on
    assert [d["outcome"] for d in first + second] == ["sent", "duplicate"]
    (envelope,) = drain(account, queue)
    notification = json.loads(envelope["Message"])
    assert (notification["version"], notification["source"]) == ("1.0", "custom")
    assert notification["content"]["title"] == "🔴 [warden] PAUSED consultation-app: spend $10.42 of $10.00"
    undo = '`warden resume --override budget --reason "&lt;why&gt;" --service consultation-app`'
    assert undo in notification["content"]["nextSteps"]
    assert notification["metadata"]["additionalContext"] == {"event": "budget.paused", "severity": "critical"}
    attributes = {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}
    assert attributes == {"event": "budget.paused", "severity": "critical"}


def test_the_webhook_named_by_the_secret_gets_its_tools_payload_and_the_url_is_never_logged(
    account: LocalAccount, server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Discord webhook whose URL is held by a secret in Secrets Manager
    url = server.url("api/webhooks/1/discordTOKENdiscord")
    env = {**account.env(), "CHAT_WEBHOOK_SECRET_ARN": webhook_secret(account, url, "discord")}
    event = paused_notification(account)
    capsys.readouterr()
    # When deliver_chat gets the notification
    (delivery,) = invoke("deliver_chat", event, env)["deliveries"]
    # Then the webhook received one Discord embed that can mention no one, and no log line holds the URL
    assert delivery["outcome"] == "sent"
    (received,) = server.received
    (embed,) = received.body["embeds"]
    assert embed["title"] == "🔴 [warden] PAUSED consultation-app: spend $10.42 of $10.00"
    assert received.body["allowed_mentions"] == {"parse": []}
    output = capsys.readouterr()
    assert "discordTOKENdiscord" not in output.out + output.err


def test_a_refused_webhook_leaves_amazon_q_delivered_fails_the_invocation_and_only_it_is_sent_again(
    account: LocalAccount, server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given both paths, and a Slack webhook that refuses the first post (400: not retried by the adapter)
    topic, queue = chat_inbox(account)
    url = server.url("services/T0/B0/slackTOKENslack")
    env = {**account.env(), "CHAT_TOPIC_ARN": topic, "CHAT_WEBHOOK_SECRET_ARN": webhook_secret(account, url, "slack")}
    server.script = [(400, {})]
    event = paused_notification(account)
    capsys.readouterr()
    # When deliver_chat gets the notification / Then the invocation fails, saying the webhook failed, not its URL
    with pytest.raises(ChatDeliveryFailed, match="slack webhook post failed") as failed:
        invoke("deliver_chat", event, env)
    assert "slackTOKENslack" not in str(failed.value)
    assert "slackTOKENslack" not in "".join(capsys.readouterr())
    # And Amazon Q got its message all the same (e-mail, a separate subscription, never depended on this)
    assert len(drain(account, queue)) == 1
    # When Lambda retries the event / Then only the webhook is sent, and Amazon Q gets no second message
    deliveries = invoke("deliver_chat", event, env)["deliveries"]
    assert [(d["path"], d["outcome"]) for d in deliveries] == [("amazon-q", "duplicate"), ("webhook", "sent")]
    assert drain(account, queue) == []
    assert len(server.received) == 2
