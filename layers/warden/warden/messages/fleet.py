"""The fleet's notifications: services joining and leaving, malformed tags, discovery failures, and one budget
alert that paused several services. Facts in (usecases/fleet.py), words out."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from warden.domain.notification import Notification, Severity, render

_MOST_NAMES = 6
# Why an event or job did nothing while the fleet is empty.
NO_FLEET = "no service is guarded (no SERVICE_ARN, no SERVICE_ARNS and no service tagged warden:guard=true yet)"


class Departure(BaseModel):
    """A service that left the fleet, and what Warden did about it."""

    model_config = ConfigDict(frozen=True)

    name: str
    arn: str
    why: str  # "its warden:guard tag was removed", "the service no longer exists", ...
    released: tuple[str, ...] = ()  # the claims released (reasons)
    resumed: bool = False
    outcome: str = ""  # what converging said, or why nothing could be done


class Arrival(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    arn: str
    platform: str
    listed: bool
    settings: tuple[str, ...] = ()  # "budget team-a (tag warden:budget)", ...


def membership(arrivals: Sequence[Arrival], departures: Sequence[Departure]) -> Notification:
    names = [a.name for a in arrivals] + [d.name for d in departures]
    if departures and not arrivals:
        tag, event = "NO LONGER GUARDED", "fleet.left"
        headline = f"Warden no longer guards {_names([d.name for d in departures])}."
    elif arrivals and not departures:
        tag, event = "NOW GUARDING", "fleet.joined"
        headline = f"Warden now guards {_names([a.name for a in arrivals])}."
    else:
        tag, event = "FLEET CHANGED", "fleet.changed"
        headline = (
            f"Warden now guards {_names([a.name for a in arrivals])} "
            f"and no longer guards {_names([d.name for d in departures])}."
        )
    joined = [
        f"{a.name} ({a.platform}, {'listed in SERVICE_ARNS' if a.listed else 'tagged warden:guard=true'}): {a.arn}"
        + (f"; {', '.join(a.settings)}" if a.settings else "")
        for a in arrivals
    ]
    left = [_departure_line(d) for d in departures]
    sections = [
        ("Joined: guarded from now on (pause claims, working hours, alarms, images)", joined),
        ("Left", left),
        (
            "How to undo",
            (
                [
                    "Tag the service warden:guard=true again (or list it in ServiceArns): it is guarded from the next "
                    "reconcile, within 15 minutes."
                ]
                if departures
                else []
            )
            + (
                [
                    "To stop guarding a service, set its tag to warden:guard=false (or remove its ARN from "
                    "ServiceArns): the next reconcile releases its pause claims and resumes it if Warden paused it. "
                    "Remove the tag only after that: without it, Warden's role may no longer change the service."
                ]
                if arrivals
                else []
            ),
        ),
    ]
    return Notification(
        subject=f"[warden] {tag}: {', '.join(names)}",
        body=render(sections, headline=headline),
        event=event,
        severity=Severity.WARNING if any(d.resumed or d.released for d in departures) else Severity.INFO,
    )


def _departure_line(departure: Departure) -> str:
    done = []
    if departure.released:
        done.append(f"released its {', '.join(departure.released)} pause claim(s)")
    if departure.resumed:
        done.append("resumed it (Warden had paused it)")
    what = f"Warden {'; '.join(done)}." if done else "Warden held no pause on it: nothing to release."
    outcome = f" {departure.outcome}" if departure.outcome else ""
    return f"{departure.name} ({departure.arn}): {departure.why}. {what}{outcome}"


def tag_problems(name: str, arn: str, problems: Sequence[str]) -> Notification:
    return Notification(
        subject=f"[warden] TAG IGNORED on {name}: {problems[0]}" if problems else f"[warden] TAGS OK on {name}",
        body=render(
            [
                ("Which tags, and why", list(problems)),
                (
                    "What Warden does",
                    [
                        "Each malformed tag is ignored: that setting follows the stack's parameters for this service. "
                        "The service stays guarded, and the other services are not affected."
                    ],
                ),
                (
                    "How to fix",
                    [
                        "Correct the tag (see the fleet page of the docs for each tag's format), e.g.",
                        f"aws resourcegroupstaggingapi tag-resources --resource-arn-list {arn} "
                        "--tags 'warden:hours=MON-FRI 08:00-18:00 Europe/Berlin'",
                    ],
                ),
            ],
            headline=f"Warden ignored {len(problems)} malformed tag(s) on {name}.",
        ),
        event="fleet.tag_ignored",
        severity=Severity.WARNING,
    )


def discovery_failed(failures: Sequence[str], kept: Sequence[str]) -> Notification:
    return Notification(
        subject=f"[warden] DISCOVERY INCOMPLETE: {failures[0]}",
        body=render(
            [
                ("What could not be read", list(failures)),
                (
                    "What Warden does",
                    [
                        "Services it could not see keep the membership they had (an outage never un-guards a "
                        "service); every other service was reconciled as usual.",
                        *([f"Kept without a fresh look: {', '.join(kept)}"] if kept else []),
                    ],
                ),
                (
                    "What to do",
                    [
                        "Usually nothing: the next reconcile (every 15 minutes) tries again and says when it recovers.",
                        "If it persists, check run_schedule's role (apprunner:ListServices, "
                        "apprunner:ListTagsForResource, ecs:ListClusters, ecs:ListServices, ecs:DescribeServices) "
                        "and the account's API throttling.",
                    ],
                ),
            ],
            headline=f"Warden could not read part of the fleet ({len(failures)} failure(s)).",
        ),
        event="fleet.discovery_failed",
        severity=Severity.WARNING,
    )


def discovery_recovered() -> Notification:
    return Notification(
        subject="[warden] DISCOVERY OK: every service could be read again",
        body=render([], headline="Warden's fleet discovery read every service again."),
        event="fleet.discovery_recovered",
        severity=Severity.INFO,
    )


def combined(budget_name: str, notifications: Sequence[tuple[str, Notification]]) -> Notification:
    """One notification for a budget alert that concerned several services: the list first, then each
    service's own message in full (the SNS size limit trims the tail, never the list)."""
    names = [name for name, _ in notifications]
    events = {n.event for _, n in notifications}
    event = events.pop() if len(events) == 1 else "budget.fleet"
    severity = max((n.severity for _, n in notifications), key=_rank)
    summary = [f"{name}: {note.subject.removeprefix('[warden] ')}" for name, note in notifications]
    body = render(
        [("Each service", summary)],
        headline=f"Budget {budget_name}: one alert, {len(names)} services ({_names(names)}).",
    )
    details = "\n".join(f"=== {name} ===\n{note.body}" for name, note in notifications)
    first = notifications[0][1].subject.removeprefix("[warden] ").split(" ")[0]
    return Notification(
        subject=f"[warden] {first} {len(names)} services on budget {budget_name}: {', '.join(names)}",
        body=body + "\n" + details,
        event=event,
        severity=severity,
    )


def _rank(severity: Severity) -> int:
    return [Severity.INFO, Severity.WARNING, Severity.CRITICAL].index(severity)


def _names(names: Sequence[str]) -> str:
    if len(names) > _MOST_NAMES:
        return ", ".join(names[:_MOST_NAMES]) + f" and {len(names) - _MOST_NAMES} more"
    return ", ".join(names)
