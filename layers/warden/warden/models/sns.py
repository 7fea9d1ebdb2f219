"""The SNS -> Lambda envelope: `{"Records": [{"EventSource": "aws:sns", "Sns": {...}}, ...]}` (AWS-FACTS §3).

Only what Warden needs is read, by a pydantic model of the notification. Signature fields are not required (FIFO
topics omit them) and either spelling of the URLs (Lambda's `SigningCertUrl`, raw SNS's `SigningCertURL`) is
fine, since neither is read. Every record is returned, in order.

Not Powertools' `SnsModel`: it requires what Warden never reads and AWS-FACTS §3 says may be absent
(`UnsubscribeUrl`, `Type`, `EventVersion`, `EventSubscriptionArn`) and checks the URLs, so a delivery would be
refused for a field nobody uses; its `Timestamp` takes a number as Unix time and its `MessageId` may be empty;
and the layer leaves Powertools' parser out (layers/warden/Makefile), as no handler needs it.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal, NoReturn

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_pascal

from warden.errors import UnparseableMessage
from warden.models.parsing import Moment, NonEmptyText, problem, refusal, shown
from warden.models.parsing import describe_json as describe_json
from warden.models.parsing import excerpt as excerpt

_SNS_SOURCE: Final = "aws:sns"


class SnsMessage(BaseModel):
    """One SNS notification delivered to Lambda."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    topic_arn: str
    subject: str | None
    """None when the publisher gave no subject (the key is missing or null)."""
    message: str
    timestamp: datetime
    """When SNS published the message, timezone-aware (UTC)."""
    attributes: dict[str, str]
    """`MessageAttributes` flattened to name -> Value (Binary values stay base64 text)."""


def parse_sns_event(event: object) -> list[SnsMessage]:
    """Every SNS message in a Lambda event, in order.

    Raises `UnparseableMessage("not an SNS event: ...")` when the envelope is not SNS's.
    """
    if not isinstance(event, Mapping):
        _reject(f"the event is {describe_json(event)}, not an object")
    if "Records" not in event:
        _reject("no 'Records' key")
    records = event["Records"]
    if not isinstance(records, list):
        _reject(f"'Records' is {describe_json(records)}, not a list")
    if not records:
        _reject("'Records' is empty")
    return [_message(index, record) for index, record in enumerate(records)]


def _an_object(value: object) -> object:
    if not isinstance(value, Mapping):
        raise problem(f"is {'missing' if value is None else describe_json(value)}, not an object")
    return value


def _attribute_values(value: object) -> object:
    """`MessageAttributes` as name -> Value: every attribute carries its value as a string, whatever its Type."""
    if not isinstance(value, Mapping):
        return {} if value is None else value
    values: dict[object, object] = {}
    for name, attribute in value.items():
        text = attribute.get("Value") if isinstance(attribute, Mapping) else None
        if not isinstance(text, str):
            raise problem(f"[{shown(name)}] has no string 'Value'")
        values[name] = text
    return values


class _Notification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", alias_generator=to_pascal, defer_build=True)

    message_id: NonEmptyText
    topic_arn: NonEmptyText
    subject: str | None = None
    message: str
    timestamp: Moment
    message_attributes: Annotated[dict[str, str], BeforeValidator(_attribute_values)] = {}


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    event_source: Literal["aws:sns"] = Field(validation_alias=AliasChoices("EventSource", "eventSource"))
    sns: Annotated[_Notification, BeforeValidator(_an_object)] = Field(validation_alias="Sns")

    @model_validator(mode="before")
    @classmethod
    def _from_sns(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        if data.get("EventSource", data.get("eventSource")) is None:
            raise problem(f"has no EventSource (expected {_SNS_SOURCE!r})")
        # A missing Sns is refused as what it is not (an object), like a null one.
        return {**data, "Sns": data.get("Sns")}


def _message(index: int, record: object) -> SnsMessage:
    try:
        sns = _Record.model_validate(record).sns
    except ValidationError as error:
        _reject(refusal(error, f"Records[{index}]"))
    return SnsMessage(
        message_id=sns.message_id,
        topic_arn=sns.topic_arn,
        subject=sns.subject,
        message=sns.message,
        timestamp=sns.timestamp,
        attributes=sns.message_attributes,
    )


def _reject(problem: str) -> NoReturn:
    raise UnparseableMessage(f"not an SNS event: {problem}")
