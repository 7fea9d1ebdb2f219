"""Every pause notification ends with the exact commands that undo it, right for the kind of service."""

from __future__ import annotations

import shlex
from typing import Any

from tests.fakes import FakeState, platform_target
from warden.domain.claims import ClaimReason
from warden.domain.service import ECS_PAUSE_MEMO
from warden.settings import Settings
from warden.usecases.undo import undo_pause_lines

APPRUNNER_ARN = "arn:aws:apprunner:eu-west-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/prod/consultation-app"


def platform(arn: str) -> Any:
    """The real target of the ARN's platform: its by-hand commands are its own."""
    return platform_target(arn, controller=None)


def settings(arn: str) -> Settings:
    return Settings.from_env(
        {
            "SERVICE_ARN": arn,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": "consultation-app-monthly",
        }
    )


def test_an_app_runner_pause_is_undone_with_app_runners_own_resume() -> None:
    # Given an App Runner service paused by the budget
    # When the undo lines are written
    lines = undo_pause_lines(
        platform(APPRUNNER_ARN), settings(APPRUNNER_ARN), ClaimReason.BUDGET, "budget", state=FakeState()
    )
    # Then they resume it through Warden or App Runner, after clearing the claim
    assert lines[1] == '  warden resume --override budget --reason "<why>" --service consultation-app'
    assert lines[-1] == f"  aws apprunner resume-service --service-arn {APPRUNNER_ARN} --region eu-west-1"
    assert not any("aws ecs" in line for line in lines)


def test_an_ecs_pause_is_undone_with_the_exact_count_and_scaling_target_it_remembered() -> None:
    # Given an ECS service whose pause remembered 3 tasks and a 2..6 target with scheduled scaling suspended
    state = FakeState()
    state.put_memo(
        ECS_ARN,
        ECS_PAUSE_MEMO,
        {
            "desired_count": "3",
            "path": "ecs",
            "scalable_target": '{"minimum":2,"maximum":6,"scaling_in_suspended":false,'
            '"scaling_out_suspended":false,"scheduled_suspended":true}',
        },
    )
    # When the undo lines are written for the alarm's claim
    lines = undo_pause_lines(platform(ECS_ARN), settings(ECS_ARN), ClaimReason.ALARM, "alarm:warden-cpu", state=state)
    # Then the target goes back first (or scaling would undo the count), then the desired count
    target, count = lines[-2], lines[-1]
    assert shlex.split(target)[:3] == ["aws", "application-autoscaling", "register-scalable-target"]
    assert "--resource-id service/prod/consultation-app" in target
    assert "--min-capacity 2 --max-capacity 6" in target
    assert (
        "--suspended-state DynamicScalingInSuspended=false,DynamicScalingOutSuspended=false,"
        "ScheduledScalingSuspended=true" in target
    )
    assert shlex.split(count) == [
        "aws", "ecs", "update-service", "--cluster", "prod", "--service", "consultation-app",
        "--region", "eu-west-1", "--desired-count", "3",
    ]  # fmt: skip
    assert not any("apprunner" in line for line in lines)


def test_an_ecs_pause_without_a_scaling_target_restores_only_the_desired_count() -> None:
    # Given a paused ECS service that had no Auto Scaling target
    state = FakeState()
    state.put_memo(ECS_ARN, ECS_PAUSE_MEMO, {"desired_count": "1", "path": "ecs"})
    # When the undo lines are written
    lines = undo_pause_lines(platform(ECS_ARN), settings(ECS_ARN), ClaimReason.MANUAL, "manual", state=state)
    # Then no target is registered and the one task comes back
    assert lines[1] == '  warden resume --reason "<why>" --service consultation-app'
    assert not any("register-scalable-target" in line for line in lines)
    assert lines[-1].endswith("--desired-count 1")


def test_an_express_pause_is_undone_through_the_express_api_with_the_remembered_task_counts() -> None:
    # Given an Express Mode service paused through its own API, 1..5 tasks before
    state = FakeState()
    state.put_memo(
        ECS_ARN,
        ECS_PAUSE_MEMO,
        {"desired_count": "2", "path": "express", "express_scaling": '{"minTaskCount": 1, "maxTaskCount": 5}'},
    )
    # When the undo lines are written
    lines = undo_pause_lines(platform(ECS_ARN), settings(ECS_ARN), ClaimReason.BUDGET, "budget", state=state)
    # Then the Express scaling target is put back as it was
    assert shlex.split(lines[-1]) == [
        "aws", "ecs", "update-express-gateway-service", "--service-arn", ECS_ARN,
        "--scaling-target", '{"minTaskCount":1,"maxTaskCount":5}', "--region", "eu-west-1",
    ]  # fmt: skip


def test_an_ecs_notification_without_the_memo_says_where_the_remembered_numbers_are() -> None:
    # Given a dry run, so nothing was remembered
    # When the undo lines are written
    lines = undo_pause_lines(platform(ECS_ARN), settings(ECS_ARN), ClaimReason.BUDGET, "budget", state=FakeState())
    # Then they point at the memo and leave the count as a placeholder rather than guessing it
    assert any("aws dynamodb get-item" in line and "MEMO#ecs_pause" in line for line in lines)
    assert lines[-1].endswith("--desired-count <desired_count> --region eu-west-1")


def test_the_status_says_what_a_resume_of_a_paused_ecs_service_puts_back() -> None:
    # Given a paused ECS service (3 tasks, 2..6), an Express one (1..5), and an App Runner service
    ecs, express = FakeState(), FakeState()
    ecs.put_memo(
        ECS_ARN, ECS_PAUSE_MEMO, {"desired_count": "3", "path": "ecs", "scalable_target": '{"minimum":2,"maximum":6}'}
    )
    express.put_memo(
        ECS_ARN, ECS_PAUSE_MEMO, {"path": "express", "express_scaling": '{"minTaskCount":1,"maxTaskCount":5}'}
    )
    # When the remembered scale is put in words / Then it names the numbers, and nothing where none is remembered
    assert platform(ECS_ARN).remembered_scale(ecs) == "3 tasks, auto scaling 2..6"
    assert platform(ECS_ARN).remembered_scale(express) == "Express scaling 1..5 tasks"
    assert platform(ECS_ARN).remembered_scale(FakeState()) is None
    assert platform(APPRUNNER_ARN).remembered_scale(ecs) is None
