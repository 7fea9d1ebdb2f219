"""Access-key audit at scale: 1,000 IAM users with 2,000 keys (a quarter overdue), Warden against Cloud Custodian.

    .venv/bin/python -m bench.keys                 # 5 rounds; writes bench/results/keys.json
    .venv/bin/python -m bench.keys --runs 3        # fewer rounds
    .venv/bin/python -m bench.keys --no-custodian  # Warden only

Whole process against whole process, on the same moto server (ThreadedMotoServer in this process, the same
account, the same users): every run is a fresh interpreter, started and timed from here, so the figures
include what each tool pays to start (interpreter, imports, clients) as well as its API calls.
- Warden, as an operator runs it: `python -m warden audit-keys` (prints only; no digest, no key changed).
- Warden, as Lambda runs it: a fresh interpreter importing functions/audit_access_keys/app.py and invoking
  lambda_handler once with the weekly schedule's event (deactivation off; it sends the digest).
  Each "cold" (no credential report yet: IAM first answers STARTED, so Warden waits 1 s) and "warm" (the
  report ready, as within AWS's 4-hour report window).
- Cloud Custodian 0.9.53, in its own virtual environment (.venv-bench, created on first use; never a project
  dependency): `custodian run` of equivalent `iam-user` policies, one with the `access-key` filter
  (ListAccessKeys per user), one with the `credential` filter (the report) at `report_delay` 0 and at its
  default 10 s.
Rounds interleave the variants (each round runs every one once), so load on this shared machine falls on all
of them alike; medians over the rounds, with the load average before and after. AWS calls are counted at
moto's server (every request it answers, by service and action), the same count for any client. Both tools'
findings are compared: the users with an active key older than 90 days.

Figures depend on this machine and on moto, not on AWS: call counts and the ratios of times measured back to
back are the figures to read; absolute times move with the machine's load. Nothing here is asserted by
`make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
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

import yaml  # type: ignore[import-untyped]

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "keys.json"
BENCH_VENV = ROOT / ".venv-bench"
CUSTODIAN_VERSION = "0.9.53"
USERS = 1000
MAX_AGE_DAYS = 90
OVERDUE_AGE_DAYS = 120
RUNS = 5


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

        BaseResponse.call_action = counting  # type: ignore[method-assign,assignment]
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


# Lambda's handler, run the way Lambda runs it: a fresh interpreter, the function's folder and the layer on
# sys.path, one invocation with the weekly schedule's event. Its result (counts only) is the last line.
HANDLER_CHILD = r"""
import json, os, sys
sys.path[:0] = [os.environ["BENCH_FUNCTION_DIR"]]
import app

class Context:
    function_name = "audit_access_keys"
    memory_limit_in_mb = 128
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:audit_access_keys"
    log_group_name = "/aws/lambda/audit_access_keys"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 300_000

result = app.lambda_handler({"job": "audit-keys"}, Context())["results"][0]
print(json.dumps({"outcome": result["outcome"], "active_keys": result["active_keys"], "counts": result["counts"]}))
"""


def warden_commands() -> dict[str, list[str]]:
    return {
        "cli": [sys.executable, "-m", "warden", "audit-keys"],
        "handler": [sys.executable, "-c", HANDLER_CHILD],
    }


def warden_env(account: Any) -> dict[str, str]:
    """Only what a deployed function or an operator's shell would have: no inherited AWS variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT / "layers" / "warden"),
        "BENCH_FUNCTION_DIR": str(ROOT / "functions" / "audit_access_keys"),
        "POWERTOOLS_LOG_LEVEL": "INFO",
        **account.env(),
    }


def timed_process(command: list[str], env: dict[str, str], calls: ServerCalls) -> dict[str, Any]:
    """One whole process, from its start to its exit, and the calls the server answered meanwhile."""
    calls.take()
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "calls": calls.take(), "completed": completed}


def warden_findings(account: Any, calls: ServerCalls) -> list[str]:
    """The users Warden finds overdue (the handler returns counts only): the same use case, printing only,
    untimed."""
    from local.invoke import fresh_container
    from warden.observability import logger
    from warden.settings import get_settings
    from warden.usecases.audit_keys import audit_access_keys
    from warden.wiring import audit_keys_deps

    logger.setLevel("WARNING")
    with fresh_container(account.env()), contextlib.redirect_stdout(io.StringIO()):
        settings = get_settings()
        audited = audit_access_keys(audit_keys_deps(settings), settings, datetime.now(UTC), notify=False, apply=False)
    calls.take()
    return sorted({f.user for f in audited.findings if f.kind.value == "overdue"})


CUSTODIAN_POLICIES: dict[str, dict[str, Any]] = {
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


def custodian_variants() -> dict[str, dict[str, Any]]:
    """Label -> policy: the access-key filter, and the credential filter at report_delay 0 and at its default."""
    variants = {"access-key": CUSTODIAN_POLICIES["access-key"]}
    for delay in (0, 10):
        policy = CUSTODIAN_POLICIES["credential"]
        variants[f"credential, report_delay {delay} s"] = {
            **policy,
            "filters": [{**f, "report_delay": delay} for f in policy["filters"]],
        }
    return variants


def custodian_env(account: Any) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        # botocore >= 1.31 honours AWS_ENDPOINT_URL, which points Custodian at moto like Warden.
        "AWS_ENDPOINT_URL": account.moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def custodian_run(
    executable: Path, policy: dict[str, Any], env: dict[str, str], calls: ServerCalls, work: Path
) -> dict[str, Any]:
    """One `custodian run` process; its matched users, or why it failed."""
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        path = Path(scratch) / "policy.yml"
        path.write_text(yaml.safe_dump({"policies": [policy]}))
        command = [str(executable), "run", "--cache-period", "0", "-s", f"{scratch}/out", "-r", "us-east-1", str(path)]
        run = timed_process(command, env, calls)
        resources = Path(scratch) / "out" / policy["name"] / "resources.json"
        completed = run.pop("completed")
        if completed.returncode != 0 or not resources.is_file():
            run["error"] = f"exit {completed.returncode}: {completed.stderr.strip()[-2000:]}"
            return run
        run["matched_users"] = sorted(user["UserName"] for user in json.loads(resources.read_text()))
    return run


def summarize(runs: list[dict[str, Any]], command: str) -> dict[str, Any]:
    """Median and every sample of a variant's runs, and its calls (the same in every run, or said otherwise)."""
    seconds = [run["seconds"] for run in runs]
    counted = [run["calls"] for run in runs]
    return {
        "command": command,
        "runs": len(runs),
        "median_seconds": round(statistics.median(seconds), 3),
        "seconds": [round(value, 3) for value in seconds],
        **by_service(counted[0]),
        "same_calls_every_run": all(count == counted[0] for count in counted),
    }


def compare(
    runs: int, account: Any, calls: ServerCalls, executable: Path | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """`runs` interleaved rounds of every variant; returns Warden's, Custodian's and the findings."""
    from local.demo_keys import iam_backend

    commands = warden_commands()
    env = warden_env(account)
    variants = custodian_variants() if executable is not None else {}
    samples: dict[str, list[dict[str, Any]]] = {}
    handler_results: list[Any] = []
    matched: dict[str, set[str]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as work:
        for round_ in range(runs):
            for label in ("cold", "warm"):
                for kind, command in commands.items():
                    if label == "cold":
                        iam_backend().credential_report = None  # no report yet: IAM answers STARTED first
                    run = timed_process(command, env, calls)
                    completed = run.pop("completed")
                    if completed.returncode != 0:
                        output = f"{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
                        raise SystemExit(f"warden {kind} failed:\n{output}")
                    if kind == "handler":
                        handler_results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
                    samples.setdefault(f"{kind} {label}", []).append(run)
            account.inbox()  # drain the digests
            for label, policy in variants.items():
                assert executable is not None
                run = custodian_run(executable, policy, custodian_env(account), calls, Path(work))
                if "error" in run:
                    errors[label] = run["error"]
                    continue
                matched[label] = set(run.pop("matched_users"))
                samples.setdefault(f"custodian {label}", []).append(run)
            print(f"  round {round_ + 1} of {runs} done", file=sys.stderr, flush=True)
    shown = {"cli": "python -m warden audit-keys", "handler": "python -c <import app; lambda_handler once>"}
    warden: dict[str, Any] = {
        f"{kind} {label}": summarize(samples[f"{kind} {label}"], shown[kind])
        for kind in commands
        for label in ("cold", "warm")
    }
    warden["handler_result"] = handler_results[-1]
    warden["handler_result_same_every_run"] = all(result == handler_results[-1] for result in handler_results)
    theirs: dict[str, Any] = {"ran": executable is not None}
    for label, policy in variants.items():
        if label in errors and f"custodian {label}" not in samples:
            theirs[label] = {"ran": False, "why": errors[label]}
            continue
        theirs[label] = summarize(samples[f"custodian {label}"], f"custodian run ({policy['name']})")
    return warden, theirs, matched


def ratios(warden: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Custodian's medians and IAM calls over Warden's, every variant against every Warden process."""
    table: dict[str, Any] = {}
    for label, run in theirs.items():
        if not isinstance(run, dict) or "median_seconds" not in run:
            continue
        for mine in ("cli warm", "cli cold", "handler warm", "handler cold"):
            table[f"custodian {label} / warden {mine}"] = {
                "time": round(run["median_seconds"] / warden[mine]["median_seconds"], 1),
                "iam_calls": round(run["iam_calls"] / max(1, warden[mine]["iam_calls"]), 1),
            }
    return table


def quoted(
    setup: dict[str, Any], warden: dict[str, Any], theirs: dict[str, Any], comparison: dict[str, Any]
) -> dict[str, int | float | str | bool]:
    """The figures the docs may quote. Calls are machine-independent; seconds and time ratios are not."""
    figures: dict[str, int | float | str | bool] = {
        "keys_users": setup["users"],
        "keys_access_keys": setup["keys"],
        "keys_overdue_keys": setup["overdue_keys"],
        "keys_runs": warden["cli warm"]["runs"],
        "keys_warden_iam_calls_warm": warden["cli warm"]["iam_calls"],
        "keys_warden_iam_calls_cold": warden["cli cold"]["iam_calls"],
        "keys_warden_handler_other_calls": warden["handler warm"]["other_calls"],
    }
    for kind in ("cli", "handler"):
        for label in ("warm", "cold"):
            figures[f"keys_warden_{kind}_{label}_s"] = round(warden[f"{kind} {label}"]["median_seconds"], 2)
    names = {
        "access-key": "access_key",
        "credential, report_delay 0 s": "credential_delay_0",
        "credential, report_delay 10 s": "credential_delay_10",
    }
    for label, name in names.items():
        run = theirs.get(label)
        if not isinstance(run, dict) or "median_seconds" not in run:
            continue
        figures[f"keys_custodian_{name}_iam_calls"] = run["iam_calls"]
        figures[f"keys_custodian_{name}_s"] = round(run["median_seconds"], 1)
        for mine in ("cli", "handler"):
            figures[f"keys_time_ratio_{name}_vs_warden_{mine}"] = round(
                run["median_seconds"] / warden[f"{mine} warm"]["median_seconds"], 1
            )
        figures[f"keys_call_ratio_{name}"] = round(run["iam_calls"] / warden["cli warm"]["iam_calls"])
    if theirs.get("version"):
        figures["keys_custodian_version"] = str(theirs["version"])
    figures["keys_same_users_found"] = all(
        value for key, value in comparison.items() if key.endswith("same users as warden")
    ) and bool(comparison["warden_matches_seed"])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="benchmark the access-key audit against Cloud Custodian")
    parser.add_argument("--no-custodian", action="store_true", help="measure Warden only")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"interleaved rounds (default {RUNS})")
    args = parser.parse_args(argv)

    from local.account import local_servers, seed_account

    executable = None if args.no_custodian else custodian()
    version = None
    if executable is not None:
        version = subprocess.run([str(executable), "version"], capture_output=True, text=True, check=False)
    calls = ServerCalls()
    with local_servers() as servers, calls.installed():
        account = seed_account(servers)
        started = time.perf_counter()
        expected = seed_users(datetime.now(UTC))
        seed_seconds = time.perf_counter() - started
        calls.take()
        found = set(warden_findings(account, calls))
        load_before = load_average()
        warden, theirs, matched = compare(args.runs, account, calls, executable)
        load_after = load_average()
    if executable is None:
        why = "skipped (--no-custodian)" if args.no_custodian else f"c7n=={CUSTODIAN_VERSION} could not be installed"
        theirs = {"ran": False, "why": why}
    elif version is not None:
        theirs["version"] = version.stdout.strip()

    comparison: dict[str, Any] = {"expected_overdue_users": len(expected), "warden_found": len(found)}
    comparison["warden_matches_seed"] = found == expected
    for label, users in matched.items():
        comparison[f"custodian {label}: found"] = len(users)
        comparison[f"custodian {label}: same users as warden"] = users == found
    setup = {
        "users": USERS,
        "keys": 2 * USERS,
        "overdue_keys": len(expected),
        "seeded_through_moto_backend_seconds": round(seed_seconds, 3),
        "server": "moto (ThreadedMotoServer in the bench's process), calls counted at the server",
    }
    results = {
        "method": "whole process against whole process on the same moto server: each run a fresh interpreter "
        "timed from its start to its exit; rounds interleave every variant; medians over the rounds; IAM calls "
        "counted at the server",
        "load_average_before_and_after": [load_before, load_after],
        "setup": setup,
        "warden": warden,
        "custodian": theirs,
        "ratios": ratios(warden, theirs),
        "comparison": comparison,
    }
    return write_results(RESULTS, results, quoted=quoted(setup, warden, theirs, comparison))


if __name__ == "__main__":
    sys.exit(main())
