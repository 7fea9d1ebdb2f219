"""Keep the standard alarms of every guarded service of a fleet: read what CloudWatch holds, plan, write the difference.

`reconcile_alarms` lists the `warden-` alarms (one DescribeAlarms per page), reads the tags of only those whose fate
depends on them (an alarm to rewrite or to delete), plans (domain/managed_alarms.py) and writes: PutMetricAlarm per
alarm to create or update, DeleteAlarms per 100 to delete. When nothing changed it writes nothing and reads no tag.
One alarm's failure never stops the others; a listing that fails stops everything (a partial list could make Warden
create over an alarm it did not see, or miss one it should delete), and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from warden.domain.managed_alarms import (
    PREFIX,
    AlarmConflict,
    AlarmOwner,
    AlarmSpec,
    AlarmThresholds,
    TagsRead,
    desired_alarms,
    plan_alarm_changes,
    possible_alarm_names,
    tag_candidates,
)
from warden.errors import WardenError
from warden.observability import count, logger


class AlarmsPort(Protocol):
    """CloudWatch's metric alarms (adapters/cloudwatch.CloudWatchAlarms). `calls` counts the requests made so far,
    `writes` the PutMetricAlarm and DeleteAlarms among them."""

    @property
    def calls(self) -> int: ...

    @property
    def writes(self) -> int: ...

    def list_alarms(self, prefix: str) -> list[AlarmSpec]:
        """Every metric alarm whose name starts with `prefix`, without tags. Raises AwsUnavailable or AlarmsRefused
        when the list cannot be read whole."""
        ...

    def tags_of(self, alarms: Sequence[AlarmSpec]) -> TagsRead:
        """Each alarm's tags; an alarm whose tags could not be read is in the failures, never raised."""
        ...

    def put_alarms(self, specs: Sequence[AlarmSpec]) -> dict[str, str]:
        """PutMetricAlarm for each; the ones that failed, by name, with why. Never raises for one alarm."""
        ...

    def delete_alarms(self, names: Sequence[str]) -> dict[str, str]:
        """DeleteAlarms; the ones that failed, by name, with why. Never raises for one alarm."""
        ...


class AlarmsReport(BaseModel):
    """What one reconcile did. `complete` is False when the alarms could not be listed (then nothing was written)."""

    model_config = ConfigDict(frozen=True)

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[AlarmConflict, ...] = ()
    # One line per alarm (or call) that failed: "warden-web-cpu: PutMetricAlarm: AccessDenied".
    failures: tuple[str, ...] = ()
    writes: int = 0
    calls: int = 0
    complete: bool = True

    def summary(self) -> str:
        line = (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.deleted)} deleted, "
            f"{len(self.unchanged)} unchanged ({self.writes} writes, {self.calls} calls)"
        )
        if self.conflicts:
            line += f"; {len(self.conflicts)} not written (conflicts)"
        if self.failures:
            line += f"; {len(self.failures)} failed"
        return line


def reconcile_alarms(
    owners: Sequence[AlarmOwner],
    thresholds: AlarmThresholds,
    alarm_topic_arn: str,
    port: AlarmsPort,
    *,
    membership_known: bool = True,
) -> AlarmsReport:
    """Make CloudWatch hold exactly the standard alarms of `owners`: every guarded service, including those kept
    guarded although discovery could not see them this run (an owner left out loses its alarms). Pass
    `membership_known=False` when the fleet's members are not all known this run: then nothing is deleted."""
    calls, writes = port.calls, port.writes
    desired = [spec for owner in owners for spec in desired_alarms(owner, thresholds, alarm_topic_arn)]
    keep = frozenset(name for owner in owners if not owner.complete for name in possible_alarm_names(owner))
    try:
        existing = port.list_alarms(PREFIX)
    except WardenError as error:
        logger.warning("the alarms could not be listed: none is written", extra={"error": str(error)})
        count("ManagedAlarmFailures")
        return AlarmsReport(
            failures=(f"DescribeAlarms {PREFIX}*: {error}",),
            calls=port.calls - calls,
            writes=port.writes - writes,
            complete=False,
        )

    if not membership_known:
        keep |= {alarm.name for alarm in existing}
    candidates = set(tag_candidates(desired, existing, keep=keep, alarm_topic_arn=alarm_topic_arn))
    read = port.tags_of([alarm for alarm in existing if alarm.name in candidates]) if candidates else TagsRead()
    tagged = [
        alarm.model_copy(update={"tags": read.tags[alarm.name]}) if alarm.name in read.tags else alarm
        for alarm in existing
    ]
    plan = plan_alarm_changes(desired, tagged, keep=keep, alarm_topic_arn=alarm_topic_arn)

    to_write = [*plan.create, *(update.spec for update in plan.update)]
    put_failures = port.put_alarms(to_write) if to_write else {}
    delete_failures = port.delete_alarms(plan.delete) if plan.delete else {}

    failures = {**read.failures, **put_failures, **delete_failures}
    report = AlarmsReport(
        created=tuple(spec.name for spec in plan.create if spec.name not in put_failures),
        updated=tuple(update.spec.name for update in plan.update if update.spec.name not in put_failures),
        deleted=tuple(name for name in plan.delete if name not in delete_failures),
        unchanged=plan.unchanged,
        conflicts=plan.conflicts,
        failures=tuple(f"{name}: {why}" for name, why in sorted(failures.items())),
        writes=port.writes - writes,
        calls=port.calls - calls,
    )
    for update in plan.update:
        logger.info("alarm updated", extra={"alarm": update.spec.name, "changed": list(update.changed)})
    for conflict in plan.conflicts:
        logger.warning(conflict.reason, extra={"alarm": conflict.name, "service": conflict.service_arn})
    if failures:
        logger.warning("some alarms could not be kept", extra={"failures": list(report.failures)})
        count("ManagedAlarmFailures", len(failures))
    count("ManagedAlarmWrites", report.writes)
    logger.info(report.summary())
    return report
