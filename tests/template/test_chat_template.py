"""Chat and the stack's own budget (template.yaml, templates/chat.yaml, templates/budget.yaml): each resource exists
only with its parameters; a chat channel can read, and run the undo commands Warden prints, and change nothing else;
the budget notifies Warden's topic."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from local.template import attached_statements, load_stack
from tests.fakes import FakeService, FakeState
from tests.template.deployment import APPRUNNER_ARN, ECS_ARN, Stack
from tests.template.test_template import is_mutating
from warden.domain.claims import ClaimReason
from warden.domain.service import ECS_PAUSE_MEMO
from warden.settings import Settings
from warden.usecases.undo import undo_pause_lines

pytestmark = pytest.mark.template

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/chat-AbC123"
SLACK = {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"}
TEAMS = {
    "TeamsTenantId": "a1b2c3d4-1111-2222-3333-a1b2c3d4e5f6",
    "TeamsTeamId": "b1b2c3d4-1111-2222-3333-a1b2c3d4e5f6",
    "TeamsChannelId": "19%3aabcdef%40thread.tacv2",
}
CHANNEL_RESOURCES = {"ChatTopic", "ChatTopicPolicy", "ChatGuardrailPolicy", "ChatChannelRole"}
GUARDRAILS = {"ChatGuardrailPolicy", "ChatAppRunnerGuardrailPolicy", "ChatEcsGuardrailPolicy"}
DELIVERY_RESOURCES = {"DeliverChatSubscription", "DeliverChatInvokePermission"}


# --- which resources a set of parameters deploys ------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_stack()


@pytest.mark.parametrize(
    ("parameters", "present", "absent"),
    [
        (
            {},
            set(),
            CHANNEL_RESOURCES | DELIVERY_RESOURCES | {"SlackChannelConfiguration", "TeamsChannelConfiguration"},
        ),
        (SLACK, CHANNEL_RESOURCES | DELIVERY_RESOURCES | {"SlackChannelConfiguration"}, {"TeamsChannelConfiguration"}),
        (TEAMS, CHANNEL_RESOURCES | DELIVERY_RESOURCES | {"TeamsChannelConfiguration"}, {"SlackChannelConfiguration"}),
        ({**SLACK, **TEAMS}, CHANNEL_RESOURCES | {"SlackChannelConfiguration", "TeamsChannelConfiguration"}, set()),
        (
            {"ChatWebhookSecretArn": SECRET_ARN},
            DELIVERY_RESOURCES,
            CHANNEL_RESOURCES | {"SlackChannelConfiguration", "TeamsChannelConfiguration"},
        ),
        ({"SlackWorkspaceId": "T0123ABCD"}, set(), CHANNEL_RESOURCES | DELIVERY_RESOURCES),  # one id alone: nothing
    ],
    ids=["none", "slack", "teams", "both-channels", "webhook-only", "half-slack"],
)
def test_the_chat_resources_exist_only_with_their_parameters(
    template: dict[str, Any], parameters: dict[str, str], present: set[str], absent: set[str]
) -> None:
    # Given the parameters / When the template's conditions are evaluated / Then exactly these resources deploy
    deployed = Stack(template, **parameters).resources()
    assert present <= deployed
    assert absent & deployed == set()
    # And the chat function itself always exists (idle without chat: nothing subscribes it), like its alarm
    assert {"DeliverChatFunction", "DeliverChatErrorsAlarm", "DeliverChatLogGroup"} <= deployed


def test_a_half_given_channel_is_refused_at_deploy_time(template: dict[str, Any]) -> None:
    # Given the rules / Then Slack's two ids and Teams' three go together, or the deployment is refused
    rules = template["Rules"]
    for rule, names in (
        ("SlackChannelNeedsBothIds", ["SlackWorkspaceId", "SlackChannelId"]),
        ("TeamsChannelNeedsAllIds", ["TeamsTenantId", "TeamsTeamId", "TeamsChannelId"]),
    ):
        (assertion,) = rules[rule]["Assertions"]
        for given in ({}, {names[0]: "x"}, dict.fromkeys(names, "x")):
            holds = Stack(template, **given).value(assertion["Assert"])
            assert holds is (len(given) in (0, len(names))), (rule, given)


def test_deliver_chat_is_granted_the_chat_topic_and_exactly_the_named_secret_only_with_them(
    template: dict[str, Any],
) -> None:
    function = template["Resources"]["DeliverChatFunction"]
    for parameters in ({}, SLACK, {"ChatWebhookSecretArn": SECRET_ARN}, {**TEAMS, "ChatWebhookSecretArn": SECRET_ARN}):
        stack = Stack(template, **parameters)
        # Given the statements as deployed with these parameters
        granted = stack.granted("DeliverChatFunction")
        # Then SNS publish (to the chat topic only, with the topic's key) comes with a channel, the secret (exactly
        # it) with the webhook
        assert ("PublishChatNotifications" in granted) is stack.condition("HasChatChannel")
        assert ("UseAwsManagedSnsKeyThroughSns" in granted) is stack.condition("HasChatChannel")
        assert ("ReadChatWebhookSecret" in granted) is stack.condition("HasChatWebhook")
    full = Stack(template, **SLACK, ChatWebhookSecretArn=SECRET_ARN).granted("DeliverChatFunction")
    assert full["PublishChatNotifications"]["Resource"] == {"Ref": "ChatTopic"}
    assert full["ReadChatWebhookSecret"] == {
        "Sid": "ReadChatWebhookSecret",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "ChatWebhookSecretArn"},
    }
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment["CHAT_TOPIC_ARN"] == {"Fn::If": ["HasChatChannel", {"Ref": "ChatTopic"}, ""]}
    assert environment["CHAT_WEBHOOK_SECRET_ARN"] == {"Ref": "ChatWebhookSecretArn"}


def test_chat_is_a_second_subscription_of_the_notification_topic_beside_the_email(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    subscription = resources["DeliverChatSubscription"]
    assert subscription["Condition"] == "ChatEnabled"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "NotifyTopic"},
        "Protocol": "lambda",
        "Endpoint": {"Fn::GetAtt": ["DeliverChatFunction", "Arn"]},
    }
    permission = resources["DeliverChatInvokePermission"]["Properties"]
    assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", {"Ref": "NotifyTopic"})
    email = resources["NotifyEmailSubscription"]["Properties"]
    assert (email["TopicArn"], email["Protocol"]) == ({"Ref": "NotifyTopic"}, "email")


def test_the_chat_topic_is_encrypted_and_refuses_publishing_without_tls(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["ChatTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    statements = resources["ChatTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = (statement for statement in statements if statement["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (allow,) = (statement for statement in statements if statement["Effect"] == "Allow")
    assert allow["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


# --- what a chat channel may do --------------------------------------------------------------------------------

_AWS_COMMAND = re.compile(r"\baws ([a-z0-9-]+) ([a-z0-9-]+)")


def undo_actions(arn: str) -> set[str]:
    """The IAM actions of every `aws` command Warden's pause notifications print for a service (usecases/undo.py):
    for ECS with nothing remembered, with a remembered desired count and scaling target, and for Express."""
    settings = Settings.from_env(
        {
            "SERVICE_ARN": arn,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
            "STATE_TABLE": "warden-state",
            "BUDGET_NAME": "app-monthly",
        }
    )
    memos: list[dict[str, str] | None] = [None]
    if "ecs" in arn:
        scaling = '{"minimum": 2, "maximum": 5}'
        memos += [{"desired_count": "3", "scalable_target": scaling}, {"path": "express", "express_scaling": "{}"}]
    lines: list[str] = []
    for memo in memos:
        state = FakeState()
        if memo is not None:
            state.put_memo(arn, ECS_PAUSE_MEMO, memo)
        for reason in ClaimReason:
            lines += undo_pause_lines(FakeService(arn=arn), settings, reason, reason.value, state=state)
    session = botocore.session.get_session()
    actions = set()
    for service, command in _AWS_COMMAND.findall("\n".join(lines)):
        model = session.get_service_model(service)
        (operation,) = (name for name in model.operation_names if xform_name(name, "-") == command)
        actions.add(f"{model.signing_name}:{operation}")
    return actions


def guardrail(template: dict[str, Any]) -> list[Any]:
    """The statements of the chat channel role's policies, as written (the kind-specific ones in their Fn::If)."""
    role = template["Resources"]["ChatChannelRole"]
    return attached_statements(template, role["Properties"]["ManagedPolicyArns"], role.get("Condition"))


@pytest.mark.parametrize("arn", [APPRUNNER_ARN, ECS_ARN], ids=["apprunner", "ecs"])
def test_a_chat_channel_may_change_nothing_but_what_the_undo_commands_change(
    template: dict[str, Any], arn: str
) -> None:
    # Given the guardrail as deployed for the service, and the actions of the undo commands Warden prints for it
    stack = Stack(template, ServiceArn=arn, **SLACK)
    statements = stack.statements(guardrail(template))
    allowed = {
        action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    undo = undo_actions(arn)
    # Then every statement allows named actions (no wildcard, no NotAction, no Deny to reason about)
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in statements)
    assert not any(set(action) & {"*", "?"} for action in allowed)
    # And its only actions that change anything are the undo commands' own
    mutating = {action for action in allowed if is_mutating(action)}
    assert mutating <= undo, f"the guardrail lets a channel run {sorted(mutating - undo)}"
    # And every undo command can run from the channel
    assert {action for action in undo if is_mutating(action)} <= allowed
    assert mutating, "the undo commands change something"


def test_the_guardrails_changes_are_scoped_to_the_guarded_service_and_its_claims(template: dict[str, Any]) -> None:
    for arn in (APPRUNNER_ARN, ECS_ARN):
        for statement in Stack(template, ServiceArn=arn, **SLACK).statements(guardrail(template)):
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if not any(is_mutating(action) for action in actions):
                continue
            resource = statement["Resource"]
            if resource == {"Fn::GetAtt": ["StateTable", "Arn"]}:
                # Only the guarded service's partition of the state table: its claims and memos
                leading = statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"]
                assert leading == [{"Fn::Sub": "SERVICE#${ServiceArn}"}]
            elif "application-autoscaling:RegisterScalableTarget" in actions:
                assert statement["Condition"]["StringEquals"] == {
                    "application-autoscaling:service-namespace": "ecs",
                    "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
                }
            else:
                assert resource == {"Ref": "ServiceArn"}, statement["Sid"]


def test_the_channel_role_is_amazon_qs_and_holds_only_the_guardrail(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    role = resources["ChatChannelRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {"Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    # The role holds the guardrail policies and nothing else, whatever the kind of service
    for arn in (APPRUNNER_ARN, ECS_ARN):
        attached = Stack(template, ServiceArn=arn, **SLACK).chosen(role["ManagedPolicyArns"])
        assert attached, arn
        assert {entry["Ref"] for entry in attached} <= GUARDRAILS, attached
        assert {"Ref": "ChatGuardrailPolicy"} in attached
    assert "Policies" not in role
    for name in ("SlackChannelConfiguration", "TeamsChannelConfiguration"):
        configuration = resources[name]["Properties"]
        assert configuration["GuardrailPolicies"] == role["ManagedPolicyArns"]
        assert configuration["IamRoleArn"] == {"Fn::GetAtt": ["ChatChannelRole", "Arn"]}
        assert configuration["SnsTopicArns"] == [{"Ref": "ChatTopic"}]
        assert configuration["UserRoleRequired"] is False


# --- the budget the stack makes itself -------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "exists"), [("", False), ("10", True), ("49.99", True)])
def test_the_budget_exists_only_with_a_limit(template: dict[str, Any], limit: str, exists: bool) -> None:
    assert ("MonthlyBudget" in Stack(template, BudgetLimitUsd=limit).resources()) is exists


def test_the_created_budget_notifies_the_budget_topic_at_warning_enforce_and_forecast(template: dict[str, Any]) -> None:
    # Given the budget resource
    budget = template["Resources"]["MonthlyBudget"]
    properties = budget["Properties"]
    # Then it is a monthly cost budget in USD named BudgetName, the name BUDGET_NAME and the ViewBudget grants use
    data = properties["Budget"]
    assert (data["BudgetName"], data["BudgetType"], data["TimeUnit"]) == ({"Ref": "BudgetName"}, "COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": {"Ref": "BudgetLimitUsd"}, "Unit": "USD"}
    assert template["Globals"]["Function"]["Environment"]["Variables"]["BUDGET_NAME"] == {"Ref": "BudgetName"}
    # And its three notifications: actual at the warning and enforce percentages, forecast at 100 %
    notifications = [entry["Notification"] for entry in properties["NotificationsWithSubscribers"]]
    assert [(n["NotificationType"], n["Threshold"], n["ThresholdType"]) for n in notifications] == [
        ("ACTUAL", {"Ref": "WarningThresholdPercent"}, "PERCENTAGE"),
        ("ACTUAL", {"Ref": "EnforceThresholdPercent"}, "PERCENTAGE"),
        ("FORECASTED", 100, "PERCENTAGE"),
    ]
    assert all(n["ComparisonOperator"] == "GREATER_THAN" for n in notifications)
    # And each goes to the budget topic, and to the operator's e-mail when one is given
    sns = {"SubscriptionType": "SNS", "Address": {"Ref": "BudgetAlertTopic"}}
    email = {"SubscriptionType": "EMAIL", "Address": {"Ref": "AlertEmail"}}
    for address, subscribers in (("", [sns]), ("ops@example.com", [sns, email])):
        stack = Stack(template, BudgetLimitUsd="10", AlertEmail=address)
        for entry in stack.chosen(properties["NotificationsWithSubscribers"]):
            assert entry["Subscribers"] == subscribers, address
    # And Budgets may publish to that topic before the notifications are created
    assert "BudgetAlertTopicPolicy" in budget["DependsOn"]
    statements = template["Resources"]["BudgetAlertTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {"Service": "budgets.amazonaws.com"} in [statement["Principal"] for statement in statements]
    assert template["Parameters"]["WarningThresholdPercent"]["Default"] == 80


def test_the_budget_counts_only_the_tagged_costs_when_a_tag_filter_is_given(template: dict[str, Any]) -> None:
    budget = template["Resources"]["MonthlyBudget"]["Properties"]["Budget"]
    tagged = Stack(template, BudgetLimitUsd="10", BudgetCostTagFilter="user:app$consultation-app").chosen(budget)
    assert tagged["CostFilters"] == {"TagKeyValue": [{"Ref": "BudgetCostTagFilter"}]}
    assert "CostFilters" not in Stack(template, BudgetLimitUsd="10").chosen(budget)


def test_equal_warning_and_enforce_thresholds_are_refused_for_a_created_budget(template: dict[str, Any]) -> None:
    rule = template["Rules"]["CreatedBudgetNeedsTwoThresholds"]
    (assertion,) = rule["Assertions"]
    for limit, warning, holds in (("10", "80", True), ("10", "100", False), ("", "100", True)):
        stack = Stack(template, BudgetLimitUsd=limit, WarningThresholdPercent=warning, EnforceThresholdPercent="100")
        applies = stack.value(rule["RuleCondition"])
        assert (not applies or stack.value(assertion["Assert"])) is holds


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("BudgetLimitUsd", "", True),
        ("BudgetLimitUsd", "10", True),
        ("BudgetLimitUsd", "49.99", True),
        ("BudgetLimitUsd", "-1", False),
        ("BudgetLimitUsd", "ten", False),
        ("BudgetCostTagFilter", "user:app$consultation-app", True),
        ("BudgetCostTagFilter", "app=consultation-app", False),
        ("ChatWebhookSecretArn", SECRET_ARN, True),
        ("ChatWebhookSecretArn", SECRET_ARN.removesuffix("-AbC123"), False),
        ("ChatWebhookSecretArn", "https://hooks.slack.com/services/T0/B0/x", False),
        ("SlackWorkspaceId", "T0123ABCD", True),
        ("SlackChannelId", "C0123ABCD", True),
        ("TeamsTenantId", TEAMS["TeamsTenantId"], True),
        ("TeamsChannelId", TEAMS["TeamsChannelId"], True),
        ("TeamsChannelId", "general", False),
    ],
)
def test_the_new_parameters_accept_what_they_describe(
    template: dict[str, Any], name: str, value: str, accepted: bool
) -> None:
    parameter = template["Parameters"][name]
    assert parameter.get("Default", None) in ("", 80)
    assert (re.fullmatch(parameter["AllowedPattern"], value) is not None) is accepted
