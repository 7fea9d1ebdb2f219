"""The exact commands an operator runs to undo what Warden did; every notification ends with them.

Clearing the pause claim is the same everywhere (Warden's CLI, or the state table by hand); resuming the service
by hand is the platform's: its target gives those commands. A platform whose pause Warden emulates (ECS: the
desired count and Auto Scaling target) quotes what it remembered when `state` is given, right after the pause;
otherwise (a dry run, an older pause) it shows where to read it.
"""

from __future__ import annotations

import json
import shlex

from warden.domain.claims import ClaimReason
from warden.domain.records import claim_sort_key, service_partition
from warden.settings import Settings
from warden.usecases.ports import StatePort
from warden.usecases.target import Target


def undo_pause_lines(
    target: Target, settings: Settings, reason: ClaimReason, claim_key: str, *, state: StatePort | None = None
) -> list[str]:
    service = settings.service
    key = json.dumps(
        {"PK": {"S": service_partition(service.arn)}, "SK": {"S": claim_sort_key(claim_key)}},
        separators=(",", ":"),
    )
    override = "" if reason is ClaimReason.MANUAL else f" --override {reason.value}"
    return [
        "With the Warden CLI (records who resumed and why):",
        f'  warden resume{override} --reason "<why>"',
        "With the AWS CLI (clear the claim first, or Warden pauses the service again):",
        f"  aws dynamodb delete-item --table-name {shlex.quote(settings.state_table)} --key {shlex.quote(key)}",
        *target.resume_commands(state, settings.state_table),
    ]
