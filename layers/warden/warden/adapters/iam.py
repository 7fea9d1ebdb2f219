"""IAM adapter for the access-key audit: the credential report, every user's tags in bulk, and one key's status.

The calls a run makes do not grow with the number of users: generate (until COMPLETE), get, and one
paginated `GetAccountAuthorizationDetails` (up to 1,000 users a page) for the tags. `ListAccessKeys`
and `UpdateAccessKey` are called only for the few keys that are to be deactivated.
IAM is a global service: botocore routes the calls to its global endpoint whatever the region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code, is_retryable, unavailable
from warden.domain.keys import AccessKeyRefused, ListedKey, mask_key_ids
from warden.models.credential_report import (
    RawCredentialReport,
    ReportLimitExceeded,
    ReportMissing,
    ReportNotReady,
    ReportState,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

IAM_ACTIONS = frozenset(
    {
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
    }
)
# The page size of GetAccountAuthorizationDetails (its MaxItems allows 1,000).
USERS_PER_PAGE = 1000


class IamAccessKeys:
    def __init__(self, iam: IAMClient | None = None) -> None:
        self._client = iam

    @property
    def _iam(self) -> IAMClient:
        if self._client is None:
            self._client = client("iam")
        return self._client

    def generate_credential_report(self) -> ReportState:
        with _translated("GenerateCredentialReport", {"LimitExceeded": ReportLimitExceeded}):
            state = str(self._iam.generate_credential_report().get("State", ""))
        # A state this botocore does not know is treated as "not ready yet": the caller asks again.
        return ReportState(state) if state in ReportState.__members__ else ReportState.INPROGRESS

    def get_credential_report(self) -> RawCredentialReport:
        refusals: dict[str, Callable[[str], Exception]] = {
            "ReportInProgress": ReportNotReady,
            "ReportNotPresent": ReportMissing,
            "ReportExpired": ReportMissing,
        }
        with _translated("GetCredentialReport", refusals):
            response = self._iam.get_credential_report()
        content = response.get("Content", b"")
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        generated = response.get("GeneratedTime")
        return RawCredentialReport(content=text, generated_at=_utc(generated) if generated else None)

    def user_tags(self) -> dict[str, dict[str, str]]:
        tags: dict[str, dict[str, str]] = {}
        with _translated("GetAccountAuthorizationDetails", {}):
            pages = self._iam.get_paginator("get_account_authorization_details").paginate(
                Filter=["User"], PaginationConfig={"PageSize": USERS_PER_PAGE}
            )
            for page in pages:
                for user in page.get("UserDetailList", []):
                    tags[user["UserName"]] = {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])}
        return tags

    def list_access_keys(self, user_name: str) -> list[ListedKey]:
        """The user's keys now; [] when the user was deleted since the report. Any other refusal (AccessDenied
        from an SCP or a permissions boundary on this one user...) is AccessKeyRefused: it concerns this user
        only, and the audit goes on with the others."""
        keys: list[ListedKey] = []
        try:
            with _per_user("ListAccessKeys", keep={"NoSuchEntity"}):
                for page in self._iam.get_paginator("list_access_keys").paginate(UserName=user_name):
                    keys.extend(
                        ListedKey(
                            access_key_id=key["AccessKeyId"],
                            status=str(key["Status"]),
                            created_at=_utc(key["CreateDate"]),
                        )
                        for key in page.get("AccessKeyMetadata", [])
                    )
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return []  # the user was deleted since the report: it has no keys to match
            raise
        return keys

    def deactivate_access_key(self, user_name: str, access_key_id: str) -> None:
        """Every refusal (AccessDenied, NoSuchEntity, LimitExceeded, InvalidInput, any other code) is
        AccessKeyRefused with IAM's code; throttling and 5xx after botocore's retries are AwsUnavailable."""
        with _per_user("UpdateAccessKey"):
            self._iam.update_access_key(UserName=user_name, AccessKeyId=access_key_id, Status="Inactive")


@contextmanager
def _per_user(operation: str, keep: frozenset[str] | set[str] = frozenset()) -> Iterator[None]:
    """A call about one user: any ClientError code but the retryable ones (and `keep`, which the caller reads)
    becomes AccessKeyRefused naming the code, so one user's refusal never stops the audit of the others."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in keep:
            raise
        if is_retryable(error):
            raise unavailable("iam", operation, error) from error
        message = mask_key_ids(str(error.response.get("Error", {}).get("Message") or code))
        # "IAM UpdateAccessKey: AccessDenied" would read as a labelled secret to the redactor (…AccessKey: value)
        # and lose its code in the digest: the code goes in brackets.
        raise AccessKeyRefused(f"IAM {operation} refused ({code}): {message}", code=code or "Unknown") from error
    except BotoCoreError as error:
        raise unavailable("iam", operation, error) from error


@contextmanager
def _translated(operation: str, domain_errors: dict[str, Callable[[str], Exception]]) -> Iterator[None]:
    """ClientError codes in `domain_errors` become those errors (with IAM's message); throttling and 5xx
    (already retried by botocore) become AwsUnavailable; anything else propagates as it is."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in domain_errors:
            message = mask_key_ids(str(error.response.get("Error", {}).get("Message") or code))
            raise domain_errors[code](f"IAM {operation}: {code}: {message}") from error
        if is_retryable(error):
            raise unavailable("iam", operation, error) from error
        raise
    except BotoCoreError as error:
        raise unavailable("iam", operation, error) from error


def _utc(moment: Any) -> datetime:
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
