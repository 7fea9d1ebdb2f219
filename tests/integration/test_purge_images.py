"""The real purge_images handler, the ECR adapter and the CLI against moto's ECR and the App Runner emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.account import ACCOUNT_ID, REPOSITORY, LocalAccount
from local.demo_images import REGISTRY, ConsultationImages, SeededRepository, run_image, seed_consultation_app
from local.deployment_events import operation_event
from local.invoke import fresh_container, invoke
from local.template import ROOT
from tests.events import load_event
from tests.integration.test_deploy_after_resume import ENV as WORKING_HOURS
from tests.integration.test_deploy_after_resume import MONDAY_1800, push_latest
from warden.adapters import ecr as ecr_adapter
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecr import EcrImages
from warden.domain.images import BatchResult, DeleteFailure, RepositoryNotFound
from warden.settings import get_settings
from warden.usecases.schedule import Job, run_job
from warden.wiring import schedule_deps

pytestmark = pytest.mark.integration

DAILY = {"job": "purge-images"}


def purge(account: LocalAccount, event: dict[str, Any] | None = None, **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("purge_images", event or DAILY, {**account.env(), **env})
    outcome: dict[str, Any] = result["results"][0]
    return outcome


def observe_deployment(account: LocalAccount) -> None:
    """App Runner's DeploymentCompletedSuccessfully through the real on_deployment, which records the image the
    service's tag points at as deployed (its report is drained from the inbox). Without a deployment on record
    the purge of a service that follows a tag holds every deletion."""
    event = operation_event("deployment-succeeded", service_arn=account.service_arn, at=datetime.now(UTC))
    assert invoke("on_deployment", event, account.env())["results"][0]["outcome"] == "deployed"
    account.inbox()


def history(account: LocalAccount) -> list[str]:
    records = StateTable(account.table_name, account.client("dynamodb")).list_deployments(account.service_arn, 10)
    return [record.digest for record in records]


@pytest.fixture
def seeded(account: LocalAccount) -> ConsultationImages:
    """Eight months of releases; the service runs v1.1.0, the OLDEST tagged image but one (its deployment seen)."""
    images = seed_consultation_app(account)
    run_image(account, "v1.1.0")
    observe_deployment(account)
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
    assert 6.935e9 <= done["bytes_deleted"] < 6.945e9  # "up to 6.94 GB", in the words of images.purged.txt

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
    # Then the three newer builds are gone and the oldest image stays; the purge records no deployment
    assert result["deleted"] == 3
    assert repository.digests() == {oldest}
    assert not set(newer) & repository.digests()
    assert history(account) == []


def test_an_untagged_child_of_a_kept_index_survives_while_an_unreferenced_one_goes(account: LocalAccount) -> None:
    # Given `latest` as an index (30 days old) with an untagged 30-day-old child, and a stray untagged image
    repository = SeededRepository.fresh(account)
    child = repository.image("platform-amd64", days=30)
    stray = repository.image("stray", days=30)
    repository.index("release", "latest", children=[child], days=30)
    observe_deployment(account)
    # When a delete run happens
    purge(account, IMAGE_PURGE_MODE="delete")
    # Then the child stays because its index is kept, and the stray untagged image goes
    assert child in repository.digests()
    assert stray not in repository.digests()


def test_an_image_pulled_recently_stays(account: LocalAccount) -> None:
    repository = SeededRepository.fresh(account)
    repository.image("current", "latest", days=1)
    pulled = repository.image("staging", "feature-x", days=200, pulled_days=3)
    unpulled = repository.image("old", "feature-y", days=200, pulled_days=45)
    observe_deployment(account)
    purge(account, IMAGE_PURGE_MODE="delete")
    assert pulled in repository.digests()
    assert unpulled not in repository.digests()


# --- issue 13 §1: a push to the tag is not a deployment -----------------------------------------------------


def pause_for_the_night(account: LocalAccount) -> None:
    with fresh_container({**account.env(), **WORKING_HOURS}):
        settings = get_settings()
        assert run_job(Job.WORKDAY_END, schedule_deps(settings), settings, MONDAY_1800).outcome == "pause"
    assert account.service_status() == "PAUSED"


@pytest.mark.parametrize("keep", ["5", "1"])
def test_a_paused_service_keeps_the_image_it_resumes_to_however_many_builds_ci_pushes(
    account: LocalAccount, keep: str
) -> None:
    # Given the service runs build-0 (pushed 120 days ago as build-0 and latest, its deployment seen), then pauses
    repository = SeededRepository.fresh(account)
    first = repository.image("build-0", "build-0", "latest", days=120)
    observe_deployment(account)
    pause_for_the_night(account)
    # When CI pushes IMAGE_KEEP_DEPLOYED builds to latest while paused, each push running the purge (delete mode)
    for build in range(1, int(keep) + 1):
        push_latest(account, f"build-{build}")
        outcome = purge(
            account, load_event("purge_images", "ecr-push"), IMAGE_PURGE_MODE="delete", IMAGE_KEEP_DEPLOYED=keep
        )
        assert outcome["outcome"] in {"nothing", "purged"}
    # Then build-0, which App Runner redeploys on resume, is still in ECR (the pushes took latest from it, and
    # moto drops each untagged intermediate build), and no push counts as a deployment
    assert first in repository.digests()
    assert history(account) == [first]


def test_with_auto_deploy_off_a_push_does_not_cost_the_running_image(account: LocalAccount) -> None:
    # Given auto-deploy off, and a service running build-1 (pushed 120 days ago as build-1 and latest, its
    # deployment seen), K = 1
    repository = SeededRepository.fresh(account)
    running = repository.image("build-1", "build-1", "latest", days=120)
    account.client("apprunner").update_service(
        ServiceArn=account.service_arn,
        SourceConfiguration={
            "ImageRepository": {"ImageIdentifier": f"{REGISTRY}/{REPOSITORY}:latest", "ImageRepositoryType": "ECR"},
            "AutoDeploymentsEnabled": False,
        },
    )
    observe_deployment(account)
    # When CI pushes build-2 as latest (App Runner deploys nothing) and the push runs the purge
    pushed = push_latest(account, "build-2")
    outcome = purge(account, load_event("purge_images", "ecr-push"), IMAGE_PURGE_MODE="delete", IMAGE_KEEP_DEPLOYED="1")
    # Then build-1, which still runs, stays, and so does build-2 behind latest
    assert outcome["outcome"] == "nothing"
    assert repository.digests() == {running, pushed}
    assert history(account) == [running]


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
    assert account.inbox()[0].attributes == {"event": "images.purged", "severity": "info"}


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
    assert "ImageReferencedByManifestList" in message.body  # AWS's code, in the words of images.partial.txt


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
