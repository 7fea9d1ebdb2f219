"""Demo act (ECS): the image purge keeps what the service's task definitions need, even an old untagged image
that a revision pins by digest, and deletes the rest."""

from __future__ import annotations

from local.account import REPOSITORY
from local.demo_images import REGISTRY, SeededRepository
from local.ecs import register_revision, run_revision
from local.timeline import Timeline, expect

SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
SETTINGS = {"IMAGE_PURGE_MODE": "delete", "IMAGE_KEEP_DEPLOYED": "2", "IMAGE_KEEP_SEMVER": "1"}


def play(timeline: Timeline) -> int:
    account = timeline.account
    failures = 0
    repository = SeededRepository.fresh(account, now=timeline.clock.now)
    images = {
        "v1.0.0": repository.image("v1.0.0", "v1.0.0", days=300),
        "v1.1.0": repository.image("v1.1.0", "v1.1.0", days=280),
        "v1.2.0": repository.image("v1.2.0", "v1.2.0", days=260),
        "pinned": repository.image("hotfix-build", days=250),  # untagged: only a task definition's digest names it
        "v1.3.0": repository.image("v1.3.0", "v1.3.0", days=240),
        "stray": repository.image("stray-build", days=200),
        "dev-1": repository.image("dev-1", days=40),
        "dev-2": repository.image("dev-2", days=30),
        "v1.4.0": repository.image("v1.4.0", "v1.4.0", "latest", days=5),
    }
    ours = f"{REGISTRY}/{REPOSITORY}"
    for reference in (":v1.1.0", ":v1.2.0", f"@{images['pinned']}"):
        register_revision(account, ours + reference)
    current = register_revision(account, f"{ours}:v1.3.0", SIDECAR)
    run_revision(current)
    before = repository.digests()

    timeline.say(
        timeline.calendar.purge_plan,
        "Daily purge-images, IMAGE_PURGE_MODE=delete, IMAGE_KEEP_DEPLOYED=2 revisions",
    )
    timeline.detail(
        f"ECR {REPOSITORY}: {len(before)} images. The service runs revision {current.rsplit(':', 1)[-1]} of its "
        "task definition (v1.3.0 and a fluent-bit sidecar from public ECR); the two revisions before it run "
        "an untagged hotfix build pinned by digest and v1.2.0, the rollback targets."
    )
    outcome = timeline.run("purge_images", {"job": "purge-images"}, **SETTINGS)[0]
    timeline.outcome(outcome)
    after = repository.digests()
    failures += expect(outcome["outcome"] == "purged" and timeline.show_inbox() == 1, "the purge sends one summary")
    kept = {label for label, digest in images.items() if digest in after}
    failures += expect(
        kept == {"v1.3.0", "pinned", "v1.2.0", "v1.4.0"},
        f"what runs, the two rollback revisions and latest stay (kept: {', '.join(sorted(kept))})",
    )
    timeline.note(f"ECR {REPOSITORY}: {len(before)} images before, {len(after)} after.")
    return failures
