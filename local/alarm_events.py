"""Alarm events for the demo and the tests: the fixtures under events/on_alarm/, retargeted.

The fixtures describe the consultation app with a fixed service id and fixed times. `alarm_event`
loads one and points it at another service (the emulator's), another moment and another SNS message
id, whatever the delivery (SNS record, EventBridge event or direct alarm action).
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from local.events import load_event

FUNCTION = "on_alarm"
_REASON_TIME = re.compile(r"\((\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\)")


def cloudwatch_time(moment: datetime) -> str:
    """CloudWatch's timestamp form: 2026-11-27T10:05:37.811+0000."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def alarm_event(
    fixture: str,
    *,
    service_arn: str | None = None,
    changed_at: datetime | None = None,
    message_id: str | None = None,
    topic_arn: str | None = None,
    alarm_name: str | None = None,
) -> dict[str, Any]:
    """The fixture events/on_alarm/<fixture>.json, with the given service, state-change time and ids."""
    event = load_event(FUNCTION, fixture)
    edits = _Edits(service_arn, changed_at, alarm_name)
    if "Records" in event:
        for record in event["Records"]:
            sns = record["Sns"]
            try:
                message = json.loads(sns["Message"])
            except ValueError:
                message = None
            if isinstance(message, dict):
                edits.apply(message)
                if changed_at is not None and "StateChangeTime" in message:
                    message["StateChangeTime"] = cloudwatch_time(changed_at)
                    message["NewStateReason"] = reason_at(message.get("NewStateReason") or "", changed_at)
                sns["Message"] = json.dumps(message, separators=(",", ":"))
            if message_id is not None:
                sns["MessageId"] = message_id
            if topic_arn is not None:
                sns["TopicArn"] = topic_arn
        return event
    data = event.get("detail") or event.get("alarmData") or {}
    edits.apply(data)
    if changed_at is not None:
        data["state"]["timestamp"] = cloudwatch_time(changed_at)
        data["state"]["reason"] = reason_at(data["state"].get("reason") or "", changed_at)
    if alarm_name is not None:
        old = data.get("alarmName", "")
        data["alarmName"] = alarm_name
        for key in ("alarmArn",):
            if key in event:
                event[key] = event[key].removesuffix(old) + alarm_name
        event["resources"] = [arn.removesuffix(old) + alarm_name for arn in event.get("resources", [])]
    return event


def reason_at(reason: str, changed_at: datetime) -> str:
    """The reason's datapoint times ("(27/11/26 10:00:00)", newest first) moved to the periods before `changed_at`."""
    newest = changed_at.astimezone(UTC).replace(second=0, microsecond=0)
    newest -= timedelta(minutes=newest.minute % 5 + 5)
    periods = (newest - timedelta(minutes=5 * step) for step in itertools.count())
    return _REASON_TIME.sub(lambda _: f"({next(periods):%d/%m/%y %H:%M:%S})", reason)


class _Edits:
    def __init__(self, service_arn: str | None, changed_at: datetime | None, alarm_name: str | None) -> None:
        self.name = self.service_id = self.cluster = None
        if service_arn is not None:
            # App Runner: service/<name>/<id>; ECS: service/<cluster>/<name> (its alarms name both).
            _, first, second = service_arn.split("/")
            if service_arn.split(":")[2] == "ecs":
                self.cluster, self.name = first, second
            else:
                self.name, self.service_id = first, second
        self.alarm_name = alarm_name

    def apply(self, node: Any) -> None:
        """Rewrites the service's dimensions (App Runner's or ECS's, as name/value lists or maps) and alarm name."""
        if isinstance(node, list):
            for item in node:
                self.apply(item)
            return
        if not isinstance(node, dict):
            return
        if self.alarm_name is not None and "AlarmName" in node:
            old = node["AlarmName"]
            node["AlarmName"] = self.alarm_name
            node["AlarmArn"] = str(node.get("AlarmArn", "")).removesuffix(old) + self.alarm_name
        if self.name is not None:
            dimension = node.get("name", node.get("Name"))
            value_key = "value" if "value" in node else "Value"
            if dimension == "ServiceName" and value_key in node:
                node[value_key] = self.name
            elif dimension == "ServiceID" and value_key in node and self.service_id is not None:
                node[value_key] = self.service_id
            elif dimension == "ClusterName" and value_key in node and self.cluster is not None:
                node[value_key] = self.cluster
            if "ServiceName" in node and isinstance(node["ServiceName"], str):
                node["ServiceName"] = self.name
            if "ServiceID" in node and isinstance(node["ServiceID"], str) and self.service_id is not None:
                node["ServiceID"] = self.service_id
            if "ClusterName" in node and isinstance(node["ClusterName"], str) and self.cluster is not None:
                node["ClusterName"] = self.cluster
        for value in node.values():
            self.apply(value)
