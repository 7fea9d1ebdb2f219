"""The ports the use cases talk through. Adapters implement them over boto3; tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim
from warden.domain.notification import Notification
from warden.domain.records import ActionRecord, EventStart
from warden.domain.service import ServiceSnapshot


class ServicePort(Protocol):
    def describe(self, service_arn: str) -> ServiceSnapshot: ...

    def pause(self, service_arn: str) -> str | None:
        """Start pausing; returns the operation id. Raises InvalidServiceState on a race."""
        ...

    def resume(self, service_arn: str) -> str | None: ...

    def start_deployment(self, service_arn: str) -> str: ...


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
