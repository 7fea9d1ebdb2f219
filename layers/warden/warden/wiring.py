"""The composition root: builds each use case's adapters from the settings. Handlers and the CLI call it.

Cold starts: every factory imports its adapters and its use case's Deps INSIDE the function, never at module
level, so a handler loads only what its own use case needs, and boto3 (through the adapters) only when the
first invocation builds its dependencies. Keep it that way for new factories (a unit test checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from warden.settings import Settings
    from warden.usecases.alarm import AlarmDeps
    from warden.usecases.audit_keys import AuditKeysDeps
    from warden.usecases.budget_alert import BudgetAlertDeps
    from warden.usecases.chat_delivery import ChatDeliveryDeps
    from warden.usecases.deployment import DeploymentDeps
    from warden.usecases.doctor import DoctorDeps
    from warden.usecases.ecs_deployment import EcsDeploymentDeps
    from warden.usecases.ecs_rollback import EcsRollbackDeps
    from warden.usecases.operator import OperatorDeps
    from warden.usecases.ports import ImagePort, RollbackPort, ServicePort
    from warden.usecases.purge_images import PurgeImagesDeps
    from warden.usecases.release import ReleaseDeps
    from warden.usecases.rollback import RollbackDeps
    from warden.usecases.schedule import ScheduleDeps


def budget_alert_deps(settings: Settings) -> BudgetAlertDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.budget_alert import BudgetAlertDeps

    return BudgetAlertDeps(
        service=service_controller(settings),
        budgets=BudgetsReader(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        images=image_resolver(settings),
    )


def alarm_deps(settings: Settings) -> AlarmDeps:
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.alarm import AlarmDeps

    return AlarmDeps(
        service=service_controller(settings),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        rollback=alarm_rollback(settings),
        images=image_resolver(settings),
    )


def schedule_deps(settings: Settings) -> ScheduleDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier, SnsTopics
    from warden.usecases.budget_wiring import WiringDeps
    from warden.usecases.schedule import ScheduleDeps

    return ScheduleDeps(
        service=service_controller(settings),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
        wiring=WiringDeps(budgets=BudgetsReader(), topics=SnsTopics()),
    )


def doctor_deps(settings: Settings) -> DoctorDeps:
    """`warden doctor`: read-only checks with the operator's own rights (never the template's)."""
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.identity import CallerIdentity
    from warden.adapters.sns import SnsTopics
    from warden.usecases.budget_wiring import WiringDeps
    from warden.usecases.doctor import DoctorDeps

    return DoctorDeps(
        identity=CallerIdentity(),
        service=service_controller(settings),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        wiring=WiringDeps(budgets=BudgetsReader(), topics=SnsTopics()),
    )


def service_controller(settings: Settings) -> ServicePort:
    """The guarded service's controller, picked by its ARN: App Runner, or ECS (Fargate or Express Mode).

    ECS has no pause of its own: its controller remembers the desired count and scaling target in the
    state table while paused, so it gets the table too.
    """
    from warden.settings import ServiceKind

    if settings.service.kind is ServiceKind.ECS:
        from warden.adapters.dynamodb import FallbackMemos, StateTable
        from warden.adapters.ecs import EcsServices

        # The fallback keeps a pause possible while the table is unavailable (the scale to restore is logged).
        return EcsServices(
            FallbackMemos(StateTable(settings.state_table, history_retention_days=settings.history_retention_days)),
            repository=settings.ecr_repository,
        )
    from warden.adapters.apprunner import AppRunnerServices

    return AppRunnerServices()


def image_resolver(settings: Settings) -> ImagePort | None:
    """Resolves the tracked tag to a digest, so a resume can tell that the image changed while paused.

    Only for App Runner with ECR_REPOSITORY set (the one repository the stack grants ecr:DescribeImages on): App
    Runner's resume brings back the version from before the pause, so a moved tag needs a deployment after it.
    The tasks an ECS resume starts pull the image their task definition names at that moment: nothing to track.
    """
    from warden.settings import ServiceKind

    if not settings.ecr_repository or settings.service.kind is ServiceKind.ECS:
        return None
    from warden.adapters.ecr import EcrImages

    return EcrImages()


def operator_deps(settings: Settings) -> OperatorDeps:
    from warden.adapters.budgets import BudgetsReader
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.operator import OperatorDeps

    return OperatorDeps(
        service=service_controller(settings),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
    )


def audit_keys_deps(settings: Settings) -> AuditKeysDeps:
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.iam import IamAccessKeys
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.audit_keys import AuditKeysDeps

    return AuditKeysDeps(
        iam=IamAccessKeys(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
    )


def purge_images_deps(settings: Settings) -> PurgeImagesDeps:
    """An ECS service is read through its controller, which also reads its task definitions: what runs now and
    the earlier revisions a rollback goes back to, whose images the purge keeps."""
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecr import EcrImages
    from warden.adapters.sns import SnsNotifier
    from warden.settings import ServiceKind
    from warden.usecases.purge_images import PurgeImagesDeps

    state = StateTable(settings.state_table, history_retention_days=settings.history_retention_days)
    notifier = SnsNotifier(settings.notify_topic_arn)
    if settings.service.kind is ServiceKind.ECS:
        from warden.adapters.ecs import EcsServices

        ecs = EcsServices(state, repository=settings.ecr_repository)
        return PurgeImagesDeps(service=ecs, registry=EcrImages(), notifier=notifier, state=state, task_definitions=ecs)
    from warden.adapters.apprunner import AppRunnerServices

    return PurgeImagesDeps(service=AppRunnerServices(), registry=EcrImages(), notifier=notifier, state=state)


# --- the release pipeline ---------------------------------------------------------------------------------


def rollback_deps(settings: Settings) -> RollbackDeps | EcsRollbackDeps:
    """The rollback's target, picked by SERVICE_ARN: App Runner re-tags the image and deploys it; ECS deploys an
    earlier task-definition revision (the task definition pins the image, so nothing is re-tagged)."""
    from warden.settings import ServiceKind

    if settings.service.kind is ServiceKind.ECS:
        return ecs_rollback_deps(settings)
    return apprunner_rollback_deps(settings)


def apprunner_rollback_deps(settings: Settings) -> RollbackDeps:
    from warden.adapters.apprunner import AppRunnerServices
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecr import EcrImages
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.rollback import RollbackDeps

    return RollbackDeps(
        service=AppRunnerServices(),
        registry=EcrImages(),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
    )


def ecs_rollback_deps(settings: Settings) -> EcsRollbackDeps:
    """ECR only resolves a named version's tag (task definitions that pin digests), so only with ECR_REPOSITORY."""
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecs import EcsServices
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.ecs_rollback import EcsRollbackDeps

    state = StateTable(settings.state_table, history_retention_days=settings.history_retention_days)
    ecs = EcsServices(state, repository=settings.ecr_repository)
    notifier = SnsNotifier(settings.notify_topic_arn)
    registry = retag = None
    if settings.ecr_repository:
        from warden.adapters.ecr import EcrImages
        from warden.usecases.rollback import RollbackDeps

        registry = EcrImages()
        retag = RollbackDeps(service=ecs, registry=registry, state=state, notifier=notifier)
    return EcsRollbackDeps(service=ecs, revisions=ecs, state=state, notifier=notifier, registry=registry, retag=retag)


def alarm_rollback(settings: Settings) -> RollbackPort:
    """A `rollback` alarm action rolls back through the pipeline. On App Runner that needs the app's repository
    (without one there is nothing to re-tag, and the alarm says to run `warden rollback` by hand); on ECS it
    deploys the previous task-definition revision and needs none."""
    from warden.settings import ServiceKind

    if settings.service.kind is ServiceKind.ECS:
        from warden.usecases.ecs_rollback import EcsAutoRollback

        return EcsAutoRollback(ecs_rollback_deps(settings), settings, actor="on_alarm")
    if not settings.ecr_repository:
        from warden.usecases.alarm import RollbackNotConfigured

        return RollbackNotConfigured()
    from warden.usecases.rollback import AutoRollback

    return AutoRollback(apprunner_rollback_deps(settings), settings, actor="on_alarm")


def deployment_deps(settings: Settings) -> DeploymentDeps | EcsDeploymentDeps:
    """App Runner operation events, or for an ECS SERVICE_ARN ECS deployment state changes (ecs_deployment.py)."""
    from warden.settings import ServiceKind

    if settings.service.kind is ServiceKind.ECS:
        from warden.usecases.ecs_deployment import EcsDeploymentDeps
        from warden.usecases.ecs_rollback import EcsAutoRollback

        ecs_deps = ecs_rollback_deps(settings)
        return EcsDeploymentDeps(
            revisions=ecs_deps.revisions,
            state=ecs_deps.state,
            notifier=ecs_deps.notifier,
            rollback=EcsAutoRollback(ecs_deps, settings, actor="on_deployment"),
        )
    from warden.adapters.apprunner import AppRunnerServices
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.deployment import DeploymentDeps
    from warden.usecases.rollback import AutoRollback

    service = AppRunnerServices()
    rollback = None
    if settings.ecr_repository:
        rollback = AutoRollback(apprunner_rollback_deps(settings), settings, actor="on_deployment")
    return DeploymentDeps(
        service=service,
        operations=service,
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        images=image_resolver(settings),
        rollback=rollback,
    )


def release_deps(
    settings: Settings, *, progress: Callable[[str], None], echo: Callable[[str], None] | None = None
) -> ReleaseDeps:
    """The CLI's release: docker on this machine, with the operator's own AWS rights. On ECS the release moves
    `latest` like on App Runner, and the deployment is ECS's forced new deployment (new tasks pull the moved tag);
    a task definition pinned to a version or digest is refused with what to change (domain/pipeline.tracked_tag)."""
    from warden.adapters.docker import DockerCli
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecr import EcrImages
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.release import ReleaseDeps

    return ReleaseDeps(
        service=service_controller(settings),
        registry=EcrImages(),
        docker=DockerCli(echo=echo),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        progress=progress,
    )


def chat_delivery_deps(settings: Settings) -> ChatDeliveryDeps:
    """The chat paths the settings name: the chat topic (Amazon Q Developer), the webhook secret, or both."""
    import os

    from warden.adapters.dynamodb import StateTable
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
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        chat_topic=chat_topic,
        webhook=webhook,
        known_secrets=secret_values(os.environ),
    )
