"""In-memory fakes of the ports, for unit tests that must not open a socket."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim
from warden.domain.deployments import OperationInfo
from warden.domain.images import DOCKER_MANIFEST, RepositoryNotFound
from warden.domain.keys import AccessKeyRefused, ListedKey
from warden.domain.notification import Notification
from warden.domain.pipeline import DockerUnavailable, ImageManifest, ImmutableTag, RegistryLogin, RepositoryInfo
from warden.domain.records import ActionRecord, DeploymentRecord, EventStart, EventStatus
from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.domain.spend import MetricPoints, MetricSpec, UsageFacts
from warden.domain.target import TargetFacts
from warden.domain.wiring import BudgetNotice, TopicNotFound, TopicSubscription
from warden.errors import BudgetNotFound, EventInProgress, InvalidServiceState, ServiceNotFound
from warden.models.credential_report import RawCredentialReport, ReportNotReady, ReportState

_MEMO_LOCK = threading.Lock()


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
    auto_deploy: bool | None = None  # AutoDeploymentsEnabled
    # Every mutating call with the ARN it was made on: the fakes answer for any ARN, so a test must look.
    targets: list[tuple[str, str]] = field(default_factory=list)

    def describe(self, service_arn: str) -> ServiceSnapshot:
        if service_arn != self.arn:
            raise ServiceNotFound(service_arn)
        self.calls.append("describe")
        return ServiceSnapshot(
            arn=self.arn, name=self.name, status=self.status, image_identifier=self.image, auto_deploy=self.auto_deploy
        )

    def pause(self, service_arn: str) -> str | None:
        self.targets.append(("pause", service_arn))
        return self._change("pause", ServiceStatus.RUNNING, ServiceStatus.PAUSED)

    def resume(self, service_arn: str) -> str | None:
        self.targets.append(("resume", service_arn))
        return self._change("resume", ServiceStatus.PAUSED, ServiceStatus.RUNNING)

    def start_deployment(self, service_arn: str) -> str:
        self.targets.append(("start_deployment", service_arn))
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

    # -- the rest of the Target port: the real target's, for the platform this ARN names ------------------
    @property
    def facts(self) -> TargetFacts:
        return platform_target(self.arn, self).facts

    def resume_commands(self, state: Any, state_table: str) -> list[str]:
        return platform_target(self.arn, self).resume_commands(state, state_table)

    def remembered_scale(self, state: Any) -> str | None:
        return platform_target(self.arn, self).remembered_scale(state)


def platform_target(arn: str, controller: Any, **ports: Any) -> Any:
    """The real Target for the platform `arn` names, over a fake controller (the tests' wiring)."""
    from warden.adapters.targets.apprunner import AppRunnerTarget
    from warden.adapters.targets.ecs import EcsTarget
    from warden.settings import ServiceKind, ServiceRef

    service = ServiceRef.parse(arn)
    kind = EcsTarget if service.kind is ServiceKind.ECS else AppRunnerTarget
    return kind(service, controller, **ports)


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
    targets: list[str] = field(default_factory=list)  # the service ARN of each request

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        if not self.configured:
            return None
        self.requests.append(reason)
        self.targets.append(service_arn)
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
    fleet: str | None = None  # the stored fleet record (JSON), as StateTable keeps it

    def load_fleet(self) -> str | None:
        return self.fleet

    def save_fleet(self, record: str) -> None:
        self.fleet = record

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
        # DynamoDB's DeleteItem removes the item, its memo_order with it.
        self.memos.pop((service_arn, name), None)
        self.memo_orders.pop((service_arn, name), None)

    memo_orders: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def advance_memo(self, service_arn: str, name: str, values: dict[str, str], *, order: int, token: str) -> bool:
        # DynamoDB's conditional put, in miniature: the comparison and the write cannot be interleaved.
        with _MEMO_LOCK:
            stored = self.memo_orders.get((service_arn, name))
            if stored is not None and (stored[0] > order or (stored[0] == order and stored[1] != token)):
                return False
            self.memo_orders[(service_arn, name)] = (order, token)
            self.memos[(service_arn, name)] = dict(values)
            return True


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


@dataclass
class FakeRegistry:
    """ECR for release and rollback: tags -> digests, digests -> manifests, and the calls made."""

    repository_name: str = "consultation-app"
    uri: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app"
    mutability: str = "MUTABLE"
    exists: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def add(self, digest: str, *tags: str, media_type: str = DOCKER_MANIFEST) -> str:
        self.manifests[digest] = (f'{{"digest": "{digest}"}}', media_type)
        for tag in tags:
            self.tags[tag] = digest
        return digest

    def repository(self, name: str) -> RepositoryInfo:
        self.calls.append("repository")
        if not self.exists:
            raise RepositoryNotFound(f"ECR repository {name!r} does not exist")
        return RepositoryInfo(name=name, uri=self.uri, tag_mutability=self.mutability)

    def login(self) -> RegistryLogin:
        self.calls.append("login")
        return RegistryLogin(registry=self.uri.split("/")[0], username="AWS", password=SecretStr("ecr-password"))

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return self.tags.get(tag)

    def get_manifest(self, repository: str, digest: str) -> ImageManifest | None:
        self.calls.append(f"get:{digest}")
        if digest not in self.manifests:
            return None
        manifest, media_type = self.manifests[digest]
        return ImageManifest(digest=digest, manifest=manifest, media_type=media_type)

    def put_manifest(self, repository: str, tag: str, manifest: ImageManifest) -> bool:
        self.calls.append(f"put:{tag}")
        if self.mutability == "IMMUTABLE":
            raise ImmutableTag(f"{tag} cannot move")
        if self.tags.get(tag) == manifest.digest:
            return False
        self.tags[tag] = manifest.digest
        return True


@dataclass
class FakeDocker:
    """The docker CLI: records each call (secret values kept apart, as the environment would carry them)."""

    registry: FakeRegistry | None = None  # a push puts the built image into it
    engine: bool = True
    calls: list[str] = field(default_factory=list)
    build_env: dict[str, str] = field(default_factory=dict)
    passwords: list[str] = field(default_factory=list)
    built: dict[str, str] = field(default_factory=dict)

    def check_engine(self) -> str:
        self.calls.append("info")
        if not self.engine:
            raise DockerUnavailable("the Docker engine is not running")
        return "27.3.1"

    def build(self, image: str, *, context: str, build_args: Mapping[str, str]) -> None:
        self.calls.append(f"build {image} {context} {' '.join(build_args)}".strip())
        self.build_env.update(build_args)
        self.built[image] = "sha256:" + hashlib.sha256(image.encode()).hexdigest()

    def tag(self, source: str, target: str) -> None:
        self.calls.append(f"tag {source} {target}")
        self.built[target] = self.built[source]

    def login(self, registry: str, username: str, password: str) -> None:
        self.calls.append(f"login {username} {registry}")
        self.passwords.append(password)

    def push(self, image: str) -> None:
        self.calls.append(f"push {image}")
        if self.registry is not None:
            self.registry.add(self.built[image], image.rsplit(":", 1)[1])


@dataclass
class FakeOperations:
    """App Runner's ListOperations: the newest operation per type."""

    operations: list[OperationInfo] = field(default_factory=list)

    def last_operation(self, service_arn: str, types: frozenset[str]) -> OperationInfo | None:
        return next((operation for operation in self.operations if operation.type in types), None)


@dataclass
class FakeBudgetNotices(FakeBudgets):
    """The budget and its notifications (with subscribers); `notices_error` is raised when they are read."""

    notices: list[BudgetNotice] = field(default_factory=list)
    notices_error: Exception | None = None
    budget_error: Exception | None = None

    def read_budget(self, account_id: str, budget_name: str) -> BudgetSnapshot:
        if self.budget_error is not None:
            raise self.budget_error
        return super().read_budget(account_id, budget_name)

    def budget_notices(self, account_id: str, budget_name: str) -> list[BudgetNotice]:
        if self.notices_error is not None:
            raise self.notices_error
        if self.snapshot is None or self.snapshot.name != budget_name:
            raise BudgetNotFound(f"no budget named '{budget_name}'")
        return list(self.notices)


@dataclass
class FakeTopics:
    """SNS topics' subscriptions by topic ARN; a topic not listed does not exist."""

    subscriptions_by_topic: dict[str, list[TopicSubscription]] = field(default_factory=dict)
    error: Exception | None = None

    def subscriptions(self, topic_arn: str) -> list[TopicSubscription]:
        if self.error is not None:
            raise self.error
        if topic_arn not in self.subscriptions_by_topic:
            raise TopicNotFound(f"the SNS topic {topic_arn} does not exist")
        return list(self.subscriptions_by_topic[topic_arn])


@dataclass
class FakeUsage:
    """UsageFactsPort: the service's billed configuration, which a test changes (scale, pause)."""

    facts: UsageFacts
    reads: int = 0

    def usage_facts(self, service_arn: str) -> UsageFacts:
        self.reads += 1
        return self.facts


@dataclass
class FakeMetrics:
    """MetricsPort over a data series a test writes: (time, value) per query id; records every request."""

    series: dict[str, list[tuple[datetime, Decimal]]] = field(default_factory=dict)
    requests: list[tuple[tuple[str, ...], datetime, datetime, int]] = field(default_factory=list)
    fail_with: Exception | None = None

    def metric_data(
        self, queries: Mapping[str, MetricSpec], start: datetime, end: datetime, period_seconds: int
    ) -> dict[str, MetricPoints]:
        self.requests.append((tuple(queries), start, end, period_seconds))
        if self.fail_with is not None:
            raise self.fail_with
        return {
            query_id: MetricPoints(
                period_seconds=period_seconds,
                points=tuple((at, value) for at, value in self.series.get(query_id, []) if start <= at < end),
            )
            for query_id in queries
        }
