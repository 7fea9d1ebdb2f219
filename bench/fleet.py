"""Benchmark: one stack's reconcile over a fleet of 200 services (issue 15).

    .venv/bin/python -m bench.fleet            # 1 first reconcile + 4 with nothing changed
    .venv/bin/python -m bench.fleet --runs 2   # 1 + 2

The local account (moto's server and the App Runner emulator, in this process) holds 150 App Runner services and
50 ECS services in two clusters (30 and 20), 120 of them tagged `warden:guard`=`true` (90 App Runner, 30 ECS) with a
mix of per-service tags (their own budget, office hours, alarm actions); the rest untagged or tagged `false`.
SERVICE_ARN is empty: the stack guards the tagged services alone. ALARM_TOPIC_ARN is set, so the reconcile keeps
the managed alarms of every guarded service where that code has landed. The tagged office hours are 08:00-18:00
every day in a fixed-offset zone where it is about noon when the bench starts, so that every run is inside them
and each run does the same work (a frozen clock would need time-machine in the measured process: 7 MB more).

Each reconcile is the real run_schedule handler in a fresh python process (a cold Lambda container: the handler's
import, then one invocation), which imports only the function and the layer (no moto, no emulator, nothing of the
bench but a counter at botocore's API-call layer).
Measured per run:
1. discovery's AWS calls, per platform (the adapters' own count, `Discovery.calls`, which includes botocore's
   retries), beside the API calls counted at botocore's API-call layer, and the lower bound:
   App Runner ceil(services / 20) ListServices pages + one ListTagsForResource per service;
   ECS ceil(clusters / 100) ListClusters pages + per cluster ceil(services / 100) ListServices pages and
   ceil(services / 10) DescribeServices (include=TAGS);
2. the handler invocation's wall time (after the import; the import is recorded beside it) and the process's peak
   resident memory, against the function's 128 MB, beside the same stack's reconcile of its one SERVICE_ARN. The
   peak is the process's VmHWM (/proc/self/status), not getrusage: Linux carries a process's ru_maxrss across exec,
   so a child started from this process (which holds moto and the emulator) reports this process's size;
3. alarm writes (PutMetricAlarm and DeleteAlarms) on the reconciles after the first, with nothing changed: the
   target is zero. Only meaningful once the reconcile keeps managed alarms: when the first reconcile wrote none,
   the figure is left as a TODO for the lead.
Results go to bench/results/fleet.json. Wall times move with the machine's load (recorded); call counts do not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "fleet.json"
APP_RUNNER, ECS_CLUSTERS = 150, {"prod": 30, "batch": 20}
TAGGED_APP_RUNNER, TAGGED_PER_CLUSTER = 90, {"prod": 18, "batch": 12}
DESCRIBE_BATCH, LIST_PAGE, APP_RUNNER_PAGE = 10, 100, 20
LAMBDA_MEMORY_MB = 128
TEAM_BUDGET = "team-b-monthly"

# The reconcile in a fresh process: the function's folder and the layer on sys.path, nothing of local/ or moto.
CHILD = r"""
import json, os, resource, sys, time
sys.path[:0] = json.loads(os.environ["BENCH_PATH"])

def hwm_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

class Context:
    function_name = "run_schedule"
    memory_limit_in_mb = 128
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:run_schedule"
    log_group_name = "/aws/lambda/run_schedule"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 900_000

wall = time.perf_counter()
import app
init_wall = time.perf_counter() - wall

import botocore.client
calls = {}
original = botocore.client.BaseClient._make_api_call
def counting(self, operation, params):
    key = self.meta.service_model.service_name + ":" + operation
    if key == "ecs:DescribeServices" and "TAGS" in (params.get("include") or []):
        key += "(include=TAGS)"
    calls[key] = calls.get(key, 0) + 1
    return original(self, operation, params)
botocore.client.BaseClient._make_api_call = counting

discoveries = []
import warden.usecases.fleet as fleet
if hasattr(fleet, "_discover"):
    discover = fleet._discover
    def recorded(ports):
        found = discover(ports)
        discoveries.extend(
            {"platform": d.platform, "calls": d.calls, "services": len(d.services), "complete": d.complete,
             "guard_tagged": sum(s.guard_tagged for s in d.services), "failures": list(d.failures)}
            for d in found
        )
        return found
    fleet._discover = recorded

cpu, wall = time.process_time(), time.perf_counter()
error, result = None, None
try:
    result = app.lambda_handler({"job": "reconcile"}, Context())
except Exception as raised:
    error = repr(raised)
invoke_cpu, invoke_wall = time.process_time() - cpu, time.perf_counter() - wall
with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump({"init_wall_s": init_wall, "invoke_wall_s": invoke_wall, "invoke_cpu_s": invoke_cpu,
               "peak_rss_kb": hwm_kb(), "calls": calls, "discoveries": discoveries, "error": error,
               "result": result}, out)
"""


def noon_hours(now: datetime) -> str:
    """Office hours, every day, in the fixed-offset zone where `now` is between 12:00 and 13:00."""
    offset = 12 - now.hour  # hours ahead of UTC
    # POSIX zone names count the other way: Etc/GMT-5 is five hours ahead of UTC.
    return f"MON-SUN 08:00-18:00 {'UTC' if offset == 0 else f'Etc/GMT{-offset:+d}'}"


def seed(account: Any) -> dict[str, Any]:
    """The fleet on the local account; returns what was seeded, by platform."""
    from local.account import ACCOUNT_ID, IMAGE, patched_environ

    hours = noon_hours(datetime.now(UTC))

    def guard_tags(index: int) -> dict[str, str]:
        tags = {"warden:guard": "true", "team": f"team-{index % 7}"}
        if index % 3 == 0:
            tags["warden:budget"] = TEAM_BUDGET
        if index % 4 == 0:
            tags["warden:hours"] = hours
        if index % 5 == 0:
            tags["warden:alarm-actions"] = "*-cpu=pause"
        return tags

    def other_tags(index: int) -> dict[str, str]:
        return {"warden:guard": "false"} if index % 2 else {"owner": "ops"}

    emulator = account.emulator
    # The account's own consultation-app is one of the untagged App Runner services.
    for index in range(APP_RUNNER - 1):
        tags = guard_tags(index) if index < TAGGED_APP_RUNNER else other_tags(index)
        emulator.seed_service(f"fleet-app-{index:03d}", IMAGE, tags=tags)
    ecs = account.client("ecs")
    definition = ecs.register_task_definition(
        family="fleet-app",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "web", "image": IMAGE, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    for cluster, count in ECS_CLUSTERS.items():
        ecs.create_cluster(clusterName=cluster)
        for index in range(count):
            tags = guard_tags(index) if index < TAGGED_PER_CLUSTER[cluster] else other_tags(index)
            with patched_environ({"MOTO_ECS_SERVICE_RUNNING": "1"}):
                ecs.create_service(
                    cluster=cluster,
                    serviceName=f"{cluster}-svc-{index:02d}",
                    taskDefinition=definition,
                    desiredCount=1,
                    launchType="FARGATE",
                    tags=[{"key": key, "value": value} for key, value in tags.items()],
                )
    account.client("budgets").create_budget(
        AccountId=ACCOUNT_ID,
        Budget={
            "BudgetName": TEAM_BUDGET,
            "BudgetLimit": {"Amount": "50.00", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {"ActualSpend": {"Amount": "3.00", "Unit": "USD"}},
        },
    )
    listed = account.client("apprunner").list_services(MaxResults=20)
    assert listed["ServiceSummaryList"], "the emulator lists the seeded services"
    return {
        "app_runner_services": APP_RUNNER,
        "app_runner_tagged": TAGGED_APP_RUNNER,
        "ecs_clusters": dict(ECS_CLUSTERS),
        "ecs_tagged": dict(TAGGED_PER_CLUSTER),
        "tagged": TAGGED_APP_RUNNER + sum(TAGGED_PER_CLUSTER.values()),
        "tags": "every 3rd tagged service warden:budget, every 4th warden:hours, every 5th warden:alarm-actions",
        "hours_tag": hours,
        "services": APP_RUNNER + sum(ECS_CLUSTERS.values()),
    }


def lower_bounds() -> dict[str, int]:
    app_runner = math.ceil(APP_RUNNER / APP_RUNNER_PAGE) + APP_RUNNER
    ecs = math.ceil(len(ECS_CLUSTERS) / LIST_PAGE) + sum(
        max(1, math.ceil(n / LIST_PAGE)) + math.ceil(n / DESCRIBE_BATCH) for n in ECS_CLUSTERS.values()
    )
    return {"App Runner": app_runner, "ECS": ecs, "total": app_runner + ecs}


def reconcile_once(env: dict[str, str], work: Path) -> dict[str, Any]:
    """One cold reconcile in a fresh process; what it measured about itself, and its process's wall time."""
    out = work / f"run-{time.monotonic_ns()}.json"
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **env,
        "BENCH_PATH": json.dumps([str(ROOT / "functions" / "run_schedule"), str(ROOT / "layers" / "warden")]),
        "BENCH_OUT": str(out),
        "AWS_LAMBDA_FUNCTION_NAME": "run_schedule",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(LAMBDA_MEMORY_MB),
        # Lambda's log level for the stack is INFO; the bench keeps the log out of the pipe's way.
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", CHILD], env=child_env, capture_output=True, text=True, timeout=600, check=False
    )
    process_wall = time.perf_counter() - start
    if completed.returncode != 0 or not out.is_file():
        raise SystemExit(f"the reconcile process failed:\n{completed.stderr[-3000:]}\n{completed.stdout[-2000:]}")
    measured: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if measured["error"]:
        raise SystemExit(f"the reconcile raised {measured['error']}:\n{completed.stdout[-3000:]}")
    measured["process_wall_s"] = process_wall
    return measured


def discovery_of(run: dict[str, Any]) -> dict[str, Any]:
    """Discovery's calls per platform, as the adapters counted them and as botocore's API-call layer saw them."""
    calls = Counter(run["calls"])
    by_platform = {d["platform"]: d for d in run["discoveries"]}
    seen = {
        "App Runner": calls["apprunner:ListServices"] + calls["apprunner:ListTagsForResource"],
        "ECS": calls["ecs:ListClusters"] + calls["ecs:ListServices"] + calls["ecs:DescribeServices(include=TAGS)"],
    }
    return {
        platform: {
            "adapter_calls": by_platform.get(platform, {}).get("calls"),
            "api_calls": seen[platform],
            "services_found": by_platform.get(platform, {}).get("services"),
            "guard_tagged": by_platform.get(platform, {}).get("guard_tagged"),
            "complete": by_platform.get(platform, {}).get("complete"),
            "failures": by_platform.get(platform, {}).get("failures"),
        }
        for platform in ("App Runner", "ECS")
    }


def alarm_writes(run: dict[str, Any]) -> int:
    # botocore names CloudWatch's service "cloudwatch" (its endpoint prefix is "monitoring").
    return int(run["calls"].get("cloudwatch:PutMetricAlarm", 0) + run["calls"].get("cloudwatch:DeleteAlarms", 0))


def bench(runs: int) -> dict[str, Any]:
    from local.account import local_servers, seed_account
    from warden.observability import logger

    logger.setLevel("WARNING")
    with (
        local_servers() as servers,
        contextlib.redirect_stdout(io.StringIO()),
        tempfile.TemporaryDirectory() as folder,
    ):
        account = seed_account(servers, actual_spend="0.00")
        alarm_topic = account.client("sns").create_topic(Name="warden-alarms")["TopicArn"]
        work = Path(folder)
        # The same stack guarding its one SERVICE_ARN, before any other service exists: a reconcile that is not a
        # fleet's, to compare with. Twice: moto's server builds each service's backend at its first request (seconds).
        reconcile_once({**account.env(), "ALARM_TOPIC_ARN": alarm_topic}, work)
        single = reconcile_once({**account.env(), "ALARM_TOPIC_ARN": alarm_topic}, work)
        seeding = time.perf_counter()
        seeded = seed(account)
        seeding = time.perf_counter() - seeding
        # The fleet's stack: no SERVICE_ARN (the one service above is untagged now, one of the 200).
        account.client("dynamodb").delete_item(
            TableName=account.table_name, Key={"PK": {"S": "FLEET"}, "SK": {"S": "MEMBERS"}}
        )
        env = {**account.env(), "SERVICE_ARN": "", "ALARM_TOPIC_ARN": alarm_topic}
        first = reconcile_once(env, work)
        steady = [reconcile_once(env, work) for _ in range(runs)]
        alarms_kept = len(
            [
                alarm
                for page in account.client("cloudwatch").get_paginator("describe_alarms").paginate()
                for alarm in page["MetricAlarms"]
            ]
        )
    return {
        "single": single,
        "seeded": seeded,
        "seeding_s": round(seeding, 1),
        "first": first,
        "steady": steady,
        "alarms_in_cloudwatch_after": alarms_kept,
    }


def summarise(measured: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    first, steady = measured["first"], measured["steady"]
    bound = lower_bounds()
    discovery = discovery_of(steady[0])
    adapter_total = sum(platform["adapter_calls"] or 0 for platform in discovery.values())
    same_every_run = all(discovery_of(run) == discovery for run in [first, *steady])
    result = first["result"] or {}
    joined = len(result.get("joined") or [])
    members = len(result.get("services") or [])
    peak_mb = max(run["peak_rss_kb"] for run in [first, *steady]) / 1024
    managed = alarm_writes(first) > 0 or result.get("alarms") is not None
    steady_writes = [alarm_writes(run) for run in steady]
    handler_steady = statistics.median(run["invoke_wall_s"] for run in steady)
    quoted: dict[str, Any] = {
        "fleet_services": measured["seeded"]["services"],
        "fleet_guarded": members,
        "fleet_discovery_calls": adapter_total,
        "fleet_discovery_lower_bound": bound["total"],
        "fleet_discovery_apprunner_calls": discovery["App Runner"]["adapter_calls"],
        "fleet_discovery_apprunner_lower_bound": bound["App Runner"],
        "fleet_discovery_ecs_calls": discovery["ECS"]["adapter_calls"],
        "fleet_discovery_ecs_lower_bound": bound["ECS"],
        "fleet_reconcile_first_s": round(first["invoke_wall_s"], 1),
        "fleet_reconcile_median_s": round(handler_steady, 1),
        "fleet_reconcile_peak_rss_mb": round(peak_mb),
        "single_service_reconcile_peak_rss_mb": round(measured["single"]["peak_rss_kb"] / 1024),
        "fleet_reconcile_memory_limit_mb": LAMBDA_MEMORY_MB,
        "fleet_reconcile_runs": 1 + len(steady),
    }
    if managed:
        quoted["fleet_alarm_writes_first"] = alarm_writes(first)
        quoted["fleet_alarm_writes_unchanged"] = max(steady_writes)
    else:
        quoted["fleet_alarm_writes_first"] = "TODO: the reconcile kept no managed alarms when this ran"
        quoted["fleet_alarm_writes_unchanged"] = "TODO (lead): rerun once the reconcile keeps managed alarms"
    details = {
        "lower_bound": {
            **bound,
            "formula": (
                "App Runner: ceil(150 / 20) ListServices pages + 150 ListTagsForResource; ECS: ceil(2 / 100) "
                "ListClusters + per cluster ceil(n / 100) ListServices + ceil(n / 10) DescribeServices (30 and 20)"
            ),
        },
        "discovery_per_reconcile": discovery,
        "discovery_same_every_run": same_every_run,
        "first_reconcile": {
            "joined": joined,
            "members": members,
            "outcome": result.get("outcome"),
            "reason": result.get("reason"),
            "alarms": result.get("alarms"),
            "alarm_writes": alarm_writes(first),
            "init_wall_s": round(first["init_wall_s"], 3),
            "invoke_wall_s": round(first["invoke_wall_s"], 3),
            "invoke_cpu_s": round(first["invoke_cpu_s"], 3),
            "process_wall_s": round(first["process_wall_s"], 3),
            "peak_rss_mb": round(first["peak_rss_kb"] / 1024, 1),
            "api_calls": dict(sorted(first["calls"].items())),
        },
        "unchanged_reconciles": {
            "runs": len(steady),
            "invoke_wall_s": [round(run["invoke_wall_s"], 3) for run in steady],
            "invoke_wall_median_s": round(handler_steady, 3),
            "invoke_cpu_median_s": round(statistics.median(run["invoke_cpu_s"] for run in steady), 3),
            "init_wall_median_s": round(statistics.median(run["init_wall_s"] for run in steady), 3),
            "process_wall_median_s": round(statistics.median(run["process_wall_s"] for run in steady), 3),
            "peak_rss_mb": [round(run["peak_rss_kb"] / 1024, 1) for run in steady],
            "alarm_writes": steady_writes,
            "alarms": [(run["result"] or {}).get("alarms") for run in steady],
            "reasons": sorted({str((run["result"] or {}).get("reason")) for run in steady}),
            "api_calls_first_of_them": dict(sorted(steady[0]["calls"].items())),
        },
        "memory": {
            "peak_rss_mb_max": round(peak_mb, 1),
            "single_service_reconcile_peak_rss_mb": round(measured["single"]["peak_rss_kb"] / 1024, 1),
            "single_service_reconcile_invoke_wall_s": round(measured["single"]["invoke_wall_s"], 3),
            "single_service_reconcile_api_calls": dict(sorted(measured["single"]["calls"].items())),
            "lambda_memory_mb": LAMBDA_MEMORY_MB,
            "headroom_mb": round(LAMBDA_MEMORY_MB - peak_mb, 1),
        },
        "alarms_in_cloudwatch_after": measured["alarms_in_cloudwatch_after"],
        "managed_alarms_in_reconcile": managed,
    }
    return quoted, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=4, help="reconciles after the first, nothing changed (default 4)")
    arguments = parser.parse_args(argv)
    load_before = load_average()
    started = time.perf_counter()
    measured = bench(max(1, arguments.runs))
    quoted, details = summarise(measured)
    results = {
        "method": (
            "the local account (moto's server and the App Runner emulator in this process) seeded with 150 App Runner "
            "and 50 ECS services, 120 tagged warden:guard=true; SERVICE_ARN empty, ALARM_TOPIC_ARN set; each reconcile "
            "is the run_schedule handler in a fresh python process (import, then one invocation); calls counted at "
            "botocore's API-call layer in that process and by the discovery adapters (retries included); memory is "
            "the process's VmHWM"
        ),
        "note": (
            "moto answers DescribeAlarms in one page whatever MaxRecords says; CloudWatch pages at 100, so an "
            f"unchanged reconcile lists these {details['alarms_in_cloudwatch_after']} alarms in "
            f"{max(1, math.ceil(details['alarms_in_cloudwatch_after'] / 100))} DescribeAlarms calls on AWS, "
            "1 here (reads, not writes)"
        ),
        "load_average_before_and_after": [load_before, load_average()],
        "seconds": round(time.perf_counter() - started, 1),
        "seeded": measured["seeded"],
        "seeding_s": measured["seeding_s"],
        **details,
    }
    return write_results(RESULTS, results, quoted=quoted)


if __name__ == "__main__":
    sys.exit(main())
