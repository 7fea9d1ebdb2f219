"""CloudWatch alarm state changes, from each way an alarm reaches Warden, read into one model.

Three deliveries, three shapes (AWS-FACTS §2):

- **SNS** (the alarm's action is a topic): the SNS `Message` is a JSON string with PascalCase keys.
  Quirks: `Region` is the display name ("US East (N. Virginia)"), so the region code comes from
  `AlarmArn`; `Trigger.Statistic` is UPPER-CASE ("AVERAGE") while `Metrics[].MetricStat.Stat` is
  title-case; `Trigger.Dimensions` is a list of lower-case `{"name", "value"}` objects;
  `AlarmDescription` may be null; metric-math alarms carry `Trigger.Metrics` instead of a metric;
  anomaly-detection alarms carry `ThresholdMetricId` instead of `Threshold`; composite alarms have no
  `Trigger` but `AlarmRule` and `TriggeringChildren`, the latter either strings or
  `{"Arn", "State": {"Value", "Timestamp"}}` objects; `TreatMissingData` may be odd
  ("- TreatMissingData: Breaching").
- **EventBridge** "CloudWatch Alarm State Change": camelCase keys under `detail`, dimensions as a map,
  title-case `stat`, the reason's data as a JSON *string*, no threshold or comparison (they are
  read from the reason and its data), composite children in the reason data's `triggeringAlarms`.
- **Direct Lambda alarm action**: `{"source": "aws.cloudwatch", "alarmArn", "accountId", "time",
  "region", "alarmData": {...}}`, where `alarmData` is shaped like EventBridge's `detail`.

Each delivery is read by pydantic models of its own shape (`warden.models.alarm_shapes`): strict where
CloudWatch is strict, lenient exactly where those quirks are; a refusal names the field and what is wrong.

Whatever the delivery, the same state change gives the same `delivery_key`, so an alarm wired to
both SNS and EventBridge is acted on once.

Suppressed actions: a composite alarm with an actions suppressor reports, in EventBridge's `detail.state`,
`actionsSuppressedBy` (`Alarm`, `WaitPeriod` or `ExtensionPeriod`) and `actionsSuppressedReason` when
CloudWatch did not run its actions for this state change (CloudWatch API `CompositeAlarm`; AWS's EventBridge
sample of a suppressed composite alarm). Over SNS or a direct invocation such a change never arrives: the
topic and the function *are* the suppressed actions. Both fields are read into `actions_suppressed_by` and
`actions_suppressed_reason`, so that Warden never acts where CloudWatch itself would not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    FiniteFloat,
    ValidationError,
)

from warden.errors import UnparseableMessage
from warden.models.parsing import (
    describe_json,
    finite_or_none,
    refusal,
    shown,
)

if TYPE_CHECKING:
    from warden.models import alarm_shapes as shapes

EVENTBRIDGE_DETAIL_TYPE: Final = "CloudWatch Alarm State Change"
ALARM_NAME_LIMIT: Final = 255  # PutMetricAlarm's AlarmName: 1 to 255 characters
ALARM_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):cloudwatch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):alarm:(?P<name>.+)$"
)
_STATISTICS: Final[Mapping[str, str]] = {
    "samplecount": "SampleCount",
    "average": "Average",
    "avg": "Average",
    "sum": "Sum",
    "minimum": "Minimum",
    "min": "Minimum",
    "maximum": "Maximum",
    "max": "Maximum",
    "iqm": "IQM",
}
_EXTENDED: Final = re.compile(r"^(?P<prefix>p|tm|wm|tc|ts|pr)(?P<rest>[0-9(].*)$", re.IGNORECASE)
_ANOMALY_BAND: Final = re.compile(r"ANOMALY_DETECTION_BAND\s*\(\s*(?P<id>[A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)
# "... datapoints [...] was not greater than or equal to the threshold (5.0) ..."
_REASON_COMPARISON: Final = re.compile(
    r"\b(?:was|were)\s+(?:not\s+)?(?P<op>greater than or equal to|less than or equal to|greater than|less than)"
    r"\s+the\s+threshold\b",
    re.IGNORECASE,
)
_REASON_THRESHOLD: Final = re.compile(r"\bthe\s+threshold\s*\(\s*(?P<value>-?[0-9][0-9.]*(?:[Ee][-+]?[0-9]+)?)\s*\)")
_REASON_COUNTS: Final = re.compile(r"\b(?P<alarm>[0-9]+)\s+out\s+of\s+the\s+last\s+(?P<of>[0-9]+)\s+datapoints?\b")
_DOUBLE_DIGITS: Final = 308  # a double's largest finite value, 1.8e308, has 309 digits
_OPERATORS: Final[Mapping[str, str]] = {
    "greater than or equal to": "GreaterThanOrEqualToThreshold",
    "less than or equal to": "LessThanOrEqualToThreshold",
    "greater than": "GreaterThanThreshold",
    "less than": "LessThanThreshold",
}


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmSource(StrEnum):
    """How the state change reached Warden."""

    SNS = "sns"
    EVENTBRIDGE = "eventbridge"
    LAMBDA = "lambda"


class MetricQuery(BaseModel):
    """One entry of a metric-math or anomaly-detection alarm's `Metrics`: a metric or an expression."""

    model_config = ConfigDict(frozen=True)

    id: str
    expression: str | None = None
    label: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] = {}
    statistic: str | None = None
    period: int | None = None
    return_data: bool = True
    account_id: str | None = None
    """The account a cross-account metric is read from (`AccountId`); None: the alarm's own account."""


class AlarmMetric(BaseModel):
    """What the alarm watches: one metric, a math expression over metrics, or a metric's anomaly band.

    For a single metric, `namespace`, `metric_name`, `dimensions` and `statistic` describe it. For a
    math alarm, `expression` (and its `label`) is the returned expression and `queries` the metrics it
    reads. For an anomaly-detection alarm, `anomaly_band` is the band expression and the metric fields
    describe the metric inside the band.
    """

    model_config = ConfigDict(frozen=True)

    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] = {}
    statistic: str | None = None
    unit: str | None = None
    expression: str | None = None
    label: str | None = None
    anomaly_band: str | None = None
    queries: tuple[MetricQuery, ...] = ()

    @property
    def shape(self) -> Literal["metric", "math", "anomaly"]:
        if self.anomaly_band is not None:
            return "anomaly"
        if self.expression is not None:
            return "math"
        return "metric"

    def metrics(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every (namespace, metric name, dimensions) the alarm reads, its own first."""
        found: list[tuple[str, str, dict[str, str]]] = []
        if self.namespace and self.metric_name:
            found.append((self.namespace, self.metric_name, self.dimensions))
        for query in self.queries:
            entry = (query.namespace or "", query.metric_name or "", query.dimensions)
            if query.namespace and query.metric_name and entry not in found:
                found.append(entry)
        return found


class TriggeringChild(BaseModel):
    """A child alarm that made a composite alarm change state."""

    model_config = ConfigDict(frozen=True)

    name: str
    arn: str | None = None
    state: AlarmState | None = None
    changed_at: datetime | None = None


class AlarmStateChange(BaseModel):
    """One alarm state change, whichever way it was delivered."""

    model_config = ConfigDict(frozen=True)

    source: AlarmSource
    name: str
    arn: str
    region: str
    """The region code, read from the alarm ARN (never SNS's display name)."""
    account_id: str
    new_state: AlarmState
    old_state: AlarmState | None
    reason: str
    reason_data: dict[str, Any] | None = None
    changed_at: datetime
    """When the alarm changed state (timezone-aware)."""
    description: str | None = None
    metric: AlarmMetric | None = None
    threshold: FiniteFloat | None = None
    """None for anomaly-detection alarms (their threshold is a band) and composite alarms; always finite."""
    comparison: str | None = None
    """CloudWatch's `ComparisonOperator`, e.g. `GreaterThanThreshold`; read from the reason when the
    delivery (EventBridge, direct) does not carry it."""
    period: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    composite_rule: str | None = None
    triggering_children: tuple[TriggeringChild, ...] = ()
    actions_suppressed_by: str | None = None
    """Why CloudWatch did not run this alarm's actions for this change (`Alarm`, `WaitPeriod`, `ExtensionPeriod`):
    set only on suppressed state changes of a composite alarm with an actions suppressor."""
    actions_suppressed_reason: str | None = None

    @property
    def is_suppressed(self) -> bool:
        return self.actions_suppressed_by is not None

    @property
    def is_composite(self) -> bool:
        return self.composite_rule is not None

    @property
    def delivery_key(self) -> str:
        """Identifies this state change across deliveries: alarm name, new state and state-change time."""
        moment = self.changed_at.astimezone(UTC).isoformat(timespec="milliseconds")
        return f"alarm#{self.name}#{self.new_state.value}#{moment}"


# --- sniffing --------------------------------------------------------------------------------------


def looks_like_alarm_message(text: str) -> bool:
    """A cheap sniff of an SNS `Message`: a JSON object with an `AlarmName`."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return isinstance(document, dict) and "AlarmName" in document


def is_eventbridge_alarm(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE


def is_direct_alarm(event: object) -> bool:
    """The payload of a CloudWatch alarm that invokes Lambda directly."""
    return isinstance(event, Mapping) and "alarmData" in event and event.get("source") == "aws.cloudwatch"


# --- reading ---------------------------------------------------------------------------------------


def parse_alarm_message(text: str) -> AlarmStateChange:
    """Reads the SNS `Message` of a CloudWatch alarm. Raises `UnparseableMessage` with a reason."""
    from warden.models import alarm_shapes as shapes  # on first use: see alarm_shapes

    if not text.strip():
        _reject("the message is empty")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        _reject("the message is not JSON")
    if not isinstance(document, Mapping):
        _reject(f"the message is {describe_json(document)}, not a JSON object")
    if "AlarmName" not in document:
        _reject("the message has no AlarmName")
    message = _validated(shapes.SnsAlarm, document)
    trigger = message.trigger
    reason = message.new_state_reason or ""
    counts = _reason_counts(reason)
    region, account = _arn_parts(message.alarm_arn)
    rule = message.alarm_rule
    return AlarmStateChange(
        source=AlarmSource.SNS,
        name=message.alarm_name,
        arn=message.alarm_arn,
        region=region,
        account_id=account,
        new_state=message.new_state_value,
        old_state=message.old_state_value,
        reason=reason,
        reason_data=_reason_data(message.new_state_reason_data),
        changed_at=message.state_change_time,
        description=message.alarm_description,
        metric=_trigger_metric(trigger) if trigger is not None else None,
        threshold=trigger.threshold if trigger is not None else None,
        comparison=(trigger.comparison_operator if trigger else None) or (None if rule else _reason_comparison(reason)),
        period=trigger.period if trigger else None,
        evaluation_periods=(trigger.evaluation_periods if trigger else None) or (counts[1] if counts else None),
        datapoints_to_alarm=(trigger.datapoints_to_alarm if trigger else None) or (counts[0] if counts else None),
        treat_missing_data=trigger.treat_missing_data if trigger else None,
        composite_rule=rule,
        triggering_children=_children(message.triggering_children),
        actions_suppressed_by=message.actions_suppressed_by,
        actions_suppressed_reason=message.actions_suppressed_reason,
    )


def parse_eventbridge_alarm(event: Mapping[str, Any]) -> AlarmStateChange:
    """Reads an EventBridge "CloudWatch Alarm State Change" event. Raises `UnparseableMessage`."""
    from warden.models import alarm_shapes as shapes

    parsed = _validated(shapes.EventBridgeEvent, event)
    return _from_alarm_data(parsed.detail, parsed.alarm_arn, AlarmSource.EVENTBRIDGE, "detail")


def parse_direct_alarm(event: Mapping[str, Any]) -> AlarmStateChange:
    """Reads the payload of an alarm that invokes Lambda directly. Raises `UnparseableMessage`."""
    from warden.models import alarm_shapes as shapes

    parsed = _validated(shapes.DirectEvent, event)
    return _from_alarm_data(parsed.alarm_data, parsed.alarm_arn, AlarmSource.LAMBDA, "alarmData")


_Model = TypeVar("_Model", bound=BaseModel)


def _validated(model: type[_Model], document: object, root: str = "") -> _Model:
    try:
        return model.model_validate(document)
    except ValidationError as error:
        _reject(refusal(error, root))


def _trigger_metric(trigger: shapes.Trigger) -> AlarmMetric | None:
    if trigger.metrics:
        return _from_queries([_query(query) for query in trigger.metrics], trigger.threshold_metric_id, trigger.unit)
    if trigger.metric_name is None:
        return None
    statistic = trigger.extended_statistic if trigger.statistic_type == "ExtendedStatistic" else None
    statistic = statistic or trigger.statistic or trigger.extended_statistic
    return AlarmMetric(
        namespace=trigger.namespace,
        metric_name=trigger.metric_name,
        dimensions=_dimensions(trigger.dimensions),
        statistic=normalise_statistic(statistic) if statistic else None,
        unit=trigger.unit,
    )


def _from_alarm_data(data: shapes.AlarmData, arn: str, source: AlarmSource, where: str) -> AlarmStateChange:
    from warden.models import alarm_shapes as shapes

    region, account_id = _arn_parts(arn)
    state, configuration = data.state, data.configuration
    reason = state.reason or ""
    reason_data = _reason_data(state.reason_data)
    metric = None
    if configuration.metrics:
        queries = [_query(query) for query in configuration.metrics]
        metric = _from_queries(queries, configuration.threshold_metric_id, None)
    threshold = None
    if metric is not None and metric.shape != "anomaly":
        threshold = finite_or_none((reason_data or {}).get("threshold"))
        if threshold is None:
            found = _REASON_THRESHOLD.search(reason)
            threshold = finite_or_none(found["value"]) if found else None
    raw_children = {"triggeringAlarms": (reason_data or {}).get("triggeringAlarms")}
    children = _children(
        _validated(shapes.TriggeringAlarms, raw_children, f"{where}.state.reasonData").triggering_alarms
    )
    counts = _reason_counts(reason)
    return AlarmStateChange(
        source=source,
        name=data.alarm_name,
        arn=arn,
        region=region,
        account_id=account_id,
        new_state=state.value,
        old_state=data.previous_state.value,
        reason=reason,
        reason_data=reason_data,
        changed_at=state.timestamp,
        description=configuration.description,
        metric=metric,
        threshold=threshold,
        comparison=_reason_comparison(reason) if metric is not None else None,
        period=_main_period(metric),
        evaluation_periods=counts[1] if counts else None,
        datapoints_to_alarm=counts[0] if counts else None,
        composite_rule=configuration.alarm_rule,
        triggering_children=children,
        actions_suppressed_by=state.actions_suppressed_by,
        actions_suppressed_reason=state.actions_suppressed_reason,
    )


def _query(query: shapes.Query) -> MetricQuery:
    stat = query.metric_stat
    return MetricQuery(
        id=query.id,
        account_id=query.account_id,
        expression=query.expression,
        label=query.label,
        return_data=query.return_data,
        namespace=stat.metric.namespace if stat else None,
        metric_name=stat.metric.metric_name if stat else None,
        dimensions=_dimensions(stat.metric.dimensions) if stat else {},
        statistic=normalise_statistic(stat.stat) if stat and stat.stat else None,
        period=stat.period if stat else None,
    )


def _children(children: Sequence[shapes.Child]) -> tuple[TriggeringChild, ...]:
    return tuple(
        TriggeringChild(
            name=child.name if child.name is not None else _name_in(str(child.arn)),
            arn=child.arn,
            state=child.state.value,
            changed_at=child.state.timestamp,
        )
        for child in children
    )


def _dimensions(entries: Sequence[shapes.Dimension]) -> dict[str, str]:
    return {entry.name: entry.value for entry in entries}


# --- shared pieces ---------------------------------------------------------------------------------


def normalise_statistic(raw: str) -> str:
    """`AVERAGE`, `average`, `SAMPLE_COUNT` -> `Average`, `SampleCount`; `P99` -> `p99`; others as given."""
    key = raw.replace("_", "").replace(" ", "").lower()
    if key in _STATISTICS:
        return _STATISTICS[key]
    extended = _EXTENDED.match(raw.strip())
    if extended is not None:
        return extended["prefix"].lower() + extended["rest"]
    return raw


def _from_queries(queries: Sequence[MetricQuery], threshold_metric_id: str | None, unit: str | None) -> AlarmMetric:
    band = next((query for query in queries if threshold_metric_id and query.id == threshold_metric_id), None)
    if band is None and threshold_metric_id is None:
        band = next((query for query in queries if query.expression and _ANOMALY_BAND.search(query.expression)), None)
    if band is not None:
        found = _ANOMALY_BAND.search(band.expression or "")
        base = next((query for query in queries if found and query.id == found["id"]), None)
        base = base or next((query for query in queries if query.metric_name and query is not band), None)
        return _metric_of(base, queries, unit, anomaly_band=band.expression or threshold_metric_id)
    returned = [query for query in queries if query.return_data] or list(queries[-1:])
    main = returned[0]
    if main.expression is not None:
        return AlarmMetric(expression=main.expression, label=main.label, unit=unit, queries=tuple(queries))
    return _metric_of(main, queries, unit)


def _metric_of(
    base: MetricQuery | None, queries: Sequence[MetricQuery], unit: str | None, *, anomaly_band: str | None = None
) -> AlarmMetric:
    if base is None:
        return AlarmMetric(unit=unit, anomaly_band=anomaly_band, queries=tuple(queries))
    return AlarmMetric(
        namespace=base.namespace,
        metric_name=base.metric_name,
        dimensions=base.dimensions,
        statistic=base.statistic,
        unit=unit,
        label=base.label,
        anomaly_band=anomaly_band,
        queries=tuple(queries),
    )


def _main_period(metric: AlarmMetric | None) -> int | None:
    if metric is None:
        return None
    return next((query.period for query in metric.queries if query.period), None)


def _name_in(arn_or_name: str) -> str:
    match = ALARM_ARN.match(arn_or_name)
    return match["name"] if match else arn_or_name


def _arn_parts(arn: str) -> tuple[str, str]:
    """Region code and account id of an ARN the model has already matched."""
    match = ALARM_ARN.match(arn)
    if match is None:
        _reject(f"the alarm ARN {shown(arn)} is not arn:aws:cloudwatch:<region>:<account>:alarm:<name>")
    return match["region"], match["account"]


def _reason_data(raw: object) -> dict[str, Any] | None:
    """The reason's data: a JSON string in every delivery that carries it (or, defensively, an object).

    Its numbers are bounded here, once: NaN, Infinity, 1e999 and integers beyond a double's range (Python's json
    reads them all) become null, so that no datapoint or threshold read from it is infinite or unconvertible."""
    if isinstance(raw, Mapping):
        raw = json.dumps(raw)
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        document = json.loads(raw, parse_float=_finite, parse_int=_double_range, parse_constant=lambda _: None)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _finite(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def _double_range(text: str) -> int | None:
    return int(text) if len(text.lstrip("-")) <= _DOUBLE_DIGITS else None


def _reason_comparison(reason: str) -> str | None:
    lowered = reason.lower()
    if "lower threshold" in lowered and "upper threshold" in lowered:
        return "LessThanLowerOrGreaterThanUpperThreshold"
    if "upper threshold" in lowered:
        return "GreaterThanUpperThreshold"
    if "lower threshold" in lowered:
        return "LessThanLowerThreshold"
    found = _REASON_COMPARISON.search(reason)
    return _OPERATORS[" ".join(found["op"].lower().split())] if found else None


def _reason_counts(reason: str) -> tuple[int, int] | None:
    found = _REASON_COUNTS.search(reason)
    return (int(found["alarm"]), int(found["of"])) if found else None


def _reject(problem: str) -> NoReturn:
    raise UnparseableMessage(f"not a CloudWatch alarm state change: {problem}")
