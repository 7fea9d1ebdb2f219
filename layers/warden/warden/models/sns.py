"""The SNS -> Lambda envelope: `{"Records": [{"EventSource": "aws:sns", "Sns": {...}}, ...]}`.

Only what Warden needs is read. Signature fields are not required (FIFO topics omit them) and either
spelling of the URLs (Lambda's `SigningCertUrl`, raw SNS's `SigningCertURL`) is fine, since neither is
read. Every record is returned, in order.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final, NoReturn

from pydantic import BaseModel, ConfigDict

from warden.errors import UnparseableMessage

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
    return [_record(index, record) for index, record in enumerate(records)]


def excerpt(text: str, limit: int = 60) -> str:
    """`text`, cut short for a reason an operator reads (a hostile message can be 256 KB)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_json(value: object) -> str:
    """What a JSON value is, in JSON's words: null, a boolean, a number, a string, a list, an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _reject(problem: str) -> NoReturn:
    raise UnparseableMessage(f"not an SNS event: {problem}")


def _record(index: int, record: object) -> SnsMessage:
    where = f"Records[{index}]"
    if not isinstance(record, Mapping):
        _reject(f"{where} is {describe_json(record)}, not an object")
    source = record.get("EventSource", record.get("eventSource"))
    if source is None:
        _reject(f"{where} has no EventSource (expected {_SNS_SOURCE!r})")
    if source != _SNS_SOURCE:
        _reject(f"{where}.EventSource is {excerpt(repr(source))}, not {_SNS_SOURCE!r}")
    sns = record.get("Sns")
    if not isinstance(sns, Mapping):
        _reject(f"{where}.Sns is {'missing' if sns is None else describe_json(sns)}, not an object")

    subject = sns.get("Subject")
    if subject is not None and not isinstance(subject, str):
        _reject(f"{where}.Sns.Subject is {describe_json(subject)}, not a string")
    return SnsMessage(
        message_id=_string(sns, "MessageId", where),
        topic_arn=_string(sns, "TopicArn", where),
        subject=subject,
        message=_string(sns, "Message", where, allow_empty=True),
        timestamp=_timestamp(sns, where),
        attributes=_attributes(sns, where),
    )


def _string(sns: Mapping[str, object], key: str, where: str, *, allow_empty: bool = False) -> str:
    value = sns.get(key)
    if not isinstance(value, str):
        problem = "missing" if value is None else f"{describe_json(value)}, not a string"
        _reject(f"{where}.Sns.{key} is {problem}")
    if not value and not allow_empty:
        _reject(f"{where}.Sns.{key} is empty")
    return value


def _timestamp(sns: Mapping[str, object], where: str) -> datetime:
    text = _string(sns, "Timestamp", where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _reject(f"{where}.Sns.Timestamp {excerpt(repr(text))} is not an ISO 8601 date and time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _attributes(sns: Mapping[str, object], where: str) -> dict[str, str]:
    raw = sns.get("MessageAttributes")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        _reject(f"{where}.Sns.MessageAttributes is {describe_json(raw)}, not an object")
    attributes: dict[str, str] = {}
    for name, attribute in raw.items():
        value = attribute.get("Value") if isinstance(attribute, Mapping) else None
        if not isinstance(name, str) or not isinstance(value, str):
            _reject(f"{where}.Sns.MessageAttributes[{excerpt(repr(name))}] has no string 'Value'")
        attributes[name] = value
    return attributes
