"""EventBridge "AppRunner Service Operation Status Change" events, read into one model (AWS-FACTS §4.5); and
ECS's "ECS Deployment State Change" events (at the end).

AWS's own documentation is inconsistent about the keys: its sample has `operationStatus` (camel case) next
to `ServiceName` (Pascal case), its reference table calls the field `Status`, and third-party rules use
`serviceName`. So every field is read under each casing, and the service is identified by the envelope's
`resources` (the one thing the rule filters on besides source and detail-type).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from warden.errors import UnparseableMessage

SOURCE: Final = "aws.apprunner"
OPERATION_DETAIL_TYPE: Final = "AppRunner Service Operation Status Change"

_STATUS_KEYS: Final = ("operationStatus", "OperationStatus", "status", "Status")
_NAME_KEYS: Final = ("serviceName", "ServiceName")
_MESSAGE_KEYS: Final = ("message", "Message")
_OPERATION_KEYS: Final = ("operationId", "OperationId")


class OperationEvent(BaseModel):
    """One App Runner operation status change for a service."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    time: datetime
    service_arn: str | None
    service_name: str | None
    operation_status: str
    message: str | None = None
    operation_id: str | None = None
    region: str | None = None

    @property
    def delivery_key(self) -> str:
        """EventBridge delivers at least once: the event id makes a redelivery recognisable."""
        return f"apprunner#{self.event_id}"


def is_operation_event(event: object) -> bool:
    return (
        isinstance(event, Mapping)
        and event.get("source") == SOURCE
        and event.get("detail-type") == OPERATION_DETAIL_TYPE
    )


def parse_operation_event(event: object) -> OperationEvent:
    """Raises UnparseableMessage, saying why, for anything that is not such an event."""
    if not isinstance(event, Mapping):
        raise UnparseableMessage(f"the event is a {type(event).__name__}, not an EventBridge event")
    if not is_operation_event(event):
        raise UnparseableMessage(
            f"the event (source {event.get('source')!r}, detail-type {event.get('detail-type')!r}) is not an "
            f"App Runner '{OPERATION_DETAIL_TYPE}'"
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise UnparseableMessage("the event's detail is not an object")
    status = _first(detail, _STATUS_KEYS)
    if status is None:
        raise UnparseableMessage(f"the event's detail has no operation status ({' / '.join(_STATUS_KEYS)})")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise UnparseableMessage("the event has no id")
    resources = event.get("resources")
    arn = (
        next(
            (item for item in resources if isinstance(item, str) and ":apprunner:" in item and ":service/" in item),
            None,
        )
        if isinstance(resources, list)
        else None
    )
    return OperationEvent(
        event_id=event_id,
        time=_time(event.get("time")),
        service_arn=arn,
        service_name=_first(detail, _NAME_KEYS),
        operation_status=status,
        message=_first(detail, _MESSAGE_KEYS),
        operation_id=_first(detail, _OPERATION_KEYS),
        region=event.get("region") if isinstance(event.get("region"), str) else None,
    )


def _first(detail: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = detail.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _time(raw: object) -> datetime:
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise UnparseableMessage(f"the event's time {raw!r} is not an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise UnparseableMessage("the event has no time")


# --- ECS ---------------------------------------------------------------------------------------------------
# "ECS Deployment State Change" (Amazon ECS developer guide, service deployment state change events):
# source aws.ecs, resources [service ARN], detail {eventType INFO|ERROR, eventName SERVICE_DEPLOYMENT_*,
# deploymentId, updatedAt, reason}.

ECS_SOURCE: Final = "aws.ecs"
ECS_DEPLOYMENT_DETAIL_TYPE: Final = "ECS Deployment State Change"


class EcsDeploymentEvent(BaseModel):
    """One ECS service deployment state change."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    time: datetime
    service_arn: str | None
    event_name: str
    event_type: str | None = None  # INFO | ERROR
    deployment_id: str | None = None
    reason: str | None = None
    updated_at: datetime | None = None

    @property
    def delivery_key(self) -> str:
        return f"ecs#{self.event_id}"


def is_ecs_deployment_event(event: object) -> bool:
    return (
        isinstance(event, Mapping)
        and event.get("source") == ECS_SOURCE
        and event.get("detail-type") == ECS_DEPLOYMENT_DETAIL_TYPE
    )


def parse_ecs_deployment_event(event: object) -> EcsDeploymentEvent:
    """Raises UnparseableMessage, saying why, for anything that is not such an event."""
    if not isinstance(event, Mapping):
        raise UnparseableMessage(f"the event is a {type(event).__name__}, not an EventBridge event")
    if not is_ecs_deployment_event(event):
        raise UnparseableMessage(
            f"the event (source {event.get('source')!r}, detail-type {event.get('detail-type')!r}) is not an "
            f"'{ECS_DEPLOYMENT_DETAIL_TYPE}'"
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise UnparseableMessage("the event's detail is not an object")
    name = _first(detail, ("eventName",))
    if name is None:
        raise UnparseableMessage("the event's detail has no eventName")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise UnparseableMessage("the event has no id")
    resources = event.get("resources")
    arn = (
        next((item for item in resources if isinstance(item, str) and ":ecs:" in item and ":service/" in item), None)
        if isinstance(resources, list)
        else None
    )
    try:
        updated = _time(detail.get("updatedAt"))
    except UnparseableMessage:
        updated = None  # only a detail: the envelope's time dates the event
    return EcsDeploymentEvent(
        event_id=event_id,
        time=_time(event.get("time")),
        service_arn=arn,
        event_name=name,
        event_type=_first(detail, ("eventType",)),
        deployment_id=_first(detail, ("deploymentId",)),
        reason=_first(detail, ("reason",)),
        updated_at=updated,
    )
