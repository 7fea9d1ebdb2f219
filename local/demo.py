"""`make demo`: a month of Warden against a local, emulated AWS account. No AWS account needed.

It starts moto's server and the App Runner emulator on 127.0.0.1, seeds the consultation app's
account, runs the real Lambda handlers on scripted events and prints each notification exactly as
the operator's inbox receives it. Every process and port it opens is closed before it exits.

`--target ecs` (`make demo TARGET=ecs`) plays the month against an ECS Fargate service instead (moto's
ECS and Application Auto Scaling): the same handlers, only SERVICE_ARN differs.

The story is told in acts (`local/demo_*.py`), each a `play(timeline) -> failures` function.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from local import (
    demo_alarms,
    demo_budget,
    demo_ecs_alarms,
    demo_ecs_images,
    demo_ecs_pipeline,
    demo_images,
    demo_keys,
    demo_pipeline,
    demo_schedule,
)
from local.account import LocalAccount, local_account
from local.ecs import seed_ecs_service
from local.template import ROOT
from local.timeline import Timeline

LOG_PATH = ROOT / ".demo" / "handler-logs.jsonl"
ACTS: tuple[Callable[[Timeline], int], ...] = (
    demo_budget.play,
    demo_schedule.play,
    demo_keys.play,
    demo_alarms.play,
    demo_images.play,
    demo_pipeline.play,
)
# The ECS month: the same story where the service's kind makes no difference to it, ECS's own acts where it does.
ECS_ACTS: tuple[Callable[[Timeline], int], ...] = (
    demo_budget.play,
    demo_schedule.play,
    demo_keys.play,
    demo_ecs_alarms.play,
    demo_ecs_images.play,
    demo_ecs_pipeline.play,
)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    ecs = arguments.target == "ecs"
    LOG_PATH.parent.mkdir(exist_ok=True)
    emulated = "moto's ECS + Application Auto Scaling" if ecs else "moto + App Runner emulator"
    print(f"Warden demo: the consultation app's month, against a local AWS ({emulated}).")
    failures = 0
    with LOG_PATH.open("w") as log, local_account(actual_spend="8.13") as seeded:
        account = _on_ecs(seeded) if ecs else seeded
        print(f"  moto server:          {account.moto_url}")
        if not ecs:
            print(f"  App Runner emulator:  {account.apprunner_url}")
        print(f"  guarded service:      {account.service_arn}")
        print(f"                        {account.service_line()}")
        print(f"  budget:               {account.budget_name}, $10.00 a month; alerts at 80 % and 100 %")
        print(f"  handler logs:         {_relative(LOG_PATH)}")
        timeline = Timeline(account, log)
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
    return parser


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
