"""The release pipeline's words: what a release, a rollback and a deployment's end tell people.

The use cases (release, rollback, on_deployment) return typed facts (domain/pipeline.py); every sentence of
their notifications, and of the summaries their action log and terminal show, is written here. What differs by
platform arrives in the facts (the target's name for itself, its console, the move's own words, the deployment
report), never as a branch on the platform here. tests/golden/texts/pipeline.*.txt hold the approved texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import assert_never

from warden.domain.alarms import format_duration
from warden.domain.deployments import Phase
from warden.domain.images import short_digest
from warden.domain.notification import Notification, Severity, render
from warden.domain.pipeline import (
    ACCEPTED_MEDIA_TYPES_TEXT,
    PLATFORM,
    RELEASE_SOURCE,
    ROLLBACK_SOURCE,
    AfterFailure,
    AutoRollbackVerdict,
    Delivered,
    DeployAction,
    DeploymentEnded,
    Released,
    ReleasePlan,
    RetagPlan,
    RolledBack,
    Tracked,
)

# Who deployed the version a rollback goes back to, after "the previous deployed version (deployed ..., ".
_SOURCES = {RELEASE_SOURCE: "by warden release", ROLLBACK_SOURCE: "by a rollback"}
# What the tracked tag pointed at before a first release.
_NOTHING_YET = "no image yet (a first release)"


def _links(console_url: str) -> list[str]:
    return [f"Service: {console_url}"]


# --- how a moved tag reaches the service ---------------------------------------------------------------------


def delivery_line(delivery: Delivered) -> str:
    """What became of the deployment of a moved tag, in one sentence (a notification's "What Warden did")."""
    reason = delivery.decision.reason
    match delivery.decision.action:
        case DeployAction.START:
            return f"Started deployment {delivery.operation_id} ({reason})."
        case DeployAction.AUTOMATIC:
            return f"No StartDeployment call: {reason}; on_deployment reports how it goes."
        case DeployAction.AFTER_RESUME | DeployAction.DEFERRED:
            memo = f" (the {delivery.remembered} memo)" if delivery.remembered else ""
            return (
                f"Not deployed yet: {reason}. Warden remembers it{memo} and its reconcile, every 15 minutes, starts "
                "the deployment once the service is RUNNING."
            )
        case DeployAction.UNAVAILABLE:
            return f"Nothing deployed: {reason}."
        case _:
            assert_never(delivery.decision.action)


# --- warden release ------------------------------------------------------------------------------------------


def release_plan_lines(plan: ReleasePlan, *, service_name: str, tracked: Tracked, previous: str | None) -> list[str]:
    """What `warden release --plan` prints before the commands (`previous`: what the tag points at now)."""
    names = ", ".join(plan.build_args) or "none"
    return [
        f"Version:     {plan.version} of {plan.repository} ({plan.repository_uri})",
        f"Service:     {service_name} follows {tracked.identifier}, now {previous or _NOTHING_YET}",
        f"Build args:  {names} (values from the environment or the env file, never shown)",
        f"Platform:    {PLATFORM} (App Runner runs x86_64)",
    ]


def release_summary(released: Released) -> str:
    """The release in one line: the action log's reason."""
    pushed = ", ".join(released.images)
    return (
        f"Released {released.version} ({short_digest(released.digest)}): pushed {pushed}. "
        f"{delivery_line(released.delivery)}"
    )


def release_done(released: Released) -> Notification:
    name, delivery = released.service_name, released.delivery
    names = ", ".join(released.build_args)
    built = f"docker build --platform {PLATFORM}" + (f" with build args {names} (values not shown)" if names else "")
    tags = " and ".join(released.tracked.tags_to_move)
    undo = (
        [f"warden rollback   (moves {tags} back to {released.rollback_to} and deploys)"]
        if released.rollback_to
        else ["warden rollback VERSION   (no earlier deployment is on record: name the version to go back to)"]
    )
    pending = delivery.decision.pending
    next_steps = (
        ["The service runs the previous version until the deployment starts: resume it (warden resume)."]
        if pending
        else ["on_deployment reports how the deployment went."]
    )
    body = render(
        [
            (
                "What happened",
                [
                    f"{released.actor} released {released.version} of {released.repository}.",
                    f"Built with {built}; pushed {', '.join(released.images)}.",
                    f"Digest: {released.digest}. Before the release {released.tracked.tag} was "
                    f"{released.previous or _NOTHING_YET}.",
                ],
            ),
            ("What Warden did", [delivery_line(delivery), "Recorded the release in the deployment history."]),
            ("What happens next", next_steps),
            ("How to undo", undo),
            ("Links", _links(released.console_url)),
        ],
        headline=f"{name}: {released.version} released ({short_digest(released.digest)}).",
    )
    return Notification(
        subject=f"[warden] RELEASED {name} {released.version}",
        body=body,
        event="release.done",
        severity=Severity.WARNING if pending else Severity.INFO,
    )


# --- warden rollback, whatever the move ----------------------------------------------------------------------


def rollback_would(intent: str) -> str:
    """A dry run's summary; `intent` is the move's "moved latest from ... to ... and deployed it (...)"."""
    return f"[dry run] Would have {intent}; nothing was changed."


def rollback_next_step(service_name: str, waits: str) -> str:
    """For the terminal, when the service is paused: when the rollback takes effect."""
    return f"{service_name} is PAUSED: {waits} when it resumes (warden resume, or when its pause claims clear)."


def rollback_done(rolled: RolledBack) -> Notification:
    """`rollback.done`, or `rollback.dry_run` for what a dry run would have done."""
    name, dry = rolled.service_name, rolled.dry_run
    body = render(
        [
            (
                "What happened",
                [
                    f"Requested by {rolled.actor}: {rolled.reason}.",
                    f"Before: {rolled.before}; the target is {rolled.chosen_because}.",
                ],
            ),
            ("What Warden did", [rolled.summary]),
            ("What happens next", list(rolled.next_steps)),
            ("How to undo", [] if dry else list(rolled.undo)),
            ("Links", _links(rolled.console_url)),
        ],
        headline=f"[dry run] Warden would have rolled {name} back to {rolled.target_label}."
        if dry
        else f"Warden rolled {name} back to {rolled.target_label}.",
    )
    return Notification(
        subject=f"[warden] DRY RUN would roll back {name} to {rolled.subject_target}"
        if dry
        else f"[warden] ROLLED BACK {name} to {rolled.subject_target}",
        body=body,
        event="rollback.dry_run" if dry else "rollback.done",
        severity=Severity.WARNING,
    )


# --- the re-tag move: the tag the service follows goes back to an earlier image --------------------------------


def _tags(plan: RetagPlan) -> str:
    return " and ".join(plan.tracked.tags_to_move)


def retag_chosen_because(plan: RetagPlan) -> str:
    if plan.named:
        return "named on the command line"
    target = plan.target
    when = f"deployed {target.deployed_at:%Y-%m-%d %H:%M} UTC" if target.deployed_at else "deployed before"
    return f"the previous deployed version ({when}, {_SOURCES.get(target.source or '', target.source)})"


def retag_before(plan: RetagPlan) -> str:
    return f"{_tags(plan)} pointed at {plan.current_label}"


def retag_intent(plan: RetagPlan) -> str:
    return (
        f"moved {_tags(plan)} from {plan.current_label} to {plan.target_label} and deployed it ({plan.deploy.reason})"
    )


def retag_plan_lines(plan: RetagPlan) -> list[str]:
    """What `warden rollback --plan` prints."""
    tags = _tags(plan)
    return [
        f"Now:     {tags} -> {plan.current_label} (the service follows {plan.tracked.identifier})",
        f"Target:  {plan.target_label}: {retag_chosen_because(plan)}",
        f"ECR:     batch-get-image {short_digest(plan.target.digest)} (accepting {ACCEPTED_MEDIA_TYPES_TEXT}), "
        f"then put-image as {tags} with that exact manifest and media type",
        f"Deploy:  {plan.deploy.reason} (service {plan.service_name} is {plan.service_status})",
    ]


def retag_summary(plan: RetagPlan, moved: Sequence[str], delivery: Delivered) -> str:
    """What the re-tag did: `moved` are the tags put-image moved (none: they already pointed there)."""
    tags = _tags(plan)
    if moved:
        move = (
            f"Moved {tags} from {plan.current_label} to {plan.target_label} in ECR (the exact manifest and media type)."
        )
    else:
        move = f"{tags} already pointed at {plan.target_label}: nothing to move in ECR."
    return f"Rolled {plan.service_name} back to {plan.target_label}. {move} {delivery_line(delivery)}"


def retag_next_steps(delivery: Delivered) -> tuple[str, ...]:
    if delivery.decision.pending:
        return (
            "The service runs the old version until it is deployed: resume it (warden resume) and the reconcile "
            "deploys within 15 minutes.",
        )
    if delivery.decision.action in {DeployAction.START, DeployAction.AUTOMATIC}:
        return ("on_deployment reports how the deployment went.",)
    return ()


def retag_waits(delivery: Delivered) -> str | None:
    """What the resume of a paused service brings (see rollback_next_step); None when it does not wait."""
    return "the rollback deploys" if delivery.decision.action is DeployAction.AFTER_RESUME else None


def retag_undo_lines(plan: RetagPlan, deploy_command: str) -> list[str]:
    """Going forward again is another rollback, to the version the tag pointed at before (or the same by hand)."""
    if not plan.current_digest:
        return []
    image = f"--repository-name {plan.repository} --image-ids imageDigest={plan.current_digest}"
    accepted = ACCEPTED_MEDIA_TYPES_TEXT.replace(", ", " ")
    return [
        f"warden rollback {plan.current_tag or plan.current_digest}   (back to {plan.current_label})",
        "With the AWS CLI (the same re-tag by hand):",
        f"  aws ecr batch-get-image {image} --accepted-media-types {accepted} "
        "--query 'images[0].imageManifest' --output text > manifest.json",
        f"  MEDIA=$(aws ecr batch-get-image {image} --accepted-media-types {accepted} "
        "--query 'images[0].imageManifestMediaType' --output text)",
        f"  aws ecr put-image --repository-name {plan.repository} --image-tag {plan.tracked.tag} "
        '--image-manifest file://manifest.json --image-manifest-media-type "$MEDIA"',
        f"  {deploy_command}",
    ]


# --- on_deployment: a deployment that ended ------------------------------------------------------------------


def _took(took: timedelta | None, word: str) -> str:
    return f" {word} {format_duration(took)}" if took is not None else ""


def _happened(ended: DeploymentEnded) -> str:
    event = ended.event
    deployment = f" (deployment {event.deployment_id})" if event.deployment_id else ""
    return f"{ended.platform} reported {event.status}{deployment} at {event.time:%Y-%m-%d %H:%M:%S} UTC."


def deployment_headline(ended: DeploymentEnded) -> str:
    """The first line of the report, and on_deployment's reason in its result."""
    name, report = ended.service_name, ended.report
    kind = "rollback " if ended.by_rollback else ""
    if ended.event.phase is Phase.SUCCEEDED:
        if ended.event.update:
            return f"{name}: the configuration update finished{_took(report.took, 'in')}; it runs {report.label}."
        return f"{name}: the {kind}deployment of {report.label} succeeded{_took(report.took, 'in')}."
    if ended.event.update:
        return f"{name}: a configuration update failed{_took(report.took, 'after')}."
    return f"{name}: the {kind}deployment of {report.label} failed{_took(report.took, 'after')}."


def deployment_ended(ended: DeploymentEnded) -> Notification:
    """deployment.succeeded / .updated, .update_failed, or a failed deployment with what Warden did about it."""
    if ended.event.phase is Phase.SUCCEEDED:
        return _succeeded(ended)
    if ended.event.update:
        return _update_failed(ended)
    return _failed(ended)


def _succeeded(ended: DeploymentEnded) -> Notification:
    name, report, update = ended.service_name, ended.report, ended.event.update
    took = _took(report.took, "in")
    did = (
        "Recorded it in the deployment history (it was not released through Warden)."
        if ended.recorded
        else "Nothing to do: reported it."
    )
    body = render(
        [
            ("What happened", [_happened(ended), report.detail]),
            ("What Warden did", [did]),
            ("How to undo", [] if update else list(report.manual_rollback)),
            ("Links", _links(ended.console_url)),
        ],
        headline=deployment_headline(ended),
    )
    if update:
        return Notification(
            subject=f"[warden] UPDATED {name}{took}", body=body, event="deployment.updated", severity=Severity.INFO
        )
    return Notification(
        subject=f"[warden] DEPLOYED {name} {report.headline}{took}",
        body=body,
        event="deployment.succeeded",
        severity=Severity.INFO,
    )


def _what_happened(ended: DeploymentEnded) -> list[str]:
    return [_happened(ended), f"Reason: {ended.failure}", ended.report.explanation]


def _update_failed(ended: DeploymentEnded) -> Notification:
    """A configuration update is reported, never rolled back: no image would undo it."""
    body = render(
        [
            ("What happened", _what_happened(ended)),
            ("What Warden did", [ended.report.update_advice]),
            ("Links", _links(ended.console_url)),
        ],
        headline=deployment_headline(ended),
    )
    return Notification(
        subject=f"[warden] UPDATE FAILED {ended.service_name}",
        body=body,
        event="deployment.update_failed",
        severity=Severity.WARNING,
    )


def _failed(ended: DeploymentEnded) -> Notification:
    report = ended.report
    verdict = ended.rollback or AutoRollbackVerdict(after=AfterFailure.NOT_TRIED)
    did, tail, event, severity = _after_failure(verdict)
    if ended.by_rollback or report.platform_rollback_failed:
        severity = Severity.CRITICAL  # a rollback that failed: the service needs a person now
    rolled_back = verdict.after is AfterFailure.ROLLED_BACK
    body = render(
        [
            ("What happened", _what_happened(ended)),
            ("What Warden did", did),
            ("How to roll back by hand", [] if rolled_back else list(report.manual_rollback)),
            ("How to undo the rollback", list(verdict.undo) if rolled_back else []),
            ("Links", _links(ended.console_url)),
        ],
        headline=deployment_headline(ended),
    )
    return Notification(
        subject=f"[warden] DEPLOYMENT FAILED {ended.service_name} {report.short}: {tail}",
        body=body,
        event=event,
        severity=severity,
    )


def _after_failure(verdict: AutoRollbackVerdict) -> tuple[list[str], str, str, Severity]:
    """(what Warden did, the subject's end, the event, the severity) for what became of the automatic rollback."""
    match verdict.after:
        case AfterFailure.NOT_TRIED:
            return [f"No rollback: {verdict.why}."], "run warden rollback", "deployment.failed", Severity.WARNING
        case AfterFailure.ROLLED_BACK:
            return (
                [f"Automatic rollback (AUTO_ROLLBACK=true), once for this deployment: {verdict.done}"],
                f"rolled back to {verdict.to}",
                "deployment.rolled_back",
                Severity.WARNING,
            )
        case AfterFailure.WOULD_ROLL_BACK:
            return [verdict.done], "dry run", "deployment.would_roll_back", Severity.WARNING
        case AfterFailure.DECLINED:
            return (
                [f"No automatic rollback: {verdict.why}."],
                "not rolled back",
                "deployment.rollback_declined",
                Severity.WARNING,
            )
        case AfterFailure.FAILED:
            return (
                [
                    f"Automatic rollback FAILED: {verdict.why}.",
                    "Warden does not try again for this deployment: roll back by hand (below) and check the service.",
                ],
                "automatic rollback failed",
                "deployment.rollback_failed",
                Severity.CRITICAL,
            )
        case _:
            assert_never(verdict.after)
