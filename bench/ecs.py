"""Benchmark: pausing and resuming an ECS service, against an App Runner service, end to end.

Per round, a fresh account: a confirmed budget breach through the real on_budget_alert handler (the pause),
then `warden resume --override budget` through the operator use case (the resume). Measured: wall time of
each, and the AWS calls Warden made, by operation (counted at botocore's API-call layer, so retries show).
Numbers go to bench/results/ecs.json; they are never asserted in tests.

    .venv/bin/python -m bench.ecs        # 15 rounds per platform
    .venv/bin/python -m bench.ecs 3      # 3 rounds (the call counts are the same every round)

The call counts are the figures to quote: they do not depend on the machine. The medians are wall time in
this process against servers in this process, so they move with the machine's load (recorded beside them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient

from bench import ROOT, load_average, write_results

RESULTS = ROOT / "bench" / "results" / "ecs.json"
_CALLS: Counter[str] = Counter()


@contextlib.contextmanager
def counted_calls() -> Iterator[Counter[str]]:
    """Every botocore API call made inside the block, as "<service>:<Operation>"."""
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        _CALLS[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return original(self, operation_name, api_params)

    _CALLS.clear()
    BaseClient._make_api_call = counting  # type: ignore[attr-defined]
    try:
        yield _CALLS
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]


def bench_target(kind: str, rounds: int) -> dict[str, Any]:
    from local.account import local_servers, seed_account
    from local.ecs import seed_ecs_service
    from local.events import budget_message, sns_event
    from local.invoke import fresh_container, invoke
    from warden.domain.claims import ClaimReason
    from warden.observability import logger
    from warden.settings import get_settings
    from warden.usecases.operator import manual_resume
    from warden.wiring import operator_deps

    pauses: list[float] = []
    resumes: list[float] = []
    pause_calls: Counter[str] = Counter()
    resume_calls: Counter[str] = Counter()
    logger.setLevel("WARNING")  # one INFO line per step of every round would bury the results
    load_before = load_average()
    with local_servers() as servers, contextlib.redirect_stdout(io.StringIO()):
        for _ in range(rounds):
            servers.emulator.reset()
            account = seed_account(servers, actual_spend="10.42")
            if kind == "ecs":
                account = dataclasses.replace(account, service_arn=seed_ecs_service(account, desired=2))
            event = sns_event(budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42"))
            env = account.env()
            with counted_calls() as calls:
                pauses.append(_timed(functools.partial(invoke, "on_budget_alert", event, env)))
                pause_calls.update(calls)
            with fresh_container(env), counted_calls() as calls:
                settings = get_settings()
                resume = functools.partial(
                    manual_resume,
                    operator_deps(settings),
                    settings,
                    who="bench",
                    reason="bench",
                    override=ClaimReason.BUDGET,
                    now=datetime.now(UTC),
                )
                resumes.append(_timed(resume))
                resume_calls.update(calls)
            if account.service_status() not in {"RUNNING", "OPERATION_IN_PROGRESS"}:
                raise SystemExit(f"{kind}: the resume did not resume ({account.service_status()})")
    return {
        "rounds": rounds,
        "load_average_before_and_after": [load_before, load_average()],
        "pause_median_ms": round(statistics.median(pauses) * 1000, 1),
        "resume_median_ms": round(statistics.median(resumes) * 1000, 1),
        "aws_calls_per_pause": _per_round(pause_calls, rounds),
        "aws_calls_per_resume": _per_round(resume_calls, rounds),
    }


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _per_round(calls: Counter[str], rounds: int) -> dict[str, float]:
    per = {name: count / rounds for name, count in sorted(calls.items())}
    return {"total": sum(per.values()), **per}


def quoted(apprunner: dict[str, Any], ecs: dict[str, Any]) -> dict[str, int | float]:
    """The figures the docs may quote: call counts (machine-independent) and the load-sensitive medians."""
    figures: dict[str, int | float] = {}
    for platform, measured in (("apprunner", apprunner), ("ecs", ecs)):
        for step in ("pause", "resume"):
            figures[f"{platform}_{step}_calls"] = _whole(measured[f"aws_calls_per_{step}"]["total"])
            figures[f"{platform}_{step}_median_s"] = round(measured[f"{step}_median_ms"] / 1000, 2)
    figures["ecs_pause_extra_calls"] = _whole(figures["ecs_pause_calls"] - figures["apprunner_pause_calls"])
    figures["ecs_resume_extra_calls"] = _whole(figures["ecs_resume_calls"] - figures["apprunner_resume_calls"])
    figures["ecs_bench_rounds"] = apprunner["rounds"]
    return figures


def _difference(ecs: dict[str, float], apprunner: dict[str, float]) -> dict[str, float]:
    """Per operation, how many more calls ECS makes (negative: fewer), the operations that differ only."""
    operations = sorted((set(ecs) | set(apprunner)) - {"total"})
    differences = {name: ecs.get(name, 0.0) - apprunner.get(name, 0.0) for name in operations}
    return {name: difference for name, difference in differences.items() if difference}


def _whole(number: float) -> int | float:
    return int(number) if float(number).is_integer() else round(number, 1)


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    apprunner, ecs = bench_target("apprunner", rounds), bench_target("ecs", rounds)
    results = {
        "method": "per round a fresh account on moto + the App Runner emulator (in this process); the pause "
        "through the on_budget_alert handler, the resume through `warden resume --override budget`'s use case, "
        "each in a fresh container (settings and clients anew); calls counted at botocore's API-call layer",
        "note": "the ECS Express probe is one refused call per container (moto has no Express API)",
        "apprunner": apprunner,
        "ecs": ecs,
        "ecs_minus_apprunner": {
            step: _difference(ecs[f"aws_calls_per_{step}"], apprunner[f"aws_calls_per_{step}"])
            for step in ("pause", "resume")
        },
    }
    return write_results(RESULTS, results, quoted=quoted(apprunner, ecs))


if __name__ == "__main__":
    sys.exit(main())
