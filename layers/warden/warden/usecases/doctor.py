"""`warden doctor`: is this Warden able to do its job? One Check per fact, each with what to fix.

- credentials and region: the caller's account is the service's, and calls go to the service's region;
- the guarded service exists;
- the budget wiring (usecases/budget_wiring.py): BUDGET_NAME exists, an ACTUAL alert at the enforce threshold
  sends to Warden's budget topic, and the notify topic has a confirmed subscription;
- the state table answers.

Deciding is here, printing is the CLI's. Every check runs, whatever the others found, and none raises.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from warden.domain.wiring import Check, CheckStatus, WiringUnreadable
from warden.errors import AwsUnavailable, ServiceNotFound
from warden.settings import Settings
from warden.usecases.budget_wiring import WiringDeps, check_budget_wiring
from warden.usecases.ports import IdentityPort, ServiceReaderPort, StatePort

# A memo no one writes: reading it is the cheapest call that proves the table is there and readable.
PROBE_MEMO = "doctor.probe"


@dataclass(frozen=True)
class DoctorDeps:
    identity: IdentityPort
    service: ServiceReaderPort
    state: StatePort
    wiring: WiringDeps


class DoctorReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def run_doctor(deps: DoctorDeps, settings: Settings) -> DoctorReport:
    return DoctorReport(
        checks=[
            *_caller(deps.identity, settings),
            _service(deps.service, settings),
            *check_budget_wiring(deps.wiring, settings),
            _state_table(deps.state, settings),
        ]
    )


def _caller(identity: IdentityPort, settings: Settings) -> list[Check]:
    service = settings.service
    try:
        account, arn = identity.whoami()
    except WiringUnreadable as error:
        credentials = Check(
            name="credentials",
            status=CheckStatus.PROBLEM,
            detail=error.reason,
            fix=("Sign in (aws sso login, or aws configure), or choose a profile: export AWS_PROFILE=<profile>.",),
        )
    else:
        if account == service.account_id:
            credentials = Check(name="credentials", status=CheckStatus.OK, detail=f"account {account} as {arn}")
        else:
            credentials = Check(
                name="credentials",
                status=CheckStatus.PROBLEM,
                detail=f"these credentials are for account {account} ({arn}); SERVICE_ARN is in account "
                f"{service.account_id}",
                fix=(f"Use a profile of account {service.account_id}: export AWS_PROFILE=<profile>.",),
            )
    region = identity.region()
    if region == service.region:
        where = Check(name="region", status=CheckStatus.OK, detail=f"{region}, the service's region")
    else:
        where = Check(
            name="region",
            status=CheckStatus.PROBLEM,
            detail=f"calls go to {region or 'no region'}, but the service is in {service.region}",
            fix=(f"export AWS_REGION={service.region} (or warden --region {service.region} doctor)",),
        )
    return [credentials, where]


def _service(reader: ServiceReaderPort, settings: Settings) -> Check:
    service = settings.service
    try:
        snapshot = reader.describe(service.arn)
    except ServiceNotFound as missing:
        return Check(
            name="service",
            status=CheckStatus.PROBLEM,
            detail=f"{missing}",
            fix=("Set SERVICE_ARN (stack parameter ServiceArn) to the ARN of the service Warden guards.",),
        )
    except AwsUnavailable as error:
        return Check(name="service", status=CheckStatus.UNKNOWN, detail=f"not checked: {error}")
    except Exception as error:  # AccessDenied and the like: reported, and the other checks still run
        return Check(name="service", status=CheckStatus.PROBLEM, detail=f"cannot describe {service.arn}: {error}")
    return Check(name="service", status=CheckStatus.OK, detail=f"{snapshot.name} is {snapshot.status.value}")


def _state_table(state: StatePort, settings: Settings) -> Check:
    table = settings.state_table
    try:
        state.get_memo(settings.service.arn, PROBE_MEMO)
    except Exception as error:  # deleted, refused or throttled for good: each leaves claims and history unusable
        quoted = shlex.quote(table)
        return Check(
            name="state table",
            status=CheckStatus.PROBLEM,
            detail=f"cannot read {table}: {error}",
            fix=(
                "Set STATE_TABLE to the stack output StateTableName. If the table was deleted, create it again "
                "with the template's key schema (CloudFormation does not recreate it):",
                f"  aws dynamodb create-table --table-name {quoted} --billing-mode PAY_PER_REQUEST "
                "--attribute-definitions AttributeName=PK,AttributeType=S AttributeName=SK,AttributeType=S "
                "--key-schema AttributeName=PK,KeyType=HASH AttributeName=SK,KeyType=RANGE",
                f"  aws dynamodb update-time-to-live --table-name {quoted} "
                "--time-to-live-specification Enabled=true,AttributeName=expires_at",
            ),
        )
    return Check(name="state table", status=CheckStatus.OK, detail=f"{table} answers")
