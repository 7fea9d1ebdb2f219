"""The deployment watcher and the rollback in template.yaml: the event rule, scoped permissions, the settings."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import function_statements
from warden.settings import Settings

pytestmark = pytest.mark.template

REPOSITORY_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${EcrRepository}"}


def statements(template: dict[str, Any], function: str) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """Sid -> (condition or None, statement), as written inline or in a managed policy the function attaches."""
    found: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for written in function_statements(template, function):
        if "Fn::If" in written:
            condition, statement, otherwise = written["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            found[statement["Sid"]] = (condition, statement)
        else:
            found[written["Sid"]] = (None, written)
    return found


def test_the_watcher_hears_every_deployment_of_both_platforms_and_the_handler_picks_the_guarded_ones(
    template: dict[str, Any],
) -> None:
    # Given the function's EventBridge rules
    function = template["Resources"]["OnDeploymentFunction"]["Properties"]
    events = function["Events"]
    # Then they filter on source and detail-type only: a service tagged warden:guard=true joins the fleet without a
    # redeploy, so no ARN written here could name it (the handler matches the event's resources against the fleet,
    # tests/integration/test_on_deployment.py; App Runner's detail keys vary in casing)
    assert {name: event["Type"] for name, event in events.items()} == {
        "OperationStatusChange": "EventBridgeRule",
        "EcsDeploymentStateChange": "EventBridgeRule",
    }
    assert events["OperationStatusChange"]["Properties"]["Pattern"] == {
        "source": ["aws.apprunner"],
        "detail-type": ["AppRunner Service Operation Status Change"],
    }
    assert events["EcsDeploymentStateChange"]["Properties"]["Pattern"] == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
    }
    assert function["CodeUri"] == "functions/on_deployment"
    assert template["Resources"]["OnDeploymentLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${OnDeploymentFunction}"
    }


LISTED = {
    "Fn::If": [
        "HasServiceArns",
        {
            "Fn::If": [
                "HasServiceArn",
                {"Fn::Split": [",", {"Fn::Sub": "${ServiceArn},${ServiceArns}"}]},
                {"Fn::Split": [",", {"Ref": "ServiceArns"}]},
            ]
        },
        {"Fn::Split": [",", {"Ref": "ServiceArn"}]},
    ]
}
TAG_CONDITION = {"StringEqualsIgnoreCase": {"aws:ResourceTag/warden:guard": "true"}}


def test_the_watcher_may_deploy_the_guarded_services_but_never_pause_them(template: dict[str, Any]) -> None:
    written = statements(template, "OnDeploymentFunction")
    app_runner = ["apprunner:DescribeService", "apprunner:ListOperations", "apprunner:StartDeployment"]
    # App Runner: the listed services (while one is listed) and those tagged warden:guard=true, nothing to pause
    condition, listed = written["WatchAndDeployGuardedAppRunnerService"]
    assert (condition, sorted(listed["Action"]), listed["Resource"]) == ("HasListedServices", app_runner, LISTED)
    condition, tagged = written["WatchAndDeployTaggedAppRunnerServices"]
    assert (condition, sorted(tagged["Action"]), tagged["Condition"]) == (None, app_runner, TAG_CONDITION)
    assert tagged["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apprunner:${AWS::Region}:${AWS::AccountId}:service/*"
    }
    # On ECS: the guarded services' deployments and UpdateService (an earlier revision), the read-only task
    # definition calls on "*" (no resource-level permission), and never iam:PassRole (Warden registers nothing)
    condition, ecs = written["WatchAndDeployGuardedEcsService"]
    assert (condition, sorted(ecs["Action"]), ecs["Resource"]) == (
        "HasListedServices",
        ["ecs:DescribeServices", "ecs:UpdateService"],
        LISTED,
    )
    condition, tagged_ecs = written["WatchAndDeployTaggedEcsServices"]
    assert (condition, sorted(tagged_ecs["Action"]), tagged_ecs["Condition"]) == (
        None,
        ["ecs:DescribeServices", "ecs:UpdateService"],
        TAG_CONDITION,
    )
    condition, revisions = written["ReadTaskDefinitionRevisions"]
    assert (condition, sorted(revisions["Action"])) == (None, ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"])
    everything = str(function_statements(template, "OnDeploymentFunction"))
    assert "iam:PassRole" not in everything
    assert "PauseService" not in everything
    assert "ResumeService" not in everything


@pytest.mark.parametrize(
    ("function", "sid", "actions"),
    [
        (
            "OnDeploymentFunction",
            "ReadAndRollBackAppImages",
            ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:PutImage"],
        ),
        ("OnAlarmFunction", "RollBackAppImage", ["ecr:BatchGetImage", "ecr:PutImage"]),
    ],
)
def test_rolling_back_may_re_tag_images_of_the_apps_repository_only_when_one_is_named_and_app_runner_is_guarded(
    template: dict[str, Any], function: str, sid: str, actions: list[str]
) -> None:
    condition, statement = statements(template, function)[sid]
    assert condition == "AppRunnerWithEcrRepository"
    assert template["Conditions"][condition] == {
        "Fn::And": [{"Condition": "HasEcrRepository"}, {"Condition": "GuardsAppRunnerService"}]
    }
    assert sorted(statement["Action"]) == actions
    assert statement["Resource"] == REPOSITORY_ARN


def test_automatic_rollback_is_off_by_default_and_every_function_reads_the_pipeline_settings(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    assert parameters["AutoRollback"]["Default"] == "false"
    assert parameters["AutoRollback"]["AllowedValues"] == ["true", "false"]
    window = parameters["RollbackWindowMinutes"]
    assert (window["Default"], window["MinValue"], window["MaxValue"]) == (30, 1, 1440)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AUTO_ROLLBACK"] == {"Ref": "AutoRollback"}
    assert variables["ROLLBACK_WINDOW_MINUTES"] == {"Ref": "RollbackWindowMinutes"}
    # The pausing functions' image resolver and the rollback need the repository's name, not just its permission.
    assert variables["ECR_REPOSITORY"] == {"Ref": "EcrRepository"}


@pytest.mark.parametrize("value", ["true", "false"])
def test_every_allowed_auto_rollback_value_is_a_valid_setting(template: dict[str, Any], value: str) -> None:
    assert value in template["Parameters"]["AutoRollback"]["AllowedValues"]
    settings = Settings.from_env(
        {
            "SERVICE_ARN": "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/" + "0" * 32,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": "consultation-app-monthly",
            "AUTO_ROLLBACK": value,
            "ROLLBACK_WINDOW_MINUTES": str(template["Parameters"]["RollbackWindowMinutes"]["MaxValue"]),
        }
    )
    assert settings.auto_rollback is (value == "true")


@pytest.mark.parametrize("function", ["OnBudgetAlertFunction", "RunScheduleFunction", "OnAlarmFunction"])
def test_the_tracked_image_is_read_only_for_an_app_runner_service_with_a_repository(
    template: dict[str, Any], function: str
) -> None:
    # Given a function that pauses and resumes
    condition, statement = statements(template, function)["ResolveTrackedImage"]
    # Then it reads the app's repository only where a resume can need a deployment after it: App Runner's
    # (an ECS resume starts tasks that pull the image their task definition names then)
    assert condition == "AppRunnerWithEcrRepository"
    assert statement["Action"] == "ecr:DescribeImages"
    assert statement["Resource"] == REPOSITORY_ARN
