"""`warden purge-images`: the image purge's plan as a table, or a real run on demand."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from warden.cli.selection import add_service_option, chosen_settings
from warden.domain.images import PurgeTrigger, format_size, format_usd, monthly_storage_cost
from warden.domain.retention import DELETE_RULES, Decision
from warden.domain.table import table
from warden.messages.images import plan_notes, running_line, task_definition_lines
from warden.observability import logger
from warden.settings import ImagePurgeMode
from warden.usecases.purge_images import Outcome, prepare_plan, purge_images
from warden.wiring import purge_images_deps

DESCRIPTION = """\
Plans (and with --apply runs) the same purge as the daily purge_images function, for the repository of
the guarded service (--service, or the only one): its warden:repository tag, else ECR_REPOSITORY; --repository
overrides both.

  --plan   (the default) prints every image with its decision and reason. It deletes nothing, sends
           nothing and records nothing: it only reads App Runner, ECR and the deployment history.
  --apply  deletes what the plan lists, by digest in batches of 100, then records the run and sends
           the summary notification, as the daily run in IMAGE_PURGE_MODE=delete does. IMAGE_PURGE_MODE
           does not matter here: --apply is the operator's explicit "delete". DRY_RUN=true (or --dry-run)
           still wins: the run only plans, and its notification says so.
"""


def register(subparsers: Any) -> None:
    purge = subparsers.add_parser(
        "purge-images",
        help="show the image purge plan (--plan, the default) or run it (--apply)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = purge.add_mutually_exclusive_group()
    what.add_argument("--plan", action="store_true", help="print the plan; change nothing (the default)")
    what.add_argument("--apply", action="store_true", help="delete what the plan lists (unless DRY_RUN)")
    purge.add_argument(
        "--repository", metavar="ECR_REPOSITORY", help="overrides ECR_REPOSITORY and the warden:repository tag"
    )
    purge.add_argument("--deletions-only", action="store_true", help="list only the images the plan deletes")
    add_service_option(purge)
    purge.set_defaults(handler=_purge_images)


def _purge_images(args: argparse.Namespace) -> int:
    # The use case's structured logs are for Lambda; on a terminal they would interleave with the table.
    logger.setLevel("WARNING")
    settings = chosen_settings(args)
    if args.repository:
        # The operator's flag wins over the service's warden:repository tag too.
        settings = settings.model_copy(update={"ecr_repository": args.repository})
    deps = purge_images_deps(settings)
    now = datetime.now(UTC)
    if args.apply:
        result = purge_images(deps, settings, now, trigger=PurgeTrigger.MANUAL, mode=ImagePurgeMode.DELETE)
        print(f"Result    {result.outcome.value}: {result.reason}")
        if result.notification_event:
            print(f"Notified  {result.notification_event} on {settings.notify_topic_arn}")
        return 1 if result.outcome in {Outcome.PARTIAL, Outcome.BUSY, Outcome.NO_REPOSITORY} else 0
    prepared = prepare_plan(deps, settings, now)
    plan = prepared.plan
    decisions = plan.deletions if args.deletions_only else plan.decisions
    print(
        table(
            ["digest", "tags", "pushed", "size", "decision", "reason"],
            [_row(decision) for decision in decisions],
            empty="(no image to list)",
        )
    )
    size = plan.bytes_to_delete
    print(f"\nRepository  {prepared.repository}: {len(plan.decisions)} images")
    print(f"Running     {running_line(prepared.seen)}")
    for line in task_definition_lines(prepared.seen, prepared.policy.keep_deployed):
        print(f"            {line}")
    print(
        f"Plan        delete {len(plan.deletions)}, up to {format_size(size)} "
        f"(up to {format_usd(monthly_storage_cost(size))} a month); keep {len(plan.kept)}"
    )
    counts = plan.counts()
    kept = [f"{rule.value} {n}" for rule, n in counts.items() if rule not in DELETE_RULES]
    gone = [f"{rule.value} {n}" for rule, n in counts.items() if rule in DELETE_RULES]
    print("Kept as     " + ("; ".join(kept) or "-"))
    print("Deleted as  " + ("; ".join(gone) or "-"))
    for note in plan_notes(prepared):
        print(f"Note        {note}")
    mode = "DRY_RUN is on: no run deletes" if settings.dry_run else f"IMAGE_PURGE_MODE={settings.image_purge_mode}"
    print(f"Mode        {mode}; `warden purge-images --apply` deletes exactly the images marked delete")
    return 0


def _row(decision: Decision) -> list[str]:
    image = decision.image
    tags = ", ".join(image.tags) if image.tags else "-"
    return [
        image.short_digest,
        tags if len(tags) <= 40 else tags[:37] + "...",
        f"{image.pushed_at:%Y-%m-%d}",
        format_size(image.size_bytes),
        "delete" if decision.delete else "keep",
        decision.reason.split(": ", 1)[-1],
    ]
