"""The fleet: every service a stack guards, each with its own settings, and the per-service runs of each job.

The reconcile (run_schedule, every 15 minutes) discovers the tagged services, stores the fleet in the state table,
announces who joined and who left (releasing a leaver's claims, resuming it only if Warden paused it), reports
malformed tags once, and then reconciles every member. Event handlers (budget alerts, alarms, deployments) read
the stored fleet: a service is guarded from the first reconcile after it is tagged, with no redeploy.

Every per-service run is the single-service use case with that service's Settings (StackSettings.for_service):
the guarantees of one service hold for each. One service's failure never stops the others; the job fails at the
end (so the function's errors alarm reaches a person) after every service was tried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from warden.domain.fleet import (
    DISCOVERY_KEY,
    LOAD_BALANCER_KEY,
    TARGET_GROUP_TAG,
    Discovery,
    FleetMember,
    FleetRecord,
    MembershipChange,
    next_membership,
)
from warden.domain.managed_alarms import AlarmOwner
from warden.domain.schedule import last_boundary
from warden.errors import ServiceNotFound, StateUnavailable
from warden.messages import fleet as words
from warden.observability import count, logger
from warden.settings import ServiceRef, Settings, StackSettings, service_overrides
from warden.usecases.claims import release_claim
from warden.usecases.managed_alarms import AlarmsPort, reconcile_alarms
from warden.usecases.ports import DiscoveryPort, NotifierPort
from warden.usecases.schedule import Job, JobResult, ScheduleDeps, run_job

ACTOR = "run_schedule"
# Services reconciled at once: enough to keep a 200-service fleet well inside the 15 minutes between runs, few
# enough that App Runner's and ECS's per-account request rates are rarely reached (botocore retries the rest).
CONCURRENCY = 4
_HOURS_MEMO = "hours_boundary"

T = TypeVar("T")


class FleetStorePort(Protocol):
    def load_fleet(self) -> str | None: ...

    def save_fleet(self, record: str) -> None: ...


class LoadBalancerPort(Protocol):
    def load_balancer_of(self, target_group_arn: str) -> str | None:
        """The Application Load Balancer a target group belongs to (its first), or None when it has none."""
        ...


def _no_owner(settings: Settings, *, complete: bool) -> AlarmOwner:
    raise NotImplementedError("FleetDeps.alarm_owner is not wired")


@dataclass(frozen=True)
class FleetDeps:
    store: FleetStorePort
    notifier: NotifierPort
    discovery: Sequence[DiscoveryPort] = ()
    load_balancers: LoadBalancerPort | None = None
    # CloudWatch, for the standard alarms of every fleet service (None: the stack keeps no managed alarms), and
    # how each service's platform describes it to them (the target's `alarm_owner`).
    alarms: AlarmsPort | None = None
    alarm_owner: Callable[..., AlarmOwner] = field(default=_no_owner)


@dataclass(frozen=True)
class Member:
    """A guarded service: its settings (the stack's with its tags laid over them) and its malformed tags."""

    settings: Settings
    problems: tuple[str, ...] = ()
    listed: bool = False


class ServiceRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    outcome: str
    reason: str


class FleetJobResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    job: str
    outcome: str
    reason: str
    services: tuple[ServiceRun, ...] = ()
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    # The reconcile's managed alarms: "3 created, 0 updated, ... (3 writes, 2 calls)".
    alarms: str | None = None
    # The single service's own result when the fleet has one member (the stack of one service it always was).
    notification_event: str | None = None
    wiring: str | None = None
    accuracy: str | None = None


class FleetJobFailed(Exception):
    """Some services' runs failed; every other service was handled. The message names each failure."""


# --- who is guarded -------------------------------------------------------------------------------------------


def read_record(store: FleetStorePort) -> FleetRecord:
    raw = store.load_fleet()
    if raw is None:
        return FleetRecord()
    try:
        return FleetRecord.model_validate_json(raw)
    except ValidationError as error:
        # A record Warden did not write: start over from discovery (listed services stay guarded meanwhile).
        logger.error("the stored fleet is unreadable; starting from the listed services", extra={"error": str(error)})
        count("FleetRecordUnreadable")
        return FleetRecord()


def members_of(stack: StackSettings, stored: Sequence[FleetMember]) -> list[Member]:
    """The listed services first (SERVICE_ARN, then SERVICE_ARNS), then the tagged ones by ARN."""
    by_arn = {member.arn: member for member in stored}
    listed = {ref.arn for ref in stack.services}
    ordered = [by_arn.get(ref.arn, FleetMember(arn=ref.arn, listed=True)) for ref in stack.services]
    ordered += [member for member in stored if member.arn not in listed]
    members: list[Member] = []
    for member in ordered:
        try:
            ref = ServiceRef.parse(member.arn)
        except ValueError:
            logger.warning("ignored, because the stored fleet names no service ARN", extra={"arn": member.arn[:200]})
            continue
        overrides = service_overrides(member.tags)
        members.append(
            Member(
                settings=stack.for_service(ref, overrides=overrides),
                problems=overrides.problems,
                listed=member.listed or ref.arn in listed,
            )
        )
    return members


def guarded_now(stack: StackSettings, store: FleetStorePort) -> list[Member]:
    """The fleet as the last reconcile stored it. Without the state table, the listed services alone: a tagged
    service is not acted on until the table is back (logged and counted, and the table's own alarm says why)."""
    try:
        record = read_record(store)
    except StateUnavailable as unavailable:
        logger.error(
            "the stored fleet is unreadable: only the listed services are guarded now",
            extra={"error": str(unavailable)},
        )
        count("FleetUnreadable")
        record = FleetRecord()
    return members_of(stack, record.members)


# --- the reconcile ---------------------------------------------------------------------------------------------


def refresh(stack: StackSettings, deps: FleetDeps) -> tuple[list[Member], MembershipChange, list[Discovery]]:
    """Discovers, stores and announces the fleet; returns the members and how the fleet moved."""
    record = read_record(deps.store)
    discoveries = _discover(deps.discovery)
    change = next_membership(record.members, discoveries, [ref.arn for ref in stack.services])
    change = change.model_copy(update={"members": tuple(_with_load_balancers(change.members, record, deps))})
    reported = {key: text for key, text in record.reported.items() if key == DISCOVERY_KEY}
    failures = sorted(failure for discovery in discoveries for failure in discovery.failures)
    _report_discovery(failures, change.kept_unseen, record.reported.get(DISCOVERY_KEY, ""), deps.notifier)
    reported[DISCOVERY_KEY] = "\n".join(failures)
    members = members_of(stack, change.members)
    for member in members:
        arn, text = member.settings.service.arn, "\n".join(member.problems)
        if text and text != record.reported.get(arn, ""):
            deps.notifier.publish(words.tag_problems(member.settings.service.name, arn, member.problems))
            count("FleetTagProblems")
        if text:
            reported[arn] = text
    deps.store.save_fleet(FleetRecord(members=change.members, reported=reported).model_dump_json())
    logger.info(
        "fleet",
        extra={
            "members": len(members),
            "joined": list(change.added),
            "left": [member.arn for member in change.removed],
            "discovery_calls": sum(discovery.calls for discovery in discoveries),
        },
    )
    return members, change, discoveries


def _discover(ports: Sequence[DiscoveryPort]) -> list[Discovery]:
    if len(ports) <= 1:
        return [port.discover() for port in ports]
    with ThreadPoolExecutor(max_workers=len(ports)) as pool:
        return list(pool.map(lambda port: port.discover(), ports))


def _with_load_balancers(members: Sequence[FleetMember], record: FleetRecord, deps: FleetDeps) -> list[FleetMember]:
    """A `warden:target-group` service's load balancer, looked up once per target group (alarms and the alarm
    identity need both). A lookup that fails leaves it unknown: load-balancer alarms then never act."""
    before = {member.arn: member for member in record.members}
    out: list[FleetMember] = []
    for member in members:
        group = member.tags.get(TARGET_GROUP_TAG, "").strip()
        if not group or deps.load_balancers is None:
            out.append(member)
            continue
        previous = before.get(member.arn)
        known = (
            previous.tags.get(LOAD_BALANCER_KEY) if previous and previous.tags.get(TARGET_GROUP_TAG) == group else None
        )
        if known is None:
            try:
                known = deps.load_balancers.load_balancer_of(group)
            except Exception as error:  # one service's lookup never stops the fleet
                logger.warning(
                    "cannot read the target group's load balancer", extra={"target_group": group, "error": str(error)}
                )
                known = None
        tags = dict(member.tags) | ({LOAD_BALANCER_KEY: known} if known else {})
        out.append(member.model_copy(update={"tags": tags}))
    return out


def _report_discovery(failures: Sequence[str], kept: Sequence[str], before: str, notifier: NotifierPort) -> None:
    now_text = "\n".join(failures)
    if now_text == before:
        return
    if failures:
        count("FleetDiscoveryFailures", len(failures))
        notifier.publish(words.discovery_failed(failures, kept))
    elif before:
        notifier.publish(words.discovery_recovered())


def leave(
    stack: StackSettings,
    departed: FleetMember,
    deps_for: Callable[[Settings], ScheduleDeps],
    now: datetime,
    *,
    why: str,
) -> words.Departure:
    """A service that stopped being guarded: its claims are released; converging resumes it only when the last
    claim goes, that is only if Warden paused it. A service that no longer exists just has its claims dropped."""
    ref = ServiceRef.parse(departed.arn)
    settings = stack.for_service(ref, departed.tags)
    deps = deps_for(settings)
    claims = deps.state.list_claims(ref.arn)
    released: list[str] = []
    resumed, outcome = False, ""
    for claim in claims:
        try:
            change = release_claim(
                deps.claims,
                ref.arn,
                claim.key,
                now=now,
                actor=ACTOR,
                reason=f"{ref.name} {why}",
                dry_run=settings.dry_run,
            )
        except ServiceNotFound:
            deps.state.remove_claim(ref.arn, claim.key)
            outcome = "The service no longer exists: its claims were dropped."
            released.append(claim.reason.value)
            continue
        except Exception as error:  # e.g. AccessDenied: the role may change only guarded (tagged or listed) services
            for left in claims:
                deps.state.remove_claim(ref.arn, left.key)
            released = [left.reason.value for left in claims]
            command = next(iter(deps.service.resume_commands(None, settings.state_table)), "").strip()
            outcome = (
                f"Warden could not resume it ({_short(error)}): without the warden:guard tag its role may no longer "
                f"change the service (warden:guard=false keeps that right). If it should run, resume it yourself"
                f"{': ' + command if command else '.'}"
            )
            logger.warning("a leaving service could not be released", extra={"service_arn": ref.arn})
            count("FleetLeaveFailures")
            break
        released.append(claim.reason.value)
        resumed = resumed or change.called == "resume"
        outcome = change.result.summary
    return words.Departure(
        name=ref.name, arn=ref.arn, why=why, released=tuple(released), resumed=resumed, outcome=outcome
    )


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 160 else text[:157] + "..."


def _departure_reason(member: FleetMember, discoveries: Sequence[Discovery]) -> str:
    seen = {service.arn: service for discovery in discoveries for service in discovery.services}
    if member.arn in seen:
        return "its warden:guard tag is no longer true"
    if member.listed:
        return "it is no longer listed in ServiceArns"
    return "the service no longer exists"


def arrival(member: Member, platform: str) -> words.Arrival:
    settings = member.settings
    chosen: list[str] = [f"budget {settings.budget_name}"]
    if settings.hours_from_tag and settings.working_hours is not None:
        chosen.append(f"hours {settings.working_hours.describe()}")
    if settings.ecr_repository:
        chosen.append(f"repository {settings.ecr_repository}")
    return words.Arrival(
        name=settings.service.name,
        arn=settings.service.arn,
        platform=platform,
        listed=member.listed,
        settings=tuple(chosen),
    )


def keep_alarms(
    stack: StackSettings,
    members: Sequence[Member],
    change: MembershipChange,
    seen: Sequence[Discovery],
    deps: FleetDeps,
) -> str | None:
    """The standard alarms of every fleet service (not SERVICE_ARN's: the template has them). A service discovery
    could not see keeps its alarms; with any platform unseen this run nothing is deleted."""
    if deps.alarms is None or stack.alarm_topic_arn is None:
        return None
    kept = set(change.kept_unseen)
    owners = [
        deps.alarm_owner(member.settings, complete=member.settings.service.arn not in kept)
        for member in members
        if member.settings.service.arn != stack.primary_arn
    ]
    known = all(discovery.complete and not discovery.unreadable for discovery in seen) and len(seen) > 0
    report = reconcile_alarms(
        owners, stack.alarm_thresholds, stack.alarm_topic_arn, deps.alarms, membership_known=known
    )
    if report.failures or report.conflicts:
        logger.warning("managed alarms: not everything could be kept", extra={"failures": list(report.failures)})
        count("ManagedAlarmProblems", len(report.failures) + len(report.conflicts))
    return report.summary()


# --- the jobs, per service ------------------------------------------------------------------------------------


def run_fleet_job(
    job: Job,
    stack: StackSettings,
    deps: FleetDeps,
    deps_for: Callable[[Settings], ScheduleDeps],
    now: datetime,
) -> FleetJobResult:
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    if job is Job.RECONCILE:
        members, change, seen = refresh(stack, deps)
        departures = [leave(stack, gone, deps_for, now, why=_departure_reason(gone, seen)) for gone in change.removed]
        arrivals = [
            arrival(member, deps_for(member.settings).service.facts.platform)
            for member in members
            # A listed service was named by whoever deployed the stack: only a tag's arrival is news.
            if member.settings.service.arn in change.added and not member.listed
        ]
        if arrivals or departures:
            deps.notifier.publish(words.membership(arrivals, departures))
        joined, left = tuple(a.arn for a in arrivals), tuple(gone.arn for gone in change.removed)
        alarms = keep_alarms(stack, members, change, seen, deps)
    else:
        members, alarms = guarded_now(stack, deps.store), None
    runs = _each(members, lambda member: _run_one(job, member, members, deps_for, now))
    result = _summarise(job, runs, joined, left).model_copy(update={"alarms": alarms})
    failures = [f"{member.settings.service.name}: {error}" for member, error in runs if isinstance(error, Exception)]
    if failures:
        raise FleetJobFailed(f"{job.value} failed for {len(failures)} service(s): " + "; ".join(failures))
    return result


def _run_one(
    job: Job, member: Member, members: Sequence[Member], deps_for: Callable[[Settings], ScheduleDeps], now: datetime
) -> JobResult:
    settings = member.settings
    deps = deps_for(settings)
    match job:
        case Job.WORKDAY_START | Job.WORKDAY_END if settings.hours_from_tag:
            return JobResult(
                job=job.value,
                outcome="ignored",
                reason=f"ignored, because {settings.service.name} keeps its own hours (tag warden:hours)",
            )
        case Job.RECONCILE if settings.hours_from_tag:
            _own_hours(settings, deps, now)
        case Job.BUDGET_PERIOD_CHECK if not _first_of_its_budget(member, members):
            # The budget's wiring is checked once per budget, by the first service that follows it.
            deps = replace(deps, wiring=None)
        case _:
            pass
    return run_job(job, deps, settings, now)


def _own_hours(settings: Settings, deps: ScheduleDeps, now: datetime) -> None:
    """A service with its own hours (tag warden:hours) starts and stops at them: each start or end is applied once,
    at the first reconcile after it (so an operator's override in between stands until the next one)."""
    hours = settings.working_hours
    if hours is None:
        return
    boundary = last_boundary(hours, now)
    if boundary is None:
        return
    moment, starts = boundary
    memo = deps.state.get_memo(settings.service.arn, _HOURS_MEMO)
    key = f"{moment.isoformat()} {hours.describe()}"
    if memo is not None and memo.get("boundary") == key:
        return
    run_job(Job.WORKDAY_START if starts else Job.WORKDAY_END, deps, settings, now)
    deps.state.put_memo(settings.service.arn, _HOURS_MEMO, {"boundary": key})


def _first_of_its_budget(member: Member, members: Sequence[Member]) -> bool:
    first = next(m for m in members if m.settings.budget_name == member.settings.budget_name)
    return first is member


def _each(members: Sequence[Member], work: Callable[[Member], T]) -> list[tuple[Member, T | Exception]]:
    """Runs `work` for every member, a few at a time; a member's exception is its result, not the fleet's end."""

    def guarded(member: Member) -> T | Exception:
        try:
            return work(member)
        except Exception as error:
            logger.exception("a fleet service's run failed", extra={"service_arn": member.settings.service.arn})
            count("FleetServiceFailures")
            return error

    if len(members) <= 1:
        return [(member, guarded(member)) for member in members]
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(zip(members, pool.map(guarded, members), strict=True))


def _summarise(
    job: Job, runs: Sequence[tuple[Member, JobResult | Exception]], joined: tuple[str, ...], left: tuple[str, ...]
) -> FleetJobResult:
    services = tuple(
        ServiceRun(
            service=member.settings.service.name,
            outcome="failed" if isinstance(outcome, Exception) else outcome.outcome,
            reason=str(outcome) if isinstance(outcome, Exception) else outcome.reason,
        )
        for member, outcome in runs
    )
    if len(runs) == 1 and not isinstance(runs[0][1], Exception):
        only = runs[0][1]
        return FleetJobResult(
            job=job.value,
            outcome=only.outcome,
            reason=only.reason,
            services=services,
            joined=joined,
            left=left,
            notification_event=only.notification_event,
            wiring=only.wiring,
            accuracy=only.accuracy,
        )
    if not runs:
        reason = f"ignored, because {words.NO_FLEET}"
        logger.info(reason)
        return FleetJobResult(job=job.value, outcome="ignored", reason=reason, joined=joined, left=left)
    tally: dict[str, int] = {}
    for run in services:
        tally[run.outcome] = tally.get(run.outcome, 0) + 1
    reason = f"{len(services)} services: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items()))
    return FleetJobResult(job=job.value, outcome="fleet", reason=reason, services=services, joined=joined, left=left)
