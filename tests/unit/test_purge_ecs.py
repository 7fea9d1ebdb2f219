"""The purge of an ECS service's repository: what its task definitions name runs now or is a rollback target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fakes import FakeNotifier, FakeService, FakeState
from tests.unit.test_purge_images_usecase import NOW, REGISTRY, REPOSITORY, FakeRegistry, digest, image
from warden.adapters.ecs import EcsServices
from warden.domain.images import PurgeTrigger
from warden.domain.retention import (
    ContainerImage,
    ContainerSeen,
    HoldKind,
    Rule,
    RunningKind,
    TaskDefinitionImages,
    TaskDefinitionSeen,
)
from warden.domain.service import ECS, ServiceSnapshot, ServiceStatus
from warden.settings import Settings
from warden.usecases.purge_images import Outcome, PreparedPlan, PurgeImagesDeps, prepare_plan, purge_images

ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": REPOSITORY,
    "IMAGE_PURGE_MODE": "delete",
    "IMAGE_KEEP_SEMVER": "0",  # only the task-definition rules keep these old images
    "IMAGE_KEEP_DEPLOYED": "2",
}
SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


def ours(reference: str) -> str:
    """`:v1.2.0` or `@sha256:...` of the app's repository, as a task definition names it."""
    return f"{REGISTRY}/{REPOSITORY}{reference}"


def revision(number: int, *images: str, current: bool = False, unreadable: str | None = None) -> TaskDefinitionImages:
    containers = tuple(
        ContainerImage(container="web" if n == 0 else f"sidecar{n}", image=reference)
        for n, reference in enumerate(images)
    )
    return TaskDefinitionImages(
        task_definition=f"consultation-app:{number}", containers=containers, current=current, unreadable=unreadable
    )


@dataclass
class FakeTaskDefinitions:
    """ECS's task definitions of the service: the current ones, then the earlier revisions newest first."""

    revisions: list[TaskDefinitionImages] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    def task_definition_history(self, service_arn: str, previous: int) -> list[TaskDefinitionImages]:
        self.asked.append(previous)
        current = [r for r in self.revisions if r.current]
        return [*current, *[r for r in self.revisions if not r.current][:previous]]


@dataclass
class EcsService(FakeService):
    """FakeService, describing itself as ECS does (the platform's name is the Target's fact messages use)."""

    def describe(self, service_arn: str) -> ServiceSnapshot:
        return super().describe(service_arn).model_copy(update={"platform": ECS})


@dataclass
class Ecs:
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    service: FakeService = field(
        default_factory=lambda: EcsService(arn=ARN, status=ServiceStatus.RUNNING, image=ours(":v1.4.0"))
    )
    tasks: FakeTaskDefinitions = field(default_factory=FakeTaskDefinitions)
    notifier: FakeNotifier = field(default_factory=FakeNotifier)
    state: FakeState = field(default_factory=FakeState)

    @property
    def deps(self) -> PurgeImagesDeps:
        return PurgeImagesDeps(
            service=self.service,
            registry=self.registry,
            notifier=self.notifier,
            state=self.state,
            task_definitions=self.tasks,
            sleep=lambda _: None,
        )

    def purge(self, **env: str) -> Any:
        return purge_images(self.deps, Settings.from_env({**ENV, **env}), NOW, trigger=PurgeTrigger.SCHEDULE)

    def plan(self, **env: str) -> PreparedPlan:
        return prepare_plan(self.deps, Settings.from_env({**ENV, **env}), NOW)

    def reasons(self, **env: str) -> dict[str, str]:
        """Why the plan keeps or deletes each image now, by digest (the notification lists these reasons)."""
        return {decision.image.digest: decision.reason for decision in self.plan(**env).plan.decisions}


@pytest.fixture
def ecs() -> Ecs:
    """Seven old releases v1.0.0 ... v1.6.0 and two old untagged builds; revision 41 runs v1.4.0."""
    ecs = Ecs()
    ecs.registry.add(*(image(f"v1.{n}.0", f"v1.{n}.0", days=300 - n) for n in range(7)))
    ecs.registry.add(image("pinned", days=400), image("stray", days=400))
    return ecs


def test_the_current_and_the_previous_k_task_definitions_are_kept_and_the_rest_is_deleted(ecs: Ecs) -> None:
    # Given revision 41 running v1.4.0 by tag, 40 pinned by digest, 39 on v1.2.0 and 38 on v1.1.0 (K = 2)
    ecs.tasks.revisions = [
        revision(41, ours(":v1.4.0"), current=True),
        revision(40, ours(f"@{digest('pinned')}")),
        revision(39, ours(":v1.2.0")),
        revision(38, ours(":v1.1.0")),
    ]
    # When a delete run happens (planned first, as `warden purge-images --plan` would)
    plan = ecs.plan()
    result = ecs.purge()
    # Then the port was asked for the last 2 revisions each time, and their images and the running one stay
    assert ecs.tasks.asked == [2, 2]
    assert result.outcome is Outcome.PURGED
    assert set(ecs.registry.images) == {digest("v1.4.0"), digest("pinned"), digest("v1.2.0")}
    # and each reason names its task definition (the notification lists them: images.ecs.txt)
    reasons = {decision.image.digest: decision.reason for decision in plan.plan.decisions}
    assert reasons[digest("v1.4.0")] == "kept: deployed now (task definition consultation-app:41, container web)"
    assert reasons[digest("pinned")] == "kept: in task definition consultation-app:40 (rollback target)"
    assert reasons[digest("v1.2.0")] == "kept: in task definition consultation-app:39 (rollback target)"
    assert plan.plan.counts()[Rule.TASK_DEFINITION] == 2
    assert [d.task_definition for d in plan.seen.task_definitions if not d.current] == [
        "consultation-app:40",
        "consultation-app:39",
    ]
    # and the purge records no deployment: a tag pointing at an image is not one (and an ECS service's history
    # holds the task-definition revisions its rollback deploys, not image digests)
    assert ecs.state.deployments == []


def test_k_counts_the_revisions_before_the_current_one(ecs: Ecs) -> None:
    # Given five earlier revisions, each on its own release
    ecs.tasks.revisions = [
        revision(41, ours(":v1.6.0"), current=True),
        *(revision(40 - n, ours(f":v1.{5 - n}.0")) for n in range(5)),
    ]
    # When planned with K = 1, then with K = 4
    one = prepare_plan(ecs.deps, Settings.from_env({**ENV, "IMAGE_KEEP_DEPLOYED": "1"}), NOW).plan
    four = prepare_plan(ecs.deps, Settings.from_env({**ENV, "IMAGE_KEEP_DEPLOYED": "4"}), NOW).plan
    # Then K = 1 keeps the running image and revision 40's, and K = 4 the four newest earlier revisions' images
    assert [d.image.digest for d in one.kept] == [digest("v1.6.0"), digest("v1.5.0")]
    assert {d.image.digest for d in four.kept if d.rule is Rule.TASK_DEFINITION} == {
        digest(f"v1.{n}.0") for n in (2, 3, 4, 5)
    }
    assert ecs.tasks.asked == [1, 4]


def test_every_container_of_the_repository_in_the_current_task_definition_runs_now(ecs: Ecs) -> None:
    # Given a current revision with the web image by tag and a worker of the same repository by digest
    ecs.tasks.revisions = [revision(41, ours(":v1.4.0"), ours(f"@{digest('pinned')}"), current=True)]
    # When a delete run happens
    ecs.purge()
    # Then both stay as deployed now, each naming its container
    assert {digest("v1.4.0"), digest("pinned")} <= set(ecs.registry.images)
    assert (
        ecs.reasons()[digest("pinned")]
        == "kept: deployed now (task definition consultation-app:41, container sidecar1)"
    )


def test_a_sidecar_from_another_registry_is_ignored_with_a_note_and_does_not_hold_the_run(ecs: Ecs) -> None:
    # Given a log-router sidecar from ECR Public and a Docker Hub image without a registry host
    ecs.tasks.revisions = [
        revision(41, ours(":v1.4.0"), SIDECAR, "nginx:1.27", current=True),
        revision(40, ours(":v1.3.0"), SIDECAR),
    ]
    # When a delete run happens
    result = ecs.purge()
    # Then the app's images are handled as usual and the sidecars are seen as not the repository's (a note names
    # them: images.ecs.txt)
    assert result.outcome is Outcome.PURGED
    assert set(ecs.registry.images) == {digest("v1.4.0"), digest("v1.3.0")}
    seen = ecs.plan().seen
    assert seen.hold is None
    assert [(c.container, c.image) for d in seen.task_definitions for c in d.containers if not c.inside] == [
        ("sidecar1", SIDECAR),
        ("sidecar2", "nginx:1.27"),
        ("sidecar1", SIDECAR),
    ]


def test_a_current_tag_that_points_at_nothing_holds_every_deletion(ecs: Ecs) -> None:
    # Given the current revision on a tag that no image carries
    ecs.tasks.revisions = [revision(41, ours(":v9.9.9"), current=True), revision(40, ours(":v1.3.0"))]
    # When a delete run happens
    result = ecs.purge()
    # Then nothing is deleted and the notification says why (images.ecs.held.txt)
    assert (result.outcome, result.images) == (Outcome.HELD, 9)
    assert ecs.registry.delete_calls == []
    (sent,) = ecs.notifier.sent
    assert (sent.event, sent.severity.value) == ("images.purged", "warning")
    seen = ecs.plan().seen
    assert seen.hold is HoldKind.TASK_DEFINITION_UNKNOWN
    assert seen.task_definitions[0] == TaskDefinitionSeen(
        task_definition="consultation-app:41",
        current=True,
        containers=(ContainerSeen(container="web", image=ours(":v9.9.9"), inside=True, tag="v9.9.9"),),
    )


def test_an_older_tag_that_points_at_nothing_is_a_note_not_a_hold(ecs: Ecs) -> None:
    # Given an earlier revision on a tag deleted long ago
    ecs.tasks.revisions = [revision(41, ours(":v1.4.0"), current=True), revision(40, ours(":v0.9.0"))]
    # When a delete run happens
    result = ecs.purge()
    # Then the purge goes on, and notes that a rollback to 40 could not pull its image
    assert result.outcome is Outcome.PURGED
    assert set(ecs.registry.images) == {digest("v1.4.0")}
    seen = ecs.plan().seen
    assert seen.hold is None
    assert [(d.task_definition, d.current, [c.dangling for c in d.containers]) for d in seen.task_definitions] == [
        ("consultation-app:41", True, [False]),
        ("consultation-app:40", False, [True]),
    ]


def test_an_unreadable_current_task_definition_holds_and_an_unreadable_older_one_is_a_note(ecs: Ecs) -> None:
    # Given the current revision ECS cannot describe
    ecs.tasks.revisions = [revision(41, current=True, unreadable="ClientException: gone")]
    # When a delete run happens / Then it holds, for that reason
    assert ecs.purge().outcome is Outcome.HELD
    seen = ecs.plan().seen
    assert seen.hold is HoldKind.TASK_DEFINITION_UNKNOWN
    assert seen.task_definitions[0].unreadable == "ClientException: gone"

    # Given instead an older revision ECS cannot describe
    ecs.notifier.sent.clear()
    ecs.tasks.revisions = [revision(41, ours(":v1.4.0"), current=True), revision(40, unreadable="ClientException")]
    # When a delete run happens / Then it deletes, and notes what it could not protect
    assert ecs.purge().outcome is Outcome.PURGED
    seen = ecs.plan().seen
    assert seen.hold is None
    assert [(d.task_definition, d.unreadable) for d in seen.task_definitions if not d.current] == [
        ("consultation-app:40", "ClientException")
    ]


def test_while_an_ecs_deployment_rolls_out_nothing_is_deleted(ecs: Ecs) -> None:
    # Given a rollout in progress (the controller maps rolloutState IN_PROGRESS to OPERATION_IN_PROGRESS)
    ecs.tasks.revisions = [revision(42, ours(":v1.5.0"), current=True), revision(41, ours(":v1.4.0"), current=True)]
    ecs.service.status = ServiceStatus.OPERATION_IN_PROGRESS
    # When a delete run happens
    result = ecs.purge()
    # Then it holds, and both deployments' images are deployed now
    assert result.outcome is Outcome.HELD
    assert ecs.registry.delete_calls == []
    assert ecs.plan().seen.hold is HoldKind.IN_PROGRESS
    kept = {d.image.digest for d in prepare_plan(ecs.deps, Settings.from_env(ENV), NOW).plan.kept}
    assert {digest("v1.5.0"), digest("v1.4.0")} <= kept


def test_a_service_that_is_gone_holds_the_run(ecs: Ecs) -> None:
    ecs.service.arn = "arn:aws:ecs:us-east-1:123456789012:service/prod/other"
    assert ecs.purge().outcome is Outcome.HELD
    seen = ecs.plan().seen
    assert (seen.hold, seen.running.kind, seen.service) == (
        HoldKind.SERVICE_NOT_FOUND,
        RunningKind.NOT_FOUND,
        "consultation-app",
    )


def test_with_no_current_task_definition_the_run_holds(ecs: Ecs) -> None:
    # Given ECS listing no task definition the service runs
    ecs.tasks.revisions = [revision(40, ours(":v1.3.0"))]
    # When a delete run happens / Then nothing is deleted, and the platform's own name says who lists none
    assert ecs.purge().outcome is Outcome.HELD
    assert ecs.registry.delete_calls == []
    seen = ecs.plan().seen
    assert (seen.hold, seen.platform, seen.task_definitions) == (HoldKind.NO_TASK_DEFINITION, ECS, ())


# --- the adapter's choice of revisions, against a scripted ECS client ---------------------------------------

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/"


@dataclass
class ScriptedEcs:
    """describe_services / list_task_definitions (pages, sorted DESC as ECS does) / describe_task_definition."""

    pages: list[list[str]]
    deployments: list[dict[str, str]]
    described: list[str] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)

    def describe_services(self, **_: Any) -> dict[str, Any]:
        primary = next(d["taskDefinition"] for d in self.deployments if d["status"] == "PRIMARY")
        return {"services": [{"taskDefinition": primary, "deployments": self.deployments}]}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_task_definitions"
        scripted = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> Any:
                scripted.listed.append(kwargs)
                for page in scripted.pages:
                    yield {"taskDefinitionArns": page}

        return Paginator()

    def describe_task_definition(self, taskDefinition: str) -> dict[str, Any]:
        self.described.append(taskDefinition)
        name = taskDefinition.rsplit("/", 1)[-1]
        return {"taskDefinition": {"containerDefinitions": [{"name": "web", "image": ours(f":{name.split(':')[1]}")}]}}


def test_the_adapter_takes_the_familys_revisions_below_the_current_one_newest_first() -> None:
    # Given revision 41 PRIMARY and 40 still draining; a newer 42 registered but never deployed; a family whose
    # name starts with the same prefix; and more revisions than K, over two pages
    client = ScriptedEcs(
        pages=[
            [TD + "consultation-app-worker:9", TD + "consultation-app:42", TD + "consultation-app:41"],
            [TD + "consultation-app:40", TD + "consultation-app:39", TD + "consultation-app:37"],
            [TD + "consultation-app:36"],
        ],
        deployments=[
            {"status": "ACTIVE", "taskDefinition": TD + "consultation-app:40"},
            {"status": "PRIMARY", "taskDefinition": TD + "consultation-app:41"},
        ],
    )
    services = EcsServices(FakeState(), ecs=client)  # type: ignore[arg-type]
    # When the history with two earlier revisions is read
    history = services.task_definition_history(ARN, previous=2)
    # Then the PRIMARY comes first, the draining one is current too, and the two below them follow
    assert [(h.task_definition, h.current) for h in history] == [
        ("consultation-app:41", True),
        ("consultation-app:40", True),
        ("consultation-app:39", False),
        ("consultation-app:37", False),
    ]
    assert history[0].containers == (ContainerImage(container="web", image=ours(":41")),)
    # and only ACTIVE revisions were listed, newest first, and no page was read past the two found
    assert client.listed[0]["status"] == "ACTIVE"
    assert client.listed[0]["sort"] == "DESC"
    assert client.listed[0]["familyPrefix"] == "consultation-app"
    assert TD + "consultation-app:36" not in client.described
    # and K = 0 lists nothing
    client.listed.clear()
    assert [h.task_definition for h in services.task_definition_history(ARN, previous=0)] == [
        "consultation-app:41",
        "consultation-app:40",
    ]
    assert client.listed == []
