"""`python -m bench.performance`: cold starts, artifact sizes, memory and Warden's own monthly AWS cost.

Results go to bench/results/performance.json and a Markdown table is printed for the README (Performance).
Not part of `make test`: it builds twice with the SAM CLI of .venv-sam and needs python3.13 on PATH
(PYENV_VERSION=3.11.7:3.13.0 here) and pip's access to PyPI.

(a) Cold-start imports. Two `sam build`s into a temporary folder: the template as it is (the layer's makefile
    build ships python3.13 bytecode) and the same template with the layer's BuildMethod set back to SAM's own
    python3.13 (no bytecode). For each, every function's `import app` runs in a fresh `python3.13 -I -S -B`
    process with sys.path as Lambda sets it (the function, the layer's python/, the runtime's boto3), in the
    deployed environment (tracing off); `-B` because Lambda's /opt and /var/task are read-only. Median of
    --runs runs, interleaved with a bare `import boto3` in the same rounds; the ratio is to that. A second
    figure adds what the first invocation loads before its first AWS call: the function's wiring factory
    (its adapters, boto3 and botocore). The benchmark host is x86_64: the layer's aarch64 pydantic_core
    extension is swapped for the x86_64 wheel of the same version. boto3 (the version of requirements/dev.lock,
    compiled) stands in for the runtime's own copy; the baseline uses the same copy.
(b) Sizes: every built function folder and the layer, unzipped (what counts against Lambda's 250 MB) and
    zipped (what is uploaded).
(c) Monthly cost at the template's default schedules: each function runs in a fresh python3.13 process per
    sample (a cold start: init and first invocation) against moto and the App Runner emulator in this process;
    wall time, CPU time, peak RSS, AWS calls, log bytes and metric names are measured. Lambda's duration is
    estimated twice: as measured on this host's full core, and with CPU time scaled to 128 MB's share of a
    vCPU (1,769 MB = 1 vCPU). Prices (us-east-1) are in PRICES with where they come from.

    PYENV_VERSION=3.11.7:3.13.0 .venv/bin/python -m bench.performance           # 15 runs, 5 samples
    PYENV_VERSION=3.11.7:3.13.0 .venv/bin/python -m bench.performance --quick   # 5 runs, 2 samples

Sizes, AWS calls, memory and the cost's quantities do not depend on the machine's load; milliseconds do, and
the import ratios less so (boto3 is measured in the same rounds). The load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from calendar import monthrange
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "performance.json"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
TARGET_RATIO = 1.8
LAYER_TARGET_BYTES = 15_000_000
FUNCTION_TARGET_BYTES = 100_000
MEMORY_MB = 128
VCPU_MB = 1769  # Lambda gives a function one full vCPU at 1,769 MB, proportionally less below
DAYS_PER_MONTH = 365 / 12

# us-east-1 list prices, from the AWS pricing pages of each service (Lambda, EventBridge, SNS, DynamoDB,
# CloudWatch) as published in 2026; third-party summaries of those pages agree. Free tiers are listed apart.
PRICES: dict[str, dict[str, Any]] = {
    "lambda_arm_gb_second": {"usd": 0.0000133334, "source": "aws.amazon.com/lambda/pricing (Arm, first 7.5B GB-s)"},
    "lambda_request": {"usd": 0.20 / 1e6, "source": "aws.amazon.com/lambda/pricing ($0.20 per 1M requests)"},
    "scheduler_invocation": {"usd": 1.00 / 1e6, "source": "aws.amazon.com/eventbridge/pricing (Scheduler)"},
    "sns_publish": {"usd": 0.50 / 1e6, "source": "aws.amazon.com/sns/pricing (standard topics, per request)"},
    "sns_email": {"usd": 2.00 / 1e5, "source": "aws.amazon.com/sns/pricing ($2.00 per 100,000 e-mails)"},
    "dynamodb_write_unit": {"usd": 0.625 / 1e6, "source": "aws.amazon.com/dynamodb/pricing/on-demand"},
    "dynamodb_read_unit": {"usd": 0.125 / 1e6, "source": "aws.amazon.com/dynamodb/pricing/on-demand"},
    "cloudwatch_alarm_metric": {"usd": 0.10, "source": "aws.amazon.com/cloudwatch/pricing (standard alarm)"},
    "cloudwatch_dashboard": {"usd": 3.00, "source": "aws.amazon.com/cloudwatch/pricing (per dashboard-month)"},
    "cloudwatch_custom_metric": {"usd": 0.30, "source": "aws.amazon.com/cloudwatch/pricing (prorated hourly)"},
    "cloudwatch_logs_ingest_gb": {"usd": 0.50, "source": "aws.amazon.com/cloudwatch/pricing (Logs, standard)"},
}
FREE_TIER = {
    "lambda_requests": 1_000_000,
    "lambda_gb_seconds": 400_000,
    "scheduler_invocations": 14_000_000,
    "sns_publishes": 1_000_000,
    "sns_emails": 1_000,
    "alarm_metrics": 10,
    "dashboards": 3,
    "custom_metrics": 10,
    "logs_gb": 5,
}
# Event-driven invocations a month: assumptions, not measurements (say so in the README).
EVENTS_PER_MONTH = {
    "budget alerts (80 %, forecast 100 %, actual 100 % thresholds)": ("on_budget_alert", 3),
    "alarm state changes (ALARM and OK of a few incidents)": ("on_alarm", 10),
    "App Runner deployments (operation events)": ("on_deployment", 8),
}
LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines per invocation (INIT_START on a cold start)


# --- building --------------------------------------------------------------------------------------


def sam_build(template: Path, build_dir: Path) -> float:
    env = {
        **os.environ,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    command = [
        str(SAM),
        "build",
        "--template-file",
        str(template),
        "--build-dir",
        str(build_dir),
        "--base-dir",
        str(ROOT),
    ]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"sam build failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return time.monotonic() - started


def plain_template(into: Path) -> Path:
    """template.yaml with the layer built by SAM's own python3.13 method (no bytecode), as before."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    plain = text.replace("      BuildMethod: makefile\n", "      BuildMethod: python3.13\n", 1)
    assert plain != text, "the layer's BuildMethod: makefile was not found in template.yaml"
    # Beside links to the project's folders: SAM finds a nested application's Location (templates/...) next to
    # the template that names it, whatever --base-dir says.
    source = into / "source-plain"
    source.mkdir()
    for entry in ROOT.iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            (source / entry.name).symlink_to(entry, target_is_directory=True)
    path = source / "template.yaml"
    path.write_text(plain, encoding="utf-8")
    return path


def python313() -> str:
    found = shutil.which("python3.13")
    probe = subprocess.run(
        [found or "python3.13", "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    if found is None or probe.stdout.strip() != "(3, 13)":
        raise SystemExit("python3.13 is needed on PATH (with pyenv: PYENV_VERSION=3.11.7:3.13.0)")
    return found


def pip_install(target: Path, *requirements: str, no_deps: bool = False) -> None:
    machine = platform.machine().lower()
    wheel_platform = "manylinux2014_aarch64" if machine in {"aarch64", "arm64"} else "manylinux2014_x86_64"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command += ["--target", str(target), "--platform", wheel_platform, "--implementation", "cp"]
    command += ["--python-version", "3.13", "--only-binary=:all:", *(["--no-deps"] if no_deps else []), *requirements]
    subprocess.run(command, check=True, capture_output=True, timeout=900)


def compile_tree(py313: str, folder: Path) -> None:
    command = [py313, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)]
    subprocess.run(command, check=True, timeout=900)


def host_layer(build: Path, into: Path, py313: str, *, bytecode: bool) -> Path:
    """A copy of the built layer's python/ that this host can import: same files, host pydantic_core."""
    site = into / "python"
    shutil.copytree(build / "WardenLayer" / "python", site)
    if platform.machine().lower() not in {"aarch64", "arm64"}:
        (info,) = site.glob("pydantic_core-*.dist-info")
        version = info.name.removesuffix(".dist-info").split("-", 1)[1]
        shutil.rmtree(site / "pydantic_core")
        wheel = into / "pydantic-core-host"
        pip_install(wheel, f"pydantic_core=={version}", no_deps=True)
        shutil.move(str(wheel / "pydantic_core"), str(site / "pydantic_core"))
        if bytecode:
            compile_tree(py313, site / "pydantic_core")
    return site


def runtime_boto3(into: Path, py313: str) -> Path:
    """boto3 as the python3.13 runtime provides it (outside the layer), compiled."""
    lock = (ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")
    version = re.search(r"^boto3==(\S+)$", lock, re.MULTILINE)
    assert version is not None, "boto3 is not pinned in requirements/dev.lock"
    target = into / "runtime"
    pip_install(target, f"boto3=={version.group(1)}")
    compile_tree(py313, target)
    return target


# --- (a) imports -----------------------------------------------------------------------------------

IMPORT_CHILD = r"""
import json, os, sys, time
paths = json.loads(os.environ["BENCH_PATH"]); sys.path[:0] = paths
started = time.perf_counter()
exec(os.environ["BENCH_CODE"])
seconds = time.perf_counter() - started
layer = paths[1] if len(paths) > 2 else None
uncompiled = sorted(
    name for name, module in list(sys.modules.items())
    if layer and (getattr(module, "__file__", None) or "").startswith(layer)
    and (getattr(module, "__file__", "") or "").endswith(".py")
    and not (getattr(module, "__cached__", None) and os.path.exists(module.__cached__))
)
print(json.dumps({"seconds": seconds, "uncompiled": uncompiled}))
"""

DEPLOYED_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
    "POWERTOOLS_SERVICE_NAME": "warden",
    "POWERTOOLS_METRICS_NAMESPACE": "Warden",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "WARDEN_TRACING": "false",
    "SERVICE_ARN": "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef",
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-NotifyTopic-1ABC",
    "STATE_TABLE": "warden-StateTable-1ABC",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": "consultation-app",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def wiring_factory(function_dir: Path) -> str | None:
    found = re.search(r"^from warden\.wiring import (\w+)", (function_dir / "app.py").read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else None


def timed_import(py313: str, paths: list[Path], code: str) -> dict[str, Any]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **DEPLOYED_ENV}
    env |= {"BENCH_PATH": json.dumps([str(path) for path in paths]), "BENCH_CODE": code}
    if "PYENV_VERSION" in os.environ:
        env["PYENV_VERSION"] = os.environ["PYENV_VERSION"]
    completed = subprocess.run(
        [py313, "-I", "-S", "-B", "-c", IMPORT_CHILD], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"import failed ({code}):\n{completed.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def bench_imports(py313: str, builds: dict[str, tuple[Path, Path]], runtime: Path, runs: int) -> dict[str, Any]:
    """Per variant: median seconds of `import boto3` and, per function, of `import app` and of app + wiring."""
    samples: dict[str, dict[str, list[float]]] = {variant: {"boto3": []} for variant in builds}
    uncompiled: dict[str, set[str]] = {variant: set() for variant in builds}
    functions = sorted(path.name for path in next(iter(builds.values()))[0].iterdir() if path.name.endswith("Function"))
    for _ in range(runs):
        for variant, (build, site) in builds.items():
            samples[variant]["boto3"].append(timed_import(py313, [runtime], "import boto3")["seconds"])
            for function in functions:
                folder = build / function
                paths = [folder, site, runtime]
                app = timed_import(py313, paths, "import app")
                samples[variant].setdefault(f"{function}.import", []).append(app["seconds"])
                factory = wiring_factory(folder)
                if factory is not None:
                    code = f"import app\nfrom warden.settings import get_settings\napp.{factory}(get_settings())"
                    deps = timed_import(py313, paths, code)
                    samples[variant].setdefault(f"{function}.with_dependencies", []).append(deps["seconds"])
                    if variant == "bytecode":
                        uncompiled[variant] |= set(deps["uncompiled"])
    results: dict[str, Any] = {}
    for variant, measured in samples.items():
        boto3 = statistics.median(measured["boto3"])
        per_function: dict[str, Any] = {}
        for key, values in measured.items():
            if key == "boto3":
                continue
            function, what = key.split(".")
            median = statistics.median(values)
            per_function.setdefault(function, {})[what] = {
                "median_ms": round(median * 1000, 1),
                "ratio_to_boto3": round(median / boto3, 2),
            }
        results[variant] = {
            "import_boto3_median_ms": round(boto3 * 1000, 1),
            "functions": per_function,
            "layer_modules_imported_without_bytecode": sorted(uncompiled[variant]) if variant == "bytecode" else None,
        }
    results["runs"] = runs
    return results


# --- (b) sizes -------------------------------------------------------------------------------------


def folder_size(folder: Path) -> dict[str, int]:
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder))
    return {
        "files": len(files),
        "unzipped_bytes": sum(path.stat().st_size for path in files),
        "zipped_bytes": buffer.tell(),
    }


def bench_sizes(build: Path) -> dict[str, Any]:
    functions = {path.name: folder_size(path) for path in sorted(build.iterdir()) if path.name.endswith("Function")}
    layer = folder_size(build / "WardenLayer")
    pyc = sum(path.stat().st_size for path in (build / "WardenLayer").rglob("*.pyc"))
    return {"functions": functions, "layer": {**layer, "bytecode_bytes": pyc}}


# --- (c) durations, memory and cost ----------------------------------------------------------------

INVOKE_CHILD = r"""
import json, os, resource, sys, time
sys.path[:0] = json.loads(os.environ["BENCH_PATH"])

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 300_000

event = json.loads(open(os.environ["BENCH_EVENT"]).read())
cpu, wall = time.process_time(), time.perf_counter()
import app
init_cpu, init_wall = time.process_time() - cpu, time.perf_counter() - wall
calls = {}
cpu, wall = time.process_time(), time.perf_counter()
import botocore.client
original = botocore.client.BaseClient._make_api_call
def counting(self, operation, params):
    key = self.meta.service_model.service_name + "." + operation
    calls[key] = calls.get(key, 0) + 1
    return original(self, operation, params)
botocore.client.BaseClient._make_api_call = counting
error = None
try:
    app.lambda_handler(event, Context())
except Exception as raised:
    error = repr(raised)
invoke_cpu, invoke_wall = time.process_time() - cpu, time.perf_counter() - wall
layer = json.loads(os.environ["BENCH_PATH"])[1]
uncompiled = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(layer) and (module.__file__ or "").endswith(".py")
    and not (getattr(module, "__cached__", None) and os.path.exists(module.__cached__))
)
with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump({"init_cpu": init_cpu, "init_wall": init_wall, "invoke_cpu": invoke_cpu, "invoke_wall": invoke_wall,
               "peak_rss_kb": hwm_kb(), "calls": calls, "error": error, "uncompiled": uncompiled}, out)
"""


def invoke_cold(
    py313: str, function_dir: Path, site: Path, runtime: Path, event: Any, env: dict[str, str], work: Path
) -> dict[str, Any]:
    event_file, out_file = work / f"event-{uuid.uuid4().hex}.json", work / f"out-{uuid.uuid4().hex}.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    child_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **DEPLOYED_ENV, **env}
    child_env |= {
        "BENCH_PATH": json.dumps([str(function_dir), str(site), str(runtime)]),
        "BENCH_EVENT": str(event_file),
        "BENCH_OUT": str(out_file),
        "AWS_LAMBDA_FUNCTION_NAME": function_dir.name,
    }
    if "PYENV_VERSION" in os.environ:
        child_env["PYENV_VERSION"] = os.environ["PYENV_VERSION"]
    completed = subprocess.run(
        [py313, "-I", "-S", "-B", "-c", INVOKE_CHILD],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0 or not out_file.is_file():
        raise SystemExit(f"{function_dir.name} failed:\n{completed.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(out_file.read_text(encoding="utf-8"))
    measured["log_bytes"] = len(completed.stdout.encode()) + len(completed.stderr.encode())
    measured["metric_names"] = sorted(
        {
            metric["Name"]
            for line in completed.stdout.splitlines()
            if line.startswith('{"_aws"')
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]
            for metric in directive["Metrics"]
        }
    )
    if measured["error"]:
        raise SystemExit(f"{function_dir.name} raised {measured['error']}:\n{completed.stdout[-2000:]}")
    return measured


def billed_seconds(sample: dict[str, Any], *, scaled: bool) -> float:
    """Lambda's billed duration of a cold start (INIT is billed too): wall time on this host, or with the CPU
    part stretched to 128 MB's share of a vCPU."""
    total = 0.0
    for phase in ("init", "invoke"):
        wall, cpu = sample[f"{phase}_wall"], min(sample[f"{phase}_cpu"], sample[f"{phase}_wall"])
        total += (cpu * VCPU_MB / MEMORY_MB + (wall - cpu)) if scaled else wall
    return total


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def scenarios(account: Any, now: datetime) -> dict[str, tuple[str, Callable[[int], Any]]]:
    """What each function does in a month at the default schedules: (function, a fresh event for sample n)."""
    from local.alarm_events import alarm_event
    from local.deployment_events import operation_event
    from local.events import budget_message, sns_event

    def alarm(n: int) -> Any:
        changed = now - timedelta(minutes=10 * n)
        return alarm_event(
            "sns-cpu-alarm", service_arn=account.service_arn, changed_at=changed, message_id=str(uuid.uuid4())
        )

    def budget(n: int) -> Any:
        return sns_event(budget_message(name=account.budget_name, threshold="$8.00", amount="$8.13"))

    def deployment(n: int) -> Any:
        return operation_event("deployment-succeeded", service_arn=account.service_arn, at=now - timedelta(minutes=n))

    return {
        "reconcile": ("run_schedule", lambda n: {"job": "reconcile"}),
        "budget-period-check": ("run_schedule", lambda n: {"job": "budget-period-check"}),
        "audit-keys (1,000 users)": ("audit_access_keys", lambda n: {"job": "audit-keys"}),
        "purge-images plan (10,000 images)": ("purge_images", lambda n: {"job": "purge-images"}),
        "budget alert (warning)": ("on_budget_alert", budget),
        "alarm (ALARM, notify)": ("on_alarm", alarm),
        "deployment succeeded": ("on_deployment", deployment),
    }


def bench_invocations(py313: str, build: Path, site: Path, runtime: Path, samples: int) -> dict[str, Any]:
    from bench.images import page_like_ecr
    from bench.images import seed as seed_images
    from bench.keys import seed_users
    from local.account import local_servers, seed_account
    from local.demo_images import run_image
    from local.deployment_events import record_deployed

    measured: dict[str, Any] = {}
    with local_servers() as servers, quiet(), tempfile.TemporaryDirectory() as scratch:
        account = seed_account(servers)
        now = datetime.now(UTC)
        seed_images(account, now)
        run_image(account, "latest")
        record_deployed(account)  # the purge holds every deletion until a deployment is on record
        page_like_ecr()
        seed_users(now)
        account.client("iam").generate_credential_report()
        env = {**account.env(), "IMAGE_PURGE_MODE": "plan"}
        for name, (function, event) in scenarios(account, now).items():
            folder = build / ("".join(part.title() for part in function.split("_")) + "Function")
            if not folder.is_dir():
                continue
            runs = [invoke_cold(py313, folder, site, runtime, event(n), env, Path(scratch)) for n in range(samples)]
            account.inbox()
            measured[name] = summarize(function, runs)
    return measured


def summarize(function: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    calls: Counter[str] = Counter()
    for run in runs:
        calls.update(run["calls"])
    return {
        "function": function,
        "samples": len(runs),
        "init_ms": round(median("init_wall") * 1000, 1),
        "invoke_ms": round(median("invoke_wall") * 1000, 1),
        "cpu_ms": round((median("init_cpu") + median("invoke_cpu")) * 1000, 1),
        "billed_ms_as_measured": round(statistics.median(billed_seconds(run, scaled=False) for run in runs) * 1000),
        "billed_ms_cpu_scaled_to_128mb": round(
            statistics.median(billed_seconds(run, scaled=True) for run in runs) * 1000
        ),
        "peak_rss_mb": round(max(run["peak_rss_kb"] for run in runs) / 1024, 1),
        "aws_calls": {name: count / len(runs) for name, count in sorted(calls.items())},
        "log_bytes": round(median("log_bytes")),
        "metric_names": sorted({name for run in runs for name in run["metric_names"]}),
        "layer_modules_imported_without_bytecode": sorted({name for run in runs for name in run["uncompiled"]}),
    }


# --- the template at its defaults --------------------------------------------------------------------

_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    if text in {"*", "?"}:
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in {"*", ""}:
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-")
            start, end = (names or {}).get(first, None) or int(first), (names or {}).get(last, None) or int(last)
        else:
            start = (names or {}).get(part, None) or int(part)
            end = high if "/" in text else start
        values |= set(range(start, end + 1, step))
    return values


def runs_per_month(expression: str) -> float:
    """How often a `rate()` or six-field `cron()` schedule fires in an average month (over the year 2027)."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate:
        minutes = int(rate.group(1)) * {"m": 1, "h": 60, "d": 1440}[rate.group(2)[0]]
        return DAYS_PER_MONTH * 1440 / minutes
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    assert cron, expression
    minute, hour, dom, month, dow, _ = cron.group(1).split()
    per_day = len(_field(minute, 0, 59)) * len(_field(hour, 0, 23))
    days = 0
    for month_number in _field(month, 1, 12):
        for day in range(1, monthrange(2027, month_number)[1] + 1):
            moment = date(2027, month_number, day)
            weekday = moment.isoweekday() % 7 + 1  # EventBridge: 1 = SUN
            if (dom == "?" or day in _field(dom, 1, 31)) and (dow == "?" or weekday in _field(dow, 1, 7, _DAYS)):
                days += 1
    return days * per_day / 12


def resolve(value: Any, template: dict[str, Any]) -> Any:
    """A template value at the parameters' defaults (Ref, Sub, If, Equals, Not, And, Or; enough for schedules)."""
    parameters = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    parameters["AWS::Region"] = "us-east-1"
    if isinstance(value, dict):
        ((key, argument),) = value.items()
        if key == "Ref":
            return parameters.get(argument, argument)
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{([^}]+)\}", lambda found: str(parameters.get(found.group(1), found.group(0))), text)
        if key == "Fn::If":
            return resolve(argument[1] if condition(argument[0], template) else argument[2], template)
    return value


def condition(name: str, template: dict[str, Any]) -> bool:
    def evaluate(node: Any) -> Any:
        if isinstance(node, dict):
            ((key, argument),) = node.items()
            if key == "Fn::Equals":
                return str(evaluate(argument[0])) == str(evaluate(argument[1]))
            if key == "Fn::Not":
                return not evaluate(argument[0])
            if key == "Fn::And":
                return all(evaluate(item) for item in argument)
            if key == "Fn::Or":
                return any(evaluate(item) for item in argument)
            if key == "Condition":
                return condition(argument, template)
            return resolve(node, template)
        return node

    return bool(evaluate(template["Conditions"][name]))


def template_at_defaults() -> dict[str, Any]:
    from local.template import load_stack, resources_of_type

    template = load_stack()  # nested applications inlined: their alarms and dashboard are the stack's too
    schedules = []
    for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
        for name, event in function["Properties"].get("Events", {}).items():
            if event["Type"] != "ScheduleV2":
                continue
            properties = event["Properties"]
            enabled = resolve(properties.get("State", "ENABLED"), template) != "DISABLED"
            expression = str(resolve(properties["ScheduleExpression"], template))
            schedules.append(
                {
                    "function": logical_id,
                    "schedule": name,
                    "expression": expression,
                    "input": properties.get("Input"),
                    "enabled_at_defaults": enabled,
                    "runs_per_month": round(runs_per_month(expression), 1) if enabled else 0,
                }
            )
    alarms = []
    for logical_id, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items():
        if "Condition" in alarm and not condition(alarm["Condition"], template):
            continue
        queries = [query for query in alarm["Properties"].get("Metrics", []) if "MetricStat" in query]
        alarms.append({"alarm": logical_id, "alarm_metrics": max(1, len(queries))})
    dashboards = [name for name, _ in resources_of_type(template, "AWS::CloudWatch::Dashboard").items()]
    return {"schedules": schedules, "alarms": alarms, "dashboards": dashboards}


def monthly_cost(invocations: dict[str, Any], counted: dict[str, Any], *, scaled: bool) -> dict[str, Any]:
    """The monthly bill of Warden itself at the defaults, line by line, before and after the free tiers."""
    job_of_input = {"reconcile": "reconcile", "budget-period-check": "budget-period-check"}
    runs: dict[str, float] = {}
    for schedule in counted["schedules"]:
        job = json.loads(schedule["input"] or "{}").get("job", "")
        scenario = {
            "audit-keys": "audit-keys (1,000 users)",
            "purge-images": "purge-images plan (10,000 images)",
        }.get(job, job_of_input.get(job, ""))
        if scenario and schedule["runs_per_month"]:
            runs[scenario] = runs.get(scenario, 0) + schedule["runs_per_month"]
    events = {"on_budget_alert": "budget alert (warning)", "on_alarm": "alarm (ALARM, notify)"}
    events["on_deployment"] = "deployment succeeded"
    for _, (function, count) in EVENTS_PER_MONTH.items():
        runs[events[function]] = runs.get(events[function], 0) + count
    key = "billed_ms_cpu_scaled_to_128mb" if scaled else "billed_ms_as_measured"
    requests = sum(runs.values())
    gb_seconds = sum(
        count * invocations[name][key] / 1000 * MEMORY_MB / 1024 for name, count in runs.items() if name in invocations
    )
    calls: Counter[str] = Counter()
    for name, count in runs.items():
        for call, per_run in invocations.get(name, {}).get("aws_calls", {}).items():
            calls[call] += per_run * count
    dynamodb = {call.removeprefix("dynamodb."): count for call, count in calls.items() if call.startswith("dynamodb.")}
    reads = sum(count for operation, count in dynamodb.items() if operation in {"GetItem", "Query", "Scan"})
    writes = sum(count for operation, count in dynamodb.items() if operation in {"PutItem", "DeleteItem", "UpdateItem"})
    publishes = calls.get("sns.Publish", 0)
    log_gb = (
        sum(
            count * (invocations.get(name, {}).get("log_bytes", 0) + LAMBDA_PLATFORM_LOG_BYTES)
            for name, count in runs.items()
        )
        / 1e9
    )
    alarm_metrics = sum(alarm["alarm_metrics"] for alarm in counted["alarms"])
    scheduler = sum(schedule["runs_per_month"] for schedule in counted["schedules"])
    metric_hours: dict[str, float] = {}
    for name, count in runs.items():
        for metric in invocations.get(name, {}).get("metric_names", []):
            metric_hours[metric] = min(730.0, metric_hours.get(metric, 0) + count)
    custom_metrics = sum(hours / 730 for hours in metric_hours.values())
    price = {name: spec["usd"] for name, spec in PRICES.items()}
    lines = {
        "lambda requests": (
            requests,
            requests * price["lambda_request"],
            max(0, requests - FREE_TIER["lambda_requests"]) * price["lambda_request"],
        ),
        "lambda duration (GB-s)": (
            gb_seconds,
            gb_seconds * price["lambda_arm_gb_second"],
            max(0, gb_seconds - FREE_TIER["lambda_gb_seconds"]) * price["lambda_arm_gb_second"],
        ),
        "eventbridge scheduler invocations": (
            scheduler,
            scheduler * price["scheduler_invocation"],
            max(0, scheduler - FREE_TIER["scheduler_invocations"]) * price["scheduler_invocation"],
        ),
        "sns publishes": (
            publishes,
            publishes * price["sns_publish"],
            max(0, publishes - FREE_TIER["sns_publishes"]) * price["sns_publish"],
        ),
        "sns e-mails (AlertEmail set)": (
            publishes,
            publishes * price["sns_email"],
            max(0, publishes - FREE_TIER["sns_emails"]) * price["sns_email"],
        ),
        "dynamodb write units": (writes, writes * price["dynamodb_write_unit"], writes * price["dynamodb_write_unit"]),
        "dynamodb read units": (reads, reads * price["dynamodb_read_unit"], reads * price["dynamodb_read_unit"]),
        "cloudwatch alarm metrics": (
            alarm_metrics,
            alarm_metrics * price["cloudwatch_alarm_metric"],
            max(0, alarm_metrics - FREE_TIER["alarm_metrics"]) * price["cloudwatch_alarm_metric"],
        ),
        "cloudwatch dashboards": (
            len(counted["dashboards"]),
            len(counted["dashboards"]) * price["cloudwatch_dashboard"],
            len(counted["dashboards"]) * price["cloudwatch_dashboard"],
        ),
        "cloudwatch custom metrics (EMF, metric-months)": (
            custom_metrics,
            custom_metrics * price["cloudwatch_custom_metric"],
            max(0, custom_metrics - FREE_TIER["custom_metrics"]) * price["cloudwatch_custom_metric"],
        ),
        "cloudwatch logs ingested (GB)": (
            log_gb,
            log_gb * price["cloudwatch_logs_ingest_gb"],
            max(0, log_gb - FREE_TIER["logs_gb"]) * price["cloudwatch_logs_ingest_gb"],
        ),
    }
    table = {
        name: {"quantity": round(quantity, 4), "usd": round(usd, 4), "usd_after_free_tier": round(after, 4)}
        for name, (quantity, usd, after) in lines.items()
    }
    return {
        "invocations_per_month": {name: round(count, 1) for name, count in runs.items()},
        "lines": table,
        "total_usd": round(sum(line["usd"] for line in table.values()), 2),
        "total_usd_after_free_tier": round(sum(line["usd_after_free_tier"] for line in table.values()), 2),
        "note": "The dashboard is free in an account with at most 3 dashboards (the free tier counts the account's).",
    }


# --- the README table ------------------------------------------------------------------------------


def _cell(measured: dict[str, Any] | None) -> str:
    return "-" if measured is None else f"{measured['median_ms']:.0f} ms ({measured['ratio_to_boto3']:.2f}×)"


def markdown(results: dict[str, Any]) -> str:
    imports = results["imports"]
    lines = [
        "| function | import, with bytecode | import, fresh `sam build` | import + first invocation's wiring "
        "(bytecode) | built function |",
        "|---|---|---|---|---|",
    ]
    for function, measured in imports["bytecode"]["functions"].items():
        plain = imports["plain"]["functions"][function]["import"]
        size = results["sizes"]["bytecode"]["functions"][function]["unzipped_bytes"]
        wired = _cell(measured.get("with_dependencies"))
        lines.append(f"| {function} | {_cell(measured['import'])} | {_cell(plain)} | {wired} | {size / 1000:.1f} KB |")
    layer = results["sizes"]["bytecode"]["layer"]
    boto3 = imports["bytecode"]["import_boto3_median_ms"]
    lines.append(
        f"\n`import boto3` alone: {boto3:.0f} ms (median of {imports['runs']}). Layer: "
        f"{layer['unzipped_bytes'] / 1e6:.1f} MB unzipped ({layer['bytecode_bytes'] / 1e6:.1f} MB of it bytecode), "
        f"{layer['zipped_bytes'] / 1e6:.1f} MB zipped."
    )
    return "\n".join(lines)


QUICK = {"runs": 5, "samples": 2}
_TEXT: dict[str, Any] = {"capture_output": True, "text": True, "check": True, "timeout": 60}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per import measurement (>= 11)")
    parser.add_argument("--samples", type=int, default=5, help="cold invocations per scenario")
    parser.add_argument("--quick", action="store_true", help=f"fewer runs and samples: {QUICK}")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.runs, arguments.samples = QUICK["runs"], QUICK["samples"]
    elif arguments.runs < 11:
        parser.error("--runs must be at least 11 (or --quick)")
    py313 = python313()
    if not SAM.is_file():
        raise SystemExit("the SAM CLI is missing: run `make venv` first")
    measured_python = subprocess.run([py313, "-c", "import platform; print(platform.python_version())"], **_TEXT)
    results: dict[str, Any] = {
        "mode": {"quick": arguments.quick, "import_runs": arguments.runs, "cold_samples": arguments.samples},
        "measured_python": measured_python.stdout.strip(),
        "load_average_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="warden-perf-") as temporary:
        work = Path(temporary)
        built = {"bytecode": work / "bytecode", "plain": work / "plain"}
        results["build_seconds"] = {
            "bytecode": round(sam_build(ROOT / "template.yaml", built["bytecode"]), 1),
            "plain": round(sam_build(plain_template(work), built["plain"]), 1),
        }
        results["sizes"] = {variant: bench_sizes(folder) for variant, folder in built.items()}
        runtime = runtime_boto3(work, py313)
        sites = {
            variant: host_layer(folder, work / f"host-{variant}", py313, bytecode=variant == "bytecode")
            for variant, folder in built.items()
        }
        print("measuring imports ...", file=sys.stderr)
        results["load_average_before_imports"] = load_average()
        results["imports"] = bench_imports(
            py313, {variant: (built[variant], sites[variant]) for variant in built}, runtime, arguments.runs
        )
        print("measuring cold invocations ...", file=sys.stderr)
        results["load_average_before_invocations"] = load_average()
        invocations = bench_invocations(py313, built["bytecode"], sites["bytecode"], runtime, arguments.samples)
    results["load_average_after"] = load_average()
    results["invocations"] = invocations
    counted = template_at_defaults()
    results["template_at_defaults"] = counted
    results["prices"] = PRICES
    results["free_tier"] = FREE_TIER
    results["event_assumptions_per_month"] = {name: count for name, (_, count) in EVENTS_PER_MONTH.items()}
    results["monthly_cost"] = {
        "as_measured": monthly_cost(invocations, counted, scaled=False),
        "cpu_scaled_to_128mb": monthly_cost(invocations, counted, scaled=True),
    }
    worst = max(
        measured["import"]["ratio_to_boto3"] for measured in results["imports"]["bytecode"]["functions"].values()
    )
    results["targets"] = {
        "import_ratio_at_most": TARGET_RATIO,
        "worst_import_ratio_with_bytecode": worst,
        "import_met": worst <= TARGET_RATIO,
        "layer_under_15_mb": results["sizes"]["bytecode"]["layer"]["unzipped_bytes"] < LAYER_TARGET_BYTES,
        "functions_under_100_kb": all(
            size["unzipped_bytes"] < FUNCTION_TARGET_BYTES
            for size in results["sizes"]["bytecode"]["functions"].values()
        ),
        "peak_rss_mb": max(measured["peak_rss_mb"] for measured in invocations.values()),
    }
    write_results(RESULTS, results, quoted=quoted(results), show=False)
    print(markdown(results))
    print(json.dumps(results["monthly_cost"], indent=2))
    return 0


def _slug(text: str) -> str:
    """`audit-keys (1,000 users)` -> `audit_keys`; `AuditAccessKeysFunction` -> `audit_access_keys`."""
    text = re.sub(r"Function$", "", text.split(" (")[0])
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def quoted(results: dict[str, Any]) -> dict[str, int | float | str | bool]:
    """The figures the docs may quote. Milliseconds move with the machine's load; ratios less; sizes, memory,
    calls and the cost's quantities not at all."""
    imports = results["imports"]
    figures: dict[str, int | float | str | bool] = {
        "perf_import_runs": imports["runs"],
        "perf_cold_samples": results["mode"]["cold_samples"],
        "perf_import_boto3_ms": round(imports["bytecode"]["import_boto3_median_ms"]),
        "perf_import_ratio_target": TARGET_RATIO,
    }
    ratios: dict[str, list[float]] = {"bytecode": [], "plain": [], "wired": []}
    for function, measured in imports["bytecode"]["functions"].items():
        name = _slug(function)
        plain = imports["plain"]["functions"][function]["import"]
        figures[f"perf_import_ms_{name}"] = round(measured["import"]["median_ms"])
        figures[f"perf_import_ratio_{name}"] = measured["import"]["ratio_to_boto3"]
        figures[f"perf_import_plain_ms_{name}"] = round(plain["median_ms"])
        figures[f"perf_import_plain_ratio_{name}"] = plain["ratio_to_boto3"]
        ratios["bytecode"].append(measured["import"]["ratio_to_boto3"])
        ratios["plain"].append(plain["ratio_to_boto3"])
        wired = measured.get("with_dependencies")
        if wired is not None:
            figures[f"perf_import_wired_ms_{name}"] = round(wired["median_ms"])
            figures[f"perf_import_wired_ratio_{name}"] = wired["ratio_to_boto3"]
            ratios["wired"].append(wired["ratio_to_boto3"])
    for variant, values in ratios.items():
        figures[f"perf_import_{variant}_ratio_min"] = min(values)
        figures[f"perf_import_{variant}_ratio_max"] = max(values)
    sizes = results["sizes"]["bytecode"]
    function_kb = [size["unzipped_bytes"] / 1000 for size in sizes["functions"].values()]
    figures |= {
        "perf_function_kb_min": round(min(function_kb), 1),
        "perf_function_kb_max": round(max(function_kb), 1),
        "perf_layer_unzipped_mb": round(sizes["layer"]["unzipped_bytes"] / 1e6, 1),
        "perf_layer_plain_unzipped_mb": round(results["sizes"]["plain"]["layer"]["unzipped_bytes"] / 1e6, 1),
        "perf_layer_bytecode_mb": round(sizes["layer"]["bytecode_bytes"] / 1e6, 1),
        "perf_layer_zipped_mb": round(sizes["layer"]["zipped_bytes"] / 1e6, 1),
    }
    invocations = results["invocations"]
    for scenario, measured in invocations.items():
        name = _slug(scenario)
        figures[f"perf_peak_rss_mb_{name}"] = round(measured["peak_rss_mb"])
        figures[f"perf_billed_ms_{name}"] = measured["billed_ms_as_measured"]
    rss = [measured["peak_rss_mb"] for name, measured in invocations.items() if not name.startswith("purge")]
    figures["perf_peak_rss_mb_min"] = round(min(rss))
    figures["perf_peak_rss_mb_max_without_purge"] = round(max(rss))
    for variant, cost in results["monthly_cost"].items():
        suffix = "" if variant == "as_measured" else "_cpu_scaled"
        lines = cost["lines"]
        figures[f"perf_cost_usd{suffix}"] = cost["total_usd"]
        figures[f"perf_cost_after_free_tier_usd{suffix}"] = cost["total_usd_after_free_tier"]
        # The dashboard is free in an account with at most 3 dashboards (the free tier counts the account's).
        dashboard = lines["cloudwatch dashboards"]["usd_after_free_tier"]
        figures[f"perf_cost_after_free_tier_with_free_dashboard_usd{suffix}"] = round(
            cost["total_usd_after_free_tier"] - dashboard, 2
        )
        figures[f"perf_lambda_gb_seconds{suffix}"] = round(lines["lambda duration (GB-s)"]["quantity"])
        lambda_usd = lines["lambda duration (GB-s)"]["usd"] + lines["lambda requests"]["usd"]
        figures[f"perf_lambda_usd{suffix}"] = round(lambda_usd, 3)
        if suffix:
            continue
        figures |= {
            "perf_lambda_requests": round(lines["lambda requests"]["quantity"]),
            "perf_scheduler_invocations": round(lines["eventbridge scheduler invocations"]["quantity"]),
            "perf_dynamodb_reads": round(lines["dynamodb read units"]["quantity"]),
            "perf_dynamodb_writes": round(lines["dynamodb write units"]["quantity"]),
            "perf_sns_publishes": round(lines["sns publishes"]["quantity"]),
            "perf_logs_mb": round(lines["cloudwatch logs ingested (GB)"]["quantity"] * 1000, 1),
            "perf_alarm_metrics": round(lines["cloudwatch alarm metrics"]["quantity"]),
            "perf_alarm_usd": round(lines["cloudwatch alarm metrics"]["usd"], 2),
            "perf_dashboard_usd": round(lines["cloudwatch dashboards"]["usd"], 2),
            "perf_custom_metrics_usd": round(lines["cloudwatch custom metrics (EMF, metric-months)"]["usd"], 2),
        }
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
