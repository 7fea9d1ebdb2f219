"""Docker adapter: the one place that runs the `docker` executable (for `warden release`).

Secrets never reach a command line:
- build-arg values go to docker through its *environment* with `--build-arg NAME` (no `=value`): docker reads
  the value from its environment itself, so `ps`, shell history and Warden's output see only names;
- the registry password goes to `docker login --password-stdin` on stdin.
As a second line of defence every known secret value is masked in whatever docker prints before Warden shows
it or puts it into an error.

Where no Docker engine exists (tests, CI, the demo) a recording `docker` executable first on `PATH` stands in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence

from warden.domain.images import RepositoryNotFound
from warden.domain.pipeline import (
    DockerFailed,
    DockerUnavailable,
    ImmutableTag,
    RegistryLoginFailed,
    build_command,
    info_command,
    login_command,
    push_command,
    tag_command,
)

# Runs a local program, not AWS: the template grants nothing for it (the CLI runs with the operator's rights).
IAM_ACTIONS: frozenset[str] = frozenset()
MASK = "********"
MIN_MASKED = 4
QUICK_SECONDS = 120  # info, tag, login
LONG_SECONDS = 3600  # build and push: a first push of a large image takes minutes
_KEPT_LINES = 15  # the tail of docker's output an error quotes

_NO_ENGINE = ("cannot connect to the docker daemon", "is the docker daemon running", "error during connect")
_NOT_LOGGED_IN = ("no basic auth credentials", "authorization token has expired", "401 unauthorized", "denied:")
_NO_REPOSITORY = ("name unknown", "repository with name", "does not exist")
_IMMUTABLE = ("tag invalid", "cannot be overwritten because the repository is immutable")


class DockerCli:
    def __init__(
        self,
        executable: str = "docker",
        *,
        environ: Mapping[str, str] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self._executable = executable
        self._environ = dict(os.environ if environ is None else environ)
        self._echo = echo  # shows docker's progress (masked) as it happens; None keeps it quiet
        self._secrets: set[str] = set()

    def check_engine(self) -> str:
        """The engine's server version; DockerUnavailable when docker is missing or its engine does not answer."""
        output = self._run(info_command(), step="docker info", timeout=QUICK_SECONDS, quiet=True, engine_check=True)
        return output.strip().splitlines()[-1] if output.strip() else "unknown version"

    def build(self, image: str, *, context: str, build_args: Mapping[str, str]) -> None:
        # Values too short to be secrets ("1", "on") are not masked: masking them would garble docker's output.
        self._secrets.update(value for value in build_args.values() if len(value) >= MIN_MASKED)
        argv = build_command(image, context=context, arg_names=list(build_args))
        self._run(argv, step="docker build", timeout=LONG_SECONDS, extra_env=build_args)

    def tag(self, source: str, target: str) -> None:
        self._run(tag_command(source, target), step="docker tag", timeout=QUICK_SECONDS)

    def login(self, registry: str, username: str, password: str) -> None:
        self._secrets.add(password)
        try:
            self._run(
                login_command(registry, username), step="docker login", timeout=QUICK_SECONDS, stdin=password + "\n"
            )
        except DockerFailed as failed:
            raise RegistryLoginFailed(
                f"docker login to {registry} failed ({failed}): check that your AWS credentials are current "
                "(aws sts get-caller-identity) and may call ecr:GetAuthorizationToken"
            ) from None

    def push(self, image: str) -> None:
        self._run(push_command(image), step="docker push", timeout=LONG_SECONDS)

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _run(
        self,
        argv: Sequence[str],
        *,
        step: str,
        timeout: float,
        stdin: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        quiet: bool = False,
        engine_check: bool = False,
    ) -> str:
        executable = shutil.which(self._executable, path=self._environ.get("PATH"))
        if executable is None:
            raise DockerUnavailable(
                f"no `{self._executable}` executable on PATH: install Docker (https://docs.docker.com/get-docker/) "
                "and start it, then run the release again"
            )
        environment = {**self._environ, **(extra_env or {})}
        tail: deque[str] = deque(maxlen=_KEPT_LINES)
        collected: list[str] = []
        try:
            process = subprocess.Popen(  # noqa: S603 - argv is built from names and image references, no shell
                [executable, *argv[1:]],
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=environment,
                text=True,
            )
        except OSError as error:
            raise DockerUnavailable(f"could not run {executable}: {error.strerror or error}") from None
        # Reading docker's output blocks until it exits: a timer kills a docker that hangs.
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            if stdin is not None and process.stdin is not None:
                process.stdin.write(stdin)
                process.stdin.close()
            assert process.stdout is not None
            for line in process.stdout:
                shown = self._mask(line.rstrip("\n"))
                tail.append(shown)
                collected.append(shown)
                if self._echo is not None and not quiet:
                    self._echo(shown)
            code = process.wait()
        finally:
            timed_out = timer.finished.is_set()  # set only once the timer has fired, until cancel() below
            timer.cancel()
        if timed_out:
            raise DockerFailed(f"{step} did not finish within {int(timeout)} seconds and was stopped")
        if code != 0:
            raise self._failure(step, argv, code, tail, engine_check)
        return "\n".join(collected)

    def _mask(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, MASK)
        return text

    def _failure(self, step: str, argv: Sequence[str], code: int, tail: Iterable[str], engine_check: bool) -> Exception:
        lines = [line for line in tail if line.strip()]
        said = lines[-1].strip() if lines else f"exit status {code}"
        text = " ".join(lines).lower()
        if engine_check or any(marker in text for marker in _NO_ENGINE):
            return DockerUnavailable(
                f"the Docker engine is not running ({step}: {said}): start Docker Desktop, or the docker "
                "service (sudo systemctl start docker), then run the release again"
            )
        if step == "docker push":
            image = argv[-1]
            if any(marker in text for marker in _NOT_LOGGED_IN):
                return RegistryLoginFailed(f"not logged in to the registry of {image} ({said})")
            if any(marker in text for marker in _IMMUTABLE):
                return ImmutableTag(
                    f"ECR refused to overwrite {image}: the repository's tags are immutable, so `latest` cannot "
                    "move (set its image tag mutability to MUTABLE, or IMMUTABLE_WITH_EXCLUSION excluding latest)"
                )
            if any(marker in text for marker in _NO_REPOSITORY):
                return RepositoryNotFound(f"ECR has no repository for {image} ({said})")
        return DockerFailed(f"{step} failed with exit status {code}: {said}")
