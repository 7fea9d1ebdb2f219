"""What every target does the same way: its platform's controller adapter pauses, resumes, describes and deploys
the service (the ServicePort half of the Target port), and its facts are computed once, from the ARN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warden.domain.service import ServiceSnapshot
from warden.domain.target import TargetFacts

if TYPE_CHECKING:
    from warden.settings import ServiceRef
    from warden.usecases.ports import ServicePort


class Controlled:
    def __init__(self, service: ServiceRef, controller: ServicePort, facts: TargetFacts) -> None:
        self._service = service
        self._controller = controller
        self._facts = facts

    @property
    def facts(self) -> TargetFacts:
        return self._facts

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return self._controller.describe(service_arn)

    def pause(self, service_arn: str) -> str | None:
        return self._controller.pause(service_arn)

    def resume(self, service_arn: str) -> str | None:
        return self._controller.resume(service_arn)

    def start_deployment(self, service_arn: str) -> str:
        return self._controller.start_deployment(service_arn)
