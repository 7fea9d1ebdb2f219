"""The image pipeline's decisions: what a release runs, where a rollback goes, whether an automatic rollback may
run (one decision over the deployment a target judges), and how a moved tag reaches the service (DESIGN §7); on
ECS, which task-definition revision a rollback deploys.

Pure: no SDK, no subprocess; `now` is a parameter and every decision carries a reason a person can read. The
docker command lines are built here too, so that `warden release --plan` prints exactly what the docker
adapter runs. What a release, a rollback or a deployment came to is a typed value here too (`Released`,
`RolledBack`, `DeploymentEnded`): the use cases return them, and messages/pipeline.py words them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, SecretStr

from warden.domain.deployments import DeploymentEvent, DeploymentReport, EcsDeployment
from warden.domain.images import (
    ACCEPTED_MEDIA_TYPES,
    ImageReference,
    parse_image_identifier,
    parse_semver,
    short_digest,
)
from warden.domain.records import DeploymentRecord
from warden.domain.service import ServiceStatus
from warden.errors import WardenError

# Who recorded a deployment (DeploymentRecord.source): the history tells releases, rollbacks and the rest apart.
RELEASE_SOURCE = "release"
ROLLBACK_SOURCE = "rollback"
OBSERVED_SOURCE = "observed by on_deployment"
LATEST = "latest"
# App Runner runs x86_64. An image built on Apple Silicon without this is arm64 and fails to start with
# "exec format error" (the seed tutorial's warning).
PLATFORM = "linux/amd64"
REGISTRY_USER = "AWS"  # ECR's authorization token is "AWS:<password>"
AUTO_ROLLBACK_OFF = "automatic rollback is off (AUTO_ROLLBACK=false, stack parameter AutoRollback)"
ACCEPTED_MEDIA_TYPES_TEXT = ", ".join(ACCEPTED_MEDIA_TYPES)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PipelineError(WardenError):
    """A release or rollback cannot go on; the message is one line saying why and what to do."""


class InvalidVersion(PipelineError):
    pass


class DockerUnavailable(PipelineError):
    """No docker executable, or no engine answering it."""


class DockerFailed(PipelineError):
    """A docker command failed for a reason Warden does not recognise; the message carries docker's last words."""


class RegistryLoginFailed(PipelineError):
    """ECR refused the login, or a push found the client not logged in."""


class VersionAlreadyReleased(PipelineError):
    """The version's tag exists in ECR: releases are immutable."""


class ImmutableTag(PipelineError):
    """The repository refuses to move a tag (image tag mutability IMMUTABLE)."""


class UntrackedService(PipelineError):
    """The service does not follow a tag of the app's repository, so moving a tag cannot deploy anything."""


class NoRollbackTarget(PipelineError):
    pass


class MissingBuildArg(PipelineError):
    pass


def require_version(text: str) -> str:
    """The version as given (`v1.2.0` or `1.2.0`, with an optional `-rc.1`), or InvalidVersion saying why."""
    version = text.strip()
    if parse_semver(version) is None:
        raise InvalidVersion(
            f"{text!r} is not a semantic version: use MAJOR.MINOR.PATCH such as v1.2.0 or 1.2.0 (optionally -rc.1)"
        )
    return version


def parse_build_arg_names(raw: str) -> tuple[str, ...]:
    """`RELEASE_BUILD_ARGS`: a comma-separated list of build-arg names (values never go in settings)."""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    for name in names:
        if "=" in name:
            raise ValueError(
                f"list names only, not values ({name.split('=', 1)[0]}=...): values come from the environment or .env"
            )
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a build-arg name (letters, digits and _, not starting with a digit)")
    return tuple(dict.fromkeys(names))


def parse_env_file(text: str) -> dict[str, str]:
    """A `.env` file: `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments, single or double quotes.

    Errors name the line number only, never its content (it may hold a secret).
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not _NAME.match(key):
            raise ValueError(f"line {number} is not KEY=VALUE")
        values[key] = _env_value(value.strip(), number)
    return values


def _env_value(value: str, number: int) -> str:
    if value[:1] in {"'", '"'}:
        quote = value[0]
        end = value.find(quote, 1)
        while quote == '"' and end > 0 and value[end - 1] == "\\":
            end = value.find(quote, end + 1)
        if end < 0:
            raise ValueError(f"line {number} has an unclosed {quote} quote")
        inner = value[1:end]
        rest = value[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise ValueError(f"line {number} has text after its closing quote")
        if quote == '"':
            inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        return inner
    # Unquoted: an inline comment starts at " #".
    comment = value.find(" #")
    return (value[:comment] if comment >= 0 else value).strip()


def resolve_build_args(
    names: Sequence[str], environ: Mapping[str, str], env_file: Mapping[str, str], env_file_name: str | None
) -> dict[str, str]:
    """Each named build arg's value: the environment first, then the env file. A missing one is an error that
    names it (and where Warden looked), never a value."""
    values: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        if name in environ:
            values[name] = environ[name]
        elif name in env_file:
            values[name] = env_file[name]
        else:
            missing.append(name)
    if missing:
        where = f"the environment or {env_file_name}" if env_file_name else "the environment (no .env file was found)"
        raise MissingBuildArg(f"build arg {', '.join(missing)} has no value: set it in {where}")
    return values


class Tracked(BaseModel):
    """The tag the service follows in the app's repository: moving it (and deploying) changes what runs."""

    model_config = ConfigDict(frozen=True)

    identifier: str
    registry: str
    repository: str
    tag: str

    @property
    def tags_to_move(self) -> tuple[str, ...]:
        """`latest` always (the tutorial's convention), and the service's own tag when it follows another."""
        return tuple(dict.fromkeys((self.tag, LATEST)))


_POINT_AT_LATEST = (
    "aws apprunner update-service on App Runner; on ECS, a task-definition revision whose image is <repository>:latest"
)


def tracked_tag(identifier: str | None, *, account_id: str, region: str, repository: str) -> Tracked:
    """What the service follows, or UntrackedService saying why a release or rollback could not reach it."""
    if not identifier:
        raise UntrackedService("the service does not run an image repository (no ImageIdentifier)")
    try:
        reference: ImageReference = parse_image_identifier(identifier)
    except ValueError as error:
        raise UntrackedService(f"App Runner's ImageIdentifier could not be read ({error})") from None
    if not reference.is_in(account_id, region, repository):
        raise UntrackedService(
            f"the service runs {identifier}, which is not in ECR_REPOSITORY {repository!r} of this account and "
            f"region: point ECR_REPOSITORY at the service's repository"
        )
    if reference.digest or not reference.tag:
        raise UntrackedService(
            f"the service runs the pinned digest {identifier}: a release or rollback moves a tag, which a pinned "
            f"digest does not follow. Point the service at a tag (`latest`) first: {_POINT_AT_LATEST}"
        )
    if parse_semver(reference.tag) is not None:
        raise UntrackedService(
            f"the service is pinned to the version tag {reference.tag} ({identifier}): a release or rollback moves "
            f"`latest`, and versions never move. Point the service at `latest` first: {_POINT_AT_LATEST}"
        )
    return Tracked(identifier=identifier, registry=reference.registry, repository=repository, tag=reference.tag)


# --- how a moved tag reaches App Runner ------------------------------------------------------------------


class DeployAction(StrEnum):
    START = "start"  # Warden calls StartDeployment
    AUTOMATIC = "automatic"  # App Runner deploys the moved tag by itself (auto-deploy on)
    AFTER_RESUME = "after_resume"  # paused: the deployment waits for the resume (PENDING_DEPLOY memo)
    DEFERRED = "deferred"  # busy: the reconcile starts it once the service is RUNNING (PENDING_DEPLOY memo)
    UNAVAILABLE = "unavailable"  # the service cannot be deployed at all (failed or deleted)


class DeployDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: DeployAction
    reason: str

    @property
    def pending(self) -> bool:
        """The deployment is remembered (the PENDING_DEPLOY memo) and started later by the reconcile."""
        return self.action in {DeployAction.AFTER_RESUME, DeployAction.DEFERRED}


def decide_deployment(status: ServiceStatus, auto_deploy: bool | None) -> DeployDecision:
    """How a tag just moved in ECR gets deployed (AWS-FACTS §4.4, §5.3)."""
    match status:
        case ServiceStatus.PAUSED:
            return DeployDecision(
                action=DeployAction.AFTER_RESUME,
                reason="the service is PAUSED: App Runner cannot deploy a paused service, and a resume redeploys "
                "the version from before the pause, so Warden deploys once the service runs again",
            )
        case ServiceStatus.OPERATION_IN_PROGRESS:
            return DeployDecision(
                action=DeployAction.DEFERRED,
                reason="App Runner is busy (OPERATION_IN_PROGRESS), so Warden deploys once the service is RUNNING",
            )
        case ServiceStatus.RUNNING if auto_deploy:
            return DeployDecision(
                action=DeployAction.AUTOMATIC,
                reason="automatic deployments are on: App Runner deploys the moved tag by itself",
            )
        case ServiceStatus.RUNNING:
            return DeployDecision(
                action=DeployAction.START,
                reason="automatic deployments are off, so Warden starts the deployment",
            )
        case ServiceStatus.CREATE_FAILED | ServiceStatus.DELETE_FAILED | ServiceStatus.DELETED:
            return DeployDecision(
                action=DeployAction.UNAVAILABLE,
                reason=f"the service is {status.value}: nothing can be deployed to it",
            )


def defer_after_refusal(platform: str, refusal: str) -> DeployDecision:
    """The platform refused the deployment between Warden's look at the service and its call (another operation
    started meanwhile): Warden deploys once the service settles."""
    return DeployDecision(
        action=DeployAction.DEFERRED,
        reason=f"{platform} refused the deployment just now ({refusal}), so Warden deploys once the service is "
        "RUNNING again",
    )


class Delivered(BaseModel):
    """How a moved tag reached the service: the decision, the deployment started, or the memo that remembers it."""

    model_config = ConfigDict(frozen=True)

    decision: DeployDecision
    operation_id: str | None = None
    remembered: str | None = None
    """The memo the pending deployment waits in (PENDING_DEPLOY), when it waits."""


# --- rollback ---------------------------------------------------------------------------------------------


class RollbackTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    digest: str
    tag: str | None = None
    deployed_at: datetime | None = None
    source: str | None = None

    @property
    def label(self) -> str:
        return f"{self.tag} ({short_digest(self.digest)})" if self.tag else short_digest(self.digest)


def choose_rollback_target(history: Sequence[DeploymentRecord], current_digest: str | None) -> RollbackTarget | None:
    """The previous deployed version: the newest deployment whose image is not the one `latest` points at now,
    and not one that a rollback moved away from (the deployment just before a rollback is the bad one).

    Without a current digest (the tag points at nothing), the newest deployment counts as the current one.
    """
    skip = current_digest or (history[0].digest if history else None)
    rolled_back = {
        older.digest
        for newer, older in pairwise(history)
        if newer.source == ROLLBACK_SOURCE and older.digest != newer.digest
    }
    for record in history:
        if record.digest != skip and record.digest not in rolled_back:
            return RollbackTarget(digest=record.digest, tag=record.tag, deployed_at=record.at, source=record.source)
    return None


def tag_of(digest: str | None, history: Sequence[DeploymentRecord]) -> str | None:
    """The version tag the history recorded for this digest, if any."""
    return next((record.tag for record in history if digest and record.digest == digest and record.tag), None)


def version_label(digest: str | None, history: Sequence[DeploymentRecord]) -> str:
    """`v1.2.0 (sha256:1a2b...)` when the history knows the digest's tag, else the short digest."""
    if not digest:
        return "an unknown image"
    tag = tag_of(digest, history)
    return f"{tag} ({short_digest(digest)})" if tag else short_digest(digest)


def image_label(digest: str | None, tag: str | None) -> str:
    """`v1.2.0 (sha256:1a2b...)`, or the short digest of an image without a tag."""
    if not digest:
        return "no image"
    return f"{tag} ({short_digest(digest)})" if tag else short_digest(digest)


class RollbackTrigger(StrEnum):
    FAILED_DEPLOYMENT = "failed deployment"
    ALARM = "alarm"


class AutoRollbackDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str
    # What the bad deployment deployed, as the deployment history records it: an image digest, or on ECS the
    # task-definition ARN. A rollback goes back from it.
    bad_digest: str | None = None
    attempt_key: str | None = None  # one attempt per bad deployment, ever (a conditional write in the state)


class JudgedDeployment(BaseModel):
    """The deployment an automatic rollback would undo, as the guarded service's target knows it: the failed one,
    or for an alarm the one that runs now. `judge_recorded` and `judge_listed` read it from what Warden recorded
    or from what the platform lists."""

    model_config = ConfigDict(frozen=True)

    deployed: str | None = None
    """What it deployed, as the deployment history records it (an image digest, a task-definition ARN); None when
    the target cannot tell (then `unknown` says why)."""
    unknown: str = ""
    label: str = ""
    """The deployment in a few words: "v1.2.0", "consultation-app:3"."""
    deployed_at: datetime | None = None
    by_rollback: bool = False
    """Warden's own rollback deployed it: never rolled back, so that a bad rollback cannot loop."""
    refused: str = ""
    """The platform's reason not to roll back, if any (it rolls back by itself; the service moved on since)."""
    failure: str = ""
    """Why a failed deployment may be rolled back, when the label and time do not say it all."""
    attempt_key: str = ""
    """Names the deployment, so that every trigger for it finds the one attempt."""


def decide_auto_rollback(
    trigger: RollbackTrigger,
    *,
    enabled: bool,
    judged: JudgedDeployment,
    now: datetime,
    window: timedelta,
) -> AutoRollbackDecision:
    """May Warden roll back on its own? Once per bad deployment, never a rollback, never against the platform's
    own reason, an alarm only soon after a deployment."""
    if not enabled:
        return AutoRollbackDecision(allowed=False, reason=AUTO_ROLLBACK_OFF)
    if judged.deployed is None:
        return AutoRollbackDecision(
            allowed=False, reason=judged.unknown or "Warden cannot tell which deployment to roll back"
        )
    if judged.refused:
        return AutoRollbackDecision(allowed=False, reason=judged.refused)
    at = f" at {judged.deployed_at:%Y-%m-%d %H:%M} UTC" if judged.deployed_at is not None else ""
    deployed = f"{judged.label}{at}"
    if judged.by_rollback:
        return AutoRollbackDecision(
            allowed=False,
            reason=f"the last deployment ({deployed}) was itself a rollback: Warden never rolls back a rollback, "
            "so a bad rollback cannot loop",
        )
    if trigger is RollbackTrigger.ALARM:
        if judged.deployed_at is None:
            return AutoRollbackDecision(
                allowed=False, reason=f"nothing says when {judged.label} was deployed, so Warden cannot blame it"
            )
        age = now - judged.deployed_at
        minutes = int(window.total_seconds() // 60)
        if age > window:
            return AutoRollbackDecision(
                allowed=False,
                reason=f"the last deployment ({deployed}) was {_minutes(age)} ago, outside the {minutes}-minute "
                "rollback window (ROLLBACK_WINDOW_MINUTES): an alarm that late is not blamed on the release",
            )
        reason = f"the alarm came {_minutes(age)} after the deployment of {deployed}, within {minutes} minutes"
    else:
        reason = judged.failure or f"the deployment of {deployed} failed"
    return AutoRollbackDecision(
        allowed=True, reason=reason, bad_digest=judged.deployed, attempt_key=judged.attempt_key or None
    )


def judge_recorded(
    trigger: RollbackTrigger, history: Sequence[DeploymentRecord], current_digest: str | None
) -> JudgedDeployment:
    """The deployment to blame, from Warden's deployment history (newest first), for a service that follows a tag:
    the newest on record, or, for a failed deployment of an image the history does not know (`current_digest`, what
    the tracked tag points at now: the image that failed), that image."""
    if not history:
        return JudgedDeployment(
            unknown="Warden has no deployment on record, so it cannot tell which version came before this one"
        )
    newest = history[0]
    if trigger is RollbackTrigger.ALARM or current_digest in (None, newest.digest):
        return JudgedDeployment(
            deployed=newest.digest,
            label=newest.tag or short_digest(newest.digest),
            deployed_at=newest.at,
            by_rollback=newest.source == ROLLBACK_SOURCE,
            attempt_key=f"rollback#{newest.digest}#{newest.at.isoformat()}",
        )
    unrecorded = current_digest or ""
    return JudgedDeployment(
        deployed=unrecorded,
        label=short_digest(unrecorded),
        failure=f"the deployment of {short_digest(unrecorded)} (not released through Warden) failed",
        attempt_key=f"rollback#{unrecorded}#unrecorded",
    )


class Redeployed(BaseModel):
    """What a rollback did to the service, whichever way it went back: in words, what the deployment history
    records, and what happens next."""

    model_config = ConfigDict(frozen=True)

    summary: str
    """ "Rolled web back to v1.1.0 (sha256:1a2b...). Moved latest ... Started deployment ..."."""
    deployed: str
    """What the deployment history records (an image digest, a task-definition ARN)."""
    version: str | None = None
    next_steps: tuple[str, ...] = ()
    waits: str | None = None
    """The service is paused and the rollback takes effect when it resumes: what happens then ("the rollback
    deploys", "ECS runs consultation-app:2"); None otherwise."""
    detail: dict[str, str] = {}
    """For the log: the calls made."""


class RetagPlan(BaseModel):
    """What moving the tag the service follows back to an earlier image would do; `warden rollback --plan` prints
    it and changes nothing."""

    model_config = ConfigDict(frozen=True)

    repository: str
    service_name: str
    service_status: str
    tracked: Tracked
    current_digest: str | None
    current_tag: str | None  # the version the history recorded for the current digest
    current_label: str
    target: RollbackTarget
    deploy: DeployDecision
    named: bool = False
    """The operator named the target; otherwise it is the previous deployed version in the history."""

    @property
    def target_label(self) -> str:
        return image_label(self.target.digest, self.target.tag)


def _minutes(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


# --- rollback on ECS: task-definition revisions -----------------------------------------------------------
# An ECS service runs a task definition, and the task definition pins the image: a rollback deploys an earlier
# revision of the family (UpdateService), and no tag moves in ECR.

_TASK_DEFINITION = re.compile(
    r"^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>\d+)$"
)


class TaskRevision(BaseModel):
    """One task-definition revision, with the image of the app's container (the one a version names)."""

    model_config = ConfigDict(frozen=True)

    arn: str
    family: str
    revision: int
    image: str | None = None

    @property
    def name(self) -> str:
        """`consultation-app:12`: what `warden rollback` and `aws ecs update-service` accept."""
        return f"{self.family}:{self.revision}"

    @property
    def version(self) -> str | None:
        """The image's tag (`v1.2.0`), or its short digest when the task definition pins one."""
        return image_version(self.image)

    @property
    def label(self) -> str:
        """`consultation-app:12 (v1.2.0)`."""
        return f"{self.name} ({self.version})" if self.version else self.name

    @property
    def short(self) -> str:
        """For a subject line: the image's tag, else `consultation-app:12`."""
        version = self.version
        return version if version and not version.startswith("sha256:") else self.name


def parse_task_definition(text: str) -> tuple[str, int] | None:
    """(family, revision) of `family:12` or a task-definition ARN; None for anything else."""
    match = _TASK_DEFINITION.match(text.strip())
    return (match["family"], int(match["revision"])) if match else None


def image_version(image: str | None) -> str | None:
    """The tag of an image reference (`...:v1.2.0` -> `v1.2.0`), or the short digest of a pinned one."""
    if not image:
        return None
    reference = image.rsplit("/", 1)[-1]
    if "@" in reference:
        return short_digest(reference.split("@", 1)[1])
    name, colon, tag = reference.rpartition(":")
    return tag if colon and name else None


def image_digest(image: str | None) -> str | None:
    if image and "@" in image:
        return image.rsplit("@", 1)[1]
    return None


def app_image(images: Sequence[str], repository: str | None) -> str | None:
    """The app's container image: the first one from the app's repository (sidecars come from elsewhere), else
    the first container's."""
    if repository:
        for image in images:
            path = image.split("@", 1)[0]
            if path.rsplit(":", 1)[0].endswith(f"/{repository}") and "/" in path:
                return image
    return images[0] if images else None


def previous_revision(current: TaskRevision, revisions: Sequence[str]) -> str | None:
    """The newest revision of the current family older than the current one (ListTaskDefinitions' ARNs)."""
    older = [
        (parsed[1], arn)
        for arn in revisions
        if (parsed := parse_task_definition(arn)) is not None
        and parsed[0] == current.family
        and parsed[1] < current.revision
    ]
    return max(older)[1] if older else None


def sorted_revisions(family: str, revisions: Sequence[str]) -> list[str]:
    """The family's revisions, newest first (ListTaskDefinitions' familyPrefix also matches longer families)."""
    own = [(parsed[1], arn) for arn in revisions if (parsed := parse_task_definition(arn)) and parsed[0] == family]
    return [arn for _, arn in sorted(own, reverse=True)]


class RevisionQuery(BaseModel):
    """What `warden rollback NAME` asks for on ECS: an exact revision, or the newest one running a version."""

    model_config = ConfigDict(frozen=True)

    task_definition: str | None = None  # `family:12` or an ARN
    version: str | None = None  # an image tag such as v1.2.0


def parse_revision_query(name: str, family: str) -> RevisionQuery:
    """`12` is revision 12 of the service's family, `family:12` and ARNs name a revision, anything else is a
    version (an image tag)."""
    text = name.strip()
    if text.isdigit():
        return RevisionQuery(task_definition=f"{family}:{int(text)}")
    if parse_task_definition(text) is not None:
        return RevisionQuery(task_definition=text)
    return RevisionQuery(version=text)


def moving_tag(image: str | None) -> str | None:
    """The tag of an image reference when it is one that moves (`latest`, `main`): not a version, not a digest.
    A task definition that runs one gets new images from `warden release` without a new revision, so going back
    a revision does not go back an image; moving the tag back does."""
    if not image:
        return None
    try:
        reference = parse_image_identifier(image)
    except ValueError:
        return None
    if reference.digest or not reference.tag or parse_semver(reference.tag) is not None:
        return None
    return reference.tag


def runs_version(revision: TaskRevision, version: str, digest: str | None) -> bool:
    """The revision's image carries the version: its tag is the version (with or without `v`), or it pins the
    digest the version's tag resolves to."""
    tag = image_version(revision.image)
    if tag is not None and tag.removeprefix("v") == version.removeprefix("v") and not tag.startswith("sha256:"):
        return True
    return digest is not None and image_digest(revision.image) == digest


def judge_listed(
    trigger: RollbackTrigger,
    *,
    service_task_definition: str,
    deployment: EcsDeployment | None,
    circuit_breaker_rollback: bool | None,
    history: Sequence[DeploymentRecord],
) -> JudgedDeployment:
    """The deployment to blame, from the ECS service's deployments: `deployment` is the judged one (the failed
    deployment, or for an alarm the service's primary one); `history` is Warden's deployment history (newest first),
    whose `digest` holds task-definition ARNs on ECS. Never on top of ECS's own rollback."""
    if deployment is None:
        return JudgedDeployment(
            unknown="ECS no longer lists that deployment, so Warden cannot tell which revision it deployed"
        )
    bad = deployment.task_definition
    bad_name = revision_name(bad)
    refused = ""
    if trigger is RollbackTrigger.FAILED_DEPLOYMENT and service_task_definition != bad:
        refused = (
            f"the service already runs {revision_name(service_task_definition)}, not the failed {bad_name}: it was "
            "rolled back or redeployed since, so there is nothing left to roll back"
        )
    elif trigger is RollbackTrigger.FAILED_DEPLOYMENT and circuit_breaker_rollback:
        refused = (
            "the service's deployment circuit breaker has rollback on, so ECS rolls back to the last completed "
            "deployment by itself; Warden does not roll back on top of it"
        )
    elif trigger is RollbackTrigger.ALARM and deployment.created_at is None:
        refused = f"ECS does not say when {bad_name} was deployed, so Warden cannot blame it"
    newest = history[0] if history else None
    return JudgedDeployment(
        deployed=bad,
        label=bad_name,
        deployed_at=deployment.created_at,
        by_rollback=newest is not None and newest.digest == bad and newest.source == ROLLBACK_SOURCE,
        refused=refused,
        failure=f"the deployment of {bad_name} ({deployment.id}) failed",
        attempt_key=f"rollback#ecs#{bad}#{deployment.id}",
    )


def revision_name(task_definition: str) -> str:
    """`family:12` for an ARN (or the text itself when it is no task definition)."""
    parsed = parse_task_definition(task_definition)
    return f"{parsed[0]}:{parsed[1]}" if parsed else task_definition


# --- ECR values -------------------------------------------------------------------------------------------


class RepositoryInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    uri: str  # <account>.dkr.ecr.<region>.amazonaws.com/<name>
    tag_mutability: str  # MUTABLE | IMMUTABLE | IMMUTABLE_WITH_EXCLUSION | MUTABLE_WITH_EXCLUSION

    @property
    def registry(self) -> str:
        return self.uri.split("/", 1)[0]


class RegistryLogin(BaseModel):
    """ECR's authorization token, decoded. The password is a SecretStr so that no log or repr shows it."""

    model_config = ConfigDict(frozen=True)

    registry: str
    username: str
    password: SecretStr


class ImageManifest(BaseModel):
    """An image's manifest exactly as ECR stores it: re-tagging must put back these bytes and this media type."""

    model_config = ConfigDict(frozen=True)

    digest: str
    manifest: str
    media_type: str | None = None


def create_repository_command(repository: str, region: str) -> str:
    """What to run when the repository is missing. Releases are immutable by version, and `latest` must move."""
    return (
        f"aws ecr create-repository --repository-name {repository} --region {region} "
        "--image-tag-mutability MUTABLE --image-scanning-configuration scanOnPush=true"
    )


# --- docker command lines ---------------------------------------------------------------------------------


def build_command(image: str, *, context: str, arg_names: Sequence[str], platform: str = PLATFORM) -> list[str]:
    """`--build-arg NAME` without `=value`: docker reads the value from its environment, so no secret is in argv."""
    argv = ["docker", "build", "--platform", platform, "-t", image]
    for name in arg_names:
        argv += ["--build-arg", name]
    return [*argv, context]


def tag_command(source: str, target: str) -> list[str]:
    return ["docker", "tag", source, target]


def login_command(registry: str, username: str = REGISTRY_USER) -> list[str]:
    """The password goes to stdin, never to the command line."""
    return ["docker", "login", "--username", username, "--password-stdin", registry]


def push_command(image: str) -> list[str]:
    return ["docker", "push", image]


def info_command() -> list[str]:
    return ["docker", "info", "--format", "{{.ServerVersion}}"]


class ReleasePlan(BaseModel):
    """What `warden release VERSION` runs, in order; `--plan` prints it."""

    model_config = ConfigDict(frozen=True)

    version: str
    repository: str
    repository_uri: str
    context: str
    build_args: tuple[str, ...] = ()
    tags: tuple[str, ...] = (LATEST,)  # the tags moved besides the version's own

    @property
    def image(self) -> str:
        return f"{self.repository_uri}:{self.version}"

    @property
    def registry(self) -> str:
        return self.repository_uri.split("/", 1)[0]

    def images(self) -> list[str]:
        return [self.image, *(f"{self.repository_uri}:{tag}" for tag in self.tags)]

    def commands(self) -> list[list[str]]:
        return [
            build_command(self.image, context=self.context, arg_names=self.build_args),
            *(tag_command(self.image, target) for target in self.images()[1:]),
            login_command(self.registry),
            *(push_command(image) for image in self.images()),
        ]


# --- what the pipeline did: the facts its notifications are worded from (messages/pipeline.py) -------------


class Released(BaseModel):
    """A release, pushed and on its way to the service."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    version: str
    repository: str
    digest: str
    images: tuple[str, ...]
    build_args: tuple[str, ...]  # names only: the values never leave docker's environment
    tracked: Tracked
    previous: str | None
    """What the tracked tag pointed at before, as a label; None: nothing (a first release)."""
    delivery: Delivered
    rollback_to: str | None
    """Where `warden rollback` would go back to now, as a label; None: nothing earlier is on record."""
    actor: str
    console_url: str


class RolledBack(BaseModel):
    """A rollback, or with DRY_RUN what it would have done. The move (the target's own, or the re-tag) tells where
    it went and how to undo it, in its platform's terms."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    target_label: str
    subject_target: str
    before: str
    chosen_because: str
    summary: str
    dry_run: bool
    actor: str
    reason: str
    console_url: str
    next_steps: tuple[str, ...] = ()
    undo: tuple[str, ...] = ()


class AfterFailure(StrEnum):
    """What became of the automatic rollback after a failed deployment."""

    NOT_TRIED = "not_tried"  # automatic rollback is off, or not wired in this stack
    ROLLED_BACK = "rolled_back"
    WOULD_ROLL_BACK = "would_roll_back"  # DRY_RUN
    DECLINED = "declined"
    FAILED = "failed"


class AutoRollbackVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    after: AfterFailure
    why: str = ""
    """Why there was no rollback (not tried, declined) or why it failed."""
    done: str = ""
    """What the rollback did, or with DRY_RUN would have done."""
    to: str = ""
    """Where it went, in a few words (for a subject line)."""
    undo: tuple[str, ...] = ()


class DeploymentEnded(BaseModel):
    """A deployment (or configuration update) that ended, as on_deployment reports it."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    platform: str
    console_url: str
    event: DeploymentEvent
    report: DeploymentReport
    by_rollback: bool = False
    """Warden's rollback or the platform's own deployed it."""
    recorded: bool = False
    """Warden did not make it, and added it to the deployment history."""
    rollback: AutoRollbackVerdict | None = None
    """After a failed deployment: what became of the automatic rollback."""

    @property
    def failure(self) -> str:
        return failure_reason(self.event, self.platform)


def failure_reason(event: DeploymentEvent, platform: str) -> str:
    """Why a deployment failed: the platform's own words, else the status it reported."""
    return event.message or f"{platform} reported {event.status}"
