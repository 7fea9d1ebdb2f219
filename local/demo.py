"""`make demo`: a month of Warden against a local, emulated AWS account. No AWS account needed.

It starts moto's server and the App Runner emulator on 127.0.0.1, seeds the consultation app's
account, runs the real Lambda handlers on scripted events and prints each notification exactly as
the operator's inbox receives it. Every process and port it opens is closed before it exits.

The story is told in acts (`local/demo_*.py`), each a `play(timeline) -> failures` function.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from local import demo_alarms, demo_budget, demo_images, demo_keys, demo_pipeline, demo_schedule
from local.account import local_account
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


def main() -> int:
    LOG_PATH.parent.mkdir(exist_ok=True)
    print("Warden demo: the consultation app's month, against a local AWS (moto + App Runner emulator).")
    failures = 0
    with LOG_PATH.open("w") as log, local_account(actual_spend="8.13") as account:
        print(f"  moto server:          {account.moto_url}")
        print(f"  App Runner emulator:  {account.apprunner_url}")
        print(f"  guarded service:      {account.service_arn}  (RUNNING, 0.25 vCPU / 0.5 GB)")
        print(f"  budget:               {account.budget_name}, $10.00 a month; alerts at 80 % and 100 %")
        print(f"  handler logs:         {_relative(LOG_PATH)}")
        timeline = Timeline(account, log)
        for act in ACTS:
            failures += act(timeline)
    print("\nThe demo stopped both servers; no process is left running.")
    if failures:
        print(f"{failures} demo check(s) failed: see the lines marked '!!' above.", file=sys.stderr)
    return 1 if failures else 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
