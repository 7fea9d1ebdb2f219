"""The ECS target: an ECS service (Fargate or Express Mode), whose pause Warden emulates.

ECS has no pause of its own: the controller (adapters/ecs.EcsServices) sets the desired count to 0 and pins the
Auto Scaling target to 0..0, remembering both in the state table; undoing it by hand means putting back what it
remembered, so the by-hand commands quote the memo when there is one. The task definition pins the image, so a
rollback deploys an earlier revision of the family (or, for a task definition that follows a moving tag such as
`latest`, moves the tag back like App Runner).
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from warden.adapters.targets.controlled import Controlled
from warden.domain.alarms import CONTAINER_INSIGHTS, MetricKind, ServiceDimensions
from warden.domain.alarms import ECS as ECS_NAMESPACE
from warden.domain.deployments import (
    DeploymentEvent,
    DeploymentReport,
    DeploymentStart,
    EcsPhase,
    EcsServiceState,
    Phase,
    decide_ecs_watch,
    ecs_failure_explanation,
    ecs_rolling_back_to,
)
from warden.domain.managed_alarms import AlarmOwner, Platform
from warden.domain.pipeline import (
    JudgedDeployment,
    NoRollbackTarget,
    PipelineError,
    Redeployed,
    RollbackTrigger,
    TaskRevision,
    judge_listed,
    moving_tag,
    parse_revision_query,
    previous_revision,
    revision_name,
    runs_version,
    sorted_revisions,
)
from warden.domain.records import DeploymentRecord, service_partition
from warden.domain.service import ECS, ECS_PAUSE_MEMO, ServiceStatus
from warden.domain.target import TargetFacts
from warden.errors import InvalidServiceState, RollbackFailed, ServiceNotFound, WardenError
from warden.models.deployment import parse_ecs_deployment_event
from warden.observability import logger

if TYPE_CHECKING:
    from warden.settings import ServiceRef, Settings
    from warden.usecases.ports import (
        EcsRevisionsPort,
        PipelineRegistryPort,
        ServicePort,
        StatePort,
        TaskDefinitionsPort,
        UsageFactsPort,
    )

SEARCH_DEPTH = 50  # the newest revisions a version, or the previous revision, is looked for in
LISTED = 8  # revisions an unknown name's error lists
_UNDEPLOYABLE = {ServiceStatus.DELETED, ServiceStatus.CREATE_FAILED, ServiceStatus.DELETE_FAILED}
_PHASES = {EcsPhase.IN_PROGRESS: Phase.STARTED, EcsPhase.COMPLETED: Phase.SUCCEEDED, EcsPhase.FAILED: Phase.FAILED}

_5XX = (
    "Read the application logs for the failing requests (ECS console > Clusters > the cluster > the service > Logs).",
    "Did it start with a recent deployment? Then roll back: `warden rollback` (the previous release).",
    "Check what the app depends on (database, external APIs such as OpenAI or Clerk) and its secrets.",
    "Stopped tasks say why they stopped (the service's Tasks tab, filter Stopped): a failing health check or an "
    "out-of-memory exit shows there.",
)
RUNBOOK: dict[MetricKind, tuple[str, ...]] = {
    MetricKind.ERROR_RATE: _5XX,
    MetricKind.ERRORS_5XX: _5XX,
    MetricKind.LATENCY: (
        "Check slow downstream calls first: the database, external APIs, their timeouts.",
        "Too few tasks for the traffic: raise the desired count or the auto scaling maximum (the service > "
        "Update), or scale out on request count.",
        "CPU or memory at the limit also slows responses: see the CPU and memory graphs.",
    ),
    MetricKind.CPU: (
        "Scale up: give the task more CPU (a new revision of the task definition with a larger task size), or "
        "run more tasks (desired count, auto scaling maximum).",
        "Look for hot loops or expensive requests (e.g. image or PDF work) in the application logs (ECS console "
        "> the service > Logs).",
    ),
    MetricKind.MEMORY: (
        "Look for a leak: memory that grows with every request and never falls back.",
        "Increase the task memory (a new revision of the task definition with a larger task size), e.g. "
        "0.5 GB -> 1 GB; stopped tasks with exit code 137 (OutOfMemory) in the service's Tasks tab confirm it.",
    ),
    MetricKind.INSTANCES: (
        "Is the service paused? `warden status` shows the service's state and the pause claims (a pause sets "
        "the desired count to 0).",
        "Did a deployment fail or tasks stop? Check the service's Deployments, Events and stopped Tasks in the "
        "ECS console.",
    ),
}
# What Warden's status means in ECS's own terms (ECS has no PAUSED: Warden's pause is a desired count of 0).
MEANINGS: dict[ServiceStatus, str] = {
    ServiceStatus.RUNNING: "desired count above 0",
    ServiceStatus.PAUSED: "desired count 0",
    ServiceStatus.OPERATION_IN_PROGRESS: "a deployment is rolling out",
    ServiceStatus.DELETED: "draining or inactive",
}


def facts(service: ServiceRef) -> TargetFacts:
    region = service.region
    return TargetFacts(
        platform=ECS,
        service_noun="ECS service",
        described=f"ECS service {service.name} in cluster {service.cluster}",
        console_url=f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{service.cluster}/services/"
        f"{service.name}/health?region={region}",
        runs_on="tasks",
        runbook=RUNBOOK,
        alarm_metrics=(
            ServiceDimensions(
                namespaces=(ECS_NAMESPACE, CONTAINER_INSIGHTS),
                dimensions=(("ClusterName", service.cluster), ("ServiceName", service.name)),
                every_one=True,
            ),
        ),
        behind_load_balancer=True,
        status_meanings=MEANINGS,
        pause_means="On ECS this means no task runs now: the desired count is 0 and auto scaling is held at 0/0; the "
        "resume restores the desired count and scaling bounds Warden remembered.",
        unrecorded_pause_note=(
            "On ECS the desired count and Auto Scaling target to restore could not be stored either: this function's "
            "log has them (search for 'memo kept in memory only')."
        ),
        would_pause_means="[dry run] On ECS the pause would set the desired count to 0 and hold auto scaling at 0/0 "
        "until the resume.",
        while_paused="While paused no task runs and no traffic is served; resuming starts the same task definition "
        "with the desired count and Auto Scaling target from before the pause.",
        # The tasks a resume starts pull the image their task definition names at that moment: nothing to track.
        rolls_back_by_revision=True,
    )


def build(settings: Settings, *, pipeline: bool = False) -> EcsTarget:
    """Over ECS and Application Auto Scaling. ECS has no pause of its own: the controller remembers the desired
    count and scaling target in the state table while paused. With `pipeline` and ECR_REPOSITORY, ECR resolves a
    named version's tag (for task definitions that pin digests) and moves a moving tag back."""
    from warden.adapters.dynamodb import FallbackMemos, StateTable
    from warden.adapters.ecs import EcsServices

    repository = settings.ecr_repository
    # The fallback keeps a pause possible while the table is unavailable (the scale to restore is logged).
    controller = EcsServices(
        FallbackMemos(StateTable(settings.state_table, history_retention_days=settings.history_retention_days)),
        repository=repository,
    )
    registry = None
    if pipeline and repository:
        from warden.adapters.ecr import EcrImages

        registry = EcrImages()
    return EcsTarget(
        settings.service,
        controller,
        revisions=controller,
        task_definitions=controller,
        registry=registry,
        repository=repository,
    )


def alarm_owner(settings: Settings, *, complete: bool) -> AlarmOwner:
    """A target group without a known load balancer gets the CPU and memory alarms only, and keeps whatever
    load-balancer alarms it had (`complete` False): the load balancer's dimension cannot be written."""
    service = settings.service
    unknown_balancer = settings.target_group_arn is not None and settings.load_balancer_arn is None
    return AlarmOwner(
        service_arn=service.arn,
        name=service.name,
        platform=Platform.ECS,
        cluster=service.cluster,
        target_group_arn=settings.target_group_arn,
        load_balancer_arn=settings.load_balancer_arn,
        complete=complete and not unknown_balancer,
    )


def usage(settings: Settings) -> UsageFactsPort:
    """The task size and desired count, for the spend guard. Read-only: no memo is written through this port."""
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecs import EcsServices

    state = StateTable(settings.state_table, history_retention_days=settings.history_retention_days)
    return EcsServices(state, repository=settings.ecr_repository)


def resume_commands(service: ServiceRef, remembered: Mapping[str, str] | None, state_table: str) -> list[str]:
    """Putting back what the pause remembered: the exact numbers when the memo is at hand, else where to read them."""
    region = f"--region {service.region}"
    if remembered is None:
        memo_key = json.dumps(
            {"PK": {"S": service_partition(service.arn)}, "SK": {"S": f"MEMO#{ECS_PAUSE_MEMO}"}},
            separators=(",", ":"),
        )
        return [
            "  then put back the desired count and Auto Scaling target from before the pause; Warden remembered them:",
            f"  aws dynamodb get-item --table-name {shlex.quote(state_table)} --key {shlex.quote(memo_key)}",
            f"  aws ecs update-service --cluster {service.cluster} --service {service.name} "
            f"--desired-count <desired_count> {region}",
        ]
    if remembered.get("path") == "express":
        scaling = json.loads(remembered.get("express_scaling") or "{}")
        target = {
            "minTaskCount": int(scaling.get("minTaskCount", 1)),
            "maxTaskCount": int(scaling.get("maxTaskCount", 1)),
        }
        return [
            f"  aws ecs update-express-gateway-service --service-arn {service.arn} "
            f"--scaling-target {shlex.quote(json.dumps(target, separators=(',', ':')))} {region}"
        ]
    lines: list[str] = []
    if remembered.get("scalable_target"):
        lines.append(_register_target(service, json.loads(remembered["scalable_target"])))
    desired = remembered.get("desired_count") or "1"
    lines.append(
        f"  aws ecs update-service --cluster {service.cluster} --service {service.name} {region} "
        f"--desired-count {desired}"
    )
    return lines


def _register_target(service: ServiceRef, target: Mapping[str, object]) -> str:
    suspended = ",".join(
        f"{name}={str(bool(target.get(field, False))).lower()}"
        for name, field in (
            ("DynamicScalingInSuspended", "scaling_in_suspended"),
            ("DynamicScalingOutSuspended", "scaling_out_suspended"),
            ("ScheduledScalingSuspended", "scheduled_suspended"),
        )
    )
    return (
        "  aws application-autoscaling register-scalable-target --service-namespace ecs "
        f"--resource-id service/{service.cluster}/{service.name} --scalable-dimension ecs:service:DesiredCount "
        f"--min-capacity {target.get('minimum')} --max-capacity {target.get('maximum')} "
        f"--suspended-state {suspended} --region {service.region}"
    )


def remembered_scale(memo: Mapping[str, str] | None) -> str | None:
    """What a resume puts back, in words ("3 tasks, auto scaling 2..5"); None when nothing is remembered."""
    if memo is None:
        return None
    if memo.get("path") == "express":
        scaling = json.loads(memo.get("express_scaling") or "{}")
        return f"Express scaling {scaling.get('minTaskCount', '?')}..{scaling.get('maxTaskCount', '?')} tasks"
    desired = memo.get("desired_count") or "?"
    words = f"{desired} task{'' if desired == '1' else 's'}"
    if memo.get("scalable_target"):
        target = json.loads(memo["scalable_target"])
        words += f", auto scaling {target.get('minimum')}..{target.get('maximum')}"
    return words


class EcsTarget(Controlled):
    """The Target port for an ECS service, over its controller (adapters/ecs.EcsServices), which also reads and
    deploys the service's task-definition revisions (`revisions`) and lists their images for the purge
    (`task_definitions`): the same EcsServices in production.

    `registry` and `repository` (ECR_REPOSITORY) resolve a version's tag to the digest a revision may pin, and
    let a task definition that follows a moving tag be rolled back by moving the tag (the rollback use case)."""

    def __init__(
        self,
        service: ServiceRef,
        controller: ServicePort,
        *,
        revisions: EcsRevisionsPort | None = None,
        task_definitions: TaskDefinitionsPort | None = None,
        registry: PipelineRegistryPort | None = None,
        repository: str | None = None,
    ) -> None:
        super().__init__(service, controller, facts(service))
        self._revisions = revisions
        self._task_definitions = task_definitions
        self._registry = registry
        self._repository = repository

    @property
    def revisions(self) -> EcsRevisionsPort:
        if self._revisions is None:
            raise PipelineError("this ECS target reads no task-definition revisions (wiring gave it none)")
        return self._revisions

    # -- by hand -----------------------------------------------------------------------------------------
    def resume_commands(self, state: StatePort | None, state_table: str) -> list[str]:
        remembered = state.get_memo(self._service.arn, ECS_PAUSE_MEMO) if state is not None else None
        return resume_commands(self._service, remembered, state_table)

    def remembered_scale(self, state: StatePort) -> str | None:
        return remembered_scale(state.get_memo(self._service.arn, ECS_PAUSE_MEMO))

    @property
    def task_definitions(self) -> TaskDefinitionsPort | None:
        return self._task_definitions

    def deploy_command(self) -> str:
        service = self._service
        return (
            f"aws ecs update-service --cluster {service.cluster} --service {service.name} --force-new-deployment "
            f"--region {service.region}"
        )

    # -- deployment events: "ECS Deployment State Change" ---------------------------------------------------
    def read_deployment_event(self, event: object) -> DeploymentEvent:
        parsed = parse_ecs_deployment_event(event)
        phase, why = decide_ecs_watch(parsed.event_name)
        return DeploymentEvent(
            event_id=parsed.event_id,
            delivery_key=parsed.delivery_key,
            service_arn=parsed.service_arn,
            status=parsed.event_name,
            time=parsed.time,
            phase=_PHASES[phase] if phase is not None else Phase.UNKNOWN,
            ignored=None if phase is not None else why,
            # One start per service: a deployment that never reports an end (no circuit breaker) leaves nothing
            # behind once the next one starts, and another deployment's start is not taken for this one's.
            start_key=parsed.deployment_id or "",
            deployment_id=parsed.deployment_id,
            message=parsed.reason,
        )

    def read_deployment(
        self, event: DeploymentEvent, history: Sequence[DeploymentRecord], started: DeploymentStart | None
    ) -> DeploymentReport:
        """The deployment's revision (DescribeServices, then its task definition), the revision before it (where
        `warden rollback` goes), and whether it is ECS's own circuit-breaker rollback (its start's reason says)."""
        state: EcsServiceState | None = None
        revision = previous = None
        with contextlib.suppress(ServiceNotFound):  # deleted since: report what the event says
            state = self.revisions.service_state(self._service.arn)
        deployment = state.deployment(event.deployment_id) if state else None
        task_definition = deployment.task_definition if deployment else None
        if task_definition is None and state is not None and event.phase is Phase.SUCCEEDED:
            # ECS drops finished deployments from the list soon: a completed one is what the service runs.
            task_definition = state.task_definition
        try:
            revision = self._revision(task_definition) if task_definition else None
            if revision is not None:
                earlier = previous_revision(revision, self.revisions.list_revisions(revision.family, SEARCH_DEPTH))
                previous = self._revision(earlier) if earlier else None
        except WardenError as error:
            logger.warning("could not read the task definitions", extra={"error": str(error)})
        begun = deployment.created_at if deployment and deployment.created_at else None
        if begun is None and started is not None:
            begun = started.at
        if revision is not None:
            label = revision.label
        elif deployment is not None:
            label = revision_name(deployment.task_definition)
        else:
            label = f"deployment {event.deployment_id or '(no id)'}"
        return DeploymentReport(
            deployed=revision.arn if revision is not None else None,
            version=revision.version if revision is not None else None,
            label=label,
            short=revision.short if revision is not None else label,
            headline=label,
            took=event.time - begun if begun is not None and begun <= event.time else None,
            by_platform_rollback=ecs_rolling_back_to(started.reason if started else None) is not None,
            detail=event.message or "",
            explanation=ecs_failure_explanation(event.message),
            manual_rollback=tuple(_manual_rollback_lines(previous)),
        )

    # -- rollback: an earlier task-definition revision -------------------------------------------------------
    def judge_deployment(
        self, trigger: RollbackTrigger, *, deployment_id: str | None, history: Sequence[DeploymentRecord]
    ) -> JudgedDeployment:
        """The failed deployment (`deployment_id`), or for an alarm the service's primary one."""
        try:
            state = self.revisions.service_state(self._service.arn)
        except WardenError as error:
            raise RollbackFailed(f"Warden could not read the ECS service: {error}") from error
        deployment = state.deployment(deployment_id) if trigger is RollbackTrigger.FAILED_DEPLOYMENT else state.primary
        return judge_listed(
            trigger,
            service_task_definition=state.task_definition,
            deployment=deployment,
            circuit_breaker_rollback=state.circuit_breaker_rollback,
            history=history,
        )

    def plan_rollback(self, version: str | None, *, from_deployment: str | None = None) -> RevisionRollback | None:
        """An earlier revision of the family; None (move the tag back) for a task definition that follows a moving
        tag such as `latest`, when the app's repository is known and no revision is named (`12`, `family:12`).
        `from_deployment` (the automatic rollback's failed revision) always goes back a revision."""
        if from_deployment is None and self._registry is not None and self._repository:
            running = self.revisions.service_state(self._service.arn).task_definition
            current = self._revision(running)
            named_revision = version is not None and (
                parse_revision_query(version, current.family if current else "").task_definition is not None
            )
            if current is not None and moving_tag(current.image) and not named_revision:
                return None
        return RevisionRollback(self._service, self.revisions, self._plan(version, from_deployment))

    def _plan(self, version: str | None, from_task_definition: str | None) -> RevisionPlan:
        """Reads the service and its family's revisions and decides where to go. Changes nothing."""
        snapshot = self._controller.describe(self._service.arn)
        if snapshot.status in _UNDEPLOYABLE:
            raise PipelineError(f"the ECS service {snapshot.name} is {snapshot.status.value}: nothing can be deployed")
        running = from_task_definition or self.revisions.service_state(self._service.arn).task_definition
        current = self._revision(running)
        if current is None:
            raise PipelineError(f"ECS cannot describe the task definition the service runs ({running})")
        if version and version.strip():
            target, because = self._named_target(current, version.strip())
        else:
            earlier = previous_revision(current, self.revisions.list_revisions(current.family, SEARCH_DEPTH))
            found = self._revision(earlier) if earlier else None
            if found is None:
                raise NoRollbackTarget(
                    f"{current.name} is the oldest ACTIVE revision of {current.family}: there is no earlier one to "
                    f"go back to (aws ecs list-task-definitions --family-prefix {current.family} --sort DESC)"
                )
            target = found
            because = f"the previous revision of {current.family} (the newest older than {current.name})"
        _refuse_same_moving_tag(current, target)
        return RevisionPlan(
            service_name=snapshot.name,
            cluster=self._service.cluster,
            service_status=snapshot.status,
            current=current,
            target=target,
            chosen_because=because,
        )

    def _named_target(self, current: TaskRevision, name: str) -> tuple[TaskRevision, str]:
        query = parse_revision_query(name, current.family)
        if query.task_definition is not None:
            found = self._revision(query.task_definition)
            if found is None:
                raise NoRollbackTarget(
                    f"ECS has no task definition {query.task_definition!r}; {current.family} has "
                    f"{self._existing(current.family)}"
                )
            target, because = found, "named on the command line"
        else:
            version = query.version or name
            digest = self._resolve(version)
            seen: list[TaskRevision] = []
            match: TaskRevision | None = None
            for arn in sorted_revisions(current.family, self.revisions.list_revisions(current.family, SEARCH_DEPTH)):
                revision = self._revision(arn)
                if revision is not None and runs_version(revision, version, digest):
                    match = revision
                    break
                seen.extend([revision] if revision is not None else [])
            if match is None:
                listed = ", ".join(item.label for item in seen[:LISTED]) or "no ACTIVE revision"
                more = f" and {len(seen) - LISTED} more" if len(seen) > LISTED else ""
                raise NoRollbackTarget(
                    f"no revision of {current.family} runs {version!r}: it has {listed}{more} "
                    f"(name a revision, e.g. `warden rollback {current.family}:{max(current.revision - 1, 1)}`)"
                )
            target, because = match, f"the newest revision of {current.family} that runs {version}"
        if target.arn == current.arn:
            raise NoRollbackTarget(f"the service already runs {target.label}: name another version or revision")
        return target, because

    def _revision(self, task_definition: str) -> TaskRevision | None:
        return self.revisions.describe_revision(task_definition, self._repository)

    def _resolve(self, version: str) -> str | None:
        """The digest the version's tag points at, for task definitions that pin images by digest."""
        if self._registry is None or not self._repository:
            return None
        try:
            return self._registry.resolve_tag(self._repository, version)
        except WardenError as error:
            # Expected without the repository or the tag: the revisions' own tags still match.
            logger.info("could not resolve the version's tag", extra={"version": version, "error": str(error)})
            return None

    def _existing(self, family: str) -> str:
        names = [
            arn.rsplit("/", 1)[-1]
            for arn in sorted_revisions(family, self.revisions.list_revisions(family, LISTED + 1))
        ]
        if not names:
            return "no ACTIVE revision"
        return ", ".join(names[:LISTED]) + (" and older ones" if len(names) > LISTED else "")


def _manual_rollback_lines(previous: TaskRevision | None) -> list[str]:
    if previous is None:
        return ["warden rollback REVISION   (no earlier ACTIVE revision of the family: name one, e.g. family:12)"]
    return [
        f"warden rollback   (deploys {previous.label}, the previous revision)",
        f"warden rollback {previous.name}   (the same, naming the revision)",
        "warden rollback --plan   (shows what it would do; changes nothing)",
    ]


def _refuse_same_moving_tag(current: TaskRevision, target: TaskRevision) -> None:
    """Going back a revision that runs the same moving tag (`latest`) would redeploy the same image."""
    tag = moving_tag(current.image)
    if tag is not None and target.image == current.image:
        raise NoRollbackTarget(
            f"{target.name} runs the same image reference as {current.name} ({current.image}), and `{tag}` is a tag "
            f"that moves: going back a revision would deploy the same image. Move the tag back instead: "
            f"`warden rollback` (with ECR_REPOSITORY set) re-points `{tag}` to the previous release and redeploys"
        )


class RevisionPlan(BaseModel):
    """What a rollback on ECS would do; `warden rollback --plan` prints it and changes nothing."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    cluster: str
    service_status: ServiceStatus
    current: TaskRevision
    target: TaskRevision
    chosen_because: str

    @property
    def paused(self) -> bool:
        return self.service_status is ServiceStatus.PAUSED

    @property
    def deploy_reason(self) -> str:
        if self.paused:
            return (
                "the service is PAUSED (desired count 0): ECS takes the revision now and starts its tasks when the "
                "service resumes"
            )
        return "ECS replaces the running tasks with the revision's (a rolling deployment)"


class RevisionRollback:
    """A rollback on ECS, planned: deploy an earlier task-definition revision with UpdateService. The task
    definition pins the image, so nothing is re-tagged. A paused service (desired count 0) still gets the revision:
    ECS accepts UpdateService with no tasks, and the resume starts the tasks of the revision rolled back to."""

    def __init__(self, service: ServiceRef, revisions: EcsRevisionsPort, plan: RevisionPlan) -> None:
        self._service, self._revisions, self.plan = service, revisions, plan

    @property
    def service_name(self) -> str:
        return self.plan.service_name

    @property
    def target_label(self) -> str:
        return self.plan.target.label

    @property
    def target_short(self) -> str:
        return self.plan.target.short

    @property
    def subject_target(self) -> str:
        return self.plan.target.label  # the revision deployed, with its version

    @property
    def chosen_because(self) -> str:
        return self.plan.chosen_because

    @property
    def before(self) -> str:
        return f"the service ran {self.plan.current.label}"

    @property
    def intent(self) -> str:
        plan = self.plan
        return (
            f"deployed {plan.target.label} to {plan.service_name} in place of {plan.current.label} "
            f"({plan.deploy_reason})"
        )

    def lines(self) -> list[str]:
        plan = self.plan
        return [
            f"Now:     {plan.service_name} runs {plan.current.label}",
            f"Target:  {plan.target.label}: {plan.chosen_because}",
            f"ECS:     update-service --cluster {plan.cluster} --service {plan.service_name} --task-definition "
            f"{plan.target.name} (no ECR re-tag: the task definition pins the image {plan.target.image or '?'})",
            f"Deploy:  {plan.deploy_reason} (service {plan.service_name} is {plan.service_status.value})",
        ]

    def carry_out(self, now: datetime) -> Redeployed:
        plan = self.plan
        try:
            deployment_id = self._revisions.deploy_task_definition(self._service.arn, plan.target.arn)
        except InvalidServiceState as refused:
            raise PipelineError(f"ECS refused to deploy {plan.target.name}: {refused}") from refused
        if plan.paused:
            how = (
                f"The service is paused (desired count 0): ECS keeps {plan.target.name} as its task definition and "
                "starts its tasks when the service resumes."
            )
            next_steps = (f"ECS runs {plan.target.name} as soon as the service resumes (warden resume).",)
        else:
            how = f"UpdateService started ECS deployment {deployment_id}."
            next_steps = ("ECS replaces the tasks; on_deployment reports how the deployment went.",)
        return Redeployed(
            summary=f"Rolled {plan.service_name} back to {plan.target.label} (it ran {plan.current.label}). {how}",
            deployed=plan.target.arn,
            version=plan.target.version,
            next_steps=next_steps,
            waits=f"ECS runs {plan.target.name}" if plan.paused else None,
            detail={"target": plan.target.arn, "deployment": deployment_id},
        )

    def undo_lines(self) -> list[str]:
        """Going forward again is another rollback, to the revision the service ran before."""
        service, current = self._service, self.plan.current
        return [
            f"warden rollback {current.name}   (back to {current.label})",
            "With the AWS CLI:",
            f"  aws ecs update-service --cluster {service.cluster} --service {service.name} "
            f"--task-definition {current.name} --region {service.region}",
        ]
