"""`python -m bench.images`: the image purge on a 10,000-image repository, 6,000 of which should go.

Against moto's server (in this process) and the App Runner emulator. The purge itself runs in a child
process of its own (`--child`), so that its peak memory (`ru_maxrss`, and tracemalloc's peak of the
run alone) is Warden's and not the server's. It counts every AWS API call Warden makes, by operation,
with a botocore `before-call` hook on the clients the adapters use, and compares its ECR calls with what
real ECR needs: one describe page per 1,000 images (moto ignores `maxResults` and answers with a single
page, which is reported as observed), one describe to resolve the running tag, and one delete call per 100
images. The other calls (App Runner, DynamoDB, SNS) are Warden's bookkeeping, reported as measured.
Results go to bench/results/images.json. Not part of `make test`.

Call counts and memory do not depend on the machine's load; wall times do (the load average is recorded).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "images.json"
IMAGES = 10_000
TO_DELETE = 6_000
PAGE = 1_000
BATCH = 100
MEMORY_TARGET_MB = 128


def page_like_ecr() -> None:
    """Makes moto's describe_images (in this, the server's process) page as ECR does: `maxResults` (default
    100, at most 1,000) and a `nextToken`. moto ignores both and answers with every image at once, which
    would hide how many calls Warden makes and inflate its memory with one 10,000-image response."""
    import copy

    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    def describe_images(self: Any) -> Any:
        image_ids = self._get_param("imageIds")
        repository, registry = self._get_param("repositoryName"), self._get_param("registryId")
        images = list(self.ecr_backend.describe_images(repository, registry, image_ids))
        token = None
        if not image_ids:
            start, size = int(self._get_param("nextToken") or 0), int(self._get_param("maxResults") or 100)
            images, token = images[start : start + size], start + size if start + size < len(images) else None
        details = []
        for image in images:
            detail = copy.copy(image)
            if not detail.image_tags:
                del detail.image_tags  # ECR leaves imageTags out for untagged images
            details.append(detail)
        body: dict[str, Any] = {"imageDetails": details}
        if token is not None:
            body["nextToken"] = str(token)
        return ActionResult(body)

    ECRResponse.describe_images = describe_images  # type: ignore[method-assign]


def seed(account: Any, now: datetime) -> dict[str, int | float]:
    """10,000 images through moto's backend objects (0.1 s, where put_image would take minutes):
    6,000 expired (5,000 untagged over 7 days, 1,000 build tags over 90 days) and 4,000 kept
    (3,000 recent untagged, 989 recent build tags, 10 old semver releases and `latest`)."""
    from local.demo_images import SeededRepository

    repository = SeededRepository.fresh(account, now=now)
    started = time.perf_counter()
    for n in range(5_000):
        repository.image(f"untagged-old-{n}", days=8 + n % 390, size=150_000_000 + n)
    for n in range(1_000):
        repository.image(f"tagged-old-{n}", f"build-{n}", days=91 + n % 300, size=160_000_000 + n)
    for n in range(3_000):
        repository.image(f"untagged-new-{n}", days=(n % 6) + 0.5, size=170_000_000 + n)
    for n in range(989):
        repository.image(f"tagged-new-{n}", f"build-new-{n}", days=10 + n % 70, size=165_000_000 + n)
    for n in range(10):
        repository.image(f"release-{n}", f"v1.{n}.0", days=300 - n, size=180_000_000 + n)
    repository.image("latest", "latest", days=1, size=190_000_000)
    return {"images": len(repository.digests()), "seed_seconds": round(time.perf_counter() - started, 2)}


def peak_rss_kb() -> int:
    """This process's peak resident set. Linux keeps `ru_maxrss` across fork and exec (a child of a big
    parent starts with the parent's figure), so read the kernel's own high-water mark when there is one."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # macOS reports bytes, Linux kB


def child(mode: str, traced: bool) -> dict[str, Any]:
    """One purge run in this (fresh) process; prints what it measured as JSON. tracemalloc keeps a
    traceback per allocation, which costs memory of its own: RSS is measured in runs without it."""
    baseline_kb = peak_rss_kb()
    from warden.adapters.clients import client
    from warden.domain.images import PurgeTrigger
    from warden.observability import logger
    from warden.settings import Settings
    from warden.usecases.purge_images import purge_images
    from warden.wiring import purge_images_deps

    logger.setLevel("WARNING")
    calls: Counter[str] = Counter()

    def count_call(event_name: str, **_: Any) -> None:
        # event_name is "before-call.<service>.<Operation>"
        calls[event_name.removeprefix("before-call.")] += 1

    for service in ("ecr", "apprunner", "dynamodb", "sns"):
        client(service).meta.events.register("before-call", count_call)
    settings = Settings.from_env()
    deps = purge_images_deps(settings)
    imported_kb = peak_rss_kb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = purge_images(deps, settings, datetime.now(UTC), trigger=PurgeTrigger.SCHEDULE)
    wall = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    peak_kb = peak_rss_kb()
    memory = {
        "peak_rss_at_start_mb": round(baseline_kb / 1024, 1),
        "peak_rss_after_imports_mb": round(imported_kb / 1024, 1),
        "peak_rss_of_the_process_mb": round(peak_kb / 1024, 1),
    }
    if traced:
        memory = {"tracemalloc_peak_of_the_run_mb": round(traced_peak / 2**20, 1)}
    return {
        "mode": mode,
        "outcome": result.outcome.value,
        "planned": result.planned,
        "deleted": result.deleted,
        "failed": result.failed,
        "bytes_deleted": result.bytes_deleted,
        "wall_seconds": round(wall, 2),
        "calls_by_operation": dict(sorted(calls.items())),
        "calls_total": sum(calls.values()),
        "memory": memory,
    }


def run_child(env: dict[str, str], mode: str, *, traced: bool = False) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.images", "--child", mode, *(["--traced"] if traced else [])],
        cwd=ROOT,
        env={**os.environ, **env, "IMAGE_PURGE_MODE": mode, "PYTHONPATH": f"{ROOT / 'layers' / 'warden'}:{ROOT}"},
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def expected_on_real_ecr() -> dict[str, Any]:
    """The ECR calls a purge of this repository needs on real ECR, whatever Warden's bookkeeping around them."""
    pages = math.ceil(IMAGES / PAGE)
    deletes = math.ceil(TO_DELETE / BATCH)
    resolve = 1  # ecr.DescribeImages of the running tag
    return {
        "ecr.DescribeImages pages": pages,
        "ecr.DescribeImages to resolve the running tag": resolve,
        "ecr.BatchDeleteImage batches": deletes,
        "ecr_calls_delete_run": pages + resolve + deletes,
        "ecr_calls_plan_run": pages + resolve,
    }


def ecr_calls(run: dict[str, Any]) -> int:
    return sum(count for operation, count in run["calls_by_operation"].items() if operation.startswith("ecr."))


def main() -> int:
    from moto.ecr.models import ecr_backends

    from local.account import ACCOUNT_ID, REGION, REPOSITORY, local_servers, seed_account
    from local.demo_images import run_image
    from local.deployment_events import record_deployed

    load_before = load_average()
    with local_servers() as servers:
        account = seed_account(servers)
        now = datetime.now(UTC)
        seeded = seed(account, now)
        run_image(account, "latest")
        record_deployed(account)  # the purge holds every deletion until a deployment is on record
        env = account.env()
        as_moto_answers = run_child(env, "plan")
        page_like_ecr()
        plan = run_child(env, "plan")
        traced = run_child(env, "plan", traced=True)
        delete = run_child(env, "delete")
        left = len(ecr_backends[ACCOUNT_ID][REGION].repositories[REPOSITORY].images)  # the server's own state
    load_after = load_average()
    target = expected_on_real_ecr()
    moto_pages = as_moto_answers["calls_by_operation"].get("ecr.DescribeImages", 0) - 1
    plan["memory"].update(traced["memory"])
    for run in (plan, delete):
        run["ecr_calls"] = ecr_calls(run)
        run["bookkeeping_calls"] = run["calls_total"] - run["ecr_calls"]
    results = {
        "load_average_before_and_after": [load_before, load_after],
        "repository": {
            "images": seeded["images"],
            "should_go": TO_DELETE,
            "left_after_delete_run": left,
            "seeded_through_moto_backend_in_seconds": seeded["seed_seconds"],
        },
        "plan_run_moto_single_page": as_moto_answers,
        "plan_run": plan,
        "delete_run": delete,
        "target_on_real_ecr": target,
        "notes": [
            f"moto ignores maxResults and answered describe_images with {moto_pages} page of {IMAGES:,} "
            "images (plan_run_moto_single_page). The other runs patch moto's describe_images, in the server "
            f"process, to page as ECR does; Warden's paginator asks for PageSize {PAGE:,}, so real ECR needs "
            f"{target['ecr.DescribeImages pages']} pages.",
            "target_on_real_ecr counts ECR calls only; bookkeeping_calls are the run's App Runner, DynamoDB and "
            "SNS calls (lock, memos, deployment history, action record, one summary), as measured.",
            "BatchDeleteImage is counted per call; each takes at most 100 digests.",
            f"Memory target: peak RSS of the purge's process under {MEMORY_TARGET_MB} MB "
            "(the Lambda function has 256 MB).",
        ],
    }
    quoted = {
        "images_in_repository": seeded["images"],
        "images_to_delete": TO_DELETE,
        "images_deleted": delete["deleted"],
        "images_left_after_delete_run": left,
        "images_delete_run_calls": delete["calls_total"],
        "images_delete_run_ecr_calls": delete["ecr_calls"],
        "images_delete_run_ecr_target": target["ecr_calls_delete_run"],
        "images_delete_run_bookkeeping_calls": delete["bookkeeping_calls"],
        "images_describe_pages": delete["calls_by_operation"].get("ecr.DescribeImages", 0) - 1,
        "images_batch_delete_calls": delete["calls_by_operation"].get("ecr.BatchDeleteImage", 0),
        "images_plan_run_calls": plan["calls_total"],
        "images_plan_run_ecr_calls": plan["ecr_calls"],
        "images_plan_run_calls_moto_single_page": as_moto_answers["calls_total"],
        "images_plan_run_s": round(plan["wall_seconds"], 1),
        "images_delete_run_s": round(delete["wall_seconds"], 1),
        "images_peak_rss_mb": round(delete["memory"]["peak_rss_of_the_process_mb"]),
        "images_plan_peak_rss_mb": round(plan["memory"]["peak_rss_of_the_process_mb"]),
        "images_peak_rss_after_imports_mb": round(plan["memory"]["peak_rss_after_imports_mb"]),
        "images_tracemalloc_peak_mb": round(plan["memory"]["tracemalloc_peak_of_the_run_mb"]),
        "images_peak_rss_moto_single_page_mb": round(as_moto_answers["memory"]["peak_rss_of_the_process_mb"]),
        "images_memory_target_mb": MEMORY_TARGET_MB,
    }
    return write_results(RESULTS, results, quoted=quoted)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], traced="--traced" in sys.argv)))
        sys.exit(0)
    sys.exit(main())
