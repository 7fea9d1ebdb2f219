"""Hypothesis strategies of bad input for every Warden handler (shared by tests/robustness and bench/fuzz.py).

Every strategy draws a `Generated(origin, event)`. The origin names the family of bad input and decides
what the harness may expect of it:

- `garbage:<family>`: input no AWS service sends to this function: a wrong envelope, truncated or huge
  messages, wrong types, an unknown alarm state or job, hostile names, another function's event. It
  must take no action at all.
- `fixture:<name>:<mutation>`: a real fixture from events/<function>/ with one defect: a key dropped, a
  type changed, a string truncated or a hostile string planted, in the envelope or inside the SNS
  message. A mutation may leave the event valid (dropping the optional Subject does), so it may do what
  the unmutated fixture does, and never more.

The configured names the harness uses (budget, repository) are never generated as garbage, so that a
garbage event cannot be a legitimate request by accident.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st

from local.events import budget_message

CONFIGURED_BUDGET: Final = "consultation-app-monthly"
CONFIGURED_REPOSITORY: Final = "consultation-app"
SNS_LIMIT_BYTES: Final = 262_144

HOSTILE: Final = (
    "",
    " ",
    "\n",
    "\r\n\t",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "line one\nline two",
    "Subject\r\nBcc: attacker@example.com",
    "$(rm -rf /)",
    "`rm -rf /`",
    "; rm -rf / #",
    "<script>alert(1)</script>",
    "{0}",
    "{}",
    "{name}",
    "{0.__class__.__mro__}",
    "%s%s%s%n",
    "%(message)s",
    "${jndi:ldap://example.com/a}",
    "../../../etc/passwd",
    "'; DROP TABLE warden;--",
    "\u202eevil\u202c",
    "\u200b",
    "\ufeff",
    "💸🔥",
    "日本語のアラーム",
    "\ud800",  # a lone surrogate: JSON's "\ud800" escape decodes to it, and it is not UTF-8
    "\udfff tail",
    "\x85",
    "\u2028",
    "\x9b",
    "Budget Name: consultation-app-monthly",
    "Actual Amount: $99999.00",
    "AlarmName",
    "ALARM",
    "null",
    "true",
    "-1",
    "NaN",
    "1e999",
    "a.b-c_",  # repeated, a long run of short words: what a backtracking regular expression chokes on
)
NOT_BREACHING: Final = ("$8.13", "$0", "$9.99", "$abc", "", "$", "USD", "$1,0,0", "$--1", "∞", "$NaN", "$1e999", "10%")


@dataclass(frozen=True)
class Generated:
    origin: str
    event: Any

    @property
    def family(self) -> str:
        """`garbage:<family>` or `fixture` (whatever the fixture and the mutation)."""
        return self.origin if self.origin.startswith("garbage:") else "fixture"

    @property
    def is_garbage(self) -> bool:
        return self.origin.startswith("garbage:")


# --- values ----------------------------------------------------------------------------------------

_long: st.SearchStrategy[str] = st.builds(
    lambda seed, n: (seed or "x") * n, st.sampled_from(HOSTILE), st.integers(min_value=100, max_value=4000)
)
_control: st.SearchStrategy[str] = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=12
)
hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    _control,
    _long,
    st.tuples(st.sampled_from(HOSTILE), st.text(max_size=8), st.sampled_from(HOSTILE)).map("".join),
)
scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(hostile_text, st.text(max_size=8)), children, max_size=4),
    ),
    max_leaves=10,
)


def nested(depth: int) -> Any:
    """A list nested `depth` deep: what a Lambda event can hold (Lambda's JSON decoder stops near 1,000)."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


deep: st.SearchStrategy[Any] = st.integers(min_value=50, max_value=600).map(nested)


def huge_text(size: int) -> str:
    """`size` bytes of text: near, at and over SNS's 262,144-byte limit."""
    unit = "Budget Name: x\n<script>{0}%s</script>\na.b.c.d-e-f_g password=a.b.c\n"
    return (unit * (size // len(unit) + 1))[:size]


huge: st.SearchStrategy[str] = st.sampled_from(
    [SNS_LIMIT_BYTES - 2048, SNS_LIMIT_BYTES - 1, SNS_LIMIT_BYTES, SNS_LIMIT_BYTES + 1, 300_000]
).map(huge_text)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def other_type(original: Any) -> st.SearchStrategy[Any]:
    """A JSON value whose type differs from `original`'s (bool and int count as different)."""
    return json_values.filter(lambda value: _type_name(value) != _type_name(original))


# --- the SNS envelope ------------------------------------------------------------------------------

TOPIC: Final = "arn:aws:sns:us-east-1:123456789012:warden-budget-alerts"


def envelope(message: Any, *, subject: Any = "AWS Notification", message_id: Any = None) -> dict[str, Any]:
    """A deterministic SNS -> Lambda event with one record (as local.events.sns_event, without randomness)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": TOPIC,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": "2026-11-27T10:05:38.102Z",
                    "SignatureVersion": "1",
                    "Signature": "dGVzdA==",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


_message_ids = st.one_of(st.uuids().map(str), hostile_text.filter(bool))


@st.composite
def sns_defects(draw: st.DrawFn) -> Generated:
    """A valid-looking SNS envelope with one structural defect the envelope parser must reject."""
    event = envelope(draw(garbage_messages), subject=draw(st.one_of(st.none(), hostile_text)))
    record = event["Records"][0]
    sns = record["Sns"]
    defect = draw(
        st.sampled_from(
            [
                "records-not-a-list",
                "records-empty",
                "record-not-an-object",
                "no-event-source",
                "wrong-event-source",
                "no-sns",
                "sns-not-an-object",
                "field-missing",
                "field-wrong-type",
                "subject-wrong-type",
                "bad-timestamp",
                "attributes-wrong",
                "second-record-broken",
            ]
        )
    )
    if defect == "records-not-a-list":
        event["Records"] = draw(json_values.filter(lambda value: not isinstance(value, list)))
    elif defect == "records-empty":
        event["Records"] = []
    elif defect == "record-not-an-object":
        event["Records"] = [draw(json_values.filter(lambda value: not isinstance(value, dict)))]
    elif defect == "no-event-source":
        del record["EventSource"]
    elif defect == "wrong-event-source":
        record["EventSource"] = draw(st.one_of(hostile_text, json_values).filter(lambda value: value != "aws:sns"))
    elif defect == "no-sns":
        del record["Sns"]
    elif defect == "sns-not-an-object":
        record["Sns"] = draw(json_values.filter(lambda value: not isinstance(value, dict)))
    elif defect == "field-missing":
        del sns[draw(st.sampled_from(["MessageId", "TopicArn", "Message", "Timestamp"]))]
    elif defect == "field-wrong-type":
        key = draw(st.sampled_from(["MessageId", "TopicArn", "Message", "Timestamp"]))
        sns[key] = draw(json_values.filter(lambda value: not isinstance(value, str)))
    elif defect == "subject-wrong-type":
        sns["Subject"] = draw(json_values.filter(lambda value: value is not None and not isinstance(value, str)))
    elif defect == "bad-timestamp":
        sns["Timestamp"] = draw(st.one_of(hostile_text, st.just("2026-13-45T99:99:99Z"), st.just("yesterday")))
    elif defect == "attributes-wrong":
        sns["MessageAttributes"] = draw(
            st.one_of(
                json_values.filter(lambda value: value is not None and not isinstance(value, dict)),
                st.dictionaries(hostile_text, json_values.filter(lambda v: not isinstance(v, dict)), min_size=1),
                st.dictionaries(hostile_text, st.fixed_dictionaries({"Value": other_type("")}), min_size=1),
            )
        )
    else:
        event["Records"].append(draw(json_values.filter(lambda value: not isinstance(value, dict))))
    return Generated(f"garbage:sns-envelope:{defect}", event)


# --- messages no publisher sends -------------------------------------------------------------------


def _budget_text(
    name: str, budgeted: str, threshold: str, amount: str, alert_type: str, comparison: str, budget_type: str
) -> str:
    return budget_message(
        name=name,
        budgeted=budgeted,
        threshold=threshold,
        amount=amount,
        alert_type=alert_type,
        comparison=comparison,
        budget_type=budget_type,
    )


_amounts = st.one_of(st.sampled_from((*NOT_BREACHING, "$10.42", "$1e3", "$-10.42", "$0.000001")), hostile_text)
_alert_types = st.one_of(st.sampled_from(["ACTUAL", "FORECASTED", "actual", "BOTH", "ACTUAL "]), hostile_text)
# A budget notification about any budget but the configured one: at most a warning, never a pause.
_other_budget = st.builds(
    _budget_text,
    name=hostile_text.filter(lambda name: name.strip() != CONFIGURED_BUDGET),
    budgeted=_amounts,
    threshold=_amounts,
    amount=_amounts,
    alert_type=_alert_types,
    comparison=st.one_of(st.sampled_from([">", ">=", "<", ""]), hostile_text),
    budget_type=st.one_of(st.sampled_from(["Cost", "Usage"]), hostile_text),
)
# About the configured budget, but no breach: a spend under the limit, or one that is not a number.
_configured_not_breaching = st.builds(
    _budget_text,
    name=st.just(CONFIGURED_BUDGET),
    budgeted=st.just("$10.00"),
    threshold=_amounts,
    amount=st.sampled_from(NOT_BREACHING),
    alert_type=_alert_types,
    comparison=st.one_of(st.sampled_from([">", ">=", "<", ""]), hostile_text),
    budget_type=st.one_of(st.sampled_from(["Cost", "Usage"]), hostile_text),
)
_json_text = json_values.map(lambda value: json.dumps(value, allow_nan=True))
_truncated_json = st.builds(
    lambda value, cut: json.dumps(value)[: max(1, int(len(json.dumps(value)) * cut))],
    st.dictionaries(st.sampled_from(["AlarmName", "anomalyId", "NewStateValue", "impact"]), json_values, min_size=1),
    st.floats(min_value=0.0, max_value=0.95),
)
_alarm_shaped = st.fixed_dictionaries(
    {"AlarmName": hostile_text},
    optional={
        "AlarmArn": st.one_of(hostile_text, json_values),
        "NewStateValue": st.one_of(
            st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA", "BROKEN", "alarm"]), json_values
        ),
        "OldStateValue": json_values,
        "StateChangeTime": st.one_of(hostile_text, json_values),
        "Trigger": json_values,
        "AlarmRule": json_values,
    },
).map(json.dumps)
_anomaly_shaped = st.fixed_dictionaries(
    {"anomalyId": json_values},
    optional={"impact": st.one_of(json_values, st.fixed_dictionaries({"totalImpact": other_type(1.0)}))},
).map(lambda value: json.dumps(value, allow_nan=True))

garbage_messages: st.SearchStrategy[str] = st.one_of(
    hostile_text,
    huge,
    _json_text,
    _truncated_json,
    _alarm_shaped,
    _anomaly_shaped,
    _other_budget,
    _configured_not_breaching,
)


@st.composite
def sns_garbage_messages(draw: st.DrawFn) -> Generated:
    """A well-formed SNS envelope around a message of the wrong shape, with a hostile subject."""
    message = draw(garbage_messages)
    subject = draw(st.one_of(st.none(), hostile_text, st.just('ALARM: "x" in US East\nBcc: y')))
    return Generated("garbage:sns-message", envelope(message, subject=subject, message_id=draw(_message_ids)))


# --- jobs and EventBridge events -------------------------------------------------------------------


@st.composite
def job_garbage(draw: st.DrawFn, known_jobs: Sequence[str]) -> Generated:
    """`{"job": ...}` naming no job of this function: a near miss, another function's job, or junk."""
    near_misses = [
        variant for job in known_jobs for variant in (job.upper(), f" {job}", f"{job}\n", job.replace("-", "_"))
    ]
    others = ["workday-start", "workday-end", "budget-period-check", "reconcile", "audit-keys", "purge-images"]
    job = draw(
        st.one_of(
            st.sampled_from([name for name in others if name not in known_jobs] or ["none"]),
            st.sampled_from(near_misses or ["none"]),
            hostile_text,
            json_values,
        ).filter(lambda value: value not in known_jobs)
    )
    extra = draw(st.dictionaries(st.sampled_from(["Job", "jobs", "detail", "time", "id"]), json_values, max_size=3))
    key = draw(st.sampled_from(["job", "job", "Job", "jobs"]))
    event = {**extra, key: job}
    if key != "job":
        event.pop("job", None)
    return Generated("garbage:job", event)


_ecr_detail = st.fixed_dictionaries(
    {},
    optional={
        "action-type": st.one_of(st.sampled_from(["DELETE", "PUSH", "push", ""]), json_values),
        "result": st.one_of(st.sampled_from(["FAILURE", "SUCCESS", ""]), json_values),
        "repository-name": st.one_of(hostile_text, json_values).filter(lambda name: name != CONFIGURED_REPOSITORY),
        "image-tag": json_values,
        "image-digest": json_values,
    },
)
_alarm_detail = st.fixed_dictionaries(
    {},
    optional={
        "alarmName": hostile_text,
        "state": st.one_of(json_values, st.fixed_dictionaries({"value": st.one_of(hostile_text, json_values)})),
        "previousState": json_values,
        "configuration": json_values,
    },
)


@st.composite
def eventbridge_garbage(draw: st.DrawFn) -> Generated:
    """EventBridge-shaped events (an ECR action, an alarm state change, a direct alarm action) with junk inside."""
    kind = draw(st.sampled_from(["ecr", "alarm-state-change", "direct-alarm", "unknown"]))
    if kind == "ecr":
        event = {
            "source": "aws.ecr",
            "detail-type": "ECR Image Action",
            "detail": draw(st.one_of(_ecr_detail, json_values)),
        }
    elif kind == "alarm-state-change":
        event = {
            "source": "aws.cloudwatch",
            "detail-type": "CloudWatch Alarm State Change",
            "time": draw(st.one_of(hostile_text, json_values)),
            "resources": draw(json_values),
            "detail": draw(st.one_of(_alarm_detail, json_values)),
        }
    elif kind == "direct-alarm":
        event = {
            "source": "aws.cloudwatch",
            "alarmArn": draw(st.one_of(hostile_text, json_values)),
            "time": draw(st.one_of(hostile_text, json_values)),
            "alarmData": draw(st.one_of(_alarm_detail, json_values)),
        }
    else:
        event = {
            "source": draw(hostile_text),
            "detail-type": draw(hostile_text),
            "detail": draw(json_values),
        }
    return Generated(f"garbage:eventbridge:{kind}", event)


# --- mutations of the real fixtures ----------------------------------------------------------------

Path = tuple[Any, ...]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a value inside `value` (dict keys and list indexes), the root excluded."""
    found: list[Path] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths(child, (*prefix, index)))
    return found


def get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(value: Any, path: Path, new: Any) -> None:
    get(value, path[:-1])[path[-1]] = new


def _drop(value: Any, path: Path) -> None:
    parent = get(value, path[:-1])
    del parent[path[-1]]


@st.composite
def mutate(draw: st.DrawFn, document: Any) -> tuple[str, Any]:
    """One defect in a copy of `document`: drop a key, change a type, truncate a string, plant a hostile one."""
    mutated = copy.deepcopy(document)
    candidates = paths(mutated)
    if not candidates:
        return "replace", draw(json_values)
    path = draw(st.sampled_from(candidates))
    strings = [p for p in candidates if isinstance(get(mutated, p), str) and get(mutated, p)]
    operation = draw(st.sampled_from(["drop", "retype", "truncate", "hostile"]))
    if operation in {"truncate", "hostile"} and strings:
        path = draw(st.sampled_from(strings))
        text = get(mutated, path)
        if operation == "truncate":
            _set(mutated, path, text[: draw(st.integers(min_value=0, max_value=len(text) - 1))])
        else:
            planted = draw(hostile_text)
            at = draw(st.integers(min_value=0, max_value=len(text)))
            _set(mutated, path, draw(st.sampled_from([planted, text[:at] + planted + text[at:]])))
        return f"{operation}:{_show(path)}", mutated
    if operation == "drop":
        _drop(mutated, path)
        return f"drop:{_show(path)}", mutated
    _set(mutated, path, draw(other_type(get(mutated, path))))
    return f"retype:{_show(path)}", mutated


def _show(path: Path) -> str:
    return ".".join(str(step) for step in path)


def _message_path(event: Any) -> Path | None:
    """Where an SNS fixture keeps its Message, when it has one."""
    try:
        message = event["Records"][0]["Sns"]["Message"]
    except (KeyError, IndexError, TypeError):
        return None
    return ("Records", 0, "Sns", "Message") if isinstance(message, str) else None


@st.composite
def fixture_mutations(draw: st.DrawFn, fixtures: Mapping[str, Any]) -> Generated:
    """A fixture with one defect: in the envelope, or inside a JSON Message (re-encoded), or the Message cut short."""
    name = draw(st.sampled_from(sorted(fixtures)))
    event = copy.deepcopy(fixtures[name])
    where = _message_path(event)
    inside = draw(st.sampled_from(["envelope", "message", "message-cut"])) if where else "envelope"
    if inside == "envelope" or where is None:
        mutation, mutated = draw(mutate(event))
        return Generated(f"fixture:{name}:{mutation}", mutated)
    text = get(event, where)
    if inside == "message-cut":
        _set(event, where, text[: draw(st.integers(min_value=0, max_value=max(0, len(text) - 1)))])
        return Generated(f"fixture:{name}:message-truncated", event)
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict | list):
        mutation, mutated_document = draw(mutate(document))
        _set(event, where, json.dumps(mutated_document, allow_nan=True))
        return Generated(f"fixture:{name}:message:{mutation}", event)
    # A plain-text message (AWS Budgets): plant a hostile line or drop one of its lines.
    lines = text.splitlines()
    index = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
    if draw(st.booleans()) and lines:
        del lines[index]
        mutation = "line-dropped"
    else:
        lines.insert(index, draw(hostile_text))
        mutation = "line-planted"
    _set(event, where, "\n".join(lines))
    return Generated(f"fixture:{name}:message:{mutation}", event)


# --- other functions' events -----------------------------------------------------------------------


def _kind(event: Any) -> tuple[Any, ...]:
    """What kind of request an event is, roughly: its job, its EventBridge source and type, or SNS."""
    if not isinstance(event, dict):
        return ("other",)
    if "job" in event:
        return ("job", str(event["job"]))
    if "Records" in event:
        # Each topic is wired to one function: the topic tells where an SNS delivery belongs.
        records = event["Records"]
        sns = (
            records[0].get("Sns", {}) if isinstance(records, list) and records and isinstance(records[0], dict) else {}
        )
        return ("sns", str(sns.get("TopicArn") if isinstance(sns, dict) else None))
    return ("eventbridge", str(event.get("source")), str(event.get("detail-type")))


def misrouted_events(own: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """Other functions' fixtures of a kind this function does not take (its fixtures say which it takes)."""
    own_kinds = {_kind(event) for event in own.values()}
    return [
        (f"{function}/{name}", event)
        for function, fixtures in sorted(others.items())
        for name, event in sorted(fixtures.items())
        if _kind(event) not in own_kinds
    ]


# --- everything for one function -------------------------------------------------------------------


def events_for(fixtures: Mapping[str, Any], misrouted: Sequence[tuple[str, Any]]) -> st.SearchStrategy[Generated]:
    """Every family of bad input for a function with these `fixtures`, in roughly equal shares.

    `misrouted` are other functions' events (label, event) that must mean nothing to this function.
    """
    known_jobs = sorted(
        {str(event["job"]) for event in fixtures.values() if isinstance(event, dict) and "job" in event}
    )
    families: list[st.SearchStrategy[Generated]] = [
        st.one_of(json_values.filter(lambda value: not isinstance(value, dict)), deep).map(
            lambda value: Generated("garbage:not-an-object", value)
        ),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["Records", "job", "source", "detail-type", "detail", "alarmData"]), hostile_text
            ),
            json_values,
            max_size=5,
        )
        .filter(lambda value: "job" not in value and "source" not in value)
        .map(lambda value: Generated("garbage:object", value)),
        sns_defects(),
        sns_garbage_messages(),
        job_garbage(known_jobs),
        eventbridge_garbage(),
    ]
    if misrouted:
        families.append(st.sampled_from(misrouted).map(lambda pair: Generated(f"garbage:misrouted:{pair[0]}", pair[1])))
    if fixtures:
        families.append(fixture_mutations(fixtures))
        families.append(fixture_mutations(fixtures))
    return st.one_of(families)


# --- valid alarms that are not the guarded service's -----------------------------------------------

GUARDED_ACCOUNT: Final = "123456789012"
GUARDED_REGION: Final = "us-east-1"
GUARDED_APP_RUNNER: Final = ("consultation-app", "0123456789abcdef0123456789abcdef")  # name, ServiceID
GUARDED_ECS: Final = ("prod", "consultation-app")  # cluster, service
GUARDED_TARGET_GROUP: Final = ("app/consultation-app/50dc6c495c0c9188", "targetgroup/consultation-app/73e2d6bc24d8a067")
# ALARM_ACTIONS that would act on every alarm: patterns (the README's `*-cpu=pause` among them); an exact name
# is added per alarm by `foreign_alarms`.
ARMED_PATTERNS: Final = ("*-cpu=pause,*=pause", "*=rollback", "*-cpu=rollback,*=pause")

Metric = tuple[str, str, dict[str, str], str | None]  # namespace, metric name, dimensions, AccountId

_ids = st.text(alphabet="0123456789abcdef", min_size=8, max_size=17)
_names = st.from_regex(r"\A[a-z][a-z0-9-]{2,20}\Z")


@st.composite
def _foreign_metric(draw: st.DrawFn, guarded_kind: str) -> tuple[str, Metric]:
    """A metric of a resource that is not the guarded service: (what, metric)."""
    kind = draw(
        st.sampled_from(
            ["ec2", "rds", "lambda", "eks", "sqs", "alb-other", "apprunner-other", "ecs-other", "ecs-cluster", "other"]
        )
    )
    name = draw(_names)
    if kind == "ec2":
        return kind, ("AWS/EC2", "CPUUtilization", {"InstanceId": "i-0" + draw(_ids)}, None)
    if kind == "rds":
        return kind, ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": name}, None)
    if kind == "lambda":
        return kind, ("AWS/Lambda", "Errors", {"FunctionName": name}, None)
    if kind == "eks":
        return kind, ("ContainerInsights", "node_cpu_utilization", {"ClusterName": name}, None)
    if kind == "sqs":
        return kind, ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": name}, None)
    if kind == "alb-other":
        group = f"targetgroup/{name}/{draw(_ids).ljust(16, '0')[:16]}"
        balancer = draw(st.sampled_from([GUARDED_TARGET_GROUP[0], f"app/{name}/{'1' * 16}"]))
        return kind, (
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            {"TargetGroup": group, "LoadBalancer": balancer},
            None,
        )
    if kind == "apprunner-other":
        # Another service: another id (with the guarded service's name or another), or only another name.
        other_id = draw(
            st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(
                lambda value: value != GUARDED_APP_RUNNER[1]
            )
        )
        dims = draw(
            st.sampled_from(
                [
                    {"ServiceName": GUARDED_APP_RUNNER[0], "ServiceID": other_id},
                    {"ServiceName": name, "ServiceID": other_id},
                    {"ServiceName": name + "-x"},
                ]
            )
        )
        if guarded_kind == "ecs":
            dims = {"ServiceName": GUARDED_ECS[1], "ServiceID": other_id}
        return kind, ("AWS/AppRunner", "CPUUtilization", dims, None)
    if kind == "ecs-other":
        dims = draw(
            st.sampled_from(
                [
                    {"ClusterName": GUARDED_ECS[0], "ServiceName": name + "-worker"},
                    {"ClusterName": name + "-staging", "ServiceName": GUARDED_ECS[1]},
                ]
            )
        )
        if guarded_kind == "apprunner":
            dims = {"ClusterName": GUARDED_ECS[0], "ServiceName": GUARDED_APP_RUNNER[0]}
        return kind, ("AWS/ECS", "CPUUtilization", dims, None)
    if kind == "ecs-cluster":
        return kind, ("ECS/ContainerInsights", "CpuUtilized", {"ClusterName": name + "-batch"}, None)
    return kind, (
        draw(st.sampled_from(["AWS/DynamoDB", "AWS/ElastiCache", "Custom/App", "AWS/NetworkELB"])),
        "Anything",
        {draw(_names): draw(_names)},
        None,
    )


def guarded_metric(guarded_kind: str) -> Metric:
    """A metric of the guarded service itself (what the stack's own alarms watch)."""
    if guarded_kind == "ecs":
        return ("AWS/ECS", "CPUUtilization", {"ClusterName": GUARDED_ECS[0], "ServiceName": GUARDED_ECS[1]}, None)
    name, service_id = GUARDED_APP_RUNNER
    return ("AWS/AppRunner", "CPUUtilization", {"ServiceName": name, "ServiceID": service_id}, None)


@dataclass(frozen=True)
class ForeignAlarm:
    """A valid alarm state change that must act on nothing: its resource, account or region is not the
    guarded service's, or CloudWatch suppressed its actions."""

    origin: str
    event: Any
    alarm_name: str
    state: str


@st.composite
def foreign_alarms(draw: st.DrawFn, guarded_kind: str = "apprunner") -> ForeignAlarm:
    """A CloudWatch alarm state change (SNS, EventBridge or direct invocation) that provably is not about the
    guarded service, or whose actions CloudWatch suppressed: a single metric of another resource; metric math
    that mixes the guarded service's metric with another's; the guarded service's metric read from another
    account (`AccountId`); the alarm itself in another account or region; a suppressed state change."""
    why = draw(st.sampled_from(["resource", "math", "cross-account-metric", "account", "region", "suppressed"]))
    delivery = draw(
        st.sampled_from(["sns", "eventbridge", "direct"] if why != "suppressed" else ["eventbridge", "direct"])
    )
    state = draw(st.sampled_from(["ALARM", "ALARM", "OK", "INSUFFICIENT_DATA"]))
    account, region = GUARDED_ACCOUNT, GUARDED_REGION
    kind, foreign = draw(_foreign_metric(guarded_kind))
    own = guarded_metric(guarded_kind)
    if why == "resource":
        metrics = [foreign]
    elif why == "math":
        metrics = draw(st.permutations([own, foreign]))
    elif why == "cross-account-metric":
        other = draw(st.from_regex(r"\A[0-9]{12}\Z").filter(lambda value: value != GUARDED_ACCOUNT))
        metrics = [(own[0], own[1], own[2], other)]
        kind = "cross-account-metric"
    elif why == "account":
        account = draw(st.from_regex(r"\A[0-9]{12}\Z").filter(lambda value: value != GUARDED_ACCOUNT))
        metrics = [own]
        kind = "account"
    elif why == "region":
        region = draw(st.sampled_from(["ap-northeast-2", "eu-west-1", "us-west-2", "us-east-2"]))
        metrics = [own]
        kind = "region"
    else:
        metrics = [own]
        kind = "suppressed"
    name = draw(
        st.one_of(
            st.sampled_from(["bastion-cpu", "orders-db-cpu", "warden-cpu", "warden-5xx-rate"]),
            _names.map(lambda value: value + "-cpu"),
        )
    )
    arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    suppressed = draw(st.sampled_from(["Alarm", "WaitPeriod", "ExtensionPeriod"])) if why == "suppressed" else None
    event = alarm_state_change(
        delivery,
        name,
        arn,
        state,
        metrics,
        math=why in ("math", "cross-account-metric") or draw(st.booleans()),
        suppressed_by=suppressed,
    )
    return ForeignAlarm(f"foreign:{kind}:{why}:{delivery}", event, name, state)


_CHANGED: Final = "2026-11-27T10:05:37.811+0000"
_REASONS: Final = {
    "ALARM": "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (27/11/26 10:00:00)] was greater than the "
    "threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).",
    "OK": "Threshold Crossed: 1 out of the last 1 datapoints [12.0 (27/11/26 10:00:00)] was not greater than the "
    "threshold (90.0) (minimum 1 datapoint for ALARM -> OK transition).",
    "INSUFFICIENT_DATA": "Insufficient Data: 1 datapoint was unknown.",
}


def alarm_state_change(
    delivery: str,
    name: str,
    arn: str,
    state: str,
    metrics: Sequence[Metric],
    *,
    math: bool = False,
    suppressed_by: str | None = None,
    changed_at: str = _CHANGED,
) -> Any:
    """One alarm state change as CloudWatch delivers it (AWS-FACTS §2): an SNS record, an EventBridge event or a
    direct invocation, over one metric or metric math over several (each a MetricStat)."""
    region, account = arn.split(":")[3], arn.split(":")[4]
    previous = "OK" if state != "OK" else "ALARM"
    if delivery == "sns":
        trigger: dict[str, Any] = {
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 90.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        }
        if math or len(metrics) > 1:
            queries: list[dict[str, Any]] = [
                {"Id": "e1", "Expression": " + ".join(f"m{n}" for n in range(len(metrics))), "ReturnData": True}
            ]
            for n, (namespace, metric, dims, metric_account) in enumerate(metrics):
                query: dict[str, Any] = {
                    "Id": f"m{n}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": metric,
                            "Dimensions": [{"name": k, "value": v} for k, v in dims.items()],
                        },
                        "Period": 300,
                        "Stat": "Average",
                    },
                    "ReturnData": False,
                }
                if metric_account is not None:
                    query["AccountId"] = metric_account
                queries.append(query)
            trigger["Metrics"] = queries
        else:
            namespace, metric, dims, _ = metrics[0]
            trigger.update(
                MetricName=metric,
                Namespace=namespace,
                StatisticType="Statistic",
                Statistic="AVERAGE",
                Unit=None,
                Dimensions=[{"value": v, "name": k} for k, v in dims.items()],
            )
        message = {
            "AlarmName": name,
            "AlarmDescription": None,
            "AWSAccountId": account,
            "NewStateValue": state,
            "NewStateReason": _REASONS[state],
            "StateChangeTime": changed_at,
            "Region": region,
            "AlarmArn": arn,
            "OldStateValue": previous,
            "OKActions": [],
            "AlarmActions": [],
            "InsufficientDataActions": [],
            "Trigger": trigger,
        }
        return envelope(json.dumps(message), subject=f'{state}: "{name}" in {region}', message_id=f"{name}-{state}")
    camel: list[dict[str, Any]] = []
    if math or len(metrics) > 1:
        camel.append({"id": "e1", "expression": " + ".join(f"m{n}" for n in range(len(metrics))), "returnData": True})
    for n, (namespace, metric, dims, metric_account) in enumerate(metrics):
        entry: dict[str, Any] = {
            "id": f"m{n}",
            "metricStat": {
                "metric": {"namespace": namespace, "name": metric, "dimensions": dict(dims)},
                "period": 300,
                "stat": "Average",
            },
            "returnData": not (math or len(metrics) > 1),
        }
        if metric_account is not None:
            entry["accountId"] = metric_account
        camel.append(entry)
    current: dict[str, Any] = {"value": state, "reason": _REASONS[state], "timestamp": changed_at}
    if suppressed_by is not None:
        current.update(
            actionsSuppressedBy=suppressed_by, actionsSuppressedReason=f"Actions suppressed by {suppressed_by}"
        )
    data = {
        "alarmName": name,
        "state": current,
        "previousState": {"value": previous, "reason": _REASONS[previous], "timestamp": "2026-11-26T08:00:00.000+0000"},
        "configuration": {"description": None, "metrics": camel},
    }
    if delivery == "eventbridge":
        return {
            "version": "0",
            "id": f"{name}-{state}",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": account,
            "time": "2026-11-27T10:05:38Z",
            "region": region,
            "resources": [arn],
            "detail": data,
        }
    return {
        "source": "aws.cloudwatch",
        "alarmArn": arn,
        "accountId": account,
        "time": changed_at,
        "region": region,
        "alarmData": data,
    }
