"""Who and where the caller is (STS GetCallerIdentity and the region botocore resolved), for `warden doctor`.

GetCallerIdentity needs no permission: it answers for any valid credentials, so a failure means the
credentials themselves are missing, expired or wrong. Only the CLI uses this; no function is granted it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from warden.adapters.clients import client, error_code
from warden.domain.wiring import WiringUnreadable

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

IAM_ACTIONS = frozenset({"sts:GetCallerIdentity"})


class CallerIdentity:
    def __init__(self, sts: STSClient | None = None) -> None:
        self._client = sts

    @property
    def _sts(self) -> STSClient:
        if self._client is None:
            self._client = client("sts")
        return self._client

    def region(self) -> str:
        return str(self._sts.meta.region_name or "")

    def whoami(self) -> tuple[str, str]:
        """(account id, caller ARN). Raises WiringUnreadable with what botocore or STS said."""
        try:
            answer = self._sts.get_caller_identity()
        except ClientError as error:
            code = error_code(error)
            raise WiringUnreadable(f"STS GetCallerIdentity: {code}", code) from error
        except BotoCoreError as error:
            raise WiringUnreadable(f"no usable AWS credentials ({type(error).__name__}: {error})") from error
        return str(answer["Account"]), str(answer["Arn"])
