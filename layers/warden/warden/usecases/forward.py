"""Forwarding what Warden cannot understand: verbatim, with the reason, and never dropped.

Every Warden function that reads messages from a topic ends an unparseable one here, so the operator
sees the original (a new AWS message format, a test message, a misrouted alert) and why Warden did
nothing with it.
"""

from __future__ import annotations

from warden.domain.notification import Notification, Severity, render
from warden.observability import count, logger
from warden.usecases.ports import NotifierPort

EVENT = "alert.unparsed"


def forward_unparseable(
    raw: str,
    why: str,
    *,
    subject: str | None,
    source: str,
    topic: str,
    service_name: str,
    notifier: NotifierPort,
) -> str:
    """Sends `raw` to the operator verbatim, saying why Warden could not understand it.

    `topic` names where the message arrived, in words ("the budget topic"); `source` says how
    ("SNS message <id>", "Lambda invocation"). Returns the SNS message id of the notification.
    """
    count("AlertsUnparsed")
    logger.warning("forwarding a message Warden cannot parse", extra={"reason": why, "source": source})
    headline = (
        f"Warden received a message it could not understand on {topic}, and did nothing with it.\n"
        f"Why: {why}.\nNo pause or other action was taken. The original follows, verbatim."
    )
    body = render([("Received", [f"source: {source}", f"original subject: {subject or '(none)'}"])], headline=headline)
    body += "\n----- original message -----\n" + raw + "\n----- end of original message -----\n"
    notification = Notification(
        subject=f"[warden] UNPARSED alert forwarded: {subject or service_name}",
        body=body,
        event=EVENT,
        severity=Severity.WARNING,
    )
    return notifier.publish(notification)
