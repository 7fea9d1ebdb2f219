"""The credential report CSV: columns by name, special values, case-insensitive booleans, the root row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes import REPORT_COLUMNS, credential_report_csv
from warden.errors import UnparseableMessage
from warden.models.credential_report import ROOT_USER, parse_credential_report

CREATED = "2026-08-01T10:00:00+00:00"


def test_a_user_with_two_keys_gives_both_slots_with_their_times() -> None:
    # Given a user whose key 1 was used and key 2 never was
    text = credential_report_csv(
        {
            "user": "alice",
            "access_key_1_active": "true",
            "access_key_1_last_rotated": CREATED,
            "access_key_1_last_used_date": "2026-11-20T08:30:00+00:00",
            "access_key_1_last_used_service": "s3",
            "access_key_2_active": "false",
            "access_key_2_last_rotated": "2026-01-01T00:00:00+00:00",
        }
    )
    # When it is parsed
    (row,) = parse_credential_report(text)
    # Then both slots are there, in UTC, with the never-used key's last use empty
    assert row.user == "alice"
    assert not row.is_root
    first, second = row.keys
    assert (first.slot, first.active, first.last_rotated) == (1, True, datetime(2026, 8, 1, 10, tzinfo=UTC))
    assert first.last_used == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert first.last_used_service == "s3"
    assert (second.slot, second.active, second.last_used, second.last_used_service) == (2, False, None, None)


@pytest.mark.parametrize("special", ["N/A", "no_information", "not_supported", "n/a", ""])
def test_every_special_value_reads_as_no_value(special: str) -> None:
    # Given a key whose last use and service carry a special value
    text = credential_report_csv(
        {
            "user": "bob",
            "access_key_1_active": "true",
            "access_key_1_last_rotated": CREATED,
            "access_key_1_last_used_date": special,
            "access_key_1_last_used_region": special,
            "access_key_1_last_used_service": special,
        }
    )
    # When it is parsed / Then the key is there and "never used"
    (row,) = parse_credential_report(text)
    (key,) = row.keys
    assert key.last_used is None
    assert key.last_used_service is None


def test_a_slot_without_a_key_is_left_out() -> None:
    # Given a user without keys (every key column N/A, as AWS writes it)
    (row,) = parse_credential_report(credential_report_csv({"user": "carol", "access_key_1_active": "false"}))
    # Then the row has no keys
    assert row.keys == ()


@pytest.mark.parametrize(("raw", "active"), [("true", True), ("TRUE", True), ("True", True), ("FALSE", False)])
def test_booleans_are_read_case_insensitively(raw: str, active: bool) -> None:
    text = credential_report_csv({"user": "dan", "access_key_1_active": raw, "access_key_1_last_rotated": CREATED})
    assert parse_credential_report(text)[0].keys[0].active is active


def test_the_root_row_is_recognised_with_its_not_supported_password_fields() -> None:
    # Given the root account's row as AWS writes it
    text = credential_report_csv(
        {
            "user": ROOT_USER,
            "arn": "arn:aws:iam::123456789012:root",
            "password_enabled": "not_supported",
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "access_key_1_active": "true",
            "access_key_1_last_rotated": CREATED,
        }
    )
    # When it is parsed / Then it is the root row with its key
    (row,) = parse_credential_report(text)
    assert row.is_root
    assert row.arn.endswith(":root")
    assert len(row.keys) == 1


def test_moto_style_rows_with_z_times_and_a_byte_order_mark_parse() -> None:
    text = "\ufeff" + credential_report_csv(
        {"user": "erin", "access_key_1_active": "true", "access_key_1_last_rotated": "2026-08-01T10:00:00Z"}
    )
    assert parse_credential_report(text)[0].keys[0].last_rotated == datetime(2026, 8, 1, 10, tzinfo=UTC)


def test_columns_are_read_by_name_whatever_their_order() -> None:
    # Given the report's columns in reverse order
    columns = list(reversed(REPORT_COLUMNS))
    values = {"user": "fay", "access_key_1_active": "true", "access_key_1_last_rotated": CREATED}
    text = ",".join(columns) + "\n" + ",".join(values.get(column, "N/A") for column in columns) + "\n"
    # When it is parsed / Then the key is found all the same
    assert parse_credential_report(text)[0].keys[0].slot == 1


def test_blank_lines_are_skipped() -> None:
    text = credential_report_csv({"user": "gus"}) + "\n\n"
    assert [row.user for row in parse_credential_report(text)] == ["gus"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"user": "h", "access_key_1_active": "yes", "access_key_1_last_rotated": CREATED}, "access_key_1_active"),
        ({"user": "h", "access_key_1_active": "true", "access_key_1_last_rotated": "last week"}, "ISO 8601"),
        ({"user": "h", "access_key_2_active": "true"}, "access_key_2_last_rotated is empty"),
        ({"user": "N/A"}, "user column is empty"),
    ],
)
def test_a_broken_row_is_refused_naming_its_line_and_column(row: dict[str, str], message: str) -> None:
    with pytest.raises(UnparseableMessage, match="line 2") as failure:
        parse_credential_report(credential_report_csv(row))
    assert message in failure.value.reason


def test_a_csv_that_is_not_a_credential_report_is_refused() -> None:
    with pytest.raises(UnparseableMessage, match="no column"):
        parse_credential_report("name,age\nalice,3\n")
