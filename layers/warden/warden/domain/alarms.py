"""Health alarms as facts, and what may be done about them: pure decisions, `now` passed in.

- `AlarmActionMap`: the operator's mapping from alarm name (or glob pattern) to an action, parsed and
  validated from ALARM_ACTIONS ("warden-5xx-rate=rollback,*-cpu=pause").
- `classify`: which metric an alarm watches. The service's metrics are App Runner's (AWS/AppRunner), or ECS's
  (AWS/ECS CPU and memory, ECS/ContainerInsights tasks) and its load balancer's (AWS/ApplicationELB).
  `metric_unit`: the unit its numbers are in. App Runner's RequestLatency is in ms, the load balancer's
  TargetResponseTime in seconds, and the stack's metric-math latency alarm (`1000 * m` over TargetResponseTime)
  in ms again.
- `observed_value`: the datapoint that tripped the alarm, read from CloudWatch's reason text.
- `decide_cooldown`: whether an alarm may act again so soon.
- `concerns` / `permitted`: whether the alarm provably concerns the guarded service (its account, region and
  every metric's identifying dimensions), and so which action may run: a pattern acts only on the guarded
  service's alarms, an exact name also on an alarm whose resource cannot be told, nothing on another resource's.
- `alarm_key`: the alarm's name as it goes into state-table keys, hashed when too long for DynamoDB.
- Warden's own alarms (template.yaml: `<stack>-self-errors-<function>` on AWS/Lambda Errors and
  `<stack>-self-failed-events` on the failed-events queue): `is_self_watching` tells them apart from other
  Lambda or SQS alarms (SELF_WATCHING kinds).
- What on_alarm did, as facts (`Fired`, `Expected`, `Recovered`, `NoData`, `Suppressed`): warden/messages/alarm.py
  writes every notification from them, with the metric in plain words ("The 5xx error rate is 12.5 %, above
  5 %.") and what to check first. The decisions here keep their `reason`, a clause a person can read.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any, Final, assert_never
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, model_validator

from warden.domain.service import ServiceSnapshot, ServiceStatus
from warden.models.alarm import AlarmMetric, AlarmState, AlarmStateChange
from warden.models.parsing import finite_or_none

APPRUNNER: Final = "AWS/AppRunner"
ECS: Final = "AWS/ECS"
CONTAINER_INSIGHTS: Final = "ECS/ContainerInsights"
ALB: Final = "AWS/ApplicationELB"
BILLING: Final = "AWS/Billing"
LAMBDA: Final = "AWS/Lambda"
SQS: Final = "AWS/SQS"
# The names template.yaml gives Warden's alarms on itself: <stack>-self-errors-<function>, <stack>-self-failed-events.
_SELF_WATCHING_NAME: Final = re.compile(r"-self-(?:errors-[A-Za-z0-9_-]+|failed-events)$")
_GLOB: Final = re.compile(r"[*?\[]")
# The datapoints CloudWatch lists in its reason, newest first: "[12.5 (27/11/26 10:00:00), 8.3 (...)]".
_BRACKETS: Final = re.compile(r"\[([^\[\]]*)\]")
_DATAPOINT: Final = re.compile(
    r"(?P<value>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[Ee][-+]?[0-9]+)?)\s*\((?P<at>[^()]*)\)"
)
# A metric-math expression that turns seconds into milliseconds: "1000 * m" or "m * 1000".
_TIMES_1000: Final = re.compile(r"(?<![0-9.])1000(?:\.0*)?\s*\*|\*\s*1000(?:\.0*)?(?![0-9.])")
_BAND: Final = re.compile(
    r"lower\s+thresholds?\s*\[\s*(?P<lower>-?[0-9.Ee+-]+)[^\]]*\].*?upper\s+thresholds?\s*\[\s*(?P<upper>-?[0-9.Ee+-]+)",
    re.IGNORECASE | re.DOTALL,
)


# --- the action mapping ----------------------------------------------------------------------------


class AlarmAction(StrEnum):
    NOTIFY = "notify"
    PAUSE = "pause"
    ROLLBACK = "rollback"


class ActionRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: str
    action: AlarmAction

    @property
    def is_glob(self) -> bool:
        return _GLOB.search(self.pattern) is not None


class ActionChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: AlarmAction
    reason: str
    exact: bool = False
    """The rule names this alarm exactly (the operator named it), rather than matching it by a pattern."""


class AlarmActionMap(BaseModel):
    """Alarm name -> action. An exact name wins over patterns; among patterns the first written wins;
    an alarm no rule matches gets `notify`."""

    model_config = ConfigDict(frozen=True)

    rules: tuple[ActionRule, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> AlarmActionMap:
        """`name=action` pairs separated by commas (or new lines); raises ValueError naming every bad pair."""
        rules: list[ActionRule] = []
        problems: list[str] = []
        seen: dict[str, AlarmAction] = {}
        for entry in (part.strip() for part in re.split(r"[,\n]", raw)):
            if not entry:
                continue
            pattern, separator, word = (piece.strip() for piece in entry.partition("="))
            if not separator or not pattern:
                problems.append(f"{entry!r} is not <alarm name or pattern>=<action>")
                continue
            try:
                action = AlarmAction(word.lower())
            except ValueError:
                allowed = ", ".join(action.value for action in AlarmAction)
                problems.append(f"unknown action {word!r} for {pattern!r} (expected one of {allowed})")
                continue
            if pattern in seen and seen[pattern] is not action:
                problems.append(f"{pattern!r} is mapped to both {seen[pattern].value} and {action.value}")
                continue
            if pattern not in seen:
                seen[pattern] = action
                rules.append(ActionRule(pattern=pattern, action=action))
        if problems:
            raise ValueError("; ".join(problems))
        return cls(rules=tuple(rules))

    def resolve(self, alarm_name: str) -> ActionChoice:
        for rule in self.rules:
            if not rule.is_glob and rule.pattern == alarm_name:
                return ActionChoice(
                    action=rule.action, reason=f"ALARM_ACTIONS maps '{alarm_name}' to {rule.action}", exact=True
                )
        for rule in self.rules:
            if rule.is_glob and fnmatchcase(alarm_name, rule.pattern):
                return ActionChoice(
                    action=rule.action, reason=f"ALARM_ACTIONS pattern '{rule.pattern}' maps it to {rule.action}"
                )
        return ActionChoice(
            action=AlarmAction.NOTIFY, reason="no ALARM_ACTIONS rule matches this alarm, so it only notifies"
        )

    def describe(self) -> str:
        return ", ".join(f"{rule.pattern}={rule.action}" for rule in self.rules) or "(none: every alarm notifies)"


# --- which metric ----------------------------------------------------------------------------------


class MetricKind(StrEnum):
    ERROR_RATE = "5xx_rate"
    ERRORS_5XX = "5xx_count"
    ERRORS_4XX = "4xx_count"
    LATENCY = "latency"
    CPU = "cpu"
    MEMORY = "memory"
    INSTANCES = "instances"
    REQUESTS = "requests"
    BILLING = "billing"
    LAMBDA_ERRORS = "lambda_errors"
    QUEUE_DEPTH = "queue_depth"
    WARDEN_ERRORS = "warden_errors"
    """Errors of one of Warden's own functions (its `-self-errors-` alarm)."""
    WARDEN_FAILED_EVENTS = "warden_failed_events"
    """Events waiting in Warden's failed-events queue (its `-self-failed-events` alarm)."""
    COMPOSITE = "composite"
    OTHER = "other"


SELF_WATCHING: Final = frozenset({MetricKind.WARDEN_ERRORS, MetricKind.WARDEN_FAILED_EVENTS})


_SERVICE_KINDS: Final[dict[tuple[str, str], MetricKind]] = {
    (APPRUNNER, "5xxStatusResponses"): MetricKind.ERRORS_5XX,
    (APPRUNNER, "4xxStatusResponses"): MetricKind.ERRORS_4XX,
    (APPRUNNER, "RequestLatency"): MetricKind.LATENCY,
    (APPRUNNER, "CPUUtilization"): MetricKind.CPU,
    (APPRUNNER, "MemoryUtilization"): MetricKind.MEMORY,
    (APPRUNNER, "ActiveInstances"): MetricKind.INSTANCES,
    (APPRUNNER, "Requests"): MetricKind.REQUESTS,
    (ECS, "CPUUtilization"): MetricKind.CPU,
    (ECS, "MemoryUtilization"): MetricKind.MEMORY,
    (CONTAINER_INSIGHTS, "RunningTaskCount"): MetricKind.INSTANCES,
    (ALB, "HTTPCode_Target_5XX_Count"): MetricKind.ERRORS_5XX,
    (ALB, "HTTPCode_ELB_5XX_Count"): MetricKind.ERRORS_5XX,
    (ALB, "HTTPCode_Target_4XX_Count"): MetricKind.ERRORS_4XX,
    (ALB, "HTTPCode_ELB_4XX_Count"): MetricKind.ERRORS_4XX,
    (ALB, "TargetResponseTime"): MetricKind.LATENCY,
    (ALB, "HealthyHostCount"): MetricKind.INSTANCES,
    (ALB, "RequestCount"): MetricKind.REQUESTS,
}
# Metric math over one of these pairs (5xx responses and all requests) is an error rate.
_RATE_PAIRS: Final = (
    frozenset({(APPRUNNER, "5xxStatusResponses"), (APPRUNNER, "Requests")}),
    frozenset({(ALB, "HTTPCode_Target_5XX_Count"), (ALB, "RequestCount")}),
    frozenset({(ALB, "HTTPCode_ELB_5XX_Count"), (ALB, "RequestCount")}),
)


def classify(change: AlarmStateChange) -> MetricKind:
    """What the alarm watches, recognised from its namespace and metric names (never from its name)."""
    if change.is_composite:
        return MetricKind.COMPOSITE
    metric = change.metric
    if metric is None:
        return MetricKind.OTHER
    ordered = [(namespace, name) for namespace, name, _ in metric.metrics()]
    read = set(ordered)
    if metric.shape == "math":
        if any(pair <= read for pair in _RATE_PAIRS):
            return MetricKind.ERROR_RATE
        if len(read) != 1:
            return MetricKind.OTHER
    if (BILLING, "EstimatedCharges") in read:
        return MetricKind.BILLING
    if (LAMBDA, "Errors") in read:
        return MetricKind.WARDEN_ERRORS if is_self_watching(change.name) else MetricKind.LAMBDA_ERRORS
    if (SQS, "ApproximateNumberOfMessagesVisible") in read:
        return MetricKind.WARDEN_FAILED_EVENTS if is_self_watching(change.name) else MetricKind.QUEUE_DEPTH
    for key in ordered:
        if key in _SERVICE_KINDS:
            return _SERVICE_KINDS[key]
    return MetricKind.OTHER


def is_self_watching(alarm_name: str) -> bool:
    """One of the alarms Warden's stack sets on Warden itself (named by template.yaml, see the module doc)."""
    return _SELF_WATCHING_NAME.search(alarm_name) is not None


def is_below_alarm(change: AlarmStateChange) -> bool:
    return (change.comparison or "").startswith("LessThan")


class Observation(BaseModel):
    """The datapoint that made the alarm change state."""

    model_config = ConfigDict(frozen=True)

    value: float
    at: str | None = None
    """The datapoint's time as CloudWatch printed it ("27/11/26 10:00:00", UTC) or an ISO timestamp."""
    source: str
    """Where it was read: "reason" or "reason data"."""


def observed_value(reason: str, reason_data: dict[str, Any] | None = None) -> Observation | None:
    """The newest datapoint in CloudWatch's reason ("[12.5 (27/11/26 10:00:00), ...]"), else in its data."""
    for group in _BRACKETS.finditer(reason):
        point = _DATAPOINT.search(group.group(1))
        if point is not None:
            return Observation(value=float(point["value"]), at=point["at"].strip() or None, source="reason")
    data = reason_data or {}
    evaluated = data.get("evaluatedDatapoints")
    if isinstance(evaluated, list):
        for point in evaluated:
            if isinstance(point, dict) and isinstance(point.get("value"), int | float):
                stamp = point.get("timestamp")
                return Observation(
                    value=float(point["value"]), at=stamp if isinstance(stamp, str) else None, source="reason data"
                )
    recent = data.get("recentDatapoints")
    if isinstance(recent, list) and recent and isinstance(recent[-1], int | float):
        return Observation(value=float(recent[-1]), source="reason data")
    return None


class Unit(StrEnum):
    """The unit of an alarm's numbers (its threshold, its datapoints), as CloudWatch reports the metric."""

    PERCENT = "%"
    MILLISECONDS = "ms"
    SECONDS = "s"
    COUNT = "count"
    USD = "USD"
    NONE = ""


def metric_unit(kind: MetricKind, metric: AlarmMetric | None) -> Unit:
    """App Runner's RequestLatency is in ms; the load balancer's TargetResponseTime in seconds, unless metric math
    multiplies it by 1000 (the stack's ECS latency alarm does, so that its threshold stays in ms)."""
    match kind:
        case MetricKind.ERROR_RATE | MetricKind.CPU | MetricKind.MEMORY:
            return Unit.PERCENT
        case MetricKind.LATENCY:
            if metric is None or (ALB, "TargetResponseTime") not in {(ns, name) for ns, name, _ in metric.metrics()}:
                return Unit.MILLISECONDS
            if metric.shape == "math" and _TIMES_1000.search(metric.expression or "") is not None:
                return Unit.MILLISECONDS
            return Unit.SECONDS
        case (
            MetricKind.ERRORS_5XX
            | MetricKind.ERRORS_4XX
            | MetricKind.INSTANCES
            | MetricKind.REQUESTS
            | MetricKind.LAMBDA_ERRORS
            | MetricKind.WARDEN_ERRORS
            | MetricKind.QUEUE_DEPTH
            | MetricKind.WARDEN_FAILED_EVENTS
        ):
            return Unit.COUNT
        case MetricKind.BILLING:
            return Unit.USD
        case MetricKind.COMPOSITE | MetricKind.OTHER:
            return Unit.NONE
        case _:
            assert_never(kind)


def metric_statistic(metric: AlarmMetric | None) -> str | None:
    """The metric's statistic; for metric math, the one statistic all its metrics use (p99 of a `1000 * m`)."""
    if metric is None:
        return None
    if metric.statistic:
        return metric.statistic
    if metric.shape != "math":
        return None
    used = {query.statistic for query in metric.queries if query.metric_name and query.statistic}
    return used.pop() if len(used) == 1 else None


def anomaly_band_limits(change: AlarmStateChange) -> tuple[float, float] | None:
    """An anomaly-detection alarm's expected band, read from CloudWatch's reason ("... lower thresholds [112.6]
    or greater than the upper thresholds [612.9]"); None when the reason gives no finite pair."""
    band = _BAND.search(change.reason)
    if band is None:
        return None
    lower, upper = finite_or_none(band["lower"]), finite_or_none(band["upper"])
    return (lower, upper) if lower is not None and upper is not None else None


# --- whose alarm -----------------------------------------------------------------------------------


class Verdict(StrEnum):
    """Whether an alarm provably concerns the guarded service."""

    GUARDED = "guarded"
    """Every metric it reads names the guarded service (or its target group), in its account and region."""
    OTHER_RESOURCE = "other_resource"
    """At least one metric, or the alarm's account or region, is provably another resource's."""
    UNKNOWN = "unknown"
    """Nothing says whose it is: a composite alarm, a metric without identifying dimensions, a query."""


class ServiceDimensions(BaseModel):
    """The CloudWatch dimensions that name the guarded service in some namespaces, as its target publishes them.

    App Runner: `ServiceID` and `ServiceName` in AWS/AppRunner, either one enough (`every_one` False). ECS:
    `ClusterName` and `ServiceName` in AWS/ECS and ECS/ContainerInsights, both needed (`every_one` True: a metric
    with only one of them may count other services of the cluster)."""

    model_config = ConfigDict(frozen=True)

    namespaces: tuple[str, ...]
    dimensions: tuple[tuple[str, str], ...]
    """(dimension name, the guarded service's value), in the order messages name them."""
    every_one: bool = False


class Guarded(BaseModel):
    """The guarded service as the alarm domain needs it: where it lives and the dimensions that name it.

    `metrics` and `described` come from the service's target (adapters/targets/); `load_balancer` and
    `target_group` are the ends of the LoadBalancerArn and TargetGroupArn the stack was given (`app/<name>/<id>`,
    `targetgroup/<name>/<id>`), used only when `behind_load_balancer`: the service may sit behind an Application
    Load Balancer of the account (an ECS service; App Runner balances load itself and publishes no such metric)."""

    model_config = ConfigDict(frozen=True)

    partition: str
    account_id: str
    region: str
    described: str
    """ "App Runner service web (f00d...)", "ECS service web in cluster prod"."""
    metrics: tuple[ServiceDimensions, ...] = ()
    behind_load_balancer: bool = False
    load_balancer: str | None = None
    target_group: str | None = None

    def describe(self) -> str:
        return self.described

    def dimensions_in(self, namespace: str) -> ServiceDimensions | None:
        return next((metrics for metrics in self.metrics if namespace in metrics.namespaces), None)


def load_balancer_dimension(arn: str) -> str:
    """`arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>` -> `app/<name>/<id>`."""
    return arn.partition(":loadbalancer/")[2]


def target_group_dimension(arn: str) -> str:
    """`arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>` -> `targetgroup/<name>/<id>`."""
    fields = arn.split(":")
    return fields[5] if len(fields) > 5 else ""


class Concern(BaseModel):
    """Whose alarm it is, why Warden thinks so, and the resource it is about in a few words."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reason: str
    """A clause: "the alarm watches EC2 instance i-0abc in ap-northeast-2, not the guarded App Runner ..."."""
    resource: str
    """What the alarm is about, for a subject line: "EC2 instance i-0abc in ap-northeast-2", "RDS orders-db"."""

    @property
    def is_guarded(self) -> bool:
        return self.verdict is Verdict.GUARDED


# Metric-math functions that read metrics by themselves, not through a MetricStat of the alarm: whatever they
# read is named nowhere Warden could check.
_READS_DATA: Final = re.compile(
    r"\b(?:SEARCH|INSIGHT_RULE_METRIC|SERVICE_QUOTA|LAMBDA|DB_PERF_INSIGHTS|SCHEMA)\s*\(|\bSELECT\b", re.IGNORECASE
)
# The dimension that names the resource of an alarm, per namespace, for "RDS orders-db" in a subject.
_RESOURCE_WORDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("AWS/EC2", "InstanceId", "EC2 instance"),
    ("AWS/EC2", "AutoScalingGroupName", "EC2 Auto Scaling group"),
    ("AWS/AutoScaling", "AutoScalingGroupName", "EC2 Auto Scaling group"),
    ("AWS/RDS", "DBInstanceIdentifier", "RDS"),
    ("AWS/RDS", "DBClusterIdentifier", "RDS cluster"),
    ("AWS/Lambda", "FunctionName", "Lambda function"),
    ("AWS/EKS", "ClusterName", "EKS cluster"),
    ("ContainerInsights", "ClusterName", "EKS cluster"),
    ("AWS/SQS", "QueueName", "SQS queue"),
    ("AWS/DynamoDB", "TableName", "DynamoDB table"),
    ("AWS/ElastiCache", "CacheClusterId", "ElastiCache cluster"),
    ("AWS/NetworkELB", "LoadBalancer", "Network Load Balancer"),
    ("AWS/ApiGateway", "ApiName", "API Gateway API"),
    ("AWS/S3", "BucketName", "S3 bucket"),
)
_SHOWN: Final = 80  # characters of a dimension value shown in a resource's words


def concerns(change: AlarmStateChange, guarded: Guarded) -> Concern:
    """Whether the alarm provably concerns the guarded service: its ARN's account and region are the service's,
    and every metric it reads (each MetricStat of metric math) is in a namespace of the guarded platform with
    identifying dimensions that name the guarded service (for a load balancer: the configured target group).
    A composite alarm, a metric without identifying dimensions and a query that reads metrics by itself are
    UNKNOWN; anything that names another resource, account or region is OTHER_RESOURCE."""
    metrics = _watched(change.metric)
    judged = [_judge(namespace, dimensions, account, guarded) for namespace, dimensions, account in metrics]
    resource = next((what for verdict, what, _ in judged if verdict is Verdict.OTHER_RESOURCE), None)
    resource = resource or (judged[0][1] if judged else f"alarm {_shown(change.name)}")
    partition = change.arn.split(":")[1] if change.arn.count(":") >= 2 else ""
    if (partition, change.account_id) != (guarded.partition, guarded.account_id):
        return Concern(
            verdict=Verdict.OTHER_RESOURCE,
            reason=f"the alarm is in account {change.account_id} ({partition}), the guarded {guarded.describe()} in "
            f"account {guarded.account_id} ({guarded.partition})",
            resource=f"{resource} in account {change.account_id}",
        )
    account_wide = bool(metrics) and all(namespace == BILLING for namespace, _, _ in metrics)
    if change.region != guarded.region and not account_wide:
        return Concern(
            verdict=Verdict.OTHER_RESOURCE,
            reason=f"the alarm is in {change.region}, the guarded {guarded.describe()} in {guarded.region}",
            resource=f"{resource} in {change.region}",
        )
    if change.is_composite:
        return Concern(
            verdict=Verdict.UNKNOWN,
            reason="it is a composite alarm: its rule reads other alarms, not a metric, so nothing in it says "
            "which resource it is about",
            resource=f"composite alarm {_shown(change.name)}",
        )
    if not metrics:
        return Concern(
            verdict=Verdict.UNKNOWN,
            reason="the alarm message names no metric, so nothing in it says which resource it is about",
            resource=resource,
        )
    expressions = [query.expression for query in change.metric.queries if query.expression] if change.metric else []
    reading = next((expression for expression in expressions if _READS_DATA.search(expression)), None)
    if reading is not None:
        return Concern(
            verdict=Verdict.UNKNOWN,
            reason=f"its expression {_shown(reading)} reads metrics that the alarm does not name",
            resource=resource,
        )
    for verdict, what, why in judged:
        if verdict is Verdict.OTHER_RESOURCE:
            return Concern(verdict=verdict, reason=why, resource=what)
    for verdict, what, why in judged:
        if verdict is Verdict.UNKNOWN:
            return Concern(verdict=verdict, reason=why, resource=what)
    return Concern(
        verdict=Verdict.GUARDED,
        reason=f"every metric of the alarm names the guarded {guarded.describe()}",
        resource=guarded.describe(),
    )


def _watched(metric: AlarmMetric | None) -> list[tuple[str | None, dict[str, str], str | None]]:
    """Every metric the alarm reads (namespace, dimensions, account): its own, and each query that is no
    expression (a MetricStat, or a query whose MetricStat is missing: then without a namespace)."""
    if metric is None:
        return []
    found: list[tuple[str | None, dict[str, str], str | None]] = []
    if not metric.queries and (metric.namespace is not None or metric.metric_name is not None):
        found.append((metric.namespace, metric.dimensions, None))
    for query in metric.queries:
        if query.expression is None:
            found.append((query.namespace, query.dimensions, query.account_id))
    return found


def _judge(
    namespace: str | None, dimensions: dict[str, str], account: str | None, guarded: Guarded
) -> tuple[Verdict, str, str]:
    """One metric: (verdict, the resource it is about, why)."""
    resource = _resource_words(namespace, dimensions)
    other = f"the alarm watches {resource}, not the guarded {guarded.describe()}"
    if account is not None and account != guarded.account_id:
        return (
            Verdict.OTHER_RESOURCE,
            f"{resource} in account {account}",
            f"the alarm reads {resource} in account {account}, not the guarded {guarded.describe()}'s account "
            f"{guarded.account_id}",
        )
    if not namespace:
        return Verdict.UNKNOWN, resource, "a metric of the alarm names no namespace"
    named = guarded.dimensions_in(namespace)
    if named is not None:
        return _judge_service(namespace, dimensions, named, resource, other)
    if namespace == ALB:
        return _judge_load_balancer(dimensions, guarded, resource, other)
    if namespace == BILLING:
        return Verdict.UNKNOWN, resource, "the estimated charges are the whole account's, not one resource's"
    return Verdict.OTHER_RESOURCE, resource, other


def _judge_service(
    namespace: str, dimensions: dict[str, str], named: ServiceDimensions, resource: str, other: str
) -> tuple[Verdict, str, str]:
    """A metric in a namespace of the guarded platform: the guarded service's when its identifying dimensions
    name it (all of them where one alone may count other services), another's when one names something else."""
    # A dimension that is present names a resource whatever its value ("" included): only absence is unknown.
    watched = {name: dimensions.get(name) for name, _ in named.dimensions}
    names = " or ".join(name for name, _ in named.dimensions)
    if any(watched[name] is not None and watched[name] != value for name, value in named.dimensions):
        return Verdict.OTHER_RESOURCE, resource, other
    if not named.every_one and all(found is None for found in watched.values()):
        return Verdict.UNKNOWN, resource, f"an {namespace} metric of the alarm has no {names}"
    if named.every_one and any(found is None for found in watched.values()):
        return (
            Verdict.UNKNOWN,
            resource,
            f"a {namespace} metric of the alarm lacks {names}: it may count other services",
        )
    return Verdict.GUARDED, resource, ""


def _judge_load_balancer(
    dimensions: dict[str, str], guarded: Guarded, resource: str, other: str
) -> tuple[Verdict, str, str]:
    if not guarded.behind_load_balancer:
        # The platform balances load itself (App Runner): no AWS/ApplicationELB metric of the account is its.
        return Verdict.OTHER_RESOURCE, resource, other
    target_group, load_balancer = dimensions.get("TargetGroup"), dimensions.get("LoadBalancer")
    if guarded.target_group is None or guarded.load_balancer is None:
        return (
            Verdict.UNKNOWN,
            resource,
            "LoadBalancerArn and TargetGroupArn are not configured, so Warden cannot tell whether this load "
            "balancer serves the guarded service",
        )
    # Present names a resource whatever its value ("" included); only an absent dimension is unknown.
    if (load_balancer is not None and load_balancer != guarded.load_balancer) or (
        target_group is not None and target_group != guarded.target_group
    ):
        return Verdict.OTHER_RESOURCE, resource, other
    if target_group is None:
        return (
            Verdict.UNKNOWN,
            resource,
            "the metric is the load balancer's own, not the guarded target group's: it counts every target group "
            "behind it",
        )
    return Verdict.GUARDED, resource, ""


def _resource_words(namespace: str | None, dimensions: dict[str, str]) -> str:
    """ "EC2 instance i-0abc", "RDS orders-db", "App Runner service web (f00d...)", "ECS service s in cluster c"."""
    shown = {key: _shown(value) for key, value in dimensions.items()}
    if namespace == APPRUNNER:
        return f"App Runner service {shown.get('ServiceName', '?')} ({shown.get('ServiceID', 'no ServiceID')})"
    if namespace in (ECS, CONTAINER_INSIGHTS):
        if "ServiceName" in shown:
            return f"ECS service {shown['ServiceName']} in cluster {shown.get('ClusterName', '?')}"
        if "ClusterName" in shown:
            return f"ECS cluster {shown['ClusterName']}"
    if namespace == ALB:
        if "TargetGroup" in shown:
            of = f" of {shown['LoadBalancer']}" if "LoadBalancer" in shown else ""
            return f"load balancer target group {shown['TargetGroup']}{of}"
        if "LoadBalancer" in shown:
            return f"load balancer {shown['LoadBalancer']}"
    for space, dimension, words in _RESOURCE_WORDS:
        if namespace == space and dimension in shown:
            return f"{words} {shown[dimension]}"
    if namespace == BILLING:
        return "the account's estimated charges"
    listed = ", ".join(f"{key}={value}" for key, value in sorted(shown.items()))
    return f"{_shown(namespace or 'a metric with no namespace')}" + (f" [{listed}]" if listed else " (no dimensions)")


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class ActionPermission(BaseModel):
    """The action that may run for this alarm, and why (a downgraded action says what was refused)."""

    model_config = ConfigDict(frozen=True)

    action: AlarmAction
    reason: str
    refused: AlarmAction | None = None
    """The action ALARM_ACTIONS asked for and Warden refused (None when nothing was refused)."""


def permitted(choice: ActionChoice, concern: Concern) -> ActionPermission:
    """What may run. A pattern acts only on alarms about the guarded service; an exact name is the operator
    naming that alarm, so it may act on an alarm whose resource Warden cannot tell (a composite alarm, say);
    nothing acts on an alarm provably about another resource, account or region."""
    if choice.action is AlarmAction.NOTIFY or concern.verdict is Verdict.GUARDED:
        return ActionPermission(action=choice.action, reason=choice.reason)
    if concern.verdict is Verdict.OTHER_RESOURCE:
        return ActionPermission(
            action=AlarmAction.NOTIFY,
            refused=choice.action,
            reason=f"{choice.reason}, but {concern.reason}: Warden never acts on the guarded service for an alarm "
            "about another resource",
        )
    if choice.exact:
        return ActionPermission(
            action=choice.action,
            reason=f"{choice.reason} (named exactly, so it acts although {concern.reason})",
        )
    return ActionPermission(
        action=AlarmAction.NOTIFY,
        refused=choice.action,
        reason=f"{choice.reason}, but a pattern acts only on alarms about the guarded service, and {concern.reason}; "
        "name the alarm exactly in ALARM_ACTIONS to let it act",
    )


# DynamoDB limits key attributes in bytes (sort key 1,024, partition key 2,048), and CloudWatch allows alarm
# names of 255 characters of up to 4 bytes each. A name that fits stays as it is, so the claims and memos of
# deployed tables keep their keys; a longer one keeps a readable start and the hash of the whole name.
KEY_NAME_BYTES: Final = 512
_KEY_PREFIX_BYTES: Final = 200


def alarm_key(alarm_name: str) -> str:
    """The alarm's name as it goes into state-table keys: unchanged up to 512 UTF-8 bytes, else
    `<first 200 bytes>~sha256:<hex of the whole name>` (at most 272 bytes)."""
    encoded = alarm_name.encode("utf-8", "surrogatepass")
    if len(encoded) <= KEY_NAME_BYTES:
        return alarm_name
    readable = encoded[:_KEY_PREFIX_BYTES].decode("utf-8", "ignore")
    return f"{readable}~sha256:{hashlib.sha256(encoded).hexdigest()}"


# --- cool-down, durations, links --------------------------------------------------------------------


class CooldownDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str
    ends_at: datetime | None = None


def decide_cooldown(last_acted_at: datetime | None, now: datetime, window: timedelta) -> CooldownDecision:
    """An alarm may pause or roll back once per window; a flapping alarm must not pause/resume in a loop."""
    if last_acted_at is None:
        return CooldownDecision(allowed=True, reason="this alarm has not acted before")
    ends_at = last_acted_at + window
    if window <= timedelta(0) or now >= ends_at:
        return CooldownDecision(
            allowed=True, reason=f"the last action of this alarm was at {last_acted_at:%Y-%m-%d %H:%M} UTC"
        )
    return CooldownDecision(
        allowed=False,
        reason=f"this alarm already acted at {last_acted_at:%Y-%m-%d %H:%M} UTC; the {format_duration(window)} "
        f"cool-down (ALARM_COOLDOWN_MINUTES) ends at {ends_at:%H:%M} UTC",
        ends_at=ends_at,
    )


def format_duration(delta: timedelta) -> str:
    """20 minutes, 1 h 5 min, 2 days 3 h."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "less than a minute" if seconds >= 0 else "an unknown time (the times are out of order)"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def alarm_console_url(region: str, alarm_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


# The guarded service's own metrics: what to check there is the platform's (its console, its scaling), so the
# target gives those lines (TargetFacts.runbook; warden/messages/alarm.py `runbook` has one line for a target
# without them).
SERVICE_METRICS: Final = frozenset(
    {
        MetricKind.ERROR_RATE,
        MetricKind.ERRORS_5XX,
        MetricKind.LATENCY,
        MetricKind.CPU,
        MetricKind.MEMORY,
        MetricKind.INSTANCES,
    }
)


# --- what on_alarm did: the facts its notifications are written from (warden/messages/alarm.py) ------------


class AlarmOutcome(StrEnum):
    """What became of one delivery of an alarm state change (usecases/alarm.py names it `Outcome`)."""

    NOTIFIED = "notified"
    PAUSED = "paused"
    WOULD_PAUSE = "would_pause"
    ALREADY_PAUSED = "already_paused"
    ROLLBACK = "rollback"
    WOULD_ROLLBACK = "would_rollback"
    ROLLBACK_NOT_CONFIGURED = "rollback_not_configured"
    ROLLBACK_DECLINED = "rollback_declined"
    ROLLBACK_FAILED = "rollback_failed"
    COOLDOWN = "cooldown"
    EXPECTED = "expected"
    OTHER_SERVICE = "other_service"
    UNAVAILABLE = "unavailable"
    RECOVERED = "recovered"
    OK = "ok"
    INSUFFICIENT_DATA = "insufficient_data"
    FORWARDED = "forwarded"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SUPPRESSED = "suppressed"


PAUSE_OUTCOMES: Final = frozenset(
    {AlarmOutcome.PAUSED, AlarmOutcome.WOULD_PAUSE, AlarmOutcome.ALREADY_PAUSED, AlarmOutcome.UNAVAILABLE}
)
ROLLBACK_OUTCOMES: Final = frozenset(
    {
        AlarmOutcome.ROLLBACK,
        AlarmOutcome.WOULD_ROLLBACK,
        AlarmOutcome.ROLLBACK_NOT_CONFIGURED,
        AlarmOutcome.ROLLBACK_DECLINED,
        AlarmOutcome.ROLLBACK_FAILED,
    }
)


class AlarmFacts(BaseModel):
    """One state change as Warden read it: CloudWatch's message, its newest datapoint, whose alarm it is, and the
    name of the service Warden guards."""

    model_config = ConfigDict(frozen=True)

    change: AlarmStateChange
    observation: Observation | None
    concern: Concern
    service_name: str

    @property
    def kind(self) -> MetricKind:
        return classify(self.change)

    @property
    def unit(self) -> Unit:
        return metric_unit(self.kind, self.change.metric)

    @property
    def self_watching(self) -> bool:
        """One of Warden's alarms on itself: told under the guarded service's name, and only ever notified."""
        return self.kind in SELF_WATCHING

    @property
    def guarded(self) -> bool:
        return self.concern.verdict is Verdict.GUARDED

    @property
    def told_as_the_services(self) -> bool:
        """The guarded service's alarm, or one of Warden's alarms on itself (Warden failing is the guarded service's
        business): told under the service's name; any other alarm under the name of what it watches."""
        return self.guarded or self.self_watching


class ServiceNow(BaseModel):
    """The guarded service as its platform and the claims see it when the alarm is told."""

    model_config = ConfigDict(frozen=True)

    arn: str
    status: ServiceStatus | None
    """None: the platform does not know the service (SERVICE_ARN names no service)."""
    claims: tuple[str, ...] = ()
    """The keys of the pause claims that hold it."""


class Notified(BaseModel):
    """Nothing beyond the message: ALARM_ACTIONS says notify, or the action was refused (`permission.refused`)."""

    model_config = ConfigDict(frozen=True)

    permission: ActionPermission | None
    """None for one of Warden's own alarms, which only notify whatever ALARM_ACTIONS says."""


class PauseTaken(BaseModel):
    """The alarm's pause claim placed (or found already placed), and what converging did to the service."""

    model_config = ConfigDict(frozen=True)

    reason: str
    """Why the action is pause (ActionPermission.reason)."""
    claim_key: str
    claim_lines: tuple[str, ...]
    """What placing the claim and converging did, as usecases/claims.py and converge tell it."""
    undo: tuple[str, ...] = ()
    """The commands that undo the pause (usecases/undo.py); none when no claim of this alarm holds it."""
    before: ServiceSnapshot | None = None
    """The service as the pause found it (what keeps billing while paused); None when it could not be paused."""


class PauseFailed(BaseModel):
    """The pause could not even start: the platform does not know the service."""

    model_config = ConfigDict(frozen=True)

    missing: str


class CooledDown(BaseModel):
    """The alarm acted too recently: its action waits for the end of the cool-down."""

    model_config = ConfigDict(frozen=True)

    action: AlarmAction
    decision: CooldownDecision


class RollbackTaken(BaseModel):
    """What became of the rollback the alarm asked for (the outcome says which; `detail` is the rollback's own
    words: what it started, why it declined or failed)."""

    model_config = ConfigDict(frozen=True)

    reason: str
    """Why the action is rollback (ActionPermission.reason)."""
    detail: str | None = None


class Fired(BaseModel):
    """An alarm in ALARM, and what Warden did about it."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmFacts
    outcome: AlarmOutcome
    did: Notified | PauseTaken | PauseFailed | CooledDown | RollbackTaken
    status: ServiceNow | None = None
    """None for an alarm about another resource: nothing in the message may blame the guarded service."""

    @model_validator(mode="after")
    def _consistent(self) -> Fired:
        expected: dict[type[BaseModel], frozenset[AlarmOutcome]] = {
            Notified: frozenset({AlarmOutcome.NOTIFIED, AlarmOutcome.OTHER_SERVICE}),
            PauseTaken: PAUSE_OUTCOMES,
            PauseFailed: frozenset({AlarmOutcome.UNAVAILABLE}),
            CooledDown: frozenset({AlarmOutcome.COOLDOWN}),
            RollbackTaken: ROLLBACK_OUTCOMES,
        }
        if self.outcome not in expected[type(self.did)]:
            raise ValueError(f"{type(self.did).__name__} cannot end as {self.outcome.value}")
        return self


class Expected(BaseModel):
    """A "no instances" alarm while pause claims hold the service: expected, and not acted on."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmFacts
    status: ServiceNow
    paused_by: str
    """Who holds the pause (domain/claims `desired_state`'s reason: "paused by budget (since ...)")."""

    @property
    def outcome(self) -> AlarmOutcome:
        return AlarmOutcome.EXPECTED


class ClaimFate(StrEnum):
    """What an OK did about the pause claim of its alarm."""

    CLEARED = "cleared"
    NONE_HELD = "none_held"
    KEPT_OTHER_RESOURCE = "kept_other_resource"
    """Kept: the OK is about another resource, and says nothing about the guarded service."""
    KEPT_OTHER_ALARM = "kept_other_alarm"
    """Kept: an alarm of the same name in another account or region placed it."""
    SERVICE_MISSING = "service_missing"


class OkClaim(BaseModel):
    model_config = ConfigDict(frozen=True)

    fate: ClaimFate
    claim_key: str
    lines: tuple[str, ...] = ()
    """CLEARED: what clearing the claim and converging did, as usecases/claims.py and converge tell it."""
    placed_by: str | None = None
    """KEPT_OTHER_ALARM: the ARN of the alarm that placed the claim."""
    missing: str | None = None
    """SERVICE_MISSING: what the platform said."""


class Recovered(BaseModel):
    """An alarm back to OK: the incident's length, when Warden recorded its start, and what became of its claim."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmFacts
    outcome: AlarmOutcome
    """RECOVERED for the guarded service's alarm after an incident; OK otherwise."""
    opened_at: datetime | None
    """When Warden recorded the alarm going to ALARM; None when it has no record."""
    claim: OkClaim

    @property
    def after_incident(self) -> bool:
        """Back to OK from an ALARM (known or not), rather than from missing data with no incident on record."""
        return self.opened_at is not None or self.alarm.change.old_state is AlarmState.ALARM


class NoData(BaseModel):
    """An alarm with insufficient data: told, never acted on."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmFacts
    claim_key: str | None = None
    """The alarm's own pause claim, when it still holds one (it stays until the alarm returns to OK)."""
    paused_by: str | None = None
    """Who holds the guarded service paused, when they do: a paused service publishes no metrics."""

    @property
    def outcome(self) -> AlarmOutcome:
        return AlarmOutcome.INSUFFICIENT_DATA


class Suppressed(BaseModel):
    """A state change whose actions CloudWatch suppressed: told, never acted on (no claim, rollback or resume)."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmFacts
    claim_key: str | None = None
    """The pause claim this alarm placed earlier, still held."""
    undo: tuple[str, ...] = ()
    """How to resume by hand, when that claim holds the service."""

    @property
    def outcome(self) -> AlarmOutcome:
        return AlarmOutcome.SUPPRESSED


AlarmTold = Fired | Expected | Recovered | NoData | Suppressed
"""Every state change Warden tells the operator about, as facts."""
