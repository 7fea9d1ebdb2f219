"""Which service a command is about: one member of the fleet the last reconcile stored, chosen by `--service`.

A stack guards the services it lists (SERVICE_ARN, SERVICE_ARNS) and every service tagged `warden:guard` = `true`;
each member has its own settings (its `warden:*` tags laid over the stack's). A command about one service takes
the only member, or the one `--service NAME|ARN` names. With several members and no `--service` it refuses and
names them: guessing would pause, release or roll back the wrong service.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from warden.errors import SettingsError, StateUnavailable, WardenError
from warden.settings import Settings, StackSettings
from warden.usecases.fleet import Member, members_of, read_record
from warden.wiring import fleet_store

NO_SERVICE = (
    "no service is guarded yet: set SERVICE_ARN (or SERVICE_ARNS), or tag an App Runner or ECS service "
    "warden:guard=true (the next reconcile, within 15 minutes, guards it)"
)
SERVICE_HELP = (
    "the guarded service: its ARN, or its name when no other guarded service has it (needed when the stack "
    "guards several; `warden status` lists them)"
)
_NAMED = 10  # names an error line lists; `warden status` lists a bigger fleet


class ServiceChoiceError(WardenError):
    """`--service` names no guarded service or several, or a command about one service met several without it."""


def add_service_option(parser: Any) -> None:
    parser.add_argument("--service", metavar="NAME|ARN", help=SERVICE_HELP)


def stack_settings() -> StackSettings:
    """The stack's settings from the environment (the flags already written into it)."""
    try:
        return StackSettings.from_env()
    except SettingsError:
        named = any(os.environ.get(name, "").strip() for name in ("SERVICE_ARN", "SERVICE_ARNS"))
        if named or os.environ.get("STATE_TABLE", "").strip():
            raise
        # Without STATE_TABLE there is no stored fleet either, so nothing names a service: the error says so too
        # (Settings' own message, SERVICE_ARN first, as before fleets).
        Settings.from_env()
        raise


def fleet(*, table_optional: bool = False) -> list[Member]:
    """The guarded services, listed ones first. `table_optional`: when the state table cannot be read, the listed
    services alone (for `warden doctor`, whose checks report the table); otherwise that is the command's error."""
    stack = stack_settings()
    try:
        stored = read_record(fleet_store(stack)).members
    except StateUnavailable:
        if not table_optional or not stack.services:
            raise
        stored = ()
    return members_of(stack, stored)


def choose(members: Sequence[Member], wanted: str | None) -> Member:
    """The member `wanted` names (ARN, or a name no other member has); without `wanted`, the only member."""
    if wanted is None:
        if len(members) == 1:
            return members[0]
        if not members:
            raise ServiceChoiceError(NO_SERVICE)
        raise ServiceChoiceError(
            f"this stack guards {len(members)} services: choose one with --service NAME|ARN ({_names(members)})"
        )
    wanted = wanted.strip()
    for member in members:
        if member.settings.service.arn == wanted:
            return member
    named = [member for member in members if member.settings.service.name == wanted]
    if len(named) == 1:
        return named[0]
    if named:
        arns = ", ".join(member.settings.service.arn for member in named)
        raise ServiceChoiceError(
            f"--service {wanted}: {len(named)} guarded services have that name; choose one by ARN: {arns}"
        )
    if not members:
        raise ServiceChoiceError(f"--service {wanted}: {NO_SERVICE}")
    raise ServiceChoiceError(
        f"--service {wanted}: no guarded service has that name or ARN (guarded: {_names(members)})"
    )


def chosen(args: argparse.Namespace, *, table_optional: bool = False) -> Member:
    """The member the command is about (`--service`, or the only one)."""
    return choose(fleet(table_optional=table_optional), getattr(args, "service", None))


def chosen_settings(args: argparse.Namespace, *, table_optional: bool = False) -> Settings:
    """The settings of the service the command is about: the stack's with that service's tags laid over them."""
    return chosen(args, table_optional=table_optional).settings


def first_settings() -> Settings:
    """For account-wide commands (the key audit): the first member's settings, where the stack keeps their records
    and memos, as the scheduled function does."""
    members = fleet()
    if not members:
        raise ServiceChoiceError(NO_SERVICE)
    return members[0].settings


def _names(members: Sequence[Member]) -> str:
    names = Counter(member.settings.service.name for member in members)
    shown = [name if times == 1 else f"{name} (x{times}: by ARN)" for name, times in names.items()]
    more = len(shown) - _NAMED
    return ", ".join(shown[:_NAMED]) + (f" and {more} more" if more > 0 else "")
