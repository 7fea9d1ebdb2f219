"""In-memory fakes of the ports, for unit tests that must not open a socket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim
from warden.domain.keys import AccessKeyRefused, ListedKey
from warden.domain.notification import Notification
from warden.domain.records import ActionRecord, DeploymentRecord, EventStart, EventStatus
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.errors import BudgetNotFound, EventInProgress, InvalidServiceState, ServiceNotFound
from warden.models.credential_report import RawCredentialReport, ReportNotReady, ReportState


@dataclass
class FakeService:
    """App Runner's rules in miniature: pause only RUNNING, resume only PAUSED, nothing while busy."""

    arn: str
    status: ServiceStatus = ServiceStatus.RUNNING
    name: str = "consultation-app"
    image: str | None = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app:latest"
    calls: list[str] = field(default_factory=list)
    # Set to a status to simulate someone else changing the service between describe and call.
    race_to: ServiceStatus | None = None

    def describe(self, service_arn: str) -> ServiceSnapshot:
        if service_arn != self.arn:
            raise ServiceNotFound(service_arn)
        self.calls.append("describe")
        return ServiceSnapshot(arn=self.arn, name=self.name, status=self.status, image_identifier=self.image)

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
class FakeImages:
    """The tracked tag's digest, which a test moves to simulate a push."""

    digest: str | None = "sha256:" + "1" * 64

    def resolve(self, image_identifier: str) -> str | None:
        return self.digest


@dataclass
class FakeRollback:
    """A release pipeline's rollback: records each request; `configured=False` is a stack without one."""

    configured: bool = True
    requests: list[str] = field(default_factory=list)

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        if not self.configured:
            return None
        self.requests.append(reason)
        return f"Started rolling back to the previous release (request {len(self.requests)})."


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

    deployments: list[tuple[str, DeploymentRecord]] = field(default_factory=list)

    def record_deployment(self, service_arn: str, digest: str, tag: str | None, at: datetime, source: str) -> None:
        self.deployments.append((service_arn, DeploymentRecord(digest=digest, tag=tag, at=at, source=source)))

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        mine = [record for arn, record in self.deployments if arn == service_arn]
        return sorted(mine, key=lambda record: record.at, reverse=True)[:limit]

    memos: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        self.memos[(service_arn, name)] = dict(values)

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        return self.memos.get((service_arn, name))

    def delete_memo(self, service_arn: str, name: str) -> None:
        self.memos.pop((service_arn, name), None)


REPORT_COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]


def credential_report_csv(*rows: dict[str, str]) -> str:
    """A credential report as AWS writes it: the 22 columns, "N/A" wherever a row gives no value."""
    lines = [",".join(REPORT_COLUMNS)]
    for row in rows:
        values = {"arn": f"arn:aws:iam::123456789012:user/{row.get('user', '')}", **row}
        lines.append(",".join(values.get(column, "N/A") for column in REPORT_COLUMNS))
    return "\n".join(lines) + "\n"


@dataclass
class FakeAccessKeys:
    """IAM for the key audit: a report (after `states` generate answers), tags, and keys that can be deactivated."""

    report: str
    generated_at: datetime | None = None
    states: list[ReportState] = field(default_factory=lambda: [ReportState.COMPLETE])
    not_ready_gets: int = 0
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: dict[str, list[ListedKey]] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def generate_credential_report(self) -> ReportState:
        self.calls.append("generate")
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def get_credential_report(self) -> RawCredentialReport:
        self.calls.append("get")
        if self.not_ready_gets:
            self.not_ready_gets -= 1
            raise ReportNotReady("IAM GetCredentialReport: ReportInProgress")
        return RawCredentialReport(content=self.report, generated_at=self.generated_at)

    def user_tags(self) -> dict[str, dict[str, str]]:
        self.calls.append("tags")
        return self.tags

    def list_access_keys(self, user_name: str) -> list[ListedKey]:
        self.calls.append(f"list:{user_name}")
        return list(self.keys.get(user_name, []))

    def deactivate_access_key(self, user_name: str, access_key_id: str) -> None:
        self.calls.append(f"deactivate:{user_name}:{access_key_id}")
        if access_key_id in self.refuse:
            raise AccessKeyRefused(self.refuse[access_key_id])
        self.keys[user_name] = [
            key.model_copy(update={"status": "Inactive"}) if key.access_key_id == access_key_id else key
            for key in self.keys.get(user_name, [])
        ]

    @property
    def deactivated(self) -> list[str]:
        return [call.split(":", 2)[2] for call in self.calls if call.startswith("deactivate:")]
