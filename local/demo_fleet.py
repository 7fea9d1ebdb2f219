"""`make demo FLEET=1`: one Warden stack guarding a fleet, on the demo's one clock.

The stack lists one service (SERVICE_ARN: the consultation app's front end, on App Runner) and finds the others by
their tags at every reconcile: the worker (an ECS Fargate service in moto, tagged `warden:guard`=`true` and on the
same budget) and staging (App Runner, tagged with its own budget and Berlin office hours). A fourth service carries
no guard tag: Warden never touches it. The story, on two working days of the month:

- the stack's first reconcile announces the two tagged services, and `warden status` lists the fleet;
- at 18:00 in Berlin staging is paused at the end of its own working day while the others run, and the next
  Berlin morning resumes it;
- the shared budget's 100 % alert pauses the front end and the worker, with one message for both;
- the worker's guard tag is removed: the next reconcile releases its budget claim and resumes it (Warden paused
  it), and `warden status` lists the fleet that is left.

The stack itself has no working hours (WORKING_HOURS_ENABLED is off): only staging's tag sets any, so the timeline
runs no working-hours jobs between the steps. The reconcile runs every 15 minutes (rate(15 minutes); here at :05,
:20, :35 and :50); the demo shows the runs where something changes. The runs it leaves out change nothing: a
service's own working-hours start or end is applied once, at the first reconcile after it.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from local.account import ACCOUNT_ID, IMAGE, LocalAccount, Received, local_account
from local.demo_clock import Calendar, DemoClock
from local.ecs import ecs_state, seed_ecs_service
from local.events import budget_message, sns_event
from local.timeline import INDENT, WIDTH, Timeline, _one_line, _print_in_full, _sections, expect

BERLIN = ZoneInfo("Europe/Berlin")
STAGING_HOURS = "MON-FRI 08:00-18:00 Europe/Berlin"
STAGING_BUDGET = "staging-monthly"
# Where the body is the point of the step: who joined with which settings, who left and what Warden did.
JOINED = ("Joined: guarded from now on (pause claims, working hours, alarms, images)",)
LEFT = ("Left",)
EACH = ("Each service",)
RUNNING = {"RUNNING", "OPERATION_IN_PROGRESS"}
# A service's ARN in a message line, "(arn:...)" or ": arn:...": the demo's header names every service already.
_ARN = re.compile(r" ?\(arn:aws:[^)\s]+\)|: arn:aws:\S+?(?=;|$)")


@dataclass(frozen=True)
class Member:
    """A service of the demo's account: its role in the story, its name and ARN."""

    role: str
    name: str
    arn: str

    @property
    def platform(self) -> str:
        return "ECS" if self.arn.split(":")[2] == "ecs" else "App Runner"


@dataclass(frozen=True)
class Fleet:
    front: Member  # SERVICE_ARN: guarded whatever its tags say
    worker: Member  # ECS, tagged warden:guard=true on the front end's budget
    staging: Member  # App Runner, tagged with its own budget and Berlin hours
    other: Member  # no guard tag: never touched

    @property
    def services(self) -> tuple[Member, ...]:
        return (self.front, self.worker, self.staging, self.other)


def main(calendar: Calendar, log_path: Path, *, verbose: bool = False) -> int:
    """Plays the fleet's story on `calendar`'s month; returns the exit status (1 when a demo check failed)."""
    print("Warden demo: one stack guarding a fleet, against a local AWS (moto + App Runner emulator + moto's ECS).")
    failures = 0
    with (
        log_path.open("w") as log,
        DemoClock(calendar.period_start.replace(minute=0)) as clock,
        local_account(actual_spend="0.00") as account,
    ):
        fleet = seed_fleet(account)
        print(f"  simulated month:      {calendar.first:%B %Y}, on one clock that every handler reads")
        print("  working hours:        none for the stack; staging's tag sets its own")
        print("  reconcile:            every 15 minutes (the steps show the runs where something changes)")
        print(f"  moto server:          {account.moto_url}")
        print(f"  App Runner emulator:  {account.apprunner_url}")
        for member in fleet.services:
            print(f"  {member.role + ':':<21} {member.name} ({member.platform})")
        print(f"  budgets:              {account.budget_name} (front end, worker), {STAGING_BUDGET} (staging)")
        print(f"  handler logs:         {_relative(log_path)}")
        if not verbose:
            print("  (each notification by its subject; make demo FLEET=1 VERBOSE=1 prints every message in full)")
        timeline = Timeline(account, log, clock, calendar, verbose=verbose, working_hours=False)
        failures += play(timeline, fleet)
    print("\nThe demo stopped both servers; no process is left running.")
    if failures:
        print(f"{failures} demo check(s) failed: see the lines marked '!!' above.", file=sys.stderr)
    return 1 if failures else 0


def seed_fleet(account: LocalAccount) -> Fleet:
    """The account's own App Runner service (SERVICE_ARN) and three more: the tagged ECS worker and App Runner
    staging service, and an untagged App Runner service. Budgets for both budgets, the shared one at $0.00."""
    front = Member("front end (listed)", account.service_arn.split("/")[-2], account.service_arn)
    worker_arn = seed_ecs_service(account, "worker", desired=2, scaling=(1, 4))
    guard = {"warden:guard": "true", "warden:budget": account.budget_name}
    account.client("ecs").tag_resource(
        resourceArn=worker_arn, tags=[{"key": key, "value": value} for key, value in guard.items()]
    )
    staging_tags = {"warden:guard": "true", "warden:budget": STAGING_BUDGET, "warden:hours": STAGING_HOURS}
    staging_arn = account.emulator.seed_service("staging", IMAGE, tags=staging_tags)
    other_arn = account.emulator.seed_service("marketing-site", IMAGE, tags={"team": "marketing"})
    account.client("budgets").create_budget(
        AccountId=ACCOUNT_ID,
        Budget={
            "BudgetName": STAGING_BUDGET,
            "BudgetLimit": {"Amount": "5.00", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {"ActualSpend": {"Amount": "1.20", "Unit": "USD"}},
        },
    )
    return Fleet(
        front=front,
        worker=Member("worker (tagged)", "worker", worker_arn),
        staging=Member("staging (tagged)", "staging", staging_arn),
        other=Member("untagged", "marketing-site", other_arn),
    )


def play(timeline: Timeline, fleet: Fleet) -> int:
    account = timeline.account
    failures = 0
    monday = timeline.calendar.audit.date()  # the first Monday after the month's first working morning
    tuesday = monday + timedelta(days=1)

    timeline.say(_utc(monday, time(9, 5)), "run_schedule reconcile: the stack's first, just deployed")
    result = _reconcile(timeline)
    joined = _inbox(timeline, JOINED)
    failures += expect(
        sorted(result["joined"]) == sorted([fleet.worker.arn, fleet.staging.arn])
        and [m.attributes.get("event") for m in joined] == ["fleet.joined"]
        and fleet.other.name not in joined[0].subject,
        "the first reconcile announces the two tagged services in one message, and not the untagged one",
    )
    failures += _states(timeline, fleet)

    timeline.say(_utc(monday, time(9, 10)), "alice checks from a shell: warden status")
    failures += _status(timeline, shown=(fleet.front, fleet.worker, fleet.staging), hidden=(fleet.other,))

    evening = _berlin(monday, time(18, 5))
    timeline.say(evening, "run_schedule reconcile, 18:05 in Berlin: staging's working day is over")
    _reconcile(timeline)
    paused = _inbox(timeline)
    failures += expect(
        [m.attributes.get("event") for m in paused] == ["schedule.paused"] and fleet.staging.name in paused[0].subject,
        "staging is paused at the end of its own working day, with one message",
    )
    failures += _states(timeline, fleet, paused=[fleet.staging])

    morning = _berlin(tuesday, time(8, 5))
    timeline.say(morning, "run_schedule reconcile, 08:05 in Berlin: staging's working day begins")
    _reconcile(timeline)
    resumed = _inbox(timeline)
    failures += expect(
        [m.attributes.get("event") for m in resumed] == ["schedule.resumed"]
        and fleet.staging.name in resumed[0].subject,
        "staging's own working morning resumes it",
    )
    failures += _states(timeline, fleet)

    breach = _utc(tuesday, time(14, 38))
    timeline.say(breach, f"AWS Budgets: {account.budget_name} passed 100 % ($10.42 of $10.00) -> on_budget_alert")
    account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
    alert = sns_event(
        budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42", date=f"{breach:%B %d, %Y}"),
        message_id="5d1f3b28-6c7e-4a91-9f32-8b0c1d2e3f03",
        topic_arn=account.budget_topic_arn,
        timestamp=breach.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    outcomes = timeline.run("on_budget_alert", alert)
    for outcome in outcomes:
        timeline.outcome(outcome)
    combined = _inbox(timeline, EACH)
    failures += expect(
        [o["outcome"] for o in outcomes] == ["paused", "paused"]
        and len(combined) == 1
        and "2 services" in combined[0].subject
        and fleet.staging.name not in combined[0].subject,
        "the shared budget's alert pauses the front end and the worker with one message; staging is not on it",
    )
    failures += _states(timeline, fleet, paused=[fleet.front, fleet.worker])

    timeline.say(_utc(tuesday, time(15, 0)), "The team lets the worker go: warden:guard=false (ECS TagResource)")
    account.client("ecs").tag_resource(resourceArn=fleet.worker.arn, tags=[{"key": "warden:guard", "value": "false"}])
    timeline.note("Nothing happens until the next reconcile: Warden reads the tags every 15 minutes.")

    timeline.say(_utc(tuesday, time(15, 5)), "run_schedule reconcile")
    result = _reconcile(timeline)
    left = _inbox(timeline, LEFT)
    failures += expect(
        result["left"] == [fleet.worker.arn]
        and [m.attributes.get("event") for m in left] == ["fleet.left"]
        and "resumed it" in left[0].body,
        "the worker leaves the fleet: its budget claim is released and it is resumed (Warden paused it)",
    )
    failures += _states(timeline, fleet, paused=[fleet.front])

    timeline.say(_utc(tuesday, time(15, 10)), "alice checks from a shell: warden status")
    failures += _status(timeline, shown=(fleet.front, fleet.staging), hidden=(fleet.worker, fleet.other))
    return failures


def _reconcile(timeline: Timeline) -> dict[str, Any]:
    (result,) = timeline.run("run_schedule", {"job": "reconcile"})
    joined, left = len(result["joined"]), len(result["left"])
    moved = f" ({joined} joined, {left} left)" if joined or left else ""
    timeline.note(f"Warden: {result['reason']}{moved}")
    return result


def _inbox(timeline: Timeline, sections: Sequence[str] = ()) -> list[Received]:
    """What the inbox received since the last look, printed as `Timeline.show_inbox` prints it, and returned for
    the act's checks (show_inbox keeps only the count). The sections' lines leave out the ARNs (the header names
    every service) and wrap rather than stop at the width: their ends say what Warden did."""
    received = timeline.account.inbox()
    if not received:
        print(f"{INDENT}(inbox: nothing new)")
    for message in received:
        if timeline.verbose:
            _print_in_full(message.subject, message.body, message.attributes)
            continue
        print(f"{INDENT}inbox: {_one_line(message.subject, WIDTH - len(INDENT) - 7)}")
        for line in _sections(message.body, sections):
            indent = line[: len(line) - len(line.lstrip())]
            short = indent + " ".join(_ARN.sub("", line).split())
            wrapped = textwrap.wrap(
                short, WIDTH - len(INDENT) - 4, subsequent_indent=indent + "  ", break_on_hyphens=False
            )
            for part in wrapped:
                print(f"{INDENT}  │ {part}")
    return received


def _states(timeline: Timeline, fleet: Fleet, *, paused: Sequence[Member] = ()) -> int:
    """One line a service (the untagged one too), and the check that exactly the `paused` ones are paused."""
    failures = 0
    for member in fleet.services:
        account = dataclasses.replace(timeline.account, service_arn=member.arn)
        if member.platform == "ECS":
            state = ecs_state(account)
            status, line = state.status, state.describe()
        else:
            status = line = account.service_status()
        claims = ", ".join(c["SK"].removeprefix("CLAIM#") for c in account.claims()) or "none"
        print(f"{INDENT}{member.name:<17} {member.platform:<10} {line}; pause claims: {claims}")
        want = {"PAUSED"} if member in paused else RUNNING
        failures += expect(status in want, f"{member.name} is {' or '.join(sorted(want))}, not {status}")
    return failures


def _status(timeline: Timeline, *, shown: Sequence[Member], hidden: Sequence[Member]) -> int:
    """`warden status` as alice runs it, its table in full (the hours column is the point); the check that it
    lists exactly the guarded services."""
    printed = timeline.cli("status")
    lines = printed.stdout.rstrip().splitlines()
    for line in lines if timeline.verbose else [line for line in lines if not line.startswith("Details of one")]:
        print(f"{INDENT}{line}".rstrip())
    rows = [line.split()[0] for line in lines if line.strip()]
    return expect(
        printed.returncode == 0
        and all(member.name in rows for member in shown)
        and not any(member.name in rows for member in hidden)
        and timeline.account.inbox() == [],
        "warden status lists every guarded service, one line each, and sends nothing",
    )


def _utc(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, UTC)


def _berlin(day: date, clock: time) -> datetime:
    """`clock` in Berlin on `day`, in UTC: 18:05 in Berlin is 17:05 UTC in winter, 16:05 in summer."""
    return datetime.combine(day, clock, BERLIN).astimezone(UTC)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
