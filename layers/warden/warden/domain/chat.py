"""Chat delivery: a notification read back into its parts, and the message each chat tool takes.

A notification's body is what `notification.render` wrote: a headline, then titled sections of lines indented by
two spaces. `parse_body` reads exactly that format back (and returns None for anything else, such as a forwarded
message, which then goes to chat verbatim in a code block). `chat_message` turns the parts into a `ChatMessage`:
the "How to undo" lines become next steps, a command line (`warden ...`, `aws ...`) and text between backticks
become code spans, everything else is text that must not format, link or mention anything.

Each tool has its own markup and limits, so each has its own formatter:
- Amazon Q Developer in chat applications: the custom-notification JSON (AWS-FACTS §9.1). Its text is rendered in
  the chat client's own markup, Slack's mrkdwn for Slack, so it is written in the Slack dialect. Its field limits
  are not documented in text we could read; the limits below are the tightest surface it renders into (a Slack
  section's 3,000 characters), so a message that fits them is never cut by Slack either.
- Slack incoming webhook: Block Kit sections of at most 3,000 characters, at most 50 blocks (§9.3).
- Microsoft Teams workflow webhook: a message with one Adaptive Card (TextBlocks, which have no inline code).
- Discord webhook: one embed (title 256, description 4,096, footer 2,048, 6,000 in all), mentions off (§9.3).

Text is made inert by dialect. Slack: `&`, `<` and `>` become entities (so `<!here>` is text), and the
characters that format (`*`, `~`, `` ` ``, `|`, `_` at a word's edge) become look-alikes, because mrkdwn has no
escape character. Markdown tools (Discord, Teams): the same look-alikes, `<` and `>` too, and `\\` doubled.
Everywhere: `[text](url)` cannot form a link, `@name` cannot mention, a line cannot start a heading.
Code spans keep their text exactly (Slack still needs its three entities there), so a command can be copied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from ipaddress import ip_address
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from warden.domain.notification import Severity, utf8_safe
from warden.domain.redaction import redact
from warden.errors import WardenError

INDENT: Final = "  "
UNDO_TITLE: Final = "How to undo"
CUT_NOTE: Final = "(cut to fit the chat message: the e-mail has all of it)"
VERBATIM_NOTE: Final = "Warden could not read this message into parts; it follows as it was sent."
_COMMAND: Final = re.compile(r"^(?:warden|aws) \S")
# Two spaces inside a line (not its indentation) align columns: such a section is a table, shown monospaced.
_ALIGNED: Final = re.compile(r"\S {2,}\S")
_MARKER: Final = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}


# --- the Amazon Q custom notification (AWS-FACTS §9.1) ------------------------------------------------
Q_VERSION: Final = "1.0"
Q_SOURCE: Final = "custom"
Q_TEXT_TYPE: Final = "client-markdown"
Q_TITLE_LIMIT: Final = 250
Q_DESCRIPTION_LIMIT: Final = 3_000
Q_NEXT_STEPS_MAX: Final = 10
Q_NEXT_STEP_LIMIT: Final = 500
Q_KEYWORDS_MAX: Final = 5
Q_KEYWORD_LIMIT: Final = 50
Q_SUMMARY_LIMIT: Final = 250

# --- Slack incoming webhook (§9.3) -----------------------------------------------------------------
SLACK_SECTION_LIMIT: Final = 3_000
SLACK_BLOCKS_MAX: Final = 50
SLACK_TEXT_LIMIT: Final = 40_000

# --- Discord webhook (§9.3) ------------------------------------------------------------------------
DISCORD_TITLE_LIMIT: Final = 256
DISCORD_DESCRIPTION_LIMIT: Final = 4_096
DISCORD_FOOTER_LIMIT: Final = 2_048
DISCORD_EMBED_TOTAL_LIMIT: Final = 6_000
_DISCORD_COLOR: Final = {Severity.CRITICAL: 0xD13212, Severity.WARNING: 0xFF9900, Severity.INFO: 0x2F80ED}

# --- Microsoft Teams workflow webhook (§9.3): Adaptive Cards only -------------------------------------
# Teams refuses a message of more than about 28 KB; the card stays well under it.
TEAMS_CARD_LIMIT_BYTES: Final = 24_000
ADAPTIVE_CARD: Final = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA: Final = "http://adaptivecards.io/schemas/adaptive-card.json"


class ChatTool(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    DISCORD = "discord"


class WebhookSecretInvalid(WardenError):
    """The webhook secret holds no usable webhook; the message never quotes the secret."""


class WebhookFailed(WardenError):
    """A webhook post failed (after its retries); the message never holds the URL."""


# --- reading a body back --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ParsedBody:
    headline: str
    sections: tuple[Section, ...]


def parse_body(body: str) -> ParsedBody | None:
    """The headline and sections `notification.render` wrote, or None when `body` is not in its format."""
    if not body.endswith("\n"):
        return None
    headline, *blocks = body[:-1].split("\n\n")
    sections: list[Section] = []
    for block in blocks:
        title, newline, rest = block.partition("\n")
        if not newline or not title or title[0].isspace():
            return None
        lines = rest.split("\n")
        if not all(line.startswith(INDENT) and len(line) > len(INDENT) for line in lines):
            return None
        sections.append(Section(title, tuple(line[len(INDENT) :] for line in lines)))
    return ParsedBody(headline, tuple(sections))


# --- the message, independent of the tool --------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text: shown as it is (`code`) or made inert (`code` False)."""

    text: str
    code: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Block:
    """A section of the message: its title (None for the headline) and lines; `monospace` for a table."""

    title: str | None
    lines: tuple[Line, ...]
    monospace: bool = False


class ChatMessage(BaseModel):
    """One notification as every chat tool shows it; `verbatim` holds a body Warden could not read into parts."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    title: str
    blocks: tuple[Block, ...]
    next_steps: tuple[Line, ...]
    keywords: tuple[str, ...]
    event: str
    severity: Severity
    verbatim: str | None = None


def spans(line: str) -> Line:
    """A line as spans: a whole command line is code; text between backticks is code; the rest is text."""
    stripped = line.strip()
    if _COMMAND.match(stripped) and "`" not in stripped:
        return (Span(stripped, code=True),)
    pieces = line.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: it and what follows stay text
        pieces = [*pieces[:-2], pieces[-2] + "`" + pieces[-1]]
    found = [Span(piece, code=index % 2 == 1 and piece != "") for index, piece in enumerate(pieces)]
    return tuple(span for span in found if span.text)


def chat_message(
    subject: str,
    body: str,
    *,
    event: str,
    severity: Severity,
    service_name: str,
    known_secrets: Iterable[str] = (),
) -> ChatMessage:
    """The chat message of a notification: the same redaction as the e-mail, then its parts."""
    known = tuple(known_secrets)
    subject = " ".join(utf8_safe(redact(subject, known)).split()) or "[warden] notification"
    body = utf8_safe(redact(body, known))
    title = f"{_MARKER.get(severity, '')} {subject}".strip()
    keywords = tuple(dict.fromkeys(word for word in (service_name, event, severity.value) if word))
    parsed = parse_body(body)
    if parsed is None:
        return ChatMessage(
            title=title,
            blocks=(Block(None, ((Span(VERBATIM_NOTE),),)),),
            next_steps=(),
            keywords=keywords,
            event=event,
            severity=severity,
            verbatim=body,
        )
    blocks = [Block(None, tuple(spans(line) for line in parsed.headline.split("\n") if line.strip()))]
    steps: list[Line] = []
    for section in parsed.sections:
        if section.title.startswith(UNDO_TITLE):
            steps += [spans(line) for line in section.lines]
            continue
        table = any(_ALIGNED.search(line.strip()) for line in section.lines)
        lines = tuple((Span(line),) if table else spans(line) for line in section.lines)
        blocks.append(Block(section.title, lines, monospace=table))
    return ChatMessage(
        title=title,
        blocks=tuple(blocks),
        next_steps=tuple(steps),
        keywords=keywords,
        event=event,
        severity=severity,
    )


# --- making text inert, by dialect --------------------------------------------------------------------


class Dialect(Enum):
    SLACK = "slack"  # Slack's mrkdwn (and Amazon Q, which renders into it)
    MARKDOWN = "markdown"  # Discord's markdown
    PLAIN = "plain"  # Adaptive Card TextBlocks (Teams): a small markdown subset, no inline code


_LOOKALIKES: Final = str.maketrans({"*": "∗", "`": "ˋ", "~": "∼", "|": "∣"})
_EDGE_UNDERSCORE: Final = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MENTION: Final = re.compile(r"@(?=\w)")
_HEADING: Final = re.compile(r"^(\s*)#", re.MULTILINE)
_SLACK_ENTITIES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ANGLES: Final = str.maketrans({"<": "‹", ">": "›"})
WORD_JOINER: Final = "\u2060"


def inert(text: str, dialect: Dialect) -> str:
    """`text` that formats, links and mentions nothing in `dialect` (see the module doc)."""
    if dialect is Dialect.SLACK:
        text = text.translate(_SLACK_ENTITIES)
    else:
        text = text.translate(_ANGLES)
        if dialect is Dialect.MARKDOWN:
            text = text.replace("\\", "\\\\")
    text = text.translate(_LOOKALIKES)
    text = _EDGE_UNDERSCORE.sub("ˍ", text)
    text = text.replace("](", "] (")
    text = _MENTION.sub("@" + WORD_JOINER, text)
    return _HEADING.sub(lambda found: found.group(1) + "＃", text)


def code(text: str, dialect: Dialect) -> str:
    """A code span holding `text` exactly (it never holds a backtick: see `spans`)."""
    if dialect is Dialect.SLACK:
        return "`" + text.translate(_SLACK_ENTITIES) + "`"
    if dialect is Dialect.MARKDOWN:
        return "`" + text + "`"
    return text


def code_block(lines: Sequence[str], dialect: Dialect) -> str:
    """Lines shown monospaced; a backtick inside becomes a look-alike so that nothing closes the block early."""
    text = "\n".join(lines).replace("`", "ˋ")
    if dialect is Dialect.SLACK:
        text = text.translate(_SLACK_ENTITIES)
    return "```\n" + text + "\n```"


def bold(text: str, dialect: Dialect) -> str:
    inner = inert(text, dialect)
    if dialect is Dialect.SLACK:
        return f"*{inner}*"
    if dialect is Dialect.MARKDOWN:
        return f"**{inner}**"
    return inner


def render_line(line: Line, dialect: Dialect, room: int | None = None) -> str:
    """The line in `dialect`, cut (text shortened with "…", a code span left out whole) to `room` characters."""
    out = ""
    for span in line:
        piece = code(span.text, dialect) if span.code else inert(span.text, dialect)
        if room is None or len(out) + len(piece) <= room:
            out += piece
            continue
        if not span.code:
            out += _cut(span.text, lambda prefix: inert(prefix + "…", dialect), room - len(out))
        break
    return out


def _cut(text: str, render: Callable[[str], str], room: int) -> str:
    """The longest rendering of a prefix of `text` within `room` characters ("" when none fits)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(text[:middle])) <= room:
            low = middle
        else:
            high = middle - 1
    rendered = render(text[:low])
    return rendered if len(rendered) <= room and low > 0 else ""


def fit(text: str, limit: int, dialect: Dialect) -> str:
    """Plain text made inert and cut to `limit` characters."""
    return render_line((Span(text),), dialect, limit)


@dataclass(frozen=True)
class _Code:
    """Lines for a code block, which is cut by whole lines."""

    lines: tuple[str, ...]


_Item = Line | str | _Code  # a line to render, an already rendered string (kept whole or not at all), a code block


def _fill(items: Sequence[_Item], limit: int, dialect: Dialect) -> str:
    """The items, one per line, within `limit` characters. When they do not all fit, the first that does not is
    cut safely (text shortened, a code span or an already rendered string left out, a code block cut by lines),
    the rest is left out, and a note that the message was cut ends the text."""
    rendered = [_render_item(item, dialect, None) for item in items]
    whole = "\n".join(rendered)
    if len(whole) <= limit:
        return whole
    note = _note(dialect)
    budget = limit - len(note) - 1
    out: list[str] = []
    used = 0
    for item, text in zip(items, rendered, strict=True):
        separator = 1 if out else 0
        if used + separator + len(text) <= budget:
            out.append(text)
            used += separator + len(text)
            continue
        room = budget - used - separator
        part = _render_item(item, dialect, room) if room > 0 and not isinstance(item, str) else ""
        if part:
            out.append(part)
        break
    return "\n".join([*out, note])


def _render_item(item: _Item, dialect: Dialect, room: int | None) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, _Code):
        return code_block(item.lines, dialect) if room is None else _bounded_code_block(item.lines, dialect, room)
    return render_line(item, dialect, room)


def _items(message: ChatMessage, dialect: Dialect) -> list[_Item]:
    """The message's blocks: a bold title per section, then its lines (a table or a verbatim body as a code block)."""
    items: list[_Item] = []
    for block in message.blocks:
        if block.title is not None:
            items += ["", bold(block.title, dialect)] if items else [bold(block.title, dialect)]
        if block.monospace:
            items.append(_Code(tuple(span.text for line in block.lines for span in line)))
        else:
            items += block.lines
    if message.verbatim is not None:
        items.append(_Code(tuple(message.verbatim.rstrip("\n").split("\n"))))
    return items


def _bounded_code_block(lines: Sequence[str], dialect: Dialect, room: int) -> str:
    """A code block of as many of `lines` as fit in `room` characters (each cut to 200), "" when none fits."""
    kept: list[str] = []
    for line in lines:
        short = line if len(line) <= 200 else line[:199] + "…"
        if len(code_block([*kept, short], dialect)) > room:
            break
        kept.append(short)
    return code_block(kept, dialect) if kept else ""


def _steps(message: ChatMessage, dialect: Dialect, room: int) -> list[str]:
    return [step for step in (render_line(line, dialect, room) for line in message.next_steps) if step]


def _note(dialect: Dialect) -> str:
    return inert("… " + CUT_NOTE, dialect)


# --- Amazon Q Developer in chat applications -------------------------------------------------------


def q_notification(message: ChatMessage, *, message_id: str | None = None) -> dict[str, Any]:
    """The custom notification Amazon Q renders (AWS-FACTS §9.1), within the limits above."""
    dialect = Dialect.SLACK
    steps = _steps(message, dialect, Q_NEXT_STEP_LIMIT)
    if len(steps) > Q_NEXT_STEPS_MAX:
        steps = [*steps[: Q_NEXT_STEPS_MAX - 1], _note(dialect)]
    content: dict[str, Any] = {
        "textType": Q_TEXT_TYPE,
        "title": fit(message.title, Q_TITLE_LIMIT, dialect),
        "description": _fill(_items(message, dialect), Q_DESCRIPTION_LIMIT, dialect),
        "keywords": [fit(word, Q_KEYWORD_LIMIT, Dialect.PLAIN) for word in message.keywords[:Q_KEYWORDS_MAX]],
    }
    if steps:
        content["nextSteps"] = steps
    notification: dict[str, Any] = {"version": Q_VERSION, "source": Q_SOURCE}
    if message_id:
        notification["id"] = message_id
    notification["content"] = content
    notification["metadata"] = {
        "summary": fit(message.title, Q_SUMMARY_LIMIT, Dialect.PLAIN),
        "eventType": message.event,
        "additionalContext": {"event": message.event, "severity": message.severity.value},
    }
    return notification


# --- Slack incoming webhook ---------------------------------------------------------------------------


def slack_payload(message: ChatMessage) -> dict[str, Any]:
    """Block Kit: the title, the body and the next steps as mrkdwn sections, the event as context."""
    dialect = Dialect.SLACK
    title = fit(message.title, SLACK_SECTION_LIMIT - 2, dialect)
    blocks: list[dict[str, Any]] = [_slack_section(f"*{title}*")]
    description = _fill(_items(message, dialect), SLACK_SECTION_LIMIT, dialect)
    if description:
        blocks.append(_slack_section(description))
    if message.next_steps:
        steps: list[_Item] = [bold("Next steps", dialect), *message.next_steps]
        blocks.append(_slack_section(_fill(steps, SLACK_SECTION_LIMIT, dialect)))
    context = inert(f"{message.event} · {message.severity.value} · {', '.join(message.keywords[:1])}", dialect)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:SLACK_SECTION_LIMIT]}]})
    return {"text": title, "blocks": blocks[:SLACK_BLOCKS_MAX]}


def _slack_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --- Discord webhook --------------------------------------------------------------------------------


def discord_payload(message: ChatMessage) -> dict[str, Any]:
    """One embed; `allowed_mentions` empty, so that no text in it can ping anyone."""
    dialect = Dialect.MARKDOWN
    parts = _items(message, dialect)
    if message.next_steps:
        parts += ["", bold("Next steps", dialect), *message.next_steps]
    embed: dict[str, Any] = {
        "title": fit(message.title, DISCORD_TITLE_LIMIT, dialect),
        "description": _fill(parts, DISCORD_DESCRIPTION_LIMIT, dialect),
        "color": _DISCORD_COLOR.get(message.severity, 0),
        "footer": {"text": fit(f"{message.event} · {message.severity.value}", DISCORD_FOOTER_LIMIT, dialect)},
    }
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


# --- Microsoft Teams workflow webhook ---------------------------------------------------------------------


def teams_payload(message: ChatMessage) -> dict[str, Any]:
    """A message with one Adaptive Card: a TextBlock per line (monospace for commands and tables)."""
    dialect = Dialect.PLAIN
    body: list[dict[str, Any]] = [
        _text_block(fit(message.title, 400, dialect), weight="Bolder", size="Medium"),
    ]
    for block in message.blocks:
        if block.title is not None:
            body.append(_text_block(inert(block.title, dialect), weight="Bolder"))
        body += [_teams_line(line, dialect, monospace=block.monospace) for line in block.lines]
    if message.verbatim is not None:
        body += [_text_block(inert(line, dialect)[:500], monospace=True) for line in message.verbatim.split("\n")]
    if message.next_steps:
        body.append(_text_block(inert("Next steps", dialect), weight="Bolder"))
        body += [_teams_line(line, dialect) for line in message.next_steps]
    footer = _text_block(inert(f"{message.event} · {message.severity.value}", dialect), subtle=True)
    return _teams_message(_fit_card(body, footer, dialect))


def _teams_line(line: Line, dialect: Dialect, *, monospace: bool = False) -> dict[str, Any]:
    whole_code = len(line) == 1 and line[0].code
    return _text_block(render_line(line, dialect, 2_000), monospace=monospace or whole_code)


def _text_block(
    text: str, *, weight: str | None = None, size: str | None = None, monospace: bool = False, subtle: bool = False
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if monospace:
        block["fontType"] = "Monospace"
    if subtle:
        block["isSubtle"] = True
    return block


def _teams_message(body: list[dict[str, Any]]) -> dict[str, Any]:
    card = {"$schema": ADAPTIVE_CARD_SCHEMA, "type": "AdaptiveCard", "version": "1.4", "body": body}
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}


def _fit_card(body: list[dict[str, Any]], footer: dict[str, Any], dialect: Dialect) -> list[dict[str, Any]]:
    """As many blocks as keep the whole message under the size Teams accepts, then the note and the footer."""
    note = _text_block(_note(dialect), subtle=True)
    if payload_bytes(_teams_message([*body, footer])) <= TEAMS_CARD_LIMIT_BYTES:
        return [*body, footer]
    kept = list(body)
    while kept and payload_bytes(_teams_message([*kept, note, footer])) > TEAMS_CARD_LIMIT_BYTES:
        kept.pop()
    return [*kept, note, footer]


def payload_bytes(payload: Mapping[str, Any]) -> int:
    """The size of the JSON a webhook receives."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def tool_payload(message: ChatMessage, tool: ChatTool) -> dict[str, Any]:
    """The webhook payload for `tool`."""
    if tool is ChatTool.SLACK:
        return slack_payload(message)
    if tool is ChatTool.DISCORD:
        return discord_payload(message)
    return teams_payload(message)


# --- the webhook secret -----------------------------------------------------------------------------------

_SLACK_HOSTS: Final = frozenset({"hooks.slack.com"})
_DISCORD_HOSTS: Final = frozenset({"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"})
# Teams workflow URLs moved hosts before (AWS-FACTS §9.3): recognised by domain, and "kind" can always say it.
_TEAMS_SUFFIXES: Final = (".logic.azure.com", ".powerplatform.com", ".powerautomate.com")
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


class WebhookTarget(BaseModel):
    """Where chat messages are posted. The URL is a secret (it is the credential): it is never shown."""

    model_config = ConfigDict(frozen=True)

    tool: ChatTool
    url: SecretStr


def parse_webhook_secret(secret: str) -> WebhookTarget:
    """The secret's webhook: a bare URL (Slack and Discord recognised by host, Teams by domain), or JSON
    `{"url": "...", "kind": "slack|teams|discord"}`. Raises WebhookSecretInvalid, never quoting the secret."""
    text = secret.strip()
    kind: str | None = None
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise WebhookSecretInvalid("the secret starts like JSON but is not valid JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("url"), str):
            raise WebhookSecretInvalid('the secret\'s JSON needs a "url" string')
        text = str(document["url"]).strip()
        raw_kind = document.get("kind")
        if raw_kind is not None and not isinstance(raw_kind, str):
            raise WebhookSecretInvalid('"kind" must be one of slack, teams, discord')
        kind = raw_kind
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not host:
        raise WebhookSecretInvalid("the secret holds no URL with a host")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        # Only a webhook on this machine may go without TLS: the URL and the message would cross the network.
        raise WebhookSecretInvalid(f"the webhook URL must use https, not {parts.scheme or 'no scheme'}")
    tool = _tool_of(kind, host, parts.path)
    return WebhookTarget(tool=tool, url=SecretStr(text))


def _tool_of(kind: str | None, host: str, path: str) -> ChatTool:
    if kind is not None:
        try:
            return ChatTool(kind.strip().lower())
        except ValueError:
            raise WebhookSecretInvalid('"kind" must be one of slack, teams, discord') from None
    if host in _SLACK_HOSTS:
        return ChatTool.SLACK
    if host in _DISCORD_HOSTS and path.startswith("/api/webhooks/"):
        return ChatTool.DISCORD
    if host.endswith(_TEAMS_SUFFIXES):
        return ChatTool.TEAMS
    raise WebhookSecretInvalid(
        'the webhook host is not Slack\'s, Discord\'s or a Teams workflow\'s: store {"url": "...", "kind": ...}'
    )


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
