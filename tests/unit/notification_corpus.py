"""Notifications of every kind, written by the use cases themselves (with in-memory fakes), for the chat tests.

Each producer runs a use case the way its function does and returns what it published, so the chat formatter is
tested on real bodies: budget alerts (App Runner and ECS, warned, paused, forecast, anomaly, forwarded), every
alarm fixture (notified and paused), the schedule's jobs, a manual pause and resume, the key audit, the image
purge, the deployment watcher and a forwarded message. An alarm named with markup and mentions is among them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from local.alarm_events import alarm_event
from local.deployment_events import operation_event
from tests.events import EVENTS_DIR, load_event, sns_event
from tests.fakes import (
    FakeAccessKeys,
    FakeBudgets,
    FakeImages,
    FakeNotifier,
    FakeOperations,
    FakeRollback,
    FakeService,
    FakeState,
    credential_report_csv,
    platform_target,
)
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.images import BatchResult, ImageInfo
from warden.domain.notification import Notification
from warden.domain.service import ServiceStatus
from warden.models.money import Money
from warden.models.sns import parse_sns_event
from warden.settings import Settings

APPRUNNER = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
ENV = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
}
# An alarm name an attacker or a careless colleague could choose: markup, a code span, mentions and a link.
HOSTILE_ALARM = "*cpu* _high_ ~x~ `rm -rf` <!here> <@U12345> @channel [click](http://evil.example) | #1"


def settings(arn: str = APPRUNNER, **env: str) -> Settings:
    return Settings.from_env({"SERVICE_ARN": arn, **ENV, **env})


def _budgets(actual: str = "10.42") -> FakeBudgets:
    return FakeBudgets(
        BudgetSnapshot(
            name="consultation-app-monthly",
            limit=Money(amount=Decimal("10.00")),
            actual=Money(amount=Decimal(actual)),
            forecast=Money(amount=Decimal("12.87")),
        )
    )


def budget_alerts() -> list[Notification]:
    from warden.usecases.budget_alert import BudgetAlertDeps, handle_message

    sent: list[Notification] = []
    for arn in (APPRUNNER, ECS):
        for path in sorted((EVENTS_DIR / "on_budget_alert").glob("*.json")):
            notifier = FakeNotifier()
            deps = BudgetAlertDeps(FakeService(arn=arn), _budgets(), notifier, FakeState())
            chosen = settings(arn, ANOMALY_PAUSE_IMPACT_USD="1")
            for message in parse_sns_event(load_event("on_budget_alert", path.stem)):
                handle_message(message, deps, chosen, NOW)
            sent += notifier.sent
    return sent


def alarms() -> list[Notification]:
    from warden.usecases.alarm import AlarmDeps, handle_event

    sent: list[Notification] = []
    for actions in ("", "*=pause"):
        for path in sorted((EVENTS_DIR / "on_alarm").glob("*.json")):
            notifier = FakeNotifier()
            deps = AlarmDeps(FakeService(arn=APPRUNNER), notifier, FakeState(), FakeRollback())
            event = alarm_event(path.stem, changed_at=NOW - timedelta(minutes=10), message_id=str(uuid.uuid4()))
            handle_event(event, deps, settings(ALARM_ACTIONS=actions), NOW)
            sent += notifier.sent
    return sent


def hostile_alarm() -> list[Notification]:
    """The 5xx alarm, renamed with markup and mentions, firing with the pause action (so with the undo lines)."""
    from warden.usecases.alarm import AlarmDeps, handle_event

    notifier = FakeNotifier()
    deps = AlarmDeps(FakeService(arn=APPRUNNER), notifier, FakeState(), FakeRollback())
    event = alarm_event("sns-5xx-rate-alarm", changed_at=NOW - timedelta(minutes=10), alarm_name=HOSTILE_ALARM)
    handle_event(event, deps, settings(ALARM_ACTIONS="*=pause"), NOW)
    return notifier.sent


def schedule_jobs() -> list[Notification]:
    from warden.usecases.schedule import Job, ScheduleDeps, run_job

    sent: list[Notification] = []
    monday = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for job, status, held in (
        (Job.WORKDAY_END, ServiceStatus.RUNNING, None),
        (Job.WORKDAY_START, ServiceStatus.PAUSED, ClaimReason.BUDGET),
        (Job.BUDGET_PERIOD_CHECK, ServiceStatus.PAUSED, ClaimReason.BUDGET),
        (Job.RECONCILE, ServiceStatus.RUNNING, ClaimReason.MANUAL),
    ):
        notifier, state = FakeNotifier(), FakeState()
        if held is not None:
            state.add_claim(APPRUNNER, Claim.new(held, owner="seed", evidence="seeded", now=monday - timedelta(days=3)))
        deps = ScheduleDeps(FakeService(arn=APPRUNNER, status=status), state, notifier, _budgets("0.50"), FakeImages())
        run_job(job, deps, settings(WORKING_HOURS_ENABLED="true"), monday)
        sent += notifier.sent
    return sent


def operator() -> list[Notification]:
    from warden.usecases.operator import OperatorDeps, manual_pause, manual_resume

    notifier = FakeNotifier()
    deps = OperatorDeps(FakeService(arn=APPRUNNER), FakeState(), notifier, _budgets("0.50"), FakeImages())
    manual_pause(deps, settings(), who="alice", reason="load test *tonight* <!channel>", now=NOW)
    manual_resume(deps, settings(), who="alice", reason="done", override=None, now=NOW + timedelta(hours=1))
    return notifier.sent


def key_audit() -> list[Notification]:
    from warden.usecases.audit_keys import AuditKeysDeps, audit_access_keys

    def row(name: str, age: int, used: int | None) -> dict[str, str]:
        rotated = (NOW - timedelta(days=age, hours=1)).replace(microsecond=0)
        values = {"user": name, "access_key_1_active": "true", "access_key_1_last_rotated": rotated.isoformat()}
        if used is not None:
            values["access_key_1_last_used_date"] = (NOW - timedelta(days=used)).isoformat()
            values["access_key_1_last_used_service"] = "s3"
        return values

    report = credential_report_csv(row("dev-alice", 12, 1), row("deploy-bot", 400, 3), row("old-laptop", 30, None))
    notifier = FakeNotifier()
    iam = FakeAccessKeys(report=report, generated_at=NOW - timedelta(minutes=20))
    audit_access_keys(AuditKeysDeps(iam, notifier, FakeState(), sleep=lambda _: None), settings(), NOW)
    return notifier.sent


@dataclass
class _Registry:
    images: dict[str, ImageInfo] = field(default_factory=dict)

    def list_images(self, repository: str) -> list[ImageInfo]:
        return list(self.images.values())

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return next((image.digest for image in self.images.values() if tag in image.tags), None)

    def index_children(self, repository: str, digests: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {}

    def delete_digests(self, repository: str, digests: Sequence[str]) -> BatchResult:
        for digest in digests:
            self.images.pop(digest, None)
        return BatchResult(deleted=tuple(digests))


@dataclass
class _Running:
    service: FakeService

    def describe(self, service_arn: str) -> object:
        return self.service.describe(service_arn)


def image_purge() -> list[Notification]:
    from warden.usecases.purge_images import PurgeImagesDeps, PurgeTrigger, purge_images

    def image(name: str, *tags: str, days: int) -> ImageInfo:
        digest = "sha256:" + name.encode().hex().ljust(64, "0")[:64]
        return ImageInfo(digest=digest, tags=tags, pushed_at=NOW - timedelta(days=days), size_bytes=80_000_000)

    registry = _Registry()
    for info in (image("current", "latest", "v1.4.0", days=3), *(image(f"old{n}", days=40 + n) for n in range(5))):
        registry.images[info.digest] = info
    notifier = FakeNotifier()
    deps = PurgeImagesDeps(
        service=FakeService(arn=APPRUNNER),
        registry=registry,
        notifier=notifier,
        state=FakeState(),
        sleep=lambda _: None,
    )
    for mode in ("plan", "delete"):
        chosen = settings(ECR_REPOSITORY="consultation-app", IMAGE_PURGE_MODE=mode)
        purge_images(deps, chosen, NOW, trigger=PurgeTrigger.SCHEDULE)
    return notifier.sent


def deployments() -> list[Notification]:
    from warden.usecases.deployment import DeploymentDeps, handle_event

    sent: list[Notification] = []
    for fixture in ("deployment-succeeded", "deployment-failed", "update-failed"):
        notifier, service = FakeNotifier(), FakeService(arn=APPRUNNER)
        target = platform_target(APPRUNNER, service, operations=FakeOperations())
        deps = DeploymentDeps(target=target, state=FakeState(), notifier=notifier)
        handle_event(operation_event(fixture, service_arn=APPRUNNER, at=NOW), deps, settings(), NOW)
        sent += notifier.sent
    return sent


def forwarded() -> list[Notification]:
    from warden.usecases.forward import forward_unparseable

    notifier = FakeNotifier()
    raw = "*not* a budget alert <!here> ```\n" + "x" * 5_000 + "\n[link](http://evil.example)"
    forward_unparseable(
        raw,
        "no Budget Name line",
        subject="Test *subject* <!channel>",
        source="SNS message 1",
        topic="the budget topic",
        service_name="consultation-app",
        notifier=notifier,
    )
    return notifier.sent


PRODUCERS: dict[str, Callable[[], list[Notification]]] = {
    "budget": budget_alerts,
    "alarm": alarms,
    "hostile-alarm": hostile_alarm,
    "schedule": schedule_jobs,
    "operator": operator,
    "keys": key_audit,
    "images": image_purge,
    "deployment": deployments,
    "forwarded": forwarded,
}


def every_notification() -> list[Notification]:
    return [notification for produce in PRODUCERS.values() for notification in produce()]


def sns_record_of(notification: Notification) -> dict[str, object]:
    """The SNS -> Lambda event deliver_chat receives for a notification (with its message attributes)."""
    event = sns_event(notification.body, subject=notification.subject, topic_arn=ENV["NOTIFY_TOPIC_ARN"])
    record = event["Records"][0]["Sns"]
    record["MessageAttributes"] = {
        "event": {"Type": "String", "Value": notification.event},
        "severity": {"Type": "String", "Value": notification.severity.value},
    }
    return event
