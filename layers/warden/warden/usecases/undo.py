"""The exact commands an operator runs to undo what Warden did; every notification ends with them."""

from __future__ import annotations

import json
import shlex

from warden.domain.claims import ClaimReason
from warden.domain.records import claim_sort_key, service_partition
from warden.settings import Settings


def undo_pause_lines(settings: Settings, reason: ClaimReason, claim_key: str) -> list[str]:
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
        f"  aws apprunner resume-service --service-arn {service.arn} --region {service.region}",
    ]
