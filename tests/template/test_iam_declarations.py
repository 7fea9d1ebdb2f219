"""Each function is granted exactly the IAM actions its adapters declare: no more, no fewer."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from local.template import function_statements, load_stack
from warden.adapters import (
    apprunner,
    autoscaling,
    budgets,
    cloudwatch,
    dynamodb,
    ecr,
    elbv2,
    iam,
    secrets,
    sns,
    webhook,
)
from warden.adapters import ecs as ecs_adapter

pytestmark = pytest.mark.template


def only(adapter: ModuleType, *actions: str) -> SimpleNamespace:
    """An adapter of which the use case calls only some methods (through a narrower port): just their actions."""
    assert set(actions) <= adapter.IAM_ACTIONS, f"{adapter.__name__} does not declare {set(actions)}"
    return SimpleNamespace(IAM_ACTIONS=frozenset(actions))


# What the functions that pause, resume and deploy call on App Runner (ListOperations is the deployment watcher's).
MANAGE = only(
    apprunner,
    "apprunner:DescribeService",
    "apprunner:PauseService",
    "apprunner:ResumeService",
    "apprunner:StartDeployment",
)
# A rollback reads the tracked tag, fetches the earlier image's exact manifest and puts it back as the tag.
ROLLBACK = only(ecr, "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:PutImage")
# The fleet's discovery and the alarms it keeps per service: run_schedule's alone (the adapters declare them apart
# from IAM_ACTIONS, which every function that uses the adapter is granted).
DISCOVERY = SimpleNamespace(IAM_ACTIONS=apprunner.DISCOVERY_IAM_ACTIONS | ecs_adapter.DISCOVERY_IAM_ACTIONS)
FLEET_ALARMS = SimpleNamespace(IAM_ACTIONS=cloudwatch.ALARM_IAM_ACTIONS)
# Pausing and resuming an ECS service of the fleet (whatever ServiceArn names: a tagged service may be ECS): the
# service, its task definitions and its Application Auto Scaling target. Listing a family's earlier revisions
# (ecs:ListTaskDefinitions) is granted only where it is called (image purge, ECS rollback).
ECS_CONTROL = (only(ecs_adapter, *sorted(ecs_adapter.IAM_ACTIONS - {"ecs:ListTaskDefinitions"})), autoscaling)
# Every function publishes; only run_schedule's budget wiring check also reads the notify topic's subscriptions.
PUBLISH = only(sns, *sorted(sns.PUBLISH_ACTIONS))

# Which adapters each function's use case is wired with (warden/wiring.py). The ECR adapter also declares
# what only the CLI's `warden release` calls (ecr:DescribeRepositories, ecr:GetAuthorizationToken): the CLI runs
# with the operator's rights, never the template's.
WIRING = {
    # Functions that pause or resume read the tracked image's digest (ecr:DescribeImages) when EcrRepository is
    # set and the service is App Runner's, so that a resume can deploy an image pushed while it was paused.
    "OnBudgetAlertFunction": (MANAGE, *ECS_CONTROL, budgets, only(ecr, "ecr:DescribeImages"), PUBLISH, dynamodb),
    # on_alarm's `rollback` action rolls back through the release pipeline (re-tag, then deploy); on ECS it
    # deploys the family's previous task-definition revision (ListTaskDefinitions).
    "OnAlarmFunction": (
        MANAGE,
        *ECS_CONTROL,
        only(ecs_adapter, "ecs:ListTaskDefinitions"),
        ROLLBACK,
        PUBLISH,
        dynamodb,
    ),
    # run_schedule's spend guard also reads App Runner's warm minimum (MinSize) and the usage metric (CloudWatch);
    # its reconcile discovers the fleet, keeps each service's alarms and reads a tagged target group's load balancer.
    "RunScheduleFunction": (
        MANAGE,
        *ECS_CONTROL,
        budgets,
        only(ecr, "ecr:DescribeImages"),
        sns,
        dynamodb,
        only(apprunner, "apprunner:DescribeAutoScalingConfiguration"),
        cloudwatch,
        DISCOVERY,
        FLEET_ALARMS,
        elbv2,
    ),
    "AuditAccessKeysFunction": (iam, PUBLISH, dynamodb),
    # purge_images reads the service through ServiceReaderPort (describe only): it never pauses or deploys. On
    # ECS it also reads the task definitions the service runs and the earlier revisions a rollback goes back to.
    "PurgeImagesFunction": (
        only(apprunner, "apprunner:DescribeService"),
        only(ecs_adapter, "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"),
        only(ecr, "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:BatchDeleteImage"),
        PUBLISH,
        dynamodb,
    ),
    # on_deployment describes the service, reads its operations (the duration) and, rolling back, deploys; it
    # never pauses or resumes. On ECS: the service's deployments, the family's revisions, and UpdateService to
    # an earlier revision.
    "OnDeploymentFunction": (
        only(apprunner, "apprunner:DescribeService", "apprunner:ListOperations", "apprunner:StartDeployment"),
        only(
            ecs_adapter,
            "ecs:DescribeServices",
            "ecs:UpdateService",
            "ecs:DescribeTaskDefinition",
            "ecs:ListTaskDefinitions",
        ),
        ROLLBACK,
        PUBLISH,
        dynamodb,
    ),
    # deliver_chat publishes to the chat topic (Amazon Q Developer), reads the webhook's secret and posts to it
    # (no AWS call), and records what it delivered (an event record per path: no Query).
    "DeliverChatFunction": (
        PUBLISH,
        secrets,
        webhook,
        only(dynamodb, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
    ),
}
# Lambda's own on-failure destination (sqs:SendMessage on the failed-events queue) is not written here: SAM grants
# it from each function's EventInvokeConfig (test_least_privilege.py checks the role it generates).


def enabled(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """The statement as deployed with every optional feature on: `!If [cond, statement, AWS::NoValue]` is the
    statement (iam:UpdateAccessKey is granted only when KeyDeactivateAfterDays is set, but always declared)."""
    if "Fn::If" not in statement:
        return [statement]
    _, when_true, when_false = statement["Fn::If"]
    return [branch for branch in (when_true, when_false) if branch != {"Ref": "AWS::NoValue"}]


def granted(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every action the function's Policies grant, inline or through the stack's managed policies it attaches."""
    actions: set[str] = set()
    for statement in (branch for written in function_statements(template, logical_id) for branch in enabled(written)):
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_deactivating_keys_is_granted_only_when_key_deactivation_is_enabled() -> None:
    # Given the audit function's statements as written (inline and in the managed policies it attaches)
    template = load_stack()
    written = function_statements(template, "AuditAccessKeysFunction")
    conditional = [statement for statement in written if "Fn::If" in statement]
    unconditional = [statement for statement in written if "Fn::If" not in statement]
    # When the one conditional statement is read
    ((condition, statement, otherwise),) = (entry["Fn::If"] for entry in conditional)
    # Then it alone grants iam:UpdateAccessKey, on users only, and only while KeyDeactivateAfterDays is set
    assert condition == "KeyDeactivationEnabled"
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "KeyDeactivateAfterDays"}, ""]}]}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Action"] == "iam:UpdateAccessKey"
    assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"}
    assert all("iam:UpdateAccessKey" not in str(other["Action"]) for other in unconditional)


@pytest.mark.parametrize("logical_id", sorted(WIRING))
def test_a_function_is_granted_exactly_what_its_adapters_declare(logical_id: str) -> None:
    # Given the function in the stack and the adapters it is wired with
    declared = set().union(*(adapter.IAM_ACTIONS for adapter in WIRING[logical_id]))
    # When the granted actions are compared with the declared ones
    actions = granted(load_stack(), logical_id)
    # Then nothing is granted that no adapter calls, and nothing called is missing
    assert actions - declared == set(), "granted but never called"
    assert declared - actions == set(), "called but not granted"


def test_every_function_in_the_template_is_covered_by_this_check() -> None:
    functions = {
        logical_id
        for logical_id, resource in load_stack()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert functions == set(WIRING)


def test_the_image_purge_may_delete_images_of_the_apps_repository_only_and_only_when_one_is_named() -> None:
    # Given the purge function's statements as written (inline and in the managed policies it attaches)
    template = load_stack()
    function = template["Resources"]["PurgeImagesFunction"]
    written = function_statements(template, "PurgeImagesFunction")
    statements = {s["Sid"]: s for entry in written for s in enabled(entry)}
    conditions = {s["Fn::If"][1]["Sid"]: (s["Fn::If"][0], s["Fn::If"][2]) for s in written if "Fn::If" in s}
    # When the ECR and service statements are read
    images, service = statements["ReadAndPurgeAppImages"], statements["ReadGuardedAppRunnerService"]
    # Then ECR is scoped to the one repository and granted only while EcrRepository is set, App Runner to
    # reading the guarded service; and both triggers are off while no repository is named
    assert images["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${EcrRepository}"
    }
    assert conditions["ReadAndPurgeAppImages"] == ("HasEcrRepository", {"Ref": "AWS::NoValue"})
    assert template["Conditions"]["HasEcrRepository"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EcrRepository"}, ""]}]}
    assert service == {
        "Sid": "ReadGuardedAppRunnerService",
        "Effect": "Allow",
        "Action": "apprunner:DescribeService",
        "Resource": {"Ref": "ServiceArn"},
    }
    # and each target's reads are granted only for that kind of target: ECS describes the guarded service
    # and reads task definitions (which IAM scopes only to "*"), never anything that changes them
    assert conditions["ReadGuardedAppRunnerService"][0] == "GuardsAppRunnerService"
    assert conditions["ReadGuardedEcsService"][0] == "GuardsEcsService"
    assert statements["ReadGuardedEcsService"]["Resource"] == {"Ref": "ServiceArn"}
    assert statements["ReadTaskDefinitionRevisions"]["Action"] == [
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
    ]
    # and a fleet service's repository only when it is tagged warden:guard=true, its service read-only
    tagged = {"StringEqualsIgnoreCase": {"aws:ResourceTag/warden:guard": "true"}}
    assert statements["PurgeTaggedRepositories"]["Condition"] == tagged
    assert statements["ReadTaggedServices"]["Condition"] == tagged
    assert statements["ReadTaggedServices"]["Action"] == ["apprunner:DescribeService", "ecs:DescribeServices"]
    events = function["Properties"]["Events"]
    assert events["EcrPush"]["Properties"]["State"] == {"Fn::If": ["HasEcrRepository", "ENABLED", "DISABLED"]}
    assert events["DailyPurge"]["Properties"]["State"] == "ENABLED"
    assert events["DailyPurge"]["Properties"]["Input"] == '{"job": "purge-images"}'
    assert events["EcrPush"]["Properties"]["Pattern"] == {
        "source": ["aws.ecr"],
        "detail-type": ["ECR Image Action"],
        "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"], "repository-name": [{"Ref": "EcrRepository"}]},
    }
