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
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal, NoReturn

from pydantic import BaseModel, ConfigDict

from warden.errors import UnparseableMessage
from warden.models.sns import describe_json, excerpt

EVENTBRIDGE_DETAIL_TYPE: Final = "CloudWatch Alarm State Change"
ALARM_NAME_LIMIT: Final = 255  # PutMetricAlarm's AlarmName: 1 to 255 characters
_ALARM_ARN: Final = re.compile(
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
_TREAT_MISSING: Final[Mapping[str, str]] = {
    "missing": "missing",
    "notbreaching": "notBreaching",
    "breaching": "breaching",
    "ignore": "ignore",
}
_ANOMALY_BAND: Final = re.compile(r"ANOMALY_DETECTION_BAND\s*\(\s*(?P<id>[A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)
# "... datapoints [...] was not greater than or equal to the threshold (5.0) ..."
_REASON_COMPARISON: Final = re.compile(
    r"\b(?:was|were)\s+(?:not\s+)?(?P<op>greater than or equal to|less than or equal to|greater than|less than)"
    r"\s+the\s+threshold\b",
    re.IGNORECASE,
)
_REASON_THRESHOLD: Final = re.compile(r"\bthe\s+threshold\s*\(\s*(?P<value>-?[0-9][0-9.]*(?:[Ee][-+]?[0-9]+)?)\s*\)")
_REASON_COUNTS: Final = re.compile(r"\b(?P<alarm>[0-9]+)\s+out\s+of\s+the\s+last\s+(?P<of>[0-9]+)\s+datapoints?\b")
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
    threshold: float | None = None
    """None for anomaly-detection alarms (their threshold is a band) and composite alarms."""
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


# --- SNS -------------------------------------------------------------------------------------------


def parse_alarm_message(text: str) -> AlarmStateChange:
    """Reads the SNS `Message` of a CloudWatch alarm. Raises `UnparseableMessage` with a reason."""
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
    name = _checked_alarm_name(document, "AlarmName", "message")
    arn = _string(document, "AlarmArn", "message")
    region, account = _arn_parts(arn)
    reason = _optional_string(document, "NewStateReason", "message") or ""
    raw_data = document.get("NewStateReasonData")
    trigger = document.get("Trigger")
    metric: AlarmMetric | None = None
    threshold: float | None = None
    comparison = period = evaluation = datapoints = treat_missing = None
    if trigger is not None:
        if not isinstance(trigger, Mapping):
            _reject(f"Trigger is {describe_json(trigger)}, not an object")
        metric = _sns_metric(trigger)
        threshold_metric = trigger.get("ThresholdMetricId")
        threshold = None if threshold_metric else _optional_number(trigger, "Threshold", "Trigger")
        comparison = _optional_string(trigger, "ComparisonOperator", "Trigger")
        period = _optional_int(trigger, "Period", "Trigger")
        evaluation = _optional_int(trigger, "EvaluationPeriods", "Trigger")
        datapoints = _optional_int(trigger, "DatapointsToAlarm", "Trigger")
        treat_missing = _treat_missing(trigger.get("TreatMissingData"))
    rule = _optional_string(document, "AlarmRule", "message")
    children = _children(document.get("TriggeringChildren"), "TriggeringChildren")
    if trigger is None and rule is None:
        _reject("the message has neither a Trigger (metric alarm) nor an AlarmRule (composite alarm)")
    counts = _reason_counts(reason)
    return AlarmStateChange(
        source=AlarmSource.SNS,
        name=name,
        arn=arn,
        region=region,
        account_id=account,
        new_state=_state(document.get("NewStateValue"), "NewStateValue"),
        old_state=_optional_state(document.get("OldStateValue"), "OldStateValue"),
        reason=reason,
        reason_data=_reason_data(raw_data),
        changed_at=_timestamp(document.get("StateChangeTime"), "StateChangeTime"),
        description=_optional_string(document, "AlarmDescription", "message") or None,
        metric=metric,
        threshold=threshold,
        comparison=comparison or (None if rule else _reason_comparison(reason)),
        period=period,
        evaluation_periods=evaluation or (counts[1] if counts else None),
        datapoints_to_alarm=datapoints or (counts[0] if counts else None),
        treat_missing_data=treat_missing,
        composite_rule=rule,
        triggering_children=children,
        actions_suppressed_by=_optional_string(document, "ActionsSuppressedBy", "message") or None,
        actions_suppressed_reason=_optional_string(document, "ActionsSuppressedReason", "message") or None,
    )


def _sns_metric(trigger: Mapping[str, Any]) -> AlarmMetric | None:
    unit = _optional_string(trigger, "Unit", "Trigger") or None
    raw_queries = trigger.get("Metrics")
    if isinstance(raw_queries, list) and raw_queries:
        queries = [_sns_query(index, query) for index, query in enumerate(raw_queries)]
        return _from_queries(queries, _optional_string(trigger, "ThresholdMetricId", "Trigger"), unit)
    if trigger.get("MetricName") is None:
        return None
    statistic = trigger.get("ExtendedStatistic") if trigger.get("StatisticType") == "ExtendedStatistic" else None
    statistic = statistic or trigger.get("Statistic") or trigger.get("ExtendedStatistic")
    return AlarmMetric(
        namespace=_optional_string(trigger, "Namespace", "Trigger"),
        metric_name=_string(trigger, "MetricName", "Trigger"),
        dimensions=_dimensions(trigger.get("Dimensions"), "Trigger.Dimensions"),
        statistic=normalise_statistic(statistic) if isinstance(statistic, str) else None,
        unit=unit,
    )


def _sns_query(index: int, query: object) -> MetricQuery:
    where = f"Trigger.Metrics[{index}]"
    if not isinstance(query, Mapping):
        _reject(f"{where} is {describe_json(query)}, not an object")
    stat = query.get("MetricStat")
    fields: dict[str, Any] = {}
    if isinstance(stat, Mapping):
        metric = _mapping(stat.get("Metric"))
        fields = {
            "namespace": _optional_string(metric, "Namespace", f"{where}.MetricStat.Metric"),
            "metric_name": _optional_string(metric, "MetricName", f"{where}.MetricStat.Metric"),
            "dimensions": _dimensions(metric.get("Dimensions"), f"{where}.MetricStat.Metric.Dimensions"),
            "statistic": normalise_statistic(stat["Stat"]) if isinstance(stat.get("Stat"), str) else None,
            "period": _int_or_none(stat.get("Period")),
        }
    account = _optional_string(query, "AccountId", where)
    return MetricQuery(
        id=_string(query, "Id", where),
        account_id=account or None,
        expression=_optional_string(query, "Expression", where),
        label=_optional_string(query, "Label", where),
        return_data=query.get("ReturnData") is not False,
        **fields,
    )


# --- EventBridge and direct invocation -------------------------------------------------------------


def parse_eventbridge_alarm(event: Mapping[str, Any]) -> AlarmStateChange:
    """Reads an EventBridge "CloudWatch Alarm State Change" event. Raises `UnparseableMessage`."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        _reject(f"the event's detail is {describe_json(detail)}, not an object")
    resources = event.get("resources")
    arn = resources[0] if isinstance(resources, list) and resources and isinstance(resources[0], str) else None
    if arn is None:
        _reject("the event has no alarm ARN in 'resources'")
    return _from_alarm_data(detail, arn, AlarmSource.EVENTBRIDGE, "detail")


def parse_direct_alarm(event: Mapping[str, Any]) -> AlarmStateChange:
    """Reads the payload of an alarm that invokes Lambda directly. Raises `UnparseableMessage`."""
    data = event.get("alarmData")
    if not isinstance(data, Mapping):
        _reject(f"alarmData is {describe_json(data)}, not an object")
    return _from_alarm_data(data, _string(event, "alarmArn", "event"), AlarmSource.LAMBDA, "alarmData")


def _from_alarm_data(data: Mapping[str, Any], arn: str, source: AlarmSource, where: str) -> AlarmStateChange:
    region, account_id = _arn_parts(arn)
    state = data.get("state")
    if not isinstance(state, Mapping):
        _reject(f"{where}.state is {describe_json(state)}, not an object")
    previous = data.get("previousState")
    previous = previous if isinstance(previous, Mapping) else {}
    configuration = data.get("configuration")
    configuration = configuration if isinstance(configuration, Mapping) else {}
    reason = _optional_string(state, "reason", f"{where}.state") or ""
    reason_data = _reason_data(state.get("reasonData"))
    rule = _optional_string(configuration, "alarmRule", f"{where}.configuration")
    raw_queries = configuration.get("metrics")
    metric = None
    if isinstance(raw_queries, list) and raw_queries:
        queries = [_camel_query(index, query, where) for index, query in enumerate(raw_queries)]
        threshold_metric = _optional_string(configuration, "thresholdMetricId", f"{where}.configuration")
        metric = _from_queries(queries, threshold_metric, None)
    threshold = None
    if metric is not None and metric.shape != "anomaly":
        threshold = _number_or_none((reason_data or {}).get("threshold"))
        if threshold is None:
            found = _REASON_THRESHOLD.search(reason)
            threshold = float(found["value"]) if found else None
    children = _children((reason_data or {}).get("triggeringAlarms"), f"{where}.state.reasonData.triggeringAlarms")
    counts = _reason_counts(reason)
    return AlarmStateChange(
        source=source,
        name=_checked_alarm_name(data, "alarmName", where),
        arn=arn,
        region=region,
        account_id=account_id,
        new_state=_state(state.get("value"), f"{where}.state.value"),
        old_state=_optional_state(previous.get("value"), f"{where}.previousState.value"),
        reason=reason,
        reason_data=reason_data,
        changed_at=_timestamp(state.get("timestamp"), f"{where}.state.timestamp"),
        description=_optional_string(configuration, "description", f"{where}.configuration") or None,
        metric=metric,
        threshold=threshold,
        comparison=_reason_comparison(reason) if metric is not None else None,
        period=_main_period(metric),
        evaluation_periods=counts[1] if counts else None,
        datapoints_to_alarm=counts[0] if counts else None,
        composite_rule=rule,
        triggering_children=children,
        actions_suppressed_by=_optional_string(state, "actionsSuppressedBy", f"{where}.state") or None,
        actions_suppressed_reason=_optional_string(state, "actionsSuppressedReason", f"{where}.state") or None,
    )


def _camel_query(index: int, query: object, where: str) -> MetricQuery:
    path = f"{where}.configuration.metrics[{index}]"
    if not isinstance(query, Mapping):
        _reject(f"{path} is {describe_json(query)}, not an object")
    stat = query.get("metricStat")
    fields: dict[str, Any] = {}
    if isinstance(stat, Mapping):
        metric = _mapping(stat.get("metric"))
        inside = f"{path}.metricStat.metric"
        fields = {
            "namespace": _optional_string(metric, "namespace", inside),
            "metric_name": _optional_string(metric, "name", inside) or _optional_string(metric, "metricName", inside),
            "dimensions": _dimensions(metric.get("dimensions"), f"{path}.metricStat.metric.dimensions"),
            "statistic": normalise_statistic(stat["stat"]) if isinstance(stat.get("stat"), str) else None,
            "period": _int_or_none(stat.get("period")),
        }
    account = _optional_string(query, "accountId", path)
    return MetricQuery(
        id=_string(query, "id", path),
        account_id=account or None,
        expression=_optional_string(query, "expression", path),
        label=_optional_string(query, "label", path),
        return_data=query.get("returnData") is not False,
        **fields,
    )


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


def _children(raw: object, where: str) -> tuple[TriggeringChild, ...]:
    """Composite children in both forms: ARN (or name) strings, or objects with Arn and State."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        _reject(f"{where} is {describe_json(raw)}, not a list")
    children: list[TriggeringChild] = []
    for index, entry in enumerate(raw):
        if isinstance(entry, str):
            children.append(TriggeringChild(name=_alarm_name(entry), arn=entry if entry.startswith("arn:") else None))
            continue
        if not isinstance(entry, Mapping):
            _reject(f"{where}[{index}] is {describe_json(entry)}, not a string or an object")
        arn = entry.get("Arn", entry.get("arn"))
        name = entry.get("Name", entry.get("name"))
        if not isinstance(arn, str) and not isinstance(name, str):
            _reject(f"{where}[{index}] has neither an Arn nor a Name")
        state = entry.get("State", entry.get("state"))
        state = state if isinstance(state, Mapping) else {}
        value = state.get("Value", state.get("value"))
        stamp = state.get("Timestamp", state.get("timestamp"))
        children.append(
            TriggeringChild(
                name=name if isinstance(name, str) else _alarm_name(str(arn)),
                arn=arn if isinstance(arn, str) else None,
                state=AlarmState(value) if value in AlarmState.__members__ else None,
                changed_at=_timestamp(stamp, f"{where}[{index}].State.Timestamp") if stamp else None,
            )
        )
    return tuple(children)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _alarm_name(arn_or_name: str) -> str:
    match = _ALARM_ARN.match(arn_or_name)
    return match["name"] if match else arn_or_name


def _arn_parts(arn: str) -> tuple[str, str]:
    """Region code and account id from the alarm ARN: the only reliable source of either."""
    match = _ALARM_ARN.match(arn)
    if match is None:
        _reject(f"the alarm ARN {excerpt(repr(arn))} is not arn:aws:cloudwatch:<region>:<account>:alarm:<name>")
    return match["region"], match["account"]


def _dimensions(raw: object, where: str) -> dict[str, str]:
    """A name/value list (SNS: lower-case keys, any order; the API's Name/Value also read) or a map (EventBridge)."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {str(name): str(value) for name, value in raw.items()}
    if not isinstance(raw, list):
        _reject(f"{where} is {describe_json(raw)}, not a list or an object")
    dimensions: dict[str, str] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            _reject(f"{where}[{index}] is {describe_json(entry)}, not an object")
        name = entry.get("name", entry.get("Name"))
        value = entry.get("value", entry.get("Value"))
        if not isinstance(name, str) or value is None:
            _reject(f"{where}[{index}] needs a name and a value")
        dimensions[name] = str(value)
    return dimensions


def _treat_missing(raw: object) -> str | None:
    """`notBreaching`, and the odd old forms `""` and `"- TreatMissingData: Breaching"`, normalised."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.rsplit(":", 1)[-1].strip(" -").replace(" ", "").lower()
    return _TREAT_MISSING.get(text)


def _reason_data(raw: object) -> dict[str, Any] | None:
    """The reason's data: a JSON string in every delivery that carries it (or, defensively, an object)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


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


def _state(raw: object, where: str) -> AlarmState:
    if not isinstance(raw, str) or raw not in AlarmState.__members__:
        _reject(f"{where} is {excerpt(repr(raw))}, not OK, ALARM or INSUFFICIENT_DATA")
    return AlarmState(raw)


def _optional_state(raw: object, where: str) -> AlarmState | None:
    return None if raw is None or raw == "" else _state(raw, where)


def _timestamp(raw: object, where: str) -> datetime:
    """`2026-11-27T10:05:37.811+0000` (CloudWatch's form; Python 3.11+ reads the `+0000` offset)."""
    if not isinstance(raw, str) or not raw:
        _reject(f"{where} is {'missing' if raw is None else describe_json(raw)}, not a timestamp")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        _reject(f"{where} {excerpt(repr(raw))} is not an ISO 8601 date and time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _checked_alarm_name(document: Mapping[str, Any], key: str, where: str) -> str:
    """The alarm's name, within CloudWatch's own limits: it keys the alarm's claim and memo in the state table."""
    name = _string(document, key, where)
    if len(name) > ALARM_NAME_LIMIT:
        _reject(f"{where}.{key} is {len(name):,} characters long; CloudWatch allows at most {ALARM_NAME_LIMIT}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        _reject(f"{where}.{key} {excerpt(repr(name))} is not valid UTF-8")
    return name


def _string(document: Mapping[str, Any], key: str, where: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        problem = "missing" if value is None else ("empty" if value == "" else f"{describe_json(value)}, not a string")
        _reject(f"{where}.{key} is {problem}")
    return value


def _optional_string(document: Mapping[str, Any], key: str, where: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        _reject(f"{where}.{key} is {describe_json(value)}, not a string")
    return value


def _optional_number(document: Mapping[str, Any], key: str, where: str) -> float | None:
    value = document.get(key)
    if value is None:
        return None
    number = _number_or_none(value)
    if number is None:
        _reject(f"{where}.{key} is {excerpt(repr(value))}, not a number")
    return number


def _optional_int(document: Mapping[str, Any], key: str, where: str) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    number = _int_or_none(value)
    if number is None:
        _reject(f"{where}.{key} is {excerpt(repr(value))}, not a whole number")
    return number


def _number_or_none(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _int_or_none(value: object) -> int | None:
    number = _number_or_none(value)
    return int(number) if number is not None and number == int(number) else None


def _reject(problem: str) -> NoReturn:
    raise UnparseableMessage(f"not a CloudWatch alarm state change: {problem}")
