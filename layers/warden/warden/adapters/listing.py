"""Reads that never raise, for the fleet's discovery (App Runner and ECS): an AWS answer or the line that says why
there is none, and the HTTP requests either one cost.

Discovery must not stop at the first refusal (one throttled tag read would hide the whole fleet), so an AWS error
becomes a value here, after botocore's own retries. The requests count those retries too
(`ResponseMetadata.RetryAttempts`, on answers and error responses alike): the bench compares them with the lower
bound, and a throttled account should show in that comparison rather than hide in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import error_code


class Read(NamedTuple):
    """One call's answer (None when it failed, then `failure` says why) and the requests behind it."""

    answer: Any
    requests: int
    failure: str | None = None


class Listing(NamedTuple):
    """The items of every page a listing returned. With `failure` set, a page failed and `items` hold the pages
    before it (NextToken chains: nothing after a failed page can be asked for)."""

    items: tuple[Any, ...]
    requests: int
    failure: str | None = None


def read(operation: str, subject: str, call: Callable[[], Any]) -> Read:
    try:
        answer = call()
    except (ClientError, BotoCoreError) as error:
        return Read(None, requests_behind(error), failure_line(operation, subject, error))
    return Read(answer, requests_behind(answer))


def collect(pages: Iterable[Any], key: str, operation: str, subject: str) -> Listing:
    """`key`'s items over `pages` (a botocore paginator, or a generator that follows NextToken itself); the
    pages are only fetched as this iterates, so a failed one is caught here."""
    items: list[Any] = []
    requests = 0
    number = 1
    try:
        for page in pages:
            requests += requests_behind(page)
            items.extend(page.get(key) or [])
            number += 1
    except (ClientError, BotoCoreError) as error:
        where = f"{subject} (page {number})".strip()
        return Listing(tuple(items), requests + requests_behind(error), failure_line(operation, where, error))
    return Listing(tuple(items), requests)


def requests_behind(outcome: Any) -> int:
    """The HTTP requests behind an answer or an error: 1 plus botocore's retries. A BotoCoreError (no connection,
    a timeout) does not say how often botocore tried: it counts as 1."""
    if isinstance(outcome, BotoCoreError):
        return 1
    response = outcome.response if isinstance(outcome, ClientError) else outcome
    metadata = response.get("ResponseMetadata") or {}
    return 1 + int(metadata.get("RetryAttempts") or 0)


def failure_line(operation: str, subject: str, error: Exception) -> str:
    """`ListTagsForResource <arn>: ThrottlingException`: what could not be read, and why."""
    detail = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return f"{' '.join(part for part in (operation, subject) if part)}: {detail or 'error'}"
