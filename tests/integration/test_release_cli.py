"""`warden release` as a real subprocess: docker through a recording executable on PATH, ECR through moto's
server, App Runner through the emulator. Secrets (the Clerk key in .env, ECR's password) must appear nowhere
but in docker's environment and on docker login's stdin."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.account import REPOSITORY, LocalAccount
from tests.integration.pipeline_world import (
    BUILD_ARG,
    CANARY,
    ECR_PASSWORD,
    IMAGE,
    REGISTRY,
    Pipeline,
    make_pipeline,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(account: LocalAccount, tmp_path: Path) -> Pipeline:
    return make_pipeline(account, tmp_path)


def assert_no_secret_anywhere(pipeline: Pipeline, *outputs: str) -> None:
    for argv in pipeline.argv():
        for secret in (CANARY, ECR_PASSWORD):
            assert all(secret not in part for part in argv), f"{secret} in {argv}"
    for output in outputs:
        assert CANARY not in output
        assert ECR_PASSWORD not in output
    for message in pipeline.account.inbox():
        assert CANARY not in message.body
        assert ECR_PASSWORD not in message.body


def test_a_release_runs_the_tutorials_docker_steps_pushes_to_ecr_deploys_and_records(pipeline: Pipeline) -> None:
    # Given auto-deploy off and the Clerk key only in the app's .env
    pipeline.auto_deploy(False)
    # When the operator releases v1.2.0
    result = pipeline.release("v1.2.0")
    # Then it succeeds, and docker ran exactly these commands, in this order
    assert result.returncode == 0, result.stderr
    assert pipeline.argv() == [
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        [
            "docker",
            "build",
            "--platform",
            "linux/amd64",
            "-t",
            f"{IMAGE}:v1.2.0",
            "--build-arg",
            BUILD_ARG,
            str(pipeline.context),
        ],
        ["docker", "tag", f"{IMAGE}:v1.2.0", f"{IMAGE}:latest"],
        ["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY],
        ["docker", "push", f"{IMAGE}:v1.2.0"],
        ["docker", "push", f"{IMAGE}:latest"],
    ]
    # And the secret reached docker through its environment, the password through stdin, and nothing else
    calls = pipeline.docker_calls()
    assert calls[1]["build_arg_env"] == {BUILD_ARG: CANARY}
    assert calls[3]["stdin"] == ECR_PASSWORD + "\n"
    assert all(call["stdin"] == "" for index, call in enumerate(calls) if index != 3)
    # And ECR has both tags on one image, whose digest Warden printed and recorded
    digest = pipeline.digest_of("v1.2.0")
    assert digest is not None
    assert pipeline.digest_of("latest") == digest
    assert f"Released  v1.2.0 = {digest}" in result.stdout
    # And App Runner got exactly one deployment, the history the release, the inbox one message
    assert pipeline.deployments_started() == 1
    history = pipeline.warden("history")
    assert "release" in history.stdout
    assert "alice" in history.stdout
    inbox = pipeline.account.inbox()
    assert [m.attributes["event"] for m in inbox] == ["release.done"]
    assert "v1.2.0" in inbox[0].subject
    assert_no_secret_anywhere(pipeline, result.stdout, result.stderr, history.stdout)


def test_with_auto_deploy_on_the_release_leaves_the_deployment_to_app_runner(pipeline: Pipeline) -> None:
    # Given the seeded service's default, AutoDeploymentsEnabled=true
    result = pipeline.release("v1.2.0")
    assert result.returncode == 0, result.stderr
    assert pipeline.deployments_started() == 0
    assert "App Runner deploys the moved tag by itself" in result.stdout


def test_the_plan_checks_everything_and_prints_the_commands_without_running_docker(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", "--plan")
    assert result.returncode == 0, result.stderr
    assert f"docker build --platform linux/amd64 -t {IMAGE}:v1.2.0 --build-arg {BUILD_ARG}" in result.stdout
    assert f"docker login --username AWS --password-stdin {REGISTRY}" in result.stdout
    assert "Nothing was built, pushed or deployed" in result.stdout
    # The plan shows the Docker check its help promises, and runs nothing else
    assert "Docker:      engine" in result.stdout
    assert pipeline.argv() == [["docker", "info", "--format", "{{.ServerVersion}}"]]
    assert pipeline.digest_of("v1.2.0") is None
    assert_no_secret_anywhere(pipeline, result.stdout, result.stderr)


def test_the_plan_says_when_no_docker_engine_runs_and_still_shows_the_rest(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", "--plan", FAKE_DOCKER_MODE="no-engine")
    assert result.returncode == 0, result.stderr
    assert "Docker:      NOT READY" in result.stdout
    assert "Nothing was built, pushed or deployed" in result.stdout


def test_a_version_already_released_is_refused_before_docker_runs(pipeline: Pipeline) -> None:
    # Given v1.2.0 released
    assert pipeline.release("v1.2.0").returncode == 0
    calls = len(pipeline.docker_calls())
    # When it is released again
    again = pipeline.release("v1.2.0")
    # Then one line says releases are immutable and how to deploy it again; docker did not run
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1
    assert "v1.2.0 is already released" in again.stderr
    assert "`warden rollback v1.2.0`" in again.stderr
    assert len(pipeline.docker_calls()) == calls


def test_a_missing_repository_says_how_to_create_it(account: LocalAccount, tmp_path: Path) -> None:
    pipeline = make_pipeline(account, tmp_path, repository=False)
    result = pipeline.release("v1.2.0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert f"aws ecr create-repository --repository-name {REPOSITORY} --region us-east-1" in result.stderr
    assert "--image-tag-mutability MUTABLE" in result.stderr
    assert pipeline.docker_calls() == []


def test_no_docker_engine_is_one_clear_line(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", FAKE_DOCKER_MODE="no-engine")
    assert result.returncode == 2
    assert result.stderr.startswith("warden: the Docker engine is not running")
    assert "Cannot connect to the Docker daemon" in result.stderr
    assert "Traceback" not in result.stderr
    assert pipeline.argv() == [["docker", "info", "--format", "{{.ServerVersion}}"]]


def test_no_docker_executable_at_all_is_one_clear_line(pipeline: Pipeline, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = pipeline.release("v1.2.0", path=str(empty))
    assert result.returncode == 2
    assert "no `docker` executable on PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_login_stops_before_the_push_and_shows_no_password(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", FAKE_DOCKER_MODE="login-fails")
    assert result.returncode == 2
    assert "docker login to" in result.stderr
    assert "401 Unauthorized" in result.stderr
    assert [argv[1] for argv in pipeline.argv()] == ["info", "build", "tag", "login"]
    assert pipeline.digest_of("v1.2.0") is None
    assert pipeline.deployments_started() == 0
    assert_no_secret_anywhere(pipeline, result.stdout, result.stderr)


def test_a_build_arg_without_a_value_is_named_and_nothing_runs(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", "--build-arg", "API_URL")
    assert result.returncode == 2
    assert "build arg API_URL has no value" in result.stderr
    assert pipeline.docker_calls() == []


def test_build_args_named_in_the_settings_are_passed_too_and_the_environment_wins(pipeline: Pipeline) -> None:
    result = pipeline.warden(
        "release", "v1.2.0", "--context", str(pipeline.context), RELEASE_BUILD_ARGS=BUILD_ARG, **{BUILD_ARG: "pk_env"}
    )
    assert result.returncode == 0, result.stderr
    assert pipeline.docker_calls()[1]["build_arg_env"] == {BUILD_ARG: "pk_env"}
    assert "pk_env" not in result.stdout + result.stderr


def test_not_a_semantic_version_is_refused(pipeline: Pipeline) -> None:
    result = pipeline.release("latest")
    assert result.returncode == 2
    assert "is not a semantic version" in result.stderr
    assert pipeline.docker_calls() == []


def test_with_dry_run_the_release_only_shows_its_plan(pipeline: Pipeline) -> None:
    result = pipeline.release("v1.2.0", DRY_RUN="true")
    assert result.returncode == 0, result.stderr
    assert "Nothing was built, pushed or deployed: DRY_RUN is on." in result.stdout
    assert pipeline.argv() == [["docker", "info", "--format", "{{.ServerVersion}}"]]  # the check only
    assert pipeline.digest_of("v1.2.0") is None
    assert pipeline.account.inbox() == []
