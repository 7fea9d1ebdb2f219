"""App Runner operation events: both key casings read, what the watcher does with each status, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.deployment_events import operation_event
from tests.events import load_event
from warden.domain.deployments import (
    OperationInfo,
    OperationKind,
    Phase,
    Watch,
    decide_watch,
    failure_explanation,
    operation_duration,
    read_operation_status,
)
from warden.errors import UnparseableMessage
from warden.models.deployment import parse_operation_event
from warden.settings import ServiceRef

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/8f3e0b7c9d2a4e6f8a1b2c3d4e5f6a7b"
T0 = datetime(2026, 11, 24, 9, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "fixture",
    [
        "deployment-started",
        "deployment-succeeded",
        "deployment-failed",
        "deployment-failed-other-casing",
        "update-failed",
        "pause-completed",
    ],
)
def test_every_fixture_parses_and_names_a_parseable_service(fixture: str) -> None:
    event = parse_operation_event(load_event("on_deployment", fixture))
    assert event.service_arn is not None
    assert ServiceRef.parse(event.service_arn).name == "consultation-app"
    assert event.delivery_key == f"apprunner#{event.event_id}"


def test_the_doc_samples_camel_status_and_pascal_name_are_read() -> None:
    event = parse_operation_event(load_event("on_deployment", "deployment-failed"))
    assert (event.operation_status, event.service_name) == ("DeploymentFailed", "consultation-app")
    assert event.message == "Deployment failed. Health check failed on path /health."
    assert event.time == datetime(2026, 11, 24, 9, 19, 55, tzinfo=UTC)


def test_the_reference_tables_status_and_camel_name_are_read_too() -> None:
    event = parse_operation_event(load_event("on_deployment", "deployment-failed-other-casing"))
    assert (event.operation_status, event.service_name, event.message) == (
        "DeploymentFailed",
        "consultation-app",
        None,
    )


def test_the_fixture_builder_retargets_service_time_and_id() -> None:
    other = "arn:aws:apprunner:us-east-1:123456789012:service/other-app/" + "a" * 32
    raw = operation_event("deployment-succeeded", service_arn=other, at=T0)
    event = parse_operation_event(raw)
    assert (event.service_arn, event.service_name, event.time) == (other, "other-app", T0)
    assert raw["detail"]["ServiceId"] == "a" * 32
    assert event.event_id != parse_operation_event(load_event("on_deployment", "deployment-succeeded")).event_id


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda event: event.update({"source": "aws.ecr"}), "is not an App Runner"),
        (lambda event: event.update({"detail-type": "AppRunner Service Status Change"}), "is not an App Runner"),
        (lambda event: event["detail"].pop("operationStatus"), "no operation status"),
        (lambda event: event.update({"detail": "text"}), "detail is not an object"),
        (lambda event: event.update({"time": "yesterday"}), "not an ISO 8601 time"),
        (lambda event: event.pop("id"), "has no id"),
    ],
)
def test_anything_else_is_refused_with_a_readable_reason(mutate: object, why: str) -> None:
    event = load_event("on_deployment", "deployment-failed")
    mutate(event)  # type: ignore[operator]
    with pytest.raises(UnparseableMessage, match=why):
        parse_operation_event(event)


@pytest.mark.parametrize(
    ("status", "kind", "phase", "watch"),
    [
        ("DeploymentStarted", OperationKind.DEPLOYMENT, Phase.STARTED, Watch.REMEMBER_START),
        ("DeploymentCompletedSuccessfully", OperationKind.DEPLOYMENT, Phase.SUCCEEDED, Watch.NOTIFY),
        ("DeploymentFailed", OperationKind.DEPLOYMENT, Phase.FAILED, Watch.NOTIFY),
        ("UpdateServiceCompletedSuccessfully", OperationKind.UPDATE, Phase.SUCCEEDED, Watch.NOTIFY),
        ("UpdateServiceFailed", OperationKind.UPDATE, Phase.FAILED, Watch.NOTIFY),
        ("PauseServiceCompletedSuccessfully", OperationKind.PAUSE_RESUME, Phase.SUCCEEDED, Watch.IGNORE),
        ("ResumeServiceFailed", OperationKind.PAUSE_RESUME, Phase.FAILED, Watch.IGNORE),
        ("CreateServiceFailed", OperationKind.OTHER, Phase.FAILED, Watch.IGNORE),
        ("DeploymentRumoured", OperationKind.DEPLOYMENT, Phase.UNKNOWN, Watch.IGNORE),
    ],
)
def test_deployments_and_updates_are_reported_pauses_and_the_rest_ignored(
    status: str, kind: OperationKind, phase: Phase, watch: Watch
) -> None:
    read = read_operation_status(status)
    assert (read.kind, read.phase) == (kind, phase)
    assert decide_watch(read).watch is watch


def test_a_pause_is_ignored_because_warden_reports_pauses_itself() -> None:
    decision = decide_watch(read_operation_status("PauseServiceCompletedSuccessfully"))
    assert decision.reason.startswith("ignored, because PauseServiceCompletedSuccessfully is a pause or resume")
    assert "Warden reports itself" in decision.reason


def test_the_duration_comes_from_the_operation_then_the_remembered_start() -> None:
    ended = T0 + timedelta(minutes=4, seconds=38)
    operation = OperationInfo(id="op", type="START_DEPLOYMENT", status="SUCCEEDED", started_at=T0, ended_at=ended)
    assert operation_duration(operation, None, ended + timedelta(minutes=1)) == timedelta(minutes=4, seconds=38)
    running = operation.model_copy(update={"ended_at": None})
    assert operation_duration(running, None, ended) == timedelta(minutes=4, seconds=38)
    assert operation_duration(None, T0, ended) == timedelta(minutes=4, seconds=38)
    assert operation_duration(None, None, ended) is None
    assert operation_duration(None, ended + timedelta(seconds=1), ended) is None


def test_a_failed_deployments_operation_says_what_app_runner_did() -> None:
    rolled = OperationInfo(id="op", type="START_DEPLOYMENT", status="ROLLBACK_SUCCEEDED")
    assert "rolled the service back to the version that ran before" in failure_explanation(rolled)
    stuck = rolled.model_copy(update={"status": "ROLLBACK_FAILED"})
    assert "could not roll the service back either" in failure_explanation(stuck)
    assert failure_explanation(None) == ""
