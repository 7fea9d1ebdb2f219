"""`warden status` for a stack that guards several services: one line a service, then how to see one in full."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from warden.domain.table import table
from warden.errors import ServiceNotFound
from warden.settings import Settings
from warden.usecases.fleet import CONCURRENCY, Member
from warden.wiring import service_controller, state_table, target_facts

HEADERS = ["service", "platform", "state", "claims", "budget", "hours"]
DETAILS = "Details of one service: warden status --service <name>"


def fleet_report(members: Sequence[Member]) -> str:
    """The table, each service's tag problems, a count and the hint. A service that cannot be read says why in its
    own cells; the others still show."""
    settings_of = [member.settings for member in members]
    # A few services at a time, as the reconcile reads them: a fleet of hundreds answers in seconds.
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        rows = list(pool.map(_row, settings_of))
    lines = [table(HEADERS, rows), ""]
    names = Counter(settings.service.name for settings in settings_of)
    for name in (name for name, times in names.items() if times > 1):
        # A name several services share selects none of them: `--service` wants one of these ARNs.
        arns = ", ".join(settings.service.arn for settings in settings_of if settings.service.name == name)
        lines.append(f"Same name    {name}: choose one by ARN: {arns}")
    for member in members:
        lines.extend(
            f"Tag problem  {member.settings.service.name}: {problem} (the stack's setting applies)"
            for problem in member.problems
        )
    if lines[-1]:
        lines.append("")
    listed = sum(member.listed for member in members)
    lines.append(f"{len(members)} services guarded ({listed} listed, {len(members) - listed} tagged warden:guard).")
    if any(settings.dry_run for settings in settings_of):
        lines.append("Dry run on: nothing is changed.")
    lines.append(DETAILS)
    return "\n".join(lines)


def _row(settings: Settings) -> list[str]:
    service = settings.service
    return [
        service.name,
        target_facts(service).platform,
        _state(settings),
        _claims(settings),
        settings.budget_name,
        _hours(settings),
    ]


def _state(settings: Settings) -> str:
    arn = settings.service.arn
    try:
        return service_controller(settings).describe(arn).status.value
    except Exception as error:  # one service's failure is its cell, never the whole list's end
        why = "not found" if isinstance(error, ServiceNotFound) else "cannot describe"
        # The row names the service already: its ARN in the message only widens the column.
        text = str(error).replace(f"{arn}: ", "").replace(f": {arn}", "").replace(arn, "it")
        return _cut(f"{why}: {text}", 70)


def _claims(settings: Settings) -> str:
    try:
        claims = state_table(settings).list_claims(settings.service.arn)
    except Exception as error:  # as above
        return _cut(f"unknown: {error}", 70)
    return ", ".join(dict.fromkeys(claim.reason.value for claim in claims)) or "-"


def _hours(settings: Settings) -> str:
    hours = settings.working_hours
    if hours is None:
        return "off"
    return f"{hours.describe()} ({'tag' if settings.hours_from_tag else 'stack'})"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
