"""Benchmarks: numbers go to bench/results/latest.json (never asserted in tests: machines here are shared).

- parse: how long the Budgets text parser takes per message (median of many runs);
- handler: end-to-end latency of the real on_budget_alert handler per alert, against moto + the emulator;
- cold import: the time a fresh python process takes to import the handler (Lambda's init phase, roughly);
- then bench.fleet: the reconcile of a 200-service fleet (bench/results/fleet.json).

Every figure here is a wall time on this machine, so every one moves with its load (recorded beside them);
bench.performance measures cold starts the way Lambda runs them.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "latest.json"


def bench_parse(runs: int = 5000) -> dict[str, Any]:
    from local.events import budget_message
    from warden.models.budget import parse_budget_notification

    text = budget_message(threshold="$10.00", amount="$10.42")
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        parse_budget_notification(text)
        samples.append(time.perf_counter_ns() - start)
    return {"runs": runs, "median_us": statistics.median(samples) / 1000, "p99_us": _p99(samples) / 1000}


def bench_handler(alerts: int = 30) -> dict[str, Any]:
    import contextlib
    import io

    from local.account import local_servers, seed_account
    from local.events import budget_message, sns_event
    from local.invoke import invoke
    from warden.observability import logger

    logger.setLevel("WARNING")
    warn: list[int] = []
    breach: list[int] = []
    with local_servers() as servers, contextlib.redirect_stdout(io.StringIO()):
        for _ in range(alerts):
            servers.emulator.reset()
            account = seed_account(servers, actual_spend="10.42")
            for amount, bucket in (("$8.13", warn), ("$10.42", breach)):
                event = sns_event(budget_message(name=account.budget_name, threshold="$8.00", amount=amount))
                start = time.perf_counter_ns()
                invoke("on_budget_alert", event, account.env())
                bucket.append(time.perf_counter_ns() - start)
    return {
        "alerts": alerts,
        "warning_median_ms": statistics.median(warn) / 1e6,
        "pause_median_ms": statistics.median(breach) / 1e6,
        "pause_p99_ms": _p99(breach) / 1e6,
    }


def bench_cold_import(runs: int = 7) -> dict[str, Any]:
    code = (
        "import time, importlib.util, sys; t=time.perf_counter(); sys.path[:0]=['layers/warden','.'];"
        "from local.invoke import load_handler; load_handler('on_budget_alert'); print(time.perf_counter()-t)"
    )
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return {"runs": runs, "median_ms": statistics.median(samples) * 1000}


def _p99(samples: list[int]) -> float:
    ordered = sorted(samples)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


def main() -> int:
    load_before = load_average()
    parse, handler, cold = bench_parse(), bench_handler(), bench_cold_import()
    results = {
        "load_average_before_and_after": [load_before, load_average()],
        "parse_budget_notification": parse,
        "on_budget_alert_handler": handler,
        "handler_cold_import": cold,
    }
    quoted = {
        "parse_budget_notification_median_us": round(parse["median_us"], 1),
        "on_budget_alert_warning_median_ms": round(handler["warning_median_ms"]),
        "on_budget_alert_pause_median_ms": round(handler["pause_median_ms"]),
        "on_budget_alert_cold_import_median_ms": round(cold["median_ms"]),
    }
    written = write_results(RESULTS, results, quoted=quoted)
    # The fleet's reconcile (bench/results/fleet.json): `make bench` reaches it through here. Its own process, so
    # that moto's state from the handler bench above (moto keeps it per process) is not in its account.
    return written or subprocess.run([sys.executable, "-m", "bench.fleet"], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
