"""The fleet: which services a stack guards, and what each one's tags say about it. Pure.

A service is guarded when its ARN is listed (SERVICE_ARN, SERVICE_ARNS) or when it carries `warden:guard` =
`true`. Its tags may set its own budget, working hours, alarm actions, repository and target group; a malformed
value is a problem reported once, and that one setting falls back to the stack's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

GUARD_TAG = "warden:guard"
BUDGET_TAG = "warden:budget"
HOURS_TAG = "warden:hours"
ALARM_ACTIONS_TAG = "warden:alarm-actions"
REPOSITORY_TAG = "warden:repository"
TARGET_GROUP_TAG = "warden:target-group"
# On the alarms Warden keeps for a fleet service (PutMetricAlarm): only alarms carrying it are ever deleted.
MANAGED_TAG = "warden:managed"
# Not a tag: the load balancer of a `warden:target-group`, which the reconcile looks up and stores with the tags.
LOAD_BALANCER_KEY = "warden:load-balancer"
SETTING_TAGS = (BUDGET_TAG, HOURS_TAG, ALARM_ACTIONS_TAG, REPOSITORY_TAG, TARGET_GROUP_TAG)


class DiscoveredService(BaseModel):
    """One service a platform's list APIs returned, with its tags (every tag, not only Warden's)."""

    model_config = ConfigDict(frozen=True)

    arn: str
    tags: dict[str, str] = {}

    @property
    def guard_tagged(self) -> bool:
        return is_guard_tagged(self.tags)


class Discovery(BaseModel):
    """What one platform's discovery returned. `complete` is False when a list call failed: then the services
    this run could not see keep their previous membership (an outage never un-guards a service)."""

    model_config = ConfigDict(frozen=True)

    platform: str  # "App Runner", "ECS"
    services: tuple[DiscoveredService, ...] = ()
    complete: bool = True
    # One line per failure, naming what could not be read and why ("ListTagsForResource <arn>: ThrottlingException").
    failures: tuple[str, ...] = ()
    # The AWS calls this discovery made (the bench compares them with the lower bound).
    calls: int = 0
    # Services whose tags could not be read: their membership is unknown this run (kept as it was).
    unreadable: tuple[str, ...] = ()


def is_guard_tagged(tags: Mapping[str, str]) -> bool:
    """`warden:guard` = `true`, in any case, exactly as IAM's StringEqualsIgnoreCase condition on that tag reads it
    (so Warden never counts as guarded a service its role may not change: no blanks around the value)."""
    return tags.get(GUARD_TAG, "").lower() == "true"


class FleetMember(BaseModel):
    """A guarded service as the fleet record keeps it: its ARN, its `warden:*` tags (only those: nothing else a
    tag may hold is copied into the table), and whether a setting lists it (then it stays guarded untagged)."""

    model_config = ConfigDict(frozen=True)

    arn: str
    tags: dict[str, str] = {}
    listed: bool = False


class FleetRecord(BaseModel):
    """What the last reconcile found, kept in the state table for the event handlers and the next reconcile."""

    model_config = ConfigDict(frozen=True)

    members: tuple[FleetMember, ...] = ()
    # What was last reported, per service ARN (its tag problems) and under DISCOVERY_KEY (discovery failures):
    # a problem is reported when it appears or changes, not on every reconcile.
    reported: dict[str, str] = {}


DISCOVERY_KEY = "discovery"


class MembershipChange(BaseModel):
    """The fleet after one discovery, and how it moved."""

    model_config = ConfigDict(frozen=True)

    members: tuple[FleetMember, ...]
    added: tuple[str, ...] = ()
    removed: tuple[FleetMember, ...] = ()
    # Guarded before, not seen now because discovery could not read them: kept as they were.
    kept_unseen: tuple[str, ...] = ()


# Discovery.platform → the ARN's service namespace (arn:aws:<namespace>:...).
_NAMESPACES = {"App Runner": "apprunner", "ECS": "ecs"}


def namespace(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def warden_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in tags.items() if key.startswith("warden:")}


def next_membership(
    previous: Sequence[FleetMember], discoveries: Sequence[Discovery], listed: Sequence[str]
) -> MembershipChange:
    """Who is guarded now. Listed ARNs always are; a discovered service is when tagged `warden:guard` = `true`.
    A service guarded before that discovery could not see this time (a failed list call on its platform, an
    unreadable tag, no discovery of its platform) stays guarded with the tags it had: an outage or a throttled
    call never un-guards a service. It leaves the fleet only when discovery saw it untagged, or saw its platform
    completely without it (deleted), or it was listed and no longer is and carries no guard tag."""
    seen = {service.arn: service for discovery in discoveries for service in discovery.services}
    unreadable = {arn for discovery in discoveries for arn in discovery.unreadable}
    complete = {_NAMESPACES.get(d.platform, d.platform) for d in discoveries if d.complete}
    before = {member.arn: member for member in previous}

    def blind(arn: str) -> bool:
        return arn in unreadable or namespace(arn) not in complete

    members: dict[str, FleetMember] = {}
    kept: list[str] = []
    for arn in dict.fromkeys(listed):
        if arn in seen and arn not in unreadable:
            tags = warden_tags(seen[arn].tags)
        else:
            tags = before[arn].tags if arn in before else {}
        members[arn] = FleetMember(arn=arn, tags=tags, listed=True)
    for arn in sorted(seen):
        if arn not in members and arn not in unreadable and seen[arn].guard_tagged:
            members[arn] = FleetMember(arn=arn, tags=warden_tags(seen[arn].tags))
    for arn, member in sorted(before.items()):
        if arn not in members and blind(arn) and is_guard_tagged(member.tags):
            members[arn] = member.model_copy(update={"listed": False})
            kept.append(arn)
    return MembershipChange(
        members=tuple(members.values()),
        added=tuple(arn for arn in members if arn not in before),
        removed=tuple(member for arn, member in sorted(before.items()) if arn not in members),
        kept_unseen=tuple(kept),
    )
