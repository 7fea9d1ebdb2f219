"""`warden rollback` as a real subprocess against moto's ECR and the App Runner emulator: the re-tag keeps the
exact manifest and media type (an OCI image index stays an index), the deployment starts, and on a paused
service it waits for the resume, after which the reconcile deploys it."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.account import LocalAccount
from local.invoke import invoke
from tests.integration.pipeline_world import Pipeline, Releases, make_pipeline
from warden.domain.images import DOCKER_MANIFEST, OCI_INDEX

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(account: LocalAccount, tmp_path: Path) -> Pipeline:
    return make_pipeline(account, tmp_path)


@pytest.fixture
def releases(pipeline: Pipeline) -> Releases:
    pipeline.auto_deploy(False)
    return Releases(pipeline)


def test_an_oci_index_and_a_docker_manifest_both_re_tag_as_latest_with_their_media_type(
    pipeline: Pipeline, releases: Releases
) -> None:
    # When the operator rolls back to v1.0.0, an OCI image index
    to_index = pipeline.warden("rollback", "v1.0.0")
    # Then latest is that index, byte for byte, still an OCI index (not converted to one platform)
    assert to_index.returncode == 0, to_index.stderr
    assert releases.latest() == (releases.digests["v1.0.0"], OCI_INDEX, releases.manifests["v1.0.0"])
    # When it rolls forward to v1.1.0, a Docker v2 manifest, Then that is latest with its own media type
    to_manifest = pipeline.warden("rollback", "v1.1.0")
    assert to_manifest.returncode == 0, to_manifest.stderr
    assert releases.latest() == (releases.digests["v1.1.0"], DOCKER_MANIFEST, releases.manifests["v1.1.0"])
    # And the other tags did not move, and each rollback started one deployment
    assert pipeline.digest_of("v1.2.0") == releases.digests["v1.2.0"]
    assert pipeline.deployments_started() == 2


def test_without_a_version_the_rollback_goes_to_the_previous_deployed_version(
    pipeline: Pipeline, releases: Releases
) -> None:
    result = pipeline.warden("rollback", "--reason", "checkout broken")
    assert result.returncode == 0, result.stderr
    assert "Target:  v1.1.0" in result.stdout
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert pipeline.deployments_started() == 1
    (message,) = pipeline.account.inbox()
    assert message.attributes == {"event": "rollback.done", "severity": "warning"}
    assert "v1.1.0" in message.subject
    assert "alice" in message.body
    assert "checkout broken" in message.body
    assert "warden rollback v1.2.0" in message.body
    history = pipeline.warden("history")
    assert "rollback" in history.stdout


def test_a_rollback_of_a_paused_service_waits_for_the_resume_then_the_reconcile_deploys_it(
    pipeline: Pipeline, releases: Releases
) -> None:
    account = pipeline.account
    # Given the service paused by hand
    assert pipeline.warden("pause", "--reason", "maintenance").returncode == 0
    assert account.service_status() == "PAUSED"
    # When the operator rolls back
    result = pipeline.warden("rollback")
    # Then latest moved, nothing was deployed, and Warden says it deploys on resume
    assert result.returncode == 0, result.stderr
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert "is PAUSED: the rollback deploys when it resumes" in result.stdout
    assert pipeline.deployments_started() == 0
    # When the service is resumed, Then App Runner alone would run the old version: still no deployment
    assert pipeline.warden("resume").returncode == 0
    assert account.service_status() == "RUNNING"
    assert pipeline.deployments_started() == 0
    # When the reconcile runs, Then it deploys the rollback, once
    outcome = invoke("run_schedule", {"job": "reconcile"}, account.env())
    assert outcome["outcome"] == "deployed"
    assert pipeline.deployments_started() == 1
    invoke("run_schedule", {"job": "reconcile"}, account.env())
    assert pipeline.deployments_started() == 1


def test_the_plan_shows_the_move_and_changes_nothing(pipeline: Pipeline, releases: Releases) -> None:
    result = pipeline.warden("rollback", "--plan")
    assert result.returncode == 0, result.stderr
    assert "Now:     latest -> v1.2.0" in result.stdout
    assert "Target:  v1.1.0" in result.stdout
    assert "application/vnd.oci.image.index.v1+json" in result.stdout
    assert "Nothing was changed" in result.stdout
    assert pipeline.digest_of("latest") == releases.digests["v1.2.0"]
    assert pipeline.deployments_started() == 0
    assert pipeline.account.inbox() == []


def test_a_dry_run_rollback_says_what_it_would_do_and_changes_nothing(pipeline: Pipeline, releases: Releases) -> None:
    result = pipeline.warden("--dry-run", "rollback")
    assert result.returncode == 0, result.stderr
    assert "[dry run] Would have moved latest from v1.2.0" in result.stdout
    assert pipeline.digest_of("latest") == releases.digests["v1.2.0"]
    assert pipeline.deployments_started() == 0
    assert [m.attributes["event"] for m in pipeline.account.inbox()] == ["rollback.dry_run"]


def test_an_unknown_version_is_one_clear_line(pipeline: Pipeline, releases: Releases) -> None:
    result = pipeline.warden("rollback", "v0.1.0")
    assert result.returncode == 2
    assert "no image tagged 'v0.1.0' in consultation-app" in result.stderr
    assert "Traceback" not in result.stderr
