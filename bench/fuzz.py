"""Robustness runs: bad input (at least 1,000 generated events per handler), faults, and the robustness tests.

`python -m bench.fuzz` (not part of `make test`). Writes
- bench/results/fuzz.json: per handler, the events generated and what became of them: returned, retryable
  raised, crashed (must be 0), forwarded, ignored with a reason, handled, actions taken by bad input (must be
  0), invariant violations (must be 0), per family of bad input, and timings;
- bench/results/robustness.json: a summary of the above, fault campaigns (every use case with a seeded third of
  its AWS calls failing with throttling, 500s and connection resets; and with its mutating call's answer lost),
  and the robustness tests' own count and duration.

    .venv/bin/python -m bench.fuzz           # full: 1,000 events per handler, 10 fault seeds, the tests
    .venv/bin/python -m bench.fuzz --quick   # 200 events per handler, 3 fault seeds (the files say "quick")

The generators and invariants are tests/robustness's (strategies.py, harness.py, scenarios.py). Handlers whose
dependencies the harness can fake run on in-memory fakes (milliseconds an event); every handler also runs a
sample through moto and the App Runner emulator, and a handler it cannot fake runs all its events there.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results"
QUICK = {"events": 200, "moto_sample": 20, "fault_seeds": 3}


# --- bad input ------------------------------------------------------------------------------------


def _tally(function: str, backend: str) -> dict[str, Any]:
    return {
        "function": function,
        "backend": backend,
        "events": 0,
        "returned": 0,
        "retryable_raised": 0,
        "crashed": 0,
        "forwarded": 0,
        "ignored_with_reason": 0,
        "handled": 0,
        "unaccounted": 0,
        "actions_taken_by_bad_input": 0,
        "valid_after_mutation": 0,
        "actions_taken_by_valid_mutations": 0,
        "invariant_violations": 0,
        "families": Counter(),
        "seconds": [],
        "examples_of_violations": [],
    }


def _record(tally: dict[str, Any], observation: Any, problems: list[str], kind: str) -> None:
    verdict = observation.verdict
    tally["events"] += 1
    tally["seconds"].append(observation.seconds)
    tally["families"][observation.origin.split(":")[0] + ":" + observation.origin.split(":")[1]] += 1
    if verdict == "crashed":
        tally["crashed"] += 1
    elif verdict == "retryable":
        tally["retryable_raised"] += 1
    else:
        tally["returned"] += 1
        key = {"forwarded": "forwarded", "ignored": "ignored_with_reason", "handled": "handled"}.get(verdict)
        tally[key or "unaccounted"] += 1
    if kind in {"garbage", "rejected"}:
        tally["actions_taken_by_bad_input"] += len(observation.effects)
    else:
        tally["valid_after_mutation"] += 1
        tally["actions_taken_by_valid_mutations"] += len(observation.effects)
    if problems:
        tally["invariant_violations"] += 1
        if len(tally["examples_of_violations"]) < 5:
            tally["examples_of_violations"].append({"problems": problems, "observation": observation.describe()[:600]})


def _finish(tally: dict[str, Any]) -> dict[str, Any]:
    seconds = sorted(tally.pop("seconds"))
    tally["families"] = dict(sorted(tally["families"].items()))
    tally["total_seconds"] = round(sum(seconds), 2)
    tally["median_ms"] = round(statistics.median(seconds) * 1000, 2) if seconds else None
    tally["p99_ms"] = round(seconds[int(len(seconds) * 0.99) - 1] * 1000, 2) if seconds else None
    tally["max_ms"] = round(seconds[-1] * 1000, 1) if seconds else None
    return tally


def fuzz(
    function: str,
    run: Callable[[str, Any], Any],
    misrouted: list[tuple[str, Any]],
    events: int,
    backend: str,
    seed: int,
) -> dict[str, Any]:
    """Runs at least `events` generated events through `run` and tallies what became of them."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from tests.robustness.harness import Baselines, category, fixtures, problems
    from tests.robustness.strategies import events_for

    baselines = Baselines(run)
    tally = _tally(function, backend)
    strategy = events_for(fixtures(function), misrouted)
    round_ = 0
    while tally["events"] < events:

        @hypothesis_seed(seed + round_)
        @settings(
            max_examples=events - tally["events"],
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def one(generated: Any) -> None:
            observation = run(function, generated)
            _record(tally, observation, problems(observation, baselines), category(observation, baselines))

        one()
        round_ += 1
    return _finish(tally)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The handlers' own logs go to the harness's capture; warnings and stray prints stay out of the report."""
    import warnings

    logger = logging.getLogger("warden")
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    sink = io.StringIO()
    streams = [handler.setStream(sink) for handler in handlers]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(sink):
                yield
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            if stream is not None:
                handler.setStream(stream)


def _progress(line: str) -> None:
    print(line, file=sys.__stdout__, flush=True)  # past the capture of the handlers' output


def bad_input(events: int, moto_sample: int, seed: int) -> list[dict[str, Any]]:
    from local.account import local_servers, seed_account
    from tests.robustness.harness import Baselines, FakeBackend, MotoBackend, fakeable, functions, misrouted

    results: list[dict[str, Any]] = []
    with _quiet(), FakeBackend() as fakes:
        baselines = Baselines(fakes.run)
        routed = {function: misrouted(function, baselines) for function in functions()}
        for function in functions():
            if fakeable(function):
                started = time.perf_counter()
                results.append(fuzz(function, fakes.run, routed[function], events, "fakes", seed))
                _progress(f"  {function:18} fakes  {events} events in {time.perf_counter() - started:5.1f} s")
    with _quiet(), local_servers() as servers:
        for function in functions():
            count = moto_sample if fakeable(function) else events
            servers.emulator.reset()
            account = seed_account(servers)
            started = time.perf_counter()
            with MotoBackend(account) as backend:
                results.append(fuzz(function, backend.run, routed[function], count, "moto+emulator", seed))
            _progress(f"  {function:18} moto   {count} events in {time.perf_counter() - started:5.1f} s")
    return results


# --- faults ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _backoff_recorded(delays: list[float]) -> Iterator[None]:
    """botocore computes every retry's delay as in production; the bench records it instead of sleeping it."""
    from botocore.retries import standard

    original = standard.ExponentialBackoff.delay_amount

    def delay_amount(self: Any, context: Any) -> float:
        delays.append(original(self, context))
        return 0.0

    standard.ExponentialBackoff.delay_amount = delay_amount  # type: ignore[method-assign]
    try:
        yield
    finally:
        standard.ExponentialBackoff.delay_amount = original  # type: ignore[method-assign]


def faults(seeds: int) -> dict[str, Any]:
    from local.account import local_servers, seed_account
    from local.faults import FaultPlan, FaultProxy, Rule
    from tests.robustness.scenarios import USE_CASES, botocore_total_attempts, run_use_case
    from warden.adapters import clients
    from warden.errors import RetryableError

    total_attempts = botocore_total_attempts()
    campaigns: dict[str, Any] = {}
    delays: list[float] = []
    with _quiet(), local_servers() as servers, _backoff_recorded(delays):
        moto = FaultProxy(servers.moto_url, FaultPlan()).start()
        apprunner = FaultProxy(servers.apprunner_url, FaultPlan()).start()
        clients.client.cache_clear()
        try:
            plans: dict[str, Callable[[Any, int], Any]] = {
                "a third of the calls fail (seeded: throttling, 500, connection reset)": lambda case, n: FaultPlan(
                    rate=1 / 3, rate_faults=("throttle", "error", "reset"), seed=n
                ),
                "the mutating call's answer is lost (applied upstream)": lambda case, n: FaultPlan(
                    rules=[Rule("lost", operation=case.mutating)]
                ),
            }
            for label, make in plans.items():
                rows: dict[str, Any] = {}
                for name, case in USE_CASES.items():
                    row: Counter[str] = Counter()
                    started = time.perf_counter()
                    for n in range(seeds if "seeded" in label else 1):
                        servers.emulator.reset()
                        account = seed_account(servers)
                        # A fresh Lambda container per run: botocore's retry quota starts full.
                        clients.client.cache_clear()
                        plan = make(case, n)
                        row["runs"] += 1
                        try:
                            outcome = run_use_case(case, account, (moto, apprunner), plan)
                        except RetryableError:
                            row["failed twice (left to Lambda's next retry)"] += 1
                            continue
                        except Exception:
                            row["crashed"] += 1
                            continue
                        row[
                            "completed by botocore's retries alone"
                            if not outcome.retried
                            else "failed cleanly (RetryableError), completed on Lambda's retry"
                        ] += 1
                        row["effects exactly as without faults"] += outcome.effects == case.expected
                        row["mutating call applied more than once"] += _applied_twice(outcome, case)
                        row["attempts"] += len(outcome.calls)
                        row["faults injected"] += sum(1 for call in outcome.calls if call.fault != "pass")
                        row["most failed attempts in a row at one call"] = max(
                            row["most failed attempts in a row at one call"], _longest(outcome.calls)
                        )
                    rows[name] = {**row, "seconds": round(time.perf_counter() - started, 2)}
                campaigns[label] = rows
        finally:
            clients.client.cache_clear()
            moto.stop()
            apprunner.stop()
    return {
        "botocore_total_attempts_per_call": total_attempts,
        "campaigns": campaigns,
        "backoff": {
            "retries_that_asked_botocore_for_a_delay": len(delays),
            "delay_botocore_computed_seconds_total": round(sum(delays), 2),
            "note": "computed by botocore's standard mode, recorded, not slept",
        },
    }


def _applied_twice(outcome: Any, case: Any) -> int:
    """1 when the use case's mutating effect happened more than once (App Runner operations, deletions)."""
    effects = outcome.effects
    expected = case.expected
    return int(any(effects.get(key, 0) > expected.get(key, 0) for key in expected if key != "notifications"))


def _longest(calls: list[Any]) -> int:
    """The most failed attempts in a row at one call (botocore gives up after its total)."""
    longest = current = 0
    previous = None
    for call in calls:
        if call.fault == "pass":
            current = 0
        elif previous is not None and previous.fault != "pass" and previous.operation == call.operation:
            current += 1
        else:
            current = 1
        longest = max(longest, current)
        previous = call
    return longest


# --- the robustness tests ---------------------------------------------------------------------------


def robustness_tests() -> dict[str, Any]:
    report = RESULTS / ".robustness-junit.xml"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "robustness", "tests/robustness", f"--junitxml={report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    report.unlink()
    tests, failures, errors, skipped = (int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped"))
    by_module = Counter(case.get("classname", "").rsplit(".", 1)[-1] for case in suite.iter("testcase"))
    return {
        "tests": tests,
        "failed": failures + errors,
        "skipped_or_xfailed": skipped,
        "per_module": dict(sorted(by_module.items())),
        "wall_seconds": round(seconds, 1),
        "pytest_seconds": round(float(suite.get("time", "0")), 1),
    }


# --- main -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="generated events per handler (default 1,000)")
    parser.add_argument("--moto-sample", type=int, default=100, help="events per fakeable handler through moto")
    parser.add_argument("--fault-seeds", type=int, default=10, help="seeded fault runs per use case")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--skip-tests", action="store_true", help="do not run the robustness tests")
    parser.add_argument("--quick", action="store_true", help=f"smaller runs: {QUICK}")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.moto_sample, args.fault_seeds = QUICK["events"], QUICK["moto_sample"], QUICK["fault_seeds"]

    sys.path[:0] = [str(ROOT / "layers" / "warden"), str(ROOT)]
    # The tests' environment: fake credentials, no X-Ray, never real AWS.
    import tests.conftest  # noqa: F401

    started = time.perf_counter()
    load_before = load_average()
    print("bad input:", flush=True)
    handlers = bad_input(args.events, args.moto_sample, args.seed)
    print("faults:", flush=True)
    fault_report = faults(args.fault_seeds)
    test_report = None if args.skip_tests else robustness_tests()
    meta = {
        "mode": {
            "quick": args.quick,
            "events_per_handler": args.events,
            "moto_sample_per_fakeable_handler": args.moto_sample,
            "fault_seeds_per_use_case": args.fault_seeds,
            "robustness_tests_run": test_report is not None,
        },
        "seed": args.seed,
        "load_average_before_and_after": [load_before, load_average()],
    }
    summary = {
        function: {
            key: sum(row[key] for row in handlers if row["function"] == function)
            for key in ("events", "crashed", "retryable_raised", "actions_taken_by_bad_input", "invariant_violations")
        }
        for function in dict.fromkeys(row["function"] for row in handlers)
    }
    bad_input_totals = {
        "per_handler": summary,
        "events": sum(row["events"] for row in handlers),
        "crashed": sum(row["crashed"] for row in handlers),
        "retryable_raised": sum(row["retryable_raised"] for row in handlers),
        "actions_taken_by_bad_input": sum(row["actions_taken_by_bad_input"] for row in handlers),
        "invariant_violations": sum(row["invariant_violations"] for row in handlers),
        "valid_after_mutation": sum(row["valid_after_mutation"] for row in handlers),
        "seconds": round(sum(row["total_seconds"] for row in handlers), 1),
    }
    robustness = {
        **meta,
        "bad_input": bad_input_totals,
        "faults": fault_report,
        "tests": test_report,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    quoted = quoted_figures(bad_input_totals, handlers, fault_report, test_report)
    fuzz_quoted = {name: value for name, value in quoted.items() if name.startswith("fuzz_")}
    write_results(RESULTS / "fuzz.json", {**meta, "handlers": handlers}, quoted=fuzz_quoted, show=False)
    write_results(RESULTS / "robustness.json", robustness, quoted=quoted, show=False)
    print(json.dumps(robustness["bad_input"], indent=2))
    bad = bad_input_totals["crashed"] + bad_input_totals["actions_taken_by_bad_input"]
    return 1 if bad or bad_input_totals["invariant_violations"] else 0


SEEDED = "a third of the calls fail (seeded: throttling, 500, connection reset)"
LOST = "the mutating call's answer is lost (applied upstream)"


def quoted_figures(
    bad: dict[str, Any], handlers: list[dict[str, Any]], faults: dict[str, Any], tests: dict[str, Any] | None
) -> dict[str, int | float | str | bool]:
    """The figures the docs may quote: counts of events, outcomes and faults (none of them a timing, except
    the tests' wall time)."""
    fakes = [row for row in handlers if row["backend"] == "fakes"]
    moto = [row for row in handlers if row["backend"] != "fakes"]
    figures: dict[str, int | float | str | bool] = {
        "fuzz_handlers": len({row["function"] for row in handlers}),
        "fuzz_events": bad["events"],
        "fuzz_events_on_fakes": sum(row["events"] for row in fakes),
        "fuzz_events_through_moto": sum(row["events"] for row in moto),
        "fuzz_crashed": bad["crashed"],
        "fuzz_retryable_raised": bad["retryable_raised"],
        "fuzz_actions_taken_by_bad_input": bad["actions_taken_by_bad_input"],
        "fuzz_invariant_violations": bad["invariant_violations"],
        "fuzz_valid_after_mutation": bad["valid_after_mutation"],
    }
    seeded = faults["campaigns"].get(SEEDED, {})
    lost = faults["campaigns"].get(LOST, {})

    def total(rows: dict[str, Any], key: str) -> int:
        return int(sum(row.get(key, 0) for row in rows.values()))

    figures |= {
        "faults_use_cases": len(seeded),
        "faults_seeded_runs": total(seeded, "runs"),
        "faults_seeded_attempts": total(seeded, "attempts"),
        "faults_seeded_injected": total(seeded, "faults injected"),
        "faults_seeded_completed_by_retries": total(seeded, "completed by botocore's retries alone"),
        "faults_seeded_completed_on_lambda_retry": total(
            seeded, "failed cleanly (RetryableError), completed on Lambda's retry"
        ),
        "faults_seeded_failed_twice": total(seeded, "failed twice (left to Lambda's next retry)"),
        "faults_seeded_crashed": total(seeded, "crashed"),
        "faults_seeded_effects_exact": total(seeded, "effects exactly as without faults"),
        "faults_seeded_applied_twice": total(seeded, "mutating call applied more than once"),
        "faults_lost_answer_runs": total(lost, "runs"),
        "faults_lost_answer_effects_exact": total(lost, "effects exactly as without faults"),
        "faults_lost_answer_applied_twice": total(lost, "mutating call applied more than once"),
        "faults_botocore_attempts_per_call": faults["botocore_total_attempts_per_call"],
    }
    if tests is not None:
        figures |= {
            "robustness_tests": tests["tests"],
            "robustness_tests_failed": tests["failed"],
            "robustness_tests_wall_s": round(tests["wall_seconds"]),
        }
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
