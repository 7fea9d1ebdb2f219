"""Webhook adapter: POSTs a chat message to a Slack, Teams (workflow) or Discord incoming webhook.

The only HTTP code in Warden (urllib, no dependency). The webhook URL is the credential, so it never leaves this
module: no error, log line or exception chain holds it (errors say which tool, the HTTP status and a short,
redacted excerpt of the answer). Throttling (429) and server errors (5xx) and network failures are tried again
with exponential backoff, honouring Retry-After; a wait longer than `max_wait_seconds` is left to Lambda's own
retry of the event instead. Redirects are refused: the message and the URL's token go to the webhook's host only.
A 401, 403, 404 or 410 makes the secret be read again on the next attempt or invocation (a rotated URL).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any, Final, Protocol
from urllib.parse import urlsplit

from warden import __version__
from warden.domain.chat import ChatTool, WebhookFailed, WebhookTarget
from warden.domain.redaction import redact

IAM_ACTIONS: frozenset[str] = frozenset()
ATTEMPTS: Final = 3
TIMEOUT_SECONDS: Final = 5.0
BACKOFF_SECONDS: Final = 1.0
MAX_WAIT_SECONDS: Final = 10.0
_WRONG_URL: Final = frozenset({401, 403, 404, 410})
_EXCERPT: Final = 200


class WebhookSource(Protocol):
    def target(self) -> WebhookTarget: ...

    def forget(self) -> None:
        """Drops a cached URL, so that the next `target` reads the secret again."""
        ...


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        # None makes urllib raise the 3xx as an HTTPError, which `post` reports without following it.
        return None


class WebhookPoster:
    def __init__(
        self,
        source: WebhookSource,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = ATTEMPTS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self._source = source
        self._sleep = sleep
        self._attempts = attempts
        self._timeout = timeout_seconds
        self._max_wait = max_wait_seconds
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def tool(self) -> ChatTool:
        return self._source.target().tool

    def post(self, payload: Mapping[str, Any]) -> int:
        """Posts `payload` as JSON; returns the HTTP status. Raises WebhookFailed once every attempt failed."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        problem = ""
        tool = "webhook"
        for attempt in range(1, self._attempts + 1):
            target = self._source.target()
            tool = target.tool.value
            status, retry_after, problem = self._send(target.url.get_secret_value(), data)
            if status is not None and 200 <= status < 300:
                return status
            if status in _WRONG_URL:
                self._source.forget()
            retryable = status is None or status == 429 or status >= 500 or status in _WRONG_URL
            if not retryable or attempt == self._attempts:
                break
            wait = retry_after if retry_after is not None else BACKOFF_SECONDS * 2 ** (attempt - 1)
            if wait > self._max_wait:
                problem += f"; asked to wait {wait:.0f} s, left to the next retry of the event"
                break
            self._sleep(wait)
        raise WebhookFailed(f"{tool} webhook post failed after {attempt} attempt(s): {problem}")

    def _send(self, url: str, data: bytes) -> tuple[int | None, float | None, str]:
        """(HTTP status or None for a network failure, Retry-After in seconds, what went wrong in words)."""
        request = urllib.request.Request(  # noqa: S310 - the URL's scheme is https (or loopback http): parse_webhook_secret
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": f"warden/{__version__}"},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return int(response.status), None, ""
        except urllib.error.HTTPError as error:
            with error:
                answer = _excerpt(error.fp, url)
                retry_after = _retry_after(error.headers.get("Retry-After") if error.headers else None)
            return error.code, retry_after, f"HTTP {error.code}" + (f" ({answer})" if answer else "")
        except urllib.error.URLError as error:
            return None, None, f"network error ({type(error.reason).__name__})"
        except (TimeoutError, OSError) as error:
            return None, None, f"network error ({type(error).__name__})"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _excerpt(body: IO[bytes] | None, url: str) -> str:
    """The start of the webhook's answer (Slack says `invalid_token`, `no_text`...), with the URL removed."""
    if body is None:
        return ""
    try:
        text = body.read(_EXCERPT * 2).decode("utf-8", errors="replace")
    except OSError:
        return ""
    path = urlsplit(url).path
    for secret in (url, path):
        if len(secret) > 1:
            text = text.replace(secret, "[webhook URL]")
    text = redact(" ".join(text.split()))
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"
