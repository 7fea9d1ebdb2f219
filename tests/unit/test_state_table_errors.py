"""The state table adapter turns "the table cannot be used" into one typed error, StateUnavailable.

A deleted table (ResourceNotFoundException), a refusal (AccessDeniedException), throttling or a server error
that outlived botocore's retries: whichever operation meets it, the use cases see StateUnavailable and can
pause without the table (usecases/unrecorded.py). A request Warden got wrong stays the ClientError it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from warden.adapters.dynamodb import FallbackMemos, StateTable
from warden.domain.claims import Claim, ClaimReason
from warden.domain.records import ActionRecord
from warden.errors import StateUnavailable

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)

OPERATIONS: dict[str, tuple[str, Callable[[StateTable], Any]]] = {
    "add_claim": (
        "put_item",
        lambda table: table.add_claim(ARN, Claim.new(ClaimReason.BUDGET, owner="t", evidence="e", now=NOW)),
    ),
    "get_claim": ("get_item", lambda table: table.get_claim(ARN, "budget")),
    "list_claims": ("query", lambda table: table.list_claims(ARN)),
    "remove_claim": ("delete_item", lambda table: table.remove_claim(ARN, "budget")),
    "record_action": (
        "put_item",
        lambda table: table.record_action(ARN, ActionRecord(at=NOW, action="a", outcome="o", reason="r", actor="t")),
    ),
    "begin_event": ("put_item", lambda table: table.begin_event("sns#1", NOW)),
    "put_memo": ("put_item", lambda table: table.put_memo(ARN, "m", {"k": "v"})),
    "get_memo": ("get_item", lambda table: table.get_memo(ARN, "m")),
    "delete_memo": ("delete_item", lambda table: table.delete_memo(ARN, "m")),
}
UNAVAILABLE = [
    ("ResourceNotFoundException", 400),
    ("AccessDeniedException", 400),
    ("ProvisionedThroughputExceededException", 400),
    ("ThrottlingException", 400),
    ("RequestLimitExceeded", 400),
    ("InternalServerError", 500),
]


def table_failing_with(operation: str, code: str, status: int) -> StateTable:
    # One attempt: the error stands for what is left once botocore's retries are spent.
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code=code, http_status_code=status)
    stubber.activate()
    return StateTable("warden-state", client)


@pytest.mark.parametrize(("code", "status"), UNAVAILABLE, ids=[code for code, _ in UNAVAILABLE])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operation_reports_an_unusable_table_as_state_unavailable(name: str, code: str, status: int) -> None:
    # Given a table that answers the operation with an error meaning "cannot be used"
    operation, call = OPERATIONS[name]
    table = table_failing_with(operation, code, status)
    # When Warden calls it, Then the use case sees StateUnavailable naming the code
    with pytest.raises(StateUnavailable, match=code):
        call(table)


def test_a_request_warden_got_wrong_stays_a_client_error() -> None:
    table = table_failing_with("get_item", "ValidationException", 400)
    with pytest.raises(ClientError) as raised:
        table.get_claim(ARN, "budget")
    assert not isinstance(raised.value, StateUnavailable)


def test_the_ecs_memo_store_keeps_a_memo_in_memory_while_the_table_is_unavailable() -> None:
    # Given the table gone for both the write and the read
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    stubber = Stubber(client)
    stubber.add_client_error("put_item", service_error_code="ResourceNotFoundException", http_status_code=400)
    stubber.add_client_error("get_item", service_error_code="ResourceNotFoundException", http_status_code=400)
    stubber.activate()
    memos = FallbackMemos(StateTable("warden-state", client))
    # When the ECS pause remembers the scale to restore, Then the pause is not stopped by the table
    memos.put_memo(ARN, "ecs_pause", {"desired_count": "3"})
    # And this invocation still reads what it remembered
    assert memos.get_memo(ARN, "ecs_pause") == {"desired_count": "3"}
