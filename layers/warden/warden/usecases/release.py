"""`warden release VERSION`: build, tag, log in, push, deploy, record, notify: the tutorial's manual steps as one
command (DESIGN §7).

Before anything is built it checks what would make the release fail half-way: the version is semver, the
service follows a tag of the app's repository, the repository exists (else the `aws ecr create-repository`
command to run), the version is not released yet (releases are immutable: a version names one image forever),
and every named build arg has a value. Then: `docker info` (is an engine running?), `docker build --platform
linux/amd64`, `docker tag` for `latest`, `docker login` with ECR's token on stdin, `docker push` of both tags,
the pushed digest read back from ECR, and the deployment (started when auto-deploy is off, remembered for after
the resume when the service is paused). The release is recorded in the deployment history (source `release`),
which the image purge keeps and `warden rollback` goes back through. The release's notification is worded from
the `Released` facts by messages/pipeline.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, SecretStr

from warden.domain.images import RepositoryNotFound, short_digest
from warden.domain.pipeline import (
    LATEST,
    PLATFORM,
    RELEASE_SOURCE,
    DeployDecision,
    ImmutableTag,
    PipelineError,
    Released,
    ReleasePlan,
    Tracked,
    VersionAlreadyReleased,
    choose_rollback_target,
    create_repository_command,
    decide_deployment,
    image_label,
    require_version,
    resolve_build_args,
    version_label,
)
from warden.domain.records import DeploymentRecord
from warden.messages.pipeline import release_done, release_plan_lines, release_summary
from warden.observability import count, logger
from warden.settings import Settings
from warden.usecases.converge import record_action
from warden.usecases.pipeline import Delivery, deliver, follow, require_repository
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
    previous_label: str | None  # None: the tag points at no image yet (a first release)
    deploy: DeployDecision  # as the service is now; decided again after the push
    build_args: dict[str, SecretStr]  # the values: passed to docker's environment, never printed or logged

    def lines(self) -> list[str]:
        return release_plan_lines(
            self.plan, service_name=self.service_name, tracked=self.tracked, previous=self.previous_label
        )


class ReleaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    released: Released
    delivery: Delivery
    notification_event: str | None = None

    @property
    def version(self) -> str:
        return self.released.version

    @property
    def digest(self) -> str:
        return self.released.digest

    @property
    def images(self) -> tuple[str, ...]:
        return self.released.images

    @property
    def summary(self) -> str:
        return release_summary(self.released)


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
        previous_label=version_label(previous, history) if previous else None,
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
    history = deps.state.list_deployments(arn, limit=20)
    released = Released(
        service_name=prepared.service_name,
        version=plan.version,
        repository=plan.repository,
        digest=digest,
        images=tuple(plan.images()),
        build_args=plan.build_args,
        tracked=prepared.tracked,
        previous=prepared.previous_label,
        delivery=delivery,
        rollback_to=history_targets(history, digest),
        actor=actor,
        console_url=deps.service.facts.console_url,
    )
    record_action(
        deps.state, arn, now=now, action="release", outcome="done", reason=release_summary(released), actor=actor
    )
    count("ActionsTaken")
    logger.info("released", extra={"version": plan.version, "digest": digest, "deploy": delivery.decision.action})
    notification = release_done(released)
    deps.notifier.publish(notification)
    count("NotificationsSent")
    return ReleaseResult(released=released, delivery=delivery, notification_event=notification.event)


def history_targets(history: Sequence[DeploymentRecord], digest: str) -> str | None:
    """The version `warden rollback` would go back to after this release, as a label."""
    target = choose_rollback_target(history, digest)
    return image_label(target.digest, target.tag) if target else None
