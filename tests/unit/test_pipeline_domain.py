"""The image pipeline's pure decisions: versions, build args, the tag the service follows, how a moved tag is
deployed, where a rollback goes, and when an automatic rollback may run (once, never a rollback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warden.domain.pipeline import (
    OBSERVED_SOURCE,
    RELEASE_SOURCE,
    ROLLBACK_SOURCE,
    AutoRollbackDecision,
    DeployAction,
    InvalidVersion,
    MissingBuildArg,
    ReleasePlan,
    RollbackTrigger,
    UntrackedService,
    choose_rollback_target,
    decide_auto_rollback,
    decide_deployment,
    judge_recorded,
    parse_build_arg_names,
    parse_env_file,
    require_version,
    resolve_build_args,
    tracked_tag,
)
from warden.domain.records import DeploymentRecord
from warden.domain.service import ServiceStatus

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
V1, V2, V3 = ("sha256:" + digit * 64 for digit in "123")
WINDOW = timedelta(minutes=30)


def deployed(digest: str, tag: str | None, minutes_ago: float, source: str = RELEASE_SOURCE) -> DeploymentRecord:
    return DeploymentRecord(digest=digest, tag=tag, at=NOW - timedelta(minutes=minutes_ago), source=source)


# --- versions and build args --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1.2.0", "1.2.0", "v1.2.0-rc.1", "v10.0.3"])
def test_a_semantic_version_is_accepted_as_given(version: str) -> None:
    assert require_version(f" {version} ") == version


@pytest.mark.parametrize("version", ["latest", "1.2", "v1", "v1.2.0.1", "release-7"])
def test_anything_else_is_refused_with_an_example_of_a_good_version(version: str) -> None:
    with pytest.raises(InvalidVersion, match=r"semantic version.*v1\.2\.0"):
        require_version(version)


def test_build_arg_names_are_a_deduplicated_comma_list() -> None:
    assert parse_build_arg_names(" NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY, API_URL,,API_URL ") == (
        "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",
        "API_URL",
    )


def test_a_build_arg_given_with_its_value_is_refused_without_repeating_the_value() -> None:
    # Given someone who put the secret itself into RELEASE_BUILD_ARGS
    with pytest.raises(ValueError, match="names only") as refused:
        parse_build_arg_names("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=pk_test_CANARY123")
    # Then the error names the variable but never echoes the value
    assert "pk_test_CANARY123" not in str(refused.value)


def test_an_env_file_reads_comments_exports_quotes_and_inline_comments() -> None:
    text = "\n".join(
        [
            "# Clerk",
            "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=pk_test_CANARY123",
            "export API_URL = https://api.example.com  # prod",
            'QUOTED="a # not a comment"',
            "SINGLE='single # quoted'  # comment",
            'ESCAPED="line\\nnext \\"q\\""',
            "EMPTY=",
            "",
        ]
    )
    assert parse_env_file(text) == {
        "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY": "pk_test_CANARY123",
        "API_URL": "https://api.example.com",
        "QUOTED": "a # not a comment",
        "SINGLE": "single # quoted",
        "ESCAPED": 'line\nnext "q"',
        "EMPTY": "",
    }


def test_a_bad_env_file_line_is_named_by_number_never_by_content() -> None:
    with pytest.raises(ValueError, match="line 2 is not KEY=VALUE") as refused:
        parse_env_file("A=1\nsk_live_SECRET_WITHOUT_KEY\n")
    assert "sk_live" not in str(refused.value)


def test_build_arg_values_come_from_the_environment_first_then_the_env_file() -> None:
    values = resolve_build_args(
        ["A", "B"], environ={"A": "from-env"}, env_file={"A": "from-file", "B": "file-only"}, env_file_name=".env"
    )
    assert values == {"A": "from-env", "B": "file-only"}


def test_a_build_arg_without_a_value_anywhere_is_named_with_where_warden_looked() -> None:
    with pytest.raises(MissingBuildArg, match=r"build arg API_URL has no value: set it in the environment or \.env"):
        resolve_build_args(["API_URL"], environ={}, env_file={}, env_file_name=".env")


# --- the tag the service follows ----------------------------------------------------------------------


def test_the_service_following_latest_of_the_repository_is_tracked() -> None:
    tracked = tracked_tag(
        f"{REGISTRY}/consultation-app:latest",
        account_id="123456789012",
        region="us-east-1",
        repository="consultation-app",
    )
    assert (tracked.tag, tracked.tags_to_move) == ("latest", ("latest",))


def test_a_service_following_another_tag_moves_that_tag_and_latest() -> None:
    tracked = tracked_tag(
        f"{REGISTRY}/consultation-app:prod",
        account_id="123456789012",
        region="us-east-1",
        repository="consultation-app",
    )
    assert tracked.tags_to_move == ("prod", "latest")


@pytest.mark.parametrize(
    ("identifier", "why"),
    [
        (f"{REGISTRY}/other-app:latest", "not in ECR_REPOSITORY"),
        (f"{REGISTRY}/consultation-app@{V1}", "pinned digest"),
        (f"{REGISTRY}/consultation-app:v1.1.0", "pinned to the version tag v1.1.0"),
        ("public.ecr.aws/nginx/nginx:latest", "not in ECR_REPOSITORY"),
        (None, "no ImageIdentifier"),
    ],
)
def test_a_service_that_no_tag_move_can_reach_is_refused_with_the_reason(identifier: str | None, why: str) -> None:
    with pytest.raises(UntrackedService, match=why):
        tracked_tag(identifier, account_id="123456789012", region="us-east-1", repository="consultation-app")


# --- how a moved tag is deployed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "auto", "action"),
    [
        (ServiceStatus.RUNNING, False, DeployAction.START),
        (ServiceStatus.RUNNING, None, DeployAction.START),
        (ServiceStatus.RUNNING, True, DeployAction.AUTOMATIC),
        (ServiceStatus.PAUSED, False, DeployAction.AFTER_RESUME),
        (ServiceStatus.PAUSED, True, DeployAction.AFTER_RESUME),
        (ServiceStatus.OPERATION_IN_PROGRESS, False, DeployAction.DEFERRED),
        (ServiceStatus.CREATE_FAILED, False, DeployAction.UNAVAILABLE),
        (ServiceStatus.DELETED, True, DeployAction.UNAVAILABLE),
    ],
)
def test_a_moved_tag_is_deployed_now_by_app_runner_or_after_the_resume(
    status: ServiceStatus, auto: bool | None, action: DeployAction
) -> None:
    decision = decide_deployment(status, auto)
    assert decision.action is action
    assert decision.reason
    assert decision.pending is (action in {DeployAction.AFTER_RESUME, DeployAction.DEFERRED})


def test_a_paused_service_is_deployed_after_the_resume_because_resume_brings_back_the_old_version() -> None:
    assert (
        "a resume redeploys the version from before the pause" in decide_deployment(ServiceStatus.PAUSED, True).reason
    )


# --- the rollback target --------------------------------------------------------------------------------


def test_the_rollback_target_is_the_newest_deployment_that_is_not_what_latest_points_at() -> None:
    history = [deployed(V3, "v1.3.0", 10), deployed(V3, "v1.3.0", 60, OBSERVED_SOURCE), deployed(V2, "v1.2.0", 900)]
    target = choose_rollback_target(history, current_digest=V3)
    assert target is not None
    assert (target.digest, target.tag, target.label) == (V2, "v1.2.0", "v1.2.0 (sha256:222222222222)")


def test_a_release_that_was_rolled_back_is_no_target_for_the_next_rollback() -> None:
    # Given v1.3.0 failed and was rolled back to v1.2.0, which now runs
    history = [
        deployed(V2, "v1.2.0", 5, ROLLBACK_SOURCE),
        deployed(V3, "v1.3.0", 20),
        deployed(V2, "v1.2.0", 900),
        deployed(V1, "v1.1.0", 3000),
    ]
    # When the operator rolls back again, Then it goes further back, not forward to the failed v1.3.0
    target = choose_rollback_target(history, current_digest=V2)
    assert target is not None
    assert target.tag == "v1.1.0"


def test_without_a_current_digest_the_newest_deployment_counts_as_current() -> None:
    target = choose_rollback_target([deployed(V2, "v1.2.0", 5), deployed(V1, "v1.1.0", 50)], current_digest=None)
    assert target is not None
    assert target.digest == V1


def test_a_history_of_one_image_has_no_rollback_target() -> None:
    assert choose_rollback_target([deployed(V1, "v1.1.0", 5), deployed(V1, "v1.1.0", 50)], current_digest=V1) is None
    assert choose_rollback_target([], current_digest=V1) is None


# --- the automatic rollback: once, never a rollback, an alarm only soon after a deployment ---------------


def auto(
    trigger: RollbackTrigger, history: list[DeploymentRecord], current: str | None, *, enabled: bool = True
) -> AutoRollbackDecision:
    judged = judge_recorded(trigger, history, current)
    return decide_auto_rollback(trigger, enabled=enabled, judged=judged, now=NOW, window=WINDOW)


def test_automatic_rollback_is_off_unless_enabled() -> None:
    decision = auto(RollbackTrigger.FAILED_DEPLOYMENT, [deployed(V2, "v1.2.0", 5)], V2, enabled=False)
    assert not decision.allowed
    assert "AUTO_ROLLBACK=false" in decision.reason


def test_an_alarm_soon_after_a_release_may_roll_it_back() -> None:
    history = [deployed(V2, "v1.2.0", 12), deployed(V1, "v1.1.0", 3000)]
    decision = auto(RollbackTrigger.ALARM, history, V2)
    assert decision.allowed
    assert (
        decision.reason
        == "the alarm came 12 minutes after the deployment of v1.2.0 at 2026-11-24 09:18 UTC, within 30 minutes"
    )
    assert decision.bad_digest == V2


def test_an_alarm_after_the_window_is_not_blamed_on_the_release() -> None:
    decision = auto(RollbackTrigger.ALARM, [deployed(V2, "v1.2.0", 31), deployed(V1, "v1.1.0", 3000)], V2)
    assert not decision.allowed
    assert "31 minutes ago, outside the 30-minute rollback window (ROLLBACK_WINDOW_MINUTES)" in decision.reason


def test_an_alarm_after_a_rollback_never_rolls_back_the_rollback() -> None:
    history = [deployed(V1, "v1.1.0", 2, ROLLBACK_SOURCE), deployed(V2, "v1.2.0", 12)]
    decision = auto(RollbackTrigger.ALARM, history, V1)
    assert not decision.allowed
    assert "itself a rollback: Warden never rolls back a rollback" in decision.reason


def test_a_failed_release_may_be_rolled_back_whenever_it_fails() -> None:
    decision = auto(RollbackTrigger.FAILED_DEPLOYMENT, [deployed(V2, "v1.2.0", 300), deployed(V1, "v1.1.0", 3000)], V2)
    assert decision.allowed
    assert decision.reason == "the deployment of v1.2.0 at 2026-11-24 04:30 UTC failed"


def test_a_failed_rollback_deployment_is_never_rolled_back() -> None:
    history = [deployed(V1, "v1.1.0", 1, ROLLBACK_SOURCE), deployed(V2, "v1.2.0", 12)]
    assert not auto(RollbackTrigger.FAILED_DEPLOYMENT, history, V1).allowed


def test_a_failed_deployment_of_an_image_pushed_outside_warden_after_a_rollback_may_be_rolled_back() -> None:
    # Given a rollback to v1.1.0, then someone pushed V3 by hand and its deployment failed
    history = [deployed(V1, "v1.1.0", 60, ROLLBACK_SOURCE), deployed(V2, "v1.2.0", 120)]
    decision = auto(RollbackTrigger.FAILED_DEPLOYMENT, history, V3)
    # Then the judged deployment is V3's, not the rollback's
    assert decision.allowed
    assert decision.bad_digest == V3
    assert decision.attempt_key == f"rollback#{V3}#unrecorded"


def test_the_attempt_key_names_the_deployment_so_a_second_trigger_for_it_finds_the_first() -> None:
    history = [deployed(V2, "v1.2.0", 12), deployed(V1, "v1.1.0", 3000)]
    failed = auto(RollbackTrigger.FAILED_DEPLOYMENT, history, V2)
    alarmed = auto(RollbackTrigger.ALARM, history, V2)
    assert failed.attempt_key == alarmed.attempt_key == f"rollback#{V2}#{history[0].at.isoformat()}"


def test_without_history_nothing_is_rolled_back_automatically() -> None:
    decision = auto(RollbackTrigger.FAILED_DEPLOYMENT, [], V2)
    assert not decision.allowed
    assert "no deployment on record" in decision.reason


# --- docker command lines -------------------------------------------------------------------------------


def test_the_release_plan_is_the_tutorials_commands_with_build_arg_names_and_the_password_on_stdin() -> None:
    plan = ReleasePlan(
        version="v1.2.0",
        repository="consultation-app",
        repository_uri=f"{REGISTRY}/consultation-app",
        context=".",
        build_args=("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",),
    )
    image = f"{REGISTRY}/consultation-app"
    assert plan.commands() == [
        [
            "docker",
            "build",
            "--platform",
            "linux/amd64",
            "-t",
            f"{image}:v1.2.0",
            "--build-arg",
            "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",
            ".",
        ],
        ["docker", "tag", f"{image}:v1.2.0", f"{image}:latest"],
        ["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY],
        ["docker", "push", f"{image}:v1.2.0"],
        ["docker", "push", f"{image}:latest"],
    ]
