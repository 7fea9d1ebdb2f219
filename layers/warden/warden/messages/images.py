"""The image purge in words: its summary notification, the reasons its action log and result give, and the lines
`warden purge-images --plan` prints, from the facts.

The facts are what the purge found each service runs (`WhatRuns`, domain/retention.py), the plans
(`PreparedPlan`, `RepositoryPlan` in usecases/purge_images.py, over domain/retention.py's `RetentionPlan`), why
a run only plans (`PlanOnly`) and what its deletions did (`DeletionReport`). What differs by platform arrives in
the facts (`WhatRuns.platform`, the Target's name for its platform; task definitions only where the service has
them), never as a branch on the platform here. tests/golden/texts/images.*.txt hold the approved texts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, assert_never

from warden.domain.images import (
    PlanOnly,
    SharingService,
    format_size,
    format_usd,
    monthly_storage_cost,
    short_digest,
)
from warden.domain.notification import Notification, Severity, render
from warden.domain.retention import (
    NAMED_RULES,
    ContainerSeen,
    Decision,
    HeldBack,
    HoldKind,
    RetentionPlan,
    RetentionPolicy,
    Rule,
    RunningKind,
    TaskDefinitionSeen,
    WhatRuns,
)

if TYPE_CHECKING:
    # Only for annotations: the use case imports this module to render at its edge.
    from warden.usecases.purge_images import DeletionReport, PreparedPlan, RepositoryPlan, ServicePlan

EVENT_PLAN: Final = "images.plan"
EVENT_PURGED: Final = "images.purged"
EVENT_UNAVAILABLE: Final = "images.unavailable"
LISTED_DELETIONS: Final = 40  # a notification lists this many deletions, then counts the rest

_WHY_NOT: Final = {
    PlanOnly.DRY_RUN: "DRY_RUN is on",
    PlanOnly.MODE: "IMAGE_PURGE_MODE is plan",
    PlanOnly.REQUESTED: "this run only plans",
}
_KEEP_LABELS: Final = {
    Rule.DEPLOYED_NOW: "deployed now",
    Rule.NEXT_UP: "resumed to after the pause, or deployed next",
    Rule.TRACKED_TAG: "behind the service's tag or latest",
    Rule.TASK_DEFINITION: "in the last {keep_deployed} task definitions before the current one (rollback targets)",
    Rule.ROLLBACK_TARGET: "rollback targets (what a rollback would pick, and the last {keep_deployed} deployments)",
    Rule.SEMVER: "newest {keep_semver} semver releases",
    Rule.PULLED: "pulled within {keep_pulled_days} days",
    Rule.INDEX_CHILD: "children of kept indexes",
    Rule.TOO_RECENT: "too recent (untagged under {untagged_days} days, tagged under {tagged_days} days)",
    Rule.CHILDREN_UNKNOWN: "held: a kept index's children are unknown",
    Rule.HOLD: "held: the running image is unknown",
}


def _s(number: int) -> str:
    return "" if number == 1 else "s"


# -- what one service runs ---------------------------------------------------------------------------------------


def running_line(seen: WhatRuns) -> str:
    """What the service runs, in one line ("What runs now", the CLI's "Running")."""
    running, repository = seen.running, seen.repository
    match running.kind:
        case RunningKind.NOT_FOUND:
            return "unknown: the service was not found"
        case RunningKind.NO_IMAGE_REPOSITORY:
            return "no ECR image (the service does not run an image repository)"
        case RunningKind.IMAGE_UNREADABLE:
            return f"unknown: {running.identifier}"
        case RunningKind.PINNED:
            return f"{running.identifier}{'' if running.in_repository else f' (not in {repository})'}"
        case RunningKind.OTHER_REPOSITORY:
            return f"{running.identifier}, which is not in {repository}: no image there is protected as running"
        case RunningKind.TAG_POINTS_AT_NOTHING:
            return f"{repository}:{running.tag}, which points at no image"
        case RunningKind.NOT_DEPLOYED_YET:
            return f"{repository}:{running.tag} = {running.points_at} (no deployment on record yet)"
        case RunningKind.DEPLOYED:
            deployed = running.deployed
            if deployed is None or running.points_at is None:
                raise ValueError("what the newest deployment deployed says which and where its tag points")
            return (
                f"{short_digest(deployed.digest)}{f' ({deployed.tag})' if deployed.tag else ''}: the newest "
                f"deployment on record ({deployed.at:%Y-%m-%d %H:%M} UTC, {deployed.source}); "
                f"{repository}:{running.tag} = {short_digest(running.points_at)}"
            )
        case RunningKind.NO_TASK_DEFINITION:
            return "unknown: the service has no task definition"
        case RunningKind.TASK_DEFINITIONS:
            described = [
                _definition_text(definition, repository)
                for definition in seen.task_definitions
                if definition.current and not definition.unreadable
            ]
            text = "task definition " + " | ".join(described) if described else "unknown"
            return text if running.digest else f"{text} (no image of {repository} runs)"
        case unreachable:
            assert_never(unreachable)


def task_definition_lines(seen: WhatRuns, keep: int) -> list[str]:
    """ECS: the revisions kept as rollback targets, and how many (after the running line)."""
    if seen.running.kind is not RunningKind.TASK_DEFINITIONS:
        return []
    lines = [
        f"Rollback target {_definition_text(definition, seen.repository)}"
        for definition in seen.task_definitions
        if not definition.current and not definition.unreadable
    ]
    previous = sum(1 for definition in seen.task_definitions if not definition.current)
    lines.append(
        f"Task definitions: the current one and the {keep} revision{_s(keep)} before it are kept "
        f"({seen.platform} rolls back to an earlier revision); {previous} earlier revision{_s(previous)} found."
    )
    return lines


def hold_sentence(seen: WhatRuns) -> str:
    """Why nothing is deleted this run, after "Nothing is deleted: "."""
    running, repository = seen.running, seen.repository
    match seen.hold:
        case HoldKind.SERVICE_NOT_FOUND:
            return f"the guarded service {seen.service} was not found, so Warden cannot tell which image it runs"
        case HoldKind.IMAGE_UNREADABLE:
            return f"{seen.platform}'s ImageIdentifier could not be understood ({running.problem})"
        case HoldKind.TAG_POINTS_AT_NOTHING:
            return (
                f"the service's tag '{running.tag}' points at no image in {repository}, so Warden cannot tell which "
                "image runs"
            )
        case HoldKind.NOT_DEPLOYED_YET:
            return (
                f"no deployment of {seen.service} is on record yet, so Warden cannot tell which image it runs "
                f"({repository}:{running.tag} points at {short_digest(running.points_at or '')}, but a push deploys "
                "nothing with auto-deploy off, and a failed deployment leaves the image before it running); the "
                f"purge deletes nothing until one is recorded: any {seen.platform} deployment (on_deployment records "
                "it), `warden release` or `warden rollback`"
            )
        case HoldKind.NO_TASK_DEFINITION:
            return (
                f"{seen.platform} lists no task definition for the service, so Warden cannot tell which images it runs"
            )
        case HoldKind.TASK_DEFINITION_UNKNOWN:
            problems = [
                problem
                for definition in seen.task_definitions
                if definition.current
                for problem in _current_problems(definition, repository)
            ]
            return "; ".join(problems) + ", so Warden cannot tell which images run"
        case HoldKind.IN_PROGRESS:
            return f"{seen.service} is in OPERATION_IN_PROGRESS (a deployment may still roll back), so this run waits"
        case None:
            raise ValueError("a hold is only described when there is one")
        case unreachable:
            assert_never(unreachable)


def seen_notes(seen: WhatRuns) -> list[str]:
    """Worth knowing, never a reason to hold: an older task definition that cannot be read or names a tag that
    points at nothing, and the images of other registries the task definitions name (ignored)."""
    notes: list[str] = []
    foreign: dict[str, list[str]] = {}
    for definition in seen.task_definitions:
        name = definition.task_definition
        if definition.unreadable:
            if not definition.current:
                notes.append(
                    f"Task definition {name} could not be read ({definition.unreadable}): "
                    "its images are not kept as a rollback target."
                )
            continue
        for container in definition.containers:
            if not container.inside:
                foreign.setdefault(container.image, []).append(f"{container.container} in {name}")
            elif container.dangling and not definition.current:
                notes.append(
                    f"Task definition {name} names {seen.repository}:{container.tag} (container "
                    f"{container.container}), which points at no image now: a rollback to {name} could not pull it."
                )
    if foreign:
        listed = "; ".join(f"{image} ({', '.join(where)})" for image, where in sorted(foreign.items()))
        notes.append(f"Ignored, not in {seen.repository} (images of other registries are not this purge's): {listed}.")
    return notes


def held_back_note(held: HeldBack, seen: WhatRuns) -> str:
    """Why a service's plan keeps what its rules would delete (`seen`: what that service runs)."""
    if held.hold:
        return f"Nothing is deleted: {hold_sentence(seen)}."
    unknown = held.unknown_indexes
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    return (
        f"The manifest of kept index {short_digest(unknown[0])}{more} could not be read, so its children are "
        "unknown: no image other than an index is deleted this time."
    )


def plan_notes(prepared: PreparedPlan) -> list[str]:
    """Every note of one service's plan: why it holds, then what is worth knowing (the CLI's "Note" lines)."""
    return [held_back_note(held, prepared.seen) for held in prepared.plan.held_back] + seen_notes(prepared.seen)


def decision_reason(decision: Decision) -> str:
    """An image's reason, naming the services that keep it in a repository several services share."""
    also = f"also kept for {', '.join(decision.also_kept_for)}" if decision.also_kept_for else ""
    if decision.kept_for:
        return f"{decision.reason} (for {decision.kept_for}{'; ' + also if also else ''})"
    if also:
        return f"{decision.reason} ({also})"
    return decision.reason


def _definition_text(definition: TaskDefinitionSeen, repository: str) -> str:
    parts = [_container_text(container, repository) for container in definition.containers]
    return f"{definition.task_definition}: {'; '.join(parts) or 'no container image'}"


def _container_text(container: ContainerSeen, repository: str) -> str:
    if not container.inside:
        return f"{container.container}: {container.image} (not in {repository}, ignored)"
    if container.digest is None:
        return f"{container.container}: {repository}:{container.tag}, which points at no image"
    shown = f"{repository}:{container.tag} = " if container.tag else f"{repository}@"
    return f"{container.container}: {shown}{short_digest(container.digest)}"


def _current_problems(definition: TaskDefinitionSeen, repository: str) -> list[str]:
    name = definition.task_definition
    if definition.unreadable:
        return [f"task definition {name} could not be read ({definition.unreadable})"]
    return [
        f"the tag '{container.tag}' of container {container.container} in task definition {name} points at no "
        f"image in {repository}"
        for container in definition.containers
        if container.dangling
    ]


# -- the run's reason: the action log, the result, the CLI's "Result" -----------------------------------------


def busy_reason(repository: str) -> str:
    return f"ignored, because another purge of {repository} is running"


def held_reason(planned: RepositoryPlan) -> str:
    return f"nothing deleted from {planned.repository}: {'; '.join(_held_back_lines(planned))}"


def nothing_reason(planned: RepositoryPlan) -> str:
    return f"nothing to purge in {planned.repository}: all {len(planned.plan.decisions)} images are kept"


def planned_reason(planned: RepositoryPlan, plan_only: PlanOnly) -> str:
    plan = planned.plan
    return (
        f"plan for {planned.repository}: a real run would delete {len(plan.deletions)} of {len(plan.decisions)} "
        f"images (up to {format_size(plan.bytes_to_delete)}); nothing deleted, because {_WHY_NOT[plan_only]}"
    )


def deleted_reason(planned: RepositoryPlan, report: DeletionReport) -> str:
    size = report.bytes_deleted
    reason = (
        f"deleted {len(report.deleted)} of {len(planned.plan.decisions)} images from {planned.repository} "
        f"(up to {format_size(size)}, up to {format_usd(monthly_storage_cost(size))} a month)"
    )
    if report.already_gone:
        reason += f"; {len(report.already_gone)} already gone"
    problems = len(report.failed) + len(report.not_attempted)
    if problems:
        reason += f"; {problems} not deleted"
    return reason


def blocked_reason(repository: str, services: Sequence[SharingService]) -> str:
    blocked = [service for service in services if service.unreadable is not None]
    who = ", ".join(service.label for service in blocked)
    errors = "; ".join(f"{service.label}: {service.unreadable}" for service in blocked)
    return f"nothing purged from {repository}: what {who} needs could not be read ({errors})"


def missing_reason(why: str) -> str:
    return f"nothing purged: {why}"


# -- the notifications -------------------------------------------------------------------------------------------


def purge_summary(planned: RepositoryPlan, plan_only: PlanOnly | None, report: DeletionReport | None) -> Notification:
    """`images.plan` (a run that only plans) or `images.purged`: what the run would delete or deleted, what each
    service runs, what is kept and why, what failed, and what next."""
    plan, repository, services = planned.plan, planned.repository, planned.services
    first = services[0]
    total = len(plan.decisions)
    deletions = plan.deletions
    held = any(decision.rule in {Rule.HOLD, Rule.CHILDREN_UNKNOWN} for decision in plan.decisions)
    if report is None:
        size = format_size(plan.bytes_to_delete)
        saving = format_usd(monthly_storage_cost(plan.bytes_to_delete))
        event = EVENT_PURGED if plan_only is None else EVENT_PLAN
        if deletions:
            subject = f"[warden] PURGE PLAN {repository}: would delete {len(deletions)} of {total} images, up to {size}"
            why_not = _WHY_NOT[plan_only] if plan_only is not None else ""
            headline = (
                f"Plan for {repository}: a real run would delete {len(deletions)} of {total} images, "
                f"up to {size} (up to {saving} a month). Nothing was deleted, because {why_not}."
            )
        elif held:
            subject = f"[warden] PURGE HELD {repository}: nothing deleted, {total} images kept"
            headline = f"Warden deleted nothing from {repository}: {' '.join(_held_back_lines(planned))}"
        else:
            subject = f"[warden] NOTHING TO PURGE {repository}: all {total} images kept"
            headline = f"Nothing to purge in {repository}: every one of its {total} images is kept."
        deletion_title = f"Would delete ({len(deletions)}, up to {size})"
        deletion_lines = _listed(deletions)
        severity = Severity.WARNING if held else Severity.INFO
    else:
        deleted = {image.digest for image in report.deleted}
        size = format_size(report.bytes_deleted)
        saving = format_usd(monthly_storage_cost(report.bytes_deleted))
        problems = len(report.failed) + len(report.not_attempted)
        event = EVENT_PURGED
        if problems:
            subject = (
                f"[warden] PURGED {repository} with {problems} failures: "
                f"{len(report.deleted)} of {len(deletions)} images deleted"
            )
        else:
            subject = f"[warden] PURGED {repository}: {len(report.deleted)} images, up to {size} (up to {saving}/month)"
        headline = (
            f"Warden deleted {len(report.deleted)} of {total} images from {repository}, "
            f"up to {size} (up to {saving} a month)."
        )
        deletion_title = f"Deleted ({len(report.deleted)}, up to {size})"
        deletion_lines = _listed([decision for decision in deletions if decision.image.digest in deleted])
        severity = Severity.WARNING if problems else Severity.INFO
    sections: list[tuple[str, Iterable[str]]] = []
    if len(services) > 1:
        headline += (
            f" The repository holds the images of {len(services)} guarded services: an image goes only when none "
            "of them needs it."
        )
        sections.append((f"Kept for ({len(services)})", [_service_line(service) for service in services]))
    sections += [
        ("What runs now", _runs_now_lines(services)),
        (deletion_title, deletion_lines),
        (f"Kept ({len(plan.kept)})", _kept_lines(plan, first.prepared.policy)),
    ]
    if report is not None:
        sections.append(("Not deleted", _failure_lines(report)))
    notes = [
        f"{service.label}: {note}" if len(services) > 1 else note
        for service in services
        for note in seen_notes(service.prepared.seen)
    ]
    sections.append(("Notes", [*_held_back_lines(planned), *notes, _size_note(plan, report)]))
    by_task_definitions = any(
        service.prepared.seen.running.kind is RunningKind.TASK_DEFINITIONS for service in services
    )
    dry_run = any(service.settings.dry_run for service in services)
    sections.append(("What next", _next_lines(dry_run, plan_only, report, bool(deletions), by_task_definitions)))
    settings = first.settings.service
    sections.append(("Links", [_console_url(settings.region, settings.account_id, repository)]))
    return Notification(subject=subject, body=render(sections, headline=headline), event=event, severity=severity)


def purge_blocked(repository: str, services: Sequence[SharingService]) -> Notification:
    """`images.unavailable`: what a service sharing the repository needs could not be read, so nothing was planned
    or deleted."""
    blocked = [service for service in services if service.unreadable is not None]
    who = ", ".join(service.label for service in blocked)
    shared = len(services)
    body = render(
        [
            ("What happened", [f"{service.label} ({service.arn}): {service.unreadable}" for service in blocked]),
            (f"Services using {repository} ({shared})", [f"{service.label}: {service.arn}" for service in services]),
            (
                "What next",
                [
                    "Nothing to do if the error was passing: the next run (the daily one, or the next push) plans "
                    "again. If it repeats, check the service named above (warden doctor) and the state table.",
                ],
            ),
        ],
        headline=(
            f"Warden deleted nothing from {repository}: it keeps the images of {shared} guarded "
            f"service{_s(shared)}, and what {who} runs or may roll back to could not be read. "
            "An image is deleted only when Warden knows that no service using the repository needs it."
        ),
    )
    return Notification(
        subject=f"[warden] PURGE BLOCKED {repository}: nothing deleted, {who} could not be read",
        body=body,
        event=EVENT_UNAVAILABLE,
        severity=Severity.WARNING,
    )


def repository_missing(repository: str, why: str, labels: Sequence[str]) -> Notification:
    """`images.unavailable`: the repository does not exist (`labels`: the services that name it)."""
    what_next = "Set the stack parameter EcrRepository to the name of the app's ECR repository."
    if len(labels) > 1:
        what_next = (
            f"Set the stack parameter EcrRepository, or the tag warden:repository of {', '.join(labels)}, to the "
            "name of their ECR repository."
        )
    return Notification(
        subject=f"[warden] CANNOT PURGE {repository}: repository not found",
        body=render(
            [("What happened", [why]), ("What next", [what_next])],
            headline=f"Warden could not purge images: ECR repository {repository!r} does not exist.",
        ),
        event=EVENT_UNAVAILABLE,
        severity=Severity.WARNING,
    )


# -- the summary's parts -----------------------------------------------------------------------------------------


def _held_back_lines(planned: RepositoryPlan) -> list[str]:
    """Why the plans keep what they would delete, each service's in turn (named, when several share it)."""
    shared = len(planned.services) > 1
    return [
        f"{service.label}: {note}" if shared else note
        for service in planned.services
        for note in (held_back_note(held, service.prepared.seen) for held in service.prepared.plan.held_back)
    ]


def _listed(decisions: Sequence[Decision]) -> list[str]:
    lines = [_image_line(decision) for decision in decisions[:LISTED_DELETIONS]]
    rest = decisions[LISTED_DELETIONS:]
    if rest:
        rest_size = format_size(sum(decision.image.size_bytes for decision in rest))
        lines.append(f"... and {len(rest)} more ({rest_size}); `warden purge-images --plan` lists every image.")
    return lines


def _image_line(decision: Decision) -> str:
    image = decision.image
    tags = ", ".join(image.tags[:3]) + (" ..." if len(image.tags) > 3 else "") if image.tags else "(untagged)"
    return (
        f"{image.short_digest}  {tags}  pushed {image.pushed_at:%Y-%m-%d}  {format_size(image.size_bytes)}  "
        f"{decision_reason(decision)}"
    )


def _runs_now_lines(services: Sequence[ServicePlan]) -> list[str]:
    if len(services) == 1:
        prepared = services[0].prepared
        return [
            running_line(prepared.seen),
            *task_definition_lines(prepared.seen, prepared.policy.keep_deployed),
            _history_line(prepared),
        ]
    lines = []
    for service in services:
        prepared = service.prepared
        known = len(prepared.deployments)
        lines += [
            f"{service.label}: {running_line(prepared.seen)}",
            *(
                f"{service.label}: {line}"
                for line in task_definition_lines(prepared.seen, prepared.policy.keep_deployed)
            ),
            f"{service.label}: {known} deployment{_s(known)} on record",
        ]
    policy = services[0].prepared.policy
    return [
        *lines,
        "Each service's deployment history is its own: every image a rollback of any of them could pick, and the "
        f"last {policy.keep_deployed} distinct images each one deployed, are kept as rollback targets.",
    ]


def _service_line(service: ServicePlan) -> str:
    """A service sharing the repository, and how many images its own plan keeps by name (what it runs, resumes
    to, deploys next or may roll back to, and its tag)."""
    decisions = service.prepared.plan.decisions
    named = sum(1 for decision in decisions if decision.rule in NAMED_RULES)
    held = " (holds every deletion: see Notes)" if any(decision.rule is Rule.HOLD for decision in decisions) else ""
    return f"{service.label} ({service.settings.service.arn}): {named} image{_s(named)} it needs{held}"


def _history_line(prepared: PreparedPlan) -> str:
    known = len(prepared.deployments)
    return (
        f"Deployment history: {known} deployment{_s(known)} on record (deployments "
        "on_deployment saw, and Warden's releases and rollbacks; a push that deployed nothing is not "
        f"one). Every image a rollback could pick, and the last {prepared.policy.keep_deployed} distinct "
        "images deployed, are kept as rollback targets."
    )


def _kept_lines(plan: RetentionPlan, policy: RetentionPolicy) -> list[str]:
    lines = []
    for rule, number in plan.counts().items():
        label = _KEEP_LABELS.get(rule)
        if label is not None:
            lines.append(f"{label.format(**policy.model_dump())}: {number}")
    for decision in plan.kept:
        if decision.rule in NAMED_RULES:
            tags = ", ".join(decision.image.tags) or "untagged"
            lines.append(f"{decision.image.short_digest} ({tags}): {decision_reason(decision)}")
    return lines


def _failure_lines(report: DeletionReport) -> list[str]:
    lines = []
    by_code = Counter(failure.code for failure in report.failed)
    for code, number in sorted(by_code.items()):
        example = next(failure for failure in report.failed if failure.code == code)
        lines.append(f"{number} x {code}: {example.reason or 'no reason given'} (e.g. {short_digest(example.digest)})")
    if report.retries:
        lines.append(f"Retried per-item failures {report.retries} time(s) (throttling, upstream, KMS).")
    if report.already_gone:
        lines.append(f"{len(report.already_gone)} image(s) were already gone (ImageNotFound): nothing to do.")
    if report.aborted:
        lines.append(
            f"Stopped early: {report.aborted}. {len(report.not_attempted)} image(s) were not attempted; "
            "the next run plans again and deletes them."
        )
    return lines


def _size_note(plan: RetentionPlan, report: DeletionReport | None) -> str:
    return (
        "Sizes are ECR's imageSizeInBytes, which counts a layer shared by several images once per image: "
        "the storage freed is up to the figure shown, at $0.10 per GB-month."
        if plan.deletions or report
        else ""
    )


def _next_lines(
    dry_run: bool,
    plan_only: PlanOnly | None,
    report: DeletionReport | None,
    planned: bool,
    by_task_definitions: bool,
) -> list[str]:
    """`by_task_definitions`: the run also kept the images of a service's last task definitions."""
    if dry_run:
        return ["DRY_RUN is on: no purge deletes anything until it is off (stack parameter DryRun=false)."]
    if plan_only is not None and planned:
        return [
            "Check the list above. To let the daily run delete what its plan lists, deploy with "
            "ImagePurgeMode=delete: sam deploy --parameter-overrides ImagePurgeMode=delete "
            "(repeat your other overrides).",
            "To delete it once now, from your shell: warden purge-images --apply",
        ]
    if report is not None:
        return [
            "Deleted images cannot be restored; rebuild and push one from source if you need it again.",
            "An image stays while it runs (or a paused service resumes to it), a pending deployment names it, a "
            "rollback would pick it or it is among the last deployments"
            + (" or in one of the last task definitions" if by_task_definitions else "")
            + ", carries latest or one of the newest semver tags, or was pulled recently.",
        ]
    return []


def _console_url(region: str, account_id: str, repository: str) -> str:
    return f"https://{region}.console.aws.amazon.com/ecr/repositories/private/{account_id}/{repository}?region={region}"
