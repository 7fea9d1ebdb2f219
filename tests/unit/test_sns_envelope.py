"""The SNS -> Lambda envelope: every record, both URL spellings, and a readable rejection of anything else."""

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.events import BUDGET_SUBJECT, BUDGET_TOPIC_ARN, EVENTS_DIR, budget_message, load_event, sns_event
from warden.errors import UnparseableMessage
from warden.models.sns import SnsMessage, parse_sns_event

FIXTURES = sorted(path.stem for path in (EVENTS_DIR / "on_budget_alert").glob("*.json"))


def _sns(event: dict[str, Any], index: int = 0) -> dict[str, Any]:
    sns: dict[str, Any] = event["Records"][index]["Sns"]
    return sns


def test_a_lambda_event_is_read_into_one_message() -> None:
    # Given an SNS -> Lambda event as Lambda delivers it
    event = sns_event(
        "hello",
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        timestamp="2026-03-03T10:00:00.000Z",
    )
    _sns(event)["MessageAttributes"] = {"source": {"Type": "String", "Value": "budgets"}}
    # When it is parsed
    messages = parse_sns_event(event)
    # Then the one message carries what Warden needs
    assert messages == [
        SnsMessage(
            message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            topic_arn=BUDGET_TOPIC_ARN,
            subject=BUDGET_SUBJECT,
            message="hello",
            timestamp=datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
            attributes={"source": "budgets"},
        )
    ]


def test_the_raw_sns_url_spellings_are_accepted_as_well() -> None:
    # Given the same event with raw SNS's SigningCertURL/UnsubscribeURL spellings
    event = sns_event("hello", message_id="m-1", timestamp="2026-03-03T10:00:00.000Z")
    raw = copy.deepcopy(event)
    sns = _sns(raw)
    sns["SigningCertURL"] = sns.pop("SigningCertUrl")
    sns["UnsubscribeURL"] = sns.pop("UnsubscribeUrl")
    # When both are parsed
    # Then they read the same
    assert "SigningCertURL" in _sns(raw)
    assert parse_sns_event(raw) == parse_sns_event(event)


def test_signature_fields_are_not_required() -> None:
    # Given a record without signature fields, as FIFO topics deliver
    event = sns_event("hello", message_id="m-1")
    for key in ("SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes"):
        del _sns(event)[key]
    # When it is parsed
    [message] = parse_sns_event(event)
    # Then the message is read, with no attributes
    assert message.message == "hello"
    assert message.attributes == {}


def test_a_missing_subject_is_none() -> None:
    # Given a record without a Subject key
    event = sns_event("hello")
    del _sns(event)["Subject"]
    # When it is parsed
    [message] = parse_sns_event(event)
    # Then the subject is None
    assert message.subject is None


def test_a_null_subject_is_none() -> None:
    # Given a record whose Subject is null
    event = sns_event("hello", subject=None)
    assert _sns(event)["Subject"] is None
    # When it is parsed
    [message] = parse_sns_event(event)
    # Then the subject is None
    assert message.subject is None


def test_every_record_is_returned_in_order() -> None:
    # Given an event with three records
    event = sns_event("first", message_id="m-1")
    for text, message_id in (("second", "m-2"), ("third", "m-3")):
        event["Records"] += sns_event(text, message_id=message_id)["Records"]
    # When it is parsed
    messages = parse_sns_event(event)
    # Then each record is a message, in order
    assert [(m.message_id, m.message) for m in messages] == [("m-1", "first"), ("m-2", "second"), ("m-3", "third")]


def test_the_timestamp_is_timezone_aware_utc() -> None:
    # Given SNS timestamps with and without a zone
    zoned = sns_event("x", timestamp="2026-03-03T10:00:00.123Z")
    naive = sns_event("x", timestamp="2026-03-03T10:00:00.123")
    # When they are parsed
    [from_zoned] = parse_sns_event(zoned)
    [from_naive] = parse_sns_event(naive)
    # Then both are UTC, to the millisecond
    assert from_zoned.timestamp == datetime(2026, 3, 3, 10, 0, 0, 123000, tzinfo=UTC)
    assert from_naive.timestamp == from_zoned.timestamp


def test_an_empty_message_passes_the_envelope() -> None:
    # Given a record whose Message is an empty string (the message parsers judge it, not the envelope)
    event = sns_event("")
    # When it is parsed
    [message] = parse_sns_event(event)
    # Then the message is the empty string
    assert message.message == ""


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], object]:
    def change(event: dict[str, Any]) -> object:
        target: Any = event
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return event

    return change


def _delete(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], object]:
    def change(event: dict[str, Any]) -> object:
        target: Any = event
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
        return event

    return change


SNS = ("Records", 0, "Sns")


@pytest.mark.parametrize(
    ("break_it", "problem"),
    [
        (lambda event: [event], "the event is a list, not an object"),
        (lambda event: "Records", "the event is a string, not an object"),
        (lambda event: None, "the event is null, not an object"),
        (_delete(("Records",)), "no 'Records' key"),
        (_set(("Records",), {"0": {}}), "'Records' is an object, not a list"),
        (_set(("Records",), []), "'Records' is empty"),
        (_set(("Records",), None), "'Records' is null, not a list"),
        (_set(("Records", 0), "a record"), "Records[0] is a string, not an object"),
        (_set(("Records", 0, "EventSource"), "aws:sqs"), "Records[0].EventSource is 'aws:sqs', not 'aws:sns'"),
        (_delete(("Records", 0, "EventSource")), "Records[0] has no EventSource (expected 'aws:sns')"),
        (_delete(SNS), "Records[0].Sns is missing, not an object"),
        (_set(SNS, "{}"), "Records[0].Sns is a string, not an object"),
        (_delete((*SNS, "MessageId")), "Records[0].Sns.MessageId is missing"),
        (_set((*SNS, "MessageId"), ""), "Records[0].Sns.MessageId is empty"),
        (_delete((*SNS, "TopicArn")), "Records[0].Sns.TopicArn is missing"),
        (_delete((*SNS, "Message")), "Records[0].Sns.Message is missing"),
        (_set((*SNS, "Message"), {"anomalyId": "a-1"}), "Records[0].Sns.Message is an object, not a string"),
        (_set((*SNS, "Message"), 42), "Records[0].Sns.Message is a number, not a string"),
        (_set((*SNS, "Subject"), 7), "Records[0].Sns.Subject is a number, not a string"),
        (_delete((*SNS, "Timestamp")), "Records[0].Sns.Timestamp is missing"),
        (
            _set((*SNS, "Timestamp"), "yesterday"),
            "Records[0].Sns.Timestamp 'yesterday' is not an ISO 8601 date and time",
        ),
        (_set((*SNS, "MessageAttributes"), []), "Records[0].Sns.MessageAttributes is a list, not an object"),
        (
            _set((*SNS, "MessageAttributes"), {"k": {"Type": "String"}}),
            "Records[0].Sns.MessageAttributes['k'] has no string 'Value'",
        ),
    ],
)
def test_a_wrong_envelope_is_rejected_as_not_an_sns_event(
    break_it: Callable[[dict[str, Any]], object], problem: str
) -> None:
    # Given an SNS event broken in one way
    event = break_it(sns_event(budget_message(), message_id="m-1"))
    # When it is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_sns_event(event)
    # Then the reason says it is not an SNS event, and why
    assert raised.value.reason == f"not an SNS event: {problem}"


def test_a_bad_second_record_is_named_by_its_index() -> None:
    # Given two records, the second from SQS
    event = sns_event("first")
    second = sns_event("second")["Records"][0]
    second["EventSource"] = "aws:sqs"
    event["Records"].append(second)
    # When the event is parsed
    with pytest.raises(UnparseableMessage) as raised:
        parse_sns_event(event)
    # Then the reason names Records[1]
    assert raised.value.reason == "not an SNS event: Records[1].EventSource is 'aws:sqs', not 'aws:sns'"


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_fixture_is_a_valid_sns_event_on_the_budget_topic(fixture: str) -> None:
    # Given a fixture from events/on_budget_alert
    event = load_event("on_budget_alert", fixture)
    # When its envelope is parsed
    [message] = parse_sns_event(event)
    # Then it is one message on the budget topic, published in 2026
    assert message.topic_arn == "arn:aws:sns:us-east-1:123456789012:warden-budget-alerts"
    assert message.message
    assert message.timestamp.tzinfo is not None
    assert message.timestamp.year == 2026


def test_the_fixtures_are_all_there_with_distinct_message_ids() -> None:
    # Given the fixture directory
    # When every fixture's envelope is parsed
    ids = [parse_sns_event(load_event("on_budget_alert", name))[0].message_id for name in FIXTURES]
    # Then the six documented fixtures exist, and no two share a message id
    assert FIXTURES == [
        "budget-actual-100-percent",
        "budget-actual-80-percent",
        "budget-forecasted-100-percent",
        "cost-anomaly",
        "malformed-budget",
        "unknown-message",
    ]
    assert len(set(ids)) == len(ids)


def test_a_missing_fixture_fails_loudly_naming_what_exists() -> None:
    # Given a fixture name that does not exist
    # When it is loaded
    with pytest.raises(FileNotFoundError) as raised:
        load_event("on_budget_alert", "no-such-event")
    # Then the error names the file and lists the fixtures there are
    assert "no-such-event.json" in str(raised.value)
    assert "budget-actual-80-percent" in str(raised.value)


def test_sns_event_builds_a_fresh_message_id_each_time() -> None:
    # Given two events built without a message id
    # When they are parsed
    [first] = parse_sns_event(sns_event("x"))
    [second] = parse_sns_event(sns_event("x"))
    # Then each has its own id
    assert first.message_id != second.message_id


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)
_sns_keys = st.sampled_from(["MessageId", "TopicArn", "Subject", "Message", "Timestamp", "MessageAttributes"])
_envelope_like = st.fixed_dictionaries(
    {
        "Records": st.lists(
            st.fixed_dictionaries(
                {"EventSource": st.sampled_from(["aws:sns", "aws:sqs"]) | _json},
                optional={"Sns": st.dictionaries(_sns_keys, _json | st.text()) | _json},
            ),
            max_size=3,
        )
        | _json
    }
)


@settings(deadline=None)
@given(event=_json | _envelope_like)
def test_the_envelope_parser_raises_nothing_but_unparseable_message(event: object) -> None:
    # Given arbitrary JSON, some of it shaped like an SNS event
    # When it is parsed
    outcome: list[SnsMessage] | UnparseableMessage
    try:
        outcome = parse_sns_event(event)
    except UnparseableMessage as error:
        outcome = error
    # Then a failure says it is not an SNS event, and a success is a list of messages
    if isinstance(outcome, UnparseableMessage):
        assert outcome.reason.startswith("not an SNS event: ")
    else:
        assert all(isinstance(message.message, str) for message in outcome)
