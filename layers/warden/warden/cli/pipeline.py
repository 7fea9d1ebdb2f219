"""`warden release VERSION` and `warden rollback [VERSION]`: the image pipeline, one command each way.

Neither waits for the deployment to finish: on_deployment reports its outcome (App Runner's operation events,
ECS's deployment state changes), so the terminal is free and the report reaches the whole team."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warden.cli.selection import add_service_option, chosen_settings
from warden.domain.pipeline import DockerUnavailable, parse_build_arg_names, parse_env_file
from warden.errors import SettingsError
from warden.observability import logger
from warden.settings import Settings
from warden.usecases.ports import DockerPort
from warden.usecases.release import ReleaseRequest, prepare_release, release

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
REPOSITORY_HELP = "overrides ECR_REPOSITORY and the service's warden:repository tag"

RELEASE = """\
Builds the app's image and ships it, replacing the tutorial's manual steps:

  docker build --platform linux/amd64 -t <repository URI>:VERSION [--build-arg NAME ...] CONTEXT
  docker tag <repository URI>:VERSION <repository URI>:latest
  docker login --username AWS --password-stdin <registry>     (ECR's token, on stdin)
  docker push <repository URI>:VERSION; docker push <repository URI>:latest

then starts the App Runner deployment when auto-deploy is off (when the service is paused: once it resumes),
and records the release (version, digest, time) in Warden's deployment history.

Build args are named, never given: RELEASE_BUILD_ARGS (comma-separated) and --build-arg NAME. Their values
come from the environment or the env file (--env-file, default CONTEXT/.env) and reach docker through its
environment, so they never appear on a command line or in Warden's output.

Checked before anything is built: VERSION is semver (v1.2.0 or 1.2.0), the repository (ECR_REPOSITORY) exists,
VERSION is not released yet (releases are immutable), the service follows a tag of that repository, every build
arg has a value, and a Docker engine is running. --plan shows all of it and the commands, and runs nothing.
"""

ROLLBACK = """\
Moves the tag the service follows (and latest) back to an earlier image and deploys it. Without VERSION the
target is the previous deployed version in Warden's deployment history (the newest one that is not what latest
points at now). The re-tag is ECR's batch-get-image (all four manifest media types) and put-image with the exact
manifest and media type, so a multi-platform OCI index stays an index. When auto-deploy is off Warden starts the
deployment; when the service is paused, the deployment waits for the resume (App Runner cannot deploy a paused
service) and Warden's reconcile starts it. --plan shows what would happen and changes nothing; DRY_RUN=true (or
--dry-run) records and reports what it would have done.

For an ECS service (arn:aws:ecs:...) nothing is re-tagged: the task definition pins the image, so the
rollback deploys an earlier task-definition revision (ecs update-service --task-definition). Without VERSION:
the previous revision of the service's family (the newest older than the one it runs). VERSION may be an image
tag (v1.1.0: the newest revision whose app image carries it), a revision number (12), family:12 or an ARN. A
paused service gets the revision now and runs it when it resumes.
"""


def register(subparsers: Any) -> None:
    ship = subparsers.add_parser(
        "release",
        help="build, push and deploy VERSION (docker build --platform linux/amd64, ECR, App Runner)",
        description=RELEASE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ship.add_argument("version", metavar="VERSION", help="semantic version, e.g. v1.2.0 (becomes the image tag)")
    ship.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this build arg (repeatable); its value comes from the environment or the env file",
    )
    ship.add_argument("--env-file", metavar="PATH", help="KEY=VALUE file with build-arg values (default CONTEXT/.env)")
    ship.add_argument("--context", default=".", metavar="DIR", help="docker build context (default .)")
    ship.add_argument("--plan", action="store_true", help="check everything and print the commands; run nothing")
    ship.add_argument("--repository", metavar="ECR_REPOSITORY", help=REPOSITORY_HELP)
    add_service_option(ship)
    ship.set_defaults(handler=_release)

    back = subparsers.add_parser(
        "rollback",
        help="move latest back to VERSION (default: the previous deployed version) and deploy it",
        description=ROLLBACK,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    back.add_argument(
        "version",
        nargs="?",
        metavar="VERSION",
        help="a tag (v1.1.0) or digest (sha256:...); on ECS also a revision (12, family:12)",
    )
    back.add_argument("--plan", action="store_true", help="print what would happen; change nothing")
    back.add_argument("--reason", help="why (recorded, and sent in the notification)")
    back.add_argument("--repository", metavar="ECR_REPOSITORY", help=REPOSITORY_HELP)
    add_service_option(back)
    back.set_defaults(handler=_rollback)


def _release(args: argparse.Namespace) -> int:
    logger.setLevel("WARNING")  # the use case's structured logs are for Lambda, not for a terminal
    settings = _settings(args)
    try:
        extra = parse_build_arg_names(",".join(args.build_arg))
    except ValueError as error:
        raise SettingsError(f"--build-arg: {error}") from None
    names = tuple(dict.fromkeys((*settings.release_build_args, *extra)))
    env_name, env_values = _env_file(args.env_file, Path(args.context))
    from warden.wiring import release_deps

    deps = release_deps(settings, progress=_step, echo=_docker_line)
    request = ReleaseRequest(version=args.version, context=args.context, build_arg_names=names, env_file_name=env_name)
    prepared = prepare_release(deps, settings, request, environ=os.environ, env_file=env_values)
    if args.plan or settings.dry_run:
        for line in prepared.lines():
            print(line)
        print("Commands:")
        for command in prepared.plan.commands():
            print(f"  {shlex.join(command)}")
        print(f"Deploy:      {prepared.deploy.reason}")
        print(f"Docker:      {_docker_check(deps.docker)}")
        why = "DRY_RUN is on" if settings.dry_run and not args.plan else "this is the plan"
        print(f"Nothing was built, pushed or deployed: {why}.")
        return 0
    result = release(deps, settings, prepared, now=datetime.now(UTC), actor=_who())
    print(f"Released  {result.version} = {result.digest}")
    for image in result.images:
        print(f"Pushed    {image}")
    print(f"Deploy    {result.delivery.line}")
    if result.notification_event:
        print(f"Notified  {result.notification_event} on {settings.notify_topic_arn}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    logger.setLevel("WARNING")
    if args.version and args.version.startswith("sha256:") and not _DIGEST.fullmatch(args.version):
        raise SettingsError(f"VERSION: '{args.version}' is no image digest (sha256: and 64 lowercase hex digits)")
    settings = _settings(args)
    from warden.wiring import rollback_deps

    # App Runner or ECS, as the service's ARN says (wiring picks the target; both plan, then run).
    prepared = rollback_deps(settings).prepare(settings, args.version)
    for line in prepared.lines():
        print(line)
    if args.plan:
        print("Nothing was changed: this is the plan (`warden rollback` without --plan does it).")
        return 0
    report = prepared.run(now=datetime.now(UTC), actor=_who(), reason=args.reason or "no reason given (--reason)")
    print(report.summary)
    if report.next_step:
        print(report.next_step)
    if report.notification_event:
        print(f"Notified  {report.notification_event} on {settings.notify_topic_arn}")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """The chosen service's settings; --repository wins over its warden:repository tag and ECR_REPOSITORY."""
    settings = chosen_settings(args)
    if args.repository:
        return settings.model_copy(update={"ecr_repository": args.repository})
    return settings


def _docker_check(docker: DockerPort) -> str:
    """The check `release` runs first, shown by the plan: the build needs a running engine."""
    try:
        return f"engine {docker.check_engine()} is running"
    except DockerUnavailable as error:
        return f"NOT READY: {error} (`warden release` stops here until an engine runs)"


def _env_file(path: str | None, context: Path) -> tuple[str | None, dict[str, str]]:
    """The build-arg values file: --env-file (which must exist), else CONTEXT/.env when there is one."""
    candidate = Path(path) if path else context / ".env"
    if not candidate.is_file():
        if path:
            raise SettingsError(f"--env-file: {path} is not a file")
        return None, {}
    try:
        return str(candidate), parse_env_file(candidate.read_text(encoding="utf-8"))
    except ValueError as error:
        raise SettingsError(f"{candidate}: {error}") from None
    except OSError as error:
        raise SettingsError(f"{candidate}: {error.strerror or error}") from None


def _step(line: str) -> None:
    print(f"- {line}", flush=True)


def _docker_line(line: str) -> None:
    print(f"  | {line}", file=sys.stderr, flush=True)


def _who() -> str:
    try:
        return os.environ.get("WARDEN_OPERATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"
