"""The fleet's notifications, approved once: who joined and left, malformed tags, discovery failures, one budget
alert for several services."""

from __future__ import annotations

from tests.golden.golden import assert_golden_notification
from warden.domain.notification import Notification, Severity
from warden.messages import fleet as words

BACK = "arn:aws:apprunner:us-east-1:123456789012:service/back-office/0123456789abcdef0123456789abcdef"
WORKER = "arn:aws:ecs:us-east-1:123456789012:service/prod/worker"


def arrival() -> words.Arrival:
    return words.Arrival(
        name="back-office",
        arn=BACK,
        platform="App Runner",
        listed=False,
        settings=("budget team-monthly", "hours MON-FRI 08:00-18:00 Europe/Berlin", "repository team/back"),
    )


def departure(*, resumed: bool = True, released: tuple[str, ...] = ("budget",), outcome: str = "") -> words.Departure:
    return words.Departure(
        name="worker",
        arn=WORKER,
        why="its warden:guard tag is no longer true",
        released=released,
        resumed=resumed,
        outcome=outcome or "ECS: scaled back to 2 tasks (auto scaling 1..4).",
    )


def test_services_joining() -> None:
    assert_golden_notification("fleet.joined", words.membership([arrival()], []))


def test_a_service_leaving_that_warden_had_paused() -> None:
    assert_golden_notification("fleet.left", words.membership([], [departure()]))


def test_a_service_leaving_that_warden_never_paused() -> None:
    left = departure(resumed=False, released=(), outcome="")
    notification = words.membership([], [left.model_copy(update={"outcome": ""})])
    assert notification.severity is Severity.INFO
    assert_golden_notification("fleet.left.untouched", notification)


def test_one_joins_while_another_leaves() -> None:
    assert_golden_notification("fleet.changed", words.membership([arrival()], [departure()]))


def test_malformed_tags() -> None:
    problems = (
        "warden:hours='weekdays nine to five': expected '<days> <HH:MM>-<HH:MM> <IANA zone>', e.g. "
        "'MON-FRI 08:00-18:00 Europe/Berlin'",
        "warden:repository='Not A Repo': expected an ECR repository name (lower case, e.g. consultation-app or "
        "team/app)",
    )
    assert_golden_notification("fleet.tag_ignored", words.tag_problems("back-office", BACK, problems))


def test_discovery_incomplete_and_recovered() -> None:
    failures = ("ListTagsForResource " + BACK + ": ThrottlingException",)
    assert_golden_notification("fleet.discovery_failed", words.discovery_failed(failures, [BACK]))
    assert_golden_notification("fleet.discovery_recovered", words.discovery_recovered())


def test_one_budget_alert_for_two_services() -> None:
    def paused(name: str) -> Notification:
        return Notification(
            subject=f"[warden] PAUSED {name}: spend $10.42 of $10.00",
            body=f"Warden paused {name}.\n\nWhat happened\n  ...\n",
            event="budget.paused",
            severity=Severity.CRITICAL,
        )

    combined = words.combined("team-monthly", [("front", paused("front")), ("worker", paused("worker"))])
    assert combined.event == "budget.paused"
    assert combined.severity is Severity.CRITICAL
    assert_golden_notification("fleet.budget_combined", combined)
