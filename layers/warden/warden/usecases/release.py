"""`warden release VERSION`: build, tag, log in, push, deploy, record, notify: the tutorial's manual steps as one
command (DESIGN §7).

Before anything is built it checks what would make the release fail half-way: the version is semver, the
service follows a tag of the app's repository, the repository exists (else the `aws ecr create-repository`
command to run), the version is not released yet (releases are immutable: a version names one image forever),
and every named build arg has a value. Then: `docker info` (is an engine running?), `docker build --platform
linux/amd64`, `docker tag` for `latest`, `docker login` with ECR's token on stdin, `docker push` of both tags,
the pushed digest read back from ECR, and the deployment (started when auto-deploy is off, remembered for after
the resume when the service is paused). The release is recorded in the deployment history (source `release`),
which the image purge keeps and `warden rollback` goes back through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, SecretStr

from warden.domain.images import RepositoryNotFound, short_digest
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import (
    LATEST,
    PLATFORM,
    RELEASE_SOURCE,
    DeployDecision,
    ImmutableTag,
    PipelineError,
    ReleasePlan,
    Tracked,
    VersionAlreadyReleased,
    choose_rollback_target,
    create_repository_command,
    decide_deployment,
    require_version,
    resolve_build_args,
    version_label,
)
from warden.domain.records import DeploymentRecord
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.pipeline import Delivery, deliver, follow, label, require_repository
from warden.usecases.ports import DockerPort, NotifierPort, PipelineRegistryPort, StatePort
from warden.usecases.target import Target


def _silent(line: str) -> None:
    return None


@dataclass(frozen=True)
class ReleaseDeps:
    service: Target
    registry: PipelineRegistryPort
    docker: DockerPort
    state: StatePort
    notifier: NotifierPort
    progress: Callable[[str], None] = _silent  # one line per step, for the operator's terminal


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    context: str = "."
    build_arg_names: tuple[str, ...] = ()  # RELEASE_BUILD_ARGS and --build-arg, names only
    env_file_name: str | None = None  # where values not in the environment come from (for messages)


class PreparedRelease(BaseModel):
    """A release that passed every check that needs no docker: `--plan` prints it."""

    model_config = ConfigDict(frozen=True)

    plan: ReleasePlan
    tracked: Tracked
    service_name: str
    previous_digest: str | None  # what the tracked tag points at before the release
    previous_label: str
    deploy: DeployDecision  # as the service is now; decided again after the push
    build_args: dict[str, SecretStr]  # the values: passed to docker's environment, never printed or logged

    def lines(self) -> list[str]:
        names = ", ".join(self.plan.build_args) or "none"
        return [
            f"Version:     {self.plan.version} of {self.plan.repository} ({self.plan.repository_uri})",
            f"Service:     {self.service_name} follows {self.tracked.identifier}, now {self.previous_label}",
            f"Build args:  {names} (values from the environment or the env file, never shown)",
            f"Platform:    {PLATFORM} (App Runner runs x86_64)",
        ]


class ReleaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    digest: str
    images: tuple[str, ...]
    delivery: Delivery
    summary: str
    notification_event: str | None = None


def prepare_release(
    deps: ReleaseDeps,
    settings: Settings,
    request: ReleaseRequest,
    *,
    environ: Mapping[str, str],
    env_file: Mapping[str, str],
) -> PreparedRelease:
    """Every check that needs no docker, in the order that fails fastest. Changes nothing."""
    version = require_version(request.version)
    repository = require_repository(settings, "warden release")
    snapshot = deps.service.describe(settings.service.arn)
    tracked = follow(snapshot, settings, repository)
    try:
        info = deps.registry.repository(repository)
    except RepositoryNotFound:
        raise RepositoryNotFound(
            f"ECR repository {repository!r} does not exist: create it with "
            f"`{create_repository_command(repository, settings.service.region)}`, then release again"
        ) from None
    if info.tag_mutability == "IMMUTABLE":
        raise ImmutableTag(
            f"ECR repository {repository!r} has IMMUTABLE tags, so `{LATEST}` cannot move to a new release: "
            f"aws ecr put-image-tag-mutability --repository-name {repository} --image-tag-mutability MUTABLE "
            "(versions stay immutable: Warden never releases a version twice)"
        )
    existing = deps.registry.resolve_tag(repository, version)
    if existing is not None:
        raise VersionAlreadyReleased(
            f"{version} is already released ({short_digest(existing)} in {repository}): releases are immutable, "
            f"so bump the version, or deploy that release again with `warden rollback {version}`"
        )
    values = resolve_build_args(request.build_arg_names, environ, env_file, request.env_file_name)
    history = deps.state.list_deployments(settings.service.arn, limit=20)
    previous = deps.registry.resolve_tag(repository, tracked.tag)
    extra = tuple(tag for tag in tracked.tags_to_move if tag != version)
    plan = ReleasePlan(
        version=version,
        repository=repository,
        repository_uri=info.uri,
        context=request.context,
        build_args=request.build_arg_names,
        tags=extra,
    )
    return PreparedRelease(
        plan=plan,
        tracked=tracked,
        service_name=snapshot.name,
        previous_digest=previous,
        previous_label=version_label(previous, history) if previous else "no image yet (a first release)",
        deploy=decide_deployment(snapshot.status, snapshot.auto_deploy),
        build_args={name: SecretStr(value) for name, value in values.items()},
    )


def release(
    deps: ReleaseDeps, settings: Settings, prepared: PreparedRelease, *, now: datetime, actor: str
) -> ReleaseResult:
    """Builds, pushes, deploys, records and notifies. Each docker step raises a PipelineError saying what to do."""
    plan = prepared.plan
    arn = settings.service.arn
    step = deps.progress
    step(f"docker engine {deps.docker.check_engine()} is running")
    step(f"building {plan.image} for {PLATFORM}")
    values = {name: secret.get_secret_value() for name, secret in prepared.build_args.items()}
    deps.docker.build(plan.image, context=plan.context, build_args=values)
    for target in plan.images()[1:]:
        deps.docker.tag(plan.image, target)
        step(f"tagged {target}")
    login = deps.registry.login()
    deps.docker.login(plan.registry, login.username, login.password.get_secret_value())
    step(f"logged in to {plan.registry} (ECR token on stdin)")
    for image in plan.images():
        step(f"pushing {image}")
        deps.docker.push(image)
    digest = deps.registry.resolve_tag(plan.repository, plan.version)
    if digest is None:
        raise PipelineError(
            f"docker push reported success, but ECR shows no image tagged {plan.version} in {plan.repository}: "
            "check the registry docker pushed to"
        )
    step(f"ECR has {plan.version} as {digest}")
    delivery = deliver(
        deps.service,
        deps.state,
        arn,
        prepared.tracked,
        from_digest=prepared.previous_digest,
        to_digest=digest,
        now=now,
    )
    deps.state.record_deployment(arn, digest, plan.version, now, RELEASE_SOURCE)
    summary = f"Released {plan.version} ({short_digest(digest)}): pushed {', '.join(plan.images())}. {delivery.line}"
    record_action(deps.state, arn, now=now, action="release", outcome="done", reason=summary, actor=actor)
    count("ActionsTaken")
    logger.info("released", extra={"version": plan.version, "digest": digest, "deploy": delivery.decision.action})
    history = deps.state.list_deployments(arn, limit=20)
    notification = _notification(
        prepared, deps.service.facts.console_url, digest, delivery, actor, history_targets(history, digest)
    )
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return ReleaseResult(
        version=plan.version,
        digest=digest,
        images=tuple(plan.images()),
        delivery=delivery,
        summary=summary,
        notification_event=notification.event,
    )


def history_targets(history: Sequence[DeploymentRecord], digest: str) -> str | None:
    """The version `warden rollback` would go back to after this release, as a label."""
    target = choose_rollback_target(history, digest)
    return label(target.digest, target.tag) if target else None


def _notification(
    prepared: PreparedRelease,
    console_url: str,
    digest: str,
    delivery: Delivery,
    actor: str,
    rollback_to: str | None,
) -> Notification:
    plan = prepared.plan
    name = prepared.service_name
    names = ", ".join(plan.build_args)
    built = f"docker build --platform {PLATFORM}" + (f" with build args {names} (values not shown)" if names else "")
    undo = (
        [f"warden rollback   (moves {' and '.join(prepared.tracked.tags_to_move)} back to {rollback_to} and deploys)"]
        if rollback_to
        else ["warden rollback VERSION   (no earlier deployment is on record: name the version to go back to)"]
    )
    next_steps = (
        ["The service runs the previous version until the deployment starts: resume it (warden resume)."]
        if delivery.decision.pending
        else ["on_deployment reports how the deployment went."]
    )
    body = render(
        [
            (
                "What happened",
                [
                    f"{actor} released {plan.version} of {plan.repository}.",
                    f"Built with {built}; pushed {', '.join(plan.images())}.",
                    f"Digest: {digest}. Before the release {prepared.tracked.tag} was {prepared.previous_label}.",
                ],
            ),
            ("What Warden did", [delivery.line, "Recorded the release in the deployment history."]),
            ("What happens next", next_steps),
            ("How to undo", undo),
            ("Links", [f"Service: {console_url}"]),
        ],
        headline=f"{name}: {plan.version} released ({short_digest(digest)}).",
    )
    return Notification(
        subject=f"[warden] RELEASED {name} {plan.version}",
        body=body,
        event="release.done",
        severity=Severity.WARNING if delivery.decision.pending else Severity.INFO,
    )
