"""Every state-table key on_alarm builds from an alarm name fits DynamoDB's limits in bytes (issue 13 §6).

CloudWatch allows alarm names of 255 characters; a character may take 4 bytes in UTF-8, and DynamoDB limits a
sort key to 1,024 bytes and a partition key to 2,048 (bytes, not characters). A name that fits keeps its key
(the claims of deployed tables must still be found); a longer one is hashed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from local.alarm_events import alarm_event
from tests.fakes import FakeNotifier, FakeRollback, FakeService, FakeState
from warden.adapters.dynamodb import _event_partition
from warden.domain.records import claim_sort_key, service_partition
from warden.settings import Settings
from warden.usecases.alarm import AlarmDeps, Outcome, claim_key, handle_event, incident_memo, state_memo

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
FIRED = datetime(2026, 11, 27, 10, 5, 37, tzinfo=UTC)
SORT_KEY_BYTES = 1024
PARTITION_KEY_BYTES = 2048
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ALARM_ACTIONS": "*=pause",
}
# Alarm names as CloudWatch takes them: 1 to 255 characters, valid UTF-8 (no lone surrogates), biased to
# characters of 3 and 4 bytes.
alarm_names = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=255),
    st.text(alphabet=st.sampled_from("🔥💸𝔘日本a-"), min_size=200, max_size=255),
    st.integers(min_value=1, max_value=255).map(lambda n: "🔥" * n),
)


class KeyRecorder:
    """The state port, recording every key the DynamoDB adapter would build from each call's arguments."""

    def __init__(self, inner: FakeState) -> None:
        self._inner = inner
        self.keys: list[tuple[str, str]] = []  # (partition key, sort key)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self._inner, method)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if method in {"add_claim"}:
                self.keys.append((service_partition(args[0]), claim_sort_key(args[1].key)))
            elif method in {"get_claim", "remove_claim"}:
                self.keys.append((service_partition(args[0]), claim_sort_key(args[1])))
            elif method in {"put_memo", "get_memo", "delete_memo", "advance_memo"}:
                self.keys.append((service_partition(args[0]), f"MEMO#{args[1]}"))
            elif method in {"begin_event", "complete_event", "release_event"}:
                self.keys.append((_event_partition(args[0]), "EVENT"))
            return call(*args, **kwargs)

        return recorded


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


@given(name=alarm_names)
@settings(max_examples=120, deadline=None)
def test_every_key_an_alarm_writes_fits_dynamodb_in_bytes_whatever_its_name(name: str) -> None:
    # Given an alarm of any name CloudWatch allows, mapped to pause, that fires and then recovers
    state = KeyRecorder(FakeState())
    service = FakeService(arn=ARN)
    deps = AlarmDeps(service, FakeNotifier(), state, FakeRollback(configured=False))  # type: ignore[arg-type]
    alarm_settings = Settings.from_env(ENV)
    fired = alarm_event("sns-5xx-rate-alarm", changed_at=FIRED, alarm_name=name, message_id=str(uuid.uuid4()))
    ok = alarm_event(
        "sns-5xx-rate-ok", changed_at=FIRED + timedelta(minutes=20), alarm_name=name, message_id=str(uuid.uuid4())
    )
    (paused,) = handle_event(fired, deps, alarm_settings, FIRED + timedelta(seconds=5))
    (recovered,) = handle_event(ok, deps, alarm_settings, FIRED + timedelta(minutes=21))
    # Then it paused and resumed as any alarm does
    assert (paused.outcome, recovered.outcome) == (Outcome.PAUSED, Outcome.RECOVERED)
    assert service.mutations == ["pause", "resume"]
    # And every key the adapter would write fits DynamoDB: sort keys 1,024 bytes, partition keys 2,048
    assert state.keys
    for partition, sort in state.keys:
        assert utf8_bytes(sort) <= SORT_KEY_BYTES, (len(name), sort[:60])
        assert utf8_bytes(partition) <= PARTITION_KEY_BYTES, (len(name), partition[:60])


@given(name=alarm_names, other=alarm_names)
@settings(max_examples=200, deadline=None)
def test_two_alarms_never_share_a_claim_or_a_memo(name: str, other: str) -> None:
    if name == other:
        return
    assert claim_key(name) != claim_key(other)
    assert state_memo(name) != state_memo(other)
    assert incident_memo(name) != incident_memo(other)


def test_a_name_that_fits_keeps_the_key_deployed_tables_hold() -> None:
    assert claim_key("warden-5xx-rate") == "alarm#warden-5xx-rate"
    assert incident_memo("warden-5xx-rate") == "alarm#warden-5xx-rate"
    assert state_memo("warden-5xx-rate") == "alarm-state#warden-5xx-rate"
    assert claim_key("日本語のアラーム" * 20) == "alarm#" + "日本語のアラーム" * 20  # 480 bytes: still fits


def test_the_reported_255_four_byte_name_is_hashed_with_a_readable_start() -> None:
    # Given an alarm name of 255 four-byte characters (1,020 bytes)
    name = "🔥" * 255
    # Then its claim key is far under DynamoDB's 1,024-byte sort key, starts with the name, and ends in its hash
    key = claim_key(name)
    assert utf8_bytes(claim_sort_key(key)) < 300
    assert key.startswith("alarm#🔥🔥🔥")
    assert "~sha256:" in key
