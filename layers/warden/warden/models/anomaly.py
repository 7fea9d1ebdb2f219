"""AWS Cost Anomaly Detection alerts: the SNS `Message` is a JSON object (sent by costalerts.amazonaws.com).

The same object is the `detail` of the EventBridge form, which spells `dimensionValue` where SNS spells
`dimensionalValue` and adds `rootCauses[].impact.contribution`. Both are read.

Only `anomalyId` and `impact.totalImpact` are required. Every other key is optional: a missing, null
or malformed optional value reads as None, and unknown keys are ignored.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from warden.errors import UnparseableMessage
from warden.models.money import plausible


def _none_when_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """For optional fields: a value of the wrong shape is dropped (None) rather than failing the alert."""
    try:
        return handler(value)
    except ValidationError:
        return None


def _as_utc(value: datetime | None) -> datetime | None:
    """AWS dates are UTC; a date without a zone (or a bare `2026-03-03`) is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _plausible_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else plausible(value)


_OptionalStr = Annotated[str | None, WrapValidator(_none_when_invalid)]
# Every number is bounded when it is read (models/money.py `plausible`): an implausible one (1e999999999) fails
# the whole alert, which is then forwarded verbatim, rather than being formatted later. Outside
# `_none_when_invalid` on purpose: an implausible value is not a "malformed optional" to drop silently. (NaN and
# Infinity are not numbers to pydantic: an optional one reads as None, a required one fails the alert.)
_BoundedDecimal = Annotated[Decimal, AfterValidator(plausible)]
_OptionalDecimal = Annotated[Decimal | None, WrapValidator(_none_when_invalid), AfterValidator(_plausible_or_none)]
_OptionalDatetime = Annotated[datetime | None, WrapValidator(_none_when_invalid)]

_LENIENT: Final = ConfigDict(
    frozen=True,
    extra="ignore",
    validate_by_name=True,
    validate_by_alias=True,
    coerce_numbers_to_str=True,
)


class RootCause(BaseModel):
    """One root cause AWS identified; any of its parts may be missing."""

    model_config = _LENIENT

    service: _OptionalStr = None
    region: _OptionalStr = None
    linked_account: _OptionalStr = Field(default=None, alias="linkedAccount")
    linked_account_name: _OptionalStr = Field(default=None, alias="linkedAccountName")
    usage_type: _OptionalStr = Field(default=None, alias="usageType")
    contribution: _OptionalDecimal = Field(
        default=None,
        validation_alias=AliasChoices(AliasPath("impact", "contribution"), "contribution"),
    )


class AnomalyImpact(BaseModel):
    """The anomaly's cost impact, in USD."""

    model_config = _LENIENT

    max_impact: _OptionalDecimal = Field(default=None, alias="maxImpact")
    total_actual_spend: _OptionalDecimal = Field(default=None, alias="totalActualSpend")
    total_expected_spend: _OptionalDecimal = Field(default=None, alias="totalExpectedSpend")
    total_impact: _BoundedDecimal = Field(alias="totalImpact")
    total_impact_percentage: _OptionalDecimal = Field(default=None, alias="totalImpactPercentage")


class CostAnomalyAlert(BaseModel):
    """One Cost Anomaly Detection alert."""

    model_config = _LENIENT

    anomaly_id: str = Field(alias="anomalyId", min_length=1)
    account_id: _OptionalStr = Field(default=None, alias="accountId")
    account_name: _OptionalStr = Field(default=None, alias="accountName")
    anomaly_start: _OptionalDatetime = Field(default=None, alias="anomalyStartDate")
    anomaly_end: _OptionalDatetime = Field(default=None, alias="anomalyEndDate")
    """None while the anomaly is still ongoing."""
    dimension_value: _OptionalStr = Field(
        default=None,
        validation_alias=AliasChoices("dimensionalValue", "dimensionValue", "dimension_value"),
    )
    monitor_name: _OptionalStr = Field(default=None, alias="monitorName")
    monitor_arn: _OptionalStr = Field(default=None, alias="monitorArn")
    monitor_type: _OptionalStr = Field(default=None, alias="monitorType")
    current_score: _OptionalDecimal = Field(
        default=None,
        validation_alias=AliasChoices(AliasPath("anomalyScore", "currentScore"), "current_score"),
    )
    max_score: _OptionalDecimal = Field(
        default=None,
        validation_alias=AliasChoices(AliasPath("anomalyScore", "maxScore"), "max_score"),
    )
    impact: AnomalyImpact
    root_causes: tuple[RootCause, ...] = Field(default=(), alias="rootCauses")
    details_link: _OptionalStr = Field(default=None, alias="anomalyDetailsLink")
    subscription_id: _OptionalStr = Field(default=None, alias="subscriptionId")
    subscription_name: _OptionalStr = Field(default=None, alias="subscriptionName")

    @field_validator("anomaly_start", "anomaly_end")
    @classmethod
    def _dates_in_utc(cls, value: datetime | None) -> datetime | None:
        return _as_utc(value)

    @field_validator("root_causes", mode="wrap")
    @classmethod
    def _root_causes_leniently(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Null reads as no root causes; an entry that is not an object is skipped."""
        if value is None:
            return ()
        if isinstance(value, list | tuple):
            value = [cause for cause in value if isinstance(cause, dict | RootCause)]
        try:
            return handler(value)
        except ValidationError:
            return ()


def looks_like_anomaly_alert(text: str) -> bool:
    """True when `text` is a JSON object with an `anomalyId` key."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(document, dict) and "anomalyId" in document


def parse_anomaly_alert(text: str) -> CostAnomalyAlert:
    """Read a Cost Anomaly Detection alert (the SNS `Message`). Raises `UnparseableMessage` with a reason."""
    if not text.strip():
        raise UnparseableMessage("message is empty")
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise UnparseableMessage(
            f"message is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise UnparseableMessage("message is JSON nested too deeply to read") from None
    except ValueError as error:  # e.g. an integer too long to convert
        raise UnparseableMessage(f"message is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise UnparseableMessage(f"message is JSON but not an object (it is a {type(document).__name__})")
    if "anomalyId" not in document:
        raise UnparseableMessage("no 'anomalyId' key: not a Cost Anomaly Detection alert")
    impact = document.get("impact")
    if not isinstance(impact, dict) or impact.get("totalImpact") is None:
        raise UnparseableMessage("no 'impact.totalImpact' in the Cost Anomaly Detection alert")
    try:
        return CostAnomalyAlert.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        raise UnparseableMessage(f"the Cost Anomaly Detection alert is invalid: {problems}") from None
