"""State table adapter: pause claims, the action log and handled-event records in one DynamoDB table.

Key scheme (literal in template.yaml: PK and SK, both strings):
- `SERVICE#<arn>` / `CLAIM#<key>`            an active pause claim
- `SERVICE#<arn>` / `ACTION#<time>#<id>`     one entry of the action log (TTL `expires_at`)
- `SERVICE#<arn>` / `DEPLOY#<time>#<digest>` one deployment of an image (rollback targets; TTL `expires_at`)
- `SERVICE#<arn>` / `MEMO#<name>`            a small fact kept across invocations (e.g. `paused_image`); one
                                             written by `advance_memo` carries `memo_order` and only moves forward
- `FLEET`         / `MEMBERS`                the guarded services the last reconcile found, with their tags (JSON)
- `EVENT#<key>`   / `EVENT`                  an event being or already handled (TTL `expires_at`); a key too
                                             long for DynamoDB (a forged SNS MessageId) as `EVENT#sha256:<hex>`
Claims are written with conditional puts so that two deliveries of one alert add one claim.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import utf8_safe
from warden.domain.records import (
    ActionRecord,
    DeploymentRecord,
    EventStart,
    EventStatus,
    claim_sort_key,
    service_partition,
)
from warden.errors import EventInProgress, StateUnavailable
from warden.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IAM_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"})
TTL_ATTRIBUTE = "expires_at"
_EVENT_DAYS = 30
_IN_PROGRESS = "IN_PROGRESS"
_FLEET_PK, _FLEET_SK = "FLEET", "MEMBERS"
_COMPLETED = "COMPLETED"


class StateTable:
    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient | None = None,
        *,
        history_retention_days: int = 400,
        event_scope: str = "",
    ) -> None:
        self._table = table_name
        self._client = dynamodb
        self._retention = timedelta(days=history_retention_days)
        # A fleet handles one delivery once per service: each service's event keys are its own (Settings.event_scope).
        self._event_scope = event_scope

    @property
    def _ddb(self) -> DynamoDBClient:
        if self._client is None:
            self._client = client("dynamodb")
        return self._client

    # -- claims -----------------------------------------------------------------------------------
    def list_claims(self, service_arn: str) -> list[Claim]:
        items = self._query(service_partition(service_arn), "CLAIM#")
        return sorted((_claim(item) for item in items), key=lambda claim: claim.created_at)

    def add_claim(self, service_arn: str, claim: Claim) -> bool:
        item: dict[str, Any] = {
            "PK": _s(service_partition(service_arn)),
            "SK": _s(claim_sort_key(claim.key)),
            "kind": _s("claim"),
            "reason": _s(claim.reason.value),
            "owner": _s(claim.owner),
            "evidence": _s(claim.evidence),
            "created_at": _s(claim.created_at.isoformat()),
            "details": {"M": {k: _s(v) for k, v in claim.details.items()}},
        }
        if claim.source_event:
            item["source_event"] = _s(claim.source_event)
        return self._put_if(item, "attribute_not_exists(PK)")

    def get_claim(self, service_arn: str, key: str) -> Claim | None:
        item = self._get(service_partition(service_arn), claim_sort_key(key))
        return None if item is None else _claim(item)

    def remove_claim(self, service_arn: str, key: str) -> bool:
        try:
            response = self._ddb.delete_item(
                TableName=self._table,
                Key={"PK": _s(service_partition(service_arn)), "SK": _s(claim_sort_key(key))},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            raise self._translate("DeleteItem", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("DeleteItem", error) from error
        return bool(response.get("Attributes"))

    # -- action log -------------------------------------------------------------------------------
    def record_action(self, service_arn: str, record: ActionRecord) -> None:
        at = record.at.astimezone(UTC)
        item: dict[str, Any] = {
            "PK": _s(service_partition(service_arn)),
            "SK": _s(f"ACTION#{at.isoformat(timespec='microseconds')}#{uuid.uuid4().hex[:8]}"),
            "kind": _s("action"),
            "at": _s(at.isoformat()),
            "action": _s(record.action),
            "outcome": _s(record.outcome),
            "reason": _s(record.reason),
            "actor": _s(record.actor),
            "dry_run": {"BOOL": record.dry_run},
            TTL_ATTRIBUTE: {"N": str(int((at + self._retention).timestamp()))},
        }
        if record.source_event:
            item["source_event"] = _s(record.source_event)
        self._put(item)

    def list_actions(self, service_arn: str, limit: int = 50) -> Sequence[ActionRecord]:
        items = self._query(service_partition(service_arn), "ACTION#", newest_first=True, limit=limit)
        return [
            ActionRecord(
                at=datetime.fromisoformat(item["at"]["S"]),
                action=item["action"]["S"],
                outcome=item["outcome"]["S"],
                reason=item["reason"]["S"],
                actor=item["actor"]["S"],
                dry_run=item.get("dry_run", {}).get("BOOL", False),
                source_event=item.get("source_event", {}).get("S"),
            )
            for item in items
        ]

    # -- deployment history -------------------------------------------------------------------------
    def record_deployment(self, service_arn: str, digest: str, tag: str | None, at: datetime, source: str) -> None:
        moment = at.astimezone(UTC)
        item: dict[str, Any] = {
            "PK": _s(service_partition(service_arn)),
            "SK": _s(f"DEPLOY#{moment.isoformat(timespec='microseconds')}#{digest}"),
            "kind": _s("deployment"),
            "at": _s(moment.isoformat()),
            "digest": _s(digest),
            "source": _s(source),
            TTL_ATTRIBUTE: {"N": str(int((moment + self._retention).timestamp()))},
        }
        if tag:
            item["tag"] = _s(tag)
        self._put(item)

    def list_deployments(self, service_arn: str, limit: int) -> list[DeploymentRecord]:
        items = self._query(service_partition(service_arn), "DEPLOY#", newest_first=True, limit=limit)
        return [
            DeploymentRecord(
                digest=item["digest"]["S"],
                tag=item.get("tag", {}).get("S"),
                at=datetime.fromisoformat(item["at"]["S"]),
                source=item["source"]["S"],
            )
            for item in items
        ]

    # -- handled events ---------------------------------------------------------------------------
    def begin_event(self, event_key: str, now: datetime, *, lock_seconds: int = 300) -> EventStart:
        epoch = int(now.timestamp())
        # Whose lock it is: when DynamoDB wrote it but its answer was lost, botocore's retry of this same put
        # fails the condition on our own lock, which must not read as "another invocation holds it".
        owner = uuid.uuid4().hex
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "PK": _s(_event_partition(self._scoped(event_key))),
                    "SK": _s("EVENT"),
                    "kind": _s("event"),
                    "status": _s(_IN_PROGRESS),
                    "owner": _s(owner),
                    "locked_until": {"N": str(epoch + lock_seconds)},
                    TTL_ATTRIBUTE: {"N": str(epoch + _EVENT_DAYS * 86400)},
                },
                # A lock left by a crashed invocation expires, so its retry is not refused forever.
                ConditionExpression="attribute_not_exists(PK) OR (#status = :in_progress AND locked_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":in_progress": _s(_IN_PROGRESS), ":now": {"N": str(epoch)}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise self._translate("PutItem", error) from error
            item = self._get(_event_partition(self._scoped(event_key)), "EVENT")
            if item is not None and item["status"]["S"] == _COMPLETED:
                return EventStart(
                    status=EventStatus.DUPLICATE,
                    handled_at=datetime.fromisoformat(item["handled_at"]["S"]),
                    summary=item.get("summary", {}).get("S"),
                )
            if item is not None and item.get("owner", {}).get("S") == owner:
                return EventStart(status=EventStatus.NEW)
            raise EventInProgress(f"event {event_key} is being handled by another invocation") from error
        except BotoCoreError as error:
            raise _state_unavailable("PutItem", error) from error
        return EventStart(status=EventStatus.NEW)

    def complete_event(self, event_key: str, now: datetime, summary: str) -> None:
        self._put(
            {
                "PK": _s(_event_partition(self._scoped(event_key))),
                "SK": _s("EVENT"),
                "kind": _s("event"),
                "status": _s(_COMPLETED),
                "handled_at": _s(now.isoformat()),
                "summary": _s(summary[:1000]),
                TTL_ATTRIBUTE: {"N": str(int(now.timestamp()) + _EVENT_DAYS * 86400)},
            }
        )

    def release_event(self, event_key: str) -> None:
        try:
            key = {"PK": _s(_event_partition(self._scoped(event_key))), "SK": _s("EVENT")}
            self._ddb.delete_item(TableName=self._table, Key=key)
        except (ClientError, BotoCoreError):
            # The lock expires on its own; failing here would hide the error that made us release it.
            return

    def _scoped(self, event_key: str) -> str:
        return f"{self._event_scope}#{event_key}" if self._event_scope else event_key

    # -- the fleet --------------------------------------------------------------------------------
    def load_fleet(self) -> str | None:
        """The fleet the last reconcile stored (JSON, domain/fleet.FleetRecord), or None before the first one."""
        item = self._get(_FLEET_PK, _FLEET_SK)
        return None if item is None else str(item["record"]["S"])

    def save_fleet(self, record: str) -> None:
        self._put({"PK": _s(_FLEET_PK), "SK": _s(_FLEET_SK), "kind": _s("fleet"), "record": _s(record)})

    # -- memos ------------------------------------------------------------------------------------
    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        self._put(
            {
                "PK": _s(service_partition(service_arn)),
                "SK": _s(f"MEMO#{name}"),
                "kind": _s("memo"),
                "values": {"M": {key: _s(value) for key, value in values.items()}},
            }
        )

    def advance_memo(self, service_arn: str, name: str, values: dict[str, str], *, order: int, token: str) -> bool:
        item: dict[str, Any] = {
            "PK": _s(service_partition(service_arn)),
            "SK": _s(f"MEMO#{name}"),
            "kind": _s("memo"),
            "values": {"M": {key: _s(value) for key, value in values.items()}},
            "memo_order": {"N": str(order)},
            "memo_token": _s(token),
        }
        # The comparison and the write are one request: two invocations cannot both read "older" and write.
        return self._put_if(
            item,
            "attribute_not_exists(#order) OR #order < :order OR (#order = :order AND #token = :token)",
            ExpressionAttributeNames={"#order": "memo_order", "#token": "memo_token"},
            ExpressionAttributeValues={":order": {"N": str(order)}, ":token": _s(token)},
        )

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        item = self._get(service_partition(service_arn), f"MEMO#{name}")
        if item is None:
            return None
        return {key: value["S"] for key, value in item.get("values", {}).get("M", {}).items()}

    def delete_memo(self, service_arn: str, name: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table, Key={"PK": _s(service_partition(service_arn)), "SK": _s(f"MEMO#{name}")}
            )
        except ClientError as error:
            raise self._translate("DeleteItem", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("DeleteItem", error) from error

    # -- plumbing ---------------------------------------------------------------------------------
    def _put(self, item: dict[str, Any]) -> None:
        try:
            self._ddb.put_item(TableName=self._table, Item=item)
        except ClientError as error:
            raise self._translate("PutItem", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("PutItem", error) from error

    def _put_if(self, item: dict[str, Any], condition: str, **expression: Any) -> bool:
        """One conditional PutItem: True when written, False when the condition refused it."""
        try:
            self._ddb.put_item(TableName=self._table, Item=item, ConditionExpression=condition, **expression)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise self._translate("PutItem", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("PutItem", error) from error
        return True

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self._ddb.get_item(TableName=self._table, Key={"PK": _s(pk), "SK": _s(sk)}, ConsistentRead=True)
        except ClientError as error:
            raise self._translate("GetItem", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("GetItem", error) from error
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _query(self, pk: str, prefix: str, *, newest_first: bool = False, limit: int | None = None) -> list[Any]:
        items: list[Any] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(pk), ":prefix": _s(prefix)},
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        try:
            for page in self._ddb.get_paginator("query").paginate(**kwargs):
                items.extend(page.get("Items", []))
                if limit is not None and len(items) >= limit:
                    return items[:limit]
        except ClientError as error:
            raise self._translate("Query", error) from error
        except BotoCoreError as error:
            raise _state_unavailable("Query", error) from error
        return items

    @staticmethod
    def _translate(operation: str, error: ClientError) -> Exception:
        if is_retryable(error) or error_code(error) in TABLE_UNAVAILABLE_CODES:
            return _state_unavailable(operation, error)
        return error


class FallbackMemos:
    """The ECS controller's memo store: the state table, or this process's memory while the table is unavailable.

    ECS has no pause of its own: the controller writes the scale to restore (desired count, scaling target) before
    it pauses, so a table outage would otherwise stop the pause itself, and the pause is the safety action
    (usecases/budget_alert.py pauses a confirmed breach without the table). What could not be written is logged,
    with the values a person needs to restore the service by hand; it is lost with the container, and a resume
    without it starts one task (adapters/ecs.py).
    """

    def __init__(self, table: StateTable) -> None:
        self._table = table
        self._kept: dict[tuple[str, str], dict[str, str]] = {}

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        try:
            self._table.put_memo(service_arn, name, values)
        except StateUnavailable as error:
            self._kept[(service_arn, name)] = dict(values)
            logger.error(
                "memo kept in memory only: the state table is unavailable",
                extra={"service_arn": service_arn, "memo": name, "values": values, "error": str(error)},
            )
            return
        self._kept.pop((service_arn, name), None)

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        try:
            stored = self._table.get_memo(service_arn, name)
        except StateUnavailable:
            return self._kept.get((service_arn, name))
        return stored if stored is not None else self._kept.get((service_arn, name))

    def delete_memo(self, service_arn: str, name: str) -> None:
        kept = self._kept.pop((service_arn, name), None)
        try:
            self._table.delete_memo(service_arn, name)
        except StateUnavailable as error:
            logger.error(
                "memo not deleted: the state table is unavailable",
                extra={"service_arn": service_arn, "memo": name, "kept": kept, "error": str(error)},
            )


# The table is gone (deleted, or not yet created), or this role may not use it: no retry will help soon.
TABLE_UNAVAILABLE_CODES = frozenset({"ResourceNotFoundException", "AccessDeniedException"})


def _state_unavailable(operation: str, error: Exception) -> StateUnavailable:
    """A failure that makes the table unusable (see TABLE_UNAVAILABLE_CODES; throttling and server errors that
    outlived botocore's retries; no answer at all), as the one error the use cases handle for it."""
    detail = error_code(error) if isinstance(error, ClientError) else type(error).__name__
    return StateUnavailable(f"the state table is unavailable: DynamoDB {operation} failed ({detail})")


def _s(value: str) -> dict[str, str]:
    # DynamoDB stores UTF-8: a lone surrogate (from a JSON "\\ud800" escape in an event) would fail the call.
    return {"S": utf8_safe(value)}


# DynamoDB's partition key holds at most 2,048 bytes; event keys come from events (an SNS MessageId).
_EVENT_KEY_BYTES = 1024


def _event_partition(event_key: str) -> str:
    """`EVENT#<key>`, or `EVENT#sha256:<hex>` when the key is too long or not UTF-8 (still one item per key)."""
    try:
        if len(event_key.encode("utf-8")) <= _EVENT_KEY_BYTES:
            return f"EVENT#{event_key}"
    except UnicodeEncodeError:
        pass
    return "EVENT#sha256:" + hashlib.sha256(event_key.encode("utf-8", "surrogatepass")).hexdigest()


def _claim(item: dict[str, Any]) -> Claim:
    return Claim(
        key=item["SK"]["S"].removeprefix("CLAIM#"),
        reason=ClaimReason(item["reason"]["S"]),
        owner=item["owner"]["S"],
        evidence=item["evidence"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        source_event=item.get("source_event", {}).get("S"),
        details={k: v["S"] for k, v in item.get("details", {}).get("M", {}).items()},
    )
