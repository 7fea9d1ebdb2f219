"""Forwarding what Warden cannot understand: verbatim, with the reason, and never dropped.

Every Warden function that reads messages from a topic ends an unparseable one here, so the operator
sees the original (a new AWS message format, a test message, a misrouted alert) and why Warden did
nothing with it.
"""

from __future__ import annotations

from warden.messages.forward import EVENT, Unparsed, forwarded
from warden.observability import count, logger
from warden.usecases.ports import NotifierPort

__all__ = ["EVENT", "forward_unparseable"]


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
    unparsed = Unparsed(raw=raw, why=why, subject=subject, source=source, topic=topic, service_name=service_name)
    return notifier.publish(forwarded(unparsed))
