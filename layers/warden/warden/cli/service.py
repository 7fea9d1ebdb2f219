"""`warden status | pause | resume | move | history`: the guarded services and their pause claims.

Each acts on one service (`--service NAME|ARN`, or the only one the stack guards); `status` without `--service`
lists the fleet when the stack guards several."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from typing import Any

from warden.cli.selection import NO_SERVICE, add_service_option, choose, chosen_settings, fleet
from warden.domain.claims import ClaimReason, desired_state
from warden.domain.costs import SECTION
from warden.domain.table import table
from warden.messages.spend import accuracy_line
from warden.usecases.operator import manual_pause, manual_resume, pause_cost_lines, status
from warden.usecases.spend_guard import SpendStatus
from warden.wiring import operator_deps

OVERRIDABLE = [reason.value for reason in ClaimReason if reason is not ClaimReason.MANUAL]


def register(subparsers: Any) -> None:
    show = subparsers.add_parser("status", help="service state, pause claims, budget spend, last actions")
    show.add_argument("--actions", type=_count, default=10, metavar="N", help="how many recent actions to show")
    show.add_argument(
        "--service",
        metavar="NAME|ARN",
        help="show this guarded service in full (its ARN, or its name when unique); without it a stack that "
        "guards several lists them, one line each",
    )
    show.set_defaults(handler=_status)

    pause = subparsers.add_parser("pause", help="pause the service with a manual claim")
    pause.add_argument("--reason", required=True, help="why (recorded, and sent in the notification)")
    add_service_option(pause)
    pause.set_defaults(handler=_pause)

    resume = subparsers.add_parser(
        "resume", help="clear the manual claim (or, with --override, another source's) and resume if none is left"
    )
    resume.add_argument("--override", choices=OVERRIDABLE, help="clear this source's claim instead of the manual one")
    resume.add_argument("--reason", help="why (required with --override; recorded)")
    add_service_option(resume)
    resume.set_defaults(handler=_resume)

    move = subparsers.add_parser(
        "move",
        help="after moving the app (e.g. App Runner to ECS): carry the old service's pause claims and deployment "
        "history over to the guarded service (--service, or the only one)",
    )
    move.add_argument("--from", dest="old_arn", required=True, metavar="OLD_SERVICE_ARN", help="the service moved from")
    add_service_option(move)
    move.set_defaults(handler=_move)

    history = subparsers.add_parser("history", help="the action log, newest first")
    history.add_argument("--limit", type=_count, default=30, metavar="N", help="how many actions (1 to 1000)")
    add_service_option(history)
    history.set_defaults(handler=_history)


def _count(text: str) -> int:
    """A number of rows to show: 1 to 1000 (argparse turns the ValueError into a one-line error)."""
    number = int(text)
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 1000, got {text}")
    return number


def _status(args: argparse.Namespace) -> int:
    members = fleet()
    if args.service is None and len(members) != 1:
        if not members:
            print(NO_SERVICE[0].upper() + NO_SERVICE[1:] + ".")
            return 0
        from warden.cli.fleet import fleet_report

        print(fleet_report(members))
        return 0
    settings = choose(members, args.service).settings
    now = datetime.now(UTC)
    report = status(operator_deps(settings), settings, actions=args.actions)
    service = report.service
    print(f"Service   {service.name}  {service.status.value}")
    print(f"          {service.arn}")
    if service.image_identifier:
        print(f"Image     {service.image_identifier}")
    if report.resume_restores:
        print(f"Resume    restores {report.resume_restores} (remembered when Warden paused it)")
    desire = desired_state(report.claims)
    if report.claims:
        print(f"Claims    should be {desire.state.value}: {desire.reason}")
        rows = [[c.key, c.reason.value, c.owner, _age(now, c.created_at), _cut(c.evidence, 70)] for c in report.claims]
        print(table(["claim", "reason", "owner", "age", "evidence"], rows))
    else:
        print(f"Claims    none: the service should be {desire.state.value}")
    if report.budget is not None:
        budget = report.budget
        start, end = budget.period(now)
        print(
            f"Budget    {budget.name}: {budget.actual} of {budget.limit} ({budget.actual_percent}%), "
            f"pause at {settings.enforce_threshold_percent}%; period {start} to {end}"
        )
    else:
        print(f"Budget    {settings.budget_name}: unavailable ({report.budget_error})")
    if report.spend is not None:
        _spend_lines(report.spend, settings.spend_guard.value, now)
    print(f"Dry run   {'on: nothing is changed' if settings.dry_run else 'off'}")
    print("\nLast actions")
    print(_actions_table(report.actions, now))
    return 0


def _spend_lines(spend: SpendStatus, mode: str, now: datetime) -> None:
    """The spend guard: its last estimate with its parts, the projection, and how it compared with Budgets."""
    when = f"{_age(now, spend.at)} ago" if spend.at else "never"
    if spend.estimate is None:
        print(f"Spend     guard (SPEND_GUARD={mode}): no estimate ({when}): {spend.reason}")
    else:
        print(f"Spend     guard (SPEND_GUARD={mode}): estimate ${spend.estimate:,.2f}, {when}; {spend.projection}")
        for line in spend.parts[1:]:
            print(f"          {_cut(line, 110)}")
    if spend.accuracy:
        mean = spend.mean_absolute_error or 0
        compared = len(spend.accuracy)
        print(f"Accuracy  the last {compared} estimates against Budgets' next figure (mean error ${mean:,.2f}):")
        for comparison in spend.accuracy[-5:]:
            print(f"          {accuracy_line(comparison)}")


def _pause(args: argparse.Namespace) -> int:
    settings = chosen_settings(args)
    change = manual_pause(operator_deps(settings), settings, who=_who(), reason=args.reason, now=datetime.now(UTC))
    print(change.line)
    print(change.result.summary)
    costs = pause_cost_lines(change)
    if costs:
        print(f"{SECTION}:")
        print("\n".join(f"  {line}" for line in costs))
    return 0


def _resume(args: argparse.Namespace) -> int:
    if args.override and not args.reason:
        print(f"warden: --override {args.override} needs --reason (it is recorded with the override)", file=sys.stderr)
        return 2
    settings = chosen_settings(args)
    override = ClaimReason(args.override) if args.override else None
    changes = manual_resume(
        operator_deps(settings),
        settings,
        who=_who(),
        reason=args.reason or "resumed by hand",
        override=override,
        now=datetime.now(UTC),
    )
    for change in changes:
        print(change.line)
    print(changes[-1].result.summary)
    return 0


def _move(args: argparse.Namespace) -> int:
    from warden.usecases.move import move_from
    from warden.wiring import target_facts

    settings = chosen_settings(args)

    result = move_from(
        operator_deps(settings),
        settings,
        old_arn=args.old_arn,
        who=_who(),
        now=datetime.now(UTC),
        facts_of=target_facts,
    )
    print(result.summary + ".")
    for change in result.claims:
        print(f"  {change.line}")
    claims = result.claims[-1].result.summary if result.claims else ""
    if claims:
        print(f"  {claims}")
    return 0


def _history(args: argparse.Namespace) -> int:
    settings = chosen_settings(args)
    actions = operator_deps(settings).state.list_actions(settings.service.arn, limit=args.limit)
    print(_actions_table(actions, datetime.now(UTC)))
    return 0


def _actions_table(actions: Any, now: datetime) -> str:
    rows = [
        [
            f"{record.at:%Y-%m-%d %H:%M}",
            record.actor,
            record.action,
            record.outcome + (" (dry run)" if record.dry_run else ""),
            _cut(record.reason, 80),
        ]
        for record in actions
    ]
    return table(["time (UTC)", "by", "action", "outcome", "reason"], rows, empty="(no actions recorded)")


def _who() -> str:
    try:
        return os.environ.get("WARDEN_OPERATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _age(now: datetime, then: datetime) -> str:
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
