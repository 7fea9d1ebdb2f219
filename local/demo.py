"""`make demo`: a month of Warden against a local, emulated AWS account. No AWS account needed.

It starts moto's server and the App Runner emulator on 127.0.0.1, seeds the consultation app's
account, runs the real Lambda handlers on scripted events and prints what the operator's inbox
receives. Every process and port it opens is closed before it exits.

The month is one simulated clock (`local/demo_clock.py`): it starts on the 1st of the current month (or
`--month YYYY-MM`), moves only forward, and every handler, moto's server, the emulator and the `warden`
CLI read it. Working hours are on (Mon-Fri 08:00-18:00 UTC, the README's default hours and days), and
their runs happen between the steps whether a step shows them or not. By default each step is a few
lines (what happens, what Warden did, the notification's subject); `--verbose` prints every message in full.

`--target ecs` (`make demo TARGET=ecs`) plays the month against an ECS Fargate service instead (moto's
ECS and Application Auto Scaling): the same handlers, only SERVICE_ARN differs.

`--fleet` (`make demo FLEET=1`) plays a fleet instead: one stack guarding App Runner and ECS services found by
their tags, each with its own settings (`local/demo_fleet.py`).

The story is told in acts (`local/demo_*.py`), each a `play(timeline) -> failures` function, in the
order of the month.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from local import (
    demo_alarms,
    demo_budget,
    demo_ecs_alarms,
    demo_ecs_images,
    demo_ecs_pipeline,
    demo_fleet,
    demo_images,
    demo_keys,
    demo_pipeline,
    demo_schedule,
)
from local.account import LocalAccount, local_account
from local.demo_clock import SCHEDULE_ENV, WORKING_HOURS, Calendar, DemoClock
from local.ecs import seed_ecs_service
from local.template import ROOT
from local.timeline import Timeline

LOG_PATH = ROOT / ".demo" / "handler-logs.jsonl"
# In the order of the month: the working hours start, the key audit, an alarm, the image purge, releases,
# then the budget warns and pauses, and the next month's budget period and working morning resume the service.
ACTS: tuple[Callable[[Timeline], int], ...] = (
    demo_schedule.month_starts,
    demo_keys.play,
    demo_alarms.play,
    demo_images.play,
    demo_pipeline.play,
    demo_budget.play,
    demo_schedule.month_ends,
)
# The ECS month: the same story where the service's kind makes no difference to it, ECS's own acts where it does.
ECS_ACTS: tuple[Callable[[Timeline], int], ...] = (
    demo_schedule.month_starts,
    demo_keys.play,
    demo_ecs_alarms.play,
    demo_ecs_images.play,
    demo_ecs_pipeline.play,
    demo_budget.play,
    demo_schedule.month_ends,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.fleet and arguments.target == "ecs":
        parser.error("--fleet guards App Runner and ECS services together: leave out --target ecs")
    # Powertools warns on every invocation that publishes no metric (as in Lambda's logs): noise in a story.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    ecs = arguments.target == "ecs"
    calendar = Calendar(arguments.month or datetime.now(UTC).date().replace(day=1))
    LOG_PATH.parent.mkdir(exist_ok=True)
    if arguments.fleet:
        return demo_fleet.main(calendar, LOG_PATH, verbose=arguments.verbose)
    emulated = "moto's ECS + Application Auto Scaling" if ecs else "moto + App Runner emulator"
    print(f"Warden demo: the consultation app's month, against a local AWS ({emulated}).")
    failures = 0
    with (
        LOG_PATH.open("w") as log,
        DemoClock(calendar.period_start.replace(minute=0)) as clock,
        local_account(actual_spend="0.00") as seeded,
    ):
        account = _on_ecs(seeded) if ecs else seeded
        account.extra_env.update(SCHEDULE_ENV)
        print(f"  simulated month:      {calendar.first:%B %Y}, on one clock that every handler reads")
        print(f"  working hours:        {WORKING_HOURS}: paused every evening, resumed every morning")
        print(f"  moto server:          {account.moto_url}")
        if not ecs:
            print(f"  App Runner emulator:  {account.apprunner_url}")
        print(f"  guarded service:      {account.service_arn}")
        print(f"                        {account.service_line()}")
        print(f"  budget:               {account.budget_name}, $10.00 a month; alerts at 80 % and 100 %")
        print(f"  handler logs:         {_relative(LOG_PATH)}")
        if not arguments.verbose:
            print("  (each notification by its subject; make demo VERBOSE=1 prints every message in full)")
        timeline = Timeline(account, log, clock, calendar, verbose=arguments.verbose)
        for act in ECS_ACTS if ecs else ACTS:
            failures += act(timeline)
    print("\nThe demo stopped both servers; no process is left running.")
    if failures:
        print(f"{failures} demo check(s) failed: see the lines marked '!!' above.", file=sys.stderr)
    return 1 if failures else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target",
        choices=("apprunner", "ecs"),
        default="apprunner",
        help="the kind of service Warden guards in the demo (default: apprunner)",
    )
    parser.add_argument(
        "--fleet",
        action="store_true",
        help="play a fleet: one stack guarding App Runner and ECS services found by their warden:guard tag",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every notification, note and command output in full"
    )
    parser.add_argument(
        "--month", type=_month, default=None, help="the month to play, YYYY-MM (default: the current month)"
    )
    return parser


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month: {text!r} (expected YYYY-MM, e.g. 2027-02)") from None


def _on_ecs(account: LocalAccount) -> LocalAccount:
    """The same account guarding an ECS Fargate service of 2 tasks, auto scaling 1..4."""
    arn = seed_ecs_service(account, desired=2, scaling=(1, 4))
    return dataclasses.replace(account, service_arn=arn)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
