"""Handle an event once: SNS, EventBridge and Lambda all deliver at least once, so every handler records
the events it has handled in the state table and answers a repeat without acting again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Protocol, TypeVar

from warden.domain.records import EventStart, EventStatus
from warden.usecases.ports import StatePort


class _Result(Protocol):
    @property
    def outcome(self) -> Enum: ...

    @property
    def reason(self) -> str: ...


R = TypeVar("R", bound=_Result)


def handle_once(
    state: StatePort,
    event_key: str,
    now: datetime,
    work: Callable[[], R],
    duplicate: Callable[[EventStart], R],
) -> R:
    """Runs `work` unless `event_key` was handled already (then `duplicate` answers). When `work` fails the
    event is forgotten, so Lambda's retry handles it again; claims are keyed, so a retry adds none twice."""
    start = state.begin_event(event_key, now)
    if start.status is EventStatus.DUPLICATE:
        return duplicate(start)
    try:
        result = work()
    except BaseException:
        state.release_event(event_key)
        raise
    state.complete_event(event_key, now, f"{result.outcome.value}: {result.reason}")
    return result


def handled_at(start: EventStart) -> str:
    """When the first delivery was handled, for the "ignored, because …" reason of a repeat."""
    return f"{start.handled_at:%Y-%m-%d %H:%M:%S} UTC" if start.handled_at else "an earlier time"
