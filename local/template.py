"""Read `template.yaml` the way CloudFormation does, so tests and local tools build from the same source.

`load_template` turns the YAML short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt`, ...) into their long
forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": [resource, attribute]}`), which is what
CloudFormation and SAM see. `compose_template` keeps the YAML node tree with line numbers, for checks
that need to point at (or read comments on) a source line. The `state_table_*` helpers give what a
local tool needs to create the very table the stack creates.

`template.yaml` keeps some concerns in nested applications (`AWS::Serverless::Application` with a local
`Location` under templates/). `load_stack` gives the stack as one template: each nested template's resources
inlined, its parameters replaced by what the top level passes, its conditions joined with the application's,
and every `!GetAtt <Application>.Outputs.<Name>` replaced by that output's value. `template_paths` lists every
template file, for the linters. `attached_statements` and `function_statements` read the statements a role
gets from the template's own managed policies, as `function_statements` does a function's inline ones.

`physical_names` lists every resource with its type and its fixed physical name, if any (an `AlarmName`, a
`DashboardName`, ...), including the schedules SAM makes from a function's events and names itself: what a stack
update must never move to another logical id or into a nested stack (tests/template/test_upgrade_safety.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml

__all__ = [
    "APPLICATION_TYPE",
    "FIXED_NAME_PROPERTIES",
    "MANAGED_POLICY_TYPE",
    "ROOT",
    "STATE_TABLE_LOGICAL_ID",
    "TEMPLATE_PATH",
    "UNNAMED_TYPES",
    "NestedApplication",
    "attached_statements",
    "compose_template",
    "compose_text",
    "function_statements",
    "iter_statements",
    "load_stack",
    "load_template",
    "load_text",
    "nested_applications",
    "physical_names",
    "resources_of_type",
    "state_table_create_kwargs",
    "state_table_ttl_attribute",
    "template_paths",
]

ROOT: Final[Path] = Path(__file__).resolve().parent.parent
TEMPLATE_PATH: Final[Path] = ROOT / "template.yaml"
STATE_TABLE_LOGICAL_ID: Final[str] = "StateTable"
APPLICATION_TYPE: Final[str] = "AWS::Serverless::Application"
MANAGED_POLICY_TYPE: Final[str] = "AWS::IAM::ManagedPolicy"

# Short tag -> long-form key. `!Ref` and `!Condition` keep their names; the others take the `Fn::` prefix.
_INTRINSICS: Final[dict[str, str]] = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that knows CloudFormation's short tags and rejects duplicate keys.

    Like CloudFormation, it leaves dates as strings (`Version: 2012-10-17` stays a string).
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _construct_intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    long_name = _INTRINSICS.get(suffix)
    if long_name is None:
        raise yaml.constructor.ConstructorError(None, None, f"unknown CloudFormation tag !{suffix}", node.start_mark)
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {long_name: value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_text(text: str) -> dict[str, Any]:
    """Parse template text into plain data with long-form intrinsics."""
    data = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping at the top level")
    return data


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Load `template.yaml` (or `path`) with the short tags turned into their long forms."""
    return load_text((path or TEMPLATE_PATH).read_text(encoding="utf-8"))


def compose_text(text: str) -> yaml.Node:
    """The YAML node tree of template text; every node carries `start_mark.line` (0-based)."""
    node = yaml.compose(text, Loader=_CfnLoader)
    if node is None:
        raise ValueError("the template is empty")
    return node


def compose_template(path: Path | None = None) -> yaml.Node:
    """The YAML node tree of `template.yaml` (or `path`), with line numbers, tags left unconstructed."""
    return compose_text((path or TEMPLATE_PATH).read_text(encoding="utf-8"))


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Every resource of `resource_type`, by logical id."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") == resource_type
    }


# --- nested applications: the stack as one template -------------------------------------------------------

# Pseudo parameters whose value in a nested stack differs from the top level's: a nested template that used them
# would name things after a generated nested-stack name. They come in as a parameter (StackName) instead.
_STACK_OWN_PSEUDO: Final[frozenset[str]] = frozenset({"AWS::StackName", "AWS::StackId"})
_SUB_VARIABLE: Final[re.Pattern[str]] = re.compile(r"\$\{([^}!][^}]*)\}")
_NO_VALUE: Final[dict[str, str]] = {"Ref": "AWS::NoValue"}


@dataclass(frozen=True)
class NestedApplication:
    """One `AWS::Serverless::Application` of a template with a local `Location`, and its template."""

    logical_id: str
    path: Path
    condition: str | None
    depends_on: tuple[str, ...]
    parameters: Mapping[str, Any]
    template: Mapping[str, Any]


def nested_applications(template: Mapping[str, Any], base: Path = ROOT) -> dict[str, NestedApplication]:
    """Every nested application of `template` (whose file is in `base`), by logical id, with its template loaded.

    A nested template is plain CloudFormation: no transform, no Globals, no Mappings (the merged view would get
    them wrong), and it never names its own stack (`AWS::StackName`, `AWS::StackId`).
    """
    found: dict[str, NestedApplication] = {}
    for logical_id, resource in resources_of_type(template, APPLICATION_TYPE).items():
        properties = resource.get("Properties", {})
        location = properties.get("Location")
        if not isinstance(location, str) or re.match(r"^(https?|s3)://", location):
            raise ValueError(f"{logical_id}: Location must be a local template path, got {location!r}")
        path = (base / location).resolve()
        nested = load_template(path)
        for section in ("Transform", "Globals", "Mappings"):
            if section in nested:
                raise ValueError(f"{path.name}: a nested template holds no {section} (plain CloudFormation only)")
        depends_on = resource.get("DependsOn", [])
        found[logical_id] = NestedApplication(
            logical_id=logical_id,
            path=path,
            condition=resource.get("Condition"),
            depends_on=tuple([depends_on] if isinstance(depends_on, str) else depends_on),
            parameters=properties.get("Parameters", {}),
            template=_load_stack_of(nested, path.parent),
        )
    return found


def template_paths(path: Path | None = None) -> list[Path]:
    """The top-level template and every nested template it names, recursively, top level first."""
    top = (path or TEMPLATE_PATH).resolve()
    paths = [top]
    for application in nested_applications(load_template(top), top.parent).values():
        for nested in template_paths(application.path):
            if nested not in paths:
                paths.append(nested)
    return paths


def load_stack(path: Path | None = None) -> dict[str, Any]:
    """`template.yaml` (or `path`) with every nested application inlined: the stack as one template.

    The top level's own sections (Parameters, Conditions, Rules, Globals, Outputs, ...) are kept. Each nested
    template's resources join the top level's under their own logical ids (a clash is an error); its parameters
    become the expressions the top level passes (or their defaults); its condition `X` becomes `<App>.X`, joined
    with the application's own condition; a resource with no condition of its own takes the application's.
    """
    top = (path or TEMPLATE_PATH).resolve()
    return _load_stack_of(load_template(top), top.parent)


def _load_stack_of(template: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """`load_stack` for an already loaded template whose nested templates are in `base`."""
    applications = nested_applications(template, base)
    if not applications:
        return copy.deepcopy(dict(template))
    outputs = _Outputs(applications)
    merged: dict[str, Any] = {
        key: outputs.resolve(value) for key, value in template.items() if key not in {"Resources", "Conditions"}
    }
    merged["Conditions"] = outputs.resolve(template.get("Conditions", {}))
    merged["Resources"] = {
        logical_id: outputs.resolve(resource)
        for logical_id, resource in template.get("Resources", {}).items()
        if logical_id not in applications
    }
    for application in applications.values():
        inliner = _Inliner(application, outputs.parameters(application))
        for name, definition in application.template.get("Conditions", {}).items():
            merged["Conditions"][inliner.condition(name)] = inliner.condition_definition(definition)
        for logical_id, resource in application.template.get("Resources", {}).items():
            if logical_id in merged["Resources"]:
                raise ValueError(f"{application.path.name}: resource {logical_id} clashes with another template's")
            merged["Resources"][logical_id] = inliner.resource(resource)
    return merged


class _Outputs:
    """Resolves `!GetAtt <App>.Outputs.<Name>` (and `${<App>.Outputs.<Name>}`) to the output's value."""

    def __init__(self, applications: Mapping[str, NestedApplication]) -> None:
        self.applications = applications
        self._parameters: dict[str, dict[str, Any]] = {}

    def parameters(self, application: NestedApplication) -> dict[str, Any]:
        """The nested template's parameters as the top level passes them (outputs of others resolved)."""
        if application.logical_id not in self._parameters:
            declared: Mapping[str, Any] = application.template.get("Parameters", {})
            passed = dict(application.parameters)
            unknown = sorted(set(passed) - set(declared))
            if unknown:
                raise ValueError(f"{application.logical_id} passes parameters {application.path.name} lacks: {unknown}")
            values: dict[str, Any] = {}
            for name, spec in declared.items():
                if name in passed:
                    values[name] = self.resolve(passed[name])
                elif isinstance(spec, dict) and "Default" in spec:
                    values[name] = spec["Default"]
                else:
                    raise ValueError(f"{application.logical_id} does not pass {application.path.name}'s {name}")
            self._parameters[application.logical_id] = values
        return self._parameters[application.logical_id]

    def value(self, logical_id: str, attribute: str) -> Any:
        application = self.applications[logical_id]
        name = attribute.removeprefix("Outputs.")
        declared = application.template.get("Outputs", {})
        if not attribute.startswith("Outputs.") or name not in declared:
            raise ValueError(f"{logical_id}.{attribute}: {application.path.name} has no output {name}")
        return _Inliner(application, self.parameters(application)).rewrite(declared[name]["Value"])

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Fn::GetAtt":
                resource, attribute = _get_att(argument)
                if resource in self.applications:
                    return self.value(resource, attribute)
            if key == "Fn::Sub":
                return {"Fn::Sub": _substitute(argument, self._sub_reference, self.resolve)}
        return {key: self.resolve(value) for key, value in node.items()}

    def _sub_reference(self, name: str) -> Any:
        resource, _, attribute = name.partition(".")
        if resource in self.applications and attribute:
            return self.value(resource, attribute)
        return None


class _Inliner:
    """Rewrites one nested template's fragments into the top level's terms."""

    def __init__(self, application: NestedApplication, parameters: Mapping[str, Any]) -> None:
        self.application = application
        self.parameters = parameters

    def condition(self, name: str) -> str:
        if name not in self.application.template.get("Conditions", {}):
            raise ValueError(f"{self.application.path.name} names an undefined condition {name}")
        return f"{self.application.logical_id}.{name}"

    def condition_definition(self, definition: Any) -> Any:
        rewritten = self.rewrite(definition)
        if self.application.condition is None:
            return rewritten
        # Nothing in the nested stack exists unless the application's own condition holds.
        return {"Fn::And": [{"Condition": self.application.condition}, rewritten]}

    def resource(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        inlined = {key: self.rewrite(value) for key, value in resource.items() if key not in {"Condition"}}
        own = resource.get("Condition")
        if own is not None:
            inlined["Condition"] = self.condition(own)
        elif self.application.condition is not None:
            inlined["Condition"] = self.application.condition
        if self.application.depends_on:
            depends_on = inlined.get("DependsOn", [])
            inlined["DependsOn"] = [
                *self.application.depends_on,
                *([depends_on] if isinstance(depends_on, str) else depends_on),
            ]
        return inlined

    def rewrite(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref" and isinstance(argument, str):
                return self._reference(argument)
            if key == "Condition" and isinstance(argument, str):
                return {"Condition": self.condition(argument)}
            if key == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
                return {"Fn::If": [self.condition(argument[0]), self.rewrite(argument[1]), self.rewrite(argument[2])]}
            if key == "Fn::Sub":
                return {"Fn::Sub": _substitute(argument, self._sub_reference, self.rewrite)}
        return {key: self.rewrite(value) for key, value in node.items()}

    def _reference(self, name: str) -> Any:
        if name in self.parameters:
            return copy.deepcopy(self.parameters[name])
        if name in _STACK_OWN_PSEUDO:
            raise ValueError(
                f"{self.application.path.name} names {name}, its own nested stack's: pass StackName instead"
            )
        return {"Ref": name}

    def _sub_reference(self, name: str) -> Any:
        if name in _STACK_OWN_PSEUDO:
            raise ValueError(
                f"{self.application.path.name} names {name}, its own nested stack's: pass StackName instead"
            )
        return copy.deepcopy(self.parameters[name]) if name in self.parameters else None


def _get_att(argument: Any) -> tuple[str, str]:
    if isinstance(argument, list) and len(argument) == 2:
        return str(argument[0]), str(argument[1])
    resource, _, attribute = str(argument).partition(".")
    return resource, attribute


def _substitute(argument: Any, lookup: Callable[[str], Any], rewrite: Callable[[Any], Any]) -> Any:
    """An `Fn::Sub` argument with each `${name}` that `lookup` knows replaced by its value: inline when the value is
    a literal, a `Ref` or a `GetAtt`, else as a variable of the list form. Variables already given are rewritten."""
    text, variables = (argument[0], dict(argument[1])) if isinstance(argument, list) else (argument, {})
    variables = {name: rewrite(value) for name, value in variables.items()}
    added: dict[str, Any] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return match.group(0)
        value = lookup(name)
        if value is None:
            return match.group(0)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and "${" not in str(value):
            return str(value)
        if isinstance(value, dict) and list(value) == ["Ref"]:
            return "${" + str(value["Ref"]) + "}"
        if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
            resource, attribute = _get_att(value["Fn::GetAtt"])
            return "${" + f"{resource}.{attribute}" + "}"
        added[name] = value
        return match.group(0)

    rewritten = _SUB_VARIABLE.sub(replace, str(text))
    if isinstance(argument, list) or added:
        return [rewritten, {**variables, **added}]
    return rewritten


# --- physical names: what an update must never move --------------------------------------------------------

# The property that fixes a resource's physical name, by type (a dotted path for a nested property). A resource that
# sets it is "named": CloudFormation cannot create a second one of the same name next to it, so moving it to another
# logical id or into a nested stack makes an update create the "new" one while the old one still exists. Either the
# create fails ("already exists") or, for upserts such as PutMetricAlarm and PutDashboard, it overwrites the old one,
# and the cleanup's delete of the old one then removes the only copy.
FIXED_NAME_PROPERTIES: Final[dict[str, str]] = {
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    # Publishing a layer of a name adds a version; deleting the old resource deletes only its own version.
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Budgets::Budget": "Budget.BudgetName",
    "AWS::Chatbot::SlackChannelConfiguration": "ConfigurationName",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration": "ConfigurationName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::S3::Bucket": "BucketName",
}
# Types that have no physical-name property: a type in neither table is unknown, and the upgrade-safety test asks
# which of the two it belongs to before it may be used.
UNNAMED_TYPES: Final[frozenset[str]] = frozenset(
    {
        "AWS::SNS::TopicPolicy",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventInvokeConfig",
        APPLICATION_TYPE,
        "AWS::CloudFormation::Stack",
    }
)
_FUNCTION_TYPES: Final[frozenset[str]] = frozenset({"AWS::Serverless::Function"})


def _property_at(properties: Mapping[str, Any], path: str) -> Any:
    node: Any = properties
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def physical_names(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every resource of `template` by logical id: its `Type`, and its fixed physical name as `NameProperty` (the
    property, from FIXED_NAME_PROPERTIES) and `Name` (its expression, as written), both None when it has none.

    SAM also names some resources it generates from a function's events: a `ScheduleV2` event becomes an
    `AWS::Scheduler::Schedule` with the logical id <Function><Event> and, unless its `OmitName` is true, the
    `Name` of the event or else that logical id (samtranslator's scheduler event source); a `Schedule` event's rule
    (`Name`) and an `EventBridgeRule` event's (`RuleName`) are named only when the event names them. Those are
    listed too, with `MadeBy` saying which event of which function makes them.
    """
    found: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        resource_type = resource.get("Type")
        properties = resource.get("Properties") or {}
        name_property = FIXED_NAME_PROPERTIES.get(resource_type)
        name = _property_at(properties, name_property) if name_property else None
        found[logical_id] = {
            "Type": resource_type,
            "NameProperty": name_property if name is not None else None,
            "Name": copy.deepcopy(name),
        }
        if resource_type not in _FUNCTION_TYPES:
            continue
        for event_id, event in (properties.get("Events") or {}).items():
            event_properties = event.get("Properties") or {}
            made_id = f"{logical_id}{event_id}"
            made_by = f"{logical_id}.Events.{event_id}"
            if event.get("Type") == "ScheduleV2" and event_properties.get("OmitName") is not True:
                made_type, made_name = "AWS::Scheduler::Schedule", event_properties.get("Name", made_id)
            elif event.get("Type") == "Schedule" and "Name" in event_properties:
                made_type, made_name = "AWS::Events::Rule", event_properties["Name"]
            elif event.get("Type") == "EventBridgeRule" and "RuleName" in event_properties:
                made_type, made_name = "AWS::Events::Rule", event_properties["RuleName"]
            else:
                continue
            found[made_id] = {
                "Type": made_type,
                "NameProperty": "Name",
                "Name": copy.deepcopy(made_name),
                "MadeBy": made_by,
            }
    return found


# --- IAM: what a role gets from the template's own managed policies -----------------------------------------


def _statements_of(policy: Mapping[str, Any]) -> list[Any]:
    statements = policy.get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def attached_statements(
    template: Mapping[str, Any], attachments: Sequence[Any], holder_condition: str | None = None
) -> list[Any]:
    """The statements of the template's managed policies that `attachments` attach (a function's Policies, a role's
    ManagedPolicyArns, a chat channel's GuardrailPolicies), as written.

    `!Ref <Policy>` attaches it always; `!If [<Condition>, !Ref <Policy>, !Ref AWS::NoValue]` attaches it under the
    condition, and its statements come back wrapped in the same `Fn::If`, as a conditional statement is written. A
    policy the template creates only under a condition must be attached under exactly that condition, or by a
    holder that itself exists only under it (`holder_condition`). Other entries (AWS managed policies, inline
    documents) are not the template's policies and are skipped.
    """
    policies = resources_of_type(template, MANAGED_POLICY_TYPE)
    found: list[Any] = []
    for entry in attachments:
        if isinstance(entry, dict) and list(entry) == ["Ref"] and entry["Ref"] in policies:
            name = entry["Ref"]
            condition = policies[name].get("Condition")
            if condition not in (None, holder_condition):
                raise ValueError(
                    f"{name} exists only when {condition}: "
                    f"attach it as !If [{condition}, !Ref {name}, !Ref AWS::NoValue]"
                )
            found.extend(_statements_of(policies[name]))
        elif isinstance(entry, dict) and list(entry) == ["Fn::If"]:
            condition, when_true, when_false = entry["Fn::If"]
            names = [branch.get("Ref") for branch in (when_true, when_false) if isinstance(branch, dict)]
            if not set(names) & set(policies):
                continue
            name = when_true.get("Ref") if isinstance(when_true, dict) else None
            if name not in policies or when_false != _NO_VALUE:
                raise ValueError(
                    "attach a policy of the template as !If [<condition>, !Ref <policy>, !Ref AWS::NoValue], "
                    f"got {entry}"
                )
            if policies[name].get("Condition") not in (None, condition, holder_condition):
                raise ValueError(
                    f"{name} exists only when {policies[name]['Condition']} but is attached when {condition}"
                )
            found.extend(
                {"Fn::If": [condition, statement, dict(_NO_VALUE)]} for statement in _statements_of(policies[name])
            )
    return found


def function_statements(template: Mapping[str, Any], logical_id: str) -> list[Any]:
    """Every statement a SAM function's Policies grant, as written: its inline documents' and, in order, those of
    the template's managed policies it attaches (conditional ones wrapped in their `Fn::If`)."""
    function = template["Resources"][logical_id]
    policies = function.get("Properties", {}).get("Policies", [])
    policies = policies if isinstance(policies, list) else [policies]
    inline = [
        statement
        for policy in policies
        if isinstance(policy, dict) and "Statement" in policy
        for statement in (policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]])
    ]
    return [*attached_statements(template, policies, function.get("Condition")), *inline]


def iter_statements(written: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Statements as deployed under any combination of conditions: every `Fn::If` branch, `AWS::NoValue` dropped."""
    for item in written:
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            yield from iter_statements(item["Fn::If"][1:])
        elif isinstance(item, dict) and item != _NO_VALUE:
            yield item


def _state_table_properties(template: Mapping[str, Any]) -> dict[str, Any]:
    resource = template.get("Resources", {}).get(STATE_TABLE_LOGICAL_ID)
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"the template has no AWS::DynamoDB::Table named {STATE_TABLE_LOGICAL_ID}")
    properties = resource.get("Properties", {})
    if not isinstance(properties, dict):
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID}.Properties must be a mapping")
    return properties


def _literal(value: Any, where: str) -> Any:
    """`value` unchanged if it holds no intrinsic function, else a ValueError naming `where`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" or key == "Condition" or str(key).startswith("Fn::"):
                raise ValueError(f"{where} must be literal to be created locally, found {key}")
            _literal(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _literal(item, f"{where}[{index}]")
    return copy.deepcopy(value)


_INDEX_KEYS: Final[tuple[str, ...]] = ("IndexName", "KeySchema", "Projection")


def state_table_create_kwargs(template: Mapping[str, Any], table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `dynamodb.create_table` that recreate the stack's state table.

    KeySchema, AttributeDefinitions and BillingMode are copied from the template (and indexes and
    provisioned throughput, should the template ever declare them).
    """
    properties = _state_table_properties(template)
    where = f"{STATE_TABLE_LOGICAL_ID}.Properties"
    billing_mode = _literal(properties.get("BillingMode", "PROVISIONED"), f"{where}.BillingMode")
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _literal(properties["KeySchema"], f"{where}.KeySchema"),
        "AttributeDefinitions": _literal(properties["AttributeDefinitions"], f"{where}.AttributeDefinitions"),
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = _literal(
            properties["ProvisionedThroughput"], f"{where}.ProvisionedThroughput"
        )
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = properties.get(index_kind)
        if not indexes:
            continue
        converted = []
        for position, index in enumerate(_literal(indexes, f"{where}.{index_kind}")):
            entry = {key: index[key] for key in _INDEX_KEYS if key in index}
            if index_kind == "GlobalSecondaryIndexes" and billing_mode == "PROVISIONED":
                if "ProvisionedThroughput" not in index:
                    raise ValueError(f"{where}.{index_kind}[{position}] needs ProvisionedThroughput")
                entry["ProvisionedThroughput"] = index["ProvisionedThroughput"]
            converted.append(entry)
        kwargs[index_kind] = converted
    return kwargs


_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


def state_table_ttl_attribute(template: Mapping[str, Any]) -> str:
    """The name of the state table's enabled time-to-live attribute (epoch seconds)."""
    properties = _state_table_properties(template)
    ttl = properties.get("TimeToLiveSpecification")
    if not isinstance(ttl, dict) or ttl.get("Enabled") is not True:
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID} has no enabled TimeToLiveSpecification")
    name = ttl.get("AttributeName")
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID} TTL AttributeName must be a literal name, got {name!r}")
    return name
