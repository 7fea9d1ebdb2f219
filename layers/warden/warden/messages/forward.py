"""The one message for what Warden cannot understand: why, where it came from, and the original, verbatim."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from warden.domain.notification import Notification, Severity, render

EVENT = "alert.unparsed"


class Unparsed(BaseModel):
    """A message Warden could not read: `topic` names where it arrived in words ("the budget topic"), `source` how
    ("SNS message <id>", "Lambda invocation")."""

    model_config = ConfigDict(frozen=True)

    raw: str
    why: str
    subject: str | None
    source: str
    topic: str
    service_name: str


def forwarded(unparsed: Unparsed) -> Notification:
    headline = (
        f"Warden received a message it could not understand on {unparsed.topic}, and did nothing with it.\n"
        f"Why: {unparsed.why}.\nNo pause or other action was taken. The original follows, verbatim."
    )
    received = [f"source: {unparsed.source}", f"original subject: {unparsed.subject or '(none)'}"]
    body = render([("Received", received)], headline=headline)
    body += "\n----- original message -----\n" + unparsed.raw + "\n----- end of original message -----\n"
    return Notification(
        subject=f"[warden] UNPARSED alert forwarded: {unparsed.subject or unparsed.service_name}",
        body=body,
        event=EVENT,
        severity=Severity.WARNING,
    )
