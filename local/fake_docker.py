"""A recording stand-in for the `docker` executable, for the tests and the demo (no Docker engine exists there).

`install(directory)` writes an executable named `docker` into `directory`; put that directory first on `PATH`
and `warden release` runs it exactly as it would run the real one. Every call appends one JSON line to the
log: the arguments, what came on stdin, and the values of the build args it found in its environment (so a
test can check that a secret reached docker through the environment and nowhere else).

It answers the commands Warden uses the way docker does, including docker's own error messages:
- `info --format {{.ServerVersion}}`: a version, or "Cannot connect to the Docker daemon" with
  FAKE_DOCKER_MODE=no-engine;
- `build --platform P -t REF [--build-arg NAME ...] CONTEXT`: needs CONTEXT/Dockerfile; remembers a new image
  (a Docker v2 manifest with a layer unique to this build) under REF;
- `tag SRC DST`, `login --username U --password-stdin REGISTRY` (401 with FAKE_DOCKER_MODE=login-fails);
- `push REF`: needs a login to REF's registry, then puts the manifest into ECR under REF's tag through the
  ECR API at AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL (moto's server: one plain JSON request, as moto checks
  no signature, so a push costs no boto3 start-up): after a push the image exists in ECR, as after a real
  one. ECR's refusals come back as docker prints them ("name unknown", "tag invalid").
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # not local.template: each docker call should start fast
LOG_NAME = "docker-calls.jsonl"
STATE_NAME = "docker-state.json"
NO_DAEMON = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


def install(directory: Path) -> Path:
    """Writes `directory/docker` (recording into `directory`); returns the log's path."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "docker"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from local.fake_docker import main\n"
        f"sys.exit(main(sys.argv[1:], {str(directory)!r}))\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory / LOG_NAME


def calls(log: Path) -> list[dict[str, Any]]:
    """The recorded calls, oldest first."""
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str], directory: str) -> int:
    home = Path(directory)
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    entry: dict[str, Any] = {"argv": ["docker", *argv], "stdin": stdin}
    names = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--build-arg"]
    if names:
        entry["build_arg_env"] = {name: os.environ.get(name) for name in names}
    with (home / LOG_NAME).open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    state_path = home / STATE_NAME
    state: dict[str, Any] = (
        json.loads(state_path.read_text(encoding="utf-8")) if state_path.is_file() else {"images": {}, "logins": []}
    )
    mode = os.environ.get("FAKE_DOCKER_MODE", "")
    command = argv[0] if argv else ""
    if mode == "no-engine" and command != "--version":
        print(NO_DAEMON, file=sys.stderr)
        return 1
    code = _answer(command, argv[1:], stdin, state, mode)
    state_path.write_text(json.dumps(state), encoding="utf-8")
    return code


def _answer(command: str, args: list[str], stdin: str, state: dict[str, Any], mode: str) -> int:
    if command == "info":
        print("27.3.1-recording")
        return 0
    if command == "build":
        return _build(args, state)
    if command == "tag":
        source, target = args[-2], args[-1]
        if source not in state["images"]:
            print(f"Error response from daemon: No such image: {source}", file=sys.stderr)
            return 1
        state["images"][target] = state["images"][source]
        return 0
    if command == "login":
        registry = args[-1]
        if mode == "login-fails" or not stdin.strip():
            print(
                f"Error response from daemon: login attempt to https://{registry}/v2/ failed with status: "
                "401 Unauthorized",
                file=sys.stderr,
            )
            return 1
        state["logins"] = sorted({*state["logins"], registry})
        print("Login Succeeded")
        return 0
    if command == "push":
        return _push(args[-1], state)
    print(f"docker: '{command}' is not a docker command (the recording docker knows info, build, tag, login, push)")
    return 1


def _build(args: list[str], state: dict[str, Any]) -> int:
    reference = args[args.index("-t") + 1]
    context = Path(args[-1])
    if not (context / "Dockerfile").is_file():
        print(
            "ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory",
            file=sys.stderr,
        )
        return 1
    unique = hashlib.sha256(f"{reference}:{time.time_ns()}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1469,
            "digest": f"sha256:{hashlib.sha256(('config' + unique).encode()).hexdigest()}",
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 31_000_000,
                "digest": f"sha256:{unique}",
            }
        ],
    }
    state["images"][reference] = json.dumps(manifest)
    print("#1 [internal] load build definition from Dockerfile")
    print(f"#9 naming to {reference} done")
    return 0


def _push(reference: str, state: dict[str, Any]) -> int:
    registry, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    manifest = state["images"].get(reference)
    if manifest is None:
        print(f"An image does not exist locally with the tag: {reference}", file=sys.stderr)
        return 1
    print(f"The push refers to repository [{registry}/{repository}]")
    if registry not in state["logins"]:
        print("no basic auth credentials", file=sys.stderr)
        return 1
    region = registry.split(".")[3] if registry.count(".") >= 4 else _region()
    code, answer = _put_image(repository, tag, manifest, region)
    if code == "RepositoryNotFoundException":
        print(
            f"name unknown: The repository with name '{repository}' does not exist in the registry with id "
            f"'{registry.split('.')[0]}'",
            file=sys.stderr,
        )
        return 1
    if code == "ImageTagAlreadyExistsException":
        print(
            f"tag invalid: The image tag '{tag}' already exists in the '{repository}' repository and cannot be "
            "overwritten because the repository is immutable.",
            file=sys.stderr,
        )
        return 1
    if code == "ImageAlreadyExistsException":
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    elif code:
        print(f"unknown: {code}: {answer.get('message', '')}", file=sys.stderr)
        return 1
    else:
        digest = answer["image"]["imageId"]["imageDigest"]
    print(f"{tag}: digest: {digest} size: {len(manifest)}")
    return 0


def _put_image(repository: str, tag: str, manifest: str, region: str) -> tuple[str, dict[str, Any]]:
    """ECR PutImage as one JSON request to the local endpoint: (error code or "", answer)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_ECR") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("the recording docker pushes only to a local ECR (set AWS_ENDPOINT_URL)", file=sys.stderr)
        return "NoLocalEndpoint", {}
    body = json.dumps(
        {
            "repositoryName": repository,
            "imageManifest": manifest,
            "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "imageTag": tag,
        }
    ).encode()
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.PutImage",
            # moto reads the region from the credential scope; it checks no signature.
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ecr/aws4_request",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return "", json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read() or b"{}")
        return str(answer.get("__type", error.code)).rsplit("#", 1)[-1], answer


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
