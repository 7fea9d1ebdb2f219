"""The demo's timeline: numbered steps, the handlers run in-process, and the operator's inbox as printed."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import textwrap
from typing import Any

from local.account import LocalAccount
from local.invoke import invoke

WIDTH = 96


class Timeline:
    def __init__(self, account: LocalAccount, log: io.TextIOBase) -> None:
        self.account = account
        self.log = log
        self.step = 0
        # Powertools' logger keeps the stream it found when it was built: point it at the log file too,
        # so JSON logs never interleave with the story, whichever act imported it first.
        from warden.observability import logger

        for handler in logging.getLogger(logger.name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(log)

    def say(self, when: str, what: str) -> None:
        self.step += 1
        print(f"\n{self.step:>2}. {when:<22} {what}")

    def note(self, text: str) -> None:
        print(textwrap.indent(textwrap.fill(text, WIDTH - 6), "      "))

    def run(self, function: str, event: dict[str, Any], **env: str) -> list[dict[str, Any]]:
        # Handlers log JSON (Powertools) to stdout, as in Lambda; keep it in a file, out of the story.
        with contextlib.redirect_stdout(self.log):
            result = invoke(function, event, {**self.account.env(), **env})
        outcomes: list[dict[str, Any]] = result["results"]
        return outcomes

    def show_inbox(self) -> int:
        received = self.account.inbox()
        if not received:
            print("      (inbox: nothing new)")
        for message in received:
            attributes = ", ".join(f"{k}={v}" for k, v in sorted(message.attributes.items()))
            print("      ┌─ operator's inbox " + "─" * (WIDTH - 26))
            print(f"      │ Subject: {message.subject}")
            print(f"      │ ({attributes})")
            print("      │")
            for line in message.body.rstrip().splitlines():
                print(f"      │ {line}")
            print("      └" + "─" * (WIDTH - 7))
        return len(received)

    def state(self) -> None:
        claims = ", ".join(f"{c['SK'].removeprefix('CLAIM#')} (by {c['owner']})" for c in self.account.claims())
        print(f"      {self.account.service_line()}; pause claims: {claims or 'none'}")


def expect(ok: bool, what: str) -> int:
    """A demo check: prints loudly when the story did not go as told; returns the failure count."""
    if not ok:
        print(f"      !! demo check failed: {what}", file=sys.stderr)
    return 0 if ok else 1
