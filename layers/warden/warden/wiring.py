"""The composition root: builds each use case's adapters from the settings. Handlers and the CLI call it."""

from __future__ import annotations

from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.budgets import BudgetsReader
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecr import EcrImages
from warden.adapters.iam import IamAccessKeys
from warden.adapters.sns import SnsNotifier
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, RollbackNotConfigured
from warden.usecases.audit_keys import AuditKeysDeps
from warden.usecases.budget_alert import BudgetAlertDeps
from warden.usecases.operator import OperatorDeps
from warden.usecases.ports import ImagePort
from warden.usecases.purge_images import PurgeImagesDeps
from warden.usecases.schedule import ScheduleDeps


def budget_alert_deps(settings: Settings) -> BudgetAlertDeps:
    return BudgetAlertDeps(
        service=AppRunnerServices(),
        budgets=BudgetsReader(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        images=image_resolver(settings),
    )


def alarm_deps(settings: Settings) -> AlarmDeps:
    return AlarmDeps(
        service=AppRunnerServices(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        # Until the release pipeline provides a RollbackPort, a `rollback` alarm says to run it by hand.
        rollback=RollbackNotConfigured(),
        images=image_resolver(settings),
    )


def schedule_deps(settings: Settings) -> ScheduleDeps:
    return ScheduleDeps(
        service=AppRunnerServices(),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
    )


def image_resolver(settings: Settings) -> ImagePort | None:
    """Resolves the tracked tag to a digest, so a resume can tell that the image changed while paused.

    Only with ECR_REPOSITORY set: that is the one repository the stack grants ecr:DescribeImages on.
    """
    return EcrImages() if settings.ecr_repository else None


def operator_deps(settings: Settings) -> OperatorDeps:
    return OperatorDeps(
        service=AppRunnerServices(),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
        notifier=SnsNotifier(settings.notify_topic_arn),
        budgets=BudgetsReader(),
        images=image_resolver(settings),
    )


def audit_keys_deps(settings: Settings) -> AuditKeysDeps:
    return AuditKeysDeps(
        iam=IamAccessKeys(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
    )


def purge_images_deps(settings: Settings) -> PurgeImagesDeps:
    return PurgeImagesDeps(
        service=AppRunnerServices(),
        registry=EcrImages(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
    )
