"""The composition root: builds each use case's adapters from the settings. Handlers and the CLI call it."""

from __future__ import annotations

from warden.adapters.apprunner import AppRunnerServices
from warden.adapters.budgets import BudgetsReader
from warden.adapters.dynamodb import StateTable
from warden.adapters.sns import SnsNotifier
from warden.settings import Settings
from warden.usecases.budget_alert import BudgetAlertDeps


def budget_alert_deps(settings: Settings) -> BudgetAlertDeps:
    return BudgetAlertDeps(
        service=AppRunnerServices(),
        budgets=BudgetsReader(),
        notifier=SnsNotifier(settings.notify_topic_arn),
        state=StateTable(settings.state_table, history_retention_days=settings.history_retention_days),
    )
