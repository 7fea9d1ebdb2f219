"""The composition root: builds each use case's adapters from the settings. Handlers and the CLI call it.

Cold starts: every factory imports its adapters and its use case's Deps INSIDE the function, never at module
level, so a handler loads only what its own use case needs, and boto3 (through the adapters) only when the
first invocation builds its dependencies. Keep it that way for new factories (a unit test checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from warden.adapters.dynamodb import StateTable
    from warden.domain.target import TargetFacts
    from warden.settings import ServiceRef, Settings, StackSettings
    from warden.usecases.alarm import AlarmDeps
    from warden.usecases.audit_keys import AuditKeysDeps
    from warden.usecases.budget_alert import BudgetAlertDeps
    from warden.usecases.chat_delivery import ChatDeliveryDeps
    from warden.usecases.deployment import DeploymentDeps
    from warden.usecases.doctor import DoctorDeps
    from warden.usecases.fleet import FleetDeps, FleetStorePort
    from warden.usecases.operator import OperatorDeps
    from warden.usecases.ports import ImagePort, NotifierPort, PipelineRegistryPort, RollbackPort, UsageFactsPort
    from warden.usecases.purge_images import PurgeImagesDeps, PurgeService, RepositoryPurgeDeps
    from warden.usecases.release import ReleaseDeps
    from warden.usecases.rollback import RollbackDeps
    from warden.usecases.schedule import ScheduleDeps
    from warden.usecases.target import Target, TargetPlatform


def budget_alert_deps(settings: Settings) -> BudgetAlertDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.usecases.budget_alert import BudgetAlertDeps

    return BudgetAlertDeps(
        service=service_controller(settings),
        budgets=BudgetsReader(),
        notifier=notifier(settings),
        state=state_table(settings),
        images=image_resolver(settings),
    )


def alarm_deps(settings: Settings) -> AlarmDeps:
    from warden.usecases.alarm import AlarmDeps

    return AlarmDeps(
        service=service_controller(settings),
        notifier=notifier(settings),
        state=state_table(settings),
        rollback=alarm_rollback(settings),
        images=image_resolver(settings),
    )


def schedule_deps(settings: Settings) -> ScheduleDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.cloudwatch import CloudWatchMetrics
    from warden.adapters.sns import SnsTopics
    from warden.usecases.budget_wiring import WiringDeps
    from warden.usecases.schedule import ScheduleDeps

    return ScheduleDeps(
        service=service_controller(settings),
        state=state_table(settings),
        notifier=notifier(settings),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
        wiring=WiringDeps(budgets=BudgetsReader(), topics=SnsTopics()),
        usage=usage_facts(settings),
        metrics=CloudWatchMetrics(),
    )


def usage_facts(settings: Settings) -> UsageFactsPort:
    """What the guarded service bills for (the spend guard): App Runner's instance size and MinSize, or the ECS task
    size and desired count, as its platform reads them."""
    return platform(settings.service).usage(settings)


def doctor_deps(settings: Settings) -> DoctorDeps:
    """`warden doctor`: read-only checks with the operator's own rights (never the template's)."""
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.identity import CallerIdentity
    from warden.adapters.sns import SnsTopics
    from warden.usecases.budget_wiring import WiringDeps
    from warden.usecases.doctor import DoctorDeps

    return DoctorDeps(
        identity=CallerIdentity(),
        service=service_controller(settings),
        state=state_table(settings),
        wiring=WiringDeps(budgets=BudgetsReader(), topics=SnsTopics()),
    )


def state_table(settings: StackSettings) -> StateTable:
    """The state table, with the service's own handled-event keys when it is one service of a fleet."""
    from warden.adapters.dynamodb import StateTable
    from warden.settings import Settings

    scope = settings.event_scope if isinstance(settings, Settings) else ""
    return StateTable(settings.state_table, history_retention_days=settings.history_retention_days, event_scope=scope)


def fleet_deps(stack: StackSettings) -> FleetDeps:
    """The reconcile's view of the fleet: the stored record, discovery on both platforms, the load balancers of
    tagged target groups."""
    from warden.adapters.apprunner import AppRunnerDiscovery
    from warden.adapters.cloudwatch import CloudWatchAlarms
    from warden.adapters.ecs import EcsDiscovery
    from warden.adapters.elbv2 import TargetGroups
    from warden.usecases.fleet import FleetDeps

    return FleetDeps(
        store=state_table(stack),
        notifier=notifier(stack),
        discovery=(AppRunnerDiscovery(), EcsDiscovery()),
        load_balancers=TargetGroups(),
        alarms=CloudWatchAlarms() if stack.alarm_topic_arn else None,
        alarm_owner=lambda settings, *, complete: platform(settings.service).alarm_owner(settings, complete=complete),
    )


def fleet_store(stack: StackSettings) -> FleetStorePort:
    """The stored fleet alone, for the event handlers (one GetItem)."""
    return state_table(stack)


def notifier(settings: StackSettings) -> NotifierPort:
    """The notify topic (and the management account's central topic, when CENTRAL_TOPIC_ARN is set)."""
    from warden.adapters.sns import SnsNotifier

    return SnsNotifier(settings.notify_topic_arn, central_topic_arn=settings.central_topic_arn)


def platform(service: ServiceRef) -> TargetPlatform:
    """The platform SERVICE_ARN names: the one place that asks. A new platform is a module under adapters/targets/
    (its facts, its Target, and `build`) and one branch here."""
    from warden.settings import ServiceKind

    if service.kind is ServiceKind.ECS:
        from warden.adapters.targets import ecs

        return ecs
    from warden.adapters.targets import apprunner

    return apprunner


def target(settings: Settings, *, pipeline: bool = False) -> Target:
    """The guarded service's target: App Runner, or ECS (Fargate or Express Mode). `pipeline` adds what the
    deployment watcher and the rollback read, which a pause or resume never needs."""
    return platform(settings.service).build(settings, pipeline=pipeline)


def target_facts(service: ServiceRef) -> TargetFacts:
    """The platform facts of any service, by its ARN (`warden move` names the service it moves from). Pure."""
    return platform(service).facts(service)


def service_controller(settings: Settings) -> Target:
    """The target, for callers that only pause, resume and describe the service."""
    return target(settings)


def image_resolver(settings: Settings) -> ImagePort | None:
    """Resolves the tracked tag to a digest, so a resume can tell that the image changed while paused.

    Only with ECR_REPOSITORY set (the one repository the stack grants ecr:DescribeImages on), and only where the
    resume brings back the version from before the pause (App Runner), so that a moved tag needs a deployment after
    it. Elsewhere (ECS) what a resume starts pulls what its task definition names at that moment: nothing to track.
    """
    if not settings.ecr_repository or not target_facts(settings.service).resumes_the_image_before_pause:
        return None
    from warden.adapters.ecr import EcrImages

    return EcrImages()


def operator_deps(settings: Settings) -> OperatorDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.usecases.operator import OperatorDeps

    return OperatorDeps(
        service=service_controller(settings),
        state=state_table(settings),
        notifier=notifier(settings),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
    )


def audit_keys_deps(settings: Settings) -> AuditKeysDeps:
    from warden.adapters.iam import IamAccessKeys
    from warden.usecases.audit_keys import AuditKeysDeps

    return AuditKeysDeps(
        iam=IamAccessKeys(),
        notifier=notifier(settings),
        state=state_table(settings),
    )


def purge_images_deps(settings: Settings) -> PurgeImagesDeps:
    """The target says what the service runs; on ECS its task definitions also say which images a rollback goes
    back to, and the purge keeps those too."""
    from warden.adapters.ecr import EcrImages
    from warden.usecases.purge_images import PurgeImagesDeps

    chosen = target(settings)
    return PurgeImagesDeps(
        service=chosen,
        registry=EcrImages(),
        notifier=notifier(settings),
        state=state_table(settings),
        task_definitions=chosen.task_definitions,
    )


def repository_purge(stack: StackSettings, group: Sequence[Settings]) -> tuple[list[PurgeService], RepositoryPurgeDeps]:
    """One repository's purge over every fleet service whose images are in it: each service read through its own
    target, one lock, one notification. The state table is the stack's (its lock is per repository, not per
    service)."""
    from warden.adapters.ecr import EcrImages
    from warden.usecases.purge_images import PurgeService, RepositoryPurgeDeps

    services = []
    for settings in group:
        chosen = target(settings)
        services.append(PurgeService(settings=settings, service=chosen, task_definitions=chosen.task_definitions))
    deps = RepositoryPurgeDeps(registry=EcrImages(), notifier=notifier(stack), state=state_table(stack))
    return services, deps


# --- the release pipeline ---------------------------------------------------------------------------------


def rollback_deps(settings: Settings) -> RollbackDeps:
    """The rollback over the target SERVICE_ARN names: App Runner moves the tag back and deploys it; ECS deploys an
    earlier task-definition revision (or moves a moving tag back, like App Runner)."""
    from warden.usecases.rollback import RollbackDeps

    return RollbackDeps(
        target=target(settings, pipeline=True),
        state=state_table(settings),
        notifier=notifier(settings),
        registry=_registry(settings),
    )


def _registry(settings: Settings) -> PipelineRegistryPort | None:
    """The app's repository in ECR, where a rollback moves the tag back (only with ECR_REPOSITORY)."""
    if not settings.ecr_repository:
        return None
    from warden.adapters.ecr import EcrImages

    return EcrImages()


def _can_roll_back(settings: Settings) -> bool:
    """Without the app's repository there is no tag to move back (App Runner); a platform that goes back by
    revision (ECS) needs none."""
    return target_facts(settings.service).rolls_back_by_revision or bool(settings.ecr_repository)


def alarm_rollback(settings: Settings) -> RollbackPort:
    """A `rollback` alarm action rolls back through the pipeline, when this stack can roll back (else the alarm
    says to run `warden rollback` by hand)."""
    if not _can_roll_back(settings):
        from warden.usecases.alarm import RollbackNotConfigured

        return RollbackNotConfigured()
    from warden.usecases.rollback import AutoRollback

    return AutoRollback(rollback_deps(settings), settings, actor="on_alarm")


def deployment_deps(settings: Settings) -> DeploymentDeps:
    """The target's deployment events (App Runner operations, ECS deployment state changes), and the automatic
    rollback when this stack can roll back."""
    from warden.usecases.deployment import DeploymentDeps
    from warden.usecases.rollback import AutoRollback

    deps = rollback_deps(settings)
    return DeploymentDeps(
        target=deps.target,
        state=deps.state,
        notifier=deps.notifier,
        rollback=AutoRollback(deps, settings, actor="on_deployment") if _can_roll_back(settings) else None,
        no_rollback="ECR_REPOSITORY is not set, so Warden cannot re-tag images",
    )


def release_deps(
    settings: Settings, *, progress: Callable[[str], None], echo: Callable[[str], None] | None = None
) -> ReleaseDeps:
    """The CLI's release: docker on this machine, with the operator's own AWS rights. On ECS the release moves
    `latest` like on App Runner, and the deployment is ECS's forced new deployment (new tasks pull the moved tag);
    a task definition pinned to a version or digest is refused with what to change (domain/pipeline.tracked_tag)."""
    from warden.adapters.docker import DockerCli
    from warden.adapters.ecr import EcrImages
    from warden.usecases.release import ReleaseDeps

    return ReleaseDeps(
        service=service_controller(settings),
        registry=EcrImages(),
        docker=DockerCli(echo=echo),
        state=state_table(settings),
        notifier=notifier(settings),
        progress=progress,
    )


def chat_delivery_deps(settings: StackSettings) -> ChatDeliveryDeps:
    """The chat paths the settings name: the chat topic (Amazon Q Developer), the webhook secret, or both."""
    import os

    from warden.domain.redaction import secret_values
    from warden.usecases.chat_delivery import ChatDeliveryDeps

    chat_topic = webhook = None
    if settings.chat_topic_arn:
        from warden.adapters.sns import ChatTopic

        chat_topic = ChatTopic(settings.chat_topic_arn)
    if settings.chat_webhook_secret_arn:
        from warden.adapters.secrets import WebhookSecret
        from warden.adapters.webhook import WebhookPoster

        webhook = WebhookPoster(WebhookSecret(settings.chat_webhook_secret_arn))
    return ChatDeliveryDeps(
        state=state_table(settings),
        chat_topic=chat_topic,
        webhook=webhook,
        known_secrets=secret_values(os.environ),
    )
