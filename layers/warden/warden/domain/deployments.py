"""Deployments as the deployment watcher sees them, whatever the platform: an event read by the guarded service's
target (`DeploymentEvent`) and what the target tells about the deployment it ended (`DeploymentReport`). Then each
platform's own terms: App Runner operations (what an operation-status event means, how long an operation took,
AWS-FACTS §4.2, §4.5), and an ECS service's deployments (its "ECS Deployment State Change" events and
DescribeServices' deployments).

Pure. The operation statuses in events are names such as `DeploymentCompletedSuccessfully`; the ones Warden
acts on are listed here, the rest are ignored with a reason.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class OperationKind(StrEnum):
    DEPLOYMENT = "deployment"  # StartDeployment, or an automatic deployment after a push
    UPDATE = "update"  # UpdateService: a configuration change, which also rolls out the service
    PAUSE_RESUME = "pause_resume"
    OTHER = "other"


class Phase(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


# App Runner's OperationType values per kind (ListOperations), for finding the operation behind an event.
OPERATION_TYPES: dict[OperationKind, frozenset[str]] = {
    OperationKind.DEPLOYMENT: frozenset({"START_DEPLOYMENT"}),
    OperationKind.UPDATE: frozenset({"UPDATE_SERVICE"}),
    OperationKind.PAUSE_RESUME: frozenset({"PAUSE_SERVICE", "RESUME_SERVICE"}),
    OperationKind.OTHER: frozenset({"CREATE_SERVICE", "DELETE_SERVICE"}),
}

_PREFIXES = (
    ("Deployment", OperationKind.DEPLOYMENT),
    ("UpdateService", OperationKind.UPDATE),
    ("PauseService", OperationKind.PAUSE_RESUME),
    ("ResumeService", OperationKind.PAUSE_RESUME),
)
_PHASES = (("CompletedSuccessfully", Phase.SUCCEEDED), ("Failed", Phase.FAILED), ("Started", Phase.STARTED))


class OperationStatus(BaseModel):
    """`DeploymentFailed` read as (deployment, failed)."""

    model_config = ConfigDict(frozen=True)

    raw: str
    kind: OperationKind
    phase: Phase


def read_operation_status(raw: str) -> OperationStatus:
    kind = next((kind for prefix, kind in _PREFIXES if raw.startswith(prefix)), OperationKind.OTHER)
    phase = next((phase for suffix, phase in _PHASES if raw.endswith(suffix)), Phase.UNKNOWN)
    return OperationStatus(raw=raw, kind=kind, phase=phase)


class Watch(StrEnum):
    """What the watcher does with an operation event."""

    NOTIFY = "notify"
    REMEMBER_START = "remember_start"
    IGNORE = "ignore"


class WatchDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    watch: Watch
    reason: str


def decide_watch(status: OperationStatus) -> WatchDecision:
    """Deployments and updates are reported when they end; their start is remembered for the duration."""
    if status.kind is OperationKind.PAUSE_RESUME:
        return WatchDecision(
            watch=Watch.IGNORE,
            reason=f"ignored, because {status.raw} is a pause or resume, which Warden reports itself "
            "(its pause claims own every pause)",
        )
    if status.kind is OperationKind.OTHER:
        return WatchDecision(
            watch=Watch.IGNORE, reason=f"ignored, because {status.raw!r} is not a deployment or an update"
        )
    if status.phase is Phase.STARTED:
        return WatchDecision(watch=Watch.REMEMBER_START, reason=f"{status.raw}: remembered for the duration")
    if status.phase is Phase.UNKNOWN:
        return WatchDecision(watch=Watch.IGNORE, reason=f"ignored, because {status.raw!r} is no known outcome")
    return WatchDecision(watch=Watch.NOTIFY, reason=status.raw)


class OperationInfo(BaseModel):
    """One App Runner operation (ListOperations' OperationSummary)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    # PENDING | IN_PROGRESS | FAILED | SUCCEEDED | ROLLBACK_IN_PROGRESS | ROLLBACK_FAILED | ROLLBACK_SUCCEEDED
    status: str
    started_at: datetime | None = None
    ended_at: datetime | None = None


def operation_duration(
    operation: OperationInfo | None, remembered_start: datetime | None, ended: datetime
) -> timedelta | None:
    """From the operation's own times when App Runner reports them, else from the remembered *Started event."""
    if operation is not None and operation.started_at is not None:
        return (operation.ended_at or ended) - operation.started_at
    if remembered_start is not None and remembered_start <= ended:
        return ended - remembered_start
    return None


def failure_explanation(operation: OperationInfo | None) -> str:
    """What App Runner did after a failed deployment, in words."""
    if operation is None:
        return ""
    match operation.status:
        case "ROLLBACK_SUCCEEDED":
            return "App Runner rolled the service back to the version that ran before; it keeps serving that."
        case "ROLLBACK_FAILED":
            return "App Runner could not roll the service back either: check the service now."
        case "ROLLBACK_IN_PROGRESS":
            return "App Runner is rolling the service back to the version that ran before."
        case _:
            return f"App Runner reports the operation as {operation.status}."


# --- ECS deployments ---------------------------------------------------------------------------------------
# ECS reports a service deployment through EventBridge "ECS Deployment State Change" events; the deployment
# itself (its task definition, when it started) is read from DescribeServices.


class EcsPhase(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


ECS_EVENT_PHASES: dict[str, EcsPhase] = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": EcsPhase.IN_PROGRESS,
    "SERVICE_DEPLOYMENT_COMPLETED": EcsPhase.COMPLETED,
    "SERVICE_DEPLOYMENT_FAILED": EcsPhase.FAILED,
}
# The circuit breaker's rollback starts with "ECS deployment circuit breaker: rolling back to deploymentId X."
_ROLLING_BACK = re.compile(r"rolling back to deploymentId\s+(?P<id>[^\s.]+(?:\.[^\s.]+)*)", re.IGNORECASE)


class EcsDeployment(BaseModel):
    """One entry of DescribeServices' `deployments`."""

    model_config = ConfigDict(frozen=True)

    id: str
    task_definition: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None = None  # IN_PROGRESS | COMPLETED | FAILED
    rollout_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class EcsServiceState(BaseModel):
    """What DescribeServices says about the service's deployments."""

    model_config = ConfigDict(frozen=True)

    arn: str
    task_definition: str  # what the service runs (or will run, once a deployment finishes)
    desired_count: int
    deployments: tuple[EcsDeployment, ...] = ()
    circuit_breaker_rollback: bool | None = None  # None: ECS did not say

    def deployment(self, deployment_id: str | None) -> EcsDeployment | None:
        return next((item for item in self.deployments if item.id == deployment_id), None)

    @property
    def primary(self) -> EcsDeployment | None:
        return next((item for item in self.deployments if item.status == "PRIMARY"), None)


def ecs_rolling_back_to(reason: str | None) -> str | None:
    """The deployment ECS's circuit breaker rolls back to, when the event's reason says it does; else None.

    Only the event's words count: with rollback off, ECS stops the failed deployment and rolls nothing back."""
    match = _ROLLING_BACK.search(reason or "")
    return match["id"] if match else None


def decide_ecs_watch(event_name: str) -> tuple[EcsPhase | None, str]:
    """The phase of an ECS deployment event, or None with the reason it is ignored."""
    phase = ECS_EVENT_PHASES.get(event_name)
    if phase is None:
        return None, f"ignored, because {event_name!r} is not a deployment state Warden reports"
    return phase, event_name


def ecs_failure_explanation(reason: str | None) -> str:
    """What ECS did after a failed deployment, in words: a rollback only when the event says one started."""
    target = ecs_rolling_back_to(reason)
    if target is not None:
        return f"ECS is rolling the service back by itself (deployment circuit breaker) to deployment {target}."
    return (
        "ECS stopped the deployment (deployment circuit breaker): it starts no more tasks of the failed "
        "revision; tasks of the earlier deployment that still run keep running."
    )


# --- whatever the platform --------------------------------------------------------------------------------


class DeploymentEvent(BaseModel):
    """A deployment event of the guarded platform, read by its target."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    delivery_key: str  # EventBridge delivers at least once: the same key for every delivery of the event
    service_arn: str | None
    status: str
    """The platform's name for what happened: `DeploymentFailed`, `SERVICE_DEPLOYMENT_FAILED`."""
    time: datetime
    phase: Phase
    ignored: str | None = None
    """ "ignored, because ..." when Warden does not report this event (a pause, an unknown state)."""
    update: bool = False
    """A configuration update (App Runner's UpdateService): no new version, nothing a rollback would undo."""
    start_key: str
    """What matches a deployment's start to its end: the kind of operation, or the deployment's id."""
    deployment_id: str | None = None
    message: str | None = None
    """The platform's own words about it (its reason)."""


class DeploymentStart(BaseModel):
    """A deployment's start, as the watcher remembered it from its start event."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    reason: str = ""


class DeploymentReport(BaseModel):
    """What the target tells about the deployment an event ended: what runs, how long it took, what the platform
    did about a failure and how to go back by hand."""

    model_config = ConfigDict(frozen=True)

    deployed: str | None = None
    """What the deployment history records for it (an image digest, a task-definition ARN); None: unknown."""
    version: str | None = None
    """The version recorded with it, when the platform names one (an image tag)."""
    label: str
    """ "v1.2.0 (sha256:1a2b...)", "consultation-app:3 (v1.2.0)"."""
    short: str
    """For a failure's subject line: "v1.2.0"."""
    headline: str
    """For a success's subject line: `short`, or `label` where the short form would hide the revision."""
    took: timedelta | None = None
    by_platform_rollback: bool = False
    """The platform deployed it as its own rollback (ECS's circuit breaker)."""
    platform_rollback_failed: bool = False
    """The platform's own rollback after the failure failed too: the service needs a look now."""
    detail: str = ""
    """A success's second line: the operation and how it ended, or the platform's reason."""
    explanation: str = ""
    """What the platform did after a failure."""
    manual_rollback: tuple[str, ...] = ()
    """The `warden rollback` commands that go back to the version before it."""
    update_advice: str = ""
    """For a failed configuration update: what Warden did not do, and what to check."""
