"""The demo's timeline: numbered steps on the demo's one clock, the handlers run in-process, and the operator's
inbox as printed.

By default a step is its header (the clock's time and what happens), one line of what Warden did and the
subject of each notification, with a few lines of the body where the body is the point. `verbose` prints
every message in full, every long note, every command's output and the schedule's runs between steps.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from local.account import LocalAccount
from local.demo_clock import Calendar, DemoClock, working_hours_fires
from local.invoke import LambdaContextStub, fresh_container, load_handler
from local.template import ROOT

WIDTH = 96
INDENT = "      "


class Timeline:
    def __init__(
        self,
        account: LocalAccount,
        log: io.TextIOBase,
        clock: DemoClock,
        calendar: Calendar,
        *,
        verbose: bool = False,
        working_hours: bool = True,
    ) -> None:
        self.account = account
        self.log = log
        self.clock = clock
        self.calendar = calendar
        self.verbose = verbose
        # False for a stack deployed without working hours (the fleet's): no schedule runs between the steps.
        self.working_hours = working_hours
        self.step = 0
        self._scheduled_until = clock.now
        # Powertools' logger keeps the stream it found when it was built: point it at the log file too,
        # so JSON logs never interleave with the story, whichever act imported it first.
        from warden.observability import logger

        for handler in logging.getLogger(logger.name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(log)

    # -- the story --------------------------------------------------------------------------------------------

    def say(self, at: datetime, what: str, *, job: str | None = None) -> None:
        """A new step at `at`: the working-hours runs up to it happen first, then the clock is set to it. A step
        that is itself a working-hours run names its `job`: the act runs that one and shows it."""
        print()
        runs = self._run_schedule_until(at, shown=job)
        self.clock.advance(at)
        self.step += 1
        print(f"{self.step:>2}. {at:%a %Y-%m-%d %H:%M}  {what}")
        if runs and not self.verbose:
            print(f"{INDENT}(since the last step: {runs} working-hours run(s) of run_schedule; --verbose lists them)")

    def note(self, text: str) -> None:
        """A line of the story: one line by default (shortened), in full with --verbose."""
        if self.verbose:
            print(textwrap.indent(textwrap.fill(text, WIDTH - len(INDENT)), INDENT))
        else:
            print(INDENT + _one_line(text, WIDTH - len(INDENT)))

    def detail(self, text: str) -> None:
        """Context the default story leaves out; printed in full with --verbose only."""
        if self.verbose:
            print(textwrap.indent(textwrap.fill(text, WIDTH - len(INDENT)), INDENT))

    def outcome(self, result: dict[str, Any]) -> None:
        """What Warden did: the handler's outcome and its reason."""
        self.note(f"Warden: {result['outcome']}: {result['reason']}")

    def state(self) -> None:
        claims = ", ".join(f"{c['SK'].removeprefix('CLAIM#')} (by {c['owner']})" for c in self.account.claims())
        print(f"{INDENT}{self.account.service_line()}; pause claims: {claims or 'none'}")

    # -- running Warden -------------------------------------------------------------------------------------------

    def run(self, function: str, event: dict[str, Any], **env: str) -> list[dict[str, Any]]:
        """Invokes a handler in-process on the demo's clock, as a warm Lambda container (the endpoints never
        change in the demo, so the clients are kept; settings are read anew from `env` every time)."""
        # Handlers log JSON (Powertools) to stdout, as in Lambda; keep it in a file, out of the story.
        with contextlib.redirect_stdout(self.log), fresh_container({**self.account.env(), **env}, reuse_clients=True):
            result = load_handler(function).lambda_handler(event, LambdaContextStub(function_name=function))
        # run_schedule returns its one result as it is; the event handlers a list of them, one per record.
        outcomes: list[dict[str, Any]] = result.get("results", [result])
        return outcomes

    def cli(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        """`warden ARGS` as operator alice runs it, in a subprocess whose clock reads the demo's time."""
        environment = {
            **os.environ,
            **self.account.env(),
            "PATH": path or os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "warden")]),
            "WARDEN_OPERATOR": "alice",
        }
        command = [sys.executable, "-m", "local.demo_clock", datetime.now(UTC).isoformat(), "warden", *args]
        result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
        if result.returncode:
            print(f"{INDENT}!! warden {args[0]} exited {result.returncode}: {result.stderr.strip()}", file=sys.stderr)
        return result

    def _run_schedule_until(self, at: datetime, shown: str | None) -> int:
        """The working-hours runs EventBridge Scheduler makes after the last step and up to `at` (except the one the
        step shows), quietly: the service is paused every working evening and resumed every working morning,
        shown or not. Returns how many ran."""
        runs = 0
        fires = working_hours_fires(self._scheduled_until, at + timedelta(microseconds=1)) if self.working_hours else ()
        for fire, job in fires:
            if fire == at and job == shown:
                continue
            self.clock.advance(fire)
            result = self.run("run_schedule", {"job": job})[0]
            received = len(self.account.inbox())
            runs += 1
            if self.verbose:
                print(f"{INDENT}· {fire:%a %Y-%m-%d %H:%M}  run_schedule {job}: {result['outcome']} ({received} sent)")
        self._scheduled_until = at
        return runs

    # -- the operator's inbox -------------------------------------------------------------------------------------

    def show_inbox(self, sections: Sequence[str] = ()) -> int:
        """Prints what the inbox received since the last look; returns how many messages. By default a message is
        its subject, plus the body's `sections` (by heading) where the body is the point of the step."""
        received = self.account.inbox()
        if not received:
            print(f"{INDENT}(inbox: nothing new)")
        for message in received:
            if self.verbose:
                _print_in_full(message.subject, message.body, message.attributes)
                continue
            print(f"{INDENT}inbox: {_one_line(message.subject, WIDTH - len(INDENT) - 7)}")
            for line in _sections(message.body, sections):
                print(f"{INDENT}  │ {_one_line(line, WIDTH - len(INDENT) - 4)}")
        return len(received)


def _print_in_full(subject: str, body: str, attributes: dict[str, str]) -> None:
    described = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    print(f"{INDENT}┌─ operator's inbox " + "─" * (WIDTH - 26))
    print(f"{INDENT}│ Subject: {subject}")
    print(f"{INDENT}│ ({described})")
    print(f"{INDENT}│")
    for line in body.rstrip().splitlines():
        print(f"{INDENT}│ {line}")
    print(f"{INDENT}└" + "─" * (WIDTH - 7))


def _sections(body: str, headings: Sequence[str]) -> list[str]:
    """The lines of the body's sections titled `headings` (a heading is an unindented line), headings included."""
    lines: list[str] = []
    keep = False
    for line in body.splitlines():
        if line and not line.startswith(" "):
            keep = line.strip() in headings
        if keep and line.strip():
            lines.append(line)
    return lines


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def expect(ok: bool, what: str) -> int:
    """A demo check: prints loudly when the story did not go as told; returns the failure count."""
    if not ok:
        print(f"{INDENT}!! demo check failed: {what}", file=sys.stderr)
    return 0 if ok else 1
