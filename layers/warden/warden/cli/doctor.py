"""`warden doctor`: can Warden do its job? One line per check, what to fix under each problem; exit 1 on any."""

from __future__ import annotations

import argparse
import os
from typing import Any

from warden.cli.selection import add_service_option, chosen_settings

DESCRIPTION = """\
Checks, read-only, with your own AWS rights:
  credentials   the caller's account is the service's account
  region        calls go to the service's region
  service       the guarded service exists (--service, or the only one the stack guards)
  budget        BUDGET_NAME exists (and its spend)
  budget alert  an ACTUAL alert at the enforce threshold (ENFORCE_THRESHOLD_PERCENT) sends to Warden's
                budget topic (BUDGET_TOPIC_ARN, the stack output BudgetAlertTopicArn)
  notify topic  NOTIFY_TOPIC_ARN has at least one confirmed subscription
  state table   STATE_TABLE answers
Exit status 0 when every check is ok, 1 when any is not.
run_schedule runs the budget checks every 6 hours and sends a critical notification when one fails.
"""


def register(subparsers: Any) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        help="check credentials, the service, the budget alert wiring, the notify topic and the state table",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.add_argument(
        "--budget-topic-arn",
        metavar="BUDGET_TOPIC_ARN",
        help="Warden's budget topic (stack output BudgetAlertTopicArn); overrides BUDGET_TOPIC_ARN",
    )
    add_service_option(doctor)
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from warden.usecases.doctor import run_doctor
    from warden.wiring import doctor_deps

    if args.budget_topic_arn:
        os.environ["BUDGET_TOPIC_ARN"] = args.budget_topic_arn
    # The table's own check says what is wrong with it: until then the listed services are enough to check.
    settings = chosen_settings(args, table_optional=True)
    report = run_doctor(doctor_deps(settings), settings)
    width = max(len(check.name) for check in report.checks)
    for check in report.checks:
        print(f"{check.status.value:<8} {check.name:<{width}}  {check.detail}")
        for line in check.fix:
            print(f"{'':<8} {'':<{width}}  {line}")
    if report.ok:
        print("\nAll checks passed.")
        return 0
    print(f"\n{len(report.problems)} of {len(report.checks)} checks need attention.")
    return 1
