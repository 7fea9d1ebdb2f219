"""Least privilege, closing the gaps the other IAM checks leave open.

test_template.py flags mutating actions on "*" without a `# star-reason:`; test_iam_declarations.py compares
each function's written Policies with its adapters' IAM_ACTIONS. Here:
- each adapter's IAM_ACTIONS is what its code calls (read from its source and botocore's service model), so the
  declarations the other test trusts are themselves honest;
- permissions can come only from the functions' own Policies (inline, or the stack's managed policies they attach,
  which attach to nothing else): no other IAM resource, no `Role`, no wildcard action;
- after SAM's translation (what CloudFormation deploys) each function's role grants exactly its declared actions
  plus Lambda's own on-failure destination, nothing that SAM or an event source adds besides, counting the stack's
  managed policies attached to the role;
- every Lambda permission SAM generates names the source (ARN or account) that may invoke the function.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from local.template import (
    MANAGED_POLICY_TYPE,
    ROOT,
    TEMPLATE_PATH,
    attached_statements,
    function_statements,
    resources_of_type,
)
from tests.template.conftest import SAM_MISSING
from tests.template.test_iam_declarations import WIRING
from tests.template.test_template import SAM_MISSING_TRANSLATOR, TRANSLATE, run

pytestmark = pytest.mark.template

ADAPTERS = ROOT / "layers" / "warden" / "warden" / "adapters"
FUNCTION_TYPE = "AWS::Serverless::Function"
IAM_RESOURCE_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
}
# Where the IAM action is not the API operation's name (Service Authorization Reference).
ACTION_OF_OPERATION = {
    "budgets:DescribeBudget": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    "budgets:DescribeSubscribersForNotification": "budgets:ViewBudget",
}
# Where IAM's service prefix is not the client's signing name (Service Authorization Reference: CloudWatch's API
# signs as "monitoring", its actions are cloudwatch:*).
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}
# Needed without being called: SNS encrypts the notification topic with the AWS managed aws/sns key.
IMPLIED = {"sns": {"kms:GenerateDataKey", "kms:Decrypt"}}
# Needed by a call besides its own action: creating an alarm with Tags also takes cloudwatch:TagResource (CloudWatch
# User Guide, "Alarms and tagging"; the fleet's alarms are created with the warden:managed tag).
IMPLIED_BY_ACTION = {"cloudwatch:PutMetricAlarm": {"cloudwatch:TagResource"}}
# Amazon Q Developer's chat channel role and its guardrail policies: no function can use them, and
# tests/template/test_chat_template.py checks that they allow nothing but reads and the undo commands.
CHAT_CHANNEL_IAM = {"ChatChannelRole", "ChatGuardrailPolicy", "ChatAppRunnerGuardrailPolicy", "ChatEcsGuardrailPolicy"}
# What Lambda itself does with the function's role: the on-failure destination (EventInvokeConfig).
LAMBDA_OWN_ACTIONS = {"sqs:SendMessage"}
EXPECTED_MANAGED_POLICIES = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}


# --- each adapter declares what it calls -----------------------------------------------------------


def _service_of(tree: ast.Module) -> str | None:
    """The AWS service the adapter builds a client for: `client("ecr")`, `probe_client("ecs")`, ..."""
    found = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.endswith("client")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    assert len(found) <= 1, f"one adapter, one service: {found}"
    return next(iter(found), None)


def called_actions(path: Path) -> tuple[str | None, set[str]]:
    """The IAM actions of the API operations an adapter module calls on its client (directly, through a
    paginator or a waiter), read from its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    service = _service_of(tree)
    if service is None:
        return None, set()
    model = botocore.session.get_session().get_service_model(service)
    operations = {xform_name(name): name for name in model.operation_names}
    prefix = IAM_PREFIX_OF_SIGNING_NAME.get(model.signing_name, model.signing_name)
    called: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        on_a_client = isinstance(receiver, ast.Name) or (
            isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and receiver.value.id == "self"
        )
        if not on_a_client:
            continue
        method = node.func.attr
        if method in operations:
            called.add(operations[method])
        elif method in {"get_paginator", "get_waiter"} and node.args and isinstance(node.args[0], ast.Constant):
            called.add(operations[str(node.args[0].value)])
    actions = {f"{prefix}:{operation}" for operation in called}
    return service, {ACTION_OF_OPERATION.get(action, action) for action in actions}


def declared_by(module: ModuleType) -> set[str]:
    """IAM_ACTIONS and every other `*_IAM_ACTIONS` constant of an adapter module, joined."""
    names = [name for name in vars(module) if name == "IAM_ACTIONS" or name.endswith("_IAM_ACTIONS")]
    return set().union(*(getattr(module, name) for name in names))


def test_the_declarations_of_an_adapter_are_all_its_iam_action_constants() -> None:
    # Given an adapter-like module with its IAM_ACTIONS and a group of actions only some functions are granted
    module = ModuleType("sample")
    module.IAM_ACTIONS = frozenset({"x:Read"})  # type: ignore[attr-defined]
    module.DISCOVERY_IAM_ACTIONS = frozenset({"x:List"})  # type: ignore[attr-defined]
    module.PUBLISH_ACTIONS = frozenset({"x:Other"})  # type: ignore[attr-defined]
    # When its declarations are read / Then both IAM action constants count, and nothing else
    assert declared_by(module) == {"x:Read", "x:List"}


def adapter_modules() -> Iterator[Path]:
    yield from sorted(path for path in ADAPTERS.glob("*.py") if path.stem not in {"__init__", "clients"})


def test_the_source_reader_finds_calls_direct_paginated_and_on_a_local_client(tmp_path: Path) -> None:
    # Given an adapter-like module that calls ECR three ways
    sample = tmp_path / "sample.py"
    sample.write_text(
        "class A:\n"
        "    def f(self):\n"
        "        self._ecr.describe_images(repositoryName='r')\n"
        "        self._ecr.get_paginator('list_images')\n"
        "        other = probe_client('ecr')\n"
        "        other.batch_delete_image(repositoryName='r', imageIds=[])\n"
        "        self.helper.not_an_operation()\n",
        encoding="utf-8",
    )
    # When its calls are read / Then all three are found, and nothing else
    assert called_actions(sample) == ("ecr", {"ecr:DescribeImages", "ecr:ListImages", "ecr:BatchDeleteImage"})


@pytest.mark.parametrize("path", list(adapter_modules()), ids=lambda path: path.stem)
def test_each_adapter_declares_exactly_the_iam_actions_its_code_calls(path: Path) -> None:
    # Given an adapter module's source and every IAM action it declares: IAM_ACTIONS, and the groups only some
    # functions are granted (the fleet's DISCOVERY_IAM_ACTIONS, ALARM_IAM_ACTIONS, ...)
    module = __import__(f"warden.adapters.{path.stem}", fromlist=["IAM_ACTIONS"])
    declared = declared_by(module)

    # When the operations it calls on its boto3 client are read from the source
    service, called = called_actions(path)
    needed = called | IMPLIED.get(service or "", set())
    needed |= set().union(*(IMPLIED_BY_ACTION.get(action, set()) for action in called))

    # Then it declares every one of them, and nothing it never calls
    assert needed - declared == set(), f"{path.name} calls these without declaring them"
    assert declared - needed == set(), f"{path.name} declares these but never calls them"


# --- permissions come only from the functions' Policies --------------------------------------------


def functions_policies(template: dict[str, Any]) -> set[str]:
    """The stack's managed policies that some function attaches through its Policies."""
    attached: set[str] = set()
    policies = resources_of_type(template, MANAGED_POLICY_TYPE)
    for function in resources_of_type(template, FUNCTION_TYPE).values():
        for entry in function["Properties"].get("Policies", []):
            attached |= {name for name in policies if {"Ref": name} in [entry, *entry.get("Fn::If", [])[1:]]}
    return attached


def test_no_iam_resource_and_no_function_role_grants_permissions_besides_the_policies(
    template: dict[str, Any],
) -> None:
    # Given the stack / Then no IAM resource exists beside the functions (SAM generates their roles) but the managed
    # policies their Policies attach, and no function brings a role of its own (which would bypass its Policies
    # and every check on them)
    iam = {name for name, resource in template["Resources"].items() if resource["Type"] in IAM_RESOURCE_TYPES}
    attached = functions_policies(template)
    assert iam - CHAT_CHANNEL_IAM - attached == set(), (
        f"IAM resources the least-privilege tests do not read: {sorted(iam)}"
    )
    # And those policies attach to nothing by themselves: a function's Policies are the only way in
    for name in attached:
        properties = template["Resources"][name]["Properties"]
        assert {"Roles", "Users", "Groups", "ManagedPolicyName"} & set(properties) == set(), name
    for logical_id, function in resources_of_type(template, FUNCTION_TYPE).items():
        assert "Role" not in function["Properties"], f"{logical_id} has a Role of its own"
    assert "Policies" not in template.get("Globals", {}).get("Function", {})


def _statements(node: Any) -> Iterator[dict[str, Any]]:
    """Statements as deployed under any combination of conditions: `Fn::If` unwrapped, nested or not."""
    if isinstance(node, list):
        for item in node:
            yield from _statements(item)
    elif isinstance(node, dict) and "Fn::If" in node:
        _, when_true, when_false = node["Fn::If"]
        yield from _statements(when_true)
        yield from _statements(when_false)
    elif isinstance(node, dict) and node != {"Ref": "AWS::NoValue"}:
        yield node


def _values(node: Any) -> list[Any]:
    """A statement field's possible values: a list flattened, every branch of an `Fn::If` included."""
    if isinstance(node, list):
        return [value for item in node for value in _values(item)]
    if isinstance(node, dict) and "Fn::If" in node:
        return [value for branch in node["Fn::If"][1:] for value in _values(branch)]
    return [] if node == {"Ref": "AWS::NoValue"} else [node]


def test_statement_unwrapping_follows_nested_conditions() -> None:
    written = [
        {"Sid": "A", "Action": "a:B"},
        {"Fn::If": ["C1", {"Fn::If": ["C2", {"Sid": "B"}, {"Ref": "AWS::NoValue"}]}, {"Sid": "C"}]},
    ]
    assert [statement["Sid"] for statement in _statements(written)] == ["A", "B", "C"]
    assert _values({"Fn::If": ["C", ["x:Y", "x:Z"], "*"]}) == ["x:Y", "x:Z", "*"]


def test_function_policies_name_actions_one_by_one_without_wildcards(template: dict[str, Any]) -> None:
    # Given every statement of every function (inline and attached), whatever the conditions
    for logical_id in resources_of_type(template, FUNCTION_TYPE):
        for statement in _statements(function_statements(template, logical_id)):
            # Then it allows, names its actions (no NotAction) and none of them is a wildcard
            assert statement.get("Effect") == "Allow", f"{logical_id}: {statement}"
            assert "NotAction" not in statement, f"{logical_id}: {statement}"
            assert "NotResource" not in statement, f"{logical_id}: {statement}"
            for action in _values(statement["Action"]):
                assert isinstance(action, str), f"{logical_id}: an action built from an intrinsic: {action}"
                assert not set(action) & {"*", "?"}, f"{logical_id}: wildcard action {action}"


# --- what CloudFormation deploys, after SAM's translation ------------------------------------------


@pytest.fixture(scope="module")
def deployed(sam_cli: Path, tool_env: dict[str, str]) -> dict[str, Any]:
    sam_python = sam_cli.resolve().parent / "python"
    if not sam_python.is_file():
        pytest.skip(f"{SAM_MISSING_TRANSLATOR}: no python next to {sam_cli} ({SAM_MISSING})")
    result = run([sam_python, "-c", TRANSLATE, TEMPLATE_PATH], tool_env, timeout=120)
    if "No module named 'samtranslator'" in result.output:
        pytest.skip(f"{SAM_MISSING_TRANSLATOR}: {sam_python} lacks aws-sam-translator")
    assert result.returncode == 0, result.failure("the SAM translation")
    translated: dict[str, Any] = json.loads(result.output)
    return translated


def declared_actions(adapters: tuple[ModuleType, ...]) -> set[str]:
    return set().union(*(adapter.IAM_ACTIONS for adapter in adapters))


@pytest.mark.parametrize("logical_id", sorted(WIRING))
def test_after_sams_translation_a_function_role_grants_its_declared_actions_and_nothing_more(
    deployed: dict[str, Any], logical_id: str
) -> None:
    # Given the role SAM generates for the function, as CloudFormation receives it, and the stack's own managed
    # policies it attaches
    role = deployed["Resources"][f"{logical_id}Role"]["Properties"]
    attachments = role.get("ManagedPolicyArns", [])
    statements = [
        statement
        for policy in role.get("Policies", [])
        for statement in _statements(policy["PolicyDocument"]["Statement"])
    ]
    statements += _statements(attached_statements(deployed, attachments))
    granted = {action for statement in statements for action in _values(statement["Action"])}
    stacks_own = set(resources_of_type(deployed, MANAGED_POLICY_TYPE))
    managed = {
        str(arn).rsplit("/", 1)[-1]
        for arn in _values(attachments)
        if not (isinstance(arn, dict) and arn.get("Ref") in stacks_own)
    }

    # Then what it grants is exactly the adapters' declared actions plus Lambda's own destination, and its other
    # managed policies are only logging and tracing
    expected = declared_actions(WIRING[logical_id]) | LAMBDA_OWN_ACTIONS
    assert granted - expected == set(), "SAM's role grants more than the adapters call"
    assert expected - granted == set(), "SAM's role lacks what the adapters call"
    assert managed <= EXPECTED_MANAGED_POLICIES, managed


def test_every_lambda_permission_names_who_may_invoke_the_function(deployed: dict[str, Any]) -> None:
    # Given every resource policy statement on a Warden function (SNS, EventBridge, the alarms)
    permissions = resources_of_type(deployed, "AWS::Lambda::Permission")
    assert permissions
    for logical_id, permission in permissions.items():
        properties = permission["Properties"]
        # Then a service principal may invoke it only from a named source, never any account's
        assert properties["Action"] == "lambda:InvokeFunction", logical_id
        assert str(properties["Principal"]).endswith(".amazonaws.com"), logical_id
        assert "SourceArn" in properties or "SourceAccount" in properties, f"{logical_id} names no source"
