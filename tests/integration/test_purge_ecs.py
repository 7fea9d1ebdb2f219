"""The real purge_images handler for an ECS service (moto's ECS and ECR): task definitions protect their images."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from local.account import LocalAccount
from local.demo_images import REGISTRY, SeededRepository
from local.ecs import register_revision, run_revision, seed_ecs_service
from local.invoke import fresh_container, invoke
from tests.events import load_event
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecs import EcsServices
from warden.domain.retention import HoldKind
from warden.settings import Settings
from warden.usecases.purge_images import PreparedPlan, prepare_plan
from warden.wiring import purge_images_deps

pytestmark = pytest.mark.integration

SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


def ours(reference: str) -> str:
    return f"{REGISTRY}/consultation-app{reference}"


@pytest.fixture
def ecs_account(account: LocalAccount) -> LocalAccount:
    arn = seed_ecs_service(account, desired=2, scaling=(1, 4))
    return dataclasses.replace(account, service_arn=arn)


@dataclasses.dataclass(frozen=True)
class Seeded:
    repository: SeededRepository
    images: dict[str, str]  # label -> digest
    current: str  # the task definition the service runs
    revisions: dict[str, str]  # label -> task definition ARN


@pytest.fixture
def seeded(ecs_account: LocalAccount) -> Seeded:
    """Ten images, seven of them old; the family's revisions, oldest first:
    r-v1.0.0, r-v1.1.0 (deregistered), r-v1.2.0, r-pinned (by digest), then the current r-v1.3.0 with a sidecar."""
    repository = SeededRepository.fresh(ecs_account)
    images = {
        "v0.9.0": repository.image("v0.9.0", "v0.9.0", days=320),
        "v1.0.0": repository.image("v1.0.0", "v1.0.0", days=300),
        "v1.1.0": repository.image("v1.1.0", "v1.1.0", days=280),
        "v1.2.0": repository.image("v1.2.0", "v1.2.0", days=260),
        "pinned": repository.image("pinned-build", days=250),  # untagged: only its digest names it
        "v1.3.0": repository.image("v1.3.0", "v1.3.0", days=240),
        "feature-x": repository.image("feature-x", "feature-x", days=150),
        "stray": repository.image("stray", days=200),
        "latest": repository.image("v1.4.0", "v1.4.0", "latest", days=5),
        "dev": repository.image("dev-now", days=2),
    }
    ecs = ecs_account.client("ecs")
    revisions = {
        "v1.0.0": register_revision(ecs_account, ours(":v1.0.0")),
        "v1.1.0": register_revision(ecs_account, ours(":v1.1.0")),
        "v1.2.0": register_revision(ecs_account, ours(":v1.2.0")),
        "pinned": register_revision(ecs_account, ours(f"@{images['pinned']}")),
    }
    # Deregistered: ECS refuses to update a service to an INACTIVE revision, so it is no rollback target.
    ecs.deregister_task_definition(taskDefinition=revisions["v1.1.0"])
    current = register_revision(ecs_account, ours(":v1.3.0"), SIDECAR)
    run_revision(current)
    return Seeded(repository, images, current, revisions)


def purge(account: LocalAccount, **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("purge_images", load_event("purge_images", "daily"), {**account.env(), **env})
    outcome: dict[str, Any] = result["results"][0]
    return outcome


def plan(account: LocalAccount, **env: str) -> PreparedPlan:
    """The plan a run would make now, read through the adapters Warden's wiring builds (`warden purge-images`)."""
    with fresh_container({**account.env(), **env}):
        settings = Settings.from_env()
        return prepare_plan(purge_images_deps(settings), settings, datetime.now(UTC))


def short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def test_a_delete_run_keeps_what_the_task_definitions_name_and_deletes_exactly_the_rest(
    ecs_account: LocalAccount, seeded: Seeded
) -> None:
    # Given the ECS service on r-v1.3.0, K = 2 previous revisions, and no semver rule to blur the picture
    account, images = ecs_account, seeded.images

    # When the daily run happens in delete mode (planned first, as `warden purge-images --plan` would)
    planned = plan(account, IMAGE_PURGE_MODE="delete", IMAGE_KEEP_DEPLOYED="2", IMAGE_KEEP_SEMVER="0")
    result = purge(account, IMAGE_PURGE_MODE="delete", IMAGE_KEEP_DEPLOYED="2", IMAGE_KEEP_SEMVER="0")

    # Then exactly the unprotected old images are gone: the revision beyond K, the deregistered one, the strays
    gone = {label for label, digest in images.items() if digest not in seeded.repository.digests()}
    assert gone == {"v0.9.0", "v1.0.0", "v1.1.0", "feature-x", "stray"}
    assert (result["outcome"], result["deleted"]) == ("purged", 5)

    # And the notification goes out, from a plan that names why each old image stays: the task definition that
    # holds it (images.ecs.txt has the words), with the sidecar seen as another registry's
    (message,) = account.inbox()
    assert message.attributes == {"event": "images.purged", "severity": "info"}
    current, pinned, v120 = short(seeded.current), short(seeded.revisions["pinned"]), short(seeded.revisions["v1.2.0"])
    reasons = {decision.image.digest: decision.reason for decision in planned.plan.kept}
    assert reasons[images["v1.3.0"]] == f"kept: deployed now (task definition {current}, container web)"
    assert reasons[images["pinned"]] == f"kept: in task definition {pinned} (rollback target)"
    assert reasons[images["v1.2.0"]] == f"kept: in task definition {v120} (rollback target)"
    assert {decision.image.digest for decision in planned.plan.deletions} == {images[label] for label in gone}
    definitions = {d.task_definition: d for d in planned.seen.task_definitions}
    assert [(c.container, c.digest) for c in definitions[pinned].containers] == [("web", images["pinned"])]
    assert [(c.image, c.inside) for c in definitions[current].containers] == [
        (ours(":v1.3.0"), True),
        (SIDECAR, False),
    ]

    # And the purge records no deployment (a tag pointing at an image is not one), and a second run finds
    # nothing more to delete
    history = StateTable(account.table_name, account.client("dynamodb")).list_deployments(account.service_arn, 5)
    assert history == []
    again = purge(account, IMAGE_PURGE_MODE="delete", IMAGE_KEEP_DEPLOYED="2", IMAGE_KEEP_SEMVER="0")
    assert again["outcome"] == "nothing"


def test_a_current_tag_that_points_at_nothing_holds_the_run(ecs_account: LocalAccount, seeded: Seeded) -> None:
    # Given the service moved to a revision whose tag no image carries
    moved = register_revision(ecs_account, ours(":v9.9.9"))
    run_revision(moved)
    before = seeded.repository.digests()
    # When a delete run happens
    result = purge(ecs_account, IMAGE_PURGE_MODE="delete")
    # Then nothing is deleted and the operator reads why (images.ecs.held.txt): that tag of that revision
    assert result["outcome"] == "held"
    assert seeded.repository.digests() == before
    assert ecs_account.inbox()[0].attributes == {"event": "images.purged", "severity": "warning"}
    seen = plan(ecs_account).seen
    assert seen.hold is HoldKind.TASK_DEFINITION_UNKNOWN
    current = seen.task_definitions[0]
    assert (current.task_definition, current.current) == (short(moved), True)
    assert [(c.container, c.tag, c.dangling) for c in current.containers] == [("web", "v9.9.9", True)]


def test_the_adapter_reads_the_current_revision_and_the_active_ones_below_it(
    ecs_account: LocalAccount, seeded: Seeded
) -> None:
    # Given a newer revision registered but never deployed
    register_revision(ecs_account, ours(":v1.4.0"))
    state = StateTable(ecs_account.table_name, ecs_account.client("dynamodb"))
    services = EcsServices(state, ecs_account.client("ecs"))
    # When the history with three earlier revisions is read
    history = services.task_definition_history(ecs_account.service_arn, previous=3)
    # Then the current one comes first with its two containers, then the ACTIVE revisions below it, newest first
    assert [(h.task_definition, h.current) for h in history] == [
        (short(seeded.current), True),
        (short(seeded.revisions["pinned"]), False),
        (short(seeded.revisions["v1.2.0"]), False),
        (short(seeded.revisions["v1.0.0"]), False),
    ]
    assert [c.image for c in history[0].containers] == [ours(":v1.3.0"), SIDECAR]
