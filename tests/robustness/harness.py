"""Runs Warden's real Lambda handlers on generated events and observes what each did.

Shared by tests/robustness and `python -m bench.fuzz`. Handlers are discovered by globbing
functions/*/app.py, their fixtures by globbing events/<function>/*.json, so a new function is fuzzed
as soon as it exists.

Two backends run the same handler code:
- `FakeBackend`: the handler module's wiring functions (`budget_alert_deps`, ...) are swapped for
  in-memory fakes (tests/fakes.py), a fresh set per event: milliseconds per event. A handler whose
  wiring has no fake here is run by the moto backend only.
- `MotoBackend`: the handler as deployed, against moto's server and the App Runner emulator.

For every event the harness records what the operator would see: the handler's return value or
exception, the notifications published, the metrics in Powertools' EMF output on stdout, the
"ignored, because ..." reasons in its log lines, and every effect (App Runner mutations, claims,
image deletions, key deactivations, rollbacks) with what it acted on.

Two invariants are absolute, whatever the event and whatever its fixture does (`absolute_problems`):
every mutating call acts on the configured service, repository or IAM user only; and an on_alarm event acts
only when the alarm provably concerns the guarded service (`provably_guarded`, an oracle written apart from
Warden's own reading: the alarm ARN's account and region, every metric's namespace and dimensions, no
composite rule, no suppressed actions).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from local.invoke import LambdaContextStub, fresh_container, load_handler
from tests.fakes import (
    FakeAccessKeys,
    FakeBudgets,
    FakeImages,
    FakeNotifier,
    FakeRollback,
    FakeService,
    FakeState,
    credential_report_csv,
)
from tests.robustness.strategies import CONFIGURED_BUDGET, CONFIGURED_REPOSITORY, Generated, misrouted_events
from warden.domain.budget import BudgetSnapshot
from warden.domain.images import DOCKER_MANIFEST, BatchResult, DeleteFailure, ImageInfo
from warden.domain.keys import ListedKey
from warden.errors import RetryableError
from warden.models.money import Money

ROOT: Final = Path(__file__).resolve().parents[2]
SERVICE_ARN_PLACEHOLDER: Final = ""
SERVICE_ARN: Final = (
    "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
)
REGISTRY: Final = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

# Every action path is armed, so that bad input that slipped through would show as an effect: the
# Budgets API confirms a breach, every alarm pauses, a large cost anomaly pauses, the purge deletes
# and overdue keys are deactivated. Working hours stay off: what they do depends on the wall clock.
ARMED: Final = {
    "BUDGET_NAME": CONFIGURED_BUDGET,
    "ECR_REPOSITORY": CONFIGURED_REPOSITORY,
    "DRY_RUN": "false",
    "ALARM_ACTIONS": "*=pause",
    "ANOMALY_PAUSE_IMPACT_USD": "1",
    "IMAGE_PURGE_MODE": "delete",
    "KEY_DEACTIVATE_AFTER_DAYS": "90",
    "ALARM_COOLDOWN_MINUTES": "0",
}
FAKE_ENV: Final = {
    "SERVICE_ARN": SERVICE_ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "warden",
    "POWERTOOLS_METRICS_NAMESPACE": "Warden",
    **ARMED,
}
MUTATING_APPRUNNER: Final = frozenset(
    {"PauseService", "ResumeService", "StartDeployment", "UpdateService", "DeleteService", "CreateService"}
)
IGNORED: Final = "ignored, because"


def functions() -> list[str]:
    """Every Warden function: functions/<name>/app.py."""
    return sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


def fixtures(function: str) -> dict[str, Any]:
    """events/<function>/*.json by name (none for a function without fixtures)."""
    return {
        path.stem: json.loads(path.read_text("utf-8")) for path in sorted((ROOT / "events" / function).glob("*.json"))
    }


def other_fixtures(function: str) -> dict[str, dict[str, Any]]:
    return {other: fixtures(other) for other in functions() if other != function}


# --- what one invocation did ---------------------------------------------------------------------


@dataclasses.dataclass
class Observation:
    function: str
    origin: str
    result: Any = None
    error: BaseException | None = None
    notifications: list[str] = dataclasses.field(default_factory=list)  # the `event` attribute of each
    metrics: list[str] = dataclasses.field(default_factory=list)
    reasons: list[str] = dataclasses.field(default_factory=list)  # "ignored, because ..." log lines
    effects: list[str] = dataclasses.field(default_factory=list)
    bad_output: list[str] = dataclasses.field(default_factory=list)  # stdout lines that are not JSON
    seconds: float = 0.0
    event: Any = None
    # Each effect with what it acted on (a service ARN, a repository, "user:key"), and per kind of effect
    # ("apprunner", "claim", "ecr", "iam", "rollback") what the account's configuration allows.
    targets: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    allowed: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    guarded_arn: str = SERVICE_ARN_PLACEHOLDER

    @property
    def verdict(self) -> str:
        """crashed | retryable | forwarded | ignored | handled | unaccounted."""
        if self.error is not None:
            return "retryable" if isinstance(self.error, RetryableError) else "crashed"
        if self.notifications and self.metrics:
            return "forwarded"
        if self.reasons and self.metrics and not self.notifications:
            return "ignored"
        if not self.notifications and not self.reasons:
            return "handled"  # a valid request that needed no notification (e.g. a reconcile with nothing to do)
        return "unaccounted"

    @property
    def effect_kinds(self) -> frozenset[str]:
        return frozenset(self.effects)

    def describe(self) -> str:
        error = f"{type(self.error).__name__}: {self.error}" if self.error else None
        return (
            f"{self.function} <- {self.origin}: verdict {self.verdict}, error {error}, "
            f"notifications {self.notifications}, metrics {sorted(set(self.metrics))}, "
            f"reasons {[reason[:120] for reason in self.reasons]}, effects {self.effects}, "
            f"bad output {self.bad_output[:2]}"
        )


class OutputCapture:
    """Stdout as Lambda would ship it to CloudWatch Logs: Powertools' JSON log lines and its EMF metrics."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("warden")

    @contextlib.contextmanager
    def capture(self, observation: Observation) -> Iterator[None]:
        sink = io.StringIO()
        handlers = [handler for handler in self._logger.handlers if isinstance(handler, logging.StreamHandler)]
        streams = [handler.setStream(sink) for handler in handlers]
        try:
            with contextlib.redirect_stdout(sink):
                yield
        finally:
            for handler, stream in zip(handlers, streams, strict=True):
                if stream is not None:
                    handler.setStream(stream)
            _read_output(sink.getvalue(), observation)


def _read_output(text: str, observation: Observation) -> None:
    # Lambda ships stdout to CloudWatch Logs line by line, split at "\n" only (not at U+2028 and the like).
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            observation.bad_output.append(line[:200])
            continue
        if not isinstance(record, dict):
            observation.bad_output.append(line[:200])
            continue
        if "_aws" in record:
            for directive in record["_aws"].get("CloudWatchMetrics", []):
                observation.metrics.extend(metric["Name"] for metric in directive.get("Metrics", []))
            continue
        observation.reasons.extend(
            value for value in record.values() if isinstance(value, str) and value.startswith(IGNORED)
        )


# --- in-memory fakes -----------------------------------------------------------------------------


def _digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


@dataclasses.dataclass
class FakeRegistry:
    """The app's ECR repository: the running image and a few expired untagged ones the purge would delete."""

    images: dict[str, ImageInfo]
    deleted: list[str] = dataclasses.field(default_factory=list)
    repositories: list[str] = dataclasses.field(default_factory=list)  # the repository of each deletion

    @classmethod
    def seeded(cls, now: datetime) -> FakeRegistry:
        running = ImageInfo(digest=_digest("running"), tags=("latest",), pushed_at=now - timedelta(days=2))
        expired = [
            ImageInfo(digest=_digest(f"old{n}"), pushed_at=now - timedelta(days=60 + n), media_type=DOCKER_MANIFEST)
            for n in range(3)
        ]
        return cls({image.digest: image for image in (running, *expired)})

    def list_images(self, repository: str) -> list[ImageInfo]:
        return list(self.images.values())

    def resolve_tag(self, repository: str, tag: str) -> str | None:
        return next((image.digest for image in self.images.values() if tag in image.tags), None)

    def index_children(self, repository: str, digests: Any) -> dict[str, tuple[str, ...]]:
        return {}

    def delete_digests(self, repository: str, digests: Any) -> BatchResult:
        gone = [digest for digest in digests if self.images.pop(digest, None) is not None]
        self.deleted.extend(gone)
        self.repositories.extend(repository for _ in gone)
        missing = [DeleteFailure(digest=d, code="ImageNotFound", reason="not found") for d in digests if d not in gone]
        return BatchResult(deleted=tuple(gone), failures=tuple(missing))


class FakeAccount:
    """One fresh account per event: a RUNNING service, a breached budget, an overdue key, expired images."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.service = FakeService(arn=SERVICE_ARN, image=f"{REGISTRY}/{CONFIGURED_REPOSITORY}:latest")
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.rollback = FakeRollback()
        self.images = FakeImages()
        self.budgets = FakeBudgets(
            BudgetSnapshot(
                name=CONFIGURED_BUDGET,
                limit=Money(amount=Decimal("10.00")),
                actual=Money(amount=Decimal("10.42")),
                forecast=Money(amount=Decimal("12.87")),
            )
        )
        created = (now - timedelta(days=400)).replace(microsecond=0)
        self.iam = FakeAccessKeys(
            report=credential_report_csv(
                {
                    "user": "deploy-bot",
                    "access_key_1_active": "true",
                    "access_key_1_last_rotated": created.isoformat(),
                    "access_key_1_last_used_date": (now - timedelta(days=1)).isoformat(),
                    "access_key_1_last_used_service": "s3",
                }
            ),
            generated_at=now - timedelta(minutes=5),
            keys={"deploy-bot": [ListedKey(access_key_id="AKIAFUZZFUZZFUZZ0001", status="Active", created_at=created)]},
        )
        self.registry = FakeRegistry.seeded(now)
        # The running image's deployment, as on_deployment records it: without one the purge deletes nothing.
        self.state.record_deployment(SERVICE_ARN, _digest("running"), None, now - timedelta(days=2), "observed")

    def effects(self) -> list[str]:
        effects = [f"apprunner:{call}" for call in self.service.mutations]
        effects += [f"claim:{claim.reason.value}" for claim in self.state.claims.values()]
        effects += ["ecr:delete"] * len(self.registry.deleted)
        effects += ["iam:deactivate"] * len(self.iam.deactivated)
        effects += ["rollback"] * len(self.rollback.requests)
        return effects

    def targets(self) -> list[tuple[str, str]]:
        """Every effect with what it acted on (the fakes answer for any ARN or name: the harness must look)."""
        targets = [(f"apprunner:{call}", arn) for call, arn in self.service.targets]
        targets += [(f"claim:{claim.reason.value}", arn) for (arn, _), claim in self.state.claims.items()]
        targets += [("ecr:delete", repository) for repository in self.registry.repositories]
        targets += [
            ("iam:deactivate", call.split(":", 1)[1]) for call in self.iam.calls if call.startswith("deactivate:")
        ]
        targets += [("rollback", arn) for arn in self.rollback.targets]
        return targets

    def notification_events(self) -> list[str]:
        return [notification.event for notification in self.notifier.sent]


def _real_target_facts() -> Callable[[Any], Any]:
    from warden.wiring import target_facts

    return target_facts


# Bound before any handler runs: FakeBackend patches warden.wiring.target_facts with a factory of its own.
_REAL_TARGET_FACTS: Final = _real_target_facts()


def _fake_deps(account: FakeAccount) -> dict[str, Callable[[Any], Any]]:
    """The wiring functions the handlers call, by name, each building its deps from `account`'s fakes."""
    from warden.usecases.alarm import AlarmDeps
    from warden.usecases.audit_keys import AuditKeysDeps
    from warden.usecases.budget_alert import BudgetAlertDeps
    from warden.usecases.fleet import FleetDeps
    from warden.usecases.purge_images import PurgeImagesDeps, PurgeService, RepositoryPurgeDeps
    from warden.usecases.schedule import ScheduleDeps

    a = account
    return {
        # The fleet: the stored record in the fake table, no discovery (the listed SERVICE_ARN is the fleet).
        "fleet_store": lambda stack: a.state,
        "fleet_deps": lambda stack: FleetDeps(store=a.state, notifier=a.notifier),
        "notifier": lambda stack: a.notifier,
        "target_facts": _REAL_TARGET_FACTS,  # pure: the platform's facts of an ARN, no client
        "repository_purge": lambda stack, group: (
            [PurgeService(settings=settings, service=a.service) for settings in group],
            RepositoryPurgeDeps(a.registry, a.notifier, a.state, sleep=lambda seconds: None),
        ),
        "budget_alert_deps": lambda settings: BudgetAlertDeps(a.service, a.budgets, a.notifier, a.state, a.images),
        "alarm_deps": lambda settings: AlarmDeps(a.service, a.notifier, a.state, a.rollback, a.images),
        "schedule_deps": lambda settings: ScheduleDeps(a.service, a.state, a.notifier, a.budgets, a.images),
        "audit_keys_deps": lambda settings: AuditKeysDeps(a.iam, a.notifier, a.state, sleep=lambda seconds: None),
        "purge_images_deps": lambda settings: PurgeImagesDeps(
            a.service, a.registry, a.notifier, a.state, sleep=lambda seconds: None
        ),
    }


FAKED_WIRING: Final = frozenset(
    {
        "budget_alert_deps",
        "alarm_deps",
        "schedule_deps",
        "audit_keys_deps",
        "purge_images_deps",
        "fleet_store",
        "fleet_deps",
        "notifier",
        "target_facts",
        "repository_purge",
    }
)


def wiring_of(function: str) -> set[str]:
    """The `warden.wiring` functions a handler imports (at module level or inside the handler)."""
    tree = ast.parse((ROOT / "functions" / function / "app.py").read_text("utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "warden.wiring"
        for alias in node.names
    }


def fakeable(function: str) -> bool:
    """The handler builds its dependencies only through wiring functions this harness fakes."""
    wiring = wiring_of(function)
    return bool(wiring) and wiring <= FAKED_WIRING


def _invoke(function: str, module: ModuleType, generated: Generated, observation: Observation) -> None:
    import time

    start = time.perf_counter()
    try:
        observation.result = module.lambda_handler(generated.event, LambdaContextStub(function_name=function))
    except Exception as error:  # the observation records it; the caller's invariants judge it
        observation.error = error
    observation.seconds = time.perf_counter() - start


class FakeBackend:
    """The real handlers with in-memory fakes behind their wiring; a fresh fake account per event."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        # A client built by mistake (an adapter the fakes do not cover) fails fast: nothing listens there.
        self._env = {**FAKE_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", **(env or {})}
        self._output = OutputCapture()
        self._stack = contextlib.ExitStack()
        self.account = FakeAccount()

    def __enter__(self) -> FakeBackend:
        import warden.wiring

        self._stack.enter_context(fresh_container(self._env))
        # Import every handler first: one imported while warden.wiring is patched would keep the fakes for good.
        modules = [load_handler(function) for function in functions()]
        for name in sorted(FAKED_WIRING):
            # Both bindings: the wiring module's (a handler importing inside its function reads it) and the
            # handler module's own (a handler importing at module level holds that one).
            self._stack.enter_context(_patched(warden.wiring, name, self._factory(name)))
            for module in modules:
                if hasattr(module, name):
                    self._stack.enter_context(_patched(module, name, self._factory(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _factory(self, name: str) -> Callable[[Any], Any]:
        return lambda *args: _fake_deps(self.account)[name](*args)

    def run(self, function: str, generated: Generated, *, fresh: bool = True) -> Observation:
        """Runs the handler on a fresh fake account (or, with `fresh=False`, the previous event's)."""
        if fresh:
            self.account = FakeAccount()
        self.account.notifier.sent.clear()
        self.account.service.calls.clear()
        observation = Observation(
            function=function, origin=generated.origin, event=generated.event, guarded_arn=SERVICE_ARN
        )
        observation.allowed = configured_targets(SERVICE_ARN)
        with self._output.capture(observation):
            _invoke(function, load_handler(function), generated, observation)
        observation.notifications = self.account.notification_events()
        observation.effects = self.account.effects()
        observation.targets = self.account.targets()
        return observation


@contextlib.contextmanager
def _patched(module: ModuleType, name: str, value: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


# --- moto and the emulator -----------------------------------------------------------------------


class MotoBackend:
    """The real handlers against moto's server and the App Runner emulator, in one warm container.

    Every event gets a fresh account of its own (a new RUNNING service and an empty state table), as the
    fakes do: what one event did never changes what the next one may do.
    """

    def __init__(self, account: Any, env: Mapping[str, str] | None = None) -> None:
        self.account = account
        self._env = {**account.env(), **ARMED, **(env or {})}
        self._output = OutputCapture()
        self._stack = contextlib.ExitStack()
        self._runs = 0
        self._table: dict[str, Any] | None = None

    def __enter__(self) -> MotoBackend:
        self._stack.enter_context(fresh_container(self._env))
        self.account.set_budget(limit="10.00", actual="10.42", forecast="12.87")
        self.account.inbox()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @contextlib.contextmanager
    def _fresh_account(self) -> Iterator[None]:
        import os

        from local.account import IMAGE, SERVICE_NAME
        from local.template import load_template, state_table_create_kwargs
        from warden.settings import forget_settings

        self._runs += 1
        if self._table is None:
            self._table = state_table_create_kwargs(load_template(), "warden-fuzz")
        emulator, dynamodb = self.account.emulator, self.account.client("dynamodb")
        emulator.reset()
        self.account.service_arn = emulator.seed_service(SERVICE_NAME, IMAGE)
        self.account.table_name = f"warden-fuzz-{self._runs}"
        dynamodb.create_table(**{**self._table, "TableName": self.account.table_name})
        os.environ.update({"SERVICE_ARN": self.account.service_arn, "STATE_TABLE": self.account.table_name})
        forget_settings()
        try:
            yield
        finally:
            dynamodb.delete_table(TableName=self.account.table_name)

    def run(self, function: str, generated: Generated) -> Observation:
        observation = Observation(function=function, origin=generated.origin)
        with self._fresh_account():
            aimed = Generated(generated.origin, retarget(generated.event, self.account.service_arn))
            observation.event, observation.guarded_arn = aimed.event, self.account.service_arn
            observation.allowed = configured_targets(self.account.service_arn)
            with self._output.capture(observation):
                _invoke(function, load_handler(function), aimed, observation)
            observation.notifications = [received.attributes.get("event", "?") for received in self.account.inbox()]
            calls = [call for call in self.account.emulator.calls() if call.get("operation") in MUTATING_APPRUNNER]
            observation.effects = [f"apprunner:{call['operation']}" for call in calls]
            observation.effects += [f"claim:{claim['reason']}" for claim in self.account.claims()]
            observation.targets = [
                (f"apprunner:{call['operation']}", str((call.get("params") or {}).get("ServiceArn"))) for call in calls
            ]
            observation.targets += self._every_claim()
        return observation

    def _every_claim(self) -> list[tuple[str, str]]:
        """Every claim in the table, under whichever service's partition it was written."""
        items = self.account.client("dynamodb").scan(TableName=self.account.table_name)["Items"]
        return [
            (f"claim:{item['reason']['S']}", item["PK"]["S"].removeprefix("SERVICE#"))
            for item in items
            if item.get("SK", {}).get("S", "").startswith("CLAIM#")
        ]


_APPRUNNER_SERVICE: Final = re.compile(r"arn:aws:apprunner:[a-z0-9-]+:\d{12}:service/[A-Za-z0-9_-]+/([0-9a-f]{32})")


def retarget(event: Any, service_arn: str) -> Any:
    """`event` with the fixtures' App Runner service (its ARN and its 32-hex id) replaced by `service_arn`'s,
    so that an event about "the" service is about the account's own (the emulator makes up the ids)."""
    try:
        text = json.dumps(event)
    except (TypeError, ValueError):
        return event
    ids = {match[1] for match in _APPRUNNER_SERVICE.finditer(text)} | {SERVICE_ARN.rsplit("/", 1)[-1]}
    text = _APPRUNNER_SERVICE.sub(service_arn, text)
    for old in ids:
        text = text.replace(old, service_arn.rsplit("/", 1)[-1])
    return json.loads(text)


# --- the invariants --------------------------------------------------------------------------------


class Baselines:
    """What each unmutated fixture does on a fresh account: the most a mutation of it may do."""

    def __init__(self, run: Callable[[str, Generated], Observation]) -> None:
        self._run = run
        self._seen: dict[tuple[str, str], Observation] = {}

    def of(self, function: str, fixture: str) -> Observation:
        key = (function, fixture)
        if key not in self._seen:
            self._seen[key] = self._run(
                function, Generated(f"fixture:{fixture}:unmutated", fixtures(function)[fixture])
            )
        return self._seen[key]


def misrouted(function: str, baselines: Baselines) -> list[tuple[str, Any]]:
    """Other functions' fixtures of a kind `function` does not take, which their own function understands.

    An event its own function forwards as unparsed is left out: it may be anything, even a valid event
    for `function` (the budget topic's "unknown message" is a CloudWatch alarm).
    """
    chosen = []
    for label, event in misrouted_events(fixtures(function), other_fixtures(function)):
        source, name = label.split("/", 1)
        if fakeable(source) and "alert.unparsed" in baselines.of(source, name).notifications:
            continue
        chosen.append((label, event))
    return chosen


UNPARSED: Final = "alert.unparsed"


def category(observation: Observation, baselines: Baselines) -> str:
    """What the event turned out to be: `garbage`; a `rejected` mutation (forwarded as unparsed, ignored, or
    refused); a mutation handled `as-fixture` (the same notification as the fixture's); or one `reinterpreted`
    as another valid event (a planted string made the self-watching alarm an ordinary one, say)."""
    if observation.origin.startswith("garbage:"):
        return "garbage"
    if observation.verdict in {"ignored", "retryable", "crashed"} or UNPARSED in observation.notifications:
        return "rejected"
    baseline = baselines.of(observation.function, observation.origin.split(":")[1])
    return "as-fixture" if set(observation.notifications) <= set(baseline.notifications) else "reinterpreted"


def problems(observation: Observation, baselines: Baselines) -> list[str]:
    """Every invariant the observation breaks (empty when it is fine).

    Garbage and rejected mutations take no action; a mutation handled as its fixture does at most what the
    fixture does; a mutation Warden reads as another valid event is judged by the other invariants only.
    """
    found: list[str] = []
    verdict = observation.verdict
    if verdict == "crashed":
        found.append("raised an error that is not a RetryableError: Lambda would retry it pointlessly, then drop it")
    if verdict == "unaccounted":
        found.append("neither forwarded to the operator nor ignored with a reason and a metric")
    if observation.bad_output:
        found.append("wrote stdout lines that are not JSON (CloudWatch could not read the logs or metrics)")
    kind = category(observation, baselines)
    if kind in {"garbage", "rejected"} and observation.effects:
        found.append(f"{kind} input took an action")
    if kind == "garbage" and verdict == "handled":
        found.append("garbage was neither forwarded nor ignored with a reason and a metric")
    if kind == "as-fixture":
        baseline = baselines.of(observation.function, observation.origin.split(":")[1])
        if not observation.effect_kinds <= baseline.effect_kinds:
            found.append(f"a mutation did more than the fixture itself ({sorted(baseline.effect_kinds)})")
        if verdict == "handled" and baseline.verdict != "handled":
            found.append("a mutation was neither forwarded nor ignored, although the fixture is")
    return found + absolute_problems(observation)


# --- the absolute invariants -------------------------------------------------------------------------

OVERDUE_KEY: Final = "deploy-bot:AKIAFUZZFUZZFUZZ0001"


def configured_targets(service_arn: str) -> dict[str, frozenset[str]]:
    """What the fixture account's configuration lets each kind of effect act on, and nothing else."""
    return {
        "apprunner": frozenset({service_arn}),
        "claim": frozenset({service_arn}),
        "rollback": frozenset({service_arn}),
        "ecr": frozenset({CONFIGURED_REPOSITORY}),
        "iam": frozenset({OVERDUE_KEY}),
    }


def absolute_problems(observation: Observation) -> list[str]:
    """What no event may ever make a handler do, whatever its fixture does: act on anything but the configured
    service, repository or overdue key; or, for on_alarm, act on an alarm not provably about the service."""
    found = []
    for effect, target in observation.targets:
        allowed = observation.allowed.get(effect.split(":")[0], frozenset())
        if target not in allowed:
            found.append(f"{effect} acted on {target[:120]!r}, not on the configured {sorted(allowed)}")
    if (
        observation.function == "on_alarm"
        and observation.effects
        and not provably_guarded(observation.event, observation.guarded_arn)
    ):
        found.append(f"on_alarm acted ({sorted(set(observation.effects))}) on an alarm not provably the service's")
    return found


_ALARM_ARN: Final = re.compile(r"^arn:(aws[a-z-]*):cloudwatch:([a-z0-9-]+):(\d{12}):alarm:.+$", re.DOTALL)
_READS_DATA: Final = ("SEARCH", "SELECT", "INSIGHT_RULE_METRIC", "SERVICE_QUOTA", "LAMBDA", "SCHEMA")


def provably_guarded(
    event: Any, service_arn: str, *, load_balancer: str | None = None, target_group: str | None = None
) -> bool:
    """Whether the alarm state change in `event` (SNS, EventBridge or direct) provably concerns the service
    `service_arn`: every alarm ARN in it is in the service's partition, account and region; no composite rule;
    no suppressed actions; at least one metric, and every metric it names is the service's (App Runner:
    AWS/AppRunner with its ServiceID or ServiceName and no other; ECS: AWS/ECS or ECS/ContainerInsights with
    its ClusterName and ServiceName; its target group on AWS/ApplicationELB when given), read from no other
    account, and no expression reads metrics by itself. Written apart from Warden's reading, deliberately
    simple and strict: Warden must be at least as strict."""
    _, partition, _, region, account, resource = (service_arn.split(":", 5) + [""] * 6)[:6]
    parts = resource.split("/")
    ecs = service_arn.split(":")[2:3] == ["ecs"]
    documents = _alarm_documents(event)
    if not documents:
        return False
    found = {"arns": 0, "metrics": 0}
    ok = all(
        _walk_guarded(document, (partition, region, account), parts, ecs, (load_balancer, target_group), found)
        for document in documents
    )
    return ok and found["arns"] > 0 and found["metrics"] > 0


def _alarm_documents(event: Any) -> list[Any]:
    """The alarm documents of an event: each SNS record's Message (JSON-decoded), or the event itself."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        documents = []
        for record in event["Records"]:
            message = record.get("Sns", {}).get("Message") if isinstance(record, dict) else None
            if not isinstance(message, str):
                continue
            try:
                documents.append(json.loads(message))
            except (ValueError, RecursionError):
                continue
        return documents
    return [event]


def _walk_guarded(
    node: Any,
    place: tuple[str, str, str],
    parts: list[str],
    ecs: bool,
    balancer: tuple[str | None, str | None],
    found: dict[str, int],
    key: str = "",
) -> bool:
    if isinstance(node, list):
        return all(_walk_guarded(item, place, parts, ecs, balancer, found, key) for item in node)
    if isinstance(node, str):
        if key in {"AlarmArn", "alarmArn", "resources"}:
            match = _ALARM_ARN.match(node)
            found["arns"] += 1
            return match is not None and match.groups() == place
        if key in {"Expression", "expression"}:
            return not any(word in node.upper() for word in _READS_DATA)
        return True
    if not isinstance(node, dict):
        return True
    if node.get("AlarmRule") is not None or node.get("alarmRule") is not None:
        return False
    if key in {"state", ""} and (node.get("actionsSuppressedBy") or node.get("ActionsSuppressedBy")):
        return False
    if key in {"metric", "Metric", "Trigger"} or "Namespace" in node or "namespace" in node:
        if key == "Trigger" and "MetricName" not in node and "Namespace" not in node:
            pass  # metric math: its metrics are below
        elif not _metric_is_the_services(node, parts, ecs, balancer):
            return False
        else:
            found["metrics"] += 1
    if key in {"Metrics", "metrics"}:
        stat = node.get("MetricStat", node.get("metricStat"))
        has_stat = isinstance(stat, dict) and isinstance(stat.get("Metric", stat.get("metric")), dict)
        if not has_stat and not isinstance(node.get("Expression", node.get("expression")), str):
            return False
        metric_account = node.get("AccountId", node.get("accountId"))
        if metric_account is not None and metric_account != place[2]:
            return False
    return all(_walk_guarded(value, place, parts, ecs, balancer, found, str(child)) for child, value in node.items())


def _metric_is_the_services(
    metric: dict[str, Any], parts: list[str], ecs: bool, balancer: tuple[str | None, str | None]
) -> bool:
    namespace = metric.get("Namespace", metric.get("namespace"))
    raw = metric.get("Dimensions", metric.get("dimensions"))
    dimensions: dict[str, Any] = {}
    if isinstance(raw, dict):
        dimensions = dict(raw)
    elif isinstance(raw, list):
        for entry in raw:
            if not isinstance(entry, dict):
                return False
            name, value = entry.get("name", entry.get("Name")), entry.get("value", entry.get("Value"))
            dimensions[str(name)] = value
    elif raw is not None:
        return False
    if ecs:
        cluster, name = parts[1:3] if len(parts) >= 3 else ("", "")
        if namespace in {"AWS/ECS", "ECS/ContainerInsights"}:
            return dimensions.get("ClusterName") == cluster and dimensions.get("ServiceName") == name
        if namespace == "AWS/ApplicationELB" and balancer[1] is not None:
            group, whole = dimensions.get("TargetGroup"), dimensions.get("LoadBalancer")
            return group == balancer[1] and whole in (None, balancer[0])
        return False
    name, service_id = parts[1:3] if len(parts) >= 3 else ("", "")
    if namespace != "AWS/AppRunner":
        return False
    watched_id, watched_name = dimensions.get("ServiceID"), dimensions.get("ServiceName")
    if watched_id is None and watched_name is None:
        return False
    return watched_id in (None, service_id) and watched_name in (None, name)
