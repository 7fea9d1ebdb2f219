"""The operator CLI: `warden <command>` (console script) or `python -m warden <command>`.

It reads the same settings as the functions (flags override them) and the fleet the last reconcile stored
(cli/selection.py: a command about one service acts on `--service NAME|ARN`, or on the only guarded service),
reaches AWS through the same adapters and the standard endpoint variables, and runs the same use cases.
Errors are one clear line on stderr with a non-zero exit status; tables go to stdout.

Each command group lives in its own module with a `register(subparsers)` function that adds its
sub-commands and sets `handler` (a callable taking the parsed arguments and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from warden import __version__
from warden.errors import WardenError

# Command groups, in the order `warden --help` lists them.
COMMAND_MODULES = (
    "warden.cli.service",
    "warden.cli.keys",
    "warden.cli.images",
    "warden.cli.pipeline",
    "warden.cli.doctor",
)

NO_REGION = "no AWS region: set AWS_REGION (or a profile's region) or pass --region"

SETTING_FLAGS = {
    "--service-arn": "SERVICE_ARN",
    "--table": "STATE_TABLE",
    "--topic-arn": "NOTIFY_TOPIC_ARN",
    "--budget": "BUDGET_NAME",
}


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints a usage block on a bad command line; the CLI's errors are one line on stderr, exit 2.

    Sub-command parsers inherit this class (argparse builds them with the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"warden: {self.prog.removeprefix('warden ')}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="warden",
        description="Warden's operator CLI. Settings come from the same environment variables as the "
        "functions (SERVICE_ARN, SERVICE_ARNS, STATE_TABLE, NOTIFY_TOPIC_ARN, BUDGET_NAME, DRY_RUN, ...); flags "
        "override them. A stack that guards several services: `warden status` lists them, and a command about "
        "one service takes `--service NAME|ARN` after the command.",
    )
    parser.add_argument("--version", action="version", version=f"warden {__version__}")
    for flag, variable in SETTING_FLAGS.items():
        parser.add_argument(flag, metavar=variable, help=f"overrides {variable}")
    parser.add_argument("--region", metavar="AWS_REGION", help="the stack's region (overrides AWS_REGION)")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen; change nothing (DRY_RUN=true)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The functions log JSON to stdout for CloudWatch; at a terminal stdout is for tables, so the CLI
    # logs only warnings, and to stderr.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from warden.observability import logger

    for handler in logging.getLogger(logger.name).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    for flag, variable in SETTING_FLAGS.items():
        value = getattr(args, flag.removeprefix("--").replace("-", "_"))
        if value:
            os.environ[variable] = value
    if args.dry_run:
        os.environ["DRY_RUN"] = "true"
    # botocore reads AWS_DEFAULT_REGION only; Lambda and most shells set AWS_REGION too, so honour both.
    region = args.region or (None if os.environ.get("AWS_DEFAULT_REGION") else os.environ.get("AWS_REGION"))
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    elif not _region_configured():
        print(f"warden: {NO_REGION}", file=sys.stderr)
        return 2
    try:
        code: int = args.handler(args)
    except WardenError as error:
        print(f"warden: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("warden: interrupted", file=sys.stderr)
        return 130
    return code


def _region_configured() -> bool:
    from warden.adapters.clients import region_configured

    return region_configured()
