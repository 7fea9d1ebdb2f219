"""`warden audit-keys`: the weekly access-key audit, on demand, printed as a table."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from warden.cli.selection import first_settings
from warden.observability import logger
from warden.usecases.audit_keys import (
    Outcome,
    audit_access_keys,
    deactivation_lines,
    findings_table,
    undo_lines,
)
from warden.wiring import audit_keys_deps

DESCRIPTION = """\
Runs the same audit as the weekly audit_access_keys function: one IAM credential report, every user's
tags in one bulk call, and a class per access key (root key present, overdue, unused, due, delete me,
exempt, ok). Key ids are shown only as their last four characters.

By default it only prints: no digest is sent and no key is changed. Overdue keys that the weekly run
would deactivate (KEY_DEACTIVATE_AFTER_DAYS) are re-read and shown as "would".
  --notify  also sends the digest to the notification topic, exactly as the weekly run does
            (a clean account's short digest at most every KEY_HEALTHY_DIGEST_DAYS days).
  --apply   deactivates those keys, as the weekly run does, and records it in the action log.
            DRY_RUN=true (or --dry-run) still changes nothing.
"""


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser(
        "audit-keys",
        help="audit IAM access keys (prints only, unless --notify / --apply)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--notify", action="store_true", help="also send the digest to the notification topic")
    audit.add_argument(
        "--apply", action="store_true", help="deactivate overdue keys at least KEY_DEACTIVATE_AFTER_DAYS old"
    )
    audit.set_defaults(handler=_audit_keys)


def _audit_keys(args: argparse.Namespace) -> int:
    # The audit's structured logs are for Lambda; on a terminal they would interleave with the table.
    logger.setLevel("WARNING")
    # Account-wide: its records and memos are kept with the stack's first service, as the weekly run keeps them.
    settings = first_settings()
    result = audit_access_keys(
        audit_keys_deps(settings), settings, datetime.now(UTC), notify=args.notify, apply=args.apply
    )
    print(findings_table(result.findings, result.deactivations))
    print(f"\nSummary   {result.reason}")
    print("Counts    " + ", ".join(f"{kind} {number}" for kind, number in result.counts.items()))
    print(f"Report    {result.report_age}")
    if result.deactivations:
        print("\nDeactivation")
        for line in deactivation_lines(result.deactivations):
            print(f"  {line}")
    undo = undo_lines(result.deactivations)
    if undo:
        print("\nHow to undo")
        for line in undo:
            print(f"  {line}")
    if result.outcome is Outcome.PRINTED:
        print("\nNo digest sent (use --notify to send one).")
    elif result.notification_event:
        print(f"\nDigest sent: {result.notification_event} ({result.severity.value}).")
    else:
        print(f"\nNo digest sent: {result.reason}")
    return 0
