"""In-memory fakes of the ports, for unit tests that must not open a socket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim
from warden.domain.notification import Notification
from warden.domain.records import ActionRecord, EventStart, EventStatus
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import BudgetNotFound, EventInProgress, InvalidServiceState, ServiceNotFound


@dataclass
class FakeService:
    """App Runner's rules in miniature: pause only RUNNING, resume only PAUSED, nothing while busy."""

    arn: str
    status: ServiceStatus = ServiceStatus.RUNNING
    name: str = "consultation-app"
    calls: list[str] = field(default_factory=list)
    # Set to a status to simulate someone else changing the service between describe and call.
    race_to: ServiceStatus | None = None

    def describe(self, service_arn: str) -> ServiceSnapshot:
        if service_arn != self.arn:
            raise ServiceNotFound(service_arn)
        self.calls.append("describe")
        return ServiceSnapshot(arn=self.arn, name=self.name, status=self.status)

    def pause(self, service_arn: str) -> str | None:
        return self._change("pause", ServiceStatus.RUNNING, ServiceStatus.PAUSED)

    def resume(self, service_arn: str) -> str | None:
        return self._change("resume", ServiceStatus.PAUSED, ServiceStatus.RUNNING)

    def start_deployment(self, service_arn: str) -> str:
        self.calls.append("start_deployment")
        return "op-deploy"

    def _change(self, call: str, required: ServiceStatus, target: ServiceStatus) -> str:
        self.calls.append(call)
        if self.race_to is not None:
            self.status, self.race_to = self.race_to, None
        if self.status is not required:
            raise InvalidServiceState(f"{call}: service is {self.status.value}")
        self.status = target
        return f"op-{call}"

    @property
    def mutations(self) -> list[str]:
        return [call for call in self.calls if call != "describe"]


@dataclass
class FakeBudgets:
    snapshot: BudgetSnapshot | None
    reads: int = 0

    def read_budget(self, account_id: str, budget_name: str) -> BudgetSnapshot:
        self.reads += 1
        if self.snapshot is None or self.snapshot.name != budget_name:
            raise BudgetNotFound(f"no budget named '{budget_name}'")
        return self.snapshot


@dataclass
class FakeNotifier:
    sent: list[Notification] = field(default_factory=list)
    fail_times: int = 0

    def publish(self, notification: Notification) -> str:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("SNS is down")
        self.sent.append(notification)
        return f"msg-{len(self.sent)}"


@dataclass
class FakeState:
    claims: dict[tuple[str, str], Claim] = field(default_factory=dict)
    actions: list[tuple[str, ActionRecord]] = field(default_factory=list)
    events: dict[str, tuple[str, datetime | None, str | None]] = field(default_factory=dict)

    def list_claims(self, service_arn: str) -> list[Claim]:
        return sorted(
            (claim for (arn, _), claim in self.claims.items() if arn == service_arn),
            key=lambda c: c.created_at,
        )

    def add_claim(self, service_arn: str, claim: Claim) -> bool:
        if (service_arn, claim.key) in self.claims:
            return False
        self.claims[(service_arn, claim.key)] = claim
        return True

    def get_claim(self, service_arn: str, key: str) -> Claim | None:
        return self.claims.get((service_arn, key))

    def remove_claim(self, service_arn: str, key: str) -> bool:
        return self.claims.pop((service_arn, key), None) is not None

    def record_action(self, service_arn: str, record: ActionRecord) -> None:
        self.actions.append((service_arn, record))

    def list_actions(self, service_arn: str, limit: int = 50) -> Sequence[ActionRecord]:
        return [record for arn, record in reversed(self.actions) if arn == service_arn][:limit]

    def begin_event(self, event_key: str, now: datetime, *, lock_seconds: int = 300) -> EventStart:
        status, handled_at, summary = self.events.get(event_key, ("", None, None))
        if status == "done":
            return EventStart(status=EventStatus.DUPLICATE, handled_at=handled_at, summary=summary)
        if status == "busy":
            raise EventInProgress(event_key)
        self.events[event_key] = ("busy", None, None)
        return EventStart(status=EventStatus.NEW)

    def complete_event(self, event_key: str, now: datetime, summary: str) -> None:
        self.events[event_key] = ("done", now, summary)

    def release_event(self, event_key: str) -> None:
        self.events.pop(event_key, None)
