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
    from warden.usecases.deployment import DeploymentDeps
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
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.schedule import ScheduleDeps

    return ScheduleDeps(
        service=service_controller(settings),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
    )


def service_controller(settings: Settings) -> ServicePort:
    """The guarded service's controller, picked by its ARN: App Runner, or ECS (Fargate or Express Mode).

    ECS has no pause of its own: its controller remembers the desired count and scaling target in the
    state table while paused, so it gets the table too.
    """
    from warden.settings import ServiceKind

    if settings.service.kind is ServiceKind.ECS:
        from warden.adapters.dynamodb import StateTable
        from warden.adapters.ecs import EcsServices

        return EcsServices(StateTable(settings.state_table, history_retention_days=settings.history_retention_days))
    from warden.adapters.apprunner import AppRunnerServices

    return AppRunnerServices()


def image_resolver(settings: Settings) -> ImagePort | None:
    """Resolves the tracked tag to a digest, so a resume can tell that the image changed while paused.

    Only with ECR_REPOSITORY set: that is the one repository the stack grants ecr:DescribeImages on.
    """
    if not settings.ecr_repository:
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
    from warden.adapters.apprunner import AppRunnerServices
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecr import EcrImages
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.purge_images import PurgeImagesDeps

    return PurgeImagesDeps(
        service=AppRunnerServices(),
        registry=EcrImages(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
    )


# --- the release pipeline ---------------------------------------------------------------------------------


def rollback_deps(settings: Settings) -> RollbackDeps:
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


def alarm_rollback(settings: Settings) -> RollbackPort:
    """A `rollback` alarm action rolls back through the pipeline when the stack names the app's repository;
    without one there is nothing to re-tag, and the alarm says to run `warden rollback` by hand."""
    if not settings.ecr_repository:
        from warden.usecases.alarm import RollbackNotConfigured

        return RollbackNotConfigured()
    from warden.usecases.rollback import AutoRollback

    return AutoRollback(rollback_deps(settings), settings, actor="on_alarm")


def deployment_deps(settings: Settings) -> DeploymentDeps:
    from warden.adapters.apprunner import AppRunnerServices
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.deployment import DeploymentDeps
    from warden.usecases.rollback import AutoRollback

    service = AppRunnerServices()
    rollback = None
    if settings.ecr_repository:
        rollback = AutoRollback(rollback_deps(settings), settings, actor="on_deployment")
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
    """The CLI's release: docker on this machine, with the operator's own AWS rights."""
    from warden.adapters.apprunner import AppRunnerServices
    from warden.adapters.docker import DockerCli
    from warden.adapters.dynamodb import StateTable
    from warden.adapters.ecr import EcrImages
    from warden.adapters.sns import SnsNotifier
    from warden.usecases.release import ReleaseDeps

    return ReleaseDeps(
        service=AppRunnerServices(),
        registry=EcrImages(),
        docker=DockerCli(echo=echo),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        progress=progress,
    )
