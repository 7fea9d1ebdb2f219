"""The notification every action ends in: subject for the phone's lock screen, body for the reader.

SNS limits (AWS-FACTS §3): a subject is under 100 characters with no line breaks or control
characters; a message is at most 262,144 bytes including its attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from warden.domain.redaction import redact

SUBJECT_LIMIT = 99
# Leave room for the message attributes, which count towards SNS's 262,144-byte limit.
BODY_LIMIT_BYTES = 260_000
# C0 and C1 control characters: SNS refuses a subject with any control character.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    body: str
    event: str
    severity: Severity

    @field_validator("subject")
    @classmethod
    def _one_short_line(cls, value: str) -> str:
        return clean_subject(redact(value))

    @field_validator("body")
    @classmethod
    def _fits_sns(cls, value: str) -> str:
        # Whatever a notification quotes (a forwarded message, an alarm description), no secret goes out.
        return fit_body(redact(value))


def clean_subject(text: str) -> str:
    """One line of at most 99 characters: SNS rejects longer subjects and any line break."""
    line = " ".join(_CONTROL.sub(" ", utf8_safe(text)).split())
    if len(line) <= SUBJECT_LIMIT:
        return line or "[warden] notification"
    return line[: SUBJECT_LIMIT - 3].rstrip() + "..."


def fit_body(text: str) -> str:
    text = utf8_safe(text)
    encoded = text.encode("utf-8")
    if len(encoded) <= BODY_LIMIT_BYTES:
        return text
    note = f"\n\n[warden] message truncated: the original was {len(encoded):,} bytes."
    room = BODY_LIMIT_BYTES - len(note.encode("utf-8"))
    return encoded[:room].decode("utf-8", errors="ignore") + note


def utf8_safe(text: str) -> str:
    """`text` with every lone surrogate replaced by "?".

    A JSON string may hold an escaped lone surrogate ("\\ud800"), which Python decodes into a `str` that
    cannot be encoded as UTF-8: SNS (and botocore, before sending) would refuse the whole notification.
    """
    return text.encode("utf-8", "replace").decode("utf-8")


def render(sections: Iterable[tuple[str, Iterable[str]]], *, headline: str) -> str:
    """A body of titled sections: short lines that read well in an email and on a phone."""
    parts = [headline]
    for title, lines in sections:
        body = [line for line in lines if line]
        if body:
            parts.append(title + "\n" + "\n".join(f"  {line}" for line in body))
    return "\n\n".join(parts) + "\n"
