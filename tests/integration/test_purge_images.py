"""The real purge_images handler, the ECR adapter and the CLI against moto's ECR and the App Runner emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.account import ACCOUNT_ID, LocalAccount
from local.demo_images import ConsultationImages, SeededRepository, run_image, seed_consultation_app
from local.invoke import invoke
from local.template import ROOT
from tests.events import load_event
from warden.adapters import ecr as ecr_adapter
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecr import EcrImages
from warden.domain.images import BatchResult, DeleteFailure, RepositoryNotFound

pytestmark = pytest.mark.integration

DAILY = {"job": "purge-images"}


def purge(account: LocalAccount, event: dict[str, Any] | None = None, **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("purge_images", event or DAILY, {**account.env(), **env})
    outcome: dict[str, Any] = result["results"][0]
    return outcome


@pytest.fixture
def seeded(account: LocalAccount) -> ConsultationImages:
    """Eight months of releases; the service runs v1.1.0, the OLDEST tagged image but one."""
    images = seed_consultation_app(account)
    run_image(account, "v1.1.0")
    return images


@pytest.fixture
def ecr(account: LocalAccount) -> EcrImages:
    return EcrImages(account.client("ecr"))


def test_the_plan_deletes_nothing_and_the_delete_run_deletes_exactly_what_it_listed(
    account: LocalAccount, seeded: ConsultationImages
) -> None:
    # Given a repository of 50 images and a service running the old v1.1.0
    before = seeded.repository.digests()

    # When the daily run happens in the default plan mode
    plan = purge(account)
    (plan_message,) = account.inbox()

    # Then nothing is deleted, and the plan lists its deletions
    assert plan["outcome"] == "planned"
    assert seeded.repository.digests() == before
    assert plan_message.attributes == {"event": "images.plan", "severity": "info"}
    listed = {line.split()[0] for line in plan_message.body.splitlines() if "  deleted: " in line}

    # When the operator switches to delete mode
    done = purge(account, IMAGE_PURGE_MODE="delete")
    (purge_message,) = account.inbox()

    # Then exactly the listed images are gone, and the running image, the pulled one, latest and its children stay
    after = seeded.repository.digests()
    gone = {digest[:19] for digest in before - after}
    assert done["outcome"] == "purged"
    assert done["deleted"] == plan["planned"] == len(before - after) == 34
    assert gone == listed
    assert {seeded.running, seeded.pulled, seeded.index, *seeded.children} <= after
    assert purge_message.attributes == {"event": "images.purged", "severity": "info"}
    assert purge_message.subject.startswith("[warden] PURGED consultation-app: 34 images, up to 6.94 GB")

    # And a third run finds nothing more to delete
    assert purge(account, IMAGE_PURGE_MODE="delete")["outcome"] == "nothing"


def test_a_service_running_the_oldest_image_in_the_repository_keeps_it(account: LocalAccount) -> None:
    # Given a repository whose OLDEST image (untagged since, 400 days old) is what the service runs by digest
    repository = SeededRepository.fresh(account)
    oldest = repository.image("first-release", days=400)
    newer = [repository.image(f"build-{n}", days=100 + n) for n in range(3)]
    run_image(account, "latest")  # then pinned by digest:
    account.client("apprunner").update_service(
        ServiceArn=account.service_arn,
        SourceConfiguration={
            "ImageRepository": {
                "ImageIdentifier": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/consultation-app@{oldest}",
                "ImageRepositoryType": "ECR",
            }
        },
    )
    # When a delete run happens
    result = purge(account, IMAGE_PURGE_MODE="delete")
    # Then the three newer builds are gone and the oldest image stays, recorded as a deployment
    assert result["deleted"] == 3
    assert repository.digests() == {oldest}
    assert not set(newer) & repository.digests()
    history = StateTable(account.table_name, account.client("dynamodb")).list_deployments(account.service_arn, 10)
    assert [(record.digest, record.tag) for record in history] == [(oldest, None)]
    assert "kept: deployed now" in account.inbox()[0].body


def test_an_untagged_child_of_a_kept_index_survives_while_an_unreferenced_one_goes(account: LocalAccount) -> None:
    # Given `latest` as an index (30 days old) with an untagged 30-day-old child, and a stray untagged image
    repository = SeededRepository.fresh(account)
    child = repository.image("platform-amd64", days=30)
    stray = repository.image("stray", days=30)
    repository.index("release", "latest", children=[child], days=30)
    # When a delete run happens
    purge(account, IMAGE_PURGE_MODE="delete")
    # Then the child stays because its index is kept, and the stray untagged image goes
    assert child in repository.digests()
    assert stray not in repository.digests()
    assert "children of kept indexes: 1" in account.inbox()[0].body


def test_an_image_pulled_recently_stays(account: LocalAccount) -> None:
    repository = SeededRepository.fresh(account)
    repository.image("current", "latest", days=1)
    pulled = repository.image("staging", "feature-x", days=200, pulled_days=3)
    unpulled = repository.image("old", "feature-y", days=200, pulled_days=45)
    purge(account, IMAGE_PURGE_MODE="delete")
    assert pulled in repository.digests()
    assert unpulled not in repository.digests()


def test_per_item_failures_are_retried_or_reported_and_never_fail_the_run(
    account: LocalAccount, seeded: ConsultationImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ECR that throttles one image once, and someone deleting another between plan and delete
    original = ecr_adapter.EcrImages.delete_digests
    state = {"throttled": False, "raced": False}

    def flaky_delete(self: EcrImages, repository: str, digests: Sequence[str]) -> BatchResult:
        if not state["raced"]:  # someone else deletes the batch's last image just before Warden does
            state["raced"] = True
            self._ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digests[-1]}])
        if state["throttled"]:
            return original(self, repository, digests)
        state["throttled"] = True  # ECR throttles the first image of the first call
        result = original(self, repository, digests[1:])
        throttled = DeleteFailure(digest=digests[0], code="UpstreamTooManyRequests", reason="slow down")
        return BatchResult(deleted=result.deleted, failures=(*result.failures, throttled))

    monkeypatch.setattr(ecr_adapter.EcrImages, "delete_digests", flaky_delete)
    monkeypatch.setattr("warden.usecases.purge_images.RETRY_BACKOFF_SECONDS", (0.0, 0.0))

    # When a delete run happens
    result = purge(account, IMAGE_PURGE_MODE="delete")

    # Then the run completes: the throttled image was deleted on retry, the raced one counted as already gone
    assert result["outcome"] == "purged"
    assert (result["deleted"], result["already_gone"], result["failed"]) == (33, 1, 0)
    body = account.inbox()[0].body
    assert "already gone (ImageNotFound)" in body
    assert "Retried per-item failures 1 time(s)" in body


def test_a_batch_with_permanent_failures_is_reported_not_fatal(
    account: LocalAccount, seeded: ConsultationImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ecr_adapter.EcrImages.delete_digests

    def refusing(self: EcrImages, repository: str, digests: Sequence[str]) -> BatchResult:
        result = original(self, repository, digests[1:])
        refused = DeleteFailure(digest=digests[0], code="ImageReferencedByManifestList", reason="in use")
        return BatchResult(deleted=result.deleted, failures=(*result.failures, refused))

    monkeypatch.setattr(ecr_adapter.EcrImages, "delete_digests", refusing)
    result = purge(account, IMAGE_PURGE_MODE="delete")
    assert (result["outcome"], result["deleted"], result["failed"]) == ("partial", 33, 1)
    (message,) = account.inbox()
    assert message.attributes["severity"] == "warning"
    assert "1 x ImageReferencedByManifestList: in use" in message.body


def test_an_ecr_push_to_the_apps_repository_runs_the_purge_and_other_pushes_are_ignored(
    account: LocalAccount, seeded: ConsultationImages
) -> None:
    push = load_event("purge_images", "ecr-push")
    assert purge(account, push)["outcome"] == "planned"
    assert account.inbox()[0].attributes["event"] == "images.plan"

    elsewhere = load_event("purge_images", "ecr-push")
    elsewhere["detail"]["repository-name"] = "another-app"
    failed = load_event("purge_images", "ecr-push")
    failed["detail"]["result"] = "FAILURE"
    for event in (elsewhere, failed, {"job": "reconcile"}):
        result = purge(account, event)
        assert result["outcome"] == "ignored"
        assert result["reason"].startswith("ignored, because")
    assert account.inbox() == []


def test_without_a_repository_the_idle_function_ignores_its_invocations(account: LocalAccount) -> None:
    result = purge(account, ECR_REPOSITORY="")
    assert result["outcome"] == "ignored"
    assert "ECR_REPOSITORY is not set" in result["reason"]
    assert account.inbox() == []


def test_dry_run_plans_even_in_delete_mode(account: LocalAccount, seeded: ConsultationImages) -> None:
    before = seeded.repository.digests()
    result = purge(account, IMAGE_PURGE_MODE="delete", DRY_RUN="true")
    assert result["outcome"] == "planned"
    assert seeded.repository.digests() == before


def warden_cli(account: LocalAccount, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m warden ...` as an operator runs it: the account's environment, the layer on PYTHONPATH."""
    env = {**os.environ, **account.env(), "PYTHONPATH": str(ROOT / "layers" / "warden")}
    return subprocess.run(
        [sys.executable, "-m", "warden", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_cli_prints_the_plan_as_a_table(account: LocalAccount, seeded: ConsultationImages) -> None:
    # When `python -m warden purge-images --plan` runs
    completed = warden_cli(account, "purge-images", "--plan")
    # Then it prints every image with its decision, the summary, and deletes, sends and records nothing
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["digest", "tags", "pushed", "size", "decision", "reason"]
    assert any(seeded.running[:19] in line and "deployed now" in line for line in lines)
    assert "Plan        delete 34, up to 6.94 GB" in completed.stdout
    assert len(seeded.repository.digests()) == 50
    assert account.inbox() == []


def test_the_cli_apply_deletes_whatever_the_purge_mode_says(account: LocalAccount, seeded: ConsultationImages) -> None:
    # Given IMAGE_PURGE_MODE=plan in the environment / When the operator runs --apply
    completed = warden_cli(account, "purge-images", "--apply")
    # Then the plan's 34 images are deleted and the summary is sent
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Result    purged: deleted 34 of 50 images from consultation-app")
    assert len(seeded.repository.digests()) == 16
    assert [message.attributes["event"] for message in account.inbox()] == ["images.purged"]


def test_the_adapter_maps_ecr_images_and_its_quirks(account: LocalAccount, ecr: EcrImages) -> None:
    repository = SeededRepository.fresh(account)
    tagged = repository.image("a", "v1.0.0", "latest", days=10, size=123_000_000, pulled_days=1)
    untagged = repository.image("b", days=20)
    images = {image.digest: image for image in ecr.list_images("consultation-app")}
    assert images[tagged].tags == ("v1.0.0", "latest")
    assert images[tagged].size_bytes == 123_000_000
    assert images[tagged].last_pull is not None
    assert images[untagged].tags == ()
    assert images[untagged].last_pull is None
    assert abs(images[untagged].pushed_at - (datetime.now(UTC) - timedelta(days=20))) < timedelta(minutes=5)
    assert ecr.resolve_tag("consultation-app", "latest") == tagged
    assert ecr.resolve_tag("consultation-app", "nope") is None
    assert ecr.resolve(f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/consultation-app:v1.0.0") == tagged
    unknown = "sha256:" + "0" * 64
    result = ecr.delete_digests("consultation-app", [untagged, unknown])
    assert result.deleted == (untagged,)
    assert [(f.digest, f.code) for f in result.failures] == [(unknown, "ImageNotFound")]
    with pytest.raises(ValueError, match="at most 100"):
        ecr.delete_digests("consultation-app", [unknown] * 101)
    with pytest.raises(RepositoryNotFound, match="ECR_REPOSITORY"):
        ecr.list_images("no-such-repository")


def test_the_adapter_reads_index_children_with_all_four_media_types(account: LocalAccount, ecr: EcrImages) -> None:
    repository = SeededRepository.fresh(account)
    children = [repository.image("amd64", days=1), repository.image("arm64", days=1)]
    index = repository.index("release", "latest", children=children, days=1)
    missing = "sha256:" + "f" * 64
    assert ecr.index_children("consultation-app", [index, missing]) == {index: tuple(children)}
    assert ecr.index_children("consultation-app", [children[0]]) == {children[0]: ()}
