"""The shapes of the three deliveries of an alarm state change, as pydantic models (AWS-FACTS §2).

Strict where CloudWatch is (names, ARN, states, times, the threshold, counts as its API bounds them); lenient
exactly where §2 documents quirks (display-name Region ignored, UPPER-CASE statistics, dimension lists or maps,
a null description, odd TreatMissingData, children as strings or objects) or where nothing depends on the field.
`warden.models.alarm` reads these into its `AlarmStateChange`.

Imported on an alarm's first parse, not with `warden.models.alarm`: every handler imports that module (its
settings read the alarm action map), only on_alarm parses alarms. Each model is built on first use too
(`defer_build`), so a cold start pays only for the delivery it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_pascal

from warden.models.alarm import ALARM_ARN, ALARM_NAME_LIMIT, AlarmState
from warden.models.parsing import (
    Count,
    Finite,
    LenientCount,
    LenientText,
    Moment,
    NonEmptyText,
    OptionalText,
    describe_json,
    problem,
    shown,
)

_TREAT_MISSING: Final[Mapping[str, str]] = {
    "missing": "missing",
    "notbreaching": "notBreaching",
    "breaching": "breaching",
    "ignore": "ignore",
}


def _alarm_name(value: str) -> str:
    """The alarm's name within CloudWatch's own limits: it keys the alarm's claim and memo in the state table."""
    if not value:
        raise problem("is empty")
    if len(value) > ALARM_NAME_LIMIT:
        raise problem(f"is {len(value):,} characters long; CloudWatch allows at most {ALARM_NAME_LIMIT}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise problem(f"{shown(value)} is not valid UTF-8") from None
    return value


def _alarm_arn(value: str) -> str:
    """The alarm ARN: the only reliable source of the region code and the account."""
    if ALARM_ARN.match(value) is None:
        raise problem(f"{shown(value)} is not arn:aws:cloudwatch:<region>:<account>:alarm:<name>")
    return value


def _first_resource(value: object) -> object:
    """EventBridge names the alarm in `resources[0]`."""
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise problem("holds no alarm ARN")
    return value[0]


def _object_or_empty(value: object) -> object:
    return value if isinstance(value, Mapping) else {}


def _object_or_none(value: object) -> object:
    return value if isinstance(value, Mapping) else None


def _non_empty_list_or_none(value: object) -> object:
    return value if isinstance(value, list) and value else None


def _optional_list(value: object) -> object:
    return [] if value is None else value


def _dimension_entries(value: object) -> object:
    """A name/value list (SNS: lower-case keys, any order; the API's Name/Value also read) or a map (EventBridge)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{"name": name, "value": entry} for name, entry in value.items()]
    if not isinstance(value, list):
        raise problem(f"is {describe_json(value)}, not a list or an object")
    return value


def _child_entry(value: object) -> object:
    """Composite children in both forms: ARN (or name) strings, or objects with Arn and State."""
    if isinstance(value, str):
        return {"Arn": value} if value.startswith("arn:") else {"Name": value}
    if not isinstance(value, Mapping):
        raise problem(f"is {describe_json(value)}, not a string or an object")
    return value


def _known_state(value: object) -> object:
    return value if isinstance(value, str) and value in AlarmState.__members__ else None


def _treat_missing(value: object) -> str | None:
    """`notBreaching`, and the odd old forms `""` and `"- TreatMissingData: Breaching"`, normalised."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _TREAT_MISSING.get(value.rsplit(":", 1)[-1].strip(" -").replace(" ", "").lower())


def _optional_moment(value: object) -> object:
    return value or None


AlarmName = Annotated[str, AfterValidator(_alarm_name)]
AlarmArn = Annotated[NonEmptyText, AfterValidator(_alarm_arn)]
OptionalState = Annotated[AlarmState | None, BeforeValidator(lambda value: None if value == "" else value)]


class Wire(BaseModel):
    # Built on first use, not at import: each handler's cold start pays only for the delivery it reads.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class Either(Wire):
    """A shape both deliveries share, in SNS's PascalCase or EventBridge's camelCase."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=lambda name: AliasChoices(to_pascal(name), to_camel(name)))
    )


class Dimension(Wire):
    name: str = Field(validation_alias=AliasChoices("name", "Name"))
    value: Annotated[str, BeforeValidator(lambda value: value if value is None else str(value))] = Field(
        validation_alias=AliasChoices("value", "Value")
    )


Dimensions = Annotated[list[Dimension], BeforeValidator(_dimension_entries)]


class Metric(Either):
    namespace: str | None = None
    metric_name: str | None = Field(None, validation_alias=AliasChoices("MetricName", "name", "metricName"))
    dimensions: Dimensions = []


class MetricStat(Either):
    metric: Annotated[Metric, BeforeValidator(_object_or_empty)] = Field(default_factory=Metric)
    stat: LenientText = None
    period: LenientCount = None


class Query(Either):
    id: NonEmptyText
    metric_stat: Annotated[MetricStat | None, BeforeValidator(_object_or_none)] = None
    expression: str | None = None
    label: str | None = None
    account_id: OptionalText = None
    return_data: Annotated[bool, BeforeValidator(lambda value: value is not False)] = True


class ChildState(Either):
    value: Annotated[AlarmState | None, BeforeValidator(_known_state)] = None
    timestamp: Annotated[Moment | None, BeforeValidator(_optional_moment)] = None


class Child(Either):
    arn: str | None = None
    name: str | None = None
    state: Annotated[ChildState, BeforeValidator(_object_or_empty)] = Field(default_factory=ChildState)

    @model_validator(mode="after")
    def _named(self) -> Child:
        if self.arn is None and self.name is None:
            raise problem("has neither an Arn nor a Name")
        return self


Children = Annotated[list[Annotated[Child, BeforeValidator(_child_entry)]], BeforeValidator(_optional_list)]


class Trigger(Wire):
    """SNS's `Trigger` of a metric, metric-math or anomaly-detection alarm (AWS-FACTS §2.1, §2.2)."""

    model_config = ConfigDict(alias_generator=to_pascal)

    namespace: str | None = None
    metric_name: NonEmptyText | None = None
    statistic_type: LenientText = None
    statistic: LenientText = None
    extended_statistic: LenientText = None
    unit: OptionalText = None
    dimensions: Dimensions = []
    metrics: Annotated[list[Query] | None, BeforeValidator(_non_empty_list_or_none)] = None
    threshold_metric_id: str | None = None
    threshold: Finite | None = None
    comparison_operator: str | None = None
    period: Count | None = None
    evaluation_periods: Count | None = None
    datapoints_to_alarm: Count | None = None
    treat_missing_data: Annotated[str | None, BeforeValidator(_treat_missing)] = None

    @model_validator(mode="before")
    @classmethod
    def _band_has_no_threshold(cls, data: Any) -> Any:
        # An anomaly-detection alarm's threshold is its band: a stray Threshold beside it means nothing.
        if isinstance(data, Mapping) and data.get("ThresholdMetricId"):
            return {key: value for key, value in data.items() if key != "Threshold"}
        return data


class SnsAlarm(Wire):
    """The SNS `Message` of an alarm (AWS-FACTS §2.1-2.3)."""

    model_config = ConfigDict(alias_generator=to_pascal)

    alarm_name: AlarmName
    alarm_arn: AlarmArn
    new_state_value: AlarmState
    old_state_value: OptionalState = None
    new_state_reason: str | None = None
    new_state_reason_data: Any = None
    state_change_time: Moment
    alarm_description: OptionalText = None
    trigger: Trigger | None = None
    alarm_rule: str | None = None
    triggering_children: Children = []
    actions_suppressed_by: OptionalText = None
    actions_suppressed_reason: OptionalText = None

    @model_validator(mode="after")
    def _metric_or_composite(self) -> SnsAlarm:
        if self.trigger is None and self.alarm_rule is None:
            raise problem("the message has neither a Trigger (metric alarm) nor an AlarmRule (composite alarm)")
        return self


class State(Wire):
    model_config = ConfigDict(alias_generator=to_camel)

    value: AlarmState
    reason: str | None = None
    reason_data: Any = None
    timestamp: Moment
    actions_suppressed_by: OptionalText = None
    actions_suppressed_reason: OptionalText = None


class PreviousState(Wire):
    value: OptionalState = None


class Configuration(Wire):
    model_config = ConfigDict(alias_generator=to_camel)

    alarm_rule: str | None = None
    description: OptionalText = None
    metrics: Annotated[list[Query] | None, BeforeValidator(_non_empty_list_or_none)] = None
    threshold_metric_id: str | None = None


class AlarmData(Wire):
    """EventBridge's `detail`, and a direct invocation's `alarmData` (AWS-FACTS §2.5)."""

    model_config = ConfigDict(alias_generator=to_camel)

    alarm_name: AlarmName
    state: State
    previous_state: Annotated[PreviousState, BeforeValidator(_object_or_empty)] = Field(default_factory=PreviousState)
    configuration: Annotated[Configuration, BeforeValidator(_object_or_empty)] = Field(default_factory=Configuration)


class EventBridgeEvent(Wire):
    detail: AlarmData
    alarm_arn: Annotated[AlarmArn, BeforeValidator(_first_resource)] = Field(validation_alias="resources")


class DirectEvent(Wire):
    model_config = ConfigDict(alias_generator=to_camel)

    alarm_arn: AlarmArn
    alarm_data: AlarmData


class TriggeringAlarms(Wire):
    triggering_alarms: Children = Field(validation_alias="triggeringAlarms")
