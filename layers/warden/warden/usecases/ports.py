"""The ports the use cases talk through. Adapters implement them over boto3; tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim
from warden.domain.deployments import EcsServiceState, OperationInfo
from warden.domain.fleet import Discovery
from warden.domain.images import BatchResult, ImageInfo
from warden.domain.keys import ListedKey
from warden.domain.notification import Notification
from warden.domain.pipeline import ImageManifest, RegistryLogin, RepositoryInfo, TaskRevision
from warden.domain.records import ActionRecord, DeploymentRecord, EventStart
from warden.domain.retention import TaskDefinitionImages
from warden.domain.service import ServiceSnapshot
from warden.domain.spend import MetricPoints, MetricSpec, UsageFacts
from warden.domain.wiring import BudgetNotice, TopicSubscription
from warden.models.credential_report import RawCredentialReport, ReportState


class ServicePort(Protocol):
    def describe(self, service_arn: str) -> ServiceSnapshot: ...

    def pause(self, service_arn: str) -> str | None:
        """Start pausing; returns the operation id. Raises InvalidServiceState on a race."""
        ...

    def resume(self, service_arn: str) -> str | None: ...

    def start_deployment(self, service_arn: str) -> str: ...


class RollbackPort(Protocol):
    """Hands the service over to the release pipeline's rollback (`warden rollback`), for health alarms."""

    def roll_back(self, service_arn: str, *, reason: str) -> str | None:
        """Starts rolling back to the previous release; returns a sentence saying what was started, or None
        when this stack has no rollback configured (the operator then runs `warden rollback` by hand)."""
        ...


class ImagePort(Protocol):
    def resolve(self, image_identifier: str) -> str | None:
        """The digest an App Runner ImageIdentifier (`<registry>/<repo>:<tag>` or `...@sha256:...`) points at
        now, or None when the tag does not exist or the image is not in this account's ECR."""
        ...


class ServiceReaderPort(Protocol):
    """Read-only access to the service, for jobs that only need to know what it runs (image purge)."""

    def describe(self, service_arn: str) -> ServiceSnapshot: ...


class TaskDefinitionsPort(Protocol):
    """An ECS service's task definitions, for the image purge: what runs now and what a rollback goes back to.

    "Runs now" is the task definition of every deployment the service lists (PRIMARY, and an ACTIVE one still
    draining). "What it ran before" is the family's earlier ACTIVE revisions, newest first: ECS keeps no
    history of the revisions a service ran, and a rollback on ECS (`update-service --task-definition
    family:N-1`) goes to an earlier revision of the family, so those are exactly the rollback targets.
    INACTIVE (deregistered) revisions are left out: ECS refuses to update a service to one, so they are no
    rollback target; revisions newer than the current one were never run and are left out too.
    """

    def task_definition_history(self, service_arn: str, previous: int) -> list[TaskDefinitionImages]:
        """The current task definitions (`current` True), then up to `previous` earlier revisions of the primary
        deployment's family, newest first. Raises ServiceNotFound when the service does not exist."""
        ...


class RegistryPort(Protocol):
    """The app's ECR repository, for the image purge."""

    def list_images(self, repository: str) -> list[ImageInfo]:
        """Every image. Raises RepositoryNotFound when the repository does not exist."""
        ...

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        """The digest behind the tag now, or None when no image carries it."""
        ...

    def index_children(self, repository: str, digests: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The child digests of each index; an index whose manifest cannot be read is left out."""
        ...

    def delete_digests(self, repository: str, digests: Sequence[str]) -> BatchResult:
        """Deletes at most 100 images by digest; per-item failures come back in the result."""
        ...


class BudgetPort(Protocol):
    def read_budget(self, account_id: str, budget_name: str) -> BudgetSnapshot:
        """Raises BudgetNotFound when the budget does not exist."""
        ...


class NotifierPort(Protocol):
    def publish(self, notification: Notification) -> str:
        """Returns the SNS message id."""
        ...


class StatePort(Protocol):
    def list_claims(self, service_arn: str) -> list[Claim]: ...

    def add_claim(self, service_arn: str, claim: Claim) -> bool:
        """Adds the claim unless one with the same key is active; True when this call added it."""
        ...

    def get_claim(self, service_arn: str, key: str) -> Claim | None: ...

    def remove_claim(self, service_arn: str, key: str) -> bool: ...

    def record_action(self, service_arn: str, record: ActionRecord) -> None: ...

    def list_actions(self, service_arn: str, limit: int = 50) -> Sequence[ActionRecord]: ...

    def begin_event(self, event_key: str, now: datetime, *, lock_seconds: int = 300) -> EventStart:
        """Marks an event as being handled. Raises EventInProgress while another invocation holds it."""
        ...

    def complete_event(self, event_key: str, now: datetime, summary: str) -> None: ...

    def release_event(self, event_key: str) -> None:
        """Forgets an unfinished event so that Lambda's retry can handle it again."""
        ...

    def record_deployment(self, service_arn: str, digest: str, tag: str | None, at: datetime, source: str) -> None:
        """Adds a deployment to the service's history (kept as long as the action log)."""
        ...

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        """The newest `limit` deployments, newest first."""
        ...

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        """Remembers a small fact about the service across invocations (e.g. the image it paused with)."""
        ...

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None: ...

    def advance_memo(self, service_arn: str, name: str, values: dict[str, str], *, order: int, token: str) -> bool:
        """Writes the memo only when it moves forward, in one conditional write: no memo (or one without an order)
        is stored, or a smaller `order`, or this same `order` with this same `token` (a retry of this very write).
        True when this call wrote it; False when a memo of a later order, or of the same order from another
        token, is stored (it stays as it was)."""
        ...

    def delete_memo(self, service_arn: str, name: str) -> None: ...


class AccessKeysPort(Protocol):
    """IAM, for the access-key audit: one credential report and one bulk tag read per run."""

    def generate_credential_report(self) -> ReportState:
        """Raises ReportLimitExceeded when AWS refuses another generation for now."""
        ...

    def get_credential_report(self) -> RawCredentialReport:
        """Raises ReportNotReady while it is being generated, ReportMissing when there is none (or it expired)."""
        ...

    def user_tags(self) -> dict[str, dict[str, str]]:
        """Every user's tags, read in bulk (a paginated call for the whole account, never one per user)."""
        ...

    def list_access_keys(self, user_name: str) -> list[ListedKey]:
        """The user's keys now; empty when the user no longer exists."""
        ...

    def deactivate_access_key(self, user_name: str, access_key_id: str) -> None:
        """Sets exactly this key Inactive. Raises AccessKeyRefused (with the reason) when IAM refuses."""
        ...


class OperationsPort(Protocol):
    """App Runner's operation list, for the deployment watcher (how long it took, how it ended)."""

    def last_operation(self, service_arn: str, types: frozenset[str]) -> OperationInfo | None: ...


class EcsRevisionsPort(Protocol):
    """An ECS service's deployments and task-definition revisions, for the rollback and the deployment watcher
    on ECS (the rollback deploys an earlier revision of the family: the task definition pins the image)."""

    def service_state(self, service_arn: str) -> EcsServiceState:
        """The service's task definition, desired count and deployments. Raises ServiceNotFound."""
        ...

    def list_revisions(self, family: str, limit: int) -> list[str]:
        """ARNs of the family's ACTIVE revisions, newest first, at most `limit`."""
        ...

    def describe_revision(self, task_definition: str, repository: str | None) -> TaskRevision | None:
        """The revision (`family:12` or its ARN) with its app container's image; None when ECS does not know it."""
        ...

    def deploy_task_definition(self, service_arn: str, task_definition: str) -> str:
        """UpdateService to the revision (also while scaled to 0); returns the new deployment's id."""
        ...


class PipelineRegistryPort(Protocol):
    """The app's ECR repository, for release and rollback."""

    def repository(self, name: str) -> RepositoryInfo:
        """Raises RepositoryNotFound when it does not exist."""
        ...

    def login(self) -> RegistryLogin:
        """Docker credentials for the registry (ecr:GetAuthorizationToken). Raises RegistryLoginFailed."""
        ...

    def resolve_tag(self, repository: str, tag: str) -> str | None: ...

    def get_manifest(self, repository: str, digest: str) -> ImageManifest | None:
        """The exact manifest and media type (all four media types accepted); None when the image is gone."""
        ...

    def put_manifest(self, repository: str, tag: str, manifest: ImageManifest) -> bool:
        """Points the tag at the manifest; False when it already pointed there. Raises ImmutableTag."""
        ...


class DockerPort(Protocol):
    """The local docker CLI (build, tag, login, push). Secret values never go on a command line."""

    def check_engine(self) -> str:
        """The engine's version. Raises DockerUnavailable without docker or a running engine."""
        ...

    def build(self, image: str, *, context: str, build_args: Mapping[str, str]) -> None: ...

    def tag(self, source: str, target: str) -> None: ...

    def login(self, registry: str, username: str, password: str) -> None:
        """The password goes on stdin. Raises RegistryLoginFailed."""
        ...

    def push(self, image: str) -> None: ...


class BudgetNoticesPort(BudgetPort, Protocol):
    """The budget and its notifications, for the budget wiring check (run_schedule, `warden doctor`)."""

    def budget_notices(self, account_id: str, budget_name: str) -> list[BudgetNotice]:
        """Every notification with its subscribers. Raises BudgetNotFound, WiringUnreadable or AwsUnavailable."""
        ...


class TopicsPort(Protocol):
    def subscriptions(self, topic_arn: str) -> list[TopicSubscription]:
        """The topic's subscriptions, pending ones included. Raises TopicNotFound, WiringUnreadable, AwsUnavailable."""
        ...


class IdentityPort(Protocol):
    """Who the caller is and in which region it works (`warden doctor` only)."""

    def region(self) -> str: ...

    def whoami(self) -> tuple[str, str]:
        """(account id, caller ARN). Raises WiringUnreadable when the credentials do not work."""
        ...


class UsageFactsPort(Protocol):
    """What the guarded service bills for, for the spend guard: its size, the instances it keeps warm or its desired
    count, whether it runs, and the CloudWatch metric that counts its billed units (App Runner and ECS adapters; the
    Target port may carry it later)."""

    def usage_facts(self, service_arn: str) -> UsageFacts:
        """Raises ServiceNotFound, or AwsUnavailable when the platform's API does not answer."""
        ...


class MetricsPort(Protocol):
    """CloudWatch metric data, for the spend guard."""

    def metric_data(
        self, queries: Mapping[str, MetricSpec], start: datetime, end: datetime, period_seconds: int
    ) -> dict[str, MetricPoints]:
        """Every query's data points over [start, end) in ONE GetMetricData request (its pages followed), by query
        id. Raises CannotEstimate when CloudWatch refuses, AwsUnavailable when it does not answer."""
        ...


class DiscoveryPort(Protocol):
    """One platform's services in the stack's region, with their tags (App Runner: ListServices and
    ListTagsForResource; ECS: ListClusters, ListServices and DescribeServices with include=TAGS). Never raises for
    an AWS error: what could not be read is in the result's failures, and `complete` says whether every list
    call succeeded."""

    def discover(self) -> Discovery: ...
