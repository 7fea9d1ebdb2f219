"""The docker adapter against stand-in `docker` executables: error paths, masking, and a docker that hangs."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from local import fake_docker
from warden.adapters import docker
from warden.adapters.docker import DockerCli
from warden.domain.pipeline import DockerFailed, DockerUnavailable, RegistryLoginFailed

pytestmark = pytest.mark.integration

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app:v1.2.0"


def script(directory: Path, body: str) -> dict[str, str]:
    """A `docker` written in Python (`body` sees `args`), first on PATH; returns the environment to use."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docker"
    path.write_text(f"#!{sys.executable}\nimport os, sys, time\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {**os.environ, "PATH": f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_a_push_without_a_login_says_not_logged_in(tmp_path: Path) -> None:
    fake_docker.install(tmp_path / "bin")
    cli = DockerCli(environ={**os.environ, "PATH": str(tmp_path / "bin")})
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    cli.build(IMAGE, context=str(tmp_path / "app"), build_args={})
    with pytest.raises(RegistryLoginFailed, match=r"not logged in to the registry of .*no basic auth credentials"):
        cli.push(IMAGE)


def test_a_failing_build_quotes_dockers_last_words(tmp_path: Path) -> None:
    fake_docker.install(tmp_path / "bin")
    cli = DockerCli(environ={**os.environ, "PATH": str(tmp_path / "bin")})
    with pytest.raises(DockerFailed, match="docker build failed with exit status 1: ERROR: failed to solve"):
        cli.build(IMAGE, context=str(tmp_path / "no-such-dir"), build_args={})


def test_secret_values_docker_prints_are_masked_in_the_echo_and_in_errors(tmp_path: Path) -> None:
    # Given a docker (a Dockerfile's RUN echo, say) that prints the build arg's value and fails
    env = script(tmp_path / "bin", 'print("key is", os.environ["KEY"]); sys.exit(3)')
    shown: list[str] = []
    cli = DockerCli(environ=env, echo=shown.append)
    # When the build runs with the secret
    with pytest.raises(DockerFailed) as failed:
        cli.build(IMAGE, context=".", build_args={"KEY": "pk_test_CANARY123"})
    # Then neither the echoed output nor the error shows it
    assert shown == ["key is ********"]
    assert "pk_test_CANARY123" not in str(failed.value)
    assert "key is ********" in str(failed.value)


def test_a_docker_that_hangs_is_stopped_after_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker, "QUICK_SECONDS", 0.5)
    env = script(tmp_path / "bin", "time.sleep(30)")
    with pytest.raises(DockerFailed, match="did not finish within 0 seconds and was stopped"):
        DockerCli(environ=env).tag(IMAGE, IMAGE.replace("v1.2.0", "latest"))


def test_an_engine_that_does_not_answer_is_docker_unavailable(tmp_path: Path) -> None:
    env = script(tmp_path / "bin", f"print({fake_docker.NO_DAEMON!r}, file=sys.stderr); sys.exit(1)")
    with pytest.raises(DockerUnavailable, match=r"the Docker engine is not running .*Cannot connect"):
        DockerCli(environ=env).check_engine()
