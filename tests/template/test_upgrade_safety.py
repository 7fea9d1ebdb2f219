"""Upgrading a deployed stack never loses a resource it already has: above all no alarm and no dashboard.

CloudFormation updates by creating what is new, then deleting what is gone. A resource moved to another logical id or
into a nested stack is both: a new one is created while the old one still exists, and the old one is deleted last.
When the resource has a fixed physical name (AlarmName, DashboardName, LogGroupName, ...) the create either fails
("already exists": the upgrade is blocked) or, for upserts such as PutMetricAlarm and PutDashboard, overwrites the old
one, whose deletion then removes the only copy: the health alarms and Warden's own "-self-" alarms silently vanish,
and a missing alarm reaches nobody. An unnamed resource moved is replaced: a new empty state table (the pause claims
stay in the retained old one), a topic with a new ARN (the budget's notifications still name the old one).

tests/template/released.json lists the last release's resources (logical id, type, fixed name), made once by
`local.template.physical_names` from that release's template.yaml. Every one of them stays in template.yaml, under
its logical id, with its type and its name; no nested template declares a resource of a released name.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import (
    FIXED_NAME_PROPERTIES,
    ROOT,
    TEMPLATE_PATH,
    UNNAMED_TYPES,
    load_stack,
    load_text,
    nested_applications,
    physical_names,
)
from tests.template.test_template import TRANSLATE

pytestmark = pytest.mark.template

RELEASED_PATH = Path(__file__).with_name("released.json")
# A released resource that a later template deliberately no longer has, with why losing it is safe. Empty: none.
RETIRED: dict[str, str] = {}
# CloudFormation stack names: a letter, then letters, digits and hyphens (128 at most).
STACK_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,40}", fullmatch=True)
REGIONS = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "cn-north-1"])
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
NO_VALUE = {"Ref": "AWS::NoValue"}


def load_released() -> dict[str, Any]:
    released: dict[str, Any] = json.loads(RELEASED_PATH.read_text(encoding="utf-8"))
    return released


@pytest.fixture(scope="module")
def released() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = load_released()["resources"]
    return resources


def named(inventory: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {logical_id: entry for logical_id, entry in inventory.items() if entry["Name"] is not None}


# --- the checks ----------------------------------------------------------------------------------------------


def moved_named_resources(released: Mapping[str, Mapping[str, Any]], top_level: Mapping[str, Any]) -> list[str]:
    """Each released named resource that template.yaml no longer declares under its logical id, type and name."""
    current = physical_names(top_level)
    problems = []
    for logical_id, entry in named(released).items():
        now = current.get(logical_id)
        if now is None:
            problems.append(
                f"{logical_id} ({entry['Type']}, {entry['NameProperty']} {json.dumps(entry['Name'])}) is no longer in "
                "template.yaml: an update would create it elsewhere while the released one exists, then delete that"
            )
        elif (now["Type"], now["NameProperty"], now["Name"]) != (entry["Type"], entry["NameProperty"], entry["Name"]):
            problems.append(
                f"{logical_id} was {entry['Type']} {json.dumps(entry['Name'])}, "
                f"is now {now['Type']} {json.dumps(now['Name'])}"
            )
    return problems


def deployed_names(node: Any, values: Mapping[str, str]) -> set[str]:
    """Every name `node` can deploy as: pseudo parameters from `values`; any other `Ref` or `GetAtt` a token of its
    own (`<Name>`), equal for equal references, so that names are compared for every value of a parameter."""
    if isinstance(node, str | int | float) and not isinstance(node, bool):
        return {str(node)}
    if not isinstance(node, dict) or len(node) != 1:
        return {json.dumps(node, sort_keys=True)}
    ((function, argument),) = node.items()
    if function == "Ref":
        return {values.get(argument, f"<{argument}>")}
    if function == "Fn::GetAtt":
        resource, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
        return {f"<{resource}.{attribute}>"}
    if function == "Fn::Sub":
        text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
        parts = SUB_VARIABLE.split(str(text))  # literal, name, literal, name, ..., literal
        options = [
            {part}
            if index % 2 == 0
            else deployed_names(variables[part], values)
            if part in variables
            else deployed_names({"Ref": part} if "." not in part else {"Fn::GetAtt": part}, values)
            for index, part in enumerate(parts)
        ]
        return {"".join(choice) for choice in itertools.product(*options)}
    if function == "Fn::Join":
        separator, items = argument
        return {separator.join(choice) for choice in itertools.product(*(deployed_names(i, values) for i in items))}
    if function == "Fn::If":
        return set().union(*(deployed_names(branch, values) for branch in argument[1:] if branch != NO_VALUE))
    return {json.dumps(node, sort_keys=True)}


def nested_name_clashes(
    released: Mapping[str, Mapping[str, Any]],
    top_level: Mapping[str, Any],
    stack: Mapping[str, Any],
    values: Mapping[str, str],
) -> list[str]:
    """Each resource of a nested template (in `stack`, the top level's terms) that would deploy under the name of a
    released resource of its type."""
    released_names: dict[tuple[str, str], list[str]] = {}
    for logical_id, entry in named(released).items():
        for name in deployed_names(entry["Name"], values):
            released_names.setdefault((entry["Type"], name), []).append(logical_id)
    nested = {
        logical_id: resource
        for logical_id, resource in stack["Resources"].items()
        if logical_id not in top_level["Resources"]
    }
    problems = []
    for logical_id, entry in named(physical_names({"Resources": nested})).items():
        for name in sorted(deployed_names(entry["Name"], values)):
            for clash in released_names.get((entry["Type"], name), []):
                problems.append(f"nested {logical_id} would be {entry['Type']} {name!r}, the released {clash}'s name")
    return problems


def pseudo_parameters(stack_name: str, region: str) -> dict[str, str]:
    return {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws-cn" if region.startswith("cn-") else "aws",
        "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com",
    }


# --- the template as it is -----------------------------------------------------------------------------------


def test_every_released_resource_with_a_fixed_name_keeps_its_logical_id_type_and_name_in_template_yaml(
    released: dict[str, dict[str, Any]], top_level: dict[str, Any]
) -> None:
    # Given the released resources with a fixed physical name (alarms, the dashboard, log groups, SAM's schedules)
    assert len(named(released)) >= 30

    # When template.yaml (the top level, nested applications not inlined) is read
    problems = moved_named_resources(released, top_level)

    # Then each is still there under its logical id, with its type and the same name expression
    assert not problems, "\n".join(problems)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack_name=STACK_NAMES, region=REGIONS)
def test_no_nested_template_declares_a_resource_under_a_released_name(
    released: dict[str, dict[str, Any]],
    top_level: dict[str, Any],
    template: dict[str, Any],
    stack_name: str,
    region: str,
) -> None:
    # Given any stack name and region, and the resources the nested templates add to the stack
    values = pseudo_parameters(stack_name, region)

    # When each one's name is worked out as it would deploy
    problems = nested_name_clashes(released, top_level, template, values)

    # Then none equals the name of a released resource of its type
    assert not problems, "\n".join(problems)


def test_every_released_resource_stays_in_template_yaml_under_its_logical_id_and_type(
    released: dict[str, dict[str, Any]], top_level: dict[str, Any]
) -> None:
    # Given every released resource, named or not (the state table, the topics budgets and alarms publish to)
    current = physical_names(top_level)

    # When template.yaml is read / Then each is still there with its type: moved, it would be replaced
    problems = [
        f"{logical_id} ({entry['Type']}) is gone from template.yaml or changed type"
        for logical_id, entry in released.items()
        if logical_id not in RETIRED and current.get(logical_id, {}).get("Type") != entry["Type"]
    ]
    assert not problems, "\n".join(problems)


def test_every_resource_type_of_the_stack_is_known_to_have_or_lack_a_physical_name(template: dict[str, Any]) -> None:
    # Given every resource of the stack as deployed (nested templates inlined)
    types = {resource["Type"] for resource in template["Resources"].values()}

    # Then each type is known either by its name property or as one without a physical name, so that no named
    # resource escapes the checks above
    unknown = types - set(FIXED_NAME_PROPERTIES) - UNNAMED_TYPES
    assert not unknown, f"add {sorted(unknown)} to local.template FIXED_NAME_PROPERTIES or UNNAMED_TYPES"


@pytest.mark.parametrize(
    ("logical_id", "name"),
    [
        ("ErrorRateAlarm", "${AWS::StackName}-5xx-rate"),
        ("LatencyAlarm", "${AWS::StackName}-p99-latency"),
        ("CpuAlarm", "${AWS::StackName}-cpu"),
        ("MemoryAlarm", "${AWS::StackName}-memory"),
        ("NoInstancesAlarm", "${AWS::StackName}-no-instances"),
        ("EcsCpuAlarm", "${AWS::StackName}-cpu"),
        ("EcsMemoryAlarm", "${AWS::StackName}-memory"),
        ("EcsErrorRateAlarm", "${AWS::StackName}-5xx-rate"),
        ("EcsLatencyAlarm", "${AWS::StackName}-p99-latency"),
        ("EcsNoHealthyTargetsAlarm", "${AWS::StackName}-no-instances"),
        ("BillingAlarm", "${AWS::StackName}-billing"),
        ("OnBudgetAlertErrorsAlarm", "${AWS::StackName}-self-errors-on-budget-alert"),
        ("OnAlarmErrorsAlarm", "${AWS::StackName}-self-errors-on-alarm"),
        ("RunScheduleErrorsAlarm", "${AWS::StackName}-self-errors-run-schedule"),
        ("AuditAccessKeysErrorsAlarm", "${AWS::StackName}-self-errors-audit-access-keys"),
        ("PurgeImagesErrorsAlarm", "${AWS::StackName}-self-errors-purge-images"),
        ("OnDeploymentErrorsAlarm", "${AWS::StackName}-self-errors-on-deployment"),
        ("FailedEventsAlarm", "${AWS::StackName}-self-failed-events"),
        ("HealthDashboard", "${AWS::StackName}-${AWS::Region}-health"),
    ],
)
def test_the_released_health_and_self_watching_alarms_and_the_dashboard_are_declared_in_template_yaml(
    top_level: dict[str, Any], logical_id: str, name: str
) -> None:
    # Given an alarm or the dashboard of the release (the split into nested stacks had moved them all)
    # When template.yaml itself is read
    entry = physical_names(top_level).get(logical_id)
    # Then it declares it, under the same name
    assert entry is not None, f"{logical_id} must stay in template.yaml"
    assert entry["Name"] == {"Fn::Sub": name}
    # And no nested application holds a resource of that logical id
    for application in nested_applications(top_level).values():
        assert logical_id not in application.template["Resources"], application.path.name


# --- the checks catch any move -------------------------------------------------------------------------------


def set_at(properties: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        properties = properties.setdefault(key, {})
    properties[last] = value


def declared(inventory: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A template declaring the named resources of an inventory (not those SAM makes), with just their names."""
    resources: dict[str, Any] = {}
    for logical_id, entry in named(inventory).items():
        if "MadeBy" in entry:
            continue
        properties: dict[str, Any] = {}
        set_at(properties, entry["NameProperty"], copy.deepcopy(entry["Name"]))
        resources[logical_id] = {"Type": entry["Type"], "Properties": properties}
    return {"Resources": resources}


def as_join(name: Any) -> Any:
    """The same name spelt as `Fn::Join` over `Ref`s instead of `Fn::Sub`, as a nested template might write it."""
    if not (isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str)):
        return name
    parts = SUB_VARIABLE.split(name["Fn::Sub"])
    items = [part if index % 2 == 0 else {"Ref": part} for index, part in enumerate(parts) if part]
    return {"Fn::Join": ["", items]}


def as_nested_sub(name: Any) -> Any:
    """The name as a nested template writes it (`${StackName}`, a parameter) once inlined with its list form."""
    if not (isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str)):
        return name
    text = name["Fn::Sub"].replace("${AWS::StackName}", "${StackName}")
    return {"Fn::Sub": [text, {"StackName": {"Ref": "AWS::StackName"}}]}


RELEASED_DECLARED = sorted(declared(load_released()["resources"])["Resources"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moved=st.sampled_from(RELEASED_DECLARED),
    how=st.sampled_from(["nested", "renamed"]),
    new_id=st.sampled_from(["same", "suffixed"]),
    spelling=st.sampled_from([lambda name: name, as_join, as_nested_sub]),
    stack_name=STACK_NAMES,
    region=REGIONS,
)
def test_the_checks_report_any_released_named_resource_moved_into_a_nested_stack_or_to_another_logical_id(
    released: dict[str, dict[str, Any]],
    moved: str,
    how: str,
    new_id: str,
    spelling: Any,
    stack_name: str,
    region: str,
) -> None:
    # Given a template that declares the released named resources as released: nothing to report
    values = pseudo_parameters(stack_name, region)
    released = {logical_id: entry for logical_id, entry in released.items() if "MadeBy" not in entry}
    top = declared(released)
    assert moved_named_resources(released, top) == []
    assert nested_name_clashes(released, top, top, values) == []

    # When one of them moves into a nested template or to another logical id, its name spelt any way
    resource = top["Resources"].pop(moved)
    target_id = moved if new_id == "same" else f"{moved}Moved"
    if how == "renamed" and target_id == moved:
        target_id = f"{moved}V2"
    property_path = released[moved]["NameProperty"]
    set_at(resource["Properties"], property_path, spelling(released[moved]["Name"]))
    stack = copy.deepcopy(top)
    stack["Resources"][target_id] = resource
    if how == "renamed":
        top = stack

    # Then the checks report it
    problems = moved_named_resources(released, top) + nested_name_clashes(released, top, stack, values)
    assert any(moved in problem for problem in problems), problems


NESTED_ALARM = """\
Parameters:
  StackName: {Type: String}
Resources:
  CpuAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ${StackName}-cpu
      Namespace: AWS/AppRunner
      MetricName: CPUUtilization
"""
TOP_WITH_NESTED_ALARM = """\
Resources:
  Alarms:
    Type: AWS::Serverless::Application
    Properties:
      Location: alarms.yaml
      Parameters:
        StackName: !Ref AWS::StackName
"""


def test_the_checks_report_a_released_alarm_that_a_nested_template_declares(
    tmp_path: Path, released: dict[str, dict[str, Any]]
) -> None:
    # Given a top level that moved the released -cpu alarm into a nested template, named after its StackName
    (tmp_path / "alarms.yaml").write_text(NESTED_ALARM, encoding="utf-8")
    (tmp_path / "template.yaml").write_text(TOP_WITH_NESTED_ALARM, encoding="utf-8")
    top = load_text(TOP_WITH_NESTED_ALARM)
    stack = load_stack(tmp_path / "template.yaml")

    # When the checks read it
    moved = moved_named_resources(released, top)
    clashes = nested_name_clashes(released, top, stack, pseudo_parameters("warden-prod", "eu-west-1"))

    # Then the alarm is missing from the top level, and the nested one would take its name (and EcsCpuAlarm's)
    assert any(problem.startswith("CpuAlarm ") for problem in moved)
    assert clashes == [
        f"nested CpuAlarm would be AWS::CloudWatch::Alarm 'warden-prod-cpu', the released {clash}'s name"
        for clash in ("CpuAlarm", "EcsCpuAlarm")
    ]


# --- the list of released resources, and SAM's own names ----------------------------------------------------


def git_show(revision: str, path: str) -> str:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("no git checkout: the release's template cannot be read")
    shown = subprocess.run(
        [git, "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    if shown.returncode != 0:
        pytest.skip(f"git cannot show {revision}:{path}: {shown.stderr.strip()[:200]}")
    return shown.stdout


def test_released_json_is_the_inventory_of_the_released_template() -> None:
    # Given the committed list and the release it names
    recorded = load_released()
    # When the release's template.yaml is read again / Then the list is exactly what it declares
    text = git_show(recorded["release"], "template.yaml")
    assert recorded["resources"] == json.loads(json.dumps(physical_names(load_text(text))))


# A layer of a name gets a new version when published again; the old resource's deletion deletes only its version.
VERSIONED_TYPES = {"AWS::Lambda::LayerVersion"}


@pytest.mark.parametrize("which", ["released", "current"])
def test_physical_names_predicts_every_name_sam_gives_what_it_generates(
    which: str, sam_cli: Path, tool_env: dict[str, str], tmp_path: Path
) -> None:
    # Given the release's template.yaml or today's, and what SAM translates it into
    path = TEMPLATE_PATH
    if which == "released":
        path = tmp_path / "template.yaml"
        path.write_text(git_show(load_released()["release"], "template.yaml"), encoding="utf-8")
    sam_python = sam_cli.resolve().parent / "python"
    if not sam_python.is_file():
        pytest.skip(f"no python next to {sam_cli} to run aws-sam-translator")
    result = subprocess.run(
        [str(sam_python), "-c", TRANSLATE, str(path)],
        cwd=ROOT,
        env=tool_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    translated = json.loads(result.stdout)
    written = load_text(path.read_text(encoding="utf-8"))

    # When the named resources SAM generated (not in the template as written) are listed
    generated = {
        logical_id: (entry["Type"], entry["Name"])
        for logical_id, entry in named(physical_names(translated)).items()
        if logical_id not in written["Resources"] and entry["Type"] not in VERSIONED_TYPES
    }

    # Then physical_names of the template as written predicts each, with its name
    predicted = {
        logical_id: (entry["Type"], entry["Name"])
        for logical_id, entry in named(physical_names(written)).items()
        if "MadeBy" in entry
    }
    assert generated
    assert generated == predicted
