"""The App Runner target: an App Runner service, paused and resumed by App Runner itself.

App Runner has a pause of its own (PauseService, ResumeService) and deploys the image its ImageIdentifier's tag
points at (StartDeployment, or by itself with automatic deployments on), so going back to an earlier version is
moving that tag back and deploying it (the rollback use case does that over ECR).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from warden.adapters.targets.controlled import Controlled
from warden.domain.alarms import APPRUNNER, MetricKind, ServiceDimensions, format_duration
from warden.domain.deployments import (
    OPERATION_TYPES,
    DeploymentEvent,
    DeploymentReport,
    DeploymentStart,
    OperationInfo,
    OperationKind,
    Watch,
    decide_watch,
    failure_explanation,
    operation_duration,
    read_operation_status,
)
from warden.domain.images import short_digest
from warden.domain.managed_alarms import AlarmOwner, Platform
from warden.domain.pipeline import (
    JudgedDeployment,
    PipelineError,
    RollbackTrigger,
    choose_rollback_target,
    judge_recorded,
    tag_of,
    tracked_tag,
    version_label,
)
from warden.domain.records import DeploymentRecord
from warden.domain.service import APP_RUNNER, ServiceSnapshot
from warden.domain.target import TargetFacts
from warden.errors import RollbackFailed, ServiceNotFound, WardenError
from warden.models.deployment import parse_operation_event
from warden.observability import logger

if TYPE_CHECKING:
    from warden.settings import ServiceRef, Settings
    from warden.usecases.ports import (
        ImagePort,
        OperationsPort,
        PipelineRegistryPort,
        ServicePort,
        StatePort,
        TaskDefinitionsPort,
        UsageFactsPort,
    )
    from warden.usecases.target import RollbackMove

RUNBOOK: dict[MetricKind, tuple[str, ...]] = {
    MetricKind.ERROR_RATE: (
        "Read the application logs for the failing requests (App Runner console > Logs > Application logs).",
        "Did it start with a recent deployment? Then roll back: `warden rollback` (the previous release).",
        "Check what the app depends on (database, external APIs such as OpenAI or Clerk) and its secrets.",
    ),
    MetricKind.LATENCY: (
        "Check slow downstream calls first: the database, external APIs, their timeouts.",
        "Cold starts: App Runner adding instances answers slowly at first; raise the minimum instances.",
        "CPU or memory at the limit also slows responses: see the CPU and memory graphs.",
    ),
    MetricKind.CPU: (
        "Scale up: give the service more vCPU (App Runner > Configuration > Instance), or more instances.",
        "Look for hot loops or expensive requests (e.g. image or PDF work) in the application logs.",
    ),
    MetricKind.MEMORY: (
        "Look for a leak: memory that grows with every request and never falls back.",
        "Increase the instance memory (App Runner > Configuration > Instance), e.g. 0.5 GB -> 1 GB.",
    ),
    MetricKind.INSTANCES: (
        "Is the service paused? `warden status` shows App Runner's status and the pause claims.",
        "Did a deployment fail? Check the service's event log and deployment logs in the App Runner console.",
    ),
}
RUNBOOK[MetricKind.ERRORS_5XX] = RUNBOOK[MetricKind.ERROR_RATE]


def facts(service: ServiceRef) -> TargetFacts:
    return TargetFacts(
        platform=APP_RUNNER,
        service_noun="App Runner service",
        described=f"App Runner service {service.name} ({service.service_id})",
        console_url=f"https://{service.region}.console.aws.amazon.com/apprunner/home?region={service.region}"
        f"#/services/dashboard?service_arn={service.arn}&active_tab=logs",
        runs_on="instances",
        runbook=RUNBOOK,
        alarm_metrics=(
            ServiceDimensions(
                namespaces=(APPRUNNER,),
                dimensions=(("ServiceID", service.service_id), ("ServiceName", service.name)),
            ),
        ),
        while_paused="While paused the service serves no traffic; resuming redeploys the version that ran before "
        "the pause.",
        resumes_the_image_before_pause=True,
    )


def build(settings: Settings, *, pipeline: bool = False) -> AppRunnerTarget:
    """Over App Runner's API; with `pipeline`, also its operations and ECR (the tag the service follows)."""
    from warden.adapters.apprunner import AppRunnerServices

    services = AppRunnerServices()
    if not pipeline:
        return AppRunnerTarget(settings.service, services)
    from warden.adapters.ecr import EcrImages

    return AppRunnerTarget(
        settings.service,
        services,
        operations=services,
        images=EcrImages() if settings.ecr_repository else None,
        registry=EcrImages(),
        repository=settings.ecr_repository,
    )


def alarm_owner(settings: Settings, *, complete: bool) -> AlarmOwner:
    service = settings.service
    return AlarmOwner(
        service_arn=service.arn,
        name=service.name,
        platform=Platform.APPRUNNER,
        service_id=service.service_id,
        complete=complete,
    )


def usage(settings: Settings) -> UsageFactsPort:
    """App Runner's instance size and MinSize, for the spend guard."""
    from warden.adapters.apprunner import AppRunnerServices

    return AppRunnerServices()


def resume_commands(service: ServiceRef) -> list[str]:
    return [f"  aws apprunner resume-service --service-arn {service.arn} --region {service.region}"]


class AppRunnerTarget(Controlled):
    """The Target port for an App Runner service, over its controller (adapters/apprunner.AppRunnerServices).

    For the deployment watcher: `operations` (ListOperations: how long an operation took, how it ended) and `images`
    (the digest the service's tag points at, with ECR_REPOSITORY). For the automatic rollback: `registry` and
    `repository`, to read what the tracked tag points at now."""

    def __init__(
        self,
        service: ServiceRef,
        controller: ServicePort,
        *,
        operations: OperationsPort | None = None,
        images: ImagePort | None = None,
        registry: PipelineRegistryPort | None = None,
        repository: str | None = None,
    ) -> None:
        super().__init__(service, controller, facts(service))
        self._operations = operations
        self._images = images
        self._registry = registry
        self._repository = repository

    # -- by hand -----------------------------------------------------------------------------------------
    def resume_commands(self, state: StatePort | None, state_table: str) -> list[str]:
        return resume_commands(self._service)

    def remembered_scale(self, state: StatePort) -> str | None:
        return None  # App Runner's resume brings back what ran: Warden remembers no scale

    @property
    def task_definitions(self) -> TaskDefinitionsPort | None:
        return None  # what runs is the image the tag names (or the deployment history says)

    def deploy_command(self) -> str:
        return f"aws apprunner start-deployment --service-arn {self._service.arn} --region {self._service.region}"

    # -- deployment events: "AppRunner Service Operation Status Change" ------------------------------------
    def read_deployment_event(self, event: object) -> DeploymentEvent:
        parsed = parse_operation_event(event)
        status = read_operation_status(parsed.operation_status)
        watch = decide_watch(status)
        return DeploymentEvent(
            event_id=parsed.event_id,
            delivery_key=parsed.delivery_key,
            service_arn=parsed.service_arn,
            status=parsed.operation_status,
            time=parsed.time,
            phase=status.phase,
            ignored=watch.reason if watch.watch is Watch.IGNORE else None,
            update=status.kind is OperationKind.UPDATE,
            # App Runner runs one operation at a time: its kind matches a start to its end.
            start_key=status.kind.value,
            message=parsed.message,
        )

    def read_deployment(
        self, event: DeploymentEvent, history: Sequence[DeploymentRecord], started: DeploymentStart | None
    ) -> DeploymentReport:
        """The version: the tag the service follows, resolved to a digest in ECR and looked up in the history.
        How long and how it ended: the operation behind the event (ListOperations), else its remembered start."""
        arn = self._service.arn
        kind = OperationKind.UPDATE if event.update else OperationKind.DEPLOYMENT
        try:
            snapshot: ServiceSnapshot | None = self._controller.describe(arn)
            operation = self._operations.last_operation(arn, OPERATION_TYPES[kind]) if self._operations else None
        except ServiceNotFound:
            snapshot, operation = None, None
        digest = None
        if self._images is not None and snapshot is not None and snapshot.image_identifier:
            try:
                digest = self._images.resolve(snapshot.image_identifier)
            except WardenError as error:
                logger.warning("could not resolve the service's image", extra={"error": str(error)})
        took = operation_duration(operation, started.at if started else None, event.time)
        if digest is None:
            image = snapshot.image_identifier if snapshot else None
            label = short = image.rsplit("/", 1)[-1] if image else "an unknown version"
        else:
            label = version_label(digest, history)
            short = tag_of(digest, history) or short_digest(digest)
        return DeploymentReport(
            deployed=digest,
            label=label,
            short=short,
            headline=short,
            took=took,
            platform_rollback_failed=operation is not None and operation.status == "ROLLBACK_FAILED",
            detail=_operation_line(operation, format_duration(took) if took is not None else None),
            explanation=failure_explanation(operation),
            manual_rollback=tuple(_manual_rollback_lines(history, digest)),
            update_advice="Nothing: an UpdateService failure is a configuration change, which rolling back the image "
            "would not undo. Check the change (aws apprunner list-operations) and the service's logs.",
        )

    # -- rollback: move the tag the service follows back (the rollback use case does it) ---------------------
    def judge_deployment(
        self, trigger: RollbackTrigger, *, deployment_id: str | None, history: Sequence[DeploymentRecord]
    ) -> JudgedDeployment:
        """From Warden's history and what the tracked tag points at now (for a failed deployment: the image that
        failed). App Runner's events name no deployment: `deployment_id` is not used."""
        if self._registry is None or not self._repository:
            raise RollbackFailed(
                "Warden could not roll back: ECR_REPOSITORY is not set, so there is no tag to move back"
            )
        try:
            snapshot = self._controller.describe(self._service.arn)
            tracked = tracked_tag(
                snapshot.image_identifier,
                account_id=self._service.account_id,
                region=self._service.region,
                repository=self._repository,
            )
            current = self._registry.resolve_tag(self._repository, tracked.tag)
        except PipelineError as error:
            raise RollbackFailed(f"Warden could not roll back: {error}") from error
        return judge_recorded(trigger, history, current)

    def plan_rollback(self, version: str | None, *, from_deployment: str | None = None) -> RollbackMove | None:
        return None  # App Runner deploys what its tag points at: going back is moving the tag back


def _operation_line(operation: OperationInfo | None, duration: str | None) -> str:
    if operation is None:
        return ""
    took = f", took {duration}" if duration else ""
    return f"Operation {operation.id} ({operation.type}) ended {operation.status}{took}."


def _manual_rollback_lines(history: Sequence[DeploymentRecord], digest: str | None) -> list[str]:
    target = choose_rollback_target(history, digest)
    if target is None:
        return ["warden rollback VERSION   (no earlier deployment is on record: name the version to go back to)"]
    return [
        f"warden rollback   (moves the tag back to {target.label} and deploys it)",
        f"warden rollback {target.tag or target.digest}   (the same, naming the version)",
        "warden rollback --plan   (shows what it would do; changes nothing)",
    ]
