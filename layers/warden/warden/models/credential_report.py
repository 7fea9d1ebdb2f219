"""The IAM credential report: one CSV for every user of the account, read with the `csv` module.

Columns (AWS-FACTS §6.2; read by name, so their order does not matter) that Warden uses:
`user, arn, access_key_N_active, access_key_N_last_rotated, access_key_N_last_used_date,
access_key_N_last_used_service` for N = 1 and 2. The report has no access key ids: a key is known
by its slot (1 or 2) and its `last_rotated` time, which is the key's creation time.

Special values, all read as "no value": `N/A` (no key, never used, no password), `no_information`
(never used, or only before tracking began) and `not_supported` (the root row's password fields;
moto writes it for every `_last_used_region/_service`). Booleans are `true`/`false`, but the AWS
documentation prints `TRUE`/`FALSE`, so they are compared case-insensitively. The root user's row is
named `<root_account>` (moto's report has none).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from warden.errors import RetryableError, UnparseableMessage, WardenError

ROOT_USER: Final = "<root_account>"
NO_VALUE: Final = frozenset({"n/a", "no_information", "not_supported", ""})
SLOTS: Final = (1, 2)
REQUIRED_COLUMNS: Final = (
    "user",
    "arn",
    *(f"access_key_{slot}_{field}" for slot in SLOTS for field in ("active", "last_rotated", "last_used_date")),
)


class ReportState(StrEnum):
    """`generate_credential_report`'s answer: a report is being made, or one (≤4 h old) is ready."""

    STARTED = "STARTED"
    INPROGRESS = "INPROGRESS"
    COMPLETE = "COMPLETE"


class ReportNotReady(WardenError):
    """`ReportInProgress`: the report is still being generated; ask again after a pause."""


class ReportMissing(WardenError):
    """`ReportNotPresent` / `ReportExpired`: there is no report to get; generate one (again)."""


class ReportLimitExceeded(WardenError):
    """`LimitExceeded` on generate: AWS refuses another generation for now; a cached report may still exist."""


class CredentialReportUnavailable(RetryableError):
    """No report could be had within the bounded wait; a later attempt finds the one AWS is still making."""


class RawCredentialReport(BaseModel):
    """What `get_credential_report` returned, decoded to text."""

    model_config = ConfigDict(frozen=True)

    content: str
    generated_at: datetime | None


class ReportKey(BaseModel):
    """One access-key slot of one user, as the report describes it (it has no key id)."""

    model_config = ConfigDict(frozen=True)

    slot: int
    active: bool
    last_rotated: datetime
    last_used: datetime | None
    last_used_service: str | None


class ReportRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    user: str
    arn: str
    keys: tuple[ReportKey, ...]

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_USER


def parse_credential_report(content: str) -> list[ReportRow]:
    """Rows of the report, one per user (the root row included when AWS sends it).

    Raises UnparseableMessage, naming the line and column, when the CSV is not a credential report.
    """
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise UnparseableMessage(f"the credential report has no column {', '.join(missing)}")
    rows: list[ReportRow] = []
    for line_number, record in enumerate(reader, start=2):
        if not any((value or "").strip() for value in record.values()):
            continue
        try:
            rows.append(_row(record))
        except ValueError as error:
            raise UnparseableMessage(f"credential report line {line_number}: {error}") from None
    return rows


def _row(record: dict[str, str]) -> ReportRow:
    user = _text(record, "user")
    if user is None:
        raise ValueError("the user column is empty")
    keys: list[ReportKey] = []
    for slot in SLOTS:
        prefix = f"access_key_{slot}_"
        active = _bool(record, prefix + "active")
        rotated = _time(record, prefix + "last_rotated")
        if rotated is None:
            # No key in this slot (N/A). An "active" flag without a creation time would be a broken report.
            if active:
                raise ValueError(f"{prefix}active is true but {prefix}last_rotated is empty")
            continue
        keys.append(
            ReportKey(
                slot=slot,
                active=active,
                last_rotated=rotated,
                last_used=_time(record, prefix + "last_used_date"),
                last_used_service=_text(record, prefix + "last_used_service"),
            )
        )
    return ReportRow(user=user, arn=_text(record, "arn") or "", keys=tuple(keys))


def _text(record: dict[str, str], column: str) -> str | None:
    raw = (record.get(column) or "").strip()
    return None if raw.lower() in NO_VALUE else raw


def _bool(record: dict[str, str], column: str) -> bool:
    raw = _text(record, column)
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    raise ValueError(f"{column} is {raw!r}, expected true or false")


def _time(record: dict[str, str], column: str) -> datetime | None:
    raw = _text(record, column)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{column} is {raw!r}, expected an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
