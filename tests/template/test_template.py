"""template.yaml and its nested templates: linters, a real `sam build`, least privilege and the structure the code
relies on. Contracts (handlers, parameters, environment, the state table) are read from template.yaml itself (the
`top_level` fixture); the rest from the stack as deployed, nested applications inlined (the `template` fixture)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file
from moto import mock_aws

from local.template import (
    APPLICATION_TYPE,
    MANAGED_POLICY_TYPE,
    ROOT,
    TEMPLATE_PATH,
    attached_statements,
    compose_text,
    function_statements,
    iter_statements,
    load_stack,
    load_template,
    load_text,
    nested_applications,
    resources_of_type,
    state_table_create_kwargs,
    state_table_ttl_attribute,
    template_paths,
)
from tests.template.test_stacksets import ACCOUNT_ID, REGION

pytestmark = pytest.mark.template

PYTHON313_MISSING = (
    "python3.13 not on PATH: sam build for the python3.13 runtime cannot run; "
    "with pyenv set PYENV_VERSION=3.11.7:3.13.0"
)
# StackSets may deploy anywhere: lint against a spread of regions, not just the default one.
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
REQUIRED_ENV = {
    "SERVICE_ARN": {"Ref": "ServiceArn"},
    # The fleet: more services by ARN, and the central topic every notification also goes to.
    "SERVICE_ARNS": {"Ref": "ServiceArns"},
    "CENTRAL_TOPIC_ARN": {"Ref": "CentralTopicArn"},
    "NOTIFY_TOPIC_ARN": {"Ref": "NotifyTopic"},
    "STATE_TABLE": {"Ref": "StateTable"},
    "BUDGET_NAME": {"Ref": "BudgetName"},
    "DRY_RUN": {"Ref": "DryRun"},
}
FUNCTION_TYPE = "AWS::Serverless::Function"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _concrete(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """A statement, or the branches of an `Fn::If` around one (an `AWS::NoValue` branch is no statement)."""
    if "Fn::If" not in statement:
        return [statement]
    return [branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}]


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    seconds: float

    def failure(self, what: str) -> str:
        return f"{what} exited {self.returncode} after {self.seconds:.1f}s:\n{tail(self.output)}"


def run(command: Sequence[str | Path], env: dict[str, str], timeout: float) -> Run:
    started = time.monotonic()
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, time.monotonic() - started)


def function_setting(template: dict[str, Any], function: dict[str, Any], name: str) -> Any:
    """A function property, falling back to Globals.Function as SAM does."""
    properties = function.get("Properties", {})
    if name in properties:
        return properties[name]
    return template.get("Globals", {}).get("Function", {}).get(name)


def function_environment(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """Globals.Function variables merged with the function's own, as SAM merges them."""
    merged = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    merged.update(function.get("Properties", {}).get("Environment", {}).get("Variables", {}))
    return merged


# --------------------------------------------------------------------------------------------------
# Least privilege: mutating actions on Resource "*" need a `# star-reason: <why>` on the Resource line.
# --------------------------------------------------------------------------------------------------

# IAM has no resource-level permissions for these: a statement granting only them must name "*"
# (Service Authorization Reference, IAM: no resource type is listed for these actions).
STAR_ONLY_ACTIONS = frozenset(
    {
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        # Read-only, and IAM offers no resource-level permission for them (an ECS target reads its task
        # definitions' images and its service's scalable target).
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",  # the image purge lists the earlier revisions of the service's family
        "application-autoscaling:DescribeScalableTargets",
        "cloudwatch:GetMetricData",  # the spend guard reads the service's usage metric
        # The fleet's discovery lists every service of the account and region; a tagged target group's load
        # balancer is read (Service Authorization Reference: no resource type for any of them).
        "apprunner:ListServices",
        "ecs:ListClusters",
        "ecs:ListServices",
        "elasticloadbalancing:DescribeTargetGroups",
    }
)
READ_ONLY_VERBS = ("get", "list", "describe", "view", "query", "scan", "batchget", "lookup", "search", "head")
IAM_POLICY_TYPES = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
}
POLICY_HOLDERS = {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}
STAR_REASON = re.compile(r"^[\s:,\]]*#\s*star-reason:\s*\S")


def is_mutating(action: str) -> bool:
    """True unless the action's verb is read-only; `*`, `service:*` and `s3:Put*` are mutating."""
    service, separator, verb = action.partition(":")
    if action == "*" or not separator or not service or not verb:
        return True
    return not verb.lower().startswith(READ_ONLY_VERBS)


def _entries(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: (key, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    entry = _entries(node).get(key)
    return entry[1] if entry else None


def _branches(node: yaml.Node | None) -> Iterator[yaml.Node]:
    """The node itself, or both outcomes of an `!If` / `Fn::If` around it."""
    if node is None:
        return
    if isinstance(node, yaml.SequenceNode) and node.tag == "!If" and len(node.value) == 3:
        yield from _branches(node.value[1])
        yield from _branches(node.value[2])
        return
    conditional = _value(node, "Fn::If")
    if isinstance(conditional, yaml.SequenceNode) and len(conditional.value) == 3:
        yield from _branches(conditional.value[1])
        yield from _branches(conditional.value[2])
        return
    yield node


def _items(node: yaml.Node | None) -> Iterator[yaml.Node]:
    for branch in _branches(node):
        if isinstance(branch, yaml.SequenceNode) and branch.tag == "tag:yaml.org,2002:seq":
            for item in branch.value:
                yield from _branches(item)
        else:
            yield branch


def _policy_documents(resource: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    resource_type = getattr(_value(resource, "Type"), "value", None)
    properties = _value(resource, "Properties")
    if resource_type in POLICY_HOLDERS:
        for policy in _items(_value(properties, "Policies")):
            if _value(policy, "Statement") is not None:  # skip managed-policy names and SAM templates
                yield "Policies", policy
    elif resource_type == "AWS::IAM::Role":
        for policy in _items(_value(properties, "Policies")):
            for document in _branches(_value(policy, "PolicyDocument")):
                yield "Policies.PolicyDocument", document
    elif resource_type in IAM_POLICY_TYPES:
        for document in _branches(_value(properties, "PolicyDocument")):
            yield "PolicyDocument", document


def _scalars(node: yaml.Node | None) -> list[yaml.ScalarNode]:
    """Plain string scalars of a node or a list (intrinsics, which cannot be judged here, are left out)."""
    plain = "tag:yaml.org,2002:str"
    if isinstance(node, yaml.ScalarNode):
        return [node] if node.tag == plain else []
    if isinstance(node, yaml.SequenceNode):
        return [item for item in node.value if isinstance(item, yaml.ScalarNode) and item.tag == plain]
    return []


def _has_star_reason(lines: list[str], node: yaml.Node) -> bool:
    line = lines[node.end_mark.line] if node.end_mark.line < len(lines) else ""
    same_line = node.end_mark.line == node.start_mark.line
    rest = line[node.end_mark.column :] if same_line else ""
    return bool(STAR_REASON.match(rest))


def iam_star_violations(root: yaml.Node, source: str) -> list[str]:
    """Every Allow statement that grants a mutating action on every resource without a written reason.

    Also reported, reason or not: `Action: "*"` and `NotAction` in an Allow statement.
    """
    lines = source.splitlines()
    violations: list[str] = []
    for key, resource in _entries(_value(root, "Resources")).values():
        logical_id = key.value
        for where, document in _policy_documents(resource):
            for statement in _items(_value(document, "Statement")):
                effect = getattr(_value(statement, "Effect"), "value", "Allow")
                if effect != "Allow":
                    continue
                line = statement.start_mark.line + 1
                label = f"{logical_id}.{where} statement at line {line}"
                actions = [scalar.value for scalar in _scalars(_value(statement, "Action"))]
                if "*" in actions:
                    violations.append(f"{label}: Action '*' is never allowed")
                if _value(statement, "NotAction") is not None:
                    violations.append(f"{label}: NotAction in an Allow statement grants everything else")
                mutating = sorted({action for action in actions if is_mutating(action)})
                if not mutating:
                    continue
                entries = _entries(statement)
                if "NotResource" in entries:
                    resource_key, resource_value = entries["NotResource"]
                    stars = [resource_value]
                elif "Resource" in entries:
                    resource_key, resource_value = entries["Resource"]
                    stars = [scalar for scalar in _scalars(resource_value) if scalar.value == "*"]
                else:
                    continue
                if not stars:
                    continue
                justified = _has_star_reason(lines, resource_key) or all(
                    _has_star_reason(lines, star) for star in stars
                )
                if not justified:
                    resource_line = resource_key.start_mark.line + 1
                    violations.append(
                        f"{label}: {', '.join(mutating)} on Resource '*' (line {resource_line})"
                        " needs a `# star-reason: <why>` comment on that line"
                    )
    return violations


CHECKER_SAMPLE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: inline
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sns:Publish
                Resource: "*"
              - Effect: Allow
                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]
                Resource: "*"  # star-reason: X-Ray has no resource-level permissions
              - Effect: Allow
                Action: [apprunner:ListServices, ec2:Describe*]
                Resource: "*"
              - Effect: Deny
                Action: "*"
                Resource: "*"
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AWSLambdaBasicExecutionRole
        - Statement:
            - Effect: Allow
              Action: "*"
              Resource: !Ref Topic  # star-reason: not a resource star, and Action * is never fine
            - Effect: Allow
              Action: s3:*
              Resource:
                - !Sub arn:${AWS::Partition}:s3:::bucket
                - "*"
"""


def test_the_least_privilege_checker_flags_unjustified_and_forbidden_statements() -> None:
    # Given a small template with unjustified, justified, read-only, Deny and Action-* statements
    root = compose_text(CHECKER_SAMPLE)

    # When the checker walks it
    violations = iam_star_violations(root, CHECKER_SAMPLE)

    # Then exactly the unjustified sns:Publish, the Action "*" and the s3:* on "*" are reported
    assert len(violations) == 3, violations
    assert "Role.Policies.PolicyDocument statement at line 10: sns:Publish on Resource '*'" in violations[0]
    assert "Fn.Policies statement at line 28: Action '*' is never allowed" in violations[1]
    assert "Fn.Policies statement at line 31: s3:* on Resource '*' (line 33)" in violations[2]


@pytest.mark.parametrize(
    ("action", "mutating"),
    [
        ("apprunner:DescribeService", False),
        ("budgets:ViewBudget", False),
        ("dynamodb:Query", False),
        ("dynamodb:BatchGetItem", False),
        ("ec2:Describe*", False),
        ("apprunner:PauseService", True),
        ("dynamodb:PutItem", True),
        ("s3:*", True),
        ("*", True),
        ("s3:Put*", True),
    ],
)
def test_actions_are_classified_as_mutating_unless_their_verb_is_read_only(action: str, mutating: bool) -> None:
    # Given an IAM action / When it is classified / Then only read-only verbs count as harmless
    assert is_mutating(action) is mutating


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_no_statement_in_the_templates_grants_a_mutating_action_on_every_resource_without_a_reason(path: Path) -> None:
    # Given a template file's node tree and source (template.yaml or a nested template)
    source = path.read_text(encoding="utf-8")
    root = compose_text(source)

    # When the least-privilege checker walks every function policy and IAM role/policy
    violations = iam_star_violations(root, source)

    # Then nothing is reported
    assert violations == []


def test_function_policies_are_explicit_statements_with_sids_or_the_stacks_own_managed_policies(
    template: dict[str, Any],
) -> None:
    # Given every SAM function and the stack's own managed policies
    functions = resources_of_type(template, FUNCTION_TYPE)
    policies = resources_of_type(template, MANAGED_POLICY_TYPE)
    assert functions

    for logical_id, function in functions.items():
        # When its Policies are read
        written = function["Properties"].get("Policies", [])
        written = written if isinstance(written, list) else [written]

        # Then each is a policy document or one of the stack's managed policies (`!Ref`, or under its condition
        # `!If [<condition>, !Ref <policy>, !Ref AWS::NoValue]`), never a SAM policy template or an AWS managed
        # policy, and every statement it grants has a Sid
        for policy in written:
            assert isinstance(policy, dict), f"{logical_id}: {policy!r} is neither a document nor the stack's policy"
            reference = policy["Fn::If"][1] if "Fn::If" in policy else policy
            assert "Statement" in policy or reference.get("Ref") in policies, f"{logical_id}: {policy!r}"
        for statement in iter_statements(function_statements(template, logical_id)):
            assert statement.get("Sid"), f"{logical_id}: statement without Sid: {statement}"


def test_each_statement_a_function_needs_is_written_once_in_the_stack(template: dict[str, Any]) -> None:
    # Given every statement any function is granted, where it is written (inline, or in a managed policy)
    written: dict[str, set[str]] = {}
    policies = resources_of_type(template, MANAGED_POLICY_TYPE)
    for logical_id in resources_of_type(template, FUNCTION_TYPE):
        policy_names = {
            (entry["Fn::If"][1] if "Fn::If" in entry else entry).get("Ref")
            for entry in template["Resources"][logical_id]["Properties"].get("Policies", [])
        }
        sources = [
            *((name, _statements_of_policy(policies[name])) for name in policy_names & set(policies)),
            *(
                (logical_id, policy["Statement"])
                for policy in template["Resources"][logical_id]["Properties"].get("Policies", [])
                if "Statement" in policy
            ),
        ]
        for where, statements in sources:
            for statement in iter_statements(statements):
                # What it grants, without its Sid: the same grant under two names is still a copy
                grant = json.dumps({key: value for key, value in statement.items() if key != "Sid"}, sort_keys=True)
                written.setdefault(grant, set()).add(where)

    # Then no grant is written in two places: one that several functions need is one managed policy they attach
    copies = {grant: sorted(where) for grant, where in written.items() if len(where) > 1}
    assert copies == {}, copies


def _statements_of_policy(policy: dict[str, Any]) -> list[Any]:
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements if isinstance(statements, list) else [statements]


def test_no_iam_policy_document_hides_a_statement_behind_a_condition(template: dict[str, Any]) -> None:
    # Given every IAM policy document of the stack that checkov can read: managed policies and roles' policies
    documents = {
        logical_id: resource["Properties"]["PolicyDocument"]
        for logical_id, resource in resources_of_type(template, MANAGED_POLICY_TYPE).items()
    }
    for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            documents[f"{logical_id}.{policy['PolicyName']}"] = policy["PolicyDocument"]
    assert documents

    # Then no statement is an Fn::If: checkov skips a whole document holding one (every check, even on an
    # unconditional iam:* on "*"), so a conditional grant is a policy created and attached under its condition
    for name, document in documents.items():
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        conditional = [statement for statement in statements if "Fn::If" in statement]
        assert conditional == [], f"{name} holds conditional statements checkov cannot read: {conditional}"


def test_the_guarded_function_may_act_only_on_its_own_service_budget_topic_table_and_queue(
    template: dict[str, Any],
) -> None:
    # Given the budget-alert function's statements (inline and in the managed policies it attaches)
    statements = {
        # A conditional statement (`!If [cond, statement, AWS::NoValue]`) is read as deployed with the feature on.
        (statement["Fn::If"][1] if "Fn::If" in statement else statement)["Sid"]: (
            statement["Fn::If"][1] if "Fn::If" in statement else statement
        )
        for statement in function_statements(template, "OnBudgetAlertFunction")
    }
    assert statements["ResolveTrackedImage"]["Action"] == "ecr:DescribeImages"
    assert statements["ResolveTrackedImage"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${EcrRepository}"
    }

    # When each is looked up by purpose / Then its actions and resource are the expected, scoped ones: the listed
    # services by their ARNs (ServiceArn and ServiceArns), the tagged ones by their guard tag (test_stacksets.py)
    apprunner = statements["ManageGuardedAppRunnerService"]
    assert sorted(apprunner["Action"]) == sorted(
        [
            "apprunner:DescribeService",
            "apprunner:PauseService",
            "apprunner:ResumeService",
            "apprunner:StartDeployment",
        ]
    )
    assert apprunner["Resource"] == {
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
    assert sorted(statements["ManageTaggedAppRunnerServices"]["Action"]) == sorted(apprunner["Action"])
    # (any budget of the account, read-only: a fleet service's warden:budget tag names its own)
    assert statements["ReadGuardedBudget"]["Action"] == "budgets:ViewBudget"
    assert statements["ReadGuardedBudget"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:budget/*"
    }
    assert statements["PublishNotifications"]["Resource"] == {
        "Fn::If": ["HasCentralTopic", [{"Ref": "NotifyTopic"}, {"Ref": "CentralTopicArn"}], {"Ref": "NotifyTopic"}]
    }
    assert statements["ReadWriteStateTable"]["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
    # The failed-events queue is Lambda's own on-failure destination: SAM grants it from EventInvokeConfig
    # (test_sam_scopes_the_on_failure_destination_permission_to_the_failed_events_queue)
    assert not any("sqs:" in str(statement.get("Action")) for statement in statements.values())
    kms = statements["UseAwsManagedSnsKeyThroughSns"]
    via_service = kms["Condition"]["StringEquals"]["kms:ViaService"]
    assert via_service == {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}


# --------------------------------------------------------------------------------------------------
# Linters and a real build
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_cfn_lint_reports_nothing_not_even_informational(path: Path) -> None:
    # Given cfn-lint with informational checks included, for several regions
    config = ManualArgs(regions=LINT_REGIONS, include_checks=["I"])

    # When it lints the template file (template.yaml's nested applications: E3043 compares the parameters passed
    # with those the nested template declares)
    started = time.monotonic()
    matches = lint_file(path, config=config)
    seconds = time.monotonic() - started

    # Then there is no error, warning or informational match
    report = "\n".join(f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches)
    assert matches == [], f"cfn-lint ({seconds:.1f}s) found:\n{report}"


def test_sam_validate_with_lint_passes(sam_cli: Path, tool_env: dict[str, str]) -> None:
    # Given the SAM CLI / When it validates and lints the template
    result = run([sam_cli, "validate", "--lint", "--template-file", TEMPLATE_PATH], tool_env, timeout=300)

    # Then it succeeds and calls the template valid
    assert result.returncode == 0, result.failure("sam validate --lint")
    assert "is a valid SAM Template" in result.output, tail(result.output)


@dataclass(frozen=True)
class Build:
    run: Run
    build_dir: Path


def require_python313(env: dict[str, str]) -> str:
    """The path of a working python3.13 (pyenv shims exist even when that version is not selected)."""
    found = shutil.which("python3.13", path=env.get("PATH"))
    if found is None:
        pytest.skip(PYTHON313_MISSING)
    probe = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if probe.returncode != 0 or probe.stdout.strip() != "True":
        first_line = next(iter(probe.stderr.strip().splitlines()), f"exit {probe.returncode}")
        pytest.skip(f"{PYTHON313_MISSING} ({found} does not run: {first_line})")
    return found


@pytest.fixture(scope="module")
def sam_build(sam_cli: Path, tool_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Build:
    require_python313(tool_env)
    build_dir = tmp_path_factory.mktemp("sam-build") / "build"
    command = [
        sam_cli,
        "build",
        "--template-file",
        TEMPLATE_PATH,
        "--build-dir",
        build_dir,
        "--base-dir",
        ROOT,
    ]
    return Build(run(command, tool_env, timeout=900), build_dir)


def test_sam_build_succeeds_for_python313_on_arm64(sam_build: Build) -> None:
    # Given / When the module's sam build has run
    result = sam_build.run

    # Then it succeeded and wrote the built template
    assert result.returncode == 0, result.failure("sam build")
    assert (sam_build.build_dir / "template.yaml").is_file()


def test_the_built_layer_holds_warden_and_pydantic_core_compiled_for_aarch64(sam_build: Build) -> None:
    # Given a successful build
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    site = sam_build.build_dir / "WardenLayer" / "python"

    # When the layer's python/ folder is inspected
    compiled = sorted(path.name for path in (site / "pydantic_core").glob("_pydantic_core*.so"))

    # Then it holds the warden package and an aarch64 build of pydantic_core
    assert (site / "warden" / "__init__.py").is_file()
    assert compiled, f"no compiled pydantic_core module in {site / 'pydantic_core'}"
    assert all("aarch64" in name for name in compiled), compiled
    assert all("cpython-313" in name for name in compiled), compiled


def test_the_built_function_holds_the_handler(sam_build: Build) -> None:
    # Given a successful build / When the function folder is inspected / Then app.py is there
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    assert (sam_build.build_dir / "OnBudgetAlertFunction" / "app.py").is_file()


def test_the_build_carries_every_nested_template_for_sam_deploy_to_package(
    sam_build: Build, top_level: dict[str, Any]
) -> None:
    # Given a successful build and the nested applications of template.yaml
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    built = load_template(sam_build.build_dir / "template.yaml")
    applications = nested_applications(top_level)
    assert applications

    for logical_id, application in applications.items():
        # When the built template's application is read
        location = built["Resources"][logical_id]["Properties"]["Location"]
        # Then it points at a copy of the nested template in the build folder, which sam deploy uploads
        copy = load_template(sam_build.build_dir / location)
        assert copy["Resources"] == load_template(application.path)["Resources"], logical_id


LAYER_REQUIREMENTS = ROOT / "layers" / "warden" / "requirements.txt"
LAYER_LIMIT_BYTES = 15_000_000  # unzipped (Lambda allows 250 MB for a function and its layers)
FUNCTION_LIMIT_BYTES = 100_000
# Each 3.13 .pyc starts with the magic number, then 4 bytes of flags: 0b01 = hash-based and not checked
# against the source (unchecked-hash), so Lambda's read-only /opt never makes Python compile it again.
UNCHECKED_HASH_FLAGS = 0b01
NOT_IN_THE_LAYER = ("aws_xray_sdk", "boto3", "botocore", "s3transfer", "wrapt")


def tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def test_the_built_layer_ships_python313_bytecode_for_warden_and_its_dependencies(sam_build: Build) -> None:
    # Given a successful build (layers/warden/Makefile: pip for aarch64/cp313, then compileall)
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    site = sam_build.build_dir / "WardenLayer" / "python"

    # When the compiled files of the warden package and of pydantic are listed
    sources = sorted(path for path in (site / "warden").rglob("*.py"))
    compiled = {path.name for path in (site / "warden").rglob("__pycache__/*.cpython-313.pyc")}
    pydantic = sorted((site / "pydantic" / "__pycache__").glob("*.cpython-313.pyc"))

    # Then every warden module and pydantic ship bytecode for python3.13, and nothing for another version
    assert sources
    missing = [str(path.relative_to(site)) for path in sources if f"{path.stem}.cpython-313.pyc" not in compiled]
    assert missing == [], f"modules without python3.13 bytecode: {missing}"
    assert len(pydantic) > 10, sorted(path.name for path in pydantic)
    assert (site / "pydantic" / "__pycache__" / "main.cpython-313.pyc").is_file()
    assert (site / "aws_lambda_powertools" / "logging" / "__pycache__" / "logger.cpython-313.pyc").is_file()
    strays = [str(path.relative_to(site)) for path in site.rglob("*.pyc") if ".cpython-313." not in path.name]
    assert strays == []
    # And the bytecode is not checked against the sources (unchecked-hash)
    for pyc in [*pydantic[:3], *(site / "warden" / "__pycache__").glob("*.pyc")]:
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == UNCHECKED_HASH_FLAGS, f"{pyc.name}: flags {flags:#x}"


def test_the_built_layer_holds_no_x_ray_sdk_and_no_boto3_and_the_artifacts_are_small(sam_build: Build) -> None:
    # Given a successful build
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    site = sam_build.build_dir / "WardenLayer" / "python"

    # Then tracing is opt-in without an SDK in the layer, and boto3 comes from the Lambda runtime
    present = [name for name in NOT_IN_THE_LAYER if (site / name).exists()]
    assert present == [], f"{present} in the layer: see layers/warden/requirements.txt"
    assert not list(site.glob("*.egg-info")), "the layer must hold the warden package only, not its egg-info"
    # And the layer and every function stay under their size targets (README, Performance)
    assert tree_bytes(sam_build.build_dir / "WardenLayer") < LAYER_LIMIT_BYTES
    functions = [path for path in sam_build.build_dir.iterdir() if path.is_dir() and path.name.endswith("Function")]
    assert functions
    for function in functions:
        assert tree_bytes(function) < FUNCTION_LIMIT_BYTES, function.name


# Runs under python3.13 -S (no site-packages: the built layer and the function are all there is, as in Lambda
# less boto3, which no handler imports before its first invocation). argv: this machine's build of the layer's
# pydantic_core (the layer's own is for aarch64), the layer's site, the function folder.
HANDLER_SMOKE = """\
import importlib.util, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2], sys.argv[3]]
spec = importlib.util.spec_from_file_location("app", sys.argv[3] + "/app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
from pydantic import BaseModel
from warden.observability import logger, metrics

class Context:
    function_name, memory_limit_in_mb, aws_request_id = "smoke", 128, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smoke"

class Model(BaseModel):
    name: str

@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True, log_event=True)
def handler(event, context):
    logger.info("smoke", extra={"model": Model(name="x")})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("handled")
    metrics.add_metric(name="Smoke", unit="Count", value=1)
    return "ok"

assert handler({"detail": {"a": 1}}, Context()) == "ok"
left_out = ("boto3", "pydantic.v1", "aws_lambda_powertools.event_handler")
print(json.dumps(sorted(m for m in left_out if m in sys.modules)))
"""


def test_every_handler_imports_and_logs_with_nothing_but_the_trimmed_layer(
    sam_build: Build, tool_env: dict[str, str], tmp_path: Path, template: dict[str, Any]
) -> None:
    # Given the built layer, trimmed of Powertools' event handlers and unused utilities and of pydantic.v1
    assert sam_build.run.returncode == 0, sam_build.run.failure("sam build")
    site = sam_build.build_dir / "WardenLayer" / "python"
    assert not (site / "aws_lambda_powertools" / "event_handler").exists()
    assert not (site / "pydantic" / "v1").exists()
    python = require_python313(tool_env)
    # And this machine's build of the same pydantic_core, since the layer's is compiled for aarch64
    (pinned,) = [line for line in LAYER_REQUIREMENTS.read_text().splitlines() if line.startswith("pydantic_core==")]
    native = tmp_path / "native"
    installed = run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            native,
            pinned,
        ],
        tool_env,
        timeout=300,
    )
    assert installed.returncode == 0, installed.failure("pip install pydantic_core for this machine")
    env = {**tool_env, "POWERTOOLS_METRICS_NAMESPACE": "Smoke", "AWS_DEFAULT_REGION": "us-east-1"}
    functions = sorted(path for path in sam_build.build_dir.iterdir() if path.name.endswith("Function"))
    assert {function.name for function in functions} == set(resources_of_type(template, FUNCTION_TYPE))
    for function in functions:
        # When its handler is imported and Powertools' logger and metrics run (event logged, exception, flush)
        result = subprocess.run(
            [python, "-S", "-c", HANDLER_SMOKE, str(native), str(site), str(function)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        # Then it works and reached neither boto3 nor what the layer left out
        assert result.returncode == 0, f"{function.name}: {result.stderr[-2000:]}"
        assert result.stdout.strip().splitlines()[-1] == "[]", function.name


# --------------------------------------------------------------------------------------------------
# What SAM generates from the template
# --------------------------------------------------------------------------------------------------

# Runs in the SAM CLI's own interpreter, which has aws-sam-translator; prints the translated template.
TRANSLATE = """\
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicyLookups:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1], encoding="utf-8").read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::Serverless::Function":
        properties["CodeUri"] = "s3://bucket/code.zip"
    if resource["Type"] == "AWS::Serverless::LayerVersion":
        properties["ContentUri"] = "s3://bucket/layer.zip"
    if resource["Type"] == "AWS::Serverless::Application":
        properties["Location"] = "https://s3.amazonaws.com/bucket/" + properties["Location"]
print(json.dumps(transform(template, {}, NoManagedPolicyLookups())))
"""
SAM_MISSING_TRANSLATOR = "SAM CLI's interpreter not found: run `make test`, which installs it into .venv-sam"
EXPECTED_MANAGED_POLICIES = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}


@pytest.fixture(scope="module")
def translated(sam_cli: Path, tool_env: dict[str, str]) -> dict[str, Any]:
    sam_python = sam_cli.resolve().parent / "python"
    if not sam_python.is_file():
        pytest.skip(f"{SAM_MISSING_TRANSLATOR}: no python next to {sam_cli}")
    result = run([sam_python, "-c", TRANSLATE, TEMPLATE_PATH], tool_env, timeout=120)
    if "No module named 'samtranslator'" in result.output:
        pytest.skip(f"{SAM_MISSING_TRANSLATOR}: {sam_python} lacks aws-sam-translator")
    assert result.returncode == 0, result.failure("the SAM translation")
    translated: dict[str, Any] = json.loads(result.output)
    return translated


# IAM's default quota of managed policies per role (adjustable, but a StackSets account may not have asked).
MANAGED_POLICIES_PER_ROLE = 10


def test_the_roles_sam_generates_add_only_scoped_statements_and_the_expected_managed_policies(
    translated: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the roles SAM generates (the template's own chat channel role: tests/template/test_chat_template.py)
    roles = {
        logical_id: role
        for logical_id, role in resources_of_type(translated, "AWS::IAM::Role").items()
        if logical_id not in template["Resources"]
    }
    stacks_own = set(resources_of_type(translated, MANAGED_POLICY_TYPE))
    assert roles
    assert stacks_own

    for logical_id, role in roles.items():
        properties = role["Properties"]
        attachments = properties.get("ManagedPolicyArns", [])
        # When its inline statements, those of the stack's managed policies it attaches, and the others are read
        statements = [
            statement
            for policy in properties.get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        statements += attached_statements(translated, attachments)
        managed = {
            str(arn).rsplit("/", 1)[-1]
            for arn in attachments
            if not (isinstance(arn, dict) and (arn.get("Fn::If", [None, {}])[1] or arn).get("Ref") in stacks_own)
        }

        # Then no statement touches "*" (unless IAM grants its actions only on "*"), only the logging and tracing
        # managed policies come from elsewhere, and the role stays within IAM's default quota of managed policies
        for statement in iter_statements(statements):
            if "*" in _as_list(statement["Resource"]):
                assert set(_as_list(statement["Action"])) <= STAR_ONLY_ACTIONS, f"{logical_id}: {statement}"
        assert managed <= EXPECTED_MANAGED_POLICIES, f"{logical_id}: {managed}"
        assert len(attachments) <= MANAGED_POLICIES_PER_ROLE, f"{logical_id}: {len(attachments)} managed policies"


def test_sam_scopes_the_on_failure_destination_permission_to_the_failed_events_queue(
    translated: dict[str, Any],
) -> None:
    # Given the translated function role
    role = translated["Resources"]["OnBudgetAlertFunctionRole"]["Properties"]

    # When the statements granting sqs actions are collected
    sqs = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if any(str(action).startswith("sqs:") for action in _as_list(statement.get("Action", [])))
    ]

    # Then every one is limited to the failure queue
    assert sqs
    queue_arn = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
    assert all(statement["Resource"] == queue_arn for statement in sqs), sqs


# --------------------------------------------------------------------------------------------------
# Structure the code and the operators rely on
# --------------------------------------------------------------------------------------------------


def test_the_budget_topic_admits_budgets_and_cost_anomaly_detection_from_this_account_only(
    template: dict[str, Any],
) -> None:
    # Given the budget topic's policy
    policy = template["Resources"]["BudgetAlertTopicPolicy"]["Properties"]
    statements = policy["PolicyDocument"]["Statement"]
    by_service = {statement["Principal"]["Service"]: statement for statement in statements}

    # When the statements for the two services are read
    budgets = by_service["budgets.amazonaws.com"]
    anomalies = by_service["costalerts.amazonaws.com"]

    # Then each may only publish to this topic, from this account (and budgets from this account's budgets)
    assert policy["Topics"] == [{"Ref": "BudgetAlertTopic"}]
    for statement in (budgets, anomalies):
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "SNS:Publish"
        assert statement["Resource"] == {"Ref": "BudgetAlertTopic"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert budgets["Condition"]["ArnLike"] == {
        "aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:*"}
    }


def test_the_function_is_subscribed_to_the_budget_topic(template: dict[str, Any]) -> None:
    # Given the function's events / When the SNS ones are listed / Then the budget topic is among them
    events = template["Resources"]["OnBudgetAlertFunction"]["Properties"]["Events"].values()
    topics = [event["Properties"]["Topic"] for event in events if event["Type"] == "SNS"]
    assert topics == [{"Ref": "BudgetAlertTopic"}]


def test_the_state_table_is_a_plain_dynamodb_table_with_a_literal_pk_sk_schema(
    top_level: dict[str, Any],
) -> None:
    # Given the state table resource of template.yaml itself (not a nested template's)
    template = top_level
    table = template["Resources"]["StateTable"]
    properties = table["Properties"]

    # When its type, keys and settings are read / Then they are the literal ones the code relies on
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert properties["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert state_table_ttl_attribute(template) == "expires_at"


def test_state_table_create_kwargs_build_a_table_that_moto_accepts(
    top_level: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the create_table arguments derived from template.yaml, and a mocked DynamoDB
    template = top_level
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    kwargs = state_table_create_kwargs(template, "warden-state-test")

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")

        # When the table is created from them and its TTL is switched on
        client.create_table(**kwargs)
        client.update_time_to_live(
            TableName="warden-state-test",
            TimeToLiveSpecification={"AttributeName": state_table_ttl_attribute(template), "Enabled": True},
        )
        described = client.describe_table(TableName="warden-state-test")["Table"]
        ttl = client.describe_time_to_live(TableName="warden-state-test")["TimeToLiveDescription"]

    # Then the table has the template's key schema, billing mode and TTL attribute
    assert described["KeySchema"] == template["Resources"]["StateTable"]["Properties"]["KeySchema"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_state_table_create_kwargs_refuse_a_schema_built_from_intrinsics() -> None:
    # Given a template whose table key comes from a parameter
    template = load_text(
        """
Resources:
  StateTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: !Ref KeyName, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: !Ref KeyName, AttributeType: S}]
"""
    )

    # When kwargs are requested / Then it says the schema must be literal
    with pytest.raises(ValueError, match="must be literal"):
        state_table_create_kwargs(template, "t")


def test_every_function_sends_failed_events_to_the_failure_queue(top_level: dict[str, Any]) -> None:
    # Given every SAM function (all in template.yaml)
    template = top_level
    functions = resources_of_type(template, FUNCTION_TYPE)
    assert functions

    for logical_id, function in functions.items():
        # When its EventInvokeConfig is read
        config = function_setting(template, function, "EventInvokeConfig")

        # Then it retries twice and then sends the event to the failure queue
        assert config, f"{logical_id} has no EventInvokeConfig"
        assert config["MaximumRetryAttempts"] == 2, logical_id
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600, logical_id
        assert config["DestinationConfig"]["OnFailure"] == {
            "Type": "SQS",
            "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]},
        }, logical_id


def test_every_function_gets_the_settings_environment(top_level: dict[str, Any]) -> None:
    # Given every SAM function of template.yaml, where the environment names are a contract
    template = top_level
    functions = resources_of_type(template, FUNCTION_TYPE)
    assert functions

    for logical_id, function in functions.items():
        # When its environment (Globals merged with its own) is read
        environment = function_environment(template, function)

        # Then the required variables point at the right parameters and resources
        for name, value in REQUIRED_ENV.items():
            assert environment.get(name) == value, f"{logical_id}: {name}={environment.get(name)!r}"
        assert environment["ENFORCE_THRESHOLD_PERCENT"] == {"Ref": "EnforceThresholdPercent"}
        assert environment["ENFORCE_ON_FORECAST"] == {"Ref": "EnforceOnForecast"}
        assert environment["ANOMALY_PAUSE_IMPACT_USD"] == {"Ref": "AnomalyPauseImpactUsd"}
        assert environment["POWERTOOLS_SERVICE_NAME"] == "warden"
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Warden"
        assert environment["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_every_function_runs_python313_on_arm64_with_the_warden_layer(top_level: dict[str, Any]) -> None:
    # Given every SAM function (all in template.yaml, whose Globals they take)
    template = top_level
    functions = resources_of_type(template, FUNCTION_TYPE)
    assert functions

    for logical_id, function in functions.items():
        # When its runtime settings are read (Globals included) / Then they match the layer's build
        assert function_setting(template, function, "Runtime") == "python3.13", logical_id
        assert function_setting(template, function, "Architectures") == ["arm64"], logical_id
        # Tracing is opt-in (the Tracing parameter), so that no cold start pays for the X-Ray SDK by default
        assert function_setting(template, function, "Tracing") == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
        assert {"Ref": "WardenLayer"} in function_setting(template, function, "Layers"), logical_id


def test_the_layer_is_built_for_python313_on_arm64(top_level: dict[str, Any]) -> None:
    # Given the layer / When its build metadata and compatibility are read / Then they match the functions
    layer = top_level["Resources"]["WardenLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # layers/warden/Makefile installs the aarch64 wheels and compiles python3.13 bytecode (test_layer_build.py)
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/warden"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


PHYSICAL_NAME_PROPERTIES = ("TopicName", "TableName", "QueueName", "FunctionName", "LayerName", "RoleName")


def test_no_resource_has_a_hard_coded_physical_name(template: dict[str, Any]) -> None:
    # Given every resource / When its name properties are read / Then none is a literal (StackSets-safe)
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for name in PHYSICAL_NAME_PROPERTIES:
            assert not isinstance(properties.get(name), str), f"{logical_id}.{name} is hard-coded"
    log_group = template["Resources"]["OnBudgetAlertLogGroup"]["Properties"]
    assert log_group == {
        "LogGroupName": {"Fn::Sub": "/aws/lambda/${OnBudgetAlertFunction}"},
        "RetentionInDays": 30,
    }


VALID_SERVICE_ARN = "arn:aws:apprunner:eu-west-1:123456789012:service/my-app/0123456789abcdef0123456789abcdef"
VALID_ECS_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/prod/my-app"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (VALID_SERVICE_ARN, True),
        (VALID_SERVICE_ARN.replace("arn:aws:", "arn:aws-cn:"), True),
        (VALID_ECS_ARN, True),
        (VALID_SERVICE_ARN.replace("apprunner", "lambda", 1), False),
        (VALID_SERVICE_ARN[:-1], False),
        (VALID_SERVICE_ARN.replace("123456789012", "1234"), False),
        (VALID_ECS_ARN.replace("service/prod/my-app", "service/my-app"), False),  # the short ARN cannot be tagged
        ("", True),  # a fleet of tagged services alone
        (f"{VALID_SERVICE_ARN},{VALID_ECS_ARN}", False),  # more services go to ServiceArns
        (" ", False),
    ],
)
def test_the_service_arn_parameter_accepts_one_app_runner_or_ecs_service_arn_or_nothing(
    top_level: dict[str, Any], value: str, accepted: bool
) -> None:
    # Given the ServiceArn pattern / When a value is matched / Then one App Runner or ECS service ARN, or nothing,
    # passes
    parameter = top_level["Parameters"]["ServiceArn"]
    # (no default: the operator says which service, or that there is none)
    assert "Default" not in parameter
    assert (re.fullmatch(parameter["AllowedPattern"], value) is not None) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (VALID_SERVICE_ARN, True),
        (f"{VALID_SERVICE_ARN},{VALID_ECS_ARN}", True),
        (f"{VALID_ECS_ARN},{VALID_ECS_ARN.replace('my-app', 'worker')},{VALID_SERVICE_ARN}", True),
        (f"{VALID_SERVICE_ARN}, {VALID_ECS_ARN}", False),  # a blank would become part of an IAM resource
        (f"{VALID_SERVICE_ARN},", False),
        (f",{VALID_SERVICE_ARN}", False),
        (f"{VALID_SERVICE_ARN},,{VALID_ECS_ARN}", False),
        (f"{VALID_SERVICE_ARN},arn:aws:lambda:eu-west-1:123456789012:function:f", False),
        (VALID_SERVICE_ARN.replace("arn:aws:", "arn:aws-us-gov:"), True),
    ],
)
def test_the_service_arns_parameter_accepts_only_a_comma_separated_list_of_service_arns(
    top_level: dict[str, Any], value: str, accepted: bool
) -> None:
    # Given the ServiceArns pattern (every item becomes an IAM resource) / When a value is matched / Then only
    # service ARNs separated by single commas, or nothing, pass
    parameter = top_level["Parameters"]["ServiceArns"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "")
    assert (re.fullmatch(parameter["AllowedPattern"], value) is not None) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("arn:aws:sns:eu-central-1:111122223333:org-warden", True),
        ("arn:aws-cn:sns:cn-north-1:111122223333:org-warden", True),
        ("arn:aws:sns:eu-central-1:111122223333:org-warden.fifo", False),  # Warden sends no message group id
        ("arn:aws:sqs:eu-central-1:111122223333:org-warden", False),
        ("org-warden", False),
    ],
)
def test_the_central_topic_parameter_accepts_a_standard_topic_arn_or_nothing(
    top_level: dict[str, Any], value: str, accepted: bool
) -> None:
    parameter = top_level["Parameters"]["CentralTopicArn"]
    assert parameter["Default"] == ""
    assert (re.fullmatch(parameter["AllowedPattern"], value) is not None) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("monthly", True), ("team budget (2025)", True), ("a:b", False), ("a\\b", False)],
)
def test_the_budget_name_parameter_forbids_colons_and_backslashes(
    top_level: dict[str, Any], value: str, accepted: bool
) -> None:
    # Given the BudgetName pattern / When a value is matched / Then ':' and '\' are refused
    parameter = top_level["Parameters"]["BudgetName"]
    assert (parameter["MinLength"], parameter["MaxLength"]) == (1, 100)
    assert (re.fullmatch(parameter["AllowedPattern"], value) is not None) is accepted


def test_parameters_have_safe_defaults_and_are_all_grouped_in_the_console(top_level: dict[str, Any]) -> None:
    # Given template.yaml's parameters and the console interface metadata
    template = top_level
    parameters = template["Parameters"]
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]

    # When defaults and groups are read / Then defaults never pause by surprise and every parameter is shown
    assert parameters["EnforceThresholdPercent"]["Default"] == 100
    threshold = parameters["EnforceThresholdPercent"]
    assert (threshold["MinValue"], threshold["MaxValue"]) == (1, 1000)
    assert parameters["EnforceOnForecast"]["Default"] == "false"
    assert parameters["AnomalyPauseImpactUsd"]["Default"] == ""
    assert parameters["DryRun"]["Default"] == "false"
    assert parameters["AlertEmail"]["Default"] == ""
    assert parameters["LogLevel"]["AllowedValues"] == ["DEBUG", "INFO", "WARNING", "ERROR"]
    assert sorted(grouped) == sorted(parameters)
    assert set(interface["ParameterLabels"]) == set(parameters)
    has_email = {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}
    assert template["Conditions"]["HasAlertEmail"] == has_email
    assert template["Resources"]["NotifyEmailSubscription"]["Condition"] == "HasAlertEmail"


def test_the_outputs_tell_the_operator_where_to_point_the_budget(top_level: dict[str, Any]) -> None:
    # Given the outputs / When they are listed / Then the expected ones exist and the topic says what to do
    outputs = top_level["Outputs"]
    assert set(outputs) >= {
        "BudgetAlertTopicArn",
        "NotifyTopicArn",
        "StateTableName",
        "FailedEventsQueueUrl",
        "OnBudgetAlertFunctionName",
    }
    assert outputs["BudgetAlertTopicArn"]["Value"] == {"Ref": "BudgetAlertTopic"}
    assert "subscriber" in outputs["BudgetAlertTopicArn"]["Description"]


def test_samconfig_deploys_dry_run_by_default_and_enforces_in_prod() -> None:
    # Given samconfig.toml
    text = (ROOT / "samconfig.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)

    # When its environments are read
    default = config["default"]
    prod = config["prod"]

    # Then the stacks, safety settings and DryRun values are as documented, with no account id in it
    assert config["version"] == 0.1
    assert default["global"]["parameters"]["stack_name"] == "warden"
    assert prod["global"]["parameters"]["stack_name"] == "warden-prod"
    assert default["build"]["parameters"] == {"cached": True, "parallel": True}
    assert default["validate"]["parameters"] == {"lint": True}
    for environment in (default, prod):
        deploy = environment["deploy"]["parameters"]
        # IAM resources, and nested applications (templates/*.yaml), which CloudFormation expands
        assert deploy["capabilities"].split() == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        assert deploy["confirm_changeset"] is True
        assert deploy["resolve_s3"] is True
    assert 'DryRun="true"' in default["deploy"]["parameters"]["parameter_overrides"]
    assert 'DryRun="false"' in prod["deploy"]["parameters"]["parameter_overrides"]
    assert prod["deploy"]["parameters"]["fail_on_empty_changeset"] is False
    assert ACCOUNT_ID.findall(text) == []
    assert REGION.findall(text) == []


# --------------------------------------------------------------------------------------------------
# Contracts that live in template.yaml itself
# --------------------------------------------------------------------------------------------------


def test_every_function_is_a_handler_folder_with_app_lambda_handler_in_the_top_level_template(
    top_level: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the functions of template.yaml and those of the whole stack
    functions = resources_of_type(top_level, FUNCTION_TYPE)
    assert functions
    # Then every function of the stack is in template.yaml (a nested template would lose its Globals: the layer,
    # the runtime and the settings environment)
    assert set(resources_of_type(template, FUNCTION_TYPE)) == set(functions)
    folders = set()
    for logical_id, function in functions.items():
        # And each runs functions/<name>/app.py: lambda_handler, which exists
        properties = function["Properties"]
        folder = ROOT / properties["CodeUri"]
        assert properties["Handler"] == "app.lambda_handler", logical_id
        assert folder.parent == ROOT / "functions", logical_id
        source = (folder / "app.py").read_text(encoding="utf-8")
        assert re.search(r"^def lambda_handler\(event", source, re.MULTILINE), f"{folder.name}/app.py"
        folders.add(folder.name)
    # And every handler folder is deployed
    assert folders == {path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file()}


# --------------------------------------------------------------------------------------------------
# The stack by concern: nested applications (templates/*.yaml) and the view that inlines them
# --------------------------------------------------------------------------------------------------


def test_each_nested_application_is_a_local_template_under_templates_that_describes_itself(
    top_level: dict[str, Any],
) -> None:
    # Given template.yaml's nested applications
    applications = nested_applications(top_level)
    # (only what was never released: the released alarms and dashboard stay in template.yaml, test_upgrade_safety.py)
    assert set(applications) >= {"Chat", "Budget"}
    for logical_id, application in applications.items():
        # Then each is a plain CloudFormation template of its own under templates/, saying what it holds
        assert application.path.parent == ROOT / "templates", logical_id
        assert application.template.get("Description"), logical_id
        assert application.template["Resources"], logical_id
    # And every template under templates/ is one of them (none is left behind, unlinted and undeployed)
    assert {path for path in (ROOT / "templates").glob("*.yaml")} == {app.path for app in applications.values()}
    assert set(template_paths()) == {TEMPLATE_PATH, *(app.path for app in applications.values())}


def test_the_stack_as_deployed_keeps_every_resource_of_every_template_once(
    top_level: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given template.yaml, its nested templates and the stack that load_stack makes of them
    applications = nested_applications(top_level)
    expected = set(top_level["Resources"]) - set(applications)
    for application in applications.values():
        expected |= set(application.template["Resources"])
    # Then the stack holds exactly those resources (the applications themselves inlined), and no application
    assert set(template["Resources"]) == expected
    assert resources_of_type(template, APPLICATION_TYPE) == {}
    count = len(top_level["Resources"]) - len(applications)
    assert len(expected) == count + sum(len(app.template["Resources"]) for app in applications.values())


NESTED_SAMPLE = """\
Parameters:
  StackName: {Type: String}
  TopicArn: {Type: String}
  Threshold: {Type: Number, Default: 5}
Conditions:
  Strict: !Not [!Equals [!Ref StackName, ""]]
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Condition: Strict
    Properties:
      AlarmName: !Sub ${StackName}-cpu
      AlarmDescription: !Sub ["above ${Threshold} on ${TopicArn} of ${Topic}", {Topic: !Ref TopicArn}]
      AlarmActions: [!Ref TopicArn]
      Threshold: !If [Strict, !Ref Threshold, 1]
  Other:
    Type: AWS::SNS::Topic
Outputs:
  AlarmArn:
    Value: !GetAtt Alarm.Arn
"""
TOP_SAMPLE = """\
Conditions:
  Enabled: !Equals [a, a]
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Nested:
    Type: AWS::Serverless::Application
    Condition: Enabled
    Properties:
      Location: nested.yaml
      Parameters:
        StackName: !Ref AWS::StackName
        TopicArn: !Ref Topic
Outputs:
  Arn:
    Value: !GetAtt Nested.Outputs.AlarmArn
  Text:
    Value: !Sub "alarm ${Nested.Outputs.AlarmArn}"
"""


def write_samples(folder: Path, nested: str = NESTED_SAMPLE, top: str = TOP_SAMPLE) -> Path:
    (folder / "nested.yaml").write_text(nested, encoding="utf-8")
    (folder / "template.yaml").write_text(top, encoding="utf-8")
    return folder / "template.yaml"


def test_load_stack_inlines_a_nested_template_in_the_top_levels_terms(tmp_path: Path) -> None:
    # Given a top level passing its stack name and a topic to a conditional nested template
    # When the stack is loaded
    stack = load_stack(write_samples(tmp_path))

    # Then the nested resources are the top level's, the application gone, parameters replaced by what is passed
    # (or the default), its condition joined with the application's, and its outputs read through
    assert set(stack["Resources"]) == {"Topic", "Alarm", "Other"}
    alarm = stack["Resources"]["Alarm"]
    assert alarm["Condition"] == "Nested.Strict"
    assert stack["Resources"]["Other"]["Condition"] == "Enabled"
    assert stack["Conditions"]["Nested.Strict"] == {
        "Fn::And": [{"Condition": "Enabled"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::StackName"}, ""]}]}]
    }
    properties = alarm["Properties"]
    assert properties["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-cpu"}
    assert properties["AlarmDescription"] == {
        "Fn::Sub": ["above 5 on ${Topic} of ${Topic}", {"Topic": {"Ref": "Topic"}}]
    }
    assert properties["AlarmActions"] == [{"Ref": "Topic"}]
    assert properties["Threshold"] == {"Fn::If": ["Nested.Strict", 5, 1]}
    assert stack["Outputs"]["Arn"]["Value"] == {"Fn::GetAtt": ["Alarm", "Arn"]}
    assert stack["Outputs"]["Text"]["Value"] == {"Fn::Sub": "alarm ${Alarm.Arn}"}


@pytest.mark.parametrize(
    ("nested", "top", "error"),
    [
        # A nested template naming its own stack would name alarms after a generated nested-stack name.
        (NESTED_SAMPLE.replace("${StackName}-cpu", "${AWS::StackName}-cpu"), TOP_SAMPLE, "AWS::StackName"),
        (NESTED_SAMPLE.replace("[!Ref TopicArn]", "[!Ref AWS::StackId]"), TOP_SAMPLE, "AWS::StackId"),
        (NESTED_SAMPLE, TOP_SAMPLE.replace("        TopicArn: !Ref Topic\n", ""), "does not pass"),
        (NESTED_SAMPLE, TOP_SAMPLE.replace("        TopicArn:", "        Extra: x\n        TopicArn:"), "lacks"),
        (NESTED_SAMPLE, TOP_SAMPLE.replace("Outputs.AlarmArn\n", "Outputs.Missing\n"), "no output Missing"),
        (NESTED_SAMPLE.replace("  Other:", "  Topic:"), TOP_SAMPLE, "clashes"),
        (NESTED_SAMPLE, TOP_SAMPLE.replace("Location: nested.yaml", "Location: s3://bucket/nested.yaml"), "local"),
        ("Transform: AWS::Serverless-2016-10-31\n" + NESTED_SAMPLE, TOP_SAMPLE, "Transform"),
    ],
    ids=["stack-name", "stack-id", "missing-parameter", "unknown-parameter", "missing-output", "clash", "s3", "sam"],
)
def test_load_stack_refuses_what_the_merged_view_would_get_wrong(
    tmp_path: Path, nested: str, top: str, error: str
) -> None:
    # Given a nested application that breaks one rule / When the stack is loaded / Then it says which
    with pytest.raises(ValueError, match=error):
        load_stack(write_samples(tmp_path, nested, top))


def test_a_conditional_policy_is_attached_only_under_its_own_condition() -> None:
    # Given a policy created only under a condition
    template = load_text(
        """
Resources:
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Condition: Ecs
    Properties:
      PolicyDocument: {Statement: [{Sid: A, Effect: Allow, Action: ecs:DescribeServices, Resource: x}]}
"""
    )
    # When it is attached under that condition / Then its statement comes back under it
    assert attached_statements(template, [{"Fn::If": ["Ecs", {"Ref": "Policy"}, {"Ref": "AWS::NoValue"}]}]) == [
        {
            "Fn::If": [
                "Ecs",
                {"Sid": "A", "Effect": "Allow", "Action": "ecs:DescribeServices", "Resource": "x"},
                {"Ref": "AWS::NoValue"},
            ]
        }
    ]
    # And attached always, or under another condition, it is refused (CloudFormation would fail on the Ref)
    with pytest.raises(ValueError, match="exists only when Ecs"):
        attached_statements(template, [{"Ref": "Policy"}])
    with pytest.raises(ValueError, match="attached when AppRunner"):
        attached_statements(template, [{"Fn::If": ["AppRunner", {"Ref": "Policy"}, {"Ref": "AWS::NoValue"}]}])
    # But a holder that itself exists only under that condition may attach it plainly
    assert len(attached_statements(template, [{"Ref": "Policy"}], holder_condition="Ecs")) == 1
