"""The IAM adapter translates IAM's answers and error codes into the audit's terms (botocore Stubber, no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from warden.adapters.iam import IamAccessKeys
from warden.domain.keys import AccessKeyRefused
from warden.domain.redaction import redact
from warden.errors import AwsUnavailable
from warden.models.credential_report import ReportLimitExceeded, ReportMissing, ReportNotReady, ReportState

KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.fixture
def stubbed() -> Iterator[tuple[IamAccessKeys, Stubber]]:
    client = boto3.client("iam", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield IamAccessKeys(client), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("state", "expected"),
    [("STARTED", ReportState.STARTED), ("COMPLETE", ReportState.COMPLETE), ("QUEUED", ReportState.INPROGRESS)],
)
def test_the_generation_state_is_read_and_an_unknown_one_means_not_ready(
    stubbed: tuple[IamAccessKeys, Stubber], state: str, expected: ReportState
) -> None:
    iam, stubber = stubbed
    stubber.add_response("generate_credential_report", {"State": state})
    assert iam.generate_credential_report() is expected


def test_a_refused_generation_is_limit_exceeded(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    stubber.add_client_error("generate_credential_report", "LimitExceeded", "slow down", 409)
    with pytest.raises(ReportLimitExceeded, match="LimitExceeded: slow down"):
        iam.generate_credential_report()


def test_the_report_is_decoded_from_bytes_with_its_generation_time(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    generated = datetime(2026, 11, 30, 5, 40, tzinfo=UTC)
    stubber.add_response(
        "get_credential_report",
        {
            "Content": b"user,arn\nalice,arn:aws:iam::1:user/alice\n",
            "ReportFormat": "text/csv",
            "GeneratedTime": generated,
        },
    )
    report = iam.get_credential_report()
    assert report.content.startswith("user,arn\nalice")
    assert report.generated_at == generated


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ReportInProgress", 404, ReportNotReady),
        ("ReportNotPresent", 410, ReportMissing),
        ("ReportExpired", 410, ReportMissing),
        ("ServiceFailure", 500, AwsUnavailable),
    ],
)
def test_getting_the_report_translates_each_error_code(
    stubbed: tuple[IamAccessKeys, Stubber], code: str, status: int, error: type[Exception]
) -> None:
    iam, stubber = stubbed
    stubber.add_client_error("get_credential_report", code, "no", status)
    with pytest.raises(error):
        iam.get_credential_report()


def test_every_users_tags_are_read_in_bulk_across_pages(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    # Given two pages of user details (IAM pages GetAccountAuthorizationDetails with a marker)
    iam, stubber = stubbed
    user = {"Path": "/", "UserId": "AIDAEXAMPLE000000001", "CreateDate": datetime(2026, 1, 1, tzinfo=UTC)}
    first = {**user, "UserName": "ci", "Arn": "arn:aws:iam::123456789012:user/ci"}
    second = {**user, "UserName": "bob", "Arn": "arn:aws:iam::123456789012:user/bob"}
    stubber.add_response(
        "get_account_authorization_details",
        {
            "UserDetailList": [{**first, "Tags": [{"Key": "warden:exempt", "Value": "true"}]}],
            "IsTruncated": True,
            "Marker": "page-2",
        },
        {"Filter": ["User"], "MaxItems": 1000},
    )
    stubber.add_response(
        "get_account_authorization_details",
        {"UserDetailList": [second], "IsTruncated": False},
        {"Filter": ["User"], "MaxItems": 1000, "Marker": "page-2"},
    )
    # When the tags are read / Then both pages are merged, a user without tags has none
    assert iam.user_tags() == {"ci": {"warden:exempt": "true"}, "bob": {}}


def test_listing_the_keys_of_a_user_deleted_since_the_report_finds_none(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    stubber.add_client_error("list_access_keys", "NoSuchEntity", "The user with name gone cannot be found.", 404)
    assert iam.list_access_keys("gone") == []


def test_listed_keys_carry_their_creation_time_in_utc(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    created = datetime(2025, 10, 26, 5, 0, 0, 123000, tzinfo=UTC)
    stubber.add_response(
        "list_access_keys",
        {"AccessKeyMetadata": [{"UserName": "bob", "AccessKeyId": KEY_ID, "Status": "Active", "CreateDate": created}]},
        {"UserName": "bob"},
    )
    (key,) = iam.list_access_keys("bob")
    assert (key.access_key_id, key.status, key.created_at) == (KEY_ID, "Active", created)


def test_deactivating_sets_exactly_that_key_inactive(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    stubber.add_response("update_access_key", {}, {"UserName": "bob", "AccessKeyId": KEY_ID, "Status": "Inactive"})
    iam.deactivate_access_key("bob", KEY_ID)


def test_a_refused_deactivation_says_why_without_the_full_key_id(stubbed: tuple[IamAccessKeys, Stubber]) -> None:
    iam, stubber = stubbed
    message = f"The Access Key with id {KEY_ID} cannot be found."
    stubber.add_client_error("update_access_key", "NoSuchEntity", message, 404)
    with pytest.raises(AccessKeyRefused) as refused:
        iam.deactivate_access_key("bob", KEY_ID)
    # The code in brackets: after "UpdateAccessKey:" the redactor would take it for a secret and mask it.
    assert refused.value.reason == (
        "IAM UpdateAccessKey refused (NoSuchEntity): The Access Key with id …MPLE cannot be found."
    )
    assert refused.value.code == "NoSuchEntity"


DENIED_BY_SCP = (
    "User: arn:aws:sts::123456789012:assumed-role/warden-AuditAccessKeysRole/audit is not authorized to perform: "
    "iam:UpdateAccessKey on resource: user break-glass with an explicit deny in a service control policy"
)


def test_an_scp_denying_update_access_key_on_one_user_is_a_refusal_of_that_user(
    stubbed: tuple[IamAccessKeys, Stubber],
) -> None:
    # Given an SCP that denies iam:UpdateAccessKey on the break-glass user (IAM answers 403 AccessDenied)
    iam, stubber = stubbed
    stubber.add_client_error("update_access_key", "AccessDenied", DENIED_BY_SCP, 403)
    # When Warden deactivates its key / Then it is a refusal of this user, with IAM's code, not a crash of the audit
    with pytest.raises(AccessKeyRefused) as refused:
        iam.deactivate_access_key("break-glass", KEY_ID)
    assert refused.value.code == "AccessDenied"
    assert "explicit deny in a service control policy" in refused.value.reason
    assert redact(refused.value.reason).startswith("IAM UpdateAccessKey refused (AccessDenied)")


@pytest.mark.parametrize("code", ["AccessDenied", "InvalidInput", "SomethingNew"])
def test_any_refusal_to_list_one_users_keys_is_a_refusal_of_that_user(
    stubbed: tuple[IamAccessKeys, Stubber], code: str
) -> None:
    iam, stubber = stubbed
    stubber.add_client_error("list_access_keys", code, "no", 403 if code == "AccessDenied" else 400)
    with pytest.raises(AccessKeyRefused) as refused:
        iam.list_access_keys("break-glass")
    assert refused.value.code == code


def test_throttling_on_one_users_keys_after_botocores_retries_is_unavailable(
    stubbed: tuple[IamAccessKeys, Stubber],
) -> None:
    iam, stubber = stubbed
    stubber.add_client_error("update_access_key", "Throttling", "Rate exceeded", 400)
    with pytest.raises(AwsUnavailable, match="UpdateAccessKey failed after botocore's retries: Throttling"):
        iam.deactivate_access_key("bob", KEY_ID)
