"""on_deployment and on_alarm's rollback action, run as Lambda would run them, against moto's ECR and the App
Runner emulator: a failed deployment rolls back once, a failing rollback is critical and never tried again, an
alarm soon after a deployment rolls back once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.deployment_events import operation_event
from local.invoke import invoke
from tests.integration.pipeline_world import Pipeline, Releases, make_pipeline

pytestmark = pytest.mark.integration

AUTO = {"AUTO_ROLLBACK": "true"}


@pytest.fixture
def pipeline(account: LocalAccount, tmp_path: Path) -> Pipeline:
    made = make_pipeline(account, tmp_path)
    made.auto_deploy(False)
    return made


def watch(pipeline: Pipeline, fixture: str, *, event_id: str | None = None, **env: str) -> dict[str, Any]:
    event = operation_event(fixture, service_arn=pipeline.account.service_arn, event_id=event_id)
    (result,) = invoke("on_deployment", event, {**pipeline.account.env(), **env})["results"]
    return dict(result)


def rollback_records(pipeline: Pipeline) -> list[str]:
    history = pipeline.warden("history")
    return [line.split()[4] for line in history.stdout.splitlines() if " rollback " in line]


def test_a_successful_deployment_is_reported_with_its_version_and_duration(pipeline: Pipeline) -> None:
    # Given v1.2.0 released and deployed by App Runner
    releases = Releases(pipeline)
    releases.deploy()
    # When App Runner reports the deployment's success
    result = watch(pipeline, "deployment-succeeded")
    # Then the operator reads which version runs and how long it took (from ListOperations)
    assert result["outcome"] == "deployed"
    (message,) = pipeline.account.inbox()
    assert message.attributes == {"event": "deployment.succeeded", "severity": "info"}
    assert "v1.2.0" in message.subject
    assert "ended SUCCEEDED" in message.body
    assert "warden rollback v1.1.0" in message.body


def test_one_failed_deployment_rolls_back_once(pipeline: Pipeline) -> None:
    # Given auto-rollback on, and the deployment of v1.2.0 failing (App Runner rolls the service back itself)
    releases = Releases(pipeline)
    releases.deploy(fails=True)
    assert pipeline.deployments_started() == 1
    event_id = "a41c8e2b-5d7f-4b3a-8e6c-9d0f1a2b3c4d"
    # When App Runner reports the failure
    result = watch(pipeline, "deployment-failed", event_id=event_id, **AUTO)
    # Then latest points at v1.1.0 again and its deployment started: one rollback
    assert result["outcome"] == "rolled_back"
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert pipeline.deployments_started() == 2
    (message,) = pipeline.account.inbox()
    assert message.attributes == {"event": "deployment.rolled_back", "severity": "warning"}
    assert "Deployment failed. Health check failed on path /health." in message.body  # App Runner's own reason
    assert "App Runner rolled the service back to the version that ran before" in message.body
    # When EventBridge delivers the same event again, Then nothing more happens
    again = watch(pipeline, "deployment-failed", event_id=event_id, **AUTO)
    assert again["outcome"] == "duplicate"
    assert pipeline.deployments_started() == 2
    assert pipeline.account.inbox() == []
    # When the rollback's deployment succeeds, Then it is reported (as the rollback it is: the unit tests' facts)
    done = watch(pipeline, "deployment-succeeded", **AUTO)
    assert done["outcome"] == "deployed"
    (report,) = pipeline.account.inbox()
    assert report.attributes == {"event": "deployment.succeeded", "severity": "info"}
    assert "v1.1.0" in report.subject
    assert rollback_records(pipeline) == ["done"]


def test_a_failing_rollback_is_a_critical_notification_and_is_never_attempted_again(pipeline: Pipeline) -> None:
    # Given auto-rollback on, v1.1.0's image deleted from ECR, and the deployment of v1.2.0 failing
    releases = Releases(pipeline)
    releases.delete("v1.1.0")
    releases.deploy(fails=True)
    # When App Runner reports the failure
    result = watch(pipeline, "deployment-failed", **AUTO)
    # Then the rollback fails, loudly, and nothing moved
    assert result["outcome"] == "rollback_failed"
    (message,) = pipeline.account.inbox()
    assert message.attributes == {"event": "deployment.rollback_failed", "severity": "critical"}
    assert "is no longer in consultation-app" in message.body
    assert "warden rollback v1.1.0" in message.body
    assert pipeline.digest_of("latest") == releases.digests["v1.2.0"]
    # When the same deployment fails again (a second event), Then Warden does not try a second time
    second = watch(pipeline, "deployment-failed", **AUTO)
    assert second["outcome"] == "rollback_declined"
    assert "already tried to roll back this deployment" in pipeline.account.inbox()[0].body
    assert pipeline.deployments_started() == 1
    assert rollback_records(pipeline) == ["skipped", "failed"]


def test_an_alarm_soon_after_a_deployment_with_the_rollback_action_rolls_back_once(pipeline: Pipeline) -> None:
    # Given v1.2.0 deployed ten minutes ago, auto-rollback on, and the 5xx-rate alarm mapped to rollback
    releases = Releases(pipeline, latest_minutes_ago=10)
    env = {**pipeline.account.env(), **AUTO, "ALARM_ACTIONS": "warden-5xx-rate=rollback,warden-p99-latency=rollback"}
    now = datetime.now(UTC)
    # When the alarm fires
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=pipeline.account.service_arn, changed_at=now)
    (result,) = invoke("on_alarm", fired, env)["results"]
    # Then Warden rolled back to v1.1.0 and deployed it, and the alarm's message says so
    assert result["outcome"] == "rollback"
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert pipeline.deployments_started() == 1
    (message,) = pipeline.account.inbox()
    assert message.subject.startswith("[warden] ROLLING BACK consultation-app")
    assert "v1.1.0" in message.body
    # When another alarm with the rollback action fires a minute later
    other = alarm_event(
        "sns-5xx-rate-alarm", service_arn=pipeline.account.service_arn, changed_at=now, alarm_name="warden-p99-latency"
    )
    (second,) = invoke("on_alarm", other, env)["results"]
    # Then it does not roll back the rollback
    assert second["outcome"] == "rollback_declined"
    assert "never rolls back a rollback" in pipeline.account.inbox()[0].body
    assert pipeline.digest_of("latest") == releases.digests["v1.1.0"]
    assert pipeline.deployments_started() == 1


def test_an_alarm_rollback_without_auto_rollback_is_declined_with_the_setting_to_change(pipeline: Pipeline) -> None:
    releases = Releases(pipeline, latest_minutes_ago=10)
    env = {**pipeline.account.env(), "ALARM_ACTIONS": "warden-5xx-rate=rollback"}
    fired = alarm_event("sns-5xx-rate-alarm", service_arn=pipeline.account.service_arn, changed_at=datetime.now(UTC))
    (result,) = invoke("on_alarm", fired, env)["results"]
    assert result["outcome"] == "rollback_declined"
    assert "AUTO_ROLLBACK=false" in pipeline.account.inbox()[0].body
    assert pipeline.digest_of("latest") == releases.digests["v1.2.0"]


def test_pause_events_are_ignored_because_warden_reports_pauses_itself(pipeline: Pipeline) -> None:
    result = watch(pipeline, "pause-completed")
    assert result["outcome"] == "ignored"
    assert "Warden reports itself" in result["reason"]
    assert pipeline.account.inbox() == []
