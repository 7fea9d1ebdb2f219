"""`make demo`: a month of Warden against a local, emulated AWS account. No AWS account needed.

It starts moto's server and the App Runner emulator on 127.0.0.1, seeds the consultation app's
account, runs the real Lambda handlers on scripted events and prints each notification exactly as
the operator's inbox receives it. Every process and port it opens is closed before it exits.
"""

from __future__ import annotations

import contextlib
import io
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.account import LocalAccount, local_account
from local.events import budget_message, sns_event
from local.invoke import invoke
from local.template import ROOT

LOG_PATH = ROOT / ".demo" / "handler-logs.jsonl"
WIDTH = 96


class Timeline:
    def __init__(self, account: LocalAccount, log: io.TextIOBase) -> None:
        self.account = account
        self.log = log
        self.step = 0

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
        print(f"      App Runner: {self.account.service_status()}; pause claims: {claims or 'none'}")


def main() -> int:
    LOG_PATH.parent.mkdir(exist_ok=True)
    print("Warden demo: the consultation app's month, against a local AWS (moto + App Runner emulator).")
    with LOG_PATH.open("w") as log, local_account(actual_spend="8.13") as account:
        print(f"  moto server:          {account.moto_url}")
        print(f"  App Runner emulator:  {account.apprunner_url}")
        print(f"  guarded service:      {account.service_arn}  (RUNNING, 0.25 vCPU / 0.5 GB)")
        print(f"  budget:               {account.budget_name}, $10.00 a month; alerts at 80 % and 100 %")
        print(f"  handler logs:         {_relative(LOG_PATH)}")
        timeline = Timeline(account, log)
        failures = _play_budget_month(timeline)
    print("\nThe demo stopped both servers; no process is left running.")
    return 1 if failures else 0


def _play_budget_month(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    # The story happens now, in the current budget month, so the alerts' dates, the Budgets period and
    # the handlers' own clock agree.
    breached_at = datetime.now(UTC).replace(second=0, microsecond=0)
    warned_at = max(breached_at - timedelta(days=7), breached_at.replace(day=1, hour=9, minute=12))

    timeline.say(
        f"{warned_at:%b %d, %H:%M}",
        "AWS Budgets: actual spend passed 80 % ($8.13 of $10.00) -> on_budget_alert",
    )
    warning = sns_event(
        budget_message(name=account.budget_name, threshold="$8.00", amount="$8.13", date=f"{warned_at:%B %d, %Y}"),
        message_id="3b0f8c52-8d0e-4b7e-9a55-0c1d2e3f4a01",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(warned_at),
    )
    outcome = timeline.run("on_budget_alert", warning)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += _expect(outcome["outcome"] == "warned" and timeline.show_inbox() == 1, "the 80 % alert warns")
    timeline.state()

    timeline.say(f"{breached_at:%b %d, %H:%M}", "AWS Budgets: actual spend passed 100 % ($10.42 of $10.00)")
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    breach = sns_event(
        budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42", date=f"{breached_at:%B %d, %Y}"),
        message_id="9c4e2a17-5b6d-4f80-8e21-7a9b0c1d2e02",
        topic_arn=account.budget_topic_arn,
        timestamp=_sns_time(breached_at),
    )
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    failures += _expect(outcome["outcome"] == "paused" and timeline.show_inbox() == 1, "the 104 % alert pauses")
    timeline.state()

    timeline.say(f"{breached_at:%b %d, %H:%M}", "SNS delivers the same alert again (at-least-once delivery)")
    outcome = timeline.run("on_budget_alert", breach)[0]
    timeline.note(f"Warden: {outcome['outcome']}: {outcome['reason']}")
    pauses = len(account.emulator.calls("PauseService"))
    timeline.note(f"App Runner PauseService calls so far: {pauses}")
    failures += _expect(
        outcome["outcome"] == "duplicate" and timeline.show_inbox() == 0 and pauses == 1,
        "the repeat is ignored: one pause, one notification",
    )
    timeline.state()
    return failures


def _sns_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _expect(ok: bool, what: str) -> int:
    if not ok:
        print(f"      !! demo check failed: {what}", file=sys.stderr)
    return 0 if ok else 1


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
