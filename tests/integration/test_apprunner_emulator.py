"""The App Runner emulator behaves like App Runner, as seen through a real boto3 client.

Every test talks HTTP to a real server: boto3 for the behaviour product code sees, raw urllib
requests (``apprunner_model.raw_call``) where the exact wire format is the point. Time is a fake
clock injected into the emulator, so no test sleeps or asserts on wall-clock durations.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.apprunner_emulator import (
    OPERATION_STATUSES,
    OPERATION_TYPES,
    SERVICE_STATUSES,
    AppRunnerEmulator,
)
from tests.integration.apprunner_model import (
    assert_matches_output_shape,
    declared_error_codes,
    enum_values,
    expected_error_status,
    modelled_error_codes,
    output_problems,
    raw_call,
)

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
SERVICE_ARN_RE = re.compile(rf"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/(?P<name>[\w-]+)/(?P<id>[0-9a-f]{{32}})")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INVALID_STATE_MESSAGE = "You can't perform this action when the resource is in its current state. Service status: {}"

# The operations Warden's product code and demo use; each must answer exactly like the model says.
WARDEN_OPERATIONS = [
    "CreateService",
    "DescribeService",
    "ListServices",
    "PauseService",
    "ResumeService",
    "StartDeployment",
    "UpdateService",
    "ListOperations",
    "DeleteService",
]
# The one deliberate use of a modelled error code an operation does not declare: StartDeployment
# on a busy or deleted service answers InvalidStateException like every other mutation (botocore
# still maps it: the code exists in the model's error shapes).
UNDECLARED_BUT_DELIBERATE = {("StartDeployment", "InvalidStateException")}


def image(tag: str = "v1") -> str:
    return f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/consultation-app:{tag}"


def image_source(tag: str = "v1") -> dict[str, Any]:
    return {"ImageRepository": {"ImageIdentifier": image(tag), "ImageRepositoryType": "ECR"}}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def error_message(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Message"])


def make_client(url: str, *, retries: dict[str, Any] | None = None) -> Any:
    return boto3.client(
        "apprunner",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        config=Config(retries=retries or {"total_max_attempts": 1}),
    )


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[AppRunnerEmulator]:
    with AppRunnerEmulator(clock=clock) as running:
        yield running


@pytest.fixture
def apprunner(emulator: AppRunnerEmulator) -> Any:
    """A boto3 App Runner client on the emulator that does not retry (errors surface at once)."""
    return make_client(emulator.url)


@pytest.fixture
def running_arn(emulator: AppRunnerEmulator) -> str:
    return emulator.seed_service("consultation-app", image("v1"))


def create_service(apprunner: Any, name: str = "consultation-app", tag: str = "v1", **extra: Any) -> Any:
    return apprunner.create_service(ServiceName=name, SourceConfiguration=image_source(tag), **extra)


def status(apprunner: Any, arn: str) -> str:
    return str(apprunner.describe_service(ServiceArn=arn)["Service"]["Status"])


def operations(apprunner: Any, arn: str) -> list[dict[str, Any]]:
    return list(apprunner.list_operations(ServiceArn=arn)["OperationSummaryList"])


def service_in_status(emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, wanted: str) -> str:
    """Bring a service into ``wanted`` through the API alone (fail_next for the FAILED ones)."""
    name = f"svc-{wanted.lower().replace('_', '-')}"
    if wanted == "CREATE_FAILED":
        emulator.fail_next(name, "CREATE_SERVICE")
    arn = str(create_service(apprunner, name)["Service"]["ServiceArn"])
    status(apprunner, arn)  # the creation settles
    if wanted == "PAUSED":
        apprunner.pause_service(ServiceArn=arn)
    elif wanted == "DELETED":
        apprunner.delete_service(ServiceArn=arn)
    elif wanted == "DELETE_FAILED":
        emulator.fail_next(arn, "DELETE_SERVICE")
        apprunner.delete_service(ServiceArn=arn)
    elif wanted == "OPERATION_IN_PROGRESS":
        emulator.operation_seconds = 60.0
        apprunner.start_deployment(ServiceArn=arn)
    status(apprunner, arn)  # whatever was started settles (unless it is meant to be in progress)
    return arn


# --- The enums the emulator uses are the model's ------------------------------------------------


def test_the_emulator_uses_exactly_the_model_enums() -> None:
    # Given the model's enums / When compared with the emulator's constants / Then they agree
    assert set(SERVICE_STATUSES) == set(enum_values("ServiceStatus"))
    assert set(OPERATION_STATUSES) == set(enum_values("OperationStatus"))
    assert set(OPERATION_TYPES) == set(enum_values("OperationType"))


# --- CreateService ------------------------------------------------------------------------------


def test_create_service_answers_operation_in_progress_and_the_next_describe_shows_running(
    apprunner: Any,
) -> None:
    # Given an empty emulator with operation_seconds=0
    # When a service is created
    created = create_service(apprunner)
    # Then the call's own answer shows the service busy, like the real API
    assert created["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert UUID_RE.fullmatch(created["OperationId"])
    # And the next DescribeService shows it RUNNING
    assert status(apprunner, created["Service"]["ServiceArn"]) == "RUNNING"


def test_create_service_fills_every_required_member_with_realistic_defaults(apprunner: Any) -> None:
    # Given only the required parameters
    # When the service is created
    service = create_service(apprunner)["Service"]
    # Then its identity looks like App Runner's
    match = SERVICE_ARN_RE.fullmatch(service["ServiceArn"])
    assert match is not None
    assert match["name"] == service["ServiceName"] == "consultation-app"
    assert match["id"] == service["ServiceId"]
    assert service["ServiceUrl"].endswith(".us-east-1.awsapprunner.com")
    assert "://" not in service["ServiceUrl"]
    # And the defaults are App Runner's
    assert service["InstanceConfiguration"] == {"Cpu": "1024", "Memory": "2048"}
    assert service["SourceConfiguration"]["AutoDeploymentsEnabled"] is True
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v1")
    assert service["HealthCheckConfiguration"]["Protocol"] == "TCP"
    assert service["NetworkConfiguration"] == {
        "EgressConfiguration": {"EgressType": "DEFAULT"},
        "IngressConfiguration": {"IsPubliclyAccessible": True},
        "IpAddressType": "IPV4",
    }
    autoscaling = service["AutoScalingConfigurationSummary"]
    assert autoscaling["AutoScalingConfigurationName"] == "DefaultConfiguration"
    assert autoscaling["IsDefault"] is True
    assert service["CreatedAt"] == service["UpdatedAt"]


def test_create_service_echoes_instance_configuration_as_given(apprunner: Any) -> None:
    # Given CPU and memory written in the human-readable form
    config = {"Cpu": "1 vCPU", "Memory": "2 GB"}
    # When the service is created
    service = create_service(apprunner, InstanceConfiguration=config)["Service"]
    # Then App Runner's answer keeps the form it was given
    assert service["InstanceConfiguration"] == config


def test_create_service_with_a_name_in_use_raises_invalid_request(apprunner: Any) -> None:
    # Given a service named consultation-app
    create_service(apprunner)
    # When another one with that name is created
    with pytest.raises(ClientError) as error:
        create_service(apprunner)
    # Then App Runner refuses it
    assert error_code(error) == "InvalidRequestException"
    assert "already exists" in error_message(error)


def test_create_service_validates_parameters_against_the_model(apprunner: Any) -> None:
    # Given a name botocore lets through (long enough) but App Runner's pattern rejects
    # When the service is created / Then the answer is InvalidRequestException naming the member
    with pytest.raises(ClientError) as error:
        create_service(apprunner, name="not a valid name!")
    assert error_code(error) == "InvalidRequestException"
    assert "ServiceName" in error_message(error)
    # And a source with no repository at all is refused as well
    with pytest.raises(ClientError) as error:
        apprunner.create_service(ServiceName="no-source", SourceConfiguration={})
    assert error_code(error) == "InvalidRequestException"


def test_create_service_can_be_told_to_fail_and_ends_create_failed(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given the next creation of consultation-app is set to fail
    emulator.fail_next("consultation-app", "CreateService")
    # When it is created and settles
    arn = create_service(apprunner)["Service"]["ServiceArn"]
    # Then it is CREATE_FAILED and the operation FAILED
    assert status(apprunner, arn) == "CREATE_FAILED"
    assert operations(apprunner, arn)[0]["Status"] == "FAILED"


# --- DescribeService ----------------------------------------------------------------------------


def test_describe_service_reports_the_deployed_image_and_settings(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given a seeded service with Warden-like settings
    arn = emulator.seed_service("consultation-app", image("v7"), auto_deploy=False, cpu="0.25 vCPU", memory="0.5 GB")
    # When it is described
    service = apprunner.describe_service(ServiceArn=arn)["Service"]
    # Then the image, auto-deploy flag, size and health check are what was seeded
    assert service["Status"] == "RUNNING"
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v7")
    assert service["SourceConfiguration"]["AutoDeploymentsEnabled"] is False
    assert service["InstanceConfiguration"] == {"Cpu": "0.25 vCPU", "Memory": "0.5 GB"}
    assert service["HealthCheckConfiguration"]["Path"] == "/health"
    assert service["HealthCheckConfiguration"]["Protocol"] == "HTTP"


def test_describing_an_unknown_service_raises_resource_not_found(apprunner: Any) -> None:
    # Given a well-formed ARN nobody created
    arn = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/ghost/{'a' * 32}"
    # When it is described / Then ResourceNotFoundException
    with pytest.raises(ClientError) as error:
        apprunner.describe_service(ServiceArn=arn)
    assert error_code(error) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/consultation-app",
        f"arn:aws:apprunner:us-east-1:{ACCOUNT}:vpcconnector/consultation-app/1/{'a' * 32}",
        "not-an-arn",
    ],
)
def test_a_malformed_service_arn_raises_invalid_request(apprunner: Any, arn: str) -> None:
    # Given something that is not an App Runner service ARN
    # When it is described / Then InvalidRequestException
    with pytest.raises(ClientError) as error:
        apprunner.describe_service(ServiceArn=arn)
    assert error_code(error) == "InvalidRequestException"


# --- ListServices -------------------------------------------------------------------------------


def test_list_services_summarises_live_services_and_omits_deleted_ones(
    emulator: AppRunnerEmulator, apprunner: Any
) -> None:
    # Given one running, one paused and one deleted service
    running = emulator.seed_service("running-app", image())
    paused = emulator.seed_service("paused-app", image(), status="PAUSED")
    emulator.seed_service("deleted-app", image(), status="DELETED")
    # When services are listed
    summaries = apprunner.list_services()["ServiceSummaryList"]
    # Then the deleted one is missing and the others carry their status
    assert [(s["ServiceArn"], s["Status"]) for s in summaries] == [(running, "RUNNING"), (paused, "PAUSED")]
    assert set(summaries[0]) == {
        "ServiceName",
        "ServiceId",
        "ServiceArn",
        "ServiceUrl",
        "CreatedAt",
        "UpdatedAt",
        "Status",
    }


def test_list_services_pages_through_more_than_twenty_services_with_next_token(
    emulator: AppRunnerEmulator, apprunner: Any
) -> None:
    # Given 25 services
    arns = [emulator.seed_service(f"service-{index:02d}", image()) for index in range(25)]
    # When they are listed 10 at a time, following NextToken until it is absent
    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"MaxResults": 10}
    while True:
        answer = apprunner.list_services(**kwargs)
        pages.append([s["ServiceArn"] for s in answer["ServiceSummaryList"]])
        if "NextToken" not in answer:
            break
        kwargs["NextToken"] = answer["NextToken"]
    # Then the pages hold 10, 10 and 5 services, each exactly once, in creation order
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [arn for page in pages for arn in page] == arns


def test_list_services_without_max_results_returns_everything_in_one_page(
    emulator: AppRunnerEmulator, apprunner: Any
) -> None:
    # Given 23 services
    for index in range(23):
        emulator.seed_service(f"service-{index:02d}", image())
    # When they are listed without MaxResults
    answer = apprunner.list_services()
    # Then all of them come back at once, as the model documents, and there is no NextToken
    assert len(answer["ServiceSummaryList"]) == 23
    assert "NextToken" not in answer


@pytest.mark.parametrize("operation", ["list_services", "list_operations"])
def test_max_results_above_twenty_raises_invalid_request(apprunner: Any, running_arn: str, operation: str) -> None:
    # Given MaxResults=21, which botocore does not check (it only checks minimums)
    kwargs: dict[str, Any] = {"MaxResults": 21}
    if operation == "list_operations":
        kwargs["ServiceArn"] = running_arn
    # When the list is requested / Then the server refuses it
    with pytest.raises(ClientError) as error:
        getattr(apprunner, operation)(**kwargs)
    assert error_code(error) == "InvalidRequestException"
    assert "less than or equal to 20" in error_message(error)


def test_a_next_token_that_was_not_issued_for_the_request_raises_invalid_request(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given a NextToken issued by ListServices
    for index in range(3):
        emulator.seed_service(f"service-{index:02d}", image())
    token = apprunner.list_services(MaxResults=1)["NextToken"]
    # When it is replayed to ListOperations, or garbage is sent / Then InvalidRequestException
    with pytest.raises(ClientError) as error:
        apprunner.list_operations(ServiceArn=running_arn, NextToken=token)
    assert error_code(error) == "InvalidRequestException"
    with pytest.raises(ClientError) as error:
        apprunner.list_services(NextToken="garbage!")
    assert error_code(error) == "InvalidRequestException"


# --- PauseService / ResumeService ---------------------------------------------------------------


def test_pause_service_answers_service_and_operation_and_lands_paused(apprunner: Any, running_arn: str) -> None:
    # Given a running service
    # When it is paused
    answer = apprunner.pause_service(ServiceArn=running_arn)
    # Then the answer carries the busy service and an operation id
    assert answer["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert UUID_RE.fullmatch(answer["OperationId"])
    # And the service then reports PAUSED, with a succeeded PAUSE_SERVICE operation
    assert status(apprunner, running_arn) == "PAUSED"
    newest = operations(apprunner, running_arn)[0]
    assert (newest["Id"], newest["Type"], newest["Status"]) == (
        answer["OperationId"],
        "PAUSE_SERVICE",
        "SUCCEEDED",
    )


def test_pausing_a_paused_service_raises_invalid_state(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given a paused service
    arn = emulator.seed_service("consultation-app", image(), status="PAUSED")
    # When it is paused again
    with pytest.raises(ClientError) as error:
        apprunner.pause_service(ServiceArn=arn)
    # Then InvalidStateException with App Runner's message
    assert error_code(error) == "InvalidStateException"
    assert error_message(error) == INVALID_STATE_MESSAGE.format("PAUSED")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_resume_service_answers_service_and_operation_and_lands_running(
    emulator: AppRunnerEmulator, apprunner: Any
) -> None:
    # Given a paused service
    arn = emulator.seed_service("consultation-app", image(), status="PAUSED")
    # When it is resumed
    answer = apprunner.resume_service(ServiceArn=arn)
    # Then the answer carries the busy service and an operation id, and it ends RUNNING
    assert answer["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert UUID_RE.fullmatch(answer["OperationId"])
    assert status(apprunner, arn) == "RUNNING"
    assert operations(apprunner, arn)[0]["Type"] == "RESUME_SERVICE"


def test_resuming_a_running_service_raises_invalid_state(apprunner: Any, running_arn: str) -> None:
    # Given a running service / When it is resumed / Then InvalidStateException
    with pytest.raises(ClientError) as error:
        apprunner.resume_service(ServiceArn=running_arn)
    assert error_code(error) == "InvalidStateException"
    assert error_message(error) == INVALID_STATE_MESSAGE.format("RUNNING")


# --- StartDeployment ----------------------------------------------------------------------------


def test_start_deployment_answers_only_an_operation_id_and_redeploys_the_same_image(
    apprunner: Any, running_arn: str
) -> None:
    # Given a running service on image v1
    # When a deployment is started
    answer = apprunner.start_deployment(ServiceArn=running_arn)
    # Then the answer is just the operation id
    assert set(answer) - {"ResponseMetadata"} == {"OperationId"}
    # And the service is busy until the next request, then RUNNING on the same image
    service = apprunner.describe_service(ServiceArn=running_arn)["Service"]
    assert service["Status"] == "RUNNING"
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v1")
    newest = operations(apprunner, running_arn)[0]
    assert (newest["Id"], newest["Type"], newest["Status"]) == (
        answer["OperationId"],
        "START_DEPLOYMENT",
        "SUCCEEDED",
    )


def test_deploying_a_paused_service_raises_invalid_request(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given a paused service
    arn = emulator.seed_service("consultation-app", image(), status="PAUSED")
    # When a deployment is started
    with pytest.raises(ClientError) as error:
        apprunner.start_deployment(ServiceArn=arn)
    # Then InvalidRequestException (the model lists no InvalidStateException for StartDeployment)
    assert error_code(error) == "InvalidRequestException"
    assert "PAUSED" in error_message(error)
    assert status(apprunner, arn) == "PAUSED"


def test_a_failed_deployment_rolls_back_and_leaves_the_service_running(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, running_arn: str
) -> None:
    # Given deployments take 10 s and the next one is set to fail
    emulator.operation_seconds = 10.0
    emulator.fail_next(running_arn, "START_DEPLOYMENT")
    # When a deployment is started
    operation_id = apprunner.start_deployment(ServiceArn=running_arn)["OperationId"]
    # Then it is in progress, rolls back in its second half, and ends ROLLBACK_SUCCEEDED
    assert operations(apprunner, running_arn)[0]["Status"] == "IN_PROGRESS"
    clock.advance(6)
    assert operations(apprunner, running_arn)[0]["Status"] == "ROLLBACK_IN_PROGRESS"
    assert status(apprunner, running_arn) == "OPERATION_IN_PROGRESS"
    clock.advance(4)
    finished = operations(apprunner, running_arn)[0]
    assert (finished["Id"], finished["Status"]) == (operation_id, "ROLLBACK_SUCCEEDED")
    assert finished["EndedAt"] > finished["StartedAt"]
    assert status(apprunner, running_arn) == "RUNNING"
    # And only that one deployment fails
    apprunner.start_deployment(ServiceArn=running_arn)
    clock.advance(10)
    assert operations(apprunner, running_arn)[0]["Status"] == "SUCCEEDED"


# --- UpdateService ------------------------------------------------------------------------------


def test_update_service_changes_image_instance_and_health_check(apprunner: Any, running_arn: str) -> None:
    # Given a running service on v1
    # When image, size and health check are updated
    answer = apprunner.update_service(
        ServiceArn=running_arn,
        SourceConfiguration=image_source("v2"),
        InstanceConfiguration={"Cpu": "2 vCPU", "Memory": "4 GB"},
        HealthCheckConfiguration={"Protocol": "HTTP", "Path": "/ready"},
    )
    # Then the answer shows the busy service with the new configuration and an operation id
    assert answer["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert UUID_RE.fullmatch(answer["OperationId"])
    # And once settled the service runs the new configuration
    service = apprunner.describe_service(ServiceArn=running_arn)["Service"]
    assert service["Status"] == "RUNNING"
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v2")
    assert service["SourceConfiguration"]["AutoDeploymentsEnabled"] is True
    assert service["InstanceConfiguration"] == {"Cpu": "2 vCPU", "Memory": "4 GB"}
    assert service["HealthCheckConfiguration"]["Path"] == "/ready"
    assert operations(apprunner, running_arn)[0]["Type"] == "UPDATE_SERVICE"


def test_updating_a_paused_service_keeps_it_paused(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given a paused service
    arn = emulator.seed_service("consultation-app", image("v1"), status="PAUSED")
    # When its image is updated
    apprunner.update_service(ServiceArn=arn, SourceConfiguration=image_source("v2"))
    # Then it lands back in PAUSED with the new image
    service = apprunner.describe_service(ServiceArn=arn)["Service"]
    assert service["Status"] == "PAUSED"
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v2")


def test_a_failed_update_restores_the_previous_configuration(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given the next update is set to fail
    emulator.fail_next(running_arn, "UPDATE_SERVICE")
    # When the image is updated to v2
    apprunner.update_service(ServiceArn=running_arn, SourceConfiguration=image_source("v2"))
    # Then the update rolls back: RUNNING on v1 again
    service = apprunner.describe_service(ServiceArn=running_arn)["Service"]
    assert service["Status"] == "RUNNING"
    assert service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] == image("v1")
    assert operations(apprunner, running_arn)[0]["Status"] == "ROLLBACK_SUCCEEDED"


# --- DeleteService ------------------------------------------------------------------------------


def test_a_deleted_service_can_still_be_described_but_is_no_longer_listed(apprunner: Any, running_arn: str) -> None:
    # Given a running service
    # When it is deleted
    answer = apprunner.delete_service(ServiceArn=running_arn)
    # Then the answer carries the busy service and an operation id
    assert answer["Service"]["Status"] == "OPERATION_IN_PROGRESS"
    assert UUID_RE.fullmatch(answer["OperationId"])
    # And DescribeService reports DELETED with DeletedAt, while ListServices omits it
    service = apprunner.describe_service(ServiceArn=running_arn)["Service"]
    assert service["Status"] == "DELETED"
    assert service["DeletedAt"] >= service["CreatedAt"]
    assert apprunner.list_services()["ServiceSummaryList"] == []
    # And the name can be used again
    assert create_service(apprunner)["Service"]["ServiceArn"] != running_arn


@pytest.mark.parametrize(
    "mutation",
    ["pause_service", "resume_service", "update_service", "delete_service", "start_deployment"],
)
def test_any_mutation_of_a_deleted_service_raises_invalid_state(
    emulator: AppRunnerEmulator, apprunner: Any, mutation: str
) -> None:
    # Given a deleted service
    arn = emulator.seed_service("consultation-app", image(), status="DELETED")
    # When it is mutated / Then InvalidStateException
    with pytest.raises(ClientError) as error:
        getattr(apprunner, mutation)(ServiceArn=arn)
    assert error_code(error) == "InvalidStateException"
    assert error_message(error) == INVALID_STATE_MESSAGE.format("DELETED")


def test_a_failed_deletion_leaves_delete_failed_and_can_be_retried(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given the next deletion is set to fail
    emulator.fail_next(running_arn, "DeleteService")
    # When the service is deleted
    apprunner.delete_service(ServiceArn=running_arn)
    # Then it is DELETE_FAILED with a FAILED operation
    assert status(apprunner, running_arn) == "DELETE_FAILED"
    assert operations(apprunner, running_arn)[0]["Status"] == "FAILED"
    # And deleting it again works
    apprunner.delete_service(ServiceArn=running_arn)
    assert status(apprunner, running_arn) == "DELETED"


# --- Status machine -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutation",
    ["pause_service", "resume_service", "update_service", "delete_service", "start_deployment"],
)
def test_any_mutation_during_an_operation_in_progress_raises_invalid_state(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str, mutation: str
) -> None:
    # Given a pause that takes 60 s is in flight
    emulator.operation_seconds = 60.0
    apprunner.pause_service(ServiceArn=running_arn)
    # When any other mutation is attempted
    with pytest.raises(ClientError) as error:
        getattr(apprunner, mutation)(ServiceArn=running_arn)
    # Then InvalidStateException naming OPERATION_IN_PROGRESS
    assert error_code(error) == "InvalidStateException"
    assert error_message(error) == INVALID_STATE_MESSAGE.format("OPERATION_IN_PROGRESS")


def test_operation_seconds_hold_the_service_in_progress_until_the_clock_passes(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, running_arn: str
) -> None:
    # Given operations take 30 s
    emulator.operation_seconds = 30.0
    started = clock.now
    # When the service is paused and 29.9 s pass
    apprunner.pause_service(ServiceArn=running_arn)
    clock.advance(29.9)
    # Then it is still in progress, and so is the operation
    assert status(apprunner, running_arn) == "OPERATION_IN_PROGRESS"
    in_flight = operations(apprunner, running_arn)[0]
    assert in_flight["Status"] == "IN_PROGRESS"
    assert "EndedAt" not in in_flight
    # When the clock reaches 30 s
    clock.advance(0.1)
    # Then the service is PAUSED and the operation ended exactly 30 s after it started
    assert status(apprunner, running_arn) == "PAUSED"
    done = operations(apprunner, running_arn)[0]
    assert done["Status"] == "SUCCEEDED"
    assert done["StartedAt"].timestamp() == pytest.approx(started)
    assert done["EndedAt"].timestamp() == pytest.approx(started + 30)


@pytest.mark.parametrize("wanted", SERVICE_STATUSES)
def test_every_service_status_is_reachable_through_the_api_and_reported(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, wanted: str
) -> None:
    # Given a service driven into the status through the API
    arn = service_in_status(emulator, apprunner, clock, wanted)
    # When it is described and listed
    described = status(apprunner, arn)
    listed = {s["ServiceArn"]: s["Status"] for s in apprunner.list_services()["ServiceSummaryList"]}
    # Then DescribeService, ListServices (which omits DELETED) and status_of all report it
    assert described == wanted
    assert listed.get(arn) == (None if wanted == "DELETED" else wanted)
    assert emulator.status_of(arn) == wanted


@pytest.mark.parametrize("wanted", SERVICE_STATUSES)
def test_force_status_makes_a_service_report_any_status(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str, wanted: str
) -> None:
    # Given a running service / When its status is forced
    emulator.force_status(running_arn, wanted)
    # Then DescribeService reports exactly that status
    assert status(apprunner, running_arn) == wanted


def test_force_status_for_some_seconds_returns_to_the_previous_stable_status(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, running_arn: str
) -> None:
    # Given a running service held in OPERATION_IN_PROGRESS for 30 s
    emulator.force_status(running_arn, "OPERATION_IN_PROGRESS", for_seconds=30)
    # Then it cannot be paused meanwhile
    with pytest.raises(ClientError) as error:
        apprunner.pause_service(ServiceArn=running_arn)
    assert error_code(error) == "InvalidStateException"
    # When 30 s pass
    clock.advance(30)
    # Then it is RUNNING again and can be paused
    assert status(apprunner, running_arn) == "RUNNING"
    apprunner.pause_service(ServiceArn=running_arn)
    assert status(apprunner, running_arn) == "PAUSED"


def test_a_create_failed_service_can_only_be_deleted(emulator: AppRunnerEmulator, apprunner: Any) -> None:
    # Given a service stuck in CREATE_FAILED
    arn = emulator.seed_service("consultation-app", image(), status="CREATE_FAILED")
    # When it is paused / Then InvalidStateException
    with pytest.raises(ClientError) as error:
        apprunner.pause_service(ServiceArn=arn)
    assert error_code(error) == "InvalidStateException"
    # When it is deleted / Then that works
    apprunner.delete_service(ServiceArn=arn)
    assert status(apprunner, arn) == "DELETED"


@pytest.mark.parametrize(
    ("operation", "start", "expected_service", "expected_operation"),
    [
        ("PAUSE_SERVICE", "RUNNING", "RUNNING", "FAILED"),
        ("RESUME_SERVICE", "PAUSED", "PAUSED", "FAILED"),
        ("START_DEPLOYMENT", "RUNNING", "RUNNING", "ROLLBACK_SUCCEEDED"),
        ("UPDATE_SERVICE", "RUNNING", "RUNNING", "ROLLBACK_SUCCEEDED"),
        ("DELETE_SERVICE", "RUNNING", "DELETE_FAILED", "FAILED"),
    ],
)
def test_fail_next_ends_the_operation_failed_and_leaves_the_expected_status(
    emulator: AppRunnerEmulator,
    apprunner: Any,
    operation: str,
    start: str,
    expected_service: str,
    expected_operation: str,
) -> None:
    # Given a service in the start status whose next operation of a type is set to fail
    arn = emulator.seed_service("consultation-app", image(), status=start)
    emulator.fail_next(arn, operation)
    call = {
        "PAUSE_SERVICE": apprunner.pause_service,
        "RESUME_SERVICE": apprunner.resume_service,
        "START_DEPLOYMENT": apprunner.start_deployment,
        "UPDATE_SERVICE": apprunner.update_service,
        "DELETE_SERVICE": apprunner.delete_service,
    }[operation]
    # When that operation is called and settles
    call(ServiceArn=arn)
    # Then the operation and the service end as App Runner's would
    assert status(apprunner, arn) == expected_service
    newest = operations(apprunner, arn)[0]
    assert (newest["Type"], newest["Status"]) == (operation, expected_operation)


# --- ListOperations -----------------------------------------------------------------------------


def test_list_operations_returns_newest_first_with_timestamps(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, running_arn: str
) -> None:
    # Given a pause, a resume and a deployment, a minute apart
    ids = []
    for call in (apprunner.pause_service, apprunner.resume_service, apprunner.start_deployment):
        ids.append(call(ServiceArn=running_arn)["OperationId"])
        clock.advance(60)
    # When the operations are listed
    listed = operations(apprunner, running_arn)
    # Then they come newest first, finished, and aimed at the service
    assert [o["Id"] for o in listed] == ids[::-1]
    assert [o["Type"] for o in listed] == ["START_DEPLOYMENT", "RESUME_SERVICE", "PAUSE_SERVICE"]
    assert all(o["Status"] == "SUCCEEDED" and o["TargetArn"] == running_arn for o in listed)
    assert listed[0]["StartedAt"] > listed[1]["StartedAt"] > listed[2]["StartedAt"]
    assert all(o["EndedAt"] >= o["StartedAt"] and "UpdatedAt" in o for o in listed)


def test_list_operations_pages_through_more_than_twenty_operations(
    apprunner: Any, clock: FakeClock, running_arn: str
) -> None:
    # Given 24 operations (12 pause/resume pairs)
    ids = []
    for _ in range(12):
        ids.append(apprunner.pause_service(ServiceArn=running_arn)["OperationId"])
        clock.advance(1)
        ids.append(apprunner.resume_service(ServiceArn=running_arn)["OperationId"])
        clock.advance(1)
    # When they are listed 20 at a time following NextToken
    first = apprunner.list_operations(ServiceArn=running_arn, MaxResults=20)
    second = apprunner.list_operations(ServiceArn=running_arn, MaxResults=20, NextToken=first["NextToken"])
    # Then the pages hold 20 and 4 operations, newest first, and the last has no NextToken
    assert len(first["OperationSummaryList"]) == 20
    assert len(second["OperationSummaryList"]) == 4
    assert "NextToken" not in second
    listed = [o["Id"] for o in first["OperationSummaryList"] + second["OperationSummaryList"]]
    assert listed == ids[::-1]


def test_list_operations_of_an_unknown_service_raises_resource_not_found(apprunner: Any) -> None:
    # Given an ARN nobody created / When its operations are listed / Then ResourceNotFoundException
    with pytest.raises(ClientError) as error:
        apprunner.list_operations(ServiceArn=f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/ghost/{'b' * 32}")
    assert error_code(error) == "ResourceNotFoundException"


# --- Tags ---------------------------------------------------------------------------------------


def test_tags_can_be_set_at_creation_added_listed_and_removed(apprunner: Any) -> None:
    # Given a service created with a tag
    arn = create_service(apprunner, Tags=[{"Key": "team", "Value": "web"}])["Service"]["ServiceArn"]
    # When a tag is added and one overwritten
    apprunner.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "warden", "Value": "guarded"}, {"Key": "team", "Value": "ops"}]
    )
    # Then both are listed
    assert apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "ops"},
        {"Key": "warden", "Value": "guarded"},
    ]
    # When one is removed / Then only the other remains
    apprunner.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert apprunner.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "warden", "Value": "guarded"}]


def test_tagging_an_unknown_resource_raises_resource_not_found_and_aws_keys_are_refused(
    apprunner: Any, running_arn: str
) -> None:
    # Given an ARN nobody created / When it is tagged / Then ResourceNotFoundException
    ghost = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/ghost/{'c' * 32}"
    with pytest.raises(ClientError) as error:
        apprunner.tag_resource(ResourceArn=ghost, Tags=[{"Key": "k", "Value": "v"}])
    assert error_code(error) == "ResourceNotFoundException"
    # And a key in the reserved aws: namespace is refused
    with pytest.raises(ClientError) as error:
        apprunner.tag_resource(ResourceArn=running_arn, Tags=[{"Key": "aws:owner", "Value": "v"}])
    assert error_code(error) == "InvalidRequestException"


# --- Fault injection and call recording ---------------------------------------------------------


def test_an_injected_internal_error_is_raised_as_internal_service_error_with_status_500(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given one injected InternalServiceErrorException on DescribeService
    emulator.inject_error("DescribeService", "InternalServiceErrorException")
    # When the service is described / Then botocore raises it, with HTTP 500
    with pytest.raises(ClientError) as error:
        apprunner.describe_service(ServiceArn=running_arn)
    assert error_code(error) == "InternalServiceErrorException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # And the next call succeeds
    assert status(apprunner, running_arn) == "RUNNING"


def test_injected_throttling_is_retried_by_a_default_client_and_every_attempt_is_recorded(
    emulator: AppRunnerEmulator, running_arn: str
) -> None:
    # Given two injected ThrottlingExceptions and a client that retries like the product's does
    emulator.inject_error("DescribeService", "ThrottlingException", status=400, times=2)
    retrying = make_client(emulator.url, retries={"mode": "standard", "total_max_attempts": 3})
    # When the service is described
    answer = retrying.describe_service(ServiceArn=running_arn)
    # Then the third attempt succeeds and all three attempts were recorded
    assert answer["Service"]["Status"] == "RUNNING"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(emulator.calls("DescribeService")) == 3


def test_calls_records_every_request_in_order_including_failed_ones(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given a pause, a failing second pause and a describe
    apprunner.pause_service(ServiceArn=running_arn)
    with pytest.raises(ClientError):
        apprunner.pause_service(ServiceArn=running_arn)
    apprunner.describe_service(ServiceArn=running_arn)
    # When the calls are read / Then all three are there in order, with their parameters
    expected_params = {"ServiceArn": running_arn}
    assert emulator.calls() == [
        {"operation": "PauseService", "params": expected_params},
        {"operation": "PauseService", "params": expected_params},
        {"operation": "DescribeService", "params": expected_params},
    ]
    # And they can be filtered by operation
    assert len(emulator.calls("PauseService")) == 2


def test_an_unimplemented_operation_raises_invalid_request_and_the_server_keeps_serving(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given an operation the emulator does not implement
    # When botocore calls it, and a raw request sends an unknown target
    with pytest.raises(ClientError) as error:
        apprunner.list_connections()
    raw = raw_call(emulator.url, "NoSuchOperation")
    # Then both are InvalidRequestException naming the operation
    assert error_code(error) == "InvalidRequestException"
    assert error_message(error) == "operation not implemented by the Warden emulator: ListConnections"
    assert raw.status == 400
    assert raw.body["Message"] == "operation not implemented by the Warden emulator: NoSuchOperation"
    # And the server still answers
    assert status(apprunner, running_arn) == "RUNNING"
    assert emulator.calls("ListConnections") == [{"operation": "ListConnections", "params": {}}]


def test_every_answer_carries_a_request_id_and_the_json_1_0_content_type(
    emulator: AppRunnerEmulator, running_arn: str
) -> None:
    # Given a successful and a failing request
    ok = raw_call(emulator.url, "DescribeService", {"ServiceArn": running_arn})
    failed = raw_call(emulator.url, "ResumeService", {"ServiceArn": running_arn})
    # Then both carry a request id and the JSON 1.0 content type, and the error names its code twice
    for answer in (ok, failed):
        assert UUID_RE.fullmatch(answer.headers["x-amzn-requestid"])
        assert answer.headers["content-type"] == "application/x-amz-json-1.0"
    assert failed.headers["x-amzn-errortype"] == failed.body["__type"] == "InvalidStateException"


# --- Control API and lifecycle ------------------------------------------------------------------


def test_a_seeded_service_has_no_operation_record(apprunner: Any, running_arn: str) -> None:
    # Given a seeded service / When its operations are listed / Then there are none
    assert apprunner.list_operations(ServiceArn=running_arn)["OperationSummaryList"] == []


def test_seed_service_refuses_bad_names_duplicates_and_statuses(emulator: AppRunnerEmulator, running_arn: str) -> None:
    # Given a seeded consultation-app / When bad seeds are attempted / Then ValueError
    with pytest.raises(ValueError, match="already exists"):
        emulator.seed_service("consultation-app", image())
    with pytest.raises(ValueError, match="invalid App Runner service name"):
        emulator.seed_service("no", image())
    with pytest.raises(ValueError, match="unknown service status"):
        emulator.seed_service("other-app", image(), status="SLEEPING")


def test_control_methods_reject_unknown_services_and_values(emulator: AppRunnerEmulator, running_arn: str) -> None:
    # Given an ARN nobody created / When the control API is used on it / Then KeyError
    ghost = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/ghost/{'d' * 32}"
    with pytest.raises(KeyError):
        emulator.status_of(ghost)
    with pytest.raises(KeyError):
        emulator.force_status(ghost, "RUNNING")
    # And unknown statuses or operation types are ValueErrors
    with pytest.raises(ValueError, match="unknown service status"):
        emulator.force_status(running_arn, "SLEEPING")
    with pytest.raises(ValueError, match="unknown operation type"):
        emulator.fail_next(running_arn, "REBOOT")


def test_reset_forgets_services_calls_and_injected_errors(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given a service, a recorded call and an injected error
    apprunner.describe_service(ServiceArn=running_arn)
    emulator.inject_error("ListServices", "InternalServiceErrorException")
    # When the emulator is reset
    emulator.reset()
    # Then the service is gone, the injected error too, and only the new calls are recorded
    with pytest.raises(ClientError) as error:
        apprunner.describe_service(ServiceArn=running_arn)
    assert error_code(error) == "ResourceNotFoundException"
    assert apprunner.list_services()["ServiceSummaryList"] == []
    assert [call["operation"] for call in emulator.calls()] == ["DescribeService", "ListServices"]


def test_the_http_control_surface_reports_health_calls_and_resets(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given a running emulator with a service that was described once
    apprunner.describe_service(ServiceArn=running_arn)
    # When its health is checked / Then it is ok
    with urllib.request.urlopen(f"{emulator.url}/_emulator/health", timeout=5) as response:
        assert (response.status, json.load(response)) == (200, {"ok": True})
    # When the recorded calls are fetched / Then the describe is there
    with urllib.request.urlopen(f"{emulator.url}/_emulator/calls", timeout=5) as response:
        assert json.load(response)["calls"] == [{"operation": "DescribeService", "params": {"ServiceArn": running_arn}}]
    # When it is reset over HTTP / Then the service is gone
    reset = urllib.request.Request(f"{emulator.url}/_emulator/reset", data=b"", method="POST")
    with urllib.request.urlopen(reset, timeout=5) as response:
        assert response.status == 200
    assert apprunner.list_services()["ServiceSummaryList"] == []


def test_stop_is_idempotent_and_closes_the_port(clock: FakeClock) -> None:
    # Given a started emulator
    emulator = AppRunnerEmulator(clock=clock)
    url = emulator.start()
    port = int(url.rsplit(":", 1)[1])
    assert url == emulator.url == f"http://127.0.0.1:{port}"
    # When it is stopped twice
    emulator.stop()
    emulator.stop()
    # Then nothing listens on the port and the URL is no longer offered
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(RuntimeError):
        _ = emulator.url


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_command_line_serves_seeded_services_and_stops_cleanly_on_a_signal(
    stop_signal: signal.Signals,
) -> None:
    # Given the emulator started from the command line with one seeded service
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.apprunner_emulator",
            "--port",
            "0",
            "--seed",
            f"consultation-app={image()}",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        name, _, arn = process.stdout.readline().strip().partition("=")
        # When a client asks it about the seeded service
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as response:
            assert json.load(response) == {"ok": True}
        service = make_client(url).describe_service(ServiceArn=arn)["Service"]
        # Then it is there, running the seeded image
        assert (name, service["ServiceName"], service["Status"]) == ("consultation-app", name, "RUNNING")
        # When it is signalled / Then it exits cleanly
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


# --- Property: random call sequences follow the status machine ----------------------------------

ACTIONS = st.lists(st.sampled_from(["pause", "resume", "deploy", "update", "tick", "describe"]), max_size=14)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, seconds=st.sampled_from([0.0, 5.0, 12.5]))
def test_random_call_sequences_follow_the_status_machine(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, actions: list[str], seconds: float
) -> None:
    # Given a fresh running service and operations that take `seconds`
    emulator.reset()
    emulator.operation_seconds = seconds
    arn = emulator.seed_service("consultation-app", image())
    stable, busy_until = "RUNNING", clock.now

    def expected() -> str:
        return "OPERATION_IN_PROGRESS" if clock.now < busy_until else stable

    calls: dict[str, tuple[Callable[..., Any], set[str]]] = {
        "pause": (apprunner.pause_service, {"RUNNING"}),
        "resume": (apprunner.resume_service, {"PAUSED"}),
        "deploy": (apprunner.start_deployment, {"RUNNING"}),
        "update": (apprunner.update_service, {"RUNNING", "PAUSED"}),
    }
    # When the actions run, Then each answer matches a reference model of App Runner's rules
    for action in actions:
        if action == "tick":
            clock.advance(5)
        elif action == "describe":
            assert status(apprunner, arn) == expected()
        else:
            call, allowed = calls[action]
            now_status = expected()
            if now_status in allowed:
                call(ServiceArn=arn)
                stable = {"pause": "PAUSED", "resume": "RUNNING"}.get(action, stable)
                busy_until = clock.now + seconds
            else:
                with pytest.raises(ClientError) as error:
                    call(ServiceArn=arn)
                wrong = "InvalidRequestException" if (action, now_status) == ("deploy", "PAUSED") else None
                assert error_code(error) == (wrong or "InvalidStateException")
    assert emulator.status_of(arn) == expected()


# --- Contract: raw answers satisfy botocore's model ---------------------------------------------


def _arrange(emulator: AppRunnerEmulator, operation: str) -> dict[str, Any]:
    """Parameters for a successful ``operation`` call, with the emulator arranged for it."""
    running = emulator.seed_service("running-app", image())
    paused = emulator.seed_service("paused-app", image(), status="PAUSED")
    emulator.operation_seconds = 0.0
    by_operation: dict[str, dict[str, Any]] = {
        "CreateService": {
            "ServiceName": "new-app",
            "SourceConfiguration": image_source(),
            "InstanceConfiguration": {"Cpu": "1 vCPU", "Memory": "2 GB"},
            "Tags": [{"Key": "team", "Value": "web"}],
        },
        "DescribeService": {"ServiceArn": running},
        "ListServices": {},
        "PauseService": {"ServiceArn": running},
        "ResumeService": {"ServiceArn": paused},
        "StartDeployment": {"ServiceArn": running},
        "UpdateService": {
            "ServiceArn": running,
            "SourceConfiguration": image_source("v2"),
            "HealthCheckConfiguration": {"Protocol": "HTTP", "Path": "/ready", "Interval": 10},
        },
        "ListOperations": {"ServiceArn": paused},
        "DeleteService": {"ServiceArn": running},
        "TagResource": {"ResourceArn": running, "Tags": [{"Key": "k", "Value": "v"}]},
        "UntagResource": {"ResourceArn": running, "TagKeys": ["k"]},
        "ListTagsForResource": {"ResourceArn": running},
    }
    if operation == "ListOperations":
        raw_call(emulator.url, "ResumeService", {"ServiceArn": paused})
        raw_call(emulator.url, "StartDeployment", {"ServiceArn": paused})
    return by_operation[operation]


@pytest.mark.parametrize(
    "operation",
    [*WARDEN_OPERATIONS, "TagResource", "UntagResource", "ListTagsForResource"],
)
def test_every_successful_answer_matches_the_botocore_output_shape(emulator: AppRunnerEmulator, operation: str) -> None:
    # Given the emulator arranged so that the operation succeeds
    params = _arrange(emulator, operation)
    # When it is called with a raw HTTP request
    answer = raw_call(emulator.url, operation, params)
    # Then the answer is a 200 whose JSON satisfies the model's output shape exactly
    assert answer.status == 200, answer.body
    assert_matches_output_shape(operation, answer.body)


@pytest.mark.parametrize("wanted", SERVICE_STATUSES)
def test_services_in_every_status_match_the_botocore_output_shapes(
    emulator: AppRunnerEmulator, apprunner: Any, clock: FakeClock, wanted: str
) -> None:
    # Given a service in the status
    arn = service_in_status(emulator, apprunner, clock, wanted)
    # When it is described, listed and its operations listed over raw HTTP
    described = raw_call(emulator.url, "DescribeService", {"ServiceArn": arn})
    listed = raw_call(emulator.url, "ListServices", {})
    history = raw_call(emulator.url, "ListOperations", {"ServiceArn": arn})
    # Then each answer satisfies the model, and the status is the one wanted
    assert described.body["Service"]["Status"] == wanted
    assert_matches_output_shape("DescribeService", described.body)
    assert_matches_output_shape("ListServices", listed.body)
    assert_matches_output_shape("ListOperations", history.body)


def test_paged_answers_match_the_botocore_output_shapes(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given more services and operations than fit a page
    for index in range(21):
        emulator.seed_service(f"service-{index:02d}", image())
    for _ in range(11):
        apprunner.pause_service(ServiceArn=running_arn)
        apprunner.resume_service(ServiceArn=running_arn)
    # When the first pages are fetched over raw HTTP
    services = raw_call(emulator.url, "ListServices", {"MaxResults": 20})
    history = raw_call(emulator.url, "ListOperations", {"ServiceArn": running_arn, "MaxResults": 20})
    # Then they carry a NextToken and satisfy the model
    assert "NextToken" in services.body
    assert "NextToken" in history.body
    assert_matches_output_shape("ListServices", services.body)
    assert_matches_output_shape("ListOperations", history.body)


def test_the_contract_checker_itself_catches_missing_unknown_mistyped_and_off_enum_members() -> None:
    # Given a DescribeService answer with four kinds of mistakes
    broken = {
        "Service": {
            "ServiceName": "consultation-app",
            "ServiceId": "a" * 32,
            "ServiceArn": f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/consultation-app/{'a' * 32}",
            "CreatedAt": "yesterday",
            "UpdatedAt": 1_700_000_000,
            "Status": "SLEEPING",
            "SourceConfiguration": {"ImageRepository": {"ImageIdentifier": image()}},
            "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048"},
            "AutoScalingConfigurationSummary": {},
            "NetworkConfiguration": {"IngressConfiguration": {"IsPubliclyAccessible": "yes"}},
            "Colour": "blue",
        }
    }
    # When it is checked
    problems = "\n".join(output_problems("DescribeService", broken))
    # Then each mistake is reported
    assert "Service.CreatedAt: expected epoch seconds" in problems
    assert "Service.Status: not one of the enum values" in problems
    assert "ImageRepository.ImageRepositoryType: required member missing" in problems
    assert "IsPubliclyAccessible: expected a boolean" in problems
    assert "Service.Colour: member unknown to shape Service" in problems


def _error_scenarios(emulator: AppRunnerEmulator) -> list[tuple[str, dict[str, Any], str]]:
    """(operation, params, expected code) for every error the emulator produces on its own."""
    running = emulator.seed_service("running-app", image())
    paused = emulator.seed_service("paused-app", image(), status="PAUSED")
    deleted = emulator.seed_service("deleted-app", image(), status="DELETED")
    busy = emulator.seed_service("busy-app", image(), status="OPERATION_IN_PROGRESS")
    ghost = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/ghost/{'e' * 32}"
    return [
        (
            "CreateService",
            {"ServiceName": "running-app", "SourceConfiguration": image_source()},
            "InvalidRequestException",
        ),
        (
            "CreateService",
            {"ServiceName": "x!", "SourceConfiguration": image_source()},
            "InvalidRequestException",
        ),
        ("DescribeService", {"ServiceArn": ghost}, "ResourceNotFoundException"),
        ("DescribeService", {"ServiceArn": "arn:nope"}, "InvalidRequestException"),
        ("DescribeService", {}, "InvalidRequestException"),
        ("ListServices", {"MaxResults": 21}, "InvalidRequestException"),
        ("ListServices", {"NextToken": "garbage!"}, "InvalidRequestException"),
        ("PauseService", {"ServiceArn": paused}, "InvalidStateException"),
        ("PauseService", {"ServiceArn": ghost}, "ResourceNotFoundException"),
        ("ResumeService", {"ServiceArn": running}, "InvalidStateException"),
        ("StartDeployment", {"ServiceArn": paused}, "InvalidRequestException"),
        ("StartDeployment", {"ServiceArn": busy}, "InvalidStateException"),
        ("StartDeployment", {"ServiceArn": ghost}, "ResourceNotFoundException"),
        ("UpdateService", {"ServiceArn": busy}, "InvalidStateException"),
        ("DeleteService", {"ServiceArn": deleted}, "InvalidStateException"),
        ("ListOperations", {"ServiceArn": running, "MaxResults": 21}, "InvalidRequestException"),
        ("ListOperations", {"ServiceArn": ghost}, "ResourceNotFoundException"),
        (
            "TagResource",
            {"ResourceArn": deleted, "Tags": [{"Key": "k", "Value": "v"}]},
            "InvalidStateException",
        ),
        ("ListTagsForResource", {"ResourceArn": ghost}, "ResourceNotFoundException"),
    ]


def test_every_error_the_emulator_produces_is_declared_by_the_model_for_that_operation(
    emulator: AppRunnerEmulator,
) -> None:
    # Given every kind of failing request
    for operation, params, expected in _error_scenarios(emulator):
        # When it is sent raw
        answer = raw_call(emulator.url, operation, params)
        # Then the code is the expected one, declared for the operation (or the one deliberate
        # exception), with the model's HTTP status, in both the body and the header
        where = f"{operation} {params}"
        assert answer.error_code == expected, where
        assert expected in declared_error_codes(operation) or (operation, expected) in UNDECLARED_BUT_DELIBERATE, where
        assert expected in modelled_error_codes()
        assert answer.status == expected_error_status(expected), where
        assert answer.headers["x-amzn-errortype"] == expected
        assert set(answer.body) == {"__type", "Message"}
        assert answer.body["Message"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InternalServiceErrorException", 500),
        ("ServiceQuotaExceededException", 400),
        ("ThrottlingException", 400),
    ],
)
def test_injected_errors_reach_botocore_with_their_code_and_only_injection_uses_generic_codes(
    emulator: AppRunnerEmulator, apprunner: Any, code: str, status: int
) -> None:
    # Given an injected error on CreateService
    emulator.inject_error("CreateService", code, status=status)
    # When a service is created
    with pytest.raises(ClientError) as error:
        create_service(apprunner)
    # Then botocore raises it with that code and status
    assert error_code(error) == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # And a code outside the model only ever appears because it was injected
    if code not in modelled_error_codes():
        assert code == "ThrottlingException"
    else:
        assert code in declared_error_codes("CreateService")


# --- Auto scaling configurations (the spend guard reads MinSize) ---------------------------------------------------


def test_the_default_auto_scaling_configuration_is_app_runners_and_matches_the_model(
    emulator: AppRunnerEmulator, apprunner: Any, running_arn: str
) -> None:
    # Given a service seeded with App Runner's default auto scaling configuration
    arn = apprunner.describe_service(ServiceArn=running_arn)["Service"]["AutoScalingConfigurationSummary"][
        "AutoScalingConfigurationArn"
    ]
    # When it is described over raw HTTP
    answer = raw_call(emulator.url, "DescribeAutoScalingConfiguration", {"AutoScalingConfigurationArn": arn})
    # Then the answer satisfies the model, with App Runner's defaults (1 to 25 instances, 100 requests each)
    assert answer.status == 200, answer.body
    assert_matches_output_shape("DescribeAutoScalingConfiguration", answer.body)
    configuration = answer.body["AutoScalingConfiguration"]
    assert (configuration["MinSize"], configuration["MaxSize"], configuration["MaxConcurrency"]) == (1, 25, 100)
    assert configuration["IsDefault"] is True
    assert configuration["HasAssociatedService"] is True


def test_a_seeded_auto_scaling_configuration_is_described_as_seeded(
    emulator: AppRunnerEmulator, apprunner: Any
) -> None:
    # Given a configuration keeping 3 instances warm, used by a service
    arn = emulator.seed_autoscaling_configuration("warm-three", min_size=3, max_size=10)
    emulator.seed_service("consultation-app", image(), autoscaling_arn=arn)
    # When botocore describes it
    configuration = apprunner.describe_auto_scaling_configuration(AutoScalingConfigurationArn=arn)[
        "AutoScalingConfiguration"
    ]
    # Then it is the seeded one
    assert (configuration["MinSize"], configuration["MaxSize"]) == (3, 10)
    assert configuration["AutoScalingConfigurationName"] == "warm-three"
    assert configuration["IsDefault"] is False
    assert_matches_output_shape(
        "DescribeAutoScalingConfiguration",
        raw_call(emulator.url, "DescribeAutoScalingConfiguration", {"AutoScalingConfigurationArn": arn}).body,
    )


def test_an_unknown_auto_scaling_configuration_is_not_found_and_a_malformed_arn_is_invalid(apprunner: Any) -> None:
    unknown = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:autoscalingconfiguration/nobody/1/{'a' * 32}"
    with pytest.raises(ClientError) as missing:
        apprunner.describe_auto_scaling_configuration(AutoScalingConfigurationArn=unknown)
    with pytest.raises(ClientError) as malformed:
        apprunner.describe_auto_scaling_configuration(
            AutoScalingConfigurationArn=f"arn:aws:apprunner:us-east-1:{ACCOUNT}:x"
        )
    assert error_code(missing) == "ResourceNotFoundException"
    assert error_code(malformed) == "InvalidRequestException"
    assert {"ResourceNotFoundException", "InvalidRequestException"} <= declared_error_codes(
        "DescribeAutoScalingConfiguration"
    )
