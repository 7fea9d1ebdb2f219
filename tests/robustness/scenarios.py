"""Warden's use cases as fault scenarios: each seeds an account, runs through a Runner, and counts its effects.

Shared by tests/robustness/test_faults.py and `python -m bench.fuzz`. A Runner invokes the deployed
handlers (or, for the schedule's time-dependent jobs, their use case at a fixed time) in one warm Lambda
container whose endpoints are fault proxies (local/faults.py) in front of moto and the App Runner emulator.
Effects are counted upstream, where they happened: App Runner's recorded operations, the keys' statuses in
IAM, the images left in ECR, the operator's inbox. The proxy log tells which calls reached the upstream.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.account import ACCOUNT_ID, REGION, LocalAccount
from local.alarm_events import alarm_event
from local.demo_images import SeededRepository, run_image
from local.demo_keys import add_user, clear_users
from local.deployment_events import record_deployed
from local.ecs import CLUSTER, ecs_state, seed_ecs_service
from local.events import budget_message, sns_event
from local.faults import Call, FaultPlan, FaultProxy
from local.invoke import LambdaContextStub, fresh_container, load_handler
from warden.adapters.dynamodb import StateTable
from warden.errors import RetryableError
from warden.settings import get_settings
from warden.usecases.schedule import Job, run_job
from warden.wiring import schedule_deps

MONDAY_1800 = datetime(2026, 11, 23, 18, 0, 5, tzinfo=UTC)
TUESDAY_0800 = datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC)
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
WORKING_HOURS = {"WORKING_HOURS_ENABLED": "true", "SCHEDULE_TIMEZONE": "UTC", "WORKING_DAYS": "MON-FRI"}
UPSTREAM_FAULTS = frozenset({"pass", "lost"})  # the faults after which the upstream did see the request


def botocore_total_attempts() -> int:
    """How many attempts botocore makes at one call under the product's Config, in botocore's own reading.

    `retries={"max_attempts": 5}` means 5 retries after the first attempt: 6 in all. (botocore rewrites the
    Config's dict to `total_max_attempts` when it builds the first client, so it is read from a client.)
    """
    import boto3

    from warden.adapters.clients import CONFIG

    probe: Any = boto3.session.Session().client(
        "sns", region_name="us-east-1", config=CONFIG, endpoint_url="http://127.0.0.1:9"
    )
    return int(probe.meta.config.retries["total_max_attempts"])


class Runner:
    """Invokes Warden as Lambda would, in one warm container pointed at the proxies."""

    def __init__(self, account: LocalAccount, env: dict[str, str]) -> None:
        self.account = account
        self.env = {**account.env(), **env}

    def handler(self, function: str, event: Any) -> list[dict[str, Any]]:
        with fresh_container(self.env, reuse_clients=True):
            result = load_handler(function).lambda_handler(event, LambdaContextStub(function_name=function))
        results: list[dict[str, Any]] = result.get("results", [result])
        return results

    def job(self, job: Job, now: datetime) -> str:
        with fresh_container(self.env, reuse_clients=True):
            settings = get_settings()
            return run_job(job, schedule_deps(settings), settings, now).outcome


@dataclass
class UseCase:
    """One use case under faults: `mutating` names the call whose loss or repetition would matter most."""

    name: str
    mutating: str
    env: dict[str, str]
    prepare: Callable[[LocalAccount], Any]
    steps: Callable[[Runner, Any], list[Callable[[], str]]]  # one invocation each, in order
    effects: Callable[[LocalAccount, Any], dict[str, int]]
    expected: dict[str, int]
    cleanup: Callable[[], None] = field(default=lambda: None)
    # How often the mutating call rightly reaches AWS: ECS pauses and resumes both through UpdateService.
    mutating_calls: int = 1


def operations(account: LocalAccount) -> Counter[str]:
    """The operations App Runner actually started on the service (read directly, not through a proxy)."""
    listed = account.client("apprunner").list_operations(ServiceArn=account.service_arn)["OperationSummaryList"]
    return Counter(str(operation["Type"]) for operation in listed)


def inbox_events(account: LocalAccount) -> list[str]:
    return [received.attributes.get("event", "?") for received in account.inbox()]


def _apprunner_effects(account: LocalAccount, context: Any) -> dict[str, int]:
    done = operations(account)
    return {
        "pauses": done["PAUSE_SERVICE"],
        "resumes": done["RESUME_SERVICE"],
        "claims": len(account.claims()),
        "notifications": len(inbox_events(account)),
    }


# --- the use cases ---------------------------------------------------------------------------------


def _budget_prepare(account: LocalAccount) -> Any:
    account.set_budget(limit="10.00", actual="10.42")
    text = budget_message(name=account.budget_name, threshold="$10.00", amount="$10.42")
    return sns_event(text, message_id="3d0bd1c9-7e0e-4a51-8d7e-51f1e0c2a001", topic_arn=account.budget_topic_arn)


def _budget_steps(runner: Runner, event: Any) -> list[Callable[[], str]]:
    return [lambda: runner.handler("on_budget_alert", event)[0]["outcome"]]


def _alarm_prepare(account: LocalAccount) -> Any:
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=account.service_arn, changed_at=FIRED)
    ok = alarm_event("sns-5xx-rate-ok", service_arn=account.service_arn, changed_at=FIRED + timedelta(minutes=20))
    return fired, ok


def _alarm_steps(runner: Runner, events: Any) -> list[Callable[[], str]]:
    fired, ok = events
    return [
        lambda: runner.handler("on_alarm", fired)[0]["outcome"],
        lambda: runner.handler("on_alarm", ok)[0]["outcome"],
    ]


def _hours_steps(runner: Runner, context: Any) -> list[Callable[[], str]]:
    return [lambda: runner.job(Job.WORKDAY_END, MONDAY_1800), lambda: runner.job(Job.WORKDAY_START, TUESDAY_0800)]


def _keys_prepare(account: LocalAccount) -> Any:
    clear_users()
    account.client("iam").generate_credential_report()
    return add_user(account, "deploy-bot", [(400, 3), (5, 1)])


def _keys_steps(runner: Runner, context: Any) -> list[Callable[[], str]]:
    return [lambda: runner.handler("audit_access_keys", {"job": "audit-keys"})[0]["outcome"]]


def _keys_effects(account: LocalAccount, keys: Any) -> dict[str, int]:
    listed = account.client("iam").list_access_keys(UserName="deploy-bot")["AccessKeyMetadata"]
    return {
        "inactive keys": sum(1 for key in listed if key["Status"] == "Inactive"),
        "notifications": len(inbox_events(account)),
    }


def _purge_prepare(account: LocalAccount) -> Any:
    repository = SeededRepository.fresh(account)
    repository.image("current", "latest", days=2)
    expired = {repository.image(f"old-{n}", days=60 + n) for n in range(3)}
    run_image(account, "latest")
    record_deployed(account)
    return repository, expired


def _purge_steps(runner: Runner, context: Any) -> list[Callable[[], str]]:
    return [lambda: runner.handler("purge_images", {"job": "purge-images"})[0]["outcome"]]


def _purge_effects(account: LocalAccount, context: Any) -> dict[str, int]:
    repository, expired = context
    return {
        "images deleted": len(expired - repository.digests()),
        "images left": len(repository.digests()),
        "notifications": len(inbox_events(account)),
    }


# --- the same pause and resume on an ECS service -----------------------------------------------------------

ECS_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:service/{CLUSTER}/consultation-app"


def _on_ecs(account: LocalAccount) -> LocalAccount:
    return dataclasses.replace(account, service_arn=ECS_ARN)


def _ecs_budget_prepare(account: LocalAccount) -> Any:
    seed_ecs_service(account, desired=3, scaling=(2, 5))
    return _budget_prepare(account)


def _ecs_alarm_prepare(account: LocalAccount) -> Any:
    seed_ecs_service(account, desired=3, scaling=(2, 5))
    fired = alarm_event("sns-ecs-cpu-alarm", service_arn=ECS_ARN, changed_at=FIRED)
    ok = alarm_event("sns-ecs-cpu-ok", service_arn=ECS_ARN, changed_at=FIRED + timedelta(minutes=20))
    return fired, ok


def _ecs_effects(account: LocalAccount, context: Any) -> dict[str, int]:
    """Counted in Warden's own action log (a repeated UpdateService with the same count changes nothing in ECS,
    so ECS cannot tell one pause from two) and in the service's final scale."""
    ecs = _on_ecs(account)
    done = Counter(
        record.action
        for record in StateTable(ecs.table_name, ecs.client("dynamodb")).list_actions(ECS_ARN)
        if record.outcome == "done"
    )
    state = ecs_state(ecs)
    low, high, _ = state.scaling or (0, 0, False)
    return {
        "pauses": done["pause"],
        "resumes": done["resume"],
        "claims": len(ecs.claims()),
        "notifications": len(inbox_events(account)),
        "desired tasks": state.desired,
        "scaling min": low,
        "scaling max": high,
    }


USE_CASES: dict[str, UseCase] = {
    case.name: case
    for case in (
        UseCase(
            name="budget breach",
            mutating="PauseService",
            env={},
            prepare=_budget_prepare,
            steps=_budget_steps,
            effects=_apprunner_effects,
            expected={"pauses": 1, "resumes": 0, "claims": 1, "notifications": 1},
        ),
        UseCase(
            name="alarm and recovery",
            mutating="PauseService",
            env={"ALARM_ACTIONS": "warden-5xx-rate=pause"},
            prepare=_alarm_prepare,
            steps=_alarm_steps,
            effects=_apprunner_effects,
            expected={"pauses": 1, "resumes": 1, "claims": 0, "notifications": 2},
        ),
        UseCase(
            name="working hours",
            mutating="ResumeService",
            env=WORKING_HOURS,
            prepare=lambda account: None,
            steps=_hours_steps,
            effects=_apprunner_effects,
            expected={"pauses": 1, "resumes": 1, "claims": 0, "notifications": 2},
        ),
        UseCase(
            name="ECS budget breach",
            mutating="UpdateService",
            env={"SERVICE_ARN": ECS_ARN},
            prepare=_ecs_budget_prepare,
            steps=_budget_steps,
            effects=_ecs_effects,
            expected={
                "pauses": 1,
                "resumes": 0,
                "claims": 1,
                "notifications": 1,
                "desired tasks": 0,
                "scaling min": 0,
                "scaling max": 0,
            },
        ),
        UseCase(
            name="ECS alarm and recovery",
            mutating="UpdateService",
            env={"SERVICE_ARN": ECS_ARN, "ALARM_ACTIONS": "*-cpu=pause"},
            mutating_calls=2,
            prepare=_ecs_alarm_prepare,
            steps=_alarm_steps,
            effects=_ecs_effects,
            expected={
                "pauses": 1,
                "resumes": 1,
                "claims": 0,
                "notifications": 2,
                "desired tasks": 3,
                "scaling min": 2,
                "scaling max": 5,
            },
        ),
        UseCase(
            name="key audit",
            mutating="UpdateAccessKey",
            env={"KEY_DEACTIVATE_AFTER_DAYS": "180"},
            prepare=_keys_prepare,
            steps=_keys_steps,
            effects=_keys_effects,
            expected={"inactive keys": 1, "notifications": 1},
            cleanup=clear_users,
        ),
        UseCase(
            name="image purge",
            mutating="BatchDeleteImage",
            env={"IMAGE_PURGE_MODE": "delete"},
            prepare=_purge_prepare,
            steps=_purge_steps,
            effects=_purge_effects,
            expected={"images deleted": 3, "images left": 1, "notifications": 1},
        ),
    )
}


# --- running one under a plan ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What one run of a use case under faults came to."""

    results: list[str]
    effects: dict[str, int]
    retried: list[str]  # the RetryableErrors an invocation raised (each then retried, as Lambda would)
    calls: list[Call]

    def reached(self, operation: str) -> int:
        """How many attempts at `operation` the upstream saw (a `lost` attempt did reach it)."""
        return sum(1 for call in self.calls if call.operation == operation and call.fault in UPSTREAM_FAULTS)


@contextlib.contextmanager
def proxied(proxies: tuple[FaultProxy, FaultProxy], plan: FaultPlan) -> Iterator[None]:
    """Both proxies (in front of moto, in front of the emulator) follow `plan` while inside."""
    for proxy in proxies:
        proxy.plan = plan
    try:
        yield
    finally:
        for proxy in proxies:
            proxy.plan = FaultPlan()


def run_use_case(
    case: UseCase, account: LocalAccount, proxies: tuple[FaultProxy, FaultProxy], plan: FaultPlan
) -> Outcome:
    """Seeds the account and runs each of the use case's invocations through the proxies under `plan`. An
    invocation that fails cleanly with a RetryableError is invoked again once the faults are gone, as Lambda's
    retry would (a minute later); any other error propagates to the caller."""
    moto, apprunner = proxies
    context = case.prepare(account)
    account.inbox()
    runner = Runner(account, {"AWS_ENDPOINT_URL": moto.url, "AWS_ENDPOINT_URL_APPRUNNER": apprunner.url, **case.env})
    results: list[str] = []
    retried: list[str] = []
    try:
        with proxied(proxies, plan):
            for step in case.steps(runner, context):
                try:
                    results.append(step())
                except RetryableError as error:
                    retried.append(f"{type(error).__name__}: {error}")
                    plan.clear()
                    results.append(step())
        return Outcome(results, case.effects(account, context), retried, list(plan.calls))
    finally:
        case.cleanup()
