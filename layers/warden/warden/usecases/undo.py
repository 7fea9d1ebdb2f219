"""The exact commands an operator runs to undo what Warden did; every notification ends with them.

App Runner has a resume of its own. ECS has none: Warden's pause set the desired count to 0 and pinned the
Auto Scaling target to 0..0, so undoing it by hand means putting back what Warden remembered. When the
notification is written right after the pause, that memo is read and the commands carry the exact numbers;
otherwise (a dry run, an older pause) they show where to read them.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping

from warden.domain.claims import ClaimReason
from warden.domain.records import claim_sort_key, service_partition
from warden.domain.service import ECS_PAUSE_MEMO
from warden.settings import ServiceKind, ServiceRef, Settings
from warden.usecases.ports import StatePort


def undo_pause_lines(
    settings: Settings, reason: ClaimReason, claim_key: str, *, state: StatePort | None = None
) -> list[str]:
    """`state` lets an ECS notification quote the desired count and scaling target the pause remembered."""
    service = settings.service
    key = json.dumps(
        {"PK": {"S": service_partition(service.arn)}, "SK": {"S": claim_sort_key(claim_key)}},
        separators=(",", ":"),
    )
    override = "" if reason is ClaimReason.MANUAL else f" --override {reason.value}"
    lines = [
        "With the Warden CLI (records who resumed and why):",
        f'  warden resume{override} --reason "<why>"',
        "With the AWS CLI (clear the claim first, or Warden pauses the service again):",
        f"  aws dynamodb delete-item --table-name {shlex.quote(settings.state_table)} --key {shlex.quote(key)}",
    ]
    if service.kind is ServiceKind.ECS:
        remembered = state.get_memo(service.arn, ECS_PAUSE_MEMO) if state is not None else None
        return lines + _ecs_restore(settings, remembered)
    return [*lines, f"  aws apprunner resume-service --service-arn {service.arn} --region {service.region}"]


def _ecs_restore(settings: Settings, remembered: Mapping[str, str] | None) -> list[str]:
    service = settings.service
    region = f"--region {service.region}"
    if remembered is None:
        memo_key = json.dumps(
            {"PK": {"S": service_partition(service.arn)}, "SK": {"S": f"MEMO#{ECS_PAUSE_MEMO}"}},
            separators=(",", ":"),
        )
        return [
            "  then put back the desired count and Auto Scaling target from before the pause; Warden remembered them:",
            f"  aws dynamodb get-item --table-name {shlex.quote(settings.state_table)} --key {shlex.quote(memo_key)}",
            f"  aws ecs update-service --cluster {service.cluster} --service {service.name} "
            f"--desired-count <desired_count> {region}",
        ]
    if remembered.get("path") == "express":
        scaling = json.loads(remembered.get("express_scaling") or "{}")
        target = {
            "minTaskCount": int(scaling.get("minTaskCount", 1)),
            "maxTaskCount": int(scaling.get("maxTaskCount", 1)),
        }
        return [
            f"  aws ecs update-express-gateway-service --service-arn {service.arn} "
            f"--scaling-target {shlex.quote(json.dumps(target, separators=(',', ':')))} {region}"
        ]
    lines: list[str] = []
    if remembered.get("scalable_target"):
        lines.append(_register_target(service, json.loads(remembered["scalable_target"])))
    desired = remembered.get("desired_count") or "1"
    lines.append(f"  aws ecs update-service --cluster {service.cluster} --service {service.name} {region} ")
    lines[-1] += f"--desired-count {desired}"
    return lines


def _register_target(service: ServiceRef, target: Mapping[str, object]) -> str:
    suspended = ",".join(
        f"{name}={str(bool(target.get(field, False))).lower()}"
        for name, field in (
            ("DynamicScalingInSuspended", "scaling_in_suspended"),
            ("DynamicScalingOutSuspended", "scaling_out_suspended"),
            ("ScheduledScalingSuspended", "scheduled_suspended"),
        )
    )
    return (
        "  aws application-autoscaling register-scalable-target --service-namespace ecs "
        f"--resource-id service/{service.cluster}/{service.name} --scalable-dimension ecs:service:DesiredCount "
        f"--min-capacity {target.get('minimum')} --max-capacity {target.get('maximum')} "
        f"--suspended-state {suspended} --region {service.region}"
    )


def remembered_scale(state: StatePort, settings: Settings) -> str | None:
    """What a resume of a paused ECS service puts back, in words ("3 tasks, auto scaling 2..5"); None when
    nothing is remembered (an App Runner service, or an ECS service Warden did not pause)."""
    if settings.service.kind is not ServiceKind.ECS:
        return None
    memo = state.get_memo(settings.service.arn, ECS_PAUSE_MEMO)
    if memo is None:
        return None
    if memo.get("path") == "express":
        scaling = json.loads(memo.get("express_scaling") or "{}")
        return f"Express scaling {scaling.get('minTaskCount', '?')}..{scaling.get('maxTaskCount', '?')} tasks"
    desired = memo.get("desired_count") or "?"
    words = f"{desired} task{'' if desired == '1' else 's'}"
    if memo.get("scalable_target"):
        target = json.loads(memo["scalable_target"])
        words += f", auto scaling {target.get('minimum')}..{target.get('maximum')}"
    return words
