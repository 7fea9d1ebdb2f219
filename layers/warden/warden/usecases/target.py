"""The Target port: everything about the guarded service that differs by platform, behind one interface.

Wiring picks one implementation per SERVICE_ARN (adapters/targets/apprunner.py, adapters/targets/ecs.py); the use
cases and the domain read its facts and call its methods, and never ask which platform it is. A new platform is a
new module under adapters/targets/ implementing this protocol, plus one branch in wiring.target.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from warden.domain.deployments import DeploymentEvent, DeploymentReport, DeploymentStart
from warden.domain.managed_alarms import AlarmOwner
from warden.domain.pipeline import JudgedDeployment, Redeployed, RollbackTrigger
from warden.domain.records import DeploymentRecord
from warden.domain.target import TargetFacts
from warden.usecases.ports import ServicePort, StatePort, TaskDefinitionsPort, UsageFactsPort

if TYPE_CHECKING:
    from warden.settings import ServiceRef, Settings


class RollbackMove(Protocol):
    """One way back to an earlier version, planned: what `warden rollback --plan` prints, then doing it.

    The rollback use case runs every move the same way (DRY_RUN, the action log, the deployment history, the
    notification); the move says what it changes and does it."""

    @property
    def service_name(self) -> str: ...

    @property
    def target_label(self) -> str:
        """Where it goes, in a message body: "v1.1.0 (sha256:1a2b...)", "consultation-app:2 (v1.1.0)"."""
        ...

    @property
    def target_short(self) -> str:
        """The same in a few words, after other news in a subject line: "v1.1.0"."""
        ...

    @property
    def subject_target(self) -> str:
        """Where it goes in the rollback's own subject line: "v1.1.0", "consultation-app:2 (v1.1.0)"."""
        ...

    @property
    def chosen_because(self) -> str: ...

    @property
    def before(self) -> str:
        """What ran before: "latest pointed at v1.2.0 (...)", "the service ran consultation-app:3 (v1.2.0)"."""
        ...

    @property
    def intent(self) -> str:
        """What it would do, after "Would have": "moved latest from ... to ... and deployed it (...)"."""
        ...

    def lines(self) -> list[str]: ...

    def carry_out(self, now: datetime) -> Redeployed:
        """Does it. Raises PipelineError saying why it cannot (the image is gone, the platform refused)."""
        ...

    def undo_lines(self) -> list[str]:
        """How to go forward again: `warden rollback <what ran before>`, and the same with the AWS CLI."""
        ...


class Target(ServicePort, Protocol):
    """The guarded service on its platform: pause, resume, status and deploying what its tag points at
    (ServicePort); the facts and by-hand commands of Warden's messages; its deployment events; and how it goes
    back to an earlier version."""

    @property
    def facts(self) -> TargetFacts:
        """The platform's words, links, runbook lines and the CloudWatch dimensions that name the service."""
        ...

    # -- by hand ----------------------------------------------------------------------------------------------
    def resume_commands(self, state: StatePort | None, state_table: str) -> list[str]:
        """The AWS CLI commands that resume the service by hand once its pause claims are cleared (indented two
        spaces, one a line). With `state`, a platform whose pause Warden emulates quotes what it remembered."""
        ...

    def remembered_scale(self, state: StatePort) -> str | None:
        """What a resume of the paused service puts back, in words ("3 tasks, auto scaling 2..5"); None when the
        platform resumes by itself or nothing is remembered."""
        ...

    @property
    def task_definitions(self) -> TaskDefinitionsPort | None:
        """The images in use apart from the one the service's tag names, for the image purge: on ECS its task
        definitions (what runs now, and the earlier revisions a rollback goes back to); None where the service runs
        the image its tag points at (App Runner)."""
        ...

    def deploy_command(self) -> str:
        """The AWS CLI command that deploys what the service's tag points at now (after a re-tag by hand)."""
        ...

    # -- deployment events ------------------------------------------------------------------------------------
    def read_deployment_event(self, event: object) -> DeploymentEvent:
        """The platform's deployment event (EventBridge). Raises UnparseableMessage saying why it is none."""
        ...

    def read_deployment(
        self, event: DeploymentEvent, history: Sequence[DeploymentRecord], started: DeploymentStart | None
    ) -> DeploymentReport:
        """What the deployment an event ended deployed, how long it took (`started`: its remembered start), what
        the platform did after a failure, and the `warden rollback` commands that go back (from `history`, Warden's
        deployment history, newest first)."""
        ...

    # -- rollback ---------------------------------------------------------------------------------------------
    def judge_deployment(
        self, trigger: RollbackTrigger, *, deployment_id: str | None, history: Sequence[DeploymentRecord]
    ) -> JudgedDeployment:
        """The deployment an automatic rollback would undo: the failed one (`deployment_id`, when the platform
        names deployments), or for an alarm the one that runs now. Raises RollbackFailed when the service cannot
        be read."""
        ...

    def plan_rollback(self, version: str | None, *, from_deployment: str | None = None) -> RollbackMove | None:
        """The platform's own way back (ECS: deploy an earlier task-definition revision), planned; None when going
        back means moving the tag the service follows and deploying it, which the rollback use case does itself.
        `from_deployment` is what the automatic rollback goes back from (JudgedDeployment.deployed). Raises
        PipelineError (NoRollbackTarget) saying why there is nowhere to go."""
        ...


class TargetPlatform(Protocol):
    """What a platform's module under adapters/targets/ gives wiring: the facts of any of its services (by ARN),
    and the target of the guarded one, built over its adapters. `pipeline` adds what the deployment watcher and
    the rollback read (operations, the registry), which a pause or resume never needs."""

    def facts(self, service: ServiceRef) -> TargetFacts: ...

    def build(self, settings: Settings, *, pipeline: bool = False) -> Target: ...

    def alarm_owner(self, settings: Settings, *, complete: bool) -> AlarmOwner:
        """The service as the alarms Warden keeps for a fleet service read it (domain/managed_alarms.py)."""
        ...

    def usage(self, settings: Settings) -> UsageFactsPort:
        """What the service bills for (the spend guard), read-only."""
        ...
