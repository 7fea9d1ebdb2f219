"""The chat formatter: every notification kind, through every tool's formatter, within each tool's documented
limits; markup and mentions in what Warden quotes stay inert; the undo commands stay exact code spans."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FakeService
from tests.unit import notification_corpus as corpus
from warden.domain import chat
from warden.domain.chat import (
    ChatMessage,
    ChatTool,
    Dialect,
    ParsedBody,
    Section,
    WebhookSecretInvalid,
    chat_message,
    discord_payload,
    inert,
    parse_body,
    parse_webhook_secret,
    q_notification,
    slack_payload,
    teams_payload,
)
from warden.domain.notification import Notification, Severity, render
from warden.usecases.undo import undo_pause_lines

# What the tools document (AWS-FACTS §9.1, §9.3), written here as the numbers the payloads must respect.
SLACK_SECTION, SLACK_BLOCKS = 3_000, 50
DISCORD_TITLE, DISCORD_DESCRIPTION, DISCORD_FOOTER, DISCORD_EMBEDS_TOTAL = 256, 4_096, 2_048, 6_000
TEAMS_MESSAGE_BYTES = 28_000
SNS_MESSAGE_BYTES = 262_144
# Amazon Q's own limits are undocumented (§9.1): the formatter promises these, the tightest surface it renders into.
Q_TITLE, Q_DESCRIPTION, Q_STEPS, Q_STEP, Q_KEYWORDS, Q_KEYWORD = 250, 3_000, 10, 500, 5, 50


@cache
def notifications(kind: str) -> tuple[Notification, ...]:
    return tuple(corpus.PRODUCERS[kind]())


def message_of(notification: Notification, known: tuple[str, ...] = ()) -> ChatMessage:
    return chat_message(
        notification.subject,
        notification.body,
        event=notification.event,
        severity=notification.severity,
        service_name="consultation-app",
        known_secrets=known,
    )


# --- the validators: each tool's documented shape and limits ----------------------------------------


def q_problems(payload: dict[str, Any], notification: Notification) -> list[str]:
    problems: list[str] = []
    content, metadata = payload.get("content", {}), payload.get("metadata", {})
    if payload.get("version") != "1.0" or payload.get("source") != "custom":
        problems.append("version must be 1.0 and source custom")
    if content.get("textType") != "client-markdown":
        problems.append("textType must be client-markdown")
    title, description = content.get("title"), content.get("description")
    if not isinstance(title, str) or not 0 < len(title) <= Q_TITLE:
        problems.append(f"title of {len(title or '')} characters")
    if not isinstance(description, str) or len(description) > Q_DESCRIPTION:
        problems.append(f"description of {len(description or '')} characters")
    steps = content.get("nextSteps", [])
    if len(steps) > Q_STEPS or any(not isinstance(step, str) or len(step) > Q_STEP for step in steps):
        problems.append("nextSteps beyond the limits")
    keywords = content.get("keywords", [])
    if len(keywords) > Q_KEYWORDS or any(not isinstance(word, str) or len(word) > Q_KEYWORD for word in keywords):
        problems.append("keywords beyond the limits")
    context = metadata.get("additionalContext", {})
    if context != {"event": notification.event, "severity": notification.severity.value}:
        problems.append(f"metadata.additionalContext is {context}")
    if len(json.dumps(payload).encode()) > SNS_MESSAGE_BYTES:
        problems.append("larger than an SNS message")
    return problems


def slack_problems(payload: dict[str, Any]) -> list[str]:
    blocks = payload["blocks"]
    problems = [] if 0 < len(blocks) <= SLACK_BLOCKS else [f"{len(blocks)} blocks"]
    texts = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    texts += [element["text"] for block in blocks if block["type"] == "context" for element in block["elements"]]
    problems += [f"a text of {len(text)} characters" for text in texts if len(text) > SLACK_SECTION]
    if not payload["text"] or len(payload["text"]) > SLACK_SECTION:
        problems.append("no fallback text, or too long")
    return problems


def discord_problems(payload: dict[str, Any]) -> list[str]:
    (embed,) = payload["embeds"]
    problems = [] if payload["allowed_mentions"] == {"parse": []} else ["mentions allowed"]
    title, description, footer = embed["title"], embed["description"], embed["footer"]["text"]
    if not 0 < len(title) <= DISCORD_TITLE or len(description) > DISCORD_DESCRIPTION or len(footer) > DISCORD_FOOTER:
        problems.append("an embed field beyond its limit")
    if len(title) + len(description) + len(footer) > DISCORD_EMBEDS_TOTAL:
        problems.append("embeds beyond 6,000 characters")
    return problems


def teams_problems(payload: dict[str, Any]) -> list[str]:
    (attachment,) = payload["attachments"]
    card = attachment["content"]
    problems = [] if payload["type"] == "message" else ["not a message"]
    if attachment["contentType"] != "application/vnd.microsoft.card.adaptive" or card["type"] != "AdaptiveCard":
        problems.append("not an Adaptive Card attachment")
    if not card["body"] or any(block["type"] != "TextBlock" or not block["wrap"] for block in card["body"]):
        problems.append("a body element that is not a wrapping TextBlock")
    # Measured as the webhook adapter sends it (UTF-8, not \u-escaped: an escaped astral character is 12 bytes).
    if len(json.dumps(payload, ensure_ascii=False).encode("utf-8")) > TEAMS_MESSAGE_BYTES:
        problems.append("larger than Teams accepts")
    return problems


def all_problems(notification: Notification, message: ChatMessage) -> list[str]:
    return [
        *(f"Q: {p}" for p in q_problems(q_notification(message, message_id="m-1"), notification)),
        *(f"Slack: {p}" for p in slack_problems(slack_payload(message))),
        *(f"Discord: {p}" for p in discord_problems(discord_payload(message))),
        *(f"Teams: {p}" for p in teams_problems(teams_payload(message))),
    ]


# --- every kind of notification, as the use cases write them ------------------------------------------


@pytest.mark.parametrize("kind", sorted(corpus.PRODUCERS))
def test_every_notification_kind_fits_every_tool_within_its_documented_limits(kind: str) -> None:
    # Given the notifications a use case publishes
    sent = notifications(kind)
    assert sent, f"the {kind} producer published nothing"
    for notification in sent:
        # When each goes through the chat formatter / Then every tool's payload is valid and within its limits
        message = message_of(notification)
        assert all_problems(notification, message) == [], notification.subject
        # And what Warden wrote with render() is read into parts; only forwarded messages go verbatim
        assert (message.verbatim is not None) is (notification.event == "alert.unparsed"), notification.subject


def test_the_corpus_covers_the_notification_kinds_operators_filter_on() -> None:
    events = {notification.event for kind in corpus.PRODUCERS for notification in notifications(kind)}
    assert {
        "budget.warning",
        "budget.paused",
        "budget.forecast",
        "alarm.fired",
        "alarm.paused",
        "alarm.recovered",
        "keys.audit",
        "alert.unparsed",
        "manual.paused",
        "manual.resumed",
        "deployment.failed",
        "deployment.succeeded",
    } <= events


def test_the_undo_commands_of_a_pause_are_next_steps_as_exact_code_spans() -> None:
    # Given the budget pause notification and the commands its undo section holds (App Runner)
    (paused,) = (n for n in notifications("budget") if n.event == "budget.paused" and "apprunner" in n.body)
    settings_ = corpus.settings()
    commands = [
        line.strip()
        for line in undo_pause_lines(FakeService(arn=settings_.service.arn), settings_, _budget_reason(), "budget")
        if _is_command(line)
    ]
    assert commands
    message = message_of(paused)
    # When it is formatted for each tool
    q_steps = q_notification(message)["content"]["nextSteps"]
    slack_text = "\n".join(block["text"]["text"] for block in slack_payload(message)["blocks"] if "text" in block)
    discord_text = discord_payload(message)["embeds"][0]["description"]
    teams_blocks = teams_payload(message)["attachments"][0]["content"]["body"]
    # Then each command is one code span holding it exactly (Slack with its three entities), and in Teams a
    # monospace line of its own
    for command in commands:
        slack_span = "`" + command.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "`"
        assert slack_span in q_steps
        assert slack_span in slack_text
        assert "`" + command + "`" in discord_text
        assert {"type": "TextBlock", "text": command, "wrap": True, "fontType": "Monospace"} in teams_blocks


def test_an_alarm_named_with_markup_and_mentions_reaches_chat_inert() -> None:
    # Given an alarm whose name holds bold, italics, strike, a code span, Slack mentions, a link and a heading
    (notification,) = notifications("hostile-alarm")
    assert corpus.HOSTILE_ALARM in notification.body
    message = message_of(notification)
    payloads = {
        "q": q_notification(message),
        "slack": slack_payload(message),
        "discord": discord_payload(message),
        "teams": teams_payload(message),
    }
    for tool, payload in payloads.items():
        text = json.dumps(payload, ensure_ascii=False)
        # Then no mention, link or emphasis of the name survives in any tool's payload
        for live in ("<!here>", "<@U12345>", "@channel", "[click](", "*cpu*", "_high_", "~x~", "| #1"):
            assert live not in text, f"{tool}: {live!r} is live"
    # And Discord may not ping anyone whatever the text says
    assert payloads["discord"]["allowed_mentions"] == {"parse": []}


def test_a_forwarded_message_goes_verbatim_in_a_code_block_cut_to_the_limit_with_a_note() -> None:
    # Given a forwarded message of 5,000 characters
    (forwarded,) = notifications("forwarded")
    message = message_of(forwarded)
    # When it is formatted for Amazon Q
    description = q_notification(message)["content"]["description"]
    # Then it is shown verbatim in a code block, cut to 3,000 characters with a note saying the e-mail has it all
    assert description.count("```") == 2
    assert "*not* a budget alert &lt;!here&gt; ˋˋˋ" in description
    assert len(description) <= Q_DESCRIPTION
    assert description.endswith(inert("… " + chat.CUT_NOTE, Dialect.SLACK))


def test_a_secret_in_the_body_is_masked_on_every_path_like_the_email() -> None:
    # Given a notification quoting a Stripe key and a value this environment holds as a secret
    body = render([("Evidence", ["key sk_live_abcdefghijklmnop", "env value s3cr3t-value-123"])], headline="h")
    notification = Notification(subject="[warden] test", body=body, event="alarm.fired", severity=Severity.WARNING)
    message = message_of(notification, known=("s3cr3t-value-123",))
    # When it is formatted for every tool / Then neither value appears anywhere
    for payload in (q_notification(message), slack_payload(message), discord_payload(message), teams_payload(message)):
        text = json.dumps(payload)
        assert "sk_live_abcdefghijklmnop" not in text
        assert "s3cr3t-value-123" not in text


# --- reading a body back: render's format exactly ------------------------------------------------------

_LINE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=40)
_TITLE = _LINE.filter(lambda title: title != "" and not title[0].isspace())
_HEADLINE = st.lists(_LINE.filter(bool), min_size=1, max_size=3).map("\n".join)
_SECTIONS = st.lists(st.tuples(_TITLE, st.lists(_LINE, max_size=5)), max_size=5)


@settings(max_examples=300)
@given(headline=_HEADLINE, sections=_SECTIONS)
def test_render_then_parse_gives_back_the_headline_and_every_section_render_kept(
    headline: str, sections: list[tuple[str, list[str]]]
) -> None:
    # Given a body written by render() / When it is parsed
    parsed = parse_body(render(sections, headline=headline))
    # Then the headline and each section come back, as render kept them (no empty line, no empty section)
    kept = tuple(Section(title, tuple(line for line in lines if line)) for title, lines in sections)
    assert parsed == ParsedBody(headline, tuple(section for section in kept if section.lines))


@pytest.mark.parametrize(
    "body",
    [
        "headline\n\nTitle\n  line\n\n----- original message -----\nraw\n----- end of original message -----\n",
        "headline\n\nTitle\n  line\n\n[warden] message truncated: the original was 300,000 bytes.",
        "headline\n\nTitle\nnot indented\n",
        "headline\n\nTitle only\n",
        "",
    ],
    ids=["forwarded", "truncated", "unindented", "title-only", "empty"],
)
def test_a_body_render_did_not_write_is_not_read_into_parts(body: str) -> None:
    assert parse_body(body) is None


# --- inert text, whatever it holds -----------------------------------------------------------------------

_ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


def live_markup(text: str, dialect: Dialect) -> list[str]:
    """What in `text` could still format, link, mention or open a code span in `dialect`."""
    found = [char for char in "`*~|" if char in text]
    if dialect is Dialect.SLACK:
        found += ["<" for char in text if char == "<"] + [">" for char in text if char == ">"]
        found += ["&" for _ in re.finditer(r"&(?!amp;|lt;|gt;)", text)]
    else:
        found += [char for char in "<>" if char in text]
    if dialect is Dialect.MARKDOWN and re.search(r"(?<!\\)(?:\\\\)*\\(?!\\)", text):
        found.append("a lone backslash")
    found += ["@mention" for _ in re.finditer(r"@\w", text)]
    found += ["link" for _ in re.finditer(r"\]\(", text)]
    found += ["edge _" for _ in re.finditer(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", text)]
    found += ["heading" for _ in re.finditer(r"^\s*#", text, re.MULTILINE)]
    return found


@settings(max_examples=300)
@given(text=_ANY, dialect=st.sampled_from(list(Dialect)))
def test_inert_text_holds_no_live_markup_in_its_dialect(text: str, dialect: Dialect) -> None:
    assert live_markup(inert(text, dialect), dialect) == []


@settings(max_examples=150, deadline=None)
@given(subject=_ANY, lines=st.lists(_ANY, max_size=30), steps=st.lists(_ANY, max_size=15))
def test_any_subject_and_body_fit_every_tool(subject: str, lines: list[str], steps: list[str]) -> None:
    # Given any subject, and a body of long or hostile lines and undo steps (render's format)
    body = render([("Evidence", [line * 20 for line in lines]), ("How to undo", steps)], headline="h" * 3_000)
    notification = Notification(subject=subject, body=body, event="alarm.fired", severity=Severity.CRITICAL)
    message = chat_message(
        subject * 50, body, event="alarm.fired", severity=Severity.CRITICAL, service_name="consultation-app"
    )
    # When it is formatted / Then every payload stays within its tool's limits
    assert all_problems(notification, message) == []


# --- the webhook secret --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "tool"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc", ChatTool.SLACK),
        ("https://discord.com/api/webhooks/1/abc", ChatTool.DISCORD),
        ("https://prod-01.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=a", ChatTool.TEAMS),
        ("https://x.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/1", ChatTool.TEAMS),
        ('{"url": "https://chat.example.com/hook", "kind": "Discord"}', ChatTool.DISCORD),
        ('{"url": "http://127.0.0.1:8080/hook", "kind": "slack"}', ChatTool.SLACK),
    ],
)
def test_the_webhook_secret_names_its_tool(secret: str, tool: ChatTool) -> None:
    assert parse_webhook_secret(secret).tool is tool


@pytest.mark.parametrize(
    "secret",
    [
        "http://hooks.slack.com/services/T0/B0/TOKEN123",  # no TLS across the network
        "https://chat.example.com/TOKEN123",  # unknown host and no kind
        '{"url": "https://hooks.slack.com/services/T0/B0/TOKEN123", "kind": "irc"}',
        '{"kind": "slack"}',
        "{not json TOKEN123",
        "TOKEN123",
    ],
)
def test_an_unusable_webhook_secret_is_refused_without_quoting_it(secret: str) -> None:
    with pytest.raises(WebhookSecretInvalid) as refused:
        parse_webhook_secret(secret)
    assert "TOKEN123" not in str(refused.value)


def _budget_reason() -> Any:
    from warden.domain.claims import ClaimReason

    return ClaimReason.BUDGET


def _is_command(line: str) -> bool:
    return line.strip().startswith(("warden ", "aws "))
