"""Many accounts and a fleet: the template deploys unchanged through StackSets; its IAM reaches guarded services only.

StackSets (service-managed, docs/fleet.md) deploy one template into every account of some OUs, in any region and
partition: template.yaml and templates/* name no account id, no region and no partition; every ARN is built from
pseudo parameters, and the ARN parameters accept any partition; what is named once per account (IAM, dashboards, chat
channels) is unnamed or carries the region. Another account's ARN (the central topic) is a parameter.

The fleet (every App Runner and ECS service tagged warden:guard=true, plus ServiceArn and ServiceArns): for any values
of those parameters, whatever may pause, resume or redeploy a service is granted either on the listed ARNs or on this
account's and region's services under the guard tag condition, never on all services; an empty ServiceArn grants
nothing and builds nothing of its own (no alarm, no dashboard widget, no policy naming it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import (
    MANAGED_POLICY_TYPE,
    function_statements,
    iter_statements,
    load_template,
    physical_names,
    resources_of_type,
    template_paths,
)
from tests.template.deployment import APPRUNNER_ARN, ECS_ARN, Stack
from warden.adapters import apprunner, cloudwatch, ecs
from warden.domain.fleet import GUARD_TAG, MANAGED_TAG

pytestmark = pytest.mark.template

ACCOUNT = "123456789012"
FUNCTION_TYPE = "AWS::Serverless::Function"
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]\b")
# A line may name a region only when AWS leaves no choice, and says why (the billing alarm: us-east-1 only).
REGION_REASON = re.compile(r"#\s*region-reason:\s*\S")
# A partition written out (arn:aws:, arn:aws-cn:, arn:aws-us-gov:) instead of ${AWS::Partition}.
PARTITION = re.compile(r"arn:aws(?:-[a-z]+)*:")
# Text for people, never an ARN CloudFormation or IAM reads: examples there may name a partition.
HUMAN_TEXT = {"Description", "ConstraintDescription", "AlarmDescription", "AssertDescription"}
# Strings that may name a partition, each with why. AWS-owned principals would go here (arn:aws:iam::aws:policy/...,
# which SAM writes with ${AWS::Partition} itself); the templates need none today.
PARTITION_EXCEPTIONS: dict[str, str] = {}
# Names that are per account, not per region: two regions of one account would clash without the region in them.
ACCOUNT_WIDE_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::CloudWatch::Dashboard",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
    "AWS::Budgets::Budget",
}
# Account-wide names without the region, each with why it is safe.
ACCOUNT_WIDE_EXCEPTIONS = {
    "MonthlyBudget": (
        "the budget is the account's own (BudgetName): a StackSet sets BudgetLimitUsd in one region only "
        "(docs/fleet.md), and every other region guards that budget without creating it"
    ),
}
# What changes a service. Reads (Describe*) may reach further: discovery reads every service's tags.
SERVICE_MUTATIONS = {
    "apprunner:PauseService",
    "apprunner:ResumeService",
    "apprunner:StartDeployment",
    "ecs:UpdateService",
    "ecs:UpdateExpressGatewayService",
}
TAG_CONDITION = {"StringEqualsIgnoreCase": {f"aws:ResourceTag/{GUARD_TAG}": "true"}}
# Pause, resume and deploy: while the service carries the guard tag's key, so a service let go with
# warden:guard=false can still be resumed if Warden paused it (Warden's code acts only on members).
KEY_CONDITION = {"Null": {f"aws:ResourceTag/{GUARD_TAG}": "false"}}
CENTRAL_TOPIC = "arn:aws:sns:eu-central-1:111122223333:org-warden"


# --- no account, region or partition ------------------------------------------------------------------------


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_the_template_names_no_account_id_and_no_region(path: Any) -> None:
    # Given a template file's text (template.yaml or a nested template)
    text = path.read_text(encoding="utf-8")
    # When it is searched for account ids and region names (lines that say why they must name one aside)
    accounts = ACCOUNT_ID.findall(text)
    regions = REGION.findall("\n".join(line for line in text.splitlines() if not REGION_REASON.search(line)))
    # Then there are none
    assert accounts == []
    assert regions == []


def test_the_account_and_region_patterns_find_what_they_look_for() -> None:
    assert REGION.findall("sns.us-east-1.amazonaws.com us-gov-west-1 eu-central-2") == [
        "us-east-1",
        "us-gov-west-1",
        "eu-central-2",
    ]
    assert ACCOUNT_ID.findall("arn:aws:iam::123456789012:root") == ["123456789012"]


def machine_strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string CloudFormation or IAM reads: everything but Metadata and text for people."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in HUMAN_TEXT or (where == "" and key == "Metadata"):
                continue
            if key == "Metadata" and where.count("/") == 2:  # a resource's Metadata (checkov's, cfn-lint's)
                continue
            yield from machine_strings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from machine_strings(item, f"{where}/{index}")
    elif isinstance(node, str):
        yield where, node


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_no_arn_names_its_partition_outside_the_parameters_patterns(path: Any) -> None:
    # Given every string of a template that CloudFormation or IAM reads (not descriptions, not Metadata)
    template = load_template(path)
    # When each is searched for a partition written out (arn:aws:, arn:aws-cn:, ...)
    found = [
        f"{where}: {text[:120]!r}"
        for where, text in machine_strings(template)
        if PARTITION.search(text) and text not in PARTITION_EXCEPTIONS
    ]
    # Then there is none: ARNs are built with ${AWS::Partition} (aws-cn and aws-us-gov deploy the same template)
    assert found == []


def test_the_partition_check_finds_a_written_out_partition_and_ignores_pseudo_parameters() -> None:
    template = {
        "Parameters": {"A": {"Type": "String", "Description": "e.g. arn:aws:sns:..."}},
        "Resources": {
            "P": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Metadata": {"note": "arn:aws:iam::aws:policy/x"},
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Resource": {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:t"}},
                            {"Resource": "arn:aws-cn:sns:cn-north-1:111122223333:t"},
                        ]
                    }
                },
            }
        },
    }
    found = [where for where, text in machine_strings(template) if PARTITION.search(text)]
    assert found == ["/Resources/P/Properties/PolicyDocument/Statement/1/Resource"]


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_every_arn_parameter_accepts_every_partition(path: Any) -> None:
    # Given the template's parameters whose pattern is an ARN's
    parameters = load_template(path).get("Parameters", {})
    patterns = {
        name: spec["AllowedPattern"] for name, spec in parameters.items() if "arn:" in spec.get("AllowedPattern", "")
    }
    # Then none pins the partition: the account's own services and topics are aws-cn or aws-us-gov ones there
    for name, pattern in patterns.items():
        assert "arn:aws:" not in pattern, f"{name}: {pattern}"
        assert "arn:aws[a-z-]*:" in pattern, f"{name}: {pattern}"


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: path.name)
def test_what_is_named_once_per_account_is_unnamed_or_carries_the_region(path: Any) -> None:
    # Given the template's resources of the types whose names are per account, not per region
    names = physical_names(load_template(path))
    for logical_id, entry in names.items():
        if entry["Type"] not in ACCOUNT_WIDE_TYPES or entry["Name"] is None:
            continue
        # Then a named one carries the region (a StackSet's second region would fail "already exists"), unless it
        # is a documented exception
        if logical_id in ACCOUNT_WIDE_EXCEPTIONS:
            continue
        assert "${AWS::Region}" in str(entry["Name"]), f"{logical_id}: {entry['Name']}"
        # IAM is never named: SAM's generated role names and CloudFormation's policy names are unique per stack
        assert not entry["Type"].startswith("AWS::IAM::"), logical_id


def test_another_accounts_topic_is_a_parameter_and_reaches_every_function(top_level: dict[str, Any]) -> None:
    # Given the central topic parameter and the functions' environment
    parameter = top_level["Parameters"]["CentralTopicArn"]
    variables = top_level["Globals"]["Function"]["Environment"]["Variables"]
    # Then it is optional and every function reads it (with the listed services) from its environment
    assert parameter["Default"] == ""
    assert variables["CENTRAL_TOPIC_ARN"] == {"Ref": "CentralTopicArn"}
    assert variables["SERVICE_ARNS"] == {"Ref": "ServiceArns"}
    assert variables["SERVICE_ARN"] == {"Ref": "ServiceArn"}
    for logical_id, function in resources_of_type(top_level, FUNCTION_TYPE).items():
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not {"SERVICE_ARN", "SERVICE_ARNS", "CENTRAL_TOPIC_ARN"} & set(own), logical_id


# --- the stack as deployed, for any fleet parameters ----------------------------------------------------------


def resolve(stack: Stack, node: Any) -> Any:
    """A value as deployed: parameters and pseudo parameters substituted, a resource's Ref or GetAtt a token
    (`<Name>`), Fn::If chosen, Fn::Split and Fn::Sub applied."""
    if isinstance(node, list):
        return [resolve(stack, item) for item in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["Ref"]:
        return stack.parameters.get(node["Ref"], f"<{node['Ref']}>")
    if list(node) == ["Fn::GetAtt"]:
        target = node["Fn::GetAtt"]
        return f"<{'.'.join(target) if isinstance(target, list) else target}>"
    if list(node) == ["Fn::If"]:
        condition, when_true, when_false = node["Fn::If"]
        return resolve(stack, when_true if stack.condition(condition) else when_false)
    if list(node) == ["Fn::Split"]:
        separator, text = node["Fn::Split"]
        return str(resolve(stack, text)).split(separator)
    if list(node) == ["Fn::Sub"] and isinstance(node["Fn::Sub"], str):
        return re.sub(
            r"\$\{([^}!][^}]*)\}",
            lambda match: str(stack.parameters.get(match.group(1), f"<{match.group(1)}>")),
            node["Fn::Sub"],
        )
    return {key: resolve(stack, value) for key, value in node.items()}


def deploy(template: dict[str, Any], **parameters: str) -> Stack:
    return Stack(template, **{"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, **parameters})


def deployed_statements(stack: Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """(holder, statement) for every IAM statement the stack deploys under its parameters, resolved: each function's
    (inline and attached) and each managed policy's that exists (the chat channels' included)."""
    existing = stack.resources()
    for logical_id in resources_of_type(stack.template, FUNCTION_TYPE):
        for statement in stack.statements(function_statements(stack.template, logical_id)):
            yield logical_id, resolve(stack, statement)
    for logical_id, policy in resources_of_type(stack.template, MANAGED_POLICY_TYPE).items():
        if logical_id in existing:
            for statement in stack.statements(policy["Properties"]["PolicyDocument"]["Statement"]):
                yield logical_id, resolve(stack, statement)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def service_arns(region: str = "us-east-1") -> st.SearchStrategy[str]:
    names = st.from_regex(r"[a-z][a-z0-9-]{3,20}", fullmatch=True)
    app_runner = st.builds(
        lambda name, suffix: f"arn:aws:apprunner:{region}:{ACCOUNT}:service/{name}/{suffix}",
        names,
        st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
    )
    ecs_service = st.builds(
        lambda cluster, name: f"arn:aws:ecs:{region}:{ACCOUNT}:service/{cluster}/{name}", names, names
    )
    return st.one_of(app_runner, ecs_service)


FLEETS = st.tuples(
    st.one_of(st.just(""), service_arns()),  # ServiceArn
    st.lists(service_arns(), max_size=3, unique=True),  # ServiceArns
    st.sampled_from(["", CENTRAL_TOPIC]),  # CentralTopicArn
    st.sampled_from(["", "consultation-app"]),  # EcrRepository
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fleet=FLEETS)
def test_whatever_changes_a_service_is_granted_on_the_listed_arns_or_under_the_guard_tag_only(
    template: dict[str, Any], fleet: tuple[str, list[str], str, str]
) -> None:
    # Given any ServiceArn (or none), any ServiceArns list, a central topic or not, and the stack they deploy
    service_arn, listed, central, repository = fleet
    stack = deploy(
        template,
        ServiceArn=service_arn,
        ServiceArns=",".join(listed),
        CentralTopicArn=central,
        EcrRepository=repository,
    )
    guarded = {arn for arn in [service_arn, *listed] if arn}
    tagged = {f"arn:aws:{platform}:us-east-1:{ACCOUNT}:service/*": platform for platform in ("apprunner", "ecs")}

    for holder, statement in deployed_statements(stack):
        resources = as_list(statement["Resource"])
        # Then no statement deploys with an empty resource (an empty ServiceArn grants nothing)
        assert all(isinstance(resource, str) and resource for resource in resources), (holder, statement)
        mutations = set(as_list(statement["Action"])) & SERVICE_MUTATIONS
        if not mutations:
            continue
        # And a service is changed only where it is listed, or where its guard tag says so
        for resource in resources:
            if resource in tagged:
                assert statement.get("Condition") in (TAG_CONDITION, KEY_CONDITION), (holder, statement)
                assert {action.split(":")[0] for action in mutations} == {tagged[resource]}, (holder, statement)
            else:
                assert resource in guarded, (holder, resource)

    # And the central topic is published to exactly when it is set
    published = {
        resource
        for _, statement in deployed_statements(stack)
        if "sns:Publish" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert (CENTRAL_TOPIC in published) is bool(central)


@pytest.mark.parametrize("listed", ["", f"{APPRUNNER_ARN},{ECS_ARN}"], ids=["tagged-alone", "with-service-arns"])
def test_without_a_service_arn_nothing_of_its_own_is_built(template: dict[str, Any], listed: str) -> None:
    # Given no ServiceArn (a fleet of tagged services, and perhaps ServiceArns)
    stack = deploy(template, ServiceArn="", ServiceArns=listed)
    resources = stack.resources()
    # Then none of ServiceArn's alarms exists, while Warden's own ("-self-") and the dashboard stay
    alarms = {
        name: str(template["Resources"][name]["Properties"]["AlarmName"])
        for name in resources
        if template["Resources"][name]["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert alarms
    assert all("-self-" in name for name in alarms.values()), sorted(alarms)
    assert "HealthDashboard" in resources
    body = resolve(stack, template["Resources"]["HealthDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1])
    assert "## The fleet" in body["ServiceWidgets"]
    # And the listed services' policy exists only with a list
    assert ("ListedServicesControlPolicy" in resources) is bool(listed)
    # And no event rule filters on an ARN that may be empty (the deployment watcher hears the fleet's services)
    for event in template["Resources"]["OnDeploymentFunction"]["Properties"]["Events"].values():
        assert "resources" not in resolve(stack, event["Properties"]["Pattern"])


def test_a_service_kind_is_read_from_an_arn_that_may_be_empty() -> None:
    # Given the conditions that read ServiceArn's kind, in every template (template.yaml's and the chat channels')
    checked = []
    for path in template_paths():
        conditions = load_template(path).get("Conditions", {})
        for name in ("GuardsEcsService", "GuardsAppRunnerService"):
            if name not in conditions:
                continue
            # Then each pads the ARN, so that Fn::Select finds a third field in an empty one too
            (select,) = [side for side in conditions[name]["Fn::Equals"] if isinstance(side, dict)]
            assert select == {"Fn::Select": [2, {"Fn::Split": [":", {"Fn::Sub": "${ServiceArn}:::"}]}]}, name
            checked.append(f"{path.name}:{name}")
    assert len(checked) >= 4, checked


@pytest.mark.parametrize(
    ("service_arn", "ecs", "app_runner"),
    [("", False, False), (APPRUNNER_ARN, False, True), (ECS_ARN, True, False)],
    ids=["none", "apprunner", "ecs"],
)
def test_the_kind_of_service_arn_is_one_of_the_two_or_none(
    template: dict[str, Any], service_arn: str, ecs: bool, app_runner: bool
) -> None:
    stack = deploy(template, ServiceArn=service_arn)
    assert (stack.condition("GuardsEcsService"), stack.condition("GuardsAppRunnerService")) == (ecs, app_runner)


# --- the fleet's grants ---------------------------------------------------------------------------------------


def statements_by_sid(template: dict[str, Any], policy: str) -> dict[str, dict[str, Any]]:
    written = template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
    return {statement["Sid"]: statement for statement in written}


@pytest.mark.parametrize(
    ("sid", "platform"),
    [("ManageTaggedAppRunnerServices", "apprunner"), ("ManageTaggedEcsServices", "ecs")],
)
def test_the_tagged_services_are_granted_by_their_guard_tag_in_this_account_and_region(
    template: dict[str, Any], sid: str, platform: str
) -> None:
    # Given the policy of the tagged services, which exists whatever the parameters say
    policy = template["Resources"]["TaggedServicesControlPolicy"]
    statement = statements_by_sid(template, "TaggedServicesControlPolicy")[sid]
    # Then it grants the platform's service actions on this account's and region's services, only while a service
    # carries warden:guard=true
    assert "Condition" not in policy
    assert statement["Resource"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:{platform}:${{AWS::Region}}:${{AWS::AccountId}}:service/*"
    }
    assert statement["Condition"] == KEY_CONDITION
    assert {action.split(":")[0] for action in statement["Action"]} == {platform}
    # And it names the same actions as the statement on the listed ARNs: a tagged service is guarded like a listed one
    listed = statements_by_sid(template, "ListedServicesControlPolicy")
    same = "ManageGuardedAppRunnerService" if platform == "apprunner" else "ManageGuardedEcsService"
    assert sorted(statement["Action"]) == sorted(listed[same]["Action"])


def test_the_functions_that_pause_and_resume_hold_the_tagged_and_the_listed_grants(template: dict[str, Any]) -> None:
    for logical_id in ("OnBudgetAlertFunction", "OnAlarmFunction", "RunScheduleFunction"):
        policies = template["Resources"][logical_id]["Properties"]["Policies"]
        assert {"Ref": "TaggedServicesControlPolicy"} in policies, logical_id
        assert {
            "Fn::If": ["HasListedServices", {"Ref": "ListedServicesControlPolicy"}, {"Ref": "AWS::NoValue"}]
        } in policies, logical_id
    assert template["Conditions"]["HasListedServices"] == {
        "Fn::Or": [{"Condition": "HasServiceArn"}, {"Condition": "HasServiceArns"}]
    }


def run_schedule(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """run_schedule's statements by Sid (a conditional one with its feature on)."""
    return {
        statement["Sid"]: statement
        for statement in iter_statements(function_statements(template, "RunScheduleFunction"))
    }


def test_discovery_lists_on_every_resource_and_reads_tags_only_in_this_account_and_region(
    template: dict[str, Any],
) -> None:
    # Given run_schedule's statements
    statements = run_schedule(template)
    listing = statements["ListServicesForDiscovery"]
    # Then the list actions (no resource type in the Service Authorization Reference) are the only ones on "*", and
    # they only list
    assert listing["Resource"] == "*"
    assert all(action.split(":")[1].startswith("List") for action in listing["Action"])
    # And the tags are read per service, of this account's and region's services
    assert statements["ReadAppRunnerServiceTags"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apprunner:${AWS::Region}:${AWS::AccountId}:service/*"
    }
    assert statements["DescribeEcsServicesWithTags"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/*"
    }
    # And together they are exactly what the adapters' discovery calls
    granted = {
        action
        for sid in ("ListServicesForDiscovery", "ReadAppRunnerServiceTags", "DescribeEcsServicesWithTags")
        for action in as_list(statements[sid]["Action"])
    }
    assert granted == apprunner.DISCOVERY_IAM_ACTIONS | ecs.DISCOVERY_IAM_ACTIONS
    # And no other function discovers
    for logical_id in resources_of_type(template, FUNCTION_TYPE):
        if logical_id != "RunScheduleFunction":
            assert not any(
                "ListServices" in str(statement) for statement in function_statements(template, logical_id)
            ), logical_id


def test_the_fleets_alarms_are_managed_by_name_with_the_alarm_topic_and_deleted_only_when_warden_made_them(
    template: dict[str, Any],
) -> None:
    # Given run_schedule's alarm statements
    statements = run_schedule(template)
    alarms = {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:warden-*"}
    put, tag, delete = (
        statements[sid] for sid in ("PutFleetAlarms", "TagAndReadFleetAlarms", "DeleteManagedFleetAlarms")
    )
    # Then whatever writes or deletes an alarm is scoped to the warden-* alarms of this account and region
    for statement in (put, tag, delete):
        assert statement["Resource"] == alarms, statement["Sid"]
    # And an alarm Warden writes may act only through the stack's alarm topic
    assert put["Action"] == "cloudwatch:PutMetricAlarm"
    assert put["Condition"] == {"ForAllValues:StringEquals": {"cloudwatch:AlarmActions": [{"Ref": "AlarmTopic"}]}}
    # And only an alarm carrying Warden's managed tag may be deleted
    assert delete["Action"] == "cloudwatch:DeleteAlarms"
    assert delete["Condition"] == {"StringEquals": {f"aws:ResourceTag/{MANAGED_TAG}": "true"}}
    # And listing is read-only, in this account and region
    assert statements["DescribeAlarms"]["Action"] == "cloudwatch:DescribeAlarms"
    assert statements["DescribeAlarms"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    }
    # And together they are exactly what the adapter declares for the fleet's alarms
    granted = {
        action
        for sid in ("PutFleetAlarms", "TagAndReadFleetAlarms", "DeleteManagedFleetAlarms", "DescribeAlarms")
        for action in as_list(statements[sid]["Action"])
    }
    assert granted == cloudwatch.ALARM_IAM_ACTIONS


def test_the_template_says_where_iam_can_scope_by_neither_tag_nor_arn(top_level: dict[str, Any]) -> None:
    # Given the template's Metadata on the fleet's IAM
    fleet = top_level["Metadata"]["Warden::Fleet"]
    # Then it says which grants are tag-scoped, and why each of the others is not
    assert "aws:ResourceTag" in fleet["TagScoped"]
    assert set(fleet["NeitherTagNorArn"]) == {
        "ListServicesAndClusters",
        "ReadTaskDefinitionsAndScalableTargets",
        "PinScalableTarget",
        "FleetAlarms",
    }
    assert all(len(reason.split()) >= 12 for reason in fleet["NeitherTagNorArn"].values())


def test_the_reconcile_keeps_the_fleets_alarms_with_the_stacks_thresholds_and_alarm_topic(
    top_level: dict[str, Any],
) -> None:
    # Given run_schedule's own environment (the function that writes the fleet's alarms)
    variables = top_level["Resources"]["RunScheduleFunction"]["Properties"]["Environment"]["Variables"]
    # Then its alarms notify the stack's alarm topic (the only action PutFleetAlarms allows) at the stack's thresholds
    assert variables["ALARM_TOPIC_ARN"] == {"Ref": "AlarmTopic"}
    assert {name: variables[name] for name in variables if name.endswith(("_THRESHOLD_PERCENT", "_THRESHOLD_MS"))} == {
        "ERROR_RATE_THRESHOLD_PERCENT": {"Ref": "ErrorRateThresholdPercent"},
        "LATENCY_P99_THRESHOLD_MS": {"Ref": "LatencyP99ThresholdMs"},
        "CPU_THRESHOLD_PERCENT": {"Ref": "CpuThresholdPercent"},
        "MEMORY_THRESHOLD_PERCENT": {"Ref": "MemoryThresholdPercent"},
    }


def test_without_a_service_arn_the_dashboard_is_valid_json_and_names_only_resources_that_exist(
    template: dict[str, Any],
) -> None:
    # Given the dashboard of a stack that guards tagged services alone, its Fn::Sub filled in (a resource as <Name>,
    # a number parameter as 1)
    stack = deploy(template, ServiceArn="")
    body, variables = template["Resources"]["HealthDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    values = {name: resolve(stack, value) for name, value in variables.items()}
    numbers = {name for name, parameter in template["Parameters"].items() if parameter["Type"] == "Number"}
    named: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return str(values[name])
        if name in numbers:
            return "1"
        named.add(name.split(".")[0])
        return f"<{name}>"

    dashboard = json.loads(re.sub(r"\$\{([^}!][^}]*)\}", fill, body))
    # Then it is one JSON document: the fleet's text where ServiceArn's widgets were, and Warden's own widgets
    texts = [widget for widget in dashboard["widgets"] if widget["type"] == "text"]
    assert len(texts) == 1
    assert texts[0]["properties"]["markdown"].startswith("## The fleet")
    assert {widget["properties"].get("title") for widget in dashboard["widgets"]} >= {
        "Warden",
        "Warden function errors",
    }
    # And it names no alarm or resource that this stack does not create
    resources = named - {"AWS::Region"}
    assert resources
    assert resources <= stack.resources()
