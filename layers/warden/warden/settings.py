"""Typed settings, read once from the environment that `template.yaml` sets.

A missing or invalid value fails fast with one message that names every offending variable, so a
misconfigured stack says what to fix on its first invocation instead of misbehaving later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from warden.domain.alarms import AlarmActionMap
from warden.domain.fleet import (
    ALARM_ACTIONS_TAG,
    BUDGET_TAG,
    HOURS_TAG,
    LOAD_BALANCER_KEY,
    REPOSITORY_TAG,
    TARGET_GROUP_TAG,
)
from warden.domain.managed_alarms import AlarmThresholds
from warden.domain.pipeline import parse_build_arg_names
from warden.domain.redaction import redact, secret_values
from warden.domain.schedule import WorkingHours, parse_clock, parse_days
from warden.domain.spend import GuardMode, PriceTable, parse_price_override
from warden.errors import SettingsError

_APPRUNNER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):apprunner:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"service/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{3,39})/(?P<id>[0-9a-f]{32})$"
)
_ECS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"service/(?P<cluster>[A-Za-z0-9_-]{1,255})/(?P<name>[A-Za-z0-9_-]{1,255})$"
)
_LOAD_BALANCER_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$"
)
_TARGET_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$"
)
_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$")
# A complete secret ARN: IAM grants secretsmanager:GetSecretValue on exactly it, random suffix included.
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$"
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}

T = TypeVar("T")


class ImagePurgeMode(StrEnum):
    PLAN = "plan"
    DELETE = "delete"


class ServiceKind(StrEnum):
    APPRUNNER = "apprunner"
    ECS = "ecs"


class ServiceRef(BaseModel):
    """The guarded service, as named by its ARN: an App Runner service or an ECS service. `kind` is for wiring,
    which picks the service's target by it; everything that differs by platform is the target's."""

    model_config = ConfigDict(frozen=True)

    arn: str
    kind: ServiceKind = ServiceKind.APPRUNNER
    partition: str
    region: str
    account_id: str
    name: str
    service_id: str = ""  # App Runner's 32-hex id; empty for ECS
    cluster: str = ""  # the ECS cluster; empty for App Runner

    @classmethod
    def parse(cls, arn: str) -> ServiceRef:
        if (match := _APPRUNNER_ARN.match(arn)) is not None:
            return cls(
                arn=arn,
                kind=ServiceKind.APPRUNNER,
                partition=match["partition"],
                region=match["region"],
                account_id=match["account"],
                name=match["name"],
                service_id=match["id"],
            )
        if (match := _ECS_ARN.match(arn)) is not None:
            return cls(
                arn=arn,
                kind=ServiceKind.ECS,
                partition=match["partition"],
                region=match["region"],
                account_id=match["account"],
                name=match["name"],
                cluster=match["cluster"],
            )
        raise ValueError(
            "expected arn:aws:apprunner:<region>:<account>:service/<name>/<32-hex id> or "
            "arn:aws:ecs:<region>:<account>:service/<cluster>/<name>, got " + repr(arn)
        )


class StackSettings(BaseModel):
    """Every setting of the stack, before a service is chosen: the defaults each guarded service starts from
    (its tags may override some, `for_service`) and the services listed by ARN. Field docs are the settings page
    in short."""

    model_config = ConfigDict(frozen=True)

    # SERVICE_ARN then SERVICE_ARNS, without repeats: the services guarded whatever their tags say. Empty when the
    # stack guards only services tagged `warden:guard` = `true`.
    services: tuple[ServiceRef, ...] = ()
    # SERVICE_ARN's service, whose alarms are the stack's own (template.yaml): the fleet keeps none for it.
    primary_arn: str | None = None
    # Every notification also goes to this topic (a management account's), when set.
    central_topic_arn: str | None = None
    # The stack's alarm topic, where the alarms Warden keeps for each fleet service send (None: no managed alarms),
    # and their thresholds (the stack parameters of the same names).
    alarm_topic_arn: str | None = None
    alarm_thresholds: AlarmThresholds = AlarmThresholds()
    notify_topic_arn: str
    state_table: str
    budget_name: str
    # Warden's budget topic (the stack's BudgetAlertTopic): the budget wiring check wants the budget's enforcing
    # alert to send here. None when not set (a CLI run); then any SNS subscriber of that alert counts.
    budget_topic_arn: str | None = None
    dry_run: bool = False
    enforce_threshold_percent: Decimal = Decimal(100)
    enforce_on_forecast: bool = False
    anomaly_pause_impact_usd: Decimal | None = None
    ecr_repository: str | None = None
    key_max_age_days: int = 90
    key_deactivate_after_days: int | None = None
    key_warning_days: int = 14
    key_unused_days: int = 90
    key_unused_never_days: int = 7
    key_healthy_digest_days: int = 7
    image_purge_mode: ImagePurgeMode = ImagePurgeMode.PLAN
    image_keep_deployed: int = 5
    image_keep_semver: int = 10
    image_keep_pulled_days: int = 30
    image_untagged_days: int = 7
    image_tagged_days: int = 90
    history_retention_days: int = 400
    # None when working hours are off (WORKING_HOURS_ENABLED=false, the default).
    working_hours: WorkingHours | None = None
    schedule_timezone: str = "UTC"
    alarm_actions: AlarmActionMap = AlarmActionMap()
    alarm_cooldown_minutes: int = 30
    # ECS only (LoadBalancerArn / TargetGroupArn): lets on_alarm tell a load-balancer alarm about the guarded
    # service's target group from one about another target group.
    load_balancer_arn: str | None = None
    target_group_arn: str | None = None
    # The release pipeline: build-arg names `warden release` passes (values from the environment or .env),
    # and automatic rollback after a failed deployment or an alarm soon after one.
    release_build_args: tuple[str, ...] = ()
    auto_rollback: bool = False
    rollback_window_minutes: int = 30
    # Chat delivery (deliver_chat): the topic Amazon Q Developer's channel configurations read, and the Secrets
    # Manager secret holding a Slack, Teams or Discord webhook URL. None leaves that path off.
    chat_topic_arn: str | None = None
    chat_webhook_secret_arn: str | None = None
    # The spend guard (run_schedule `spend-check`, domain/spend.py): what it does when its estimate reaches the
    # enforce threshold (notify, or pause with a budget claim), how far ahead it warns, and its price table
    # (the documented defaults with SPEND_PRICES laid over them).
    spend_guard: GuardMode = GuardMode.NOTIFY
    spend_guard_horizon_hours: int = 24
    spend_prices: PriceTable = PriceTable()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackSettings:
        """Parse the stack's settings, collecting every problem before failing so one deploy fixes them all.
        SERVICE_ARN and SERVICE_ARNS may both be empty: the stack then guards the tagged services alone."""
        env = os.environ if environ is None else environ
        return cls.model_validate(_parse(env, require_service=False))

    def for_service(
        self, service: ServiceRef, tags: Mapping[str, str] | None = None, *, overrides: TagOverrides | None = None
    ) -> Settings:
        """The settings of one guarded service: the stack's, with what its `warden:*` tags set laid over them
        (`service_overrides`; a malformed tag leaves that one setting as the stack's). A caller that has already
        read the tags passes their `overrides` instead of reading them again."""
        values = {name: getattr(self, name) for name in StackSettings.model_fields}
        if overrides is None:
            overrides = service_overrides(tags or {})
        # The first listed service (SERVICE_ARN) keeps the event keys it had before fleets: in-flight
        # deliveries of an upgrade are still recognised. Every other service's keys are its own.
        primary = self.services[0].arn if self.services else None
        scope = "" if service.arn == primary else service.arn
        return Settings.model_validate({**values, **overrides.values, "service": service, "event_scope": scope})


class Settings(StackSettings):
    """The settings of one guarded service: the stack's, with its tags laid over them."""

    service: ServiceRef
    # True when the service's `warden:hours` tag set its working hours: the fleet reconcile then applies them at
    # their own start and end, and the stack's workday jobs (fired at the stack's hours) leave the service alone.
    hours_from_tag: bool = False
    # Prefixes this service's handled-event keys in the state table, so one budget alert or alarm delivery is
    # handled once per service of a fleet, not once for the whole fleet. Empty for SERVICE_ARN.
    event_scope: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of the one service SERVICE_ARN names (fails fast without it)."""
        env = os.environ if environ is None else environ
        return cls.model_validate(_parse(env, require_service=True))


def _parse(env: Mapping[str, str], *, require_service: bool) -> dict[str, Any]:
    """Every setting, collecting every problem before failing so one deploy fixes them all."""
    reader = _Reader(env)
    service = (
        reader.required("SERVICE_ARN", ServiceRef.parse)
        if require_service
        else reader.optional("SERVICE_ARN", _optional_service, None)
    )
    none_listed: tuple[ServiceRef, ...] = ()
    listed = reader.optional("SERVICE_ARNS", _service_list, none_listed)
    central = reader.optional("CENTRAL_TOPIC_ARN", _optional_sns_arn, None)
    alarm_topic = reader.optional("ALARM_TOPIC_ARN", _optional_sns_arn, None)
    thresholds = AlarmThresholds(
        error_rate_percent=reader.optional("ERROR_RATE_THRESHOLD_PERCENT", _bounded(0, 100), 5.0),
        latency_p99_ms=reader.optional("LATENCY_P99_THRESHOLD_MS", _bounded(1, 600_000), 5000.0),
        cpu_percent=reader.optional("CPU_THRESHOLD_PERCENT", _bounded(1, 100), 90.0),
        memory_percent=reader.optional("MEMORY_THRESHOLD_PERCENT", _bounded(1, 100), 95.0),
    )
    topic = reader.required("NOTIFY_TOPIC_ARN", _sns_arn)
    table = reader.required("STATE_TABLE", _non_empty)
    budget = reader.required("BUDGET_NAME", _budget_name)
    budget_topic = reader.optional("BUDGET_TOPIC_ARN", _optional_sns_arn, None)
    dry_run = reader.optional("DRY_RUN", _bool, False)
    threshold = reader.optional("ENFORCE_THRESHOLD_PERCENT", _percent, Decimal(100))
    on_forecast = reader.optional("ENFORCE_ON_FORECAST", _bool, False)
    anomaly = reader.optional("ANOMALY_PAUSE_IMPACT_USD", _optional_decimal, None)
    repository = reader.optional("ECR_REPOSITORY", _optional_str, None)
    max_age = reader.optional("KEY_MAX_AGE_DAYS", _positive_int, 90)
    deactivate = reader.optional("KEY_DEACTIVATE_AFTER_DAYS", _optional_positive_int, None)
    warning = reader.optional("KEY_WARNING_DAYS", _positive_int, 14)
    unused = reader.optional("KEY_UNUSED_DAYS", _positive_int, 90)
    unused_never = reader.optional("KEY_UNUSED_NEVER_DAYS", _positive_int, 7)
    healthy_digest = reader.optional("KEY_HEALTHY_DIGEST_DAYS", _positive_int, 7)
    if warning >= max_age:
        reader.problems.append(
            f"KEY_WARNING_DAYS: the warning window ({warning}) must be shorter than KEY_MAX_AGE_DAYS ({max_age})"
        )
    if deactivate is not None and deactivate < max_age:
        reader.problems.append(
            f"KEY_DEACTIVATE_AFTER_DAYS: only overdue keys are deactivated, so it must be at "
            f"least KEY_MAX_AGE_DAYS ({max_age}), got {deactivate}"
        )
    purge = reader.optional("IMAGE_PURGE_MODE", _purge_mode, ImagePurgeMode.PLAN)
    keep_deployed = reader.optional("IMAGE_KEEP_DEPLOYED", _positive_int, 5)
    keep_semver = reader.optional("IMAGE_KEEP_SEMVER", _count, 10)
    keep_pulled = reader.optional("IMAGE_KEEP_PULLED_DAYS", _count, 30)
    untagged_days = reader.optional("IMAGE_UNTAGGED_DAYS", _positive_int, 7)
    tagged_days = reader.optional("IMAGE_TAGGED_DAYS", _positive_int, 90)
    retention = reader.optional("HISTORY_RETENTION_DAYS", _positive_int, 400)
    timezone = reader.optional("SCHEDULE_TIMEZONE", _timezone, "UTC")
    alarm_actions = reader.optional("ALARM_ACTIONS", AlarmActionMap.parse, AlarmActionMap())
    alarm_cooldown = reader.optional("ALARM_COOLDOWN_MINUTES", _minutes, 30)
    load_balancer = reader.optional("LOAD_BALANCER_ARN", _load_balancer_arn, None)
    target_group = reader.optional("TARGET_GROUP_ARN", _target_group_arn, None)
    if (load_balancer is None) != (target_group is None):
        reader.problems.append("LOAD_BALANCER_ARN and TARGET_GROUP_ARN must be given together (or neither)")
    no_build_args: tuple[str, ...] = ()
    build_args = reader.optional("RELEASE_BUILD_ARGS", parse_build_arg_names, no_build_args)
    auto_rollback = reader.optional("AUTO_ROLLBACK", _bool, False)
    rollback_window = reader.optional("ROLLBACK_WINDOW_MINUTES", _window_minutes, 30)
    chat_topic = reader.optional("CHAT_TOPIC_ARN", _optional_chat_topic_arn, None)
    chat_webhook_secret = reader.optional("CHAT_WEBHOOK_SECRET_ARN", _optional_secret_arn, None)
    spend_guard = reader.optional("SPEND_GUARD", _guard_mode, GuardMode.NOTIFY)
    spend_horizon = reader.optional("SPEND_GUARD_HORIZON_HOURS", _horizon_hours, 24)
    spend_prices = reader.optional("SPEND_PRICES", _price_table, PriceTable())
    working_hours = None
    if reader.optional("WORKING_HOURS_ENABLED", _bool, False):
        start = reader.optional("WORKDAY_START", parse_clock, parse_clock("08:00"))
        end = reader.optional("WORKDAY_END", parse_clock, parse_clock("18:00"))
        days = reader.optional("WORKING_DAYS", parse_days, parse_days("MON-FRI"))
        if start >= end:
            reader.problems.append(f"WORKDAY_START: the working day must start before WORKDAY_END ({start}-{end})")
        else:
            working_hours = WorkingHours(timezone=timezone, start=start, end=end, days=days)
    missing_service = require_service and service is None
    if reader.problems or missing_service or topic is None or table is None or budget is None:
        # Lambda logs this message: a secret pasted into a setting by mistake is masked in it.
        raise SettingsError(redact("invalid settings: " + "; ".join(reader.problems), secret_values(env)))
    services = tuple(dict.fromkeys(([service] if service is not None else []) + list(listed)))
    chosen: dict[str, Any] = {"service": service} if require_service else {}
    return chosen | dict(
        services=services,
        primary_arn=service.arn if service is not None else None,
        central_topic_arn=central,
        alarm_topic_arn=alarm_topic,
        alarm_thresholds=thresholds,
        notify_topic_arn=topic,
        state_table=table,
        budget_name=budget,
        budget_topic_arn=budget_topic,
        dry_run=dry_run,
        enforce_threshold_percent=threshold,
        enforce_on_forecast=on_forecast,
        anomaly_pause_impact_usd=anomaly,
        ecr_repository=repository,
        key_max_age_days=max_age,
        key_deactivate_after_days=deactivate,
        key_warning_days=warning,
        key_unused_days=unused,
        key_unused_never_days=unused_never,
        key_healthy_digest_days=healthy_digest,
        image_purge_mode=purge,
        image_keep_deployed=keep_deployed,
        image_keep_semver=keep_semver,
        image_keep_pulled_days=keep_pulled,
        image_untagged_days=untagged_days,
        image_tagged_days=tagged_days,
        history_retention_days=retention,
        working_hours=working_hours,
        schedule_timezone=timezone,
        alarm_actions=alarm_actions,
        alarm_cooldown_minutes=alarm_cooldown,
        load_balancer_arn=load_balancer,
        target_group_arn=target_group,
        release_build_args=build_args,
        auto_rollback=auto_rollback,
        rollback_window_minutes=rollback_window,
        chat_topic_arn=chat_topic,
        chat_webhook_secret_arn=chat_webhook_secret,
        spend_guard=spend_guard,
        spend_guard_horizon_hours=spend_horizon,
        spend_prices=spend_prices,
    )


@cache
def get_settings() -> Settings:
    """The settings of this process's one service (SERVICE_ARN), parsed on first use."""
    return Settings.from_env()


@cache
def get_stack_settings() -> StackSettings:
    """The stack's settings, parsed on first use (a Lambda container reads them once); the fleet's members are
    `for_service` of them."""
    return StackSettings.from_env()


def forget_settings() -> None:
    """Reads the settings anew on next use (a new Lambda container; tests and the local tools)."""
    get_settings.cache_clear()
    get_stack_settings.cache_clear()


class TagOverrides(BaseModel):
    """What a service's `warden:*` tags set (as Settings field values), and each malformed tag's problem."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, Any] = {}
    problems: tuple[str, ...] = ()


def service_overrides(tags: Mapping[str, str]) -> TagOverrides:
    """The settings a service's tags give it. A malformed value is a problem naming the tag and why; that setting
    stays the stack's (the other tags still apply). `warden:hours` = `off` (or absent) follows the stack."""
    values: dict[str, Any] = {}
    problems: list[str] = []

    def read(tag: str, parse: Callable[[str], Any], field: str) -> None:
        raw = tags.get(tag)
        if raw is None or not raw.strip():
            return
        try:
            values[field] = parse(raw.strip())
        except ValueError as error:
            problems.append(f"{tag}={raw.strip()[:80]!r}: {error}")

    read(BUDGET_TAG, _budget_name, "budget_name")
    read(ALARM_ACTIONS_TAG, AlarmActionMap.parse, "alarm_actions")
    read(REPOSITORY_TAG, _repository_name, "ecr_repository")
    read(TARGET_GROUP_TAG, _tag_target_group, "target_group_arn")
    hours = tags.get(HOURS_TAG, "").strip()
    if hours and hours.lower() != "off":
        try:
            values["working_hours"] = WorkingHours.parse_tag(hours)
            values["hours_from_tag"] = True
        except ValueError as error:
            problems.append(f"{HOURS_TAG}={hours[:80]!r}: {error}")
    if "target_group_arn" in values:
        # The load balancer of a tagged target group is looked up by the reconcile (elbv2), not given by a tag.
        values["load_balancer_arn"] = tags.get(LOAD_BALANCER_KEY) or None
    return TagOverrides(values=values, problems=tuple(problems))


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def required(self, name: str, parse: Callable[[str], T]) -> T | None:
        raw = self._env.get(name)
        if raw is None or not raw.strip():
            self.problems.append(f"{name} is not set")
            return None
        return self._parse(name, raw.strip(), parse)

    def optional(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self._env.get(name)
        if raw is None:
            return default
        value = self._parse(name, raw.strip(), parse)
        return default if value is None else value

    def _parse(self, name: str, raw: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(raw)
        except ValueError as error:
            self.problems.append(f"{name}: {error}")
            return None


def _bounded(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw[:40]!r}") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low:g} to {high:g}, got {raw[:40]!r}")
        return value

    return parse


def _optional_service(raw: str) -> ServiceRef | None:
    return ServiceRef.parse(raw) if raw else None


def _service_list(raw: str) -> tuple[ServiceRef, ...]:
    """SERVICE_ARNS: comma-separated service ARNs (blanks and empty items ignored)."""
    refs = [ServiceRef.parse(item) for item in (piece.strip() for piece in raw.split(",")) if item]
    return tuple(dict.fromkeys(refs))


def _repository_name(raw: str) -> str:
    if not _REPOSITORY.match(raw) or len(raw) > 256:
        raise ValueError("expected an ECR repository name (lower case, e.g. consultation-app or team/app)")
    return raw


def _tag_target_group(raw: str) -> str:
    if not _TARGET_GROUP_ARN.match(raw):
        raise ValueError("expected a target group ARN (arn:aws:elasticloadbalancing:...:targetgroup/<name>/<id>)")
    return raw


def _non_empty(raw: str) -> str:
    if not raw:
        raise ValueError("must not be empty")
    return raw


def _sns_arn(raw: str) -> str:
    if not _SNS_ARN.match(raw):
        raise ValueError(f"expected an SNS topic ARN, got {raw!r}")
    return raw


def _optional_sns_arn(raw: str) -> str | None:
    return _sns_arn(raw.strip()) if raw.strip() else None


def _load_balancer_arn(raw: str) -> str | None:
    if raw and not _LOAD_BALANCER_ARN.match(raw):
        raise ValueError(f"expected an Application Load Balancer ARN (...:loadbalancer/app/<name>/<id>), got {raw!r}")
    return raw or None


def _target_group_arn(raw: str) -> str | None:
    if raw and not _TARGET_GROUP_ARN.match(raw):
        raise ValueError(f"expected a target group ARN (...:targetgroup/<name>/<id>), got {raw!r}")
    return raw or None


def _budget_name(raw: str) -> str:
    if len(raw) > 100 or ":" in raw or "\\" in raw:
        raise ValueError("a budget name is 1-100 characters without ':' or '\\'")
    return raw


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"expected a number, got {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"expected a finite number, got {raw!r}")
    # A huge exponent is finite, yet formatting it (f"{value:,.2f}") builds a string of that many digits.
    if value.adjusted() > 12:
        raise ValueError(f"expected a number below a trillion, got {raw[:40]!r}")
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal("0.01")) if isinstance(exponent, int) and exponent < -12 else value


def _percent(raw: str) -> Decimal:
    value = _decimal(raw)
    if not Decimal(1) <= value <= Decimal(1000):
        raise ValueError(f"expected a percentage between 1 and 1000, got {raw!r}")
    return value


def _optional_decimal(raw: str) -> Decimal | None:
    if not raw:
        return None
    value = _decimal(raw)
    if value < 0:
        raise ValueError(f"expected a positive amount, got {raw!r}")
    return value


def _optional_str(raw: str) -> str | None:
    return raw or None


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number of days, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"expected 0 or more, got {raw!r}")
    return value


def _minutes(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number of minutes, got {raw!r}") from None
    if not 0 <= value <= 10080:
        raise ValueError(f"expected 0 (no cool-down) to 10080 minutes (a week), got {raw!r}")
    return value


def _window_minutes(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number of minutes, got {raw!r}") from None
    if not 1 <= value <= 1440:
        raise ValueError(f"expected 1 to 1440 minutes (a day), got {raw!r}")
    return value


def _optional_positive_int(raw: str) -> int | None:
    return _positive_int(raw) if raw else None


def _timezone(raw: str) -> str:
    WorkingHours.parse(raw, "00:00", "23:59", "MON")  # validates the zone; raises a readable ValueError
    return raw


def _purge_mode(raw: str) -> ImagePurgeMode:
    try:
        return ImagePurgeMode(raw.lower())
    except ValueError:
        raise ValueError(f"expected 'plan' or 'delete', got {raw!r}") from None


def _optional_chat_topic_arn(raw: str) -> str | None:
    return _sns_arn(raw) if raw else None


def _optional_secret_arn(raw: str) -> str | None:
    if raw and not _SECRET_ARN.match(raw):
        # Not quoted: an ARN holds "secret:", which the redaction of this message masks anyway.
        raise ValueError(
            "expected the complete ARN of a Secrets Manager secret in this partition (arn:aws:secretsmanager:...), "
            "ending in the secret's name, a dash and the 6 random characters the console shows"
        )
    return raw or None


def _guard_mode(raw: str) -> GuardMode:
    try:
        return GuardMode(raw.lower() or GuardMode.NOTIFY.value)
    except ValueError:
        raise ValueError(f"expected 'notify' or 'pause', got {raw[:40]!r}") from None


def _horizon_hours(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number of hours, got {raw[:40]!r}") from None
    if not 1 <= value <= 744:
        raise ValueError(f"expected 1 to 744 hours (a month), got {raw[:40]!r}")
    return value


def _price_table(raw: str) -> PriceTable:
    """SPEND_PRICES laid over the documented defaults; empty keeps the defaults."""
    return PriceTable().merged(parse_price_override(raw)) if raw else PriceTable()
