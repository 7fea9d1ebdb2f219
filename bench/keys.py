"""Access-key audit at scale: 1,000 IAM users with 2,000 keys (a quarter overdue) on moto's server.

    .venv/bin/python -m bench.keys                 # Warden, then Cloud Custodian; writes bench/results/keys.json
    .venv/bin/python -m bench.keys --no-custodian  # Warden only

What is measured, for Warden's real audit_access_keys handler (deactivation off, so it only reads):
- the AWS API calls it makes, counted at moto's server (every request moto answers, by service and
  action), once without a credential report ("cold": IAM first answers STARTED, so Warden waits 1 s)
  and once with the report ready ("warm", as within AWS's 4-hour report window);
- wall time of each run.
Then Cloud Custodian 0.9.53, in its own virtual environment (.venv-bench, created on first use; never a
project dependency), runs equivalent `iam-user` policies against the same server: one with the
`access-key` filter (ListAccessKeys per user), one with the `credential` filter (the report). Both
tools' findings are compared: the users with an active key older than 90 days.

Figures depend on this machine and on moto, not on AWS: they compare call counts and the shape of the
cost (per user, or per account), not AWS latencies. Nothing here is asserted by `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench import ROOT, write_results

RESULTS = ROOT / "bench" / "results" / "keys.json"
BENCH_VENV = ROOT / ".venv-bench"
CUSTODIAN_VERSION = "0.9.53"
USERS = 1000
MAX_AGE_DAYS = 90
OVERDUE_AGE_DAYS = 120


class ServerCalls:
    """Counts every request moto's server answers, by (service, action): the same count for any client."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self) -> Iterator[ServerCalls]:
        from moto.core.responses import BaseResponse

        original = BaseResponse.call_action

        def counting(response: Any) -> Any:
            with self._lock:
                self.counts[(str(response.service_name), response._get_action())] += 1
            return original(response)

        BaseResponse.call_action = counting  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseResponse.call_action = original  # type: ignore[method-assign]

    def take(self) -> Counter[tuple[str, str]]:
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return taken


def seed_users(now: datetime) -> set[str]:
    """1,000 users with 2 keys each, through moto's backend objects (milliseconds, not minutes of API calls).

    Key 1 of every other user is 120 days old (500 overdue keys: a quarter of 2,000); every other key is
    5-70 days old. All keys were used in the last few days. Returns the users with an overdue key.
    """
    from moto.iam.models import AccessKeyLastUsed

    from local.account import REGION
    from local.demo_keys import clear_users, iam_backend

    clear_users()
    backend = iam_backend()
    naive = now.astimezone(UTC).replace(tzinfo=None)
    overdue: set[str] = set()
    for number in range(USERS):
        name = f"user-{number:04}"
        backend.create_user(region_name=REGION, user_name=name)
        ages = (OVERDUE_AGE_DAYS if number % 2 == 0 else 10 + number % 60, 5 + number % 30)
        for age in ages:
            key = backend.create_access_key(name)
            key.create_date = naive - timedelta(days=age, hours=1)
            key.last_used = AccessKeyLastUsed(naive - timedelta(days=1 + number % 3), service="s3", region=REGION)
        if ages[0] >= MAX_AGE_DAYS:
            overdue.add(name)
    return overdue


def by_service(counts: Counter[tuple[str, str]]) -> dict[str, Any]:
    iam = {action: number for (service, action), number in sorted(counts.items()) if service == "iam"}
    other = {f"{service}:{action}": number for (service, action), number in sorted(counts.items()) if service != "iam"}
    return {"iam_calls": sum(iam.values()), "iam": iam, "other_calls": sum(other.values()), "other": other}


def bench_warden(account: Any, calls: ServerCalls) -> dict[str, Any]:
    from local.demo_keys import iam_backend
    from local.invoke import fresh_container, invoke
    from warden.settings import get_settings
    from warden.usecases.audit_keys import audit_access_keys
    from warden.wiring import audit_keys_deps

    runs: dict[str, Any] = {}
    for label in ("cold", "warm"):
        if label == "cold":
            iam_backend().credential_report = None  # no report yet: IAM answers STARTED first
        calls.take()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            result = invoke("audit_access_keys", {"job": "audit-keys"}, account.env())["results"][0]
        seconds = time.perf_counter() - started
        runs[label] = {
            "wall_seconds": round(seconds, 3),
            **by_service(calls.take()),
            "outcome": result["outcome"],
            "active_keys": result["active_keys"],
            "counts": result["counts"],
        }
        account.inbox()  # drain the digest
    # The findings themselves (the handler returns counts only): the same use case, printing only.
    with fresh_container(account.env()), contextlib.redirect_stdout(io.StringIO()):
        settings = get_settings()
        audited = audit_access_keys(audit_keys_deps(settings), settings, datetime.now(UTC), notify=False, apply=False)
    calls.take()
    runs["overdue_users"] = sorted({f.user for f in audited.findings if f.kind.value == "overdue"})
    return runs


CUSTODIAN_POLICIES = {
    "access-key": {
        "name": "old-access-keys-access-key-filter",
        "resource": "iam-user",
        "filters": [
            {"type": "access-key", "key": "Status", "value": "Active"},
            {
                "type": "access-key",
                "match-operator": "and",
                "key": "CreateDate",
                "value_type": "age",
                "value": MAX_AGE_DAYS,
                "op": "greater-than",
            },
        ],
    },
    "credential": {
        "name": "old-access-keys-credential-filter",
        "resource": "iam-user",
        "filters": [
            {"type": "credential", "key": "access_keys.active", "value": True},
            {
                "type": "credential",
                "key": "access_keys.last_rotated",
                "value_type": "age",
                "value": MAX_AGE_DAYS,
                "op": "greater-than",
            },
        ],
    },
}


def custodian() -> Path | None:
    """The custodian executable of .venv-bench, installing c7n there on first use; None when that fails."""
    executable = BENCH_VENV / "bin" / "custodian"
    if executable.is_file():
        return executable
    print(f"creating {BENCH_VENV.name} with c7n=={CUSTODIAN_VERSION} (its own environment, not a project dependency)")
    created = subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=False)
    if created.returncode == 0:
        subprocess.run(
            [str(BENCH_VENV / "bin" / "pip"), "install", "--quiet", f"c7n=={CUSTODIAN_VERSION}"], check=False
        )
    return executable if executable.is_file() else None


def bench_custodian(account: Any, calls: ServerCalls, *, report_delays: tuple[int, ...] = (10, 0)) -> dict[str, Any]:
    executable = custodian()
    if executable is None:
        return {"ran": False, "why": f"c7n=={CUSTODIAN_VERSION} could not be installed into {BENCH_VENV.name}"}
    version = subprocess.run([str(executable), "version"], capture_output=True, text=True, check=False).stdout.strip()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        # botocore >= 1.31 honours AWS_ENDPOINT_URL, which points Custodian at moto like Warden.
        "AWS_ENDPOINT_URL": account.moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    runs: dict[str, Any] = {"ran": True, "version": version}
    variants = [("access-key", CUSTODIAN_POLICIES["access-key"], None)] + [
        (f"credential, report_delay {delay} s", CUSTODIAN_POLICIES["credential"], delay) for delay in report_delays
    ]
    for label, policy, delay in variants:
        if delay is not None:
            policy = {**policy, "filters": [{**f, "report_delay": delay} for f in policy["filters"]]}
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "policy.yml"
            path.write_text(yaml.safe_dump({"policies": [policy]}))
            calls.take()
            started = time.perf_counter()
            completed = subprocess.run(
                [str(executable), "run", "--cache-period", "0", "-s", f"{work}/out", "-r", "us-east-1", str(path)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - started
            counted = calls.take()
            resources = Path(work) / "out" / policy["name"] / "resources.json"
            if completed.returncode != 0 or not resources.is_file():
                runs[label] = {"ran": False, "why": completed.stderr.strip()[-2000:], "exit": completed.returncode}
                continue
            users = sorted(user["UserName"] for user in json.loads(resources.read_text()))
        runs[label] = {"wall_seconds": round(seconds, 3), **by_service(counted), "matched_users": users}
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="benchmark the access-key audit against Cloud Custodian")
    parser.add_argument("--no-custodian", action="store_true", help="measure Warden only")
    args = parser.parse_args(argv)

    from local.account import local_servers, seed_account

    calls = ServerCalls()
    with local_servers() as servers, calls.installed():
        account = seed_account(servers)
        started = time.perf_counter()
        expected = seed_users(datetime.now(UTC))
        seed_seconds = time.perf_counter() - started
        calls.take()
        warden = bench_warden(account, calls)
        skipped = {"ran": False, "why": "skipped (--no-custodian)"}
        theirs = skipped if args.no_custodian else bench_custodian(account, calls)

    found = set(warden.pop("overdue_users"))
    comparison: dict[str, Any] = {"expected_overdue_users": len(expected), "warden_found": len(found)}
    comparison["warden_matches_seed"] = found == expected
    for label, run in theirs.items():
        if isinstance(run, dict) and run.get("matched_users") is not None:
            matched = set(run.pop("matched_users"))
            comparison[f"custodian {label}: found"] = len(matched)
            comparison[f"custodian {label}: same users as warden"] = matched == found
            # IAM calls against IAM calls: Warden's one SNS publish (the digest) has no Custodian counterpart.
            run["iam_calls_ratio_vs_warden_warm"] = round(run["iam_calls"] / max(1, warden["warm"]["iam_calls"]), 1)
            run["time_ratio_vs_warden_warm"] = round(run["wall_seconds"] / warden["warm"]["wall_seconds"], 1)
            run["time_ratio_vs_warden_cold"] = round(run["wall_seconds"] / warden["cold"]["wall_seconds"], 1)
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "setup": {
            "users": USERS,
            "keys": 2 * USERS,
            "overdue_keys": len(expected),
            "seeded_through_moto_backend_seconds": round(seed_seconds, 3),
            "server": "moto (in-process ThreadedMotoServer), calls counted at the server",
        },
        "warden": warden,
        "custodian": theirs,
        "comparison": comparison,
    }
    return write_results(RESULTS, results)


if __name__ == "__main__":
    sys.exit(main())
