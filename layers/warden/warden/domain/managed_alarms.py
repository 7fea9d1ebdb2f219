"""The standard alarms Warden keeps for every guarded service of a fleet, and the changes that get there. Pure.

A single-service stack gets its health alarms from template.yaml (ErrorRateAlarm ... EcsNoHealthyTargetsAlarm). A
fleet service gets the same alarms from Warden through PutMetricAlarm: the same metrics, metric math, dimensions,
statistics, periods, evaluation and thresholds, so that `concerns` (domain/alarms.py) recognises each as the
service's own and `classify` reads it the same way. Only the name differs: `warden-<service name>-<suffix>`, with
the stack's suffixes (`-5xx-rate`, `-p99-latency`, `-cpu`, `-memory`, `-no-instances`) so that ALARM_ACTIONS
patterns such as `*-cpu=pause` mean the same for both.

- `desired_alarms`: the alarms one service should have. App Runner: 5xx rate, p99 latency, CPU, memory, no
  instances. ECS: CPU and memory; with a target group AND its load balancer also 5xx rate, p99 latency and no
  healthy targets. The load balancer's metrics are published only with the `TargetGroup` and `LoadBalancer`
  dimensions together (or with `AvailabilityZone` as well): an alarm on `TargetGroup` alone watches a metric that
  does not exist and never leaves INSUFFICIENT_DATA, so without the load balancer those three are not built.
- `plan_alarm_changes`: what to create, update and delete so that CloudWatch holds exactly the desired alarms, with
  no call at all when nothing changed. Nothing Warden did not create is ever changed or deleted: Warden deletes an
  alarm only when its name is shaped as Warden names them (`warden-<name>-<suffix>`), it carries `warden:managed` =
  `true` (set at creation; CloudWatch ignores the tags of a PutMetricAlarm that updates), it notifies this stack's
  alarm topic, and no guarded service wants it (nor may still want it: see `keep`). It updates one only when it
  carries that tag.
- Two guarded services that would get the same alarm names (two ECS services of one name in different clusters, or
  an App Runner and an ECS service of one name) are a conflict: the first by ARN keeps the names, the other gets no
  alarm and is reported, so the two never overwrite each other on alternate runs.

`AlarmSpec` is PutMetricAlarm's input as plain data; `AlarmSpec.from_described` reads DescribeAlarms' output into
the same model, normalised (dimensions and actions sorted, CloudWatch's defaults spelled out) so that an alarm
nobody changed compares equal to the one Warden would write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final, assert_never

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warden.domain.alarms import ALB, APPRUNNER, ECS, load_balancer_dimension, target_group_dimension
from warden.domain.fleet import MANAGED_TAG
from warden.errors import WardenError
from warden.models.alarm import ALARM_NAME_LIMIT

PREFIX: Final = "warden-"
MANAGED_VALUE: Final = "true"
# The stack's own alarm names end in these (template.yaml: ${AWS::StackName}-<suffix>).
ERROR_RATE: Final = "5xx-rate"
LATENCY: Final = "p99-latency"
CPU: Final = "cpu"
MEMORY: Final = "memory"
NO_INSTANCES: Final = "no-instances"
SUFFIXES: Final = (ERROR_RATE, LATENCY, CPU, MEMORY, NO_INSTANCES)
# DeleteAlarms takes at most 100 names a call (the API's AlarmNames limit).
DELETE_BATCH: Final = 100
_PERIOD: Final = 300  # five minutes, as every alarm of the stack
# The same expression as the template's: FILL turns a period without data into 0, and IF avoids dividing by zero.
RATE_EXPRESSION: Final = "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"
_DIGEST: Final = 12  # hex characters of a too-long service name's hash
_LONGEST_SUFFIX: Final = max(len(suffix) for suffix in SUFFIXES)


class Platform(StrEnum):
    APPRUNNER = "apprunner"
    ECS = "ecs"


class AlarmOwner(BaseModel):
    """A guarded service, as its alarms need it. `complete` is False when something that decides its alarms could
    not be read this run (its tags, its target group's load balancer): then its alarms are created and updated as
    far as known, and none of its possible alarm names is deleted."""

    model_config = ConfigDict(frozen=True)

    service_arn: str
    name: str = Field(min_length=1)
    platform: Platform
    service_id: str | None = None
    """App Runner's service id (the 32-hex end of its ARN): its metrics' ServiceID dimension."""
    cluster: str | None = None
    """The ECS cluster's name: its metrics' ClusterName dimension."""
    target_group_arn: str | None = None
    """ECS: the `warden:target-group` tag, the target group in front of the service."""
    load_balancer_arn: str | None = None
    """ECS: the load balancer that routes to the target group (elbv2 DescribeTargetGroups' LoadBalancerArns)."""
    complete: bool = True

    @model_validator(mode="after")
    def _identified(self) -> AlarmOwner:
        match self.platform:
            case Platform.APPRUNNER:
                if not self.service_id:
                    raise ValueError(f"the App Runner service {self.service_arn} needs its service id")
            case Platform.ECS:
                if not self.cluster:
                    raise ValueError(f"the ECS service {self.service_arn} needs its cluster")
            case _:
                assert_never(self.platform)
        return self


class AlarmThresholds(BaseModel):
    """The thresholds of the alarms: the defaults and bounds of template.yaml's parameters of the same meaning
    (ErrorRateThresholdPercent, LatencyP99ThresholdMs, CpuThresholdPercent, MemoryThresholdPercent)."""

    model_config = ConfigDict(frozen=True)

    error_rate_percent: float = Field(default=5, ge=0, le=100)
    latency_p99_ms: float = Field(default=5000, ge=1, le=600_000)
    cpu_percent: float = Field(default=90, ge=1, le=100)
    memory_percent: float = Field(default=95, ge=1, le=100)


Dimensions = tuple[tuple[str, str], ...]


def _sorted_dimensions(value: Any) -> Any:
    # The same metric whatever order its dimensions are given in; DescribeAlarms need not keep PutMetricAlarm's.
    if isinstance(value, Mapping):
        value = tuple(value.items())
    if isinstance(value, list | tuple):
        return tuple(sorted((str(name), str(item)) for name, item in value))
    return value


class MetricStat(BaseModel):
    """A metric-math query's MetricStat: the metric, its period and its statistic."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    metric_name: str
    dimensions: Dimensions = ()
    period: int
    stat: str
    unit: str | None = None

    _dimensions = field_validator("dimensions", mode="before")(_sorted_dimensions)


class MetricQuery(BaseModel):
    """One entry of PutMetricAlarm's `Metrics`: a metric (`metric_stat`) or an expression over the others."""

    model_config = ConfigDict(frozen=True)

    id: str
    metric_stat: MetricStat | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = True
    """CloudWatch's default when the field is left out."""
    period: int | None = None
    account_id: str | None = None


class AlarmSpec(BaseModel):
    """A metric alarm as PutMetricAlarm takes it and DescribeAlarms returns it, as plain data.

    `tags`, `service_arn` and `arn` are not the alarm's configuration: `tags` are what PutMetricAlarm sets at
    creation (None for an alarm read from DescribeAlarms whose tags were not read), `service_arn` the service a
    desired alarm is for, `arn` the AlarmArn DescribeAlarms gave. `configuration()` is the rest, compared to decide
    whether an alarm must be written."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=ALARM_NAME_LIMIT)
    description: str | None = None
    actions_enabled: bool = True
    ok_actions: tuple[str, ...] = ()
    alarm_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    namespace: str | None = None
    metric_name: str | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    dimensions: Dimensions = ()
    period: int | None = None
    unit: str | None = None
    evaluation_periods: int
    datapoints_to_alarm: int | None = None
    threshold: float | None = None
    comparison_operator: str
    treat_missing_data: str = "missing"
    evaluate_low_sample_count_percentile: str | None = None
    metrics: tuple[MetricQuery, ...] = ()
    threshold_metric_id: str | None = None

    tags: dict[str, str] | None = None
    service_arn: str | None = None
    arn: str | None = None

    _dimensions = field_validator("dimensions", mode="before")(_sorted_dimensions)

    @field_validator("ok_actions", "alarm_actions", "insufficient_data_actions", mode="before")
    @classmethod
    def _sorted_actions(cls, value: Any) -> Any:
        # A set of actions: CloudWatch runs them all, in no order.
        return tuple(sorted(set(value))) if isinstance(value, list | tuple) else value

    @field_validator("treat_missing_data", mode="before")
    @classmethod
    def _missing_by_default(cls, value: Any) -> Any:
        return "missing" if value in (None, "") else value

    @field_validator("evaluate_low_sample_count_percentile", mode="before")
    @classmethod
    def _evaluate_by_default(cls, value: Any) -> Any:
        # The API: "If you specify evaluate or omit this parameter, the alarm is always evaluated": the same alarm.
        return None if value in ("", "evaluate") else value

    @model_validator(mode="before")
    @classmethod
    def _datapoints_by_default(cls, data: Any) -> Any:
        # Left out, DatapointsToAlarm is EvaluationPeriods (an "M of N" alarm with M = N): the same alarm.
        if isinstance(data, dict) and data.get("datapoints_to_alarm") is None:
            return {**data, "datapoints_to_alarm": data.get("evaluation_periods")}
        return data

    def configuration(self) -> dict[str, Any]:
        """What CloudWatch evaluates and does: equal configurations are the same alarm (no write needed)."""
        return self.model_dump(exclude={"tags", "service_arn", "arn"})

    @property
    def managed(self) -> bool:
        """Carries `warden:managed` = `true` (exactly: anything else, or tags not read, is not Warden's)."""
        return self.tags is not None and self.tags.get(MANAGED_TAG) == MANAGED_VALUE

    def notifies(self, topic_arn: str) -> bool:
        return topic_arn in self.alarm_actions or topic_arn in self.ok_actions

    def request(self) -> dict[str, Any]:
        """PutMetricAlarm's parameters. Empty lists and unset fields are left out: PutMetricAlarm replaces the whole
        alarm, so left out is none (and Dimensions may not accompany Metrics)."""
        request: dict[str, Any] = {
            "AlarmName": self.name,
            "ActionsEnabled": self.actions_enabled,
            "EvaluationPeriods": self.evaluation_periods,
            "ComparisonOperator": self.comparison_operator,
            "TreatMissingData": self.treat_missing_data,
        }
        optional: dict[str, Any] = {
            "AlarmDescription": self.description,
            "OKActions": list(self.ok_actions),
            "AlarmActions": list(self.alarm_actions),
            "InsufficientDataActions": list(self.insufficient_data_actions),
            "MetricName": self.metric_name,
            "Namespace": self.namespace,
            "Statistic": self.statistic,
            "ExtendedStatistic": self.extended_statistic,
            "Dimensions": _dimension_list(self.dimensions),
            "Period": self.period,
            "Unit": self.unit,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "Threshold": self.threshold,
            "EvaluateLowSampleCountPercentile": self.evaluate_low_sample_count_percentile,
            "Metrics": [_query_request(query) for query in self.metrics],
            "ThresholdMetricId": self.threshold_metric_id,
            "Tags": [{"Key": key, "Value": value} for key, value in sorted((self.tags or {}).items())],
        }
        request.update({key: value for key, value in optional.items() if value not in (None, [])})
        return request

    @classmethod
    def from_described(cls, alarm: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> AlarmSpec:
        """One of DescribeAlarms' MetricAlarms (and, when read, its ListTagsForResource tags)."""
        return cls(
            name=alarm["AlarmName"],
            description=alarm.get("AlarmDescription"),
            actions_enabled=alarm.get("ActionsEnabled", True),
            ok_actions=tuple(alarm.get("OKActions") or ()),
            alarm_actions=tuple(alarm.get("AlarmActions") or ()),
            insufficient_data_actions=tuple(alarm.get("InsufficientDataActions") or ()),
            namespace=alarm.get("Namespace"),
            metric_name=alarm.get("MetricName"),
            statistic=alarm.get("Statistic"),
            extended_statistic=alarm.get("ExtendedStatistic"),
            dimensions=_dimension_pairs(alarm.get("Dimensions")),
            period=alarm.get("Period"),
            unit=alarm.get("Unit"),
            evaluation_periods=alarm["EvaluationPeriods"],
            datapoints_to_alarm=alarm.get("DatapointsToAlarm"),
            threshold=alarm.get("Threshold"),
            comparison_operator=alarm["ComparisonOperator"],
            treat_missing_data=alarm.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=alarm.get("EvaluateLowSampleCountPercentile"),
            metrics=tuple(_query_of(query) for query in alarm.get("Metrics") or ()),
            threshold_metric_id=alarm.get("ThresholdMetricId"),
            tags=dict(tags) if tags is not None else None,
            arn=alarm.get("AlarmArn"),
        )


def _dimension_list(dimensions: Dimensions) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in dimensions]


def _dimension_pairs(dimensions: Iterable[Mapping[str, str]] | None) -> Dimensions:
    return tuple((item["Name"], item["Value"]) for item in dimensions or ())


def _query_request(query: MetricQuery) -> dict[str, Any]:
    request: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
    if query.metric_stat is not None:
        stat = query.metric_stat
        metric_stat: dict[str, Any] = {
            "Metric": {
                "Namespace": stat.namespace,
                "MetricName": stat.metric_name,
                "Dimensions": _dimension_list(stat.dimensions),
            },
            "Period": stat.period,
            "Stat": stat.stat,
        }
        if stat.unit is not None:
            metric_stat["Unit"] = stat.unit
        request["MetricStat"] = metric_stat
    optional = {"Expression": query.expression, "Label": query.label, "Period": query.period}
    request.update({key: value for key, value in optional.items() if value is not None})
    if query.account_id is not None:
        request["AccountId"] = query.account_id
    return request


def _query_of(query: Mapping[str, Any]) -> MetricQuery:
    stat = query.get("MetricStat")
    metric_stat = None
    if stat is not None:
        metric = stat.get("Metric", {})
        metric_stat = MetricStat(
            namespace=metric.get("Namespace", ""),
            metric_name=metric.get("MetricName", ""),
            dimensions=_dimension_pairs(metric.get("Dimensions")),
            period=stat["Period"],
            stat=stat["Stat"],
            unit=stat.get("Unit"),
        )
    return MetricQuery(
        id=query["Id"],
        metric_stat=metric_stat,
        expression=query.get("Expression"),
        label=query.get("Label"),
        return_data=query.get("ReturnData", True),
        period=query.get("Period"),
        account_id=query.get("AccountId"),
    )


# --- the alarms a service should have --------------------------------------------------------------


def alarm_name(service_name: str, suffix: str) -> str:
    """`warden-<service name>-<suffix>`. An ECS service's name may be 255 characters, more than an alarm name
    leaves room for: then its start and a hash of the whole name stand for it, the same for each suffix."""
    room = ALARM_NAME_LIMIT - len(PREFIX) - 1 - _LONGEST_SUFFIX
    stem = service_name
    if len(service_name) > room:
        digest = hashlib.sha256(service_name.encode("utf-8")).hexdigest()[:_DIGEST]
        stem = f"{service_name[: room - _DIGEST - 1]}~{digest}"
    return f"{PREFIX}{stem}-{suffix}"


def possible_alarm_names(owner: AlarmOwner) -> frozenset[str]:
    """Every name an alarm of this service may have, whatever its target group says."""
    return frozenset(alarm_name(owner.name, suffix) for suffix in SUFFIXES)


def _number(value: float) -> str:
    """As CloudFormation's !Sub writes a Number parameter: 90 -> "90", 92.5 -> "92.5"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def desired_alarms(owner: AlarmOwner, thresholds: AlarmThresholds, alarm_topic_arn: str) -> list[AlarmSpec]:
    """The alarms the stack's template gives a service of this platform, named for this service."""

    def alarm(suffix: str, description: str, **fields: Any) -> AlarmSpec:
        return AlarmSpec(
            name=alarm_name(owner.name, suffix),
            description=description,
            ok_actions=(alarm_topic_arn,),
            alarm_actions=(alarm_topic_arn,),
            treat_missing_data="notBreaching",
            evaluation_periods=3,
            tags={MANAGED_TAG: MANAGED_VALUE},
            service_arn=owner.service_arn,
            **fields,
        )

    match owner.platform:
        case Platform.APPRUNNER:
            return _app_runner_alarms(owner, thresholds, alarm)
        case Platform.ECS:
            return _ecs_alarms(owner, thresholds, alarm)
        case _:
            assert_never(owner.platform)


def _app_runner_alarms(
    owner: AlarmOwner, thresholds: AlarmThresholds, alarm: Callable[..., AlarmSpec]
) -> list[AlarmSpec]:
    dimensions = (("ServiceName", owner.name), ("ServiceID", owner.service_id or ""))

    def metric(name: str, stat: str) -> MetricStat:
        return MetricStat(namespace=APPRUNNER, metric_name=name, dimensions=dimensions, period=_PERIOD, stat=stat)

    single = {"namespace": APPRUNNER, "dimensions": dimensions, "period": _PERIOD, "datapoints_to_alarm": 3}
    rate, latency = _number(thresholds.error_rate_percent), _number(thresholds.latency_p99_ms)
    cpu, memory = _number(thresholds.cpu_percent), _number(thresholds.memory_percent)
    return [
        alarm(
            ERROR_RATE,
            f"5xx responses above {rate} % of all requests (metric math over AWS/AppRunner 5xxStatusResponses and "
            "Requests), in 2 of 3 five-minute periods.",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.error_rate_percent,
            datapoints_to_alarm=2,
            metrics=_rate_queries(metric("5xxStatusResponses", "Sum"), metric("Requests", "Sum")),
        ),
        alarm(
            LATENCY,
            f"p99 response time above {latency} ms for 3 five-minute periods in a row.",
            metric_name="RequestLatency",
            extended_statistic="p99",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.latency_p99_ms,
            **single,
        ),
        alarm(
            CPU,
            f"Average CPU utilisation above {cpu} % for 3 five-minute periods in a row.",
            metric_name="CPUUtilization",
            statistic="Average",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.cpu_percent,
            **single,
        ),
        alarm(
            MEMORY,
            f"Average memory utilisation above {memory} % for 3 five-minute periods in a row.",
            metric_name="MemoryUtilization",
            statistic="Average",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.memory_percent,
            **single,
        ),
        alarm(
            NO_INSTANCES,
            "No active instances for 3 five-minute periods in a row while the service should run.",
            metric_name="ActiveInstances",
            statistic="Maximum",
            comparison_operator="LessThanThreshold",
            threshold=1,
            **single,
        ),
    ]


def _ecs_alarms(owner: AlarmOwner, thresholds: AlarmThresholds, alarm: Callable[..., AlarmSpec]) -> list[AlarmSpec]:
    service = {
        "namespace": ECS,
        "dimensions": (("ClusterName", owner.cluster or ""), ("ServiceName", owner.name)),
        "period": _PERIOD,
        "datapoints_to_alarm": 3,
        "statistic": "Average",
        "comparison_operator": "GreaterThanThreshold",
    }
    cpu, memory = _number(thresholds.cpu_percent), _number(thresholds.memory_percent)
    alarms = [
        alarm(
            CPU,
            f"Average CPU utilisation of the ECS service above {cpu} % for 3 five-minute periods in a row.",
            metric_name="CPUUtilization",
            threshold=thresholds.cpu_percent,
            **service,
        ),
        alarm(
            MEMORY,
            f"Average memory utilisation of the ECS service above {memory} % for 3 five-minute periods in a row.",
            metric_name="MemoryUtilization",
            threshold=thresholds.memory_percent,
            **service,
        ),
    ]
    if not (owner.target_group_arn and owner.load_balancer_arn):
        return alarms
    dimensions = (
        ("TargetGroup", target_group_dimension(owner.target_group_arn)),
        ("LoadBalancer", load_balancer_dimension(owner.load_balancer_arn)),
    )

    def metric(name: str, stat: str) -> MetricStat:
        return MetricStat(namespace=ALB, metric_name=name, dimensions=dimensions, period=_PERIOD, stat=stat)

    rate, latency = _number(thresholds.error_rate_percent), _number(thresholds.latency_p99_ms)
    return [
        *alarms,
        alarm(
            ERROR_RATE,
            f"5xx responses above {rate} % of all requests (metric math over AWS/ApplicationELB "
            "HTTPCode_Target_5XX_Count and RequestCount of the service's target group), in 2 of 3 five-minute "
            "periods.",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.error_rate_percent,
            datapoints_to_alarm=2,
            metrics=_rate_queries(metric("HTTPCode_Target_5XX_Count", "Sum"), metric("RequestCount", "Sum")),
        ),
        # TargetResponseTime is in seconds: 1000 x its p99 keeps the threshold (and what on_alarm reports) in ms.
        alarm(
            LATENCY,
            f"p99 response time above {latency} ms (the load balancer's TargetResponseTime of the service's target "
            "group, in ms) for 3 five-minute periods in a row.",
            comparison_operator="GreaterThanThreshold",
            threshold=thresholds.latency_p99_ms,
            datapoints_to_alarm=3,
            metrics=(
                MetricQuery(id="seconds", metric_stat=metric("TargetResponseTime", "p99"), return_data=False),
                MetricQuery(id="latency", label="p99 response time (ms)", expression="1000 * seconds"),
            ),
        ),
        alarm(
            NO_INSTANCES,
            "No healthy target in the service's target group (the load balancer's HealthyHostCount) for 3 "
            "five-minute periods in a row while the service should run.",
            namespace=ALB,
            metric_name="HealthyHostCount",
            dimensions=dimensions,
            statistic="Maximum",
            period=_PERIOD,
            datapoints_to_alarm=3,
            comparison_operator="LessThanThreshold",
            threshold=1,
        ),
    ]


def _rate_queries(errors: MetricStat, requests: MetricStat) -> tuple[MetricQuery, ...]:
    return (
        MetricQuery(id="errors", metric_stat=errors, return_data=False),
        MetricQuery(id="requests", metric_stat=requests, return_data=False),
        MetricQuery(id="rate", label="5xx error rate (%)", expression=RATE_EXPRESSION),
    )


# --- what to change --------------------------------------------------------------------------------


class AlarmUpdate(BaseModel):
    """An alarm Warden rewrites, and what differs (`threshold: 90.0 -> 80.0`)."""

    model_config = ConfigDict(frozen=True)

    spec: AlarmSpec
    changed: tuple[str, ...]


class AlarmConflict(BaseModel):
    """An alarm Warden wants and does not write this run, and why."""

    model_config = ConfigDict(frozen=True)

    name: str
    service_arn: str | None
    reason: str


class AlarmPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    create: tuple[AlarmSpec, ...] = ()
    update: tuple[AlarmUpdate, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[AlarmConflict, ...] = ()

    @property
    def writes(self) -> int:
        """The write calls the plan takes: one PutMetricAlarm per alarm written, one DeleteAlarms per 100 names."""
        return len(self.create) + len(self.update) + -(-len(self.delete) // DELETE_BATCH)


def differences(desired: AlarmSpec, existing: AlarmSpec) -> tuple[str, ...]:
    """The configuration fields that differ, as `field: old -> new` (long values by name only)."""
    wanted, found = desired.configuration(), existing.configuration()
    changed: list[str] = []
    for field, value in wanted.items():
        if found.get(field) == value:
            continue
        if isinstance(value, int | float | str | bool) or value is None:
            changed.append(f"{field}: {found.get(field)!r} -> {value!r}")
        else:
            changed.append(field)
    return tuple(changed)


def _winners(desired: Sequence[AlarmSpec]) -> tuple[dict[str, AlarmSpec], list[AlarmConflict], set[str]]:
    """The desired alarms by name, the first service by ARN keeping a name two services would share; the losing
    services' alarms as conflicts (all of a loser's alarms, so that no service gets part of its set); and the
    losers' names, which nothing may delete while the conflict lasts."""
    by_service: dict[str, list[AlarmSpec]] = {}
    for spec in desired:
        by_service.setdefault(spec.service_arn or "", []).append(spec)
    claimed: dict[str, AlarmSpec] = {}
    conflicts: list[AlarmConflict] = []
    held: set[str] = set()
    for service in sorted(by_service):
        specs = by_service[service]
        taken = next((spec.name for spec in specs if spec.name in claimed), None)
        if taken is None:
            claimed.update((spec.name, spec) for spec in specs if spec.name not in claimed)
            continue
        first = claimed[taken].service_arn
        for spec in specs:
            held.add(spec.name)
            conflicts.append(
                AlarmConflict(
                    name=spec.name,
                    service_arn=spec.service_arn,
                    reason=f"{taken} is also the alarm name of {first}, which comes first by ARN: this service gets "
                    "no alarm until one of the two is renamed or no longer guarded",
                )
            )
    return claimed, conflicts, held


def is_managed_name(name: str) -> bool:
    """Shaped as `alarm_name` names: `warden-<something>-<suffix>`. The stack's own alarms (`<stack>-cpu`,
    `<stack>-self-errors-<function>`) of a stack named "warden" are not: never read, never deleted."""
    return name.startswith(PREFIX) and any(
        name.endswith(f"-{suffix}") and len(name) > len(PREFIX) + len(suffix) + 1 for suffix in SUFFIXES
    )


def _unwanted_and_ours(alarm: AlarmSpec, held: Collection[str], keep: Collection[str], topic: str | None) -> bool:
    """An alarm no service wants that may be Warden's for this stack, as far as can be told without its tags."""
    return (
        is_managed_name(alarm.name)
        and alarm.name not in held
        and alarm.name not in keep
        and (topic is None or alarm.notifies(topic))
    )


def tag_candidates(
    desired: Sequence[AlarmSpec],
    existing: Sequence[AlarmSpec],
    *,
    keep: Collection[str] = (),
    alarm_topic_arn: str | None = None,
) -> list[str]:
    """The existing alarms whose tags decide what happens to them: those Warden would rewrite (a desired name whose
    configuration differs) or delete (no service wants it). Unchanged alarms need no tag read: no call at all."""
    wanted, _, held = _winners(desired)
    return [
        alarm.name
        for alarm in existing
        if (alarm.name in wanted and wanted[alarm.name].configuration() != alarm.configuration())
        or (alarm.name not in wanted and _unwanted_and_ours(alarm, held, keep, alarm_topic_arn))
    ]


def plan_alarm_changes(
    desired: Sequence[AlarmSpec],
    existing: Sequence[AlarmSpec],
    *,
    keep: Collection[str] = (),
    alarm_topic_arn: str | None = None,
) -> AlarmPlan:
    """What to write so that CloudWatch holds exactly the desired alarms.

    `existing` is DescribeAlarms' `warden-` alarms, with the tags of `tag_candidates` read (`tags` None: not read,
    or unreadable: such an alarm is neither rewritten nor deleted). `keep` names alarms that must not be deleted
    although no service wants them now (the possible names of a service whose alarms could not all be decided this
    run). `alarm_topic_arn`: delete only alarms that notify this stack's alarm topic (another stack's are not ours).
    """
    wanted, conflicts, held = _winners(desired)
    found: dict[str, AlarmSpec] = {}
    for alarm in existing:
        found.setdefault(alarm.name, alarm)
    create: list[AlarmSpec] = []
    update: list[AlarmUpdate] = []
    unchanged: list[str] = []
    for name, spec in wanted.items():
        current = found.get(name)
        if current is None:
            create.append(spec)
        elif current.configuration() == spec.configuration():
            unchanged.append(name)
        elif current.managed:
            update.append(AlarmUpdate(spec=spec, changed=differences(spec, current)))
        else:
            why = (
                "its tags could not be read, so Warden cannot tell that it created it: left as it is this run"
                if current.tags is None
                else f"an alarm of this name exists without the {MANAGED_TAG}={MANAGED_VALUE} tag: Warden did not "
                "create it and leaves it as it is (delete or rename it to let Warden keep this service's alarm)"
            )
            conflicts.append(AlarmConflict(name=name, service_arn=spec.service_arn, reason=why))
    delete = [
        alarm.name
        for alarm in found.values()
        if alarm.name not in wanted and alarm.managed and _unwanted_and_ours(alarm, held, keep, alarm_topic_arn)
    ]
    return AlarmPlan(
        create=tuple(create),
        update=tuple(update),
        delete=tuple(sorted(delete)),
        unchanged=tuple(sorted(unchanged)),
        conflicts=tuple(conflicts),
    )


class AlarmsRefused(WardenError):
    """CloudWatch refused to list the alarms (AccessDenied, an SCP...): nothing can be planned, nothing is written."""


class TagsRead(BaseModel):
    """ListTagsForResource for some alarms: the tags of those read, and why the others could not be."""

    model_config = ConfigDict(frozen=True)

    tags: dict[str, dict[str, str]] = {}
    failures: dict[str, str] = {}
